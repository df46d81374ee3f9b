//! What the classifier knows of functions: an allow-list built from the primary's `pg_proc`
//! (only calls known safe on a hot standby go to a replica).
//!
//! A call is replica-safe only when **every** function it may resolve to is known and safe:
//!
//! - **Known**: in `pg_proc` (`pg_catalog` included) under that name — in the named schema for
//!   a qualified call, in any schema for an unqualified one (the session's `search_path` is not
//!   known, so every schema counts) — with an argument count the call can match (defaults and
//!   `VARIADIC` considered). Unknown — misspelled, created after `pg_proc` was read, in a
//!   schema the catalog does not hold — is not known safe: the statement goes to the primary
//!   with "not in pg_proc".
//! - **Safe, built-in** (oid below 16384, `FirstNormalObjectId`): immutable or stable, except
//!   [`UNSAFE_BUILTINS`] (those that fail in recovery, such as `txid_current()`, or act on the
//!   node that runs them); volatile only when on [`SAFE_VOLATILE_BUILTINS`], the volatile
//!   built-ins measured to run on a PostgreSQL 15 hot standby inside `BEGIN READ ONLY` without
//!   an effect beyond the statement (`random()`, `clock_timestamp()`, `pg_sleep()`, replay
//!   status, sizes, …). Every other volatile built-in (admin functions such as `pg_promote()`,
//!   which promotes a standby whatever the transaction mode, WAL control, sequences, advisory
//!   locks, large objects, `pg_notify()`, `set_config()`) goes to the primary.
//! - **Safe, user or extension function** (oid 16384 and up): immutable or stable only
//!   (an aggregate: the most volatile of its support functions). PostgreSQL refuses writes
//!   inside a non-volatile function, so a stable or immutable user function cannot write; a
//!   volatile one may write or act on the node, so it goes to the primary. (A function that
//!   lies about its volatility — stable, yet calling an admin function — is not caught: its
//!   author promised it has no side effects.)
//! - **Operators** are function calls in other words: an operator (`a ### b`,
//!   `OPERATOR(app.###)`) is safe when every operator of that symbol in `pg_operator` (in the
//!   named schema, if any) calls a safe function; one not in `pg_operator` is not known safe.
//! - **Views** run the calls of their definitions: reading a view (`pg_views`; by name in any
//!   schema when unqualified) is safe when its definition's calls and operators are, and the
//!   views it reads are. A relation that is neither a view nor a table of `pg_class` (created
//!   since the catalog was read, so perhaps a view) is not known safe either.
//!
//! A decision that rests on an unknown name says so ([`NotSafe`]`::unknown`,
//! `Classification::unknown_name`): the router then reloads the catalog (at most every
//! `CATALOG_RELOAD_MS`), so a function, operator, view or table created since is known after
//! the next reload.

use std::collections::HashMap;

use skein_pg::Node;

use crate::error::Result;

mod builtins;
#[cfg(test)]
mod tests;

pub use builtins::{SAFE_VOLATILE_BUILTINS, UNSAFE_BUILTINS};

/// `pg_proc.provolatile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Volatility {
    /// `i`: same result for the same arguments, no database access.
    Immutable,
    /// `s`: same result within a statement; reads only.
    Stable,
    /// `v`: may change anything.
    Volatile,
}

impl Volatility {
    /// From `pg_proc.provolatile` (`i`, `s`, `v`); anything else counts as volatile.
    pub fn from_code(code: &str) -> Volatility {
        match code {
            "i" => Volatility::Immutable,
            "s" => Volatility::Stable,
            _ => Volatility::Volatile,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Volatility::Immutable => "immutable",
            Volatility::Stable => "stable",
            Volatility::Volatile => "volatile",
        }
    }
}

