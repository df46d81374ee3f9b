//! Routing figures on a real sandbox (prints them; asserts nothing about time):
//!
//! 1. classification time per statement over the router's corpus: cold (parsed) and cached
//!    (the router's classification cache), p50/p99;
//! 2. a routed `SELECT 1` against a direct tokio-postgres call on the same replica, as a
//!    ratio, with 1, 50 and 200 concurrent sessions in one alternating run, with this
//!    process's CPU time a statement on each side (`/proc/self/stat`); cached classification
//!    with 50 tasks classifying at once (p50/p99); and the router's own parts with 50 tasks at
//!    once: deciding a route without I/O, and a pooled connection taken and given back;
//! 3. TPC-H Q1 served from its cache in the lake against the same query on the primary.
//!
//! `cargo bench -p skein-console --bench routing` (SCALE=… for TPC-H, default 0.1).
//!
//! For a profiler: `ROUTING_ONLY=sessions` runs part 2 alone, `ROUTING_LEVELS=50` picks the
//! session counts, `ROUTING_ROUNDS=…` the rounds (default 5), `ROUTING_SIDE=direct`, `routed`
//! or `pooled` (the router's pool with no routing) runs one side only and prints its context
//! switches a statement (then no ratio is printed), `ROUTING_BASE=pooled` compares routed with
//! the pool alone instead of direct connections, and `ROUTING_SYS=1` counts system time only.

use std::time::Instant;

use skein_core::Profile;
use skein_lake::Lake;
use skein_pg::Cluster;
use skein_router::{classify, Router, RouterConfig};
use skein_sandbox::{Sandbox, ScratchSandbox};

const Q1: &str = "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, \
    sum(l_extendedprice) AS sum_base_price, sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, \
    sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, avg(l_quantity) AS avg_qty, \
    avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order \
    FROM lineitem WHERE l_shipdate <= date '1998-12-01' - interval '90' day \
    GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus";

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Part 2 alone needs no TPC-H rows.
    let default_scale = if std::env::var("ROUTING_ONLY").is_ok() {
        0.0
    } else {
        0.1
    };
    let scale: f64 = std::env::var("SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_scale);
    let sandbox = ScratchSandbox::up_with_tpch("bench-routing", 2, scale).await?;
    run(&sandbox, scale).await
}

async fn run(sandbox: &Sandbox, scale: f64) -> Result<(), Box<dyn std::error::Error>> {
    let profile = Profile::load(&sandbox.profile)?;
    let only = std::env::var("ROUTING_ONLY").ok();
    if only.is_none() {
        classification(&profile).await?;
    }
    select_one(sandbox, &profile).await?;
    if only.is_none() {
        cache_vs_primary(&profile, scale).await?;
    }
    Ok(())
}

