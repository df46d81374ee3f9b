//! The RPC surface every front end uses: one [`Request`] enum in, one [`Response`] enum out,
//! and [`Event`]s pushed to subscribers. The desktop shell forwards a `Request` through one
//! Tauri command; web mode takes the same JSON at `POST /api/rpc` and streams events over
//! SSE. TypeScript types are generated from these (see [`crate::bindings`]).
//!
//! Wire shapes: a request is `{"method": "refresh_cache", "params": {"name": "…", "force":
//! false}}`; its response is `{"method": "refresh_cache", "result": {…}}`; an error is
//! `{"code": "NotFound", "message": "…"}`; an event is `{"kind": "lag", "data": {…}}`.
//!
//! The contract: every `Request` variant has a `Response` variant of the same name and
//! nothing else does (the tests at the end of this file compare [`Request::METHODS`] and
//! [`Response::METHODS`], the names as serde writes them), and [`crate::App::rpc`] answers a
//! request only with the response of its own method. Results are named structs, never
//! positional tuples or untyped JSON.

use serde::{Deserialize, Serialize};
use skein_core::{ErrorInfo, Thresholds};
use skein_lake::{
    cache::RefreshRecord, snapshot::Column, At, Bookmark, CacheDefinition, CacheStatus,
    CachesSnapshot, Compaction, DiffRequest, ExpireTarget, KeySuggestion, LakeFile, LakeStats,
    LakeTable, RefreshOutcome, RestorePreview, RestoreResult, SideBySide, SideBySideRequest,
    Snapshot, SnapshotChanges, SnapshotRef, TableDiff, TableFiles, TableHistory, TableRows,
    Timeline,
};
use skein_pg::{LagSample, NodeRole, Privileges, ReplicaState, ReplicationReading};
use ts_rs::TS;

use crate::alerts::{Alert, AlertChange, AlertsView, DeliveryStatus};
use crate::chart::{ChartFile, ChartFormat};
pub use crate::diagnose::{Diagnosis, Step, StepKind, StepStatus, TargetKind};
use crate::jobs::Job;
pub use crate::workbench::{QueryResult, QueryRoute, QueryTarget, Staleness};
pub use skein_core::profile_write::{
    ConnDraft, ConnParam, LakeDraft, NodeDraft, ParsedConn, ProfileDraft, SshDraft,
};
pub use skein_router::{NodeRouting, RoutingStats};

