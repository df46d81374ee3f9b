//! The replication pipeline, slots and the WAL receiver against real servers: each test starts
//! its own sandbox (a primary and streaming replicas on loopback ports) and tears it down, pass
//! or fail. Conditions that become true eventually are polled under [`DEADLINE`]; no assertion
//! depends on how fast anything happens.

use std::time::{Duration, Instant};

use skein_core::Profile;
use skein_pg::replication::{self, ReplicationOptions, ReplicationReading};
use skein_pg::{Cluster, NodeRole};
use skein_sandbox::{ProfileRole, SandboxSecurity, ScratchSandbox};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const DEADLINE: Duration = Duration::from_secs(30);

struct Stack {
    cluster: Cluster,
    sandbox: ScratchSandbox,
}

async fn start(name: &str, replicas: usize, security: SandboxSecurity) -> TestResult<Stack> {
    let sandbox = ScratchSandbox::up_with(&format!("test-{name}"), replicas, security).await?;
    let cluster = Cluster::from_profile(&Profile::load(&sandbox.profile)?)?;
    Ok(Stack { cluster, sandbox })
}

async fn read_until(
    cluster: &Cluster,
    options: &ReplicationOptions,
    what: &str,
    ok: impl Fn(&ReplicationReading) -> bool,
) -> ReplicationReading {
    let started = Instant::now();
    loop {
        let r = replication::read(cluster, options).await;
        if ok(&r) {
            return r;
        }
        assert!(started.elapsed() < DEADLINE, "never {what}: {r:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A caught-up stream's write and flush lags read the same in the lag sample (the charts) as in
/// the replication reading (the replica's card): 0 ms, whatever PostgreSQL last measured or its
/// NULL once the standby has idled caught up.
#[tokio::test]
async fn a_caught_up_stream_reads_0_ms_in_the_sample_and_the_reading() -> TestResult {
    let stack = start("repl-caught-up", 1, SandboxSecurity::default()).await?;
    let c = &stack.cluster;
    let opts = ReplicationOptions::default();
    // Some WAL, so PostgreSQL measures lags, then idle: it keeps them a while, then NULL.
    c.primary
        .execute("CREATE TABLE caught_up AS SELECT generate_series(1, 1000) AS n")
        .await?;
    let started = Instant::now();
    loop {
        let sample = skein_pg::lag::sample(c).await;
        let r = replication::read(c, &opts).await;
        let s = r.sender_for("replica1");
        let node = sample.node("replica1").expect("replica1 in the sample");
        let caught_up = s.is_some_and(|s| {
            s.sent_lag_bytes == Some(0)
                && s.write_lag_bytes == Some(0)
                && s.flush_lag_bytes == Some(0)
        }) && node.lag_bytes == Some(0);
        if caught_up {
            let s = s.expect("sender");
            assert_eq!(
                (s.write_lag_ms, s.flush_lag_ms),
                (Some(0), Some(0)),
                "{s:#?}"
            );
            assert_eq!(
                (node.write_lag_ms, node.flush_lag_ms),
                (Some(0), Some(0)),
                "the sample says what the reading says: {node:#?}"
            );
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "never caught up: {s:#?} {node:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Both sides of each stream: the primary's WAL senders in LSN order, the replicas' receivers
/// streaming from it, no secret in the upstream's connection string; with replay paused, the
/// WAL arrives and is flushed (flush bytes back to 0) while replay falls behind by exactly what
/// was written, which is how network, fsync and apply delays are told apart.
#[tokio::test]
async fn the_pipeline_is_read_from_both_sides_and_apply_delay_is_told_apart() -> TestResult {
    let stack = start("repl-pipeline", 2, SandboxSecurity::default()).await?;
    let c = &stack.cluster;
    let opts = ReplicationOptions::default();
    let r = read_until(c, &opts, "both replicas streaming", |r| {
        ["replica1", "replica2"].iter().all(|n| {
            r.sender_for(n)
                .is_some_and(|s| s.state.as_deref() == Some("streaming"))
                && r.node(n)
                    .and_then(|n| n.receiver.as_ref())
                    .is_some_and(|x| x.status.as_deref() == Some("streaming"))
        })
    })
    .await;
    let primary = r.node("primary").expect("primary");
    assert_eq!(primary.role, NodeRole::Primary);
    assert_eq!(primary.in_recovery, Some(false));
    assert!(primary.notes.is_empty(), "{primary:#?}");
    let position = primary.position.expect("primary position");
    for name in ["replica1", "replica2"] {
        let s = r.sender_for(name).expect("sender");
        let (sent, write, flush, replay) = (
            s.sent_lsn.expect("sent"),
            s.write_lsn.expect("write"),
            s.flush_lsn.expect("flush"),
            s.replay_lsn.expect("replay"),
        );
        assert!(
            position >= sent && sent >= write && write >= flush && flush >= replay,
            "{name}: current ≥ sent ≥ write ≥ flush ≥ replay: {s:#?}"
        );
        assert_eq!(s.replay_lag_bytes, Some(position.bytes_after(replay)));
        assert_eq!(s.sync_state.as_deref(), Some("async"), "{s:#?}");
        assert!(s.reply_time.is_some() && s.reply_age_ms.is_some(), "{s:#?}");
        // The sandbox runs with hot_standby_feedback = on: the replica holds an xmin back.
        let node = r.node(name).expect("replica");
        assert!(node.notes.is_empty(), "{node:#?}");
        assert_eq!(
            node.upstream_sender.as_ref(),
            Some(s),
            "paired with its sender"
        );
        let settings = node.settings.expect("settings");
        assert!(settings.hot_standby_feedback, "{settings:?}");
        assert!(node.conflicts.is_some(), "{node:#?}");
        let rx = node.receiver.as_ref().expect("receiver");
        assert_eq!(rx.stalled, None, "{rx:#?}");
        assert_eq!(
            rx.sender_port.map(|p| p as u16),
            stack.sandbox.port("primary")
        );
        let conninfo = rx.conninfo.as_deref().expect("conninfo");
        assert!(conninfo.contains("port="), "{conninfo}");
        assert!(!conninfo.contains("password"), "{conninfo}");
        assert!(
            rx.written_lsn.expect("written") >= node.replay_lsn.expect("replayed"),
            "{node:#?}"
        );
    }

    // The settings as the server holds them, in ms and bytes, after an edit and a reload.
    let replica1 = c.node("replica1")?;
    for sql in [
        "ALTER SYSTEM SET max_standby_streaming_delay = '1500ms'",
        "ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'",
        "ALTER SYSTEM SET wal_keep_size = '96MB'",
        "SELECT pg_reload_conf()",
    ] {
        replica1.execute(sql).await?;
    }
    let r = read_until(c, &opts, "replica1's edited settings", |r| {
        r.node("replica1")
            .and_then(|n| n.settings.as_ref())
            .is_some_and(|s| s.max_standby_streaming_delay_ms == 1500)
    })
    .await;
    let edited = r.node("replica1").and_then(|n| n.settings);
    assert_eq!(
        edited.map(|s| (s.max_slot_wal_keep_size_bytes, s.wal_keep_size_bytes)),
        Some((1 << 30, 96 << 20))
    );
    let primary = r.node("primary").and_then(|n| n.settings);
    assert_eq!(
        primary.map(|s| (
            s.max_standby_streaming_delay_ms,
            s.max_slot_wal_keep_size_bytes
        )),
        Some((30_000, -1)),
        "the primary keeps PostgreSQL's defaults"
    );

    c.pause_replay("replica1").await?;
    let before = replication::read(c, &opts).await;
    let before_replay = before
        .node("replica1")
        .and_then(|n| n.replay_lsn)
        .expect("replay lsn");
    c.primary
        .execute("CREATE TABLE pipeline AS SELECT g, md5(g::text) FROM generate_series(1, 20000) g")
        .await?;
    let r = read_until(c, &opts, "replica1 flushed what it cannot replay", |r| {
        let p = r.node("primary").and_then(|p| p.flush_position);
        let s = r.sender_for("replica1");
        // The two sides are read concurrently, not at one instant: wait for both to agree.
        let written = r
            .node("replica1")
            .and_then(|n| n.receiver.as_ref())
            .and_then(|x| x.written_lsn);
        s.is_some_and(|s| s.flush_lsn.is_some() && s.flush_lsn == p)
            && s.is_some_and(|s| s.replay_lag_bytes.unwrap_or(0) > 100_000)
            && written.is_some_and(|w| w > before_replay)
    })
    .await;
    let s = r.sender_for("replica1").expect("sender");
    let replica1 = r.node("replica1").expect("replica1");
    assert_eq!(
        replica1.replay_lsn,
        Some(before_replay),
        "replay is paused: {replica1:#?}"
    );
    assert!(s.flush_lag_bytes < s.replay_lag_bytes, "{s:#?}");
    c.resume_replay("replica1").await?;
    read_until(c, &opts, "replica1 caught up", |r| {
        r.sender_for("replica1")
            .is_some_and(|s| s.replay_lsn.is_some() && s.replay_lsn == s.flush_lsn)
    })
    .await;
    Ok(())
}

/// An inactive physical slot holds back WAL from its restart LSN: what it retains grows with
/// the primary's writes, it is `reserved`, nobody uses it; dropped, it is gone.
#[tokio::test]
async fn an_inactive_slot_retains_wal_until_it_is_dropped() -> TestResult {
    let stack = start("repl-slot", 1, SandboxSecurity::default()).await?;
    let c = &stack.cluster;
    let opts = ReplicationOptions::default();
    c.primary
        .execute("SELECT pg_create_physical_replication_slot('forgotten', true)")
        .await?;
    let first = replication::read(c, &opts).await;
    let slot = |r: &ReplicationReading| {
        r.slots()
            .find(|(node, s)| *node == "primary" && s.name == "forgotten")
            .map(|(_, s)| s.clone())
    };
    let s0 = slot(&first).expect("slot listed");
    assert!(!s0.active && s0.used_by.is_none(), "{s0:#?}");
    assert_eq!(s0.slot_type, "physical");
    assert_eq!(s0.wal_status.as_deref(), Some("reserved"), "{s0:#?}");
    assert_eq!(
        s0.safe_wal_size, None,
        "max_slot_wal_keep_size is -1 in the sandbox: no limit"
    );
    let restart = s0.restart_lsn.expect("restart lsn");

    c.primary
        .execute("CREATE TABLE filler AS SELECT g, repeat(md5(g::text), 8) AS pad FROM generate_series(1, 50000) g")
        .await?;
    let after = replication::read(c, &opts).await;
    let s1 = slot(&after).expect("slot still listed");
    let position = after
        .node("primary")
        .and_then(|p| p.position)
        .expect("position");
    assert_eq!(
        s1.retained_bytes,
        Some(position.bytes_after(restart)),
        "retained = current LSN − restart_lsn: {s1:#?}"
    );
    assert!(
        s1.retained_bytes.unwrap_or(0) > 10 * 1024 * 1024,
        "50,000 rows of 260 bytes retained: {s1:#?}"
    );
    assert_eq!(s1.restart_lsn, Some(restart), "nobody consumes it: {s1:#?}");

    replication::drop_slot(c, "primary", "forgotten").await?;
    let gone = replication::read(c, &opts).await;
    assert!(slot(&gone).is_none(), "{gone:#?}");
    let again = replication::drop_slot(c, "primary", "forgotten")
        .await
        .expect_err("dropping it twice");
    assert!(again.to_string().contains("forgotten"), "{again}");
    Ok(())
}

/// The WAL sender frozen (SIGSTOP) while the primary writes: the receiver still says
/// `streaming`, receives nothing, and is flagged as stalled; thawed, the flag clears.
#[tokio::test]
async fn a_receiver_that_stalls_while_streaming_is_flagged() -> TestResult {
    let stack = start("repl-stall", 1, SandboxSecurity::default()).await?;
    let c = &stack.cluster;
    let opts = ReplicationOptions {
        stall_after: Duration::from_secs(2),
    };
    let r = read_until(c, &opts, "replica1 streaming", |r| {
        r.sender_for("replica1")
            .is_some_and(|s| s.state.as_deref() == Some("streaming"))
    })
    .await;
    let pid = r.sender_for("replica1").expect("sender").pid;
    let signal = |sig: &str| {
        std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
    };
    assert!(signal("-STOP")?.success(), "stopping the WAL sender {pid}");
    // Thaw it whatever happens below.
    struct Thaw(i32);
    impl Drop for Thaw {
        fn drop(&mut self) {
            let _ = std::process::Command::new("kill")
                .args(["-CONT", &self.0.to_string()])
                .status();
        }
    }
    let thaw = Thaw(pid);
    c.primary
        .execute("CREATE TABLE during_stall AS SELECT g FROM generate_series(1, 5000) g")
        .await?;
    let r = read_until(c, &opts, "replica1's receiver flagged as stalled", |r| {
        r.node("replica1")
            .and_then(|n| n.receiver.as_ref())
            .is_some_and(|x| x.stalled.is_some())
    })
    .await;
    let rx = r
        .node("replica1")
        .and_then(|n| n.receiver.clone())
        .expect("receiver");
    assert_eq!(rx.status.as_deref(), Some("streaming"), "{rx:#?}");
    let why = rx.stalled.expect("stalled");
    assert!(
        why.contains("nothing arrived") && why.contains("has not received"),
        "{why}"
    );
    drop(thaw);
    read_until(c, &opts, "the stall flag cleared", |r| {
        r.node("replica1")
            .and_then(|n| n.receiver.as_ref())
            .is_some_and(|x| x.stalled.is_none() && x.status.as_deref() == Some("streaming"))
    })
    .await;
    Ok(())
}

/// A monitoring role (pg_monitor, no REPLICATION) reads every view, and PostgreSQL refuses it
/// dropping a slot.
#[tokio::test]
async fn a_monitoring_role_reads_everything_and_may_not_drop_slots() -> TestResult {
    let stack = start(
        "repl-monitor",
        1,
        SandboxSecurity {
            profile_role: ProfileRole::Monitor,
            ..Default::default()
        },
    )
    .await?;
    let admin = skein_sandbox::demo::connect_primary(&stack.sandbox).await?;
    admin
        .batch_execute("SELECT pg_create_physical_replication_slot('kept', true)")
        .await?;
    let c = &stack.cluster;
    let opts = ReplicationOptions::default();
    let r = read_until(c, &opts, "replica1 streaming", |r| {
        r.sender_for("replica1")
            .is_some_and(|s| s.state.as_deref() == Some("streaming"))
    })
    .await;
    for n in &r.nodes {
        assert!(n.reachable && n.notes.is_empty(), "{n:#?}");
    }
    assert!(r.slots().any(|(_, s)| s.name == "kept"), "{r:#?}");
    let refused = replication::drop_slot(c, "primary", "kept")
        .await
        .expect_err("pg_monitor may not drop slots");
    assert_eq!(
        refused.code(),
        skein_core::ErrorCode::PermissionDenied,
        "{refused}"
    );
    let still = replication::read(c, &opts).await;
    assert!(still.slots().any(|(_, s)| s.name == "kept"), "{still:#?}");
    Ok(())
}
