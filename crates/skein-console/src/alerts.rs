//! Alerts: the profile's rules ([`skein_core::AlertRules`], the `[alerts]` table) judged on
//! every sampler tick against that tick's lag sample, replication reading, caches and jobs.
//!
//! Each (rule, subject) pair — a node, a slot on a node, a WAL sender, a cache, a kind of
//! maintenance job — has a track: it fires after `fire_after` consecutive samples in breach and
//! clears after `clear_after` consecutive healthy ones, so a value at its threshold does not
//! flap. A subject gone from the tick (a dropped slot, a deleted cache, a rule turned off)
//! counts as healthy; one whose node did not answer counts as neither (nothing is known of it).
//!
//! Every change (fired, acknowledged, cleared) is emitted as an `alert` event and appended to
//! the profile's alert log under the state directory (`alerts/<profile>.jsonl`, one JSON
//! [`Alert`] a line, the newest line of an id wins), so active alerts and the history survive a
//! restart: an alert active when the console stopped is active again when it starts, and clears
//! only after healthy samples.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use skein_core::AlertRules;
use skein_lake::{CacheState, RefreshResult};
use skein_pg::replication::human_bytes;
use skein_pg::{LagSample, NodeRole, ReplicaState, ReplicationReading};
use ts_rs::TS;

use crate::console::{Console, Shared};
use crate::error::{Error, Result};
use crate::jobs::{Job, JobKind, JobState};
use crate::rpc::{CacheView, Event, Severity};

/// Alerts kept in the history (older ones fall off; active ones never do).
pub const HISTORY_KEPT: usize = 500;

/// What an alert watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AlertRule {
    /// Replay lag at or past `lag_ms`.
    Lag,
    /// WAL behind the primary at or past `lag_bytes`.
    LagBytes,
    /// A node that does not answer.
    NodeDown,
    /// A replica out of recovery, or on another timeline than the primary.
    Promoted,
    /// A slot retaining `slot_retained_bytes` of WAL or more.
    SlotRetained,
    /// A slot's headroom (`safe_wal_size`) below `slot_headroom_bytes`, or `wal_status` lost
    /// or unreserved.
    SlotHeadroom,
    /// Recovery conflicts a minute at or past `conflicts_per_minute`.
    ConflictRate,
    /// `age(backend_xmin)` of a WAL sender at or past `xmin_age`.
    XminAge,
    /// A cache stale or edited for `cache_stale_s` or longer.
    CacheStale,
    /// A cache's data older than `cache_age_s`.
    CacheAge,
    /// A cache's last refresh ended in ERROR.
    RefreshFailed,
    /// The last maintenance job of a kind failed.
    MaintenanceFailed,
}

impl AlertRule {
    /// The name used in the profile, the log, metrics and messages (`slot_retained`).
    pub fn name(self) -> &'static str {
        match self {
            AlertRule::Lag => "lag",
            AlertRule::LagBytes => "lag_bytes",
            AlertRule::NodeDown => "node_down",
            AlertRule::Promoted => "promoted",
            AlertRule::SlotRetained => "slot_retained",
            AlertRule::SlotHeadroom => "slot_headroom",
            AlertRule::ConflictRate => "conflict_rate",
            AlertRule::XminAge => "xmin_age",
            AlertRule::CacheStale => "cache_stale",
            AlertRule::CacheAge => "cache_age",
            AlertRule::RefreshFailed => "refresh_failed",
            AlertRule::MaintenanceFailed => "maintenance_failed",
        }
    }

    fn severity(self) -> Severity {
        match self {
            AlertRule::NodeDown
            | AlertRule::Promoted
            | AlertRule::SlotHeadroom
            | AlertRule::RefreshFailed => Severity::Critical,
            _ => Severity::Warning,
        }
    }
}

