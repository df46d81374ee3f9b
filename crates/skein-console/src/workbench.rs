//! The Workbench: where a statement would go and why, before it runs ([`Console::explain_query`]);
//! running it there ([`Console::run_query`]) with the node that served it and how stale that
//! node was; and the router's per-node counters ([`Console::routing`]).
//!
//! A read that fresh caches hold is served from the lake: the whole statement from its cache
//! table, or its cached subqueries and CTEs in DuckDB joined with the rest read live from the
//! replica the router picks ([`skein_router::cache`]). Caches are checked fresh at run time
//! by an exact test (see `cached_reads.rs`: a fingerprint of the monitored tables on the
//! primary, one scan of each, and a lake read pinned to the refresh checked); one that is not
//! fresh is named in the reason and never used. Each read the lake serves is counted
//! ([`skein_router::Router::count_cache_read`], the routing table's `lake` row).
//!
//! Other statements go through the console's [`skein_router::Router`], inside a named routing
//! session kept across runs, so a `SET` or a temp table stays on its connection and a read
//! after a write sees the write (read-your-writes).

use serde::{Deserialize, Serialize};
use skein_pg::Lsn;
use skein_router::{Route, RoutingStats, Session, Target};
use tokio_postgres::SimpleQueryMessage;
use ts_rs::TS;

pub use crate::cached_reads::explain_with_caches;
use crate::cached_reads::{cache_staleness, CacheDecision};
use crate::console::Console;
use crate::error::{Error, Result};

/// Default and largest number of rows a run returns to the front end
/// ([`crate::limits::RUN_QUERY_MAX_ROWS`]).
pub const MAX_ROWS: u32 = crate::limits::RUN_QUERY_MAX_ROWS;

/// Where a statement goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum QueryTarget {
    /// The primary.
    Primary,
    /// A streaming replica.
    Replica,
    /// The lake: a fresh cache holds the result (or the cached part of it).
    Cache,
}

/// Where a statement goes and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct QueryRoute {
    /// Primary, replica or cache.
    pub target: QueryTarget,
    /// The node that serves it (`lake` for a cache).
    pub node: String,
    /// The rule that decided (`statement`, `locking`, `read`, `cache`, …).
    pub rule: String,
    /// For a person: why.
    pub reason: String,
    /// The LSN a replica must have replayed first (read-your-writes).
    pub needs_lsn: Option<Lsn>,
    /// The caches that serve it, if any.
    pub caches: Vec<String>,
}

impl From<Route> for QueryRoute {
    fn from(r: Route) -> QueryRoute {
        QueryRoute {
            target: match r.target {
                Target::Primary => QueryTarget::Primary,
                Target::Replica => QueryTarget::Replica,
            },
            node: r.node,
            rule: r.rule,
            reason: r.reason,
            needs_lsn: r.needs_lsn,
            caches: Vec::new(),
        }
    }
}

/// How far behind the primary the data that answered was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Staleness {
    /// Served by the primary: live data.
    pub live: bool,
    /// The serving replica's replay lag at the last sample, ms
    /// (`pg_stat_replication.replay_lag` on the primary).
    pub replay_lag_ms: Option<u64>,
    /// Its WAL bytes behind the primary at the last sample.
    pub lag_bytes: Option<u64>,
    /// For a cache: the lake snapshot read.
    pub snapshot_id: Option<i64>,
    /// For a cache: when it was last refreshed (RFC 3339).
    pub refreshed_at: Option<String>,
    /// For a cache: when it was checked fresh (RFC 3339): a fingerprint of its monitored
    /// tables taken then on the primary equalled the refresh's.
    pub checked_at: Option<String>,
    /// For a person.
    pub summary: String,
}

/// A statement's result, as text (PostgreSQL's text output of each value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct QueryResult {
    /// Where it ran and why.
    pub route: QueryRoute,
    /// Column names of the last statement that returned rows.
    pub columns: Vec<String>,
    /// Rows, at most `max_rows`; `null` is SQL NULL.
    pub rows: Vec<Vec<Option<String>>>,
    /// Rows the statement returned in all.
    pub row_count: u64,
    /// Whether `rows` holds fewer than `row_count`.
    pub truncated: bool,
    /// Rows affected, for a statement that returns none (`UPDATE`, `INSERT`, …).
    pub affected: Option<u64>,
    /// Wall time, ms.
    pub elapsed_ms: f64,
    /// How stale the serving node was.
    pub staleness: Staleness,
}

