//! Choosing a replica for a read among those in rotation.
//!
//! - Policies: round robin, weighted round robin (smooth, as nginx does), least lag (replay lag
//!   from [`skein_pg::lag`]-style readings, ties by name), random, nearest region (then round
//!   robin within it, else any).
//! - Session affinity: a hint (a session or user id) picks its replica by weighted rendezvous
//!   hashing — the same hint lands on the same replica while that replica is in rotation, and
//!   when one leaves only the hints it held move.
//! - A cap on replicas in rotation (default 16): past it, the first `cap` by name serve and
//!   the sessions share them.
//!
//! Eligibility (lag thresholds, failures, recovery) is decided by [`crate::rotation`]; this
//! module only chooses among the replicas it is given.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Default cap on replicas in rotation.
pub const DEFAULT_CAP: usize = 16;

/// A replica as the balancer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Node name.
    pub name: String,
    /// The configured relative weight (≥ 1).
    pub weight: u32,
    /// Past the warning lag ([`crate::rotation`]): the effective weight is half the
    /// configured one (1 becomes 0.5).
    pub halved: bool,
    /// Its recovery conflicts a minute are at or past the router's `conflicts_per_minute`:
    /// reads sent there get cancelled, so the effective weight is halved (again, when also
    /// [`Candidate::halved`]).
    pub conflicted: bool,
    /// Region from the profile.
    pub region: Option<String>,
    /// Current replay lag, ms.
    pub lag_ms: Option<u64>,
}

impl Candidate {
    /// The weight the balancer uses: the configured weight (at least 1), halved when
    /// [`Candidate::halved`] and halved when [`Candidate::conflicted`].
    pub fn effective_weight(&self) -> f64 {
        self.units() as f64 / 4.0
    }

    /// The effective weight in quarter units (an integer, for smooth weighted round robin).
    fn units(&self) -> i64 {
        let w = 4 * i64::from(self.weight.max(1));
        w >> (u32::from(self.halved) + u32::from(self.conflicted))
    }
}

/// How to spread reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "policy")]
pub enum Policy {
    /// Each replica in turn.
    RoundRobin,
    /// In turn, in proportion to the weights (smooth weighted round robin).
    WeightedRoundRobin,
    /// The replica with the least replay lag.
    LeastLag,
    /// Uniformly at random.
    Random,
    /// Replicas in this region first (round robin among them), else any.
    Nearest {
        /// The caller's region.
        region: String,
    },
}

/// Chooses replicas (see the module header). Shared by all sessions; cheap to call.
#[derive(Debug)]
pub struct Balancer {
    policy: Policy,
    cap: usize,
    next: AtomicUsize,
    /// Smooth weighted round robin's current weights, by replica name.
    current: Mutex<Vec<(String, i64)>>,
}

/// FNV-1a: stable across runs, processes and builds (affinity must not move on restart).
fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    // Finalise (splitmix64) so nearby inputs spread over the whole range.
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Balancer {
    /// A balancer with `policy` and a cap on replicas in rotation.
    pub fn new(policy: Policy, cap: usize) -> Balancer {
        Balancer {
            policy,
            cap: cap.max(1),
            next: AtomicUsize::new(0),
            current: Mutex::new(Vec::new()),
        }
    }

    /// The replicas that serve: at most `cap`, by name. Borrowed as given when they come
    /// sorted by name (the router keeps its list of replicas in rotation so), which spares a
    /// copy and a sort on every read.
    fn serving<'a>(&self, replicas: &'a [Candidate]) -> Cow<'a, [Candidate]> {
        if replicas.is_sorted_by(|a, b| a.name <= b.name) {
            return Cow::Borrowed(&replicas[..replicas.len().min(self.cap)]);
        }
        let mut v = replicas.to_vec();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v.truncate(self.cap);
        Cow::Owned(v)
    }

    /// The replica for one read: by affinity when `hint` is given, else by the policy.
    /// `None` when no replica is in rotation (the caller reads from the primary and says so).
    pub fn pick(&self, replicas: &[Candidate], hint: Option<&str>) -> Option<String> {
        let serving = self.serving(replicas);
        if serving.is_empty() {
            return None;
        }
        if let Some(h) = hint {
            return Some(rendezvous(&serving, h).name.clone());
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let chosen = match &self.policy {
            Policy::RoundRobin => &serving[n % serving.len()],
            Policy::WeightedRoundRobin => return Some(self.smooth_weighted(&serving)),
            Policy::LeastLag => serving
                .iter()
                .min_by_key(|c| (c.lag_ms.unwrap_or(u64::MAX), &c.name))
                .unwrap_or(&serving[0]),
            Policy::Random => {
                let r = fnv(&[
                    &n.to_string(),
                    &format!("{:?}", std::time::SystemTime::now()),
                ]);
                &serving[(r % serving.len() as u64) as usize]
            }
            Policy::Nearest { region } => {
                let near: Vec<&Candidate> = serving
                    .iter()
                    .filter(|c| c.region.as_deref() == Some(region.as_str()))
                    .collect();
                if near.is_empty() {
                    &serving[n % serving.len()]
                } else {
                    near[n % near.len()]
                }
            }
        };
        Some(chosen.name.clone())
    }

    fn smooth_weighted(&self, serving: &[Candidate]) -> String {
        let Ok(mut current) = self.current.lock() else {
            return serving[0].name.clone();
        };
        current.retain(|(n, _)| serving.iter().any(|c| &c.name == n));
        for c in serving {
            if !current.iter().any(|(n, _)| n == &c.name) {
                current.push((c.name.clone(), 0));
            }
        }
        let total: i64 = serving.iter().map(|c| c.units()).sum();
        for (name, w) in current.iter_mut() {
            if let Some(c) = serving.iter().find(|c| &c.name == name) {
                *w += c.units();
            }
        }
        let best = current
            .iter_mut()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
            .map(|(n, w)| {
                *w -= total;
                n.clone()
            });
        best.unwrap_or_else(|| serving[0].name.clone())
    }
}

