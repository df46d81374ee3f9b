//! What the profile's role may do on each node, and the actions gated on it.
//!
//! The lag sampler probes a node ([`skein_pg::privileges::probe`]) on the first tick it
//! answers and again on the first tick it answers after being down (a reconnect may land on a
//! promoted or rebuilt server, or on a role whose grants changed), never on every tick. Each
//! change is pushed as a `privileges` event; `overview` carries the current list.
//!
//! Replay control ([`Console::set_replay`]) checks the stored answer before it asks the server:
//! a role without EXECUTE on `pg_wal_replay_pause()` gets `PermissionDenied` with the probe's
//! reason, not the server's bare "permission denied for function". Dropping a replication
//! slot ([`Console::drop_slot`]) is checked the same way (superuser or `REPLICATION`).

use std::collections::HashMap;

use skein_pg::{LagSample, Node, NodeRole};

use crate::console::{Console, Shared};
use crate::error::{Error, Result};
use crate::rpc::{Event, NodePrivileges};

/// The console's knowledge of each node's privileges.
#[derive(Default)]
pub(crate) struct PrivilegeBoard {
    /// By node name.
    entries: HashMap<String, NodePrivileges>,
    /// Whether each node answered the previous lag tick.
    reachable: HashMap<String, bool>,
}

fn nodes(shared: &Shared) -> impl Iterator<Item = &Node> {
    std::iter::once(&shared.probe.primary).chain(shared.probe.replicas.iter())
}

/// Every node's entry, primary first (a node never probed has neither privileges nor error).
pub(crate) fn list(shared: &Shared) -> Vec<NodePrivileges> {
    let board = shared.privileges.lock().ok();
    nodes(shared)
        .map(|n| {
            board
                .as_ref()
                .and_then(|b| b.entries.get(n.name()).cloned())
                .unwrap_or_else(|| NodePrivileges {
                    node: n.name().to_owned(),
                    privileges: None,
                    error: None,
                    probed_at_ms: None,
                })
        })
        .collect()
}

/// Probes `node` now and stores the answer (or the error). Returns the stored entry.
async fn probe_and_store(shared: &Shared, node: &Node) -> NodePrivileges {
    let entry = match skein_pg::privileges::probe(node).await {
        Ok(p) => NodePrivileges {
            node: node.name().to_owned(),
            privileges: Some(p),
            error: None,
            probed_at_ms: Some(crate::now_ms()),
        },
        Err(e) => {
            tracing::warn!(
                node = node.name(),
                addr = %node.addr,
                code = %e.code(),
                "asking what the role may do failed: {e}"
            );
            NodePrivileges {
                node: node.name().to_owned(),
                privileges: None,
                error: Some(skein_core::ErrorInfo {
                    code: e.code(),
                    message: e.to_string(),
                }),
                probed_at_ms: None,
            }
        }
    };
    if let Ok(mut board) = shared.privileges.lock() {
        board.entries.insert(entry.node.clone(), entry.clone());
    }
    entry
}

/// After a lag tick: probes the nodes that answered it and had not answered the tick before
/// (or were never probed successfully), then emits `privileges` if anything changed.
pub(crate) async fn after_tick(shared: &Shared, sample: &LagSample) {
    let due: Vec<&Node> = {
        let Ok(mut board) = shared.privileges.lock() else {
            return;
        };
        let mut due = Vec::new();
        for node in nodes(shared) {
            let now = sample.node(node.name()).is_some_and(|n| n.reachable);
            let before = board.reachable.insert(node.name().to_owned(), now);
            let known = board
                .entries
                .get(node.name())
                .is_some_and(|e| e.privileges.is_some());
            if now && (before != Some(true) || !known) {
                due.push(node);
            }
        }
        due
    };
    if due.is_empty() {
        return;
    }
    let before = list(shared);
    futures_util::future::join_all(due.into_iter().map(|n| probe_and_store(shared, n))).await;
    let after = list(shared);
    if after != before {
        let _ = shared.events.send(Event::Privileges(after));
    }
}

