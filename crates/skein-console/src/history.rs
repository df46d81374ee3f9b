//! Lag history: a bounded ring of samples per node (the last hour at one sample a second by
//! default), filled by the lag sampler from [`skein_pg::lag::sample`] readings. Memory is
//! bounded by `capacity` × nodes × one small record (~40 bytes): 16 replicas × 3,600
//! samples ≈ 2.4 MB.

use std::collections::VecDeque;

use skein_pg::{LagSample, NodeRole, ReplicaState};

use crate::rpc::NodeSeries;

#[derive(Debug, Clone, Copy)]
struct Point {
    t_ms: u64,
    replay_lag_ms: Option<u64>,
    lag_bytes: Option<u64>,
    state: ReplicaState,
    write_lag_ms: Option<u64>,
    flush_lag_ms: Option<u64>,
    /// Recovery conflicts since the statistics were reset (set after the point, from the
    /// tick's replication reading: [`LagHistory::note_conflicts`]).
    conflicts: Option<i64>,
}

#[derive(Debug)]
struct Ring {
    name: String,
    role: NodeRole,
    points: VecDeque<Point>,
}

/// Per-node lag history with a fixed capacity; the oldest samples fall off.
#[derive(Debug)]
pub struct LagHistory {
    capacity: usize,
    nodes: Vec<Ring>,
    latest: Option<LagSample>,
}

impl LagHistory {
    /// An empty history that keeps at most `capacity` samples per node.
    pub fn new(capacity: usize) -> LagHistory {
        LagHistory {
            capacity: capacity.max(1),
            nodes: Vec::new(),
            latest: None,
        }
    }

    /// Samples kept per node.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Appends one cluster sample.
    pub fn push(&mut self, sample: &LagSample) {
        for node in &sample.nodes {
            self.push_point(
                &node.name,
                node.role,
                sample.taken_at_ms,
                node.replay_lag_ms,
                node.lag_bytes,
                node.state,
            );
            if let Some(p) = self.last_point(&node.name) {
                p.write_lag_ms = node.write_lag_ms;
                p.flush_lag_ms = node.flush_lag_ms;
            }
        }
        self.latest = Some(sample.clone());
    }

    fn last_point(&mut self, node: &str) -> Option<&mut Point> {
        self.nodes
            .iter_mut()
            .find(|r| r.name == node)?
            .points
            .back_mut()
    }

    /// Sets the newest point's cumulative recovery conflicts of each node of a replication
    /// reading taken in the same tick (`pg_stat_database_conflicts`, all causes).
    pub fn note_conflicts(&mut self, reading: &skein_pg::ReplicationReading) {
        for n in &reading.nodes {
            if let (Some(c), Some(p)) = (n.conflicts, self.last_point(&n.name)) {
                p.conflicts = Some(c.total());
            }
        }
    }

    /// Appends one node's reading (replay lag in ms, bytes behind) taken at `t_ms`.
    pub fn push_point(
        &mut self,
        name: &str,
        role: NodeRole,
        t_ms: u64,
        replay_lag_ms: Option<u64>,
        lag_bytes: Option<u64>,
        state: ReplicaState,
    ) {
        let idx = match self.nodes.iter().position(|r| r.name == name) {
            Some(i) => i,
            None => {
                self.nodes.push(Ring {
                    name: name.to_owned(),
                    role,
                    points: VecDeque::with_capacity(self.capacity.min(4096)),
                });
                self.nodes.len() - 1
            }
        };
        let ring = &mut self.nodes[idx];
        if ring.points.len() == self.capacity {
            ring.points.pop_front();
        }
        ring.points.push_back(Point {
            t_ms,
            replay_lag_ms,
            lag_bytes,
            state,
            write_lag_ms: None,
            flush_lag_ms: None,
            conflicts: None,
        });
    }

    /// The newest sample.
    pub fn latest(&self) -> Option<&LagSample> {
        self.latest.as_ref()
    }

    /// Samples held for the named node.
    pub fn len(&self, node: &str) -> usize {
        self.nodes
            .iter()
            .find(|r| r.name == node)
            .map_or(0, |r| r.points.len())
    }

