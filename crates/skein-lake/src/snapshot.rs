//! The lake's history: snapshots (`<lake>.snapshots()`, DuckLake's view of
//! `ducklake_snapshot` + `ducklake_snapshot_changes`) and time travel
//! (`FROM <lake>.<table> AT (VERSION => n)` / `AT (TIMESTAMP => …)`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::changes::SnapshotRef;
use crate::error::{Error, Result};
use crate::lake::{ident, lit, Lake};
use crate::value::{to_cell, Cell};

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
    /// `changes` (a `MAP(VARCHAR, VARCHAR[])`): keys such as `tables_created`,
    /// `tables_inserted_into`, `inlined_insert`, each with the table names or ids it touched;
    /// sorted by key, empty when the snapshot records none.
    #[ts(type = "Record<string, Array<string>>")]
    pub changes: ChangeMap,
    /// `author` (Skein writes `skein`).
    pub author: Option<String>,
    /// `commit_message`.
    pub commit_message: Option<String>,
    /// `commit_extra_info` (Skein writes JSON with the cache and refresh id).
    pub commit_extra_info: Option<String>,
    /// The process that made the commit: `writer` in `commit_extra_info` when it is a JSON
    /// object that has one (`console@host#id`, `cli@host`; see [`crate::identity`]).
    #[serde(default)]
    pub writer: Option<String>,
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

/// A snapshot's `changes`: change kind → the table names or ids it touched.
pub type ChangeMap = std::collections::BTreeMap<String, Vec<String>>;

/// `to_json(changes)` text as a [`ChangeMap`]: non-string items (ids as numbers) as their
/// JSON text; text that is not a JSON object (NULL, none) as an empty map.
fn change_map(text: Option<&str>) -> ChangeMap {
    use serde_json::Value;
    let item = |v: Value| match v {
        Value::String(s) => Some(s),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    match text.and_then(|t| serde_json::from_str::<Value>(t).ok()) {
        Some(Value::Object(m)) => m
            .into_iter()
            .map(|(k, v)| {
                let items = match v {
                    Value::Array(a) => a.into_iter().filter_map(item).collect(),
                    other => item(other).into_iter().collect(),
                };
                (k, items)
            })
            .collect(),
        _ => ChangeMap::new(),
    }
}

fn schema_changes(changes: &ChangeMap) -> Vec<String> {
    SCHEMA_KEYS
        .iter()
        .filter(|k| changes.contains_key(**k))
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
    /// A point in time in one of the [`TIMESTAMP_FORMATS`] (`AT (TIMESTAMP => …)`).
    Timestamp(String),
}

/// The timestamp forms time travel and expiry accept, named in their errors.
pub const TIMESTAMP_FORMATS: &str = "YYYY-MM-DD HH:MM:SS in UTC (2026-11-22 09:14:03; seconds \
and a fraction are optional, a date alone means midnight), or RFC 3339 with an offset \
(2026-11-22T09:14:03Z, 2026-11-22 10:14:03+01:00)";

/// Parses a timestamp in one of the [`TIMESTAMP_FORMATS`]; a form without an offset is UTC.
///
/// Errors: `InvalidInput` naming the accepted forms (a time without a date says it lacks
/// the date).
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>> {
    let s = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    let naive = s.strip_suffix('Z').unwrap_or(s);
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, f) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(naive, "%Y-%m-%d") {
        return Ok(d.and_time(NaiveTime::MIN).and_utc());
    }
    let time_only = !s.is_empty()
        && s.contains(':')
        && !s.contains('-')
        && s.chars().all(|c| c.is_ascii_digit() || ":.".contains(c));
    Err(Error::InvalidInput(if time_only {
        format!("'{s}' is a time without a date: use {TIMESTAMP_FORMATS}")
    } else {
        format!("'{s}' is not a timestamp: use {TIMESTAMP_FORMATS}")
    }))
}

/// A UTC instant as the lake's SQL reads it: `'2026-11-22 09:14:03.123456+00'::TIMESTAMPTZ`.
pub(crate) fn timestamptz(t: &DateTime<Utc>) -> String {
    format!(
        "{}::TIMESTAMPTZ",
        lit(&t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string())
    )
}

/// A UTC instant for a person: `2026-11-22 09:14:03.123 UTC`.
pub(crate) fn human_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
        .unwrap_or_else(|| format!("{ms} ms since the epoch"))
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
            At::Timestamp(t) => format!(" AT (TIMESTAMP => {})", timestamptz(&parse_timestamp(t)?)),
        })
    }
}

