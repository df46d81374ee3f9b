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
//!   of WAL (warning): left alone it fills the disk.

use std::collections::HashMap;

use skein_pg::replication::{human_bytes, ReplicationOptions, ReplicationReading, Slot};

use crate::attention::utc_clock;
use crate::console::Shared;
use crate::rpc::{Attention, Event, Severity};

/// The newest reading and when each slot was first seen inactive.
#[derive(Default)]
pub(crate) struct ReplicationBoard {
    /// The newest reading, slots stamped.
    pub(crate) latest: Option<ReplicationReading>,
    /// (node, slot) → ms since the Unix epoch when this console first saw it inactive.
    inactive_since: HashMap<(String, String), u64>,
}

impl ReplicationBoard {
    /// Stores `reading`, stamping each inactive slot with the start of its inactive run as
    /// this console saw it; slots that are active again or gone are forgotten.
    pub(crate) fn store(&mut self, mut reading: ReplicationReading) -> &ReplicationReading {
        let now = reading.taken_at_ms;
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
    reading: &ReplicationReading,
) -> Vec<Attention> {
    let mut out = Vec::new();
    for node in reading.nodes.iter().filter(|n| n.reachable) {
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
