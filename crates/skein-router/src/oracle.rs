//! The differential oracle: a real hot standby judges the classifier ([`crate::classify()`]).
//!
//! Every statement is classified, then checked against the standby of a disposable stack:
//!
//! - **Sent to a replica**: it runs on the standby inside `BEGIN TRANSACTION READ ONLY …
//!   ROLLBACK` and must succeed and leave the standby as it was: still in recovery
//!   (`pg_is_in_recovery()`), on the same timeline (`pg_control_checkpoint()`), with the same
//!   replication slots (`pg_replication_slots`), the same configuration (`pg_settings`, read
//!   on a connection of the oracle's own), replay not paused
//!   (`pg_get_wal_replay_pause_state()`), no backend of the oracle's terminated (a bystander
//!   connection still answers), and nothing left on its session after the rollback (advisory
//!   locks in `pg_locks`, `pg_prepared_statements`, `pg_listening_channels()`). A refusal
//!   that comes from being a standby (SQLSTATE 25006 `read_only_sql_transaction`, 55000
//!   `object_not_in_prerequisite_state`, or "recovery" in the message) or a changed state is a
//!   **disagreement**; an error about the statement's own arguments or objects (a data
//!   exception, an undefined object, …) is **inconclusive**: it says nothing of routing.
//! - **Sent to the primary for a reason that claims a replica would refuse it** (a write
//!   statement, a writable CTE, a locking clause, `SELECT … INTO`, or a function whose reason
//!   says it fails during recovery or in a read-only transaction): it runs the same way and must
//!   be refused. Run without error, it is a disagreement (the claim is wrong).
//! - **Sent to the primary for any other reason** (it acts on the node that runs it, changes
//!   the session, controls a transaction, …): not run — running `pg_promote()` on the judge
//!   would promote it.
//!
//! After a disagreement the oracle puts the standby back where it can (replay resumed, the
//! session's advisory locks released, `DISCARD ALL`) and takes a new baseline.

use serde::Serialize;
use skein_pg::Node;
use tokio_postgres::error::SqlState;

use crate::classify::{classify, Classification, Target};
use crate::error::{Error, Result};
use crate::functions::Functions;

/// How one statement came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The standby agrees: a replica-routed statement ran and changed nothing, or one claimed
    /// refused was refused.
    Agrees,
    /// The standby disagrees with the decision or its reason (see [`Verdict::detail`]).
    Disagrees,
    /// The statement failed for its own sake (its arguments, a missing object): no evidence.
    Inconclusive,
    /// Not run: sent to the primary for a reason the standby cannot check safely.
    NotRun,
}

/// The oracle's answer for one statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The statement.
    pub sql: String,
    /// The classifier's decision.
    pub target: Target,
    /// Its rule (`read`, `statement`, `function`, …).
    pub rule: &'static str,
    /// Its reason.
    pub reason: String,
    /// Whether the reason claims a replica would refuse the statement.
    pub claims_refusal: bool,
    /// How it came out.
    pub outcome: Outcome,
    /// What the standby said (its error, `SQLSTATE: message`) or what changed on it; `null`
    /// when it ran cleanly or was not run.
    pub detail: Option<String>,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} for {:?} ({}: {}){}: {}",
            self.outcome,
            self.target,
            self.rule,
            self.reason,
            self.detail
                .as_deref()
                .map(|d| format!("; the standby: {d}"))
                .unwrap_or_default(),
            self.sql
        )
    }
}

/// What the oracle compares before and after each statement.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StandbyState {
    in_recovery: bool,
    timeline: i64,
    slots: Vec<String>,
    settings: String,
    replay: String,
}

impl StandbyState {
    /// What differs from `before`, in words.
    fn changes_since(&self, before: &StandbyState) -> Vec<String> {
        let mut out = Vec::new();
        if self.in_recovery != before.in_recovery {
            out.push("it left recovery (promoted)".to_owned());
        }
        if self.timeline != before.timeline {
            out.push(format!(
                "its timeline moved from {} to {}",
                before.timeline, self.timeline
            ));
        }
        if self.slots != before.slots {
            out.push(format!(
                "its replication slots changed from {:?} to {:?}",
                before.slots, self.slots
            ));
        }
        if self.settings != before.settings {
            out.push("its configuration changed (pg_settings)".to_owned());
        }
        if self.replay != before.replay {
            out.push(format!(
                "replay went from {} to {}",
                before.replay, self.replay
            ));
        }
        out
    }
}

