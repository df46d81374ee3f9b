//! Read-your-writes under a paused replica, and lag-aware ejection with recovery hysteresis,
//! against a real primary and streaming replicas.

mod common;

use std::time::{Duration, Instant};

use common::{caught_up, connect, create_table, profile};
use skein_router::{Router, Session, Target};
use skein_sandbox::ScratchSandbox;

/// Writes `i` into row 1, reads it back in the same session and checks the read saw it;
/// returns where the read went.
async fn write_then_read(router: &Router, i: i32) -> skein_router::Route {
    router
        .execute("UPDATE app.t SET v = $1 WHERE id = 1", &[&i])
        .await
        .expect("write");
    let r = router
        .query("SELECT v FROM app.t WHERE id = 1", &[])
        .await
        .expect("read");
    assert_eq!(
        r.value[0].get::<_, i32>(0),
        i,
        "stale read from {} ({}: {})",
        r.route.node,
        r.route.rule,
        r.route.reason
    );
    r.route
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_right_after_a_write_is_never_stale_with_a_replica_paused() {
    let sandbox = ScratchSandbox::up("router-ryw", 2)
        .await
        .expect("sandbox up");
    let primary = connect(&sandbox, "primary").await;
    create_table(&primary).await;
    caught_up(&sandbox, &["replica1", "replica2"]).await;
    let router = Router::connect(&profile(&sandbox, "read_your_writes_wait_ms = 150"))
        .await
        .expect("router");
    let _monitor = router.start_monitor();
    let replica1 = connect(&sandbox, "replica1").await;
    replica1
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .expect("pause replica1");

    // Control: without a session, a read sent to the paused replica is stale — the check
    // below can fail.
    router
        .execute("UPDATE app.t SET v = -1 WHERE id = 1", &[])
        .await
        .expect("write");
    let stale = router
        .query(
            "SELECT v FROM app.t WHERE id = 1 /* skein:replica=replica1 */",
            &[],
        )
        .await
        .expect("read");
    assert_eq!(stale.route.node, "replica1");
    assert_eq!(
        stale.value[0].get::<_, i32>(0),
        1,
        "the paused replica still has the old value"
    );

    let session = Session::new(Some("user-7"));
    let mut served = std::collections::BTreeMap::<String, u32>::new();
    session
        .scope(async {
            for i in 0..60i32 {
                let r = write_then_read(&router, i).await;
                *served.entry(r.node).or_default() += 1;
            }
        })
        .await;
    eprintln!("read-your-writes with replica1 paused: served by {served:?}");
    assert_eq!(
        served.get("replica1"),
        None,
        "the paused replica never served the session"
    );
    assert!(
        served.get("replica2").copied().unwrap_or(0) > 0,
        "{served:?}"
    );

    // Both paused: the bounded wait runs out and the primary serves, saying why.
    let replica2 = connect(&sandbox, "replica2").await;
    replica2
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .expect("pause replica2");
    session
        .scope(async {
            for i in 100..105i32 {
                let started = std::time::Instant::now();
                let r = write_then_read(&router, i).await;
                assert_eq!(
                    (r.node.as_str(), r.rule.as_str()),
                    ("primary", "read_your_writes")
                );
                assert!(
                    started.elapsed() >= Duration::from_millis(150),
                    "the bounded wait ran first"
                );
            }
        })
        .await;
    assert!(router.stats().fallbacks >= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn critical_lag_ejects_a_replica_and_it_returns_only_after_the_recovery_time() {
    let sandbox = ScratchSandbox::up("router-eject", 2)
        .await
        .expect("sandbox up");
    let primary = connect(&sandbox, "primary").await;
    create_table(&primary).await;
    caught_up(&sandbox, &["replica1", "replica2"]).await;
    let mut p = profile(&sandbox, "recovery_ms = 3000\nmonitor_interval_ms = 200");
    p.thresholds.lag_warning_ms = 300;
    p.thresholds.lag_critical_ms = 1_000;
    let router = Router::connect(&p).await.expect("router");
    let _monitor = router.start_monitor();
    let in_rotation = |r: &Router| {
        r.stats()
            .nodes
            .iter()
            .find(|n| n.name == "replica1")
            .map(|n| n.in_rotation)
            .unwrap_or(false)
    };
    assert!(in_rotation(&router));

    // Writes keep WAL moving while replica1's replay is paused, so its replay lag grows.
    let writer = tokio::spawn({
        let primary = connect(&sandbox, "primary").await;
        async move {
            for i in 0.. {
                let _ = primary
                    .execute("UPDATE app.t SET v = $1 WHERE id = 2", &[&i])
                    .await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    });
    let replica1 = connect(&sandbox, "replica1").await;
    replica1
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .expect("pause");
    let paused = Instant::now();
    while in_rotation(&router) {
        assert!(
            paused.elapsed() < Duration::from_secs(20),
            "replica1 was never ejected"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reason = router.stats().nodes[1].reason.clone().unwrap_or_default();
    eprintln!(
        "ejected after {} ms: {reason}",
        paused.elapsed().as_millis()
    );
    assert!(reason.contains("past critical"), "{reason}");
    for _ in 0..10 {
        let r = router.query("SELECT 1", &[]).await.expect("read");
        assert_eq!(
            (r.route.target, r.route.node.as_str()),
            (Target::Replica, "replica2")
        );
    }

    // Resumed and caught up within a second or two, but back only after 3 s healthy.
    replica1
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .expect("resume");
    let resumed = Instant::now();
    let mut reads_on_replica1_while_out = 0;
    // The recovery countdown, as the routing stats show it while replica1 is out.
    let mut countdown = Vec::new();
    while !in_rotation(&router) {
        assert!(
            resumed.elapsed() < Duration::from_secs(20),
            "replica1 never came back"
        );
        if let Some(left) = router.stats().nodes[1].recovering_ms {
            if countdown.last() != Some(&left) {
                countdown.push(left);
            }
        }
        let r = router.query("SELECT 1", &[]).await.expect("read");
        if r.route.node == "replica1" {
            reads_on_replica1_while_out += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let back_after = resumed.elapsed();
    writer.abort();
    eprintln!(
        "back in rotation {} ms after replay resumed",
        back_after.as_millis()
    );
    assert_eq!(reads_on_replica1_while_out, 0);
    eprintln!("recovering_ms seen while out: {countdown:?}");
    assert!(countdown.len() >= 2, "{countdown:?}");
    assert!(countdown.iter().all(|l| *l <= 3_000), "{countdown:?}");
    assert!(
        countdown.last() < countdown.first(),
        "counts down: {countdown:?}"
    );
    assert_eq!(
        router.stats().nodes[1].recovering_ms,
        None,
        "back: no countdown"
    );
    assert!(
        back_after >= Duration::from_millis(3_000),
        "back after {back_after:?}"
    );
    let served: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(
                router
                    .query("SELECT 1", &[])
                    .await
                    .expect("read")
                    .route
                    .node,
            );
        }
        v
    };
    assert!(served.iter().any(|n| n == "replica1"), "{served:?}");
}
