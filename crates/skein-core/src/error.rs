//! Errors of the profile and secret layer.

use std::path::PathBuf;

use crate::code::ErrorCode;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A profile or secret could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The profile file could not be read.
    #[error("cannot read profile {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The profile file is not a valid profile; names the file, line and field.
    #[error("{path}:{line}: {field}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the offending value (0 when the file as a whole is at fault).
        line: usize,
        /// Dotted path of the field (`replicas[1].url`).
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A profile file could not be written.
    #[error("cannot write profile {path}: {error}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A connection string or its TLS files cannot be used; says what and how to fix it.
    #[error("{0}")]
    Conninfo(String),
    /// A connection could not be made; the message names what failed and the fix.
    #[error("{message}")]
    Connect {
        /// Stable code ([`ErrorCode::Tls`], [`ErrorCode::AuthFailed`], …).
        code: ErrorCode,
        /// What failed and the fix.
        message: String,
    },
    /// The OS keyring could not be used.
    #[error("keyring: {0}")]
    Keyring(String),
    /// An SSH tunnel could not be opened or kept up; says what ssh reported and the fix.
    #[error("{0}")]
    Tunnel(String),
    /// Object-storage settings or credentials cannot be used; names the endpoint and the
    /// fix, never a secret.
    #[error("{0}")]
    Storage(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Read { error, .. } if error.kind() == std::io::ErrorKind::NotFound => {
                ErrorCode::NotFound
            }
            Error::Read { .. } | Error::Write { .. } | Error::Keyring(_) => ErrorCode::Internal,
            Error::Invalid { .. } | Error::Conninfo(_) | Error::Storage(_) => {
                ErrorCode::InvalidInput
            }
            Error::Connect { code, .. } => *code,
            Error::Tunnel(_) => ErrorCode::ConnectionRefused,
        }
    }
}
