//! Statements for the oracle ([`crate::oracle`]), made by code rather than by hand:
//!
//! - [`calls`]: every plain or aggregate function of a node's `pg_proc` (`pg_catalog`
//!   included) whose arguments have types with a literal here ([`literal`]), called with one
//!   value of each type in several places a call may hide — a plain `SELECT`, `VALUES`, a
//!   subquery, a CTE, `ORDER BY`, `CASE`, an array constructor, `WHERE`, `HAVING` — in the spelling of
//!   the catalog (`pg_catalog.lower(…)`) and unqualified. Window functions, procedures,
//!   type I/O functions (`cstring` arguments) and functions that take or return pseudo-types
//!   the SQL level cannot produce (`internal`, `trigger`, …) are left out.
//! - [`statement_kinds`]: one or more statements of every kind the grammar has, over the
//!   objects of [`SCHEMA`], with hints, comments and multi-statement strings.
//!
//! Both are deterministic for a given catalog (sorted by schema, name and argument types).

use skein_pg::Node;

use crate::error::Result;

/// The objects [`statement_kinds`] refers to, to create on the primary (schema `app`).
pub const SCHEMA: &str = "CREATE SCHEMA IF NOT EXISTS app;
     CREATE TABLE IF NOT EXISTS app.accounts (id int PRIMARY KEY, balance numeric);
     CREATE TABLE IF NOT EXISTS app.orders (id int PRIMARY KEY, account_id int, total numeric, status text);
     CREATE SEQUENCE IF NOT EXISTS app.order_seq;
     CREATE OR REPLACE VIEW app.open_orders AS SELECT * FROM app.orders WHERE status = 'open';
     CREATE MATERIALIZED VIEW IF NOT EXISTS app.totals AS SELECT account_id, sum(total) AS total FROM app.orders GROUP BY 1;
     INSERT INTO app.accounts SELECT g, g * 10 FROM generate_series(1, 20) g ON CONFLICT DO NOTHING;
     INSERT INTO app.orders SELECT g, g % 20 + 1, g, CASE WHEN g % 3 = 0 THEN 'open' ELSE 'void' END FROM generate_series(1, 100) g ON CONFLICT DO NOTHING;";

