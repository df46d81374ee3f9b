//! A running console for one profile: the pools for the primary and the replicas, the lake,
//! and two background tasks, each a tokio `interval` + `select!` on a cancellation token with
//! a timeout on every query, each writing to an event sink (a broadcast channel) so it runs
//! in tests without a UI:
//!
//! - the **lag sampler** ([`skein_pg::lag::sample`] once a tick, default 1 s) appends to the
//!   bounded [`LagHistory`] and emits one batched `lag` event per tick;
//! - the **cache watcher** (default every 5 s, and at once after a refresh) opens the lake
//!   when it is not open, reads its snapshot count, computes each cache's state
//!   ([`skein_lake::Lake::cache_status_of`]: a fingerprint of the monitored tables on the
//!   primary) and emits `caches` / `lake` events when something changed. A fingerprint scans
//!   the monitored tables, so the watcher takes one only when the tables' write counters
//!   ([`skein_pg::fingerprint::activity_signature`], `pg_stat_user_tables`) or the lake's
//!   snapshot moved since the last check, and in any case every [`EXACT_EVERY`] ticks; in
//!   between it only ages the state (TTL expiry needs no scan).
//!
//! Dropping the console (or [`Console::close`]) cancels both tasks.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use skein_core::{ErrorCode, ErrorInfo, Profile};
use skein_lake::{At, CacheState, CacheStatus, Lake};
use skein_pg::fingerprint::activity_signature;
use skein_pg::{Cluster, LagLevel, NodeRole, ReplicaState};
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::history::LagHistory;
use crate::rpc::{
    Attention, CacheView, Event, LakeSummary, NodeInfo, Overview, ProfileInfo, Severity,
    SnapshotPage, TimeTravelPage,
};

/// The watcher recomputes every cache's state exactly (fingerprints) at least once in this
/// many ticks, whatever the write counters say.
pub const EXACT_EVERY: u32 = 12;

/// How often the background tasks run and how much history they keep.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleOptions {
    /// Lag sampling period (default 1 s).
    pub lag_interval: Duration,
    /// Cache watcher period (default 5 s).
    pub cache_interval: Duration,
    /// History kept per node (default 1 h); capacity = retention / lag_interval samples.
    pub retention: Duration,
    /// Timeout for the lake's and the caches' work (fingerprints, refresh reads), default 60 s.
    pub work_timeout: Duration,
    /// Scheduled refreshes running at once, at most (default 2).
    pub scheduler_max: usize,
    /// Keep the lag history on disk ([`crate::lag_log`]) and start from it (default true).
    pub persist_lag: bool,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        ConsoleOptions {
            lag_interval: Duration::from_secs(1),
            cache_interval: Duration::from_secs(5),
            retention: Duration::from_secs(3600),
            work_timeout: Duration::from_secs(60),
            scheduler_max: 2,
            persist_lag: true,
        }
    }
}

/// Where the lake stands: open, or why not.
#[derive(Default)]
struct LakeSlot {
    lake: Option<Lake>,
    summary: Option<LakeSummary>,
}

/// What the console knows about each cache beyond its stored status.
#[derive(Default)]
pub(crate) struct CacheBoard {
    views: Vec<CacheView>,
    /// Per cache, the lake snapshot and write counters its state was computed at.
    signatures: HashMap<String, String>,
    refreshing: HashSet<String>,
    stale_since: HashMap<String, u64>,
    last_outcome: HashMap<String, skein_lake::RefreshOutcome>,
    /// When the scheduler looks at each cache next (ms since the Unix epoch), once it has.
    pub(crate) next_run: HashMap<String, u64>,
    /// Caches the scheduler is refreshing now.
    pub(crate) scheduled: HashSet<String>,
}

struct Shared {
    profile: Profile,
    options: ConsoleOptions,
    /// Pools with the short probe timeout (lag sampling).
    probe: Cluster,
    /// Pools with the long work timeout (fingerprints, refresh).
    work: Cluster,
    lake: tokio::sync::Mutex<LakeSlot>,
    lag_log: Mutex<Option<crate::lag_log::LagLog>>,
    history: RwLock<LagHistory>,
    caches: Mutex<CacheBoard>,
    events: broadcast::Sender<Event>,
    poke: Notify,
    cancel: CancellationToken,
    jobs: Mutex<Vec<crate::jobs::Job>>,
    next_job: std::sync::atomic::AtomicU64,
}

