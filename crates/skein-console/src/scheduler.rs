//! The cache scheduler: every watcher period it looks for caches that have a TTL, are not
//! paused and are not being refreshed, whose next run has come — the last refresh plus the
//! TTL, or now for a cache never refreshed or edited since its last refresh — and refreshes
//! them **if their sources or their definition changed**
//! ([`skein_lake::Lake::refresh_cache_if_changed`]: SKIPPED otherwise, so an idle source costs
//! one fingerprint per TTL, not a rewrite; the cache stays `expired` with current data). At most [`crate::ConsoleOptions::scheduler_max`]
//! run at once. After each run the next one is one TTL later. Refreshes go through the same
//! path as a click (events `refresh_started` / `refresh_finished`, the cache shows as
//! refreshing).

use skein_lake::{CacheState, CacheStatus};

use tokio_util::sync::CancellationToken;

use crate::console::{CacheBoard, Console, Shared};

/// When the scheduler looks at a cache next; `None` for a paused cache or one without a TTL.
pub(crate) fn next_run(board: &CacheBoard, status: &CacheStatus) -> Option<u64> {
    let def = &status.definition;
    let ttl_ms = def.ttl_seconds? * 1000;
    if def.paused {
        return None;
    }
    if let Some(next) = board.get(&def.name).and_then(|e| e.next_run) {
        return Some(next);
    }
    Some(match &status.last_refresh {
        // Edited since its last refresh: the lake holds another query's result; now.
        Some(_) if status.state == CacheState::Edited => 0,
        Some(r) => (r.refreshed_at_ms.max(0) as u64).saturating_add(ttl_ms),
        None => 0,
    })
}

impl Console {
    /// One scheduler pass (see the module header): starts the refreshes that are due.
    pub(crate) fn scheduler_tick(&self) {
        let now = crate::now_ms();
        let views = self.caches_now();
        let due: Vec<(String, u64)> = {
            let Ok(mut board) = self.board() else { return };
            let running = board.scheduled_count();
            let room = self.options().scheduler_max.saturating_sub(running);
            let mut due = Vec::new();
            for v in &views {
                let def = &v.status.definition;
                let (Some(ttl), false) = (def.ttl_seconds, def.paused) else {
                    continue;
                };
                if v.refreshing || board.get(&def.name).is_some_and(|e| e.scheduled) {
                    continue;
                }
                if v.next_run_ms.is_some_and(|n| n <= now) && due.len() < room {
                    due.push((def.name.clone(), ttl * 1000));
                }
            }
            for (name, _) in &due {
                board.entry(name).scheduled = true;
            }
            due
        };
        for (name, ttl_ms) in due {
            let console = self.clone();
            tokio::spawn(async move {
                tracing::debug!(cache = %name, "scheduled refresh starts");
                // An outcome (REFRESHED, SKIPPED, ERROR) is logged by the lake; here only a
                // refresh that could not start.
                match console.refresh_if_changed(&name).await {
                    Ok(_) => {}
                    Err(e) if e.code() == skein_core::ErrorCode::Conflict => {
                        tracing::debug!(cache = %name, "scheduled refresh not run: {e}")
                    }
                    Err(e) => tracing::warn!(
                        cache = %name,
                        code = %e.code(),
                        "scheduled refresh could not run: {e}"
                    ),
                }
                if let Ok(mut board) = console.board() {
                    let entry = board.entry(&name);
                    entry.scheduled = false;
                    entry.next_run = Some(crate::now_ms().saturating_add(ttl_ms));
                }
                console.poke_watcher();
            });
        }
    }
}

/// Runs [`Console::scheduler_tick`] every `cache_interval` until cancelled or the console
/// is gone.
pub(crate) async fn cache_scheduler(shared: std::sync::Weak<Shared>, cancel: CancellationToken) {
    let period = match shared.upgrade() {
        Some(s) => s.options.cache_interval,
        None => return,
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        Console { shared }.scheduler_tick();
    }
}
