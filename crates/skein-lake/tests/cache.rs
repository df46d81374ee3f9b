//! Caches against a real sandbox: a PostgreSQL primary with two streaming replicas and a
//! DuckLake lake whose catalog lives on the primary.

use std::time::Duration;

use skein_core::{ErrorCode, Profile};
use skein_lake::snapshot::At;
use skein_lake::{CacheState, Lake, RefreshResult};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

/// Stops the sandbox when the test ends, pass or fail.
struct Stack {
    /// Stopped and removed when dropped.
    _sandbox: ScratchSandbox,
    profile: Profile,
    cluster: Cluster,
    lake: Lake,
}

async fn stack(tag: &str) -> Stack {
    let sandbox = ScratchSandbox::up(&format!("lake-test-{tag}"), 2)
        .await
        .expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    let lake = Lake::open(&profile).await.expect("lake");
    cluster
        .primary
        .execute("CREATE TABLE t (id int PRIMARY KEY, v numeric(10,2))")
        .await
        .expect("create t");
    cluster
        .primary
        .execute("INSERT INTO t SELECT g, g * 1.5 FROM generate_series(1, 100) g")
        .await
        .expect("fill t");
    Stack {
        _sandbox: sandbox,
        profile,
        cluster,
        lake,
    }
}

/// `(id, v)` rows as text, from the primary.
async fn primary_rows(cluster: &Cluster, sql: &'static str) -> Vec<(String, String)> {
    cluster
        .primary
        .with_client("reading", |c| async move { c.query(sql, &[]).await })
        .await
        .expect("query primary")
        .iter()
        .map(|r| (r.get::<_, i32>(0).to_string(), r.get::<_, String>(1)))
        .collect()
}

