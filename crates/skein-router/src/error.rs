//! Errors of the router, each mapped to a stable [`ErrorCode`].

use skein_core::ErrorCode;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A routed statement or the router's set-up failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node that served the statement (or was asked to) failed; the error names it.
    #[error(transparent)]
    Pg(#[from] skein_pg::Error),
    /// The `[router]` settings of the profile are not valid.
    #[error("[router] in the profile: {0}")]
    Config(String),
    /// A statement that needs a session was run outside one.
    #[error("{0}")]
    NeedsSession(String),
    /// The oracle ([`crate::oracle`]) was pointed at a node that is not a hot standby.
    #[error("{0}")]
    NotAStandby(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Pg(e) => e.code(),
            Error::Config(_) | Error::NeedsSession(_) | Error::NotAStandby(_) => {
                ErrorCode::InvalidInput
            }
        }
    }
}
