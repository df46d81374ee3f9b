//! `skein`: the command line of the Skein console — start a local sandbox stack, watch
//! replica lag, list DuckLake snapshots, define and refresh caches.

mod output;
mod sandbox_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "skein", version, about = "Console for PostgreSQL read replicas and a DuckLake lakehouse")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A local primary + streaming replicas + DuckLake lake with TPC-H demo data.
    #[command(subcommand)]
    Sandbox(sandbox_cmd::SandboxCommand),
}

/// Where a command finds its profile: `--profile`, else `SKEIN_PROFILE`, else the sandbox's.
#[derive(clap::Args, Clone)]
pub struct ProfileArg {
    /// Profile file (TOML); defaults to $SKEIN_PROFILE, then the sandbox's profile.
    #[arg(long, env = "SKEIN_PROFILE")]
    pub profile: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sandbox(cmd) => sandbox_cmd::run(cmd).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("skein: {e:#}");
            ExitCode::FAILURE
        }
    }
}
