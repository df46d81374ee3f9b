//! A cache's definition against a real sandbox: an edit makes it `Edited` at once and its
//! next refresh is never SKIPPED; write statements are refused when a cache is saved; a cache
//! past its TTL is `Expired` only while its sources are provably unchanged; a lake whose
//! refresh records predate the definition digest, and whose caches predate keys, is migrated.

use std::time::Duration;

use skein_core::{ErrorCode, Profile};
use skein_lake::{CacheState, Lake, RefreshResult};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

struct Stack {
    /// Stopped and removed when dropped.
    _sandbox: ScratchSandbox,
    profile: Profile,
    cluster: Cluster,
    lake: Lake,
}

async fn stack(tag: &str) -> Stack {
    let sandbox = ScratchSandbox::up(&format!("lake-edit-{tag}"), 2)
        .await
        .expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    let lake = Lake::open(&profile).await.expect("lake");
    for sql in [
        "CREATE TABLE t (id int PRIMARY KEY, v int, w text)",
        "INSERT INTO t SELECT g, g * 10, 'w' || g FROM generate_series(1, 20) g",
        "CREATE FUNCTION bump() RETURNS int LANGUAGE sql AS 'UPDATE t SET v = v + 1 RETURNING 1'",
    ] {
        cluster.primary.execute(sql).await.expect(sql);
    }
    Stack {
        _sandbox: sandbox,
        profile,
        cluster,
        lake,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_cache_is_never_fresh_until_its_new_query_is_refreshed() {
    let s = stack("edit").await;
    let (lake, cluster) = (&s.lake, &s.cluster);
    lake.create_cache(cluster, "c", "SELECT id, v FROM t", &["t".into()], None)
        .await
        .expect("create");
    let first = lake
        .refresh_cache(cluster, "c", false)
        .await
        .expect("refresh");
    assert_eq!(first.result, RefreshResult::Refreshed, "{first:?}");
    let status = lake.cache_status(cluster, "c").await.expect("status");
    assert_eq!(status.state, CacheState::Fresh);
    assert!(
        status.checked_at_ms.is_some(),
        "a fresh state says when it was checked"
    );

    // Other columns, other rows: the old result must not pass for the new query.
    let edited = lake
        .update_cache(
            cluster,
            "c",
            "SELECT id, w FROM t WHERE id <= 5",
            &["t".into()],
            None,
        )
        .await
        .expect("edit");
    let status = lake.cache_status(cluster, "c").await.expect("status");
    assert_eq!(status.state, CacheState::Edited, "{status:?}");
    assert_eq!(status.definition, edited);

    let after = lake
        .refresh_cache(cluster, "c", false)
        .await
        .expect("refresh");
    assert_eq!(after.result, RefreshResult::Refreshed, "{after:?}");
    assert!(
        after.message.starts_with("definition changed"),
        "{}",
        after.message
    );
    assert_eq!(after.rows, Some(5));
    let rows = lake.read_cache("c", 100).await.expect("read");
    assert_eq!(rows.columns, ["id", "w"]);
    assert_eq!(rows.row_count, 5);
    assert_eq!(
        lake.cache_status(cluster, "c").await.expect("status").state,
        CacheState::Fresh
    );
    let again = lake
        .refresh_cache(cluster, "c", false)
        .await
        .expect("refresh");
    assert_eq!(again.result, RefreshResult::Skipped, "{again:?}");

    // The scheduler's refresh (only when something changed) rewrites an edited cache too.
    lake.update_cache(cluster, "c", "SELECT id FROM t", &["t".into()], Some(3600))
        .await
        .expect("edit");
    let scheduled = lake
        .refresh_cache_if_changed(cluster, "c")
        .await
        .expect("refresh");
    assert_eq!(scheduled.result, RefreshResult::Refreshed, "{scheduled:?}");
    assert_eq!(scheduled.rows, Some(20));

    // A TTL change alone does not change what is cached.
    lake.update_cache(cluster, "c", "SELECT id FROM t", &["t".into()], Some(60))
        .await
        .expect("edit the TTL");
    assert_eq!(
        lake.cache_status(cluster, "c").await.expect("status").state,
        CacheState::Fresh
    );

    // Refreshed together: the records carry the definition too.
    lake.update_cache(cluster, "c", "SELECT id, v FROM t", &["t".into()], None)
        .await
        .expect("edit");
    lake.snapshot_caches(cluster, &["c".into()])
        .await
        .expect("snapshot together");
    assert_eq!(
        lake.cache_status(cluster, "c").await.expect("status").state,
        CacheState::Fresh
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_checked_against_one_refresh_never_reads_another() {
    let s = stack("checked").await;
    let (lake, cluster) = (&s.lake, &s.cluster);
    lake.create_cache(cluster, "k", "SELECT id, v FROM t", &["t".into()], None)
        .await
        .expect("create");
    lake.refresh_cache(cluster, "k", false)
        .await
        .expect("refresh");
    let checked = lake.cache_status(cluster, "k").await.expect("status");
    let first = checked.last_refresh.expect("refreshed").refresh_id;
    let rows = lake
        .read_cache_checked("k", Some(&first), 100)
        .await
        .expect("the checked refresh is the newest");
    assert_eq!(rows.row_count, 20);

    // A refresh lands between the check and the read: the read says so instead of serving
    // data that was not checked.
    cluster
        .primary
        .execute("DELETE FROM t WHERE id > 10")
        .await
        .expect("delete");
    lake.refresh_cache(cluster, "k", false)
        .await
        .expect("refresh");
    let e = lake
        .read_cache_checked("k", Some(&first), 100)
        .await
        .expect_err("another refresh is the newest now");
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
    let second = lake
        .cache_status(cluster, "k")
        .await
        .expect("status")
        .last_refresh
        .expect("refreshed")
        .refresh_id;
    let rows = lake
        .read_cache_checked("k", Some(&second), 100)
        .await
        .expect("read");
    assert_eq!(rows.row_count, 10);
    assert_eq!(
        Some(rows.snapshot_id),
        lake.cache_status(cluster, "k")
            .await
            .expect("status")
            .last_refresh
            .and_then(|r| r.snapshot_id),
        "the snapshot read is the refresh's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_statements_are_refused_as_cache_queries() {
    let s = stack("writes").await;
    let (lake, cluster) = (&s.lake, &s.cluster);
    let writes = [
        ("DELETE FROM t WHERE id = 1", "statement"),
        (
            "INSERT INTO t VALUES (100, 1, 'x') RETURNING id",
            "statement",
        ),
        (
            "WITH d AS (DELETE FROM t WHERE id = 2 RETURNING id) SELECT id FROM d",
            "data_modifying",
        ),
        ("SELECT id FROM t FOR UPDATE", "locking"),
        ("SELECT id FROM t; SELECT v FROM t", "multi_statement"),
        ("SELECT nextval('s')", "function"),
        ("SELECT bump()", "function"),
        ("/* skein:replica */ UPDATE t SET v = 0", "statement"),
    ];
    for (sql, rule) in writes {
        let e = lake
            .create_cache(cluster, "w", sql, &["t".into()], None)
            .await
            .expect_err(sql);
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{sql}: {e}");
        let m = e.to_string();
        assert!(m.contains("refused") && m.contains(rule), "{sql}: {m}");
    }
    // Saved reads: a hint is no write.
    lake.create_cache(
        cluster,
        "r",
        "/* skein:primary */ SELECT id, v FROM t",
        &["t".into()],
        None,
    )
    .await
    .expect("a hinted read is a read");
    for (sql, rule) in writes {
        let e = lake
            .update_cache(cluster, "r", sql, &["t".into()], None)
            .await
            .expect_err(sql);
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{sql}: {e}");
        assert!(e.to_string().contains(rule), "{sql}: {e}");
    }
    let kept = lake.cache_definition("r").await.expect("definition");
    assert_eq!(kept.query, "/* skein:primary */ SELECT id, v FROM t");
    // Nothing was written to the source by the checks.
    let rows: i64 = cluster
        .primary
        .with_client("counting", |c| async move {
            c.query_one("SELECT count(*) FROM t WHERE v % 10 = 0", &[])
                .await
                .map(|r| r.get(0))
        })
        .await
        .expect("count");
    assert_eq!(rows, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_means_past_the_ttl_with_unchanged_sources() {
    let s = stack("expired").await;
    let (lake, cluster) = (&s.lake, &s.cluster);
    lake.create_cache(cluster, "e", "SELECT id, v FROM t", &["t".into()], Some(1))
        .await
        .expect("create");
    lake.refresh_cache(cluster, "e", false)
        .await
        .expect("refresh");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let status = lake.cache_status(cluster, "e").await.expect("status");
    assert_eq!(status.state, CacheState::Expired, "{status:?}");
    assert!(
        status.checked_at_ms.is_some(),
        "expired is known by a fingerprint"
    );
    // Unchanged sources: the scheduler's refresh skips and the data stays current.
    let skipped = lake
        .refresh_cache_if_changed(cluster, "e")
        .await
        .expect("refresh");
    assert_eq!(skipped.result, RefreshResult::Skipped, "{skipped:?}");
    cluster
        .primary
        .execute("UPDATE t SET v = v + 1 WHERE id = 1")
        .await
        .expect("update");
    assert_eq!(
        lake.cache_status(cluster, "e").await.expect("status").state,
        CacheState::Stale,
        "past the TTL with changed sources is stale"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_records_without_a_definition_are_migrated_and_count_as_edited() {
    let s = stack("migrate").await;
    let (lake, cluster) = (&s.lake, &s.cluster);
    lake.create_cache(cluster, "m", "SELECT id, v FROM t", &["t".into()], None)
        .await
        .expect("create");
    lake.refresh_cache(cluster, "m", false)
        .await
        .expect("refresh");

    // The lake as a version without the column left it.
    let node = skein_pg::Node::new(
        &skein_core::profile::NodeSpec {
            name: "lake".into(),
            url: s.profile.lake.catalog.clone(),
            region: None,
            weight: 1,
            application_name: None,
            ssh: s.profile.lake.ssh.clone(),
        },
        skein_pg::NodeRole::Primary,
        s.profile.passfile.as_deref(),
        1,
        skein_pg::node::DEFAULT_TIMEOUT,
    )
    .expect("catalog node");
    let attach = format!(
        "LOAD ducklake; LOAD postgres; ATTACH 'ducklake:postgres:{}' AS old (DATA_PATH '{}'); \
         ALTER TABLE old.skein.cache_refreshes DROP COLUMN definition; \
         ALTER TABLE old.skein.caches DROP COLUMN key;",
        node.duckdb_conninfo().replace('\'', "''"),
        s.profile.lake.data_path.replace('\'', "''")
    );
    tokio::task::spawn_blocking(move || {
        let conn = duckdb::Connection::open_in_memory().expect("duckdb");
        conn.execute_batch(&attach).expect("drop the column");
    })
    .await
    .expect("task");

    // Two handles open it at once: both succeed, the column is back once.
    let (a, b) = tokio::join!(Lake::open(&s.profile), Lake::open(&s.profile));
    let (a, _b) = (a.expect("open a"), b.expect("open b"));
    let status = a.cache_status(cluster, "m").await.expect("status");
    assert_eq!(status.state, CacheState::Edited, "{status:?}");
    assert_eq!(
        status
            .last_refresh
            .as_ref()
            .and_then(|r| r.definition_digest.clone()),
        None
    );
    let refreshed = a.refresh_cache(cluster, "m", false).await.expect("refresh");
    assert_eq!(refreshed.result, RefreshResult::Refreshed, "{refreshed:?}");
    assert!(
        refreshed.message.starts_with("definition changed"),
        "{}",
        refreshed.message
    );
    assert_eq!(
        a.cache_status(cluster, "m").await.expect("status").state,
        CacheState::Fresh
    );
    // The key column is back too: the old cache has none, a new one keeps its own.
    assert!(a.cache_definition("m").await.expect("m").key.is_empty());
    let keyed = skein_lake::CacheSpec {
        name: "k".into(),
        query: "SELECT id, v FROM t".into(),
        monitor: vec!["t".into()],
        ttl_seconds: None,
        key: vec!["id".into()],
    };
    a.define_cache(cluster, &keyed).await.expect("define keyed");
    assert_eq!(a.cache_definition("k").await.expect("k").key, vec!["id"]);
}
