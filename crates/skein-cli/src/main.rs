//! `skein`: the command line of the Skein console — start a local sandbox stack, watch
//! replica lag, list DuckLake snapshots, define and refresh caches.

mod cache_cmd;
mod doctor_cmd;
mod failure;
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

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use skein_core::ErrorCode;

use crate::failure::fail;

#[derive(Parser)]
#[command(
    name = "skein",
    version,
    about = "Console for PostgreSQL read replicas and a DuckLake lakehouse",
    after_help = "Logs: STATE/logs/skein-cli.YYYY-MM-DD.log, STATE being $SKEIN_STATE_DIR, else $XDG_STATE_HOME/skein, else ~/.local/state/skein; SKEIN_LOG (else RUST_LOG) sets the level, -v prints the log to standard error too.\nA failing command exits with a status per error code (2 InvalidInput, 3 NotFound, 4 ConnectionRefused, 5 AuthFailed, …: see the README); with --json its error is one JSON line {\"code\", \"message\"} on standard error."
)]
struct Cli {
    /// Print the log to standard error too (it always goes to the log file); never to
    /// standard output, so --json answers stay clean. Level: SKEIN_LOG, else RUST_LOG.
    #[arg(short, long, global = true)]
    verbose: bool,
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
                    return Err(fail(
                        ErrorCode::InvalidInput,
                        "no profile given: pass --profile FILE, set SKEIN_PROFILE, or start the sandbox with `skein sandbox up`",
                    ));
                }
                p
            }
        };
        Ok(skein_core::Profile::load(&path)?)
    }
}

impl Command {
    /// Whether the command was asked for JSON (`--json`): its error is then JSON too.
    fn json(&self) -> bool {
        use cache_cmd::CacheCommand as C;
        use lake_cmd::LakeCommand as L;
        use sandbox_cmd::SandboxCommand as S;
        use snapshot_cmd::SnapshotCommand as N;
        match self {
            Command::Sandbox(S::Up { json, .. } | S::Status { json, .. }) => *json,
            Command::Sandbox(S::Down { .. } | S::Workload { .. } | S::History { .. }) => false,
            Command::Cache { command, .. } => match command {
                C::Create { json, .. }
                | C::List { json }
                | C::Refresh { json, .. }
                | C::Snapshot { json, .. } => *json,
            },
            Command::Snapshot { command, .. } => match command {
                N::List { json, .. }
                | N::Show { json, .. }
                | N::Diff { json, .. }
                | N::Restore { json, .. }
                | N::Bookmarks { json } => *json,
                N::Bookmark { .. } | N::Unbookmark { .. } => false,
            },
            Command::Lake { command, .. } => match command {
                L::Summary { json }
                | L::Expire { json, .. }
                | L::Compact { json, .. }
                | L::Cleanup { json, .. } => *json,
            },
            Command::Route {
                command:
                    route_cmd::RouteCommand::Explain { json, .. }
                    | route_cmd::RouteCommand::Check { json, .. },
                ..
            } => *json,
            Command::Doctor { json, .. } | Command::Status { json, .. } => *json,
            Command::Report { .. } | Command::Secret { .. } | Command::Serve { .. } => false,
        }
    }
}

/// `cache refresh`, `route explain`: the subcommand words of the command line, for the log
/// (never its arguments, which may hold SQL).
fn command_words(matches: &clap::ArgMatches) -> String {
    let mut words = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        words.push(name.to_owned());
        m = sub;
    }
    words.join(" ")
}

#[tokio::main]
async fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return failure::usage(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return failure::usage(e),
    };
    let words = command_words(&matches);
    let logging = skein_console::logging::init("skein-cli", cli.verbose);
    if cli.verbose {
        for p in &logging.problems {
            eprintln!("skein: log: {p}");
        }
    }
    let json = cli.command.json();
    // The lake commits of this process name it (`cli@<host>`); `skein serve` is a console and
    // names itself when its application starts.
    if !matches!(cli.command, Command::Serve { .. }) {
        skein_lake::identity::set_writer("cli", None);
    }
    tracing::debug!(command = %words, json, "command started");
    let result = run(cli.command).await;
    skein_core::tunnel::shutdown_all();
    match result {
        Ok(()) => {
            tracing::debug!(command = %words, "command done");
            ExitCode::SUCCESS
        }
        Err(e) => failure::report(&e, json, &words),
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Sandbox(cmd) => sandbox_cmd::run(cmd).await,
        Command::Cache { profile, command } => cache_cmd::run(&profile.load()?, command).await,
        Command::Snapshot { profile, command } => {
            snapshot_cmd::run(&profile.load()?, command).await
        }
        Command::Route { profile, command } => {
            // A profile that is named (or the sandbox's) must load: a broken one is an error,
            // not a reason to explain without it. Without any, the statement alone is classified.
            let p = match profile.path() {
                Some(path) => Some(skein_core::Profile::load(path)?),
                None => None,
            };
            route_cmd::run(p.as_ref(), command).await
        }
        Command::Report { profile, args } => report_cmd::run(&profile.load()?, args).await,
        Command::Lake { profile, command } => lake_cmd::run(&profile.load()?, command).await,
        Command::Secret { profile, command } => secret_cmd::run(&profile.load()?, command),
        Command::Serve { profile, args } => serve_cmd::run(profile.path(), args).await,
        Command::Doctor { profile, json } => doctor_cmd::run(&profile.load()?, json).await,
        Command::Status {
            profile,
            json,
            watch,
        } => status_cmd::run(&profile.load()?, json, watch).await,
    }
}
