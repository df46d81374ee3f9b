//! Deciding where a statement goes (no I/O): the classifier's verdict, then forced and
//! pinned sessions, configuration, rules, hints, stickiness, rotation, read-your-writes and the
//! balancer, each with the reason a person reads.

use std::borrow::Cow;
use std::time::Duration;

use super::exec::pin_reason;
use super::{Analysed, Dest, Route, Router};
use crate::balance::Candidate;
use crate::classify::Target;
use crate::session::{self, SessionState};
use skein_pg::Lsn;

pub(super) fn route(
    target: Target,
    node: impl Into<String>,
    rule: &str,
    reason: impl Into<String>,
) -> Route {
    Route {
        target,
        node: node.into(),
        rule: rule.to_owned(),
        reason: reason.into(),
        needs_lsn: None,
    }
}

/// The plan for one statement.
pub(super) enum Plan {
    /// The primary, because of the statement or the session.
    Primary(Route),
    /// The primary for a read because no replica is in rotation (counted as a fallback when
    /// it runs).
    Fallback(Route),
    /// A replica, perhaps after waiting for read-your-writes.
    Replica { route: Route, wait: Option<Wait> },
}

/// A read that must wait for a replica to replay the session's last write.
pub(super) struct Wait {
    pub(super) lsn: Lsn,
    /// The replicas in rotation, any of which may serve once it has replayed `lsn`.
    pub(super) candidates: Vec<Candidate>,
    /// The replica a hint or rule asks for, preferred when it is among them.
    pub(super) wanted: Option<String>,
    /// The session's affinity hint.
    pub(super) hint: Option<String>,
    /// Why this replica, before the read-your-writes part (which the wait's outcome adds).
    pub(super) reason: String,
}

impl Router {
    pub(super) fn primary_route(&self, rule: &str, reason: impl Into<String>) -> Route {
        route(
            Target::Primary,
            self.inner.cluster.primary.name(),
            rule,
            reason,
        )
    }

