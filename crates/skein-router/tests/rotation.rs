//! Rotation against real streaming replicas: a replica past the warning lag (replay paused)
//! has half its configured weight and gets its smaller share of reads; a replica promoted
//! behind the router's back leaves rotation at once and gets no read, hinted or not.

mod common;

use std::time::Duration;

use common::{caught_up, connect, create_table, profile};
use skein_router::{NodeRouting, Router, Target};
use skein_sandbox::ScratchSandbox;

fn node(router: &Router, name: &str) -> NodeRouting {
    router
        .stats()
        .nodes
        .into_iter()
        .find(|n| n.name == name)
        .expect("node in the stats")
}

/// Of `n` routed reads of `sql`, how many ran on the node listening on `port` (each read
/// returns `inet_server_port()` of the server that ran it).
async fn reads_on(router: &Router, sql: &str, n: usize, port: u16) -> usize {
    let mut on = 0;
    for _ in 0..n {
        let r = router.query(sql, &[]).await.expect("read");
        assert_eq!(r.route.target, Target::Replica, "{:?}", r.route);
        if r.value[0].get::<_, i32>(0) == i32::from(port) {
            on += 1;
        }
    }
    on
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_warning_lag_the_effective_weight_halves_and_so_does_the_share_of_reads() {
    let sandbox = ScratchSandbox::up("router-weight", 2)
        .await
        .expect("sandbox up");
    let primary = connect(&sandbox, "primary").await;
    create_table(&primary).await;
    caught_up(&sandbox, &["replica1", "replica2"]).await;
    let mut p = profile(&sandbox, "");
    p.thresholds.lag_warning_ms = 300;
    p.thresholds.lag_critical_ms = 600_000;
    let router = Router::connect(&p).await.expect("router");
    let port1 = sandbox.port("replica1").expect("port");
    const READ: &str = "SELECT inet_server_port()";

    let r1 = node(&router, "replica1");
    assert_eq!((r1.configured_weight, r1.weight), (1, 1.0), "{r1:?}");
    let before = reads_on(&router, READ, 60, port1).await;
    assert_eq!(before, 30, "weights 1:1 share reads equally");

    // Replay paused on replica1 while the primary writes: its replay lag grows past warning.
    let replica1 = connect(&sandbox, "replica1").await;
    replica1
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .expect("pause");
    let mut lag = None;
    for i in 0..400 {
        primary
            .execute("UPDATE app.t SET v = $1 WHERE id = 1", &[&i])
            .await
            .expect("write");
        router.observe(&skein_pg::lag::sample(router.cluster()).await);
        lag = node(&router, "replica1").lag_ms;
        // replica2 streams on; on a loaded machine it can fall behind for a moment too, and
        // the comparison below needs it under the warning.
        let other = node(&router, "replica2").lag_ms;
        if lag.is_some_and(|l| l >= 300) && other.is_some_and(|l| l < 300) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(lag.is_some_and(|l| l >= 300), "replay lag {lag:?}");
    let (r1, r2) = (node(&router, "replica1"), node(&router, "replica2"));
    eprintln!("replica1 at {lag:?} ms: {r1:?}");
    assert!(r1.in_rotation, "{r1:?}");
    assert_eq!((r1.configured_weight, r1.weight), (1, 0.5), "{r1:?}");
    assert_eq!((r2.configured_weight, r2.weight), (1, 1.0), "{r2:?}");

    // Weights 0.5 : 1: replica1 serves one read in three (explained and run).
    let explained = (0..300)
        .filter(|_| router.explain(READ).node == "replica1")
        .count();
    let ran = reads_on(&router, READ, 90, port1).await;
    eprintln!(
        "halved weight: replica1 chosen for {explained} of 300 explains and ran {ran} of 90 reads (before: {before} of 60)"
    );
    assert!((99..=101).contains(&explained), "{explained} of 300");
    assert!((29..=31).contains(&ran), "{ran} of 90");
    replica1
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .expect("resume");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_replica_leaves_rotation_at_once_and_serves_no_read() {
    let sandbox = ScratchSandbox::up("router-promoted", 2)
        .await
        .expect("sandbox up");
    let primary = connect(&sandbox, "primary").await;
    create_table(&primary).await;
    caught_up(&sandbox, &["replica1", "replica2"]).await;
    let router = Router::connect(&profile(&sandbox, "max_failures = 3"))
        .await
        .expect("router");
    let (port1, port_primary) = (
        sandbox.port("replica1").expect("port"),
        sandbox.port("primary").expect("port"),
    );
    assert!(node(&router, "replica1").in_rotation);

    // Promoted directly on the node, not through the router: a second writable primary.
    let replica1 = connect(&sandbox, "replica1").await;
    let promoted: bool = replica1
        .query_one("SELECT pg_promote()", &[])
        .await
        .expect("promote")
        .get(0);
    assert!(promoted);
    replica1
        .batch_execute("SELECT pg_stat_statements_reset()")
        .await
        .expect("reset pg_stat_statements");

    // One sample takes it out, though max_failures is 3.
    router.observe(&skein_pg::lag::sample(router.cluster()).await);
    let r1 = node(&router, "replica1");
    eprintln!("after one sample: {r1:?}");
    assert!(!r1.in_rotation, "{r1:?}");
    assert_eq!(
        r1.reason.as_deref(),
        Some("promoted: out of recovery, accepts writes (a second primary)")
    );
    assert_eq!((r1.weight, r1.recovering_ms), (0.0, None), "{r1:?}");

    // 100 reads and 100 reads hinted to replica1, each with a sample between some: none
    // runs on replica1, and it stays out with no recovery countdown.
    let plain = reads_on(
        &router,
        "SELECT inet_server_port() AS promoted_plain",
        100,
        port1,
    )
    .await;
    router.observe(&skein_pg::lag::sample(router.cluster()).await);
    let hinted = reads_on(
        &router,
        "/* skein:replica=replica1 */ SELECT inet_server_port() AS promoted_hinted",
        100,
        port1,
    )
    .await;
    router.observe(&skein_pg::lag::sample(router.cluster()).await);
    assert_eq!((plain, hinted), (0, 0));
    let explained = router.explain("/* skein:replica=replica1 */ SELECT 1");
    assert_eq!(explained.node, "replica2", "{explained:?}");
    assert!(
        explained.reason.contains("replica1 is not in rotation"),
        "{}",
        explained.reason
    );
    let ran_on_replica1: i64 = replica1
        .query_one(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query LIKE '%promoted_%'",
            &[],
        )
        .await
        .expect("pg_stat_statements")
        .get(0);
    assert_eq!(ran_on_replica1, 0, "reads ran on the promoted replica");

    // Writes go to the configured primary, never to the promoted one.
    let w = router
        .query(
            "UPDATE app.t SET v = v + 1 WHERE id = 1 RETURNING inet_server_port()",
            &[],
        )
        .await
        .expect("write");
    assert_eq!(w.value[0].get::<_, i32>(0), i32::from(port_primary));
    let r1 = node(&router, "replica1");
    eprintln!("after 200 reads: {r1:?}");
    assert_eq!(
        (r1.in_rotation, r1.reads, r1.writes),
        (false, 0, 0),
        "{r1:?}"
    );
    assert_eq!(r1.recovering_ms, None);
    assert_eq!(node(&router, "replica2").reads, 200);
}
