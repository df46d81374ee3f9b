//! What the classifier knows of functions: an allow-list built from the primary's `pg_proc`
//! (DESIGN invariant 10: only calls known safe on a hot standby go to a replica).
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

use std::collections::HashMap;

use skein_pg::Node;

use crate::error::Result;

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

/// Built-ins that must run on the primary whatever their volatility, and why.
pub const UNSAFE_BUILTINS: &[(&str, &str)] = &[
    ("txid_current", "assigns a transaction id: fails during recovery"),
    ("pg_current_xact_id", "assigns a transaction id: fails during recovery"),
    ("txid_current_if_assigned", "a transaction id of the primary: a standby assigns none"),
    ("pg_current_xact_id_if_assigned", "a transaction id of the primary: a standby assigns none"),
    ("pg_current_wal_lsn", "a WAL position of the primary: fails during recovery"),
    ("pg_current_wal_insert_lsn", "a WAL position of the primary: fails during recovery"),
    ("pg_current_wal_flush_lsn", "a WAL position of the primary: fails during recovery"),
    ("pg_walfile_name", "fails during recovery"),
    ("pg_walfile_name_offset", "fails during recovery"),
    ("pg_switch_wal", "WAL control: fails during recovery"),
    ("pg_create_restore_point", "WAL control: fails during recovery"),
    ("pg_promote", "promotes the node that runs it: sent to a hot standby it makes a second primary, whatever the transaction mode"),
    ("pg_wal_replay_pause", "pauses replay on the node that runs it"),
    ("pg_wal_replay_resume", "resumes replay on the node that runs it"),
    ("pg_create_physical_replication_slot", "creates a replication slot on the node that runs it"),
    ("pg_create_logical_replication_slot", "creates a replication slot on the node that runs it"),
    ("pg_drop_replication_slot", "drops a replication slot on the node that runs it"),
    ("pg_reload_conf", "reloads the configuration of the node that runs it"),
    ("pg_rotate_logfile", "rotates the log of the node that runs it"),
    ("pg_terminate_backend", "terminates a backend of the node that runs it"),
    ("pg_cancel_backend", "cancels a query on the node that runs it"),
    ("pg_stat_reset", "resets the statistics of the node that runs it"),
    ("pg_stat_reset_shared", "resets the statistics of the node that runs it"),
    ("pg_stat_reset_single_table_counters", "resets the statistics of the node that runs it"),
    ("pg_stat_reset_single_function_counters", "resets the statistics of the node that runs it"),
    ("pg_stat_reset_slru", "resets the statistics of the node that runs it"),
    ("pg_stat_reset_replication_slot", "resets the statistics of the node that runs it"),
    ("pg_stat_reset_subscription_stats", "resets the statistics of the node that runs it"),
    ("pg_advisory_lock", "an advisory lock: on a replica it coordinates with nobody writing on the primary"),
    ("pg_advisory_lock_shared", "an advisory lock: on a replica it coordinates with nobody writing on the primary"),
    ("pg_advisory_xact_lock", "an advisory lock: on a replica it coordinates with nobody writing on the primary"),
    ("pg_advisory_xact_lock_shared", "an advisory lock: on a replica it coordinates with nobody writing on the primary"),
    ("pg_try_advisory_lock", "an advisory lock: on a replica it coordinates with nobody writing on the primary"),
    ("pg_try_advisory_lock_shared", "an advisory lock: on a replica it coordinates with nobody writing on the primary"),
    ("pg_try_advisory_xact_lock", "an advisory lock: on a replica it coordinates with nobody writing on the primary"),
    ("pg_try_advisory_xact_lock_shared", "an advisory lock: on a replica it coordinates with nobody writing on the primary"),
    ("pg_advisory_unlock", "an advisory lock: on a replica it coordinates with nobody writing on the primary"),
    ("pg_advisory_unlock_shared", "an advisory lock: on a replica it coordinates with nobody writing on the primary"),
    ("pg_advisory_unlock_all", "an advisory lock: on a replica it coordinates with nobody writing on the primary"),
    ("pg_notify", "sends a notification: fails during recovery"),
    ("nextval", "advances a sequence: fails in a read-only transaction"),
    ("setval", "sets a sequence: fails in a read-only transaction"),
    ("currval", "reads the session's last sequence value, which only the primary's connection has"),
    ("lastval", "reads the session's last sequence value, which only the primary's connection has"),
    ("set_config", "changes a setting of the connection"),
    ("setseed", "changes the connection's random seed"),
    ("query_to_xml", "runs the SQL text it is given, which the classifier cannot see"),
    ("query_to_xmlschema", "runs the SQL text it is given, which the classifier cannot see"),
    ("query_to_xml_and_xmlschema", "runs the SQL text it is given, which the classifier cannot see"),
    ("cursor_to_xml", "reads a cursor of the session"),
    ("cursor_to_xmlschema", "reads a cursor of the session"),
    ("ts_stat", "runs the SQL text it is given, which the classifier cannot see"),
];

