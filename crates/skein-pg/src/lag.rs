//! Replica lag, measured the way the field does:
//!
//! - bytes: the primary's `pg_current_wal_lsn()` minus the replica's
//!   `pg_last_wal_replay_lsn()` (or `pg_stat_replication.replay_lsn` when the replica itself
//!   cannot be asked), never below 0;
//! - time: `pg_stat_replication.replay_lag` on the primary; for a cascading replica (the
//!   primary has no WAL sender for it) the sum of the legs PostgreSQL measures on its path:
//!   the upstream's flush lag against the primary, then the upstream's `replay_lag` for it
//!   (see `cascade.rs`); only while the replica is behind and those are NULL,
//!   `now() − pg_last_xact_replay_timestamp()` on the replica (which counts the idle time
//!   before its last replayed commit). A caught-up replica (0 bytes behind) has 0 ms of lag,
//!   so an idle primary shows 0.
//!
//! - upstream: the node whose WAL sender feeds the replica. `pg_stat_replication` is read on
//!   every node, the replicas included, and the replica is matched by `application_name` (the
//!   profile's, else its `cluster_name`, else its name) to a sender on the primary first, else
//!   on another replica: a **cascading replica** streams from another replica, its upstream.
//!   Its state (streaming, catching up) and its write and flush lag come from that sender.
//!   Besides the lag against the primary (above, what routing uses), the lag against the
//!   upstream: bytes = the upstream's position minus the replica's replay LSN, where the
//!   position of an upstream replica is `max(pg_last_wal_receive_lsn(),
//!   pg_last_wal_replay_lsn())` on it (a cascading WAL sender sends what its node received and
//!   flushed, replayed or not) and the primary's is `pg_current_wal_lsn()`; time = the
//!   upstream's `pg_stat_replication.replay_lag` for it, 0 when 0 bytes behind. For a replica of
//!   the primary both equal the lag against the primary.
//!
//! - timeline: on a node out of recovery (the primary, or a promoted replica) the first 8 hex
//!   digits of `pg_walfile_name(pg_current_wal_lsn())`; on a replica
//!   `pg_stat_wal_receiver.received_tli` (NULL without `pg_read_all_stats`, which `pg_monitor`
//!   has), else `pg_control_checkpoint().timeline_id` (the last restartpoint's timeline). Read
//!   in the statement that reads the node's position (one round trip a node); these functions
//!   are executable by every role.
//!
//! Without `pg_read_all_stats` (which `pg_monitor` has) `pg_stat_replication` shows other roles'
//! WAL senders with a NULL state and NULL lags: the replica is then taken as streaming, its
//! write and flush lag are unknown (`None`), and its error (code `PermissionDenied`) says why.
//!
//! A promoted replica (configured as a replica, `pg_is_in_recovery()` false) has no lag: its
//! `lag_bytes` and `replay_lag_ms` are `None` (it no longer replays the primary's WAL) and its
//! level is critical. A replica in recovery on another timeline than the primary carries an
//! error that says so.
//!
//! - encryption: `pg_stat_ssl` for the probe's own backend (`pid = pg_backend_pid()`): the
//!   TLS version, cipher and key bits of the session Skein holds; `None` when it is plain TCP.
//!
//! One [`sample`] asks every node concurrently, each under its own timeout; a node that
//! does not answer is reported as down, with its error, and the others still report.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use skein_core::{ErrorInfo, Thresholds};

use crate::error::Error;
use crate::lsn::{parse_opt, Lsn};
use crate::node::{cached_one, cached_query, Cluster, Node};
use crate::replication::caught_up;

/// A node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    /// Read-write primary.
    Primary,
    /// Streaming replica (hot standby).
    Replica,
}

/// What a node is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaState {
    /// The primary: accepting writes.
    Primary,
    /// Streaming WAL from its upstream, the primary or another replica
    /// (`pg_stat_replication.state = 'streaming'` on that node).
    Streaming,
    /// Connected but still catching up (`state` is `startup`, `catchup` or `backup`).
    CatchingUp,
    /// WAL replay is paused (`pg_is_wal_replay_paused()`).
    Paused,
    /// Reachable, but no node (neither the primary nor another replica) lists a WAL sender
    /// for it.
    Disconnected,
    /// Configured as a replica but not in recovery (`pg_is_in_recovery()` is false): it was
    /// promoted, accepts writes, and is a second primary (split brain). Never in rotation.
    Promoted,
    /// Unreachable: the error says why.
    Down,
}

