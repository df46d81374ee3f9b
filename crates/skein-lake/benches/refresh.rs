//! Cache refresh of a 1M-row source against DuckDB's own
//! `COPY (SELECT * FROM postgres_scan(…)) TO 'x.parquet'` of the same rows, in one run, on a
//! real sandbox. Prints figures and the ratio; asserts nothing about time.
//!
//! `cargo bench -p skein-lake --bench refresh` (ROWS=… to change the size).

use std::time::Instant;

use skein_core::Profile;
use skein_lake::{Lake, RefreshResult};
use skein_pg::Cluster;
use skein_sandbox::{Sandbox, ScratchSandbox};

const RUNS: usize = 3;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let sandbox = ScratchSandbox::up("bench-refresh", 1).await?;
    run(&sandbox, rows).await
}

async fn run(sandbox: &Sandbox, rows: u64) -> Result<(), Box<dyn std::error::Error>> {
    let profile = Profile::load(&sandbox.profile)?;
    // Loading 1M rows takes longer than a probe's default timeout.
    let cluster = Cluster::with_timeout(&profile, std::time::Duration::from_secs(120))?;
    cluster
        .primary
        .execute(&format!(
            "CREATE TABLE src AS SELECT g::int8 AS id, (g % 1000)::int4 AS a, (g * 0.01)::numeric(12,2) AS b, \
             md5(g::text) AS c, date '2020-01-01' + (g % 2000)::int AS d FROM generate_series(1, {rows}) g"
        ))
        .await?;
    cluster
        .primary
        .execute("ALTER TABLE src ADD PRIMARY KEY (id)")
        .await?;
    cluster.primary.execute("ANALYZE src").await?;

    let lake = Lake::open(&profile).await?;
    lake.create_cache(
        &cluster,
        "bench_src",
        "SELECT * FROM src",
        &["src".into()],
        None,
    )
    .await?;
    let mut refresh_s = Vec::new();
    for i in 0..RUNS {
        let o = lake.refresh_cache(&cluster, "bench_src", i > 0).await?;
        assert_eq!(o.result, RefreshResult::Refreshed, "{o:?}");
        println!(
            "refresh {}: {} rows in {} ms from {}",
            i + 1,
            o.rows.unwrap_or(0),
            o.duration_ms,
            o.served_by.unwrap_or_default()
        );
        refresh_s.push(o.duration_ms as f64 / 1000.0);
    }

    let replica = sandbox
        .nodes
        .iter()
        .find(|n| n.name == "replica1")
        .ok_or("no replica")?;
    let conninfo = format!(
        "host=127.0.0.1 port={} user=postgres dbname=tpch password={}",
        replica.port,
        sandbox.password()?
    );
    let out = sandbox.dir.join("copy.parquet");
    let copy_s = tokio::task::spawn_blocking(move || -> Result<Vec<f64>, duckdb::Error> {
        let duck = duckdb::Connection::open_in_memory()?;
        duck.execute_batch("LOAD postgres")?;
        let mut times = Vec::new();
        for i in 0..RUNS {
            let t = Instant::now();
            duck.execute_batch(&format!(
                "COPY (SELECT * FROM postgres_scan('{conninfo}', 'public', 'src')) TO '{}' (FORMAT parquet)",
                out.display()
            ))?;
            times.push(t.elapsed().as_secs_f64());
            println!("duckdb COPY {}: {:.0} ms", i + 1, times[i] * 1000.0);
        }
        Ok(times)
    })
    .await??;

    let (r, c) = (median(refresh_s), median(copy_s));
    println!("rows: {rows}");
    println!(
        "cache refresh (median of {RUNS}): {:.0} ms ({:.0} rows/s)",
        r * 1000.0,
        rows as f64 / r
    );
    println!(
        "duckdb COPY postgres_scan → parquet (median of {RUNS}): {:.0} ms ({:.0} rows/s)",
        c * 1000.0,
        rows as f64 / c
    );
    println!("ratio refresh / COPY: {:.2}", r / c);
    skipped_checks(&cluster, &lake, rows).await
}

/// `seq_tup_read` of `src` on the primary, read fresh.
async fn rows_scanned(cluster: &Cluster) -> Result<i64, skein_pg::Error> {
    cluster
        .primary
        .with_client("reading pg_stat_user_tables", |c| async move {
            c.batch_execute("SELECT pg_stat_clear_snapshot()").await?;
            c.query_one(
                "SELECT coalesce(seq_tup_read, 0)::int8 FROM pg_stat_user_tables WHERE relname = 'src'",
                &[],
            )
            .await
            .map(|r| r.get(0))
        })
        .await
}

/// A SKIPPED check (nothing changed) by the change feed, against the scan fingerprint it
/// replaces, in one run: ms each (median) and the rows the primary scanned for them
/// (`pg_stat_user_tables.seq_tup_read`, whose counters a backend reports within a second).
async fn skipped_checks(
    cluster: &Cluster,
    lake: &Lake,
    rows: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    const CHECKS: usize = 9;
    let (mut feed_ms, mut scan_ms) = (Vec::new(), Vec::new());
    let (mut feed_rows, mut scan_rows) = (0, 0);
    for _ in 0..CHECKS {
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let before = rows_scanned(cluster).await?;
        let o = lake.refresh_cache_if_changed(cluster, "bench_src").await?;
        assert_eq!(o.result, RefreshResult::Skipped, "{o:?}");
        feed_ms.push(o.duration_ms as f64);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let mid = rows_scanned(cluster).await?;
        let t = Instant::now();
        skein_pg::Fingerprint::take(&cluster.primary, &["src".to_owned()]).await?;
        scan_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let after = rows_scanned(cluster).await?;
        feed_rows += mid - before;
        scan_rows += after - mid;
    }
    // The feed's own part: one consumption with nothing to decode, and the cache's status.
    let (mut consume_ms, mut status_ms) = (Vec::new(), Vec::new());
    for _ in 0..CHECKS {
        let t = Instant::now();
        lake.change_feed(cluster).await;
        consume_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        lake.cache_status(cluster, "bench_src").await?;
        status_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "change feed consumption alone (median of {CHECKS}): {:.1} ms; a cache's status by the feed: {:.1} ms",
        median(consume_ms),
        median(status_ms)
    );
    let (f, s) = (median(feed_ms), median(scan_ms));
    println!(
        "SKIPPED check of a {rows}-row source (median of {CHECKS}): change feed {f:.0} ms, {} rows scanned on the primary; scan fingerprint {s:.0} ms, {} rows scanned; ratio feed / scan {:.3}",
        feed_rows / CHECKS as i64,
        scan_rows / CHECKS as i64,
        f / s
    );
    Ok(())
}
