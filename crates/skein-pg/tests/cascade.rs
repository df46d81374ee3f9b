//! Cascading replicas against real servers: a sandbox whose replica2 streams from replica1
//! (a base backup of replica1, its slot on replica1), not from the primary. Each test starts
//! its own sandbox and tears it down, pass or fail; conditions that become true eventually are
//! polled under [`DEADLINE`], and Skein's numbers are checked against SQL the test runs on the
//! nodes itself.
//!
//! What PostgreSQL 15 does, as these tests hold it to: a cascading WAL sender sends what its
//! node has received and flushed, replayed or not. Replay paused on replica1 does not hold
//! replica2 back (it replays past replica1); replica1 receiving nothing does.

use std::time::{Duration, Instant};

use skein_core::Profile;
use skein_pg::replication::{self, ReplicationOptions};
use skein_pg::{lag, Cluster, LagSample, Lsn, NodeStatus, ReplicaState};
use skein_sandbox::{Cascade, SandboxSecurity, ScratchSandbox};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const DEADLINE: Duration = Duration::from_secs(30);

/// Fields drop in order: the pools first, the sandbox (servers stopped, directory removed) last.
struct Stack {
    cluster: Cluster,
    sandbox: ScratchSandbox,
}

/// Two replicas: replica1 streams from the primary, replica2 from replica1.
async fn start(name: &str) -> TestResult<Stack> {
    let sandbox = ScratchSandbox::up_cascade(
        &format!("test-{name}"),
        2,
        vec!["replica2=replica1".parse::<Cascade>()?],
        SandboxSecurity::default(),
    )
    .await?;
    let cluster = Cluster::from_profile(&Profile::load(&sandbox.profile)?)?;
    Ok(Stack { cluster, sandbox })
}

fn node<'a>(s: &'a LagSample, name: &str) -> &'a NodeStatus {
    s.node(name)
        .unwrap_or_else(|| panic!("no node '{name}': {s:#?}"))
}

/// What holds in every sample of the cascade: each replica's lag against the primary is the
/// primary's LSN minus its replay LSN; replica2's lag against its upstream is replica1's
/// position (received or replayed, the further) minus replica2's replay LSN; 0 bytes is 0 ms.
fn check_consistent(s: &LagSample) {
    let primary = node(s, "primary");
    let r1 = node(s, "replica1");
    let r2 = node(s, "replica2");
    for r in [r1, r2] {
        assert!(r.reachable, "{s:#?}");
        if let (Some(p), Some(replay)) = (primary.lsn, r.lsn) {
            assert_eq!(r.lag_bytes, Some(p.bytes_after(replay)), "{s:#?}");
        }
        if r.lag_bytes == Some(0) {
            assert_eq!(r.replay_lag_ms, Some(0), "{}: {s:#?}", r.name);
        }
        if r.upstream_lag_bytes == Some(0) {
            assert_eq!(r.upstream_replay_lag_ms, Some(0), "{}: {s:#?}", r.name);
        }
    }
    if r1.upstream.is_some() {
        assert_eq!(r1.upstream.as_deref(), Some("primary"), "{s:#?}");
        assert_eq!(r1.upstream_lag_bytes, r1.lag_bytes, "{s:#?}");
    }
    if r2.upstream.as_deref() == Some("replica1") {
        let position = r1.receive_lsn.max(r1.lsn).expect("replica1's position");
        let replay = r2.lsn.expect("replica2's replay LSN");
        assert_eq!(
            r2.upstream_lag_bytes,
            Some(position.bytes_after(replay)),
            "{s:#?}"
        );
        // Behind an upstream that has all of the primary's WAL, the time behind the primary
        // is the time behind the upstream (when PostgreSQL has measured it: the column is
        // NULL before the first reply after an idle spell): the flush leg is 0, and no idle
        // time is counted.
        if r2.lag_bytes > Some(0)
            && r2.upstream_replay_lag_ms.is_some()
            && primary.lsn.is_some_and(|p| position >= p)
        {
            assert_eq!(r2.replay_lag_ms, r2.upstream_replay_lag_ms, "{s:#?}");
        }
    }
}

