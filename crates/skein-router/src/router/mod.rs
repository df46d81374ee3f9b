//! The router: classification ([`crate::classify`]), rotation ([`crate::rotation`]) and
//! balancing ([`crate::balance`]) tied to a pool per node, with read-your-writes and session
//! pinning from the task's [`crate::Session`], retries, and per-node counters.
//!
//! Every call decides a [`Route`] — the node, the rule that decided and why — runs the
//! statement there and returns the route with the result, so a caller (and the console's
//! Workbench) can always say why a statement went where it did.
//!
//! Rotation is fed by lag samples ([`skein_pg::lag::sample`]): [`Router::observe`] takes one
//! (the console passes its own), or [`Router::start_monitor`] samples on its own. A sample
//! also reloads the function catalog ([`crate::functions`]) in the background when a statement
//! named something it did not hold (at most every `catalog_reload_ms`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use skein_core::Profile;
use skein_pg::{Cluster, LagSample, Lsn, Node, NodeRole, ReplicaState};

use crate::balance::{Balancer, Candidate};
use crate::classify::{classify, effect, Classification, Effect, Target};
use crate::config::RouterConfig;
use crate::error::{Error, Result};
use crate::functions::Functions;
use crate::rotation::{Rotation, RotationPolicy};

mod catalog;
mod exec;
mod plan;

/// Distinct statement texts whose classification the router keeps.
pub const CLASSIFIED_KEPT: usize = 4096;

/// Where a statement goes and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Route {
    /// `primary` or `replica`: the kind of node that serves it.
    pub target: Target,
    /// The node's name from the profile.
    pub node: String,
    /// The rule that decided: a classifier rule (`statement`, `locking`, `function`,
    /// `read`, …; see [`crate::classify`]) or a router rule (`force_primary`,
    /// `read_splitting_off`, `session_pinned`, `table_rule`, `query_rule`,
    /// `sticky_after_write`, `read_your_writes`, `no_replica_in_rotation`, `retry`).
    pub rule: String,
    /// For a person: why.
    pub reason: String,
    /// The LSN a replica must have replayed first (read-your-writes), if any.
    pub needs_lsn: Option<Lsn>,
}

/// A result and the route that produced it.
#[derive(Debug)]
pub struct Routed<T> {
    /// The statement's result.
    pub value: T,
    /// Where it ran and why (after a retry: the primary, rule `retry`).
    pub route: Route,
    /// Wall time of the statement including any read-your-writes wait, ms.
    pub elapsed_ms: f64,
}

/// One node's routing figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct NodeRouting {
    /// Node name.
    pub name: String,
    /// Primary or replica.
    pub role: NodeRole,
    /// Whether reads may go to it (always true for the primary).
    pub in_rotation: bool,
    /// Why it is out of rotation.
    pub reason: Option<String>,
    /// The profile's weight (`[[replicas]] weight`, default 1; 0 for the primary).
    pub configured_weight: u32,
    /// Its effective weight now: the configured weight, halved past `lag_warning_ms`
    /// (so 1 becomes 0.5) and halved when its recovery conflicts a minute reach the router's
    /// `conflicts_per_minute`, 0 when out of rotation (and for the primary).
    pub weight: f64,
    /// Out of rotation but healthy again: ms left of `recovery_ms` before it returns, if it
    /// stays healthy, as of its last lag sample (it counts down sample by sample). `None` when
    /// in rotation or not (yet) healthy (a promoted replica is not: it is out of recovery).
    pub recovering_ms: Option<u64>,
    /// Replay lag at the last observation, ms.
    pub lag_ms: Option<u64>,
    /// Recovery conflicts a minute at the last observation ([`Router::observe_conflicts`]).
    pub conflicts_per_minute: Option<f64>,
    /// `pg_last_wal_replay_lsn()` at the last observation.
    pub replay_lsn: Option<Lsn>,
    /// Statements classified as reads that it served.
    pub reads: u64,
    /// Statements that had to run on the primary (writes, locks, session state) it served.
    pub writes: u64,
    /// Reads that failed on it and were retried on the primary.
    pub retried: u64,
}

