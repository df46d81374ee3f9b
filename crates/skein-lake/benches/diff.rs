//! The snapshot diff of a 1M-row cache between two refreshes, 0.1 % of its rows changed
//! (1,000 updated, 500 deleted, 500 inserted), on a real sandbox: counts and the first page by
//! the cache's key, by whole rows, and one kind only, against a plain scan of both versions
//! (`count(*)` of each) in the same run. Prints figures and ratios; asserts only that the
//! counts are the change set's.
//!
//! `cargo bench -p skein-lake --bench diff` (ROWS=… to change the size).

use std::time::Instant;

use skein_core::Profile;
use skein_lake::{CacheSpec, DiffKind, DiffRequest, Lake, RefreshResult};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

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
    let sandbox = ScratchSandbox::up("bench-diff", 1).await?;
    let profile = Profile::load(&sandbox.profile)?;
    let cluster = Cluster::with_timeout(&profile, std::time::Duration::from_secs(120))?;
    let p = &cluster.primary;
    p.execute(&format!(
        "CREATE TABLE src AS SELECT g::int8 AS id, (g % 1000)::int4 AS a, md5(g::text) AS c \
         FROM generate_series(1, {rows}) g"
    ))
    .await?;
    p.execute("ALTER TABLE src ADD PRIMARY KEY (id)").await?;
    let lake = Lake::open(&profile).await?;
    let spec = CacheSpec {
        name: "bench_src".into(),
        query: "SELECT * FROM src".into(),
        monitor: vec!["src".into()],
        ttl_seconds: None,
        key: vec!["id".into()],
    };
    lake.define_cache(&cluster, &spec).await?;
    let v1 = lake.refresh_cache(&cluster, "bench_src", false).await?;
    assert_eq!(v1.result, RefreshResult::Refreshed);
    let step = (rows / 1000).max(1);
    p.execute(&format!("UPDATE src SET a = -a - 1 WHERE id % {step} = 0"))
        .await?;
    p.execute(&format!(
        "DELETE FROM src WHERE id % {step} = 1 AND id <= 500 * {step}"
    ))
    .await?;
    p.execute(&format!(
        "INSERT INTO src SELECT {rows} + g, 0, 'new' FROM generate_series(1, 500) g"
    ))
    .await?;
    let v2 = lake.refresh_cache(&cluster, "bench_src", false).await?;
    assert_eq!(v2.result, RefreshResult::Refreshed);
    let (a, b) = (v1.snapshot_id.expect("v1"), v2.snapshot_id.expect("v2"));
    let req = |key: Option<Vec<String>>, only: Option<DiffKind>| DiffRequest {
        table: "bench_src".into(),
        from: a,
        to: b,
        key,
        only,
        limit: 50,
        offset: 0,
    };
    let mut figures: Vec<(&str, Vec<f64>)> = vec![
        ("scan of both versions", vec![]),
        ("diff by the cache's key", vec![]),
        ("diff, changed rows only", vec![]),
        ("diff by whole rows", vec![]),
    ];
    for _ in 0..RUNS {
        let t = Instant::now();
        let n = lake
            .rows_at("bench_src", skein_lake::At::Version(a), 1, 0)
            .await?
            .total
            + lake
                .rows_at("bench_src", skein_lake::At::Version(b), 1, 0)
                .await?
                .total;
        figures[0].1.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(n > 0);
        let t = Instant::now();
        let d = lake.diff(req(None, None)).await?;
        figures[1].1.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!((d.added, d.removed, d.changed), (500, 500, 1000), "by key");
        let t = Instant::now();
        let d = lake.diff(req(None, Some(DiffKind::Changed))).await?;
        figures[2].1.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(d.rows.len(), 50);
        let t = Instant::now();
        let d = lake.diff(req(Some(Vec::new()), None)).await?;
        figures[3].1.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!((d.added, d.removed), (1500, 1500), "whole rows");
    }
    let base = median(figures[0].1.clone());
    println!("diff of {rows} rows between two refreshes (0.1 % changed), median of {RUNS}:");
    for (name, v) in &figures {
        let m = median(v.clone());
        println!("  {name:<28} {m:>9.1} ms  ({:.2}× the scan)", m / base);
    }
    Ok(())
}
