//! The replication pipeline beyond replay lag: what a DBA running read replicas reads before an
//! outage rather than after it. One [`read`] asks every node concurrently, each under its own
//! timeout, and reports per node:
//!
//! - **WAL senders** (`pg_stat_replication` on the node; the primary, or a replica that cascades):
//!   per sender its sent, write, flush and replay LSNs, each also as bytes behind the node's own
//!   position (`pg_current_wal_lsn()` on a primary, the received LSN on a replica), the write,
//!   flush and replay lags (`write_lag`, `flush_lag`, `replay_lag`, ms), `sync_state` and
//!   `sync_priority`, `reply_time` and its age, and the age (in transactions, `age(backend_xmin)`)
//!   of the xmin a `hot_standby_feedback` replica holds back on it;
//! - **the WAL receiver** (`pg_stat_wal_receiver`, replicas): status, received (written and
//!   flushed) and replayed LSNs, the last message's send and receipt times, the slot it streams
//!   through, the upstream's host and port and its connection string without secrets. A receiver
//!   that says `streaming` while nothing arrived for [`ReplicationOptions::stall_after`] although
//!   the primary has WAL it has not received is flagged as stalled;
//! - **replication slots** (`pg_replication_slots`, every node): physical or logical, active or
//!   not (and which WAL sender uses it), `wal_status`, `safe_wal_size` (the headroom left against
//!   `max_slot_wal_keep_size`, bytes), the WAL it retains (the node's position minus
//!   `restart_lsn`, bytes), the ages of its `xmin` and `catalog_xmin`;
//! - **recovery conflicts** (`pg_stat_database_conflicts`, replicas): the cumulative counts of
//!   queries cancelled for each cause, summed over databases; rates are the difference of two
//!   readings;
//! - **settings**: `hot_standby_feedback`, `max_standby_streaming_delay` (ms),
//!   `max_slot_wal_keep_size` and `wal_keep_size` (bytes), from `current_setting()`.
//!
//! Each view is asked in a statement of its own: one the role may not read leaves its part
//! empty and adds a note (code and message) that says what is missing and which privilege shows
//! it; the node is not down for it. Without `pg_read_all_stats` (which `pg_monitor` has)
//! PostgreSQL shows other roles' senders and receivers with NULL columns: that is noted too.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use skein_core::{ErrorCode, ErrorInfo};

use crate::error::Error;
use crate::lag::NodeRole;
use crate::lsn::{parse_opt, Lsn};
use crate::node::{cached_one, cached_opt, cached_query, Cluster, Node};

/// How a reading judges what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicationOptions {
    /// A streaming WAL receiver that received nothing for this long while its primary has WAL
    /// it has not received is stalled.
    pub stall_after: Duration,
}

impl Default for ReplicationOptions {
    fn default() -> Self {
        ReplicationOptions {
            stall_after: Duration::from_secs(10),
        }
    }
}

/// One reading of every node's replication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ReplicationReading {
    /// When it was taken, ms since the Unix epoch.
    pub taken_at_ms: u64,
    /// Every node, primary first, in profile order.
    pub nodes: Vec<NodeReplication>,
}

impl ReplicationReading {
    /// The named node's part.
    pub fn node(&self, name: &str) -> Option<&NodeReplication> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// Every slot of every node, with the node's name.
    pub fn slots(&self) -> impl Iterator<Item = (&str, &Slot)> {
        self.nodes
            .iter()
            .flat_map(|n| n.slots.iter().map(move |s| (n.name.as_str(), s)))
    }

    /// The primary's WAL sender for a replica (`application_name` as the lag probe matches it).
    pub fn sender_for(&self, application_name: &str) -> Option<&WalSender> {
        self.nodes
            .iter()
            .find(|n| n.role == NodeRole::Primary)?
            .senders
            .iter()
            .find(|s| s.application_name == application_name)
    }
}