/// One alert: fired, maybe acknowledged, maybe cleared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Alert {
    /// Id, unique within the profile's alert log.
    pub id: u64,
    /// The rule that fired.
    pub rule: AlertRule,
    /// What it is about: a node, `slot NAME on NODE`, `APP on NODE` (a WAL sender), a cache,
    /// or a kind of maintenance job.
    pub subject: String,
    /// Critical or warning (by rule).
    pub severity: Severity,
    /// The newest reading while it is active, the last one in breach once cleared.
    pub message: String,
    /// The measured value in the rule's unit (ms, bytes, conflicts a minute, transactions,
    /// seconds); `null` for rules that are a state (down, promoted, failed).
    pub value: Option<f64>,
    /// The rule's threshold in the same unit.
    pub threshold: Option<f64>,
    /// When it fired, ms since the Unix epoch.
    pub fired_at_ms: u64,
    /// When someone acknowledged it.
    pub acknowledged_at_ms: Option<u64>,
    /// When it cleared (`null`: active).
    pub cleared_at_ms: Option<u64>,
}

impl Alert {
    /// Whether it has not cleared yet.
    pub fn active(&self) -> bool {
        self.cleared_at_ms.is_none()
    }
}

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AlertChangeKind {
    /// It fired: `fire_after` samples in breach.
    Fired,
    /// Someone acknowledged it.
    Acknowledged,
    /// It cleared: `clear_after` healthy samples.
    Cleared,
}

/// An `alert` event: one change and the alert after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AlertChange {
    /// Fired, acknowledged or cleared.
    pub change: AlertChangeKind,
    /// The alert as it is now.
    pub alert: Alert,
}

/// The Alerts page: active alerts, the history, the rules and how delivery is going.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AlertsView {
    /// Active alerts, newest first.
    pub active: Vec<Alert>,
    /// Every kept alert (active ones too), newest first, at most [`HISTORY_KEPT`].
    pub history: Vec<Alert>,
    /// The rules in force (the profile's `[alerts]`).
    pub rules: AlertRules,
    /// Each delivery target (`skein serve`'s webhook or command): whether it works.
    pub deliveries: Vec<DeliveryStatus>,
    /// Where the history is kept; `null` when no state directory is known (kept in memory).
    pub log_path: Option<String>,
}

/// How one delivery target is doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DeliveryStatus {
    /// `webhook` or `command`.
    pub kind: String,
    /// Where to (a webhook's scheme and host, never its path or query, which may carry a
    /// token; a command's program name).
    pub target: String,
    /// The last attempt failed and it is retrying (or gave up on that alert).
    pub failing: bool,
    /// The last failure's reason.
    pub last_error: Option<String>,
    /// Changes delivered since start.
    pub delivered: u64,
    /// Changes given up on after every retry failed.
    pub dropped: u64,
    /// Changes waiting to be sent.
    pub queued: u64,
    /// When the last delivery succeeded, ms since the Unix epoch.
    pub last_ok_ms: Option<u64>,
}

/// One (rule, subject) judged on one tick.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    pub(crate) rule: AlertRule,
    pub(crate) subject: String,
    /// `Some(true)`: in breach; `Some(false)`: healthy; `None`: unknown this tick.
    pub(crate) breach: Option<bool>,
    pub(crate) message: String,
    pub(crate) value: Option<f64>,
    pub(crate) threshold: Option<f64>,
}

/// What one tick saw, for [`conditions`].
pub(crate) struct Tick<'a> {
    pub(crate) now_ms: u64,
    pub(crate) sample: &'a LagSample,
    pub(crate) replication: Option<&'a ReplicationReading>,
    pub(crate) caches: &'a [CacheView],
    /// Oldest first.
    pub(crate) jobs: &'a [Job],
}

fn cond(
    rule: AlertRule,
    subject: impl Into<String>,
    breach: Option<bool>,
    message: String,
    value: Option<f64>,
    threshold: Option<f64>,
) -> Condition {
    Condition {
        rule,
        subject: subject.into(),
        breach,
        message,
        value,
        threshold,
    }
}

/// Every condition of a tick under `rules` (see the module header).
pub(crate) fn conditions(rules: &AlertRules, tick: &Tick<'_>) -> Vec<Condition> {
    let mut out = Vec::new();
    nodes(rules, tick.sample, &mut out);
    if let Some(r) = tick.replication {
        replication(rules, r, &mut out);
    }
    caches(rules, tick.now_ms, tick.caches, &mut out);
    if rules.maintenance_failed {
        jobs(tick.jobs, &mut out);
    }
    out
}

