//! Embedding `skein-router` in an application: a small order service that splits its own
//! reads and writes.
//!
//! ```sh
//! skein sandbox up                       # or any profile with a primary and replicas
//! cargo run -p skein-router --example embed -- /tmp/skein-sandbox/profile.toml
//! ```
//!
//! Each request runs in its own [`Session`] (a tokio task-local: no handle to pass around).
//! Writes go to the primary; reads go to replicas in rotation, and a read after the request's
//! own write sees it (read-your-writes); a transaction keeps one primary connection; a block
//! that must read the primary says so with [`force_primary`]. Every result carries its route.

use skein_core::Profile;
use skein_router::{force_primary, Router, Session};

/// One request of user `user`: place an order, then read the user's orders back.
async fn place_order(router: &Router, user: i32, amount: i32) -> skein_router::Result<i64> {
    Session::new(Some(&format!("user-{user}")))
        .scope(async {
            router.execute("BEGIN", &[]).await?;
            router
                .execute(
                    "INSERT INTO shop.orders (user_id, amount) VALUES ($1, $2)",
                    &[&user, &amount],
                )
                .await?;
            router
                .execute(
                    "UPDATE shop.totals SET spent = spent + $2 WHERE user_id = $1",
                    &[&user, &amount],
                )
                .await?;
            router.execute("COMMIT", &[]).await?;
            // Read-your-writes: a replica that has replayed the commit, or the primary.
            let mine = router
                .query(
                    "SELECT count(*) FROM shop.orders WHERE user_id = $1",
                    &[&user],
                )
                .await?;
            println!(
                "user {user}: {} orders, read on {} ({}: {})",
                mine.value[0].get::<_, i64>(0),
                mine.route.node,
                mine.route.rule,
                mine.route.reason
            );
            Ok(mine.value[0].get(0))
        })
        .await
}

/// What one run of the service did.
#[derive(Debug)]
pub struct Summary {
    /// Each user's order count, read right after the user's own order.
    pub orders_seen: Vec<i64>,
    /// The total spent, read on the primary.
    pub total_spent: i64,
    /// Statements each node served: (name, reads, writes).
    pub served: Vec<(String, u64, u64)>,
}

/// The whole service run: schema, three concurrent requests, one report.
pub async fn run(profile: &Profile) -> Result<Summary, Box<dyn std::error::Error>> {
    let router = Router::connect(profile).await?;
    let _monitor = router.start_monitor();

    // DDL always runs on the primary.
    router
        .simple_query(
            "CREATE SCHEMA IF NOT EXISTS shop; \
             CREATE TABLE IF NOT EXISTS shop.orders (id serial PRIMARY KEY, user_id int, amount int); \
             CREATE TABLE IF NOT EXISTS shop.totals (user_id int PRIMARY KEY, spent int NOT NULL DEFAULT 0); \
             INSERT INTO shop.totals SELECT g, 0 FROM generate_series(1, 3) g ON CONFLICT DO NOTHING",
        )
        .await?;

    let requests: Vec<_> = (1..=3)
        .map(|user| {
            let router = router.clone();
            tokio::spawn(async move { place_order(&router, user, 10 * user).await })
        })
        .collect();
    let mut orders_seen = Vec::new();
    for r in requests {
        orders_seen.push(r.await??);
    }

    // A report that must not lag: forced to the primary for this block only.
    let spent =
        force_primary(router.query("SELECT sum(spent)::bigint FROM shop.totals", &[])).await?;
    println!(
        "total spent {} (read on {}: {})",
        spent.value[0].get::<_, i64>(0),
        spent.route.node,
        spent.route.rule
    );
    let served = router
        .stats()
        .nodes
        .into_iter()
        .map(|n| {
            println!(
                "{:<10} reads {:>3}  writes {:>3}  in rotation {}",
                n.name, n.reads, n.writes, n.in_rotation
            );
            (n.name, n.reads, n.writes)
        })
        .collect();
    Ok(Summary {
        orders_seen,
        total_spent: spent.value[0].get(0),
        served,
    })
}

#[tokio::main]
#[allow(dead_code)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: embed PROFILE.toml (for example /tmp/skein-sandbox/profile.toml)")?;
    run(&Profile::load(&path)?).await?;
    Ok(())
}
