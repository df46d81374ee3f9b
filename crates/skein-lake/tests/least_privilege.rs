//! The lake run by the least-privilege monitoring role over TLS, against a real sandbox: the
//! role creates DuckLake's catalog on first use, refreshes caches (Parquet files and inlined
//! rows, which DuckLake keeps in tables it creates in the catalog database), reads them back
//! and travels in time, while it still cannot write to the source database.

use skein_core::{ErrorCode, Profile};
use skein_lake::snapshot::At;
use skein_lake::{Lake, RefreshResult};
use skein_pg::Cluster;
use skein_sandbox::{ProfileRole, SandboxSecurity, ScratchSandbox, MONITOR_ROLE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitoring_role_refreshes_caches_over_tls() {
    let sandbox = ScratchSandbox::up_with(
        "lake-monitor",
        1,
        SandboxSecurity {
            tls: true,
            client_cert: false,
            profile_role: ProfileRole::Monitor,
        },
    )
    .await
    .expect("sandbox up");
    // Source rows written by the superuser: the monitoring role reads new tables through the
    // demo database's default privileges.
    let admin = skein_sandbox::demo::connect_primary(&sandbox)
        .await
        .expect("superuser connection");
    admin
        .batch_execute(
            "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g; \
             CREATE TABLE small AS SELECT g AS id FROM generate_series(1, 3) g",
        )
        .await
        .expect("source tables");

    let profile = Profile::load(&sandbox.profile).expect("profile");
    assert!(profile
        .primary
        .url
        .contains(&format!("user={MONITOR_ROLE}")));
    assert!(profile.lake.catalog.contains("sslmode=verify-full"));
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    let lake = Lake::open(&profile)
        .await
        .expect("the monitoring role opens the lake");
    lake.create_cache(
        &cluster,
        "big_copy",
        "SELECT * FROM big",
        &["big".into()],
        None,
    )
    .await
    .expect("create big_copy");
    lake.create_cache(
        &cluster,
        "small_copy",
        "SELECT * FROM small",
        &["small".into()],
        None,
    )
    .await
    .expect("create small_copy");
    let mut snapshots = Vec::new();
    for name in ["big_copy", "small_copy", "big_copy"] {
        let o = lake
            .refresh_cache(&cluster, name, true)
            .await
            .expect("refresh");
        assert_eq!(o.result, RefreshResult::Refreshed, "{o:?}");
        assert!(o.error.is_none(), "{o:?}");
        snapshots.push(o.snapshot_id.expect("a snapshot"));
    }
    let rows = lake
        .rows_at("big_copy", At::Latest, 10, 0)
        .await
        .expect("read back");
    assert_eq!(rows.total, 5000);
    let small = lake
        .rows_at("small_copy", At::Latest, 10, 0)
        .await
        .expect("read back inlined rows");
    assert_eq!(small.total, 3);
    let then = lake
        .rows_at("big_copy", At::Version(snapshots[0]), 1, 0)
        .await
        .expect("time travel");
    assert_eq!(then.total, 5000);
    lake.stats().await.expect("lake statistics");

    // Least privilege: the same role may not write to the source database.
    let e = cluster
        .primary
        .execute("CREATE TABLE not_allowed (id int)")
        .await
        .expect_err("the monitoring role may not create tables in the demo database");
    assert_eq!(e.code(), ErrorCode::PermissionDenied, "{e}");
    let e = cluster
        .primary
        .execute("DELETE FROM big")
        .await
        .expect_err("the monitoring role may not delete rows");
    assert_eq!(e.code(), ErrorCode::PermissionDenied, "{e}");

    // Without REPLICATION there is no change feed: the refreshes above were fingerprinted by a
    // scan, and the feed says what to grant.
    let status = lake
        .cache_status(&cluster, "big_copy")
        .await
        .expect("status");
    let recorded = status.last_refresh.expect("refreshed").fingerprint;
    assert!(!recorded.starts_with("feed:"), "{recorded}");
    match lake.change_feed(&cluster).await {
        skein_lake::feed::FeedStatus::Unavailable(why) => {
            assert!(why.contains("REPLICATION"), "{why}")
        }
        other => panic!("no feed without REPLICATION: {other:?}"),
    }
    // With it (and only the catalog grants the README lists), the feed works: the role
    // creates its slot and log tables, and a refresh is marked by it.
    admin
        .batch_execute(&format!("ALTER ROLE {MONITOR_ROLE} REPLICATION"))
        .await
        .expect("grant REPLICATION");
    let o = lake
        .refresh_cache_if_changed(&cluster, "big_copy")
        .await
        .expect("refresh");
    assert_eq!(
        o.result,
        RefreshResult::Skipped,
        "judged by the scan it recorded: {o:?}"
    );
    let o = lake
        .refresh_cache(&cluster, "big_copy", true)
        .await
        .expect("refresh");
    assert_eq!(o.result, RefreshResult::Refreshed, "{o:?}");
    let status = lake
        .cache_status(&cluster, "big_copy")
        .await
        .expect("status");
    assert!(
        status
            .last_refresh
            .as_ref()
            .is_some_and(|r| r.fingerprint.starts_with("feed:")),
        "{status:?}"
    );
    assert_eq!(status.state, skein_lake::CacheState::Fresh, "{status:?}");
    admin
        .batch_execute("UPDATE big SET v = 'changed' WHERE id = 1")
        .await
        .expect("write");
    let o = lake
        .refresh_cache_if_changed(&cluster, "big_copy")
        .await
        .expect("refresh");
    assert_eq!(o.result, RefreshResult::Refreshed, "{o:?}");
}
