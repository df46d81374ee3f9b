//! Cost of a `/metrics` scrape (`Console::metrics`: every node's lag, slots, conflicts, caches,
//! the router's counters and active alerts, encoded as OpenMetrics text) on a real sandbox with
//! 16 streaming replicas, and its size. Prints figures; asserts nothing about time.
//!
//! `cargo bench -p skein-console --bench metrics`

use std::time::{Duration, Instant};

use skein_console::{App, ConsoleOptions};
use skein_core::Profile;
use skein_sandbox::ScratchSandbox;

const SCRAPES: usize = 500;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = ScratchSandbox::up("bench-metrics", 16).await?;
    let app = App::new(ConsoleOptions {
        persist_lag: false,
        ..ConsoleOptions::default()
    });
    app.open(Profile::load(&sandbox.profile)?)?;
    let console = app.console().ok_or("no console")?;
    // A few ticks: every node sampled and read.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let text = console.metrics();
    let lines = text.lines().filter(|l| !l.starts_with('#')).count();
    let mut times = Vec::with_capacity(SCRAPES);
    for _ in 0..SCRAPES {
        let t = Instant::now();
        std::hint::black_box(console.metrics());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "/metrics, 16 replicas: {} bytes, {lines} samples; mean {mean:.3} ms, p50 {:.3} ms, p95 {:.3} ms over {SCRAPES} scrapes",
        text.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95)
    );
    console.close();
    Ok(())
}