/// Volatile built-ins measured to run on a PostgreSQL 15 hot standby inside `BEGIN READ ONLY`
/// with no effect beyond the statement.
pub const SAFE_VOLATILE_BUILTINS: &[&str] = &[
    "random",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    "pg_export_snapshot",
    "current_query",
    "pg_is_in_recovery",
    "pg_is_wal_replay_paused",
    "pg_get_wal_replay_pause_state",
    "pg_last_wal_receive_lsn",
    "pg_last_wal_replay_lsn",
    "pg_last_xact_replay_timestamp",
    "pg_database_size",
    "pg_relation_size",
    "pg_table_size",
    "pg_indexes_size",
    "pg_total_relation_size",
    "pg_tablespace_size",
    "pg_blocking_pids",
    "pg_lock_status",
    "pg_jit_available",
    "pg_notification_queue_usage",
    "pg_control_checkpoint",
    "pg_control_system",
    "pg_control_init",
    "pg_control_recovery",
    "pg_partition_tree",
    "pg_partition_ancestors",
    "pg_stat_have_stats",
    "pg_xact_status",
    "txid_status",
];

/// What the classifier knows of functions ([`crate::classify`]): the primary's `pg_proc`, by
/// name. [`Functions::default`] is [`Functions::unknown`].
#[derive(Debug, Clone, Default)]
pub struct Functions {
    by_name: HashMap<String, Vec<Proc>>,
    /// Operators by symbol: (schema, the function the operator calls).
    operators: HashMap<String, Vec<(String, Proc)>>,
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
    ) -> std::result::Result<(), String> {
        let called = match schema {
            Some(s) => format!("{s}.{name}()"),
            None => format!("{name}()"),
        };
        if !self.known {
            return Err(format!(
                "{called} is called and pg_proc has not been read yet: a function not known safe on a standby runs on the primary"
            ));
        }
        let named: Vec<&Proc> = self
            .by_name
            .get(name)
            .into_iter()
            .flatten()
            .filter(|p| schema.is_none_or(|s| p.schema == s))
            .collect();
        if named.is_empty() {
            return Err(format!(
                "{called} is not in pg_proc (misspelled, created after the router read pg_proc, or in another schema): an unknown function is not known safe on a standby"
            ));
        }
        let candidates: Vec<&Proc> = named.into_iter().filter(|p| p.accepts(nargs)).collect();
        if candidates.is_empty() {
            return Err(format!(
                "{called} with {nargs} argument(s) is not in pg_proc: an unknown function is not known safe on a standby"
            ));
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
                return Err(format!("{called}{which}: {why}"));
            }
        }
        Ok(())
    }
}

impl Functions {
    /// Whether the operator `schema.symbol` (schema `None`: unqualified, any schema) calls
    /// only functions safe on a hot standby: `Err` says which is not, and why. Not checked
    /// (`Ok`) when the catalog holds no operators ([`Functions::from_procs`] alone).
    pub fn check_operator(
        &self,
        schema: Option<&str>,
        symbol: &str,
    ) -> std::result::Result<(), String> {
        if !self.known {
            return Err(format!(
                "operator {symbol} is used and pg_proc has not been read yet: a function not known safe on a standby runs on the primary"
            ));
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
            return Err(format!(
                "operator {symbol} is not in pg_operator: an unknown operator is not known safe on a standby"
            ));
        }
        for (s, code) in candidates {
            if let Some(why) = code.unsafe_reason() {
                return Err(format!(
                    "operator {s}.{symbol} calls {}.{}(): {why}",
                    code.schema, code.name
                ));
            }
        }
        Ok(())
    }
}

/// What the classifier needs to know of functions, read from `pg_proc` on `primary`: every
/// function (`pg_catalog` and `information_schema` included) with its schema, argument count,
/// defaults, variadic flag, volatility (an aggregate's is the most volatile of it and its
/// transition, final and combine functions) and whether it is built in (`oid < 16384`). Used by
/// the router and by anything that must classify a statement the router's way without a router
/// (cache definitions are checked with it). Also every operator of `pg_operator` with the
/// function it calls (`oprcode`), since an operator is a function call in other words.
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
    Ok(functions.with_operators(ops.iter().map(|r| {
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
    })))
}