/// A page of a table's rows, as of some snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TableRows {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows of cells, in column order.
    pub rows: Vec<Vec<Cell>>,
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
    /// Errors: `NotFound` when the snapshot does not exist (naming the ids the lake holds) or
    /// the table did not exist at it (naming the tables that did).
    pub async fn columns_at(&self, table: &str, at: At) -> Result<Vec<Column>> {
        let clause = at.clause()?;
        let asked = table.to_owned();
        let table = qualified(table)?;
        self.read(move |conn, lake| {
            ensure_table(conn, lake, &asked, &at)?;
            describe(conn, &format!("{}.{table}{clause}", ident(lake)), &table)
        })
        .await
    }

    /// Rows of `table` (in the lake's `main` schema, or `schema.table`) as of `at`, paged.
    ///
    /// Errors: `NotFound` when the snapshot does not exist (naming the ids the lake holds) or
    /// the table did not exist at it (naming the tables that did).
    pub async fn rows_at(
        &self,
        table: &str,
        at: At,
        limit: usize,
        offset: usize,
    ) -> Result<TableRows> {
        let clause = at.clause()?;
        let asked = table.to_owned();
        let table = qualified(table)?;
        self.read(move |conn, lake| {
            ensure_table(conn, lake, &asked, &at)?;
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
                    out.push(to_cell(
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

/// The columns of `from` (`<lake>.<table>` with its `AT (…)` clause), by `DESCRIBE`.
pub(crate) fn describe(conn: &duckdb::Connection, from: &str, table: &str) -> Result<Vec<Column>> {
    let what = || format!("describing {table}");
    let mut stmt = conn
        .prepare(&format!(
            "SELECT column_name, column_type FROM (DESCRIBE FROM {from})"
        ))
        .map_err(Error::duck(what()))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Column {
                name: r.get(0)?,
                data_type: r.get(1)?,
            })
        })
        .map_err(Error::duck(what()))?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::duck(what()))
}

/// `NotFound` unless `table` (`name` = `main.name`, or `schema.name`) was alive at the
/// snapshot `at` reads, naming the tables that were (rather than DuckDB's "Did you mean").
pub(crate) fn ensure_table(
    conn: &duckdb::Connection,
    lake: &str,
    table: &str,
    at: &At,
) -> Result<()> {
    let (first, last) = crate::changes::history_range(conn, lake)?;
    let id = match at {
        At::Latest => last.id,
        At::Version(v) => *v,
        At::Timestamp(t) => conn
            .query_row(
                &format!(
                    "SELECT max(snapshot_id) FROM {}.snapshots() WHERE snapshot_time <= {}",
                    ident(lake),
                    timestamptz(&parse_timestamp(t)?)
                ),
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map_err(Error::duck("finding a snapshot"))?
            .unwrap_or(-1),
    };
    if id < first.id || id > last.id {
        let asked = match at {
            At::Version(v) => format!("snapshot {v} does not exist"),
            At::Timestamp(t) => format!("no snapshot at or before {t}"),
            At::Latest => "no snapshot".to_owned(),
        };
        return Err(Error::NotFound(format!(
            "{asked}: the lake holds snapshots {} to {}",
            first.id, last.id
        )));
    }
    let alive = crate::changes::tables_alive(conn, lake, id)?;
    let wanted = if table.contains('.') {
        table.to_owned()
    } else {
        format!("main.{table}")
    };
    if alive.iter().any(|t| t.eq_ignore_ascii_case(&wanted)) {
        return Ok(());
    }
    Err(Error::NotFound(if alive.is_empty() {
        format!("table '{table}' does not exist at snapshot {id}: the lake held no tables then")
    } else {
        format!(
            "table '{table}' does not exist at snapshot {id}: the lake's tables then were {}",
            alive.join(", ")
        )
    }))
}

/// What a person should know about how `at` resolved to `resolved`, the newest snapshot
/// being `newest`: a timestamp after the newest snapshot reads the newest (the lake has no
/// later history), said in so many words. `None` otherwise.
pub fn travel_note(at: &At, resolved: &SnapshotRef, newest: &SnapshotRef) -> Option<String> {
    let At::Timestamp(t) = at else { return None };
    let asked = parse_timestamp(t).ok()?;
    (resolved.id == newest.id && asked.timestamp_millis() > newest.time_ms).then(|| {
        format!(
            "{} is after the lake's newest snapshot ({}, taken {}): showing the newest; the lake \
             has no later history",
            asked.format("%Y-%m-%d %H:%M:%S%.3f UTC"),
            newest.id,
            human_time(newest.time_ms)
        )
    })
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
            let changes = change_map(r.get::<_, Option<String>>(4)?.as_deref());
            let extra: Option<String> = r.get(7)?;
            Ok(Snapshot {
                writer: extra.as_deref().and_then(crate::identity::writer_in),
                id: r.get(0)?,
                time_ms: r.get(1)?,
                time: r.get(2)?,
                schema_version: r.get(3)?,
                schema_changes: schema_changes(&changes),
                changes,
                author: r.get(5)?,
                commit_message: r.get(6)?,
                commit_extra_info: extra,
            })
        })
        .map_err(Error::duck(what))?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::duck(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_text_becomes_a_map_of_names() {
        let m = change_map(Some(
            r#"{"tables_created":["main.c1"],"inlined_insert":[14,"15"],"odd":null}"#,
        ));
        assert_eq!(m["tables_created"], ["main.c1"]);
        assert_eq!(m["inlined_insert"], ["14", "15"], "ids as text");
        assert!(m["odd"].is_empty());
        assert_eq!(schema_changes(&m), ["tables_created"]);
        assert!(change_map(None).is_empty());
        assert!(change_map(Some("not json")).is_empty());
    }
}