/// `(id, v)` rows as text, from the cache table at `at`.
async fn cache_rows(lake: &Lake, table: &str, at: At) -> Vec<(String, String)> {
    let page = lake
        .rows_at(table, at, 100_000, 0)
        .await
        .expect("read cache");
    assert_eq!(page.total as usize, page.rows.len());
    let mut rows: Vec<(String, String)> = page
        .rows
        .iter()
        .map(|r| {
            let text = |v: &skein_lake::Cell| v.to_text().unwrap_or_else(|| "null".into());
            (text(&r[0]), text(&r[1]))
        })
        .collect();
    rows.sort_by_key(|(id, _)| id.parse::<i64>().unwrap_or(0));
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smart_refresh_writes_once_per_change_with_author_and_message() {
    let s = stack("smart").await;
    let (lake, cluster) = (&s.lake, &s.cluster);
    lake.create_cache(
        cluster,
        "t_cache",
        "SELECT id, v::text AS v FROM t",
        &["t".into()],
        Some(3600),
    )
    .await
    .expect("create cache");
    let before = lake.current_snapshot().await.expect("snapshot");

    let first = lake
        .refresh_cache(cluster, "t_cache", false)
        .await
        .expect("refresh");
    assert_eq!(first.result, RefreshResult::Refreshed, "{first:?}");
    assert_eq!(first.rows, Some(100));
    let served = first.served_by.clone().expect("served_by");
    assert!(
        served.starts_with("replica"),
        "a caught-up replica serves the read, got {served}"
    );
    assert_eq!(
        first.snapshot_id,
        Some(before + 1),
        "exactly one new snapshot"
    );
    let snaps = lake.snapshots(1).await.expect("snapshots");
    assert_eq!(snaps[0].id, before + 1);
    assert_eq!(snaps[0].author.as_deref(), Some("skein"));
    assert_eq!(
        snaps[0].commit_message.as_deref(),
        Some("refresh cache t_cache")
    );
    assert_eq!(
        cache_rows(lake, "t_cache", At::Latest).await,
        primary_rows(cluster, "SELECT id, v::text FROM t ORDER BY id").await
    );

    let skipped = lake
        .refresh_cache(cluster, "t_cache", false)
        .await
        .expect("refresh");
    assert_eq!(skipped.result, RefreshResult::Skipped, "{skipped:?}");
    assert_eq!(skipped.snapshot_id, first.snapshot_id);
    assert_eq!(
        lake.current_snapshot().await.expect("snapshot"),
        before + 1,
        "a skip writes nothing"
    );
    assert_eq!(
        lake.cache_status(cluster, "t_cache")
            .await
            .expect("status")
            .state,
        CacheState::Fresh
    );

    cluster
        .primary
        .execute("UPDATE t SET v = v + 1 WHERE id <= 10")
        .await
        .expect("update");
    assert_eq!(
        lake.cache_status(cluster, "t_cache")
            .await
            .expect("status")
            .state,
        CacheState::Stale
    );
    let changed = lake
        .refresh_cache(cluster, "t_cache", false)
        .await
        .expect("refresh");
    assert_eq!(changed.result, RefreshResult::Refreshed, "{changed:?}");
    assert_eq!(changed.snapshot_id, Some(before + 2));
    assert_eq!(
        cache_rows(lake, "t_cache", At::Latest).await,
        primary_rows(cluster, "SELECT id, v::text FROM t ORDER BY id").await
    );

    let forced = lake
        .refresh_cache(cluster, "t_cache", true)
        .await
        .expect("refresh");
    assert_eq!(forced.result, RefreshResult::Refreshed, "{forced:?}");
    assert_eq!(forced.snapshot_id, Some(before + 3));
    for snap in lake.snapshots(3).await.expect("snapshots") {
        assert_eq!(
            snap.author.as_deref(),
            Some("skein"),
            "snapshot {} has no author",
            snap.id
        );
        assert_eq!(
            snap.commit_message.as_deref(),
            Some("refresh cache t_cache")
        );
    }

    // Time travel: the first refresh's snapshot still holds the data from before the update.
    let old = cache_rows(lake, "t_cache", At::Version(before + 1)).await;
    assert_eq!(old[0], ("1".to_owned(), "1.50".to_owned()));
    let new = cache_rows(lake, "t_cache", At::Latest).await;
    assert_eq!(new[0], ("1".to_owned(), "2.50".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_during_refresh_is_never_recorded_as_fresh() {
    let s = stack("race").await;
    let (lake, cluster) = (&s.lake, &s.cluster);
    // The query sleeps 2 s on the server, so the write below lands while it reads.
    lake.create_cache(
        cluster,
        "slow",
        "SELECT id, v::text AS v FROM t, pg_sleep(2) AS s",
        &["t".into()],
        None,
    )
    .await
    .expect("create cache");
    let writer = {
        let primary = cluster.primary.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(700)).await;
            primary
                .execute("INSERT INTO t VALUES (1000, 1)")
                .await
                .expect("write during refresh");
        })
    };
    let during = lake
        .refresh_cache(cluster, "slow", false)
        .await
        .expect("refresh");
    writer.await.expect("writer");
    assert_eq!(during.result, RefreshResult::Refreshed, "{during:?}");
    assert_eq!(
        during.rows,
        Some(100),
        "the read started before the write committed"
    );

    let next = lake
        .refresh_cache(cluster, "slow", false)
        .await
        .expect("refresh");
    assert_eq!(
        next.result,
        RefreshResult::Refreshed,
        "the write must make the next refresh run: {next:?}"
    );
    assert_eq!(next.rows, Some(101));
    let after = lake
        .refresh_cache(cluster, "slow", false)
        .await
        .expect("refresh");
    assert_eq!(after.result, RefreshResult::Skipped, "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_refresh_leaves_previous_contents_and_snapshot() {
    let s = stack("fail").await;
    let (lake, cluster) = (&s.lake, &s.cluster);
    lake.create_cache(
        cluster,
        "t_cache",
        "SELECT id, v::text AS v FROM t",
        &["t".into()],
        None,
    )
    .await
    .expect("create");
    let ok = lake
        .refresh_cache(cluster, "t_cache", false)
        .await
        .expect("refresh");
    assert_eq!(ok.result, RefreshResult::Refreshed);
    let snapshot = lake.current_snapshot().await.expect("snapshot");
    let contents = cache_rows(lake, "t_cache", At::Latest).await;

    // The source query now fails on the server: its column is gone.
    cluster
        .primary
        .execute("ALTER TABLE t RENAME COLUMN v TO w")
        .await
        .expect("rename");
    let failed = lake
        .refresh_cache(cluster, "t_cache", false)
        .await
        .expect("refresh returns an outcome");
    assert_eq!(failed.result, RefreshResult::Error, "{failed:?}");
    let error = failed.error.expect("error detail");
    assert_eq!(error.code, ErrorCode::NotFound, "{}", error.message);
    assert!(
        error.message.contains("t_cache") && error.message.contains("\"v\""),
        "{}",
        error.message
    );
    assert_eq!(
        failed.snapshot_id, ok.snapshot_id,
        "the outcome points at the data still served"
    );
    assert_eq!(
        lake.current_snapshot().await.expect("snapshot"),
        snapshot,
        "no snapshot was written"
    );
    assert_eq!(
        cache_rows(lake, "t_cache", At::Latest).await,
        contents,
        "previous contents readable"
    );
    assert_eq!(
        cache_rows(lake, "t_cache", At::Version(snapshot)).await,
        contents
    );

    // Bad input gets errors that name what is wrong.
    let unknown = lake
        .refresh_cache(cluster, "nope", false)
        .await
        .expect_err("unknown cache");
    assert_eq!(unknown.code(), ErrorCode::NotFound);
    assert!(unknown.to_string().contains("nope"));
    let bad_query = lake
        .create_cache(cluster, "bad", "SELECT nope FROM t", &["t".into()], None)
        .await
        .expect_err("bad query");
    assert_eq!(bad_query.code(), ErrorCode::QueryFailed, "{bad_query}");
    let bad_table = lake
        .create_cache(cluster, "bad", "SELECT 1", &["missing".into()], None)
        .await
        .expect_err("bad table");
    assert_eq!(bad_table.code(), ErrorCode::NotFound, "{bad_table}");
    let dup = lake
        .create_cache(cluster, "t_cache", "SELECT 1", &["t".into()], None)
        .await
        .expect_err("duplicate");
    assert_eq!(dup.code(), ErrorCode::Conflict);
    let missing_snapshot = lake
        .rows_at("t_cache", At::Version(9_999), 10, 0)
        .await
        .expect_err("no such snapshot");
    assert_eq!(
        missing_snapshot.code(),
        ErrorCode::NotFound,
        "{missing_snapshot}"
    );

    // A profile whose lake catalog database does not exist.
    let mut broken = s.profile.clone();
    broken.lake.catalog = broken
        .lake
        .catalog
        .replace("dbname=skein_lake", "dbname=no_such_catalog");
    let e = Lake::open(&broken).await.expect_err("missing catalog");
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    assert!(
        !e.to_string().contains("password="),
        "no secret in errors: {e}"
    );
}