/// A request from a front end.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, strum::VariantNames, strum::IntoStaticStr,
)]
#[serde(tag = "method", content = "params", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Request {
    /// The stack at a glance → [`Response::Overview`].
    Overview,
    /// Every node's lag history since `since_ms` (ms since the Unix epoch; all that is kept
    /// when `null`) → [`Response::LagHistory`].
    LagHistory {
        /// Only samples taken after this instant.
        since_ms: Option<u64>,
    },
    /// Every cache with its state → [`Response::Caches`].
    Caches,
    /// Refreshes a cache (SKIPPED when its monitored tables are unchanged within the TTL,
    /// unless `force`) → [`Response::RefreshCache`]. Emits `refresh_started`,
    /// `refresh_finished` and `caches`.
    RefreshCache {
        /// Cache name.
        name: String,
        /// Rewrite even when nothing changed.
        force: bool,
    },
    /// Defines a cache after checking it (the query plans on the primary, the monitored
    /// tables exist) → [`Response::CreateCache`].
    CreateCache(CacheSpec),
    /// Replaces a cache's query, monitored tables and TTL (same checks) →
    /// [`Response::UpdateCache`].
    UpdateCache(CacheSpec),
    /// Deletes a cache (its history stays reachable by time travel until expired) →
    /// [`Response::DeleteCache`].
    DeleteCache {
        /// Cache name.
        name: String,
    },
    /// Pauses or resumes the scheduler for a cache → [`Response::SetCachePaused`].
    SetCachePaused {
        /// Cache name.
        name: String,
        /// Pause (true) or resume (false).
        paused: bool,
    },
    /// The tables a query reads, to propose as monitored tables (PostgreSQL's parser) →
    /// [`Response::SuggestMonitor`].
    SuggestMonitor {
        /// The source query.
        query: String,
    },
    /// A key to propose for a cache query: its `GROUP BY`, or the primary key of the one
    /// table it reads when it returns it → [`Response::SuggestKey`].
    SuggestKey {
        /// The source query.
        query: String,
    },
    /// A cache's refreshes that wrote data, newest first, each with its snapshot →
    /// [`Response::CacheRefreshes`].
    CacheRefreshes {
        /// Cache name.
        name: String,
        /// At most this many (1–500).
        limit: u32,
    },
    /// Refreshes several caches (all when `names` is empty) from one PostgreSQL snapshot in
    /// one lake commit that records the source's LSN → [`Response::SnapshotCaches`].
    SnapshotCaches {
        /// Cache names.
        names: Vec<String>,
    },
    /// A page of the lake's snapshots, newest first → [`Response::Snapshots`].
    Snapshots {
        /// Page size (1–`SNAPSHOTS_PAGE_MAX`, 500).
        limit: u32,
        /// Only snapshots with ids below this one (the next page); the newest when `null`.
        before: Option<i64>,
    },
    /// What one snapshot changed, table by table → [`Response::SnapshotChanges`].
    SnapshotChanges {
        /// `snapshot_id`.
        id: i64,
    },
    /// The lake's tables at its current snapshot → [`Response::LakeTables`].
    LakeTables,
    /// What changed in a table between two snapshots: counts, schema, a page of rows →
    /// [`Response::SnapshotDiff`].
    SnapshotDiff(DiffRequest),
    /// A table as of two snapshots (the second the current one when `to` is `null`), every
    /// row aligned by key beside its other version, one page of lines →
    /// [`Response::SnapshotSideBySide`].
    SnapshotSideBySide(SideBySideRequest),
    /// The lake's newest snapshots as timeline marks, oldest first, each with its kind and the
    /// tables it touched → [`Response::Timeline`].
    Timeline {
        /// At most this many (1–20,000).
        limit: u32,
    },
    /// A table's rows, files and bytes at each of its newest snapshots that changed it →
    /// [`Response::TableHistory`].
    TableHistory {
        /// `table` (schema `main`) or `schema.table`.
        table: String,
        /// At most this many points (1–1000).
        limit: u32,
    },
    /// The lake's bookmarks (named snapshots) → [`Response::Bookmarks`].
    Bookmarks,
    /// Names a snapshot, in one lake commit → [`Response::SetBookmark`].
    SetBookmark {
        /// A letter, then letters, digits, `_` or `-` (at most 63).
        name: String,
        /// The snapshot id.
        version: i64,
    },
    /// Deletes a bookmark (the snapshot stays), in one lake commit → [`Response::DeleteBookmark`].
    DeleteBookmark {
        /// The name.
        name: String,
    },
    /// What restoring a table to a snapshot would apply (the diff from now to it) →
    /// [`Response::PreviewRestore`].
    PreviewRestore {
        /// `table` (schema `main`) or `schema.table`.
        table: String,
        /// The snapshot to restore it to.
        version: i64,
        /// Rows of the diff to return (1–1000).
        limit: u32,
    },
    /// Restores a table to a snapshot in one commit, if it has not changed since the preview
    /// taken at `previewed` (else `Conflict`) → [`Response::Restore`].
    Restore {
        /// As previewed.
        table: String,
        /// As previewed.
        version: i64,
        /// The preview's `current` snapshot.
        previewed: i64,
    },
    /// A page of a table's rows as of a snapshot or a timestamp → [`Response::TimeTravel`].
    TimeTravel {
        /// `table` (schema `main`) or `schema.table`.
        table: String,
        /// Where in history.
        at: At,
        /// Page size (1–`TIME_TRAVEL_PAGE_MAX`, 1000).
        limit: u32,
        /// Rows to skip.
        offset: u32,
    },
    /// One node's lag chart over the kept history, rendered by the backend (plotters) as
    /// PNG or SVG → [`Response::ExportLagChart`].
    ExportLagChart {
        /// Node name.
        node: String,
        /// PNG or SVG.
        format: ChartFormat,
    },
    /// What the lake holds and what maintenance could reclaim → [`Response::LakeStats`].
    LakeStats,
    /// Dry run of `ducklake_expire_snapshots`: the snapshots that would go →
    /// [`Response::PreviewExpire`].
    PreviewExpire {
        /// Older than an instant, or chosen ids.
        target: ExpireTarget,
    },
    /// Expires exactly these snapshots (the ids a preview listed) as a background job →
    /// [`Response::ExpireSnapshots`]. Time travel to them stops working.
    ExpireSnapshots {
        /// Snapshot ids.
        versions: Vec<i64>,
    },
    /// Dry run of a file cleanup: the files that would be deleted, with sizes →
    /// [`Response::PreviewDeleteFiles`].
    PreviewDeleteFiles {
        /// Orphaned files (`ducklake_delete_orphaned_files`) rather than files scheduled for
        /// deletion by expired snapshots (`ducklake_cleanup_old_files`).
        orphaned: bool,
    },
    /// Deletes those files as a background job → [`Response::DeleteFiles`].
    DeleteFiles {
        /// As in the preview.
        orphaned: bool,
    },
    /// Each table's current data files, what a compaction works on →
    /// [`Response::PreviewCompaction`].
    PreviewCompaction,
    /// Runs a compaction over the lake as a background job → [`Response::Compact`].
    Compact {
        /// Merge adjacent files, rewrite files with deletes, or flush inlined data.
        what: Compaction,
    },
    /// Maintenance jobs, newest first → [`Response::Jobs`].
    Jobs,
    /// The open profile and the recently opened ones → [`Response::Profiles`].
    Profiles,
    /// Opens a profile file, replacing the open one → [`Response::OpenProfile`].
    OpenProfile {
        /// Path of a profile TOML file.
        path: String,
    },
    /// Where a statement would go and why, without running it → [`Response::ExplainQuery`].
    ExplainQuery {
        /// One SQL statement (or several, which run together on the primary).
        sql: String,
        /// The routing session (affinity hint; keeps read-your-writes and session state
        /// across runs); none: a one-off.
        session: Option<String>,
    },
    /// Runs a statement where the router sends it → [`Response::RunQuery`].
    RunQuery {
        /// As in `explain_query`.
        sql: String,
        /// As in `explain_query`.
        session: Option<String>,
        /// Rows to return at most (1–`RUN_QUERY_MAX_ROWS`, 10,000).
        max_rows: u32,
    },
    /// Cancels the statement a routing session is running → [`Response::CancelQuery`]; the
    /// `run_query` then fails with code `Cancelled` (SQLSTATE 57014, "due to user request").
    CancelQuery {
        /// The routing session, as given to `run_query`.
        session: String,
    },
    /// The router's per-node counters and rotation → [`Response::Routing`].
    Routing,
    /// What the profile's role may do on each node, probed when the console opens and again
    /// whenever a node comes back → [`Response::Privileges`].
    Privileges,
    /// Pauses WAL replay on a replica (`pg_wal_replay_pause()`) → [`Response::PauseReplay`].
    /// Refused with code `PermissionDenied` and the probe's reason when the role may not.
    PauseReplay {
        /// Replica name.
        node: String,
    },
    /// Resumes WAL replay on a replica (`pg_wal_replay_resume()`) →
    /// [`Response::ResumeReplay`]. Refused like `pause_replay`.
    ResumeReplay {
        /// Replica name.
        node: String,
    },
    /// Every node's replication: WAL senders (sent, write, flush and replay LSNs and lags,
    /// sync state, reply time, the xmin held back), the WAL receiver (status, received vs
    /// replayed, last message times, upstream, a stall), slots (retained WAL, `wal_status`,
    /// headroom, inactive since), recovery conflicts and settings →
    /// [`Response::Replication`]. Also pushed as a `replication` event every tick.
    Replication,
    /// Drops a replication slot (`pg_drop_replication_slot()`) → [`Response::DropSlot`].
    /// Refused with `PermissionDenied` (the probe's reason) without superuser or
    /// `REPLICATION`, `Conflict` while the slot is active, `NotFound` for an unknown slot.
    DropSlot {
        /// Node the slot is on.
        node: String,
        /// `slot_name`.
        slot: String,
    },
    /// Active alerts, the kept history, the rules in force and how delivery is going →
    /// [`Response::Alerts`].
    Alerts,
    /// Acknowledges an active alert (it stays active until it clears, but is no longer
    /// news) → [`Response::AcknowledgeAlert`]; an `alert` event follows. `NotFound` when no
    /// active alert has that id.
    AcknowledgeAlert {
        /// The alert's id.
        id: u64,
    },
    /// Writes `rules` as the open profile's `[alerts]` table (the rest of the file as written)
    /// and reopens the profile with them → [`Response::SaveAlertRules`] (the new console's
    /// view); a `profile_opened` event follows. `InvalidInput` naming `alerts.KEY` for a value
    /// out of range (nothing written), or when the profile was not read from a file.
    SaveAlertRules {
        /// The rules, all of them.
        rules: skein_core::AlertRules,
    },
    /// Checks one node of a profile, or its lake, step by step (DNS, TCP, TLS, login,
    /// privileges, replication; for the lake the DuckLake catalog and the data path) →
    /// [`Response::Diagnose`]. Needs no open profile. Passwords given are stored in the OS
    /// keyring first, so the check logs in as the console will.
    Diagnose {
        /// The profile as the connection editor holds it (saved or not).
        profile: ProfileDraft,
        /// Node name; `null` for the lake.
        target: Option<String>,
        /// Passwords typed in the editor.
        passwords: Vec<NodePassword>,
    },
    /// A profile file as the connection editor shows it → [`Response::ProfileForEdit`].
    ProfileForEdit {
        /// Path of a profile TOML file; `null` for the open profile's file.
        path: Option<String>,
    },
    /// Writes a profile from the connection editor → [`Response::SaveProfile`]: validated
    /// with the profile loader first (nothing is written when it is invalid), an existing
    /// file edited in place (comments kept), passwords stored in the OS keyring (never in
    /// the file), the file added to the recent profiles and, with `open`, opened.
    SaveProfile {
        /// Absolute path of the profile file (`~/` is the home directory).
        path: String,
        /// The profile.
        profile: ProfileDraft,
        /// Passwords typed in the editor.
        passwords: Vec<NodePassword>,
        /// Open it once saved.
        open: bool,
    },
    /// Takes a libpq connection string (URL or `key=value`) apart into the editor's fields
    /// → [`Response::ParseConninfo`].
    ParseConninfo {
        /// The connection string.
        conninfo: String,
    },
}