impl Console {
    /// The routing session named `name` (trimmed; none for an empty name), created when new;
    /// it becomes the most recently used ([`crate::sessions`]).
    fn session(&self, name: Option<&str>) -> Option<Session> {
        let name = name.map(str::trim).filter(|n| !n.is_empty())?;
        Some(self.shared.sessions.lock().ok()?.get_or_create(name))
    }

    /// The routing session named `name` if the console holds one; never creates one.
    fn existing_session(&self, name: &str) -> Option<Session> {
        let name = Some(name.trim()).filter(|n| !n.is_empty())?;
        self.shared.sessions.lock().ok()?.get(name)
    }

    /// Where `sql` would go from routing session `session` and why, without running it.
    ///
    /// Errors: `InvalidInput` for an empty statement.
    pub async fn explain_query(&self, sql: &str, session: Option<&str>) -> Result<QueryRoute> {
        let sql = nonempty(sql)?;
        let live = self.explain_live(sql, session).await;
        Ok(match self.cache_decision(sql, &live, false).await {
            CacheDecision::Lake { route, .. } => route,
            CacheDecision::Live { note } => with_note(live.into(), note),
        })
    }

    async fn explain_live(&self, sql: &str, session: Option<&str>) -> Route {
        let router = self.shared.router.clone();
        if !router.functions_known() {
            // Until pg_proc is read, every function call is classified a write.
            let _ = router.reload_functions().await;
        }
        match self.session(session) {
            Some(s) => s.scope(async { router.explain(sql) }).await,
            None => router.explain(sql),
        }
    }

