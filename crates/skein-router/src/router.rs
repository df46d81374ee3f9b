//! The router: classification ([`crate::classify`]), rotation ([`crate::rotation`]) and
//! balancing ([`crate::balance`]) tied to a pool per node, with read-your-writes and session
//! pinning from the task's [`crate::Session`], retries, and per-node counters.
//!
//! Every call decides a [`Route`] — the node, the rule that decided and why — runs the
//! statement there and returns the route with the result, so a caller (and the console's
//! Workbench) can always say why a statement went where it did.
//!
//! Rotation is fed by lag samples ([`skein_pg::lag::sample`]): [`Router::observe`] takes one
//! (the console passes its own), or [`Router::start_monitor`] samples on its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use skein_core::Profile;
use skein_pg::{Cluster, LagSample, Lsn, Node, NodeRole, ReplicaState};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, SimpleQueryMessage};

use crate::balance::{Balancer, Candidate};
use crate::classify::{classify, effect, Classification, Effect, Functions, Target};
use crate::config::RouterConfig;
use crate::error::{Error, Result};
use crate::rotation::{Rotation, RotationPolicy};
use crate::session::{self, Pinned, SessionState};

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
    /// Its weight now (the profile's, halved past the warning lag), 0 when out.
    pub weight: u32,
    /// Replay lag at the last observation, ms.
    pub lag_ms: Option<u64>,
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Dest {
    Primary,
    Replica(String),
}

struct Inner {
    config: RouterConfig,
    cluster: Cluster,
    functions: RwLock<Functions>,
    /// Classifications by statement text (at most [`CLASSIFIED_KEPT`]; cleared when function
    /// volatility is reloaded).
    classified: Mutex<HashMap<String, (Classification, Effect)>>,
    rotation: Mutex<Rotation>,
    balancer: Balancer,
    readings: Mutex<HashMap<String, Reading>>,
    counters: HashMap<String, Counters>,
    fallbacks: AtomicU64,
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

/// What a statement does to a node, to run it.
enum Op<'a> {
    Query(&'a [&'a (dyn ToSql + Sync)]),
    Execute(&'a [&'a (dyn ToSql + Sync)]),
    Simple,
}

enum Out {
    Rows(Vec<Row>),
    Count(u64),
    Simple(Vec<SimpleQueryMessage>),
}

/// Runs `op` on `client`; inside a session, the statement can be cancelled
/// ([`crate::Session::cancel`]) while it runs.
async fn run_op(
    client: &tokio_postgres::Client,
    sql: &str,
    op: &Op<'_>,
    session: Option<(&SessionState, &str)>,
) -> std::result::Result<Out, tokio_postgres::Error> {
    // Cleared when the statement ends or its future is dropped, so a cancel never reaches a
    // statement of whoever uses the connection next.
    let _in_flight = session.map(|(s, node)| crate::session::InFlight::start(s, client, node));
    match op {
        Op::Query(p) => client.query(sql, p).await.map(Out::Rows),
        Op::Execute(p) => client.execute(sql, p).await.map(Out::Count),
        Op::Simple => client.simple_query(sql).await.map(Out::Simple),
    }
}

/// A failure on a replica that a retry on the primary can cure: the connection failed, the
/// replica refused a write (SQLSTATE 25006), or recovery cancelled the read (40001).
fn retryable(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        Some(c) => {
            *c == SqlState::READ_ONLY_SQL_TRANSACTION || *c == SqlState::T_R_SERIALIZATION_FAILURE
        }
        None => {
            e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
        }
    }
}

fn route(target: Target, node: &str, rule: &str, reason: impl Into<String>) -> Route {
    Route {
        target,
        node: node.to_owned(),
        rule: rule.to_owned(),
        reason: reason.into(),
        needs_lsn: None,
    }
}

/// The plan for one statement.
enum Plan {
    Primary(Route),
    Replica { route: Route, wait: Option<Wait> },
}

