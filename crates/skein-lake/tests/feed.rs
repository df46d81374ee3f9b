//! The change feed against a real sandbox (`wal_level = logical`): a SKIPPED check scans no
//! table on the primary, and every kind of change — a row, a TRUNCATE, a column, a table
//! dropped and created again, a transaction that was open while the refresh took its mark —
//! makes the next refresh REFRESHED; a slot dropped behind Skein's back is never taken for
//! "unchanged"; a statistics reset changes nothing; an edit or a refresh from another console
//! shows at once.

use skein_core::Profile;
use skein_lake::{CacheState, Lake, RefreshResult};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

/// `seq_tup_read` of `t` on the primary (after the statistics are flushed).
async fn scanned(cluster: &Cluster) -> i64 {
    cluster
        .primary
        .with_client("reading pg_stat_user_tables", |c| async move {
            // A backend reports its counters when idle; read them fresh.
            c.batch_execute("SELECT pg_stat_clear_snapshot()").await?;
            c.query_one(
                "SELECT coalesce(seq_tup_read, 0)::int8 FROM pg_stat_user_tables WHERE relname = 't'",
                &[],
            )
            .await
            .map(|r| r.get(0))
        })
        .await
        .expect("seq_tup_read")
}

async fn refresh(lake: &Lake, cluster: &Cluster) -> skein_lake::RefreshOutcome {
    lake.refresh_cache_if_changed(cluster, "c")
        .await
        .expect("refresh")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_tells_every_change_and_scans_nothing_when_nothing_changed() {
    let sandbox = ScratchSandbox::up("lake-feed", 1)
        .await
        .expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    let lake = Lake::open(&profile).await.expect("lake");
    for sql in [
        "CREATE TABLE t (id int PRIMARY KEY, v int)",
        "INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g",
    ] {
        cluster.primary.execute(sql).await.expect(sql);
    }
    lake.create_cache(&cluster, "c", "SELECT id, v FROM t", &["t".into()], None)
        .await
        .expect("create");
    let first = refresh(&lake, &cluster).await;
    assert_eq!(first.result, RefreshResult::Refreshed, "{first:?}");
    let status = lake.cache_status(&cluster, "c").await.expect("status");
    assert!(
        status
            .last_refresh
            .as_ref()
            .is_some_and(|r| r.fingerprint.starts_with("feed:")),
        "the refresh was marked by the feed: {status:?}"
    );
    assert_eq!(status.state, CacheState::Fresh);

    // Unchanged: SKIPPED, and the primary read no row of t for it.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let before = scanned(&cluster).await;
    let skipped = refresh(&lake, &cluster).await;
    assert_eq!(skipped.result, RefreshResult::Skipped, "{skipped:?}");
    let state = lake
        .cache_status(&cluster, "c")
        .await
        .expect("status")
        .state;
    assert_eq!(state, CacheState::Fresh);
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(
        scanned(&cluster).await,
        before,
        "a SKIPPED check scans nothing"
    );

    // Another console edits the cache, then refreshes it: this one sees both at once (what it
    // remembers of the cache holds only while the lake's newest snapshot stays the same).
    let other = Lake::open(&profile).await.expect("a second console's lake");
    other
        .update_cache(
            &cluster,
            "c",
            "SELECT id, v FROM t WHERE id > 0",
            &["t".into()],
            None,
        )
        .await
        .expect("edit elsewhere");
    let edited = refresh(&lake, &cluster).await;
    assert_eq!(edited.result, RefreshResult::Refreshed, "{edited:?}");
    assert!(
        edited.message.starts_with("definition changed"),
        "{edited:?}"
    );
    other
        .refresh_cache(&cluster, "c", true)
        .await
        .expect("refresh elsewhere");
    let status = lake.cache_status(&cluster, "c").await.expect("status");
    let theirs = other.cache_status(&cluster, "c").await.expect("status");
    assert_eq!(
        status.last_refresh.as_ref().map(|r| &r.refresh_id),
        theirs.last_refresh.as_ref().map(|r| &r.refresh_id),
        "both consoles show the other's refresh as the last"
    );
    assert_eq!(
        refresh(&lake, &cluster).await.result,
        RefreshResult::Skipped
    );

    // A statistics reset is not a change.
    cluster
        .primary
        .execute("SELECT pg_stat_reset()")
        .await
        .expect("reset");
    assert_eq!(
        refresh(&lake, &cluster).await.result,
        RefreshResult::Skipped
    );

    // Each kind of change is seen, by the state and by the refresh.
    for (what, sql) in [
        ("an update", "UPDATE t SET v = v + 1 WHERE id = 7"),
        ("a delete", "DELETE FROM t WHERE id = 8"),
        ("a truncate", "TRUNCATE t"),
        ("an insert", "INSERT INTO t VALUES (1, 1), (2, 2)"),
        ("a new column", "ALTER TABLE t ADD COLUMN w int"),
        (
            "a table dropped and created again",
            "DROP TABLE t; CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1), (2, 2)",
        ),
    ] {
        cluster
            .primary
            .with_client("changing t", |c| async move { c.batch_execute(sql).await })
            .await
            .expect(what);
        let state = lake.cache_status(&cluster, "c").await.expect("status");
        assert_eq!(state.state, CacheState::Stale, "after {what}: {state:?}");
        let o = refresh(&lake, &cluster).await;
        assert_eq!(o.result, RefreshResult::Refreshed, "after {what}: {o:?}");
        assert!(
            o.message.starts_with("monitored tables changed"),
            "after {what}: {o:?}"
        );
        assert_eq!(
            refresh(&lake, &cluster).await.result,
            RefreshResult::Skipped,
            "once refreshed after {what}"
        );
    }
    let rows = lake.read_cache("c", 10).await.expect("read");
    assert_eq!(rows.rows.len(), 2, "the cache holds the recreated table");

    // A transaction open while the refresh takes its mark and commits after it: the mark's
    // snapshot does not see it, so the next refresh writes it.
    let (writer, conn) = tokio_postgres::connect(
        &format!(
            "{} password={}",
            sandbox.conninfo("primary", "tpch"),
            sandbox.password().expect("password")
        ),
        tokio_postgres::NoTls,
    )
    .await
    .expect("connect");
    tokio::spawn(conn);
    writer
        .batch_execute("BEGIN; INSERT INTO t VALUES (3, 3)")
        .await
        .expect("open write");
    let forced = lake
        .refresh_cache(&cluster, "c", true)
        .await
        .expect("forced");
    assert_eq!(forced.result, RefreshResult::Refreshed);
    assert_eq!(forced.rows, Some(2), "the open write is not read");
    writer.batch_execute("COMMIT").await.expect("commit");
    let o = refresh(&lake, &cluster).await;
    assert_eq!(o.result, RefreshResult::Refreshed, "{o:?}");
    assert_eq!(o.rows, Some(3));

    // The slot dropped behind Skein's back: the feed cannot vouch for the last refresh.
    cluster
        .primary
        .execute("SELECT pg_drop_replication_slot('skein_changes')")
        .await
        .expect("drop slot");
    cluster
        .primary
        .execute("UPDATE t SET v = 30 WHERE id = 3")
        .await
        .expect("write while the slot is gone");
    let state = lake.cache_status(&cluster, "c").await.expect("status");
    assert_eq!(state.state, CacheState::Unknown, "{state:?}");
    assert!(
        state
            .state_error
            .as_ref()
            .is_some_and(|e| e.message.contains("started again")),
        "{state:?}"
    );
    let o = refresh(&lake, &cluster).await;
    assert_eq!(o.result, RefreshResult::Refreshed, "{o:?}");
    assert_eq!(
        refresh(&lake, &cluster).await.result,
        RefreshResult::Skipped
    );
    let rows = lake.read_cache("c", 10).await.expect("read");
    assert!(
        rows.rows.iter().any(|r| r[1].as_deref() == Some("30")),
        "the write made while the slot was gone is cached: {rows:?}"
    );
}
