//! A cache edited is a cache changed, through the console against a sandbox: after an edit
//! the new query is read live (the reason names the edited cache) by the Workbench, by its
//! explain and by `skein route explain`'s path; a refresh is REFRESHED ("definition
//! changed"); then the new query is served from the lake with its own columns and rows. An
//! edit by another process (the CLI) shows in the console's board at the next tick.

mod common;

use common::{fast, Stack};
use std::time::Duration;

use skein_console::rpc::{CacheSpec, CacheView, QueryResult, QueryRoute, QueryTarget, Severity};
use skein_console::{App, Request, Response};
use skein_lake::{CacheState, RefreshOutcome, RefreshResult};
use skein_sandbox::ScratchSandbox;

async fn run(app: &App, sql: &str) -> QueryResult {
    match app
        .rpc(Request::RunQuery {
            sql: sql.into(),
            session: None,
            max_rows: 100,
        })
        .await
    {
        Ok(Response::RunQuery(r)) => r,
        other => panic!("run_query {sql} answered {other:?}"),
    }
}

async fn explain(app: &App, sql: &str) -> QueryRoute {
    match app
        .rpc(Request::ExplainQuery {
            sql: sql.into(),
            session: None,
        })
        .await
    {
        Ok(Response::ExplainQuery(r)) => r,
        other => panic!("explain_query answered {other:?}"),
    }
}

async fn refresh(app: &App) -> RefreshOutcome {
    match app
        .rpc(Request::RefreshCache {
            name: "items".into(),
            force: false,
        })
        .await
    {
        Ok(Response::RefreshCache(o)) => o,
        other => panic!("refresh answered {other:?}"),
    }
}

/// The console's board (the watcher's last reading), without recomputing it.
async fn board(app: &App) -> (Vec<CacheView>, Vec<skein_console::rpc::Attention>) {
    match app.rpc(Request::Overview).await {
        Ok(Response::Overview(o)) => (o.caches, o.attention),
        other => panic!("overview answered {other:?}"),
    }
}

/// `skein route explain`'s answer: the router's route and every cache's status computed now.
async fn route_explain(profile: &skein_core::Profile, sql: &str) -> QueryRoute {
    let router = skein_router::Router::connect(profile)
        .await
        .expect("router");
    router.reload_functions().await.expect("functions");
    let lake = skein_lake::Lake::open(profile).await.expect("lake");
    let cluster = skein_pg::Cluster::from_profile(profile).expect("cluster");
    let statuses = lake.cache_statuses(&cluster).await.expect("statuses");
    skein_console::workbench::explain_with_caches(
        &router,
        sql,
        router.explain(sql),
        &statuses,
        &profile.lake.name,
    )
}