fn nodes(rules: &AlertRules, sample: &LagSample, out: &mut Vec<Condition>) {
    let primary_tl = sample
        .nodes
        .iter()
        .find(|n| n.role == NodeRole::Primary)
        .and_then(|n| n.timeline_id);
    for n in &sample.nodes {
        if rules.node_down {
            let why = n
                .error
                .as_ref()
                .map_or("no answer".to_owned(), |e| e.message.clone());
            out.push(cond(
                AlertRule::NodeDown,
                &n.name,
                Some(!n.reachable),
                format!("does not answer: {why}"),
                None,
                None,
            ));
        }
        if n.role != NodeRole::Replica {
            continue;
        }
        let known = n.reachable;
        if rules.promoted {
            let other_tl = match (n.timeline_id, primary_tl) {
                (Some(a), Some(b)) if n.state != ReplicaState::Promoted => (a != b).then_some(a),
                _ => None,
            };
            let message = match other_tl {
                Some(tl) => format!(
                    "on timeline {tl}, the primary on {}: it follows another history",
                    primary_tl.unwrap_or(0)
                ),
                None => "promoted: out of recovery, it accepts writes (a second primary)".into(),
            };
            out.push(cond(
                AlertRule::Promoted,
                &n.name,
                known.then_some(n.state == ReplicaState::Promoted || other_tl.is_some()),
                message,
                None,
                None,
            ));
        }
        let replaying = known && n.state != ReplicaState::Promoted;
        if rules.lag_ms > 0 {
            let lag = n.replay_lag_ms.filter(|_| replaying);
            out.push(cond(
                AlertRule::Lag,
                &n.name,
                lag.map(|l| l >= rules.lag_ms),
                format!(
                    "replay lag {} (alert at {})",
                    lag.map_or("unknown".into(), crate::attention::human_ms),
                    crate::attention::human_ms(rules.lag_ms)
                ),
                lag.map(|l| l as f64),
                Some(rules.lag_ms as f64),
            ));
        }
        if rules.lag_bytes > 0 {
            let bytes = n.lag_bytes.filter(|_| replaying);
            out.push(cond(
                AlertRule::LagBytes,
                &n.name,
                bytes.map(|b| b >= rules.lag_bytes),
                format!(
                    "{} of WAL behind the primary (alert at {})",
                    bytes.map_or("unknown".into(), human_bytes),
                    human_bytes(rules.lag_bytes)
                ),
                bytes.map(|b| b as f64),
                Some(rules.lag_bytes as f64),
            ));
        }
    }
}

fn replication(rules: &AlertRules, r: &ReplicationReading, out: &mut Vec<Condition>) {
    for node in &r.nodes {
        if !node.reachable {
            continue;
        }
        for slot in node.slots.iter().filter(|s| !s.temporary) {
            let subject = format!("slot {} on {}", slot.name, node.name);
            let feed = skein_lake::feed::is_feed_slot(&slot.name, slot.plugin.as_deref());
            if rules.slot_retained_bytes > 0 && !feed {
                if let Some(b) = slot.retained_bytes {
                    out.push(cond(
                        AlertRule::SlotRetained,
                        &subject,
                        Some(b >= rules.slot_retained_bytes),
                        format!(
                            "retains {} of WAL (alert at {}){}",
                            human_bytes(b),
                            human_bytes(rules.slot_retained_bytes),
                            if slot.active {
                                String::new()
                            } else {
                                "; inactive: nothing consumes it".into()
                            }
                        ),
                        Some(b as f64),
                        Some(rules.slot_retained_bytes as f64),
                    ));
                }
            }
            let status = slot.wal_status.as_deref();
            let lost = matches!(status, Some("lost") | Some("unreserved"));
            let low = rules.slot_headroom_bytes > 0
                && slot
                    .safe_wal_size
                    .is_some_and(|left| left < rules.slot_headroom_bytes as i64);
            out.push(cond(
                AlertRule::SlotHeadroom,
                &subject,
                Some(lost || low),
                match (status, slot.safe_wal_size) {
                    (Some(s @ ("lost" | "unreserved")), _) => {
                        format!("wal_status {s}: WAL it needs is gone or about to go")
                    }
                    (_, Some(left)) => format!(
                        "{} left before max_slot_wal_keep_size (safe_wal_size; alert below {})",
                        human_bytes(left.max(0) as u64),
                        human_bytes(rules.slot_headroom_bytes)
                    ),
                    _ => "no max_slot_wal_keep_size: no headroom limit".into(),
                },
                slot.safe_wal_size.map(|v| v as f64),
                (rules.slot_headroom_bytes > 0).then_some(rules.slot_headroom_bytes as f64),
            ));
        }
        if rules.conflicts_per_minute > 0.0 {
            if let Some(rate) = node.conflicts.and_then(|c| c.per_minute) {
                out.push(cond(
                    AlertRule::ConflictRate,
                    &node.name,
                    Some(rate >= rules.conflicts_per_minute),
                    crate::replication::conflict_message(rate, node.settings.as_ref()),
                    Some(rate),
                    Some(rules.conflicts_per_minute),
                ));
            }
        }
        if rules.xmin_age > 0 {
            for s in &node.senders {
                if let Some(age) = s.backend_xmin_age {
                    out.push(cond(
                        AlertRule::XminAge,
                        format!("{} on {}", s.application_name, node.name),
                        Some(age as u64 >= rules.xmin_age),
                        crate::replication::xmin_message(age, rules.xmin_age),
                        Some(age as f64),
                        Some(rules.xmin_age as f64),
                    ));
                }
            }
        }
    }
}