/// A connection of the oracle's own (taken out of the node's pool: it is never shared).
type Conn = deadpool_postgres::ClientWrapper;

/// The oracle on one hot standby (see the module header).
pub struct Oracle {
    node: Node,
    session: Conn,
    session_pid: i32,
    watch: Conn,
    bystander: Conn,
    bystander_pid: i32,
    baseline: StandbyState,
}

/// How long one statement under test may run on the standby (a longer one is inconclusive).
pub const STATEMENT_TIMEOUT: &str = "5s";

async fn own(node: &Node) -> Result<(Conn, i32)> {
    let c = deadpool_postgres::Object::take(node.client().await?);
    c.batch_execute(&format!("SET statement_timeout = '{STATEMENT_TIMEOUT}'"))
        .await
        .map_err(|e| pg(node, "setting statement_timeout", &e))?;
    let pid: i32 = c
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .map_err(|e| pg(node, "reading the backend pid", &e))?
        .get(0);
    Ok((c, pid))
}

fn pg(node: &Node, what: &str, e: &tokio_postgres::Error) -> Error {
    Error::Pg(skein_pg::Error::from_pg(node.name(), &node.addr, what, e))
}

impl Oracle {
    /// Opens the oracle's three connections to `standby` (a hot standby of a disposable
    /// stack: a wrong decision may change it) and takes the first baseline.
    ///
    /// Errors: the standby cannot be reached; `NotAStandby` (`InvalidInput`) when it is not in
    /// recovery.
    pub async fn connect(standby: &Node) -> Result<Oracle> {
        let (session, session_pid) = own(standby).await?;
        let (watch, _) = own(standby).await?;
        let (bystander, bystander_pid) = own(standby).await?;
        let mut o = Oracle {
            node: standby.clone(),
            session,
            session_pid,
            watch,
            bystander,
            bystander_pid,
            baseline: StandbyState {
                in_recovery: false,
                timeline: 0,
                slots: Vec::new(),
                settings: String::new(),
                replay: String::new(),
            },
        };
        o.baseline = o.state().await?;
        if !o.baseline.in_recovery {
            return Err(Error::NotAStandby(format!(
                "{} ({}) is not in recovery: the oracle judges on a hot standby of a disposable stack",
                standby.name(),
                standby.addr
            )));
        }
        Ok(o)
    }

    async fn state(&self) -> Result<StandbyState> {
        let row = self
            .watch
            .query_one(
                "SELECT pg_is_in_recovery(), \
                        (SELECT timeline_id::bigint FROM pg_control_checkpoint()), \
                        coalesce((SELECT array_agg(slot_name::text ORDER BY slot_name) FROM pg_replication_slots), '{}'), \
                        (SELECT md5(string_agg(name || '=' || coalesce(setting, ''), ',' ORDER BY name)) FROM pg_settings \
                          WHERE context NOT IN ('user', 'superuser')), \
                        pg_get_wal_replay_pause_state()",
                &[],
            )
            .await
            .map_err(|e| pg(&self.node, "reading the standby's state", &e))?;
        Ok(StandbyState {
            in_recovery: row.get(0),
            timeline: row.get(1),
            slots: row.get(2),
            settings: row.get(3),
            replay: row.get(4),
        })
    }

