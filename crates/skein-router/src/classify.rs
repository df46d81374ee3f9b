//! Statement classification: may this SQL run on a replica?
//!
//! Rules, in order (the first that applies decides; [`Classification::rule`] names it):
//!
//! 1. `hint`: a comment `/* skein:primary */` or `/* skein:replica */` (`/* skein:replica=NAME */`)
//!    in the text. A replica hint on a statement that writes is overridden (rule 4 and below
//!    still send it to the primary): hints may only make routing more conservative or choose
//!    among replicas.
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
//! Rules 5 to 8 look at every node of the parse tree (the tree serialised and walked whole, so
//! no expression position is skipped); rule 8 checks explicit operators too (the functions
//! they call). Calls the statement does not spell out — inside views, casts, the implicit
//! comparisons of `DISTINCT` or `GROUP BY`, column defaults or row-level policies — are not
//! seen; replica
//! connections are read-only at the server, so one that writes fails there and is retried on
//! the primary.

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
}

pub use crate::functions::Functions;

fn primary(rule: &'static str, reason: impl Into<String>) -> Classification {
    Classification {
        target: Target::Primary,
        rule,
        reason: reason.into(),
        replica: None,
    }
}

/// The `skein:` hint in the statement's comments, if any: `Some(None)` for `primary`,
/// `Some(Some(name))` for `replica=NAME` (`Some(Some(""))` for a plain `replica`).
fn hint(sql: &str) -> Option<Option<String>> {
    let mut rest = sql;
    while let Some(start) = rest.find("/*") {
        let after = &rest[start + 2..];
        let end = after.find("*/")?;
        let body = after[..end].trim();
        if let Some(h) = body.strip_prefix("skein:") {
            let h = h.trim();
            if h == "primary" {
                return Some(None);
            }
            if h == "replica" {
                return Some(Some(String::new()));
            }
            if let Some(name) = h.strip_prefix("replica=") {
                return Some(Some(name.trim().to_owned()));
            }
        }
        rest = &after[end + 2..];
    }
    None
}

/// Classifies one SQL string (see the module header for the rules).
pub fn classify(sql: &str, functions: &Functions) -> Classification {
    let hinted = hint(sql);
    if hinted == Some(None) {
        return primary("hint", "/* skein:primary */ in the statement");
    }
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
    for call in &found.calls {
        if let Err(why) = functions.check_call(call.schema.as_deref(), &call.name, call.nargs) {
            return primary("function", why);
        }
    }
    for (schema, symbol) in &found.operators {
        if let Err(why) = functions.check_operator(schema.as_deref(), symbol) {
            return primary("function", why);
        }
    }
    Classification {
        target: Target::Replica,
        rule: if hinted.is_some() { "hint" } else { "read" },
        reason: match &hinted {
            Some(Some(n)) if !n.is_empty() => {
                format!("a read; /* skein:replica={n} */ names the replica")
            }
            _ => {
                "a read: no write, lock or state change in its parse tree, and every function it calls is known safe on a standby".into()
            }
        },
        replica: hinted.flatten().filter(|n| !n.is_empty()),
    }
}

/// A function call in the parse tree: `schema.name(…)` with `nargs` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Call {
    schema: Option<String>,
    name: String,
    nargs: usize,
}

/// What the whole parse tree of one statement holds, for rules 5 to 8.
#[derive(Debug, Default)]
struct Found {
    data_modifying: bool,
    locking: bool,
    select_into: bool,
    calls: Vec<Call>,
    /// Operators used explicitly (`a + b`, `x = ANY (…)`, `LIKE`, `IN`): (schema, symbol).
    operators: Vec<(Option<String>, String)>,
}

impl Found {
    /// Walks every node of `stmt`: the protobuf tree serialised (each node an object keyed by
    /// its type, `{"FuncCall": {…}}`) and visited whole, so no field of any node is skipped.
    fn of(stmt: &pg_query::protobuf::RawStmt) -> Found {
        let mut found = Found::default();
        match serde_json::to_value(stmt) {
            Ok(tree) => found.walk(&tree),
            // Cannot happen for a tree the parser built; if it did, nothing would be known
            // safe: say a function is called that no catalog knows.
            Err(_) => found.calls.push(Call {
                schema: None,
                name: "(unreadable parse tree)".into(),
                nargs: 0,
            }),
        }
        found
    }

