//! What changed in a table between two snapshots, computed in DuckDB from the two versions
//! (`FROM <lake>.<table> AT (VERSION => a)` and `… AT (VERSION => b)`), so it works whether or
//! not `table_changes()` can span them: a cache refresh re-creates its table, and DuckLake's
//! change feed then reports every row as inserted.
//!
//! Rows are matched by a key — the one asked for, else the declared key of the cache whose
//! table it is (`<lake>.skein.caches.key`) — when it is unique in both versions (NULL keys
//! match NULL keys; DuckLake tables have no key constraints of their own): a key only in the newer version is added, only in the older removed, in both
//! with other values changed, with the columns that differ named. Without a key, or when it
//! repeats in a version (said in [`TableDiff::note`]), whole rows are compared as multisets
//! (`EXCEPT ALL`: duplicates count), so there are only added and removed rows.
//!
//! The schema diff compares the two versions' columns by name: added, dropped, retyped
//! (renames show as one dropped and one added). Rows are compared on the columns both have;
//! a retyped column is compared as text.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lake::{ident, Lake};
use crate::snapshot::{describe, ensure_table, qualified, At, Column};
use crate::value::{to_cell, Cell};

/// How a row differs between the two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum DiffKind {
    /// Only in the newer version.
    Added,
    /// Only in the older version.
    Removed,
    /// Its key in both, other values different.
    Changed,
}

/// One differing row. Cells are in [`TableDiff::columns`] order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct DiffRow {
    /// Added, removed or changed.
    pub kind: DiffKind,
    /// The row in the older version (removed, changed).
    pub old: Option<Vec<Cell>>,
    /// The row in the newer version (added, changed).
    pub new: Option<Vec<Cell>>,
    /// For a changed row, the columns whose values differ.
    pub changed: Vec<String>,
}

/// A column whose type differs between the versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Retyped {
    /// Column name.
    pub name: String,
    /// Its DuckDB type in the older version.
    pub from: String,
    /// Its DuckDB type in the newer version.
    pub to: String,
}

/// The columns that differ between the versions (by name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SchemaDiff {
    /// Only in the newer version.
    pub added: Vec<Column>,
    /// Only in the older version.
    pub dropped: Vec<Column>,
    /// In both, with another type.
    pub retyped: Vec<Retyped>,
}

/// What to compare, and which page of the differing rows to return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DiffRequest {
    /// `table` (schema `main`) or `schema.table`.
    pub table: String,
    /// The older snapshot id.
    pub from: i64,
    /// The newer snapshot id.
    pub to: i64,
    /// Columns that identify a row; `null`: the cache's declared key when the table is a
    /// cache's, else none; `[]`: compare whole rows.
    #[serde(default)]
    pub key: Option<Vec<String>>,
    /// Only rows of this kind in the page (the counts are always of every kind).
    #[serde(default)]
    pub only: Option<DiffKind>,
    /// Page size (1–`DIFF_PAGE_MAX`, 1000).
    pub limit: u32,
    /// Differing rows to skip (of the kind asked for).
    pub offset: u32,
}

/// The largest page [`Lake::diff`] returns.
pub const DIFF_PAGE_MAX: u32 = 1000;

/// The difference of a table between snapshot `from` and snapshot `to`, with one page of its
/// rows (added first, then removed, then changed; each in key, else column, order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TableDiff {
    /// The table as asked (`name` or `schema.name`).
    pub table: String,
    /// The older snapshot id.
    pub from: i64,
    /// The newer snapshot id.
    pub to: i64,
    /// The key rows were matched by; empty when whole rows were compared.
    pub key: Vec<String>,
    /// Where the key comes from: `asked`, `cache` (the cache's declared key), or `null` when
    /// whole rows were compared.
    pub key_source: Option<String>,
    /// The kind of row the page holds, when only one was asked for.
    pub only: Option<DiffKind>,
    /// The first row of the page, as asked.
    pub offset: u32,
    /// Why the asked key was not used, when it was not.
    pub note: Option<String>,
    /// The columns rows were compared on (both versions have them), in the newer version's order.
    pub columns: Vec<String>,
    /// Columns added, dropped, retyped.
    pub schema: SchemaDiff,
    /// Rows only in `to` (exact count).
    pub added: u64,
    /// Rows only in `from` (exact count).
    pub removed: u64,
    /// Rows whose key is in both with other values (exact count; 0 without a key).
    pub changed: u64,
    /// The page of differing rows asked for.
    pub rows: Vec<DiffRow>,
}

