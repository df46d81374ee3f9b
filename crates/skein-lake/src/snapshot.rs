//! The lake's history: snapshots (`<lake>.snapshots()`, DuckLake's view of
//! `ducklake_snapshot` + `ducklake_snapshot_changes`) and time travel
//! (`FROM <lake>.<table> AT (VERSION => n)` / `AT (TIMESTAMP => …)`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lake::{ident, lit, Lake};
use crate::value::to_json;

/// One DuckLake snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Snapshot {
    /// `snapshot_id`.
    pub id: i64,
    /// `snapshot_time`, ms since the Unix epoch.
    pub time_ms: i64,
    /// `snapshot_time`, RFC 3339 in UTC.
    pub time: String,
    /// `schema_version`: rises with every schema change.
    pub schema_version: i64,
    /// `changes`: keys such as `tables_created`, `tables_inserted_into`, `inlined_insert`,
    /// each with the table names or ids it touched.
    pub changes: serde_json::Value,
    /// `author` (Skein writes `skein`).
    pub author: Option<String>,
    /// `commit_message`.
    pub commit_message: Option<String>,
    /// `commit_extra_info` (Skein writes JSON with the cache and refresh id).
    pub commit_extra_info: Option<String>,
    /// The schema changes among `changes`, for the history's schema marks: any of
    /// `schemas_created`, `schemas_dropped`, `tables_created`, `tables_dropped`,
    /// `tables_altered` (columns added, dropped, renamed or retyped), `views_created`,
    /// `views_dropped`. A cache refresh re-creates its table, so it shows `tables_created`.
    #[serde(default)]
    pub schema_changes: Vec<String>,
}

/// The `changes` keys that are schema changes.
const SCHEMA_KEYS: &[&str] = &[
    "schemas_created",
    "schemas_dropped",
    "tables_created",
    "tables_dropped",
    "tables_altered",
    "views_created",
    "views_dropped",
];

fn schema_changes(changes: &serde_json::Value) -> Vec<String> {
    SCHEMA_KEYS
        .iter()
        .filter(|k| changes.get(**k).is_some())
        .map(|k| (*k).to_owned())
        .collect()
}

/// One column of a table at some snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// DuckDB type (`VARCHAR`, `DECIMAL(15,2)`, `BIGINT`).
    pub data_type: String,
}

/// Where in history to read a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum At {
    /// The current snapshot.
    Latest,
    /// A snapshot id (`AT (VERSION => n)`).
    Version(i64),
    /// A point in time, RFC 3339 or `YYYY-MM-DD HH:MM:SS` UTC (`AT (TIMESTAMP => …)`).
    Timestamp(String),
}

impl At {
    pub(crate) fn clause(&self) -> Result<String> {
        Ok(match self {
            At::Latest => String::new(),
            At::Version(v) if *v < 0 => {
                return Err(Error::InvalidInput(format!(
                    "snapshot {v} does not exist: ids start at 0"
                )))
            }
            At::Version(v) => format!(" AT (VERSION => {v})"),
            At::Timestamp(t) => {
                if !t
                    .chars()
                    .all(|c| c.is_ascii_digit() || " -:.TZ+".contains(c))
                {
                    return Err(Error::InvalidInput(format!(
                        "'{t}' is not a timestamp (use 2026-11-22 09:14:03)"
                    )));
                }
                format!(" AT (TIMESTAMP => {}::TIMESTAMPTZ)", lit(t))
            }
        })
    }
}

/// A page of a table's rows, as of some snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TableRows {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows of JSON values, in column order.
    pub rows: Vec<Vec<serde_json::Value>>,
    /// Total rows of the table at that snapshot (exact `count(*)`).
    pub total: u64,
}

impl Lake {
    /// Snapshots, newest first; at most `limit`.
    pub async fn snapshots(&self, limit: usize) -> Result<Vec<Snapshot>> {
        self.snapshot_page(limit, None).await
    }

    /// A page of snapshots, newest first: at most `limit` with ids below `before` (all when
    /// `None`). Source: `<lake>.snapshots()`.
    pub async fn snapshot_page(&self, limit: usize, before: Option<i64>) -> Result<Vec<Snapshot>> {
        let filter = before
            .map(|b| format!("WHERE snapshot_id < {b}"))
            .unwrap_or_default();
        self.read(move |conn, lake| {
            let sql = format!(
                "SELECT snapshot_id, epoch_ms(snapshot_time), strftime(snapshot_time::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%gZ'), \
                 schema_version, to_json(changes)::VARCHAR, author, commit_message, commit_extra_info \
                 FROM {}.snapshots() {filter} ORDER BY snapshot_id DESC LIMIT {limit}",
                ident(lake)
            );
            query_snapshots(conn, &sql, "listing snapshots")
        })
        .await
    }

