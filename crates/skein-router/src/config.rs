//! The router's settings: the `[router]` table of a profile, so read splitting, the policy,
//! pool sizes and routing rules change by configuration with no code change.
//!
//! ```toml
//! [router]
//! read_splitting = true             # false: every statement goes to the primary
//! policy = "weighted_round_robin"   # round_robin | weighted_round_robin | least_lag | random | nearest
//! region = "eu-west"                # the caller's region, for policy = "nearest"
//! cap = 16                          # replicas in rotation at most
//! read_your_writes_wait_ms = 200    # how long a read waits for a replica to replay a session's write
//! sticky_after_write_ms = 0         # > 0: a session's reads go to the primary this long after a write
//! max_failures = 3                  # failures within failure_window_ms that eject a replica
//! failure_window_ms = 10000
//! recovery_ms = 30000               # healthy this long before an ejected replica returns
//! monitor_interval_ms = 500         # how often the router's own monitor samples lag
//! conflicts_per_minute = 1.0        # recovery conflicts a minute that halve a replica's weight (0: off)
//! catalog_reload_ms = 10000         # after a statement named a function, operator or relation
//!                                   # the catalog did not hold, reload it at most this often
//! primary_pool = { max_size = 16, timeout_ms = 5000 }
//! replica_pool = { max_size = 16, timeout_ms = 2000 }
//!
//! [[router.table_rules]]            # a read that touches this table goes to `to`
//! table = "orders"
//! to = "primary"
//!
//! [[router.query_rules]]            # reads of this shape (pg_query fingerprint) go to `to`
//! query = "SELECT l_returnflag, sum(l_quantity) FROM lineitem GROUP BY 1"
//! to = "replica2"
//! ```
//!
//! Lag thresholds come from the profile's `[thresholds]`.

use serde::{Deserialize, Serialize};

use crate::balance::{Policy, DEFAULT_CAP};
use crate::error::{Error, Result};

/// Size and timeouts of one role's pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSettings {
    /// Connections per node at most.
    pub max_size: usize,
    /// Waiting for, or opening, a connection; ms.
    pub timeout_ms: u64,
}

/// Which balancing policy, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyName {
    /// [`Policy::RoundRobin`].
    RoundRobin,
    /// [`Policy::WeightedRoundRobin`].
    WeightedRoundRobin,
    /// [`Policy::LeastLag`].
    LeastLag,
    /// [`Policy::Random`].
    Random,
    /// [`Policy::Nearest`], with `region`.
    Nearest,
}

impl PolicyName {
    /// The policy in words, for reasons (`weighted round robin`).
    pub fn words(self) -> &'static str {
        match self {
            PolicyName::RoundRobin => "round robin",
            PolicyName::WeightedRoundRobin => "weighted round robin",
            PolicyName::LeastLag => "least lag",
            PolicyName::Random => "random choice",
            PolicyName::Nearest => "nearest region",
        }
    }
}

/// A read that touches `table` goes to `to` (`"primary"` or a replica's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableRule {
    /// Table name, unqualified or `schema.table`, as written in queries.
    pub table: String,
    /// `"primary"` or a replica name.
    pub to: String,
}

/// Reads with the same shape as `query` (same pg_query fingerprint: constants do not count)
/// go to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryRule {
    /// An example of the query.
    pub query: String,
    /// `"primary"` or a replica name.
    pub to: String,
}

