//! Errors of lake operations, each mapped to a stable [`ErrorCode`].

use skein_core::ErrorCode;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A lake operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// DuckDB (or an extension) reported an error.
    #[error("{context}: {message}")]
    DuckDb {
        /// What was being done.
        context: String,
        /// DuckDB's message.
        message: String,
        /// The stable code (NotFound for missing snapshots/tables, …).
        code: ErrorCode,
    },
    /// A cache, table or snapshot does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Bad input (name, query, TTL).
    #[error("{0}")]
    InvalidInput(String),
    /// The thing exists already.
    #[error("{0}")]
    Conflict(String),
    /// PostgreSQL (fingerprint, replay position, query check) failed.
    #[error(transparent)]
    Pg(#[from] skein_pg::Error),
    /// The profile or a secret could not be used.
    #[error(transparent)]
    Core(#[from] skein_core::Error),
    /// A blocking task died.
    #[error("background task failed: {0}")]
    Task(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::DuckDb { code, .. } => *code,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Pg(e) => e.code(),
            Error::Core(e) => e.code(),
            Error::Task(_) => ErrorCode::Internal,
        }
    }

    /// Wraps a DuckDB error with what was being done, classifying DuckLake's "not found"
    /// messages (`No snapshot found at version 99`, `Table with name t2 does not exist`).
    pub fn duck(context: impl Into<String>) -> impl FnOnce(duckdb::Error) -> Error {
        let context = context.into();
        move |e| {
            // DuckDB appends the statement with a caret ("LINE 1: …"); the context says what
            // was being done, so keep only the sentence.
            let full = e.to_string();
            let message = full
                .split("\nLINE ")
                .next()
                .unwrap_or(&full)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            // libpq errors echo the connection string, which holds the password.
            let message = crate::lake::scrub_password(&message);
            let lower = message.to_lowercase();
            let code = if lower.contains("no snapshot found")
                || lower.contains("does not exist")
                || lower.contains("not found")
            {
                ErrorCode::NotFound
            } else if lower.contains("conflict") {
                ErrorCode::Conflict
            } else if lower.contains("connection refused") || lower.contains("could not connect") {
                ErrorCode::ConnectionRefused
            } else if lower.contains("password authentication failed") {
                ErrorCode::AuthFailed
            } else if lower.contains("read-only transaction") {
                ErrorCode::ReadOnlyReplica
            } else {
                ErrorCode::QueryFailed
            };
            // A request to the object store failed (the data files, not the source): say so,
            // naming the store.
            let context = match store_host(&message) {
                Some(host) => format!("{context}: the object store at {host} failed"),
                None => context,
            };
            Error::DuckDb {
                context,
                message,
                code,
            }
        }
    }
}

/// `HOST:PORT` of the object-store request a DuckDB message reports
/// (`… for HTTP PUT to 'http://127.0.0.1:3900/lake/…'`), if it reports one.
fn store_host(message: &str) -> Option<&str> {
    let at = message.find("for HTTP ")?;
    let url = &message[at..];
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let end = rest.find(['/', '\'', ' ']).unwrap_or(rest.len());
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_failed_store_request_names_the_store() {
        let e = super::Error::duck("reading the source query of t from replica1")(duckdb::Error::DuckDBFailure(
            duckdb::ffi::Error::new(1),
            Some("IO Error: Could not connect to server error for HTTP PUT to 'http://127.0.0.1:3900/lake/data/x.parquet'".into()),
        ));
        let text = e.to_string();
        assert!(
            text.contains("the object store at 127.0.0.1:3900 failed"),
            "{text}"
        );
        assert_eq!(e.code(), skein_core::ErrorCode::ConnectionRefused);
    }
}
