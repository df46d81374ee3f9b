//! Read/write splitting for a PostgreSQL primary with streaming replicas. This first part is
//! the statement classifier ([`classify`]): which statements may run on a hot standby, decided
//! from PostgreSQL's own parse tree (`pg_query`, libpg_query), never from string matching.
//! Conservative by default (DESIGN invariant 1): a write, a locking read, anything that
//! changes session state, and anything that cannot be parsed or classified goes to the primary.

pub mod classify;

pub use classify::{classify, Classification, Functions, Target};
