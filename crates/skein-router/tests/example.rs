//! The embedding example (`examples/embed.rs`) run against a sandbox: what an application
//! gets from the router — its own writes visible to its next read, writes only on the primary.

#[path = "../examples/embed.rs"]
#[allow(dead_code, missing_docs)]
mod embed;

use skein_sandbox::ScratchSandbox;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedding_example_runs_against_a_primary_and_replicas() {
    let sandbox = ScratchSandbox::up("router-example", 2)
        .await
        .expect("sandbox up");
    let profile = skein_core::Profile::load(&sandbox.profile).expect("profile");
    let summary = embed::run(&profile).await.expect("the example runs");
    assert_eq!(
        summary.orders_seen,
        [1, 1, 1],
        "each request read its own order"
    );
    assert_eq!(summary.total_spent, 60);
    let replica_writes: u64 = summary
        .served
        .iter()
        .filter(|(n, _, _)| n != "primary")
        .map(|(_, _, w)| w)
        .sum();
    assert_eq!(replica_writes, 0);
    // A second run (a restarted service) finds its schema and sees the new orders too.
    let again = embed::run(&profile).await.expect("second run");
    assert_eq!(again.orders_seen, [2, 2, 2]);
    assert_eq!(again.total_spent, 120);
}
