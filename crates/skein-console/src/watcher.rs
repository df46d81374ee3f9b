//! The cache watcher (see [`crate::console`]): every period, and at once when poked after a
//! refresh or a lake operation, it opens the lake when it is not open, reads its snapshot
//! count, computes each cache's state and emits `caches` / `lake` events when something
//! changed. A fingerprint scans the monitored tables, so it takes one only when the tables'
//! write counters (`pg_stat_user_tables`, read for all monitored tables in one query) or the
//! lake's snapshot moved since the last check, and in any case every [`EXACT_EVERY`] ticks;
//! in between it only ages the state, except that a cache whose TTL passes is fingerprinted
//! then (`expired` means its sources are provably unchanged). A changed definition (edited in
//! any console or by the CLI: the definitions are read from the lake every tick) is never
//! carried over: its state is computed again, `edited` until a refresh of it lands.

use std::collections::HashMap;

use skein_core::{ErrorCode, ErrorInfo};
use skein_lake::{CacheState, CacheStatus, Lake};
use skein_pg::fingerprint::activity_signature;
use tokio_util::sync::CancellationToken;

use crate::console::{LakeSlot, Shared};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::rpc::{CacheView, Event, LakeSummary};

/// The watcher recomputes every cache's state exactly (fingerprints) at least once in this
/// many ticks, whatever the write counters say.
pub const EXACT_EVERY: u32 = 12;

/// How far back the lake summary looks for other writers' commits ("active" writers): 15 min.
pub const WRITERS_WINDOW_SECS: u64 = 15 * 60;

pub(crate) async fn cache_watcher(shared: std::sync::Weak<Shared>, cancel: CancellationToken) {
    let period = match shared.upgrade() {
        Some(s) => s.options.cache_interval,
        None => return,
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u32 = 0;
    // What the log last said about the lake and the caches' states: a failure is logged when
    // it starts or changes, and its end once, never every tick.
    let mut lake_said: Option<String> = None;
    let mut caches_said: Option<String> = None;
    loop {
        let Some(s) = shared.upgrade() else { return };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
            _ = s.poke.notified() => {}
        }
        let exact = ticks % EXACT_EVERY == 0;
        ticks = ticks.wrapping_add(1);
        let work = async {
            let lake = update_lake_summary(&s).await;
            // When the lake is down the caches fail for the same reason: said once, above.
            let caches = match &lake {
                Ok(()) => update_caches(&s, exact).await,
                Err(_) => Ok(()),
            };
            (lake, caches)
        };
        let lake_name = &s.profile.lake.name;
        let catalog = skein_core::conninfo::address(&s.profile.lake.catalog);
        let (lake, caches) = tokio::select! {
            _ = cancel.cancelled() => return,
            r = tokio::time::timeout(s.options.work_timeout, work) => match r {
                Ok(r) => r,
                Err(_) => {
                    tracing::warn!(
                        lake = %lake_name,
                        %catalog,
                        "the cache watcher's pass took longer than {} s: cut short",
                        s.options.work_timeout.as_secs()
                    );
                    continue;
                }
            },
        };
        match lake {
            Err(e) => {
                let text = e.to_string();
                if lake_said.as_ref() != Some(&text) {
                    tracing::warn!(lake = %lake_name, %catalog, code = %e.code(), "{text}");
                    lake_said = Some(text);
                }
            }
            Ok(()) if lake_said.take().is_some() => {
                tracing::info!(lake = %lake_name, %catalog, "the lake is reachable again");
            }
            Ok(()) => {}
        }
        match caches {
            Err(e) => {
                let text = e.to_string();
                if caches_said.as_ref() != Some(&text) {
                    tracing::warn!(
                        lake = %lake_name,
                        code = %e.code(),
                        "the caches' states could not be computed: {text}"
                    );
                    caches_said = Some(text);
                }
            }
            Ok(()) if caches_said.take().is_some() => {
                tracing::info!(lake = %lake_name, "the caches' states are computed again");
            }
            Ok(()) => {}
        }
    }
}