fn caches(rules: &AlertRules, now_ms: u64, views: &[CacheView], out: &mut Vec<Condition>) {
    for v in views {
        let name = &v.status.definition.name;
        let state = v.status.state;
        if rules.cache_stale_s > 0 {
            let behind = matches!(state, CacheState::Stale | CacheState::Edited);
            let for_s = v
                .stale_since_ms
                .filter(|_| behind)
                .map(|t| now_ms.saturating_sub(t) / 1000);
            out.push(cond(
                AlertRule::CacheStale,
                name,
                (state != CacheState::Unknown)
                    .then(|| for_s.is_some_and(|s| s >= rules.cache_stale_s)),
                format!(
                    "{} for {} (alert at {})",
                    if state == CacheState::Edited {
                        "edited (holds the old definition's result)"
                    } else {
                        "stale (a monitored table changed)"
                    },
                    crate::attention::human_ms(for_s.unwrap_or(0) * 1000),
                    crate::attention::human_ms(rules.cache_stale_s * 1000)
                ),
                for_s.map(|s| s as f64),
                Some(rules.cache_stale_s as f64),
            ));
        }
        if rules.cache_age_s > 0 {
            if let Some(age) = v.status.age_ms {
                out.push(cond(
                    AlertRule::CacheAge,
                    name,
                    Some(age / 1000 >= rules.cache_age_s),
                    format!(
                        "its data is {} old (alert at {})",
                        crate::attention::human_ms(age),
                        crate::attention::human_ms(rules.cache_age_s * 1000)
                    ),
                    Some((age / 1000) as f64),
                    Some(rules.cache_age_s as f64),
                ));
            }
        }
        if rules.refresh_failed {
            let failed = v
                .last_outcome
                .as_ref()
                .filter(|o| o.result == RefreshResult::Error);
            out.push(cond(
                AlertRule::RefreshFailed,
                name,
                Some(failed.is_some()),
                failed.map_or("the last refresh did not fail".into(), |o| {
                    format!("the last refresh failed: {}", o.message)
                }),
                None,
                None,
            ));
        }
    }
}

/// The subject of a job's kind: one track per kind of maintenance.
fn job_subject(kind: &JobKind) -> &'static str {
    match kind {
        JobKind::ExpireSnapshots { .. } => "expire snapshots",
        JobKind::Compact { .. } => "compaction",
        JobKind::DeleteFiles { orphaned: false } => "file cleanup",
        JobKind::DeleteFiles { orphaned: true } => "orphaned-file cleanup",
    }
}

fn jobs(jobs: &[Job], out: &mut Vec<Condition>) {
    let mut newest: HashMap<&'static str, &Job> = HashMap::new();
    for j in jobs.iter().filter(|j| j.state != JobState::Running) {
        newest.insert(job_subject(&j.kind), j);
    }
    for (subject, j) in newest {
        out.push(cond(
            AlertRule::MaintenanceFailed,
            subject,
            Some(j.state == JobState::Failed),
            match &j.error {
                Some(e) => format!("{} failed: {}", j.title, e.message),
                None => format!("{}: done", j.title),
            },
            None,
            None,
        ));
    }
}

