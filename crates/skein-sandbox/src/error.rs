//! Errors of the sandbox.

use std::path::PathBuf;

use skein_core::ErrorCode;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The sandbox could not be started, used or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A sandbox is already running in that directory.
    #[error("a sandbox is already running in {0} (stop it with `skein sandbox down --dir {0}`)")]
    AlreadyRunning(PathBuf),
    /// No sandbox in that directory.
    #[error("no sandbox in {0} (start one with `skein sandbox up --dir {0}`)")]
    NotFound(PathBuf),
    /// A PostgreSQL program is missing.
    #[error("{0} not found: install the PostgreSQL server (`apt-get install postgresql`) or set SKEIN_PG_BIN")]
    MissingBinary(String),
    /// A child process failed.
    #[error("{command} failed: {detail}")]
    Command {
        /// What was run.
        command: String,
        /// Its exit status and the end of its output or log.
        detail: String,
    },
    /// File system trouble.
    #[error("{context}: {error}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A connection to a sandbox server failed (TLS, credentials, unreachable).
    #[error("{context}: {error}")]
    Connect {
        /// What was being done.
        context: String,
        /// What failed and the fix.
        error: skein_core::Error,
    },
    /// A query against a sandbox server failed.
    #[error("{context}: {}", server_message(error))]
    Postgres {
        /// What was being done.
        context: String,
        /// The driver's error.
        error: tokio_postgres::Error,
    },
    /// DuckDB (demo data generation) failed.
    #[error("{context}: {detail}")]
    DuckDb {
        /// What was being done.
        context: String,
        /// The library's message (never with a password: see [`Error::duck_hiding`]).
        detail: String,
    },
    /// Making or writing a TLS certificate failed.
    #[error("{context}: {detail}")]
    Certificate {
        /// What was being made.
        context: String,
        /// The library's message.
        detail: String,
    },
    /// Bad options.
    #[error("{0}")]
    InvalidInput(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::AlreadyRunning(_) => ErrorCode::Conflict,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::Postgres { .. } => ErrorCode::QueryFailed,
            Error::Connect { error, .. } => error.code(),
            _ => ErrorCode::Internal,
        }
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |error| Error::Io { context, error }
    }

    pub(crate) fn pg(context: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> Error {
        let context = context.into();
        move |error| Error::Postgres { context, error }
    }

    pub(crate) fn duck(context: impl Into<String>) -> impl FnOnce(duckdb::Error) -> Error {
        Error::duck_hiding(context, None)
    }

    /// [`Error::duck`] for work whose connection string holds `secret`: DuckDB's `postgres`
    /// extension may quote the string in its message, and the secret never reaches an error.
    pub(crate) fn duck_hiding(
        context: impl Into<String>,
        secret: Option<&str>,
    ) -> impl FnOnce(duckdb::Error) -> Error {
        let context = context.into();
        let secret = secret.filter(|s| !s.is_empty()).map(str::to_owned);
        move |error| {
            let mut detail = error.to_string();
            if let Some(s) = secret {
                detail = detail.replace(&s, "…");
            }
            Error::DuckDb { context, detail }
        }
    }
}

/// The server's message (with its detail and hint) for an error it reported, else the
/// driver's own text: `tokio_postgres::Error`'s `Display` alone says only "db error".
fn server_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = db.message().to_owned();
            if let Some(d) = db.detail() {
                m.push_str(&format!(" ({d})"));
            }
            if let Some(h) = db.hint() {
                m.push_str(&format!("; {h}"));
            }
            m
        }
        None => e.to_string(),
    }
}
