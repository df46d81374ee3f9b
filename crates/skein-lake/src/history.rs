//! A table's history: its rows, data files and bytes at each snapshot that changed it, for the
//! console's step charts.
//!
//! Sources:
//! - the snapshots that changed the table: `<lake>.snapshots()`' `changes`, by name
//!   (`tables_created`) or by the ids the name had (`ducklake_table`): a cache refresh
//!   re-creates its table under a new id, and the history follows the name;
//! - rows: `SELECT count(*) FROM <table> AT (VERSION => n)`, exact (data files, deletes and
//!   inlined rows alike);
//! - files and bytes: the catalog's `ducklake_data_file` and `ducklake_delete_file` alive at
//!   the snapshot (`begin_snapshot <= n < end_snapshot`) for the id the name had then;
//! - inlined rows: the rows not in a data file, `rows − (file rows − deleted rows)`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lake::{ident, Lake};
use crate::snapshot::qualified;
use crate::timeline::{kind_of, read_spans, touched, TableSpan};

/// The table at one snapshot that changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HistoryPoint {
    /// `snapshot_id`.
    pub snapshot_id: i64,
    /// `snapshot_time`, ms since the Unix epoch.
    pub time_ms: i64,
    /// Rows (`count(*) AT (VERSION => n)`); `null` when the table did not exist then (dropped).
    pub rows: Option<u64>,
    /// Data files alive.
    pub data_files: u64,
    /// Bytes of the data and delete files alive.
    pub bytes: u64,
    /// Rows deleted from data files (the delete files' `delete_count`).
    pub deleted_rows: u64,
    /// Rows not in a data file: inlined in the catalog.
    pub inlined_rows: u64,
    /// The snapshot changed the table's schema (created, altered, dropped).
    pub schema_change: bool,
    /// What the snapshot was (see [`crate::MarkKind`]).
    pub kind: crate::MarkKind,
}

/// A table's history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TableHistory {
    /// The table as asked.
    pub table: String,
    /// The newest snapshots that changed it, oldest first (at most the limit asked for).
    pub points: Vec<HistoryPoint>,
}

impl Lake {
    /// The newest `limit` (1–1000) snapshots that changed `table`, each with its rows, files and
    /// bytes then (see the module's notes).
    ///
    /// Errors: `NotFound` when no snapshot in the lake ever touched a table of that name;
    /// `InvalidInput` for a limit outside 1–1000.
    pub async fn table_history(&self, table: &str, limit: usize) -> Result<TableHistory> {
        if !(1..=1000).contains(&limit) {
            return Err(Error::InvalidInput(format!(
                "ask for 1 to 1000 points of a table's history, not {limit}"
            )));
        }
        let (schema, name) = match table.split_once('.') {
            Some((s, n)) => (s.to_owned(), n.to_owned()),
            None => ("main".to_owned(), table.to_owned()),
        };
        let full = format!("{schema}.{name}");
        let q = qualified(table)?;
        let snapshots = self.snapshot_page(20_000, None).await?;
        let asked = table.to_owned();
        self.read(move |conn, lake| {
            let meta = ident(&format!("__ducklake_metadata_{lake}"));
            // The ids the name had, with when.
            let ids: Vec<TableSpan> = read_spans(conn, lake)?
                .into_iter()
                .filter(|(_, n, ..)| *n == full)
                .collect();
            if ids.is_empty() {
                return Err(Error::NotFound(format!(
                    "no table {full} in the lake's history (see `skein snapshot list`)"
                )));
            }
            let id_at = |s: i64| {
                ids.iter()
                    .find(|(_, _, b, e)| *b <= s && e.is_none_or(|e| e > s))
                    .map(|(id, ..)| id.clone())
            };
            let dropped_at = |s: i64| ids.iter().any(|(.., e)| *e == Some(s));
            // The snapshots that changed it, oldest first.
            let mut changed: Vec<&crate::Snapshot> = snapshots
                .iter()
                .rev()
                .filter(|s| touched(s, &ids).contains(&full))
                .collect();
            if changed.len() > limit {
                changed.drain(..changed.len() - limit);
            }
            let mut points = Vec::with_capacity(changed.len());
            for s in changed {
                let schema_change = s.changes.keys().any(|k| {
                    matches!(k.as_str(), "tables_created" | "tables_altered" | "tables_dropped")
                });
                let Some(tid) = id_at(s.id) else {
                    // Dropped here: no rows, no files.
                    points.push(HistoryPoint {
                        snapshot_id: s.id,
                        time_ms: s.time_ms,
                        rows: None,
                        data_files: 0,
                        bytes: 0,
                        deleted_rows: 0,
                        inlined_rows: 0,
                        schema_change: schema_change || dropped_at(s.id),
                        kind: kind_of(s),
                    });
                    continue;
                };
                let at = s.id;
                let alive = format!("table_id = {tid} AND begin_snapshot <= {at} AND (end_snapshot IS NULL OR end_snapshot > {at})");
                let (files, file_rows, data_bytes): (i64, i64, i64) = conn
                    .query_row(
                        &format!(
                            "SELECT count(*), coalesce(sum(record_count), 0)::BIGINT, coalesce(sum(file_size_bytes), 0)::BIGINT \
                             FROM {meta}.ducklake_data_file WHERE {alive}"
                        ),
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .map_err(Error::duck("reading the table's data files"))?;
                let (deleted, delete_bytes): (i64, i64) = conn
                    .query_row(
                        &format!(
                            "SELECT coalesce(sum(delete_count), 0)::BIGINT, coalesce(sum(file_size_bytes), 0)::BIGINT \
                             FROM {meta}.ducklake_delete_file WHERE {alive}"
                        ),
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .map_err(Error::duck("reading the table's delete files"))?;
                let rows: i64 = conn
                    .query_row(
                        &format!("SELECT count(*) FROM {}.{q} AT (VERSION => {at})", ident(lake)),
                        [],
                        |r| r.get(0),
                    )
                    .map_err(Error::duck(format!("counting {asked} at snapshot {at}")))?;
                let in_files = (file_rows - deleted).max(0);
                points.push(HistoryPoint {
                    snapshot_id: s.id,
                    time_ms: s.time_ms,
                    rows: Some(rows.max(0) as u64),
                    data_files: files.max(0) as u64,
                    bytes: (data_bytes + delete_bytes).max(0) as u64,
                    deleted_rows: deleted.max(0) as u64,
                    inlined_rows: (rows - in_files).max(0) as u64,
                    schema_change,
                    kind: kind_of(s),
                });
            }
            Ok(TableHistory {
                table: asked,
                points,
            })
        })
        .await
    }
}
