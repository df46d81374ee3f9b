//! Alert rules: the profile's `[alerts]` table. A rule fires after `fire_after` consecutive
//! samples in breach and clears after `clear_after` consecutive healthy ones, so a value that
//! hovers at its threshold does not flap. The console judges the rules on one sample a second
//! whatever its sampling period, so `fire_after` and `clear_after` count seconds. A threshold
//! of 0 (or `false`) turns its rule off.
//!
//! ```toml
//! [alerts]
//! fire_after = 3                    # consecutive breaching samples before it fires
//! clear_after = 5                   # consecutive healthy samples before it clears
//! lag_ms = 30000                    # replay lag, ms
//! lag_bytes = 1073741824            # WAL behind the primary, bytes
//! node_down = true                  # a node that does not answer
//! promoted = true                   # a replica out of recovery, or on another timeline
//! slot_retained_bytes = 1073741824  # WAL a replication slot retains (current − restart_lsn)
//! slot_headroom_bytes = 1073741824  # safe_wal_size below this (wal_status lost/unreserved always)
//! conflicts_per_minute = 1.0        # recovery conflicts (queries cancelled) a minute, per replica
//! xmin_age = 1000000                # age(backend_xmin) a replica holds back on its upstream, xids
//! cache_stale_s = 600               # a cache stale (or edited) for this long, s
//! cache_age_s = 0                   # a cache's data older than this, s (0: off)
//! refresh_failed = true             # a cache's last refresh ended in ERROR
//! maintenance_failed = true         # the last maintenance job of a kind failed
//! ```

use serde::{Deserialize, Serialize};

/// The `[alerts]` table (see the module header). Every key is optional.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields, default)]
pub struct AlertRules {
    /// Consecutive breaching samples before a rule fires (≥ 1).
    pub fire_after: u32,
    /// Consecutive healthy samples before a fired rule clears (≥ 1).
    pub clear_after: u32,
    /// Replay lag at or past which a replica is in breach, ms (0: off).
    pub lag_ms: u64,
    /// WAL behind the primary at or past which a replica is in breach, bytes (0: off).
    pub lag_bytes: u64,
    /// A node that does not answer is in breach.
    pub node_down: bool,
    /// A replica out of recovery (promoted) or on another timeline than the primary.
    pub promoted: bool,
    /// WAL a non-temporary replication slot retains, bytes (0: off).
    pub slot_retained_bytes: u64,
    /// `safe_wal_size` below this is in breach, bytes (0: only `wal_status` lost or
    /// unreserved, which always is).
    pub slot_headroom_bytes: u64,
    /// Recovery conflicts a minute on a replica (`pg_stat_database_conflicts`, over the last
    /// minute) at or past which it is in breach (0: off).
    pub conflicts_per_minute: f64,
    /// `age(backend_xmin)` of a WAL sender (the xmin a `hot_standby_feedback` replica holds
    /// back), transactions (0: off).
    pub xmin_age: u64,
    /// A cache stale or edited for this long is in breach, s (0: off).
    pub cache_stale_s: u64,
    /// A cache whose data is older than this is in breach, s (0: off).
    pub cache_age_s: u64,
    /// A cache whose last refresh ended in ERROR is in breach.
    pub refresh_failed: bool,
    /// The last maintenance job of a kind failed.
    pub maintenance_failed: bool,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules {
            fire_after: 3,
            clear_after: 5,
            lag_ms: 30_000,
            lag_bytes: 1024 * 1024 * 1024,
            node_down: true,
            promoted: true,
            slot_retained_bytes: 1024 * 1024 * 1024,
            slot_headroom_bytes: 1024 * 1024 * 1024,
            conflicts_per_minute: 1.0,
            xmin_age: 1_000_000,
            cache_stale_s: 600,
            cache_age_s: 0,
            refresh_failed: true,
            maintenance_failed: true,
        }
    }
}

impl AlertRules {
    /// Checks the values a loader cannot type-check: `Err((key, message))` names the key.
    pub fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        if self.fire_after == 0 {
            return Err((
                "fire_after",
                "must be at least 1 (the samples in breach before an alert fires)".into(),
            ));
        }
        if self.clear_after == 0 {
            return Err((
                "clear_after",
                "must be at least 1 (the healthy samples before an alert clears)".into(),
            ));
        }
        if !(self.conflicts_per_minute.is_finite() && self.conflicts_per_minute >= 0.0) {
            return Err((
                "conflicts_per_minute",
                format!(
                    "{} is not a rate: give conflicts a minute, 0 or more (0 turns the rule off)",
                    self.conflicts_per_minute
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_what_is_missing() {
        let r: AlertRules = toml::from_str("fire_after = 2\nlag_ms = 0").expect("valid");
        assert_eq!(r.fire_after, 2);
        assert_eq!(r.lag_ms, 0);
        assert_eq!(r.clear_after, AlertRules::default().clear_after);
        assert!(r.check().is_ok());
    }

    #[test]
    fn unknown_keys_and_zero_counts_are_refused() {
        assert!(toml::from_str::<AlertRules>("lag = 3").is_err());
        let r: AlertRules = toml::from_str("clear_after = 0").expect("valid");
        assert_eq!(r.check().expect_err("refused").0, "clear_after");
        let r: AlertRules = toml::from_str("conflicts_per_minute = -1.0").expect("valid");
        assert_eq!(r.check().expect_err("refused").0, "conflicts_per_minute");
    }
}