    fn walk(&mut self, v: &serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::Object(m) => {
                for (k, inner) in m {
                    match k.as_str() {
                        "InsertStmt" | "UpdateStmt" | "DeleteStmt" | "MergeStmt" => {
                            self.data_modifying = true
                        }
                        "SelectStmt" => {
                            if inner
                                .get("locking_clause")
                                .and_then(Value::as_array)
                                .is_some_and(|l| !l.is_empty())
                            {
                                self.locking = true;
                            }
                            if inner.get("into_clause").is_some_and(|i| !i.is_null()) {
                                self.select_into = true;
                            }
                        }
                        "FuncCall" => self.calls.push(call(inner)),
                        "AExpr" => {
                            // Kinds 1–10 name an operator (`=` for IN and NULLIF, `~~` for
                            // LIKE); the BETWEEN kinds (11–14) name the keyword.
                            let kind = inner.get("kind").and_then(Value::as_i64).unwrap_or(0);
                            let mut parts = names(inner.get("name"));
                            if (1..=10).contains(&kind) {
                                if let Some(symbol) = parts.pop() {
                                    self.operators.push((parts.pop(), symbol));
                                }
                            }
                        }
                        _ => {}
                    }
                    self.walk(inner);
                }
            }
            Value::Array(items) => items.iter().for_each(|x| self.walk(x)),
            _ => {}
        }
    }
}

/// The strings of a serialised list of `String` nodes (a qualified name).
fn names(list: Option<&serde_json::Value>) -> Vec<String> {
    list.and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|n| n.pointer("/node/String/sval").and_then(|s| s.as_str()))
        .map(str::to_owned)
        .collect()
}

