//! Lag history: per node, every sample of the last few minutes (full resolution, one a
//! sampling period) and one sample a second before that, back to the retention (an hour by
//! default); filled by the lag sampler from [`skein_pg::lag::sample`] readings.
//!
//! **Thinning.** A sample older than the newest minus the full-resolution window folds into
//! the second it was taken in (its time becomes the second's start, a multiple of 1,000 ms):
//! of a node's samples within one second the series keeps the one with the greatest replay
//! lag, an unknown lag (a node down) counting as the greatest and the newer winning a tie
//! ([`keeps`]), so a spike or an outage shorter than a second is never thinned away. The UI's
//! timeline (`ui/src/lib/timeline.ts`) thins its own columns by the same rule, so both show
//! the same points.
//!
//! **Memory.** Bounded by nodes × (window ÷ period + retention in seconds) small records
//! (~64 bytes): 16 replicas at 250 ms with a 5-minute window and an hour ≈ 5 MB.

use std::collections::VecDeque;
use std::time::Duration;

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

/// Whether a 1-a-second series keeps `new` over `old`, two readings of one node within the
/// same second: the greater replay lag wins, an unknown one counts as the greatest, and the
/// newer wins a tie.
fn keeps(new: Option<u64>, old: Option<u64>) -> bool {
    new.unwrap_or(u64::MAX) >= old.unwrap_or(u64::MAX)
}

#[derive(Debug)]
struct Ring {
    name: String,
    role: NodeRole,
    /// One point a second (time: the second's start), older than `fine`.
    coarse: VecDeque<Point>,
    /// Every sample of the full-resolution window.
    fine: VecDeque<Point>,
}

impl Ring {
    fn points(&self) -> impl DoubleEndedIterator<Item = &Point> + Clone {
        self.coarse.iter().chain(self.fine.iter())
    }
}

/// Per-node lag history (see the module header).
#[derive(Debug)]
pub struct LagHistory {
    full_ms: u64,
    retention_ms: u64,
    /// At most this many full-resolution points per node (the window at the shortest period).
    fine_max: usize,
    nodes: Vec<Ring>,
    latest: Option<LagSample>,
    /// The second being sampled, every node's kept reading so far ([`LagHistory::push`]
    /// hands it out once the next second begins).
    second: Option<LagSample>,
}

impl LagHistory {
    /// An empty history that keeps every sample of the last `full` and one a second back to
    /// `retention`.
    pub fn new(full: Duration, retention: Duration) -> LagHistory {
        let full_ms = full.as_millis() as u64;
        let retention_ms = (retention.as_millis() as u64).max(full_ms).max(1000);
        LagHistory {
            full_ms,
            retention_ms,
            fine_max: (full_ms / skein_core::Sampling::MIN_MS) as usize + 1,
            nodes: Vec::new(),
            latest: None,
            second: None,
        }
    }

    /// The full-resolution window, ms.
    pub fn full_resolution_ms(&self) -> u64 {
        self.full_ms
    }

    /// How far back the history goes, ms.
    pub fn retention_ms(&self) -> u64 {
        self.retention_ms
    }

    /// Appends one cluster sample. Returns, once a sample of a later second arrives, the
    /// second before it as one sample a second keeps ([`keeps`], per node; taken at the
    /// second's start): what the on-disk log records.
    pub fn push(&mut self, sample: &LagSample) -> Option<LagSample> {
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
        let start = sample.taken_at_ms / 1000 * 1000;
        match &mut self.second {
            Some(open) if open.taken_at_ms == start => {
                for n in &sample.nodes {
                    match open.nodes.iter_mut().find(|o| o.name == n.name) {
                        Some(o) if keeps(n.replay_lag_ms, o.replay_lag_ms) => *o = n.clone(),
                        Some(_) => {}
                        None => open.nodes.push(n.clone()),
                    }
                }
                None
            }
            _ => {
                let mut open = sample.clone();
                open.taken_at_ms = start;
                self.second.replace(open)
            }
        }
    }

