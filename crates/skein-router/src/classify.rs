//! Statement classification: may this SQL run on a replica?
//!
//! Rules, in order (the first that applies decides; [`Classification::rule`] names it):
//!
//! 1. `hint`: a comment `/* skein:primary */` or `/* skein:replica */` (`/* skein:replica=NAME */`)
//!    in the text ([`crate::hint`]). A replica hint on a statement that writes is overridden
//!    (rule 4 and below still send it to the primary): hints may only make routing more
//!    conservative or choose among replicas. A primary hint wins over a replica hint, and a
//!    `skein:` word the router does not know (a mistyped hint) sends it to the primary.
//! 2. `unparsable`: PostgreSQL's parser rejects it → primary.
//! 3. `multi_statement`: more than one statement in the string → primary.
//! 4. `statement`: the top-level statement is not a read — INSERT/UPDATE/DELETE/MERGE, DDL,
//!    COPY … FROM, CALL, DO, VACUUM/ANALYZE, transaction control (BEGIN, COMMIT, SAVEPOINT),
//!    session state (SET, PREPARE, DECLARE, LISTEN, NOTIFY, LOCK, DISCARD), … → primary. Only
//!    `SELECT` / `VALUES` / set operations, `EXPLAIN` of those (rule 5 checks the inside),
//!    `SHOW`, and `COPY (query) TO STDOUT` are reads.
//! 5. `data_modifying`: a data-modifying statement anywhere in the tree — a writable CTE
//!    (`WITH d AS (DELETE …) SELECT …`), `EXPLAIN ANALYZE` of a write → primary.
//! 6. `locking`: a locking clause anywhere (`FOR UPDATE`, `FOR NO KEY UPDATE`, `FOR SHARE`,
//!    `FOR KEY SHARE`, in subqueries and CTEs too) → primary.
//! 7. `select_into`: `SELECT … INTO t` creates a table → primary.
//! 8. `function`: a call, anywhere in the tree (target list, `WHERE`, `VALUES` lists, `ARRAY[…]`,
//!    `CASE`, `ORDER BY`, `LIMIT`, window and `FILTER` clauses, `FROM` functions, subqueries),
//!    of a function not known safe on a hot standby → primary. Safe is an allow-list
//!    ([`crate::functions`]): the function must be in the primary's `pg_proc` and safe there;
//!    unknown, misspelled or volatile-and-not-allowed calls (`pg_promote()`, `nextval()`,
//!    `txid_current()`, advisory locks, …) name the function and why in the reason.
//! 9. `read`: everything else → a replica.
//!
//! Rules 5 to 8 look at every node of the parse tree (`walk.rs`: the tree serialised
//! and walked whole, so no expression position is skipped). Rule 8 also checks explicit
//! operators (`a ### b`, `ORDER BY … USING`: the functions they call), the views the statement
//! reads (the calls and operators of their definitions, views over views followed) and that
//! every relation it reads is known. Calls the statement does not spell out otherwise — inside
//! casts, the implicit comparisons of `DISTINCT` or `GROUP BY`, column defaults or row-level
//! policies — are not seen; replica connections are read-only at the server, so one that
//! writes fails there and is retried on the primary.

use serde::{Deserialize, Serialize};

/// Where a statement may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Only the primary.
    Primary,
    /// A replica (or the primary).
    Replica,
}

/// The decision and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    /// Primary or replica.
    pub target: Target,
    /// The rule that decided (`statement`, `locking`, `function`, …; see the module header).
    pub rule: &'static str,
    /// For a person: what in the statement decided it.
    pub reason: String,
    /// The replica a `/* skein:replica=NAME */` hint names.
    pub replica: Option<String>,
    /// The decision rests on a name the catalog the router read does not hold (a function,
    /// operator or relation created since, or misspelled): a reload may change it.
    pub unknown_name: bool,
}

pub use crate::functions::Functions;
use crate::hint::Hint;
use crate::walk::Found;

fn primary(rule: &'static str, reason: impl Into<String>) -> Classification {
    Classification {
        target: Target::Primary,
        rule,
        reason: reason.into(),
        replica: None,
        unknown_name: false,
    }
}

