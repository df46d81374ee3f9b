//! The log of a Skein program (the `skein` command, `skein serve`, the desktop app): one
//! `tracing` subscriber per process, installed by [`init`] before anything else runs.
//!
//! - **Where**: `<state>/logs/<program>.<YYYY-MM-DD>.log` (`<state>` as for the lag history:
//!   `$SKEIN_STATE_DIR`, else `$XDG_STATE_HOME/skein`, else `~/.local/state/skein`; see
//!   [`crate::state_dir`]), a new file each day (UTC), the newest [`FILES_KEPT`] kept; the
//!   directory is created `0700`. One line per event: time (RFC 3339, UTC), level, target,
//!   message and fields.
//! - **How much**: `SKEIN_LOG`, else `RUST_LOG` (the `tracing-subscriber` `EnvFilter` syntax:
//!   `debug`, `skein_console=trace,warn`), else [`default_filter`]: `info` for Skein's crates,
//!   `warn` for every other crate. `log` records of the libraries (tokio-postgres, rustls,
//!   keyring) go through the same filter.
//! - **Standard error**: only when the front end asks (`skein -v`); never standard output, so
//!   `--json` answers stay clean.
//!
//! What is logged never holds a secret: nodes are named, with `host:port` at most
//! ([`skein_core::conninfo::address`]), never a connection string; the error texts logged are
//! the ones shown to people, which carry no password (passwords are scrubbed from driver
//! messages where they could appear).

use std::path::{Path, PathBuf};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Daily log files kept per program (the oldest are deleted when a new one starts).
pub const FILES_KEPT: usize = 14;

/// The crates whose events are kept at `info` by default (the rest at `warn`). `skein` is the
/// command line's binary, `skein_desktop` the desktop app's.
pub const SKEIN_TARGETS: &[&str] = &[
    "skein",
    "skein_desktop",
    "skein_cli",
    "skein_core",
    "skein_pg",
    "skein_lake",
    "skein_router",
    "skein_console",
    "skein_sandbox",
];

/// The filter used when neither `SKEIN_LOG` nor `RUST_LOG` is set:
/// `warn,skein=info,skein_core=info,…`.
pub fn default_filter() -> String {
    let mut f = String::from("warn");
    for t in SKEIN_TARGETS {
        f.push_str(&format!(",{t}=info"));
    }
    f
}

/// The directory the logs go to: `<state>/logs`; `None` without a state directory.
pub fn log_dir() -> Option<PathBuf> {
    crate::state_dir().map(|d| d.join("logs"))
}

/// What [`init`] set up.
#[derive(Debug, Clone, Default)]
pub struct Logging {
    /// The directory of the log files, when the file log works.
    pub dir: Option<PathBuf>,
    /// The file events go to today (`<dir>/<program>.<YYYY-MM-DD>.log`).
    pub file: Option<PathBuf>,
    /// The filter in force (`SKEIN_LOG`, `RUST_LOG` or [`default_filter`]).
    pub filter: String,
    /// What did not work, one sentence each (an unusable filter, a log directory that cannot
    /// be created, a subscriber already installed). The front end decides whether to show
    /// them; logging never stops a program.
    pub problems: Vec<String>,
}

/// The filter from `SKEIN_LOG`, else `RUST_LOG`, else [`default_filter`]; an unusable value
/// falls back to the default with a problem that names the variable and what is wrong.
pub fn filter_from_env() -> (EnvFilter, String, Option<String>) {
    let chosen = ["SKEIN_LOG", "RUST_LOG"].into_iter().find_map(|var| {
        std::env::var(var)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| (var, v))
    });
    if let Some((var, value)) = chosen {
        match EnvFilter::builder().parse(&value) {
            Ok(f) => return (f, value, None),
            Err(e) => {
                let problem = format!(
                    "{var}={value} is not a log filter ({e}); using {} (write levels like `debug` or `skein_console=trace,warn`)",
                    default_filter()
                );
                let d = default_filter();
                return (EnvFilter::new(&d), d, Some(problem));
            }
        }
    }
    let d = default_filter();
    (EnvFilter::new(&d), d, None)
}

