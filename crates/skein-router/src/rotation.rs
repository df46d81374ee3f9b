//! Which replicas are in rotation, with hysteresis so none flaps:
//!
//! - past the warning lag a replica's effective weight is halved (weight 1 becomes 0.5: the
//!   balancer works in half units, [`Candidate::halved`]); past the critical lag it leaves;
//! - `max_failures` failures (connection errors, timeouts) within `failure_window` take it out;
//! - a replica that is out of recovery (promoted: it accepts writes, a second primary) leaves
//!   at once ([`Rotation::promoted`]);
//! - a replica out of rotation comes back only after it has been healthy (in recovery,
//!   answering, below the critical lag, no failure) for `recovery` without a break; meanwhile
//!   [`Rotation::recovering_ms`] counts the time left down, sample by sample.
//!
//! Time is passed in (ms), so the policy is tested without sleeping. When every replica is
//! out, [`Rotation::eligible`] is empty and reads go to the primary.

use std::collections::HashMap;

use crate::balance::Candidate;

/// The thresholds and windows of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// Replay lag past which a replica's weight is halved, ms.
    pub lag_warning_ms: u64,
    /// Replay lag past which it leaves rotation, ms.
    pub lag_critical_ms: u64,
    /// Failures within `failure_window_ms` that take it out.
    pub max_failures: u32,
    /// The failure window, ms.
    pub failure_window_ms: u64,
    /// How long it must stay healthy to come back, ms.
    pub recovery_ms: u64,
}

