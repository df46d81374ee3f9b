//! The time a cascading replica is behind the primary, composed along its path.
//!
//! The primary lists no WAL sender for a replica that streams from another replica, so
//! `pg_stat_replication.replay_lag` against the primary does not exist for it, and
//! `now() − pg_last_xact_replay_timestamp()` counts the idle time before the last commit it
//! replayed (seconds after a quiet spell, while it is a few ms behind). What PostgreSQL does
//! measure are the two legs: how long WAL takes to be flushed on the upstream (its sender's
//! `flush_lag` on the primary, 0 when the upstream has received all of the primary's WAL), and
//! how long the replica then takes to replay it, from the upstream's send (the upstream's
//! `pg_stat_replication.replay_lag` for it). A cascading WAL sender sends what its node has
//! flushed, so a record written at t₀ reaches the replica's replay at t₀ + flush(upstream) +
//! replay(replica); for a chain the upstream's flush leg is itself composed the same way.

use std::collections::HashMap;

use crate::lag::{NodeRole, NodeStatus};
use crate::lsn::Lsn;

/// Replaces the replay lag against the primary of every cascading replica that is behind
/// (`lag_bytes > 0`) with the composed figure, where every leg is known; elsewhere the figure
/// is left as it was. `primary_current` is the primary's `pg_current_wal_lsn()`. Returns the
/// indices of the nodes it changed.
pub(crate) fn compose(nodes: &mut [NodeStatus], primary_current: Option<Lsn>) -> Vec<usize> {
    let Some(current) = primary_current else {
        return Vec::new();
    };
    let by_name: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    let primary = nodes
        .iter()
        .find(|n| n.role == NodeRole::Primary)
        .map(|n| n.name.clone());
    let mut composed = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let Some(up) = n.upstream.as_deref().and_then(|u| by_name.get(u)) else {
            continue;
        };
        if n.role != NodeRole::Replica
            || Some(&nodes[*up].name) == primary.as_ref()
            || n.lag_bytes.unwrap_or(0) == 0
        {
            continue;
        }
        let ms = flushed_after(
            nodes,
            &by_name,
            primary.as_deref(),
            *up,
            current,
            nodes.len(),
        )
        .zip(n.upstream_replay_lag_ms)
        .map(|(flush, replay)| flush + replay);
        if let Some(ms) = ms {
            composed.push((i, ms));
        }
    }
    composed
        .into_iter()
        .map(|(i, ms)| {
            nodes[i].replay_lag_ms = Some(ms);
            i
        })
        .collect()
}

/// How long the primary's WAL takes to be flushed on node `i`, ms: 0 when it has received all
/// of it; else its sender's `flush_lag` (on its upstream) plus, for a cascading node, its
/// upstream's own figure. `None` when a leg is unknown (NULL, hidden, or 0 while WAL is
/// missing) or the path does not end at the primary within `depth` steps.
fn flushed_after(
    nodes: &[NodeStatus],
    by_name: &HashMap<&str, usize>,
    primary: Option<&str>,
    i: usize,
    current: Lsn,
    depth: usize,
) -> Option<u64> {
    let n = &nodes[i];
    if n.receive_lsn.max(n.lsn).is_some_and(|p| p >= current) {
        return Some(0);
    }
    // 0 ms while WAL is missing is a figure PostgreSQL has not updated (no reply since it was
    // caught up, or a frozen receiver): unknown, not 0.
    let leg = n.flush_lag_ms.filter(|&ms| ms > 0)?;
    let up = n.upstream.as_deref()?;
    if Some(up) == primary {
        return Some(leg);
    }
    let up = *by_name.get(up)?;
    let before = flushed_after(nodes, by_name, primary, up, current, depth.checked_sub(1)?)?;
    Some(before + leg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lag::{LagLevel, ReplicaState};

    fn node(name: &str, upstream: Option<&str>) -> NodeStatus {
        NodeStatus {
            name: name.into(),
            role: if upstream.is_some() {
                NodeRole::Replica
            } else {
                NodeRole::Primary
            },
            reachable: true,
            state: ReplicaState::Streaming,
            lag_bytes: Some(0),
            replay_lag_ms: Some(0),
            write_lag_ms: None,
            flush_lag_ms: None,
            upstream: upstream.map(Into::into),
            upstream_lag_bytes: None,
            upstream_replay_lag_ms: None,
            lsn: None,
            receive_lsn: None,
            last_replay_at: None,
            timeline_id: None,
            tls: None,
            level: LagLevel::Ok,
            error: None,
        }
    }

    fn lsn(v: u64) -> Option<Lsn> {
        Some(Lsn(v))
    }

    #[test]
    fn a_cascade_behind_a_caught_up_upstream_is_as_far_behind_as_its_own_leg() {
        let mut r1 = node("replica1", Some("primary"));
        (r1.lsn, r1.receive_lsn, r1.flush_lag_ms) = (lsn(900), lsn(1000), Some(40));
        let mut r2 = node("replica2", Some("replica1"));
        (r2.lsn, r2.lag_bytes, r2.upstream_replay_lag_ms) = (lsn(500), Some(500), Some(2080));
        r2.replay_lag_ms = Some(7559); // now() − last replayed commit, idle time included
        let mut nodes = vec![node("primary", None), r1, r2];
        compose(&mut nodes, lsn(1000));
        assert_eq!(nodes[2].replay_lag_ms, Some(2080));
        // replica1 has not received everything yet: its flush leg counts.
        nodes[1].receive_lsn = lsn(990);
        compose(&mut nodes, lsn(1000));
        assert_eq!(nodes[2].replay_lag_ms, Some(2120));
    }

    #[test]
    fn chains_add_their_legs_and_unknown_legs_change_nothing() {
        let mut r1 = node("replica1", Some("primary"));
        (r1.receive_lsn, r1.flush_lag_ms) = (lsn(900), Some(10));
        let mut r2 = node("replica2", Some("replica1"));
        (r2.receive_lsn, r2.flush_lag_ms, r2.lag_bytes) = (lsn(800), Some(20), Some(200));
        r2.upstream_replay_lag_ms = Some(25);
        let mut r3 = node("replica3", Some("replica2"));
        (r3.lag_bytes, r3.upstream_replay_lag_ms) = (Some(300), Some(5));
        let mut nodes = vec![node("primary", None), r1, r2, r3];
        compose(&mut nodes, lsn(1000));
        assert_eq!(nodes[2].replay_lag_ms, Some(10 + 25));
        assert_eq!(nodes[3].replay_lag_ms, Some(10 + 20 + 5));
        // A hidden flush lag (no pg_read_all_stats) leaves the figure as it was.
        nodes[1].flush_lag_ms = None;
        nodes[3].replay_lag_ms = Some(77);
        compose(&mut nodes, lsn(1000));
        assert_eq!(nodes[3].replay_lag_ms, Some(77));
        // 0 ms while replica1 lacks WAL is a stale figure: unchanged too.
        nodes[1].flush_lag_ms = Some(0);
        compose(&mut nodes, lsn(1000));
        assert_eq!(nodes[3].replay_lag_ms, Some(77));
        // A loop in the upstreams never ends at the primary: unchanged, no overflow.
        nodes[1].flush_lag_ms = Some(10);
        nodes[1].upstream = Some("replica3".into());
        compose(&mut nodes, lsn(1000));
        assert_eq!(nodes[3].replay_lag_ms, Some(77));
    }
}