/// Everything the router can be told (see the module header for the TOML form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouterConfig {
    /// Send reads to replicas at all.
    pub read_splitting: bool,
    /// How reads are spread.
    pub policy: PolicyName,
    /// The caller's region, for the nearest policy.
    pub region: Option<String>,
    /// Replicas in rotation at most.
    pub cap: usize,
    /// Bounded wait for read-your-writes, ms.
    pub read_your_writes_wait_ms: u64,
    /// Time-based stickiness after a write (0 = off), ms.
    pub sticky_after_write_ms: u64,
    /// Failures within the window that eject a replica.
    pub max_failures: u32,
    /// The failure window, ms.
    pub failure_window_ms: u64,
    /// How long an ejected replica must be healthy to return, ms.
    pub recovery_ms: u64,
    /// Interval of [`crate::Router::start_monitor`], ms.
    pub monitor_interval_ms: u64,
    /// After a statement named a function, operator or relation the catalog the router read
    /// does not hold, the next lag sample reloads it, at most this often; ms.
    pub catalog_reload_ms: u64,
    /// Recovery conflicts a minute (queries cancelled on a replica) at or past which a
    /// replica's weight in rotation is halved (0: off; default 1).
    pub conflicts_per_minute: f64,
    /// The primary's pool.
    pub primary_pool: PoolSettings,
    /// Each replica's pool.
    pub replica_pool: PoolSettings,
    /// Per-table rules.
    pub table_rules: Vec<TableRule>,
    /// Per-query rules.
    pub query_rules: Vec<QueryRule>,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            read_splitting: true,
            policy: PolicyName::WeightedRoundRobin,
            region: None,
            cap: DEFAULT_CAP,
            read_your_writes_wait_ms: 200,
            sticky_after_write_ms: 0,
            max_failures: 3,
            failure_window_ms: 10_000,
            recovery_ms: 30_000,
            monitor_interval_ms: 500,
            catalog_reload_ms: 10_000,
            conflicts_per_minute: 1.0,
            primary_pool: PoolSettings {
                max_size: 16,
                timeout_ms: 5_000,
            },
            replica_pool: PoolSettings {
                max_size: 16,
                timeout_ms: 2_000,
            },
            table_rules: Vec::new(),
            query_rules: Vec::new(),
        }
    }
}

impl RouterConfig {
    /// Reads the `[router]` table of a profile (empty: the defaults).
    ///
    /// Errors: [`Error::Config`] naming the unknown or mistyped setting.
    pub fn from_table(table: &toml::Table) -> Result<RouterConfig> {
        let config: RouterConfig = table
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| Error::Config(e.message().to_owned()))?;
        config.policy()?;
        Ok(config)
    }

    /// The balancing policy.
    ///
    /// Errors: [`Error::Config`] when `policy = "nearest"` has no `region`.
    pub fn policy(&self) -> Result<Policy> {
        Ok(match self.policy {
            PolicyName::RoundRobin => Policy::RoundRobin,
            PolicyName::WeightedRoundRobin => Policy::WeightedRoundRobin,
            PolicyName::LeastLag => Policy::LeastLag,
            PolicyName::Random => Policy::Random,
            PolicyName::Nearest => Policy::Nearest {
                region: self.region.clone().ok_or_else(|| {
                    Error::Config(
                        "policy = \"nearest\" needs region = \"…\" (the caller's region)".into(),
                    )
                })?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_bad_ones_are_named() {
        let t: toml::Table = toml::from_str(
            "read_splitting = false\npolicy = \"least_lag\"\nprimary_pool = { max_size = 4, timeout_ms = 100 }\n\
             [[table_rules]]\ntable = \"orders\"\nto = \"primary\"\n",
        )
        .expect("toml");
        let c = RouterConfig::from_table(&t).expect("valid");
        assert!(!c.read_splitting);
        assert_eq!(c.policy, PolicyName::LeastLag);
        assert_eq!(c.primary_pool.max_size, 4);
        assert_eq!(c.replica_pool.max_size, 16);
        assert_eq!(c.table_rules[0].table, "orders");
        let bad: toml::Table = toml::from_str("read_spliting = true").expect("toml");
        let e = RouterConfig::from_table(&bad).expect_err("typo");
        assert!(e.to_string().contains("read_spliting"), "{e}");
        let near: toml::Table = toml::from_str("policy = \"nearest\"").expect("toml");
        let e = RouterConfig::from_table(&near).expect_err("no region");
        assert!(e.to_string().contains("region"), "{e}");
    }
}
