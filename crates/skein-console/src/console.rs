//! A running console for one profile: the pools for the primary and the replicas, the
//! router the Workbench runs statements through ([`crate::workbench`]), the lake,
//! and three background tasks, each a tokio `interval` + `select!` on a cancellation token with
//! a timeout on every query, each writing to an event sink (a broadcast channel) so it runs
//! in tests without a UI:
//!
//! - the **lag sampler** ([`crate::sampler`]: [`skein_pg::lag::sample`] once a tick, the
//!   profile's `[sampling] interval_ms`, 250 ms unless set, and [`skein_pg::replication::read`]
//!   once a second) appends to the bounded [`LagHistory`], feeds the router's rotation and
//!   emits one `tick` event per tick (lag, rotation, attention, the replication reading when
//!   one was taken);
//! - the **cache watcher** ([`crate::watcher`], default every 5 s, and at once after a refresh)
//!   keeps the lake open, its snapshot count and every cache's state current;
//! - the **cache scheduler** ([`crate::scheduler`]) refreshes caches whose TTL has passed.
//!
//! The lag sampler also probes what the profile's role may do on a node when the node first
//! answers and whenever it comes back ([`crate::privileges`]).
//!
//! Dropping the console (or [`Console::close`]) cancels the tasks.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use skein_core::Profile;
use skein_lake::{At, Lake};
use skein_pg::{Cluster, NodeRole};
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;

pub(crate) use crate::board::CacheBoard;
use crate::error::{Error, Result};
use crate::history::LagHistory;
use crate::rpc::{
    CacheView, Event, LakeSummary, NodeInfo, Overview, ProfileInfo, SnapshotPage, TimeTravelPage,
};

/// How often the background tasks run and how much history they keep.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleOptions {
    /// Lag sampling period; `None` (the default): the profile's `[sampling] interval_ms`
    /// (250 ms unless set).
    pub lag_interval: Option<Duration>,
    /// Cache watcher period (default 5 s).
    pub cache_interval: Duration,
    /// History kept per node (default 1 h), one point a second past `full_resolution`.
    pub retention: Duration,
    /// The newest part of the history kept at full resolution, every sample (default 5 min).
    pub full_resolution: Duration,
    /// Timeout for the lake's and the caches' work (fingerprints, refresh reads) and a
    /// Workbench statement, default [`crate::limits::WORK_TIMEOUT_MS`] (60 s).
    pub work_timeout: Duration,
    /// Scheduled refreshes running at once, at most (default 2).
    pub scheduler_max: usize,
    /// Keep the lag history and the alert history on disk ([`crate::lag_log`],
    /// [`crate::alerts`]) and start from them (default true).
    pub persist_lag: bool,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        ConsoleOptions {
            lag_interval: None,
            cache_interval: Duration::from_secs(5),
            retention: Duration::from_secs(3600),
            full_resolution: Duration::from_secs(300),
            work_timeout: Duration::from_millis(crate::limits::WORK_TIMEOUT_MS),
            scheduler_max: 2,
            persist_lag: true,
        }
    }
}

/// Where the lake stands: open, or why not.
#[derive(Default)]
pub(crate) struct LakeSlot {
    pub(crate) lake: Option<Lake>,
    pub(crate) summary: Option<LakeSummary>,
}

