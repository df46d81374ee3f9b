//! Restoring a cache's table to an earlier snapshot against a real sandbox and lake: the
//! preview is the diff it applies (+2 −3 ~1 back to the first refresh), the restore is one
//! commit with its message, the table then holds exactly what it held then, the cache is
//! `restored` (not fresh) until its next refresh, which is never SKIPPED; a table changed since
//! the preview is refused and nothing is written, a commit elsewhere in the lake is not; and
//! bad input says what was wrong. Bookmarks name snapshots for every handle on the lake and
//! stand wherever an id does.

use skein_core::{ErrorCode, Profile};
use skein_lake::{At, CacheSpec, CacheState, DiffRequest, Lake, RefreshResult};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

async fn run(cluster: &Cluster, statements: &[&str]) {
    for sql in statements {
        cluster.primary.execute(sql).await.expect(sql);
    }
}

async fn refreshed(lake: &Lake, cluster: &Cluster, cache: &str, force: bool) -> i64 {
    let out = lake
        .refresh_cache(cluster, cache, force)
        .await
        .expect("refresh");
    assert_eq!(out.result, RefreshResult::Refreshed, "{out:#?}");
    out.snapshot_id.expect("the refresh's snapshot")
}

async fn counts(lake: &Lake, from: i64, to: i64) -> (u64, u64, u64) {
    let d = lake
        .diff(DiffRequest {
            table: "items_copy".into(),
            from,
            to,
            key: None,
            only: None,
            limit: 10,
            offset: 0,
        })
        .await
        .expect("diff");
    (d.added, d.removed, d.changed)
}