/// A read that must wait for a replica to replay the session's last write.
struct Wait {
    lsn: Lsn,
    /// The replicas in rotation, any of which may serve once it has replayed `lsn`.
    candidates: Vec<Candidate>,
    /// The replica a hint or rule asks for, preferred when it is among them.
    wanted: Option<String>,
    /// The session's affinity hint.
    hint: Option<String>,
}

impl Router {
    /// A router over `profile`'s nodes with the profile's `[router]` settings. Builds the
    /// pools (connecting lazily), reads function volatility from the primary's `pg_proc`
    /// (until it can, statements that call functions go to the primary) and takes one lag
    /// sample.
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

    /// A router that has not asked any server yet: function volatility is unknown (calls go
    /// to the primary) and every replica is in rotation until [`Router::observe`] or
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
        Ok(Router {
            inner: Arc::new(Inner {
                config,
                cluster,
                functions: RwLock::new(Functions::unknown()),
                classified: Mutex::new(HashMap::new()),
                rotation: Mutex::new(rotation),
                balancer,
                readings: Mutex::new(HashMap::new()),
                counters,
                fallbacks: AtomicU64::new(0),
                table_rules,
                query_rules,
                epoch: Instant::now(),
            }),
        })
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

    /// Reloads the names of volatile user functions from the primary's `pg_proc`
    /// (`provolatile = 'v'` outside `pg_catalog` and `information_schema`). Runs at connect,
    /// after DDL through the router, and from the monitor while unknown. Returns how many.
    ///
    /// Errors: the primary cannot be asked (the previous knowledge stays).
    pub async fn reload_functions(&self) -> Result<usize> {
        let names = self
            .inner
            .cluster
            .primary
            .with_client("reading function volatility from pg_proc", |c| async move {
                c.query(
                    "SELECT DISTINCT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                     WHERE p.provolatile = 'v' AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
                    &[],
                )
                .await
                .map(|rows| rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>())
            })
            .await?;
        let n = names.len();
        // Cleared under the write lock: a classification made with the old knowledge (under
        // the read lock) cannot be stored after the clear.
        let mut functions = self
            .inner
            .functions
            .write()
            .unwrap_or_else(|p| p.into_inner());
        *functions = Functions::new(names);
        self.inner
            .classified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        drop(functions);
        Ok(n)
    }

    /// Whether function volatility has been read from the primary.
    pub fn functions_known(&self) -> bool {
        self.inner
            .functions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_known()
    }

    /// Classifies `sql` with the router's knowledge of user functions. Repeated statement
    /// texts (prepared statements, ORMs) are answered from a cache of the last
    /// [`CLASSIFIED_KEPT`] distinct texts, without parsing again.
    pub fn classify(&self, sql: &str) -> Classification {
        self.analyse(sql).0
    }

    /// The classification and the [`Effect`] of `sql`, from the cache when seen before.
    fn analyse(&self, sql: &str) -> (Classification, Effect) {
        if let Some(c) = self
            .inner
            .classified
            .lock()
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
        let c = (classify(sql, &functions), effect(sql));
        let mut cache = self
            .inner
            .classified
            .lock()
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
    /// primary lists no WAL sender for counts as a failure, an unreachable one too) and its
    /// replay LSN (for read-your-writes).
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
            if !n.reachable {
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
            r.lag_ms = n.replay_lag_ms;
            if n.lsn.is_some() {
                r.replay_lsn = n.lsn;
            }
        }
    }

    /// Samples lag every `monitor_interval_ms` and feeds [`Router::observe`] (and reloads
    /// function volatility while it is unknown) until the returned handle is dropped.
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

    /// The replicas as the balancer sees them, in rotation only.
    fn eligible(&self) -> Vec<Candidate> {
        let readings = self
            .inner
            .readings
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let all: Vec<Candidate> = self
            .inner
            .cluster
            .replicas
            .iter()
            .map(|n| Candidate {
                name: n.name().to_owned(),
                weight: n.spec.weight.max(1),
                region: n.spec.region.clone(),
                lag_ms: readings.get(n.name()).and_then(|r| r.lag_ms),
            })
            .collect();
        drop(readings);
        self.inner
            .rotation
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .eligible(&all)
    }

