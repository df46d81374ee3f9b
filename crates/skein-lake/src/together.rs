//! A consistent snapshot of several caches (MotherDuck's `CREATE SNAPSHOT`, for caches): the
//! chosen caches are refreshed from **one** PostgreSQL snapshot and written in **one**
//! DuckLake commit, so a reader of the lake sees them all as of the same point of the primary.
//!
//! 1. One fingerprint of every monitored table, in one REPEATABLE READ transaction on the
//!    primary, with the primary LSN it is valid at (as for a single refresh).
//! 2. A source that has replayed up to that LSN (a replica, else the primary).
//! 3. One DuckDB transaction: DuckDB's `postgres` extension runs every `postgres_query` of a
//!    DuckDB transaction in one PostgreSQL transaction (REPEATABLE READ) on its connection, so
//!    the source queries share one snapshot. Its first statement reads the source's position
//!    (`pg_last_wal_replay_lsn()` on a replica, `pg_current_wal_lsn()` on the primary), which
//!    the commit records as `lsn` in `commit_extra_info` and in every cache's refresh record.
//! 4. All caches' data and refresh records (each with its definition's digest) land in that
//!    one commit, message
//!    `snapshot caches a, b together at <lsn>`; on any error nothing changes.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use skein_pg::Cluster;

use crate::cache::{now_ms, CacheDefinition, REFRESH_COLUMNS};
use crate::error::{Error, Result};
use crate::lake::{ident, lit, Lake};
use crate::AUTHOR;

/// One cache a consistent snapshot wrote, and the rows it holds now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CacheRows {
    /// Cache name.
    pub name: String,
    /// Rows the cache holds after the commit (`count(*)` of its lake table in that commit).
    pub rows: u64,
}

/// What a consistent snapshot of caches wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CachesSnapshot {
    /// The caches and the rows each holds now, in the order asked.
    pub caches: Vec<CacheRows>,
    /// The one DuckLake snapshot that holds them all.
    pub snapshot_id: Option<i64>,
    /// The source's WAL position the data was read at (see the module header).
    pub lsn: String,
    /// The node that served the reads.
    pub served_by: String,
    /// Wall time, ms.
    pub duration_ms: u64,
}

impl Lake {
    /// Refreshes `names` (all caches when empty) together, as one consistent snapshot (see the
    /// module header). Errors: `NotFound` for an unknown cache; any read or write error, in
    /// which case no cache changed.
    pub async fn snapshot_caches(
        &self,
        cluster: &Cluster,
        names: &[String],
    ) -> Result<CachesSnapshot> {
        let started = Instant::now();
        let defs: Vec<CacheDefinition> = if names.is_empty() {
            self.cache_definitions().await?
        } else {
            let mut defs = Vec::with_capacity(names.len());
            for n in names {
                defs.push(self.cache_definition(n).await?);
            }
            defs
        };
        if defs.is_empty() {
            return Err(Error::InvalidInput(
                "there are no caches to snapshot: create one first".into(),
            ));
        }
        // Each cache's mark as its own smart refresh takes it (one snapshot for all), so the
        // next refresh skips.
        let lists: Vec<&[String]> = defs.iter().map(|d| d.monitor.as_slice()).collect();
        let (digests, mark_lsn, _) = self.take_marks(cluster, &lists, None).await?;
        let source = crate::refresh::pick_source(cluster, mark_lsn).await;
        let served_by = source.name().to_owned();
        let refresh_id = uuid::Uuid::new_v4().to_string();
        let names: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
        let (rid, sb) = (refresh_id.clone(), served_by.clone());
        let (lsn, rows) = self
            .run_with_source(source, move |conn, lake, src| {
                let l = ident(lake);
                conn.execute_batch("BEGIN TRANSACTION")
                    .map_err(Error::duck("starting a lake transaction"))?;
                let work = || -> Result<(String, Vec<CacheRows>)> {
                    // The first query on the source opens the PostgreSQL transaction whose
                    // snapshot every query below shares; it reads the source's position.
                    let lsn: String = conn
                        .query_row(
                            &format!(
                                "SELECT l::VARCHAR FROM postgres_query({}, 'SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS l')",
                                lit(src)
                            ),
                            [],
                            |r| r.get(0),
                        )
                        .map_err(Error::duck(format!("reading the WAL position of {sb}")))?;
                    let mut out = Vec::with_capacity(defs.len());
                    for (d, digest) in defs.iter().zip(&digests) {
                        let t0 = Instant::now();
                        conn.execute_batch(&format!(
                            "CREATE OR REPLACE TABLE {l}.main.{} AS SELECT * FROM postgres_query({}, {})",
                            ident(&d.name),
                            lit(src),
                            lit(&d.query)
                        ))
                        .map_err(Error::duck(format!("reading the source query of {} from {sb}", d.name)))?;
                        let n: i64 = conn
                            .query_row(&format!("SELECT count(*) FROM {l}.main.{}", ident(&d.name)), [], |r| r.get(0))
                            .map_err(Error::duck("counting the cached rows"))?;
                        conn.execute(
                            &format!("INSERT INTO {l}.skein.cache_refreshes {REFRESH_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                            duckdb::params![d.name, rid, now_ms(), digest, lsn, sb, n, t0.elapsed().as_millis() as i64, d.digest()],
                        )
                        .map_err(Error::duck("recording the refresh"))?;
                        out.push(CacheRows {
                            name: d.name.clone(),
                            rows: n.max(0) as u64,
                        });
                    }
                    let message = format!("snapshot caches {} together at {lsn}", names.join(", "));
                    let extra = serde_json::json!({ "caches": names, "refresh_id": rid, "lsn": lsn }).to_string();
                    conn.execute_batch(&format!(
                        "CALL {l}.set_commit_message({}, {}, extra_info => {})",
                        lit(AUTHOR),
                        lit(&message),
                        lit(&crate::identity::stamp(&extra))
                    ))
                    .map_err(Error::duck("setting the commit message"))?;
                    conn.execute_batch("COMMIT")
                        .map_err(Error::duck("committing the caches' snapshot"))?;
                    Ok((lsn, out))
                };
                let result = work();
                if result.is_err() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                let (lsn, rows) = result?;
                Ok((lsn, rows))
            })
            .await?;
        let snapshot_id = self.snapshot_of_refresh(&refresh_id).await?;
        Ok(CachesSnapshot {
            caches: rows,
            snapshot_id,
            lsn,
            served_by,
            duration_ms: started.elapsed().as_millis() as u64,
        })
    }
}
