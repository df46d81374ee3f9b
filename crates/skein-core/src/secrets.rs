//! Where passwords come from, in the order libpq users expect plus the OS keyring first:
//!
//! 1. the OS keyring: service `skein`, account `USER@HOST:PORT` ([`keyring_account`]);
//! 2. the `PGPASSWORD` environment variable;
//! 3. a libpq password file: the profile's `passfile`, then `PGPASSFILE`, then `~/.pgpass`
//!    (format `hostname:port:database:username:password`, `*` matches anything, `\:` and
//!    `\\` escape; files readable by group or others are ignored, as libpq does).
//!
//! A password is never written to a profile, a log, an event or an error message.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The keyring service name Skein stores passwords under.
pub const KEYRING_SERVICE: &str = "skein";

/// Who a password is for: the four fields a `.pgpass` line matches on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or address as written in the connection string.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Database name.
    pub database: String,
    /// Role name.
    pub user: String,
}

/// The password-file fields of a connection, with libpq's defaults filled in (`PGHOST`,
/// `PGUSER`, `USER`, `PGDATABASE`; port 5432).
pub fn target_for(config: &tokio_postgres::Config) -> Target {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => std::env::var("PGHOST").unwrap_or_else(|_| "localhost".into()),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config
        .get_user()
        .map(str::to_owned)
        .or_else(|| std::env::var("PGUSER").ok())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "postgres".into());
    let database = config
        .get_dbname()
        .map(str::to_owned)
        .or_else(|| std::env::var("PGDATABASE").ok())
        .unwrap_or_else(|| user.clone());
    Target {
        host,
        port,
        database,
        user,
    }
}

/// The keyring account for a target: `USER@HOST:PORT`.
pub fn keyring_account(t: &Target) -> String {
    format!("{}@{}:{}", t.user, t.host, t.port)
}

/// Looks a password up (keyring, `PGPASSWORD`, password files). `None` when no source has
/// one; a keyring that cannot be reached counts as having none.
pub fn resolve_password(target: &Target, passfile: Option<&Path>) -> Option<String> {
    if let Ok(entry) = keyring::Entry::new(KEYRING_SERVICE, &keyring_account(target)) {
        if let Ok(pw) = entry.get_password() {
            return Some(pw);
        }
    }
    if let Ok(pw) = std::env::var("PGPASSWORD") {
        if !pw.is_empty() {
            return Some(pw);
        }
    }
    passfile_candidates(passfile)
        .into_iter()
        .find_map(|file| lookup_passfile(&file, target))
}

/// Stores a password in the OS keyring for `target`.
///
/// Errors: [`Error::Keyring`] when no keyring is available or it refuses the write.
pub fn store_password(target: &Target, password: &str) -> Result<()> {
    keyring::Entry::new(KEYRING_SERVICE, &keyring_account(target))
        .and_then(|e| e.set_password(password))
        .map_err(|e| Error::Keyring(format!("cannot store the password in the OS keyring ({e}); use PGPASSWORD or a libpq password file instead")))
}

fn passfile_candidates(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = explicit.map(Path::to_owned).into_iter().collect();
    if let Some(f) = std::env::var_os("PGPASSFILE") {
        files.push(PathBuf::from(f));
    } else if let Some(home) = std::env::var_os("HOME") {
        files.push(Path::new(&home).join(".pgpass"));
    }
    files
}

/// Finds the password for `target` in one libpq password file; `None` when the file is
/// missing, readable by group/others, or has no matching line.
pub fn lookup_passfile(file: &Path, target: &Target) -> Option<String> {
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let port = target.port.to_string();
    let wanted = [
        target.host.as_str(),
        port.as_str(),
        target.database.as_str(),
        target.user.as_str(),
    ];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .find_map(|line| {
            let fields = split_passfile_line(line);
            if fields.len() != 5 {
                return None;
            }
            let host_ok = fields[0] == "*"
                || fields[0] == wanted[0]
                || (fields[0] == "localhost" && matches!(wanted[0], "127.0.0.1" | "::1"));
            let rest_ok = (1..4).all(|i| fields[i] == "*" || fields[i] == wanted[i]);
            (host_ok && rest_ok).then(|| fields[4].clone())
        })
}

fn split_passfile_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(n), Some(f)) = (chars.next(), fields.last_mut()) {
                    f.push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c)
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            host: "127.0.0.1".into(),
            port: 5433,
            database: "app".into(),
            user: "skein".into(),
        }
    }

    fn write(dir: &Path, text: &str, mode: u32) -> PathBuf {
        let p = dir.join("pgpass");
        std::fs::write(&p, text).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        p
    }

    #[test]
    fn passfile_matching_follows_libpq() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = write(
            dir.path(),
            "# comment\n127.0.0.1:5432:app:skein:wrong-port\n*:5433:*:skein:pa\\:ss\\\\\n",
            0o600,
        );
        assert_eq!(lookup_passfile(&f, &target()).as_deref(), Some("pa:ss\\"));
        let f = write(dir.path(), "localhost:5433:app:skein:viahost\n", 0o600);
        assert_eq!(lookup_passfile(&f, &target()).as_deref(), Some("viahost"));
        let f = write(dir.path(), "*:*:*:other:nope\n", 0o600);
        assert_eq!(lookup_passfile(&f, &target()), None);
    }

    #[test]
    fn world_readable_passfile_is_ignored() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = write(dir.path(), "*:*:*:*:open\n", 0o644);
        assert_eq!(lookup_passfile(&f, &target()), None);
    }
}