/// The router's state, for the console's Overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RoutingStats {
    /// Whether reads are split at all (`[router] read_splitting`).
    pub read_splitting: bool,
    /// The balancing policy's name.
    pub policy: String,
    /// Every replica is out of rotation: reads go to the primary.
    pub all_out: bool,
    /// Reads that went to the primary because no replica qualified (none in rotation, or
    /// read-your-writes timed out).
    pub fallbacks: u64,
    /// Reads served from the lake by fresh caches (counted by the caller that serves them,
    /// [`Router::count_cache_read`]).
    pub cache_reads: u64,
    /// Primary first, then the replicas in profile order.
    pub nodes: Vec<NodeRouting>,
}

#[derive(Default)]
struct Counters {
    reads: AtomicU64,
    writes: AtomicU64,
    retried: AtomicU64,
}

#[derive(Debug, Clone, Default)]
struct Reading {
    lag_ms: Option<u64>,
    replay_lsn: Option<Lsn>,
    /// Recovery conflicts a minute ([`Router::observe_conflicts`]).
    conflicts_per_minute: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Dest {
    Primary,
    Replica(String),
}

/// A statement's classification and effect, as the cache holds them, with the reasons a
/// read of it is given, written once per statement text rather than per call.
pub(super) type Analysed = Arc<(Classification, Effect, ReadReasons)>;

/// The reasons of a read, from its classification and the router's policy.
pub(super) struct ReadReasons {
    /// The classification's reason and the balancing policy (`…; chosen by round robin`).
    pub(super) chosen: String,
    /// `/* skein:replica=NAME */ names it`, when the statement carries that hint.
    pub(super) named: Option<String>,
}

/// Maps keyed by statement text or node name, looked up on every statement: a fast hash, since
/// the keys come from the application and the profile, not from an adversary choosing
/// collisions (statement text is capped by [`CLASSIFIED_KEPT`] entries).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

struct Inner {
    config: RouterConfig,
    cluster: Cluster,
    functions: RwLock<Functions>,
    /// Classifications by statement text (at most [`CLASSIFIED_KEPT`]; cleared when the
    /// function catalog is reloaded).
    /// Shared (`Arc`), so a hit costs a reference count, not a copy of the reason's text.
    classified: RwLock<FastMap<String, Analysed>>,
    rotation: Mutex<Rotation>,
    /// The replicas in rotation as the balancer sees them, recomputed whenever rotation or
    /// the readings change ([`Router::observe`], a failed read, …), so that routing a
    /// statement takes no lock but this read lock and copies no names.
    eligible: RwLock<Arc<[Candidate]>>,
    balancer: Balancer,
    readings: Mutex<HashMap<String, Reading>>,
    counters: FastMap<String, Counters>,
    fallbacks: AtomicU64,
    cache_reads: AtomicU64,
    /// A classification rested on a name the catalog does not hold since the last reload.
    catalog_missed: AtomicBool,
    /// A reload of the catalog is running.
    catalog_reloading: AtomicBool,
    /// The last reload of the catalog failed (logged once until one succeeds).
    catalog_failing: AtomicBool,
    /// When the catalog was last (re)loaded or tried, ms since `epoch`.
    catalog_loaded_ms: AtomicU64,
    /// Tickets of catalog reloads, in the order they started; and the newest one stored.
    /// Reloads may overlap (the monitor's first, one after DDL): a reload that started
    /// earlier never overwrites what a later one stored.
    catalog_reloads: AtomicU64,
    catalog_stored: AtomicU64,
    table_rules: Vec<(String, Dest)>,
    query_rules: Vec<(u64, Dest)>,
    epoch: Instant,
}

/// Read/write splitting over one profile's nodes. Cheap to clone; clones share pools and state.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("primary", &self.inner.cluster.primary.name())
            .field("replicas", &self.inner.cluster.replicas.len())
            .finish()
    }
}

impl Router {
    /// A router over `profile`'s nodes with the profile's `[router]` settings. Builds the
    /// pools (connecting lazily), reads the function catalog from the primary
    /// ([`crate::load_functions`]; until it can, statements that call functions or read relations go
    /// to the primary) and takes one lag sample.
    ///
    /// Errors: [`Error::Config`] for bad `[router]` settings (unknown node in a rule, a rule
    /// query that does not parse, …); a connection string that does not parse.
    pub async fn connect(profile: &Profile) -> Result<Router> {
        let config = RouterConfig::from_table(&profile.router)?;
        Router::with_config(profile, config).await
    }