/// Where the replay lag stands against the profile's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum LagLevel {
    /// Below the warning threshold.
    Ok,
    /// At or past `lag_warning_ms`.
    Warning,
    /// At or past `lag_critical_ms`: out of rotation.
    Critical,
}

/// One node's reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct NodeStatus {
    /// Node name from the profile.
    pub name: String,
    /// Role as the profile says.
    pub role: NodeRole,
    /// Whether the node answered this sample.
    pub reachable: bool,
    /// What the node is doing.
    pub state: ReplicaState,
    /// Bytes of WAL the primary has written that this replica has not replayed (0 for the
    /// primary). `None` when it cannot be known (primary or replica unreachable).
    pub lag_bytes: Option<u64>,
    /// Replay lag in ms (see the module header for its source). `None` when unknown.
    pub replay_lag_ms: Option<u64>,
    /// `pg_stat_replication.write_lag` of the WAL sender that feeds it (on its upstream), ms;
    /// 0 when its `write_lsn` has reached the upstream's position (PostgreSQL keeps a stale
    /// figure, then NULL, after an idle catch-up), as [`crate::replication`] says. `None` when
    /// unknown (no sender, or hidden without `pg_monitor`).
    pub write_lag_ms: Option<u64>,
    /// `pg_stat_replication.flush_lag` of the same sender, ms; 0 when its `flush_lsn` has
    /// reached the upstream's position.
    pub flush_lag_ms: Option<u64>,
    /// A replica: the profile name of the node whose `pg_stat_replication` lists the WAL sender
    /// that feeds it: `primary`, or another replica when it cascades. `None` for the primary,
    /// and when no reachable node lists a sender for it.
    pub upstream: Option<String>,
    /// Bytes of WAL the upstream has that this replica has not replayed: the upstream's
    /// position (the primary's `pg_current_wal_lsn()`; an upstream replica's
    /// `max(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())`) minus this replica's
    /// `pg_last_wal_replay_lsn()`, never below 0. Equals `lag_bytes` when the upstream is the
    /// primary. `None` without an upstream or a replay LSN, or for a promoted node.
    pub upstream_lag_bytes: Option<u64>,
    /// `pg_stat_replication.replay_lag` on the upstream for this replica's WAL sender, ms; 0
    /// when `upstream_lag_bytes` is 0. `None` when unknown (no upstream, or the column is
    /// NULL or hidden).
    pub upstream_replay_lag_ms: Option<u64>,
    /// Primary: `pg_current_wal_lsn()`; replica: `pg_last_wal_replay_lsn()`.
    pub lsn: Option<Lsn>,
    /// Replica: `pg_last_wal_receive_lsn()`.
    pub receive_lsn: Option<Lsn>,
    /// Replica: `pg_last_xact_replay_timestamp()`, RFC 3339.
    pub last_replay_at: Option<String>,
    /// The timeline the node is on (see the module header for its source); `None` when it
    /// is down or the role may not ask.
    pub timeline_id: Option<u32>,
    /// The TLS session of Skein's connection to the node (`pg_stat_ssl`); `None` when the
    /// connection is not encrypted or the node is down.
    pub tls: Option<TlsSession>,
    /// Lag against the thresholds.
    pub level: LagLevel,
    /// Why the node is down or degraded.
    pub error: Option<ErrorInfo>,
}

/// An encrypted session, as `pg_stat_ssl` reports it for the connection's backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TlsSession {
    /// Protocol version (`TLSv1.3`).
    pub version: String,
    /// Cipher suite (`TLS_AES_256_GCM_SHA384`).
    pub cipher: String,
    /// Key bits of the cipher.
    pub bits: Option<i32>,
}

impl TlsSession {
    /// Reads columns `i`, `i+1`, `i+2` (`version`, `cipher`, `bits` of `pg_stat_ssl`, NULL when
    /// the session is not encrypted).
    fn from_row(row: &tokio_postgres::Row, i: usize) -> Option<TlsSession> {
        Some(TlsSession {
            version: row.get::<_, Option<String>>(i)?,
            cipher: row.get::<_, Option<String>>(i + 1).unwrap_or_default(),
            bits: row.get(i + 2),
        })
    }
}

