//! Where passwords come from, in the order libpq users expect plus the OS keyring first:
//!
//! 1. the OS keyring: service `skein`, account `USER@HOST:PORT` ([`keyring_account`]), in the
//!    store [`keyring_backend`] picks once per process — a Secret Service (GNOME Keyring,
//!    KeePassXC, KWallet) when one answers on the D-Bus session bus, else the kernel's keyutils
//!    session keyring (`SKEIN_KEYRING=secret-service|keyutils|none` forces one);
//! 2. the `PGPASSWORD` environment variable;
//! 3. a libpq password file: the profile's `passfile`, then `PGPASSFILE`, then `~/.pgpass`
//!    (format `hostname:port:database:username:password`, `*` matches anything, `\:` and
//!    `\\` escape; files readable by group or others are ignored, as libpq does).
//!
//! A password is never written to a profile, a log, an event or an error message.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use keyring::keyutils::KeyutilsCredential;
use keyring::secret_service::SsCredential;

use crate::error::{Error, Result};

/// The keyring service name Skein stores passwords under.
pub const KEYRING_SERVICE: &str = "skein";

/// The OS store that holds Skein's passwords on this machine, chosen once per process by
/// [`keyring_backend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, ts_rs::TS)]
pub enum KeyringBackend {
    /// A Secret Service (`org.freedesktop.secrets`: GNOME Keyring, KeePassXC, KWallet) on the
    /// D-Bus session bus named by `DBUS_SESSION_BUS_ADDRESS`: encrypted on disk, kept across
    /// reboots. Secrets cross the bus encrypted (Diffie-Hellman session).
    SecretService,
    /// The Linux kernel's keyutils session keyring: in memory only, shared by the processes of
    /// one login session, gone at logout or reboot.
    KernelKeyutils,
    /// Neither answers: passwords come from `PGPASSWORD` or a password file only.
    None,
}

impl KeyringBackend {
    /// A word for messages: `Secret Service`, `kernel keyring (keyutils)`, `no keyring`.
    pub fn word(self) -> &'static str {
        match self {
            KeyringBackend::SecretService => "Secret Service",
            KeyringBackend::KernelKeyutils => "kernel keyring (keyutils)",
            KeyringBackend::None => "no keyring",
        }
    }

    /// `true` when a stored secret survives a reboot.
    pub fn persistent(self) -> bool {
        self == KeyringBackend::SecretService
    }
}

impl std::fmt::Display for KeyringBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

/// What the first use of the keyring found: the store chosen and why the others were not.
#[derive(Debug, Clone)]
struct Probe {
    backend: KeyringBackend,
    /// Why the Secret Service was not used (the D-Bus error), when it was not.
    secret_service: Option<String>,
    /// Why the kernel keyring was not used, when it was not and was tried.
    keyutils: Option<String>,
}

/// An account no password is ever stored under: looking it up tells whether a store answers.
const PROBE_ACCOUNT: &str = "skein-keyring-probe";

/// Environment variable that forces a store: `secret-service`, `keyutils` or `none` (no
/// keyring lookups at all). Unset (or `auto`): the first that answers.
pub const KEYRING_ENV: &str = "SKEIN_KEYRING";

fn probe() -> &'static Probe {
    static PROBE: OnceLock<Probe> = OnceLock::new();
    PROBE.get_or_init(|| {
        let p = probe_now();
        tracing::debug!(
            store = %p.backend,
            secret_service = p.secret_service.as_deref().unwrap_or("answers"),
            keyutils = p.keyutils.as_deref().unwrap_or("-"),
            "OS keyring chosen"
        );
        p
    })
}

fn probe_now() -> Probe {
    let forced = std::env::var(KEYRING_ENV).unwrap_or_default();
    let off = |why: &str| Some(format!("not tried: {KEYRING_ENV}={forced}{why}"));
    match forced.trim() {
        "" | "auto" => {}
        "none" => {
            return Probe {
                backend: KeyringBackend::None,
                secret_service: off(""),
                keyutils: off(""),
            }
        }
        "keyutils" => {
            return match answers(KeyutilsCredential::new_with_target(
                None,
                KEYRING_SERVICE,
                PROBE_ACCOUNT,
            )) {
                Ok(()) => Probe {
                    backend: KeyringBackend::KernelKeyutils,
                    secret_service: off(""),
                    keyutils: None,
                },
                Err(e) => Probe {
                    backend: KeyringBackend::None,
                    secret_service: off(""),
                    keyutils: Some(e),
                },
            }
        }
        "secret-service" => {
            return match answers(SsCredential::new_with_target(
                None,
                KEYRING_SERVICE,
                PROBE_ACCOUNT,
            )) {
                Ok(()) => Probe {
                    backend: KeyringBackend::SecretService,
                    secret_service: None,
                    keyutils: None,
                },
                Err(e) => Probe {
                    backend: KeyringBackend::None,
                    secret_service: Some(e),
                    keyutils: off(""),
                },
            }
        }
        _ => {
            return Probe {
                backend: KeyringBackend::None,
                secret_service: off(": use secret-service, keyutils, none or auto"),
                keyutils: None,
            }
        }
    }
    let ss = answers(SsCredential::new_with_target(
        None,
        KEYRING_SERVICE,
        PROBE_ACCOUNT,
    ));
    let secret_service = match ss {
        Ok(()) => {
            return Probe {
                backend: KeyringBackend::SecretService,
                secret_service: None,
                keyutils: None,
            }
        }
        Err(e) => e,
    };
    let ku = answers(KeyutilsCredential::new_with_target(
        None,
        KEYRING_SERVICE,
        PROBE_ACCOUNT,
    ));
    match ku {
        Ok(()) => Probe {
            backend: KeyringBackend::KernelKeyutils,
            secret_service: Some(secret_service),
            keyutils: None,
        },
        Err(e) => Probe {
            backend: KeyringBackend::None,
            secret_service: Some(secret_service),
            keyutils: Some(e),
        },
    }
}

