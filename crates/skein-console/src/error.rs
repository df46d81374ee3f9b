//! The console's error: what the engine crates report, plus the console's own failures.
//! Every error crosses the RPC boundary as [`ErrorInfo`] (`{ code, message }`).

use skein_core::{ErrorCode, ErrorInfo};

/// A console failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or parsing a profile failed.
    #[error(transparent)]
    Profile(#[from] skein_core::Error),
    /// A PostgreSQL node failed.
    #[error(transparent)]
    Pg(#[from] skein_pg::Error),
    /// The lake failed.
    #[error(transparent)]
    Lake(#[from] skein_lake::Error),
    /// Routing or running a routed statement failed.
    #[error(transparent)]
    Router(#[from] skein_router::Error),
    /// No profile is open yet.
    #[error("no profile is open: open one (`skein serve --profile FILE`, or Open profile… in the console)")]
    NoProfile,
    /// The lake could not be opened; the message says why.
    #[error("the lake is unavailable: {}", .0.message)]
    LakeUnavailable(ErrorInfo),
    /// The profile's role may not do this on the node; the reason names the privilege.
    #[error("{node}: {reason}")]
    PermissionDenied {
        /// Node name.
        node: String,
        /// What the role lacks and how to grant it.
        reason: String,
    },
    /// The request was malformed.
    #[error("{0}")]
    InvalidInput(String),
    /// What the request names does not exist; the message says what and where.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the object's state (a slot in use); the message says how to
    /// resolve it.
    #[error("{0}")]
    Conflict(String),
    /// A local resource failed (the recent-profiles file, a background task).
    #[error("{0}")]
    Internal(String),
}

/// `Result` with the console's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Profile(e) => e.code(),
            Error::Pg(e) => e.code(),
            Error::Lake(e) => e.code(),
            Error::Router(e) => e.code(),
            Error::NoProfile => ErrorCode::NotFound,
            Error::LakeUnavailable(info) => info.code,
            Error::PermissionDenied { .. } => ErrorCode::PermissionDenied,
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The `{ code, message }` shape the RPC surface returns.
    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

impl From<Error> for ErrorInfo {
    fn from(e: Error) -> ErrorInfo {
        e.info()
    }
}
