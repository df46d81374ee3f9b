//! Lag, health, read-only replicas and fingerprints against real servers: every test that
//! needs PostgreSQL starts its own sandbox (a primary and streaming replicas on loopback
//! ports, in a directory of its own under /tmp) and always tears it down, even when it fails.
//!
//! No assertion depends on how fast anything happens: conditions that become true
//! eventually are polled under a bounded deadline ([`DEADLINE`]).

use std::path::Path;
use std::time::{Duration, Instant};

use skein_core::{ErrorCode, Profile, Thresholds};
use skein_pg::{
    lag, Cluster, Error, Fingerprint, LagLevel, LagSample, NodeRole, NodeStatus, ReplicaState,
};
use skein_sandbox::ScratchSandbox;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// How long an eventually-true condition may take.
const DEADLINE: Duration = Duration::from_secs(20);

/// A running sandbox and the cluster its profile describes. Fields drop in order: the
/// cluster's pools first, the sandbox (which stops the servers and removes its directory,
/// also on panic) last.
struct Stack {
    cluster: Cluster,
    sandbox: ScratchSandbox,
}

/// A sandbox of its own for test `name`, with `replicas` replicas and TPC-H at `scale`
/// (0: none).
async fn start(name: &str, replicas: usize, scale: f64) -> TestResult<Stack> {
    let sandbox = ScratchSandbox::up_with_tpch(&format!("test-{name}"), replicas, scale).await?;
    let cluster = Cluster::from_profile(&Profile::load(&sandbox.profile)?)?;
    Ok(Stack { cluster, sandbox })
}

fn node<'a>(sample: &'a LagSample, name: &str) -> &'a NodeStatus {
    sample
        .node(name)
        .unwrap_or_else(|| panic!("no node '{name}' in the sample: {sample:#?}"))
}

/// What must hold in every sample, whatever the cluster is doing.
fn check_consistent(s: &LagSample) {
    let primary = &s.nodes[0];
    assert_eq!(primary.role, NodeRole::Primary, "primary first: {s:#?}");
    for n in &s.nodes {
        if n.reachable {
            assert_ne!(n.state, ReplicaState::Down, "{s:#?}");
        } else {
            assert_eq!(n.state, ReplicaState::Down, "{s:#?}");
            assert!(n.error.is_some(), "a node that is down says why: {s:#?}");
            assert_eq!(n.lag_bytes, None, "{s:#?}");
            continue;
        }
        if n.role == NodeRole::Primary {
            assert_eq!(n.state, ReplicaState::Primary, "{s:#?}");
            assert_eq!(n.lag_bytes, Some(0), "{s:#?}");
            assert!(n.lsn.is_some(), "{s:#?}");
            continue;
        }
        // A promoted replica replays nothing: no lag of any kind, and critical.
        if n.state == ReplicaState::Promoted {
            assert_eq!((n.lag_bytes, n.replay_lag_ms), (None, None), "{s:#?}");
            assert_eq!(n.level, LagLevel::Critical, "{s:#?}");
            continue;
        }
        // Bytes of lag are exactly the primary's LSN minus the replica's replay LSN.
        if let (true, Some(p), Some(r)) = (primary.reachable, primary.lsn, n.lsn) {
            assert_eq!(
                n.lag_bytes,
                Some(p.bytes_after(r)),
                "{}: lag bytes = primary LSN − replay LSN: {s:#?}",
                n.name
            );
        }
        // A caught-up replica has no time lag either.
        if n.lag_bytes == Some(0) {
            assert_eq!(n.replay_lag_ms, Some(0), "{}: {s:#?}", n.name);
        }
    }
}

