//! Read/write splitting for a PostgreSQL primary with streaming replicas:
//!
//! - [`hint`]: the `/* skein:… */` routing hints in a statement, found by PostgreSQL's
//!   scanner; the one parser the router, the console and cache definitions share.
//! - [`classify`]: which statements may run on a hot standby, decided from PostgreSQL's own
//!   parse tree (`pg_query`, libpg_query), never from string matching. Conservative by default:
//!   a write, a locking read, anything that changes session state, anything that cannot be
//!   parsed or classified, and any call of a function not known safe on a standby
//!   ([`functions`]: an allow-list built from the primary's `pg_proc`) goes to the primary.
//! - [`rotation`]: which replicas are in rotation (lag thresholds, failures, recovery time).
//! - [`balance`]: which replica in rotation serves a read (policies, session affinity, cap).
//! - [`cache`]: which part of a read a fresh cache holds (whole, or subqueries and CTEs to
//!   read from the lake in DuckDB while the rest is read live); stale caches never serve.
//! - [`router`]: the [`Router`] that ties them to a pool per node, with read-your-writes and
//!   session pinning from the task's [`Session`] ([`session`]), retries and counters;
//!   configured by a profile's `[router]` table ([`config`]).
//!
//! ```no_run
//! # async fn demo(profile: skein_core::Profile) -> skein_router::Result<()> {
//! use skein_router::{Router, Session};
//! let router = Router::connect(&profile).await?;
//! let _monitor = router.start_monitor();
//! let session = Session::new(Some("user-42"));
//! session
//!     .scope(async {
//!         router.execute("UPDATE accounts SET balance = balance - 10 WHERE id = 1", &[]).await?;
//!         // Sees the update: a replica that has replayed it, or the primary.
//!         let r = router.query("SELECT balance FROM accounts WHERE id = 1", &[]).await?;
//!         println!("{} ({}: {})", r.route.node, r.route.rule, r.route.reason);
//!         Ok(())
//!     })
//!     .await
//! # }
//! ```

pub mod balance;
pub mod cache;
pub mod classify;
pub mod config;
pub mod corpus;
mod error;
pub mod functions;
pub mod hint;
pub mod oracle;
pub mod rotation;
pub mod router;
pub mod session;
mod walk;

pub use balance::{Balancer, Candidate, Policy};
pub use cache::{CachePlan, CacheRoutes, CacheUse, CachedQuery, SkippedCache};
pub use classify::{classify, effect, Classification, Effect, Target};
pub use config::{PolicyName, PoolSettings, QueryRule, RouterConfig, TableRule};
pub use error::{Error, Result};
pub use functions::{load_functions, Functions, Proc, Volatility};
pub use hint::{hints, strip_hints, Hint};
pub use rotation::{Rotation, RotationPolicy};
pub use router::{Monitor, NodeRouting, Route, Routed, Router, RoutingStats};
pub use session::{force_primary, Session};
