//! The classifier against its corpus (`tests/corpus.tsv`: the misroutes poolers and ORMs are
//! known for, and their relatives), then against a real hot standby: every statement the
//! classifier sends to a replica runs there, inside a read-only transaction, without error.

mod common;

use skein_router::{classify, Functions, Target};
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

#[test]
fn the_corpus_routes_as_expected_and_no_write_reaches_a_replica() {
    let corpus = corpus();
    assert!(
        corpus.len() >= 150,
        "the corpus has {} statements",
        corpus.len()
    );
    let functions = Functions::default();
    let mut wrong = Vec::new();
    let mut writes_to_replica = 0;
    for (expected, sql) in &corpus {
        let got = classify(sql, &functions);
        if got.target != *expected {
            if *expected == Target::Primary {
                writes_to_replica += 1;
            }
            wrong.push(format!(
                "{expected:?} expected, {:?} ({}: {}): {sql}",
                got.target, got.rule, got.reason
            ));
        }
    }
    let primary = corpus.iter().filter(|(t, _)| *t == Target::Primary).count();
    eprintln!(
        "corpus: {} statements ({primary} primary, {} replica); {} misrouted, {writes_to_replica} writes or locking reads sent to a replica",
        corpus.len(),
        corpus.len() - primary,
        wrong.len()
    );
    assert!(wrong.is_empty(), "misrouted:\n{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_statement_routed_to_a_replica_runs_on_a_hot_standby() {
    let sandbox = ScratchSandbox::up("router-corpus", 1)
        .await
        .expect("sandbox up");
    let password = sandbox.password().expect("password");
    let connect = |node: &str| {
        let info = format!("{} password={password}", sandbox.conninfo(node, "tpch"));
        async move {
            let (client, conn) = tokio_postgres::connect(&info, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(conn);
            client
        }
    };
    let primary = connect("primary").await;
    primary
        .batch_execute(
            "CREATE SCHEMA app; SET search_path = app;
             CREATE TABLE accounts (id int PRIMARY KEY, balance numeric);
             CREATE TABLE orders (id int PRIMARY KEY, account_id int, total numeric, status text);
             CREATE SEQUENCE order_seq;
             INSERT INTO accounts SELECT g, g * 10 FROM generate_series(1, 20) g;
             INSERT INTO orders SELECT g, g % 20 + 1, g, CASE WHEN g % 3 = 0 THEN 'open' ELSE 'void' END FROM generate_series(1, 100) g;",
        )
        .await
        .expect("schema on the primary");
    common::caught_up(&sandbox, &["replica1"]).await;
    let replica = connect("replica1").await;
    // The corpus's tables live in their own schema (the sandbox has TPC-H's `orders`).
    replica
        .batch_execute("SET search_path = app, public")
        .await
        .expect("search_path");
    let functions = Functions::default();
    let mut ran = 0;
    let mut failed = Vec::new();
    for (_, sql) in corpus() {
        if classify(&sql, &functions).target != Target::Replica
            || sql.contains("$1")
            || sql.to_uppercase().starts_with("COPY")
        {
            continue;
        }
        replica
            .batch_execute("BEGIN TRANSACTION READ ONLY")
            .await
            .expect("begin");
        if let Err(e) = replica.simple_query(&sql).await {
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
}