const OLD: &str = "SELECT id, v FROM app.items";
const NEW: &str = "SELECT id, label FROM app.items WHERE id <= 4";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_is_read_live_until_the_new_query_is_refreshed() {
    let sandbox = ScratchSandbox::up("cache-edit-test", 2)
        .await
        .expect("sandbox up");
    let dir = sandbox.dir.clone();
    let profile = skein_core::Profile::load(&sandbox.profile).expect("profile");
    let app = App::with_config_dir(fast(), Some(dir.join("config")));
    app.open_profile(&sandbox.profile).expect("open profile");
    let stack = Stack { sandbox, app };
    let app = &stack.app;
    run(
        app,
        "CREATE SCHEMA app; CREATE TABLE app.items (id int PRIMARY KEY, v int, label text); \
         INSERT INTO app.items SELECT g, g * 10, 'item ' || g FROM generate_series(1, 12) g",
    )
    .await;

    let spec = |query: &str| CacheSpec {
        name: "items".into(),
        query: query.into(),
        monitor: vec!["app.items".into()],
        ttl_seconds: None,
        key: Vec::new(),
    };
    app.rpc(Request::CreateCache(spec(OLD)))
        .await
        .expect("create");
    assert_eq!(refresh(app).await.result, RefreshResult::Refreshed);
    let served = run(app, OLD).await;
    assert_eq!(
        served.route.target,
        QueryTarget::Cache,
        "{:?}",
        served.route
    );
    assert_eq!(served.row_count, 12);

    // A write statement is refused when saved, in words.
    let e = app
        .rpc(Request::UpdateCache(spec(
            "DELETE FROM app.items RETURNING id",
        )))
        .await
        .expect_err("a write is no cache query");
    assert_eq!(e.code, skein_core::ErrorCode::InvalidInput);
    assert!(e.message.contains("refused"), "{}", e.message);

    // The edit: other columns, other rows.
    app.rpc(Request::UpdateCache(spec(NEW)))
        .await
        .expect("edit");
    let live = run(app, NEW).await;
    assert_ne!(live.route.target, QueryTarget::Cache, "{:?}", live.route);
    assert!(
        live.route.reason.contains("items") && live.route.reason.contains("edited"),
        "the reason names the edited cache: {}",
        live.route.reason
    );
    assert_eq!(live.columns, ["id", "label"]);
    assert_eq!(live.row_count, 4);
    let old_live = run(app, OLD).await;
    assert_ne!(
        old_live.route.target,
        QueryTarget::Cache,
        "the old query no longer matches: {:?}",
        old_live.route
    );
    let via_cli = route_explain(&profile, NEW).await;
    assert_ne!(via_cli.target, QueryTarget::Cache, "{via_cli:?}");
    assert!(via_cli.reason.contains("edited"), "{}", via_cli.reason);
    let (views, attention) = board(app).await;
    assert_eq!(views[0].status.state, CacheState::Edited, "{:?}", views[0]);
    let item = attention
        .iter()
        .find(|a| a.subject == "cache items")
        .expect("an attention item");
    assert_eq!(item.severity, Severity::Warning, "{item:?}");
    assert!(item.message.starts_with("edited"), "{}", item.message);
    let explained = explain(app, NEW).await;
    assert_ne!(explained.target, QueryTarget::Cache, "{explained:?}");

    let refreshed = refresh(app).await;
    assert_eq!(refreshed.result, RefreshResult::Refreshed, "{refreshed:?}");
    assert!(
        refreshed.message.starts_with("definition changed"),
        "{}",
        refreshed.message
    );
    let cached = run(app, NEW).await;
    assert_eq!(
        cached.route.target,
        QueryTarget::Cache,
        "{:?}",
        cached.route
    );
    assert_eq!(cached.route.caches, ["items"]);
    assert_eq!(cached.columns, ["id", "label"]);
    let mut rows = cached.rows.clone();
    rows.sort();
    let mut truth = live.rows.clone();
    truth.sort();
    assert_eq!(rows, truth);
    let via_cli = route_explain(&profile, NEW).await;
    assert_eq!(via_cli.target, QueryTarget::Cache, "{via_cli:?}");

    // An edit by another process (as `skein cache` does it): the watcher's board shows it at
    // its next tick, and the Workbench reads live at once.
    let other = skein_lake::Lake::open(&profile).await.expect("lake");
    let cluster = skein_pg::Cluster::from_profile(&profile).expect("cluster");
    other
        .update_cache(&cluster, "items", OLD, &["app.items".into()], None)
        .await
        .expect("edit from another process");
    let explained = explain(app, NEW).await;
    assert_ne!(explained.target, QueryTarget::Cache, "{explained:?}");
    let after = run(app, NEW).await;
    assert_ne!(after.route.target, QueryTarget::Cache, "{:?}", after.route);
    let started = std::time::Instant::now();
    loop {
        let (views, _) = board(app).await;
        if views[0].status.state == CacheState::Edited {
            assert_eq!(views[0].status.definition.query, OLD);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the board never saw the edit: {:?}",
            views[0]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again = run(app, OLD).await;
    assert_ne!(again.route.target, QueryTarget::Cache, "{:?}", again.route);
    assert!(
        again.route.reason.contains("edited"),
        "{}",
        again.route.reason
    );

    // Past its TTL with unchanged sources: expired, worded as current data, never critical;
    // the scheduler's pass SKIPS it (one fingerprint per TTL) instead of rewriting it.
    app.rpc(Request::CreateCache(CacheSpec {
        name: "short".into(),
        query: "SELECT count(*) AS n FROM app.items".into(),
        monitor: vec!["app.items".into()],
        ttl_seconds: Some(1),
        key: Vec::new(),
    }))
    .await
    .expect("create");
    let started = std::time::Instant::now();
    let (view, item) = loop {
        let (views, attention) = board(app).await;
        let view = views
            .into_iter()
            .find(|v| v.status.definition.name == "short");
        let item = attention.into_iter().find(|a| a.subject == "cache short");
        if let (Some(v), Some(a)) = (view, item) {
            if v.status.state == CacheState::Expired
                && v.last_outcome.as_ref().map(|o| o.result) == Some(RefreshResult::Skipped)
            {
                break (v, a);
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the short cache was never expired and skipped"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(item.severity, Severity::Info, "{item:?}");
    assert!(
        item.message
            .contains("TTL passed · sources unchanged · refreshed data is current"),
        "{}",
        item.message
    );
    assert!(view.status.checked_at_ms.is_some(), "{view:?}");
    let expired = run(app, "SELECT count(*) AS n FROM app.items").await;
    assert_ne!(
        expired.route.target,
        QueryTarget::Cache,
        "{:?}",
        expired.route
    );
    assert!(
        expired.route.reason.contains("expired"),
        "{}",
        expired.route.reason
    );
}
