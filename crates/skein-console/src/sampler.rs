//! The lag sampler: one background task per console that samples every node once a
//! `lag_interval` ([`skein_pg::lag::sample`] and [`skein_pg::replication::read`], concurrently,
//! each node under its own timeout), keeps the bounded history (loaded from and appended to the
//! on-disk lag log on the blocking pool), feeds the router's rotation, and emits one `lag`, one
//! `replication`, one `routing` and one `attention` event per tick (the attention list
//! recomputed from that tick's sample, replication reading and rotation, so its values and
//! countdowns are live). After a tick's events it probes the role's privileges on nodes that
//! answered for the first time or again ([`crate::privileges`]).

use std::collections::HashMap;
use std::time::Duration;

use skein_pg::{Cluster, LagSample, ReplicaState};
use tokio_util::sync::CancellationToken;

use crate::console::Shared;
use crate::history::LagHistory;
use crate::rpc::Event;

pub(crate) async fn lag_sampler(shared: std::sync::Weak<Shared>, cancel: CancellationToken) {
    let (period, log, capacity, since) = match shared.upgrade() {
        Some(s) => (
            s.options.lag_interval,
            s.lag_log.clone(),
            s.history.read().map_or(1, |h| h.capacity()),
            crate::now_ms().saturating_sub(s.options.retention.as_millis() as u64),
        ),
        None => return,
    };
    // Start from the history kept on disk (the last `retention`), read off the runtime.
    let loaded = tokio::task::spawn_blocking(move || {
        let mut h = LagHistory::new(capacity);
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
    let mut lake = crate::rpc::LakeSummary {
        reachable: false,
        snapshots: None,
        current_snapshot: None,
        error: None,
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut said: HashMap<String, Health> = HashMap::new();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Some(s) = shared.upgrade() else { return };
        // Each node has its own timeout inside `sample`; this bounds the whole tick.
        let options = crate::replication::options();
        let both = async {
            tokio::join!(
                skein_pg::lag::sample(&s.probe),
                skein_pg::replication::read(&s.probe, &options)
            )
        };
        let sample = tokio::select! {
            _ = cancel.cancelled() => return,
            r = tokio::time::timeout(period.max(Duration::from_secs(1)) * 3, both) => r,
        };
        let Ok((sample, replication)) = sample else {
            tracing::warn!(
                profile = %s.profile.name,
                "a lag sample took longer than {} ms: skipped",
                (period.max(Duration::from_secs(1)) * 3).as_millis()
            );
            continue;
        };
        log_changes(&mut said, &s.probe, &sample);
        if let Ok(mut h) = s.history.write() {
            h.push(&sample);
        }
        let (log, logged) = (s.lag_log.clone(), sample.clone());
        tokio::task::spawn_blocking(move || {
            if let Ok(mut log) = log.lock() {
                if let Some(log) = log.as_mut() {
                    log.append(&logged);
                }
            }
        });
        s.router.observe(&sample);
        if !s.router.functions_known() {
            let _ = s.router.reload_functions().await;
        }
        // Stored before the routing reading and the attention list are taken (its conflict rates
        // weigh in rotation), emitted after the lag event.
        let replication = s
            .replication
            .lock()
            .map(|mut b| b.store(replication).clone())
            .ok();
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
        // One routing reading for this tick: the routing event and the attention list agree.
        let stats = s.router.stats();
        // The watcher may hold the lake slot while it opens the lake: use its last summary.
        if let Ok(slot) = s.lake.try_lock() {
            if let Some(summary) = &slot.summary {
                lake = summary.clone();
            }
        }
        // Judged first, so the attention list has this tick's alerts.
        let changes = crate::alerts::judge_tick(&s, &sample);
        let attention = crate::attention::for_tick(&s, Some(&sample), &stats, &lake);
        let _ = s.events.send(Event::Lag(sample.clone()));
        if let Some(r) = replication {
            let _ = s.events.send(Event::Replication(r));
        }
        let _ = s.events.send(Event::Routing(stats));
        let _ = s.events.send(Event::Attention(attention));
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
