//! What TLS costs, on two real sandboxes of one primary and one replica each — one plain, one
//! TLS-only with `sslmode=verify-full` (prints figures; asserts nothing about time):
//!
//! 1. connection setup (TCP, TLS handshake and certificate check, SCRAM authentication, first
//!    query), p50 and p90 in ms, TLS against plain;
//! 2. a routed `SELECT 1` against a direct tokio-postgres call on the same replica, over TLS
//!    and over plain TCP: the router's ratio must not grow with TLS.
//!
//! `cargo bench -p skein-console --bench tls`.

use std::time::Instant;

use skein_core::Profile;
use skein_router::{Router, RouterConfig};
use skein_sandbox::{SandboxSecurity, ScratchSandbox};

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn conninfo(sandbox: &ScratchSandbox, node: &str) -> Res<String> {
    Ok(format!(
        "{} password={}",
        sandbox.conninfo(node, skein_sandbox::DEMO_DATABASE),
        sandbox.password()?
    ))
}

#[tokio::main]
async fn main() -> Res<()> {
    let plain = ScratchSandbox::up("bench-plain", 1).await?;
    let tls = ScratchSandbox::up_with(
        "bench-tls",
        1,
        SandboxSecurity {
            tls: true,
            ..SandboxSecurity::default()
        },
    )
    .await?;
    setup(&plain, &tls).await?;
    let (plain_ratio, tls_ratio) = select_one(&plain, &tls).await?;
    println!(
        "router overhead with TLS against without: {:.2} (routed/direct ratio {tls_ratio:.2} over TLS, {plain_ratio:.2} plain)",
        tls_ratio / plain_ratio
    );
    Ok(())
}

async fn setup(plain: &ScratchSandbox, tls: &ScratchSandbox) -> Res<()> {
    const N: usize = 60;
    let (p, t) = (conninfo(plain, "primary")?, conninfo(tls, "primary")?);
    let (mut plain_ms, mut tls_ms) = (Vec::new(), Vec::new());
    // Alternating, so drift hits both sides alike.
    for _ in 0..N {
        for (info, out) in [(&p, &mut plain_ms), (&t, &mut tls_ms)] {
            let start = Instant::now();
            let client = skein_core::conninfo::connect(info).await?;
            client.simple_query("SELECT 1").await?;
            out.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    let (p50, t50) = (pct(&mut plain_ms, 0.5), pct(&mut tls_ms, 0.5));
    let (p90, t90) = (pct(&mut plain_ms, 0.9), pct(&mut tls_ms, 0.9));
    println!(
        "connection setup + first query, {N} each: plain p50 {p50:.2} ms (p90 {p90:.2}), TLS verify-full p50 {t50:.2} ms (p90 {t90:.2}), ratio {:.2}",
        t50 / p50
    );
    Ok(())
}

/// Routed time over direct time for `SELECT 1` on replica1, plain and over TLS, measured in
/// interleaved rounds (median of 7), so drift hits both stacks alike.
async fn select_one(plain: &ScratchSandbox, tls: &ScratchSandbox) -> Res<(f64, f64)> {
    const SQL: &str = "/* skein:replica=replica1 */ SELECT 1";
    const PER_ROUND: usize = 600;
    let mut sides = Vec::new();
    for sandbox in [plain, tls] {
        let profile = Profile::load(&sandbox.profile)?;
        let router = Router::with_config(&profile, RouterConfig::default()).await?;
        let client = skein_core::conninfo::connect(&conninfo(sandbox, "replica1")?).await?;
        for _ in 0..300 {
            client.simple_query(SQL).await?;
            router.simple_query(SQL).await?;
        }
        sides.push((router, client, Vec::new(), Vec::new()));
    }
    for _ in 0..7 {
        for (router, client, direct, routed) in sides.iter_mut() {
            let t = Instant::now();
            for _ in 0..PER_ROUND {
                client.simple_query(SQL).await?;
            }
            direct.push(t.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64);
            let t = Instant::now();
            for _ in 0..PER_ROUND {
                router.simple_query(SQL).await?;
            }
            routed.push(t.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64);
        }
    }
    let mut ratios = Vec::new();
    for ((_, _, direct, routed), label) in sides.iter_mut().zip(["plain", "TLS verify-full"]) {
        let (d, r) = (pct(direct, 0.5), pct(routed, 0.5));
        println!(
            "SELECT 1 on replica1 ({label}), 7 x {PER_ROUND} calls each: direct {d:.0} µs/call, routed {r:.0} µs/call, ratio {:.2}",
            r / d
        );
        ratios.push(r / d);
    }
    Ok((ratios[0], ratios[1]))
}