async fn sample_until(cluster: &Cluster, what: &str, ok: impl Fn(&LagSample) -> bool) -> LagSample {
    let started = Instant::now();
    loop {
        let s = lag::sample(cluster).await;
        check_consistent(&s);
        if ok(&s) {
            return s;
        }
        assert!(started.elapsed() < DEADLINE, "never {what}: {s:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn caught_up(s: &LagSample, name: &str) -> bool {
    let n = node(s, name);
    n.state == ReplicaState::Streaming
        && n.lag_bytes == Some(0)
        && n.upstream_lag_bytes == Some(0)
        && n.replay_lag_ms == Some(0)
        && n.upstream_replay_lag_ms == Some(0)
}

/// One LSN a node reports, by the test's own query.
async fn lsn_of(cluster: &Cluster, name: &str, sql: &'static str) -> TestResult<Lsn> {
    let text = cluster
        .node(name)?
        .with_client("test query", |c| async move {
            c.query_one(sql, &[]).await.map(|r| r.get::<_, String>(0))
        })
        .await?;
    Ok(text.parse()?)
}

const REPLAY: &str = "SELECT pg_last_wal_replay_lsn()::text";
const RECEIVE: &str = "SELECT pg_last_wal_receive_lsn()::text";
const CURRENT: &str = "SELECT pg_current_wal_lsn()::text";

/// replica2 is streaming, from replica1 (not disconnected for want of a sender on the
/// primary), replica1 from the primary; both catch up to 0 bytes and 0 ms on both measures.
/// The replication reading pairs replica2 with replica1's WAL sender, and replica2's slot is
/// on replica1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cascading_replica_streams_from_its_upstream_replica() -> TestResult {
    let stack = start("cascade-tree").await?;
    let c = &stack.cluster;
    assert_eq!(stack.sandbox.upstream_of("replica2"), Some("replica1"));
    let s = sample_until(c, "both replicas caught up", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;
    let (r1, r2) = (node(&s, "replica1"), node(&s, "replica2"));
    assert_eq!(r1.upstream.as_deref(), Some("primary"), "{s:#?}");
    assert_eq!(r2.upstream.as_deref(), Some("replica1"), "{s:#?}");
    assert_eq!(r2.state, ReplicaState::Streaming);
    assert_eq!(r2.error, None, "{s:#?}");
    assert_eq!(node(&s, "primary").upstream, None);

    let opts = ReplicationOptions::default();
    let r = replication::read(c, &opts).await;
    assert!(
        r.sender_for("replica2").is_none(),
        "the primary has no sender for replica2: {r:#?}"
    );
    let n2 = r.node("replica2").expect("replica2");
    assert_eq!(n2.upstream.as_deref(), Some("replica1"), "{n2:#?}");
    let sender = n2.upstream_sender.as_ref().expect("replica1's sender");
    let n1 = r.node("replica1").expect("replica1");
    assert_eq!(n1.upstream.as_deref(), Some("primary"), "{n1:#?}");
    assert_eq!(n1.upstream_sender.as_ref(), r.sender_for("replica1"));
    assert!(
        n1.senders.iter().any(|s| s == sender),
        "replica2's sender is replica1's: {r:#?}"
    );
    assert_eq!(sender.state.as_deref(), Some("streaming"), "{sender:#?}");
    let rx = n2.receiver.as_ref().expect("replica2's receiver");
    assert_eq!(
        rx.sender_port.map(|p| p as u16),
        stack.sandbox.port("replica1"),
        "{rx:#?}"
    );
    assert_eq!(rx.slot_name.as_deref(), Some("replica2"));
    let slot = n1
        .slots
        .iter()
        .find(|s| s.name == "replica2")
        .expect("replica2's slot on replica1");
    assert!(slot.active, "{slot:#?}");
    assert_eq!(slot.used_by.as_deref(), Some("replica2"));
    assert!(
        !r.node("primary")
            .expect("primary")
            .slots
            .iter()
            .any(|s| s.name == "replica2"),
        "{r:#?}"
    );
    for n in &r.nodes {
        assert!(n.notes.is_empty(), "{n:#?}");
        if let Some(rx) = &n.receiver {
            assert_eq!(rx.stalled, None, "{rx:#?}");
        }
    }

    // Replay paused on replica2 itself, after a quiet spell (so that now() −
    // pg_last_xact_replay_timestamp() would count seconds of idle time): behind replica1 and
    // the primary by the same bytes and the same time
    // once replica1 caught up, and replica1's pg_stat_replication.replay_lag for it grows
    // (the standby keeps reporting, its replay position stands still).
    tokio::time::sleep(Duration::from_secs(3)).await;
    c.pause_replay("replica2").await?;
    c.primary
        .execute("CREATE TABLE behind AS SELECT g, md5(g::text) FROM generate_series(1, 20000) g")
        .await?;
    let s = sample_until(c, "replica2 paused, seconds behind replica1", |s| {
        let (r1, r2) = (node(s, "replica1"), node(s, "replica2"));
        r2.state == ReplicaState::Paused
            && r1.lag_bytes == Some(0)
            && r2.upstream_lag_bytes.is_some_and(|b| b > 100_000)
            && r2.upstream_replay_lag_ms.is_some_and(|ms| ms >= 1500)
    })
    .await;
    let r2 = node(&s, "replica2");
    assert_eq!(r2.upstream_lag_bytes, r2.lag_bytes, "{s:#?}");
    assert_eq!(r2.replay_lag_ms, r2.upstream_replay_lag_ms, "{s:#?}");
    let on_replica1: i64 = c
        .node("replica1")?
        .with_client("test query", |c| async move {
            c.query_one(
                "SELECT (extract(epoch FROM replay_lag) * 1000)::int8 FROM pg_stat_replication \
                 WHERE application_name = 'replica2'",
                &[],
            )
            .await
            .map(|r| r.get(0))
        })
        .await?;
    assert!(
        on_replica1 as u64 >= r2.upstream_replay_lag_ms.unwrap_or(0),
        "replica1 says {on_replica1} ms, read later than the sample: {s:#?}"
    );
    c.resume_replay("replica2").await?;
    sample_until(c, "replica2 caught up after resume", |s| {
        caught_up(s, "replica2")
    })
    .await;
    Ok(())
}

/// Under a write load on the primary, replica2 is never less behind the primary than behind
/// replica1 (up to the WAL the primary wrote while the sample was being read: the nodes are
/// read concurrently, not at one instant), and both figures stay small.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_load_the_lag_behind_the_primary_covers_the_lag_behind_the_upstream() -> TestResult {
    let stack = start("cascade-load").await?;
    let c = &stack.cluster;
    sample_until(c, "both replicas caught up", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;
    let client = skein_sandbox::demo::connect_primary(&stack.sandbox).await?;
    client
        .batch_execute("CREATE TABLE load (id bigserial PRIMARY KEY, pad text)")
        .await?;
    let writer = tokio::spawn(async move {
        for _ in 0..600 {
            // Transactions large enough (about 0.5 MB of WAL each) that replaying one takes
            // longer than reading a sample: on a fast machine smaller ones replay before the
            // replicas are read, and the load never shows.
            let done = client
                .batch_execute(
                    "INSERT INTO load (pad) SELECT md5(g::text) FROM generate_series(1, 5000) g",
                )
                .await;
            if done.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let mut samples: Vec<LagSample> = Vec::new();
    let started = Instant::now();
    while samples.len() < 30 && started.elapsed() < DEADLINE {
        let s = lag::sample(c).await;
        check_consistent(&s);
        samples.push(s);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    writer.abort();
    let (mut behind_both, mut ordered) = (0, 0);
    for pair in samples.windows(2) {
        let (s, next) = (&pair[0], &pair[1]);
        let r2 = node(s, "replica2");
        assert_eq!(r2.state, ReplicaState::Streaming, "{s:#?}");
        assert_eq!(r2.upstream.as_deref(), Some("replica1"), "{s:#?}");
        let vs_primary = r2.lag_bytes.expect("lag behind the primary");
        let vs_upstream = r2.upstream_lag_bytes.expect("lag behind replica1");
        // What the primary wrote between this sample and the next bounds the skew.
        let written = node(next, "primary")
            .lsn
            .zip(node(s, "primary").lsn)
            .map(|(b, a)| b.bytes_after(a))
            .unwrap_or(0);
        assert!(
            vs_upstream <= vs_primary + written,
            "behind replica1 by {vs_upstream} B, behind the primary by {vs_primary} B, \
             {written} B written meanwhile: {s:#?}"
        );
        assert!(vs_primary < 64 << 20, "{s:#?}");
        for ms in [r2.replay_lag_ms, r2.upstream_replay_lag_ms]
            .into_iter()
            .flatten()
        {
            assert!(ms < 10_000, "{s:#?}");
        }
        ordered += usize::from(vs_upstream <= vs_primary);
        behind_both += usize::from(vs_primary > 0);
    }
    assert!(samples.len() >= 10, "{} samples", samples.len());
    assert!(behind_both > 0, "the load never showed: {samples:#?}");
    eprintln!(
        "{} samples: replica2 behind the primary in {behind_both}, lag vs primary ≥ lag vs \
         replica1 in {ordered}",
        samples.len() - 1
    );
    sample_until(c, "both replicas caught up after the load", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;
    Ok(())
}

/// Replay paused on replica1: replica1 falls behind, yet replica2 keeps streaming and
/// replays past it, because replica1 still receives and forwards the WAL (PostgreSQL 15's
/// cascading sender sends what it flushed). replica1's WAL receiver frozen (SIGSTOP): now
/// replica2 falls behind the primary by exactly what replica1 did not receive, and is 0 bytes
/// behind replica1. Thawed, both clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cascade_falls_behind_when_its_upstream_receives_nothing_not_when_it_only_pauses(
) -> TestResult {
    let stack = start("cascade-pause").await?;
    let c = &stack.cluster;
    sample_until(c, "both replicas caught up", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;

    c.pause_replay("replica1").await?;
    c.primary
        .execute("CREATE TABLE paused AS SELECT g, md5(g::text) FROM generate_series(1, 20000) g")
        .await?;
    let written = lsn_of(c, "primary", CURRENT).await?;
    let s = sample_until(c, "replica1 paused behind, replica2 past it", |s| {
        let (r1, r2) = (node(s, "replica1"), node(s, "replica2"));
        r1.state == ReplicaState::Paused
            && r1.lag_bytes.is_some_and(|b| b > 100_000)
            && r1.receive_lsn >= Some(written)
            && r2.lsn >= Some(written)
    })
    .await;
    let (r1, r2) = (node(&s, "replica1"), node(&s, "replica2"));
    assert_eq!(r2.state, ReplicaState::Streaming, "{s:#?}");
    assert_eq!(
        r2.upstream_lag_bytes,
        Some(0),
        "it has all replica1 received: {s:#?}"
    );
    // The servers' own word, asked directly: replica2 replayed beyond replica1.
    let (replay1, replay2) = (
        lsn_of(c, "replica1", REPLAY).await?,
        lsn_of(c, "replica2", REPLAY).await?,
    );
    assert!(
        replay2 >= written && replay1 < written,
        "{replay1} {replay2} {written}"
    );
    assert_eq!(r1.lsn, Some(replay1), "{s:#?}");
    c.resume_replay("replica1").await?;
    sample_until(c, "both caught up after resume", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;

    // Freeze replica1's WAL receiver: it receives nothing, so neither can replica2.
    let pid: i32 = c
        .node("replica1")?
        .with_client("test query", |c| async move {
            c.query_one("SELECT pid FROM pg_stat_wal_receiver", &[])
                .await
                .map(|r| r.get(0))
        })
        .await?;
    struct Thaw(i32);
    impl Drop for Thaw {
        fn drop(&mut self) {
            let _ = std::process::Command::new("kill")
                .args(["-CONT", &self.0.to_string()])
                .status();
        }
    }
    assert!(std::process::Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status()?
        .success());
    let thaw = Thaw(pid);
    let received = lsn_of(c, "replica1", RECEIVE).await?;
    c.primary
        .execute("CREATE TABLE starved AS SELECT g, md5(g::text) FROM generate_series(1, 20000) g")
        .await?;
    let written = lsn_of(c, "primary", CURRENT).await?;
    let s = sample_until(c, "replica2 behind the primary, not behind replica1", |s| {
        let r2 = node(s, "replica2");
        r2.lsn == Some(received)
            && r2.upstream_lag_bytes == Some(0)
            && r2.lag_bytes.is_some_and(|b| b > 100_000)
    })
    .await;
    let (r1, r2) = (node(&s, "replica1"), node(&s, "replica2"));
    assert_eq!(r1.receive_lsn, Some(received), "{s:#?}");
    assert_eq!(lsn_of(c, "replica2", REPLAY).await?, received);
    assert!(
        r2.lag_bytes >= Some(written.bytes_after(received)),
        "replica2 is behind the primary by at least what replica1 did not receive: {s:#?}"
    );
    assert_eq!(r2.upstream_replay_lag_ms, Some(0), "{s:#?}");
    assert!(r2.replay_lag_ms.is_some_and(|ms| ms > 0), "{s:#?}");
    assert_eq!(r2.state, ReplicaState::Streaming, "{s:#?}");
    drop(thaw);
    sample_until(c, "both caught up after the thaw", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;
    Ok(())
}

/// The slot replica2 streams through lives on replica1, a standby. With replica2 stopped it is
/// inactive and holds WAL on replica1 from its restart LSN, exactly as `pg_replication_slots`
/// on replica1 says; replica1 restarted (a fast shutdown), the slot is still there, still
/// inactive, its restart LSN never newer than before and its figures the server's; replica2
/// started again, the slot is active and used by it, and its retention falls back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_on_a_replica_outlives_the_replicas_restart_and_its_users_absence() -> TestResult {
    let mut stack = start("cascade-slot").await?;
    sample_until(&stack.cluster, "both replicas caught up", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;
    let opts = ReplicationOptions::default();
    let slot_of = |r: &replication::ReplicationReading| {
        r.node("replica1")
            .filter(|n| n.reachable)
            .and_then(|n| n.slots.iter().find(|s| s.name == "replica2").cloned())
    };
    const ON_REPLICA1: &str = "SELECT restart_lsn::text, pg_wal_lsn_diff(coalesce(\
        pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), restart_lsn)::int8 \
        FROM pg_replication_slots WHERE slot_name = 'replica2'";
    let servers_word = |cluster: &Cluster| {
        let node = cluster.node("replica1").expect("replica1").clone();
        async move {
            node.with_client("test query", |c| async move {
                c.query_one(ON_REPLICA1, &[])
                    .await
                    .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
            })
            .await
        }
    };

    stack.sandbox.stop_node("replica2")?;
    stack
        .cluster
        .primary
        .execute("CREATE TABLE retained AS SELECT g, md5(g::text) FROM generate_series(1, 20000) g")
        .await?;
    let written = lsn_of(&stack.cluster, "primary", CURRENT).await?;
    let started = Instant::now();
    let held = loop {
        let r = replication::read(&stack.cluster, &opts).await;
        let received = r.node("replica1").and_then(|n| n.position);
        if let Some(slot) = slot_of(&r)
            .filter(|s| !s.active && received >= Some(written) && s.retained_bytes > Some(100_000))
        {
            break slot;
        }
        assert!(started.elapsed() < DEADLINE, "never retained: {r:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(held.used_by, None, "{held:#?}");
    assert_eq!(held.wal_status.as_deref(), Some("reserved"), "{held:#?}");
    let (restart, retained) = servers_word(&stack.cluster).await?;
    assert_eq!(
        held.restart_lsn.map(|l| l.to_string()),
        Some(restart.clone())
    );
    assert_eq!(held.retained_bytes, Some(retained as u64), "{held:#?}");

    // replica1 restarts: unreachable while it is down, then the same slot, the same figures.
    stack.sandbox.stop_node("replica1")?;
    let down = replication::read(&stack.cluster, &opts).await;
    assert!(
        !down.node("replica1").expect("replica1").reachable,
        "{down:#?}"
    );
    stack.sandbox.start_node("replica1")?;
    let started = Instant::now();
    let after = loop {
        let r = replication::read(&stack.cluster, &opts).await;
        if let Some(slot) = slot_of(&r) {
            break slot;
        }
        assert!(started.elapsed() < DEADLINE, "replica1 never back: {r:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(!after.active, "{after:#?}");
    // A standby saves its slots at a restartpoint, and it makes one only after replaying a
    // checkpoint of the primary's: a restart can bring back an older restart LSN (never a
    // newer one), which retains more WAL than before. The console shows what the server says.
    assert!(after.restart_lsn <= held.restart_lsn, "{after:#?}");
    // (replica2 is still down, so not every sample is consistent: wait on replica1 alone.)
    let started = Instant::now();
    while !caught_up(&lag::sample(&stack.cluster).await, "replica1") {
        assert!(
            started.elapsed() < DEADLINE,
            "replica1 never streaming again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let now = slot_of(&replication::read(&stack.cluster, &opts).await).expect("the slot");
    let (restart_now, retained_now) = servers_word(&stack.cluster).await?;
    assert_eq!(now.restart_lsn.map(|l| l.to_string()), Some(restart_now));
    assert_eq!(now.retained_bytes, Some(retained_now as u64), "{now:#?}");
    assert!(now.retained_bytes >= held.retained_bytes, "{now:#?}");
    eprintln!(
        "the slot on replica1: restart LSN {} before its restart, {} after; retains {} then {} B",
        restart,
        now.restart_lsn.map(|l| l.to_string()).unwrap_or_default(),
        retained,
        retained_now
    );

    // replica2 back: it streams through its slot again, which lets the WAL go.
    stack.sandbox.start_node("replica2")?;
    let started = Instant::now();
    loop {
        let r = replication::read(&stack.cluster, &opts).await;
        if let Some(slot) = slot_of(&r).filter(|s| s.active) {
            assert_eq!(slot.used_by.as_deref(), Some("replica2"), "{slot:#?}");
            if slot.retained_bytes < held.retained_bytes {
                break;
            }
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the slot never active again: {r:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sample_until(&stack.cluster, "both caught up after the restarts", |s| {
        caught_up(s, "replica1") && caught_up(s, "replica2")
    })
    .await;
    Ok(())
}
