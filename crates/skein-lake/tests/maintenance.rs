//! Lake maintenance against a real sandbox: expire snapshots with a dry run that lists exactly
//! what the real run removes, clean up the files they left with the bytes the preview showed,
//! and one maintenance operation per lake at a time.

use skein_core::{ErrorCode, Profile};
use skein_lake::snapshot::At;
use skein_lake::{ExpireTarget, Lake, MaintenanceLock};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

/// Whether a lake file exists: on the file system, or (an object store's URL) as an object
/// (`read_blob`'s size: a HEAD request; `glob` of a name without wildcards answers the name).
fn exists(profile: &Profile, path: &str) -> bool {
    if !path.contains("://") {
        return std::path::Path::new(path).exists();
    }
    tokio::task::block_in_place(|| {
        let c = duckdb::Connection::open_in_memory().expect("duckdb");
        skein_lake::storage::prepare(&c, &profile.lake).expect("the object store");
        match c.query_row(
            &format!("SELECT size FROM read_blob('{}')", path.replace('\'', "''")),
            [],
            |r| r.get::<_, i64>(0),
        ) {
            Ok(_) => true,
            Err(e) if e.to_string().contains("404") || e.to_string().contains("No files found") => {
                false
            }
            Err(e) => panic!("checking {path}: {e}"),
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expire_and_cleanup_remove_exactly_what_the_preview_listed() {
    let sandbox = ScratchSandbox::up("lake-maint", 1)
        .await
        .expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    let lake = Lake::open(&profile).await.expect("lake");
    cluster
        .primary
        .execute(
            "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g",
        )
        .await
        .expect("create t");
    lake.create_cache(&cluster, "t_copy", "SELECT * FROM t", &["t".into()], None)
        .await
        .expect("create cache");
    // Three refreshes: each writes a Parquet file (5,000 rows are not inlined) and leaves the
    // previous one to the older snapshots.
    let mut ids = Vec::new();
    for _ in 0..3 {
        let o = lake
            .refresh_cache(&cluster, "t_copy", true)
            .await
            .expect("refresh");
        ids.push(o.snapshot_id.expect("a snapshot"));
    }
    let latest = *ids.last().expect("three refreshes");
    let before = lake.stats().await.expect("stats");
    assert!(before.old_files >= 2, "{before:?}");
    assert!(before.old_bytes > 0);
    assert_eq!(before.scheduled_files, 0);

    // Preview: every snapshot but the latest.
    let preview = lake
        .expire_snapshots(&ExpireTarget::OlderThan("2999-01-01 00:00:00".into()), true)
        .await
        .expect("dry run");
    let previewed: Vec<i64> = preview.iter().map(|s| s.id).collect();
    assert!(previewed.contains(&ids[0]) && previewed.contains(&ids[1]));
    assert!(
        !previewed.contains(&latest),
        "the latest snapshot never expires"
    );
    // The dry run changed nothing.
    assert_eq!(
        lake.snapshot_count().await.expect("count"),
        before.snapshots
    );
    let survivor_rows = lake
        .rows_at("t_copy", At::Version(ids[0]), 1, 0)
        .await
        .expect("time travel before expiry")
        .total;
    assert_eq!(survivor_rows, 5000);

    // The real run on the previewed ids removes exactly those.
    let expired = lake
        .expire_snapshots(&ExpireTarget::Versions(previewed.clone()), false)
        .await
        .expect("expire");
    assert_eq!(expired.iter().map(|s| s.id).collect::<Vec<_>>(), previewed);
    let left: Vec<i64> = lake
        .snapshots(1000)
        .await
        .expect("snapshots")
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, vec![latest]);
    // Time travel: the survivor works, an expired one says so.
    assert_eq!(
        lake.rows_at("t_copy", At::Version(latest), 1, 0)
            .await
            .expect("latest")
            .total,
        5000
    );
    let gone = lake
        .rows_at("t_copy", At::Version(ids[0]), 1, 0)
        .await
        .expect_err("expired snapshot");
    assert_eq!(gone.code(), ErrorCode::NotFound);
    assert!(gone.to_string().contains("snapshot"), "{gone}");

    // Cleanup: the preview lists the scheduled files with their sizes; the real run deletes
    // the same files and the bytes match.
    let stats = lake.stats().await.expect("stats");
    assert!(stats.scheduled_files >= 2, "{stats:?}");
    let files = lake.cleanup_old_files(true).await.expect("cleanup dry run");
    assert_eq!(files.len() as u64, stats.scheduled_files);
    let preview_bytes: u64 = files.iter().map(|f| f.bytes.expect("local size")).sum();
    assert_eq!(Some(preview_bytes), stats.scheduled_bytes);
    assert!(files.iter().all(|f| exists(&profile, &f.path)));
    let deleted = lake.cleanup_old_files(false).await.expect("cleanup");
    assert_eq!(
        deleted.iter().map(|f| &f.path).collect::<Vec<_>>(),
        files.iter().map(|f| &f.path).collect::<Vec<_>>()
    );
    let reclaimed: u64 = deleted.iter().filter_map(|f| f.bytes).sum();
    assert_eq!(reclaimed, preview_bytes);
    assert!(files.iter().all(|f| !exists(&profile, &f.path)));
    eprintln!(
        "expired {} snapshots, reclaimed {reclaimed} bytes in {} files",
        expired.len(),
        deleted.len()
    );
    assert_eq!(lake.stats().await.expect("stats").scheduled_files, 0);

    // The lake stays readable by a fresh DuckDB.
    let fresh = Lake::open(&profile).await.expect("reopen");
    assert_eq!(
        fresh
            .rows_at("t_copy", At::Latest, 1, 0)
            .await
            .expect("read after maintenance")
            .total,
        5000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_maintenance_operation_per_lake_at_a_time() {
    let sandbox = ScratchSandbox::up("lake-lock", 0)
        .await
        .expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    // Two handles open the brand-new lake at once (two processes creating its catalog); the
    // second stands for another process below: its own pool, its own connection.
    let (lake, other) = tokio::join!(Lake::open(&profile), Lake::open(&profile));
    let lake = lake.expect("lake");
    let other = other.expect("second lake handle, opened concurrently");
    let first = MaintenanceLock::acquire(lake.catalog(), &lake.name)
        .await
        .expect("first lock");
    let second = MaintenanceLock::acquire(other.catalog(), &other.name).await;
    let err = second.err().expect("a second operation is refused");
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(
        err.to_string().contains("another maintenance operation"),
        "{err}"
    );
    first.release().await;
    let again = MaintenanceLock::acquire(other.catalog(), &other.name)
        .await
        .expect("free again after release");
    // A holder that disappears without releasing (a killed process) frees the lock too.
    drop(again);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    MaintenanceLock::acquire(lake.catalog(), &lake.name)
        .await
        .expect("free after the holder's connection closed")
        .release()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_merges_small_files_and_flushes_inlined_rows_in_signed_commits() {
    let sandbox = ScratchSandbox::up("lake-compact", 0)
        .await
        .expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    let lake = Lake::open(&profile).await.expect("lake");
    // Another writer (plain DuckDB) appends three small batches: three data files.
    let conninfo = lake.catalog().duckdb_conninfo();
    let data_path = profile.lake.data_path.clone();
    let spec = profile.lake.clone();
    tokio::task::spawn_blocking(move || {
        let c = duckdb::Connection::open_in_memory().expect("duckdb");
        c.execute_batch("LOAD ducklake; LOAD postgres")
            .expect("extensions");
        skein_lake::storage::prepare(&c, &spec).expect("the object store");
        c.execute_batch(&format!(
            "ATTACH 'ducklake:postgres:{conninfo}' AS other (DATA_PATH '{data_path}')"
        ))
        .expect("attach");
        c.execute_batch("CREATE TABLE other.main.events (id INTEGER)")
            .expect("create");
        for i in 0..3 {
            c.execute_batch(&format!(
                "INSERT INTO other.main.events SELECT range FROM range({}, {})",
                i * 100,
                i * 100 + 100
            ))
            .expect("insert a batch");
        }
        // Two rows: small enough to be inlined in the catalog, not written to Parquet.
        c.execute_batch("INSERT INTO other.main.events VALUES (1000), (1001)")
            .expect("inlined insert");
    })
    .await
    .expect("writer");
    let files = |p: &[skein_lake::TableFiles]| {
        p.iter()
            .find(|t| t.table == "main.events")
            .map(|t| t.data_files)
    };
    let before = lake.compaction_preview().await.expect("preview");
    assert_eq!(files(&before), Some(3), "{before:?}");

    let merged = lake
        .compact(skein_lake::Compaction::MergeAdjacentFiles)
        .await
        .expect("merge");
    let m = merged
        .iter()
        .find(|r| r.table == "main.events")
        .expect("events merged");
    assert_eq!((m.processed, m.created), (3, 1));
    let after = lake.compaction_preview().await.expect("preview");
    assert_eq!(files(&after), Some(1));
    assert_eq!(
        lake.rows_at("events", At::Latest, 1, 0)
            .await
            .expect("read")
            .total,
        302
    );
    let newest = lake.snapshots(1).await.expect("snapshots").remove(0);
    assert_eq!(newest.author.as_deref(), Some("skein"));
    assert_eq!(
        newest.commit_message.as_deref(),
        Some("merge adjacent files")
    );

    // The two inlined rows are written out to Parquet.
    assert_eq!(lake.stats().await.expect("stats").inlined_rows, 2);
    let flushed = lake
        .compact(skein_lake::Compaction::FlushInlinedData)
        .await
        .expect("flush");
    let f = flushed
        .iter()
        .find(|r| r.table == "main.events")
        .expect("events flushed");
    assert_eq!(f.processed, 2, "{flushed:?}");
    assert_eq!(lake.stats().await.expect("stats").inlined_rows, 0);
    let newest = lake.snapshots(1).await.expect("snapshots").remove(0);
    assert_eq!(newest.commit_message.as_deref(), Some("flush inlined data"));
    // Nothing was lost.
    assert_eq!(
        lake.rows_at("events", At::Latest, 1, 0)
            .await
            .expect("read")
            .total,
        302
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_reports_the_files_it_scheduled_or_that_it_scheduled_none() {
    let sandbox = ScratchSandbox::up("lake-expire-report", 1)
        .await
        .expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    let lake = Lake::open(&profile).await.expect("lake");
    cluster
        .primary
        .execute(
            "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g",
        )
        .await
        .expect("create t");
    // One row: inlined in the catalog, no Parquet file.
    lake.create_cache(
        &cluster,
        "t_count",
        "SELECT count(*) AS n FROM t",
        &["t".into()],
        None,
    )
    .await
    .expect("create the small cache");
    lake.create_cache(&cluster, "t_copy", "SELECT * FROM t", &["t".into()], None)
        .await
        .expect("create the big cache");
    let mut small = Vec::new();
    for _ in 0..3 {
        let o = lake
            .refresh_cache(&cluster, "t_count", true)
            .await
            .expect("refresh small");
        small.push(o.snapshot_id.expect("a snapshot"));
    }
    assert_eq!(lake.stats().await.expect("stats").scheduled_files, 0);

    // Expiring snapshots whose data was inlined schedules nothing, and says so.
    let report = lake
        .expire_versions(&small[..2])
        .await
        .expect("expire the small refreshes");
    assert_eq!(
        report.expired.iter().map(|s| s.id).collect::<Vec<_>>(),
        small[..2]
    );
    assert!(report.scheduled.is_empty(), "{report:?}");
    let msg = report.message();
    assert!(msg.starts_with("expired 2 snapshots;"), "{msg}");
    assert!(msg.contains("no file was scheduled for deletion"), "{msg}");
    let stats = lake.stats().await.expect("stats");
    assert_eq!(stats.scheduled_files, 0, "{stats:?}");
    assert!(lake
        .cleanup_old_files(true)
        .await
        .expect("cleanup preview")
        .is_empty());

    // Expiring snapshots whose Parquet files only they used schedules exactly those files,
    // which are what the page's count and the cleanup preview then show.
    let mut big = Vec::new();
    for _ in 0..3 {
        let o = lake
            .refresh_cache(&cluster, "t_copy", true)
            .await
            .expect("refresh big");
        big.push(o.snapshot_id.expect("a snapshot"));
    }
    let report = lake
        .expire_versions(&big[..2])
        .await
        .expect("expire the big refreshes");
    assert!(!report.scheduled.is_empty(), "{report:?}");
    let msg = report.message();
    assert!(
        msg.contains(&format!(
            "{} file{} ",
            report.scheduled.len(),
            if report.scheduled.len() == 1 { "" } else { "s" }
        )),
        "{msg}"
    );
    assert!(msg.contains("scheduled for deletion: clean up"), "{msg}");
    let stats = lake.stats().await.expect("stats");
    assert_eq!(stats.scheduled_files, report.scheduled.len() as u64);
    let mut preview: Vec<String> = lake
        .cleanup_old_files(true)
        .await
        .expect("cleanup preview")
        .into_iter()
        .map(|f| f.path)
        .collect();
    let mut reported: Vec<String> = report.scheduled.iter().map(|f| f.path.clone()).collect();
    preview.sort();
    reported.sort();
    assert_eq!(preview, reported);
    // The newest snapshot is known to the stats (the expiry form's default uses it).
    let newest = lake.snapshot_at(&At::Latest).await.expect("newest");
    assert_eq!(stats.newest_snapshot, Some(newest), "{stats:?}");
}
