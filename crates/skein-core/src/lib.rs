//! Skein's shared foundation: the profile that describes a stack (primary, replicas, lake,
//! thresholds), where secrets come from, and the stable error codes every front end sees.
//!
//! Nothing here does I/O against a server; `skein-pg` and `skein-lake` do.

pub mod code;
pub mod error;
pub mod profile;
pub mod secrets;

pub use code::{ErrorCode, ErrorInfo};
pub use error::{Error, Result};
pub use profile::{LakeSpec, NodeSpec, Profile, Thresholds};
