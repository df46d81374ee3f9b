//! `skein sandbox up | down | status | workload | history`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use skein_sandbox::{Cascade, ProfileRole, Sandbox, SandboxOptions, SandboxSecurity};

use crate::output;

#[derive(Subcommand)]
pub enum SandboxCommand {
    /// Start a primary, N streaming replicas and a DuckLake lake with demo data and caches.
    Up {
        /// The sandbox directory.
        #[arg(long, default_value_os_t = SandboxOptions::default_dir())]
        dir: PathBuf,
        /// Number of streaming replicas.
        #[arg(long, default_value_t = 2)]
        replicas: usize,
        /// TPC-H scale factor of the demo data: 0 (none) or 0.01 (about 87k rows) to 10.
        #[arg(long, default_value_t = 0.01)]
        scale: f64,
        /// A cascading replica, REPLICA=UPSTREAM: REPLICA streams from UPSTREAM, a replica
        /// with a lower number, instead of the primary (its base backup and its slot are
        /// taken on UPSTREAM). Repeat it for more; `--cascade` alone means
        /// `replica2=replica1`.
        #[arg(long, value_name = "REPLICA=UPSTREAM", num_args = 0..=1,
              default_missing_value = "replica2=replica1", action = clap::ArgAction::Append)]
        cascade: Vec<String>,
        /// Skip defining and refreshing the demo caches.
        #[arg(long)]
        no_caches: bool,
        /// The lake's data in a three-node Garage cluster (S3-compatible, replication factor
        /// 3) on loopback ports, `data_path = "s3://lake/data/"`, instead of a local directory.
        #[arg(long)]
        object_store: bool,
        /// When a sandbox already runs in the directory, print its profile instead of failing.
        #[arg(long)]
        reuse: bool,
        /// TLS only: a private CA and certificates under DIR/tls, `ssl = on` and `hostssl`-only
        /// pg_hba.conf on every node, replicas streaming over TLS, and `sslmode=verify-full
        /// sslrootcert=DIR/tls/ca.crt` in every URL of the profile.
        #[arg(long)]
        tls: bool,
        /// With --tls: client-certificate authentication (`cert`, CN = role) instead of
        /// passwords; the profile's URLs add `sslcert` and `sslkey`.
        #[arg(long, requires = "tls")]
        client_cert: bool,
        /// The role the profile connects as: `superuser` (postgres) or `monitor`
        /// (skein_monitor: pg_monitor, reads of the demo tables, the lake's catalog).
        #[arg(long, default_value = "superuser", value_parser = ["superuser", "monitor"])]
        role: String,
        /// Print `{ "profile", "nodes": [{ "name", "role", "port", "pid", "upstream" }], "tls", "ca_file",
        /// "client_cert", "profile_role" }`.
        #[arg(long)]
        json: bool,
    },
    /// Stop exactly the servers `up` started and remove the directory.
    Down {
        /// The sandbox directory.
        #[arg(long, default_value_os_t = SandboxOptions::default_dir())]
        dir: PathBuf,
    },
    /// Show the sandbox's servers and whether each is running.
    Status {
        /// The sandbox directory.
        #[arg(long, default_value_os_t = SandboxOptions::default_dir())]
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write new orders with line items to the primary, so lag and staleness move.
    Workload {
        /// The sandbox directory.
        #[arg(long, default_value_os_t = SandboxOptions::default_dir())]
        dir: PathBuf,
        /// Orders per second.
        #[arg(long, default_value_t = 50)]
        rate: u32,
        /// How long to run, in seconds.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// Give the sandbox's lake a long history: COMMITS small commits by another writer
    /// (author `sandbox`), each inserting one row into one of TABLES tables
    /// (`history_1`…), so the timeline and the snapshot list have thousands of snapshots.
    History {
        /// The sandbox directory.
        #[arg(long, default_value_os_t = SandboxOptions::default_dir())]
        dir: PathBuf,
        /// Commits to make (1–100,000).
        #[arg(long, default_value_t = 1000)]
        commits: u32,
        /// Tables the rows go into, in turn (1–50).
        #[arg(long, default_value_t = 5)]
        tables: u32,
    },
}

pub async fn run(cmd: SandboxCommand) -> anyhow::Result<()> {
    match cmd {
        SandboxCommand::Up {
            dir,
            replicas,
            scale,
            cascade,
            no_caches,
            reuse,
            object_store,
            tls,
            client_cert,
            role,
            json,
        } => {
            if reuse {
                if let Ok(existing) = Sandbox::open(&dir) {
                    if existing.nodes.iter().all(|n| sandbox_alive(n.pid)) {
                        eprintln!("sandbox already running in {}", dir.display());
                        output::line(&existing.profile.display().to_string());
                        return Ok(());
                    }
                }
            }
            let sandbox = Sandbox::up_with(
                SandboxOptions {
                    dir,
                    replicas,
                    scale,
                    cascade: cascade
                        .iter()
                        .map(|c| c.parse::<Cascade>())
                        .collect::<Result<_, _>>()?,
                    object_store,
                },
                SandboxSecurity {
                    tls,
                    client_cert,
                    profile_role: role.parse::<ProfileRole>()?,
                },
            )
            .await?;
            if !no_caches {
                crate::cache_cmd::define_demo_caches(&sandbox.profile)
                    .await
                    .context("defining the demo caches")?;
            }
            if json {
                output::json(&describe(&sandbox, serde_json::json!(sandbox.nodes)))?;
            } else {
                eprintln!(
                    "sandbox up in {:.1} s: {} nodes, {} demo rows loaded",
                    sandbox.up_ms as f64 / 1000.0,
                    sandbox.nodes.len(),
                    sandbox.rows_loaded
                );
                output::line(&sandbox.profile.display().to_string());
            }
            Ok(())
        }
        SandboxCommand::Down { dir } => {
            Sandbox::down(&dir)?;
            eprintln!("sandbox in {} stopped and removed", dir.display());
            Ok(())
        }
        SandboxCommand::Status { dir, json } => {
            let sandbox = Sandbox::open(&dir)?;
            let running: Vec<bool> = sandbox.nodes.iter().map(|n| sandbox_alive(n.pid)).collect();
            if json {
                let nodes: Vec<_> = sandbox
                    .nodes
                    .iter()
                    .zip(&running)
                    .map(|(n, r)| serde_json::json!({ "name": n.name, "role": n.role, "port": n.port, "pid": n.pid, "upstream": sandbox.upstream_of(&n.name), "running": r }))
                    .collect();
                return output::json(&describe(&sandbox, serde_json::json!(nodes)));
            }
            output::line(&format!("profile: {}", sandbox.profile.display()));
            output::line(&format!(
                "tls: {}; profile role: {}",
                match (&sandbox.ca_file, sandbox.client_cert) {
                    (Some(ca), true) => format!("on, client certificates (CA {})", ca.display()),
                    (Some(ca), false) => format!("on (CA {})", ca.display()),
                    (None, _) => "off".into(),
                },
                sandbox.profile_role.user()
            ));
            let mut rows: Vec<Vec<String>> = sandbox
                .nodes
                .iter()
                .zip(&running)
                .map(|(n, r)| {
                    vec![
                        n.name.clone(),
                        format!("{:?}", n.role).to_lowercase(),
                        n.port.to_string(),
                        n.pid.to_string(),
                        sandbox.upstream_of(&n.name).unwrap_or("—").into(),
                        if *r { "running" } else { "stopped" }.into(),
                    ]
                })
                .collect();
            // The object store's servers: role `store`, their S3 API port.
            if let Some(g) = &sandbox.garage {
                output::line(&format!(
                    "object store: Garage, {} nodes, bucket {} at {}",
                    g.nodes.len(),
                    g.bucket,
                    g.endpoint()
                ));
                rows.extend(g.nodes.iter().map(|n| {
                    vec![
                        n.name.clone(),
                        "store".into(),
                        n.s3_port.to_string(),
                        n.pid.to_string(),
                        "—".into(),
                        if sandbox_alive(n.pid) {
                            "running"
                        } else {
                            "stopped"
                        }
                        .into(),
                    ]
                }));
            }
            output::table(
                &["NAME", "ROLE", "PORT", "PID", "UPSTREAM", "PROCESS"],
                &rows,
            );
            Ok(())
        }
        SandboxCommand::Workload { dir, rate, seconds } => {
            let sandbox = Sandbox::open(&dir)?;
            let client = skein_sandbox::demo::connect_primary(&sandbox).await?;
            let report = skein_sandbox::demo::workload(&client, rate, seconds).await?;
            output::json(&report)
        }
        SandboxCommand::History {
            dir,
            commits,
            tables,
        } => output::json(&history(&dir, commits, tables).await?),
    }
}

/// The `--json` shape of `up` and `status`.
fn describe(sandbox: &Sandbox, nodes: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "profile": sandbox.profile,
        "nodes": nodes,
        "tls": sandbox.tls,
        "ca_file": sandbox.ca_file,
        "client_cert": sandbox.client_cert,
        "profile_role": sandbox.profile_role,
        "store": sandbox.garage.as_ref().map(|g| serde_json::json!({
            "endpoint": g.endpoint(),
            "bucket": g.bucket,
            "nodes": g.nodes.iter().map(|n| serde_json::json!({
                "name": n.name,
                "pid": n.pid,
                "s3_port": n.s3_port,
                "rpc_port": n.rpc_port,
                "admin_port": n.admin_port,
                "running": sandbox_alive(n.pid),
            })).collect::<Vec<_>>(),
        })),
    })
}

