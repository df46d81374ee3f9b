//! Reads the lake serves for the Workbench ([`crate::workbench`]): which fresh caches hold a
//! read (the whole statement, or its cached subqueries and CTEs joined in DuckDB with the rest
//! read live, [`skein_router::cache`]), the freshness check at run time, and what the answer
//! says of its staleness.
//!
//! The run-time check is exact: caches are matched by their definitions in the lake now; each
//! cache used must be `fresh` by a check of its monitored tables made after the run started
//! ([`skein_lake::Lake::cache_status`]: the change feed's log, no scan, where the primary has
//! the feed; else one scan of each monitored table on the primary); and the lake read runs in one lake snapshot in which each cache's newest refresh is
//! still the one checked ([`skein_lake::Lake::read_cache_checked`]), so a refresh committing
//! in between makes the check run again rather than serve data that was not checked.

use skein_lake::{CacheState, CacheStatus, LakeRows};
use skein_router::{CachePlan, CacheRoutes, CacheUse, CachedQuery, Hint, Route, Router, Target};

use crate::console::Console;
use crate::error::Result;
use crate::workbench::{with_note, QueryRoute, QueryTarget, Staleness};

impl Console {
    /// Whether fresh caches serve `sql` (a read): the whole statement, or its cached parts
    /// joined in DuckDB with the rest read live from `live`'s node. With `verify`, each cache
    /// used is checked fresh now (a fingerprint of its monitored tables on the primary), not
    /// only by the watcher's last reading. A matching cache that is not fresh is named in the
    /// note and never used.
    pub(crate) async fn cache_decision(
        &self,
        sql: &str,
        live: &Route,
        verify: bool,
    ) -> CacheDecision {
        if !may_use_caches(&self.shared.router, sql) {
            return CacheDecision::Live { note: None };
        }
        // Match by the definitions in the lake now, not the board's last reading: an edit
        // (here, in another console, by the CLI) counts at once. The board's state stands
        // only for the definition it was computed for.
        let Ok(lake) = self.lake().await else {
            return CacheDecision::Live { note: None };
        };
        let definitions = match lake.cache_definitions().await {
            Ok(d) => d,
            Err(e) => {
                return CacheDecision::Live {
                    note: Some(format!("caches not checked ({e}): read live")),
                }
            }
        };
        let board = self.caches_now();
        let mut caches: Vec<CachedQuery> = definitions
            .iter()
            .cloned()
            .map(|d| {
                let view = board
                    .iter()
                    .find(|v| v.status.definition.name == d.name)
                    .filter(|v| v.status.definition.digest() == d.digest());
                let (fresh, state) = match view {
                    None if board.iter().any(|v| v.status.definition.name == d.name) => {
                        (false, CacheState::Edited.word().to_owned())
                    }
                    None => (false, CacheState::Unknown.word().to_owned()),
                    Some(v) if v.refreshing => (false, "refreshing".to_owned()),
                    Some(v) => (
                        v.status.state == CacheState::Fresh,
                        state_word(v.status.state),
                    ),
                };
                CachedQuery {
                    name: d.name,
                    query: d.query,
                    // Run time checks each matching cache now; explain trusts the board.
                    fresh: verify || fresh,
                    state,
                }
            })
            .collect();
        let lake_name = self.profile().lake.name.clone();
        let mut statuses = Vec::new();
        let plan = loop {
            let plan = CacheRoutes::new(&lake_name, caches.clone()).plan(sql);
            let used: Vec<String> = match &plan.uses {
                Some(CacheUse::Whole { cache }) => vec![cache.clone()],
                Some(CacheUse::Partial { caches, .. }) => caches.clone(),
                None => Vec::new(),
            };
            if !verify || used.is_empty() {
                break plan;
            }
            let mut all_fresh = true;
            statuses.clear();
            for name in &used {
                // The status of the very definition the plan matched (read above): its last
                // refresh must have run it, and its fingerprint must be unchanged now.
                let status = match definitions.iter().find(|d| &d.name == name) {
                    Some(d) => lake.cache_status_of(&self.shared.work, d.clone()).await,
                    None => lake.cache_status(&self.shared.work, name).await,
                };
                let state = status.as_ref().map_or(CacheState::Unknown, |s| s.state);
                if state != CacheState::Fresh {
                    all_fresh = false;
                    if let Some(c) = caches.iter_mut().find(|c| &c.name == name) {
                        c.fresh = false;
                        c.state = state_word(state);
                    }
                }
                if let Ok(s) = status {
                    statuses.push(s);
                }
            }
            if all_fresh {
                break plan;
            }
        };
        decide(sql, plan, &lake_name, live, statuses)
    }

    pub(crate) async fn run_on_lake(
        &self,
        uses: &CacheUse,
        live_node: &str,
        max_rows: usize,
        checked: &[(String, String)],
    ) -> Result<(LakeRows, f64)> {
        let started = std::time::Instant::now();
        let lake = self.lake().await?;
        let rows = match uses {
            CacheUse::Whole { cache } => {
                let refresh = checked
                    .iter()
                    .find(|(c, _)| c == cache)
                    .map(|(_, r)| r.as_str());
                lake.read_cache_checked(cache, refresh, max_rows).await?
            }
            CacheUse::Partial { sql, .. } => {
                let node = self.shared.work.node(live_node)?.clone();
                lake.read_with_live(sql, &node, max_rows, checked).await?
            }
        };
        Ok((rows, started.elapsed().as_secs_f64() * 1000.0))
    }
}