/// The answer to a [`Request`], tagged with the same method name.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, strum::VariantNames, strum::IntoStaticStr,
)]
#[serde(tag = "method", content = "result", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Response {
    /// See [`Request::Overview`].
    Overview(Overview),
    /// See [`Request::LagHistory`].
    LagHistory(LagHistory),
    /// See [`Request::Caches`].
    Caches(Vec<CacheView>),
    /// See [`Request::RefreshCache`].
    RefreshCache(RefreshOutcome),
    /// See [`Request::CreateCache`].
    CreateCache(CacheDefinition),
    /// See [`Request::UpdateCache`].
    UpdateCache(CacheDefinition),
    /// See [`Request::DeleteCache`] (no result).
    DeleteCache,
    /// See [`Request::SetCachePaused`].
    SetCachePaused(CacheDefinition),
    /// See [`Request::SuggestMonitor`].
    SuggestMonitor(Vec<String>),
    /// See [`Request::SuggestKey`]: `null` when nothing can be proposed.
    SuggestKey(Option<KeySuggestion>),
    /// See [`Request::CacheRefreshes`].
    CacheRefreshes(Vec<RefreshRecord>),
    /// See [`Request::SnapshotCaches`].
    SnapshotCaches(CachesSnapshot),
    /// See [`Request::Snapshots`].
    Snapshots(SnapshotPage),
    /// See [`Request::SnapshotChanges`].
    SnapshotChanges(SnapshotChanges),
    /// See [`Request::LakeTables`].
    LakeTables(Vec<LakeTable>),
    /// See [`Request::SnapshotDiff`].
    SnapshotDiff(TableDiff),
    /// See [`Request::SnapshotSideBySide`].
    SnapshotSideBySide(SideBySide),
    /// See [`Request::Timeline`].
    Timeline(Timeline),
    /// See [`Request::TableHistory`].
    TableHistory(TableHistory),
    /// See [`Request::Bookmarks`].
    Bookmarks(Vec<Bookmark>),
    /// See [`Request::SetBookmark`].
    SetBookmark(Bookmark),
    /// See [`Request::DeleteBookmark`].
    DeleteBookmark,
    /// See [`Request::PreviewRestore`].
    PreviewRestore(RestorePreview),
    /// See [`Request::Restore`].
    Restore(RestoreResult),
    /// See [`Request::TimeTravel`].
    TimeTravel(TimeTravelPage),
    /// See [`Request::ExportLagChart`].
    ExportLagChart(ChartFile),
    /// See [`Request::LakeStats`].
    LakeStats(LakeStats),
    /// See [`Request::PreviewExpire`].
    PreviewExpire(Vec<Snapshot>),
    /// See [`Request::ExpireSnapshots`]: the job as started.
    ExpireSnapshots(Job),
    /// See [`Request::PreviewDeleteFiles`].
    PreviewDeleteFiles(Vec<LakeFile>),
    /// See [`Request::DeleteFiles`]: the job as started.
    DeleteFiles(Job),
    /// See [`Request::PreviewCompaction`].
    PreviewCompaction(Vec<TableFiles>),
    /// See [`Request::Compact`]: the job as started.
    Compact(Job),
    /// See [`Request::Jobs`].
    Jobs(Vec<Job>),
    /// See [`Request::Profiles`].
    Profiles(ProfileList),
    /// See [`Request::OpenProfile`].
    OpenProfile(ProfileList),
    /// See [`Request::ExplainQuery`].
    ExplainQuery(QueryRoute),
    /// See [`Request::RunQuery`].
    RunQuery(QueryResult),
    /// See [`Request::CancelQuery`]: the node the cancelled statement ran on; `null` when
    /// nothing was running.
    CancelQuery(Option<String>),
    /// See [`Request::Routing`].
    Routing(RoutingStats),
    /// See [`Request::Privileges`]: every node, primary first.
    Privileges(Vec<NodePrivileges>),
    /// See [`Request::PauseReplay`] (no result; the next `tick` shows it paused).
    PauseReplay,
    /// See [`Request::ResumeReplay`] (no result).
    ResumeReplay,
    /// See [`Request::Replication`].
    Replication(ReplicationReading),
    /// See [`Request::DropSlot`] (no result; a `replication` event without the slot follows).
    DropSlot,
    /// See [`Request::Alerts`].
    Alerts(AlertsView),
    /// See [`Request::AcknowledgeAlert`]: the alert after it.
    AcknowledgeAlert(Alert),
    /// See [`Request::SaveAlertRules`].
    SaveAlertRules(AlertsView),
    /// See [`Request::Diagnose`].
    Diagnose(Diagnosis),
    /// See [`Request::ProfileForEdit`].
    ProfileForEdit(Box<ProfileEdit>),
    /// See [`Request::SaveProfile`].
    SaveProfile(SaveOutcome),
    /// See [`Request::ParseConninfo`].
    ParseConninfo(ParsedConn),
}

