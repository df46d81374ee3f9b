//! The privileges probe and the lag probe as a least-privilege role, against real servers: a
//! sandbox whose profile connects as `skein_monitor` (pg_monitor, no superuser), the same
//! stack seen as the superuser, and a role without pg_monitor. The sandbox is torn down when
//! the test ends, pass or fail.

use std::path::Path;
use std::time::{Duration, Instant};

use skein_core::{ErrorCode, Profile};
use skein_pg::{lag, privileges, Cluster, LagSample, NodeStatus, ReplicaState};
use skein_sandbox::{
    ProfileRole, Sandbox, SandboxSecurity, ScratchSandbox, MONITOR_ROLE, SUPERUSER,
};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const DEADLINE: Duration = Duration::from_secs(20);

/// A sandbox whose profile connects as the monitoring role, with `replicas` replicas; stopped
/// and removed when dropped (also on panic).
async fn monitor_sandbox(tag: &str, replicas: usize) -> TestResult<ScratchSandbox> {
    Ok(ScratchSandbox::up_with(
        &format!("test-{tag}"),
        replicas,
        SandboxSecurity {
            profile_role: ProfileRole::Monitor,
            ..Default::default()
        },
    )
    .await?)
}

/// The sandbox's profile with every URL's user replaced by `user` (and `passfile` if given).
fn profile_as(sandbox: &Sandbox, user: &str, passfile: Option<&Path>) -> TestResult<Profile> {
    let mut p = Profile::load(&sandbox.profile)?;
    let swap = |url: &str| url.replace(&format!("user={MONITOR_ROLE}"), &format!("user={user}"));
    p.primary.url = swap(&p.primary.url);
    for r in &mut p.replicas {
        r.url = swap(&r.url);
    }
    p.lake.catalog = swap(&p.lake.catalog);
    if let Some(f) = passfile {
        p.passfile = Some(f.to_owned());
    }
    Ok(p)
}

fn node<'a>(s: &'a LagSample, name: &str) -> &'a NodeStatus {
    s.node(name)
        .unwrap_or_else(|| panic!("no node {name} in {s:#?}"))
}