/// A running console (see the module header). Cheap to clone.
#[derive(Clone)]
pub struct Console {
    shared: Arc<Shared>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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
        let capacity = (options.retention.as_millis() / options.lag_interval.as_millis().max(1))
            .max(1) as usize;
        let mut history = LagHistory::new(capacity);
        let log = options
            .persist_lag
            .then(|| crate::lag_log::LagLog::for_profile(&profile))
            .flatten();
        if let Some(log) = &log {
            let since = now_ms().saturating_sub(options.retention.as_millis() as u64);
            log.load_into(&mut history, since);
        }
        let shared = Arc::new(Shared {
            profile,
            options,
            probe,
            work,
            lake: tokio::sync::Mutex::new(LakeSlot::default()),
            lag_log: Mutex::new(log),
            history: RwLock::new(history),
            caches: Mutex::new(CacheBoard::default()),
            events,
            poke: Notify::new(),
            cancel: CancellationToken::new(),
            jobs: Mutex::new(Vec::new()),
            next_job: std::sync::atomic::AtomicU64::new(1),
        });
        tokio::spawn(lag_sampler(Arc::downgrade(&shared), shared.cancel.clone()));
        tokio::spawn(cache_watcher(
            Arc::downgrade(&shared),
            shared.cancel.clone(),
        ));
        tokio::spawn(cache_scheduler(
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
        let (nodes, capacity) = match h {
            Ok(h) => (h.series(since_ms), h.capacity()),
            Err(_) => (Vec::new(), 0),
        };
        crate::rpc::LagHistory {
            thresholds: self.shared.profile.thresholds,
            retention_s: capacity as u64 * self.shared.options.lag_interval.as_millis() as u64
                / 1000,
            nodes,
        }
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
        let attention = attention(&self.shared.profile, lag.as_ref(), &lake, &caches);
        Overview {
            profile: self.profile_info(),
            lag,
            lake,
            caches,
            attention,
        }
    }

    async fn lake_summary(&self) -> LakeSummary {
        let slot = self.shared.lake.lock().await;
        slot.summary.clone().unwrap_or(LakeSummary {
            reachable: false,
            snapshots: None,
            current_snapshot: None,
            error: None,
        })
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
        update_caches(&self.shared, true).await?;
        Ok(self.caches_now())
    }

    /// The open lake, opening it when needed. Errors: `LakeUnavailable` with the reason.
    pub async fn lake(&self) -> Result<Lake> {
        ensure_lake(&self.shared).await
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
            if !board.refreshing.insert(name.to_owned()) {
                return Err(Error::Lake(skein_lake::Error::Conflict(format!(
                    "cache {name} is being refreshed already; wait for that refresh to finish"
                ))));
            }
            set_refreshing(&mut board);
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
            board.refreshing.remove(name);
            if let Ok(outcome) = &result {
                board.last_outcome.insert(name.to_owned(), outcome.clone());
            }
            set_refreshing(&mut board);
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
            lake.update_cache(w, &spec.name, &spec.query, &spec.monitor, spec.ttl_seconds)
                .await?
        } else {
            lake.create_cache(w, &spec.name, &spec.query, &spec.monitor, spec.ttl_seconds)
                .await?
        };
        if let Ok(mut board) = self.board() {
            board.next_run.remove(&spec.name);
        }
        self.shared.poke.notify_one();
        Ok(def)
    }