/// One node's replication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct NodeReplication {
    /// Node name from the profile.
    pub name: String,
    /// Role as the profile says.
    pub role: NodeRole,
    /// Whether the node answered.
    pub reachable: bool,
    /// `pg_is_in_recovery()`; `None` when down.
    pub in_recovery: Option<bool>,
    /// The node's WAL position: `pg_current_wal_lsn()` out of recovery, else
    /// `pg_last_wal_receive_lsn()` (or the replay LSN when nothing was received).
    pub position: Option<Lsn>,
    /// Out of recovery: `pg_current_wal_flush_lsn()`, the WAL senders may send up to it.
    pub flush_position: Option<Lsn>,
    /// `pg_last_wal_replay_lsn()` on a replica.
    pub replay_lsn: Option<Lsn>,
    /// `pg_stat_replication` on this node, by `application_name`.
    pub senders: Vec<WalSender>,
    /// A replica: the WAL sender that feeds it, matched by `application_name` (the profile's,
    /// else the replica's `cluster_name`, else its name) as the lag probe matches it, among the
    /// primary's senders first, else another replica's (a cascading replica); `None` when no
    /// reachable node lists one. Its byte lags are against that node's position.
    pub upstream_sender: Option<WalSender>,
    /// A replica: the profile name of the node whose `pg_stat_replication` lists
    /// `upstream_sender` (`primary`, or the replica it cascades from); `None` with no sender.
    pub upstream: Option<String>,
    /// `pg_stat_wal_receiver` on a replica; `None` when no receiver runs (or it is hidden:
    /// see `notes`).
    pub receiver: Option<WalReceiver>,
    /// `pg_replication_slots` on this node, by name.
    pub slots: Vec<Slot>,
    /// `pg_stat_database_conflicts` summed, on a replica.
    pub conflicts: Option<Conflicts>,
    /// The settings that shape replication on this node.
    pub settings: Option<ReplicationSettings>,
    /// What could not be read and why (a view the role may not read, NULL columns).
    pub notes: Vec<ErrorInfo>,
    /// Why the node is down.
    pub error: Option<ErrorInfo>,
}

/// A row of `pg_stat_replication`: one WAL sender and the standby it feeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct WalSender {
    /// The sender's backend pid.
    pub pid: i32,
    /// `application_name` of the standby (its `cluster_name` by default).
    pub application_name: String,
    /// The standby's address (`client_addr`); `None` over a Unix socket.
    pub client_addr: Option<String>,
    /// `startup`, `catchup`, `streaming`, `backup` or `stopping`; `None` when hidden.
    pub state: Option<String>,
    /// Last WAL position sent.
    pub sent_lsn: Option<Lsn>,
    /// Last position the standby wrote to disk.
    pub write_lsn: Option<Lsn>,
    /// Last position the standby flushed to disk.
    pub flush_lsn: Option<Lsn>,
    /// Last position the standby replayed.
    pub replay_lsn: Option<Lsn>,
    /// Bytes between the node's position and `sent_lsn` (not yet sent).
    pub sent_lag_bytes: Option<u64>,
    /// Bytes between the node's position and `write_lsn`.
    pub write_lag_bytes: Option<u64>,
    /// Bytes between the node's position and `flush_lsn`.
    pub flush_lag_bytes: Option<u64>,
    /// Bytes between the node's position and `replay_lsn`.
    pub replay_lag_bytes: Option<u64>,
    /// `write_lag`, ms; 0 when `write_lag_bytes` is 0 (caught up at that step: PostgreSQL
    /// keeps the last measured lag for a while after an idle catch-up, or shows NULL).
    pub write_lag_ms: Option<u64>,
    /// `flush_lag`, ms; 0 when `flush_lag_bytes` is 0.
    pub flush_lag_ms: Option<u64>,
    /// `replay_lag`, ms; 0 when `replay_lag_bytes` is 0.
    pub replay_lag_ms: Option<u64>,
    /// `async`, `potential`, `sync` or `quorum`.
    pub sync_state: Option<String>,
    /// `sync_priority` (0 for an asynchronous standby).
    pub sync_priority: Option<i32>,
    /// `reply_time`: when the standby last sent a status message, RFC 3339 UTC.
    pub reply_time: Option<String>,
    /// `now() − reply_time`, ms.
    pub reply_age_ms: Option<u64>,
    /// `age(backend_xmin)`: how many transactions old the xmin this standby holds back on the
    /// node is (`hot_standby_feedback`); `None` when it holds none.
    pub backend_xmin_age: Option<i64>,
}