/// Opens the lake when it is not open; records why it cannot be.
pub(crate) async fn ensure_lake(s: &Shared) -> Result<Lake> {
    let mut slot = s.lake.lock().await;
    if let Some(lake) = &slot.lake {
        return Ok(lake.clone());
    }
    match tokio::time::timeout(s.options.work_timeout, Lake::open(&s.profile)).await {
        Ok(Ok(lake)) => {
            slot.lake = Some(lake.clone());
            Ok(lake)
        }
        Ok(Err(e)) => {
            let info = ErrorInfo {
                code: e.code(),
                message: e.to_string(),
            };
            set_lake_down(s, &mut slot, info.clone());
            Err(Error::LakeUnavailable(info))
        }
        Err(_) => {
            let info = ErrorInfo {
                code: ErrorCode::Timeout,
                message: format!(
                    "opening the lake took longer than {} s",
                    s.options.work_timeout.as_secs()
                ),
            };
            set_lake_down(s, &mut slot, info.clone());
            Err(Error::LakeUnavailable(info))
        }
    }
}

fn set_lake_down(s: &Shared, slot: &mut LakeSlot, error: ErrorInfo) {
    slot.lake = None;
    let summary = LakeSummary {
        reachable: false,
        snapshots: slot.summary.as_ref().and_then(|x| x.snapshots),
        current_snapshot: slot.summary.as_ref().and_then(|x| x.current_snapshot),
        error: Some(error),
        // Where the store is stays known; its health is read again by the next summary.
        store: slot.summary.as_ref().and_then(|x| x.store.clone()),
        writers: slot
            .summary
            .as_ref()
            .map(|x| x.writers.clone())
            .unwrap_or_default(),
    };
    if slot.summary.as_ref() != Some(&summary) {
        slot.summary = Some(summary.clone());
        let _ = s.events.send(Event::Lake(summary));
    }
}

/// Reads the lake's snapshot count, current snapshot, other writers and store health, and
/// emits `lake` when something changed.
pub(crate) async fn update_lake_summary(s: &Shared) -> Result<()> {
    let lake = ensure_lake(s).await?;
    let store = match &lake.store {
        Some(st) => {
            let url = s
                .profile
                .lake
                .storage
                .as_ref()
                .and_then(|x| x.health_url.clone());
            Some(crate::store_health::view(st, url).await)
        }
        None => None,
    };
    let read = async {
        let count = lake.snapshot_count().await?;
        let current = lake.current_snapshot().await?;
        let writers = lake.writers(WRITERS_WINDOW_SECS).await?;
        Ok::<_, skein_lake::Error>((count, current, writers))
    };
    let mut slot = s.lake.lock().await;
    match read.await {
        Ok((count, current, writers)) => {
            let summary = LakeSummary {
                reachable: true,
                snapshots: Some(count),
                current_snapshot: Some(current),
                error: None,
                store,
                writers,
            };
            if slot.summary.as_ref() != Some(&summary) {
                slot.summary = Some(summary.clone());
                let _ = s.events.send(Event::Lake(summary));
            }
            Ok(())
        }
        Err(e) => {
            let info = ErrorInfo {
                code: e.code(),
                message: e.to_string(),
            };
            set_lake_down(s, &mut slot, info);
            Err(e.into())
        }
    }
}

