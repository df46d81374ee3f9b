//! What the role a node's connection logs in as may do, asked once per connection rather than
//! found out by a failed action: the console shows an action the role may not take as
//! disabled, with the reason, and refuses it before it reaches the server.
//!
//! Facts, all from one statement on the node:
//!
//! - `role`: `current_user`;
//! - `superuser`: `pg_roles.rolsuper` of that role;
//! - `pg_monitor`: `pg_has_role(current_user, 'pg_monitor', 'USAGE')`, i.e. the role has the
//!   privileges of `pg_monitor` (directly, through an inheriting membership, or as superuser);
//! - `read_replication_stats`: `pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')`:
//!   without it `pg_stat_replication` and `pg_stat_wal_receiver` show other roles' WAL
//!   senders and receivers with NULL state and lags;
//! - `replay_control`: `has_function_privilege('pg_wal_replay_pause()', 'EXECUTE')` and the
//!   same for `pg_wal_replay_resume()` (superusers have both; by default nobody else does);
//! - `promote`: `has_function_privilege('pg_promote(boolean, integer)', 'EXECUTE')`;
//! - `terminate`: superuser, or `pg_has_role(current_user, 'pg_signal_backend', 'USAGE')` with
//!   `has_function_privilege('pg_terminate_backend(integer, bigint)', 'EXECUTE')`: without
//!   `pg_signal_backend` a role may end only its own sessions, and only a superuser may end a
//!   superuser's;
//! - `drop_slots`: superuser or `pg_roles.rolreplication` (what `pg_drop_replication_slot()`
//!   asks for).

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::node::Node;

/// Whether an action is allowed, and if not why: `{ "allowed": false, "reason": "needs
/// superuser or EXECUTE on pg_wal_replay_pause() …" }`. The reason names the privilege the
/// role lacks and the statement that grants it; `null` when allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Allowed {
    /// The role may do it.
    pub allowed: bool,
    /// Why not, and how to allow it; `null` when allowed.
    pub reason: Option<String>,
}

impl Allowed {
    /// Allowed.
    pub fn yes() -> Allowed {
        Allowed {
            allowed: true,
            reason: None,
        }
    }

    /// Not allowed, for `reason`.
    pub fn no(reason: impl Into<String>) -> Allowed {
        Allowed {
            allowed: false,
            reason: Some(reason.into()),
        }
    }

    /// `Ok(())` when allowed, else `Err(reason)`.
    pub fn check(&self) -> std::result::Result<(), &str> {
        if self.allowed {
            Ok(())
        } else {
            Err(self
                .reason
                .as_deref()
                .unwrap_or("not allowed for this role"))
        }
    }
}

/// What the node's connection role may do (see the module header for each fact's source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Privileges {
    /// The role the connection logs in as (`current_user`).
    pub role: String,
    /// `pg_roles.rolsuper`.
    pub superuser: bool,
    /// Has the privileges of `pg_monitor` (which includes `pg_read_all_stats`,
    /// `pg_read_all_settings` and `pg_stat_scan_tables`).
    pub pg_monitor: bool,
    /// Pausing and resuming WAL replay on a replica (`pg_wal_replay_pause()`,
    /// `pg_wal_replay_resume()`).
    pub replay_control: Allowed,
    /// Promoting a replica (`pg_promote()`).
    pub promote: Allowed,
    /// Ending other roles' sessions (`pg_terminate_backend()`).
    pub terminate: Allowed,
    /// Reading other roles' WAL senders' state and lags in `pg_stat_replication`.
    pub read_replication_stats: Allowed,
    /// Dropping replication slots (`pg_drop_replication_slot()`).
    pub drop_slots: Allowed,
}

const PROBE_SQL: &str = "SELECT current_user::text, r.rolsuper, \
     pg_has_role(current_user, 'pg_monitor', 'USAGE'), \
     pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'), \
     pg_has_role(current_user, 'pg_signal_backend', 'USAGE'), \
     has_function_privilege('pg_catalog.pg_wal_replay_pause()', 'EXECUTE'), \
     has_function_privilege('pg_catalog.pg_wal_replay_resume()', 'EXECUTE'), \
     coalesce(has_function_privilege(to_regprocedure('pg_catalog.pg_promote(boolean, integer)'), 'EXECUTE'), false), \
     coalesce(has_function_privilege(coalesce(to_regprocedure('pg_catalog.pg_terminate_backend(integer, bigint)'), \
       to_regprocedure('pg_catalog.pg_terminate_backend(integer)')), 'EXECUTE'), false), \
     r.rolreplication \
     FROM pg_catalog.pg_roles r WHERE r.rolname = current_user";

/// The raw answers of [`PROBE_SQL`], in its column order.
#[derive(Debug, Clone, Copy)]
struct Facts {
    superuser: bool,
    pg_monitor: bool,
    read_all_stats: bool,
    signal_backend: bool,
    pause: bool,
    resume: bool,
    promote: bool,
    terminate: bool,
    replication: bool,
}