/// One reading of the whole cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct LagSample {
    /// When the sample was taken, ms since the Unix epoch.
    pub taken_at_ms: u64,
    /// Every node, primary first.
    pub nodes: Vec<NodeStatus>,
}

impl LagSample {
    /// The reading of the named node.
    pub fn node(&self, name: &str) -> Option<&NodeStatus> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

/// A row of `pg_stat_replication`.
#[derive(Debug, Clone)]
struct SenderRow {
    state: String,
    replay_lsn: Option<Lsn>,
    write_lsn: Option<Lsn>,
    flush_lsn: Option<Lsn>,
    write_lag_ms: Option<u64>,
    flush_lag_ms: Option<u64>,
    replay_lag_ms: Option<u64>,
}

struct PrimaryReading {
    current: Lsn,
    tls: Option<TlsSession>,
    timeline_id: Option<u32>,
    senders: HashMap<String, SenderRow>,
}

struct ReplicaReading {
    /// This node's own WAL senders (replicas cascading from it), by `application_name`.
    senders: HashMap<String, SenderRow>,
    in_recovery: bool,
    paused: bool,
    replay: Option<Lsn>,
    receive: Option<Lsn>,
    last_replay_at: Option<String>,
    since_last_replay_ms: Option<u64>,
    cluster_name: String,
    timeline_id: Option<u32>,
    tls: Option<TlsSession>,
}

/// Two columns for the node's timeline, read in the statement that reads its position: in
/// recovery the timeline it receives (`pg_stat_wal_receiver.received_tli`), else the one of its
/// last restartpoint (`pg_control_checkpoint()`); out of recovery the WAL file name of its
/// current LSN (`pg_walfile_name()`), whose first 8 hex digits are the timeline.
macro_rules! timeline {
    () => {
        "CASE WHEN pg_is_in_recovery() THEN COALESCE((SELECT received_tli FROM pg_stat_wal_receiver), \
         (SELECT timeline_id FROM pg_control_checkpoint()))::int8 END, \
         CASE WHEN NOT pg_is_in_recovery() THEN pg_walfile_name(pg_current_wal_lsn()) END"
    };
}

const PRIMARY_SQL: &str =
    "SELECT pg_current_wal_lsn()::text, r.application_name, r.state, r.replay_lsn::text, \
     r.write_lsn::text, r.flush_lsn::text, \
     (extract(epoch FROM r.write_lag) * 1000)::int8, (extract(epoch FROM r.flush_lag) * 1000)::int8, \
     (extract(epoch FROM r.replay_lag) * 1000)::int8, t.version, t.cipher, t.bits, \
     pg_walfile_name(pg_current_wal_lsn()) \
     FROM (SELECT 1) one LEFT JOIN pg_stat_replication r ON true \
     LEFT JOIN pg_stat_ssl t ON t.pid = pg_backend_pid() AND t.ssl";

const REPLICA_SQL: &str = concat!(
    "SELECT pg_is_in_recovery(), \
     CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END, \
     pg_last_wal_replay_lsn()::text, pg_last_wal_receive_lsn()::text, \
     to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
     (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::int8, \
     current_setting('cluster_name'), t.version, t.cipher, t.bits, ",
    timeline!(),
    " FROM (SELECT 1) one LEFT JOIN pg_stat_ssl t ON t.pid = pg_backend_pid() AND t.ssl"
);

/// A replica's own WAL senders: the replicas that cascade from it.
const REPLICA_SENDERS_SQL: &str = "SELECT application_name, state, replay_lsn::text, \
     write_lsn::text, flush_lsn::text, \
     (extract(epoch FROM write_lag) * 1000)::int8, (extract(epoch FROM flush_lag) * 1000)::int8, \
     (extract(epoch FROM replay_lag) * 1000)::int8 FROM pg_stat_replication";

/// The timeline from [`timeline!`]'s two columns at `i`, `i + 1`.
fn timeline_at(row: &tokio_postgres::Row, i: usize) -> Option<u32> {
    match row.get::<_, Option<i64>>(i) {
        Some(v) => u32::try_from(v).ok(),
        None => timeline_of_walfile(row.get::<_, Option<String>>(i + 1)?.as_str()),
    }
}

/// The timeline in a WAL file name (`000000020000000000000004` → 2).
fn timeline_of_walfile(name: &str) -> Option<u32> {
    u32::from_str_radix(name.get(..8)?, 16).ok()
}

async fn read_primary(node: &Node) -> Result<PrimaryReading, Error> {
    let rows = node
        .with_client("reading pg_stat_replication", |c| async move {
            cached_query(&c, PRIMARY_SQL).await
        })
        .await?;
    let mut current = Lsn::default();
    let mut tls = None;
    let mut timeline_id = None;
    let mut senders = HashMap::new();
    for row in rows {
        current = parse_opt(row.get(0)).unwrap_or_default();
        tls = TlsSession::from_row(&row, 9);
        timeline_id = row
            .get::<_, Option<String>>(12)
            .and_then(|f| timeline_of_walfile(&f));
        if let Some((app, sender)) = sender_row(&row, 1) {
            senders.insert(app, sender);
        }
    }
    Ok(PrimaryReading {
        current,
        tls,
        timeline_id,
        senders,
    })
}

/// A WAL sender from columns `i` … `i+7`: `application_name`, `state`, `replay_lsn`,
/// `write_lsn`, `flush_lsn`, `write_lag`, `flush_lag`, `replay_lag` (ms); `None` for a row
/// without a sender.
fn sender_row(row: &tokio_postgres::Row, i: usize) -> Option<(String, SenderRow)> {
    let app: String = row.get::<_, Option<String>>(i)?;
    let ms = |j: usize| row.get::<_, Option<i64>>(i + j).map(|v| v.max(0) as u64);
    Some((
        app,
        SenderRow {
            state: row.get::<_, Option<String>>(i + 1).unwrap_or_default(),
            replay_lsn: parse_opt(row.get(i + 2)),
            write_lsn: parse_opt(row.get(i + 3)),
            flush_lsn: parse_opt(row.get(i + 4)),
            write_lag_ms: ms(5),
            flush_lag_ms: ms(6),
            replay_lag_ms: ms(7),
        },
    ))
}

async fn read_replica(node: &Node) -> Result<ReplicaReading, Error> {
    let (row, senders) = node
        .with_client("reading replay status", |c| async move {
            // Pipelined on one connection; a refused view of the senders leaves them empty.
            let (row, senders) = tokio::join!(
                cached_one(&c, REPLICA_SQL),
                cached_query(&c, REPLICA_SENDERS_SQL)
            );
            Ok((row?, senders.unwrap_or_default()))
        })
        .await?;
    let timeline_id = timeline_at(&row, 10);
    Ok(ReplicaReading {
        senders: senders.iter().filter_map(|r| sender_row(r, 0)).collect(),
        timeline_id,
        in_recovery: row.get(0),
        paused: row.get(1),
        replay: parse_opt(row.get(2)),
        receive: parse_opt(row.get(3)),
        last_replay_at: row.get(4),
        since_last_replay_ms: row.get::<_, Option<i64>>(5).map(|v| v.max(0) as u64),
        cluster_name: row.get(6),
        tls: TlsSession::from_row(&row, 7),
    })
}

fn level(thresholds: &Thresholds, replay_lag_ms: Option<u64>) -> LagLevel {
    match replay_lag_ms {
        Some(ms) if ms >= thresholds.lag_critical_ms => LagLevel::Critical,
        Some(ms) if ms >= thresholds.lag_warning_ms => LagLevel::Warning,
        _ => LagLevel::Ok,
    }
}

fn info(e: &Error) -> ErrorInfo {
    ErrorInfo {
        code: e.code(),
        message: e.to_string(),
    }
}

/// Samples every node of the cluster concurrently. Never fails as a whole: an unreachable
/// node is [`ReplicaState::Down`] with its error.
pub async fn sample(cluster: &Cluster) -> LagSample {
    let taken_at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let replica_reads = futures_util::future::join_all(cluster.replicas.iter().map(read_replica));
    let (primary, replicas) = tokio::join!(read_primary(&cluster.primary), replica_reads);

    let mut nodes = Vec::with_capacity(1 + cluster.replicas.len());
    nodes.push(match &primary {
        Ok(p) => NodeStatus {
            name: cluster.primary.name().into(),
            role: NodeRole::Primary,
            reachable: true,
            state: ReplicaState::Primary,
            lag_bytes: Some(0),
            replay_lag_ms: Some(0),
            write_lag_ms: None,
            flush_lag_ms: None,
            upstream: None,
            upstream_lag_bytes: None,
            upstream_replay_lag_ms: None,
            lsn: Some(p.current),
            receive_lsn: None,
            last_replay_at: None,
            timeline_id: p.timeline_id,
            tls: p.tls.clone(),
            level: LagLevel::Ok,
            error: None,
        },
        Err(e) => down(cluster.primary.name(), NodeRole::Primary, e),
    });

    for (node, reading) in cluster.replicas.iter().zip(&replicas) {
        let r = match reading {
            Ok(r) => r,
            Err(e) => {
                nodes.push(down(node.name(), NodeRole::Replica, e));
                continue;
            }
        };
        let app = node.spec.application_name.clone().unwrap_or_else(|| {
            if r.cluster_name.is_empty() {
                node.name().to_owned()
            } else {
                r.cluster_name.clone()
            }
        });
        let primary_sender = primary
            .as_ref()
            .ok()
            .and_then(|p| p.senders.get(&app).cloned());
        // The WAL sender that feeds it: the primary's, else one on another replica (it
        // cascades), with that node's name and WAL position.
        let feed = match (&primary, &primary_sender) {
            (Ok(p), Some(s)) => Some((cluster.primary.name(), s.clone(), Some(p.current))),
            _ => cluster
                .replicas
                .iter()
                .zip(&replicas)
                .filter(|(other, _)| other.name() != node.name())
                .find_map(|(other, reading)| {
                    let up = reading.as_ref().ok().filter(|u| u.in_recovery)?;
                    let s = up.senders.get(&app)?;
                    Some((other.name(), s.clone(), up.receive.max(up.replay)))
                }),
        };
        let sender = feed.as_ref().map(|(_, s, _)| s.clone());
        // Bytes between the feeding node's position and an LSN of its sender.
        let behind_feed = |lsn: Option<Lsn>| {
            let position = feed.as_ref().and_then(|(_, _, p)| *p);
            position.zip(lsn).map(|(p, l)| p.bytes_after(l))
        };
        let replay = r.replay.or(sender.as_ref().and_then(|s| s.replay_lsn));
        // A promoted node replays nothing: the distance to the primary's LSN is not a lag.
        let lag_bytes = match (&primary, replay) {
            (Ok(p), Some(replay)) if r.in_recovery => Some(p.current.bytes_after(replay)),
            _ => None,
        };
        // Against the primary: its WAL sender's replay_lag; a cascading replica has none there.
        let replay_lag_ms = match lag_bytes {
            _ if !r.in_recovery => None,
            Some(0) => Some(0),
            Some(_) => primary_sender
                .as_ref()
                .and_then(|s| s.replay_lag_ms)
                .or(r.since_last_replay_ms),
            None => primary_sender.as_ref().and_then(|s| s.replay_lag_ms),
        };
        let upstream_lag_bytes = match (&feed, replay) {
            (Some((_, _, Some(position))), Some(replay)) if r.in_recovery => {
                Some(position.bytes_after(replay))
            }
            _ => None,
        };
        let upstream_replay_lag_ms = match upstream_lag_bytes {
            _ if !r.in_recovery => None,
            Some(0) => Some(0),
            _ => sender.as_ref().and_then(|s| s.replay_lag_ms),
        };
        let upstream = feed.as_ref().map(|(name, _, _)| (*name).to_owned());
        let upstream_name = upstream.as_deref().unwrap_or("the primary");
        let primary_tli = primary.as_ref().ok().and_then(|p| p.timeline_id);
        let (state, error) = if !r.in_recovery {
            (
                ReplicaState::Promoted,
                Some(ErrorInfo {
                    code: skein_core::ErrorCode::Conflict,
                    message: format!(
                        "{} is not in recovery (pg_is_in_recovery() is false): it was promoted \
                         or is not a replica{}; it accepts writes",
                        node.name(),
                        r.timeline_id
                            .map(|t| format!(" and is on timeline {t}"))
                            .unwrap_or_default()
                    ),
                }),
            )
        } else if let Some((mine, theirs)) = r
            .timeline_id
            .zip(primary_tli)
            .filter(|(mine, theirs)| mine != theirs)
        {
            let state = if r.paused {
                ReplicaState::Paused
            } else if sender.as_ref().is_some_and(|s| s.state == "streaming") {
                ReplicaState::Streaming
            } else {
                ReplicaState::Disconnected
            };
            (
                state,
                Some(ErrorInfo {
                    code: skein_core::ErrorCode::Conflict,
                    message: format!(
                        "{} is on timeline {mine}, the primary on timeline {theirs}: it follows \
                         another history than the primary's",
                        node.name()
                    ),
                }),
            )
        } else if r.paused {
            (ReplicaState::Paused, None)
        } else {
            match sender.as_ref().map(|s| s.state.as_str()) {
                Some("streaming") => (ReplicaState::Streaming, None),
                // A WAL sender whose state reads NULL: pg_stat_replication hides the details
                // of other roles' senders without pg_read_all_stats.
                Some("") => (ReplicaState::Streaming, Some(ErrorInfo {
                    code: skein_core::ErrorCode::PermissionDenied,
                    message: format!(
                        "pg_stat_replication on {upstream_name} hides the state and the write, flush and replay lag \
                         of {}'s WAL sender from this role: grant it pg_monitor (or pg_read_all_stats); meanwhile \
                         its state is taken as streaming and its replay lag is now() − \
                         pg_last_xact_replay_timestamp() on the replica while it is behind",
                        node.name()
                    ),
                })),
                Some(_) => (ReplicaState::CatchingUp, None),
                None if primary.is_err() => (ReplicaState::Disconnected, None),
                None => (ReplicaState::Disconnected, Some(ErrorInfo {
                    code: skein_core::ErrorCode::NotFound,
                    message: format!(
                        "no node lists a WAL sender for application_name '{app}' in pg_stat_replication \
                         (neither the primary nor another replica of the profile); set application_name \
                         in the profile if the replica connects under another name"
                    ),
                })),
            }
        };
        nodes.push(NodeStatus {
            name: node.name().into(),
            role: NodeRole::Replica,
            reachable: true,
            state,
            lag_bytes,
            replay_lag_ms,
            write_lag_ms: sender
                .as_ref()
                .and_then(|s| caught_up(behind_feed(s.write_lsn), s.write_lag_ms)),
            flush_lag_ms: sender
                .as_ref()
                .and_then(|s| caught_up(behind_feed(s.flush_lsn), s.flush_lag_ms)),
            upstream,
            upstream_lag_bytes,
            upstream_replay_lag_ms,
            lsn: r.replay,
            receive_lsn: r.receive,
            last_replay_at: r.last_replay_at.clone(),
            timeline_id: r.timeline_id,
            tls: r.tls.clone(),
            level: if r.in_recovery {
                level(&cluster.thresholds, replay_lag_ms)
            } else {
                LagLevel::Critical
            },
            error,
        });
    }
    let primary_current = primary.as_ref().ok().map(|p| p.current);
    for i in crate::cascade::compose(&mut nodes, primary_current) {
        nodes[i].level = level(&cluster.thresholds, nodes[i].replay_lag_ms);
    }
    LagSample { taken_at_ms, nodes }
}

fn down(name: &str, role: NodeRole, e: &Error) -> NodeStatus {
    // Every sample of a node that is down says so; the console logs the change at warn.
    tracing::debug!(node = name, code = %e.code(), "lag probe failed: {e}");
    NodeStatus {
        name: name.into(),
        role,
        reachable: false,
        state: ReplicaState::Down,
        lag_bytes: None,
        replay_lag_ms: None,
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
        level: if role == NodeRole::Replica {
            LagLevel::Critical
        } else {
            LagLevel::Ok
        },
        error: Some(info(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_thresholds() {
        let t = Thresholds {
            lag_warning_ms: 100,
            lag_critical_ms: 1000,
            ..Default::default()
        };
        assert_eq!(level(&t, None), LagLevel::Ok);
        assert_eq!(level(&t, Some(99)), LagLevel::Ok);
        assert_eq!(level(&t, Some(100)), LagLevel::Warning);
        assert_eq!(level(&t, Some(1000)), LagLevel::Critical);
    }

    #[test]
    fn timelines_read_from_wal_file_names() {
        assert_eq!(timeline_of_walfile("000000010000000000000004"), Some(1));
        assert_eq!(timeline_of_walfile("0000000A0000000000000004"), Some(10));
        assert_eq!(timeline_of_walfile("0000"), None);
    }
}
