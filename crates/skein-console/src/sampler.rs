//! The lag sampler: one background task per console that samples every node's lag once a
//! period (the profile's `[sampling] interval_ms`, 250 ms unless set: [`skein_pg::lag::sample`],
//! each node under its own timeout) and, concurrently, the replication details once a
//! [`REPLICATION_EVERY`] ([`skein_pg::replication::read`]); keeps the bounded history (loaded
//! from the on-disk lag log, and one sample a second appended to it, on the blocking pool),
//! feeds the router's rotation, and emits one `tick` event a period with the sample, the
//! replication reading when one was taken, the rotation and the attention list (recomputed
//! from that tick's sample, the newest replication reading and the rotation, so its values and
//! countdowns are live). After a tick's events it probes the role's privileges on nodes that
//! answered for the first time or again ([`crate::privileges`]).

use std::collections::HashMap;
use std::time::Duration;

use skein_pg::{Cluster, LagSample, ReplicaState};
use tokio_util::sync::CancellationToken;

use crate::console::Shared;
use crate::history::LagHistory;
use crate::rpc::Event;

/// The replication reading's period when sampling faster: it reads slots, receivers,
/// conflicts and settings (five statements a node), which change less often than lag.
pub(crate) const REPLICATION_EVERY: Duration = Duration::from_secs(1);

pub(crate) async fn lag_sampler(shared: std::sync::Weak<Shared>, cancel: CancellationToken) {
    let (period, log, full, retention, since) = match shared.upgrade() {
        Some(s) => (
            s.interval(),
            s.lag_log.clone(),
            s.options.full_resolution,
            s.options.retention,
            crate::now_ms().saturating_sub(s.options.retention.as_millis() as u64),
        ),
        None => return,
    };
    // Start from the history kept on disk (the last `retention`), read off the runtime.
    let loaded = tokio::task::spawn_blocking(move || {
        let mut h = LagHistory::new(full, retention);
        let n = log
            .lock()
            .ok()
            .and_then(|l| l.as_ref().map(|l| l.load_into(&mut h, since)))
            .unwrap_or(0);
        (n > 0).then_some(h)
    })
    .await
    .unwrap_or_else(|e| {
        tracing::warn!(
            profile = %profile_name(&shared),
            "loading the lag history from disk failed ({e}); starting empty"
        );
        None
    });
    if let (Some(loaded), Some(s)) = (loaded, shared.upgrade()) {
        if let Ok(mut h) = s.history.write() {
            *h = loaded;
        }
    }
    let mut lake = crate::rpc::LakeSummary::default();
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut said: HashMap<String, Health> = HashMap::new();
    let mut replication_at: Option<tokio::time::Instant> = None;
    let bound = period.max(Duration::from_secs(1)) * 3;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Some(s) = shared.upgrade() else { return };
        // The replication reading once a `REPLICATION_EVERY` (a period's slack: ticks do not
        // land exactly on it).
        let read_replication =
            replication_at.is_none_or(|at| at.elapsed() + period / 2 >= REPLICATION_EVERY);
        // Each node has its own timeout inside `sample`; this bounds the whole tick.
        let options = crate::replication::options();
        let both = async {
            let replication = async {
                if read_replication {
                    Some(skein_pg::replication::read(&s.probe, &options).await)
                } else {
                    None
                }
            };
            tokio::join!(skein_pg::lag::sample(&s.probe), replication)
        };
        let sample = tokio::select! {
            _ = cancel.cancelled() => return,
            r = tokio::time::timeout(bound, both) => r,
        };
        let Ok((sample, replication)) = sample else {
            tracing::warn!(
                profile = %s.profile.name,
                "a lag sample took longer than {} ms: skipped",
                bound.as_millis()
            );
            continue;
        };
        if replication.is_some() {
            replication_at = Some(tokio::time::Instant::now());
        }
        log_changes(&mut said, &s.probe, &sample);
        let second = s.history.write().ok().and_then(|mut h| h.push(&sample));
        if let Some(second) = second {
            let log = s.lag_log.clone();
            tokio::task::spawn_blocking(move || {
                if let Ok(mut log) = log.lock() {
                    if let Some(log) = log.as_mut() {
                        log.append(&second);
                    }
                }
            });
        }
        s.router.observe(&sample);
        if !s.router.functions_known() {
            let _ = s.router.reload_functions().await;
        }
        // Stored before the routing reading and the attention list are taken (its conflict rates
        // weigh in rotation).
        let replication =
            replication.and_then(|r| s.replication.lock().map(|mut b| b.store(r).clone()).ok());
        if let Some(r) = &replication {
            if let Ok(mut h) = s.history.write() {
                h.note_conflicts(r);
            }
            s.router.observe_conflicts(
                r.nodes
                    .iter()
                    .filter(|n| n.role == skein_pg::NodeRole::Replica)
                    .map(|n| (n.name.as_str(), n.conflicts.and_then(|c| c.per_minute))),
            );
        }
        // One routing reading for this tick: the routing and the attention list agree.
        let routing = s.router.stats();
        // The watcher may hold the lake slot while it opens the lake: use its last summary.
        if let Ok(slot) = s.lake.try_lock() {
            if let Some(summary) = &slot.summary {
                lake = summary.clone();
            }
        }
        // Alert rules count one sample a second, the ticks with a replication reading (their
        // N and M are seconds whatever the period); judged first, so the attention list has
        // this tick's alerts.
        let changes = if replication.is_some() {
            crate::alerts::judge_tick(&s, &sample)
        } else {
            (Vec::new(), None)
        };
        let attention = crate::attention::for_tick(&s, Some(&sample), &routing, &lake);
        let _ = s.events.send(Event::Tick(Box::new(crate::rpc::Tick {
            lag: sample.clone(),
            replication,
            routing,
            attention,
        })));
        crate::alerts::record_tick(&s, changes);
        // Nodes that answered for the first time, or again after being down.
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = crate::privileges::after_tick(&s, &sample) => {}
        }
    }
}

