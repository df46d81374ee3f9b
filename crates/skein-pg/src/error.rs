//! Errors of PostgreSQL I/O, each mapped to a stable [`ErrorCode`].

use skein_core::ErrorCode;
use tokio_postgres::error::SqlState;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A PostgreSQL operation failed. Every variant names the node.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node refused a write: it is a read-only replica (SQLSTATE 25006).
    #[error("{node} is a read-only replica and refused the write ({detail}); send writes to the primary")]
    ReadOnlyReplica {
        /// Node name.
        node: String,
        /// The server's message.
        detail: String,
    },
    /// The node could not be reached or refused the connection.
    #[error("{node} ({addr}) is unreachable: {detail}; check that the server runs and the profile's host and port")]
    Unreachable {
        /// Node name.
        node: String,
        /// host:port.
        addr: String,
        /// The driver's message.
        detail: String,
    },
    /// The node rejected the credentials.
    #[error("{node} ({addr}) rejected the credentials: {detail}; set the password with `skein secret set {node}`, PGPASSWORD or ~/.pgpass")]
    AuthFailed {
        /// Node name.
        node: String,
        /// host:port.
        addr: String,
        /// The server's message.
        detail: String,
    },
    /// TLS failed: handshake, a certificate check, or `sslmode` against the server's
    /// `pg_hba.conf` (`hostssl`). `detail` says what failed and the fix.
    #[error("{node} ({addr}): {detail}")]
    Tls {
        /// Node name.
        node: String,
        /// host:port.
        addr: String,
        /// What failed and the fix.
        detail: String,
    },
    /// The node did not answer in time.
    #[error("{node} did not answer within {timeout_ms} ms ({what})")]
    Timeout {
        /// Node name.
        node: String,
        /// What was waited for.
        what: String,
        /// The limit, ms.
        timeout_ms: u64,
    },
    /// A query failed on the node.
    #[error("{node}: {what} failed: {detail}")]
    Query {
        /// Node name.
        node: String,
        /// What was being done.
        what: String,
        /// The server's message (with SQLSTATE).
        detail: String,
        /// The stable code.
        code: ErrorCode,
    },
    /// No node of that name in the profile.
    #[error("no node named '{0}' in the profile")]
    UnknownNode(String),
    /// The profile cannot be used to connect.
    #[error(transparent)]
    Profile(#[from] skein_core::Error),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::ReadOnlyReplica { .. } => ErrorCode::ReadOnlyReplica,
            Error::Unreachable { .. } => ErrorCode::ConnectionRefused,
            Error::AuthFailed { .. } => ErrorCode::AuthFailed,
            Error::Tls { .. } => ErrorCode::Tls,
            Error::Timeout { .. } => ErrorCode::Timeout,
            Error::Query { code, .. } => *code,
            Error::UnknownNode(_) => ErrorCode::NotFound,
            Error::Profile(e) => e.code(),
        }
    }

    /// Classifies a driver error raised while talking to `node` at `addr`.
    pub fn from_pg(node: &str, addr: &str, what: &str, e: &tokio_postgres::Error) -> Error {
        if let Some(detail) = skein_core::tls::tls_failure(e) {
            return Error::Tls {
                node: node.into(),
                addr: addr.into(),
                detail,
            };
        }
        let detail = describe(e);
        match e.code() {
            Some(c) if *c == SqlState::READ_ONLY_SQL_TRANSACTION => Error::ReadOnlyReplica {
                node: node.into(),
                detail,
            },
            Some(c)
                if *c == SqlState::INVALID_PASSWORD
                    || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
            {
                Error::AuthFailed {
                    node: node.into(),
                    addr: addr.into(),
                    detail,
                }
            }
            Some(c) => {
                let code = if *c == SqlState::UNDEFINED_TABLE
                    || *c == SqlState::UNDEFINED_OBJECT
                    || *c == SqlState::INVALID_CATALOG_NAME
                {
                    ErrorCode::NotFound
                } else if *c == SqlState::INSUFFICIENT_PRIVILEGE {
                    ErrorCode::PermissionDenied
                } else if *c == SqlState::QUERY_CANCELED && detail.contains("user request") {
                    // A cancel request (the Workbench's Cancel, `pg_cancel_backend`).
                    ErrorCode::Cancelled
                } else if *c == SqlState::QUERY_CANCELED {
                    ErrorCode::Timeout
                } else {
                    ErrorCode::QueryFailed
                };
                Error::Query {
                    node: node.into(),
                    what: what.into(),
                    detail,
                    code,
                }
            }
            None if e.is_closed()
                || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) =>
            {
                Error::Unreachable {
                    node: node.into(),
                    addr: addr.into(),
                    detail,
                }
            }
            None if detail.contains("timed out") => Error::Timeout {
                node: node.into(),
                what: what.into(),
                timeout_ms: 0,
            },
            None if detail.contains("password") => Error::AuthFailed {
                node: node.into(),
                addr: addr.into(),
                detail,
            },
            None => Error::Query {
                node: node.into(),
                what: what.into(),
                detail,
                code: ErrorCode::QueryFailed,
            },
        }
    }
}

pub use skein_core::conninfo::describe;