/// The row of `pg_stat_wal_receiver`: the replica's side of the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct WalReceiver {
    /// `streaming`, `starting`, `waiting`, `restarting`, `stopping`; `None` when hidden.
    pub status: Option<String>,
    /// First position received when the receiver started.
    pub receive_start_lsn: Option<Lsn>,
    /// Last position received and written to disk.
    pub written_lsn: Option<Lsn>,
    /// Last position received and flushed to disk.
    pub flushed_lsn: Option<Lsn>,
    /// Last position the upstream reported in a keepalive or data message.
    pub latest_end_lsn: Option<Lsn>,
    /// Timeline of `flushed_lsn`.
    pub received_tli: Option<u32>,
    /// When the upstream sent its last message, RFC 3339 UTC.
    pub last_msg_send_time: Option<String>,
    /// When the last message arrived, RFC 3339 UTC.
    pub last_msg_receipt_time: Option<String>,
    /// `now() − last_msg_receipt_time`, ms.
    pub receipt_age_ms: Option<u64>,
    /// The slot it streams through (`primary_slot_name`), if any.
    pub slot_name: Option<String>,
    /// The upstream's host (`sender_host`).
    pub sender_host: Option<String>,
    /// The upstream's port (`sender_port`).
    pub sender_port: Option<i32>,
    /// `conninfo` with `password` and `sslpassword` removed.
    pub conninfo: Option<String>,
    /// Why the receiver is judged stalled: it says `streaming`, yet received nothing for
    /// [`ReplicationOptions::stall_after`] while the primary has WAL it has not received.
    /// `None` when it is not.
    pub stalled: Option<String>,
}

/// A row of `pg_replication_slots`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Slot {
    /// `slot_name`.
    pub name: String,
    /// `physical` or `logical`.
    pub slot_type: String,
    /// Output plugin of a logical slot.
    pub plugin: Option<String>,
    /// Database of a logical slot.
    pub database: Option<String>,
    /// A temporary slot (dropped with its session).
    pub temporary: bool,
    /// Someone streams from it now.
    pub active: bool,
    /// The backend using it.
    pub active_pid: Option<i32>,
    /// The WAL sender's `application_name` when a sender on this node uses it.
    pub used_by: Option<String>,
    /// `reserved`, `extended`, `unreserved` or `lost`; `None` for a slot that never reserved WAL.
    pub wal_status: Option<String>,
    /// `safe_wal_size`: bytes that can still be written before the slot's WAL is at risk;
    /// `None` when `max_slot_wal_keep_size` is -1 (unlimited) or the slot is lost.
    pub safe_wal_size: Option<i64>,
    /// `restart_lsn`: the oldest WAL the slot needs.
    pub restart_lsn: Option<Lsn>,
    /// `confirmed_flush_lsn` of a logical slot.
    pub confirmed_flush_lsn: Option<Lsn>,
    /// WAL kept for the slot: the node's position minus `restart_lsn`, bytes.
    pub retained_bytes: Option<u64>,
    /// `age(xmin)`, transactions.
    pub xmin_age: Option<i64>,
    /// `age(catalog_xmin)`, transactions.
    pub catalog_xmin_age: Option<i64>,
    /// Since when the slot has been inactive, ms since the Unix epoch. PostgreSQL 15 keeps no
    /// such time, so the console fills in when it first saw it inactive; `None` from [`read`].
    pub inactive_since_ms: Option<u64>,
}

/// `pg_stat_database_conflicts`, summed over databases: queries on the standby cancelled by
/// recovery, per cause, since the statistics were last reset.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct Conflicts {
    /// `confl_snapshot`: the rows a query could still see were removed (vacuum on the primary).
    pub snapshot: i64,
    /// `confl_lock`: a lock the replayed WAL needed.
    pub lock: i64,
    /// `confl_bufferpin`: a pinned buffer.
    pub bufferpin: i64,
    /// `confl_deadlock`.
    pub deadlock: i64,
    /// `confl_tablespace`: a dropped tablespace.
    pub tablespace: i64,
    /// Conflicts a minute (all causes) over the last minute of readings: the difference of two
    /// readings, so the console fills it in; `None` from [`read`] and until two readings
    /// a few seconds apart exist.
    pub per_minute: Option<f64>,
}