impl Request {
    /// Every method name, as on the wire (`"overview"`, `"refresh_cache"`, …), in
    /// declaration order.
    pub const METHODS: &'static [&'static str] = <Request as strum::VariantNames>::VARIANTS;

    /// This request's method name, as on the wire.
    pub fn method(&self) -> &'static str {
        self.into()
    }
}

impl Response {
    /// Every method name a response answers, as on the wire, in declaration order: the same
    /// set as [`Request::METHODS`].
    pub const METHODS: &'static [&'static str] = <Response as strum::VariantNames>::VARIANTS;

    /// The method this response answers, as on the wire.
    pub fn method(&self) -> &'static str {
        self.into()
    }
}

/// One sampler tick, in one event so that a front end applies it at once: every place that
/// shows a lag, a rotation or an attention item shows this tick's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Tick {
    /// The lag sample of every node.
    pub lag: LagSample,
    /// The replication reading (as `replication` answers), when this tick took one: every
    /// tick when sampling once a second or slower, else once a second.
    pub replication: Option<ReplicationReading>,
    /// The router's counters and rotation after this sample.
    pub routing: RoutingStats,
    /// What needs attention, worst first, from this tick's sample, the newest replication
    /// reading and this rotation: the same list `overview` answers.
    pub attention: Vec<Attention>,
}

