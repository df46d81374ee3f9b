//! A table as of two snapshots, row beside row: every row of both versions (not only the
//! differing ones, as in [`crate::diff`]), aligned so that a row's old and new versions sit on
//! one line, in key order, for two grids scrolled together.
//!
//! Rows are aligned by the same key the diff matches by (the one asked for, else the cache's
//! declared key, when unique in both versions). Without one, whole rows are aligned: equal
//! rows (on the columns both versions have) pair up, the n-th copy of a duplicated row with
//! the n-th copy, so a row is either in both, only in the older version or only in the newer.
//! Computed in DuckDB from `AT (VERSION => from)` and `AT (VERSION => to)`, `to` defaulting to
//! the current snapshot.

use serde::{Deserialize, Serialize};

use crate::diff::{versions, DiffKind, SchemaDiff, Versions};
use crate::error::{Error, Result};
use crate::lake::{ident, Lake};
use crate::snapshot::{qualified, Column};
use crate::value::{to_cell, Cell};

/// The largest page [`Lake::side_by_side`] returns.
pub const SIDE_PAGE_MAX: u32 = 1000;

/// Which table, which two snapshots, and which lines of the aligned rows to return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SideBySideRequest {
    /// `table` (schema `main`) or `schema.table`.
    pub table: String,
    /// The snapshot id of the left grid (usually the older one).
    pub from: i64,
    /// The snapshot id of the right grid; `null`: the current snapshot.
    #[serde(default)]
    pub to: Option<i64>,
    /// Columns that align rows; `null`: the cache's declared key when the table is a cache's,
    /// else whole rows; `[]`: whole rows.
    #[serde(default)]
    pub key: Option<Vec<String>>,
    /// Lines in the page (1–`SIDE_PAGE_MAX`, 1000).
    pub limit: u32,
    /// Lines to skip, in key order.
    pub offset: u32,
}

/// One line of the two grids: a row in the left version, the right version, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SideRow {
    /// How the row differs; `null` when it is the same in both versions.
    pub kind: Option<DiffKind>,
    /// The row in the left version, in [`SideBySide::left`] column order (`null`: added).
    pub left: Option<Vec<Cell>>,
    /// The row in the right version, in [`SideBySide::right`] column order (`null`: removed).
    pub right: Option<Vec<Cell>>,
    /// For a changed row, the columns (both versions have) whose values differ.
    pub changed: Vec<String>,
}

/// A table as of snapshot `from` beside the same table as of snapshot `to`, one page of lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SideBySide {
    /// The table as asked.
    pub table: String,
    /// The left grid's snapshot id.
    pub from: i64,
    /// The right grid's snapshot id (the current one when none was asked).
    pub to: i64,
    /// Whether `to` is the lake's current snapshot when read.
    pub to_is_current: bool,
    /// The key lines are aligned and ordered by; empty when whole rows were aligned.
    pub key: Vec<String>,
    /// `asked`, `cache`, or `null` when whole rows were aligned.
    pub key_source: Option<String>,
    /// Why the key asked for was not used, when it was not.
    pub note: Option<String>,
    /// The left version's columns.
    pub left: Vec<Column>,
    /// The right version's columns.
    pub right: Vec<Column>,
    /// Columns added, dropped, retyped between the two.
    pub schema: SchemaDiff,
    /// Lines in all (rows in both, plus rows in one only).
    pub total: u64,
    /// Lines whose row is the same in both.
    pub same: u64,
    /// Rows only on the right.
    pub added: u64,
    /// Rows only on the left.
    pub removed: u64,
    /// Rows on both sides with other values.
    pub changed: u64,
    /// The first line of the page.
    pub offset: u32,
    /// The page of lines.
    pub rows: Vec<SideRow>,
    /// The line of the first difference after the page, if any (to jump to it).
    pub next_difference: Option<u64>,
    /// The line of the last difference before the page, if any.
    pub previous_difference: Option<u64>,
}

