//! How true the reported replay lag is, against a heartbeat: a row the bench updates on the
//! primary every 100 ms (`ts = clock_timestamp()`), read on the replica. At an instant, the
//! replica's copy of the row is `age_replica = now − ts` old and the primary's `age_primary`;
//! the replica is `age_replica − age_primary` behind (to within one update period the replica
//! has not replayed yet, which the error figure includes). The bench takes a lag sample
//! (`skein_pg::lag::sample`) beside each reading, every 250 ms for 30 s, while replay on the
//! replica is paused for 1.5 s every 4 s, and prints the error |reported − heartbeat| at the
//! median and p95, and the same over the samples where the replica was behind. Asserts nothing
//! about time.
//!
//! `cargo bench -p skein-pg --bench heartbeat`

use std::time::{Duration, Instant};

use skein_core::Profile;
use skein_pg::{lag, Cluster};
use skein_sandbox::ScratchSandbox;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = ScratchSandbox::up("bench-heartbeat", 1).await?;
    let db = skein_sandbox::DEMO_DATABASE;
    let su = skein_sandbox::SUPERUSER;
    let primary = skein_sandbox::demo::connect_node(&sandbox, "primary", db, su).await?;
    let replica = skein_sandbox::demo::connect_node(&sandbox, "replica1", db, su).await?;
    let control = skein_sandbox::demo::connect_node(&sandbox, "replica1", db, su).await?;
    primary
        .batch_execute(
            "CREATE TABLE heartbeat (id int PRIMARY KEY, ts timestamptz NOT NULL); \
             INSERT INTO heartbeat VALUES (1, clock_timestamp())",
        )
        .await?;
    let cluster = Cluster::from_profile(&Profile::load(&sandbox.profile)?)?;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let stop = tokio_util::sync::CancellationToken::new();
    let beat = {
        let (stop, primary) = (stop.clone(), primary);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            while !stop.is_cancelled() {
                tick.tick().await;
                let _ = primary
                    .execute(
                        "UPDATE heartbeat SET ts = clock_timestamp() WHERE id = 1",
                        &[],
                    )
                    .await;
            }
            primary
        })
    };
    let pauses = {
        let stop = stop.clone();
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                tokio::time::sleep(Duration::from_millis(2_500)).await;
                let _ = control.batch_execute("SELECT pg_wal_replay_pause()").await;
                tokio::time::sleep(Duration::from_millis(1_500)).await;
                let _ = control.batch_execute("SELECT pg_wal_replay_resume()").await;
            }
            let _ = control.batch_execute("SELECT pg_wal_replay_resume()").await;
        })
    };

    let primary_age =
        "SELECT (extract(epoch FROM clock_timestamp() - ts) * 1000)::float8 FROM heartbeat";
    let mut all = Vec::new();
    let mut behind = Vec::new();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let checker = skein_sandbox::demo::connect_node(&sandbox, "primary", db, su).await?;
    while started.elapsed() < Duration::from_secs(30) {
        tick.tick().await;
        let (sample, on_replica, on_primary) = tokio::join!(
            lag::sample(&cluster),
            replica.query_one(primary_age, &[]),
            checker.query_one(primary_age, &[])
        );
        let (Ok(r), Ok(p)) = (on_replica, on_primary) else {
            continue;
        };
        let truth = (r.get::<_, f64>(0) - p.get::<_, f64>(0)).max(0.0);
        let Some(reported) = sample.node("replica1").and_then(|n| n.replay_lag_ms) else {
            continue;
        };
        let error = (reported as f64 - truth).abs();
        all.push(error);
        if truth > 200.0 {
            behind.push(error);
        }
    }
    stop.cancel();
    let _ = pauses.await;
    let _ = beat.await;
    all.sort_by(f64::total_cmp);
    behind.sort_by(f64::total_cmp);
    println!(
        "replay lag vs heartbeat, every 250 ms for 30 s: error p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms over {} samples; \
         while behind (> 200 ms): p50 {:.0} ms, p95 {:.0} ms over {} samples",
        percentile(&all, 0.5),
        percentile(&all, 0.95),
        percentile(&all, 1.0),
        all.len(),
        percentile(&behind, 0.5),
        percentile(&behind, 0.95),
        behind.len()
    );
    Ok(())
}
