//! The router under load and under failure, against real servers: a 90/10 read/write mix from
//! many concurrent sessions counted by the servers themselves (`pg_stat_statements`), and
//! session affinity over four replicas when one of them goes down.

mod common;

use std::collections::HashMap;

use common::{caught_up, connect, create_table, profile};
use skein_router::{Router, Session, Target};
use skein_sandbox::ScratchSandbox;

/// Calls of statements starting with `prefix` on one node, from `pg_stat_statements`.
async fn calls(sandbox: &ScratchSandbox, node: &str, prefix: &str) -> i64 {
    let c = connect(sandbox, node).await;
    c.query_one(
        "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query LIKE $1 || '%'",
        &[&prefix],
    )
    .await
    .expect("pg_stat_statements")
    .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_90_10_mix_from_40_sessions_spreads_reads_by_weight_and_writes_only_the_primary() {
    let sandbox = ScratchSandbox::up("router-load", 2)
        .await
        .expect("sandbox up");
    let primary = connect(&sandbox, "primary").await;
    create_table(&primary).await;
    caught_up(&sandbox, &["replica1", "replica2"]).await;
    for node in ["primary", "replica1", "replica2"] {
        connect(&sandbox, node)
            .await
            .batch_execute("SELECT pg_stat_statements_reset()")
            .await
            .expect("reset pg_stat_statements");
    }
    let mut p = profile(&sandbox, "");
    p.replicas[0].weight = 3;
    p.replicas[1].weight = 1;
    let router = Router::connect(&p).await.expect("router");
    let _monitor = router.start_monitor();

    const SESSIONS: i32 = 40;
    const OPS: i32 = 50;
    let tasks: Vec<_> = (0..SESSIONS)
        .map(|s| {
            let router = router.clone();
            tokio::spawn(async move {
                let session = Session::new(None);
                session
                    .scope(async {
                        let mut stale = 0;
                        for i in 0..OPS {
                            let id = (s * OPS + i) % 100 + 1;
                            if i % 10 == 0 {
                                let w = router
                                    .execute("UPDATE app.t SET v = v + 1 WHERE id = $1", &[&id])
                                    .await
                                    .expect("write");
                                assert_eq!(w.route.target, Target::Primary);
                            } else {
                                let r = router
                                    .query("SELECT v FROM app.t WHERE id = $1", &[&id])
                                    .await
                                    .expect("read");
                                if r.value.is_empty() {
                                    stale += 1;
                                }
                            }
                        }
                        stale
                    })
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("session task"), 0);
    }
    let writes = SESSIONS * OPS / 10;
    let reads = SESSIONS * OPS - writes;
    let mut seen = HashMap::new();
    for node in ["primary", "replica1", "replica2"] {
        let r = calls(&sandbox, node, "SELECT v FROM app.t WHERE id = $1").await;
        let w = calls(&sandbox, node, "UPDATE app.t SET v = v +").await;
        seen.insert(node, (r, w));
    }
    let (r1, r2) = (seen["replica1"].0, seen["replica2"].0);
    let share = r1 as f64 / (r1 + r2).max(1) as f64;
    eprintln!(
        "90/10 load, {SESSIONS} sessions x {OPS} statements: pg_stat_statements reads/writes {seen:?}; \
         replica1 share of replica reads {:.1}% (weight 3:1 → 75%); router fallbacks {}",
        share * 100.0,
        router.stats().fallbacks
    );
    assert_eq!(
        seen["replica1"].1 + seen["replica2"].1,
        0,
        "a write reached a replica"
    );
    assert_eq!(
        seen["primary"].1,
        i64::from(writes),
        "every write ran once on the primary"
    );
    assert_eq!(
        seen["primary"].0 + r1 + r2,
        i64::from(reads),
        "every read ran once, somewhere"
    );
    assert!(
        seen["primary"].0 <= i64::from(reads) / 20,
        "at most 5% of reads fell back to the primary"
    );
    assert!(
        (0.70..=0.80).contains(&share),
        "replica1 served {:.1}% of replica reads",
        share * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn affinity_over_four_replicas_moves_only_the_departed_replicas_share() {
    let sandbox = ScratchSandbox::up("router-affinity", 4)
        .await
        .expect("sandbox up");
    let router = Router::connect(&profile(&sandbox, "max_failures = 3"))
        .await
        .expect("router");
    let place = |router: Router| async move {
        let mut m = HashMap::new();
        for i in 0..1000 {
            let hint = format!("session-{i}");
            let route = Session::new(Some(&hint))
                .scope(async { router.explain("SELECT 1") })
                .await;
            m.insert(hint, route.node);
        }
        m
    };
    let before = place(router.clone()).await;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for n in before.values() {
        *counts.entry(n.as_str()).or_default() += 1;
    }
    eprintln!("1,000 hints over 4 replicas: {counts:?}");
    assert_eq!(counts.len(), 4);
    assert!(
        counts.values().all(|c| (180..=320).contains(c)),
        "{counts:?}"
    );

    sandbox.stop_node("replica3").expect("stop replica3");
    for _ in 0..3 {
        router.observe(&skein_pg::lag::sample(router.cluster()).await);
    }
    let out = router.stats();
    assert!(
        !out.nodes
            .iter()
            .any(|n| n.name == "replica3" && n.in_rotation),
        "{out:?}"
    );
    let after = place(router.clone()).await;
    let moved: Vec<&String> = before.keys().filter(|h| before[*h] != after[*h]).collect();
    assert_eq!(
        moved.len(),
        counts["replica3"],
        "exactly replica3's hints moved"
    );
    assert!(moved.iter().all(|h| before[*h] == "replica3"));
    assert!(after.values().all(|n| n != "replica3"));
}