/// A SQL literal of type `typname` (`pg_type.typname`), or `None` when none is made here.
/// Numbers are small and positive, intervals and sleeps zero-length, so a call that runs is
/// cheap.
pub fn literal(typname: &str) -> Option<&'static str> {
    Some(match typname {
        "int2" => "1::int2",
        "int4" => "1",
        "int8" => "1::int8",
        "float4" => "0.5::float4",
        "float8" => "0.5::float8",
        "numeric" => "1.5::numeric",
        "text" => "'a'::text",
        "varchar" => "'a'::varchar",
        "bpchar" => "'a'::bpchar",
        "name" => "'a'::name",
        "char" => "'a'::\"char\"",
        "bool" => "true",
        "date" => "'2026-01-02'::date",
        "time" => "'10:00'::time",
        "timetz" => "'10:00+00'::timetz",
        "timestamp" => "'2026-01-02 10:00'::timestamp",
        "timestamptz" => "'2026-01-02 10:00+00'::timestamptz",
        "interval" => "'0 seconds'::interval",
        "bytea" => "'\\x01'::bytea",
        "json" => "'{\"a\": 1}'::json",
        "jsonb" => "'{\"a\": 1}'::jsonb",
        "jsonpath" => "'$.a'::jsonpath",
        "uuid" => "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
        "inet" => "'127.0.0.1'::inet",
        "cidr" => "'10.0.0.0/8'::cidr",
        "macaddr" => "'08:00:2b:01:02:03'::macaddr",
        "macaddr8" => "'08:00:2b:01:02:03:04:05'::macaddr8",
        "money" => "'1'::money",
        "bit" => "'1'::bit",
        "varbit" => "'101'::varbit",
        "oid" => "1::oid",
        "regclass" => "'pg_class'::regclass",
        "regtype" => "'int4'::regtype",
        "regproc" => "'now'::regproc",
        "regprocedure" => "'now()'::regprocedure",
        "regnamespace" => "'pg_catalog'::regnamespace",
        "regrole" => "'postgres'::regrole",
        "regconfig" => "'simple'::regconfig",
        "xml" => "'<a/>'::xml",
        "point" => "'(1,1)'::point",
        "lseg" => "'[(0,0),(1,1)]'::lseg",
        "box" => "'(0,0),(1,1)'::box",
        "path" => "'[(0,0),(1,1)]'::path",
        "polygon" => "'((0,0),(1,1),(1,0))'::polygon",
        "line" => "'{1,-1,0}'::line",
        "circle" => "'<(0,0),1>'::circle",
        "tsvector" => "'a b'::tsvector",
        "tsquery" => "'a'::tsquery",
        "int4range" => "'[1,3)'::int4range",
        "int8range" => "'[1,3)'::int8range",
        "numrange" => "'[1,3)'::numrange",
        "daterange" => "'[2026-01-01,2026-01-03)'::daterange",
        "tsrange" => "'[2026-01-01,2026-01-03)'::tsrange",
        "tstzrange" => "'[2026-01-01,2026-01-03)'::tstzrange",
        "int4multirange" => "'{[1,3)}'::int4multirange",
        "_int4" => "ARRAY[1, 2]",
        "_int8" => "ARRAY[1, 2]::int8[]",
        "_text" => "ARRAY['a', 'b']",
        "_float8" => "ARRAY[0.5, 1.5]::float8[]",
        "_numeric" => "ARRAY[1.5]::numeric[]",
        "anyelement" | "anycompatible" | "anynonarray" | "anycompatiblenonarray" => "1",
        "anyarray" | "anycompatiblearray" => "ARRAY[1, 2]",
        "anyrange" | "anycompatiblerange" => "'[1,3)'::int4range",
        "anymultirange" | "anycompatiblemultirange" => "'{[1,3)}'::int4multirange",
        "anyenum" => return None,
        "record" => "ROW(1, 'a')",
        "pg_lsn" => "'0/1000000'::pg_lsn",
        "xid" => "'1'::xid",
        "xid8" => "'1'::xid8",
        "pg_snapshot" => "'10:20:10,14,15'::pg_snapshot",
        "tid" => "'(0,1)'::tid",
        _ => return None,
    })
}

/// Return types no statement can use (`internal`, handlers, triggers).
const UNUSABLE_RETURNS: &[&str] = &[
    "internal",
    "trigger",
    "event_trigger",
    "language_handler",
    "fdw_handler",
    "index_am_handler",
    "tsm_handler",
    "table_am_handler",
    "opaque",
];

/// One function of `pg_proc` the generator can call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callable {
    /// `pg_namespace.nspname`.
    pub schema: String,
    /// `pg_proc.proname`.
    pub name: String,
    /// Its argument literals, in order.
    pub args: Vec<&'static str>,
    /// An aggregate (`prokind = 'a'`): only shapes where an aggregate may appear.
    pub aggregate: bool,
    /// Set-returning (`proretset`).
    pub set_returning: bool,
}

impl Callable {
    /// The call, qualified (`pg_catalog.lower('a'::text)`) or not.
    pub fn call(&self, qualified: bool) -> String {
        let name = quote_ident(&self.name);
        let args = self.args.join(", ");
        if qualified {
            format!("{}.{name}({args})", quote_ident(&self.schema))
        } else {
            format!("{name}({args})")
        }
    }
}

