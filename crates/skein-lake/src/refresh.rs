//! Smart refresh of a cache, atomic and never recording stale data as fresh:
//!
//! 1. TTL check: within the TTL, a refresh whose monitored tables are unchanged is SKIPPED;
//!    past it (or with `force`), the cache is rewritten whatever the tables say. A
//!    definition edited since the last refresh (its digest, [`CacheDefinition::digest`],
//!    differs from the one the refresh recorded) is never SKIPPED: "definition changed".
//!    "Unchanged" is asked of the change feed when the last refresh was marked by it (a
//!    catalog query, no scan: [`crate::feed`]), else of a scan fingerprint
//!    ([`skein_pg::Fingerprint`]); a feed that cannot tell is never taken for "unchanged".
//! 2. The mark of the monitored tables (a feed mark: the primary's snapshot; or a scan
//!    fingerprint) is taken on the primary **before** any data is read, with the primary LSN
//!    it is valid at ([`crate::detect`]).
//! 3. The source query is read through DuckDB's `postgres` extension
//!    (`postgres_query('src_<node>', …)`, the query runs as written on the server) from a
//!    replica whose `pg_last_wal_replay_lsn()` has reached that LSN — waiting up to
//!    [`CATCH_UP_WAIT`] for one — else from the primary.
//! 4. The new data (`CREATE OR REPLACE TABLE <lake>.main.<cache>`) and the refresh record (with
//!    the mark, its LSN and the definition's digest) land
//!    in one DuckLake commit with author `skein` and message `refresh cache <name>`. On any
//!    error the transaction rolls back: the previous contents and snapshot stay as they were.
//!
//! A write that commits after step 2 is not seen by the mark (its transaction is not visible
//! in the mark's snapshot, or it moves the scan fingerprint), so the next refresh is
//! REFRESHED, never SKIPPED.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use skein_core::ErrorInfo;
use skein_pg::{fingerprint::replay_lsn, Cluster, Lsn, Node};

use crate::cache::{
    commit, now_ms, refresh_extra_info, CacheDefinition, RefreshRecord, REFRESH_COLUMNS,
};
use crate::error::{Error, Result};
use crate::feed::Verdict;
use crate::lake::{ident, lit, Lake};

/// How long a refresh waits for a replica to replay up to the fingerprint's LSN before it
/// reads from the primary instead.
pub const CATCH_UP_WAIT: Duration = Duration::from_secs(2);

/// What a refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "UPPERCASE")]
pub enum RefreshResult {
    /// Nothing to do: the monitored tables are unchanged and the TTL has not passed.
    Skipped,
    /// New data was written in one lake commit.
    Refreshed,
    /// The refresh failed; the previous contents are unchanged.
    Error,
}

/// The outcome of one refresh, as `skein cache refresh --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RefreshOutcome {
    /// Cache name.
    pub cache: String,
    /// SKIPPED, REFRESHED or ERROR.
    pub result: RefreshResult,
    /// One line for a person: why it skipped, what it wrote, or what failed.
    pub message: String,
    /// Rows in the cache after this refresh (the previous count when skipped; `None` on error
    /// before any refresh).
    pub rows: Option<u64>,
    /// Wall time of this call, ms.
    pub duration_ms: u64,
    /// The snapshot that holds the cache's data after this call.
    pub snapshot_id: Option<i64>,
    /// The node that served the read (REFRESHED only).
    pub served_by: Option<String>,
    /// The error, on ERROR.
    pub error: Option<ErrorInfo>,
}

impl Lake {
    /// Refreshes one cache (see the module header). Never returns `Err` for a failure of the
    /// refresh itself: that is an outcome with result ERROR and the error inside. `Err` only
    /// when the cache does not exist.
    pub async fn refresh_cache(
        &self,
        cluster: &Cluster,
        name: &str,
        force: bool,
    ) -> Result<RefreshOutcome> {
        self.refresh_with(cluster, name, force, false).await
    }