/// Asks the node what its connection role may do (one statement, under the node's timeout).
///
/// Errors: the node's connection errors ([`crate::Error::Unreachable`],
/// [`crate::Error::AuthFailed`], [`crate::Error::Tls`], [`crate::Error::Timeout`]) or
/// [`crate::Error::Query`] when the catalog cannot be read.
pub async fn probe(node: &Node) -> Result<Privileges> {
    let row = node
        .with_client(
            "reading the role's privileges (pg_roles, pg_has_role, has_function_privilege)",
            |c| async move { c.query_one(PROBE_SQL, &[]).await },
        )
        .await?;
    let role: String = row.get(0);
    let facts = Facts {
        superuser: row.get(1),
        pg_monitor: row.get(2),
        read_all_stats: row.get(3),
        signal_backend: row.get(4),
        pause: row.get(5),
        resume: row.get(6),
        promote: row.get(7),
        terminate: row.get(8),
        replication: row.get(9),
    };
    Ok(privileges(role, facts))
}

fn privileges(role: String, f: Facts) -> Privileges {
    let replay_control = if f.pause && f.resume {
        Allowed::yes()
    } else {
        Allowed::no(format!(
            "{role} may not pause or resume WAL replay: needs superuser or EXECUTE on \
             pg_wal_replay_pause() and pg_wal_replay_resume() (GRANT EXECUTE ON FUNCTION \
             pg_wal_replay_pause(), pg_wal_replay_resume() TO {role})"
        ))
    };
    let promote = if f.promote {
        Allowed::yes()
    } else {
        Allowed::no(format!(
            "{role} may not promote a replica: needs superuser or EXECUTE on pg_promote() \
             (GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO {role})"
        ))
    };
    let terminate = if f.superuser || (f.signal_backend && f.terminate) {
        Allowed::yes()
    } else if !f.terminate {
        Allowed::no(format!(
            "{role} may not end sessions: needs EXECUTE on pg_terminate_backend() and \
             pg_signal_backend (GRANT pg_signal_backend TO {role})"
        ))
    } else {
        Allowed::no(format!(
            "{role} may end only its own sessions: ending other roles' needs superuser or \
             pg_signal_backend (GRANT pg_signal_backend TO {role})"
        ))
    };
    let read_replication_stats = if f.read_all_stats {
        Allowed::yes()
    } else {
        Allowed::no(format!(
            "{role} cannot see WAL senders' state and lags in pg_stat_replication: needs \
             pg_monitor or pg_read_all_stats (GRANT pg_monitor TO {role})"
        ))
    };
    let drop_slots = if f.superuser || f.replication {
        Allowed::yes()
    } else {
        Allowed::no(format!(
            "{role} may not drop replication slots: needs superuser or the REPLICATION \
             attribute (ALTER ROLE {role} REPLICATION)"
        ))
    };
    Privileges {
        role,
        superuser: f.superuser,
        pg_monitor: f.pg_monitor,
        replay_control,
        promote,
        terminate,
        read_replication_stats,
        drop_slots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(all: bool) -> Facts {
        Facts {
            superuser: all,
            pg_monitor: all,
            read_all_stats: all,
            signal_backend: all,
            pause: all,
            resume: all,
            promote: all,
            terminate: all,
            replication: all,
        }
    }

    #[test]
    fn a_superuser_may_do_everything() {
        let p = privileges("postgres".into(), facts(true));
        for a in [
            &p.replay_control,
            &p.promote,
            &p.terminate,
            &p.read_replication_stats,
            &p.drop_slots,
        ] {
            assert_eq!(a, &Allowed::yes());
        }
    }

    #[test]
    fn a_monitoring_role_gets_reasons_naming_the_privilege() {
        let f = Facts {
            pg_monitor: true,
            read_all_stats: true,
            terminate: true,
            ..facts(false)
        };
        let p = privileges("skein_monitor".into(), f);
        assert_eq!(p.read_replication_stats, Allowed::yes());
        let reason = p
            .replay_control
            .check()
            .expect_err("replay control refused");
        assert!(
            reason.contains("needs superuser or EXECUTE on pg_wal_replay_pause()"),
            "{reason}"
        );
        assert!(reason.contains("GRANT EXECUTE ON FUNCTION"), "{reason}");
        assert!(p.promote.check().is_err_and(|r| r.contains("pg_promote()")));
        assert!(p
            .terminate
            .check()
            .is_err_and(|r| r.contains("only its own sessions")));
        assert!(p
            .drop_slots
            .check()
            .is_err_and(|r| r.contains("ALTER ROLE skein_monitor REPLICATION")));
    }

    #[test]
    fn replay_control_needs_both_functions() {
        let f = Facts {
            pause: true,
            ..facts(false)
        };
        assert!(!privileges("r".into(), f).replay_control.allowed);
        let f = Facts {
            pause: true,
            resume: true,
            ..facts(false)
        };
        assert!(privileges("r".into(), f).replay_control.allowed);
    }

    #[test]
    fn allowed_serialises_as_allowed_and_reason() {
        let json = serde_json::to_value(Allowed::no("why")).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({ "allowed": false, "reason": "why" })
        );
    }
}