impl Console {
    /// What the profile's role may do on each node, primary first.
    pub fn privileges(&self) -> Vec<NodePrivileges> {
        list(&self.shared)
    }

    /// Pauses (`pause`) or resumes WAL replay on the replica `node`, after checking the
    /// role's privileges there (probed now if they are not known yet).
    ///
    /// Errors: `NotFound` for an unknown node, `InvalidInput` for the primary,
    /// `PermissionDenied` with the probe's reason when the role may not, else the node's
    /// errors.
    pub async fn set_replay(&self, node: &str, pause: bool) -> Result<()> {
        let target = self.shared.probe.node(node)?;
        if target.role == NodeRole::Primary {
            return Err(Error::InvalidInput(format!(
                "{node} is the primary: it replays no WAL, so there is no replay to pause or resume"
            )));
        }
        let privileges = self.known_privileges(target, "replay control").await?;
        if let Err(reason) = privileges.replay_control.check() {
            return Err(Error::PermissionDenied {
                node: node.to_owned(),
                reason: reason.to_owned(),
            });
        }
        if pause {
            self.shared.work.pause_replay(node).await?;
        } else {
            self.shared.work.resume_replay(node).await?;
        }
        Ok(())
    }

    /// Drops the replication slot `slot` on `node` (`pg_drop_replication_slot()`), after
    /// checking the role's privileges there; emits a `replication` event with the slot gone.
    /// PostgreSQL refuses a slot a WAL sender is using (`active`): stop its consumer first.
    ///
    /// Errors: `NotFound` for an unknown node or slot, `PermissionDenied` with the probe's
    /// reason when the role may not, `Conflict` for an active slot, else the node's errors.
    pub async fn drop_slot(&self, node: &str, slot: &str) -> Result<()> {
        let target = self.shared.probe.node(node)?;
        let privileges = self.known_privileges(target, "dropping a slot").await?;
        if let Err(reason) = privileges.drop_slots.check() {
            return Err(Error::PermissionDenied {
                node: node.to_owned(),
                reason: reason.to_owned(),
            });
        }
        let known = crate::replication::slot(&self.shared, node, slot);
        match known {
            None => {
                return Err(Error::NotFound(format!(
                    "no replication slot '{slot}' on {node} (pg_replication_slots): it may have \
                     been dropped already"
                )))
            }
            Some(s) if s.active => {
                return Err(Error::Conflict(format!(
                    "slot '{slot}' on {node} is active{}: PostgreSQL drops only an inactive slot; \
                     stop the replica or client that streams from it first",
                    s.used_by
                        .map(|u| format!(" (used by {u})"))
                        .unwrap_or_default()
                )))
            }
            Some(_) => {}
        }
        skein_pg::replication::drop_slot(&self.shared.work, node, slot).await?;
        tracing::info!(node, slot, "replication slot dropped");
        crate::replication::refresh(&self.shared).await;
        Ok(())
    }

    /// The role's privileges on `target`, as stored, else probed now (and pushed as a
    /// `privileges` event). `what` names the action, for the error.
    async fn known_privileges(&self, target: &Node, what: &str) -> Result<skein_pg::Privileges> {
        let node = target.name();
        let known = self
            .shared
            .privileges
            .lock()
            .ok()
            .and_then(|b| b.entries.get(node).and_then(|e| e.privileges.clone()));
        if let Some(p) = known {
            return Ok(p);
        }
        let entry = probe_and_store(&self.shared, target).await;
        let _ = self
            .shared
            .events
            .send(Event::Privileges(list(&self.shared)));
        match (entry.privileges, entry.error) {
            (Some(p), _) => Ok(p),
            (None, Some(e)) => Err(Error::Pg(skein_pg::Error::Query {
                node: node.to_owned(),
                what: format!("reading the role's privileges before {what}"),
                detail: e.message,
                code: e.code,
            })),
            (None, None) => Err(Error::Internal(format!(
                "{node}: the privileges probe gave no answer"
            ))),
        }
    }
}