impl Conflicts {
    /// All causes together.
    pub fn total(&self) -> i64 {
        self.snapshot + self.lock + self.bufferpin + self.deadlock + self.tablespace
    }
}

/// The settings that shape replication, from `current_setting()`, in ms and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ReplicationSettings {
    /// `hot_standby_feedback`: the replica reports its oldest snapshot, holding the primary's
    /// vacuum back instead of having its queries cancelled.
    pub hot_standby_feedback: bool,
    /// `max_standby_streaming_delay`, ms; -1 waits forever.
    pub max_standby_streaming_delay_ms: i64,
    /// `max_slot_wal_keep_size`, bytes; -1: slots may retain WAL without limit.
    pub max_slot_wal_keep_size_bytes: i64,
    /// `wal_keep_size`, bytes.
    pub wal_keep_size_bytes: i64,
}

/// RFC 3339 UTC text of a `timestamptz` expression, for SQL.
macro_rules! rfc3339 {
    ($e:literal) => {
        concat!(
            "to_char(",
            $e,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        )
    };
}

/// The node's position and the settings that shape replication. Settings come from
/// `current_setting()` in their display units (`30s`, `256MB`, `-1`) turned into ms and bytes
/// in SQL (`interval` input, `pg_size_bytes`): scanning `pg_settings` instead costs about
/// 0.35 ms of server time per node, five times the rest of the statement.
const HEAD_SQL: &str = "SELECT pg_is_in_recovery(), \
     (CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) \
      ELSE pg_current_wal_lsn() END)::text, \
     (CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_flush_lsn() END)::text, \
     (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() END)::text, \
     current_setting('hot_standby_feedback')::bool, \
     CASE current_setting('max_standby_streaming_delay') WHEN '-1' THEN -1 \
      ELSE (extract(epoch FROM current_setting('max_standby_streaming_delay')::interval) * 1000)::int8 END, \
     pg_size_bytes(current_setting('max_slot_wal_keep_size')), \
     pg_size_bytes(current_setting('wal_keep_size')), \
     current_setting('cluster_name')";

const SENDERS_SQL: &str = concat!(
    "SELECT pid, application_name, host(client_addr), state, sent_lsn::text, write_lsn::text, \
     flush_lsn::text, replay_lsn::text, (extract(epoch FROM write_lag) * 1000)::int8, \
     (extract(epoch FROM flush_lag) * 1000)::int8, (extract(epoch FROM replay_lag) * 1000)::int8, \
     sync_state, sync_priority, ",
    rfc3339!("reply_time"),
    ", (extract(epoch FROM now() - reply_time) * 1000)::int8, age(backend_xmin)::int8 \
     FROM pg_stat_replication ORDER BY application_name, pid"
);

const RECEIVER_SQL: &str = concat!(
    "SELECT status, receive_start_lsn::text, written_lsn::text, flushed_lsn::text, \
     latest_end_lsn::text, received_tli::int8, ",
    rfc3339!("last_msg_send_time"),
    ", ",
    rfc3339!("last_msg_receipt_time"),
    ", (extract(epoch FROM now() - last_msg_receipt_time) * 1000)::int8, slot_name::text, \
     sender_host, sender_port, conninfo FROM pg_stat_wal_receiver"
);

const SLOTS_SQL: &str =
    "SELECT slot_name::text, slot_type, plugin::text, database::text, temporary, \
     active, active_pid, wal_status, safe_wal_size, restart_lsn::text, confirmed_flush_lsn::text, \
     pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() \
       THEN coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) \
       ELSE pg_current_wal_lsn() END, restart_lsn)::int8, \
     age(xmin)::int8, age(catalog_xmin)::int8 FROM pg_replication_slots ORDER BY slot_name";

const CONFLICTS_SQL: &str = "SELECT coalesce(sum(confl_snapshot), 0)::int8, \
     coalesce(sum(confl_lock), 0)::int8, coalesce(sum(confl_bufferpin), 0)::int8, \
     coalesce(sum(confl_deadlock), 0)::int8, coalesce(sum(confl_tablespace), 0)::int8 \
     FROM pg_stat_database_conflicts";

fn ms(v: Option<i64>) -> Option<u64> {
    v.map(|v| v.max(0) as u64)
}