    /// When the named node's current run of `state` began: the time of the oldest sample of
    /// the newest unbroken run of samples in that state (ms since the Unix epoch); `None` when
    /// its newest sample is in another state. Bounded by what is kept: a run older than the
    /// history starts at the oldest sample kept.
    pub fn state_since(&self, node: &str, state: ReplicaState) -> Option<u64> {
        let ring = self.nodes.iter().find(|r| r.name == node)?;
        let mut since = None;
        for p in ring.points.iter().rev() {
            if p.state != state {
                break;
            }
            since = Some(p.t_ms);
        }
        since
    }

    /// Whether nothing has been sampled yet.
    pub fn is_empty(&self) -> bool {
        self.latest.is_none()
    }

    /// Every node's series with samples taken after `since_ms` (all when `None`).
    pub fn series(&self, since_ms: Option<u64>) -> Vec<NodeSeries> {
        self.nodes
            .iter()
            .map(|ring| {
                let start = since_ms.map_or(0, |s| ring.points.partition_point(|p| p.t_ms <= s));
                let pts = ring.points.range(start..);
                NodeSeries {
                    name: ring.name.clone(),
                    role: ring.role,
                    t_ms: pts.clone().map(|p| p.t_ms).collect(),
                    replay_lag_ms: pts.clone().map(|p| p.replay_lag_ms).collect(),
                    lag_bytes: pts.clone().map(|p| p.lag_bytes).collect(),
                    write_lag_ms: pts.clone().map(|p| p.write_lag_ms).collect(),
                    flush_lag_ms: pts.clone().map(|p| p.flush_lag_ms).collect(),
                    conflicts: pts.clone().map(|p| p.conflicts).collect(),
                    state: pts.map(|p| p.state).collect(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skein_pg::{LagLevel, NodeStatus};

    fn sample(t: u64, lag: u64) -> LagSample {
        LagSample {
            taken_at_ms: t,
            nodes: vec![NodeStatus {
                name: "replica1".into(),
                role: NodeRole::Replica,
                reachable: true,
                state: ReplicaState::Streaming,
                lag_bytes: Some(lag * 10),
                replay_lag_ms: Some(lag),
                write_lag_ms: None,
                flush_lag_ms: None,
                upstream: None,
                upstream_lag_bytes: None,
                upstream_replay_lag_ms: None,
                lsn: None,
                receive_lsn: None,
                last_replay_at: None,
                timeline_id: None,
                tls: None,
                level: LagLevel::Ok,
                error: None,
            }],
        }
    }

    #[test]
    fn a_state_run_starts_at_its_oldest_sample() {
        let mut h = LagHistory::new(10);
        h.push_point(
            "r",
            NodeRole::Replica,
            1,
            Some(0),
            Some(0),
            ReplicaState::Promoted,
        );
        h.push_point(
            "r",
            NodeRole::Replica,
            2,
            Some(0),
            Some(0),
            ReplicaState::Streaming,
        );
        assert_eq!(h.state_since("r", ReplicaState::Promoted), None);
        for t in 3..6 {
            h.push_point(
                "r",
                NodeRole::Replica,
                t,
                None,
                None,
                ReplicaState::Promoted,
            );
        }
        assert_eq!(h.state_since("r", ReplicaState::Promoted), Some(3));
        assert_eq!(h.state_since("other", ReplicaState::Promoted), None);
    }

    #[test]
    fn keeps_the_newest_samples_up_to_capacity() {
        let mut h = LagHistory::new(3);
        for t in 1..=5 {
            h.push(&sample(t * 1000, t));
        }
        let s = h.series(None);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].t_ms, vec![3000, 4000, 5000]);
        assert_eq!(s[0].replay_lag_ms, vec![Some(3), Some(4), Some(5)]);
        assert_eq!(s[0].lag_bytes, vec![Some(30), Some(40), Some(50)]);
        assert_eq!(h.len("replica1"), 3);
    }

    #[test]
    fn since_returns_only_newer_samples() {
        let mut h = LagHistory::new(10);
        for t in 1..=5 {
            h.push(&sample(t * 1000, t));
        }
        assert_eq!(h.series(Some(3000))[0].t_ms, vec![4000, 5000]);
        assert!(h.series(Some(9000))[0].t_ms.is_empty());
    }
}