fn sandbox_alive(pid: u32) -> bool {
    skein_sandbox::process_alive(pid)
}

/// `sandbox history`: `{ "commits", "tables", "first_snapshot", "last_snapshot", "seconds" }`.
async fn history(
    dir: &std::path::Path,
    commits: u32,
    tables: u32,
) -> anyhow::Result<serde_json::Value> {
    if !(1..=100_000).contains(&commits) {
        anyhow::bail!("--commits must be 1 to 100000, not {commits}");
    }
    if !(1..=50).contains(&tables) {
        anyhow::bail!("--tables must be 1 to 50, not {tables}");
    }
    let sandbox = Sandbox::open(dir)?;
    let profile = skein_core::Profile::load(&sandbox.profile)?;
    let lake = skein_lake::Lake::open(&profile).await?;
    let started = std::time::Instant::now();
    let existing: Vec<String> = lake.tables().await?.into_iter().map(|t| t.name).collect();
    for t in 1..=tables {
        let name = format!("history_{t}");
        if !existing.iter().any(|e| e == &format!("main.{name}")) {
            lake.commit_statements(
                "sandbox",
                &format!("create {name}"),
                vec![format!(
                    "CREATE TABLE {{lake}}.main.{name} (n BIGINT, written_at TIMESTAMPTZ)"
                )],
            )
            .await?;
        }
    }
    let (mut first, mut last) = (None, 0);
    for i in 0..commits {
        let t = i % tables + 1;
        last = lake
            .commit_statements(
                "sandbox",
                &format!("event {i} into history_{t}"),
                vec![format!(
                    "INSERT INTO {{lake}}.main.history_{t} VALUES ({i}, now())"
                )],
            )
            .await?;
        first.get_or_insert(last);
    }
    Ok(serde_json::json!({
        "commits": commits,
        "tables": tables,
        "first_snapshot": first,
        "last_snapshot": last,
        "seconds": started.elapsed().as_secs_f64(),
    }))
}
