//! The allow-list through the classifier: calls, operators and views against small catalogs.

use crate::classify::{classify, Target};
use crate::functions::{Functions, Proc, Volatility};

fn catalog() -> Functions {
    let p = |schema: &str, name: &str, nargs: u16, ndefaults: u16, v: &str, builtin: bool| Proc {
        schema: schema.into(),
        name: name.into(),
        nargs,
        ndefaults,
        variadic: false,
        volatility: Volatility::from_code(v),
        builtin,
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
    let code = |schema: &str, name: &str, v: &str, builtin: bool| Proc {
        schema: schema.into(),
        name: name.into(),
        nargs: 2,
        ndefaults: 0,
        variadic: false,
        volatility: Volatility::from_code(v),
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
    let by = classify("SELECT a FROM t ORDER BY a USING ###", &f);
    assert!(
        by.reason.contains("operator app.### calls"),
        "{}",
        by.reason
    );
}

#[test]
fn reading_a_view_counts_the_calls_of_its_definition() {
    let view = |name: &str, def: &str| ("app".to_string(), name.to_string(), def.to_string());
    let f = catalog().with_views([
        view("over", "SELECT * FROM app.promoting"),
        view("promoting", "SELECT pg_promote() AS p"),
        view("over_over", "SELECT p FROM over"),
        view("fine", "SELECT lower(name) FROM t WHERE now() IS NOT NULL"),
    ]);
    let why = |sql: &str| {
        let c = classify(sql, &f);
        assert_eq!(
            (c.target, c.rule),
            (Target::Primary, "function"),
            "{sql}: {c:?}"
        );
        c.reason
    };
    assert!(why("SELECT * FROM app.promoting")
        .contains("it reads the view app.promoting, which calls pg_promote(): promotes"));
    assert!(
        why("SELECT * FROM t JOIN (SELECT * FROM over_over) o ON true")
            .contains("reads the view app.over, which reads the view app.promoting")
    );
    for sql in [
        "SELECT * FROM fine",
        "SELECT * FROM other.promoting",
        "SELECT * FROM t",
    ] {
        assert_eq!(classify(sql, &f).target, Target::Replica, "{sql}");
    }
    // With the tables known, a relation that is neither (created since: perhaps a view)
    // is not known safe, and says a reload may help; a CTE is not a relation.
    let f = f.with_tables([("public".to_string(), "t".to_string())]);
    for sql in [
        "SELECT * FROM t",
        "SELECT * FROM public.t, fine",
        "WITH x AS (SELECT 1) SELECT * FROM x",
    ] {
        assert_eq!(classify(sql, &f).target, Target::Replica, "{sql}");
    }
    let n = classify("SELECT * FROM t JOIN newer ON true", &f);
    assert_eq!((n.target, n.unknown_name), (Target::Primary, true), "{n:?}");
    assert!(
        n.reason.contains("newer, which is not in pg_class"),
        "{}",
        n.reason
    );
    let q = classify("SELECT * FROM app.t", &f);
    assert_eq!((q.target, q.unknown_name), (Target::Primary, true), "{q:?}");
    let known = classify("SELECT * FROM promoting", &f);
    assert!(!known.unknown_name, "{known:?}");
}