#[derive(Debug, Default)]
struct Track {
    breach: u32,
    healthy: u32,
    /// The id of its active alert.
    firing: Option<u64>,
}

/// The rules' state: tracks, alerts, the log (see the module header).
pub(crate) struct AlertBoard {
    rules: AlertRules,
    tracks: HashMap<(AlertRule, String), Track>,
    /// Oldest first; active ones are never dropped.
    alerts: VecDeque<Alert>,
    next_id: u64,
    log: Option<AlertLog>,
    pub(crate) deliveries: Vec<DeliveryStatus>,
}

impl AlertBoard {
    /// A board under `rules`, starting from `log` (its active alerts active again).
    pub(crate) fn new(rules: AlertRules, log: Option<AlertLog>) -> AlertBoard {
        let alerts: VecDeque<Alert> = log.as_ref().map(AlertLog::load).unwrap_or_default();
        let mut tracks = HashMap::new();
        for a in alerts.iter().filter(|a| a.active()) {
            tracks.insert(
                (a.rule, a.subject.clone()),
                Track {
                    breach: rules.fire_after,
                    healthy: 0,
                    firing: Some(a.id),
                },
            );
        }
        let next_id = alerts.iter().map(|a| a.id).max().unwrap_or(0) + 1;
        AlertBoard {
            rules,
            tracks,
            alerts,
            next_id,
            log,
            deliveries: Vec::new(),
        }
    }

    /// Judges one tick's conditions; returns the changes (fired and cleared), in order.
    /// `unknown_nodes`: nodes that did not answer; a track about one of them stands still.
    pub(crate) fn judge(
        &mut self,
        now_ms: u64,
        conditions: Vec<Condition>,
        unknown_nodes: &[&str],
    ) -> Vec<AlertChange> {
        let mut changes = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for c in conditions {
            let key = (c.rule, c.subject.clone());
            seen.insert(key.clone());
            let track = self.tracks.entry(key).or_default();
            match c.breach {
                None => continue,
                Some(true) => {
                    track.breach = track.breach.saturating_add(1);
                    track.healthy = 0;
                }
                Some(false) => {
                    track.healthy = track.healthy.saturating_add(1);
                    track.breach = 0;
                }
            }
            match track.firing {
                Some(id) if track.healthy >= self.rules.clear_after => {
                    track.firing = None;
                    changes.extend(clear(&mut self.alerts, id, now_ms));
                }
                Some(id) if c.breach == Some(true) => {
                    // Still active: its message and value follow the newest reading.
                    if let Some(a) = self.alerts.iter_mut().find(|a| a.id == id) {
                        a.message = c.message;
                        a.value = c.value;
                        a.threshold = c.threshold;
                    }
                }
                None if track.breach >= self.rules.fire_after => {
                    let alert = Alert {
                        id: self.next_id,
                        rule: c.rule,
                        subject: c.subject,
                        severity: c.rule.severity(),
                        message: c.message,
                        value: c.value,
                        threshold: c.threshold,
                        fired_at_ms: now_ms,
                        acknowledged_at_ms: None,
                        cleared_at_ms: None,
                    };
                    self.next_id += 1;
                    track.firing = Some(alert.id);
                    self.alerts.push_back(alert.clone());
                    changes.push(AlertChange {
                        change: AlertChangeKind::Fired,
                        alert,
                    });
                }
                _ => {}
            }
        }
        // Subjects gone from this tick count as healthy, unless their node did not answer.
        let about_unknown = |subject: &str| {
            unknown_nodes
                .iter()
                .any(|n| subject == *n || subject.ends_with(&format!(" on {n}")))
        };
        for (key, track) in self.tracks.iter_mut() {
            if seen.contains(key) || about_unknown(&key.1) {
                continue;
            }
            track.breach = 0;
            track.healthy = track.healthy.saturating_add(1);
            if let Some(id) = track.firing {
                if track.healthy >= self.rules.clear_after {
                    track.firing = None;
                    changes.extend(clear(&mut self.alerts, id, now_ms));
                }
            }
        }
        // A healthy run matters only while an alert is active.
        self.tracks
            .retain(|_, t| t.firing.is_some() || t.breach > 0);
        self.trim();
        changes
    }

