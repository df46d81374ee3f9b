//! One PostgreSQL cluster on disk: `initdb`, `pg_basebackup -R`, start with `pg_ctl`, stop by
//! pid. Servers run as the `postgres` user when the caller is root (initdb refuses root).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::{Gid, Pid, Uid, User};

use crate::error::{Error, Result};

/// Who servers run as: `None` = the caller; `Some` = the unprivileged `postgres` user.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunAs(pub Option<(Uid, Gid)>);

impl RunAs {
    /// The `postgres` user when running as root, else the caller.
    pub(crate) fn detect() -> Result<RunAs> {
        if !Uid::effective().is_root() {
            return Ok(RunAs(None));
        }
        let user = User::from_name("postgres")
            .ok()
            .flatten()
            .ok_or_else(|| Error::InvalidInput(
                "running as root needs the unprivileged 'postgres' user (apt-get install postgresql creates it)".into(),
            ))?;
        Ok(RunAs(Some((user.uid, user.gid))))
    }

    /// Hands a path to the server user.
    pub(crate) fn own(&self, path: &Path) -> Result<()> {
        if let Some((uid, gid)) = self.0 {
            nix::unistd::chown(path, Some(uid), Some(gid)).map_err(|e| Error::Io {
                context: format!("chown {}", path.display()),
                error: e.into(),
            })?;
        }
        Ok(())
    }

    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        if let Some((uid, gid)) = self.0 {
            cmd.uid(uid.as_raw()).gid(gid.as_raw());
            cmd.env("HOME", "/tmp");
        }
        cmd.current_dir("/");
        cmd
    }
}

/// The directory holding `initdb`, `pg_ctl`, `pg_basebackup`: `SKEIN_PG_BIN`, else the newest
/// `/usr/lib/postgresql/*/bin`, else the directory of `initdb` on `PATH`.
pub fn pg_bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SKEIN_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).find(|d| d.join("initdb").exists()))
        .ok_or_else(|| Error::MissingBinary("initdb".into()))
}

/// Runs a PostgreSQL program as the server user; its output goes to the error on failure.
pub(crate) fn run(
    run_as: RunAs,
    bin: &Path,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<()> {
    let path = bin.join(program);
    if !path.exists() {
        return Err(Error::MissingBinary(path.display().to_string()));
    }
    let mut cmd = run_as.command(&path);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .map_err(Error::io(format!("starting {program}")))?;
    if out.status.success() {
        return Ok(());
    }
    let mut detail = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if detail.is_empty() {
        detail = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    }
    Err(Error::Command {
        command: format!("{program} {}", args.join(" ")),
        detail: format!("{}: {detail}", out.status),
    })
}

/// Starts a server with `pg_ctl -w` and returns the postmaster's pid.
pub(crate) fn start(run_as: RunAs, bin: &Path, data: &Path, log: &Path) -> Result<u32> {
    let data_s = data.display().to_string();
    let log_s = log.display().to_string();
    if let Err(e) = run(
        run_as,
        bin,
        "pg_ctl",
        &["-D", &data_s, "-l", &log_s, "-w", "-t", "120", "start"],
        &[],
    ) {
        let tail = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(5).collect();
        return Err(Error::Command {
            command: format!("pg_ctl start {data_s}"),
            detail: format!(
                "{e}; log: {}",
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ),
        });
    }
    postmaster_pid(data).ok_or_else(|| Error::Command {
        command: format!("pg_ctl start {data_s}"),
        detail: "no postmaster.pid after start".into(),
    })
}

/// The pid in `DATA/postmaster.pid`, if the file exists.
pub(crate) fn postmaster_pid(data: &Path) -> Option<u32> {
    std::fs::read_to_string(data.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// `true` while a process with this pid exists and has not exited. A postmaster outlives
/// `pg_ctl`, so init reaps it; until then (seconds, under some inits) it is a zombie that
/// `kill(pid, 0)` still finds, but it holds no data directory or port any more.
pub fn alive(pid: u32) -> bool {
    i32::try_from(pid).is_ok_and(|p| kill(Pid::from_raw(p), None).is_ok()) && !zombie(pid)
}

/// `true` when `/proc` says the process has exited but was not reaped yet (state `Z`).
fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Stops a postmaster by pid: fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL.
pub(crate) fn stop(pid: u32) {
    let Ok(raw) = i32::try_from(pid) else { return };
    let p = Pid::from_raw(raw);
    for (signal, wait) in [
        (Signal::SIGINT, 30),
        (Signal::SIGQUIT, 10),
        (Signal::SIGKILL, 10),
    ] {
        if kill(p, signal).is_err() {
            return;
        }
        let until = Instant::now() + Duration::from_secs(wait);
        while Instant::now() < until {
            if !alive(pid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