pub(crate) struct Shared {
    pub(crate) profile: Profile,
    pub(crate) options: ConsoleOptions,
    /// Pools with the short probe timeout (lag sampling).
    pub(crate) probe: Cluster,
    /// Pools with the long work timeout (fingerprints, refresh).
    pub(crate) work: Cluster,
    pub(crate) lake: tokio::sync::Mutex<LakeSlot>,
    /// Read/write splitting for the Workbench, fed by the lag sampler.
    pub(crate) router: skein_router::Router,
    /// The Workbench's routing sessions by name (read-your-writes, pinned state).
    pub(crate) sessions: Mutex<crate::sessions::SessionMap>,
    /// The on-disk history; written on the blocking pool, never on the runtime's workers.
    pub(crate) lag_log: Arc<Mutex<Option<crate::lag_log::LagLog>>>,
    pub(crate) history: RwLock<LagHistory>,
    pub(crate) caches: Mutex<CacheBoard>,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) poke: Notify,
    pub(crate) cancel: CancellationToken,
    pub(crate) jobs: Mutex<Vec<crate::jobs::Job>>,
    pub(crate) next_job: std::sync::atomic::AtomicU64,
    /// What the profile's role may do on each node ([`crate::privileges`]).
    pub(crate) privileges: Mutex<crate::privileges::PrivilegeBoard>,
    /// The newest replication reading ([`crate::replication`]).
    pub(crate) replication: Mutex<crate::replication::ReplicationBoard>,
    /// The alert rules' tracks, active alerts and history ([`crate::alerts`]).
    pub(crate) alerts: Mutex<crate::alerts::AlertBoard>,
}

/// A running console (see the module header). Cheap to clone.
#[derive(Clone)]
pub struct Console {
    pub(crate) shared: Arc<Shared>,
}