fn not_safe(n: crate::functions::NotSafe) -> Classification {
    Classification {
        unknown_name: n.unknown,
        ..primary("function", n.why)
    }
}

/// Classifies one SQL string (see the module header for the rules).
pub fn classify(sql: &str, functions: &Functions) -> Classification {
    let hints = crate::hint::hints(sql);
    if hints.contains(&Hint::Primary) {
        return primary("hint", "/* skein:primary */ in the statement");
    }
    if let Some(Hint::Unknown(word)) = hints.iter().find(|h| matches!(h, Hint::Unknown(_))) {
        return primary(
            "hint",
            format!(
                "/* skein:{word} */ is not a hint Skein knows (primary, replica, replica=NAME, \
                 cache): taken for a mistyped one, the statement goes to the primary"
            ),
        );
    }
    let hinted = hints.into_iter().find_map(|h| match h {
        Hint::Replica(name) => Some(name),
        _ => None,
    });
    let parsed = match pg_query::parse(sql, 0) {
        Ok(p) => p,
        Err(e) => {
            return primary(
                "unparsable",
                format!(
                    "PostgreSQL's parser rejects it ({e}); unknown statements go to the primary"
                ),
            )
        }
    };
    let stmts = &parsed.protobuf.stmts;
    if stmts.is_empty() {
        return primary("unparsable", "no statement in the string");
    }
    if stmts.len() > 1 {
        return primary(
            "multi_statement",
            format!(
                "{} statements in one string run as one transaction; they go to the primary",
                stmts.len()
            ),
        );
    }
    use pg_query::NodeEnum as N;
    let top = stmts[0].stmt.as_ref().and_then(|s| s.node.as_ref());
    match top {
        Some(N::SelectStmt(_)) | Some(N::ExplainStmt(_)) | Some(N::VariableShowStmt(_)) => {}
        Some(N::CopyStmt(c)) if !c.is_from && c.filename.is_empty() && !c.is_program => {}
        Some(N::CopyStmt(c)) if c.is_from => {
            return primary("statement", "COPY … FROM writes rows")
        }
        Some(N::CopyStmt(_)) => {
            return primary(
                "statement",
                "COPY … TO a file or program runs on the server's file system",
            )
        }
        Some(other) => {
            let kind = format!("{other:?}");
            let kind = kind.split('(').next().unwrap_or("statement").to_owned();
            return primary(
                "statement",
                format!("{kind} is not a read (it writes, changes the schema or the session, or controls a transaction)"),
            );
        }
        None => return primary("unparsable", "an empty statement"),
    }
    let found = Found::of(&stmts[0]);
    if found.data_modifying {
        return primary(
            "data_modifying",
            "a data-modifying statement inside it (a writable CTE, or EXPLAIN ANALYZE of a write)",
        );
    }
    if found.locking {
        return primary(
            "locking",
            "a locking clause (FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE) takes row locks",
        );
    }
    if found.select_into {
        return primary("select_into", "SELECT … INTO creates a table");
    }
    if let Some(n) = found.unsafe_call(functions) {
        return not_safe(n);
    }
    for (schema, name) in &found.relations {
        if schema.is_none() && found.ctes.contains(name) {
            continue;
        }
        if let Err(n) = functions.check_relation(schema.as_deref(), name) {
            return not_safe(n);
        }
    }
    Classification {
        target: Target::Replica,
        rule: if hinted.is_some() { "hint" } else { "read" },
        reason: match &hinted {
            Some(Some(n)) => {
                format!("a read; /* skein:replica={n} */ names the replica")
            }
            _ => {
                "a read: no write, lock or state change in its parse tree, and every function it calls is known safe on a standby".into()
            }
        },
        replica: hinted.flatten(),
        unknown_name: false,
    }
}

/// What running a statement does to the session that runs it (the router keeps such a
/// session on one primary connection; see `crate::session`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Nothing that outlives the statement.
    None,
    /// Opens a transaction block (`BEGIN`, `START TRANSACTION`).
    Begin,
    /// Ends one (`COMMIT`, `ROLLBACK`, `END`, `ABORT`, `PREPARE TRANSACTION`).
    End,
    /// Leaves state on the connection: `SET` (not `SET LOCAL`), `PREPARE`, `DECLARE … WITH
    /// HOLD`, `LISTEN`, a temporary table, view or sequence, `LOAD`. The text says which.
    SessionState(String),
    /// Changes the schema (DDL: tables, views, functions, operators, schemas, extensions): the
    /// router reloads its catalog ([`crate::functions`]) afterwards.
    Ddl,
}