/// `Ok` when the store answered a lookup (a password, no entry, or a locked collection).
fn answers<C: keyring::credential::CredentialApi>(
    credential: keyring::Result<C>,
) -> std::result::Result<(), String> {
    match credential.and_then(|c| c.get_password()) {
        Ok(_) | Err(keyring::Error::NoEntry) | Err(keyring::Error::NoStorageAccess(_)) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// The store Skein uses in this process, decided at first use: the Secret Service when one
/// answers on the session bus, else the kernel keyring when the kernel allows it, else
/// [`KeyringBackend::None`]. [`KEYRING_ENV`] forces one.
pub fn keyring_backend() -> KeyringBackend {
    probe().backend
}

/// Why no keyring can be used and what to do instead; for [`KeyringBackend::None`].
pub fn no_keyring_help() -> String {
    const OTHER_WAYS: &str = "or give the password another way: PGPASSWORD, or a libpq password \
         file (the profile's passfile, PGPASSFILE or ~/.pgpass, mode 0600)";
    let p = probe();
    let forced = std::env::var(KEYRING_ENV).unwrap_or_default();
    if forced.trim() == "none" {
        return format!(
            "the OS keyring is turned off ({KEYRING_ENV}=none): unset it to use one, {OTHER_WAYS}"
        );
    }
    let bus = match std::env::var("DBUS_SESSION_BUS_ADDRESS") {
        Ok(a) if !a.is_empty() => format!("on the session bus {a}"),
        _ => "(DBUS_SESSION_BUS_ADDRESS is not set: no D-Bus session)".to_owned(),
    };
    let why = |e: &Option<String>| e.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
    format!(
        "no OS keyring answers: no Secret Service {bus}{}, and no kernel keyring{}. \
         Install and start one — `apt install gnome-keyring dbus-user-session` and log in to a \
         desktop, or on a headless machine run `dbus-run-session -- sh` and inside it \
         `gnome-keyring-daemon --unlock --components=secrets` (it reads the keyring's own \
         password from standard input); KeePassXC with Secret Service integration works too — \
         {OTHER_WAYS}",
        why(&p.secret_service),
        why(&p.keyutils),
    )
}

fn entry(account: &str) -> Result<(KeyringBackend, keyring::Entry)> {
    let backend = keyring_backend();
    let credential: Box<keyring::credential::Credential> = match backend {
        KeyringBackend::SecretService => Box::new(
            SsCredential::new_with_target(None, KEYRING_SERVICE, account)
                .map_err(|e| keyring_error(backend, "opening", &e))?,
        ),
        KeyringBackend::KernelKeyutils => Box::new(
            KeyutilsCredential::new_with_target(None, KEYRING_SERVICE, account)
                .map_err(|e| keyring_error(backend, "opening", &e))?,
        ),
        KeyringBackend::None => return Err(Error::Keyring(no_keyring_help())),
    };
    Ok((backend, keyring::Entry::new_with_credential(credential)))
}

fn keyring_error(backend: KeyringBackend, what: &str, e: &keyring::Error) -> Error {
    let hint = match e {
        keyring::Error::NoStorageAccess(_) => {
            "; the keyring is locked: unlock it (log in to the desktop, or \
             `gnome-keyring-daemon --unlock` reading its password from standard input)"
        }
        _ => "",
    };
    Error::Keyring(format!(
        "{what} the password in the {backend} failed: {e}{hint}; \
         PGPASSWORD or a libpq password file (passfile, PGPASSFILE, ~/.pgpass) work without a keyring"
    ))
}

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

/// Where a password for a target would come from, in resolution order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// The OS keyring, in this store.
    Keyring(KeyringBackend),
    /// The `PGPASSWORD` environment variable.
    Environment,
    /// A libpq password file, this one.
    PasswordFile(PathBuf),
}

impl std::fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordSource::Keyring(b) => write!(f, "the OS keyring ({b})"),
            PasswordSource::Environment => f.write_str("PGPASSWORD"),
            PasswordSource::PasswordFile(p) => write!(f, "the password file {}", p.display()),
        }
    }
}