async fn sample_until(cluster: &Cluster, what: &str, ok: impl Fn(&LagSample) -> bool) -> LagSample {
    let started = Instant::now();
    loop {
        let s = lag::sample(cluster).await;
        if ok(&s) {
            return s;
        }
        assert!(started.elapsed() < DEADLINE, "never {what}: {s:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitoring_role_is_no_superuser_and_reads_true_lag() -> TestResult {
    let sandbox = monitor_sandbox("privileges-monitor", 1).await?;
    let monitor = Cluster::from_profile(&Profile::load(&sandbox.profile)?)?;
    let admin = Cluster::from_profile(&profile_as(&sandbox, SUPERUSER, None)?)?;

    for name in ["primary", "replica1"] {
        let p = privileges::probe(monitor.node(name)?).await?;
        assert_eq!(p.role, MONITOR_ROLE);
        assert!(!p.superuser, "{p:?}");
        assert!(p.pg_monitor, "{p:?}");
        assert!(p.read_replication_stats.allowed, "{p:?}");
        let reason = p
            .replay_control
            .check()
            .expect_err("replay control is not allowed");
        assert!(
            reason.contains("needs superuser or EXECUTE on pg_wal_replay_pause()"),
            "{reason}"
        );
        assert!(p.promote.check().is_err_and(|r| r.contains("pg_promote()")));
        assert!(!p.terminate.allowed, "{p:?}");
    }
    let su = privileges::probe(&admin.primary).await?;
    assert_eq!(su.role, SUPERUSER);
    assert!(su.superuser && su.pg_monitor && su.replay_control.allowed && su.promote.allowed);
    assert!(su.terminate.allowed && su.read_replication_stats.allowed);

    // Asked anyway, the server refuses; the code says so.
    let e = monitor
        .pause_replay("replica1")
        .await
        .expect_err("the monitoring role may not pause replay");
    assert_eq!(e.code(), ErrorCode::PermissionDenied, "{e}");
    assert!(e.to_string().contains("replica1"), "{e}");

    // Replay paused by the superuser: the monitoring role sees the replica fall behind.
    sample_until(&monitor, "replica1 caught up", |s| {
        node(s, "replica1").lag_bytes == Some(0)
            && node(s, "replica1").state == ReplicaState::Streaming
    })
    .await;
    admin.pause_replay("replica1").await?;
    admin
        .primary
        .execute(
            "CREATE TABLE lag_probe AS SELECT g, md5(g::text) AS h FROM generate_series(1, 5000) g",
        )
        .await?;
    let first = sample_until(&monitor, "replica1 paused and behind", |s| {
        let r = node(s, "replica1");
        r.state == ReplicaState::Paused && r.lag_bytes.is_some_and(|b| b > 100_000)
    })
    .await;
    let r1 = node(&first, "replica1");
    assert_eq!(r1.error, None, "{first:#?}");
    let behind = r1.lag_bytes.unwrap_or_default();
    admin
        .primary
        .execute("INSERT INTO lag_probe SELECT g, md5(g::text) FROM generate_series(1, 5000) g")
        .await?;
    let second = sample_until(&monitor, "replica1 further behind", |s| {
        let r = node(s, "replica1");
        r.lag_bytes.is_some_and(|b| b > behind) && r.replay_lag_ms.is_some_and(|ms| ms > 0)
    })
    .await;
    assert_eq!(node(&second, "replica1").state, ReplicaState::Paused);
    admin.resume_replay("replica1").await?;
    sample_until(&monitor, "replica1 caught up after resume", |s| {
        node(s, "replica1").lag_bytes == Some(0)
            && node(s, "replica1").state == ReplicaState::Streaming
    })
    .await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_pg_monitor_is_told_what_it_cannot_see() -> TestResult {
    let sandbox = monitor_sandbox("privileges-nostats", 1).await?;
    let admin = Cluster::from_profile(&profile_as(&sandbox, SUPERUSER, None)?)?;
    admin
        .primary
        .execute("CREATE ROLE skein_nostats LOGIN PASSWORD 'nostats-test-only'")
        .await?;
    let passfile = sandbox.dir.join("nostats.pgpass");
    std::fs::write(&passfile, "127.0.0.1:*:*:skein_nostats:nostats-test-only\n")?;
    std::fs::set_permissions(
        &passfile,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )?;
    let nostats = Cluster::from_profile(&profile_as(&sandbox, "skein_nostats", Some(&passfile))?)?;

    let p = privileges::probe(&nostats.primary).await?;
    assert!(!p.superuser && !p.pg_monitor, "{p:?}");
    let reason = p
        .read_replication_stats
        .check()
        .expect_err("replication stats are hidden");
    assert!(reason.contains("pg_monitor"), "{reason}");

    // pg_stat_replication shows the sender with a NULL state: streaming, with the reason,
    // never "catching up".
    let s = sample_until(&nostats, "replica1 caught up", |s| {
        node(s, "replica1").lag_bytes == Some(0)
    })
    .await;
    let r1 = node(&s, "replica1");
    assert_eq!(r1.state, ReplicaState::Streaming, "{s:#?}");
    let e = r1.error.as_ref().expect("the hidden details are explained");
    assert_eq!(e.code, ErrorCode::PermissionDenied);
    assert!(
        e.message.contains("pg_stat_replication") && e.message.contains("pg_monitor"),
        "{}",
        e.message
    );
    assert_eq!(r1.write_lag_ms, None, "hidden lags are unknown, not 0");
    assert_eq!(r1.flush_lag_ms, None, "hidden lags are unknown, not 0");

    // Its lag is still the replica's own truth: paused by the superuser, it falls behind.
    admin.pause_replay("replica1").await?;
    admin
        .primary
        .execute(
            "CREATE TABLE lag_probe AS SELECT g, md5(g::text) AS h FROM generate_series(1, 5000) g",
        )
        .await?;
    sample_until(&nostats, "replica1 paused and behind", |s| {
        let r = node(s, "replica1");
        r.state == ReplicaState::Paused && r.lag_bytes.is_some_and(|b| b > 100_000)
    })
    .await;
    admin.resume_replay("replica1").await?;
    Ok(())
}
