//! The differential oracle (`skein_router::oracle`) over the whole corpus, against a real hot
//! standby of a disposable sandbox: the hand-written corpus (`tests/corpus.tsv`) and the
//! generated one (`skein_router::corpus`: every statement kind, hints, comments,
//! multi-statement strings, and every `pg_proc` function it can call, in every place a call
//! may hide) — at least 2,000 distinct statements, with no disagreement. Then the oracle's own
//! test: a function that writes, pauses replay or terminates a backend (another, or its own),
//! declared to the classifier as stable (a lie), is routed to the replica and caught, and the
//! standby is put back.

mod common;

use std::time::Instant;

use skein_router::corpus;
use skein_router::oracle::{Oracle, Outcome, Tally};
use skein_router::{load_functions, Proc, Router, Target, Volatility};
use skein_sandbox::ScratchSandbox;

/// Functions whose volatility the oracle's own test lies about.
const LIARS: &str =
    "CREATE FUNCTION app.bump() RETURNS bigint LANGUAGE sql AS 'SELECT nextval(''app.order_seq'')';
     CREATE FUNCTION app.pause_replay() RETURNS void LANGUAGE sql AS 'SELECT pg_wal_replay_pause()';
     CREATE FUNCTION app.kill(int) RETURNS bool LANGUAGE sql AS 'SELECT pg_terminate_backend($1)';";

fn stable(name: &str, nargs: u16) -> Proc {
    Proc {
        schema: "app".into(),
        name: name.into(),
        nargs,
        ndefaults: 0,
        variadic: false,
        volatility: Volatility::Stable,
        builtin: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_agrees_with_every_decision_and_catches_a_lie() {
    let sandbox = ScratchSandbox::up("router-oracle", 1)
        .await
        .expect("sandbox up");
    let primary = common::connect(&sandbox, "primary").await;
    primary
        .batch_execute(corpus::SCHEMA)
        .await
        .expect("the corpus's schema");
    primary.batch_execute(LIARS).await.expect("the liars");
    common::caught_up(&sandbox, &["replica1"]).await;
    let router = Router::connect(&common::profile(&sandbox, ""))
        .await
        .expect("router");
    let cluster = router.cluster();
    let functions = load_functions(&cluster.primary).await.expect("pg_proc");

    let mut statements = corpus::generate(&cluster.primary)
        .await
        .expect("the generated corpus");
    let generated = statements.len();
    for line in include_str!("corpus.tsv").lines() {
        if let Some((_, sql)) = line.split_once('\t').filter(|_| !line.starts_with('#')) {
            if !sql.contains("$1") && !statements.iter().any(|s| s == sql) {
                statements.push(sql.to_owned());
            }
        }
    }
    assert!(
        statements.len() >= 2000,
        "{} distinct statements",
        statements.len()
    );

    let mut oracle = Oracle::connect(&cluster.replicas[0])
        .await
        .expect("the oracle on replica1");
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut disagreements = Vec::new();
    let mut inconclusive: std::collections::BTreeMap<String, usize> = Default::default();
    for sql in &statements {
        let v = oracle.check(sql, &functions).await.expect("a verdict");
        tally.add(&v);
        match v.outcome {
            Outcome::Disagrees => disagreements.push(v.to_string()),
            Outcome::Inconclusive => {
                let code = v
                    .detail
                    .as_deref()
                    .unwrap_or("")
                    .split(':')
                    .next()
                    .unwrap_or("");
                *inconclusive.entry(code.to_owned()).or_default() += 1;
            }
            _ => {}
        }
    }
    let mut by_code: Vec<_> = inconclusive.into_iter().collect();
    by_code.sort_by_key(|b| std::cmp::Reverse(b.1));
    eprintln!("inconclusive by SQLSTATE: {by_code:?}");
    eprintln!(
        "oracle: {} statements ({generated} generated) in {:.1} s: {tally}",
        tally.statements,
        started.elapsed().as_secs_f64()
    );
    assert!(
        disagreements.is_empty(),
        "the standby disagrees:\n{}",
        disagreements.join("\n")
    );
    assert!(tally.to_replica >= 1000, "{tally:?}");
    assert!(tally.claimed_refused >= 50, "{tally:?}");
    // Inconclusive ones are calls that fail on their generated arguments; they must stay a
    // minority, or the corpus proves little.
    assert!(tally.inconclusive * 4 < tally.to_replica, "{tally:?}");

    // The oracle's own test: each lie is routed to the replica and caught.
    let lying = functions
        .clone()
        .with_proc(stable("bump", 0))
        .with_proc(stable("pause_replay", 0))
        .with_proc(stable("kill", 1));
    let v = oracle
        .check("SELECT app.bump()", &lying)
        .await
        .expect("a verdict");
    assert_eq!(
        (v.target, v.outcome),
        (Target::Replica, Outcome::Disagrees),
        "{v}"
    );
    assert!(
        v.detail
            .as_deref()
            .is_some_and(|d| d.starts_with("refused it: 25006")),
        "{v}"
    );
    let v = oracle
        .check("SELECT app.pause_replay()", &lying)
        .await
        .expect("a verdict");
    assert_eq!(
        (v.target, v.outcome),
        (Target::Replica, Outcome::Disagrees),
        "{v}"
    );
    assert!(
        v.detail
            .as_deref()
            .is_some_and(|d| d.contains("replay went from not paused to")),
        "{v}"
    );
    let sql = format!("SELECT app.kill({})", oracle.bystander_pid());
    let v = oracle.check(&sql, &lying).await.expect("a verdict");
    assert_eq!(
        (v.target, v.outcome),
        (Target::Replica, Outcome::Disagrees),
        "{v}"
    );
    assert!(
        v.detail
            .as_deref()
            .is_some_and(|d| d.contains("bystander backend")),
        "{v}"
    );
    let v = oracle
        .check("SELECT app.kill(pg_backend_pid())", &lying)
        .await
        .expect("a verdict");
    assert_eq!(
        (v.target, v.outcome),
        (Target::Replica, Outcome::Disagrees),
        "{v}"
    );
    assert!(
        v.detail
            .as_deref()
            .is_some_and(|d| d.contains("is gone after it")),
        "{v}"
    );
    // Put back: replay runs, and the truth agrees again.
    let replica = common::connect(&sandbox, "replica1").await;
    let paused: String = replica
        .query_one("SELECT pg_get_wal_replay_pause_state()", &[])
        .await
        .expect("replay state")
        .get(0);
    assert_eq!(paused, "not paused");
    for sql in [
        "SELECT app.bump()",
        "SELECT app.pause_replay()",
        "SELECT lower('A')",
    ] {
        let v = oracle.check(sql, &functions).await.expect("a verdict");
        assert_ne!(v.outcome, Outcome::Disagrees, "{v}");
    }
}