/// One `pg_proc` row as the classifier sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    /// `pg_namespace.nspname`.
    pub schema: String,
    /// `pg_proc.proname` (as stored: unquoted identifiers are lower case).
    pub name: String,
    /// `pronargs`: declared input arguments.
    pub nargs: u16,
    /// `pronargdefaults`: how many of them have defaults.
    pub ndefaults: u16,
    /// `provariadic <> 0`: the last argument takes any number of values.
    pub variadic: bool,
    /// `provolatile` (for an aggregate: the most volatile of it and its support functions).
    pub volatility: Volatility,
    /// Built into PostgreSQL (`oid < 16384`), as opposed to a user or extension function.
    pub builtin: bool,
}

impl Proc {
    fn accepts(&self, nargs: usize) -> bool {
        let (n, d) = (usize::from(self.nargs), usize::from(self.ndefaults));
        (n.saturating_sub(d)..=n).contains(&nargs) || (self.variadic && nargs + 1 >= n)
    }

    /// `None` when a call of it may run on a hot standby, else why not.
    fn unsafe_reason(&self) -> Option<String> {
        if self.builtin {
            if let Some((_, why)) = UNSAFE_BUILTINS.iter().find(|(n, _)| *n == self.name) {
                return Some((*why).to_owned());
            }
            return match self.volatility {
                Volatility::Immutable | Volatility::Stable => None,
                Volatility::Volatile if SAFE_VOLATILE_BUILTINS.contains(&self.name.as_str()) => {
                    None
                }
                Volatility::Volatile => Some(
                    "a volatile built-in not among those known safe on a hot standby \
                     (it may write, fail in recovery or act on the node that runs it)"
                        .into(),
                ),
            };
        }
        match self.volatility {
            Volatility::Immutable | Volatility::Stable => None,
            Volatility::Volatile => Some(
                "a volatile user function (pg_proc.provolatile = 'v'): it may write or act on the node that runs it".into(),
            ),
        }
    }
}

/// Why a call, operator or relation is not known safe on a standby.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSafe {
    /// For a person: the function (or operator, or view) and why.
    pub why: String,
    /// The name is not in the catalog the router read (misspelled, or created since): a
    /// reload of the catalog may make it known.
    pub unknown: bool,
}

impl NotSafe {
    fn because(why: String) -> NotSafe {
        NotSafe {
            why,
            unknown: false,
        }
    }

    fn unknown(why: String) -> NotSafe {
        NotSafe { why, unknown: true }
    }
}

/// What the classifier knows of functions ([`crate::classify()`]): the primary's `pg_proc`, by
/// name. [`Functions::default`] is [`Functions::unknown`].
#[derive(Debug, Clone, Default)]
pub struct Functions {
    by_name: HashMap<String, Vec<Proc>>,
    /// Operators by symbol: (schema, the function the operator calls).
    operators: HashMap<String, Vec<(String, Proc)>>,
    /// Views by name: (schema, why reading it is not safe on a standby, if it is not).
    views: HashMap<String, Vec<(String, Option<String>)>>,
    /// Other relations (tables, materialized views, foreign tables) by name: their schemas.
    /// Empty when not loaded (relations are then not checked for being known).
    tables: HashMap<String, Vec<String>>,
    known: bool,
    count: usize,
}

impl Functions {
    /// From `pg_proc` rows (see [`load_functions`]).
    pub fn from_procs(procs: impl IntoIterator<Item = Proc>) -> Functions {
        let mut by_name: HashMap<String, Vec<Proc>> = HashMap::new();
        let mut count = 0;
        for p in procs {
            count += 1;
            by_name.entry(p.name.clone()).or_default().push(p);
        }
        Functions {
            by_name,
            operators: HashMap::new(),
            views: HashMap::new(),
            tables: HashMap::new(),
            known: true,
            count,
        }
    }

    /// With the operators of `pg_operator`: (schema, symbol, the function it calls). Without
    /// any (a catalog of functions only), operators are not checked.
    pub fn with_operators(
        mut self,
        ops: impl IntoIterator<Item = (String, String, Proc)>,
    ) -> Functions {
        for (schema, symbol, code) in ops {
            self.operators
                .entry(symbol)
                .or_default()
                .push((schema, code));
        }
        self
    }