/// A daily-rotating appender of `program`'s log in `dir`, keeping [`FILES_KEPT`] files;
/// creates `dir` (mode 0700) when missing. Errors: the directory or the file cannot be
/// created (the message names the path).
pub fn file_appender(dir: &Path, program: &str) -> Result<RollingFileAppender, String> {
    if !dir.exists() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create the log directory {}: {e}", dir.display()))?;
    }
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(program)
        .filename_suffix("log")
        .max_log_files(FILES_KEPT)
        .build(dir)
        .map_err(|e| format!("cannot open a log file in {}: {e}", dir.display()))
}

/// Today's file name of `program`'s log (UTC date, as the appender names it).
fn todays_file(dir: &Path, program: &str) -> PathBuf {
    dir.join(format!(
        "{program}.{}.log",
        chrono::Utc::now().format("%Y-%m-%d")
    ))
}

/// Installs the process's subscriber (see the module header): the log file of `program`
/// (`skein-cli`, `skein-desktop`), and standard error too when `stderr` is true. Call once,
/// first thing in `main`. Also logs panics (at `error`, with where they happened) before the
/// default panic message is printed.
pub fn init(program: &str, stderr: bool) -> Logging {
    let (filter, filter_text, problem) = filter_from_env();
    let mut logging = Logging {
        filter: filter_text,
        ..Default::default()
    };
    logging.problems.extend(problem);
    let file = match log_dir() {
        Some(dir) => match file_appender(&dir, program) {
            Ok(appender) => {
                logging.file = Some(todays_file(&dir, program));
                logging.dir = Some(dir);
                Some(appender)
            }
            Err(e) => {
                logging.problems.push(e);
                None
            }
        },
        None => {
            logging.problems.push(
                "no log file: neither SKEIN_STATE_DIR, XDG_STATE_HOME nor HOME is set".into(),
            );
            None
        }
    };
    let file_layer = file.map(|appender| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(appender)
    });
    let stderr_layer = stderr.then(|| {
        use std::io::IsTerminal;
        tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
    });
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    if let Err(e) = installed {
        logging
            .problems
            .push(format!("logging was set up already in this process ({e})"));
        return logging;
    }
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(at = %place, "panic: {what}");
        default_hook(info);
    }));
    tracing::debug!(
        program,
        filter = %logging.filter,
        version = env!("CARGO_PKG_VERSION"),
        "logging started"
    );
    logging
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_keeps_skein_at_info_and_the_rest_at_warn() {
        let f = default_filter();
        assert!(f.starts_with("warn,"), "{f}");
        for t in SKEIN_TARGETS {
            assert!(f.contains(&format!(",{t}=info")), "{t} missing in {f}");
        }
        EnvFilter::builder().parse(&f).expect("the default parses");
    }

    #[test]
    fn the_appender_keeps_a_bounded_number_of_files_per_program() {
        let dir = tempfile::tempdir().expect("temp dir");
        let logs = dir.path().join("state/logs");
        std::fs::create_dir_all(&logs).expect("dir");
        for day in 1..=20 {
            let name = format!("skein-cli.2020-01-{day:02}.log");
            std::fs::write(logs.join(name), "old\n").expect("old file");
        }
        std::fs::write(logs.join("skein-desktop.2020-01-01.log"), "other\n").expect("other");
        let appender = file_appender(&logs, "skein-cli").expect("appender");
        drop(appender);
        let names: Vec<String> = std::fs::read_dir(&logs)
            .expect("read dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let cli = names.iter().filter(|n| n.starts_with("skein-cli.")).count();
        assert_eq!(cli, FILES_KEPT, "{names:?}");
        assert!(
            names.contains(&"skein-desktop.2020-01-01.log".to_owned()),
            "another program's log is not this one's to prune: {names:?}"
        );
        assert!(
            todays_file(&logs, "skein-cli").exists(),
            "today's file is created: {names:?}"
        );
    }

    #[test]
    fn a_missing_directory_is_created_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let logs = dir.path().join("a/b/logs");
        file_appender(&logs, "skein-cli").expect("appender");
        let mode = std::fs::metadata(&logs).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    }
}