    /// What the statement left on the oracle's session after its rollback, in words.
    async fn leftovers(&self) -> Result<Vec<String>> {
        // The simple protocol: an extended-protocol query would itself be a prepared
        // statement of the session (tokio-postgres names them), so only SQL-level PREPAREs
        // (`from_sql`) count.
        let rows = self
            .session
            .simple_query(
                "SELECT (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()), \
                        (SELECT count(*) FROM pg_prepared_statements WHERE from_sql), \
                        (SELECT count(*) FROM pg_listening_channels())",
            )
            .await
            .map_err(|e| pg(&self.node, "reading the session's state", &e))?;
        let row = rows.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        });
        let n = |i: usize| -> i64 {
            row.and_then(|r| r.get(i))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let (locks, prepared, channels) = (n(0), n(1), n(2));
        let mut out = Vec::new();
        if locks > 0 {
            out.push(format!(
                "{locks} advisory lock(s) still held by the session"
            ));
        }
        if prepared > 0 {
            out.push(format!(
                "{prepared} prepared statement(s) left on the session"
            ));
        }
        if channels > 0 {
            out.push(format!("{channels} LISTEN channel(s) left on the session"));
        }
        Ok(out)
    }

    /// Classifies `sql` with `functions` and checks the decision on the standby.
    ///
    /// Errors: the oracle's own connections fail (not the statement: its failure is the
    /// verdict).
    pub async fn check(&mut self, sql: &str, functions: &Functions) -> Result<Verdict> {
        let c = classify(sql, functions);
        let claims = claims_refusal(&c, sql);
        let mut verdict = Verdict {
            sql: sql.to_owned(),
            target: c.target,
            rule: c.rule,
            reason: c.reason.clone(),
            claims_refusal: claims,
            outcome: Outcome::NotRun,
            detail: None,
        };
        if c.target == Target::Primary && !claims {
            return Ok(verdict);
        }
        let ran = self.run(sql).await?;
        if c.target == Target::Replica && self.session.is_closed() {
            // The statement ended the backend that ran it (or the standby went away).
            verdict.outcome = Outcome::Disagrees;
            verdict.detail = Some(format!(
                "the session's backend (pid {}) is gone after it",
                self.session_pid
            ));
            self.repair().await?;
            return Ok(verdict);
        }
        match (c.target, ran) {
            (Target::Replica, Ran::Ok) => {
                let mut changed = self.state().await?.changes_since(&self.baseline);
                changed.extend(self.leftovers().await?);
                if self.bystander.simple_query("SELECT 1").await.is_err() {
                    changed.push(format!(
                        "the oracle's bystander backend (pid {}) was terminated",
                        self.bystander_pid
                    ));
                }
                if changed.is_empty() {
                    verdict.outcome = Outcome::Agrees;
                } else {
                    verdict.outcome = Outcome::Disagrees;
                    verdict.detail = Some(changed.join("; "));
                    self.repair().await?;
                }
            }
            (Target::Replica, Ran::Refused(said)) => {
                verdict.outcome = Outcome::Disagrees;
                verdict.detail = Some(format!("refused it: {said}"));
            }
            (_, Ran::Failed(said)) => {
                verdict.outcome = Outcome::Inconclusive;
                verdict.detail = Some(said);
            }
            (Target::Primary, Ran::Refused(said)) => {
                verdict.outcome = Outcome::Agrees;
                verdict.detail = Some(said);
            }
            (Target::Primary, Ran::Ok) => {
                verdict.outcome = Outcome::Disagrees;
                verdict.detail = Some(
                    "ran it without error, though the reason says a replica would refuse it".into(),
                );
                self.repair().await?;
            }
        }
        Ok(verdict)
    }

    /// Runs `sql` on the session inside a read-only transaction that is rolled back.
    async fn run(&mut self, sql: &str) -> Result<Ran> {
        if self.session.is_closed() {
            let (s, pid) = own(&self.node).await?;
            (self.session, self.session_pid) = (s, pid);
        }
        self.session
            .batch_execute("BEGIN TRANSACTION READ ONLY")
            .await
            .map_err(|e| pg(&self.node, "starting a read-only transaction", &e))?;
        let result = self.session.simple_query(sql).await;
        let _ = self.session.batch_execute("ROLLBACK").await;
        Ok(match result {
            Ok(_) => Ran::Ok,
            Err(e) => {
                let code = e.code().cloned();
                let text = skein_core::conninfo::describe(&e);
                let said = match &code {
                    Some(c) => format!("{}: {text}", c.code()),
                    None => text.clone(),
                };
                let refusal = matches!(
                    code,
                    Some(SqlState::READ_ONLY_SQL_TRANSACTION)
                        | Some(SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE)
                ) || text.contains("recovery");
                if refusal {
                    Ran::Refused(said)
                } else {
                    Ran::Failed(said)
                }
            }
        })
    }

    /// Puts the standby back after a disagreement, as far as a client can, and takes a new
    /// baseline.
    async fn repair(&mut self) -> Result<()> {
        if self.session.is_closed() {
            (self.session, self.session_pid) = own(&self.node).await?;
        }
        let now = self.state().await?;
        if now.in_recovery && now.replay != "not paused" {
            let _ = self
                .watch
                .batch_execute("SELECT pg_wal_replay_resume()")
                .await;
        }
        let _ = self
            .session
            .batch_execute(&format!(
                "SELECT pg_advisory_unlock_all(); DISCARD ALL; SET statement_timeout = '{STATEMENT_TIMEOUT}'"
            ))
            .await;
        if self.bystander.is_closed() || self.bystander.simple_query("SELECT 1").await.is_err() {
            (self.bystander, self.bystander_pid) = own(&self.node).await?;
        }
        self.baseline = self.state().await?;
        Ok(())
    }

    /// The session's backend pid (what a statement under test sees as `pg_backend_pid()`).
    pub fn session_pid(&self) -> i32 {
        self.session_pid
    }

    /// The bystander's backend pid: a statement that terminates it is caught.
    pub fn bystander_pid(&self) -> i32 {
        self.bystander_pid
    }
}