/// Looks a password up (keyring, `PGPASSWORD`, password files). `None` when no source has
/// one; a keyring that cannot be reached counts as having none.
pub fn resolve_password(target: &Target, passfile: Option<&Path>) -> Option<String> {
    resolve_password_with_source(target, passfile).map(|(pw, _)| pw)
}

/// [`resolve_password`] that also says which source answered.
pub fn resolve_password_with_source(
    target: &Target,
    passfile: Option<&Path>,
) -> Option<(String, PasswordSource)> {
    let account = keyring_account(target);
    let found = resolve(target, passfile);
    match &found {
        Some((_, source)) => tracing::debug!(%account, "password from {source}"),
        None => tracing::debug!(%account, "no password source has one"),
    }
    found
}

fn resolve(target: &Target, passfile: Option<&Path>) -> Option<(String, PasswordSource)> {
    match keyring_password(target) {
        Ok(Some((pw, backend))) => return Some((pw, PasswordSource::Keyring(backend))),
        Ok(None) => {}
        // No keyring (or a failing one) counts as none; the reason is worth a line.
        Err(e) if keyring_backend() != KeyringBackend::None => {
            tracing::warn!(account = %keyring_account(target), "{e}");
        }
        Err(_) => {}
    }
    if let Ok(pw) = std::env::var("PGPASSWORD") {
        if !pw.is_empty() {
            return Some((pw, PasswordSource::Environment));
        }
    }
    passfile_candidates(passfile).into_iter().find_map(|file| {
        lookup_passfile(&file, target).map(|pw| (pw, PasswordSource::PasswordFile(file)))
    })
}

/// The password the OS keyring holds for `target`, with the store that holds it; `Ok(None)`
/// when the store answers but has none.
///
/// Errors: [`Error::Keyring`] when no keyring is available (saying what to install and the
/// alternatives) or the store fails (locked, D-Bus error).
pub fn keyring_password(target: &Target) -> Result<Option<(String, KeyringBackend)>> {
    let (backend, entry) = entry(&keyring_account(target))?;
    match entry.get_password() {
        Ok(pw) => Ok(Some((pw, backend))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(keyring_error(backend, "reading", &e)),
    }
}

/// The secret the OS keyring holds under `account` (service `skein`); `Ok(None)` when the store
/// answers but has none. For secrets that are not PostgreSQL passwords (an object store's
/// secret key: [`crate::storage::StorageSpec::keyring_account`]).
///
/// Errors: [`Error::Keyring`] as [`keyring_password`].
pub fn keyring_secret(account: &str) -> Result<Option<String>> {
    let (backend, entry) = entry(account)?;
    match entry.get_password() {
        Ok(pw) => Ok(Some(pw)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(keyring_error(backend, "reading", &e)),
    }
}

/// Stores `secret` in the OS keyring under `account`; returns the store that holds it.
///
/// Errors: [`Error::Keyring`] when no keyring is available or it refuses the write.
pub fn store_keyring_secret(account: &str, secret: &str) -> Result<KeyringBackend> {
    let (backend, entry) = entry(account)?;
    entry
        .set_password(secret)
        .map_err(|e| keyring_error(backend, "storing", &e))?;
    Ok(backend)
}

/// Deletes the secret under `account`. `Ok(false)` when none was stored.
///
/// Errors: [`Error::Keyring`] when no keyring is available or it refuses.
pub fn delete_keyring_secret(account: &str) -> Result<bool> {
    let (backend, entry) = entry(account)?;
    match entry.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(keyring_error(backend, "deleting", &e)),
    }
}

/// Stores a password in the OS keyring for `target`; returns the store that now holds it.
///
/// Errors: [`Error::Keyring`] when no keyring is available or it refuses the write.
pub fn store_password(target: &Target, password: &str) -> Result<KeyringBackend> {
    let (backend, entry) = entry(&keyring_account(target))?;
    entry
        .set_password(password)
        .map_err(|e| keyring_error(backend, "storing", &e))?;
    Ok(backend)
}

/// Deletes the keyring's password for `target`. `Ok(false)` when none was stored.
///
/// Errors: [`Error::Keyring`] when no keyring is available or it refuses.
pub fn delete_password(target: &Target) -> Result<bool> {
    let (backend, entry) = entry(&keyring_account(target))?;
    match entry.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(keyring_error(backend, "deleting", &e)),
    }
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
    if !meta.is_file() {
        return None;
    }
    if meta.permissions().mode() & 0o077 != 0 {
        // As libpq: such a file is ignored, with a warning.
        tracing::warn!(
            file = %file.display(),
            "password file ignored: it is readable by group or others; chmod 600 it"
        );
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