fn note(code: ErrorCode, message: String) -> ErrorInfo {
    ErrorInfo { code, message }
}

fn failed(node: &Node, what: &str, e: &tokio_postgres::Error) -> ErrorInfo {
    let e = Error::from_pg(node.name(), &node.addr, what, e);
    note(e.code(), e.to_string())
}

/// Removes `password` and `sslpassword` from a `key=value` connection string (PostgreSQL
/// already masks the password as `********`; the key is dropped so no form of it is shown).
pub fn without_secrets(conninfo: &str) -> String {
    let mut out = Vec::new();
    let mut rest = conninfo.trim();
    while !rest.is_empty() {
        // key = value, where value may be 'quoted' with \' escapes.
        let (key, after) = match rest.split_once('=') {
            Some((k, a)) => (k.trim(), a.trim_start()),
            None => break,
        };
        let (value, next) = if let Some(q) = after.strip_prefix('\'') {
            let mut end = q.len();
            let mut escaped = false;
            for (i, ch) in q.char_indices() {
                match ch {
                    '\\' if !escaped => escaped = true,
                    '\'' if !escaped => {
                        end = i;
                        break;
                    }
                    _ => escaped = false,
                }
            }
            (
                &after[..(end + 2).min(after.len())],
                q.get(end + 1..).unwrap_or(""),
            )
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        if !matches!(key, "password" | "sslpassword") {
            out.push(format!("{key}={value}"));
        }
        rest = next.trim_start();
    }
    out.join(" ")
}

type Part<T> = Result<T, ErrorInfo>;

struct Raw {
    /// [`HEAD_SQL`]'s row: without it the node counts as failed.
    head: tokio_postgres::Row,
    senders: Part<Vec<tokio_postgres::Row>>,
    receiver: Option<Part<Option<tokio_postgres::Row>>>,
    slots: Part<Vec<tokio_postgres::Row>>,
    conflicts: Option<Part<tokio_postgres::Row>>,
}

async fn read_node(node: &Node) -> Result<Raw, Error> {
    let replica = node.role == NodeRole::Replica;
    node.with_client("reading replication views", |c| async move {
        // Pipelined on one connection; each statement fails on its own.
        let (head, senders, slots, receiver, conflicts) = tokio::join!(
            cached_one(&c, HEAD_SQL),
            cached_query(&c, SENDERS_SQL),
            cached_query(&c, SLOTS_SQL),
            async {
                if replica {
                    Some(cached_opt(&c, RECEIVER_SQL).await)
                } else {
                    None
                }
            },
            async {
                if replica {
                    Some(cached_one(&c, CONFLICTS_SQL).await)
                } else {
                    None
                }
            },
        );
        // A lost connection fails the node; a refused statement is noted.
        let head = head?;
        let f = |what: &str, e: tokio_postgres::Error| failed(node, what, &e);
        Ok(Raw {
            head,
            senders: senders.map_err(|e| f("reading pg_stat_replication", e)),
            receiver: receiver.map(|r| r.map_err(|e| f("reading pg_stat_wal_receiver", e))),
            slots: slots.map_err(|e| f("reading pg_replication_slots", e)),
            conflicts: conflicts.map(|r| r.map_err(|e| f("reading pg_stat_database_conflicts", e))),
        })
    })
    .await
}

/// A lag of 0 ms when nothing is behind at that step, else PostgreSQL's figure.
pub(crate) fn caught_up(bytes_behind: Option<u64>, lag_ms: Option<u64>) -> Option<u64> {
    match bytes_behind {
        Some(0) => Some(0),
        _ => lag_ms,
    }
}

fn sender_of(row: &tokio_postgres::Row, position: Option<Lsn>) -> WalSender {
    let behind = |lsn: Option<Lsn>| position.zip(lsn).map(|(p, l)| p.bytes_after(l));
    let sent_lsn = parse_opt(row.get(4));
    let write_lsn = parse_opt(row.get(5));
    let flush_lsn = parse_opt(row.get(6));
    let replay_lsn = parse_opt(row.get(7));
    WalSender {
        pid: row.get(0),
        application_name: row.get::<_, Option<String>>(1).unwrap_or_default(),
        client_addr: row.get(2),
        state: row.get(3),
        sent_lsn,
        write_lsn,
        flush_lsn,
        replay_lsn,
        sent_lag_bytes: behind(sent_lsn),
        write_lag_bytes: behind(write_lsn),
        flush_lag_bytes: behind(flush_lsn),
        replay_lag_bytes: behind(replay_lsn),
        // Caught up at a step is 0 ms at that step, as for the lag probe's replay lag:
        // PostgreSQL keeps showing the last measured lag for a while after an idle catch-up.
        write_lag_ms: caught_up(behind(write_lsn), ms(row.get(8))),
        flush_lag_ms: caught_up(behind(flush_lsn), ms(row.get(9))),
        replay_lag_ms: caught_up(behind(replay_lsn), ms(row.get(10))),
        sync_state: row.get(11),
        sync_priority: row.get(12),
        reply_time: row.get(13),
        reply_age_ms: ms(row.get(14)),
        backend_xmin_age: row.get(15),
    }
}

fn receiver_of(row: &tokio_postgres::Row) -> WalReceiver {
    WalReceiver {
        status: row.get(0),
        receive_start_lsn: parse_opt(row.get(1)),
        written_lsn: parse_opt(row.get(2)),
        flushed_lsn: parse_opt(row.get(3)),
        latest_end_lsn: parse_opt(row.get(4)),
        received_tli: row
            .get::<_, Option<i64>>(5)
            .and_then(|v| u32::try_from(v).ok()),
        last_msg_send_time: row.get(6),
        last_msg_receipt_time: row.get(7),
        receipt_age_ms: ms(row.get(8)),
        slot_name: row.get(9),
        sender_host: row.get(10),
        sender_port: row.get(11),
        conninfo: row
            .get::<_, Option<String>>(12)
            .map(|c| without_secrets(&c)),
        stalled: None,
    }
}

fn slot_of(row: &tokio_postgres::Row, senders: &[WalSender]) -> Slot {
    let active_pid: Option<i32> = row.get(6);
    Slot {
        name: row.get::<_, Option<String>>(0).unwrap_or_default(),
        slot_type: row.get::<_, Option<String>>(1).unwrap_or_default(),
        plugin: row.get(2),
        database: row.get(3),
        temporary: row.get::<_, Option<bool>>(4).unwrap_or(false),
        active: row.get::<_, Option<bool>>(5).unwrap_or(false),
        active_pid,
        used_by: active_pid.and_then(|pid| {
            senders
                .iter()
                .find(|s| s.pid == pid)
                .map(|s| s.application_name.clone())
        }),
        wal_status: row.get(7),
        safe_wal_size: row.get(8),
        restart_lsn: parse_opt(row.get(9)),
        confirmed_flush_lsn: parse_opt(row.get(10)),
        retained_bytes: ms(row.get(11)),
        xmin_age: row.get(12),
        catalog_xmin_age: row.get(13),
        inactive_since_ms: None,
    }
}

fn node_reading(node: &Node, raw: Result<Raw, Error>) -> NodeReplication {
    let mut out = NodeReplication {
        name: node.name().into(),
        role: node.role,
        reachable: false,
        in_recovery: None,
        position: None,
        flush_position: None,
        replay_lsn: None,
        senders: Vec::new(),
        upstream_sender: None,
        upstream: None,
        receiver: None,
        slots: Vec::new(),
        conflicts: None,
        settings: None,
        notes: Vec::new(),
        error: None,
    };
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => {
            out.error = Some(note(e.code(), e.to_string()));
            return out;
        }
    };
    out.reachable = true;
    let head = &raw.head;
    out.in_recovery = head.get(0);
    out.position = parse_opt(head.get(1));
    out.flush_position = parse_opt(head.get(2));
    out.replay_lsn = parse_opt(head.get(3));
    out.settings = Some(ReplicationSettings {
        hot_standby_feedback: head.get::<_, Option<bool>>(4).unwrap_or(false),
        max_standby_streaming_delay_ms: head.get::<_, Option<i64>>(5).unwrap_or(-1),
        max_slot_wal_keep_size_bytes: head.get::<_, Option<i64>>(6).unwrap_or(-1),
        wal_keep_size_bytes: head.get::<_, Option<i64>>(7).unwrap_or(0),
    });
    match raw.senders {
        Ok(rows) => {
            out.senders = rows.iter().map(|r| sender_of(r, out.position)).collect();
            let hidden: Vec<&str> = out
                .senders
                .iter()
                .filter(|s| s.state.is_none())
                .map(|s| s.application_name.as_str())
                .collect();
            if !hidden.is_empty() {
                out.notes.push(note(
                    ErrorCode::PermissionDenied,
                    format!(
                        "pg_stat_replication on {} hides the LSNs, lags and sync state of the WAL \
                         senders of other roles from this role ({}): grant it pg_monitor (or \
                         pg_read_all_stats)",
                        node.name(),
                        hidden.join(", ")
                    ),
                ));
            }
        }
        Err(e) => out.notes.push(e),
    }
    match raw.receiver {
        Some(Ok(Some(row))) => {
            let r = receiver_of(&row);
            if r.status.is_none() {
                out.notes.push(note(
                    ErrorCode::PermissionDenied,
                    format!(
                        "pg_stat_wal_receiver on {} hides the receiver's status and LSNs from this \
                         role: grant it pg_monitor (or pg_read_all_stats); the primary's side of \
                         the stream is shown instead",
                        node.name()
                    ),
                ));
            }
            out.receiver = Some(r);
        }
        Some(Ok(None)) => {}
        Some(Err(e)) => out.notes.push(e),
        None => {}
    }
    match raw.slots {
        Ok(rows) => out.slots = rows.iter().map(|r| slot_of(r, &out.senders)).collect(),
        Err(e) => out.notes.push(e),
    }
    match raw.conflicts {
        Some(Ok(row)) => {
            out.conflicts = Some(Conflicts {
                snapshot: row.get(0),
                lock: row.get(1),
                bufferpin: row.get(2),
                deadlock: row.get(3),
                tablespace: row.get(4),
                per_minute: None,
            })
        }
        Some(Err(e)) => out.notes.push(e),
        None => {}
    }
    out
}