fn quote_ident(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && pg_query::parse(&format!("SELECT {s}()"), 0).is_ok();
    if plain {
        s.to_owned()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// Every function of `node`'s `pg_proc` that [`literal`] can call (see the module header),
/// sorted by schema, name and arguments; one overload per argument count and name.
///
/// Errors: the node cannot be read.
pub async fn callables(node: &Node) -> Result<Vec<Callable>> {
    let rows = node
        .with_client("reading pg_proc for the corpus", |c| async move {
            c.query(
                "SELECT n.nspname::text, p.proname::text, p.prokind::text, p.proretset, \
                        rt.typname::text, \
                        coalesce((SELECT array_agg(t.typname::text ORDER BY a.i) \
                          FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY a(oid, i) \
                          JOIN pg_type t ON t.oid = a.oid), '{}') \
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 JOIN pg_type rt ON rt.oid = p.prorettype \
                 WHERE p.prokind IN ('f', 'a') AND p.provariadic = 0 \
                   AND n.nspname NOT IN ('information_schema') \
                 ORDER BY 1, 2, p.pronargs, 6",
                &[],
            )
            .await
        })
        .await?;
    let mut out: Vec<Callable> = Vec::new();
    for r in rows {
        let ret: String = r.get(4);
        if UNUSABLE_RETURNS.contains(&ret.as_str()) {
            continue;
        }
        let types: Vec<String> = r.get(5);
        let Some(args) = types.iter().map(|t| literal(t)).collect::<Option<Vec<_>>>() else {
            continue;
        };
        let c = Callable {
            schema: r.get(0),
            name: r.get(1),
            args,
            aggregate: r.get::<_, String>(2) == "a",
            set_returning: r.get(3),
        };
        // One overload per (schema, name, argument count): more would only repeat the name.
        if out.last().is_some_and(|p| {
            p.schema == c.schema && p.name == c.name && p.args.len() == c.args.len()
        }) {
            continue;
        }
        out.push(c);
    }
    Ok(out)
}

/// The statements that call `f` in the places a call may hide.
pub fn calls(f: &Callable) -> Vec<String> {
    let q = f.call(true);
    let u = f.call(false);
    if f.aggregate {
        return vec![
            format!("SELECT {q}"),
            format!("SELECT {u} FROM (VALUES (1)) v(x)"),
            format!("SELECT x FROM (VALUES (1)) v(x) GROUP BY x HAVING {u} IS NOT NULL"),
            format!("WITH c AS (SELECT {u} AS r) SELECT * FROM c"),
        ];
    }
    let mut out = vec![
        format!("SELECT {q}"),
        format!("SELECT {u}"),
        format!("VALUES ({u})"),
        format!("SELECT * FROM (SELECT {u} AS r) s"),
        format!("WITH c AS (SELECT {u} AS r) SELECT * FROM c"),
        format!("SELECT CASE WHEN 1 = 1 THEN {u} END"),
    ];
    if !f.set_returning {
        out.push(format!("SELECT 1 AS x ORDER BY {u} NULLS LAST"));
        out.push(format!("SELECT ARRAY[{u}]"));
        // Not `… OR true`: the planner folds it and never calls the function.
        out.push(format!("SELECT 1 WHERE {u} IS NOT NULL"));
    } else {
        out.push(format!("SELECT * FROM {q} LIMIT 3"));
    }
    out
}

/// Statements of every kind the grammar has (see the module header): reads, writes, DDL,
/// session and transaction control, server actions, with hints, comments and multi-statement
/// strings. Their objects are [`SCHEMA`]'s.
pub fn statement_kinds() -> Vec<String> {
    const KINDS: &[&str] = &[
        // Reads.
        "SELECT * FROM app.accounts WHERE id = 1",
        "SELECT a.id, o.total FROM app.accounts a JOIN app.orders o ON o.account_id = a.id ORDER BY 2 DESC LIMIT 5",
        "SELECT status, count(*) FROM app.orders GROUP BY status HAVING count(*) > 1",
        "SELECT id FROM app.accounts UNION SELECT id FROM app.orders",
        "SELECT id FROM app.accounts INTERSECT SELECT account_id FROM app.orders",
        "SELECT id FROM app.accounts EXCEPT SELECT account_id FROM app.orders",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r",
        "SELECT * FROM app.open_orders",
        "SELECT * FROM app.totals",
        "SELECT id, sum(total) OVER (PARTITION BY account_id ORDER BY id) FROM app.orders",
        "SELECT * FROM app.orders TABLESAMPLE SYSTEM (50)",
        "SELECT DISTINCT ON (account_id) account_id, total FROM app.orders ORDER BY account_id, total DESC",
        "TABLE app.accounts",
        "VALUES (1, 'a'), (2, 'b')",
        "SHOW search_path",
        "SHOW ALL",
        "EXPLAIN SELECT * FROM app.orders WHERE id = 3",
        "EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM app.orders",
        "COPY (SELECT * FROM app.accounts) TO STDOUT",
        "SELECT * FROM app.accounts FETCH FIRST 2 ROWS ONLY",
        "SELECT xmlelement(name a, 1), jsonb_build_object('a', 1)",
        // Writes and locks.
        "INSERT INTO app.accounts VALUES (1000, 1)",
        "INSERT INTO app.accounts VALUES (1000, 1) ON CONFLICT (id) DO UPDATE SET balance = 2",
        "INSERT INTO app.accounts SELECT id + 1000, 0 FROM app.accounts RETURNING id",
        "UPDATE app.accounts SET balance = balance + 1 WHERE id = 1",
        "UPDATE app.orders o SET total = 0 FROM app.accounts a WHERE a.id = o.account_id AND a.id = 1",
        "DELETE FROM app.orders WHERE id = 1",
        "DELETE FROM app.orders USING app.accounts a WHERE a.id = app.orders.account_id AND a.id = 2",
        "MERGE INTO app.accounts a USING (VALUES (1, 5)) v(id, b) ON a.id = v.id WHEN MATCHED THEN UPDATE SET balance = v.b",
        "WITH d AS (DELETE FROM app.orders WHERE id = 2 RETURNING *) SELECT count(*) FROM d",
        "WITH i AS (INSERT INTO app.accounts VALUES (2000, 0) RETURNING id) SELECT * FROM i",
        "EXPLAIN ANALYZE UPDATE app.accounts SET balance = 0 WHERE id = 3",
        "SELECT * FROM app.accounts WHERE id = 1 FOR UPDATE",
        "SELECT * FROM app.accounts FOR NO KEY UPDATE SKIP LOCKED",
        "SELECT * FROM app.accounts FOR SHARE",
        "SELECT * FROM app.accounts FOR KEY SHARE NOWAIT",
        "SELECT * FROM (SELECT * FROM app.accounts FOR UPDATE) s",
        "SELECT * INTO app.copy_of_accounts FROM app.accounts",
        "COPY app.accounts FROM STDIN",
        "TRUNCATE app.orders",
        // DDL.
        "CREATE TABLE app.t_new (id int)",
        "CREATE TABLE app.t_as AS SELECT * FROM app.accounts",
        "CREATE UNLOGGED TABLE app.t_unlogged (id int)",
        "CREATE VIEW app.v_new AS SELECT 1 AS one",
        "CREATE MATERIALIZED VIEW app.mv_new AS SELECT 1 AS one",
        "CREATE INDEX ON app.orders (status)",
        "CREATE SCHEMA app2",
        "CREATE SEQUENCE app.s_new",
        "CREATE FUNCTION app.f_new() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE TYPE app.pair AS (a int, b int)",
        "CREATE TYPE app.mood AS ENUM ('ok', 'sad')",
        "CREATE DOMAIN app.positive AS int CHECK (VALUE > 0)",
        "CREATE TRIGGER trg BEFORE INSERT ON app.orders FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        "CREATE RULE r_new AS ON INSERT TO app.orders DO ALSO NOTHING",
        "CREATE POLICY p_new ON app.orders USING (true)",
        "ALTER TABLE app.orders ADD COLUMN note text",
        "ALTER TABLE app.orders RENAME TO orders2",
        "ALTER SEQUENCE app.order_seq RESTART",
        "ALTER VIEW app.open_orders RENAME TO open2",
        "ALTER TABLE app.orders OWNER TO postgres",
        "ALTER TABLE app.orders SET SCHEMA public",
        "DROP TABLE app.orders",
        "DROP VIEW IF EXISTS app.open_orders",
        "COMMENT ON TABLE app.orders IS 'orders'",
        "GRANT SELECT ON app.orders TO PUBLIC",
        "REVOKE SELECT ON app.orders FROM PUBLIC",
        "REFRESH MATERIALIZED VIEW app.totals",
        "CREATE TEMP TABLE tmp_x (id int)",
        // Session and transaction control, server actions.
        "SET search_path = app",
        "SET LOCAL work_mem = '8MB'",
        "RESET search_path",
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "BEGIN",
        "START TRANSACTION READ ONLY",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT s1",
        "RELEASE SAVEPOINT s1",
        "PREPARE q AS SELECT 1",
        "EXECUTE q",
        "DEALLOCATE ALL",
        "DECLARE c CURSOR FOR SELECT 1",
        "FETCH NEXT FROM c",
        "CLOSE c",
        "LISTEN chan",
        "UNLISTEN *",
        "NOTIFY chan",
        "LOCK TABLE app.orders IN SHARE MODE",
        "DISCARD ALL",
        "DO $$ BEGIN PERFORM 1; END $$",
        "CALL app.nothing()",
        "VACUUM app.orders",
        "ANALYZE app.orders",
        "CLUSTER app.orders USING orders_pkey",
        "REINDEX TABLE app.orders",
        "CHECKPOINT",
        "LOAD 'plpgsql'",
        "ALTER SYSTEM SET work_mem = '8MB'",
        "CREATE DATABASE skein_oracle_db",
        "SECURITY LABEL ON TABLE app.orders IS 'x'",
        "IMPORT FOREIGN SCHEMA s FROM SERVER x INTO app",
    ];
    let mut out: Vec<String> = KINDS.iter().map(|s| (*s).to_owned()).collect();
    // Hints and comments around a read and a write.
    for base in [
        "SELECT * FROM app.accounts WHERE id = 2",
        "UPDATE app.accounts SET balance = 0 WHERE id = 2",
    ] {
        for wrapped in [
            format!("/* skein:replica */ {base}"),
            format!("/* skein:primary */ {base}"),
            format!("/* skein:replica=replica1 */ {base}"),
            format!("/* skein:replcia */ {base}"),
            format!("-- a comment\n{base}"),
            format!("/* a comment */ {base} /* trailing */"),
            format!("{base} -- trailing"),
            format!("/* nested /* comment */ */ {base}"),
        ] {
            out.push(wrapped);
        }
    }
    // Multi-statement strings.
    for s in [
        "SELECT 1; SELECT 2",
        "SELECT * FROM app.accounts; UPDATE app.accounts SET balance = 1 WHERE id = 4",
        "SET search_path = app; SELECT * FROM accounts",
        "BEGIN; SELECT 1; COMMIT",
        "SELECT 1;",
    ] {
        out.push(s.to_owned());
    }
    out
}

/// The whole generated corpus for `node`: [`statement_kinds`], then [`calls`] of every
/// [`callables`] function; distinct, in that order.
///
/// Errors: the node cannot be read.
pub async fn generate(node: &Node) -> Result<Vec<String>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let functions = callables(node).await?;
    for s in statement_kinds()
        .into_iter()
        .chain(functions.iter().flat_map(calls))
    {
        if seen.insert(s.clone()) {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_shape_parses() {
        let f = Callable {
            schema: "pg_catalog".into(),
            name: "lower".into(),
            args: vec![literal("text").expect("text")],
            aggregate: false,
            set_returning: false,
        };
        let a = Callable {
            name: "count".into(),
            args: vec!["1"],
            aggregate: true,
            ..f.clone()
        };
        let s = Callable {
            name: "generate_series".into(),
            args: vec!["1", "1"],
            set_returning: true,
            ..f.clone()
        };
        for sql in calls(&f)
            .into_iter()
            .chain(calls(&a))
            .chain(calls(&s))
            .chain(statement_kinds())
        {
            assert!(pg_query::parse(&sql, 0).is_ok(), "{sql}");
        }
        assert_eq!(f.call(true), "pg_catalog.lower('a'::text)");
        assert_eq!(
            Callable {
                name: "Odd Name".into(),
                ..f.clone()
            }
            .call(false),
            "\"Odd Name\"('a'::text)"
        );
        assert_eq!(
            Callable {
                name: "select".into(),
                ..f
            }
            .call(false),
            "\"select\"('a'::text)"
        );
    }
}
