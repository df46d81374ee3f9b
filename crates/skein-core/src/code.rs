//! Stable error codes: the part of an error a UI or a script may match on. Messages are for
//! people and may change; codes may not.

use serde::{Deserialize, Serialize};

/// What kind of failure an error is. Serialised as its name (`"ReadOnlyReplica"`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ts_rs::TS,
    strum::VariantNames,
    strum::EnumIter,
)]
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

impl ErrorCode {
    /// Every code's name, in declaration order: the strings the codes serialise as (the UI's
    /// generated `ERROR_CODES`).
    pub const ALL: &'static [&'static str] = <ErrorCode as strum::VariantNames>::VARIANTS;

    /// Every code, in declaration order.
    pub fn iter() -> impl Iterator<Item = ErrorCode> {
        <ErrorCode as strum::IntoEnumIterator>::iter()
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_by_the_name_it_serialises_as() {
        let listed: Vec<String> = ErrorCode::iter()
            .map(|c| serde_json::to_value(c).expect("a code serialises"))
            .map(|v| {
                v.as_str()
                    .expect("a code serialises as a string")
                    .to_owned()
            })
            .collect();
        assert_eq!(listed, ErrorCode::ALL, "ErrorCode::ALL names every code");
        for name in ErrorCode::ALL {
            let back: ErrorCode =
                serde_json::from_value(serde_json::Value::String((*name).to_owned()))
                    .expect("every listed name is a code");
            assert_eq!(back.to_string(), *name);
        }
    }
}
