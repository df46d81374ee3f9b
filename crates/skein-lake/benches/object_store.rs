//! The lake on a three-node Garage cluster against the same lake on a local data path, in one
//! run: a 1M-row cache refresh, a time-travel page, the snapshot list, and expire + cleanup of
//! every snapshot but the latest (100 small commits and the refreshes, whose replaced files go). Each figure is the median of RUNS (the refresh, of RUNS forced refreshes);
//! printed with the ratio object store / local. Asserts only that each step did what it says.
//!
//! `cargo bench -p skein-lake --bench object_store` (ROWS=… to change the size).

use std::time::Instant;

use skein_core::Profile;
use skein_lake::snapshot::At;
use skein_lake::{ExpireTarget, Lake, RefreshResult};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

const RUNS: usize = 3;
const SNAPSHOTS: usize = 100;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// (refresh, time-travel page, snapshot list, expire + cleanup) in ms on one sandbox.
async fn measure(
    sandbox: &ScratchSandbox,
    rows: u64,
) -> Result<[f64; 4], Box<dyn std::error::Error>> {
    let profile = Profile::load(&sandbox.profile)?;
    let cluster = Cluster::with_timeout(&profile, std::time::Duration::from_secs(300))?;
    cluster
        .primary
        .execute(&format!(
            "CREATE TABLE src AS SELECT g::int8 AS id, (g % 1000)::int4 AS a, md5(g::text) AS c \
             FROM generate_series(1, {rows}) g"
        ))
        .await?;
    let lake = Lake::open(&profile).await?;
    lake.create_cache(
        &cluster,
        "src_copy",
        "SELECT * FROM src",
        &["src".into()],
        None,
    )
    .await?;
    let mut refresh = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let o = lake.refresh_cache(&cluster, "src_copy", true).await?;
        refresh.push(ms(t));
        assert_eq!(o.result, RefreshResult::Refreshed, "{o:?}");
    }
    let mut page = Vec::new();
    for i in 0..RUNS {
        let t = Instant::now();
        let p = lake
            .rows_at("src_copy", At::Latest, 100, rows as usize * i / (RUNS + 1))
            .await?;
        page.push(ms(t));
        assert_eq!(p.rows.len(), 100);
    }
    // A history of small commits to expire, then the list and the expiry with its cleanup.
    lake.commit_statements(
        "bench",
        "create events",
        vec!["CREATE TABLE {lake}.main.events (n BIGINT)".into()],
    )
    .await?;
    for i in 0..SNAPSHOTS {
        lake.commit_statements(
            "bench",
            &format!("event {i}"),
            vec![format!("INSERT INTO {{lake}}.main.events VALUES ({i})")],
        )
        .await?;
    }
    let mut list = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let s = lake.snapshots(500).await?;
        list.push(ms(t));
        assert!(s.len() > SNAPSHOTS);
    }
    // Every snapshot but the latest: the 100 commits and the refreshes, whose replaced files
    // the cleanup then deletes.
    let ids: Vec<i64> = lake
        .snapshots(1000)
        .await?
        .iter()
        .skip(1)
        .map(|s| s.id)
        .collect();
    let t = Instant::now();
    let expired = lake
        .expire_snapshots(&ExpireTarget::Versions(ids.clone()), false)
        .await?;
    let cleaned = lake.cleanup_old_files(false).await?;
    let maintenance = ms(t);
    assert_eq!(expired.len(), ids.len());
    assert!(
        cleaned.len() >= RUNS - 1,
        "the replaced refresh files: {cleaned:?}"
    );
    println!(
        "  ({}: expired {} snapshots, cleanup deleted {} files)",
        profile.lake.data_path,
        expired.len(),
        cleaned.len()
    );
    Ok([median(refresh), median(page), median(list), maintenance])
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let local = ScratchSandbox::up("bench-local", 1).await?;
    let store = ScratchSandbox::up_object_store("bench-s3", 1).await?;
    println!("the lake on a local data path against a three-node Garage cluster ({rows} rows):");
    let a = measure(&local, rows).await?;
    let b = measure(&store, rows).await?;
    let names = [
        format!("refresh of {rows} rows (median of {RUNS})"),
        format!("time-travel page of 100 rows (median of {RUNS})"),
        format!("snapshot list, 500 (median of {RUNS})"),
        format!("expire + cleanup of {SNAPSHOTS}+ snapshots"),
    ];
    for (i, name) in names.iter().enumerate() {
        println!(
            "  {name:<44} local {:>9.1} ms   garage {:>9.1} ms   garage/local {:.2}",
            a[i],
            b[i],
            b[i] / a[i]
        );
    }
    Ok(())
}
