//! Reads the router sends to the lake: a fresh cache's table, or a statement whose cached
//! parts read from the lake while the rest is read live from a PostgreSQL replica attached
//! read-only (DuckDB's `postgres` extension). Both run on the reader connection, so they
//! never wait for a refresh.

use duckdb::Connection;
use skein_pg::Node;

use crate::error::{Error, Result};
use crate::lake::{ident, lit, Lake};

/// Rows of a read the lake served, as text.
#[derive(Debug, Clone, PartialEq)]
pub struct LakeRows {
    /// Column names.
    pub columns: Vec<String>,
    /// At most the requested number of rows; `None` is SQL NULL.
    pub rows: Vec<Vec<Option<String>>>,
    /// Rows the statement returned in all.
    pub row_count: u64,
    /// The lake snapshot read (`<lake>.current_snapshot()` at the time of the read).
    pub snapshot_id: i64,
}

fn text(v: duckdb::types::Value) -> Option<String> {
    crate::value::to_cell(v).to_text()
}

fn collect(conn: &Connection, lake: &str, sql: &str, max_rows: usize) -> Result<LakeRows> {
    let snapshot_id: i64 = conn
        .query_row(
            &format!("SELECT id FROM {}.current_snapshot()", ident(lake)),
            [],
            |r| r.get(0),
        )
        .map_err(Error::duck("reading the lake's current snapshot"))?;
    let mut stmt = conn
        .prepare(sql)
        .map_err(Error::duck("preparing the routed read in DuckDB"))?;
    let mut rows = stmt
        .query([])
        .map_err(Error::duck("running the routed read in DuckDB"))?;
    let mut out = LakeRows {
        columns: Vec::new(),
        rows: Vec::new(),
        row_count: 0,
        snapshot_id,
    };
    while let Some(row) = rows
        .next()
        .map_err(Error::duck("reading the routed read's rows"))?
    {
        let s = row.as_ref();
        if out.columns.is_empty() {
            out.columns = s.column_names();
        }
        out.row_count += 1;
        if out.rows.len() < max_rows {
            let mut values = Vec::with_capacity(s.column_count());
            for i in 0..s.column_count() {
                values.push(text(
                    row.get::<_, duckdb::types::Value>(i)
                        .map_err(Error::duck("reading a value"))?,
                ));
            }
            out.rows.push(values);
        }
    }
    if out.columns.is_empty() {
        out.columns = stmt.column_names();
    }
    Ok(out)
}

/// Runs `sql` in one DuckDB transaction (so one lake snapshot) after checking, in that
/// transaction, that each `(cache, refresh_id)` of `checked` is still its cache's newest
/// refresh: the data read is then the data of the refreshes the caller checked fresh.
fn collect_checked(
    conn: &Connection,
    lake: &str,
    sql: &str,
    max_rows: usize,
    checked: &[(String, String)],
) -> Result<LakeRows> {
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(Error::duck("starting the lake read"))?;
    let work = || -> Result<LakeRows> {
        for (cache, refresh_id) in checked {
            let newest = crate::cache::read_last_refresh(conn, lake, cache)?;
            if newest.as_ref().map(|r| &r.refresh_id) != Some(refresh_id) {
                return Err(Error::Conflict(format!(
                    "cache {cache} was refreshed between its freshness check and the read"
                )));
            }
        }
        collect(conn, lake, sql, max_rows)
    };
    let out = work();
    let _ = conn.execute_batch("ROLLBACK");
    out
}

impl Lake {
    /// Every row of cache `name` (`SELECT * FROM <lake>.main.<name>`), at most `max_rows`.
    ///
    /// Errors: `NotFound` when the lake has no such table; DuckDB's error otherwise.
    pub async fn read_cache(&self, name: &str, max_rows: usize) -> Result<LakeRows> {
        self.read_cache_checked(name, None, max_rows).await
    }

    /// [`Lake::read_cache`] of the data refresh `refresh_id` wrote: in one lake snapshot, the
    /// cache's newest refresh record is checked to be that refresh before its table is read
    /// (`None`: no check).
    ///
    /// Errors: `Conflict` when another refresh of the cache committed since (check again);
    /// `NotFound` when the lake has no such table; DuckDB's error otherwise.
    pub async fn read_cache_checked(
        &self,
        name: &str,
        refresh_id: Option<&str>,
        max_rows: usize,
    ) -> Result<LakeRows> {
        let checked: Vec<(String, String)> = refresh_id
            .map(|r| (name.to_owned(), r.to_owned()))
            .into_iter()
            .collect();
        let name = name.to_owned();
        self.read(move |conn, lake| {
            let sql = format!("SELECT * FROM {}.main.{}", ident(lake), ident(&name));
            collect_checked(conn, lake, &sql, max_rows, &checked)
        })
        .await
    }

    /// Runs `sql` (a statement the router rewrote: cache tables qualified as
    /// `<lake>.main.<name>`, other tables unqualified or `schema.table`) with `live` attached
    /// read-only as DuckDB's default catalog, so the unqualified tables are read from it.
    ///
    /// `checked`: `(cache, refresh_id)` pairs that must still be the caches' newest refreshes
    /// in the lake snapshot read (as in [`Lake::read_cache_checked`]).
    ///
    /// Errors: attaching `live` fails (naming it); DuckDB rejects the statement (its message);
    /// `Conflict` when a checked cache was refreshed since.
    pub async fn read_with_live(
        &self,
        sql: &str,
        live: &Node,
        max_rows: usize,
        checked: &[(String, String)],
    ) -> Result<LakeRows> {
        let sql = sql.to_owned();
        let checked = checked.to_vec();
        let source = format!(
            "live_{}",
            live.name()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        let conninfo = live.duckdb_conninfo();
        let node = live.name().to_owned();
        self.read(move |conn, lake| {
            conn.execute_batch(&format!(
                "ATTACH IF NOT EXISTS {} AS {} (TYPE postgres, READ_ONLY)",
                lit(&conninfo),
                ident(&source)
            ))
            .map_err(Error::duck(format!("attaching {node} to DuckDB")))?;
            conn.execute_batch(&format!("USE {}.public", ident(&source)))
                .map_err(Error::duck(format!("reading {node} by default")))?;
            let out = collect_checked(conn, lake, &sql, max_rows, &checked);
            // Back to DuckDB's own catalog for the reader's other work.
            let _ = conn.execute_batch("USE memory");
            out
        })
        .await
    }
}
