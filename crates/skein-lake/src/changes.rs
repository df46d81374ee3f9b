//! What a snapshot changed, table by table, and which tables the lake holds.
//!
//! Sources: `<lake>.snapshots()` (the `changes` map: `tables_created` by name,
//! `tables_inserted_into` / `tables_deleted_from` / `inlined_insert` / `inlined_delete` /
//! `tables_altered` by table id), the catalog's `ducklake_table` + `ducklake_schema` (id →
//! name at that snapshot, read through DuckDB's `__ducklake_metadata_<lake>` catalog) and
//! `<lake>.<schema>.table_changes(table, n, n)` for the rows each table gained or lost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lake::{ident, lit, Lake};
use crate::snapshot::{human_time, parse_timestamp, timestamptz, At, ChangeMap, Snapshot};

/// One table's part in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TableChange {
    /// `schema.table`.
    pub table: String,
    /// The snapshot created the table (`tables_created`; a cache refresh re-creates its table).
    pub created: bool,
    /// The snapshot changed the table's schema (`tables_altered`).
    pub altered: bool,
    /// Rows inserted (`table_changes` rows with `change_type = 'insert'`).
    pub inserted: u64,
    /// Rows deleted (`change_type = 'delete'`).
    pub deleted: u64,
    /// Rows updated (`change_type = 'update_postimage'`).
    pub updated: u64,
}

/// A snapshot with its per-table changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SnapshotChanges {
    /// The snapshot.
    pub snapshot: Snapshot,
    /// Tables it touched, by name.
    pub tables: Vec<TableChange>,
}

/// A snapshot a time-travel read resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SnapshotRef {
    /// `snapshot_id`.
    pub id: i64,
    /// `snapshot_time`, ms since the Unix epoch.
    pub time_ms: i64,
}

/// One table in the lake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LakeTable {
    /// `schema.table`.
    pub name: String,
    /// Column names, in order.
    pub columns: Vec<String>,
}

impl Lake {
    /// The tables of the lake at its current snapshot, `main` first (`duckdb_tables()`).
    pub async fn tables(&self) -> Result<Vec<LakeTable>> {
        self.read(|conn, lake| {
            let mut stmt = conn
                .prepare(
                    "SELECT schema_name || '.' || table_name, \
                     (SELECT list(column_name ORDER BY column_index) FROM duckdb_columns() c \
                      WHERE c.table_oid = t.table_oid)::VARCHAR[] \
                     FROM duckdb_tables() t WHERE database_name = ? \
                     ORDER BY schema_name <> 'main', schema_name, table_name",
                )
                .map_err(Error::duck("listing the lake's tables"))?;
            let rows = stmt
                .query_map([lake], |r| {
                    let columns: duckdb::types::Value = r.get(1)?;
                    Ok(LakeTable {
                        name: r.get(0)?,
                        columns: text_list(columns),
                    })
                })
                .map_err(Error::duck("listing the lake's tables"))?;
            rows.collect::<std::result::Result<Vec<_>, _>>()
                .map_err(Error::duck("listing the lake's tables"))
        })
        .await
    }