/// Bytes for people, in IEC units as the UI's `bytes()` writes them (`ui/src/lib/format.ts`):
/// `512 B`, `3.2 MiB`, `124 MiB`, `1.5 GiB` (one decimal below 100).
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{b} B"),
        _ if v < 100.0 => format!("{v:.1} {}", UNITS[unit]),
        _ => format!("{} {}", v.round(), UNITS[unit]),
    }
}

/// Flags receivers that say `streaming` yet received nothing for `stall_after` while their
/// upstream has WAL beyond what they have written: the primary's flushed WAL, or for a
/// cascading replica the position of the replica it streams from (a starved cascade is not
/// stalled itself).
fn judge_stalls(nodes: &mut [NodeReplication], options: &ReplicationOptions) {
    let primary_flush = nodes
        .iter()
        .find(|n| n.role == NodeRole::Primary && n.in_recovery == Some(false))
        .and_then(|n| n.flush_position);
    let Some(primary_flush) = primary_flush else {
        return;
    };
    let positions: Vec<(String, Option<Lsn>)> =
        nodes.iter().map(|n| (n.name.clone(), n.position)).collect();
    let limit = options.stall_after.as_millis() as u64;
    for n in nodes.iter_mut().filter(|n| n.role == NodeRole::Replica) {
        let cascade = n
            .upstream
            .as_deref()
            .filter(|u| *u != positions[0].0)
            .and_then(|u| positions.iter().find(|(name, _)| name == u));
        let (upstream, available) = match cascade {
            Some((name, Some(position))) => (name.as_str(), *position),
            Some((_, None)) => continue,
            None => ("primary", primary_flush),
        };
        let Some(r) = n.receiver.as_mut() else {
            continue;
        };
        if r.status.as_deref() != Some("streaming") {
            continue;
        }
        let (Some(written), Some(age)) = (r.written_lsn, r.receipt_age_ms) else {
            continue;
        };
        let pending = available.bytes_after(written);
        if pending > 0 && age >= limit {
            let had = if cascade.is_some() {
                "received"
            } else {
                "flushed"
            };
            r.stalled = Some(format!(
                "the WAL receiver says streaming, but nothing arrived for {:.1} s while the \
                 {upstream} has {} of WAL it has not received (written up to {written}, the \
                 {upstream} {had} {available})",
                age as f64 / 1000.0,
                human_bytes(pending)
            ));
        }
    }
}