/// Samples until `ok` holds, checking every sample; panics with the last one at the deadline.
async fn sample_until(cluster: &Cluster, what: &str, ok: impl Fn(&LagSample) -> bool) -> LagSample {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let s = lag::sample(cluster).await;
        check_consistent(&s);
        if ok(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not reached within {DEADLINE:?}; last sample: {s:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn caught_up(s: &LagSample, name: &str) -> bool {
    let n = node(s, name);
    n.reachable
        && n.state == ReplicaState::Streaming
        && n.lag_bytes == Some(0)
        && n.replay_lag_ms == Some(0)
}

/// One text value from a query on a node.
async fn query_text(node: &skein_pg::Node, sql: &'static str) -> skein_pg::Result<String> {
    node.with_client("test query", |c| async move {
        c.query_one(sql, &[]).await.map(|r| r.get::<_, String>(0))
    })
    .await
}

/// Polls `query_text` until it returns `want`.
async fn query_until(node: &skein_pg::Node, sql: &'static str, want: &str) -> TestResult {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let got = query_text(node, sql).await?;
        if got == want {
            return Ok(());
        }
        assert!(
            Instant::now() < deadline,
            "{}: `{sql}` gave '{got}', not '{want}', within {DEADLINE:?}",
            node.name()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn free_port() -> TestResult<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Writes `text` to `file` readable by its owner only (libpq ignores other password files).
fn write_private(file: &Path, text: &str) -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(file, text)?;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------

/// Both replicas stream, and an idle primary with caught-up replicas shows 0 bytes and 0 ms,
/// also after it has been idle for a while (not a growing `now() − last replay`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_replicas_stream_with_zero_lag() -> TestResult {
    let stack = start("idle", 2, 0.01).await?;
    let cluster = &stack.cluster;
    assert_eq!(cluster.replicas.len(), 2);
    assert!(stack.sandbox.rows_loaded > 0);

    let s = sample_until(cluster, "both replicas caught up", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;
    assert_eq!(s.nodes.len(), 3);
    let primary = node(&s, "primary");
    assert!(primary.reachable && primary.error.is_none(), "{s:#?}");
    assert_eq!(primary.level, LagLevel::Ok);
    for name in ["replica1", "replica2"] {
        let r = node(&s, name);
        assert_eq!(r.role, NodeRole::Replica);
        assert_eq!(r.error, None, "{s:#?}");
        assert_eq!(r.level, LagLevel::Ok, "{s:#?}");
        assert!(r.lsn.is_some() && r.receive_lsn.is_some(), "{s:#?}");
        assert!(
            r.receive_lsn >= r.lsn,
            "received WAL is at least replayed WAL: {s:#?}"
        );
        // The demo data load committed transactions the replicas replayed.
        assert!(r.last_replay_at.is_some(), "{s:#?}");
    }

    // Idle for longer than a sampling interval: the last replayed commit is seconds old, yet
    // caught-up replicas still show no lag.
    tokio::time::sleep(Duration::from_secs(3)).await;
    sample_until(cluster, "both replicas still at 0 after idling", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;
    drop(stack);
    Ok(())
}

/// Paused replay: the paused replica falls behind by exactly the WAL written since, says
/// Paused, and its time lag grows; the other replica keeps up. Resumed, it catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_replica_lags_and_catches_up_after_resume() -> TestResult {
    let stack = start("pause", 2, 0.01).await?;
    let mut cluster = stack.cluster.clone();
    // A low warning threshold, so the level follows the growing time lag.
    cluster.thresholds = Thresholds {
        lag_warning_ms: 100,
        lag_critical_ms: 3_600_000,
        ..Default::default()
    };
    let cluster = &cluster;
    sample_until(cluster, "both replicas caught up", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;

    cluster.pause_replay("replica1").await?;
    let s = sample_until(cluster, "replica1 paused", |s| {
        node(s, "replica1").state == ReplicaState::Paused
    })
    .await;
    assert!(node(&s, "replica1").reachable);

    let created = cluster
        .primary
        .execute(
            "CREATE TABLE lag_probe AS SELECT g, md5(g::text) AS h FROM generate_series(1, 5000) g",
        )
        .await?;
    assert_eq!(created, 5000);
    let first = sample_until(cluster, "replica1 behind, replica2 caught up", |s| {
        node(s, "replica1").lag_bytes.is_some_and(|b| b > 0) && caught_up(s, "replica2")
    })
    .await;
    let r1 = node(&first, "replica1");
    assert_eq!(r1.state, ReplicaState::Paused, "{first:#?}");
    assert_eq!(r1.error, None, "{first:#?}");
    let lag1 = r1.lag_bytes.unwrap_or_default();
    // 5000 rows of ~50 bytes each are well over 100 kB of WAL.
    assert!(lag1 > 100_000, "lag after a 5000-row insert: {lag1} bytes");

    // More writes: the paused replica's replay LSN stays put, so its lag grows.
    let client = skein_sandbox::demo::connect_primary(&stack.sandbox).await?;
    let report = skein_sandbox::demo::workload(&client, 200, 1).await?;
    assert!(
        report.orders > 0 && report.line_items >= report.orders,
        "{report:?}"
    );
    let second = sample_until(cluster, "replica1 further behind", |s| {
        let r = node(s, "replica1");
        r.lag_bytes.is_some_and(|b| b > lag1)
            && r.replay_lag_ms.is_some_and(|ms| ms >= 100)
            && caught_up(s, "replica2")
    })
    .await;
    let r1b = node(&second, "replica1");
    assert_eq!(r1b.state, ReplicaState::Paused);
    assert_eq!(
        r1b.lsn, r1.lsn,
        "replay is paused: the replay LSN does not move"
    );
    assert!(
        r1b.receive_lsn > r1b.lsn,
        "WAL keeps streaming while replay is paused: {second:#?}"
    );
    assert_eq!(r1b.level, LagLevel::Warning, "{second:#?}");
    assert_eq!(node(&second, "replica2").level, LagLevel::Ok);
    assert_eq!(node(&second, "replica2").state, ReplicaState::Streaming);

    cluster.resume_replay("replica1").await?;
    let s = sample_until(cluster, "replica1 caught up after resume", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;
    assert_eq!(node(&s, "replica1").level, LagLevel::Ok);
    assert_eq!(node(&s, "replica1").error, None);
    query_until(
        cluster.node("replica1")?,
        "SELECT count(*)::text FROM lag_probe",
        "5000",
    )
    .await?;
    drop(stack);
    Ok(())
}

/// A stopped replica is reported down with its error while the others keep reporting; once
/// started again it streams and catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_replica_is_down_and_others_still_report() -> TestResult {
    let mut stack = start("stop", 2, 0.01).await?;
    let cluster = stack.cluster.clone();
    sample_until(&cluster, "both replicas caught up", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;

    tokio::task::block_in_place(|| stack.sandbox.stop_node("replica2"))?;
    let s = sample_until(&cluster, "replica2 down", |s| {
        node(s, "replica2").state == ReplicaState::Down
    })
    .await;
    let r2 = node(&s, "replica2");
    assert!(!r2.reachable);
    assert_eq!(
        r2.level,
        LagLevel::Critical,
        "a down replica is out of rotation"
    );
    assert_eq!((r2.lag_bytes, r2.replay_lag_ms, r2.lsn), (None, None, None));
    let err = r2.error.as_ref().expect("a down node carries its error");
    assert!(
        matches!(err.code, ErrorCode::ConnectionRefused | ErrorCode::Timeout),
        "{err:?}"
    );
    assert!(
        err.message.contains("replica2"),
        "the message names the node: {}",
        err.message
    );
    let primary = node(&s, "primary");
    assert!(
        primary.reachable && primary.lsn.is_some() && primary.error.is_none(),
        "{s:#?}"
    );
    let r1 = node(&s, "replica1");
    assert!(
        r1.reachable && r1.lag_bytes.is_some() && r1.replay_lag_ms.is_some(),
        "{s:#?}"
    );

    // Writes still reach replica1; replica2 stays down.
    cluster
        .primary
        .execute("CREATE TABLE while_down AS SELECT g FROM generate_series(1, 1000) g")
        .await?;
    let s = sample_until(&cluster, "replica1 caught up while replica2 is down", |s| {
        caught_up(s, "replica1")
    })
    .await;
    assert_eq!(node(&s, "replica2").state, ReplicaState::Down);
    query_until(
        cluster.node("replica1")?,
        "SELECT count(*)::text FROM while_down",
        "1000",
    )
    .await?;

    // A node that is down fails a direct query with an error naming it, too.
    let e = cluster
        .node("replica2")?
        .execute("SELECT 1")
        .await
        .expect_err("replica2 is stopped");
    assert!(
        matches!(e.code(), ErrorCode::ConnectionRefused | ErrorCode::Timeout),
        "{e}"
    );
    assert!(e.to_string().contains("replica2"), "{e}");

    // Back up: it reconnects through its replication slot and replays what it missed.
    tokio::task::block_in_place(|| stack.sandbox.start_node("replica2"))?;
    sample_until(&cluster, "replica2 back and caught up", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;
    query_until(
        cluster.node("replica2")?,
        "SELECT count(*)::text FROM while_down",
        "1000",
    )
    .await?;
    drop(stack);
    Ok(())
}

/// A write sent to a replica is refused by the server with ReadOnlyReplica naming the node;
/// the same write on the primary succeeds and replicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_a_replica_fail_with_read_only_replica() -> TestResult {
    let stack = start("readonly", 2, 0.01).await?;
    let cluster = &stack.cluster;
    let replica = cluster.node("replica1")?;

    // Read-only at the server: the session default and the transaction.
    assert_eq!(
        query_text(replica, "SHOW default_transaction_read_only").await?,
        "on"
    );
    assert_eq!(
        query_text(replica, "SHOW transaction_read_only").await?,
        "on"
    );
    assert_eq!(
        query_text(&cluster.primary, "SHOW transaction_read_only").await?,
        "off"
    );

    for sql in [
        "CREATE TABLE x(i int)",
        "INSERT INTO region VALUES (100, 'TEST', 'written by a test')",
    ] {
        for name in ["replica1", "replica2"] {
            let e = cluster
                .node(name)?
                .execute(sql)
                .await
                .expect_err("a replica refuses writes");
            assert!(
                matches!(&e, Error::ReadOnlyReplica { node, .. } if node == name),
                "{sql} on {name}: {e:?}"
            );
            assert_eq!(e.code(), ErrorCode::ReadOnlyReplica);
            let message = e.to_string();
            assert!(
                message.contains(name),
                "the message names the node: {message}"
            );
            assert!(message.contains("read-only"), "{message}");
        }
    }
    // Nothing reached the primary.
    assert_eq!(
        query_text(
            &cluster.primary,
            "SELECT coalesce(to_regclass('x')::text, 'none')"
        )
        .await?,
        "none"
    );
    assert_eq!(
        query_text(
            &cluster.primary,
            "SELECT count(*)::text FROM region WHERE r_regionkey = 100"
        )
        .await?,
        "0"
    );

    // The same writes on the primary succeed and reach the replicas.
    assert_eq!(cluster.primary.execute("CREATE TABLE x(i int)").await?, 0);
    assert_eq!(
        cluster
            .primary
            .execute("INSERT INTO region VALUES (100, 'TEST', 'written by a test')")
            .await?,
        1
    );
    for name in ["replica1", "replica2"] {
        query_until(
            cluster.node(name)?,
            "SELECT count(*)::text FROM region WHERE r_regionkey = 100",
            "1",
        )
        .await?;
        query_until(
            cluster.node(name)?,
            "SELECT coalesce(to_regclass('x')::text, 'none')",
            "x",
        )
        .await?;
    }
    // An unknown node name is NotFound.
    let e = cluster.node("replica9").expect_err("no such node");
    assert_eq!(e.code(), ErrorCode::NotFound);
    drop(stack);
    Ok(())
}

/// Fingerprints are stable without changes, move on INSERT, UPDATE and DELETE (and only for
/// the table that changed), survive VACUUM FREEZE, and carry a primary LSN that replicas
/// reach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fingerprints_follow_changes() -> TestResult {
    let stack = start("fingerprint", 2, 0.01).await?;
    let cluster = &stack.cluster;
    let tables: Vec<String> = vec!["region".into(), "nation".into()];

    let fp0 = Fingerprint::take(&cluster.primary, &tables).await?;
    assert_eq!(fp0.tables.len(), 2);
    assert_eq!(
        (fp0.tables[0].table.as_str(), fp0.tables[0].rows),
        ("region", 5)
    );
    assert_eq!(
        (fp0.tables[1].table.as_str(), fp0.tables[1].rows),
        ("nation", 25)
    );
    assert!(fp0.lsn <= skein_pg::fingerprint::replay_lsn(&cluster.primary).await?);

    // Stable when nothing changes.
    let again = Fingerprint::take(&cluster.primary, &tables).await?;
    assert_eq!(again.tables, fp0.tables);
    assert_eq!(again.digest(), fp0.digest());

    // VACUUM FREEZE rewrites tuple headers but not the fingerprint.
    cluster.primary.execute("VACUUM (FREEZE) region").await?;
    let frozen = Fingerprint::take(&cluster.primary, &tables).await?;
    assert_eq!(
        frozen.tables, fp0.tables,
        "VACUUM FREEZE changed the fingerprint"
    );

    let mut previous = fp0;
    for (what, sql, rows) in [
        (
            "INSERT",
            "INSERT INTO region VALUES (100, 'TEST', 'fingerprint test')",
            6,
        ),
        (
            "UPDATE",
            "UPDATE region SET r_comment = r_comment WHERE r_regionkey = 0",
            6,
        ),
        ("DELETE", "DELETE FROM region WHERE r_regionkey = 100", 5),
    ] {
        assert_eq!(cluster.primary.execute(sql).await?, 1, "{what}");
        let fp = Fingerprint::take(&cluster.primary, &tables).await?;
        assert_ne!(
            fp.digest(),
            previous.digest(),
            "{what} did not change the fingerprint"
        );
        assert_ne!(fp.tables[0], previous.tables[0], "{what}");
        assert_eq!(fp.tables[0].rows, rows, "{what}");
        assert_eq!(
            fp.tables[1], previous.tables[1],
            "{what} on region changed nation's fingerprint"
        );
        assert!(
            fp.lsn > previous.lsn,
            "{what}: the LSN moves past the change"
        );
        let primary_lsn = skein_pg::fingerprint::replay_lsn(&cluster.primary).await?;
        assert!(
            fp.lsn <= primary_lsn,
            "{what}: fingerprint LSN {} is ahead of the primary {}",
            fp.lsn,
            primary_lsn
        );
        previous = fp;
    }

    // A schema change without a table rewrite leaves every row's xmin alone, but the columns
    // are part of the fingerprint.
    cluster
        .primary
        .execute("ALTER TABLE region ADD COLUMN r_note text")
        .await?;
    let fp = Fingerprint::take(&cluster.primary, &tables).await?;
    assert_eq!(
        (fp.tables[0].rows, fp.tables[0].xmin_hash),
        (previous.tables[0].rows, previous.tables[0].xmin_hash)
    );
    assert_ne!(fp.tables[0].columns_md5, previous.tables[0].columns_md5);
    assert_ne!(
        fp.digest(),
        previous.digest(),
        "ADD COLUMN did not change the fingerprint"
    );
    assert_eq!(fp.tables[1], previous.tables[1]);
    previous = fp;

    // Replicas reach the fingerprint's LSN, and hold the same data there.
    for name in ["replica1", "replica2"] {
        let replica = cluster.node(name)?;
        let deadline = Instant::now() + DEADLINE;
        loop {
            let at = skein_pg::fingerprint::replay_lsn(replica).await?;
            if at >= previous.lsn {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{name} stuck at {at}, below {}",
                previous.lsn
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let n = query_text(replica, "SELECT count(*)::text FROM region").await?;
        assert_eq!(n, "5", "{name}");
    }

    // Unknown tables and bad names.
    let e = Fingerprint::take(&cluster.primary, &["no_such_table".into()])
        .await
        .expect_err("unknown table");
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    assert!(
        e.to_string().contains("primary") && e.to_string().contains("no_such_table"),
        "{e}"
    );
    let e = Fingerprint::take(&cluster.primary, &["region; DROP TABLE nation".into()])
        .await
        .expect_err("bad name");
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    assert_eq!(
        query_text(&cluster.primary, "SELECT count(*)::text FROM nation").await?,
        "25"
    );
    drop(stack);
    Ok(())
}

/// A profile that points at nothing: closed ports sample as Down with ConnectionRefused, a
/// port that accepts but never answers samples as Down with Timeout, each within the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_nodes_are_down_within_the_timeout() -> TestResult {
    let dir = tempfile::tempdir()?;
    let closed = free_port()?;
    let closed2 = free_port()?;
    // Accepts TCP connections (the kernel's backlog) but never speaks the protocol.
    let silent = std::net::TcpListener::bind("127.0.0.1:0")?;
    let silent_port = silent.local_addr()?.port();
    let profile_path = dir.path().join("profile.toml");
    std::fs::write(
        &profile_path,
        format!(
            "name = \"nowhere\"\n\
             [primary]\nurl = \"host=127.0.0.1 port={closed} user=postgres dbname=tpch\"\n\
             [[replicas]]\nname = \"replica1\"\nurl = \"host=127.0.0.1 port={closed2} user=postgres dbname=tpch\"\n\
             [[replicas]]\nname = \"replica2\"\nurl = \"host=127.0.0.1 port={silent_port} user=postgres dbname=tpch\"\n\
             [lake]\ncatalog = \"host=127.0.0.1 port={closed} user=postgres dbname=skein_lake\"\n\
             data_path = \"{}/lake/\"\n",
            dir.path().display()
        ),
    )?;
    let profile = Profile::load(&profile_path)?;
    let timeout = Duration::from_secs(1);
    let cluster = Cluster::with_timeout(&profile, timeout)?;

    for _ in 0..2 {
        let started = Instant::now();
        let s = lag::sample(&cluster).await;
        let took = started.elapsed();
        check_consistent(&s);
        // Generous slack for a loaded machine; a hang would be far longer.
        assert!(
            took < timeout * 5,
            "sampling took {took:?} with a {timeout:?} timeout"
        );
        for (name, addr, code) in [
            (
                "primary",
                format!("127.0.0.1:{closed}"),
                ErrorCode::ConnectionRefused,
            ),
            (
                "replica1",
                format!("127.0.0.1:{closed2}"),
                ErrorCode::ConnectionRefused,
            ),
            (
                "replica2",
                format!("127.0.0.1:{silent_port}"),
                ErrorCode::Timeout,
            ),
        ] {
            let n = node(&s, name);
            assert!(!n.reachable, "{s:#?}");
            assert_eq!(n.state, ReplicaState::Down, "{s:#?}");
            let err = n.error.as_ref().expect("a down node carries its error");
            assert_eq!(err.code, code, "{name}: {err:?}");
            assert!(err.message.contains(name), "{err:?}");
            if code == ErrorCode::ConnectionRefused {
                assert!(
                    err.message.contains(&addr),
                    "the message names host and port: {err:?}"
                );
            }
        }
    }

    let started = Instant::now();
    let e = cluster
        .primary
        .execute("SELECT 1")
        .await
        .expect_err("nothing listens");
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    assert!(started.elapsed() < timeout * 5);
    let started = Instant::now();
    let e = Fingerprint::take(cluster.node("replica2")?, &["region".into()])
        .await
        .expect_err("silent server");
    assert_eq!(e.code(), ErrorCode::Timeout, "{e}");
    // Fingerprints allow 30 × the probe timeout for their scans, but not for connecting.
    assert!(
        started.elapsed() < timeout * 5,
        "fingerprint waited {:?} on a silent server",
        started.elapsed()
    );
    drop(silent);
    drop(dir);
    Ok(())
}

/// Wrong or missing passwords: every node is Down with AuthFailed, and no password appears
/// in any message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_auth_failed() -> TestResult {
    let stack = start("auth", 1, 0.0).await?;
    let real_password = stack.sandbox.password()?;
    let good = lag::sample(&stack.cluster).await;
    check_consistent(&good);
    assert!(
        good.nodes.iter().all(|n| n.reachable),
        "the sandbox's own profile works: {good:#?}"
    );

    let wrong_password = "not-the-sandbox-password-1234";
    for (case, passfile_text) in [
        (
            "wrong",
            format!("127.0.0.1:*:*:postgres:{wrong_password}\n"),
        ),
        (
            "missing",
            format!("127.0.0.1:*:*:someone_else:{wrong_password}\n"),
        ),
    ] {
        let passfile = stack.sandbox.dir.join(format!("pgpass-{case}"));
        write_private(&passfile, &passfile_text)?;
        let mut profile = Profile::load(&stack.sandbox.profile)?;
        profile.passfile = Some(passfile);
        let path = stack.sandbox.dir.join(format!("profile-{case}.toml"));
        std::fs::write(&path, profile.to_toml())?;
        let cluster = Cluster::from_profile(&Profile::load(&path)?)?;

        let s = lag::sample(&cluster).await;
        check_consistent(&s);
        assert_eq!(s.nodes.len(), 2);
        for n in &s.nodes {
            assert!(!n.reachable, "{case}: {s:#?}");
            assert_eq!(n.state, ReplicaState::Down, "{case}: {s:#?}");
            let err = n.error.as_ref().expect("a down node carries its error");
            assert_eq!(
                err.code,
                ErrorCode::AuthFailed,
                "{case} password on {}: {err:?}",
                n.name
            );
            assert!(err.message.contains(&n.name), "{err:?}");
            assert!(
                !err.message.contains(wrong_password) && !err.message.contains(&real_password),
                "a secret leaked: {err:?}"
            );
        }
        let e = cluster
            .primary
            .execute("SELECT 1")
            .await
            .expect_err("bad credentials");
        assert!(matches!(e, Error::AuthFailed { .. }), "{case}: {e:?}");
        assert!(!e.to_string().contains(wrong_password) && !e.to_string().contains(&real_password));
        let debug = format!("{e:?}");
        assert!(
            !debug.contains(wrong_password) && !debug.contains(&real_password),
            "a secret leaked: {debug}"
        );
    }
    drop(stack);
    Ok(())
}

/// A replica promoted with `pg_promote()` is out of recovery: state Promoted, on the primary's
/// timeline + 1, no lag (however much the primary writes since), critical, with an error
/// that says it accepts writes. The other replica keeps streaming on the primary's timeline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promoted_replica_is_on_a_new_timeline_with_no_lag() -> TestResult {
    let stack = start("promote", 2, 0.0).await?;
    let cluster = &stack.cluster;
    let before = sample_until(cluster, "both replicas caught up", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;
    let tli = node(&before, "primary")
        .timeline_id
        .expect("the primary's timeline");
    for n in &before.nodes {
        assert_eq!(
            n.timeline_id,
            Some(tli),
            "every node on one timeline: {before:#?}"
        );
    }

    let replica1 = cluster
        .replicas
        .iter()
        .find(|r| r.name() == "replica1")
        .expect("replica1");
    let promoted: bool = replica1
        .with_client("promoting", |c| async move {
            c.query_one("SELECT pg_promote()", &[])
                .await
                .map(|r| r.get(0))
        })
        .await?;
    assert!(promoted, "pg_promote() reports success");
    let s = sample_until(cluster, "replica1 promoted", |s| {
        node(s, "replica1").state == ReplicaState::Promoted
    })
    .await;
    let r1 = node(&s, "replica1");
    assert_eq!(r1.role, NodeRole::Replica, "still configured as a replica");
    assert_eq!(
        r1.timeline_id,
        Some(tli + 1),
        "a promotion starts a new timeline: {s:#?}"
    );
    assert_eq!((r1.lag_bytes, r1.replay_lag_ms), (None, None), "{s:#?}");
    assert_eq!(r1.level, LagLevel::Critical);
    let err = r1.error.as_ref().expect("a promoted replica says why");
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(
        err.message.contains("promoted") && err.message.contains("accepts writes"),
        "{err:?}"
    );
    assert!(
        err.message.contains(&format!("timeline {}", tli + 1)),
        "{err:?}"
    );

    // The primary keeps writing: the promoted node's lag stays unknown, never a growing number.
    cluster
        .primary
        .execute("CREATE TABLE after_promotion AS SELECT g FROM generate_series(1, 2000) g")
        .await?;
    let later = sample_until(cluster, "replica2 caught up after the write", |s| {
        caught_up(s, "replica2")
    })
    .await;
    let r1 = node(&later, "replica1");
    assert_eq!(r1.state, ReplicaState::Promoted);
    assert_eq!((r1.lag_bytes, r1.replay_lag_ms), (None, None), "{later:#?}");
    let r2 = node(&later, "replica2");
    assert_eq!(
        r2.timeline_id,
        Some(tli),
        "replica2 still follows the primary: {later:#?}"
    );
    assert!(r2.error.is_none(), "{later:#?}");

    // A profile changed for the failover (replica1 now its primary) while replica2 still
    // follows the old primary: replica2 is on another timeline than its primary and says so.
    let mut profile = Profile::load(&stack.sandbox.profile)?;
    profile.primary = profile.replicas.remove(0);
    let failed_over = Cluster::from_profile(&profile)?;
    let s = lag::sample(&failed_over).await;
    let p = node(&s, "replica1");
    assert_eq!(
        (p.role, p.timeline_id),
        (NodeRole::Primary, Some(tli + 1)),
        "{s:#?}"
    );
    let r2 = node(&s, "replica2");
    assert_eq!(r2.timeline_id, Some(tli), "{s:#?}");
    let err = r2.error.as_ref().expect("another timeline is flagged");
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(
        err.message.contains(&format!(
            "replica2 is on timeline {tli}, the primary on timeline {}",
            tli + 1
        )),
        "{err:?}"
    );
    Ok(())
}