/// Key values that repeat in `from` (0 when the key is unique there).
fn repeated(conn: &duckdb::Connection, from: &str, key: &[String]) -> Result<u64> {
    let k = key.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
    conn.query_row(
        &format!("SELECT count(*) FROM (SELECT 1 FROM {from} GROUP BY {k} HAVING count(*) > 1)"),
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n.max(0) as u64)
    .map_err(Error::duck("checking the key"))
}

/// The two versions of a table being compared: how to read each, their columns, what differs
/// in their schemas, and the key rows are matched by (empty: whole rows).
pub(crate) struct Versions {
    /// `<lake>.<table> AT (VERSION => from)`.
    pub a: String,
    /// `<lake>.<table> AT (VERSION => to)`.
    pub b: String,
    /// The older version's columns.
    pub old_cols: Vec<Column>,
    /// The newer version's columns.
    pub new_cols: Vec<Column>,
    /// Columns added, dropped, retyped.
    pub schema: SchemaDiff,
    /// The columns both versions have, in the newer one's order, each with whether its type
    /// changed (it is then compared as text).
    pub common: Vec<(String, bool)>,
    /// The key rows are matched by; empty: whole rows.
    pub key: Vec<String>,
    /// `asked`, `cache`, or `None` for whole rows.
    pub key_source: Option<String>,
    /// Why the key asked for was not used, or why rows are not compared at all.
    pub note: Option<String>,
}

impl Versions {
    /// The names of the columns both versions have.
    pub fn names(&self) -> Vec<String> {
        self.common.iter().map(|(n, _)| n.clone()).collect()
    }

    /// How column `name` (one both versions have) is compared: itself, or as text when retyped.
    pub fn compared(&self, name: &str) -> String {
        match self.common.iter().find(|(n, _)| n == name) {
            Some((n, true)) => format!("CAST({} AS VARCHAR)", ident(n)),
            _ => ident(name),
        }
    }
}

/// Reads the two versions' columns and settles the key: the one asked for (`Some(vec![])`:
/// whole rows), else the declared key of the cache whose table it is; a key that repeats in
/// either version falls back to whole rows, said in the note.
///
/// Errors: `NotFound` for a snapshot or a table that does not exist; `InvalidInput` for a
/// key column that is not in both versions.
pub(crate) fn versions(
    conn: &duckdb::Connection,
    lake: &str,
    asked: &str,
    qualified: &str,
    from: i64,
    to: i64,
    key: Option<Vec<String>>,
) -> Result<Versions> {
    let (at_from, at_to) = (At::Version(from), At::Version(to));
    ensure_table(conn, lake, asked, &at_from)?;
    ensure_table(conn, lake, asked, &at_to)?;
    let (mut key, mut key_source) = match key {
        Some(k) => {
            let source = (!k.is_empty()).then(|| "asked".to_owned());
            (k, source)
        }
        None => {
            let declared = crate::cache::cache_of_table(conn, lake, asked)?
                .map(|d| d.key)
                .unwrap_or_default();
            let source = (!declared.is_empty()).then(|| "cache".to_owned());
            (declared, source)
        }
    };
    let a = format!("{}.{qualified}{}", ident(lake), at_from.clause()?);
    let b = format!("{}.{qualified}{}", ident(lake), at_to.clause()?);
    let (old_cols, new_cols) = (describe(conn, &a, asked)?, describe(conn, &b, asked)?);
    let mut schema = SchemaDiff::default();
    let mut common: Vec<(String, bool)> = Vec::new();
    for c in &new_cols {
        match old_cols.iter().find(|o| o.name == c.name) {
            None => schema.added.push(c.clone()),
            Some(o) if o.data_type != c.data_type => {
                schema.retyped.push(Retyped {
                    name: c.name.clone(),
                    from: o.data_type.clone(),
                    to: c.data_type.clone(),
                });
                common.push((c.name.clone(), true));
            }
            Some(_) => common.push((c.name.clone(), false)),
        }
    }
    schema.dropped = old_cols
        .iter()
        .filter(|o| !new_cols.iter().any(|c| c.name == o.name))
        .cloned()
        .collect();
    let names: Vec<String> = common.iter().map(|(n, _)| n.clone()).collect();
    if let Some(missing) = key.iter().find(|k| !names.contains(k)) {
        return Err(Error::InvalidInput(format!(
            "key column '{missing}' is not in both versions of {asked} (snapshots {from} \
             and {to}); the columns they share are {}",
            names.join(", ")
        )));
    }
    let mut note = None;
    if names.is_empty() {
        key.clear();
        key_source = None;
        note = Some(format!(
            "the versions at snapshots {from} and {to} share no column: only their \
             schemas are compared, not their rows"
        ));
    } else if !key.is_empty() {
        for (at, from_sql) in [(from, &a), (to, &b)] {
            let n = repeated(conn, from_sql, &key)?;
            if n > 0 && note.is_none() {
                note = Some(format!(
                    "the key ({}) is not unique at snapshot {at} ({n} values repeat): \
                     whole rows were compared instead",
                    key.join(", ")
                ));
            }
        }
        if note.is_some() {
            key.clear();
            key_source = None;
        }
    }
    Ok(Versions {
        a,
        b,
        old_cols,
        new_cols,
        schema,
        common,
        key,
        key_source,
        note,
    })
}

