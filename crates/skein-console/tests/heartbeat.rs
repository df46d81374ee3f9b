//! A stale cache is never served: a heartbeat row updated on the primary every 2 s, a cache
//! over it refreshed every second, and the Workbench reading the same query every 0.25 s.
//! The check is linearizable: the primary's heartbeat is read **before** each run starts, so
//! any answer served from the lake must be at least that new.
//!
//! `SKEIN_HEARTBEAT_SECONDS` sets the length of the run (20 s by default; longer for benches),
//! `SKEIN_HEARTBEAT_FORCE=1` forces every refresh, `SKEIN_HEARTBEAT_WAL_WRITER_DELAY` sets the
//! primary's `wal_writer_delay` (the heartbeat commits asynchronously; `10s` holds its WAL
//! back long enough that a refresh taken right after a beat would miss it if the fingerprint's
//! LSN were the write position — `crates/skein-lake/tests/async_commit.rs` checks that case
//! deterministically).

mod common;

use common::{fast, Stack};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use skein_console::rpc::{CacheSpec, QueryTarget};
use skein_console::{App, Request, Response};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

const READ: &str = "SELECT beat FROM hb.heartbeat WHERE id = 1";

async fn beat_on_primary(cluster: &Cluster) -> i64 {
    cluster
        .primary
        .with_client("reading the heartbeat", |c| async move {
            c.query_one("SELECT beat FROM hb.heartbeat WHERE id = 1", &[])
                .await
                .map(|r| r.get::<_, i64>(0))
        })
        .await
        .expect("heartbeat on the primary")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_read_is_never_older_than_the_primary_before_the_read() {
    let seconds: u64 = std::env::var("SKEIN_HEARTBEAT_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let sandbox = ScratchSandbox::up("heartbeat-test", 2)
        .await
        .expect("sandbox up");
    let dir = sandbox.dir.clone();
    let profile = skein_core::Profile::load(&sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    let app = App::with_config_dir(fast(), Some(dir.join("config")));
    app.open_profile(&sandbox.profile).expect("open profile");
    let stack = Stack { sandbox, app };
    let console = stack.app.console().expect("console");

    // SKEIN_HEARTBEAT_WAL_WRITER_DELAY (e.g. `10s`) widens the window in which an
    // asynchronous commit is visible on the primary but not yet written to WAL.
    if let Ok(delay) = std::env::var("SKEIN_HEARTBEAT_WAL_WRITER_DELAY") {
        for sql in [
            format!("ALTER SYSTEM SET wal_writer_delay = '{delay}'"),
            "SELECT pg_reload_conf()".to_owned(),
        ] {
            cluster
                .primary
                .execute(&sql)
                .await
                .expect("wal_writer_delay");
        }
    }
    for sql in [
        "CREATE SCHEMA hb",
        "CREATE TABLE hb.heartbeat (id int PRIMARY KEY, beat bigint)",
        "INSERT INTO hb.heartbeat VALUES (1, 1)",
    ] {
        cluster.primary.execute(sql).await.expect("heartbeat table");
    }
    stack
        .app
        .rpc(Request::CreateCache(CacheSpec {
            name: "beat".into(),
            query: READ.into(),
            monitor: vec!["hb.heartbeat".into()],
            ttl_seconds: None,
            key: Vec::new(),
        }))
        .await
        .expect("create cache");

    let done = Arc::new(AtomicBool::new(false));
    // The heartbeat: one update every 2 s, each a new number, committed asynchronously as
    // heartbeats often are (visible before its WAL is written).
    let beater = tokio::spawn({
        let (done, primary) = (done.clone(), cluster.primary.clone());
        async move {
            while !done.load(Ordering::Relaxed) {
                primary
                    .with_client("beating", |c| async move {
                        c.batch_execute(
                            "BEGIN; SET LOCAL synchronous_commit = off; \
                             UPDATE hb.heartbeat SET beat = beat + 1 WHERE id = 1; COMMIT",
                        )
                        .await
                    })
                    .await
                    .expect("beat");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    });
    // The refresher: a refresh every second (forced with SKEIN_HEARTBEAT_FORCE=1, else
    // SKIPPED when the heartbeat did not move).
    let force = std::env::var("SKEIN_HEARTBEAT_FORCE").is_ok_and(|v| v == "1");
    let refresher = tokio::spawn({
        let (done, console) = (done.clone(), console.clone());
        async move {
            while !done.load(Ordering::Relaxed) {
                let _ = console.refresh_cache("beat", force).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });

    let started = Instant::now();
    let (mut reads, mut from_lake, mut stale) = (0u32, 0u32, Vec::new());
    let mut unexplained = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        let before = beat_on_primary(&cluster).await;
        let r = console.run_query(READ, None, 10).await.expect("run");
        reads += 1;
        let got: i64 = r.rows[0][0].as_deref().expect("beat").parse().expect("int");
        if r.route.target == QueryTarget::Cache {
            from_lake += 1;
            if !r.staleness.summary.contains("checked at") {
                unexplained.push(r.staleness.summary.clone());
            }
            if got < before {
                stale.push((before, got, r.staleness.summary.clone()));
            }
        } else if r.route.node == "primary" {
            assert!(
                got >= before,
                "a read on the primary older than the primary before it"
            );
        }
        // A replica's answer may be behind by its replay lag: that is the replica's
        // staleness, shown with the answer, not a cache's.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    done.store(true, Ordering::Relaxed);
    let _ = beater.await;
    let _ = refresher.await;
    eprintln!(
        "heartbeat run: {seconds} s, {reads} reads, {from_lake} served from the lake, {} stale",
        stale.len()
    );
    assert!(stale.is_empty(), "stale reads from the lake: {stale:?}");
    assert!(
        unexplained.is_empty(),
        "answers that do not say how freshness was known: {unexplained:?}"
    );
    let stats = match stack.app.rpc(Request::Routing).await {
        Ok(Response::Routing(s)) => s,
        other => panic!("routing answered {other:?}"),
    };
    assert_eq!(stats.cache_reads, u64::from(from_lake), "{stats:?}");
    assert!(
        from_lake > 0,
        "no read was served from the lake in {seconds} s"
    );
}
