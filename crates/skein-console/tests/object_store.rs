//! The console on a lake whose data is in a three-node Garage cluster: the overview names the
//! store (endpoint, bucket, where the credentials come from — never the secret); one Garage
//! node stopped makes the store `degraded` (a warning, the lake still refreshed through it),
//! and the warning clears once the node is back; meanwhile a refresh through the console
//! writes to the store and another handle reads it. The whole store down: the store is
//! `unavailable` (a critical item naming the endpoint), a refresh fails naming it and keeps
//! the cache's previous contents, the replicas' lag is still sampled; the store back, the same
//! console refreshes again without a restart.

mod common;

use std::time::{Duration, Instant};

use common::{fast, Stack};
use skein_console::rpc::{CacheSpec, Overview, Severity, StoreHealth};
use skein_console::{App, Request, Response};
use skein_lake::RefreshResult;
use skein_sandbox::ScratchSandbox;

async fn overview(app: &App) -> Overview {
    match app.rpc(Request::Overview).await {
        Ok(Response::Overview(o)) => o,
        other => panic!("overview answered {other:?}"),
    }
}

/// Polls the overview until `ok` holds, at most `secs` seconds.
async fn until(app: &App, secs: u64, what: &str, ok: impl Fn(&Overview) -> bool) -> Overview {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let o = overview(app).await;
        if ok(&o) {
            return o;
        }
        assert!(
            Instant::now() < deadline,
            "{what} within {secs} s: {:?} {:?}",
            o.lake,
            o.attention
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_down_makes_the_store_degraded_until_it_is_back() {
    let sandbox = ScratchSandbox::up_object_store("console-s3", 1)
        .await
        .expect("sandbox up");
    let dir = sandbox.dir.clone();
    let garage = sandbox.garage.clone().expect("garage");
    let app = App::with_config_dir(fast(), Some(dir.join("config")));
    app.open_profile(&sandbox.profile).expect("open profile");
    let mut stack = Stack { sandbox, app };

    let o = until(&stack.app, 30, "the store healthy", |o| {
        o.lake
            .store
            .as_ref()
            .is_some_and(|s| s.health == Some(StoreHealth::Healthy))
    })
    .await;
    let store = o.lake.store.clone().expect("store");
    assert_eq!(
        (
            store.endpoint.as_str(),
            store.bucket.as_str(),
            store.prefix.as_str()
        ),
        (garage.endpoint().as_str(), "lake", "data/")
    );
    assert!(
        store.credentials.ends_with("aws-credentials [sandbox]"),
        "{}",
        store.credentials
    );
    assert_eq!(
        store.health_detail.as_deref(),
        Some("Garage is fully operational")
    );
    assert!(
        !o.attention.iter().any(|a| a.subject == "store"),
        "{:?}",
        o.attention
    );
    let secret = std::fs::read_to_string(dir.join("aws-credentials")).expect("credentials");
    let secret = secret
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key = "))
        .expect("secret")
        .to_owned();
    let json = serde_json::to_string(&o).expect("json");
    assert!(
        !json.contains(&secret),
        "the overview never carries the secret key"
    );

    // One node down: degraded, a warning; the lake still takes a refresh.
    stack
        .sandbox
        .stop_store_node("garage3")
        .expect("stop garage3");
    let o = until(&stack.app, 60, "the store degraded", |o| {
        o.lake
            .store
            .as_ref()
            .is_some_and(|s| s.health == Some(StoreHealth::Degraded))
    })
    .await;
    let item = o
        .attention
        .iter()
        .find(|a| a.subject == "store")
        .expect("a store item");
    assert_eq!(item.severity, Severity::Warning);
    assert!(
        item.message.contains(&format!(
            "the object store at {} is degraded",
            garage.endpoint()
        )),
        "{}",
        item.message
    );
    stack
        .app
        .rpc(Request::RunQuery {
            sql: "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g".into(),
            session: None,
            max_rows: 10,
        })
        .await
        .expect("a source table");
    stack
        .app
        .rpc(Request::CreateCache(CacheSpec {
            name: "t_copy".into(),
            query: "SELECT * FROM t".into(),
            monitor: vec!["t".into()],
            ttl_seconds: None,
            key: Vec::new(),
        }))
        .await
        .expect("a cache");
    match stack
        .app
        .rpc(Request::RefreshCache {
            name: "t_copy".into(),
            force: false,
        })
        .await
    {
        Ok(Response::RefreshCache(x)) => assert_eq!(x.result, RefreshResult::Refreshed, "{x:?}"),
        other => panic!("refresh answered {other:?}"),
    }
    // What was written is in the store: a stock read of the table through another handle.
    let profile = skein_core::Profile::load(&stack.sandbox.profile).expect("profile");
    let other = skein_lake::Lake::open(&profile)
        .await
        .expect("another handle");
    assert_eq!(
        other
            .rows_at("t_copy", skein_lake::At::Latest, 1, 0)
            .await
            .expect("read with a node down")
            .total,
        5000
    );

    // Back: healthy again, the warning gone.
    stack
        .sandbox
        .start_store_node("garage3")
        .expect("start garage3");
    stack
        .sandbox
        .wait_store_healthy(Duration::from_secs(60))
        .expect("healthy");
    until(&stack.app, 60, "the store healthy again", |o| {
        o.lake
            .store
            .as_ref()
            .is_some_and(|s| s.health == Some(StoreHealth::Healthy))
            && !o.attention.iter().any(|a| a.subject == "store")
    })
    .await;

    // The whole store down.
    for n in ["garage1", "garage2", "garage3"] {
        stack.sandbox.stop_store_node(n).expect("stop");
    }
    let o = until(&stack.app, 60, "the store unavailable", |o| {
        o.lake
            .store
            .as_ref()
            .is_some_and(|s| s.health == Some(StoreHealth::Unavailable))
    })
    .await;
    let item = o
        .attention
        .iter()
        .find(|a| a.subject == "store")
        .expect("a store item");
    assert_eq!(item.severity, Severity::Critical, "{item:?}");
    assert!(
        item.message.contains(&format!(
            "the object store at {} is unavailable",
            garage.endpoint()
        )),
        "{}",
        item.message
    );
    // Monitoring goes on: new lag samples, every node reachable.
    let before = o.lag.as_ref().map(|l| l.taken_at_ms).unwrap_or(0);
    let o = until(&stack.app, 30, "a new lag sample", |o| {
        o.lag.as_ref().is_some_and(|l| l.taken_at_ms > before)
    })
    .await;
    let lag = o.lag.expect("a lag sample");
    assert!(lag.nodes.iter().all(|n| n.reachable), "{:?}", lag.nodes);
    // A refresh fails naming the store; the previous contents stay readable to the catalog.
    stack
        .app
        .rpc(Request::RunQuery {
            sql: "UPDATE t SET v = 'down' WHERE id <= 10".into(),
            session: None,
            max_rows: 10,
        })
        .await
        .expect("a write to the source");
    let started = Instant::now();
    match stack
        .app
        .rpc(Request::RefreshCache {
            name: "t_copy".into(),
            force: false,
        })
        .await
    {
        Ok(Response::RefreshCache(x)) => {
            assert_eq!(x.result, RefreshResult::Error, "{x:?}");
            assert!(
                x.message
                    .contains(&format!("the object store at {}", garage.endpoint())),
                "{}",
                x.message
            );
        }
        other => panic!("refresh answered {other:?}"),
    }
    eprintln!(
        "a refresh with the store down failed after {} ms",
        started.elapsed().as_millis()
    );

    // Back: the same console refreshes again, no restart.
    for n in ["garage1", "garage2", "garage3"] {
        stack.sandbox.start_store_node(n).expect("start");
    }
    stack
        .sandbox
        .wait_store_healthy(Duration::from_secs(60))
        .expect("healthy");
    until(&stack.app, 60, "the store healthy after the outage", |o| {
        o.lake.reachable
            && o.lake
                .store
                .as_ref()
                .is_some_and(|s| s.health == Some(StoreHealth::Healthy))
            && !o.attention.iter().any(|a| a.subject == "store")
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match stack
            .app
            .rpc(Request::RefreshCache {
                name: "t_copy".into(),
                force: false,
            })
            .await
        {
            Ok(Response::RefreshCache(x)) if x.result == RefreshResult::Refreshed => break,
            other => assert!(
                Instant::now() < deadline,
                "a refresh after the outage: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        other
            .rows_at("t_copy", skein_lake::At::Latest, 1, 0)
            .await
            .expect("read after the outage")
            .total,
        5000
    );
}