    fn replay_lsn(&self, replica: &str) -> Option<Lsn> {
        self.inner
            .readings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(replica)
            .and_then(|r| r.replay_lsn)
    }

    fn primary_route(&self, rule: &str, reason: impl Into<String>) -> Route {
        route(
            Target::Primary,
            self.inner.cluster.primary.name(),
            rule,
            reason,
        )
    }

    /// Decides where `sql` goes for `session` (no I/O). `pinned` is why the session is
    /// pinned to a primary connection, if it is.
    fn plan(&self, sql: &str, session: Option<&SessionState>, pinned: Option<&str>) -> Plan {
        let cls = self.classify(sql);
        if cls.target == Target::Primary {
            return Plan::Primary(self.primary_route(cls.rule, cls.reason));
        }
        if session::forced_primary() {
            return Plan::Primary(self.primary_route(
                "force_primary",
                "inside force_primary: every statement goes to the primary",
            ));
        }
        if !self.inner.config.read_splitting {
            return Plan::Primary(self.primary_route(
                "read_splitting_off",
                "read splitting is off ([router] read_splitting = false)",
            ));
        }
        if let Some(why) = pinned {
            return Plan::Primary(self.primary_route(
                "session_pinned",
                format!("the session is pinned to its primary connection ({why})"),
            ));
        }
        let eligible = self.eligible();
        // Rules: a named replica when it is in rotation, else the usual choice (said why).
        let mut wanted: Option<(String, String)> = None;
        let rule_dest = self.rule_for(sql);
        if let Some((rule, why, dest)) = &rule_dest {
            match dest {
                Dest::Primary => return Plan::Primary(self.primary_route(rule, why.clone())),
                Dest::Replica(name) => wanted = Some((name.clone(), format!("{rule}: {why}"))),
            }
        }
        if let Some(name) = &cls.replica {
            wanted = Some((name.clone(), format!("/* skein:replica={name} */ names it")));
        }
        let written = session.and_then(SessionState::last_write);
        if let Some((lsn, at)) = written {
            let sticky = self.inner.config.sticky_after_write_ms;
            if sticky > 0 && at.elapsed() < Duration::from_millis(sticky) {
                return Plan::Primary(self.primary_route(
                    "sticky_after_write",
                    format!(
                        "the session wrote {} ms ago (sticky_after_write_ms = {sticky})",
                        at.elapsed().as_millis()
                    ),
                ));
            }
            let _ = lsn;
        }
        if eligible.is_empty() {
            self.inner.fallbacks.fetch_add(1, Ordering::Relaxed);
            return Plan::Primary(self.primary_route(
                "no_replica_in_rotation",
                "a read, but every replica is out of rotation: the primary serves it",
            ));
        }
        let needs = written.map(|(lsn, _)| lsn);
        // Prefer replicas known to have replayed the session's last write.
        let caught_up: Vec<Candidate> = match needs {
            Some(lsn) => eligible
                .iter()
                .filter(|c| self.replay_lsn(&c.name).is_some_and(|r| r >= lsn))
                .cloned()
                .collect(),
            None => eligible.clone(),
        };
        let pool = if caught_up.is_empty() {
            &eligible
        } else {
            &caught_up
        };
        let hint = session.and_then(|s| s.hint.as_deref());
        let wanted_name = wanted.as_ref().map(|(n, _)| n.clone());
        let (name, mut reason, rule) = match wanted {
            Some((name, why)) if pool.iter().any(|c| c.name == name) => (
                name,
                why,
                if cls.replica.is_some() {
                    "hint"
                } else {
                    "rule"
                },
            ),
            Some((name, why)) => {
                let pick = self.inner.balancer.pick(pool, hint).unwrap_or_default();
                (
                    pick,
                    format!("{why}, but {name} is not in rotation"),
                    "read",
                )
            }
            None => {
                let pick = self.inner.balancer.pick(pool, hint).unwrap_or_default();
                let why = match hint {
                    Some(h) => format!(
                        "{}; session affinity for '{h}' (rendezvous hashing)",
                        cls.reason
                    ),
                    None => format!(
                        "{}; chosen by {}",
                        cls.reason,
                        self.inner.config.policy.words()
                    ),
                };
                (pick, why, "read")
            }
        };
        let rule = match (rule, rule_dest) {
            ("rule", Some((r, _, _))) => r,
            (r, _) => r,
        };
        let mut wait = None;
        if let Some(lsn) = needs {
            if caught_up.is_empty() {
                wait = Some(Wait {
                    lsn,
                    candidates: eligible.clone(),
                    wanted: wanted_name,
                    hint: hint.map(str::to_owned),
                });
                reason.push_str(&format!(
                    "; read-your-writes: waits up to {} ms for a replica in rotation to replay {lsn}",
                    self.inner.config.read_your_writes_wait_ms
                ));
            } else {
                reason.push_str(&format!("; read-your-writes: it has replayed {lsn}"));
            }
        }
        let mut r = route(Target::Replica, &name, rule, reason);
        r.needs_lsn = needs;
        Plan::Replica { route: r, wait }
    }