/// Something that happened, pushed to every subscriber. The sampler's readings come in one
/// `tick` event a sampling period (the profile's `[sampling] interval_ms`, 250 ms unless set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Event {
    /// A sampler tick: lag, replication (once a second), routing and attention.
    Tick(Box<Tick>),
    /// The caches' states, whenever one of them changed.
    Caches(Vec<CacheView>),
    /// A refresh began.
    RefreshStarted {
        /// Cache name.
        cache: String,
        /// Whether it was forced.
        force: bool,
    },
    /// A refresh ended (SKIPPED, REFRESHED or ERROR).
    RefreshFinished(RefreshOutcome),
    /// The lake's state changed (a new snapshot, or it became reachable or unreachable).
    Lake(LakeSummary),
    /// A maintenance job started, finished or failed.
    Job(Job),
    /// Another profile was opened; front ends reload everything.
    ProfileOpened(ProfileList),
    /// What the profile's role may do on each node, whenever a probe changed it (the console
    /// opened, a node came back).
    Privileges(Vec<NodePrivileges>),
    /// Every node's replication (as `replication` answers) after a slot was dropped (the
    /// sampler's readings come in `tick`).
    Replication(ReplicationReading),
    /// An alert fired, was acknowledged or cleared (judged once a tick, after `tick`).
    Alert(AlertChange),
    /// A delivery target's status changed (a webhook failing, or working again).
    Delivery(DeliveryStatus),
}