/// Weighted rendezvous (highest random weight) hashing: score = −weight / ln(u) with u the
/// hint's hash on the replica mapped to (0, 1).
fn rendezvous<'a>(serving: &'a [Candidate], hint: &str) -> &'a Candidate {
    let score = |c: &Candidate| {
        let u = (fnv(&[hint, &c.name]) >> 11) as f64 / (1u64 << 53) as f64;
        let u = u.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON);
        -c.effective_weight() / u.ln()
    };
    serving
        .iter()
        .max_by(|a, b| {
            score(a)
                .total_cmp(&score(b))
                .then_with(|| b.name.cmp(&a.name))
        })
        .unwrap_or(&serving[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn replicas(names: &[&str]) -> Vec<Candidate> {
        names
            .iter()
            .map(|n| Candidate {
                name: (*n).into(),
                weight: 1,
                halved: false,
                conflicted: false,
                region: None,
                lag_ms: Some(0),
            })
            .collect()
    }

    #[test]
    fn affinity_moves_only_the_departed_replicas_share() {
        let b = Balancer::new(Policy::RoundRobin, DEFAULT_CAP);
        let four = replicas(&["r1", "r2", "r3", "r4"]);
        let before: Vec<String> = (0..1000)
            .map(|i| {
                b.pick(&four, Some(&format!("session-{i}")))
                    .expect("a replica")
            })
            .collect();
        let mut per: HashMap<&str, usize> = HashMap::new();
        for r in &before {
            *per.entry(r.as_str()).or_default() += 1;
        }
        for n in ["r1", "r2", "r3", "r4"] {
            let share = per.get(n).copied().unwrap_or(0);
            assert!(
                (180..=320).contains(&share),
                "{n} holds {share} of 1000 hints"
            );
        }
        // The same hint always lands on the same replica.
        assert_eq!(b.pick(&four, Some("session-7")), Some(before[7].clone()));
        // r3 leaves: exactly its hints move, and they spread over the others.
        let three = replicas(&["r1", "r2", "r4"]);
        let mut moved = 0;
        for (i, old) in before.iter().enumerate() {
            let new = b
                .pick(&three, Some(&format!("session-{i}")))
                .expect("a replica");
            if old == "r3" {
                assert_ne!(new, "r3");
                moved += 1;
            } else {
                assert_eq!(&new, old, "session-{i} moved though its replica stayed");
            }
        }
        assert_eq!(moved, per["r3"]);
    }

    #[test]
    fn weighted_round_robin_follows_the_weights_smoothly() {
        let b = Balancer::new(Policy::WeightedRoundRobin, DEFAULT_CAP);
        let mut rs = replicas(&["a", "b", "c"]);
        rs[0].weight = 5;
        let picks: Vec<String> = (0..70).map(|_| b.pick(&rs, None).expect("pick")).collect();
        let count = |n: &str| picks.iter().filter(|p| p.as_str() == n).count();
        assert_eq!((count("a"), count("b"), count("c")), (50, 10, 10));
        // Smooth: `a`'s picks are interleaved with `b` and `c`, never 5 in a row as a plain
        // weighted round robin gives.
        assert!(
            picks.windows(5).all(|w| !w.iter().all(|p| p == "a")),
            "{picks:?}"
        );
        // Weight 1 halved is 0.5: against a weight 1, one read in three.
        let b = Balancer::new(Policy::WeightedRoundRobin, DEFAULT_CAP);
        let mut two = replicas(&["a", "b"]);
        two[0].halved = true;
        let picks: Vec<String> = (0..90).map(|_| b.pick(&two, None).expect("pick")).collect();
        assert_eq!(picks.iter().filter(|p| p.as_str() == "a").count(), 30);
        // Frequent recovery conflicts halve it again: 0.25 against 1, one read in five.
        two[0].conflicted = true;
        assert_eq!(two[0].effective_weight(), 0.25);
        let b = Balancer::new(Policy::WeightedRoundRobin, DEFAULT_CAP);
        let picks: Vec<String> = (0..100)
            .map(|_| b.pick(&two, None).expect("pick"))
            .collect();
        assert_eq!(picks.iter().filter(|p| p.as_str() == "a").count(), 20);
    }

    #[test]
    fn least_lag_nearest_and_the_cap() {
        let mut rs = replicas(&["a", "b", "c"]);
        rs[0].lag_ms = Some(900);
        rs[1].lag_ms = Some(20);
        rs[2].lag_ms = None;
        let b = Balancer::new(Policy::LeastLag, DEFAULT_CAP);
        assert_eq!(b.pick(&rs, None).as_deref(), Some("b"));
        rs[2].region = Some("eu".into());
        let near = Balancer::new(
            Policy::Nearest {
                region: "eu".into(),
            },
            DEFAULT_CAP,
        );
        assert!((0..5).all(|_| near.pick(&rs, None).as_deref() == Some("c")));
        let capped = Balancer::new(Policy::RoundRobin, 2);
        let seen: std::collections::HashSet<String> =
            (0..10).filter_map(|_| capped.pick(&rs, None)).collect();
        assert_eq!(seen.len(), 2, "only two replicas serve under a cap of 2");
        assert_eq!(Balancer::new(Policy::Random, 16).pick(&[], None), None);
    }
}
