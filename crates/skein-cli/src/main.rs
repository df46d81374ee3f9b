//! `skein`: the command line of the Skein console — start a local sandbox stack, watch
//! replica lag, list DuckLake snapshots, define and refresh caches.

mod cache_cmd;
mod doctor_cmd;
mod lake_cmd;
mod output;
mod report_cmd;
mod route_cmd;
mod sandbox_cmd;
mod secret_cmd;
mod serve_cmd;
mod snapshot_cmd;
mod status_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "skein",
    version,
    about = "Console for PostgreSQL read replicas and a DuckLake lakehouse"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A local primary + streaming replicas + DuckLake lake with TPC-H demo data.
    #[command(subcommand)]
    Sandbox(sandbox_cmd::SandboxCommand),
    /// Define, list and refresh caches (query results materialised in the lake).
    Cache {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(subcommand)]
        command: cache_cmd::CacheCommand,
    },
    /// The lake's snapshot history and time travel.
    Snapshot {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(subcommand)]
        command: snapshot_cmd::SnapshotCommand,
    },
    /// Lake maintenance: summary, expire snapshots, clean up files (with previews).
    Lake {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(subcommand)]
        command: lake_cmd::LakeCommand,
    },
    /// Read/write splitting: where a statement would go and why.
    Route {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(subcommand)]
        command: route_cmd::RouteCommand,
    },
    /// PNG and SVG charts (plotters) of replica lag and of cache refresh history.
    Report {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(flatten)]
        args: report_cmd::ReportArgs,
    },
    /// A node's password in the OS keyring: `skein secret set|get|delete NODE`.
    Secret {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(subcommand)]
        command: secret_cmd::SecretCommand,
    },
    /// Web mode: serve the console's UI and RPC over HTTP on loopback, with an access token.
    Serve {
        #[command(flatten)]
        profile: ProfileArg,
        #[command(flatten)]
        args: serve_cmd::ServeArgs,
    },
    /// Check every node and the lake step by step (DNS, TCP, TLS, login, privileges,
    /// replication, catalog, data path) and say what to fix; exits 1 when a check fails.
    Doctor {
        #[command(flatten)]
        profile: ProfileArg,
        /// Print the diagnoses as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every node: role, reachable, state, lag in bytes and replay lag in ms.
    Status {
        #[command(flatten)]
        profile: ProfileArg,
        /// Print one JSON object per sample.
        #[arg(long)]
        json: bool,
        /// Sample once a second until interrupted.
        #[arg(long)]
        watch: bool,
    },
}

/// Where a command finds its profile: `--profile`, else `SKEIN_PROFILE`, else the sandbox's.
#[derive(clap::Args, Clone)]
pub struct ProfileArg {
    /// Profile file (TOML); defaults to $SKEIN_PROFILE, then the sandbox's profile.
    #[arg(long, env = "SKEIN_PROFILE", global = true)]
    pub profile: Option<PathBuf>,
}

impl ProfileArg {
    /// The profile file named by `--profile` or `SKEIN_PROFILE`, else the sandbox's when it
    /// exists, else none.
    pub fn path(&self) -> Option<PathBuf> {
        self.profile.clone().or_else(|| {
            let p = skein_sandbox::SandboxOptions::default_dir().join("profile.toml");
            p.exists().then_some(p)
        })
    }

    /// Loads the profile named by `--profile`, `SKEIN_PROFILE`, or the default sandbox's.
    pub fn load(&self) -> anyhow::Result<skein_core::Profile> {
        let path = match &self.profile {
            Some(p) => p.clone(),
            None => {
                let p = skein_sandbox::SandboxOptions::default_dir().join("profile.toml");
                if !p.exists() {
                    anyhow::bail!(
                        "no profile given: pass --profile FILE, set SKEIN_PROFILE, or start the sandbox with `skein sandbox up`"
                    );
                }
                p
            }
        };
        Ok(skein_core::Profile::load(&path)?)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sandbox(cmd) => sandbox_cmd::run(cmd).await,
        Command::Cache { profile, command } => match profile.load() {
            Ok(p) => cache_cmd::run(&p, command).await,
            Err(e) => Err(e),
        },
        Command::Snapshot { profile, command } => match profile.load() {
            Ok(p) => snapshot_cmd::run(&p, command).await,
            Err(e) => Err(e),
        },
        Command::Route { profile, command } => {
            let p = profile
                .path()
                .and_then(|p| skein_core::Profile::load(p).ok());
            route_cmd::run(p.as_ref(), command).await
        }
        Command::Report { profile, args } => match profile.load() {
            Ok(p) => report_cmd::run(&p, args).await,
            Err(e) => Err(e),
        },
        Command::Lake { profile, command } => match profile.load() {
            Ok(p) => lake_cmd::run(&p, command).await,
            Err(e) => Err(e),
        },
        Command::Secret { profile, command } => {
            profile.load().and_then(|p| secret_cmd::run(&p, command))
        }
        Command::Serve { profile, args } => serve_cmd::run(profile.path(), args).await,
        Command::Doctor { profile, json } => match profile.load() {
            Ok(p) => doctor_cmd::run(&p, json).await,
            Err(e) => Err(e),
        },
        Command::Status {
            profile,
            json,
            watch,
        } => match profile.load() {
            Ok(p) => status_cmd::run(&p, json, watch).await,
            Err(e) => Err(e),
        },
    };
    skein_core::tunnel::shutdown_all();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("skein: {e:#}");
            ExitCode::FAILURE
        }
    }
}
