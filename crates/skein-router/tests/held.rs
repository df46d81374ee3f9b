//! The replica connection of a scope, against a real primary and streaming replicas: the
//! reads of one `Session::scope` on one replica run on one connection, which goes back to the
//! pool at the end of the scope, on a read sent elsewhere, when the server closed it, and as
//! soon as another caller waits for a connection to that replica.

mod common;

use std::time::Duration;

use common::{caught_up, connect, create_table, profile};
use skein_router::{Router, Session};
use skein_sandbox::ScratchSandbox;

const ON_REPLICA1: &str = "/* skein:replica=replica1 */ SELECT pg_backend_pid()";
const ON_REPLICA2: &str = "/* skein:replica=replica2 */ SELECT pg_backend_pid()";

async fn backend_pid(router: &Router, sql: &str, node: &str) -> i32 {
    let r = router.query(sql, &[]).await.expect("read");
    assert_eq!(
        (r.route.node.as_str(), r.route.rule.as_str()),
        (node, "hint"),
        "{:?}",
        r.route
    );
    r.value[0].get(0)
}

/// Connections of `node`'s pool not in the pool now (taken or held).
fn out_of_pool(router: &Router, node: &str) -> usize {
    let s = router.cluster().node(node).expect("node").pool_status();
    s.size - s.available
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_keeps_its_replica_connection_between_reads_and_gives_it_back() {
    let sandbox = ScratchSandbox::up("router-held", 2)
        .await
        .expect("sandbox up");
    let primary = connect(&sandbox, "primary").await;
    create_table(&primary).await;
    caught_up(&sandbox, &["replica1", "replica2"]).await;
    let router = Router::connect(&profile(
        &sandbox,
        "replica_pool = { max_size = 1, timeout_ms = 3000 }",
    ))
    .await
    .expect("router");

    // Five reads of one scope on replica1 run on one backend; between them the scope holds it,
    // and its end gives it back.
    let session = Session::new(None);
    let (pids, held) = session
        .scope(async {
            let mut pids = Vec::new();
            for _ in 0..5 {
                pids.push(backend_pid(&router, ON_REPLICA1, "replica1").await);
            }
            (pids, out_of_pool(&router, "replica1"))
        })
        .await;
    assert!(pids.windows(2).all(|w| w[0] == w[1]), "{pids:?}");
    assert_eq!(held, 1, "held between the reads of the scope");
    assert_eq!(
        out_of_pool(&router, "replica1"),
        0,
        "given back at the end of the scope"
    );
    // The session lives on (as the console's Workbench keeps its sessions) holding nothing.
    let again = session
        .scope(backend_pid(&router, ON_REPLICA1, "replica1"))
        .await;
    assert_eq!(again, pids[0], "the pool's one connection, taken again");
    assert_eq!(out_of_pool(&router, "replica1"), 0);

    // A read sent to another replica gives the first one's connection back.
    session
        .scope(async {
            backend_pid(&router, ON_REPLICA1, "replica1").await;
            assert_eq!(out_of_pool(&router, "replica1"), 1);
            backend_pid(&router, ON_REPLICA2, "replica2").await;
            assert_eq!(
                out_of_pool(&router, "replica1"),
                0,
                "the read on replica2 gave replica1's connection back"
            );
            assert_eq!(out_of_pool(&router, "replica2"), 1);
        })
        .await;
    assert_eq!(out_of_pool(&router, "replica2"), 0);

    // A held connection the server closed is not used again: the next read opens another and
    // runs on the replica (no failure, no retry on the primary).
    let replica1 = connect(&sandbox, "replica1").await;
    session
        .scope(async {
            let first = backend_pid(&router, ON_REPLICA1, "replica1").await;
            let ended: bool = replica1
                .query_one("SELECT pg_terminate_backend($1)", &[&first])
                .await
                .expect("terminate")
                .get(0);
            assert!(ended);
            tokio::time::sleep(Duration::from_millis(500)).await;
            let second = backend_pid(&router, ON_REPLICA1, "replica1").await;
            assert_ne!(first, second, "a new connection after the old one ended");
        })
        .await;
    let stats = router.stats();
    let r1 = stats
        .nodes
        .iter()
        .find(|n| n.name == "replica1")
        .expect("replica1");
    assert_eq!(r1.retried, 0, "{stats:?}");
    assert!(r1.in_rotation, "{stats:?}");

    // Another caller waiting for replica1's only connection gets it after the holder's next
    // read, long before the holder's scope ends or the pool's 3 s timeout.
    session
        .scope(async {
            backend_pid(&router, ON_REPLICA1, "replica1").await;
            let waiter = tokio::spawn({
                let router = router.clone();
                async move { router.query(ON_REPLICA1, &[]).await.map(|r| r.route.node) }
            });
            for _ in 0..100 {
                let s = router
                    .cluster()
                    .node("replica1")
                    .expect("node")
                    .pool_status();
                if s.waiting > 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            // This read uses the held connection, then gives it back for the waiter.
            backend_pid(&router, ON_REPLICA1, "replica1").await;
            let served = tokio::time::timeout(Duration::from_millis(1500), waiter)
                .await
                .expect("the waiter was served while the scope still ran")
                .expect("task")
                .expect("read");
            assert_eq!(served, "replica1");
        })
        .await;
    assert_eq!(out_of_pool(&router, "replica1"), 0);
}
