//! A commit made with `synchronous_commit = off` is visible before its WAL is written. A
//! refresh whose fingerprint counts such a commit must read data that holds it: the
//! fingerprint's LSN is the insert position, which a replica reaches only once that WAL is
//! written and streamed (else the refresh reads from the primary).

use skein_core::Profile;
use skein_lake::{CacheState, Lake, RefreshResult};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_cache_holds_an_asynchronously_committed_change() {
    let sandbox = ScratchSandbox::up("lake-async", 2)
        .await
        .expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    let lake = Lake::open(&profile).await.expect("lake");
    for sql in [
        "CREATE TABLE beat (id int PRIMARY KEY, n int)",
        "INSERT INTO beat VALUES (1, 1)",
        // The WAL writer writes asynchronous commits only every 10 s now: their WAL stays in
        // the primary's buffers (visible there, not on any replica) for that long.
        "ALTER SYSTEM SET wal_writer_delay = '10s'",
        "SELECT pg_reload_conf()",
    ] {
        cluster.primary.execute(sql).await.expect(sql);
    }
    lake.create_cache(&cluster, "b", "SELECT n FROM beat", &["beat".into()], None)
        .await
        .expect("create");
    lake.refresh_cache(&cluster, "b", false)
        .await
        .expect("refresh");
    // Let the WAL writer take the new delay (it rereads its settings when it wakes).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    for n in 2..=3 {
        cluster
            .primary
            .with_client("beating", |c| async move {
                c.batch_execute(&format!(
                    "BEGIN; SET LOCAL synchronous_commit = off; UPDATE beat SET n = {n}; COMMIT"
                ))
                .await
            })
            .await
            .expect("beat");
        let outcome = lake
            .refresh_cache(&cluster, "b", false)
            .await
            .expect("refresh");
        assert_eq!(outcome.result, RefreshResult::Refreshed, "{outcome:?}");
        let status = lake.cache_status(&cluster, "b").await.expect("status");
        let rows = lake.read_cache("b", 10).await.expect("read");
        assert_eq!(status.state, CacheState::Fresh, "{status:?}");
        assert_eq!(
            rows.rows,
            [[Some(n.to_string())]],
            "a fresh cache holds every commit its fingerprint counts (read from {:?})",
            outcome.served_by
        );
    }
}
