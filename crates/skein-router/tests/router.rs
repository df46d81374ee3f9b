//! The router against a real primary and streaming replicas: where statements go, sessions
//! that keep state, retries, rules and configuration.

mod common;

use common::{caught_up, connect, create_table, profile};
use skein_router::{force_primary, Router, Session, Target};
use skein_sandbox::ScratchSandbox;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_replicas_writes_to_the_primary_and_sessions_keep_their_state() {
    let sandbox = ScratchSandbox::up("router-basic", 2)
        .await
        .expect("sandbox up");
    let primary = connect(&sandbox, "primary").await;
    create_table(&primary).await;
    caught_up(&sandbox, &["replica1", "replica2"]).await;
    let router = Router::connect(&profile(&sandbox, ""))
        .await
        .expect("router");

    // Reads spread over both replicas (weights 1:1, smooth weighted round robin).
    let mut served = std::collections::BTreeMap::<String, u32>::new();
    for id in 1..=20i32 {
        let r = router
            .query("SELECT v FROM app.t WHERE id = $1", &[&id])
            .await
            .expect("read");
        assert_eq!(r.value[0].get::<_, i32>(0), id);
        assert_eq!(
            (r.route.target, r.route.rule.as_str()),
            (Target::Replica, "read")
        );
        *served.entry(r.route.node).or_default() += 1;
    }
    assert_eq!(
        served.into_iter().collect::<Vec<_>>(),
        [("replica1".to_string(), 10), ("replica2".to_string(), 10)]
    );

    // Writes, sequences and locking reads go to the primary, with the rule that decided.
    let w = router
        .execute("UPDATE app.t SET v = v + 1 WHERE id = 1", &[])
        .await
        .expect("write");
    assert_eq!(
        (w.value, w.route.node.as_str(), w.route.rule.as_str()),
        (1, "primary", "statement")
    );
    let n = router
        .query("SELECT nextval('app.s')", &[])
        .await
        .expect("nextval");
    assert_eq!(
        (n.route.node.as_str(), n.route.rule.as_str()),
        ("primary", "function")
    );
    let l = router
        .query("SELECT v FROM app.t WHERE id = 2 FOR UPDATE", &[])
        .await
        .expect("locking read");
    assert_eq!(
        (l.route.node.as_str(), l.route.rule.as_str()),
        ("primary", "locking")
    );
    let f = force_primary(router.query("SELECT 1", &[]))
        .await
        .expect("forced");
    assert_eq!(
        (f.route.node.as_str(), f.route.rule.as_str()),
        ("primary", "force_primary")
    );

    // Statements that leave state on a connection need a session.
    let e = router
        .execute("BEGIN", &[])
        .await
        .expect_err("BEGIN outside a session");
    assert_eq!(e.code(), skein_core::ErrorCode::InvalidInput);
    assert!(e.to_string().contains("Session"), "{e}");

    // In a session they pin it to one primary connection: SET, temp tables, transactions.
    let session = Session::new(None);
    session
        .scope(async {
            router
                .execute("SET application_name = 'skein-test-pinned'", &[])
                .await
                .expect("set");
            let s = router
                .simple_query("SHOW application_name")
                .await
                .expect("show");
            assert_eq!(s.route.rule, "session_pinned");
            let value = s.value.iter().find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                _ => None,
            });
            assert_eq!(value.as_deref(), Some("skein-test-pinned"));
            router
                .execute("CREATE TEMP TABLE scratch AS SELECT 7 AS a", &[])
                .await
                .expect("temp table");
            let t = router
                .query("SELECT a FROM scratch", &[])
                .await
                .expect("read temp");
            assert_eq!(
                (t.value[0].get::<_, i32>(0), t.route.node.as_str()),
                (7, "primary")
            );
        })
        .await;
    let txn = Session::new(None);
    txn.scope(async {
        router.execute("BEGIN", &[]).await.expect("begin");
        router
            .execute("INSERT INTO app.t VALUES (500, 500)", &[])
            .await
            .expect("insert");
        let inside = router
            .query("SELECT count(*) FROM app.t WHERE id = 500", &[])
            .await
            .expect("read in txn");
        assert_eq!(
            inside.value[0].get::<_, i64>(0),
            1,
            "the transaction sees its own insert"
        );
        assert_eq!(inside.route.rule, "session_pinned");
        router.execute("COMMIT", &[]).await.expect("commit");
        // The block ended and no session state was left: reads go to replicas again (ones that
        // have replayed the commit, for read-your-writes).
        let after = router
            .query("SELECT count(*) FROM app.t WHERE id = 500", &[])
            .await
            .expect("read after");
        assert_eq!(after.value[0].get::<_, i64>(0), 1);
        assert!(after.route.needs_lsn.is_some(), "{:?}", after.route);
    })
    .await;
    assert!(txn.last_write_lsn().is_some());

    // Functions created behind the router's back are not in the pg_proc it read: calls go to
    // the primary, saying so, until a reload; then a stable one goes to a replica and a
    // volatile one stays on the primary.
    primary
        .batch_execute(
            "CREATE FUNCTION app.bump() RETURNS int LANGUAGE sql AS
             'INSERT INTO app.t VALUES (999, 1) RETURNING v';
             CREATE FUNCTION app.twice(int) RETURNS int STABLE LANGUAGE sql AS 'SELECT 2 * $1'",
        )
        .await
        .expect("create functions");
    caught_up(&sandbox, &["replica1", "replica2"]).await;
    for sql in ["SELECT app.bump()", "SELECT app.twice(2)"] {
        let r = router.query(sql, &[]).await.expect("on the primary");
        assert_eq!(
            (r.route.node.as_str(), r.route.rule.as_str()),
            ("primary", "function"),
            "{sql}: {:?}",
            r.route
        );
        assert!(
            r.route.reason.contains("is not in pg_proc"),
            "{}",
            r.route.reason
        );
    }
    router.reload_functions().await.expect("reload");
    let c = router.explain("SELECT app.bump()");
    assert_eq!((c.target, c.rule.as_str()), (Target::Primary, "function"));
    assert!(c.reason.contains("volatile user function"), "{}", c.reason);
    let t = router
        .query("SELECT app.twice(2)", &[])
        .await
        .expect("twice");
    assert_eq!(
        (t.route.target, t.value[0].get::<_, i32>(0)),
        (Target::Replica, 4)
    );

    // A session's running statement can be cancelled; the error names the node.
    let sleeper = Session::new(Some("sleeper"));
    let running = tokio::spawn({
        let (router, sleeper) = (router.clone(), sleeper.clone());
        async move {
            sleeper
                .scope(router.simple_query("SELECT pg_sleep(30)"))
                .await
        }
    });
    let mut cancelled = None;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        cancelled = sleeper.cancel().await.expect("cancel request");
        if cancelled.is_some() {
            break;
        }
    }
    let on = cancelled.expect("the sleep was running");
    let e = running.await.expect("task").expect_err("cancelled");
    assert_eq!(e.code(), skein_core::ErrorCode::Cancelled, "{e}");
    assert!(
        e.to_string().contains(&on) && e.to_string().contains("57014"),
        "{e}"
    );
    assert_eq!(sleeper.cancel().await.expect("nothing running"), None);
    // A statement timeout is the same SQLSTATE (57014) but not a cancel: it stays `Timeout`.
    // The SET in the string pins the session's connection: the timeout never reaches the pool.
    let timed_out = Session::new(Some("timeout"))
        .scope(router.simple_query("SET statement_timeout = 100; SELECT pg_sleep(5)"))
        .await
        .expect_err("statement timeout");
    assert_eq!(
        timed_out.code(),
        skein_core::ErrorCode::Timeout,
        "{timed_out}"
    );
    for _ in 0..20 {
        let shown = router
            .simple_query("/* skein:primary */ SHOW statement_timeout")
            .await
            .expect("show");
        let value = shown.value.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        });
        assert_eq!(
            value.as_deref(),
            Some("0"),
            "a pooled connection kept the SET"
        );
    }

    let stats = router.stats();
    let node = |n: &str| {
        stats
            .nodes
            .iter()
            .find(|x| x.name == n)
            .expect("node")
            .clone()
    };
    assert_eq!(
        node("replica1").writes + node("replica2").writes,
        0,
        "no write counted on a replica"
    );
    assert!(node("primary").writes >= 5, "{stats:?}");
    assert_eq!(node("replica1").retried + node("replica2").retried, 0);
    assert!(
        node("replica1").reads >= 10 && node("replica2").reads >= 10,
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_turns_splitting_off_and_rules_and_dead_replicas_route_around() {
    let sandbox = ScratchSandbox::up("router-config", 2)
        .await
        .expect("sandbox up");
    let primary = connect(&sandbox, "primary").await;
    create_table(&primary).await;
    caught_up(&sandbox, &["replica1", "replica2"]).await;

    // Splitting off by configuration alone.
    let off = Router::connect(&profile(&sandbox, "read_splitting = false"))
        .await
        .expect("router");
    let r = off
        .query("SELECT v FROM app.t WHERE id = 3", &[])
        .await
        .expect("read");
    assert_eq!(
        (r.route.node.as_str(), r.route.rule.as_str()),
        ("primary", "read_splitting_off")
    );

    // Per-table and per-query rules.
    let ruled = Router::connect(&profile(
        &sandbox,
        "[[table_rules]]\ntable = \"app.t\"\nto = \"replica2\"\n\
         [[query_rules]]\nquery = \"SELECT 1 + 1\"\nto = \"primary\"\n",
    ))
    .await
    .expect("router");
    for _ in 0..4 {
        let r = ruled
            .query("SELECT v FROM app.t WHERE id = 4", &[])
            .await
            .expect("read");
        assert_eq!(
            (r.route.node.as_str(), r.route.rule.as_str()),
            ("replica2", "table_rule")
        );
    }
    let q = ruled.query("SELECT 5 + 8", &[]).await.expect("query rule");
    assert_eq!(
        (q.route.node.as_str(), q.route.rule.as_str()),
        ("primary", "query_rule")
    );
    let e = Router::connect(&profile(
        &sandbox,
        "[[table_rules]]\ntable = \"t\"\nto = \"replica9\"\n",
    ))
    .await
    .expect_err("unknown node");
    assert!(e.to_string().contains("replica9"), "{e}");

    // A replica that refuses connections: its reads are retried on the primary and counted,
    // and after max_failures it leaves rotation, so reads stop going there.
    let mut p = profile(
        &sandbox,
        "max_failures = 3\nreplica_pool = { max_size = 4, timeout_ms = 500 }",
    );
    let mut ghost = p.replicas[0].clone();
    ghost.name = "ghost".into();
    ghost.url = "host=127.0.0.1 port=1 user=postgres dbname=tpch".into();
    p.replicas.push(ghost);
    let router = Router::connect(&p).await.expect("router");
    let mut retries = 0;
    for id in 1..=30i32 {
        let r = router
            .query("SELECT v FROM app.t WHERE id = $1", &[&id])
            .await
            .expect("read");
        assert_eq!(r.value[0].get::<_, i32>(0), id);
        if r.route.rule == "retry" {
            assert!(r.route.reason.contains("ghost"), "{}", r.route.reason);
            retries += 1;
        }
    }
    let stats = router.stats();
    let g = stats
        .nodes
        .iter()
        .find(|n| n.name == "ghost")
        .expect("ghost");
    assert!(!g.in_rotation, "{g:?}");
    assert!(
        g.reason.as_deref().is_some_and(|r| r.contains("failures")),
        "{g:?}"
    );
    // One failure came from the connect-time sample; the rest from reads, each retried once.
    assert_eq!(g.retried, retries);
    assert!((1..=2).contains(&retries), "{retries} reads were retried");
}