impl Lake {
    /// The difference of `req.table` between snapshots `req.from` and `req.to`, matching rows
    /// by the key asked for (else the cache's declared key) when it is unique in both (else
    /// whole rows), with `req.limit` differing rows of kind `req.only` (all kinds when `None`)
    /// from `req.offset`.
    ///
    /// Errors: `NotFound` when a snapshot does not exist (naming the ids the lake holds) or
    /// the table did not exist at one (naming the tables that did); `InvalidInput` for a key
    /// column that is not in both versions (naming the columns they share) or a page size
    /// outside 1–1000.
    pub async fn diff(&self, req: DiffRequest) -> Result<TableDiff> {
        let DiffRequest {
            table,
            from,
            to,
            key,
            only,
            limit,
            offset,
        } = req;
        if limit == 0 || limit > DIFF_PAGE_MAX {
            return Err(Error::InvalidInput(format!(
                "the diff's page size must be 1 to {DIFF_PAGE_MAX} rows, not {limit}"
            )));
        }
        let asked = table.clone();
        let qualified = qualified(&table)?;
        self.read(move |conn, lake| {
            let v = versions(conn, lake, &asked, &qualified, from, to, key)?;
            let names = v.names();
            if names.is_empty() {
                return Ok(TableDiff {
                    table: asked,
                    from,
                    to,
                    key: Vec::new(),
                    key_source: None,
                    only,
                    offset,
                    note: v.note,
                    columns: names,
                    schema: v.schema,
                    added: 0,
                    removed: 0,
                    changed: 0,
                    rows: Vec::new(),
                });
            }
            let Versions { a, b, common, schema, key, key_source, note, .. } = v;
            // The compared columns, a retyped one as text on both sides.
            let select = common
                .iter()
                .map(|(n, retyped)| {
                    if *retyped {
                        format!("CAST({} AS VARCHAR) AS {}", ident(n), ident(n))
                    } else {
                        ident(n)
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            let width = common.len();
            let (body, order) = if key.is_empty() {
                (
                    format!(
                        "SELECT 'added' AS kind, * FROM (SELECT {select} FROM {b} EXCEPT ALL \
                         SELECT {select} FROM {a}) \
                         UNION ALL SELECT 'removed' AS kind, * FROM (SELECT {select} FROM {a} \
                         EXCEPT ALL SELECT {select} FROM {b})"
                    ),
                    "ORDER BY ALL".to_owned(),
                )
            } else {
                let on = key
                    .iter()
                    .map(|k| format!("o.{0} IS NOT DISTINCT FROM n.{0}", ident(k)))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                let others: Vec<&String> = names.iter().filter(|n| !key.contains(n)).collect();
                let differs = |n: &String| format!("o.{0} IS DISTINCT FROM n.{0}", ident(n));
                let any = if others.is_empty() {
                    "false".to_owned()
                } else {
                    others.iter().map(|n| differs(n)).collect::<Vec<_>>().join(" OR ")
                };
                let cols = |side: &str| {
                    names
                        .iter()
                        .map(|n| format!("{side}.{}", ident(n)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let flags = names
                    .iter()
                    .map(|n| {
                        if others.contains(&n) {
                            differs(n)
                        } else {
                            "false".to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let keys = key.iter().map(|k| format!("coalesce(n.{0}, o.{0})", ident(k)));
                (
                    format!(
                        "SELECT CASE WHEN o.__skein_in IS NULL THEN 'added' \
                         WHEN n.__skein_in IS NULL THEN 'removed' ELSE 'changed' END AS kind, \
                         o.__skein_in AS __old, n.__skein_in AS __new, {}, {}, {flags}, {} \
                         FROM (SELECT {select}, true AS __skein_in FROM {a}) o \
                         FULL JOIN (SELECT {select}, true AS __skein_in FROM {b}) n ON {on} \
                         WHERE o.__skein_in IS NULL OR n.__skein_in IS NULL OR {any}",
                        cols("o"),
                        cols("n"),
                        keys.enumerate()
                            .map(|(i, e)| format!("{e} AS __k{i}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    format!(
                        "ORDER BY CASE kind WHEN 'added' THEN 0 WHEN 'removed' THEN 1 ELSE 2 END, {}",
                        (0..key.len()).map(|i| format!("__k{i}")).collect::<Vec<_>>().join(", ")
                    ),
                )
            };
            let (added, removed, changed) = conn
                .query_row(
                    &format!(
                        "SELECT count(*) FILTER (WHERE kind = 'added'), \
                         count(*) FILTER (WHERE kind = 'removed'), \
                         count(*) FILTER (WHERE kind = 'changed') FROM ({body})"
                    ),
                    [],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)),
                )
                .map_err(Error::duck(format!("comparing {asked} at {from} and {to}")))?;
            let filter = match only {
                None => String::new(),
                Some(DiffKind::Added) => " WHERE kind = 'added'".into(),
                Some(DiffKind::Removed) => " WHERE kind = 'removed'".into(),
                Some(DiffKind::Changed) => " WHERE kind = 'changed'".into(),
            };
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM ({body}){filter} {order} LIMIT {limit} OFFSET {offset}"))
                .map_err(Error::duck(format!("comparing {asked} at {from} and {to}")))?;
            let mut rows = stmt
                .query([])
                .map_err(Error::duck(format!("comparing {asked} at {from} and {to}")))?;
            let mut out = Vec::new();
            let cell = |row: &duckdb::Row, i: usize| -> Result<Cell> {
                Ok(to_cell(
                    row.get::<_, duckdb::types::Value>(i)
                        .map_err(Error::duck("reading a value"))?,
                ))
            };
            while let Some(row) = rows.next().map_err(Error::duck("reading the diff"))? {
                let kind = match row.get::<_, String>(0).map_err(Error::duck("reading the diff"))?.as_str() {
                    "added" => DiffKind::Added,
                    "removed" => DiffKind::Removed,
                    _ => DiffKind::Changed,
                };
                let side = |start: usize| -> Result<Vec<Cell>> {
                    (start..start + width).map(|i| cell(row, i)).collect()
                };
                out.push(if key.is_empty() {
                    let cells = side(1)?;
                    match kind {
                        DiffKind::Added => DiffRow { kind, old: None, new: Some(cells), changed: Vec::new() },
                        _ => DiffRow { kind, old: Some(cells), new: None, changed: Vec::new() },
                    }
                } else {
                    let mut changed = Vec::new();
                    for (j, n) in names.iter().enumerate() {
                        if row.get::<_, Option<bool>>(3 + 2 * width + j).map_err(Error::duck("reading the diff"))? == Some(true) {
                            changed.push(n.clone());
                        }
                    }
                    DiffRow {
                        kind,
                        old: (kind != DiffKind::Added).then(|| side(3)).transpose()?,
                        new: (kind != DiffKind::Removed).then(|| side(3 + width)).transpose()?,
                        changed: if kind == DiffKind::Changed { changed } else { Vec::new() },
                    }
                });
            }
            Ok(TableDiff {
                table: asked,
                from,
                to,
                key,
                key_source,
                only,
                offset,
                note,
                columns: names,
                schema,
                added: added.max(0) as u64,
                removed: removed.max(0) as u64,
                changed: changed.max(0) as u64,
                rows: out,
            })
        })
        .await
    }
}