impl Event {
    /// The lag sample a `tick` carries.
    pub fn lag(&self) -> Option<&LagSample> {
        match self {
            Event::Tick(t) => Some(&t.lag),
            _ => None,
        }
    }

    /// The replication reading a `tick` or a `replication` event carries.
    pub fn replication(&self) -> Option<&ReplicationReading> {
        match self {
            Event::Tick(t) => t.replication.as_ref(),
            Event::Replication(r) => Some(r),
            _ => None,
        }
    }

    /// The attention list a `tick` carries.
    pub fn attention(&self) -> Option<&[Attention]> {
        match self {
            Event::Tick(t) => Some(&t.attention),
            _ => None,
        }
    }
}

pub use skein_lake::CacheSpec;

/// The profile, without secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ProfileInfo {
    /// Display name.
    pub name: String,
    /// The file it was read from.
    pub path: Option<String>,
    /// Nodes, primary first: name, role and `host:port/db` (no user, no password).
    pub nodes: Vec<NodeInfo>,
    /// The lake's DuckDB catalog name.
    pub lake_name: String,
    /// The lake's data path.
    pub lake_data_path: String,
    /// Lag thresholds, ms.
    pub thresholds: Thresholds,
}

/// One node as the profile names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NodeInfo {
    /// Name from the profile.
    pub name: String,
    /// Primary or replica.
    pub role: NodeRole,
    /// `host:port/dbname`.
    pub address: String,
}

/// The open profile and the recent ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ProfileList {
    /// The open profile; `null` before one is opened.
    pub current: Option<ProfileInfo>,
    /// Recently opened profile files, newest first.
    pub recent: Vec<String>,
}

/// The stack at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Overview {
    /// The open profile.
    pub profile: ProfileInfo,
    /// The newest lag sample (`null` until the first tick).
    pub lag: Option<LagSample>,
    /// The lake.
    pub lake: LakeSummary,
    /// Caches by state.
    pub caches: Vec<CacheView>,
    /// What needs attention, worst first.
    pub attention: Vec<Attention>,
    /// What the profile's role may do on each node, primary first.
    pub privileges: Vec<NodePrivileges>,
}

/// What the profile's role may do on one node ([`skein_pg::privileges::probe`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NodePrivileges {
    /// Node name.
    pub node: String,
    /// The probe's answer; `null` until the node answered one (down since the console
    /// opened, or the probe failed: see `error`).
    pub privileges: Option<Privileges>,
    /// Why the last probe failed; `null` when it answered.
    pub error: Option<ErrorInfo>,
    /// When the privileges were last read, ms since the Unix epoch.
    pub probed_at_ms: Option<u64>,
}

