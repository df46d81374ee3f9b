//! The console's view of replication beyond lag: the newest
//! [`skein_pg::replication::read`] (taken by the lag sampler every tick, beside the lag
//! sample), each slot stamped with when this console first saw it inactive (PostgreSQL 15 keeps
//! no such time), and the attention items it raises:
//!
//! - a WAL receiver that says `streaming` but has stalled (critical);
//! - a slot whose `wal_status` is `lost` (its consumer needs WAL that is gone) or `unreserved`
//!   (past `max_slot_wal_keep_size`: the next checkpoint removes WAL it needs) (critical);
//! - a slot with under a fifth of `max_slot_wal_keep_size` left (`safe_wal_size`) (warning);
//! - an inactive, non-temporary slot retaining at least `thresholds.slot_wal_warning_bytes`
//!   of WAL (warning): left alone it fills the disk;
//! - a replica with at least `alerts.conflicts_per_minute` recovery conflicts a minute
//!   (warning): its queries are being cancelled;
//! - a WAL sender whose `age(backend_xmin)` is at least `alerts.xmin_age` (warning): a
//!   `hot_standby_feedback` replica holds vacuum back on its upstream, and tables bloat.

use std::collections::{HashMap, VecDeque};

use skein_pg::replication::{human_bytes, ReplicationOptions, ReplicationReading, Slot};

use crate::attention::utc_clock;
use crate::console::Shared;
use crate::rpc::{Attention, Event, Severity};

/// The newest reading, when each slot was first seen inactive, and the recent conflict counts
/// each replica's rate is computed from.
#[derive(Default)]
pub(crate) struct ReplicationBoard {
    /// The newest reading, slots stamped, conflict rates filled in.
    pub(crate) latest: Option<ReplicationReading>,
    /// (node, slot) → ms since the Unix epoch when this console first saw it inactive.
    inactive_since: HashMap<(String, String), u64>,
    /// node → (taken at ms, total conflicts) over the last [`RATE_WINDOW_MS`], oldest first.
    conflict_counts: HashMap<String, VecDeque<(u64, i64)>>,
}

/// The window a conflict rate is measured over, ms.
pub(crate) const RATE_WINDOW_MS: u64 = 60_000;
/// A rate needs two readings at least this far apart, ms.
const RATE_MIN_SPAN_MS: u64 = 5_000;

impl ReplicationBoard {
    /// Stores `reading`, stamping each inactive slot with the start of its inactive run as
    /// this console saw it (slots that are active again or gone are forgotten) and filling in
    /// each replica's conflicts a minute ([`skein_pg::replication::Conflicts::per_minute`]).
    pub(crate) fn store(&mut self, mut reading: ReplicationReading) -> &ReplicationReading {
        let now = reading.taken_at_ms;
        for node in reading.nodes.iter_mut() {
            let Some(c) = node.conflicts.as_mut() else {
                continue;
            };
            let ring = self.conflict_counts.entry(node.name.clone()).or_default();
            // Statistics reset (or a restarted server): start over.
            if ring.back().is_some_and(|&(_, total)| total > c.total()) {
                ring.clear();
            }
            ring.push_back((now, c.total()));
            while ring.len() > 2 && ring[1].0 + RATE_WINDOW_MS <= now {
                ring.pop_front();
            }
            c.per_minute = per_minute(ring);
        }
        let mut seen = HashMap::new();
        for node in reading.nodes.iter_mut().filter(|n| n.reachable) {
            for slot in &mut node.slots {
                if slot.active {
                    continue;
                }
                let key = (node.name.clone(), slot.name.clone());
                let since = self.inactive_since.get(&key).copied().unwrap_or(now);
                slot.inactive_since_ms = Some(since);
                seen.insert(key, since);
            }
        }
        // A node that is down this tick keeps its slots' stamps for when it answers again.
        for node in reading.nodes.iter().filter(|n| !n.reachable) {
            for (k, v) in &self.inactive_since {
                if k.0 == node.name {
                    seen.insert(k.clone(), *v);
                }
            }
        }
        self.inactive_since = seen;
        self.latest.insert(reading)
    }
}

/// Conflicts a minute between the oldest and the newest count of `ring`, when they are at
/// least [`RATE_MIN_SPAN_MS`] apart.
fn per_minute(ring: &VecDeque<(u64, i64)>) -> Option<f64> {
    let (&(t0, c0), &(t1, c1)) = (ring.front()?, ring.back()?);
    let span = t1.saturating_sub(t0);
    (span >= RATE_MIN_SPAN_MS).then(|| (c1 - c0).max(0) as f64 * 60_000.0 / span as f64)
}

/// What a recovery-conflict rate means, with the settings that shape it.
pub(crate) fn conflict_message(
    rate: f64,
    settings: Option<&skein_pg::replication::ReplicationSettings>,
) -> String {
    let shaped = settings
        .map(|s| {
            format!(
                " (hot_standby_feedback {}, max_standby_streaming_delay {})",
                if s.hot_standby_feedback { "on" } else { "off" },
                if s.max_standby_streaming_delay_ms < 0 {
                    "-1: wait forever".to_owned()
                } else {
                    format!("{} ms", s.max_standby_streaming_delay_ms)
                }
            )
        })
        .unwrap_or_default();
    format!("{rate:.1} recovery conflicts a minute: queries on it are cancelled by replay{shaped}")
}

/// What an xmin age held back on the upstream means.
pub(crate) fn xmin_message(age: i64, limit: u64) -> String {
    format!(
        "holds the upstream's xmin horizon back by {age} transactions (warning at {limit};          pg_stat_replication.backend_xmin): hot_standby_feedback keeps vacuum from removing          dead rows its queries could still see, and tables bloat"
    )
}

