//! Skein's shared foundation: the profile that describes a stack (primary, replicas, lake,
//! thresholds), where secrets come from, and the stable error codes every front end sees.
//!
//! Queries live in `skein-pg` and `skein-lake`; this crate only sets connections up (libpq
//! connection strings and TLS, [`conninfo`] and [`tls`]).

pub mod alerts;
pub mod code;
pub mod conninfo;
pub mod error;
pub mod profile;
pub mod profile_write;
pub mod secrets;
pub mod storage;
pub mod tls;
pub mod tunnel;

pub use alerts::AlertRules;
pub use code::{ErrorCode, ErrorInfo};
pub use error::{Error, Result};
pub use profile::{LakeSpec, NodeSpec, Profile, Sampling, SshSpec, Thresholds};
pub use storage::StorageSpec;

/// FNV-1a of `text`: a hash that stays the same across runs, processes and builds (unlike
/// std's), for keys that other processes must compute alike (advisory-lock keys, file names).
pub fn stable_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