/// The [`Effect`] of a single statement, from its parse tree; `Effect::None` for a string
/// that does not parse. A string of several statements runs as one unit on the primary, and
/// what it leaves behind on its connection is its effect: session state set by any of them
/// (`SET x; SELECT …`) is `SessionState`, a transaction left open (`BEGIN; UPDATE …`) is
/// `Begin` — so the connection is pinned to the session, never returned to the pool with it —
/// else `Ddl` when one of them changes the schema (the catalog is read again after it), else
/// `None`.
pub fn effect(sql: &str) -> Effect {
    let Ok(parsed) = pg_query::parse(sql, 0) else {
        return Effect::None;
    };
    match parsed.protobuf.stmts.as_slice() {
        [stmt] => statement_effect(stmt),
        stmts => {
            let (mut open, mut state, mut ddl) = (false, None, false);
            for e in stmts.iter().map(statement_effect) {
                match e {
                    Effect::Begin => open = true,
                    Effect::End => open = false,
                    Effect::SessionState(w) => state = state.or(Some(w)),
                    Effect::Ddl => ddl = true,
                    Effect::None => {}
                }
            }
            match (state, open, ddl) {
                (Some(w), _, _) => Effect::SessionState(w),
                (None, true, _) => Effect::Begin,
                (None, false, true) => Effect::Ddl,
                _ => Effect::None,
            }
        }
    }
}

