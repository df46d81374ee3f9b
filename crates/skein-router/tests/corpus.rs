//! The classifier against its corpus (`tests/corpus.tsv`: the misroutes poolers and ORMs are
//! known for, and their relatives) with the functions of a real primary's `pg_proc`, then
//! against a real hot standby: every statement the classifier sends to a replica runs there,
//! inside a read-only transaction, without error, and `pg_promote()` in every spelling is sent
//! to the primary and leaves the standby in recovery. Without `pg_proc`, no statement meant for
//! the primary reaches a replica either.

mod common;

use skein_router::{classify, load_functions, Functions, Router, Target};
use skein_sandbox::ScratchSandbox;

fn corpus() -> Vec<(Target, String)> {
    include_str!("corpus.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (t, sql) = l.split_once('\t').expect("expected<TAB>statement");
            let t = match t {
                "primary" => Target::Primary,
                "replica" => Target::Replica,
                other => panic!("unknown target {other}"),
            };
            (t, sql.to_owned())
        })
        .collect()
}

/// The corpus' schema, on the primary: its tables, a sequence, a stable and a volatile user
/// function, an operator that calls a volatile function, and views over unsafe and safe calls.
const SCHEMA: &str = "CREATE SCHEMA app; SET search_path = app;
     CREATE TABLE accounts (id int PRIMARY KEY, balance numeric);
     CREATE TABLE orders (id int PRIMARY KEY, account_id int, total numeric, status text);
     CREATE SEQUENCE order_seq;
     CREATE FUNCTION account_balance(int) RETURNS numeric STABLE LANGUAGE sql
       AS 'SELECT balance FROM app.accounts WHERE id = $1';
     CREATE FUNCTION bump_counter() RETURNS int LANGUAGE sql
       AS 'SELECT nextval(''app.order_seq'')::int';
     CREATE FUNCTION bump_pair(int, int) RETURNS int LANGUAGE sql
       AS 'SELECT $1 + $2 + nextval(''app.order_seq'')::int';
     CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = int, FUNCTION = bump_pair);
     CREATE VIEW promoting AS SELECT pg_promote() AS p;
     CREATE VIEW next_order AS SELECT nextval('app.order_seq') AS n;
     CREATE VIEW over_next AS SELECT n FROM next_order;
     CREATE VIEW open_orders AS SELECT * FROM orders WHERE status = 'open' AND lower(status) = 'open';
     INSERT INTO accounts SELECT g, g * 10 FROM generate_series(1, 20) g;
     INSERT INTO orders SELECT g, g % 20 + 1, g, CASE WHEN g % 3 = 0 THEN 'open' ELSE 'void' END FROM generate_series(1, 100) g;";

/// Classifies the corpus with `functions`: the misrouted lines, and how many of them were
/// meant for the primary but sent to a replica.
fn misrouted(corpus: &[(Target, String)], functions: &Functions) -> (Vec<String>, usize) {
    let mut wrong = Vec::new();
    let mut to_replica = 0;
    for (expected, sql) in corpus {
        let got = classify(sql, functions);
        if got.target != *expected {
            if *expected == Target::Primary {
                to_replica += 1;
            }
            wrong.push(format!(
                "{expected:?} expected, {:?} ({}: {}): {sql}",
                got.target, got.rule, got.reason
            ));
        }
    }
    (wrong, to_replica)
}