/// Reads every node's replication concurrently. Never fails as a whole: a node that does not
/// answer has `reachable: false` and its error; a view it may not read is a note.
pub async fn read(cluster: &Cluster, options: &ReplicationOptions) -> ReplicationReading {
    let taken_at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let nodes: Vec<&Node> = std::iter::once(&cluster.primary)
        .chain(&cluster.replicas)
        .collect();
    let raws = futures_util::future::join_all(nodes.iter().map(|n| read_node(n))).await;
    let mut names = Vec::with_capacity(nodes.len());
    let mut out: Vec<NodeReplication> = Vec::with_capacity(nodes.len());
    for (n, raw) in nodes.iter().zip(raws) {
        let cluster_name: Option<String> = raw
            .as_ref()
            .ok()
            .and_then(|r| r.head.get::<_, Option<String>>(8))
            .filter(|c| !c.is_empty());
        names.push(
            n.spec
                .application_name
                .clone()
                .or(cluster_name)
                .unwrap_or_else(|| n.name().to_owned()),
        );
        out.push(node_reading(n, raw));
    }
    // Every node after the primary (first) is a replica. Its sender: the primary's first,
    // else one of another replica still in recovery (a cascading replica).
    let feeds: Vec<Option<(String, WalSender)>> = names
        .iter()
        .enumerate()
        .map(|(i, app)| {
            if i == 0 {
                return None;
            }
            out.iter()
                .enumerate()
                .filter(|(j, n)| *j == 0 || (*j != i && n.in_recovery == Some(true)))
                .find_map(|(_, n)| {
                    let s = n.senders.iter().find(|s| &s.application_name == app)?;
                    Some((n.name.clone(), s.clone()))
                })
        })
        .collect();
    for (node, feed) in out.iter_mut().zip(feeds) {
        if let Some((upstream, sender)) = feed {
            node.upstream = Some(upstream);
            node.upstream_sender = Some(sender);
        }
    }
    judge_stalls(&mut out, options);
    ReplicationReading {
        taken_at_ms,
        nodes: out,
    }
}