    /// How many snapshots the lake holds (`count(*)` of `<lake>.snapshots()`).
    pub async fn snapshot_count(&self) -> Result<u64> {
        self.read(|conn, lake| {
            conn.query_row(
                &format!("SELECT count(*) FROM {}.snapshots()", ident(lake)),
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(Error::duck("counting snapshots"))
        })
        .await
    }

    /// The newest snapshot id (`<lake>.current_snapshot()`).
    pub async fn current_snapshot(&self) -> Result<i64> {
        self.read(|conn, lake| {
            conn.query_row(
                &format!("SELECT * FROM {}.current_snapshot()", ident(lake)),
                [],
                |r| r.get(0),
            )
            .map_err(Error::duck("reading the current snapshot"))
        })
        .await
    }

    /// The columns of `table` as of `at` (`DESCRIBE FROM <lake>.<table> AT (…)`).
    ///
    /// Errors: `NotFound` when the snapshot or the table at that snapshot does not exist.
    pub async fn columns_at(&self, table: &str, at: At) -> Result<Vec<Column>> {
        let clause = at.clause()?;
        let table = qualified(table)?;
        self.read(move |conn, lake| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT column_name, column_type FROM (DESCRIBE FROM {}.{table}{clause})",
                    ident(lake)
                ))
                .map_err(Error::duck(format!("describing {table}")))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(Column {
                        name: r.get(0)?,
                        data_type: r.get(1)?,
                    })
                })
                .map_err(Error::duck(format!("describing {table}")))?;
            rows.collect::<std::result::Result<Vec<_>, _>>()
                .map_err(Error::duck(format!("describing {table}")))
        })
        .await
    }

    /// Rows of `table` (in the lake's `main` schema, or `schema.table`) as of `at`, paged.
    ///
    /// Errors: `NotFound` when the snapshot or the table at that snapshot does not exist.
    pub async fn rows_at(
        &self,
        table: &str,
        at: At,
        limit: usize,
        offset: usize,
    ) -> Result<TableRows> {
        let clause = at.clause()?;
        let table = qualified(table)?;
        self.read(move |conn, lake| {
            let from = format!("{}.{table}{clause}", ident(lake));
            let total: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {from}"), [], |r| r.get(0))
                .map_err(Error::duck(format!("reading {table}")))?;
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT * FROM {from} LIMIT {limit} OFFSET {offset}"
                ))
                .map_err(Error::duck(format!("reading {table}")))?;
            let mut rows_out = Vec::new();
            let mut rows = stmt
                .query([])
                .map_err(Error::duck(format!("reading {table}")))?;
            let mut columns: Vec<String> = Vec::new();
            while let Some(row) = rows
                .next()
                .map_err(Error::duck(format!("reading {table}")))?
            {
                let stmt_ref = row.as_ref();
                if columns.is_empty() {
                    columns = stmt_ref.column_names();
                }
                let n = stmt_ref.column_count();
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    out.push(to_json(
                        row.get::<_, duckdb::types::Value>(i)
                            .map_err(Error::duck("reading a value"))?,
                    ));
                }
                rows_out.push(out);
            }
            drop(rows);
            if columns.is_empty() {
                columns = stmt.column_names();
            }
            Ok(TableRows {
                columns,
                rows: rows_out,
                total: total.max(0) as u64,
            })
        })
        .await
    }
}

/// Quotes `table` or `schema.table` for use after the lake's name.
pub(crate) fn qualified(table: &str) -> Result<String> {
    let parts: Vec<&str> = table.split('.').collect();
    if parts.is_empty()
        || parts.len() > 2
        || parts.iter().any(|p| !skein_core::profile::is_identifier(p))
    {
        return Err(Error::InvalidInput(format!(
            "'{table}' is not a table name (use name or schema.name)"
        )));
    }
    Ok(match parts.as_slice() {
        [t] => format!("main.{}", ident(t)),
        [s, t] => format!("{}.{}", ident(s), ident(t)),
        _ => unreachable!("checked above"),
    })
}

/// Runs `sql`, whose columns are `snapshot_id, epoch_ms(snapshot_time), time text,
/// schema_version, changes JSON text, author, commit_message, commit_extra_info`.
pub(crate) fn query_snapshots(
    conn: &duckdb::Connection,
    sql: &str,
    what: &str,
) -> Result<Vec<Snapshot>> {
    let mut stmt = conn.prepare(sql).map_err(Error::duck(what))?;
    let rows = stmt
        .query_map([], |r| {
            let changes: serde_json::Value =
                serde_json::from_str(&r.get::<_, Option<String>>(4)?.unwrap_or_default())
                    .unwrap_or(serde_json::Value::Null);
            Ok(Snapshot {
                id: r.get(0)?,
                time_ms: r.get(1)?,
                time: r.get(2)?,
                schema_version: r.get(3)?,
                schema_changes: schema_changes(&changes),
                changes,
                author: r.get(5)?,
                commit_message: r.get(6)?,
                commit_extra_info: r.get(7)?,
            })
        })
        .map_err(Error::duck(what))?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::duck(what))
}
