//! The whole parse tree of one statement, walked: what the classifier's rules 5 to 8 look
//! for ([`crate::classify`]) — data-modifying statements, locking clauses, `SELECT … INTO`,
//! function calls, explicit operators and the relations read — in every node. The protobuf
//! tree is serialised and visited whole, so no field of any node is skipped (`pg_query`'s own
//! `nodes()` walk skips `VALUES` lists, `LIMIT`, `ARRAY[…]` and more).

use crate::functions::{Functions, NotSafe};

/// A function call in the parse tree: `schema.name(…)` with `nargs` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Call {
    pub(crate) schema: Option<String>,
    pub(crate) name: String,
    pub(crate) nargs: usize,
}

/// What the whole parse tree of one statement holds, for rules 5 to 8.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) data_modifying: bool,
    pub(crate) locking: bool,
    pub(crate) select_into: bool,
    pub(crate) calls: Vec<Call>,
    /// Operators used explicitly (`a + b`, `x = ANY (…)`, `LIKE`, `IN`): (schema, symbol).
    pub(crate) operators: Vec<(Option<String>, String)>,
    /// Relations named (tables, views, CTE names): (schema, name).
    pub(crate) relations: Vec<(Option<String>, String)>,
    /// Names of the CTEs it defines (a relation of that name, unqualified, is the CTE).
    pub(crate) ctes: Vec<String>,
}

/// For a view's definition (`pg_views.definition`): why reading the view is not safe on a
/// standby by the calls and operators it spells out (`None`: none found), and the relations
/// it reads (to follow views over views). A definition that does not parse is not safe.
pub(crate) fn view_definition(
    definition: &str,
    functions: &Functions,
) -> (Option<String>, Vec<(Option<String>, String)>) {
    let parsed = match pg_query::parse(definition, 0) {
        Ok(p) => p,
        Err(e) => {
            return (
                Some(format!("has a definition the parser rejects ({e})")),
                Vec::new(),
            )
        }
    };
    let mut why = None;
    let mut relations = Vec::new();
    for stmt in &parsed.protobuf.stmts {
        let found = Found::of(stmt);
        why = why.or_else(|| {
            found
                .unsafe_call(functions)
                .map(|n| format!("calls {}", n.why))
        });
        relations.extend(found.relations);
    }
    (why, relations)
}

impl Found {
    /// The first call or operator not known safe on a standby, and why.
    pub(crate) fn unsafe_call(&self, functions: &Functions) -> Option<NotSafe> {
        for call in &self.calls {
            if let Err(why) = functions.check_call(call.schema.as_deref(), &call.name, call.nargs) {
                return Some(why);
            }
        }
        for (schema, symbol) in &self.operators {
            if let Err(why) = functions.check_operator(schema.as_deref(), symbol) {
                return Some(why);
            }
        }
        None
    }

    /// Walks every node of `stmt`: the protobuf tree serialised (each node an object keyed by
    /// its type, `{"FuncCall": {…}}`) and visited whole, so no field of any node is skipped.
    pub(crate) fn of(stmt: &pg_query::protobuf::RawStmt) -> Found {
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
                        "CommonTableExpr" => {
                            if let Some(n) = inner.get("ctename").and_then(Value::as_str) {
                                self.ctes.push(n.to_owned());
                            }
                        }
                        "RangeVar" => {
                            let text = |k: &str| {
                                inner
                                    .get(k)
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned()
                            };
                            let schema = Some(text("schemaname")).filter(|s| !s.is_empty());
                            self.relations.push((schema, text("relname")));
                        }
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
                        "SortBy" => {
                            // ORDER BY … USING op.
                            let mut parts = names(inner.get("use_op"));
                            if let Some(symbol) = parts.pop() {
                                self.operators.push((parts.pop(), symbol));
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
