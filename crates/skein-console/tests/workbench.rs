//! The Workbench through `App::rpc` against a sandbox: explain before running, run where the
//! router sends it, reads served from fresh caches (whole, and joined live in DuckDB), and a
//! stale cache never used.

mod common;

use common::{fast, Stack};
use std::time::Duration;

use skein_console::rpc::{CacheSpec, QueryResult, QueryRoute, QueryTarget, RoutingStats};
use skein_console::{App, ConsoleOptions, Request, Response};
use skein_core::ErrorCode;
use skein_sandbox::ScratchSandbox;

async fn explain(app: &App, sql: &str) -> QueryRoute {
    match app
        .rpc(Request::ExplainQuery {
            sql: sql.into(),
            session: Some("wb".into()),
        })
        .await
    {
        Ok(Response::ExplainQuery(r)) => r,
        other => panic!("explain_query answered {other:?}"),
    }
}

async fn run(app: &App, sql: &str) -> QueryResult {
    match app
        .rpc(Request::RunQuery {
            sql: sql.into(),
            session: Some("wb".into()),
            max_rows: 100,
        })
        .await
    {
        Ok(Response::RunQuery(r)) => r,
        other => panic!("run_query {sql} answered {other:?}"),
    }
}

const TOTALS: &str = "SELECT k, sum(v) AS total FROM app.items GROUP BY k";
const JOINED: &str = "SELECT t.k, t.total, l.label FROM (SELECT k, sum(v) AS total FROM app.items GROUP BY k) t JOIN app.labels l ON l.k = t.k ORDER BY t.k";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbench_explains_runs_and_serves_fresh_caches_only() {
    let sandbox = ScratchSandbox::up("workbench-test", 2)
        .await
        .expect("sandbox up");
    let dir = sandbox.dir.clone();
    let app = App::with_config_dir(fast(), Some(dir.join("config")));
    app.open_profile(&sandbox.profile).expect("open profile");
    let stack = Stack { sandbox, app };
    let app = &stack.app;

    // Schema and data through the Workbench itself: several statements run on the primary.
    let setup = run(
        app,
        "CREATE SCHEMA app; CREATE TABLE app.items (id int PRIMARY KEY, k int, v int); \
         CREATE TABLE app.labels (k int PRIMARY KEY, label text); \
         INSERT INTO app.items SELECT g, g % 3, g FROM generate_series(1, 30) g; \
         INSERT INTO app.labels VALUES (0, 'zero'), (1, 'one'), (2, 'two')",
    )
    .await;
    assert_eq!(
        (setup.route.node.as_str(), setup.route.rule.as_str()),
        ("primary", "multi_statement")
    );

    // Explain before running: a locking read goes to the primary, a read to a replica.
    let lock = explain(app, "SELECT * FROM app.items FOR UPDATE").await;
    assert_eq!(
        (lock.target, lock.rule.as_str()),
        (QueryTarget::Primary, "locking")
    );
    let read = explain(app, "SELECT count(*) FROM app.items").await;
    assert_eq!(read.target, QueryTarget::Replica);
    let e = app
        .rpc(Request::ExplainQuery {
            sql: "  ".into(),
            session: None,
        })
        .await
        .expect_err("empty");
    assert_eq!(e.code, ErrorCode::InvalidInput);

    // Run: a read right after the writes sees them (same routing session), on a replica or
    // the primary, with the serving node's staleness.
    let counted = run(app, "SELECT count(*) FROM app.items").await;
    assert_eq!(counted.rows, [[Some("30".to_string())]]);
    assert_eq!(counted.columns, ["count"]);
    assert!(!counted.staleness.summary.is_empty());
    let update = run(app, "UPDATE app.items SET v = v + 0 WHERE id <= 5").await;
    assert_eq!(update.affected, Some(5));
    let bad = app
        .rpc(Request::RunQuery {
            sql: "SELEC 1".into(),
            session: None,
            max_rows: 10,
        })
        .await
        .expect_err("syntax error");
    assert!(bad.message.contains("primary"), "{}", bad.message);

    // A cache of the totals, refreshed: the same query in other words is served from it.
    let spec = CacheSpec {
        name: "totals".into(),
        query: TOTALS.into(),
        monitor: vec!["app.items".into()],
        ttl_seconds: None,
        key: Vec::new(),
    };
    app.rpc(Request::CreateCache(spec))
        .await
        .expect("create cache");
    app.rpc(Request::RefreshCache {
        name: "totals".into(),
        force: true,
    })
    .await
    .expect("refresh");
    let live: QueryResult = run(app, &format!("/* skein:primary */ {TOTALS} ORDER BY k")).await;
    assert_eq!(live.route.node, "primary");
    let whole = run(app, "select k, SUM(v) as total from app.items group by k").await;
    assert_eq!(
        (whole.route.target, whole.route.rule.as_str()),
        (QueryTarget::Cache, "cache"),
        "{:?}",
        whole.route
    );
    assert_eq!(whole.route.caches, ["totals"]);
    assert!(whole.staleness.snapshot_id.is_some());
    let mut cached_rows = whole.rows.clone();
    cached_rows.sort();
    assert_eq!(cached_rows, live.rows);

    // Cached part joined with a live table, in DuckDB. Explain goes by the console's view of
    // the caches (run checks them itself): bring the view up to date first.
    app.rpc(Request::Caches).await.expect("caches");
    let explained = explain(app, JOINED).await;
    assert_eq!(
        (explained.target, explained.rule.as_str()),
        (QueryTarget::Cache, "cache_join")
    );
    let joined = run(app, JOINED).await;
    assert_eq!(joined.route.rule, "cache_join", "{:?}", joined.route);
    let truth = run(app, &format!("/* skein:primary */ {JOINED}")).await;
    assert_eq!(joined.rows, truth.rows);
    assert_eq!(joined.rows.len(), 3);
    assert!(
        joined.staleness.summary.contains("live part"),
        "{}",
        joined.staleness.summary
    );

    // A write makes the cache stale: it is not used, the reason says so, and the result is
    // the live one.
    run(app, "UPDATE app.items SET v = v + 100 WHERE id = 3").await;
    let after = run(app, TOTALS).await;
    assert_ne!(after.route.target, QueryTarget::Cache, "{:?}", after.route);
    assert!(
        after.route.reason.contains("totals") && after.route.reason.contains("not used"),
        "{}",
        after.route.reason
    );
    let after_sum: i64 = after
        .rows
        .iter()
        .map(|r| r[1].as_deref().unwrap_or("0").parse::<i64>().expect("sum"))
        .sum();
    assert_eq!(after_sum, (1..=30).sum::<i64>() + 100);

    // The counters behind the Overview.
    let stats: RoutingStats = match app.rpc(Request::Routing).await {
        Ok(Response::Routing(s)) => s,
        other => panic!("routing answered {other:?}"),
    };
    assert!(stats.nodes[0].writes >= 3, "{stats:?}");
    assert_eq!(stats.nodes.iter().skip(1).map(|n| n.writes).sum::<u64>(), 0);

    // A long statement can be cancelled from another request.
    let sleeping = tokio::spawn({
        let console = app.console().expect("console");
        async move {
            console
                .run_query("SELECT pg_sleep(30)", Some("long"), 10)
                .await
                .map_err(|e| e.info())
        }
    });
    let mut cancelled = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Ok(Response::CancelQuery(Some(node))) = app
            .rpc(Request::CancelQuery {
                session: "long".into(),
            })
            .await
        {
            cancelled = Some(node);
            break;
        }
    }
    assert!(cancelled.is_some(), "the sleep was never seen running");
    let e = sleeping.await.expect("task").expect_err("cancelled");
    assert_eq!(e.code, ErrorCode::Cancelled, "{}", e.message);

    // Every replica down: reads go to the primary, and the Overview says so first.
    stack.sandbox.stop_node("replica1").expect("stop replica1");
    stack.sandbox.stop_node("replica2").expect("stop replica2");
    let started = std::time::Instant::now();
    loop {
        let Ok(Response::Overview(o)) = app.rpc(Request::Overview).await else {
            panic!("overview failed");
        };
        if o.attention.first().is_some_and(|a| a.subject == "routing") {
            assert!(o.attention[0].message.contains("out of rotation"));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            o.attention
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let fallback = run(app, "SELECT 1 AS one").await;
    assert_eq!(
        (fallback.route.node.as_str(), fallback.route.rule.as_str()),
        ("primary", "no_replica_in_rotation")
    );
}

async fn explain_in(app: &App, session: &str, sql: &str) -> QueryRoute {
    match app
        .rpc(Request::ExplainQuery {
            sql: sql.into(),
            session: Some(session.into()),
        })
        .await
    {
        Ok(Response::ExplainQuery(r)) => r,
        other => panic!("explain_query in {session} answered {other:?}"),
    }
}

async fn run_in(app: &App, session: &str, sql: &str) -> QueryResult {
    match app
        .rpc(Request::RunQuery {
            sql: sql.into(),
            session: Some(session.into()),
            max_rows: 10,
        })
        .await
    {
        Ok(Response::RunQuery(r)) => r,
        other => panic!("run_query {sql} in {session} answered {other:?}"),
    }
}

/// `application_name` as routing session `session` sees it: a `SET` pins the session to its
/// connection, so the value lives exactly as long as the console keeps the session.
async fn app_name(app: &App, session: &str) -> String {
    let r = run_in(app, session, "SHOW application_name").await;
    r.rows[0][0].clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_session_limit_the_least_recently_used_goes_and_cancel_creates_none() {
    use skein_console::limits::WORKBENCH_SESSIONS_MAX as MAX;
    let sandbox = ScratchSandbox::up("workbench-sessions", 1)
        .await
        .expect("sandbox up");
    let dir = sandbox.dir.clone();
    let app = App::with_config_dir(
        ConsoleOptions {
            persist_lag: false,
            ..ConsoleOptions::default()
        },
        Some(dir.join("config")),
    );
    app.open_profile(&sandbox.profile).expect("open profile");
    let stack = Stack { sandbox, app };
    let app = &stack.app;

    // The session in use survives any number of one-off sessions; the one not used since
    // goes once the limit is reached.
    run_in(app, "kept", "SET application_name = 'kept'").await;
    run_in(app, "old", "SET application_name = 'old'").await;
    assert_eq!(app_name(app, "old").await, "old");
    assert_eq!(app_name(app, "kept").await, "kept");
    for i in 0..MAX {
        explain_in(app, &format!("one-off-{i}"), "SELECT 1").await;
        explain_in(app, "kept", "SELECT 1").await;
    }
    assert_eq!(app_name(app, "kept").await, "kept", "used most recently");
    assert_ne!(
        app_name(app, "old").await,
        "old",
        "the least recently used session was dropped"
    );

    // A fresh console: exactly MAX sessions, the one with state the least recently used.
    // Cancelling sessions the console does not hold answers `null` and creates none, so
    // nothing is evicted for them.
    stack
        .app
        .open_profile(&stack.sandbox.profile)
        .expect("reopen");
    run_in(app, "victim", "SET application_name = 'victim'").await;
    for i in 1..MAX {
        explain_in(app, &format!("filler-{i}"), "SELECT 1").await;
    }
    for ghost in ["ghost-1", "ghost-2", "ghost-3"] {
        match app
            .rpc(Request::CancelQuery {
                session: ghost.into(),
            })
            .await
        {
            Ok(Response::CancelQuery(None)) => {}
            other => panic!("cancel_query {ghost} answered {other:?}"),
        }
    }
    assert_eq!(
        app_name(app, "victim").await,
        "victim",
        "nothing was evicted"
    );
    // The map was full: one new session now drops the least recently used.
    for i in 1..MAX {
        explain_in(app, &format!("filler-{i}"), "SELECT 1").await;
    }
    explain_in(app, "one-more", "SELECT 1").await;
    assert_ne!(app_name(app, "victim").await, "victim");
}