/// Whether caches may serve `sql`: a read with no node hint.
pub(crate) fn may_use_caches(router: &Router, sql: &str) -> bool {
    let explicit = skein_router::hints(sql).iter().any(Hint::names_a_node);
    router.classify(sql).target == Target::Replica && !explicit
}

/// The decision a cache plan leads to, with the reason for a person.
fn decide(
    sql: &str,
    plan: CachePlan,
    lake_name: &str,
    live: &Route,
    statuses: Vec<CacheStatus>,
) -> CacheDecision {
    let wants = skein_router::hints(sql).contains(&Hint::Cache);
    let skipped = (!plan.skipped.is_empty()).then(|| {
        plan.skipped
            .iter()
            .map(|s| format!("cache {} holds it but is {}: not used", s.name, s.state))
            .collect::<Vec<_>>()
            .join("; ")
    });
    let Some(uses) = plan.uses else {
        let note = match (skipped, wants) {
            (Some(s), _) => Some(format!("{s}; read live")),
            (None, true) => {
                Some("/* skein:cache */, but no cache holds this query: read live".into())
            }
            (None, false) => None,
        };
        return CacheDecision::Live { note };
    };
    let (rule, reason, names) = match &uses {
        CacheUse::Whole { cache } => (
            "cache",
            format!("a fresh cache holds this query's result: served from the lake table {lake_name}.main.{cache}"),
            vec![cache.clone()],
        ),
        CacheUse::Partial { caches, .. } => (
            "cache_join",
            format!(
                "fresh caches hold part of it ({}): DuckDB reads them from the lake and the rest live from {}",
                caches.join(", "),
                live.node
            ),
            caches.clone(),
        ),
    };
    let reason = match skipped {
        Some(s) => format!("{reason}; {s}"),
        None => reason,
    };
    CacheDecision::Lake {
        route: QueryRoute {
            target: QueryTarget::Cache,
            node: "lake".into(),
            rule: rule.into(),
            reason,
            needs_lsn: None,
            caches: names,
        },
        uses,
        live_node: live.node.clone(),
        statuses,
    }
}

/// Where `sql` goes, caches included, for a one-shot caller with no running console
/// (`skein route explain`): `live` is the router's route for it, `statuses` every cache's
/// status as computed now ([`skein_lake::Lake::cache_statuses`]).
pub fn explain_with_caches(
    router: &Router,
    sql: &str,
    live: Route,
    statuses: &[CacheStatus],
    lake_name: &str,
) -> QueryRoute {
    if !may_use_caches(router, sql) {
        return live.into();
    }
    let caches = statuses
        .iter()
        .map(|s| CachedQuery {
            name: s.definition.name.clone(),
            query: s.definition.query.clone(),
            fresh: s.state == CacheState::Fresh,
            state: state_word(s.state),
        })
        .collect();
    let plan = CacheRoutes::new(lake_name, caches).plan(sql);
    match decide(sql, plan, lake_name, &live, Vec::new()) {
        CacheDecision::Lake { mut route, .. } => {
            let used: Vec<&CacheStatus> = statuses
                .iter()
                .filter(|s| route.caches.contains(&s.definition.name))
                .collect();
            if let Some(t) = checked_at(used) {
                route.reason = format!(
                    "{}; fresh: monitored tables unchanged since the refresh, checked at {t} (a fingerprint on the primary)",
                    route.reason
                );
            }
            route
        }
        CacheDecision::Live { note } => with_note(live.into(), note),
    }
}

pub(crate) enum CacheDecision {
    Live {
        note: Option<String>,
    },
    Lake {
        route: QueryRoute,
        uses: CacheUse,
        live_node: String,
        statuses: Vec<CacheStatus>,
    },
}

/// When the oldest of these freshness checks ran (RFC 3339, ms): what an answer may claim.
fn checked_at<'a>(statuses: impl IntoIterator<Item = &'a CacheStatus>) -> Option<String> {
    statuses
        .into_iter()
        .filter_map(|s| s.checked_at_ms)
        .min()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

fn state_word(state: CacheState) -> String {
    state.word().to_owned()
}

/// What a lake-served answer says of its staleness: the refresh it holds, when and how its
/// freshness was checked, the lake snapshot read, and for a join the live part's lag.
pub(crate) fn cache_staleness(
    route: &QueryRoute,
    rows: &LakeRows,
    statuses: &[CacheStatus],
    live: Staleness,
) -> Staleness {
    let refreshed = statuses
        .iter()
        .filter_map(|s| s.last_refresh.as_ref().map(|r| r.refreshed_at_ms))
        .min();
    let refreshed_at = refreshed.and_then(|ms| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    });
    let caches = route.caches.join(", ");
    let checked = checked_at(statuses);
    let mut summary = format!(
        "cache {caches}: fresh: monitored tables unchanged since the refresh{}, checked at {} \
         (a fingerprint of them on the primary equals the refresh's); lake snapshot {} holds that refresh",
        refreshed_at.as_deref().map(|t| format!(" at {t}")).unwrap_or_default(),
        checked.as_deref().unwrap_or("now"),
        rows.snapshot_id
    );
    if route.rule == "cache_join" {
        summary.push_str(&format!("; live part: {}", live.summary));
    }
    Staleness {
        live: false,
        replay_lag_ms: (route.rule == "cache_join")
            .then_some(live.replay_lag_ms)
            .flatten(),
        lag_bytes: (route.rule == "cache_join")
            .then_some(live.lag_bytes)
            .flatten(),
        snapshot_id: Some(rows.snapshot_id),
        refreshed_at,
        checked_at: checked,
        summary,
    }
}