    /// Acknowledges an active alert. Errors: `None` when no active alert has that id.
    pub(crate) fn acknowledge(&mut self, id: u64, now_ms: u64) -> Option<AlertChange> {
        let a = self.alerts.iter_mut().find(|a| a.id == id && a.active())?;
        if a.acknowledged_at_ms.is_none() {
            a.acknowledged_at_ms = Some(now_ms);
        }
        Some(AlertChange {
            change: AlertChangeKind::Acknowledged,
            alert: a.clone(),
        })
    }

    fn trim(&mut self) {
        while self.alerts.len() > HISTORY_KEPT {
            match self.alerts.iter().position(|a| !a.active()) {
                Some(i) => {
                    self.alerts.remove(i);
                }
                None => break,
            }
        }
    }

    /// The rules in force.
    pub(crate) fn rules(&self) -> AlertRules {
        self.rules
    }

    /// Active alerts, newest first.
    pub(crate) fn active(&self) -> Vec<Alert> {
        self.alerts
            .iter()
            .rev()
            .filter(|a| a.active())
            .cloned()
            .collect()
    }

    /// The page's view.
    pub(crate) fn view(&self) -> AlertsView {
        AlertsView {
            active: self.active(),
            history: self.alerts.iter().rev().cloned().collect(),
            rules: self.rules,
            deliveries: self.deliveries.clone(),
            log_path: self.log.as_ref().map(|l| l.path.display().to_string()),
        }
    }

    /// The log to append changes to (on the blocking pool), if any.
    pub(crate) fn log(&self) -> Option<AlertLog> {
        self.log.clone()
    }
}

/// Marks alert `id` cleared at `now_ms`; the change, when the alert is kept.
fn clear(alerts: &mut VecDeque<Alert>, id: u64, now_ms: u64) -> Option<AlertChange> {
    let a = alerts.iter_mut().find(|a| a.id == id)?;
    a.cleared_at_ms = Some(now_ms);
    Some(AlertChange {
        change: AlertChangeKind::Cleared,
        alert: a.clone(),
    })
}

/// The profile's alert log (see the module header).
#[derive(Debug, Clone)]
pub(crate) struct AlertLog {
    path: PathBuf,
}

/// Lines past which loading rewrites the log with the newest line of each kept alert.
const LOG_COMPACT_LINES: usize = 4 * HISTORY_KEPT;

impl AlertLog {
    /// The log of `profile` under the state directory.
    pub(crate) fn for_profile(profile: &skein_core::Profile) -> Option<AlertLog> {
        crate::state_dir().map(|d| AlertLog::at(&d, &crate::lag_log::profile_key(profile)))
    }

    /// The log named `key` under `dir`.
    pub(crate) fn at(dir: &Path, key: &str) -> AlertLog {
        AlertLog {
            path: dir.join("alerts").join(format!("{key}.jsonl")),
        }
    }

    /// Every kept alert, oldest first; unreadable lines are skipped (and logged).
    fn load(&self) -> VecDeque<Alert> {
        let Ok(f) = std::fs::File::open(&self.path) else {
            return VecDeque::new();
        };
        let mut by_id: HashMap<u64, Alert> = HashMap::new();
        let mut lines = 0usize;
        for line in std::io::BufReader::new(f).lines().map_while(|l| l.ok()) {
            lines += 1;
            match serde_json::from_str::<Alert>(&line) {
                Ok(a) => {
                    by_id.insert(a.id, a);
                }
                Err(e) => tracing::warn!(
                    path = %self.path.display(),
                    "skipping an unreadable line of the alert log: {e}"
                ),
            }
        }
        let mut all: Vec<Alert> = by_id.into_values().collect();
        all.sort_by_key(|a| a.id);
        let mut kept: VecDeque<Alert> = all.into();
        while kept.len() > HISTORY_KEPT {
            match kept.iter().position(|a| !a.active()) {
                Some(i) => {
                    kept.remove(i);
                }
                None => break,
            }
        }
        if lines > LOG_COMPACT_LINES {
            self.rewrite(&kept);
        }
        kept
    }

