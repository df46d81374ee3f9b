//! Cost of one sampler tick with 2 and 16 replicas, on a real sandbox with 16 streaming
//! replicas: the lag sample alone (`skein_pg::lag::sample`), the replication reading alone
//! (`skein_pg::replication::read`: senders, receivers, slots, conflicts, settings), and both
//! concurrently as the console's sampler runs them once a second; then the ticks as scheduled at
//! the default 250 ms period (the replication reading in one tick of four). Prints figures;
//! asserts nothing about time.
//!
//! `cargo bench -p skein-pg --bench lag_tick`

use std::time::Instant;

use skein_core::Profile;
use skein_pg::replication::{self, ReplicationOptions};
use skein_pg::{lag, Cluster, ReplicaState};
use skein_sandbox::{Sandbox, ScratchSandbox};

const TICKS: usize = 200;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let sandbox = ScratchSandbox::up("bench-lag", 16).await?;
    println!(
        "sandbox with 16 replicas up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    run(&sandbox).await
}

async fn run(sandbox: &Sandbox) -> Result<(), Box<dyn std::error::Error>> {
    let full = Profile::load(&sandbox.profile)?;
    for replicas in [2usize, 16] {
        let mut profile = full.clone();
        profile.replicas.truncate(replicas);
        let cluster = Cluster::from_profile(&profile)?;
        let warm = lag::sample(&cluster).await;
        let streaming = warm
            .nodes
            .iter()
            .filter(|n| n.state == ReplicaState::Streaming)
            .count();
        let options = ReplicationOptions::default();
        let _ = replication::read(&cluster, &options).await;
        let mut lag_ms = Vec::with_capacity(TICKS);
        let mut repl_ms = Vec::with_capacity(TICKS);
        let mut tick_ms = Vec::with_capacity(TICKS);
        let mut scheduled_ms = Vec::with_capacity(TICKS);
        for i in 0..TICKS {
            let t = Instant::now();
            std::hint::black_box(lag::sample(&cluster).await);
            lag_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            std::hint::black_box(replication::read(&cluster, &options).await);
            repl_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            std::hint::black_box(tokio::join!(
                lag::sample(&cluster),
                replication::read(&cluster, &options)
            ));
            tick_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            // As the sampler schedules them at 250 ms: lag every tick, replication every fourth.
            let t = Instant::now();
            if i % 4 == 0 {
                std::hint::black_box(tokio::join!(
                    lag::sample(&cluster),
                    replication::read(&cluster, &options)
                ));
            } else {
                std::hint::black_box(lag::sample(&cluster).await);
            }
            scheduled_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        for (what, mut times) in [
            ("lag sample", lag_ms),
            ("replication read", repl_ms),
            ("sampler tick (both)", tick_ms),
            ("ticks at 250 ms", scheduled_ms),
        ] {
            times.sort_by(f64::total_cmp);
            let mean = times.iter().sum::<f64>() / times.len() as f64;
            println!(
                "{what:<20} {replicas:>2} replicas ({streaming} streaming): mean {mean:.2} ms, p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms over {TICKS} ticks",
                percentile(&times, 0.5),
                percentile(&times, 0.95),
                percentile(&times, 1.0)
            );
        }
    }
    Ok(())
}