/// The lake's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct LakeSummary {
    /// Whether the lake's catalog answered.
    pub reachable: bool,
    /// Snapshots in the lake.
    pub snapshots: Option<u64>,
    /// The current snapshot.
    pub current_snapshot: Option<i64>,
    /// Why it is unreachable.
    pub error: Option<ErrorInfo>,
    /// The object store of an `s3://…` data path, with its health; `null` for a directory.
    #[serde(default)]
    pub store: Option<StoreView>,
    /// Other writers active on the lake: everyone but this console who committed in the last
    /// [`crate::watcher::WRITERS_WINDOW_SECS`] seconds (other consoles, CLIs, other tools),
    /// newest first (`Lake::writers`, from `snapshots()`). Kept from the last read while the
    /// lake is unreachable.
    #[serde(default)]
    pub writers: Vec<skein_lake::WriterActivity>,
}

/// The lake's object store as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StoreView {
    /// `host:port`, or `AWS S3`.
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
    /// The key prefix of the data path.
    pub prefix: String,
    /// Where the credentials come from (never the secret).
    pub credentials: String,
    /// From `[lake.storage] health_url`; `null` when none is set.
    pub health: Option<StoreHealth>,
    /// What the health endpoint said (its first line, or why it did not answer).
    pub health_detail: Option<String>,
}

/// The store's health endpoint's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StoreHealth {
    /// 200, every node up.
    Healthy,
    /// 200, but a node is unavailable: reads and writes go on while a quorum answers.
    Degraded,
    /// Not 200, or no answer.
    Unavailable,
}

/// How bad an attention item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Out of rotation, down, promoted, a failed refresh: data known to be wrong or missing.
    Critical,
    /// Lagging past warning; a cache stale, edited, never refreshed or of unknown state.
    Warning,
    /// Worth knowing, nothing wrong: a cache past its TTL whose sources are unchanged.
    Info,
}

/// One thing that needs attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Attention {
    /// Critical or warning.
    pub severity: Severity,
    /// What it is about (`replica2`, `cache pricing_summary`, `lake`).
    pub subject: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// A cache as the console sees it: its stored status plus what this console is doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CacheView {
    /// Definition, last refresh and state (from the lake and a fingerprint on the primary).
    pub status: CacheStatus,
    /// When the console first saw it in its current stale, edited or expired state (ms since
    /// the Unix epoch).
    pub stale_since_ms: Option<u64>,
    /// A refresh is running.
    pub refreshing: bool,
    /// The last refresh this console ran (SKIPPED, REFRESHED or ERROR).
    pub last_outcome: Option<RefreshOutcome>,
    /// When the scheduler looks at it next (ms since the Unix epoch): caches with a TTL that
    /// are not paused. It refreshes them then if their sources changed.
    pub next_run_ms: Option<u64>,
}

/// Lag history, one series per node, in columns (ready for a chart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LagHistory {
    /// The profile's thresholds, ms.
    pub thresholds: Thresholds,
    /// Seconds of history kept.
    pub retention_s: u64,
    /// The newest seconds kept at full resolution (every sample); before them, one point a
    /// second (the sample of each second with the greatest replay lag, an unknown lag
    /// counting as the greatest; its time the second's start).
    pub full_resolution_s: u64,
    /// The sampling period, ms (the profile's `[sampling] interval_ms`, unless the console was
    /// opened with another).
    pub interval_ms: u64,
    /// One series per node, primary first.
    pub nodes: Vec<NodeSeries>,
}

/// One node's lag history. The vectors have the same length, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NodeSeries {
    /// Node name.
    pub name: String,
    /// Primary or replica.
    pub role: NodeRole,
    /// Sample times, ms since the Unix epoch.
    pub t_ms: Vec<u64>,
    /// Replay lag, ms (`null` when unknown: the node or the primary did not answer).
    pub replay_lag_ms: Vec<Option<u64>>,
    /// Bytes of WAL behind the primary.
    pub lag_bytes: Vec<Option<u64>>,
    /// `pg_stat_replication.write_lag` (WAL written on the replica: the network), ms; `null`
    /// when unknown (and for samples read back from disk, which keep replay lag only).
    pub write_lag_ms: Vec<Option<u64>>,
    /// `pg_stat_replication.flush_lag` (WAL flushed on the replica: network and fsync), ms.
    pub flush_lag_ms: Vec<Option<u64>>,
    /// Cumulative recovery conflicts (`pg_stat_database_conflicts`, all causes) at each
    /// sample; the difference of two points is the conflicts between them.
    pub conflicts: Vec<Option<i64>>,
    /// State at each sample.
    pub state: Vec<ReplicaState>,
}