#[test]
fn without_pg_proc_no_statement_meant_for_the_primary_reaches_a_replica() {
    let corpus = corpus();
    let (wrong, to_replica) = misrouted(&corpus, &Functions::unknown());
    eprintln!(
        "corpus without pg_proc: {} statements; {} sent to the primary though a replica could serve them; {to_replica} meant for the primary sent to a replica",
        corpus.len(),
        wrong.len()
    );
    assert_eq!(to_replica, 0, "{}", wrong.join("\n"));
    assert!(
        wrong
            .iter()
            .all(|w| w.contains("pg_proc has not been read")),
        "{}",
        wrong.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_corpus_routes_as_expected_and_replica_routed_statements_run_on_a_hot_standby() {
    let corpus = corpus();
    assert!(
        corpus.len() >= 150,
        "the corpus has {} statements",
        corpus.len()
    );
    let sandbox = ScratchSandbox::up("router-corpus", 1)
        .await
        .expect("sandbox up");
    let primary = common::connect(&sandbox, "primary").await;
    primary
        .batch_execute(SCHEMA)
        .await
        .expect("schema on the primary");
    common::caught_up(&sandbox, &["replica1"]).await;
    let router = Router::connect(&common::profile(&sandbox, ""))
        .await
        .expect("router");
    let functions = load_functions(&router.cluster().primary)
        .await
        .expect("pg_proc");

    let (wrong, writes_to_replica) = misrouted(&corpus, &functions);
    let primary_lines = corpus.iter().filter(|(t, _)| *t == Target::Primary).count();
    eprintln!(
        "corpus: {} statements ({primary_lines} primary, {} replica), {} functions in pg_proc; {} misrouted, {writes_to_replica} meant for the primary sent to a replica",
        corpus.len(),
        corpus.len() - primary_lines,
        functions.len(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "misrouted:\n{}", wrong.join("\n"));

    // Every statement sent to a replica runs there, in a read-only transaction.
    let replica = common::connect(&sandbox, "replica1").await;
    // The corpus's tables live in their own schema (the sandbox has TPC-H's `orders`).
    replica
        .batch_execute("SET search_path = app, public")
        .await
        .expect("search_path");
    let mut ran = 0;
    let mut failed = Vec::new();
    for (_, sql) in &corpus {
        if classify(sql, &functions).target != Target::Replica
            || sql.contains("$1")
            || sql.to_uppercase().starts_with("COPY")
        {
            continue;
        }
        replica
            .batch_execute("BEGIN TRANSACTION READ ONLY")
            .await
            .expect("begin");
        if let Err(e) = replica.simple_query(sql).await {
            failed.push(format!("{sql}: {e}"));
        }
        replica.batch_execute("ROLLBACK").await.expect("rollback");
        ran += 1;
    }
    eprintln!(
        "ran {ran} replica-routed statements on a hot standby; {} failed",
        failed.len()
    );
    assert!(ran >= 50);
    assert!(
        failed.is_empty(),
        "failed on the replica:\n{}",
        failed.join("\n")
    );

    // pg_promote() in every spelling goes to the primary (where it fails: not in recovery)
    // and never reaches the standby, which is still in recovery afterwards.
    for sql in [
        "SELECT pg_promote()",
        "SELECT pg_catalog.pg_promote()",
        "SELECT PG_PROMOTE(wait => false)",
        "SELECT * FROM (SELECT pg_promote()) s",
        "VALUES (1), (pg_promote()::int)",
        "/* skein:replica=replica1 */ SELECT pg_promote()",
    ] {
        let route = router.explain(sql);
        assert_eq!(
            (route.target, route.node.as_str(), route.rule.as_str()),
            (Target::Primary, "primary", "function"),
            "{sql}: {route:?}"
        );
        assert!(route.reason.contains("pg_promote()"), "{}", route.reason);
        let e = router
            .simple_query(sql)
            .await
            .expect_err("pg_promote on the primary");
        assert!(e.to_string().contains("primary"), "{sql}: {e}");
    }
    let in_recovery: bool = replica
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .expect("in recovery?")
        .get(0);
    assert!(in_recovery, "replica1 was promoted");
    let stats = router.stats();
    let r1 = stats
        .nodes
        .iter()
        .find(|n| n.name == "replica1")
        .expect("replica1");
    assert_eq!((r1.reads, r1.writes), (0, 0), "{r1:?}");

    // A misspelled function is not known safe.
    let m = router.explain("SELECT lowr('ABC')");
    assert_eq!((m.target, m.rule.as_str()), (Target::Primary, "function"));
    assert!(
        m.reason.contains("lowr() is not in pg_proc"),
        "{}",
        m.reason
    );

    // A function, view and table created after the router read the catalog: the primary,
    // saying why, until the next lag sample reloads the catalog (catalog_reload_ms = 0); then
    // the stable function and the table go to a replica, the view over pg_promote() does not.
    let router = Router::connect(&common::profile(&sandbox, "catalog_reload_ms = 0"))
        .await
        .expect("router");
    primary
        .batch_execute(
            "CREATE FUNCTION app.late(int) RETURNS int STABLE LANGUAGE sql AS 'SELECT $1';
             CREATE VIEW app.late_view AS SELECT pg_promote() AS p;
             CREATE TABLE app.late_table (a int);",
        )
        .await
        .expect("late objects");
    common::caught_up(&sandbox, &["replica1"]).await;
    for (sql, says) in [
        ("SELECT app.late(1)", "app.late() is not in pg_proc"),
        (
            "SELECT * FROM app.late_view",
            "app.late_view, which is not in pg_class",
        ),
        (
            "SELECT * FROM app.late_table",
            "app.late_table, which is not in pg_class",
        ),
    ] {
        let r = router.explain(sql);
        assert_eq!(
            (r.target, r.rule.as_str()),
            (Target::Primary, "function"),
            "{sql}"
        );
        assert!(r.reason.contains(says), "{sql}: {}", r.reason);
    }
    router.observe(&skein_pg::lag::sample(router.cluster()).await);
    let mut reloaded = false;
    for _ in 0..200 {
        if router.explain("SELECT app.late(1)").target == Target::Replica {
            reloaded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(reloaded, "the sample did not reload the catalog");
    let t = router
        .query("SELECT count(*) FROM app.late_table", &[])
        .await
        .expect("table");
    assert_eq!(
        (t.route.target, t.route.node.as_str()),
        (Target::Replica, "replica1")
    );
    let v = router.explain("SELECT * FROM app.late_view");
    assert_eq!(v.target, Target::Primary);
    assert!(
        v.reason
            .contains("it reads the view app.late_view, which calls pg_promote()"),
        "{}",
        v.reason
    );
}