/// The options the sampler reads with.
pub(crate) fn options() -> ReplicationOptions {
    ReplicationOptions::default()
}

/// Reads now, stores the reading and emits it as a `replication` event (after an action that
/// changed it, so no view waits for the next tick).
pub(crate) async fn refresh(shared: &Shared) {
    let reading = skein_pg::replication::read(&shared.probe, &options()).await;
    store_and_emit(shared, reading);
}

/// Stores a reading taken by the sampler and emits it.
pub(crate) fn store_and_emit(shared: &Shared, reading: ReplicationReading) {
    let stored = shared
        .replication
        .lock()
        .map(|mut b| b.store(reading).clone())
        .ok();
    if let Some(r) = stored {
        let _ = shared.events.send(Event::Replication(r));
    }
}

/// The newest reading's slot `name` on `node`.
pub(crate) fn slot(shared: &Shared, node: &str, name: &str) -> Option<Slot> {
    let board = shared.replication.lock().ok()?;
    let found = board
        .latest
        .as_ref()?
        .slots()
        .find(|(n, s)| *n == node && s.name == name)
        .map(|(_, s)| s.clone());
    found
}

/// The newest reading, or one taken now when the sampler has not read yet.
pub(crate) async fn latest(shared: &Shared) -> ReplicationReading {
    let held = shared
        .replication
        .lock()
        .ok()
        .and_then(|b| b.latest.clone());
    match held {
        Some(r) => r,
        None => {
            let reading = skein_pg::replication::read(&shared.probe, &options()).await;
            shared
                .replication
                .lock()
                .map(|mut b| b.store(reading.clone()).clone())
                .unwrap_or(reading)
        }
    }
}

/// The attention items of a reading (see the module header), worst first within each node.
pub(crate) fn attention(
    thresholds: &skein_core::Thresholds,
    rules: &skein_core::AlertRules,
    reading: &ReplicationReading,
) -> Vec<Attention> {
    let mut out = Vec::new();
    for node in reading.nodes.iter().filter(|n| n.reachable) {
        if let Some(rate) = node.conflicts.and_then(|c| c.per_minute) {
            if rules.conflicts_per_minute > 0.0 && rate >= rules.conflicts_per_minute {
                out.push(Attention {
                    severity: Severity::Warning,
                    subject: node.name.clone(),
                    message: conflict_message(rate, node.settings.as_ref()),
                });
            }
        }
        for s in &node.senders {
            if let Some(age) = s.backend_xmin_age {
                if rules.xmin_age > 0 && age as u64 >= rules.xmin_age {
                    out.push(Attention {
                        severity: Severity::Warning,
                        subject: format!("{} on {}", s.application_name, node.name),
                        message: xmin_message(age, rules.xmin_age),
                    });
                }
            }
        }
        if let Some(why) = node.receiver.as_ref().and_then(|r| r.stalled.as_ref()) {
            out.push(Attention {
                severity: Severity::Critical,
                subject: node.name.clone(),
                message: why.clone(),
            });
        }
        let max_keep = node
            .settings
            .map(|s| s.max_slot_wal_keep_size_bytes)
            .unwrap_or(-1);
        for slot in &node.slots {
            let subject = format!("slot {} on {}", slot.name, node.name);
            let retained = slot.retained_bytes.map(human_bytes).unwrap_or("?".into());
            match slot.wal_status.as_deref() {
                Some("lost") => out.push(Attention {
                    severity: Severity::Critical,
                    subject,
                    message: "lost: WAL its consumer still needs was removed \
                              (wal_status lost); the standby or client using it must be \
                              rebuilt, and the slot dropped"
                        .into(),
                }),
                Some("unreserved") => out.push(Attention {
                    severity: Severity::Critical,
                    subject,
                    message: format!(
                        "past max_slot_wal_keep_size ({}): it retains {retained} and the next \
                         checkpoint removes WAL it needs (wal_status unreserved)",
                        human_bytes(max_keep.max(0) as u64)
                    ),
                }),
                _ if slot
                    .safe_wal_size
                    .is_some_and(|left| max_keep > 0 && left < max_keep / 5) =>
                {
                    out.push(Attention {
                        severity: Severity::Warning,
                        subject,
                        message: format!(
                            "headroom running out: {} left before max_slot_wal_keep_size ({}) \
                             (safe_wal_size); it retains {retained}",
                            human_bytes(slot.safe_wal_size.unwrap_or(0).max(0) as u64),
                            human_bytes(max_keep as u64)
                        ),
                    })
                }
                _ if !slot.active
                    && !slot.temporary
                    && !skein_lake::feed::is_feed_slot(&slot.name, slot.plugin.as_deref())
                    && slot
                        .retained_bytes
                        .is_some_and(|b| b >= thresholds.slot_wal_warning_bytes) =>
                {
                    out.push(Attention {
                        severity: Severity::Warning,
                        subject,
                        message: format!(
                            "inactive{} and retains {retained} of WAL (warning at {}): WAL piles \
                             up until the disk fills; drop the slot if nothing will stream from \
                             it again",
                            slot.inactive_since_ms
                                .map(|t| format!(
                                    " since {} (when this console first saw it)",
                                    utc_clock(t)
                                ))
                                .unwrap_or_default(),
                            human_bytes(thresholds.slot_wal_warning_bytes)
                        ),
                    })
                }
                _ => {}
            }
        }
    }
    out
}