async fn latest(lake: &Lake) -> i64 {
    lake.snapshot_at(&At::Latest).await.expect("latest").id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_applies_what_its_preview_showed_and_the_cache_says_restored() {
    let sandbox = ScratchSandbox::up("lake-restore", 1)
        .await
        .expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    let lake = Lake::open(&profile).await.expect("lake");
    run(
        &cluster,
        &[
            "CREATE TABLE items (id int PRIMARY KEY, name text, qty int)",
            "INSERT INTO items SELECT g, 'item ' || g, g % 3 FROM generate_series(1, 10) g",
        ],
    )
    .await;
    let spec = CacheSpec {
        name: "items_copy".into(),
        query: "SELECT id, name, qty FROM items".into(),
        monitor: vec!["items".into()],
        ttl_seconds: None,
        key: vec!["id".into()],
    };
    lake.define_cache(&cluster, &spec).await.expect("cache");
    let v1 = refreshed(&lake, &cluster, "items_copy", false).await;
    run(
        &cluster,
        &[
            "INSERT INTO items VALUES (11, 'item 11', 1), (12, 'item 12', 2), (13, NULL, 0)",
            "DELETE FROM items WHERE id IN (1, 2)",
            "UPDATE items SET qty = 500 WHERE id = 5",
        ],
    )
    .await;
    let v2 = refreshed(&lake, &cluster, "items_copy", false).await;

    // The preview: from now back to v1, by the cache's key.
    let p = lake
        .preview_restore("items_copy", v1, 50)
        .await
        .expect("preview");
    assert_eq!(p.current, v2);
    assert_eq!(p.cache.as_deref(), Some("items_copy"));
    assert_eq!(
        (p.diff.added, p.diff.removed, p.diff.changed),
        (2, 3, 1),
        "{p:#?}"
    );
    assert_eq!(p.diff.key, vec!["id"]);

    // A commit elsewhere in the lake since the preview does not stop it.
    let other = CacheSpec {
        name: "other".into(),
        ..spec.clone()
    };
    lake.define_cache(&cluster, &other).await.expect("other");
    assert!(latest(&lake).await > p.current);

    let r = lake
        .restore("items_copy", v1, p.current)
        .await
        .expect("restore");
    assert_eq!(
        (r.added, r.removed, r.changed, r.rows),
        (2, 3, 1, 10),
        "{r:#?}"
    );
    let restored_at = r.snapshot_id.expect("the restore's snapshot");
    assert_eq!(restored_at, latest(&lake).await);
    let snap = lake
        .snapshots(1)
        .await
        .expect("snapshots")
        .pop()
        .expect("one");
    assert_eq!(snap.id, restored_at);
    assert_eq!(snap.author.as_deref(), Some("skein"));
    assert_eq!(
        snap.commit_message.as_deref(),
        Some(format!("restore items_copy to snapshot {v1}").as_str())
    );
    // The table holds exactly what it held at v1.
    assert_eq!(counts(&lake, v1, restored_at).await, (0, 0, 0));
    assert_eq!(counts(&lake, v2, restored_at).await, (2, 3, 1));

    // The cache is restored, not fresh: never served, and its record says from where.
    let status = lake
        .cache_status(&cluster, "items_copy")
        .await
        .expect("status");
    assert_eq!(status.state, CacheState::Restored, "{status:#?}");
    let record = status.last_refresh.expect("the restore's record");
    assert_eq!(record.restored_from, Some(v1));
    assert_eq!(record.snapshot_id, Some(restored_at));
    assert_eq!(record.previous_snapshot_id, Some(v2));
    assert_eq!(record.rows, 10);

    // Its next refresh is not SKIPPED though the source did not change, and it is fresh again
    // with the source's rows.
    let v3 = refreshed(&lake, &cluster, "items_copy", false).await;
    assert_eq!(counts(&lake, v2, v3).await, (0, 0, 0));
    assert_eq!(
        lake.cache_status(&cluster, "items_copy")
            .await
            .expect("status")
            .state,
        CacheState::Fresh
    );

    // The table changed since the preview: refused, and nothing is written.
    let stale = lake
        .preview_restore("items_copy", v1, 10)
        .await
        .expect("preview");
    run(
        &cluster,
        &["UPDATE items SET name = 'changed' WHERE id = 3"],
    )
    .await;
    let v4 = refreshed(&lake, &cluster, "items_copy", false).await;
    let e = lake
        .restore("items_copy", v1, stale.current)
        .await
        .expect_err("changed since the preview");
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert_eq!(
        e.to_string(),
        format!(
            "items_copy changed since the preview (snapshot {} → {v4}): preview the restore again",
            stale.current
        )
    );
    assert_eq!(latest(&lake).await, v4, "nothing was committed");

    // Bad input.
    let e = lake
        .preview_restore("items_copy", v4, 10)
        .await
        .expect_err("the current snapshot");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(
        e.to_string().contains("is the lake's current snapshot"),
        "{e}"
    );
    // A forced refresh of an unchanged source: the table holds at v5 what it held at v4.
    let v5 = refreshed(&lake, &cluster, "items_copy", true).await;
    let e = lake
        .restore("items_copy", v4, v5)
        .await
        .expect_err("the same data");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert_eq!(
        e.to_string(),
        format!(
            "nothing to restore: items_copy holds at snapshot {v5} what it held at snapshot {v4}"
        )
    );
    let e = lake
        .preview_restore("items_copy", 999_999, 10)
        .await
        .expect_err("no such snapshot");
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert!(
        e.to_string().starts_with("snapshot 999999 does not exist"),
        "{e}"
    );

    // Bookmarks: a name for v1, seen by another handle on the lake, usable as a version.
    let none = lake
        .resolve_version("before-change")
        .await
        .expect_err("none yet");
    assert_eq!(
        none.to_string(),
        "no snapshot id or bookmark 'before-change' (the lake has none)"
    );
    let b = lake
        .set_bookmark("before-change", v1)
        .await
        .expect("bookmark");
    assert_eq!(
        (b.name.as_str(), b.snapshot_id, b.expired),
        ("before-change", v1, false)
    );
    let other = Lake::open(&profile).await.expect("another handle");
    assert_eq!(
        other
            .resolve_version("before-change")
            .await
            .expect("resolve"),
        v1
    );
    assert_eq!(
        other.resolve_version(&v2.to_string()).await.expect("an id"),
        v2
    );
    assert_eq!(other.bookmarks().await.expect("bookmarks"), vec![b.clone()]);
    let e = lake
        .set_bookmark("before-change", v2)
        .await
        .expect_err("taken");
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert_eq!(
        e.to_string(),
        format!("bookmark 'before-change' names snapshot {v1} already: delete it first to move it")
    );
    let e = lake.set_bookmark("1st", v2).await.expect_err("bad name");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    let e = lake
        .set_bookmark("later", 999_999)
        .await
        .expect_err("no snapshot");
    assert_eq!(e.code(), ErrorCode::NotFound);
    let e = other
        .resolve_version("nope")
        .await
        .expect_err("no such bookmark");
    assert_eq!(
        e.to_string(),
        "no snapshot id or bookmark 'nope' (bookmarks: before-change)"
    );
    // A restore to a bookmark's snapshot is a restore to its id.
    let by_name = other.resolve_version("before-change").await.expect("id");
    let p = lake
        .preview_restore("items_copy", by_name, 10)
        .await
        .expect("preview by bookmark");
    assert_eq!(p.version, v1);
    lake.delete_bookmark("before-change").await.expect("delete");
    assert!(other.bookmarks().await.expect("bookmarks").is_empty());
    let e = lake
        .delete_bookmark("before-change")
        .await
        .expect_err("gone");
    assert_eq!(e.code(), ErrorCode::NotFound);
    // The snapshot stays.
    assert_eq!(lake.snapshot_at(&At::Version(v1)).await.expect("v1").id, v1);

    // The table's history: every snapshot that changed it, with its rows then, across the
    // refreshes that re-create it under new ids.
    let h = lake
        .table_history("items_copy", 100)
        .await
        .expect("history");
    let ids: Vec<i64> = h.points.iter().map(|p| p.snapshot_id).collect();
    assert_eq!(ids, vec![v1, v2, restored_at, v3, v4, v5], "{h:#?}");
    for p in &h.points {
        let rows = lake
            .rows_at("items_copy", At::Version(p.snapshot_id), 1, 0)
            .await
            .expect("rows")
            .total;
        assert_eq!(p.rows, Some(rows), "rows at {}", p.snapshot_id);
        // Small refreshes are inlined in the catalog: rows without a data file.
        assert!(p.inlined_rows <= rows, "{p:?}");
        assert_eq!(p.data_files == 0, p.inlined_rows == rows, "{p:?}");
        assert!(p.schema_change, "each re-creates the table: {p:?}");
    }
    let rows: Vec<Option<u64>> = h.points.iter().map(|p| p.rows).collect();
    assert_eq!(
        rows,
        vec![Some(10), Some(11), Some(10), Some(11), Some(11), Some(11)]
    );
    assert_eq!(h.points[2].kind, skein_lake::MarkKind::Restore);
    assert_eq!(h.points[1].kind, skein_lake::MarkKind::Refresh);
    let last_two = lake.table_history("items_copy", 2).await.expect("two");
    assert_eq!(last_two.points, h.points[4..].to_vec());
    let e = lake
        .table_history("never_here", 10)
        .await
        .expect_err("no such table");
    assert_eq!(e.code(), ErrorCode::NotFound);
}
