//! The whole console on a TLS-only stack (`hostssl` only, `sslmode=verify-full` with the
//! sandbox's own CA): lag, the encryption each node reports, cache refreshes through DuckDB's
//! libpq attachments, time travel, routed reads and a cancel request — then the same stack
//! seen through a profile that says `sslmode=disable`, which every node refuses with the fix.

mod common;

use common::fast;
use std::time::{Duration, Instant};

use skein_console::rpc::{CacheSpec, Overview, TimeTravelPage};
use skein_console::workbench::QueryResult;
use skein_console::{App, Request, Response};
use skein_core::ErrorCode;
use skein_lake::{At, RefreshOutcome, RefreshResult};
use skein_sandbox::{SandboxSecurity, ScratchSandbox};

async fn overview_when(app: &App, what: &str, ok: impl Fn(&Overview) -> bool) -> Overview {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Response::Overview(o)) = app.rpc(Request::Overview).await {
            if ok(&o) {
                return o;
            }
            assert!(Instant::now() < deadline, "never {what}: {o:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn refresh(app: &App, name: &str) -> RefreshOutcome {
    match app
        .rpc(Request::RefreshCache {
            name: name.into(),
            force: false,
        })
        .await
    {
        Ok(Response::RefreshCache(o)) => o,
        other => panic!("refresh_cache answered {other:?}"),
    }
}

async fn travel(app: &App, at: At) -> TimeTravelPage {
    match app
        .rpc(Request::TimeTravel {
            table: "items_copy".into(),
            at,
            limit: 100,
            offset: 0,
        })
        .await
    {
        Ok(Response::TimeTravel(p)) => p,
        other => panic!("time_travel answered {other:?}"),
    }
}

async fn run(app: &App, sql: &str) -> QueryResult {
    match app
        .rpc(Request::RunQuery {
            sql: sql.into(),
            session: Some("tls".into()),
            max_rows: 100,
        })
        .await
    {
        Ok(Response::RunQuery(r)) => r,
        other => panic!("run_query {sql} answered {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_on_a_tls_only_stack_with_verify_full() {
    let sandbox = ScratchSandbox::up_with(
        "console-tls",
        1,
        SandboxSecurity {
            tls: true,
            ..SandboxSecurity::default()
        },
    )
    .await
    .expect("TLS sandbox up");
    let profile = skein_core::Profile::load(&sandbox.profile).expect("profile");
    assert!(
        profile.primary.url.contains("verify-full") && profile.lake.catalog.contains("verify-full"),
        "the sandbox profile checks certificates: {}",
        profile.primary.url
    );
    // What the server itself says about a separate session of ours, to compare with what the
    // console shows.
    let primary = skein_core::conninfo::connect(&format!(
        "{} password={}",
        sandbox.conninfo("primary", skein_sandbox::DEMO_DATABASE),
        sandbox.password().expect("password")
    ))
    .await
    .expect("direct TLS connection");
    let row = primary
        .query_one(
            "SELECT version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("pg_stat_ssl");
    let (version, cipher): (String, String) = (row.get(0), row.get(1));
    primary
        .batch_execute(
            "CREATE TABLE items (id int PRIMARY KEY, v text); \
             INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 10) g",
        )
        .await
        .expect("items");

    let dir = tempfile::tempdir().expect("tmp");
    let app = App::with_config_dir(fast(), Some(dir.path().to_path_buf()));
    app.open_profile(&sandbox.profile).expect("open profile");

    // Every node answers over TLS, and says so with the server's own words.
    let o = overview_when(&app, "every node and the lake reachable over TLS", |o| {
        o.lake.reachable
            && o.lag.as_ref().is_some_and(|s| {
                s.nodes.len() == 2 && s.nodes.iter().all(|n| n.reachable && n.tls.is_some())
            })
    })
    .await;
    // The profile's addresses read through the TLS parameters of its URLs.
    for n in &o.profile.nodes {
        let port = sandbox.port(&n.name).expect("port");
        assert_eq!(
            n.address,
            format!("127.0.0.1:{port}/{}", skein_sandbox::DEMO_DATABASE),
            "{n:?}"
        );
    }
    for n in &o.lag.as_ref().expect("sample").nodes {
        let tls = n.tls.as_ref().expect("tls");
        assert_eq!(tls.version, version, "{}", n.name);
        assert_eq!(tls.cipher, cipher, "{}", n.name);
        assert!(n.error.is_none(), "{n:?}");
    }

    // A cache refreshed through DuckDB's libpq attachment (verify-full, same CA file).
    app.rpc(Request::CreateCache(CacheSpec {
        name: "items_copy".into(),
        query: "SELECT id, v FROM items".into(),
        monitor: vec!["public.items".into()],
        ttl_seconds: None,
        key: Vec::new(),
    }))
    .await
    .expect("create cache");
    let first = refresh(&app, "items_copy").await;
    assert_eq!(first.result, RefreshResult::Refreshed, "{first:?}");
    assert_eq!(first.rows, Some(10));
    let first_snapshot = first.snapshot_id.expect("snapshot");
    primary
        .batch_execute(
            "UPDATE items SET v = 'changed' WHERE id <= 3; DELETE FROM items WHERE id = 10",
        )
        .await
        .expect("edit");
    let second = refresh(&app, "items_copy").await;
    assert_eq!(second.result, RefreshResult::Refreshed, "{second:?}");
    assert_eq!(second.rows, Some(9));

    // Time travel: the first snapshot still holds the rows as they were.
    let then = travel(&app, At::Version(first_snapshot)).await;
    assert_eq!(then.rows.total, 10);
    assert!(!then.latest);
    let now = travel(&app, At::Latest).await;
    assert_eq!(now.rows.total, 9);
    let changed = now
        .rows
        .rows
        .iter()
        .filter(|r| r.get(1).and_then(|v| v.as_str()) == Some("changed"))
        .count();
    assert_eq!(changed, 3);

    // Routed reads over TLS, on the replica and on the primary.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = run(&app, "/* skein:replica */ SELECT count(*) FROM items").await;
        if r.rows == vec![vec![Some("9".to_owned())]] {
            assert_eq!(r.route.node, "replica1", "{:?}", r.route);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never caught up: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let w = run(&app, "INSERT INTO items VALUES (11, 'new')").await;
    assert_eq!((w.route.node.as_str(), w.affected), ("primary", Some(1)));

    // A cancel request travels over TLS too: the statement ends as cancelled.
    let sleeping = tokio::spawn({
        let console = app.console().expect("console");
        async move {
            console
                .run_query("/* skein:primary */ SELECT pg_sleep(30)", Some("long"), 10)
                .await
                .map_err(|e| e.info())
        }
    });
    let mut cancelled = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Ok(Response::CancelQuery(Some(_))) = app
            .rpc(Request::CancelQuery {
                session: "long".into(),
            })
            .await
        {
            cancelled = true;
            break;
        }
    }
    assert!(cancelled, "the sleep was never seen running");
    let e = sleeping.await.expect("task").expect_err("cancelled");
    assert_eq!(e.code, ErrorCode::Cancelled, "{}", e.message);
    if let Some(c) = app.console() {
        c.close();
    }

    // The same stack through a profile that turns TLS off: every node refuses, with the fix.
    let text = std::fs::read_to_string(&sandbox.profile)
        .expect("profile text")
        .replace("sslmode=verify-full", "sslmode=disable");
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, text).expect("write plain profile");
    let app = App::with_config_dir(fast(), Some(dir.path().join("plain-config")));
    app.open_profile(&plain).expect("open plain profile");
    let o = overview_when(&app, "every node refusing plain TCP", |o| {
        o.lag
            .as_ref()
            .is_some_and(|s| s.nodes.iter().all(|n| !n.reachable))
    })
    .await;
    for n in &o.lag.as_ref().expect("sample").nodes {
        let e = n.error.as_ref().expect("error");
        assert_eq!(e.code, ErrorCode::Tls, "{}: {}", n.name, e.message);
        assert!(
            e.message.contains(&n.name) && e.message.contains("sslmode=require"),
            "{}",
            e.message
        );
    }
    if let Some(c) = app.console() {
        c.close();
    }
}
