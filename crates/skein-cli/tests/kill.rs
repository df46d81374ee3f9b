//! A `skein` process killed (SIGKILL) in the middle of writing to the lake leaves the lake
//! readable, with the previous contents and history, and the maintenance lock free.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use skein_core::Profile;
use skein_lake::snapshot::At;
use skein_lake::{Lake, MaintenanceLock};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_refresh_leaves_the_lake_readable_and_unchanged() {
    let sandbox = ScratchSandbox::up("cli-kill", 1).await.expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    cluster
        .primary
        .execute("CREATE TABLE src AS SELECT g AS id FROM generate_series(1, 2000) g")
        .await
        .expect("create src");
    let lake = Lake::open(&profile).await.expect("lake");
    // A source query that takes 4 s: the refresh is inside its lake transaction meanwhile.
    lake.create_cache(
        &cluster,
        "slow",
        "SELECT id FROM src CROSS JOIN pg_sleep(4)",
        &["src".into()],
        None,
    )
    .await
    .expect("create cache");
    let first = lake
        .refresh_cache(&cluster, "slow", true)
        .await
        .expect("first refresh");
    let snapshots = lake.snapshot_count().await.expect("count");
    cluster
        .primary
        .execute("INSERT INTO src SELECT g FROM generate_series(2001, 3000) g")
        .await
        .expect("grow src");

    let profile_path = sandbox.profile.display().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_skein"))
        .args([
            "cache",
            "refresh",
            "slow",
            "--force",
            "--profile",
            &profile_path,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start skein");
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    eprintln!(
        "killed the refresh {} ms after its start",
        1500 + started.elapsed().as_millis()
    );

    // A fresh DuckDB reads the lake: previous contents, previous history.
    let fresh = Lake::open(&profile).await.expect("reopen after the kill");
    assert_eq!(
        fresh
            .rows_at("slow", At::Latest, 1, 0)
            .await
            .expect("read the cache")
            .total,
        2000,
        "the killed refresh wrote nothing"
    );
    assert_eq!(fresh.snapshot_count().await.expect("count"), snapshots);
    let status = fresh.cache_status(&cluster, "slow").await.expect("status");
    assert_eq!(
        status.last_refresh.and_then(|r| r.snapshot_id),
        first.snapshot_id
    );
    // The next refresh works and sees the new rows.
    let next = fresh
        .refresh_cache(&cluster, "slow", false)
        .await
        .expect("refresh after the kill");
    assert_eq!(next.rows, Some(3000), "{next:?}");
    MaintenanceLock::acquire(fresh.catalog(), &fresh.name)
        .await
        .expect("the lock is free")
        .release()
        .await;
}
