//! Shared set-up of the router's sandbox tests: a direct connection per node, a table to
//! route over, and waiting for replicas to replay.

#![allow(dead_code)]

use std::time::Duration;

use skein_core::Profile;
use skein_sandbox::ScratchSandbox;
use tokio_postgres::Client;

/// A direct (unrouted) connection to one node of the sandbox.
pub async fn connect(sandbox: &ScratchSandbox, node: &str) -> Client {
    let password = sandbox.password().expect("password");
    let info = format!("{} password={password}", sandbox.conninfo(node, "tpch"));
    let (client, conn) = tokio_postgres::connect(&info, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
}

/// The sandbox's profile, with `router` as its `[router]` table.
pub fn profile(sandbox: &ScratchSandbox, router: &str) -> Profile {
    let mut p = Profile::load(&sandbox.profile).expect("profile");
    p.router = toml::from_str(router).expect("router toml");
    p
}

/// `app.t (id int primary key, v int)` with rows 1..=100 (v = id), created on the primary.
pub async fn create_table(primary: &Client) {
    primary
        .batch_execute(
            "CREATE SCHEMA app;
             CREATE TABLE app.t (id int PRIMARY KEY, v int NOT NULL);
             INSERT INTO app.t SELECT g, g FROM generate_series(1, 100) g;
             CREATE SEQUENCE app.s;",
        )
        .await
        .expect("schema on the primary");
}

/// Waits until every named replica has replayed the primary's current WAL position.
pub async fn caught_up(sandbox: &ScratchSandbox, replicas: &[&str]) {
    let primary = connect(sandbox, "primary").await;
    let lsn: String = primary
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .expect("lsn")
        .get(0);
    for name in replicas {
        let replica = connect(sandbox, name).await;
        let mut done = false;
        for _ in 0..200 {
            done = replica
                .query_one(
                    "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn",
                    &[&lsn],
                )
                .await
                .expect("replay lsn")
                .get(0);
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(done, "{name} did not replay {lsn} within 10 s");
    }
}