    /// Runs `sql` where the router sends it, inside routing session `session`, and returns
    /// up to `max_rows` rows (1–[`MAX_ROWS`]) as text.
    ///
    /// Errors: `InvalidInput` for an empty statement or `BEGIN`/`SET` without a session;
    /// the serving node's error (naming it); `Timeout` past the console's work timeout.
    pub async fn run_query(
        &self,
        sql: &str,
        session: Option<&str>,
        max_rows: u32,
    ) -> Result<QueryResult> {
        let sql = nonempty(sql)?;
        let max_rows = max_rows.clamp(1, crate::limits::RUN_QUERY_MAX_ROWS) as usize;
        let live = self.explain_live(sql, session).await;
        let mut attempts = 0;
        let note = loop {
            attempts += 1;
            let (route, uses, live_node, statuses) =
                match self.cache_decision(sql, &live, true).await {
                    CacheDecision::Lake {
                        route,
                        uses,
                        live_node,
                        statuses,
                    } => (route, uses, live_node, statuses),
                    CacheDecision::Live { note } => break note,
                };
            // Read exactly the refreshes checked fresh: a refresh committing in between is
            // seen in the read's lake snapshot, and the check runs again.
            let checked: Vec<(String, String)> = statuses
                .iter()
                .filter_map(|s| {
                    let r = s.last_refresh.as_ref()?;
                    Some((s.definition.name.clone(), r.refresh_id.clone()))
                })
                .collect();
            match self
                .run_on_lake(&uses, &live_node, max_rows, &checked)
                .await
            {
                Ok((rows, elapsed_ms)) => {
                    self.shared.router.count_cache_read();
                    let staleness =
                        cache_staleness(&route, &rows, &statuses, self.staleness_of(&live_node));
                    return Ok(QueryResult {
                        truncated: (rows.rows.len() as u64) < rows.row_count,
                        route,
                        columns: rows.columns,
                        rows: rows.rows,
                        row_count: rows.row_count,
                        affected: None,
                        elapsed_ms,
                        staleness,
                    });
                }
                Err(e) if e.code() == skein_core::ErrorCode::Conflict && attempts < 3 => continue,
                Err(e) => {
                    break Some(format!(
                        "the lake could not serve it ({}): read live",
                        e.info().message
                    ))
                }
            }
        };
        let router = self.shared.router.clone();
        let timeout = self.options().work_timeout;
        let routing = self.session(session);
        let work = async {
            match &routing {
                Some(s) => s.scope(router.simple_query(sql)).await,
                None => router.simple_query(sql).await,
            }
        };
        tokio::pin!(work);
        let routed = tokio::select! {
            r = &mut work => r?,
            _ = tokio::time::sleep(timeout) => {
                // Cancel it on the server rather than leave it running there.
                if let Some(s) = &routing {
                    let _ = s.cancel().await;
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), &mut work).await;
                }
                return Err(Error::Pg(skein_pg::Error::Timeout {
                    node: "the routed node".into(),
                    what: "running the statement (cancelled)".into(),
                    timeout_ms: timeout.as_millis() as u64,
                }));
            }
        };
        let mut columns = Vec::new();
        let mut rows = Vec::new();
        let mut row_count = 0u64;
        let mut affected = None;
        for m in &routed.value {
            match m {
                SimpleQueryMessage::RowDescription(cols) => {
                    columns = cols.iter().map(|c| c.name().to_owned()).collect();
                    rows.clear();
                    row_count = 0;
                }
                SimpleQueryMessage::Row(r) => {
                    row_count += 1;
                    if rows.len() < max_rows {
                        rows.push((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect());
                    }
                }
                SimpleQueryMessage::CommandComplete(n) => affected = Some(*n),
                _ => {}
            }
        }
        let route = with_note(routed.route.into(), note);
        let staleness = self.staleness_of(&route.node);
        Ok(QueryResult {
            affected: if columns.is_empty() { affected } else { None },
            truncated: (rows.len() as u64) < row_count,
            route,
            columns,
            rows,
            row_count,
            elapsed_ms: routed.elapsed_ms,
            staleness,
        })
    }

    /// How far behind the primary `node` was at the last lag sample.
    fn staleness_of(&self, node: &str) -> Staleness {
        if node == self.profile().primary.name {
            return Staleness {
                live: true,
                replay_lag_ms: None,
                lag_bytes: None,
                snapshot_id: None,
                refreshed_at: None,
                checked_at: None,
                summary: format!("live: {node} is the primary"),
            };
        }
        let reading = self
            .shared
            .history
            .read()
            .ok()
            .and_then(|h| h.latest().and_then(|s| s.node(node).cloned()));
        let (lag_ms, bytes) = reading
            .as_ref()
            .map_or((None, None), |n| (n.replay_lag_ms, n.lag_bytes));
        Staleness {
            live: false,
            replay_lag_ms: lag_ms,
            lag_bytes: bytes,
            snapshot_id: None,
            refreshed_at: None,
            checked_at: None,
            summary: match (lag_ms, bytes) {
                (Some(ms), Some(b)) => format!(
                    "{node} was {ms} ms ({b} bytes of WAL) behind the primary at the last sample (pg_stat_replication.replay_lag)"
                ),
                _ => format!("{node}: lag unknown at the last sample"),
            },
        }
    }

    /// Cancels the statement routing session `session` is running, if any (PostgreSQL's
    /// cancel request); returns the node it ran on. An unknown session has nothing running:
    /// `None`, and no session is created for it (so none is evicted for it either).
    ///
    /// Errors: the cancel request could not reach the node.
    pub async fn cancel_query(&self, session: &str) -> Result<Option<String>> {
        let Some(s) = self.existing_session(session) else {
            return Ok(None);
        };
        s.cancel().await.map_err(|e| {
            Error::Pg(skein_pg::Error::Unreachable {
                node: "the routed node".into(),
                addr: String::new(),
                detail: skein_pg::describe(&e),
            })
        })
    }

    /// The router's per-node counters and rotation.
    pub fn routing(&self) -> RoutingStats {
        self.shared.router.stats()
    }
}

pub(crate) fn with_note(mut route: QueryRoute, note: Option<String>) -> QueryRoute {
    if let Some(n) = note {
        route.reason = format!("{}; {n}", route.reason);
    }
    route
}

fn nonempty(sql: &str) -> Result<&str> {
    let t = sql.trim();
    if t.is_empty() || t.trim_end_matches(';').trim().is_empty() {
        return Err(Error::InvalidInput(
            "the statement is empty: type a SQL statement".into(),
        ));
    }
    Ok(t)
}
