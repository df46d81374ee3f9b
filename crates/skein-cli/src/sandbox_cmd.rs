//! `skein sandbox up | down | status | workload`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use skein_sandbox::{Sandbox, SandboxOptions};

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
        /// TPC-H scale factor of the demo data.
        #[arg(long, default_value_t = 0.01)]
        scale: f64,
        /// Skip defining and refreshing the demo caches.
        #[arg(long)]
        no_caches: bool,
        /// When a sandbox already runs in the directory, print its profile instead of failing.
        #[arg(long)]
        reuse: bool,
        /// Print `{ "profile", "nodes": [{ "name", "role", "port", "pid" }] }`.
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
}

pub async fn run(cmd: SandboxCommand) -> anyhow::Result<()> {
    match cmd {
        SandboxCommand::Up {
            dir,
            replicas,
            scale,
            no_caches,
            reuse,
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
            let sandbox = Sandbox::up(SandboxOptions {
                dir,
                replicas,
                scale,
            })
            .await?;
            if !no_caches {
                crate::cache_cmd::define_demo_caches(&sandbox.profile)
                    .await
                    .context("defining the demo caches")?;
            }
            if json {
                output::json(
                    &serde_json::json!({ "profile": sandbox.profile, "nodes": sandbox.nodes }),
                )?;
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
                    .map(|(n, r)| serde_json::json!({ "name": n.name, "role": n.role, "port": n.port, "pid": n.pid, "running": r }))
                    .collect();
                return output::json(
                    &serde_json::json!({ "profile": sandbox.profile, "nodes": nodes }),
                );
            }
            output::line(&format!("profile: {}", sandbox.profile.display()));
            let rows: Vec<Vec<String>> = sandbox
                .nodes
                .iter()
                .zip(&running)
                .map(|(n, r)| {
                    vec![
                        n.name.clone(),
                        format!("{:?}", n.role).to_lowercase(),
                        n.port.to_string(),
                        n.pid.to_string(),
                        if *r { "running" } else { "stopped" }.into(),
                    ]
                })
                .collect();
            output::table(&["NAME", "ROLE", "PORT", "PID", "PROCESS"], &rows);
            Ok(())
        }
        SandboxCommand::Workload { dir, rate, seconds } => {
            let sandbox = Sandbox::open(&dir)?;
            let client = skein_sandbox::demo::connect_primary(&sandbox).await?;
            let report = skein_sandbox::demo::workload(&client, rate, seconds).await?;
            output::json(&report)
        }
    }
}

fn sandbox_alive(pid: u32) -> bool {
    skein_sandbox::process_alive(pid)
}