    /// The table or query rule that applies to `sql`: (rule, why, destination).
    fn rule_for(&self, sql: &str) -> Option<(&'static str, String, Dest)> {
        if !self.inner.query_rules.is_empty() {
            if let Ok(fp) =
                pg_query::fingerprint(sql, 0, pg_query::FingerprintOptions::FULL_RELNAME)
            {
                if let Some((_, d)) = self.inner.query_rules.iter().find(|(f, _)| *f == fp.value) {
                    return Some((
                        "query_rule",
                        "a [[router.query_rules]] entry of the same shape".into(),
                        d.clone(),
                    ));
                }
            }
        }
        if !self.inner.table_rules.is_empty() {
            if let Ok(parsed) = pg_query::parse(sql, 0) {
                for (t, _) in &parsed.tables {
                    let t = t.to_lowercase();
                    let short = t.rsplit('.').next().unwrap_or(&t).to_owned();
                    if let Some((name, d)) = self
                        .inner
                        .table_rules
                        .iter()
                        .find(|(n, _)| *n == t || *n == short)
                    {
                        return Some((
                            "table_rule",
                            format!("it reads {name} ([[router.table_rules]])"),
                            d.clone(),
                        ));
                    }
                }
            }
        }
        None
    }

    /// Where `sql` would go from the current task's session (if any) and why, without
    /// running it. A read that must wait for read-your-writes says so in `reason`.
    pub fn explain(&self, sql: &str) -> Route {
        let session = session::current();
        let pinned = session.as_ref().and_then(|s| {
            s.pinned
                .try_lock()
                .ok()
                .and_then(|p| p.as_ref().map(pin_reason))
        });
        let plan = self.plan(sql, session.as_deref(), pinned.as_deref());
        match plan {
            Plan::Primary(r) | Plan::Replica { route: r, .. } => r,
        }
    }

    /// Runs `sql` with parameters where the router sends it; returns its rows.
    ///
    /// Errors: the node's error, naming it ([`skein_pg::Error`]); [`Error::NeedsSession`]
    /// for `BEGIN` or session state outside a [`crate::Session`].
    pub async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Routed<Vec<Row>>> {
        let r = self.run(sql, Op::Query(params)).await?;
        match r.value {
            Out::Rows(v) => Ok(Routed {
                value: v,
                route: r.route,
                elapsed_ms: r.elapsed_ms,
            }),
            _ => unreachable_out(),
        }
    }

    /// Runs `sql` with parameters where the router sends it; returns the rows it affected.
    ///
    /// Errors: as [`Router::query`].
    pub async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Routed<u64>> {
        let r = self.run(sql, Op::Execute(params)).await?;
        match r.value {
            Out::Count(v) => Ok(Routed {
                value: v,
                route: r.route,
                elapsed_ms: r.elapsed_ms,
            }),
            _ => unreachable_out(),
        }
    }