enum Ran {
    Ok,
    /// Refused for being a standby or read-only.
    Refused(String),
    /// Failed for another reason.
    Failed(String),
}

/// Whether `c`'s reason claims that a replica would refuse the statement: the rules
/// `data_modifying`, `locking` and `select_into`; the rule `statement` for a statement that
/// writes rows or the schema (not one that changes the session, controls a transaction or
/// acts on the server); the rule `function` when the reason says the call fails during
/// recovery or in a read-only transaction.
pub fn claims_refusal(c: &Classification, sql: &str) -> bool {
    match c.rule {
        "data_modifying" | "locking" | "select_into" => true,
        "function" => {
            c.reason.contains("fails during recovery")
                || c.reason.contains("fails in a read-only transaction")
        }
        "statement" => writes_data_or_schema(sql),
        _ => false,
    }
}

/// A single statement that writes rows or the schema, one a read-only transaction refuses.
fn writes_data_or_schema(sql: &str) -> bool {
    use pg_query::NodeEnum as N;
    let Ok(parsed) = pg_query::parse(sql, 0) else {
        return false;
    };
    let [stmt] = parsed.protobuf.stmts.as_slice() else {
        return false;
    };
    let Some(node) = stmt.stmt.as_ref().and_then(|s| s.node.as_ref()) else {
        return false;
    };
    match node {
        N::InsertStmt(_) | N::UpdateStmt(_) | N::DeleteStmt(_) | N::MergeStmt(_) => true,
        N::CopyStmt(c) => c.is_from,
        N::CreateStmt(c) => {
            // A temporary table is refused too, but by another rule of recovery.
            c.relation.as_ref().is_none_or(|r| r.relpersistence != "t")
        }
        N::CreateTableAsStmt(_)
        | N::ViewStmt(_)
        | N::IndexStmt(_)
        | N::CreateSchemaStmt(_)
        | N::CreateSeqStmt(_)
        | N::CreateFunctionStmt(_)
        | N::DefineStmt(_)
        | N::CompositeTypeStmt(_)
        | N::CreateEnumStmt(_)
        | N::CreateDomainStmt(_)
        | N::AlterTableStmt(_)
        | N::RenameStmt(_)
        | N::DropStmt(_)
        | N::TruncateStmt(_)
        | N::CommentStmt(_)
        | N::GrantStmt(_)
        | N::RuleStmt(_)
        | N::CreateTrigStmt(_)
        | N::RefreshMatViewStmt(_)
        | N::AlterSeqStmt(_)
        | N::AlterDomainStmt(_)
        | N::AlterEnumStmt(_)
        | N::AlterObjectSchemaStmt(_)
        | N::AlterOwnerStmt(_)
        | N::CreatePolicyStmt(_)
        | N::AlterPolicyStmt(_) => true,
        _ => false,
    }
}

/// The figures of a run over a corpus.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Statements checked.
    pub statements: usize,
    /// Sent to a replica.
    pub to_replica: usize,
    /// Of those sent to the primary, claimed refused (and so run).
    pub claimed_refused: usize,
    /// By outcome.
    pub agrees: usize,
    /// Disagreements: each one is a failure.
    pub disagrees: usize,
    /// Failed for their own sake.
    pub inconclusive: usize,
    /// Sent to the primary and not run.
    pub not_run: usize,
}

impl std::fmt::Display for Tally {
    /// `16769 to a replica, 255 claimed refused; 15111 agree, 1913 inconclusive (…), …`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} to a replica, {} claimed refused; {} agree, {} inconclusive (failed on their own arguments), {} not run, {} disagree",
            self.to_replica,
            self.claimed_refused,
            self.agrees,
            self.inconclusive,
            self.not_run,
            self.disagrees
        )
    }
}

impl Tally {
    /// Counts `v`.
    pub fn add(&mut self, v: &Verdict) {
        self.statements += 1;
        if v.target == Target::Replica {
            self.to_replica += 1;
        } else if v.claims_refusal {
            self.claimed_refused += 1;
        }
        match v.outcome {
            Outcome::Agrees => self.agrees += 1,
            Outcome::Disagrees => self.disagrees += 1,
            Outcome::Inconclusive => self.inconclusive += 1,
            Outcome::NotRun => self.not_run += 1,
        }
    }
}