    /// A refresh that writes only when the monitored tables or the definition changed,
    /// whatever the TTL says: what a scheduler runs once a cache's TTL has passed (SKIPPED
    /// when nothing changed).
    pub async fn refresh_cache_if_changed(
        &self,
        cluster: &Cluster,
        name: &str,
    ) -> Result<RefreshOutcome> {
        self.refresh_with(cluster, name, false, true).await
    }

    async fn refresh_with(
        &self,
        cluster: &Cluster,
        name: &str,
        force: bool,
        ignore_ttl: bool,
    ) -> Result<RefreshOutcome> {
        let started = Instant::now();
        let (def, last) = match self.cache_and_last_refresh(name).await {
            Ok((def, last)) => (def, Ok(last)),
            Err(Error::NotFound(m)) => return Err(Error::NotFound(m)),
            Err(e) => (self.cache_definition(name).await?, Err(e)),
        };
        let outcome = match last {
            Ok(last) => match self
                .refresh_inner(cluster, &def, last.as_ref(), force, ignore_ttl, started)
                .await
            {
                Ok(o) => o,
                Err(e) => error_outcome(name, last.as_ref(), &e, started),
            },
            Err(e) => error_outcome(name, None, &e, started),
        };
        match (&outcome.result, &outcome.error) {
            (RefreshResult::Error, Some(e)) => tracing::warn!(
                cache = name,
                code = %e.code,
                duration_ms = outcome.duration_ms,
                "cache refresh failed: {}",
                e.message
            ),
            (RefreshResult::Refreshed, _) => tracing::info!(
                cache = name,
                rows = outcome.rows.unwrap_or(0),
                served_by = outcome.served_by.as_deref().unwrap_or("-"),
                snapshot = outcome.snapshot_id.unwrap_or(-1),
                duration_ms = outcome.duration_ms,
                "cache refreshed: {}",
                outcome.message
            ),
            _ => tracing::debug!(
                cache = name,
                duration_ms = outcome.duration_ms,
                "cache refresh skipped: {}",
                outcome.message
            ),
        }
        Ok(outcome)
    }