    /// Decides where `sql` goes for `session` (no I/O). `pinned` is why the session is
    /// pinned to a primary connection, if it is.
    pub(super) fn plan(
        &self,
        analysed: &Analysed,
        sql: &str,
        session: Option<&SessionState>,
        pinned: Option<&str>,
    ) -> Plan {
        let cls = &analysed.0;
        if cls.target == Target::Primary {
            return Plan::Primary(self.primary_route(cls.rule, cls.reason.clone()));
        }
        if session::forced_primary() {
            return Plan::Primary(self.primary_route(
                "force_primary",
                "inside force_primary: every statement goes to the primary",
            ));
        }
        if !self.inner.config.read_splitting {
            return Plan::Primary(self.primary_route(
                "read_splitting_off",
                "read splitting is off ([router] read_splitting = false)",
            ));
        }
        if let Some(why) = pinned {
            return Plan::Primary(self.primary_route(
                "session_pinned",
                format!("the session is pinned to its primary connection ({why})"),
            ));
        }
        let eligible = self.eligible();
        // A named replica (rule or hint: name, why, rule) when it can serve, else the usual
        // choice, saying why. Borrowed where it can be: this runs for every read.
        let mut wanted: Option<(Cow<'_, str>, Cow<'_, str>, &str)> = None;
        if let Some((rule, why, dest)) = self.rule_for(sql) {
            match dest {
                Dest::Primary => return Plan::Primary(self.primary_route(rule, why)),
                Dest::Replica(name) => {
                    wanted = Some((name.into(), format!("{rule}: {why}").into(), rule));
                }
            }
        }
        if let (Some(name), Some(why)) = (&cls.replica, &analysed.2.named) {
            wanted = Some((name.as_str().into(), why.as_str().into(), "hint"));
        }
        let written = session.and_then(SessionState::last_write);
        if let Some((_, at)) = written {
            let sticky = self.inner.config.sticky_after_write_ms;
            if sticky > 0 && at.elapsed() < Duration::from_millis(sticky) {
                return Plan::Primary(self.primary_route(
                    "sticky_after_write",
                    format!(
                        "the session wrote {} ms ago (sticky_after_write_ms = {sticky})",
                        at.elapsed().as_millis()
                    ),
                ));
            }
        }
        if eligible.is_empty() {
            return Plan::Fallback(self.primary_route(
                "no_replica_in_rotation",
                "a read, but every replica is out of rotation: the primary serves it",
            ));
        }
        let needs = written.map(|(lsn, _)| lsn);
        // Prefer replicas known to have replayed the session's last write.
        let caught_up: Option<Vec<Candidate>> = needs.map(|lsn| {
            eligible
                .iter()
                .filter(|c| self.replay_lsn(&c.name).is_some_and(|r| r >= lsn))
                .cloned()
                .collect()
        });
        let pool: &[Candidate] = match &caught_up {
            Some(c) if !c.is_empty() => c,
            _ => &eligible,
        };
        let hint = session.and_then(|s| s.hint.as_deref());
        let waits = caught_up.as_ref().is_some_and(Vec::is_empty);
        let wanted_name = match &wanted {
            Some((n, _, _)) if waits => Some(n.to_string()),
            _ => None,
        };
        let (name, mut reason, rule) = match wanted {
            Some((name, why, rule)) if pool.iter().any(|c| c.name == name) => {
                (name.into_owned(), why.into_owned(), rule)
            }
            Some((name, why, _)) => {
                let pick = self.inner.balancer.pick(pool, hint).unwrap_or_default();
                (
                    pick,
                    if eligible.iter().any(|c| c.name == name) {
                        format!("{why}, but {name} has not replayed the session's last write")
                    } else {
                        format!("{why}, but {name} is not in rotation")
                    },
                    "read",
                )
            }
            None => {
                let pick = self.inner.balancer.pick(pool, hint).unwrap_or_default();
                let why = match hint {
                    Some(h) => format!(
                        "{}; session affinity for '{h}' (rendezvous hashing)",
                        cls.reason
                    ),
                    None => analysed.2.chosen.clone(),
                };
                (pick, why, "read")
            }
        };
        let mut wait = None;
        if let Some(lsn) = needs {
            if waits {
                wait = Some(Wait {
                    lsn,
                    candidates: eligible.to_vec(),
                    wanted: wanted_name,
                    hint: hint.map(str::to_owned),
                    reason: reason.clone(),
                });
                reason.push_str(&format!(
                    "; read-your-writes: waits up to {} ms for a replica in rotation to replay {lsn}",
                    self.inner.config.read_your_writes_wait_ms
                ));
            } else {
                reason.push_str(&format!("; read-your-writes: it has replayed {lsn}"));
            }
        }
        let mut r = route(Target::Replica, name, rule, reason);
        r.needs_lsn = needs;
        Plan::Replica { route: r, wait }
    }

    /// The table or query rule that applies to `sql`: (rule, why, destination).
    fn rule_for(&self, sql: &str) -> Option<(&'static str, String, Dest)> {
        if !self.inner.query_rules.is_empty() {
            if let Ok(fp) =
                pg_query::fingerprint(sql, 0, pg_query::FingerprintOptions::FULL_RELNAME)
            {
                if let Some((_, d)) = self.inner.query_rules.iter().find(|(f, _)| *f == fp.value) {
                    return Some((
                        "query_rule",
                        "a [[router.query_rules]] entry of the same shape".into(),
                        d.clone(),
                    ));
                }
            }
        }
        if !self.inner.table_rules.is_empty() {
            if let Ok(parsed) = pg_query::parse(sql, 0) {
                for (t, _) in &parsed.tables {
                    let t = t.to_lowercase();
                    let short = t.rsplit('.').next().unwrap_or(&t).to_owned();
                    if let Some((name, d)) = self
                        .inner
                        .table_rules
                        .iter()
                        .find(|(n, _)| *n == t || *n == short)
                    {
                        return Some((
                            "table_rule",
                            format!("it reads {name} ([[router.table_rules]])"),
                            d.clone(),
                        ));
                    }
                }
            }
        }
        None
    }

    /// Where `sql` would go from the current task's session (if any) and why, without
    /// running it. A read that must wait for read-your-writes says so in `reason`.
    pub fn explain(&self, sql: &str) -> Route {
        let session = session::current();
        let pinned = session.as_ref().and_then(|s| {
            s.pinned
                .try_lock()
                .ok()
                .and_then(|p| p.as_ref().map(pin_reason))
        });
        let plan = self.plan(
            &self.analyse(sql),
            sql,
            session.as_deref(),
            pinned.as_deref(),
        );
        match plan {
            Plan::Primary(r) | Plan::Fallback(r) | Plan::Replica { route: r, .. } => r,
        }
    }
}