    /// Runs `sql` (no parameters; values come back as text) where the router sends it.
    ///
    /// Errors: as [`Router::query`].
    pub async fn simple_query(&self, sql: &str) -> Result<Routed<Vec<SimpleQueryMessage>>> {
        let r = self.run(sql, Op::Simple).await?;
        match r.value {
            Out::Simple(v) => Ok(Routed {
                value: v,
                route: r.route,
                elapsed_ms: r.elapsed_ms,
            }),
            _ => unreachable_out(),
        }
    }

    async fn run(&self, sql: &str, op: Op<'_>) -> Result<Routed<Out>> {
        let started = Instant::now();
        let session = session::current();
        let eff = self.analyse(sql).1;
        let Some(session) = session else {
            if let Effect::Begin | Effect::SessionState(_) = &eff {
                let what = match &eff {
                    Effect::SessionState(w) => w.clone(),
                    _ => "BEGIN".into(),
                };
                return Err(Error::NeedsSession(format!(
                    "{what} keeps state on one connection: run it inside a skein_router::Session \
                     (Session::scope) so the statements that follow use the same connection"
                )));
            }
            let plan = self.plan(sql, None, None);
            return self.run_plan(sql, &op, plan, None, &eff, started).await;
        };
        let mut pinned = session.pinned.lock().await;
        let pins = matches!(eff, Effect::Begin | Effect::SessionState(_));
        if pinned.is_none() && !pins {
            drop(pinned);
            let plan = self.plan(sql, Some(&session), None);
            return self
                .run_plan(sql, &op, plan, Some(&session), &eff, started)
                .await;
        }
        // Pinned: the session's own primary connection.
        let why = pinned.as_ref().map(pin_reason);
        let primary = &self.inner.cluster.primary;
        if pinned.is_none() {
            *pinned = Some(Pinned {
                client: Some(primary.client().await?),
                in_transaction: false,
                state: None,
            });
        }
        let cls = self.classify(sql);
        let rt = match &why {
            Some(w) => self.primary_route(
                "session_pinned",
                format!("the session is pinned to its primary connection ({w})"),
            ),
            None => self.primary_route(cls.rule, cls.reason.clone()),
        };
        let p = pinned
            .as_mut()
            .ok_or_else(|| Error::NeedsSession("lost the pinned connection".into()))?;
        let client = p
            .client
            .as_ref()
            .ok_or_else(|| Error::NeedsSession("lost the pinned connection".into()))?;
        let out = run_op(client, sql, &op, Some((&session, primary.name())))
            .await
            .map_err(|e| {
                skein_pg::Error::from_pg(primary.name(), &primary.addr, "running the statement", &e)
            })?;
        match &eff {
            Effect::Begin => p.in_transaction = true,
            Effect::End => p.in_transaction = false,
            Effect::SessionState(w) => p.state = Some(w.clone()),
            _ => {}
        }
        self.count(primary.name(), cls.target);
        if !p.in_transaction && (cls.target == Target::Primary || matches!(eff, Effect::End)) {
            if let Ok(lsn) = current_lsn(client).await {
                session.record_write(lsn);
            }
        }
        if !p.in_transaction && p.state.is_none() {
            *pinned = None;
        }
        drop(pinned);
        if eff == Effect::Ddl {
            let _ = self.reload_functions().await;
        }
        Ok(Routed {
            value: out,
            route: rt,
            elapsed_ms: ms(started),
        })
    }

