//! Stable error codes: the part of an error a UI or a script may match on. Messages are for
//! people and may change; codes may not.

use serde::{Deserialize, Serialize};

/// What kind of failure an error is. Serialised as its name (`"ReadOnlyReplica"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
pub enum ErrorCode {
    /// The server could not be reached (refused, unreachable host, closed connection).
    ConnectionRefused,
    /// The server refused the credentials (SQLSTATE 28P01 / 28000).
    AuthFailed,
    /// TLS failed: the handshake, the server's or the client's certificate, or the server and
    /// the profile disagree on encryption (`sslmode` against `pg_hba.conf`'s `hostssl`).
    Tls,
    /// A probe or query did not answer within its timeout (for a statement: SQLSTATE 57014
    /// "canceling statement due to statement timeout", or the console's own work timeout).
    Timeout,
    /// A person cancelled the statement (SQLSTATE 57014 "canceling statement due to user
    /// request": a cancel request, `pg_cancel_backend`): not a failure of the node.
    Cancelled,
    /// A write reached a read-only node (SQLSTATE 25006).
    ReadOnlyReplica,
    /// A named thing (cache, table, snapshot, profile file) does not exist.
    NotFound,
    /// The input (profile, flag, SQL) is malformed.
    InvalidInput,
    /// The thing exists already, or a concurrent change won.
    Conflict,
    /// A query was rejected by the server for another reason (syntax, types, permissions).
    QueryFailed,
    /// A local resource failed (file system, a child process, the DuckDB library).
    Internal,
    /// The profile's role may not do this (SQLSTATE 42501, or refused before asking because
    /// the node's privileges probe says so); the message names the privilege it needs.
    PermissionDenied,
}

/// The shape an error crosses a boundary in (RPC, `--json`): `{ "code", "message" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ErrorInfo {
    /// Stable code.
    pub code: ErrorCode,
    /// One line for a person: what went wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}