    /// Deletes a cache, then recomputes the caches' states.
    pub async fn delete_cache(&self, name: &str) -> Result<()> {
        self.lake().await?.delete_cache(name).await?;
        if let Ok(mut board) = self.board() {
            board.next_run.remove(name);
            board.last_outcome.remove(name);
            board.stale_since.remove(name);
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
            board.next_run.remove(name);
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
            if let Some(busy) = names.iter().find(|n| board.refreshing.contains(*n)) {
                return Err(Error::Lake(skein_lake::Error::Conflict(format!(
                    "cache {busy} is being refreshed already; wait for that refresh to finish"
                ))));
            }
            board.refreshing.extend(names.iter().cloned());
            set_refreshing(&mut board);
        }
        self.emit_caches();
        let result = lake.snapshot_caches(&self.shared.work, &names).await;
        {
            let mut board = self.board()?;
            for n in &names {
                board.refreshing.remove(n);
            }
            set_refreshing(&mut board);
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
        if !(1..=500).contains(&limit) {
            return Err(Error::InvalidInput(format!(
                "limit {limit} is out of range: ask for 1 to 500 snapshots a page"
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

    /// A page of `table` as of `at`, with the snapshot it resolved to.
    pub async fn time_travel(
        &self,
        table: &str,
        at: At,
        limit: u32,
        offset: u32,
    ) -> Result<TimeTravelPage> {
        if !(1..=1000).contains(&limit) {
            return Err(Error::InvalidInput(format!(
                "limit {limit} is out of range: ask for 1 to 1000 rows a page"
            )));
        }
        let lake = self.lake().await?;
        let snapshot = lake.snapshot_at(&at).await?;
        let current = lake.current_snapshot().await?;
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
        })
    }
}

fn set_refreshing(board: &mut CacheBoard) {
    let refreshing = board.refreshing.clone();
    for v in &mut board.views {
        v.refreshing = refreshing.contains(&v.status.definition.name);
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

/// `host:port/dbname` of a libpq connection string (URL or key=value), never its user or
/// password.
fn address(conninfo: &str) -> String {
    match conninfo.parse::<tokio_postgres::Config>() {
        Ok(c) => {
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

async fn lag_sampler(shared: std::sync::Weak<Shared>, cancel: CancellationToken) {
    let period = match shared.upgrade() {
        Some(s) => s.options.lag_interval,
        None => return,
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Some(s) = shared.upgrade() else { return };
        // Each node has its own timeout inside `sample`; this bounds the whole tick.
        let sample = tokio::select! {
            _ = cancel.cancelled() => return,
            r = tokio::time::timeout(period.max(Duration::from_secs(1)) * 3, skein_pg::lag::sample(&s.probe)) => r,
        };
        let Ok(sample) = sample else { continue };
        if let Ok(mut h) = s.history.write() {
            h.push(&sample);
        }
        if let Ok(mut log) = s.lag_log.lock() {
            if let Some(log) = log.as_mut() {
                log.append(&sample);
            }
        }
        let _ = s.events.send(Event::Lag(sample));
    }
}

async fn cache_watcher(shared: std::sync::Weak<Shared>, cancel: CancellationToken) {
    let period = match shared.upgrade() {
        Some(s) => s.options.cache_interval,
        None => return,
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u32 = 0;
    loop {
        let Some(s) = shared.upgrade() else { return };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
            _ = s.poke.notified() => {}
        }
        let exact = ticks % EXACT_EVERY == 0;
        ticks = ticks.wrapping_add(1);
        let work = async {
            let _ = update_lake_summary(&s).await;
            let _ = update_caches(&s, exact).await;
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::timeout(s.options.work_timeout, work) => {}
        }
    }
}

async fn cache_scheduler(shared: std::sync::Weak<Shared>, cancel: CancellationToken) {
    let period = match shared.upgrade() {
        Some(s) => s.options.cache_interval,
        None => return,
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        Console { shared }.scheduler_tick();
    }
}

/// Opens the lake when it is not open; records why it cannot be.
async fn ensure_lake(s: &Shared) -> Result<Lake> {
    let mut slot = s.lake.lock().await;
    if let Some(lake) = &slot.lake {
        return Ok(lake.clone());
    }
    match tokio::time::timeout(s.options.work_timeout, Lake::open(&s.profile)).await {
        Ok(Ok(lake)) => {
            slot.lake = Some(lake.clone());
            Ok(lake)
        }
        Ok(Err(e)) => {
            let info = ErrorInfo {
                code: e.code(),
                message: e.to_string(),
            };
            set_lake_down(s, &mut slot, info.clone());
            Err(Error::LakeUnavailable(info))
        }
        Err(_) => {
            let info = ErrorInfo {
                code: ErrorCode::Timeout,
                message: format!(
                    "opening the lake took longer than {} s",
                    s.options.work_timeout.as_secs()
                ),
            };
            set_lake_down(s, &mut slot, info.clone());
            Err(Error::LakeUnavailable(info))
        }
    }
}

fn set_lake_down(s: &Shared, slot: &mut LakeSlot, error: ErrorInfo) {
    slot.lake = None;
    let summary = LakeSummary {
        reachable: false,
        snapshots: slot.summary.as_ref().and_then(|x| x.snapshots),
        current_snapshot: slot.summary.as_ref().and_then(|x| x.current_snapshot),
        error: Some(error),
    };
    if slot.summary.as_ref() != Some(&summary) {
        slot.summary = Some(summary.clone());
        let _ = s.events.send(Event::Lake(summary));
    }
}

async fn update_lake_summary(s: &Shared) -> Result<()> {
    let lake = ensure_lake(s).await?;
    let read = async {
        let count = lake.snapshot_count().await?;
        let current = lake.current_snapshot().await?;
        Ok::<_, skein_lake::Error>((count, current))
    };
    let mut slot = s.lake.lock().await;
    match read.await {
        Ok((count, current)) => {
            let summary = LakeSummary {
                reachable: true,
                snapshots: Some(count),
                current_snapshot: Some(current),
                error: None,
            };
            if slot.summary.as_ref() != Some(&summary) {
                slot.summary = Some(summary.clone());
                let _ = s.events.send(Event::Lake(summary));
            }
            Ok(())
        }
        Err(e) => {
            let info = ErrorInfo {
                code: e.code(),
                message: e.to_string(),
            };
            set_lake_down(s, &mut slot, info);
            Err(e.into())
        }
    }
}

/// Recomputes the caches' states and emits `caches` when one changed. `exact`: fingerprint
/// every cache; otherwise only those whose lake snapshot or write counters moved.
async fn update_caches(s: &Shared, exact: bool) -> Result<()> {
    let lake = ensure_lake(s).await?;
    let definitions = lake.cache_definitions().await?;
    let snapshot = lake.current_snapshot().await?;
    let now = now_ms();
    let mut views = Vec::with_capacity(definitions.len());
    let mut signatures = HashMap::new();
    for def in definitions {
        let name = def.name.clone();
        // Counters unreadable (primary down): no signature, so the state is recomputed and
        // says why it is unknown.
        let signature = activity_signature(&s.work.primary, &def.monitor)
            .await
            .ok()
            .map(|a| format!("{snapshot}|{a}"));
        let prior = {
            let board = s
                .caches
                .lock()
                .map_err(|_| Error::Internal("the cache board was poisoned by a panic".into()))?;
            let same = signature.is_some() && board.signatures.get(&name) == signature.as_ref();
            board
                .views
                .iter()
                .find(|v| v.status.definition == def)
                .filter(|_| same && !exact)
                .map(|v| v.status.clone())
        };
        let status = match prior {
            Some(p) => aged(p, now),
            None => lake.cache_status_of(&s.work, def).await?,
        };
        if let Some(sig) = signature {
            signatures.insert(name, sig);
        }
        views.push(status);
    }
    let views = {
        let mut board = s
            .caches
            .lock()
            .map_err(|_| Error::Internal("the cache board was poisoned by a panic".into()))?;
        board.signatures = signatures;
        let mut out = Vec::with_capacity(views.len());
        for status in views {
            let name = status.definition.name.clone();
            let stale = matches!(status.state, CacheState::Stale | CacheState::Expired);
            let since = if stale {
                Some(*board.stale_since.entry(name.clone()).or_insert(now))
            } else {
                board.stale_since.remove(&name);
                None
            };
            let next_run_ms = crate::scheduler::next_run(&board, &status);
            out.push(CacheView {
                next_run_ms,
                refreshing: board.refreshing.contains(&name),
                last_outcome: board.last_outcome.get(&name).cloned(),
                stale_since_ms: since,
                status,
            });
        }
        // `age_ms` moves every tick; only a change of anything else is news.
        let changed = out.len() != board.views.len()
            || out.iter().zip(&board.views).any(|(a, b)| !same_view(a, b));
        board.views = out.clone();
        changed.then_some(out)
    };
    if let Some(views) = views {
        let _ = s.events.send(Event::Caches(views));
    }
    Ok(())
}

/// A status carried over from the last check with its age (and TTL expiry) brought up to now.
fn aged(mut status: CacheStatus, now: u64) -> CacheStatus {
    if let Some(r) = &status.last_refresh {
        let age = now.saturating_sub(r.refreshed_at_ms.max(0) as u64);
        status.age_ms = Some(age);
        if status.state == CacheState::Fresh
            && status
                .definition
                .ttl_seconds
                .is_some_and(|t| age > t * 1000)
        {
            status.state = CacheState::Expired;
        }
    }
    status
}

fn same_view(a: &CacheView, b: &CacheView) -> bool {
    let mut a = a.clone();
    a.status.age_ms = b.status.age_ms;
    &a == b
}

/// A duration for a person: `850 ms`, `4.2 s`, `3 min 10 s`.
fn human_ms(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => {
            let s = format!("{:.1}", ms as f64 / 1000.0);
            format!("{} s", s.trim_end_matches(".0"))
        }
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// What needs attention, worst first.
pub(crate) fn attention(
    profile: &Profile,
    lag: Option<&skein_pg::LagSample>,
    lake: &LakeSummary,
    caches: &[CacheView],
) -> Vec<Attention> {
    let mut out = Vec::new();
    if let Some(sample) = lag {
        for n in &sample.nodes {
            let (severity, message) = match (n.state, n.level) {
                (ReplicaState::Down, _) => (
                    Severity::Critical,
                    format!(
                        "down: {}",
                        n.error
                            .as_ref()
                            .map_or("no answer".to_string(), |e| e.message.clone())
                    ),
                ),
                (_, LagLevel::Critical) => (
                    Severity::Critical,
                    format!(
                        "replay lag past critical ({} ≥ {}): out of rotation",
                        human_ms(n.replay_lag_ms.unwrap_or(0)),
                        human_ms(profile.thresholds.lag_critical_ms)
                    ),
                ),
                (ReplicaState::Disconnected, _) => (
                    Severity::Critical,
                    "not streaming: the primary lists no WAL sender for it".to_string(),
                ),
                (_, LagLevel::Warning) => (
                    Severity::Warning,
                    format!(
                        "replay lag past warning ({} ≥ {})",
                        human_ms(n.replay_lag_ms.unwrap_or(0)),
                        human_ms(profile.thresholds.lag_warning_ms)
                    ),
                ),
                (ReplicaState::Paused, _) => {
                    (Severity::Warning, "WAL replay is paused".to_string())
                }
                (ReplicaState::CatchingUp, _) => (
                    Severity::Warning,
                    "catching up with the primary".to_string(),
                ),
                _ => continue,
            };
            out.push(Attention {
                severity,
                subject: n.name.clone(),
                message,
            });
        }
    }
    if let Some(e) = &lake.error {
        out.push(Attention {
            severity: Severity::Critical,
            subject: "lake".into(),
            message: format!("{}: {}", e.code, e.message),
        });
    }
    for c in caches {
        let name = &c.status.definition.name;
        let item = match (&c.last_outcome, c.status.state) {
            (Some(o), _) if o.result == skein_lake::RefreshResult::Error => Some((
                Severity::Critical,
                format!(
                    "last refresh failed: {}",
                    o.error
                        .as_ref()
                        .map_or(o.message.clone(), |e| format!("{}: {}", e.code, e.message))
                ),
            )),
            (_, CacheState::Expired) => Some((Severity::Critical, "expired (past its TTL)".into())),
            (_, CacheState::Stale) => Some((
                Severity::Warning,
                "stale: a monitored table changed since the last refresh".into(),
            )),
            (_, CacheState::Empty) => Some((Severity::Warning, "never refreshed".into())),
            (_, CacheState::Unknown) => Some((
                Severity::Warning,
                c.status
                    .state_error
                    .as_ref()
                    .map_or("state unknown".into(), |e| {
                        format!("state unknown: {}", e.message)
                    }),
            )),
            _ => None,
        };
        if let Some((severity, message)) = item {
            out.push(Attention {
                severity,
                subject: format!("cache {name}"),
                message,
            });
        }
    }
    out.sort_by_key(|a| a.severity != Severity::Critical);
    out
}

#[cfg(test)]
mod tests {
    use super::human_ms;

    #[test]
    fn durations_read_in_adaptive_units() {
        assert_eq!(human_ms(850), "850 ms");
        assert_eq!(human_ms(4_200), "4.2 s");
        assert_eq!(human_ms(30_000), "30 s");
        assert_eq!(human_ms(190_000), "3 min 10 s");
    }
}