    /// With `proc` in place of every function of the same schema, name and argument count
    /// (added when there is none): for a function defined after `pg_proc` was read, or a
    /// deliberate lie that the oracle must catch ([`crate::oracle`]).
    pub fn with_proc(mut self, proc: Proc) -> Functions {
        let list = self.by_name.entry(proc.name.clone()).or_default();
        let before = list.len();
        list.retain(|p| !(p.schema == proc.schema && p.nargs == proc.nargs));
        self.count = self.count + 1 + list.len() - before;
        list.push(proc);
        self
    }

    /// `pg_proc` not read (yet): no function is known, so every statement that calls one goes
    /// to the primary.
    pub fn unknown() -> Functions {
        Functions::default()
    }

    /// How many `pg_proc` rows it knows.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it knows no function.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether these come from a catalog (false for [`Functions::unknown`]).
    pub fn is_known(&self) -> bool {
        self.known
    }

    /// Whether a call of `schema.name` (schema `None`: unqualified) with `nargs` arguments may
    /// run on a hot standby: `Err` says which function is not known safe, and why.
    pub fn check_call(
        &self,
        schema: Option<&str>,
        name: &str,
        nargs: usize,
    ) -> std::result::Result<(), NotSafe> {
        let called = match schema {
            Some(s) => format!("{s}.{name}()"),
            None => format!("{name}()"),
        };
        if !self.known {
            return Err(NotSafe::because(format!(
                "{called} is called and pg_proc has not been read yet: a function not known safe on a standby runs on the primary"
            )));
        }
        let named: Vec<&Proc> = self
            .by_name
            .get(name)
            .into_iter()
            .flatten()
            .filter(|p| schema.is_none_or(|s| p.schema == s))
            .collect();
        if named.is_empty() {
            return Err(NotSafe::unknown(format!(
                "{called} is not in pg_proc (misspelled, created after the router read pg_proc, or in another schema): an unknown function is not known safe on a standby"
            )));
        }
        let candidates: Vec<&Proc> = named.into_iter().filter(|p| p.accepts(nargs)).collect();
        if candidates.is_empty() {
            return Err(NotSafe::unknown(format!(
                "{called} with {nargs} argument(s) is not in pg_proc: an unknown function is not known safe on a standby"
            )));
        }
        for p in candidates {
            if let Some(why) = p.unsafe_reason() {
                let which = if schema.is_none() && !p.builtin {
                    format!(
                        " (it may resolve to {}.{}, {})",
                        p.schema,
                        p.name,
                        p.volatility.words()
                    )
                } else {
                    String::new()
                };
                return Err(NotSafe::because(format!("{called}{which}: {why}")));
            }
        }
        Ok(())
    }
}