/// Drops a replication slot on a node (`pg_drop_replication_slot(name)`). PostgreSQL refuses
/// an active slot; the role needs superuser or the `REPLICATION` attribute.
///
/// Errors: [`Error::UnknownNode`]; the node's connection errors; [`Error::Query`] with the
/// server's reason (no such slot, slot active, permission denied).
pub async fn drop_slot(cluster: &Cluster, node: &str, slot: &str) -> crate::Result<()> {
    let node = cluster.node(node)?;
    let slot = slot.to_owned();
    node.with_client("dropping a replication slot", |c| async move {
        c.execute("SELECT pg_drop_replication_slot($1)", &[&slot])
            .await
            .map(|_| ())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_leave_the_conninfo() {
        let c = "user=replicator password=******** channel_binding=prefer dbname=replication \
                 host=127.0.0.1 port=5432 sslpassword='a b\\'c' application_name=replica1";
        let out = without_secrets(c);
        assert_eq!(
            out,
            "user=replicator channel_binding=prefer dbname=replication host=127.0.0.1 port=5432 \
             application_name=replica1"
        );
        assert_eq!(
            without_secrets("host='my host' password=x"),
            "host='my host'"
        );
        assert_eq!(without_secrets(""), "");
    }

    #[test]
    fn a_step_caught_up_has_no_lag() {
        assert_eq!(caught_up(Some(0), Some(25)), Some(0));
        assert_eq!(caught_up(Some(0), None), Some(0));
        assert_eq!(caught_up(Some(8192), Some(25)), Some(25));
        assert_eq!(caught_up(None, Some(25)), Some(25));
    }

    #[test]
    fn bytes_for_people() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 * 1024 * 1024 + 200 * 1024), "3.2 MiB");
        assert_eq!(human_bytes(124 * 1024 * 1024), "124 MiB");
        assert_eq!(human_bytes(1536 * 1024 * 1024), "1.5 GiB");
    }
}