fn profile_name(shared: &std::sync::Weak<Shared>) -> String {
    shared
        .upgrade()
        .map(|s| s.profile.name.clone())
        .unwrap_or_default()
}

/// A node's health as the log last reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Health {
    /// Answering (and, for a replica, in recovery and known to the primary).
    Up,
    /// Not answering, with the error's code.
    Down(skein_core::ErrorCode),
    /// A replica out of recovery.
    Promoted,
    /// A replica the primary lists no WAL sender for.
    Disconnected,
}

/// Logs each node whose health changed since the last sample (a node down at the first sample
/// included): `warn` when it goes down, is promoted or stops streaming, `info` when it is back.
/// Once per change, never every tick. Nodes are named with their `host:port`, never a
/// connection string.
fn log_changes(said: &mut HashMap<String, Health>, cluster: &Cluster, sample: &LagSample) {
    for n in &sample.nodes {
        let now = match (&n.error, n.reachable, n.state) {
            (Some(e), false, _) => Health::Down(e.code),
            (None, false, _) => Health::Down(skein_core::ErrorCode::ConnectionRefused),
            (_, true, ReplicaState::Promoted) => Health::Promoted,
            (_, true, ReplicaState::Disconnected) => Health::Disconnected,
            _ => Health::Up,
        };
        let before = said.insert(n.name.clone(), now.clone());
        if before.as_ref() == Some(&now) || (before.is_none() && now == Health::Up) {
            continue;
        }
        let addr = cluster
            .node(&n.name)
            .map(|node| node.addr.clone())
            .unwrap_or_default();
        let message = n.error.as_ref().map_or("", |e| e.message.as_str());
        match now {
            Health::Down(code) => tracing::warn!(
                node = %n.name,
                %addr,
                %code,
                "node unreachable: {message}"
            ),
            Health::Promoted => tracing::warn!(
                node = %n.name,
                %addr,
                "replica was promoted: out of recovery, it accepts writes (a second primary); out of rotation"
            ),
            Health::Disconnected => tracing::warn!(
                node = %n.name,
                %addr,
                "replica not streaming: the primary lists no WAL sender for it"
            ),
            Health::Up => tracing::info!(node = %n.name, %addr, "node answering again"),
        }
    }
}