impl Functions {
    /// With the views of `pg_views`: (schema, name, definition). Each definition is checked
    /// like a statement (its calls and operators against this catalog, so add views after
    /// operators), and a view over a view that is not safe is not safe either.
    pub fn with_views(
        mut self,
        views: impl IntoIterator<Item = (String, String, String)>,
    ) -> Functions {
        struct View {
            schema: String,
            name: String,
            why: Option<String>,
            reads: Vec<(Option<String>, String)>,
        }
        let mut all: Vec<View> = views
            .into_iter()
            .map(|(schema, name, definition)| {
                let (why, reads) = crate::walk::view_definition(&definition, &self);
                View {
                    schema,
                    name,
                    why,
                    reads,
                }
            })
            .collect();
        // Views over views: follow until nothing changes (each pass settles one more level).
        loop {
            let mut changed = false;
            for i in 0..all.len() {
                if all[i].why.is_some() {
                    continue;
                }
                let found = all[i].reads.iter().find_map(|(schema, name)| {
                    all.iter().find(|v| {
                        v.why.is_some()
                            && &v.name == name
                            && schema.as_ref().is_none_or(|s| s == &v.schema)
                    })
                });
                if let Some(v) = found {
                    let why = format!(
                        "reads the view {}.{}, which {}",
                        v.schema,
                        v.name,
                        v.why.as_deref().unwrap_or_default()
                    );
                    all[i].why = Some(why);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for v in all {
            self.views
                .entry(v.name)
                .or_default()
                .push((v.schema, v.why));
        }
        self
    }

    /// With the tables, materialized views and foreign tables of `pg_class`: (schema, name).
    /// With them, a relation that is neither one of them nor a view is unknown (it may be a
    /// view created since), so not known safe.
    pub fn with_tables(mut self, tables: impl IntoIterator<Item = (String, String)>) -> Functions {
        for (schema, name) in tables {
            self.tables.entry(name).or_default().push(schema);
        }
        self
    }

    /// Whether reading the relation `schema.name` (schema `None`: any schema) is safe on a
    /// standby: `Err` names the view whose definition calls a function that is not, and why,
    /// or says the relation is unknown (when tables were loaded, [`Functions::with_tables`]).
    pub fn check_relation(
        &self,
        schema: Option<&str>,
        name: &str,
    ) -> std::result::Result<(), NotSafe> {
        let named = match schema {
            Some(s) => format!("{s}.{name}"),
            None => name.to_owned(),
        };
        if !self.known {
            return Err(NotSafe::because(format!(
                "it reads {named} and pg_proc has not been read yet: it may be a view over a function not known safe on a standby"
            )));
        }
        let in_schema = |schemas: &[String]| schema.is_none_or(|x| schemas.iter().any(|s| s == x));
        let is_table = self.tables.get(name).is_some_and(|s| in_schema(s));
        let views: Vec<String> = self
            .views
            .get(name)
            .into_iter()
            .flatten()
            .map(|(s, _)| s.clone())
            .collect();
        if !self.tables.is_empty() && !is_table && !in_schema_nonempty(&views, schema) {
            return Err(NotSafe::unknown(format!(
                "it reads {named}, which is not in pg_class (created after the router read the catalog, or misspelled): it may be a view over a function not known safe on a standby"
            )));
        }
        let unsafe_view = self
            .views
            .get(name)
            .into_iter()
            .flatten()
            .filter(|(s, _)| schema.is_none_or(|x| x == s))
            .find_map(|(s, why)| why.as_ref().map(|w| (s, w)));
        match unsafe_view {
            Some((s, why)) => Err(NotSafe::because(format!(
                "it reads the view {s}.{name}, which {why}"
            ))),
            None => Ok(()),
        }
    }

    /// Whether the operator `schema.symbol` (schema `None`: unqualified, any schema) calls
    /// only functions safe on a hot standby: `Err` says which is not, and why. Not checked
    /// (`Ok`) when the catalog holds no operators ([`Functions::from_procs`] alone).
    pub fn check_operator(
        &self,
        schema: Option<&str>,
        symbol: &str,
    ) -> std::result::Result<(), NotSafe> {
        if !self.known {
            return Err(NotSafe::because(format!(
                "operator {symbol} is used and pg_proc has not been read yet: a function not known safe on a standby runs on the primary"
            )));
        }
        if self.operators.is_empty() {
            return Ok(());
        }
        let candidates: Vec<&(String, Proc)> = self
            .operators
            .get(symbol)
            .into_iter()
            .flatten()
            .filter(|(s, _)| schema.is_none_or(|x| x == s))
            .collect();
        if candidates.is_empty() {
            return Err(NotSafe::unknown(format!(
                "operator {symbol} is not in pg_operator: an unknown operator is not known safe on a standby"
            )));
        }
        for (s, code) in candidates {
            if let Some(why) = code.unsafe_reason() {
                return Err(NotSafe::because(format!(
                    "operator {s}.{symbol} calls {}.{}(): {why}",
                    code.schema, code.name
                )));
            }
        }
        Ok(())
    }
}

/// Whether `schemas` is non-empty and holds `schema` (any, when `None`).
fn in_schema_nonempty(schemas: &[String], schema: Option<&str>) -> bool {
    match schema {
        Some(x) => schemas.iter().any(|s| s == x),
        None => !schemas.is_empty(),
    }
}

/// What the classifier needs to know of functions, read from `pg_proc` on `primary`: every
/// function (`pg_catalog` and `information_schema` included) with its schema, argument count,
/// defaults, variadic flag, volatility (an aggregate's is the most volatile of it and its
/// transition, final and combine functions) and whether it is built in (`oid < 16384`). Used by
/// the router and by anything that must classify a statement the router's way without a router
/// (cache definitions are checked with it). Also every operator of `pg_operator` with the
/// function it calls (`oprcode`), since an operator is a function call in other words, and
/// every view of `pg_views` with its definition (a read of a view runs the calls it holds), and
/// the names of the other relations of `pg_class` (so a relation created since is unknown).
///
/// Errors: the primary cannot be asked.
pub async fn load_functions(primary: &Node) -> Result<Functions> {
    let rows = primary
        .with_client("reading functions from pg_proc", |c| async move {
            c.query(
                "SELECT n.nspname::text, p.proname::text, p.pronargs::int, p.pronargdefaults::int, \
                        p.provariadic <> 0, \
                        CASE WHEN p.prokind = 'a' THEN greatest(p.provolatile, t.provolatile, \
                             coalesce(f.provolatile, 'i'), coalesce(cf.provolatile, 'i')) \
                             ELSE p.provolatile END::text, \
                        p.oid < 16384 \
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid \
                 LEFT JOIN pg_proc t ON t.oid = a.aggtransfn::oid \
                 LEFT JOIN pg_proc f ON f.oid = a.aggfinalfn::oid \
                 LEFT JOIN pg_proc cf ON cf.oid = a.aggcombinefn::oid \
                 WHERE p.prokind <> 'p'",
                &[],
            )
            .await
        })
        .await?;
    let ops = primary
        .with_client("reading operators from pg_operator", |c| async move {
            c.query(
                "SELECT n.nspname::text, o.oprname::text, pn.nspname::text, p.proname::text, \
                        p.pronargs::int, p.provolatile::text, p.oid < 16384 \
                 FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace \
                 JOIN pg_proc p ON p.oid = o.oprcode::oid \
                 JOIN pg_namespace pn ON pn.oid = p.pronamespace",
                &[],
            )
            .await
        })
        .await?;
    let functions = Functions::from_procs(rows.iter().map(|r| Proc {
        schema: r.get(0),
        name: r.get(1),
        nargs: u16::try_from(r.get::<_, i32>(2)).unwrap_or(u16::MAX),
        ndefaults: u16::try_from(r.get::<_, i32>(3)).unwrap_or(0),
        variadic: r.get(4),
        volatility: Volatility::from_code(&r.get::<_, String>(5)),
        builtin: r.get(6),
    }));
    let views = primary
        .with_client("reading view definitions from pg_views", |c| async move {
            c.query(
                "SELECT schemaname::text, viewname::text, definition FROM pg_views \
                 WHERE definition IS NOT NULL",
                &[],
            )
            .await
        })
        .await?;
    let tables = primary
        .with_client("reading relations from pg_class", |c| async move {
            c.query(
                "SELECT n.nspname::text, c.relname::text FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p', 'm', 'f')",
                &[],
            )
            .await
        })
        .await?;
    let functions = functions.with_operators(ops.iter().map(|r| {
        let code = Proc {
            schema: r.get(2),
            name: r.get(3),
            nargs: u16::try_from(r.get::<_, i32>(4)).unwrap_or(u16::MAX),
            ndefaults: 0,
            variadic: false,
            volatility: Volatility::from_code(&r.get::<_, String>(5)),
            builtin: r.get(6),
        };
        (r.get(0), r.get(1), code)
    }));
    Ok(functions
        .with_views(views.iter().map(|r| (r.get(0), r.get(1), r.get(2))))
        .with_tables(tables.iter().map(|r| (r.get(0), r.get(1)))))
}