    fn last_point(&mut self, node: &str) -> Option<&mut Point> {
        self.nodes
            .iter_mut()
            .find(|r| r.name == node)?
            .fine
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

    /// Appends one node's reading (replay lag in ms, bytes behind) taken at `t_ms`, and
    /// thins what fell out of the full-resolution window.
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
                    coarse: VecDeque::new(),
                    fine: VecDeque::new(),
                });
                self.nodes.len() - 1
            }
        };
        let (full_ms, retention_ms, fine_max) = (self.full_ms, self.retention_ms, self.fine_max);
        let ring = &mut self.nodes[idx];
        ring.fine.push_back(Point {
            t_ms,
            replay_lag_ms,
            lag_bytes,
            state,
            write_lag_ms: None,
            flush_lag_ms: None,
            conflicts: None,
        });
        let fine_from = t_ms.saturating_sub(full_ms);
        while ring
            .fine
            .front()
            .is_some_and(|p| p.t_ms < fine_from || ring.fine.len() > fine_max)
        {
            let Some(mut p) = ring.fine.pop_front() else {
                break;
            };
            p.t_ms = p.t_ms / 1000 * 1000;
            match ring.coarse.back_mut() {
                Some(last) if last.t_ms == p.t_ms => {
                    if keeps(p.replay_lag_ms, last.replay_lag_ms) {
                        *last = p;
                    }
                }
                _ => ring.coarse.push_back(p),
            }
        }
        let keep_from = t_ms.saturating_sub(retention_ms);
        let coarse_max = (retention_ms / 1000) as usize + 1;
        while ring
            .coarse
            .front()
            .is_some_and(|p| p.t_ms < keep_from || ring.coarse.len() > coarse_max)
        {
            ring.coarse.pop_front();
        }
    }

    /// The newest sample.
    pub fn latest(&self) -> Option<&LagSample> {
        self.latest.as_ref()
    }

    /// Points held for the named node (thinned and full resolution).
    pub fn len(&self, node: &str) -> usize {
        self.nodes
            .iter()
            .find(|r| r.name == node)
            .map_or(0, |r| r.coarse.len() + r.fine.len())
    }

    /// When the named node's current run of `state` began: the time of the oldest point of
    /// the newest unbroken run of points in that state (ms since the Unix epoch); `None` when
    /// its newest point is in another state. Bounded by what is kept: a run older than the
    /// history starts at the oldest point kept, and a run that began in the thinned part is
    /// known to within a second.
    pub fn state_since(&self, node: &str, state: ReplicaState) -> Option<u64> {
        let ring = self.nodes.iter().find(|r| r.name == node)?;
        let mut since = None;
        for p in ring.points().rev() {
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

    /// Every node's series with points taken after `since_ms` (all when `None`): one a
    /// second, then every sample of the full-resolution window.
    pub fn series(&self, since_ms: Option<u64>) -> Vec<NodeSeries> {
        self.nodes
            .iter()
            .map(|ring| {
                let pts: Vec<&Point> = ring
                    .points()
                    .filter(|p| since_ms.is_none_or(|s| p.t_ms > s))
                    .collect();
                NodeSeries {
                    name: ring.name.clone(),
                    role: ring.role,
                    t_ms: pts.iter().map(|p| p.t_ms).collect(),
                    replay_lag_ms: pts.iter().map(|p| p.replay_lag_ms).collect(),
                    lag_bytes: pts.iter().map(|p| p.lag_bytes).collect(),
                    write_lag_ms: pts.iter().map(|p| p.write_lag_ms).collect(),
                    flush_lag_ms: pts.iter().map(|p| p.flush_lag_ms).collect(),
                    conflicts: pts.iter().map(|p| p.conflicts).collect(),
                    state: pts.iter().map(|p| p.state).collect(),
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

    fn history() -> LagHistory {
        LagHistory::new(Duration::from_secs(2), Duration::from_secs(5))
    }

    #[test]
    fn a_state_run_starts_at_its_oldest_sample() {
        let mut h = history();
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
    fn keeps_every_sample_of_the_window_and_one_a_second_before_it() {
        let mut h = history();
        // Every 250 ms for 4 s; a spike of 900 ms at 1,250 ms, a node down at 2,500 ms.
        for k in 0..16u64 {
            let t = 10_000 + k * 250;
            let lag = match k {
                5 => 900,
                _ => k,
            };
            let mut s = sample(t, lag);
            if k == 10 {
                s.nodes[0].replay_lag_ms = None;
            }
            h.push(&s);
        }
        let s = &h.series(None)[0];
        // Newest 13,750: the window keeps 11,750 and after; before it, one point a second.
        assert_eq!(
            s.t_ms,
            vec![
                10_000, 11_000, 11_750, 12_000, 12_250, 12_500, 12_750, 13_000, 13_250, 13_500,
                13_750
            ]
        );
        // 10,000…10,750: the greatest of 0..3; 11,000…11,500: the spike (k = 5).
        assert_eq!(s.replay_lag_ms[..2], [Some(3), Some(900)]);
        assert_eq!(s.replay_lag_ms[2], Some(7));
        // The unknown lag at 12,500 is kept while in the window.
        assert_eq!(s.replay_lag_ms[5], None);
        assert_eq!(h.len("replica1"), 11);
        // Past the retention (5 s) the oldest seconds fall off.
        for k in 16..40u64 {
            h.push(&sample(10_000 + k * 250, 1));
        }
        let s = &h.series(None)[0];
        assert_eq!(s.t_ms.first(), Some(&15_000));
        assert_eq!(s.t_ms.last(), Some(&19_750));
        assert!(h.series(Some(19_000))[0].t_ms.iter().all(|&t| t > 19_000));
    }

    #[test]
    fn an_unknown_lag_outlasts_thinning() {
        let mut h = history();
        for k in 0..8u64 {
            let mut s = sample(20_000 + k * 250, 5);
            if k == 2 {
                s.nodes[0].replay_lag_ms = None;
            }
            h.push(&s);
        }
        // 20,000…20,750 is out of the window once 22,750 and later arrive.
        for k in 8..16u64 {
            h.push(&sample(20_000 + k * 250, 5));
        }
        let s = &h.series(None)[0];
        assert_eq!(s.t_ms[0], 20_000);
        assert_eq!(s.replay_lag_ms[0], None);
    }

    #[test]
    fn push_hands_out_each_second_once_the_next_begins() {
        let mut h = history();
        assert!(h.push(&sample(1_000, 1)).is_none());
        assert!(h.push(&sample(1_250, 7)).is_none());
        assert!(h.push(&sample(1_500, 2)).is_none());
        let second = h.push(&sample(2_000, 0)).expect("the second 1,000 … 1,999");
        assert_eq!(second.taken_at_ms, 1_000);
        assert_eq!(second.nodes[0].replay_lag_ms, Some(7));
        assert!(h.push(&sample(2_900, 0)).is_none());
    }

    #[test]
    fn since_returns_only_newer_samples() {
        let mut h = LagHistory::new(Duration::from_secs(60), Duration::from_secs(60));
        for t in 1..=5 {
            h.push(&sample(t * 1000, t));
        }
        assert_eq!(h.series(Some(3000))[0].t_ms, vec![4000, 5000]);
        assert!(h.series(Some(9000))[0].t_ms.is_empty());
    }
}