    /// The snapshot `at` resolves to: the current one, the given id, or the newest at or
    /// before a timestamp (a timestamp after the newest snapshot resolves to the newest; see
    /// [`crate::snapshot::travel_note`]).
    ///
    /// Errors: `InvalidInput` for a malformed timestamp (naming the accepted forms) or one
    /// before the lake's first snapshot (naming the first and newest snapshot times);
    /// `NotFound` for an id the lake does not hold (naming the range it holds).
    pub async fn snapshot_at(&self, at: &At) -> Result<SnapshotRef> {
        let ts = match at {
            At::Timestamp(t) => Some((t.trim().to_owned(), parse_timestamp(t)?)),
            _ => None,
        };
        let at = at.clone();
        self.read(move |conn, lake| {
            let (first, last) = history_range(conn, lake)?;
            let range = format!(
                "the lake's history runs from snapshot {} ({}) to snapshot {} ({})",
                first.id,
                human_time(first.time_ms),
                last.id,
                human_time(last.time_ms)
            );
            let filter = match (&at, &ts) {
                (At::Latest, _) => return Ok(last),
                (At::Version(v), _) => format!("snapshot_id = {v}"),
                (At::Timestamp(_), Some((_, t))) => format!("snapshot_time <= {}", timestamptz(t)),
                (At::Timestamp(_), None) => unreachable!("parsed above"),
            };
            match one_snapshot(conn, lake, &filter)? {
                Some(s) => Ok(s),
                None => match (&at, &ts) {
                    (At::Version(v), _) => Err(Error::NotFound(format!(
                        "snapshot {v} does not exist: {range}"
                    ))),
                    (_, Some((text, _))) => Err(Error::InvalidInput(format!(
                        "'{text}' is before the lake's first snapshot: {range}"
                    ))),
                    _ => Err(Error::NotFound(format!("no snapshot at {at:?}: {range}"))),
                },
            }
        })
        .await
    }

    /// What snapshot `id` changed, table by table. Errors: `NotFound` for an unknown id.
    pub async fn snapshot_changes(&self, id: i64) -> Result<SnapshotChanges> {
        let snapshot = self
            .snapshot_page(1, Some(id + 1))
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| Error::NotFound(format!("snapshot {id} does not exist")))?;
        let changes = snapshot.changes.clone();
        let tables = self
            .read(move |conn, lake| table_changes(conn, lake, id, &changes))
            .await?;
        Ok(SnapshotChanges { snapshot, tables })
    }
}