    /// [`Router::connect`] with settings given in code.
    pub async fn with_config(profile: &Profile, config: RouterConfig) -> Result<Router> {
        let router = Router::new(profile, config)?;
        let _ = router.reload_functions().await;
        router.observe(&skein_pg::lag::sample(&router.inner.cluster).await);
        Ok(router)
    }

    /// A router that has not asked any server yet: the function catalog is unknown (calls
    /// and relation reads go to the primary) and every replica is in rotation until [`Router::observe`] or
    /// [`Router::reload_functions`] say otherwise. For callers that feed samples themselves.
    ///
    /// Errors: as [`Router::connect`].
    pub fn new(profile: &Profile, config: RouterConfig) -> Result<Router> {
        let balancer = Balancer::new(config.policy()?, config.cap);
        let passfile = profile.passfile.as_deref();
        let pool = |spec, role, p: crate::config::PoolSettings| {
            Node::new(
                spec,
                role,
                passfile,
                p.max_size.max(1),
                Duration::from_millis(p.timeout_ms),
            )
        };
        let cluster = Cluster {
            primary: pool(&profile.primary, NodeRole::Primary, config.primary_pool)?,
            replicas: profile
                .replicas
                .iter()
                .map(|r| pool(r, NodeRole::Replica, config.replica_pool))
                .collect::<skein_pg::Result<_>>()?,
            thresholds: profile.thresholds,
        };
        let dest = |to: &str, what: &str| -> Result<Dest> {
            if to == "primary" || to == profile.primary.name {
                Ok(Dest::Primary)
            } else if profile.replicas.iter().any(|r| r.name == to) {
                Ok(Dest::Replica(to.to_owned()))
            } else {
                Err(Error::Config(format!(
                    "{what} sends to '{to}', which is neither \"primary\" nor a replica of the profile"
                )))
            }
        };
        let table_rules = config
            .table_rules
            .iter()
            .map(|r| {
                Ok((
                    r.table.to_lowercase(),
                    dest(&r.to, &format!("the table rule for '{}'", r.table))?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let query_rules = config
            .query_rules
            .iter()
            .map(|r| {
                let fp =
                    pg_query::fingerprint(&r.query, 0, pg_query::FingerprintOptions::FULL_RELNAME)
                        .map_err(|e| {
                            Error::Config(format!(
                                "the query rule '{}' does not parse: {e}",
                                r.query
                            ))
                        })?;
                Ok((
                    fp.value,
                    dest(&r.to, &format!("the query rule '{}'", r.query))?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let counters = std::iter::once(&cluster.primary)
            .chain(&cluster.replicas)
            .map(|n| (n.name().to_owned(), Counters::default()))
            .collect();
        let rotation = Rotation::new(RotationPolicy {
            lag_warning_ms: profile.thresholds.lag_warning_ms,
            lag_critical_ms: profile.thresholds.lag_critical_ms,
            max_failures: config.max_failures,
            failure_window_ms: config.failure_window_ms,
            recovery_ms: config.recovery_ms,
        });
        let router = Router {
            inner: Arc::new(Inner {
                config,
                cluster,
                functions: RwLock::new(Functions::unknown()),
                classified: RwLock::new(FastMap::default()),
                rotation: Mutex::new(rotation),
                eligible: RwLock::new(Arc::from(Vec::new())),
                balancer,
                readings: Mutex::new(HashMap::new()),
                counters,
                fallbacks: AtomicU64::new(0),
                cache_reads: AtomicU64::new(0),
                catalog_missed: AtomicBool::new(false),
                catalog_reloading: AtomicBool::new(false),
                catalog_failing: AtomicBool::new(false),
                catalog_loaded_ms: AtomicU64::new(0),
                catalog_reloads: AtomicU64::new(0),
                catalog_stored: AtomicU64::new(0),
                table_rules,
                query_rules,
                epoch: Instant::now(),
            }),
        };
        router.update_eligible();
        Ok(router)
    }

    /// The settings in force.
    pub fn config(&self) -> &RouterConfig {
        &self.inner.config
    }

    /// The router's nodes and pools.
    pub fn cluster(&self) -> &Cluster {
        &self.inner.cluster
    }

    fn now_ms(&self) -> u64 {
        self.inner.epoch.elapsed().as_millis() as u64
    }

    /// Counts a read a fresh cache served from the lake ([`RoutingStats::cache_reads`]).
    pub fn count_cache_read(&self) {
        self.inner.cache_reads.fetch_add(1, Ordering::Relaxed);
    }

    /// Classifies `sql` with the router's function catalog. Repeated statement
    /// texts (prepared statements, ORMs) are answered from a cache of the last
    /// [`CLASSIFIED_KEPT`] distinct texts, without parsing again.
    pub fn classify(&self, sql: &str) -> Classification {
        self.analyse(sql).0.clone()
    }

    /// The classification and the [`Effect`] of `sql`, from the cache when seen before.
    pub(super) fn analyse(&self, sql: &str) -> Analysed {
        if let Some(c) = self
            .inner
            .classified
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(sql)
        {
            return c.clone();
        }
        let functions = self
            .inner
            .functions
            .read()
            .unwrap_or_else(|p| p.into_inner());
        let cls = classify(sql, &functions);
        let reasons = ReadReasons {
            chosen: format!(
                "{}; chosen by {}",
                cls.reason,
                self.inner.config.policy.words()
            ),
            named: cls
                .replica
                .as_ref()
                .map(|name| format!("/* skein:replica={name} */ names it")),
        };
        let c = Arc::new((cls, effect(sql), reasons));
        if c.0.unknown_name {
            self.inner.catalog_missed.store(true, Ordering::Relaxed);
        }
        let mut cache = self
            .inner
            .classified
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CLASSIFIED_KEPT {
            cache.clear();
        }
        cache.insert(sql.to_owned(), c.clone());
        drop(cache);
        drop(functions);
        c
    }

    /// Feeds one lag sample to rotation: each replica's replay lag (a reachable replica the
    /// primary lists no WAL sender for counts as a failure, an unreachable one too; a replica
    /// out of recovery, [`ReplicaState::Promoted`], leaves rotation at once) and its replay
    /// LSN (for read-your-writes).
    pub fn observe(&self, sample: &LagSample) {
        let now = self.now_ms();
        let mut rotation = self
            .inner
            .rotation
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut readings = self
            .inner
            .readings
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for n in sample.nodes.iter().filter(|n| n.role == NodeRole::Replica) {
            if n.state == ReplicaState::Promoted {
                rotation.promoted(&n.name);
            } else if !n.reachable {
                rotation.observe(&n.name, None, now);
            } else if n.state == ReplicaState::Disconnected {
                rotation.failure(
                    &n.name,
                    now,
                    "not streaming: the primary lists no WAL sender for it",
                );
            } else if let Some(lag) = n.replay_lag_ms {
                rotation.observe(&n.name, Some(lag), now);
            }
            let r = readings.entry(n.name.clone()).or_default();
            // A promoted node replays nothing: it has no replay lag.
            r.lag_ms = if n.state == ReplicaState::Promoted {
                None
            } else {
                n.replay_lag_ms
            };
            if n.lsn.is_some() {
                r.replay_lsn = n.lsn;
            }
        }
        self.store_eligible(&rotation, &readings);
        drop(readings);
        drop(rotation);
        self.reload_catalog_after_a_miss();
    }

    /// Feeds each replica's recovery conflicts a minute (`pg_stat_database_conflicts`, as the
    /// difference of two readings): at or past `conflicts_per_minute` its weight in rotation
    /// is halved ([`crate::balance::Candidate::conflicted`]). `None` forgets the rate.
    pub fn observe_conflicts<'a>(&self, rates: impl IntoIterator<Item = (&'a str, Option<f64>)>) {
        let mut readings = self
            .inner
            .readings
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for (name, rate) in rates {
            readings
                .entry(name.to_owned())
                .or_default()
                .conflicts_per_minute = rate;
        }
        drop(readings);
        self.update_eligible();
    }

    /// Samples lag every `monitor_interval_ms` and feeds [`Router::observe`] (and reloads
    /// the function catalog while it is unknown) until the returned handle is dropped.
    pub fn start_monitor(&self) -> Monitor {
        let router = self.clone();
        let every = Duration::from_millis(self.inner.config.monitor_interval_ms.max(50));
        Monitor(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let sample = skein_pg::lag::sample(&router.inner.cluster).await;
                router.observe(&sample);
                let unknown = !router
                    .inner
                    .functions
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_known();
                if unknown {
                    let _ = router.reload_functions().await;
                }
            }
        }))
    }

    /// The replicas as the balancer sees them, in rotation only (as of the last change).
    fn eligible(&self) -> Arc<[Candidate]> {
        self.inner
            .eligible
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Recomputes [`Router::eligible`] from rotation and the readings; call after changing
    /// either.
    pub(super) fn update_eligible(&self) {
        let rotation = self
            .inner
            .rotation
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let readings = self
            .inner
            .readings
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        self.store_eligible(&rotation, &readings);
    }

    /// Stores the replicas in rotation. The caller holds rotation's lock (then the
    /// readings'), so two updates store in the order they computed.
    fn store_eligible(&self, rotation: &Rotation, readings: &HashMap<String, Reading>) {
        let limit = self.inner.config.conflicts_per_minute;
        let mut all: Vec<Candidate> = self
            .inner
            .cluster
            .replicas
            .iter()
            .map(|n| {
                let reading = readings.get(n.name());
                Candidate {
                    name: n.name().to_owned(),
                    weight: n.spec.weight.max(1),
                    halved: false,
                    conflicted: reading
                        .and_then(|r| r.conflicts_per_minute)
                        .is_some_and(|rate| limit > 0.0 && rate >= limit),
                    region: n.spec.region.clone(),
                    lag_ms: reading.and_then(|r| r.lag_ms),
                }
            })
            .collect();
        // Sorted by name, as the balancer wants them: it then picks without a copy.
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let eligible: Arc<[Candidate]> = rotation.eligible(&all).into();
        *self
            .inner
            .eligible
            .write()
            .unwrap_or_else(|p| p.into_inner()) = eligible;
    }

    fn replay_lsn(&self, replica: &str) -> Option<Lsn> {
        self.inner
            .readings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(replica)
            .and_then(|r| r.replay_lsn)
    }

    /// Per-node counters and rotation, primary first.
    pub fn stats(&self) -> RoutingStats {
        let eligible = self.eligible();
        let rotation = self
            .inner
            .rotation
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let readings = self
            .inner
            .readings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let node = |n: &Node| {
            let c = self.inner.counters.get(n.name());
            let get =
                |f: fn(&Counters) -> &AtomicU64| c.map_or(0, |c| f(c).load(Ordering::Relaxed));
            let replica = n.role == NodeRole::Replica;
            let reading = readings.get(n.name());
            NodeRouting {
                name: n.name().to_owned(),
                role: n.role,
                in_rotation: !replica || rotation.in_rotation(n.name()),
                reason: if replica {
                    rotation.reason(n.name()).map(str::to_owned)
                } else {
                    None
                },
                configured_weight: if replica { n.spec.weight.max(1) } else { 0 },
                weight: if replica {
                    eligible
                        .iter()
                        .find(|c| c.name == n.name())
                        .map_or(0.0, Candidate::effective_weight)
                } else {
                    0.0
                },
                recovering_ms: if replica {
                    rotation.recovering_ms(n.name())
                } else {
                    None
                },
                lag_ms: reading.and_then(|r| r.lag_ms),
                conflicts_per_minute: reading.and_then(|r| r.conflicts_per_minute),
                replay_lsn: reading.and_then(|r| r.replay_lsn),
                reads: get(|c| &c.reads),
                writes: get(|c| &c.writes),
                retried: get(|c| &c.retried),
            }
        };
        RoutingStats {
            read_splitting: self.inner.config.read_splitting,
            policy: serde_json::to_value(self.inner.config.policy)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            all_out: !self.inner.cluster.replicas.is_empty() && eligible.is_empty(),
            fallbacks: self.inner.fallbacks.load(Ordering::Relaxed),
            cache_reads: self.inner.cache_reads.load(Ordering::Relaxed),
            nodes: std::iter::once(&self.inner.cluster.primary)
                .chain(&self.inner.cluster.replicas)
                .map(node)
                .collect(),
        }
    }
}

/// The router's own lag monitor; stops when dropped.
#[derive(Debug)]
pub struct Monitor(tokio::task::JoinHandle<()>);

impl Drop for Monitor {
    fn drop(&mut self) {
        self.0.abort();
    }
}