fn statement_effect(stmt: &pg_query::protobuf::RawStmt) -> Effect {
    use pg_query::protobuf::TransactionStmtKind as K;
    use pg_query::NodeEnum as N;
    let temp = |rel: &Option<pg_query::protobuf::RangeVar>| {
        rel.as_ref().is_some_and(|r| r.relpersistence == "t")
    };
    match stmt.stmt.as_ref().and_then(|s| s.node.as_ref()) {
        Some(N::TransactionStmt(t)) => match t.kind() {
            K::TransStmtBegin | K::TransStmtStart => Effect::Begin,
            K::TransStmtCommit | K::TransStmtRollback | K::TransStmtPrepare => Effect::End,
            _ => Effect::None,
        },
        Some(N::VariableSetStmt(v)) if !v.is_local => Effect::SessionState("SET".into()),
        Some(N::PrepareStmt(_)) => Effect::SessionState("PREPARE".into()),
        Some(N::DeclareCursorStmt(d)) if d.options & 0x0020 != 0 => {
            Effect::SessionState("DECLARE … WITH HOLD".into())
        }
        Some(N::ListenStmt(_)) => Effect::SessionState("LISTEN".into()),
        Some(N::LoadStmt(_)) => Effect::SessionState("LOAD".into()),
        Some(N::CreateStmt(c)) if temp(&c.relation) => {
            Effect::SessionState("a temporary table".into())
        }
        Some(N::CreateTableAsStmt(c)) if c.into.as_ref().is_some_and(|i| temp(&i.rel)) => {
            Effect::SessionState("a temporary table".into())
        }
        Some(N::ViewStmt(v)) if temp(&v.view) => Effect::SessionState("a temporary view".into()),
        Some(N::CreateSeqStmt(s)) if temp(&s.sequence) => {
            Effect::SessionState("a temporary sequence".into())
        }
        Some(N::SelectStmt(s)) if s.into_clause.as_ref().is_some_and(|i| temp(&i.rel)) => {
            Effect::SessionState("a temporary table".into())
        }
        Some(
            N::CreateStmt(_)
            | N::AlterTableStmt(_)
            | N::DropStmt(_)
            | N::CreateFunctionStmt(_)
            | N::AlterFunctionStmt(_)
            | N::RenameStmt(_)
            | N::AlterObjectSchemaStmt(_)
            | N::CreateSchemaStmt(_)
            | N::CreateExtensionStmt(_)
            | N::AlterExtensionStmt(_)
            | N::ViewStmt(_)
            | N::CreateTableAsStmt(_)
            | N::DefineStmt(_)
            | N::CreateForeignTableStmt(_),
        ) => Effect::Ddl,
        _ => Effect::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_read_from_comments() {
        let none = Functions::default();
        assert_eq!(
            classify("/* skein:primary */ SELECT 1", &none).target,
            Target::Primary
        );
        let c = classify("SELECT 1 /* skein:replica=replica2 */", &none);
        assert_eq!(
            (c.target, c.replica.as_deref()),
            (Target::Replica, Some("replica2"))
        );
        let w = classify("/* skein:replica */ DELETE FROM t", &none);
        assert_eq!(
            w.target,
            Target::Primary,
            "a hint never sends a write to a replica"
        );
    }

    #[test]
    fn effects_name_what_outlives_the_statement() {
        assert_eq!(effect("BEGIN"), Effect::Begin);
        assert_eq!(effect("start transaction read write"), Effect::Begin);
        assert_eq!(effect("COMMIT"), Effect::End);
        assert_eq!(effect("rollback"), Effect::End);
        assert_eq!(effect("SAVEPOINT a"), Effect::None);
        assert_eq!(
            effect("SET work_mem = '64MB'"),
            Effect::SessionState("SET".into())
        );
        assert_eq!(effect("SET LOCAL work_mem = '64MB'"), Effect::None);
        assert_eq!(
            effect("CREATE TEMP TABLE t (a int)"),
            Effect::SessionState("a temporary table".into())
        );
        assert_eq!(
            effect("CREATE TEMPORARY TABLE t AS SELECT 1"),
            Effect::SessionState("a temporary table".into())
        );
        assert_eq!(
            effect("SELECT 1 INTO TEMP t"),
            Effect::SessionState("a temporary table".into())
        );
        assert_eq!(
            effect("PREPARE q AS SELECT 1"),
            Effect::SessionState("PREPARE".into())
        );
        assert_eq!(
            effect("DECLARE c CURSOR WITH HOLD FOR SELECT 1"),
            Effect::SessionState("DECLARE … WITH HOLD".into())
        );
        assert_eq!(effect("DECLARE c CURSOR FOR SELECT 1"), Effect::None);
        assert_eq!(effect("CREATE TABLE t (a int)"), Effect::Ddl);
        assert_eq!(
            effect("CREATE TABLE t (a int); INSERT INTO t VALUES (1)"),
            Effect::Ddl
        );
        assert_eq!(effect("SELECT 1; SELECT 2"), Effect::None);
        // What a string of statements leaves on its connection pins it.
        assert_eq!(
            effect("SET statement_timeout = 100; SELECT 1"),
            Effect::SessionState("SET".into())
        );
        assert_eq!(effect("BEGIN; UPDATE t SET a = 1"), Effect::Begin);
        assert_eq!(effect("BEGIN; UPDATE t SET a = 1; COMMIT"), Effect::None);
        assert_eq!(
            effect("BEGIN; SET LOCAL work_mem = '1MB'; COMMIT"),
            Effect::None
        );
        assert_eq!(
            effect("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
            Effect::Ddl
        );
        assert_eq!(effect("CREATE VIEW v AS SELECT 1"), Effect::Ddl);
        assert_eq!(
            effect("CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = int, FUNCTION = f)"),
            Effect::Ddl
        );
        assert_eq!(
            effect("CREATE TEMP VIEW v AS SELECT 1"),
            Effect::SessionState("a temporary view".into())
        );
        assert_eq!(effect("SELECT 1"), Effect::None);
    }

    #[test]
    fn an_unknown_catalog_sends_calls_and_relation_reads_to_the_primary() {
        let f = Functions::unknown();
        assert_eq!(classify("SELECT lower('A')", &f).target, Target::Primary);
        assert_eq!(classify("SELECT 1 + 1", &f).target, Target::Primary);
        let t = classify("SELECT a FROM t", &f);
        assert_eq!(t.target, Target::Primary);
        assert!(
            t.reason.contains("pg_proc has not been read yet"),
            "{}",
            t.reason
        );
        assert_eq!(classify("SELECT 1", &f).target, Target::Replica);
    }
}