impl Lake {
    /// `req.table` as of snapshot `req.from` beside itself as of `req.to` (the current
    /// snapshot when `None`): `req.limit` aligned lines from `req.offset`, in key order, with
    /// the counts of each kind of line and where the nearest differences outside the page are.
    ///
    /// Errors: as [`Lake::diff`] — `NotFound` for a snapshot or a table that does not exist,
    /// `InvalidInput` for a key column not in both versions or a page size outside 1–1000.
    pub async fn side_by_side(&self, req: SideBySideRequest) -> Result<SideBySide> {
        let SideBySideRequest {
            table,
            from,
            to,
            key,
            limit,
            offset,
        } = req;
        if limit == 0 || limit > SIDE_PAGE_MAX {
            return Err(Error::InvalidInput(format!(
                "the side-by-side page size must be 1 to {SIDE_PAGE_MAX} lines, not {limit}"
            )));
        }
        let qualified = qualified(&table)?;
        self.read(move |conn, lake| {
            let current: i64 = conn
                .query_row(
                    &format!("SELECT * FROM {}.current_snapshot()", ident(lake)),
                    [],
                    |r| r.get(0),
                )
                .map_err(Error::duck("reading the current snapshot"))?;
            let to = to.unwrap_or(current);
            let v = versions(conn, lake, &table, &qualified, from, to, key)?;
            let mut out = SideBySide {
                table: table.clone(),
                from,
                to,
                to_is_current: to == current,
                key: v.key.clone(),
                key_source: v.key_source.clone(),
                note: v.note.clone(),
                left: v.old_cols.clone(),
                right: v.new_cols.clone(),
                schema: v.schema.clone(),
                total: 0,
                same: 0,
                added: 0,
                removed: 0,
                changed: 0,
                offset,
                rows: Vec::new(),
                next_difference: None,
                previous_difference: None,
            };
            if v.common.is_empty() {
                return Ok(out);
            }
            let q = Aligned::new(&v);
            let what = || format!("reading {table} at {from} beside {to}");
            let end = u64::from(offset) + u64::from(limit);
            let (total, same, added, removed, changed, next, previous) = conn
                .query_row(
                    &format!(
                        "SELECT count(*), count(*) FILTER (WHERE kind = 'same'), \
                         count(*) FILTER (WHERE kind = 'added'), \
                         count(*) FILTER (WHERE kind = 'removed'), \
                         count(*) FILTER (WHERE kind = 'changed'), \
                         min(pos) FILTER (WHERE kind <> 'same' AND pos >= {end}), \
                         max(pos) FILTER (WHERE kind <> 'same' AND pos < {offset}) \
                         FROM (SELECT kind, row_number() OVER (ORDER BY {order}) - 1 AS pos FROM ({body}))",
                        order = q.order,
                        body = q.body,
                    ),
                    [],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, i64>(4)?,
                            r.get::<_, Option<i64>>(5)?,
                            r.get::<_, Option<i64>>(6)?,
                        ))
                    },
                )
                .map_err(Error::duck(what()))?;
            let n = |x: i64| x.max(0) as u64;
            (out.total, out.same, out.added, out.removed, out.changed) =
                (n(total), n(same), n(added), n(removed), n(changed));
            out.next_difference = next.map(n);
            out.previous_difference = previous.map(n);
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT * FROM ({}) ORDER BY {} LIMIT {limit} OFFSET {offset}",
                    q.body, q.order
                ))
                .map_err(Error::duck(what()))?;
            let mut rows = stmt.query([]).map_err(Error::duck(what()))?;
            let (l, r) = (v.old_cols.len(), v.new_cols.len());
            let cell = |row: &duckdb::Row, i: usize| -> Result<Cell> {
                Ok(to_cell(
                    row.get::<_, duckdb::types::Value>(i)
                        .map_err(Error::duck("reading a value"))?,
                ))
            };
            while let Some(row) = rows.next().map_err(Error::duck(what()))? {
                let kind = match row.get::<_, String>(0).map_err(Error::duck(what()))?.as_str() {
                    "added" => Some(DiffKind::Added),
                    "removed" => Some(DiffKind::Removed),
                    "changed" => Some(DiffKind::Changed),
                    _ => None,
                };
                let in_left = row.get::<_, Option<bool>>(1).map_err(Error::duck(what()))?.is_some();
                let in_right = row.get::<_, Option<bool>>(2).map_err(Error::duck(what()))?.is_some();
                let side = |start: usize, width: usize| -> Result<Vec<Cell>> {
                    (start..start + width).map(|i| cell(row, i)).collect()
                };
                let mut changed = Vec::new();
                if kind == Some(DiffKind::Changed) {
                    for (j, name) in q.others.iter().enumerate() {
                        if row.get::<_, Option<bool>>(3 + l + r + j).map_err(Error::duck(what()))? == Some(true) {
                            changed.push(name.clone());
                        }
                    }
                }
                out.rows.push(SideRow {
                    kind,
                    left: in_left.then(|| side(3, l)).transpose()?,
                    right: in_right.then(|| side(3 + l, r)).transpose()?,
                    changed,
                });
            }
            Ok(out)
        })
        .await
    }
}