fn text_list(v: duckdb::types::Value) -> Vec<String> {
    match v {
        duckdb::types::Value::List(items) => items
            .into_iter()
            .filter_map(|i| match i {
                duckdb::types::Value::Text(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn strings(changes: &ChangeMap, key: &str) -> Vec<String> {
    changes.get(key).cloned().unwrap_or_default()
}

fn table_changes(
    conn: &duckdb::Connection,
    lake: &str,
    id: i64,
    changes: &ChangeMap,
) -> Result<Vec<TableChange>> {
    // Table id -> schema.table for the tables alive at this snapshot.
    let meta = ident(&format!("__ducklake_metadata_{lake}"));
    let mut stmt = conn
        .prepare(&format!(
            "SELECT t.table_id, s.schema_name || '.' || t.table_name FROM {meta}.ducklake_table t \
             JOIN {meta}.ducklake_schema s USING (schema_id) \
             WHERE t.begin_snapshot <= {id} AND (t.end_snapshot IS NULL OR t.end_snapshot > {id})"
        ))
        .map_err(Error::duck("reading the catalog's tables"))?;
    let names: BTreeMap<String, String> = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?.to_string(), r.get(1)?)))
        .map_err(Error::duck("reading the catalog's tables"))?
        .collect::<std::result::Result<_, _>>()
        .map_err(Error::duck("reading the catalog's tables"))?;
    let mut out: BTreeMap<String, TableChange> = BTreeMap::new();
    fn entry(out: &mut BTreeMap<String, TableChange>, table: String) -> &mut TableChange {
        out.entry(table.clone()).or_insert(TableChange {
            table,
            created: false,
            altered: false,
            inserted: 0,
            deleted: 0,
            updated: 0,
        })
    }
    for name in strings(changes, "tables_created") {
        entry(&mut out, name).created = true;
    }
    for tid in strings(changes, "tables_altered") {
        if let Some(name) = names.get(&tid) {
            entry(&mut out, name.clone()).altered = true;
        }
    }
    for key in [
        "tables_inserted_into",
        "tables_deleted_from",
        "inlined_insert",
        "inlined_delete",
    ] {
        for tid in strings(changes, key) {
            if let Some(name) = names.get(&tid) {
                entry(&mut out, name.clone());
            }
        }
    }
    for change in out.values_mut() {
        let Some((schema, table)) = change.table.split_once('.') else {
            continue;
        };
        let sql = format!(
            "SELECT change_type, count(*) FROM {}.{}.table_changes({}, {id}, {id}) GROUP BY ALL",
            ident(lake),
            ident(schema),
            lit(table)
        );
        let mut stmt = conn.prepare(&sql).map_err(Error::duck(format!(
            "reading the changes of {}",
            change.table
        )))?;
        let counts = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(Error::duck(format!(
                "reading the changes of {}",
                change.table
            )))?;
        for c in counts {
            let (kind, n) = c.map_err(Error::duck("reading a change count"))?;
            let n = n.max(0) as u64;
            match kind.as_str() {
                "insert" => change.inserted += n,
                "delete" => change.deleted += n,
                "update_postimage" => change.updated += n,
                _ => {}
            }
        }
    }
    Ok(out.into_values().collect())
}

/// The newest snapshot matching `filter` (a `WHERE` condition on `<lake>.snapshots()`).
fn one_snapshot(
    conn: &duckdb::Connection,
    lake: &str,
    filter: &str,
) -> Result<Option<SnapshotRef>> {
    conn.query_row(
        &format!(
            "SELECT snapshot_id, epoch_ms(snapshot_time) FROM {}.snapshots() WHERE {filter} \
             ORDER BY snapshot_id DESC LIMIT 1",
            ident(lake)
        ),
        [],
        |r| {
            Ok(SnapshotRef {
                id: r.get(0)?,
                time_ms: r.get(1)?,
            })
        },
    )
    .map(Some)
    .or_else(|e| match e {
        duckdb::Error::QueryReturnedNoRows => Ok(None),
        e => Err(e),
    })
    .map_err(Error::duck("finding a snapshot"))
}

/// The oldest and the newest snapshot the lake holds. Errors: `NotFound` when it holds none.
pub(crate) fn history_range(
    conn: &duckdb::Connection,
    lake: &str,
) -> Result<(SnapshotRef, SnapshotRef)> {
    let oldest = conn
        .query_row(
            &format!(
                "SELECT snapshot_id, epoch_ms(snapshot_time) FROM {}.snapshots() \
                 ORDER BY snapshot_id LIMIT 1",
                ident(lake)
            ),
            [],
            |r| {
                Ok(SnapshotRef {
                    id: r.get(0)?,
                    time_ms: r.get(1)?,
                })
            },
        )
        .map(Some)
        .or_else(|e| match e {
            duckdb::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(Error::duck("finding the first snapshot"))?;
    let newest = one_snapshot(conn, lake, "true")?;
    oldest
        .zip(newest)
        .ok_or_else(|| Error::NotFound("the lake holds no snapshots yet".into()))
}

/// `schema.table` of the tables alive at snapshot `id` (the catalog's `ducklake_table` +
/// `ducklake_schema`, by `begin_snapshot` / `end_snapshot`), sorted, `main` first.
pub(crate) fn tables_alive(conn: &duckdb::Connection, lake: &str, id: i64) -> Result<Vec<String>> {
    let meta = ident(&format!("__ducklake_metadata_{lake}"));
    let mut stmt = conn
        .prepare(&format!(
            "SELECT s.schema_name || '.' || t.table_name FROM {meta}.ducklake_table t \
             JOIN {meta}.ducklake_schema s USING (schema_id) \
             WHERE t.begin_snapshot <= {id} AND (t.end_snapshot IS NULL OR t.end_snapshot > {id}) \
             ORDER BY s.schema_name <> 'main', 1"
        ))
        .map_err(Error::duck("reading the catalog's tables"))?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(Error::duck("reading the catalog's tables"))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::duck("reading the catalog's tables"))?;
    Ok(names)
}