/// The name and argument count of a serialised `FuncCall` (`count(*)` has none).
fn call(f: &serde_json::Value) -> Call {
    let parts = names(f.get("funcname"));
    let nargs = f
        .get("args")
        .and_then(serde_json::Value::as_array)
        .map_or(0, Vec::len);
    let (schema, name) = match parts.as_slice() {
        [] => (None, String::new()),
        [name] => (None, name.clone()),
        [.., schema, name] => (Some(schema.clone()), name.clone()),
    };
    Call {
        schema,
        name,
        nargs,
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
    /// Changes the schema (DDL): the router reloads function volatility afterwards.
    Ddl,
}

/// The [`Effect`] of a single statement, from its parse tree; `Effect::None` for a string
/// that does not parse or holds several statements (those run as one unit on the primary).
pub fn effect(sql: &str) -> Effect {
    use pg_query::protobuf::TransactionStmtKind as K;
    use pg_query::NodeEnum as N;
    let Ok(parsed) = pg_query::parse(sql, 0) else {
        return Effect::None;
    };
    let [stmt] = parsed.protobuf.stmts.as_slice() else {
        return Effect::None;
    };
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
            | N::AlterExtensionStmt(_),
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
            effect("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
            Effect::Ddl
        );
        assert_eq!(effect("SELECT 1"), Effect::None);
        assert_eq!(effect("SELECT 1; SELECT 2"), Effect::None);
    }

    fn catalog() -> Functions {
        let p = |schema: &str, name: &str, nargs: u16, ndefaults: u16, v: &str, builtin: bool| {
            crate::functions::Proc {
                schema: schema.into(),
                name: name.into(),
                nargs,
                ndefaults,
                variadic: false,
                volatility: crate::functions::Volatility::from_code(v),
                builtin,
            }
        };
        let mut concat = p("pg_catalog", "concat", 1, 0, "s", true);
        concat.variadic = true;
        Functions::from_procs([
            p("pg_catalog", "lower", 1, 0, "i", true),
            p("pg_catalog", "now", 0, 0, "s", true),
            p("pg_catalog", "count", 0, 0, "i", true),
            p("pg_catalog", "count", 1, 0, "i", true),
            p("pg_catalog", "random", 0, 0, "v", true),
            p("pg_catalog", "pg_promote", 2, 2, "v", true),
            p("pg_catalog", "nextval", 1, 0, "v", true),
            p("pg_catalog", "txid_current", 0, 0, "s", true),
            p("pg_catalog", "pg_stat_clear_snapshot", 0, 0, "v", true),
            p("app", "price", 1, 0, "s", false),
            p("app", "bump", 0, 0, "v", false),
            p("app", "upper", 1, 0, "v", false),
            p("pg_catalog", "upper", 1, 0, "i", true),
            concat,
        ])
    }

    #[test]
    fn only_functions_known_safe_on_a_standby_go_to_a_replica() {
        let f = catalog();
        for sql in [
            "SELECT lower('A'), now(), random(), count(*) FROM t",
            "SELECT app.price(2)",
            "SELECT concat('a', 'b', 'c'), concat('a')",
            "SELECT pg_catalog.lower('A')",
        ] {
            let c = classify(sql, &f);
            assert_eq!(
                (c.target, c.rule),
                (Target::Replica, "read"),
                "{sql}: {c:?}"
            );
        }
        let why = |sql: &str| {
            let c = classify(sql, &f);
            assert_eq!(
                (c.target, c.rule),
                (Target::Primary, "function"),
                "{sql}: {c:?}"
            );
            c.reason
        };
        // pg_promote() in any spelling and position.
        for sql in [
            "SELECT pg_promote()",
            "SELECT pg_catalog.pg_promote()",
            "SELECT pg_promote(true, 60)",
            "SELECT * FROM (SELECT pg_promote()) s",
            "VALUES (1), (pg_promote()::int)",
            "SELECT 1 WHERE EXISTS (SELECT pg_promote())",
            "EXPLAIN ANALYZE SELECT pg_promote()",
        ] {
            assert!(why(sql).contains("promotes"), "{sql}");
        }
        // nextval() in the expression positions a partial walk misses.
        for sql in [
            "VALUES (nextval('s'))",
            "SELECT ARRAY[nextval('s')]",
            "SELECT CASE WHEN lower('a') = 'a' THEN nextval('s') END",
            "SELECT 1 ORDER BY nextval('s')",
            "SELECT 1 LIMIT nextval('s')",
            "SELECT count(*) FILTER (WHERE nextval('s') > 0) FROM t",
            "SELECT count(*) OVER (ORDER BY nextval('s')) FROM t",
            "SELECT * FROM t WHERE id IN (VALUES (nextval('s')))",
            "SELECT (SELECT nextval('s'))[1]",
        ] {
            assert!(why(sql).starts_with("nextval()"), "{sql}");
        }
        assert!(why("SELECT txid_current()").contains("fails during recovery"));
        assert!(why("SELECT pg_stat_clear_snapshot()").contains("volatile built-in"));
        assert!(why("SELECT app.bump()").contains("volatile user function"));
        // Unqualified, a name may resolve to any schema's function of that name.
        assert!(why("SELECT upper('a')").contains("may resolve to app.upper"));
        // Unknown is not known safe: misspelled, another schema, another argument count.
        assert!(why("SELECT lowr('A')").contains("lowr() is not in pg_proc"));
        assert!(why("SELECT other.lower('A')").contains("other.lower() is not in pg_proc"));
        assert!(why("SELECT lower('A', 'B')").contains("with 2 argument(s) is not in pg_proc"));
        assert!(why("SELECT \"Lower\"('A')").contains("not in pg_proc"));
        // A locking read hidden in a VALUES list is still a locking read.
        let l = classify("VALUES ((SELECT 1 FROM t FOR UPDATE))", &f);
        assert_eq!((l.target, l.rule), (Target::Primary, "locking"));
    }

    #[test]
    fn operators_are_checked_by_the_functions_they_call() {
        let code = |schema: &str, name: &str, v: &str, builtin: bool| crate::functions::Proc {
            schema: schema.into(),
            name: name.into(),
            nargs: 2,
            ndefaults: 0,
            variadic: false,
            volatility: crate::functions::Volatility::from_code(v),
            builtin,
        };
        let f = catalog().with_operators([
            (
                "pg_catalog".into(),
                "+".into(),
                code("pg_catalog", "int4pl", "i", true),
            ),
            (
                "pg_catalog".into(),
                "=".into(),
                code("pg_catalog", "int4eq", "i", true),
            ),
            (
                "pg_catalog".into(),
                "~~".into(),
                code("pg_catalog", "textlike", "i", true),
            ),
            (
                "app".into(),
                "###".into(),
                code("app", "bump_pair", "v", false),
            ),
        ]);
        for sql in [
            "SELECT 1 + 2",
            "SELECT 1 OPERATOR(pg_catalog.+) 2",
            "SELECT 'a' LIKE 'b'",
            "SELECT 1 IN (1, 2), 1 = ANY (ARRAY[1])",
            "SELECT 1 BETWEEN 0 AND 2",
        ] {
            assert_eq!(classify(sql, &f).target, Target::Replica, "{sql}");
        }
        let c = classify("VALUES (1 ### 2)", &f);
        assert_eq!((c.target, c.rule), (Target::Primary, "function"));
        assert!(
            c.reason.contains("operator app.### calls app.bump_pair()"),
            "{}",
            c.reason
        );
        let u = classify("SELECT 1 OPERATOR(other.+) 2", &f);
        assert!(u.reason.contains("not in pg_operator"), "{}", u.reason);
        assert_eq!(classify("SELECT 1 ## 2", &f).target, Target::Primary);
    }

    #[test]
    fn unknown_volatility_sends_function_calls_to_the_primary() {
        let f = Functions::unknown();
        assert_eq!(classify("SELECT lower('A')", &f).target, Target::Primary);
        assert_eq!(classify("SELECT 1", &f).target, Target::Replica);
    }
}