/// The aligned lines as SQL: `body` yields `kind` (`same`/`added`/`removed`/`changed`), the
/// presence of each side, the left columns, the right columns, one flag per compared non-key
/// column, then the sort keys; `order` sorts by them.
struct Aligned {
    body: String,
    order: String,
    /// The compared columns that are not the key, in flag order.
    others: Vec<String>,
}

impl Aligned {
    fn new(v: &Versions) -> Self {
        let names = v.names();
        let whole = v.key.is_empty();
        // Whole rows: every common column aligns, plus the copy number of a duplicated row.
        let matched: Vec<String> = if whole { names.clone() } else { v.key.clone() };
        let others: Vec<String> = names
            .iter()
            .filter(|n| !matched.contains(n))
            .cloned()
            .collect();
        let position = |n: &String| names.iter().position(|m| m == n).unwrap_or(0);
        let compared = names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{} AS __c{i}", v.compared(n)))
            .collect::<Vec<_>>()
            .join(", ");
        let dup = if whole {
            let all = names
                .iter()
                .map(|n| v.compared(n))
                .collect::<Vec<_>>()
                .join(", ");
            format!(", row_number() OVER (PARTITION BY {all}) AS __dup")
        } else {
            String::new()
        };
        let side = |from: &str, cols: &[Column], prefix: &str| {
            let own = cols
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{} AS __{prefix}{i}", ident(&c.name)))
                .collect::<Vec<_>>()
                .join(", ");
            format!("SELECT {own}, {compared}{dup}, true AS __in FROM {from}")
        };
        let mut on: Vec<String> = matched
            .iter()
            .map(|n| format!("o.__c{0} IS NOT DISTINCT FROM n.__c{0}", position(n)))
            .collect();
        if whole {
            on.push("o.__dup = n.__dup".into());
        }
        let differs = |n: &String| format!("o.__c{0} IS DISTINCT FROM n.__c{0}", position(n));
        let any = if others.is_empty() {
            "false".to_owned()
        } else {
            others.iter().map(differs).collect::<Vec<_>>().join(" OR ")
        };
        let flags: String = others.iter().map(|n| format!(", {}", differs(n))).collect();
        let lefts: String = (0..v.old_cols.len())
            .map(|i| format!(", o.__l{i}"))
            .collect();
        let rights: String = (0..v.new_cols.len())
            .map(|i| format!(", n.__r{i}"))
            .collect();
        let mut keys: Vec<String> = matched
            .iter()
            .map(|n| format!("coalesce(n.__c{0}, o.__c{0})", position(n)))
            .collect();
        if whole {
            keys.push("coalesce(n.__dup, o.__dup)".into());
        }
        let key_cols: String = keys
            .iter()
            .enumerate()
            .map(|(i, e)| format!(", {e} AS __k{i}"))
            .collect();
        let body = format!(
            "SELECT CASE WHEN o.__in IS NULL THEN 'added' WHEN n.__in IS NULL THEN 'removed' \
             WHEN {any} THEN 'changed' ELSE 'same' END AS kind, o.__in AS __old, n.__in AS __new\
             {lefts}{rights}{flags}{key_cols} \
             FROM ({}) o FULL JOIN ({}) n ON {}",
            side(&v.a, &v.old_cols, "l"),
            side(&v.b, &v.new_cols, "r"),
            on.join(" AND ")
        );
        let order = (0..keys.len())
            .map(|i| format!("__k{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        Aligned {
            body,
            order,
            others,
        }
    }
}