    async fn run_plan(
        &self,
        sql: &str,
        op: &Op<'_>,
        plan: Plan,
        session: Option<&SessionState>,
        eff: &Effect,
        started: Instant,
    ) -> Result<Routed<Out>> {
        let primary = &self.inner.cluster.primary;
        let (mut rt, wait) = match plan {
            Plan::Primary(rt) => {
                let client = primary.client().await?;
                let out = run_op(&client, sql, op, session.map(|s| (s, primary.name())))
                    .await
                    .map_err(|e| {
                        skein_pg::Error::from_pg(
                            primary.name(),
                            &primary.addr,
                            "running the statement",
                            &e,
                        )
                    })?;
                let write = self.classify_target(sql) == Target::Primary;
                self.count(
                    primary.name(),
                    if write {
                        Target::Primary
                    } else {
                        Target::Replica
                    },
                );
                if write {
                    if let Some(s) = session {
                        if let Ok(lsn) = current_lsn(&client).await {
                            s.record_write(lsn);
                        }
                    }
                }
                drop(client);
                if *eff == Effect::Ddl {
                    let _ = self.reload_functions().await;
                }
                return Ok(Routed {
                    value: out,
                    route: rt,
                    elapsed_ms: ms(started),
                });
            }
            Plan::Replica { route, wait } => (route, wait),
        };
        if let Some(w) = wait {
            let waited = Instant::now();
            let reached = self.await_replay(&w.candidates, w.lsn).await;
            if reached.is_empty() {
                self.inner.fallbacks.fetch_add(1, Ordering::Relaxed);
                let seen: Vec<String> = w
                    .candidates
                    .iter()
                    .map(|c| {
                        let at = self
                            .replay_lsn(&c.name)
                            .map_or_else(|| "?".into(), |l| l.to_string());
                        format!("{} at {at}", c.name)
                    })
                    .collect();
                let mut fallback = self.primary_route(
                    "read_your_writes",
                    format!(
                        "read-your-writes: no replica in rotation replayed the session's {} within {} ms ({}); the primary serves it",
                        w.lsn,
                        self.inner.config.read_your_writes_wait_ms,
                        seen.join(", ")
                    ),
                );
                fallback.needs_lsn = Some(w.lsn);
                return self.on_primary(sql, op, session, fallback, started).await;
            }
            let chosen = match &w.wanted {
                Some(n) if reached.iter().any(|c| &c.name == n) => n.clone(),
                _ => self
                    .inner
                    .balancer
                    .pick(&reached, w.hint.as_deref())
                    .unwrap_or_default(),
            };
            let base = rt
                .reason
                .split("; read-your-writes")
                .next()
                .unwrap_or_default()
                .to_owned();
            rt.reason = format!(
                "{base}; read-your-writes: {chosen} had replayed {} after {:.0} ms",
                w.lsn,
                ms(waited)
            );
            rt.node = chosen;
        }
        let node = self.inner.cluster.node(&rt.node)?;
        let attempt = async {
            let client = node.client().await.map_err(Failure::Connect)?;
            run_op(&client, sql, op, session.map(|s| (s, node.name())))
                .await
                .map_err(Failure::Query)
        };
        match attempt.await {
            Ok(out) => {
                self.count(node.name(), Target::Replica);
                Ok(Routed {
                    value: out,
                    route: rt,
                    elapsed_ms: ms(started),
                })
            }
            Err(f) => {
                let (retry, detail) = match &f {
                    Failure::Connect(e) => (true, e.to_string()),
                    Failure::Query(e) => (retryable(e), skein_pg::describe(e)),
                };
                if !retry {
                    let Failure::Query(e) = f else {
                        unreachable_out()
                    };
                    return Err(skein_pg::Error::from_pg(
                        node.name(),
                        &node.addr,
                        "running the statement",
                        &e,
                    )
                    .into());
                }
                self.inner
                    .rotation
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .failure(node.name(), self.now_ms(), &detail);
                if let Some(c) = self.inner.counters.get(node.name()) {
                    c.retried.fetch_add(1, Ordering::Relaxed);
                }
                rt = self.primary_route(
                    "retry",
                    format!(
                        "failed on {} ({detail}); retried once on the primary",
                        node.name()
                    ),
                );
                self.on_primary(sql, op, session, rt, started).await
            }
        }
    }

    fn classify_target(&self, sql: &str) -> Target {
        self.classify(sql).target
    }

