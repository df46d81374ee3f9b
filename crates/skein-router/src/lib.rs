//! Read/write splitting for a PostgreSQL primary with streaming replicas:
//!
//! - [`classify`]: which statements may run on a hot standby, decided from PostgreSQL's own
//!   parse tree (`pg_query`, libpg_query), never from string matching. Conservative by default
//!   (DESIGN invariant 1): a write, a locking read, anything that changes session state, and
//!   anything that cannot be parsed or classified goes to the primary.
//! - [`rotation`]: which replicas are in rotation (lag thresholds, failures, recovery time).
//! - [`balance`]: which replica in rotation serves a read (policies, session affinity, cap).

pub mod balance;
pub mod classify;
pub mod rotation;

pub use balance::{Balancer, Candidate, Policy};
pub use classify::{classify, Classification, Functions, Target};
pub use rotation::{Rotation, RotationPolicy};
