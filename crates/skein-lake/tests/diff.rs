//! The snapshot diff against a real sandbox and lake: a known change set in a cache's source
//! (3 rows inserted, 2 deleted, 1 updated), refreshed, is exactly +3 −2 ~1 by key with the
//! right cells, and +4 −3 as whole rows (an update is a removal and an addition); a column
//! added to the cache's query shows in the schema diff; a key that repeats falls back to whole
//! rows and says so; bad input names what exists.

use skein_core::{ErrorCode, Profile};
use skein_lake::{CacheSpec, CacheState, Cell, DiffKind, DiffRequest, Lake, RefreshResult};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

async fn run(cluster: &Cluster, statements: &[&str]) {
    for sql in statements {
        cluster.primary.execute(sql).await.expect(sql);
    }
}

fn req(
    table: &str,
    from: i64,
    to: i64,
    key: Option<Vec<String>>,
    limit: u32,
    offset: u32,
) -> DiffRequest {
    DiffRequest {
        table: table.into(),
        from,
        to,
        key,
        only: None,
        limit,
        offset,
    }
}

async fn refreshed(lake: &Lake, cluster: &Cluster, cache: &str) -> i64 {
    let out = lake
        .refresh_cache(cluster, cache, true)
        .await
        .expect("refresh");
    assert_eq!(out.result, RefreshResult::Refreshed, "{out:#?}");
    out.snapshot_id.expect("the refresh's snapshot")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_change_set_is_exactly_what_the_diff_shows() {
    let sandbox = ScratchSandbox::up("lake-diff", 1)
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
    lake.create_cache(
        &cluster,
        "items_copy",
        "SELECT id, name, qty FROM items",
        &["items".into()],
        None,
    )
    .await
    .expect("cache");
    let v1 = refreshed(&lake, &cluster, "items_copy").await;
    run(
        &cluster,
        &[
            "INSERT INTO items VALUES (11, 'item 11', 1), (12, 'item 12', 2), (13, NULL, 0)",
            "DELETE FROM items WHERE id IN (1, 2)",
            "UPDATE items SET qty = 500 WHERE id = 5",
        ],
    )
    .await;
    let v2 = refreshed(&lake, &cluster, "items_copy").await;
    assert!(v2 > v1);

    // By key.
    let d = lake
        .diff(req("items_copy", v1, v2, Some(vec!["id".into()]), 100, 0))
        .await
        .expect("diff by key");
    assert_eq!((d.added, d.removed, d.changed), (3, 2, 1), "{d:#?}");
    assert_eq!(d.key, vec!["id".to_owned()]);
    assert_eq!(d.note, None);
    assert_eq!(d.columns, vec!["id", "name", "qty"]);
    assert_eq!(d.schema, Default::default());
    let ids = |kind: DiffKind| -> Vec<Cell> {
        d.rows
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.new.as_ref().or(r.old.as_ref()).expect("a side")[0].clone())
            .collect()
    };
    assert_eq!(
        ids(DiffKind::Added),
        vec![Cell::Int(11), Cell::Int(12), Cell::Int(13)]
    );
    assert_eq!(ids(DiffKind::Removed), vec![Cell::Int(1), Cell::Int(2)]);
    let changed = d
        .rows
        .iter()
        .find(|r| r.kind == DiffKind::Changed)
        .expect("a changed row");
    assert_eq!(changed.changed, vec!["qty".to_owned()]);
    assert_eq!(
        changed.old.as_deref(),
        Some(&[Cell::Int(5), Cell::Text("item 5".into()), Cell::Int(2)][..])
    );
    assert_eq!(
        changed.new.as_ref().map(|r| r[2].clone()),
        Some(Cell::Int(500))
    );
    let thirteen = d
        .rows
        .iter()
        .find(|r| r.new.as_ref().is_some_and(|n| n[0] == Cell::Int(13)));
    assert_eq!(
        thirteen.and_then(|r| r.new.as_ref()).map(|n| n[1].clone()),
        Some(Cell::Null)
    );
    // Paged: the second page of two holds the third row (added first, then removed).
    let page = lake
        .diff(req("items_copy", v1, v2, Some(vec!["id".into()]), 2, 2))
        .await
        .expect("page");
    assert_eq!((page.added, page.removed, page.changed), (3, 2, 1));
    assert_eq!(page.rows, d.rows[2..4].to_vec());

    // Whole rows: the update is one removed and one added row.
    let w = lake
        .diff(req("items_copy", v1, v2, Some(Vec::new()), 100, 0))
        .await
        .expect("whole rows");
    assert_eq!((w.added, w.removed, w.changed), (4, 3, 0), "{w:#?}");
    assert!(w.key.is_empty());
    assert!(w
        .rows
        .iter()
        .all(|r| r.kind != DiffKind::Changed && r.changed.is_empty()));
    // The same two versions, reversed: what was added is removed.
    let back = lake
        .diff(req("items_copy", v2, v1, Some(vec!["id".into()]), 100, 0))
        .await
        .expect("reversed");
    assert_eq!((back.added, back.removed, back.changed), (2, 3, 1));

    // No key asked and none declared: whole rows.
    let none = lake
        .diff(req("items_copy", v1, v2, None, 100, 0))
        .await
        .expect("no key");
    assert_eq!((none.added, none.removed, none.changed), (4, 3, 0));
    assert_eq!(none.key_source, None);

    // The key proposed from the source's primary key, declared on the cache, is the default.
    let proposed = skein_lake::suggest_key(&cluster, "SELECT id, name, qty FROM items")
        .await
        .expect("suggest")
        .expect("a proposal");
    assert_eq!(proposed.key, vec!["id"]);
    assert_eq!(proposed.source, "the primary key of items");
    let grouped = skein_lake::suggest_key(&cluster, "SELECT qty, count(*) FROM items GROUP BY qty")
        .await
        .expect("suggest")
        .expect("a proposal");
    assert_eq!(
        (grouped.key, grouped.source.as_str()),
        (vec!["qty".to_owned()], "the query's GROUP BY")
    );
    for q in [
        "SELECT name, qty FROM items",
        "SELECT a.id FROM items a JOIN items b ON b.qty = a.qty",
        "SELECT count(*) FROM items",
    ] {
        assert_eq!(
            skein_lake::suggest_key(&cluster, q).await.expect(q),
            None,
            "{q}"
        );
    }
    let spec = |query: &str, key: Vec<String>| CacheSpec {
        name: "items_copy".into(),
        query: query.into(),
        monitor: vec!["items".into()],
        ttl_seconds: None,
        key,
    };
    let e = lake
        .redefine_cache(
            &cluster,
            &spec("SELECT id, name, qty FROM items", vec!["nope".into()]),
        )
        .await
        .expect_err("a key the query does not return");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(e.to_string().contains("it returns id, name, qty"), "{e}");
    let def = lake
        .redefine_cache(
            &cluster,
            &spec("SELECT id, name, qty FROM items", proposed.key),
        )
        .await
        .expect("declare the key");
    assert_eq!(def.key, vec!["id"]);
    // A key alone is not an edit of what the cache holds.
    assert_eq!(
        lake.cache_status(&cluster, "items_copy")
            .await
            .expect("status")
            .state,
        CacheState::Fresh
    );
    let by_cache = lake
        .diff(req("items_copy", v1, v2, None, 100, 0))
        .await
        .expect("the cache's key");
    assert_eq!(
        (by_cache.added, by_cache.removed, by_cache.changed),
        (3, 2, 1)
    );
    assert_eq!(
        (by_cache.key.clone(), by_cache.key_source.as_deref()),
        (vec!["id".to_owned()], Some("cache"))
    );
    assert_eq!(by_cache.rows, d.rows);
    // Only the changed rows; the counts are still of every kind.
    let changed = lake
        .diff(DiffRequest {
            only: Some(DiffKind::Changed),
            ..req("items_copy", v1, v2, None, 100, 0)
        })
        .await
        .expect("only changed");
    assert_eq!((changed.added, changed.removed, changed.changed), (3, 2, 1));
    assert_eq!(changed.rows.len(), 1);
    assert_eq!(changed.rows[0].changed, vec!["qty"]);
    let e = lake
        .diff(req("items_copy", v1, v2, None, 0, 0))
        .await
        .expect_err("page size 0");
    assert!(
        e.to_string().contains("must be 1 to 1000 rows, not 0"),
        "{e}"
    );

    // The refresh records: newest first, each with its snapshot and the one before it.
    let history = lake
        .cache_refreshes("items_copy", 10)
        .await
        .expect("refreshes");
    assert_eq!(history.len(), 2, "{history:#?}");
    assert_eq!(
        (history[0].snapshot_id, history[0].previous_snapshot_id),
        (Some(v2), Some(v1))
    );
    assert_eq!(
        (history[1].snapshot_id, history[1].previous_snapshot_id),
        (Some(v1), None)
    );
    let one = lake.cache_refreshes("items_copy", 1).await.expect("one");
    assert_eq!(one, history[..1].to_vec());

    // A key that repeats (qty is g % 3): whole rows, said so.
    let r = lake
        .diff(req("items_copy", v1, v2, Some(vec!["qty".into()]), 100, 0))
        .await
        .expect("repeating key");
    assert!(r.key.is_empty(), "{r:#?}");
    let note = r.note.as_deref().expect("a note");
    assert!(note.contains("(qty) is not unique at snapshot"), "{note}");
    assert_eq!((r.added, r.removed), (4, 3));

    // A column added to the cache's query: in the schema diff; rows compared on the rest.
    lake.update_cache(
        &cluster,
        "items_copy",
        "SELECT id, name, qty, qty * 2 AS double_qty FROM items",
        &["items".into()],
        None,
    )
    .await
    .expect("edit");
    let v3 = refreshed(&lake, &cluster, "items_copy").await;
    let s = lake
        .diff(req("items_copy", v2, v3, Some(vec!["id".into()]), 100, 0))
        .await
        .expect("schema diff");
    assert_eq!(
        s.schema
            .added
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["double_qty"]
    );
    assert!(
        s.schema.dropped.is_empty() && s.schema.retyped.is_empty(),
        "{s:#?}"
    );
    assert_eq!((s.added, s.removed, s.changed), (0, 0, 0), "{s:#?}");
    assert_eq!(s.columns, vec!["id", "name", "qty"]);

    // Every column renamed: the declared key must go with them, and then there is nothing to
    // compare rows on, and the answer says so.
    let e = lake
        .update_cache(
            &cluster,
            "items_copy",
            "SELECT id AS item, name AS label FROM items",
            &["items".into()],
            None,
        )
        .await
        .expect_err("the kept key is not returned");
    assert!(e.to_string().contains("key column 'id'"), "{e}");
    lake.redefine_cache(
        &cluster,
        &spec("SELECT id AS item, name AS label FROM items", vec![]),
    )
    .await
    .expect("edit");
    let v4 = refreshed(&lake, &cluster, "items_copy").await;
    let n = lake
        .diff(req("items_copy", v3, v4, Some(vec![]), 100, 0))
        .await
        .expect("disjoint schemas");
    assert!(
        n.note
            .as_deref()
            .is_some_and(|t| t.contains("share no column")),
        "{n:#?}"
    );
    assert_eq!(
        (n.schema.added.len(), n.schema.dropped.len()),
        (2, 4),
        "{n:#?}"
    );
    assert!(n.rows.is_empty() && n.columns.is_empty());

    // Bad input.
    let e = lake
        .diff(req("items_copy", v1, v2, Some(vec!["nope".into()]), 10, 0))
        .await
        .expect_err("bad key");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(
        e.to_string().contains("'nope'") && e.to_string().contains("id, name, qty"),
        "{e}"
    );
    let e = lake
        .diff(req("items_copy", v1, 999_999, Some(Vec::new()), 10, 0))
        .await
        .expect_err("no version");
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert!(
        e.to_string()
            .starts_with("snapshot 999999 does not exist: the lake holds snapshots"),
        "{e}"
    );
    let e = lake
        .diff(req("nothing_here", v1, v2, Some(Vec::new()), 10, 0))
        .await
        .expect_err("no table");
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert!(e.to_string().contains("items_copy"), "{e}");
}