    async fn on_primary(
        &self,
        sql: &str,
        op: &Op<'_>,
        session: Option<&SessionState>,
        rt: Route,
        started: Instant,
    ) -> Result<Routed<Out>> {
        let primary = &self.inner.cluster.primary;
        let client = primary.client().await?;
        let out = run_op(&client, sql, op, session.map(|s| (s, primary.name())))
            .await
            .map_err(|e| {
                skein_pg::Error::from_pg(primary.name(), &primary.addr, "running the statement", &e)
            })?;
        self.count(primary.name(), Target::Replica);
        Ok(Routed {
            value: out,
            route: rt,
            elapsed_ms: ms(started),
        })
    }

    /// Asks every candidate for `pg_last_wal_replay_lsn()` (concurrently, on pooled
    /// connections) until at least one has reached `lsn` or `read_your_writes_wait_ms`
    /// passes; returns those that have. Updates the known replay LSNs on the way.
    async fn await_replay(&self, candidates: &[Candidate], lsn: Lsn) -> Vec<Candidate> {
        let deadline =
            Instant::now() + Duration::from_millis(self.inner.config.read_your_writes_wait_ms);
        loop {
            let asks = candidates.iter().map(|c| async move {
                let node = self.inner.cluster.node(&c.name).ok()?;
                let client = node.client().await.ok()?;
                let row = client
                    .query_one("SELECT pg_last_wal_replay_lsn()::text", &[])
                    .await
                    .ok()?;
                row.get::<_, Option<String>>(0)
                    .and_then(|s| s.parse::<Lsn>().ok())
            });
            let replayed = futures_util::future::join_all(asks).await;
            let mut reached = Vec::new();
            {
                let mut readings = self
                    .inner
                    .readings
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                for (c, r) in candidates.iter().zip(replayed) {
                    let Some(r) = r else { continue };
                    let e = readings.entry(c.name.clone()).or_default();
                    e.replay_lsn = Some(e.replay_lsn.map_or(r, |x| x.max(r)));
                    if r >= lsn {
                        reached.push(c.clone());
                    }
                }
            }
            if !reached.is_empty() || Instant::now() >= deadline {
                return reached;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    fn count(&self, node: &str, kind: Target) {
        if let Some(c) = self.inner.counters.get(node) {
            match kind {
                Target::Primary => c.writes.fetch_add(1, Ordering::Relaxed),
                Target::Replica => c.reads.fetch_add(1, Ordering::Relaxed),
            };
        }
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
                weight: if replica {
                    eligible
                        .iter()
                        .find(|c| c.name == n.name())
                        .map_or(0, |c| c.weight)
                } else {
                    0
                },
                lag_ms: reading.and_then(|r| r.lag_ms),
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
            nodes: std::iter::once(&self.inner.cluster.primary)
                .chain(&self.inner.cluster.replicas)
                .map(node)
                .collect(),
        }
    }
}

enum Failure {
    Connect(skein_pg::Error),
    Query(tokio_postgres::Error),
}

fn pin_reason(p: &Pinned) -> String {
    match (&p.state, p.in_transaction) {
        (Some(s), _) => format!("{s} earlier in the session"),
        (None, true) => "inside a transaction block".into(),
        (None, false) => "session state".into(),
    }
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

#[allow(clippy::panic)]
fn unreachable_out() -> ! {
    panic!("run_op returns the output kind of its op")
}

/// The primary's `pg_current_wal_lsn()` on this connection: at or past the commit of the
/// statement that just ran on it.
async fn current_lsn(
    client: &tokio_postgres::Client,
) -> std::result::Result<Lsn, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await?;
    Ok(row.get::<_, String>(0).parse().unwrap_or_default())
}

/// The router's own lag monitor; stops when dropped.
#[derive(Debug)]
pub struct Monitor(tokio::task::JoinHandle<()>);

impl Drop for Monitor {
    fn drop(&mut self) {
        self.0.abort();
    }
}