    fn rewrite(&self, alerts: &VecDeque<Alert>) {
        let tmp = self.path.with_extension("jsonl.tmp");
        let written = (|| -> std::io::Result<()> {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            for a in alerts {
                serde_json::to_writer(&mut f, a)?;
                f.write_all(b"\n")?;
            }
            f.flush()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = written {
            tracing::warn!(path = %self.path.display(), "compacting the alert log failed: {e}");
        }
    }

    /// Appends the alerts of `changes` (blocking I/O: call it on the blocking pool).
    pub(crate) fn append(&self, changes: &[AlertChange]) {
        let written = (|| -> std::io::Result<()> {
            let mut buf = Vec::new();
            for c in changes {
                serde_json::to_writer(&mut buf, &c.alert)?;
                buf.push(b'\n');
            }
            crate::lag_log::append_to(&self.path, &buf)
        })();
        if let Err(e) = written {
            tracing::warn!(
                path = %self.path.display(),
                "writing the alert log failed ({e}): the history of this change is in memory only"
            );
        }
    }
}

/// Judges this tick's conditions (the sampler calls it before the attention list is taken,
/// which lists active alerts); [`record_tick`] emits and logs the changes.
pub(crate) fn judge_tick(
    shared: &Shared,
    sample: &LagSample,
) -> (Vec<AlertChange>, Option<AlertLog>) {
    let replication = shared
        .replication
        .lock()
        .ok()
        .and_then(|b| b.latest.clone());
    let caches = shared
        .caches
        .lock()
        .map(|b| b.views.clone())
        .unwrap_or_default();
    let jobs = shared.jobs.lock().map(|j| j.clone()).unwrap_or_default();
    let Ok(mut board) = shared.alerts.lock() else {
        return (Vec::new(), None);
    };
    let tick = Tick {
        now_ms: sample.taken_at_ms,
        sample,
        replication: replication.as_ref(),
        caches: &caches,
        jobs: &jobs,
    };
    let conditions = conditions(&board.rules(), &tick);
    let unknown: Vec<&str> = sample
        .nodes
        .iter()
        .filter(|n| !n.reachable)
        .map(|n| n.name.as_str())
        .collect();
    let changes = board.judge(sample.taken_at_ms, conditions, &unknown);
    (changes, board.log())
}

/// Emits an `alert` event per change of [`judge_tick`] (after the tick's other events) and
/// appends them to the log on the blocking pool.
pub(crate) fn record_tick(shared: &Shared, (changes, log): (Vec<AlertChange>, Option<AlertLog>)) {
    record(shared, changes, log);
}

fn record(shared: &Shared, changes: Vec<AlertChange>, log: Option<AlertLog>) {
    if changes.is_empty() {
        return;
    }
    for c in &changes {
        let a = &c.alert;
        match c.change {
            AlertChangeKind::Fired => tracing::warn!(
                id = a.id, rule = a.rule.name(), subject = %a.subject, "alert fired: {}", a.message
            ),
            AlertChangeKind::Cleared => tracing::info!(
                id = a.id, rule = a.rule.name(), subject = %a.subject, "alert cleared"
            ),
            AlertChangeKind::Acknowledged => tracing::info!(
                id = a.id, rule = a.rule.name(), subject = %a.subject, "alert acknowledged"
            ),
        }
        let _ = shared.events.send(Event::Alert(c.clone()));
    }
    if let Some(log) = log {
        tokio::task::spawn_blocking(move || log.append(&changes));
    }
}

impl Console {
    /// Active alerts, the history, the rules and the delivery targets' status.
    pub fn alerts(&self) -> AlertsView {
        self.shared
            .alerts
            .lock()
            .map(|b| b.view())
            .unwrap_or_else(|_| AlertBoard::new(self.shared.profile.alerts, None).view())
    }

    /// Acknowledges an active alert. Errors: `NotFound` when no active alert has that id.
    pub fn acknowledge_alert(&self, id: u64) -> Result<Alert> {
        let (change, log) = {
            let mut board =
                self.shared.alerts.lock().map_err(|_| {
                    Error::Internal("the alert board was poisoned by a panic".into())
                })?;
            let change = board.acknowledge(id, crate::now_ms()).ok_or_else(|| {
                Error::NotFound(format!(
                    "no active alert #{id}: it may have cleared already (see the history)"
                ))
            })?;
            (change, board.log())
        };
        let alert = change.alert.clone();
        record(&self.shared, vec![change], log);
        Ok(alert)
    }

    /// Records how a delivery target is doing (`skein serve`'s webhook or command), shown on
    /// the Alerts page; emits a `delivery` event when it changed.
    pub fn report_delivery(&self, status: DeliveryStatus) {
        let changed = match self.shared.alerts.lock() {
            Ok(mut b) => match b
                .deliveries
                .iter_mut()
                .find(|d| d.kind == status.kind && d.target == status.target)
            {
                Some(d) if *d == status => false,
                Some(d) => {
                    *d = status.clone();
                    true
                }
                None => {
                    b.deliveries.push(status.clone());
                    true
                }
            },
            Err(_) => false,
        };
        if changed {
            let _ = self.shared.events.send(Event::Delivery(status));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(fire: u32, clear: u32) -> AlertRules {
        AlertRules {
            fire_after: fire,
            clear_after: clear,
            ..AlertRules::default()
        }
    }

    fn down(subject: &str, breach: Option<bool>) -> Condition {
        cond(AlertRule::NodeDown, subject, breach, "x".into(), None, None)
    }

    #[test]
    fn fires_after_n_clears_after_m_and_never_flaps() {
        let mut b = AlertBoard::new(rules(3, 2), None);
        // Breach, breach, healthy: the run is broken, nothing fires.
        for breach in [true, true, false, true, true] {
            assert!(b.judge(0, vec![down("r1", Some(breach))], &[]).is_empty());
        }
        let fired = b.judge(5, vec![down("r1", Some(true))], &[]);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].change, AlertChangeKind::Fired);
        assert_eq!(b.active().len(), 1);
        // One healthy sample, then breach again: still the same alert, not a second one.
        assert!(b.judge(6, vec![down("r1", Some(false))], &[]).is_empty());
        assert!(b.judge(7, vec![down("r1", Some(true))], &[]).is_empty());
        // Unknown samples stand still.
        assert!(b.judge(8, vec![down("r1", None)], &[]).is_empty());
        assert!(b.judge(9, vec![down("r1", Some(false))], &[]).is_empty());
        let cleared = b.judge(10, vec![down("r1", Some(false))], &[]);
        assert_eq!(cleared.len(), 1);
        assert_eq!(cleared[0].change, AlertChangeKind::Cleared);
        assert_eq!(cleared[0].alert.cleared_at_ms, Some(10));
        assert!(b.active().is_empty());
        assert_eq!(b.view().history.len(), 1);
    }

    #[test]
    fn a_gone_subject_clears_unless_its_node_is_unknown() {
        let slot = |breach| {
            cond(
                AlertRule::SlotRetained,
                "slot s on primary",
                Some(breach),
                "x".into(),
                Some(2.0),
                Some(1.0),
            )
        };
        let mut b = AlertBoard::new(rules(1, 2), None);
        assert_eq!(b.judge(0, vec![slot(true)], &[]).len(), 1);
        // The primary is down: the slot is unknown, the alert stays.
        for t in 1..5 {
            assert!(b.judge(t, vec![], &["primary"]).is_empty());
        }
        assert!(b.judge(5, vec![], &[]).is_empty());
        assert_eq!(b.judge(6, vec![], &[]).len(), 1);
    }

    #[test]
    fn the_log_brings_active_alerts_back_and_acknowledgement_sticks() {
        let dir = tempfile::tempdir().expect("valid");
        let log = AlertLog::at(dir.path(), "p");
        let mut b = AlertBoard::new(rules(1, 1), Some(log.clone()));
        let fired = b.judge(1, vec![down("r1", Some(true)), down("r2", Some(true))], &[]);
        log.append(&fired);
        let id = fired[0].alert.id;
        let ack = b.acknowledge(id, 2).expect("active");
        log.append(&[ack]);
        let cleared = b.judge(
            3,
            vec![down("r1", Some(true)), down("r2", Some(false))],
            &[],
        );
        log.append(&cleared);
        let mut again = AlertBoard::new(rules(1, 1), Some(log));
        let active = again.active();
        assert_eq!(active.len(), 1, "{active:?}");
        assert_eq!(active[0].subject, "r1");
        assert_eq!(active[0].acknowledged_at_ms, Some(2));
        assert_eq!(again.view().history.len(), 2);
        assert_eq!(again.next_id, 3);
        assert!(again.acknowledge(99, 4).is_none());
    }
}