/// Recomputes the caches' states and emits `caches` when one changed. `exact`: fingerprint
/// every cache; otherwise only those whose lake snapshot or write counters moved.
pub(crate) async fn update_caches(s: &Shared, exact: bool) -> Result<()> {
    let lake = ensure_lake(s).await?;
    let definitions = lake.cache_definitions().await?;
    let snapshot = lake.current_snapshot().await?;
    let now = now_ms();
    let mut views = Vec::with_capacity(definitions.len());
    let mut signatures = HashMap::new();
    let mut feed = None;
    // The write counters of every monitored table, in one query. Unreadable (primary down):
    // no signature, so each state is recomputed and says why it is unknown.
    let mut tables: Vec<String> = definitions.iter().flat_map(|d| d.monitor.clone()).collect();
    tables.sort();
    tables.dedup();
    let counters: Option<HashMap<String, String>> =
        match activity_signature(&s.work.primary, &tables).await {
            Ok(v) => Some(v.into_iter().collect()),
            Err(e) => {
                tracing::debug!(
                    node = s.work.primary.name(),
                    "write counters unreadable, every cache's state is computed again: {e}"
                );
                None
            }
        };
    for def in definitions {
        let name = def.name.clone();
        let signature = counters.as_ref().map(|c| {
            let per_table: Vec<String> = def
                .monitor
                .iter()
                .map(|t| format!("{t}={}", c.get(t).map_or("-", String::as_str)))
                .collect();
            format!("{snapshot}|{}", per_table.join(";"))
        });
        let prior = {
            let board = s
                .caches
                .lock()
                .map_err(|_| Error::Internal("the cache board was poisoned by a panic".into()))?;
            let known = board.get(&name).and_then(|e| e.signature.as_ref());
            let same = signature.is_some() && known == signature.as_ref();
            board
                .views
                .iter()
                .find(|v| v.status.definition == def)
                .filter(|_| same && !exact)
                .map(|v| v.status.clone())
        };
        // A state carried over only ages; one that would turn `expired` is checked again with a
        // fingerprint (expired means the sources are provably unchanged).
        let status = match prior.map(|p| aged(p, now)) {
            Some(p) if p.state != CacheState::Expired || checked_past_ttl(&p) => p,
            _ => {
                // One consumption of the change feed for every cache checked this tick.
                if feed.is_none() {
                    feed = Some(lake.change_feed(&s.work).await);
                }
                lake.cache_status_with(&s.work, def, feed.as_ref()).await?
            }
        };
        if let Some(sig) = signature {
            signatures.insert(name, sig);
        }
        views.push(status);
    }
    let views = {
        let mut board = s
            .caches
            .lock()
            .map_err(|_| Error::Internal("the cache board was poisoned by a panic".into()))?;
        board.set_signatures(signatures);
        let mut out = Vec::with_capacity(views.len());
        for status in views {
            let name = status.definition.name.clone();
            let stale = matches!(
                status.state,
                CacheState::Stale | CacheState::Expired | CacheState::Edited
            );
            let since = if stale {
                Some(*board.entry(&name).stale_since.get_or_insert(now))
            } else {
                if let Some(e) = board.get_mut(&name) {
                    e.stale_since = None;
                }
                None
            };
            let next_run_ms = crate::scheduler::next_run(&board, &status);
            out.push(CacheView {
                next_run_ms,
                refreshing: board.refreshing(&name),
                last_outcome: board.get(&name).and_then(|e| e.last_outcome.clone()),
                stale_since_ms: since,
                status,
            });
        }
        // `age_ms` moves every tick; only a change of anything else is news.
        let changed = out.len() != board.views.len()
            || out.iter().zip(&board.views).any(|(a, b)| !same_view(a, b));
        board.views = out.clone();
        changed.then_some(out)
    };
    if let Some(views) = views {
        let _ = s.events.send(Event::Caches(views));
    }
    Ok(())
}

/// A status carried over from the last check with its age (and TTL expiry) brought up to now.
fn aged(mut status: CacheStatus, now: u64) -> CacheStatus {
    if let Some(r) = &status.last_refresh {
        let age = now.saturating_sub(r.refreshed_at_ms.max(0) as u64);
        status.age_ms = Some(age);
        if status.state == CacheState::Fresh
            && status
                .definition
                .ttl_seconds
                .is_some_and(|t| age > t * 1000)
        {
            status.state = CacheState::Expired;
        }
    }
    status
}

/// Whether the fingerprint behind `status` was taken after its TTL had passed (so `expired`
/// is known, not assumed).
fn checked_past_ttl(status: &CacheStatus) -> bool {
    let ttl_end = status
        .definition
        .ttl_seconds
        .zip(status.last_refresh.as_ref())
        .map(|(ttl, r)| r.refreshed_at_ms + (ttl as i64) * 1000);
    status
        .checked_at_ms
        .zip(ttl_end)
        .is_some_and(|(t, end)| t > end)
}

fn same_view(a: &CacheView, b: &CacheView) -> bool {
    let mut a = a.clone();
    a.status.age_ms = b.status.age_ms;
    &a == b
}