/// A page of snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SnapshotPage {
    /// Newest first.
    pub snapshots: Vec<Snapshot>,
    /// Snapshots in the lake.
    pub total: u64,
    /// `before` for the next page; `null` on the last page.
    pub next_before: Option<i64>,
}

/// A page of a table as of a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TimeTravelPage {
    /// `schema.table` as asked.
    pub table: String,
    /// The snapshot the read resolved to.
    pub snapshot: SnapshotRef,
    /// Whether that snapshot is the current one.
    pub latest: bool,
    /// The table's columns and types at that snapshot (its schema then).
    pub schema: Vec<Column>,
    /// Columns, rows and the exact row count at that snapshot.
    pub rows: TableRows,
    /// Rows skipped.
    pub offset: u32,
    /// How the request resolved when a person should know (a timestamp after the newest
    /// snapshot reads the newest); `null` otherwise.
    pub note: Option<String>,
}

/// A password typed in the connection editor, for the OS keyring (never written to a file;
/// its `Debug` does not show it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NodePassword {
    /// Node name, `lake` for the lake's catalog, or `lake.storage` for the object store's
    /// secret key (stored as `s3:KEY_ID@ENDPOINT`).
    pub node: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for NodePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodePassword")
            .field("node", &self.node)
            .field("password", &"…")
            .finish()
    }
}

/// A profile file opened in the connection editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProfileEdit {
    /// The file.
    pub path: String,
    /// Its contents as the editor's fields.
    pub profile: ProfileDraft,
}

/// Why the editor's profile was not saved: the field at fault, as the profile loader names
/// it (`replicas[1].url`, `lake.data_path`), and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FieldProblem {
    /// Dotted path of the field.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// The answer to `save_profile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SaveOutcome {
    /// The file (absolute).
    pub path: String,
    /// Whether the file was written.
    pub saved: bool,
    /// Why it was not (nothing was written then).
    pub problem: Option<FieldProblem>,
    /// Why opening it failed, when asked to open it (the file is saved).
    pub open_error: Option<ErrorInfo>,
    /// The open profile and the recent ones, after saving.
    pub profiles: ProfileList,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The method names a TypeScript declaration of a `method`-tagged union lists.
    fn tagged_methods(decl: &str) -> Vec<String> {
        decl.split("\"method\": \"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_request_has_its_response_and_every_response_its_request() {
        let requests: BTreeSet<&str> = Request::METHODS.iter().copied().collect();
        let responses: BTreeSet<&str> = Response::METHODS.iter().copied().collect();
        let unanswered: Vec<&&str> = requests.difference(&responses).collect();
        let unasked: Vec<&&str> = responses.difference(&requests).collect();
        assert!(
            unanswered.is_empty(),
            "requests without a response of the same name: {unanswered:?}"
        );
        assert!(
            unasked.is_empty(),
            "responses without a request of the same name: {unasked:?}"
        );
        assert_eq!(requests.len(), Request::METHODS.len(), "a method twice");
        assert_eq!(Request::METHODS, Response::METHODS, "declared in one order");
    }

    #[test]
    fn method_names_are_the_names_on_the_wire() {
        let cfg = ts_rs::Config::new().with_large_int("number");
        assert_eq!(tagged_methods(&Request::decl(&cfg)), Request::METHODS);
        assert_eq!(tagged_methods(&Response::decl(&cfg)), Response::METHODS);
        let req = Request::RefreshCache {
            name: "c".into(),
            force: false,
        };
        let json = serde_json::to_value(&req).expect("serialises");
        assert_eq!(json["method"], req.method());
        assert_eq!(req.method(), "refresh_cache");
        assert_eq!(Response::DeleteCache.method(), "delete_cache");
        let back: Request = serde_json::from_value(serde_json::json!({"method": "overview"}))
            .expect("deserialises");
        assert_eq!(back.method(), "overview");
    }
}