impl Shared {
    /// The lag sampling period: the console's option, else the profile's `[sampling]`.
    pub(crate) fn interval(&self) -> Duration {
        self.options
            .lag_interval
            .unwrap_or(Duration::from_millis(self.profile.sampling.interval_ms))
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl Console {
    /// Opens the stack a profile describes and starts the background tasks, which write to
    /// `events`. Never waits for a server: a node or a lake that is down shows as down in the
    /// first sample. Errors: `InvalidInput` when a connection string is malformed.
    pub fn open(
        profile: Profile,
        options: ConsoleOptions,
        events: broadcast::Sender<Event>,
    ) -> Result<Console> {
        let probe = Cluster::from_profile(&profile)?;
        let work = Cluster::with_timeout(&profile, options.work_timeout)?;
        let router = skein_router::Router::new(
            &profile,
            skein_router::RouterConfig::from_table(&profile.router)?,
        )?;
        let history = LagHistory::new(options.full_resolution, options.retention);
        // Loaded by the lag sampler on the blocking pool before its first sample.
        let log = options
            .persist_lag
            .then(|| crate::lag_log::LagLog::for_profile(&profile))
            .flatten();
        // Read here, once: a few hundred lines at most.
        let alerts = crate::alerts::AlertBoard::new(
            profile.alerts,
            options
                .persist_lag
                .then(|| crate::alerts::AlertLog::for_profile(&profile))
                .flatten(),
        );
        let shared = Arc::new(Shared {
            profile,
            options,
            probe,
            work,
            lake: tokio::sync::Mutex::new(LakeSlot::default()),
            router,
            sessions: Mutex::new(crate::sessions::SessionMap::new(
                crate::limits::WORKBENCH_SESSIONS_MAX,
            )),
            lag_log: Arc::new(Mutex::new(log)),
            history: RwLock::new(history),
            caches: Mutex::new(CacheBoard::default()),
            events,
            poke: Notify::new(),
            cancel: CancellationToken::new(),
            jobs: Mutex::new(Vec::new()),
            next_job: std::sync::atomic::AtomicU64::new(1),
            privileges: Mutex::new(Default::default()),
            replication: Mutex::new(Default::default()),
            alerts: Mutex::new(alerts),
        });
        tracing::info!(
            profile = %shared.profile.name,
            primary = %shared.probe.primary.addr,
            replicas = %shared.probe.replicas.iter().map(|n| format!("{} ({})", n.name(), n.addr)).collect::<Vec<_>>().join(", "),
            lake = %shared.profile.lake.name,
            "console started"
        );
        tokio::spawn(crate::sampler::lag_sampler(
            Arc::downgrade(&shared),
            shared.cancel.clone(),
        ));
        tokio::spawn(crate::watcher::cache_watcher(
            Arc::downgrade(&shared),
            shared.cancel.clone(),
        ));
        tokio::spawn(crate::scheduler::cache_scheduler(
            Arc::downgrade(&shared),
            shared.cancel.clone(),
        ));
        Ok(Console { shared })
    }

    /// Maintenance jobs, newest first.
    pub fn jobs(&self) -> Vec<crate::jobs::Job> {
        self.shared
            .jobs
            .lock()
            .map(|j| j.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn next_job_id(&self) -> u64 {
        self.shared
            .next_job
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Stores a job's new state and emits it as a `job` event.
    pub(crate) fn record_job(&self, job: &crate::jobs::Job) {
        if let Ok(mut jobs) = self.shared.jobs.lock() {
            match jobs.iter_mut().find(|j| j.id == job.id) {
                Some(j) => *j = job.clone(),
                None => jobs.push(job.clone()),
            }
            let extra = jobs.len().saturating_sub(crate::jobs::JOBS_KEPT);
            jobs.drain(..extra);
        }
        let _ = self.shared.events.send(crate::jobs::job_event(job));
    }

    /// Asks the cache watcher to look again now (after the lake changed).
    pub(crate) fn poke_watcher(&self) {
        self.shared.poke.notify_one();
    }

    /// Stops the background tasks.
    pub fn close(&self) {
        self.shared.cancel.cancel();
    }

    /// The options it runs with.
    pub fn options(&self) -> &ConsoleOptions {
        &self.shared.options
    }

    /// The profile this console runs on.
    pub fn profile(&self) -> &Profile {
        &self.shared.profile
    }

    /// The profile without secrets.
    pub fn profile_info(&self) -> ProfileInfo {
        profile_info(&self.shared.profile)
    }

    /// Samples held for the named node.
    pub fn history_len(&self, node: &str) -> usize {
        self.shared.history.read().map_or(0, |h| h.len(node))
    }

    /// Every node's lag history since `since_ms` (ms since the Unix epoch).
    pub fn lag_history(&self, since_ms: Option<u64>) -> crate::rpc::LagHistory {
        let h = self.shared.history.read();
        let (nodes, retention_ms, full_ms) = match h {
            Ok(h) => (h.series(since_ms), h.retention_ms(), h.full_resolution_ms()),
            Err(_) => (Vec::new(), 0, 0),
        };
        crate::rpc::LagHistory {
            thresholds: self.shared.profile.thresholds,
            retention_s: retention_ms / 1000,
            full_resolution_s: full_ms / 1000,
            interval_ms: self.shared.interval().as_millis() as u64,
            nodes,
        }
    }

    /// Every node's replication (WAL senders and receiver, slots, recovery conflicts): the
    /// sampler's newest reading, or one taken now before its first tick.
    pub async fn replication(&self) -> skein_pg::ReplicationReading {
        crate::replication::latest(&self.shared).await
    }

    /// The stack at a glance.
    pub async fn overview(&self) -> Overview {
        let lag = self
            .shared
            .history
            .read()
            .ok()
            .and_then(|h| h.latest().cloned());
        let lake = self.lake_summary().await;
        let caches = self.caches_now();
        let attention = crate::attention::for_tick(
            &self.shared,
            lag.as_ref(),
            &self.shared.router.stats(),
            &lake,
        );
        Overview {
            profile: self.profile_info(),
            lag,
            lake,
            caches,
            attention,
            privileges: self.privileges(),
        }
    }

    async fn lake_summary(&self) -> LakeSummary {
        let slot = self.shared.lake.lock().await;
        slot.summary.clone().unwrap_or_default()
    }

    pub(crate) fn caches_now(&self) -> Vec<CacheView> {
        self.shared
            .caches
            .lock()
            .map(|b| b.views.clone())
            .unwrap_or_default()
    }

    /// Every cache with its state, computed now with fresh fingerprints (not the watcher's
    /// last reading).
    pub async fn caches(&self) -> Result<Vec<CacheView>> {
        // The lake summary first, so a refresh seen here (another console's, the CLI's) is
        // never newer than the snapshot the top bar and the overview name.
        crate::watcher::update_lake_summary(&self.shared).await?;
        crate::watcher::update_caches(&self.shared, true).await?;
        Ok(self.caches_now())
    }

    /// The open lake, opening it when needed. Errors: `LakeUnavailable` with the reason.
    pub async fn lake(&self) -> Result<Lake> {
        crate::watcher::ensure_lake(&self.shared).await
    }

    /// Refreshes one cache (see [`skein_lake::Lake::refresh_cache`]), emitting
    /// `refresh_started`, `refresh_finished` and then `caches` with the new state.
    /// Errors: `NotFound` for an unknown cache; a failed refresh is an outcome with result
    /// ERROR, not an error.
    pub async fn refresh_cache(
        &self,
        name: &str,
        force: bool,
    ) -> Result<skein_lake::RefreshOutcome> {
        self.run_refresh(name, force, false).await
    }

    /// A refresh by the scheduler: writes only when the sources changed.
    pub(crate) async fn refresh_if_changed(
        &self,
        name: &str,
    ) -> Result<skein_lake::RefreshOutcome> {
        self.run_refresh(name, false, true).await
    }

    async fn run_refresh(
        &self,
        name: &str,
        force: bool,
        if_changed: bool,
    ) -> Result<skein_lake::RefreshOutcome> {
        let lake = self.lake().await?;
        let def = lake.cache_definition(name).await?;
        if if_changed && def.paused {
            // Paused after the scheduler chose it: leave it alone.
            return Err(Error::Lake(skein_lake::Error::Conflict(format!(
                "cache {name} is paused"
            ))));
        }
        {
            let mut board = self.board()?;
            let entry = board.entry(name);
            if entry.refreshing {
                return Err(Error::Lake(skein_lake::Error::Conflict(format!(
                    "cache {name} is being refreshed already; wait for that refresh to finish"
                ))));
            }
            entry.refreshing = true;
            board.sync_refreshing();
        }
        let _ = self.shared.events.send(Event::RefreshStarted {
            cache: name.to_owned(),
            force,
        });
        self.emit_caches();
        let result = if if_changed {
            lake.refresh_cache_if_changed(&self.shared.work, name).await
        } else {
            lake.refresh_cache(&self.shared.work, name, force).await
        };
        {
            let mut board = self.board()?;
            let entry = board.entry(name);
            entry.refreshing = false;
            if let Ok(outcome) = &result {
                entry.last_outcome = Some(outcome.clone());
            }
            board.sync_refreshing();
        }
        match &result {
            Ok(outcome) => {
                let _ = self
                    .shared
                    .events
                    .send(Event::RefreshFinished(outcome.clone()));
            }
            Err(_) => self.emit_caches(),
        }
        // Recompute states and the lake's snapshot count now rather than at the next tick.
        self.shared.poke.notify_one();
        Ok(result?)
    }

    /// Defines (`update`: false) or edits a cache, then recomputes the caches' states.
    pub async fn save_cache(
        &self,
        spec: &crate::rpc::CacheSpec,
        update: bool,
    ) -> Result<skein_lake::CacheDefinition> {
        let lake = self.lake().await?;
        let w = &self.shared.work;
        let def = if update {
            lake.redefine_cache(w, spec).await?
        } else {
            lake.define_cache(w, spec).await?
        };
        if let Ok(mut board) = self.board() {
            if let Some(e) = board.get_mut(&spec.name) {
                e.next_run = None;
            }
        }
        // The board (explain, the scheduler) shows the new definition's state before this
        // returns: a changed definition is `edited` at once (else at the watcher's next pass).
        if let Err(e) = crate::watcher::update_caches(&self.shared, false).await {
            tracing::debug!(cache = %spec.name, "the caches' states wait for the watcher: {e}");
        }
        Ok(def)
    }

    /// Deletes a cache, then recomputes the caches' states.
    pub async fn delete_cache(&self, name: &str) -> Result<()> {
        self.lake().await?.delete_cache(name).await?;
        if let Ok(mut board) = self.board() {
            board.forget(name);
        }
        self.shared.poke.notify_one();
        Ok(())
    }

    /// Pauses or resumes the scheduler for a cache.
    pub async fn set_cache_paused(
        &self,
        name: &str,
        paused: bool,
    ) -> Result<skein_lake::CacheDefinition> {
        let def = self.lake().await?.set_cache_paused(name, paused).await?;
        if let Ok(mut board) = self.board() {
            if let Some(e) = board.get_mut(name) {
                e.next_run = None;
            }
            // The scheduler reads the views: mark it now, not at the watcher's next pass.
            for v in board.views.iter_mut() {
                if v.status.definition.name == name {
                    v.status.definition.paused = paused;
                    if paused {
                        v.next_run_ms = None;
                    }
                }
            }
        }
        self.shared.poke.notify_one();
        Ok(def)
    }

    /// Refreshes `names` (all when empty) together as one consistent snapshot
    /// ([`skein_lake::Lake::snapshot_caches`]): one PostgreSQL snapshot, one lake commit.
    /// The caches show as refreshing meanwhile; `caches` follows with their new state.
    /// Errors: `NotFound` for an unknown cache, `Conflict` when one of them is being refreshed;
    /// on any error no cache changed.
    pub async fn snapshot_caches(&self, names: &[String]) -> Result<skein_lake::CachesSnapshot> {
        let lake = self.lake().await?;
        let names: Vec<String> = if names.is_empty() {
            lake.cache_definitions()
                .await?
                .into_iter()
                .map(|d| d.name)
                .collect()
        } else {
            names.to_vec()
        };
        {
            let mut board = self.board()?;
            if let Some(busy) = names.iter().find(|n| board.refreshing(n)) {
                return Err(Error::Lake(skein_lake::Error::Conflict(format!(
                    "cache {busy} is being refreshed already; wait for that refresh to finish"
                ))));
            }
            for n in &names {
                board.entry(n).refreshing = true;
            }
            board.sync_refreshing();
        }
        self.emit_caches();
        let result = lake.snapshot_caches(&self.shared.work, &names).await;
        {
            let mut board = self.board()?;
            for n in &names {
                board.entry(n).refreshing = false;
            }
            board.sync_refreshing();
        }
        self.emit_caches();
        self.shared.poke.notify_one();
        Ok(result?)
    }

    pub(crate) fn board(&self) -> Result<std::sync::MutexGuard<'_, CacheBoard>> {
        self.shared
            .caches
            .lock()
            .map_err(|_| Error::Internal("the cache board was poisoned by a panic".into()))
    }

    pub(crate) fn emit_caches(&self) {
        let _ = self.shared.events.send(Event::Caches(self.caches_now()));
    }

    /// A page of snapshots, newest first.
    pub async fn snapshots(&self, limit: u32, before: Option<i64>) -> Result<SnapshotPage> {
        let max = crate::limits::SNAPSHOTS_PAGE_MAX;
        if !(1..=max).contains(&limit) {
            return Err(Error::InvalidInput(format!(
                "limit {limit} is out of range: ask for 1 to {max} snapshots a page"
            )));
        }
        let lake = self.lake().await?;
        let snapshots = lake.snapshot_page(limit as usize, before).await?;
        let total = lake.snapshot_count().await?;
        let next_before = match snapshots.last() {
            Some(last) if snapshots.len() == limit as usize && last.id > 0 => Some(last.id),
            _ => None,
        };
        Ok(SnapshotPage {
            snapshots,
            total,
            next_before,
        })
    }

    /// A key to propose for a cache query (see [`skein_lake::suggest_key`]), asked of the
    /// primary.
    pub async fn suggest_key(&self, query: &str) -> Result<Option<skein_lake::KeySuggestion>> {
        Ok(skein_lake::suggest_key(&self.shared.work, query).await?)
    }

    /// A cache's newest refreshes that wrote data (see [`skein_lake::Lake::cache_refreshes`]).
    pub async fn cache_refreshes(
        &self,
        name: &str,
        limit: u32,
    ) -> Result<Vec<skein_lake::cache::RefreshRecord>> {
        Ok(self.lake().await?.cache_refreshes(name, limit).await?)
    }

    /// What changed in a table between two snapshots (see [`skein_lake::Lake::diff`]).
    pub async fn snapshot_diff(
        &self,
        req: skein_lake::DiffRequest,
    ) -> Result<skein_lake::TableDiff> {
        Ok(self.lake().await?.diff(req).await?)
    }

    /// A table as of two snapshots, row beside row (see [`skein_lake::Lake::side_by_side`]).
    pub async fn side_by_side(
        &self,
        req: skein_lake::SideBySideRequest,
    ) -> Result<skein_lake::SideBySide> {
        Ok(self.lake().await?.side_by_side(req).await?)
    }

    /// The lake changed here (a bookmark set or deleted): the watcher looks at once, so the
    /// lake summary (and every window's timeline) moves to the new snapshot.
    pub fn lake_changed(&self) {
        self.shared.poke.notify_one();
    }

    /// Restores `table` to snapshot `version` (see [`skein_lake::Lake::restore`]), then
    /// recomputes the caches' states at once (a cache's table makes it `restored`).
    pub async fn restore(
        &self,
        table: &str,
        version: i64,
        previewed: i64,
    ) -> Result<skein_lake::RestoreResult> {
        let r = self
            .lake()
            .await?
            .restore(table, version, previewed)
            .await?;
        if let Err(e) = crate::watcher::update_caches(&self.shared, false).await {
            tracing::debug!(table, "the caches' states wait for the watcher: {e}");
        }
        self.shared.poke.notify_one();
        Ok(r)
    }

    /// A page of `table` as of `at`, with the snapshot it resolved to.
    pub async fn time_travel(
        &self,
        table: &str,
        at: At,
        limit: u32,
        offset: u32,
    ) -> Result<TimeTravelPage> {
        let max = crate::limits::TIME_TRAVEL_PAGE_MAX;
        if !(1..=max).contains(&limit) {
            return Err(Error::InvalidInput(format!(
                "limit {limit} is out of range: ask for 1 to {max} rows a page"
            )));
        }
        let lake = self.lake().await?;
        let snapshot = lake.snapshot_at(&at).await?;
        let newest = lake.snapshot_at(&At::Latest).await?;
        let current = newest.id;
        let note = skein_lake::snapshot::travel_note(&at, &snapshot, &newest);
        // Read at the resolved id, so the rows and the banner name the same snapshot.
        let rows = lake
            .rows_at(
                table,
                At::Version(snapshot.id),
                limit as usize,
                offset as usize,
            )
            .await?;
        let schema = lake.columns_at(table, At::Version(snapshot.id)).await?;
        Ok(TimeTravelPage {
            schema,
            table: table.to_owned(),
            latest: snapshot.id == current,
            snapshot,
            rows,
            offset,
            note,
        })
    }
}

/// The profile without secrets: connection strings reduced to `host:port/dbname`.
pub(crate) fn profile_info(p: &Profile) -> ProfileInfo {
    let node = |spec: &skein_core::NodeSpec, role| NodeInfo {
        name: spec.name.clone(),
        role,
        address: address(&spec.url),
    };
    let mut nodes = vec![node(&p.primary, NodeRole::Primary)];
    nodes.extend(p.replicas.iter().map(|r| node(r, NodeRole::Replica)));
    ProfileInfo {
        name: p.name.clone(),
        path: p.source.as_ref().map(|s| s.display().to_string()),
        nodes,
        lake_name: p.lake.name.clone(),
        lake_data_path: p.lake.data_path.clone(),
        thresholds: p.thresholds,
    }
}

/// `host:port/dbname` of a libpq connection string (URL or key=value, TLS parameters
/// included, as [`skein_core::conninfo::parse`] reads it), never its user or password.
fn address(conninfo: &str) -> String {
    match skein_core::conninfo::parse(conninfo) {
        Ok(info) => {
            let c = &info.config;
            let host = match c.get_hosts().first() {
                Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
                #[cfg(unix)]
                Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
                None => "localhost".into(),
            };
            let port = c.get_ports().first().copied().unwrap_or(5432);
            format!("{host}:{port}/{}", c.get_dbname().unwrap_or("postgres"))
        }
        Err(_) => "(unparsable connection string)".into(),
    }
}