async fn classification(profile: &Profile) -> Result<(), Box<dyn std::error::Error>> {
    let corpus: Vec<&str> = include_str!("../../skein-router/tests/corpus.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t').map(|(_, sql)| sql))
        .collect();
    // The catalog the router classifies with (functions, operators, views, tables).
    let router = Router::connect(profile).await?;
    let functions = skein_router::load_functions(&router.cluster().primary).await?;
    let mut cold = Vec::new();
    for _ in 0..20 {
        for sql in &corpus {
            let t = Instant::now();
            std::hint::black_box(classify(sql, &functions));
            cold.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    for sql in &corpus {
        router.classify(sql);
    }
    let mut cached = Vec::new();
    for _ in 0..20 {
        for sql in &corpus {
            let t = Instant::now();
            std::hint::black_box(router.classify(sql));
            cached.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    println!(
        "classification, {} statements x 20: cold (parsed) p50 {:.1} µs p99 {:.1} µs; cached p50 {:.2} µs p99 {:.2} µs",
        corpus.len(),
        pct(&mut cold, 0.5),
        pct(&mut cold, 0.99),
        pct(&mut cached, 0.5),
        pct(&mut cached, 0.99)
    );
    Ok(())
}

/// `SELECT 1` on replica1 through the router against direct tokio-postgres connections, at
/// 1, 50 and 200 concurrent sessions (each session its own connection on both sides: the
/// router's replica pool is sized to the sessions), in alternating rounds so drift hits both
/// alike; prints the median ratio (routed time / direct time) per level.
async fn select_one(
    sandbox: &Sandbox,
    profile: &Profile,
) -> Result<(), Box<dyn std::error::Error>> {
    const SQL: &str = "/* skein:replica=replica1 */ SELECT 1";
    let rounds: usize = env_or("ROUTING_ROUNDS", 5);
    let side = std::env::var("ROUTING_SIDE").unwrap_or_default();
    // `ROUTING_BASE=pooled`: compare with the router's pool alone instead of direct
    // connections (to tell the pool's cost from the routing's).
    let base_pooled = std::env::var("ROUTING_BASE").is_ok_and(|b| b == "pooled");
    let levels: Vec<usize> = match std::env::var("ROUTING_LEVELS") {
        Ok(l) => l.split(',').filter_map(|n| n.trim().parse().ok()).collect(),
        Err(_) => vec![1, 50, 200],
    };
    let mut config = RouterConfig::default();
    config.replica_pool.max_size = 200;
    let router = Router::with_config(profile, config).await?;
    let password = sandbox.password()?;
    let info = format!(
        "{} password={password}",
        sandbox.conninfo("replica1", "tpch")
    );
    let mut clients = Vec::new();
    for _ in 0..200 {
        let (client, conn) = tokio_postgres::connect(&info, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        clients.push(std::sync::Arc::new(client));
    }
    for sessions in levels {
        let sessions = sessions.clamp(1, 200);
        // About 10,000 statements a round at every level.
        let per = 10_000 / sessions;
        // Warm both sides: the router's pool opens its connections.
        run_direct(&clients[..sessions], SQL, 20).await?;
        run_routed(&router, sessions, SQL, 20).await?;
        let (mut direct, mut routed) = (Rounds::default(), Rounds::default());
        for _ in 0..rounds {
            if side != "routed" {
                let before = usage();
                let secs = if base_pooled {
                    run_pooled(&router, sessions, SQL, per).await?
                } else {
                    run_direct(&clients[..sessions], SQL, per).await?
                };
                direct.add(secs, before);
            }
            if side != "direct" {
                let before = usage();
                let secs = if side == "pooled" {
                    run_pooled(&router, sessions, SQL, per).await?
                } else {
                    run_routed(&router, sessions, SQL, per).await?
                };
                routed.add(secs, before);
            }
        }
        let n = (sessions * per) as f64;
        let us = |cpu: f64| cpu / (n * rounds as f64) * 1e6;
        if !side.is_empty() {
            let one = if side == "direct" {
                &mut direct
            } else {
                &mut routed
            };
            println!(
                "SELECT 1 on replica1, {sessions} session(s) x {per}, {rounds} rounds, {side} only: {:.0} q/s (median), client CPU {:.1} µs and {:.2} context switches a statement",
                n / pct(&mut one.secs, 0.5),
                us(one.cpu),
                one.switches as f64 / (n * rounds as f64)
            );
            continue;
        }
        let mut ratios: Vec<f64> = routed
            .secs
            .iter()
            .zip(&direct.secs)
            .map(|(r, d)| r / d)
            .collect();
        println!(
            "SELECT 1 on replica1, {sessions} session(s) x {per}, {rounds} alternating rounds: direct {:.0} q/s, routed {:.0} q/s (medians), ratio (routed time / direct time) median {:.3}, min {:.3}, max {:.3}; client CPU a statement: direct {:.1} µs, routed {:.1} µs",
            n / pct(&mut direct.secs, 0.5),
            n / pct(&mut routed.secs, 0.5),
            pct(&mut ratios, 0.5),
            ratios[0],
            ratios[ratios.len() - 1],
            us(direct.cpu),
            us(routed.cpu)
        );
    }
    contended_classification(&router, 50).await;
    parts(&router, 50, SQL).await?;
    Ok(())
}

/// One side's rounds: the seconds of each, and this process's CPU time (s) and context
/// switches over all of them.
#[derive(Default)]
struct Rounds {
    secs: Vec<f64>,
    cpu: f64,
    switches: u64,
}

impl Rounds {
    /// Records a round of `secs` that began when [`usage`] said `before`.
    fn add(&mut self, secs: f64, before: (f64, u64)) {
        let (cpu, sw) = usage();
        self.secs.push(secs);
        self.cpu += cpu - before.0;
        self.switches += sw - before.1;
    }
}

/// This process's CPU time (s) and context switches so far.
fn usage() -> (f64, u64) {
    (cpu_seconds(), switches())
}

/// This process's CPU time so far (every thread, user and system), s, from
/// `/proc/self/stat` (clock ticks of 1/100 s); 0 where it cannot be read.
fn cpu_seconds() -> f64 {
    if std::env::var("ROUTING_SYS").is_ok() {
        return cpu_field(1);
    }
    cpu_field(0) + cpu_field(1)
}

/// One of `utime` (0) and `stime` (1) of `/proc/self/stat`, s.
fn cpu_field(i: usize) -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11 + i)
        .take(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}

/// Context switches of every thread of this process so far, from
/// `/proc/self/task/*/status`; threads that ended are not counted.
fn switches() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .flat_map(|s| {
            s.lines()
                .filter(|l| l.contains("ctxt_switches"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Seconds for `clients.len()` concurrent sessions to run `sql` `per` times each, directly.
async fn run_direct(
    clients: &[std::sync::Arc<tokio_postgres::Client>],
    sql: &'static str,
    per: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let t = Instant::now();
    let tasks: Vec<_> = clients
        .iter()
        .cloned()
        .map(|c| {
            tokio::spawn(async move {
                for _ in 0..per {
                    c.simple_query(sql).await?;
                }
                Ok::<_, tokio_postgres::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Seconds for `sessions` tasks to run `sql` `per` times each on the router's replica1 pool,
/// taking a pooled connection for each statement (the pool alone, no routing).
async fn run_pooled(
    router: &Router,
    sessions: usize,
    sql: &'static str,
    per: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let t = Instant::now();
    let tasks: Vec<_> = (0..sessions)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move {
                let node = router.cluster().node("replica1")?;
                for _ in 0..per {
                    let c = node.client().await?;
                    c.simple_query(sql)
                        .await
                        .map_err(|e| skein_pg::Error::from_pg("replica1", "", "", &e))?;
                }
                Ok::<_, skein_pg::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Seconds for `sessions` concurrent router sessions to run `sql` `per` times each.
async fn run_routed(
    router: &Router,
    sessions: usize,
    sql: &'static str,
    per: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let t = Instant::now();
    let tasks: Vec<_> = (0..sessions)
        .map(|i| {
            let router = router.clone();
            tokio::spawn(async move {
                skein_router::Session::new(Some(&format!("s{i}")))
                    .scope(async {
                        for _ in 0..per {
                            router.simple_query(sql).await?;
                        }
                        Ok::<_, skein_router::Error>(())
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Cached classification with `tasks` tasks classifying at once (on the runtime's worker
/// threads): p50 and p99 of one call, µs.
async fn contended_classification(router: &Router, tasks: usize) {
    const CALLS: usize = 2000;
    let sqls: Vec<String> = (0..64).map(|i| format!("SELECT {i} FROM orders")).collect();
    for s in &sqls {
        router.classify(s);
    }
    let sqls = std::sync::Arc::new(sqls);
    let handles: Vec<_> = (0..tasks)
        .map(|i| {
            let (router, sqls) = (router.clone(), sqls.clone());
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(CALLS);
                for n in 0..CALLS {
                    let sql = &sqls[(i + n) % sqls.len()];
                    let t = Instant::now();
                    std::hint::black_box(router.classify(sql));
                    times.push(t.elapsed().as_secs_f64() * 1e6);
                    if n % 100 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap_or_default());
    }
    println!(
        "classification from cache, {tasks} tasks x {CALLS} at once: p50 {:.2} µs, p99 {:.2} µs",
        pct(&mut all, 0.5),
        pct(&mut all, 0.99)
    );
}

/// Where a routed statement's own cost goes, each part alone with `tasks` tasks at once, µs
/// a call (p50/p99): deciding the route in a session (no I/O, [`Router::explain`]), and a
/// pooled replica connection taken and given back.
async fn parts(
    router: &Router,
    tasks: usize,
    sql: &'static str,
) -> Result<(), Box<dyn std::error::Error>> {
    const CALLS: usize = 2000;
    let mut plans = Vec::new();
    let mut checkouts = Vec::new();
    let handles: Vec<_> = (0..tasks)
        .map(|i| {
            let router = router.clone();
            tokio::spawn(async move {
                skein_router::Session::new(Some(&format!("s{i}")))
                    .scope(async {
                        let node = router.cluster().node("replica1")?;
                        let (mut plan, mut checkout) = (Vec::new(), Vec::new());
                        for n in 0..CALLS {
                            let t = Instant::now();
                            std::hint::black_box(router.explain(sql));
                            plan.push(t.elapsed().as_secs_f64() * 1e6);
                            let t = Instant::now();
                            drop(std::hint::black_box(node.client().await?));
                            checkout.push(t.elapsed().as_secs_f64() * 1e6);
                            if n % 10 == 0 {
                                tokio::task::yield_now().await;
                            }
                        }
                        Ok::<_, skein_pg::Error>((plan, checkout))
                    })
                    .await
            })
        })
        .collect();
    for h in handles {
        let (p, c) = h.await??;
        plans.extend(p);
        checkouts.extend(c);
    }
    println!(
        "a routed statement's own work, {tasks} tasks x {CALLS} at once: deciding the route p50 {:.2} µs, p99 {:.2} µs; a pooled connection taken and given back p50 {:.2} µs, p99 {:.2} µs",
        pct(&mut plans, 0.5),
        pct(&mut plans, 0.99),
        pct(&mut checkouts, 0.5),
        pct(&mut checkouts, 0.99)
    );
    Ok(())
}

async fn cache_vs_primary(profile: &Profile, scale: f64) -> Result<(), Box<dyn std::error::Error>> {
    let cluster = Cluster::with_timeout(profile, std::time::Duration::from_secs(120))?;
    let lake = Lake::open(profile).await?;
    lake.create_cache(&cluster, "tpch_q1", Q1, &["lineitem".into()], None)
        .await?;
    let outcome = lake.refresh_cache(&cluster, "tpch_q1", true).await?;
    let primary = cluster.primary.client().await?;
    const RUNS: usize = 7;
    let mut on_primary = Vec::new();
    let mut from_cache = Vec::new();
    let mut checked = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let rows = primary.simple_query(Q1).await?;
        on_primary.push(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(rows);
        let t = Instant::now();
        let rows = lake.read_cache("tpch_q1", 10_000).await?;
        from_cache.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(rows.row_count, 4, "Q1 has 4 groups");
        // What a routed read pays before it may read the cache: the exact freshness test (a
        // fingerprint of the monitored tables on the primary against the refresh's).
        let t = Instant::now();
        let status = lake.cache_status(&cluster, "tpch_q1").await?;
        checked.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status.state, skein_lake::CacheState::Fresh);
    }
    let (p, c) = (pct(&mut on_primary, 0.5), pct(&mut from_cache, 0.5));
    let k = pct(&mut checked, 0.5);
    println!(
        "TPC-H Q1 at scale {scale} (cache refresh {} ms): on the primary median {p:.1} ms, from its cache median {c:.1} ms, ratio (cache / primary) {:.3}; \
         the exact freshness test (fingerprint of lineitem) median {k:.1} ms, so a checked read from the cache is {:.3} of the primary's time",
        outcome.duration_ms,
        c / p,
        (c + k) / p
    );
    Ok(())
}