impl Default for RotationPolicy {
    fn default() -> Self {
        RotationPolicy {
            lag_warning_ms: 5_000,
            lag_critical_ms: 30_000,
            max_failures: 3,
            failure_window_ms: 10_000,
            recovery_ms: 30_000,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Health {
    out: bool,
    /// Why it is out (for the console).
    reason: Option<String>,
    /// Since when it has been healthy without a break, while out.
    healthy_since: Option<u64>,
    /// When it was last observed healthy (the recovery countdown's clock).
    healthy_at: Option<u64>,
    failures: Vec<u64>,
    lag_ms: Option<u64>,
}

/// Takes `replica` out of rotation for `reason`; logs the change (not a repeat).
fn leave(replica: &str, h: &mut Health, reason: String) {
    if !h.out {
        tracing::warn!(replica, "replica leaves rotation: {reason}");
    }
    h.out = true;
    h.reason = Some(reason);
}

/// The rotation state of every replica.
#[derive(Debug, Clone, Default)]
pub struct Rotation {
    policy: RotationPolicy,
    replicas: HashMap<String, Health>,
}

impl Rotation {
    /// An empty rotation with `policy`.
    pub fn new(policy: RotationPolicy) -> Rotation {
        Rotation {
            policy,
            replicas: HashMap::new(),
        }
    }

    /// Records a lag reading of `replica` at `now_ms`: `Some(lag)` when it answered, `None`
    /// when it did not (counts as a failure).
    pub fn observe(&mut self, replica: &str, lag_ms: Option<u64>, now_ms: u64) {
        match lag_ms {
            Some(lag) => {
                let critical = lag >= self.policy.lag_critical_ms;
                let h = self.replicas.entry(replica.to_owned()).or_default();
                h.lag_ms = Some(lag);
                if critical {
                    h.healthy_since = None;
                    h.healthy_at = None;
                    let reason = format!(
                        "replay lag {lag} ms past critical ({} ms)",
                        self.policy.lag_critical_ms
                    );
                    leave(replica, h, reason);
                } else {
                    self.healthy(replica, now_ms);
                }
            }
            None => self.failure(replica, now_ms, "did not answer"),
        }
    }

    /// Records that `replica` is out of recovery (`pg_is_in_recovery()` false: promoted, it
    /// accepts writes): out of rotation at once, whatever its failures, until it is in recovery
    /// again and healthy for the recovery time.
    pub fn promoted(&mut self, replica: &str) {
        let h = self.replicas.entry(replica.to_owned()).or_default();
        h.healthy_since = None;
        h.healthy_at = None;
        leave(
            replica,
            h,
            "promoted: out of recovery, accepts writes (a second primary)".into(),
        );
    }

    /// Records a failed query or connection on `replica`.
    pub fn failure(&mut self, replica: &str, now_ms: u64, what: &str) {
        let policy = self.policy;
        let h = self.replicas.entry(replica.to_owned()).or_default();
        h.healthy_since = None;
        h.healthy_at = None;
        h.failures.push(now_ms);
        h.failures
            .retain(|t| now_ms.saturating_sub(*t) <= policy.failure_window_ms);
        if h.failures.len() as u32 >= policy.max_failures {
            let reason = format!(
                "{} failures within {} s ({what})",
                h.failures.len(),
                policy.failure_window_ms / 1000
            );
            leave(replica, h, reason);
        }
    }

    fn healthy(&mut self, replica: &str, now_ms: u64) {
        let recovery = self.policy.recovery_ms;
        let h = self.replicas.entry(replica.to_owned()).or_default();
        if h.out {
            let since = *h.healthy_since.get_or_insert(now_ms);
            h.healthy_at = Some(now_ms);
            if now_ms.saturating_sub(since) >= recovery {
                tracing::info!(
                    replica,
                    healthy_ms = now_ms.saturating_sub(since),
                    "replica back in rotation (was out: {})",
                    h.reason.as_deref().unwrap_or("-")
                );
                h.out = false;
                h.reason = None;
                h.healthy_since = None;
                h.healthy_at = None;
                h.failures.clear();
            }
        }
    }

    /// Whether `replica` is in rotation (unknown replicas are).
    pub fn in_rotation(&self, replica: &str) -> bool {
        self.replicas.get(replica).is_none_or(|h| !h.out)
    }

    /// Why `replica` is out of rotation.
    pub fn reason(&self, replica: &str) -> Option<&str> {
        self.replicas.get(replica).and_then(|h| h.reason.as_deref())
    }

    /// Out of rotation but healthy again: ms of the recovery time left before `replica`
    /// returns (if it stays healthy), as of its last healthy sample. `None` when in rotation or
    /// not healthy.
    pub fn recovering_ms(&self, replica: &str) -> Option<u64> {
        let h = self.replicas.get(replica).filter(|h| h.out)?;
        let (since, at) = (h.healthy_since?, h.healthy_at?);
        Some(
            self.policy
                .recovery_ms
                .saturating_sub(at.saturating_sub(since)),
        )
    }

    /// The candidates in rotation, halved ([`Candidate::halved`]) past the warning lag.
    pub fn eligible(&self, candidates: &[Candidate]) -> Vec<Candidate> {
        candidates
            .iter()
            .filter(|c| self.in_rotation(&c.name))
            .map(|c| {
                let mut c = c.clone();
                let lag = self
                    .replicas
                    .get(&c.name)
                    .and_then(|h| h.lag_ms)
                    .or(c.lag_ms);
                c.lag_ms = lag;
                c.halved = lag.is_some_and(|l| l >= self.policy.lag_warning_ms);
                c
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(name: &str, weight: u32) -> Candidate {
        Candidate {
            name: name.into(),
            weight,
            halved: false,
            conflicted: false,
            region: None,
            lag_ms: None,
        }
    }

    #[test]
    fn critical_lag_ejects_and_only_a_full_recovery_brings_it_back() {
        let mut r = Rotation::new(RotationPolicy::default());
        r.observe("r1", Some(0), 0);
        assert!(r.in_rotation("r1"));
        r.observe("r1", Some(31_000), 1_000);
        assert!(!r.in_rotation("r1"));
        assert!(r.reason("r1").is_some_and(|x| x.contains("past critical")));
        // Healthy again, but not yet for the recovery time.
        r.observe("r1", Some(10), 2_000);
        r.observe("r1", Some(10), 31_000);
        assert!(!r.in_rotation("r1"), "29 s healthy is not enough");
        // A relapse restarts the clock: no flapping.
        r.observe("r1", Some(40_000), 31_500);
        r.observe("r1", Some(10), 32_000);
        r.observe("r1", Some(10), 61_000);
        assert!(!r.in_rotation("r1"));
        r.observe("r1", Some(10), 62_000);
        assert!(r.in_rotation("r1"), "30 s healthy brings it back");
    }

    #[test]
    fn failures_within_the_window_eject_and_warning_lag_halves_the_weight() {
        let mut r = Rotation::new(RotationPolicy::default());
        r.failure("r2", 0, "connection refused");
        r.failure("r2", 20_000, "connection refused");
        r.failure("r2", 25_000, "connection refused");
        assert!(r.in_rotation("r2"), "two failures in the 10 s window");
        r.failure("r2", 26_000, "timeout");
        assert!(!r.in_rotation("r2"));
        r.observe("r3", Some(6_000), 0);
        let e = r.eligible(&[cand("r2", 4), cand("r3", 4), cand("r4", 4)]);
        let names: Vec<(&str, f64)> = e
            .iter()
            .map(|c| (c.name.as_str(), c.effective_weight()))
            .collect();
        assert_eq!(names, [("r3", 2.0), ("r4", 4.0)]);
        // Weight 1 past the warning lag is 0.5, not 1.
        let one = r.eligible(&[cand("r3", 1)]);
        assert_eq!(one[0].effective_weight(), 0.5);
        // Every replica out: nothing eligible, reads go to the primary.
        r.observe("r3", Some(99_000), 1);
        r.observe("r4", None, 1);
        r.observe("r4", None, 2);
        r.observe("r4", None, 3);
        assert!(r
            .eligible(&[cand("r2", 1), cand("r3", 1), cand("r4", 1)])
            .is_empty());
    }

    #[test]
    fn a_promoted_replica_leaves_at_once_and_the_recovery_counts_down() {
        let mut r = Rotation::new(RotationPolicy {
            recovery_ms: 10_000,
            ..RotationPolicy::default()
        });
        r.observe("r1", Some(0), 0);
        assert_eq!(r.recovering_ms("r1"), None, "in rotation");
        r.promoted("r1");
        assert!(!r.in_rotation("r1"), "out at once, no failures needed");
        assert!(r.reason("r1").is_some_and(|x| x.starts_with("promoted")));
        assert_eq!(r.recovering_ms("r1"), None, "out, not healthy");
        // Promoted again on the next sample: still not counting.
        r.promoted("r1");
        assert_eq!(r.recovering_ms("r1"), None);
        // In recovery again and healthy: the countdown runs sample by sample.
        r.observe("r1", Some(5), 1_000);
        assert_eq!(r.recovering_ms("r1"), Some(10_000));
        r.observe("r1", Some(5), 4_000);
        assert_eq!(r.recovering_ms("r1"), Some(7_000));
        r.observe("r1", Some(5), 10_500);
        assert_eq!(r.recovering_ms("r1"), Some(500));
        // A failure stops it; healthy again starts it from the full recovery time.
        r.failure("r1", 10_600, "timeout");
        assert_eq!(r.recovering_ms("r1"), None);
        r.observe("r1", Some(5), 11_000);
        assert_eq!(r.recovering_ms("r1"), Some(10_000));
        r.observe("r1", Some(5), 21_000);
        assert!(r.in_rotation("r1"));
        assert_eq!(r.recovering_ms("r1"), None);
        assert_eq!(r.reason("r1"), None);
    }
}