    async fn refresh_inner(
        &self,
        cluster: &Cluster,
        def: &CacheDefinition,
        last: Option<&RefreshRecord>,
        force: bool,
        ignore_ttl: bool,
        started: Instant,
    ) -> Result<RefreshOutcome> {
        let definition = def.digest();
        let edited = last.is_some_and(|r| r.definition_digest.as_deref() != Some(&definition));
        let expired = !ignore_ttl
            && last.is_some_and(|r| {
                def.ttl_seconds
                    .is_some_and(|ttl| now_ms() - r.refreshed_at_ms > (ttl as i64) * 1000)
            });
        let feed = self.change_feed(cluster).await;
        let mut changed = None;
        if let (Some(r), false, false, false) = (last, force, expired, edited) {
            match self
                .changed_since(cluster, &def.monitor, &r.fingerprint, Some(&feed))
                .await?
            {
                Verdict::Unchanged => {
                    return Ok(RefreshOutcome {
                        cache: def.name.clone(),
                        result: RefreshResult::Skipped,
                        message: format!(
                            "monitored tables ({}) unchanged since the last refresh{}",
                            def.monitor.join(", "),
                            r.snapshot_id
                                .map(|s| format!(" (snapshot {s})"))
                                .unwrap_or_default()
                        ),
                        rows: Some(r.rows),
                        duration_ms: started.elapsed().as_millis() as u64,
                        snapshot_id: r.snapshot_id,
                        served_by: None,
                        error: None,
                    });
                }
                Verdict::Changed(why) | Verdict::Unknown(why) => changed = Some(why),
            }
        }
        let reason = match (last, edited, force, expired) {
            (None, ..) => "first refresh".to_owned(),
            (_, true, ..) => "definition changed".to_owned(),
            (_, _, true, _) => "forced".to_owned(),
            (_, _, _, true) => "TTL expired".to_owned(),
            _ => format!(
                "monitored tables changed ({})",
                changed.unwrap_or_else(|| "by the change log".into())
            ),
        };
        // Taken before any data is read: a write after it is not in the mark.
        let (marks, mark_lsn, _) = self
            .take_marks(cluster, &[&def.monitor], Some(&feed))
            .await?;
        let digest = marks.into_iter().next().unwrap_or_default();
        let source = pick_source(cluster, mark_lsn).await;
        let refresh_id = uuid::Uuid::new_v4().to_string();
        let extra = refresh_extra_info(&def.name, &refresh_id);
        let (name, query, served_by) = (
            def.name.clone(),
            def.query.clone(),
            source.name().to_owned(),
        );
        let lsn = mark_lsn.to_string();
        let (rid, sb) = (refresh_id.clone(), served_by.clone());
        let rows = self
            .run_with_source(source, move |conn, lake, src| {
                let l = ident(lake);
                commit(conn, lake, &format!("refresh cache {name}"), &extra, |c| {
                    c.execute_batch(&format!(
                        "CREATE OR REPLACE TABLE {l}.main.{} AS SELECT * FROM postgres_query({}, {})",
                        ident(&name),
                        lit(src),
                        lit(&query)
                    ))
                    .map_err(Error::duck(format!("reading the source query of {name} from {sb}")))?;
                    let rows: i64 = c
                        .query_row(&format!("SELECT count(*) FROM {l}.main.{}", ident(&name)), [], |r| r.get(0))
                        .map_err(Error::duck("counting the cached rows"))?;
                    let duration_ms = started.elapsed().as_millis() as i64;
                    c.execute(
                        &format!("INSERT INTO {l}.skein.cache_refreshes {REFRESH_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                        duckdb::params![name, rid, now_ms(), digest, lsn, sb, rows, duration_ms, definition],
                    )
                    .map_err(Error::duck("recording the refresh"))?;
                    Ok(rows.max(0) as u64)
                })
            })
            .await?;
        let snapshot_id = self.snapshot_of_refresh(&refresh_id).await?;
        Ok(RefreshOutcome {
            cache: def.name.clone(),
            result: RefreshResult::Refreshed,
            message: format!("{reason}: wrote {rows} rows read from {served_by}"),
            rows: Some(rows),
            duration_ms: started.elapsed().as_millis() as u64,
            snapshot_id,
            served_by: Some(served_by),
            error: None,
        })
    }
}

impl Lake {
    /// The snapshot a refresh committed (found by the `refresh_id` in its
    /// `commit_extra_info`).
    pub(crate) async fn snapshot_of_refresh(&self, refresh_id: &str) -> Result<Option<i64>> {
        let rid = refresh_id.to_owned();
        self.read(move |conn, lake| {
            conn.query_row(
                &format!(
                    "SELECT max(snapshot_id) FROM {}.snapshots() WHERE json_extract_string(commit_extra_info, '$.refresh_id') = ?",
                    ident(lake)
                ),
                [rid],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map_err(Error::duck("finding the refresh's snapshot"))
        })
        .await
    }
}

/// The first replica (in profile order) whose replay LSN has reached `lsn`, waiting up to
/// [`CATCH_UP_WAIT`]; the primary when none has.
pub(crate) async fn pick_source(cluster: &Cluster, lsn: Lsn) -> &Node {
    let deadline = Instant::now() + CATCH_UP_WAIT;
    loop {
        let positions =
            futures_util::future::join_all(cluster.replicas.iter().map(replay_lsn)).await;
        if let Some((node, _)) = cluster
            .replicas
            .iter()
            .zip(positions)
            .find(|(_, p)| matches!(p, Ok(p) if *p >= lsn))
        {
            return node;
        }
        if cluster.replicas.is_empty() || Instant::now() >= deadline {
            return &cluster.primary;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn error_outcome(
    name: &str,
    last: Option<&RefreshRecord>,
    e: &Error,
    started: Instant,
) -> RefreshOutcome {
    RefreshOutcome {
        cache: name.to_owned(),
        result: RefreshResult::Error,
        message: format!("{e}; the previous contents are unchanged"),
        rows: last.map(|r| r.rows),
        duration_ms: started.elapsed().as_millis() as u64,
        snapshot_id: last.and_then(|r| r.snapshot_id),
        served_by: None,
        error: Some(ErrorInfo {
            code: e.code(),
            message: e.to_string(),
        }),
    }
}
