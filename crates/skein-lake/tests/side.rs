//! A table as of two snapshots, row beside row, against a real sandbox and lake: a known change
//! set (2 inserted, 1 deleted, 1 updated) lines up by the cache's key in key order with every
//! unchanged row beside itself; whole rows line up as a multiset (the n-th copy of a duplicated
//! row beside the n-th); "now" follows the lake when another refresh lands; a column added to
//! the query shows on the right only; the nearest differences outside a page are found.

use skein_core::{ErrorCode, Profile};
use skein_lake::{
    CacheSpec, Cell, DiffKind, DiffRequest, Lake, RefreshResult, SideBySide, SideBySideRequest,
};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

async fn run(cluster: &Cluster, statements: &[&str]) {
    for sql in statements {
        cluster.primary.execute(sql).await.expect(sql);
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

fn req(
    table: &str,
    from: i64,
    to: Option<i64>,
    key: Option<Vec<String>>,
    limit: u32,
    offset: u32,
) -> SideBySideRequest {
    SideBySideRequest {
        table: table.into(),
        from,
        to,
        key,
        limit,
        offset,
    }
}

/// The first cell of each line: (left, right).
fn firsts(s: &SideBySide) -> Vec<(Option<Cell>, Option<Cell>)> {
    s.rows
        .iter()
        .map(|r| {
            (
                r.left.as_ref().map(|c| c[0].clone()),
                r.right.as_ref().map(|c| c[0].clone()),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_versions_line_up_row_beside_row() {
    let sandbox = ScratchSandbox::up("lake-side", 1)
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
    let spec = |name: &str, query: &str, key: &[&str]| CacheSpec {
        name: name.into(),
        query: query.into(),
        monitor: vec!["items".into()],
        ttl_seconds: None,
        key: key.iter().map(|k| k.to_string()).collect(),
    };
    lake.define_cache(
        &cluster,
        &spec("items_copy", "SELECT id, name, qty FROM items", &["id"]),
    )
    .await
    .expect("keyed cache");
    lake.define_cache(&cluster, &spec("qtys", "SELECT qty FROM items", &[]))
        .await
        .expect("cache without a key");
    let v1 = refreshed(&lake, &cluster, "items_copy").await;
    let q1 = refreshed(&lake, &cluster, "qtys").await;
    run(
        &cluster,
        &[
            "INSERT INTO items VALUES (11, 'item 11', 2), (12, 'item 12', 0)",
            "DELETE FROM items WHERE id = 3",
            "UPDATE items SET qty = 500 WHERE id = 5",
        ],
    )
    .await;
    let v2 = refreshed(&lake, &cluster, "items_copy").await;

    // By the cache's key, to "now": ids 1–12 in order, each old row beside its new one.
    let s = lake
        .side_by_side(req("items_copy", v1, None, None, 100, 0))
        .await
        .expect("side by side");
    assert_eq!((s.to, s.to_is_current), (v2, true), "{s:#?}");
    assert_eq!(
        (s.key.clone(), s.key_source.as_deref()),
        (vec!["id".to_owned()], Some("cache"))
    );
    assert_eq!(
        (s.total, s.same, s.added, s.removed, s.changed),
        (12, 8, 2, 1, 1),
        "{s:#?}"
    );
    let i = |n: i64| Some(Cell::Int(n));
    let mut expected: Vec<(Option<Cell>, Option<Cell>)> = (1..=10).map(|n| (i(n), i(n))).collect();
    expected[2] = (i(3), None);
    expected.extend([(None, i(11)), (None, i(12))]);
    assert_eq!(firsts(&s), expected);
    let kinds: Vec<Option<DiffKind>> = s.rows.iter().map(|r| r.kind).collect();
    assert_eq!(kinds[2], Some(DiffKind::Removed));
    assert_eq!(kinds[4], Some(DiffKind::Changed));
    assert_eq!(kinds[10..], [Some(DiffKind::Added), Some(DiffKind::Added)]);
    assert_eq!(kinds.iter().filter(|k| k.is_none()).count(), 8);
    let five = &s.rows[4];
    assert_eq!(five.changed, vec!["qty"]);
    assert_eq!(five.left.as_ref().map(|c| c[2].clone()), i(2));
    assert_eq!(five.right.as_ref().map(|c| c[2].clone()), i(500));
    assert!(s
        .rows
        .iter()
        .filter(|r| r.kind != Some(DiffKind::Changed))
        .all(|r| r.changed.is_empty()));
    assert_eq!((s.next_difference, s.previous_difference), (None, None));
    // The diff of the same pair counts the same.
    let d = lake
        .diff(DiffRequest {
            table: "items_copy".into(),
            from: v1,
            to: v2,
            key: None,
            only: None,
            limit: 10,
            offset: 0,
        })
        .await
        .expect("diff");
    assert_eq!(
        (d.added, d.removed, d.changed),
        (s.added, s.removed, s.changed)
    );

    // A page of two: where the nearest differences before and after it are.
    let first = lake
        .side_by_side(req("items_copy", v1, Some(v2), None, 2, 0))
        .await
        .expect("first page");
    assert_eq!(first.rows, s.rows[..2].to_vec());
    assert_eq!(
        (first.next_difference, first.previous_difference),
        (Some(2), None)
    );
    let middle = lake
        .side_by_side(req("items_copy", v1, Some(v2), None, 2, 6))
        .await
        .expect("a middle page");
    assert_eq!(middle.rows, s.rows[6..8].to_vec());
    assert_eq!(
        (middle.next_difference, middle.previous_difference),
        (Some(10), Some(4))
    );
    assert_eq!(middle.total, 12);

    // Whole rows: the updated row is one line removed and one added.
    let w = lake
        .side_by_side(req("items_copy", v1, Some(v2), Some(Vec::new()), 100, 0))
        .await
        .expect("whole rows");
    assert!(w.key.is_empty());
    assert_eq!(
        (w.total, w.same, w.added, w.removed, w.changed),
        (13, 8, 3, 2, 0),
        "{w:#?}"
    );
    assert_eq!(
        w.rows
            .iter()
            .filter(|r| r.left.is_some() && r.right.is_some())
            .count(),
        8
    );

    // Duplicates line up copy by copy: qty 0 lost id 3 and gained id 12, qty 2 lost id 5 and
    // gained id 11; only the new 500 is a difference.
    lake.refresh_cache(&cluster, "qtys", true)
        .await
        .expect("qtys");
    let q = lake
        .side_by_side(req("qtys", q1, None, None, 100, 0))
        .await
        .expect("duplicates");
    assert_eq!(
        (q.total, q.same, q.added, q.removed),
        (11, 10, 1, 0),
        "{q:#?}"
    );
    assert_eq!(
        firsts(&q)
            .into_iter()
            .map(|(l, r)| r.or(l))
            .collect::<Vec<_>>(),
        [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 500].map(i)
    );
    assert_eq!(q.rows[10].left, None);
    assert_eq!(q.rows[10].kind, Some(DiffKind::Added));

    // Another refresh lands (a column added to the query): "now" is its snapshot, the right
    // grid has the new column, and the earlier pair is no longer "to now".
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
    let now = lake
        .side_by_side(req("items_copy", v1, None, None, 100, 0))
        .await
        .expect("now again");
    assert_eq!((now.to, now.to_is_current), (v3, true));
    let names = |cols: &[skein_lake::snapshot::Column]| {
        cols.iter().map(|c| c.name.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names(&now.left), ["id", "name", "qty"]);
    assert_eq!(names(&now.right), ["id", "name", "qty", "double_qty"]);
    assert_eq!(names(&now.schema.added), ["double_qty"]);
    assert_eq!(
        (now.total, now.same, now.added, now.removed, now.changed),
        (12, 8, 2, 1, 1)
    );
    assert_eq!(now.rows[4].right.as_ref().map(|c| c[3].clone()), i(1000));
    let then = lake
        .side_by_side(req("items_copy", v1, Some(v2), None, 100, 0))
        .await
        .expect("the earlier pair");
    assert!(!then.to_is_current);

    // Bad input names what is wrong.
    let e = lake
        .side_by_side(req("items_copy", 99_999, None, None, 100, 0))
        .await
        .expect_err("no such snapshot");
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert!(
        e.to_string().contains("snapshot 99999 does not exist"),
        "{e}"
    );
    let e = lake
        .side_by_side(req("items_copy", v1, None, None, 0, 0))
        .await
        .expect_err("page size 0");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(e.to_string().contains("1 to 1000 lines, not 0"), "{e}");
    let e = lake
        .side_by_side(req(
            "items_copy",
            v1,
            None,
            Some(vec!["nope".into()]),
            10,
            0,
        ))
        .await
        .expect_err("a key not in both");
    assert!(
        e.to_string()
            .contains("the columns they share are id, name, qty"),
        "{e}"
    );
}
