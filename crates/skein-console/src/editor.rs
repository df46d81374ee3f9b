//! The connection editor's side of the RPC surface: a profile file read into the editor's
//! fields, a diagnosis of a profile that may not be saved yet, and saving (validated first,
//! edited in place, passwords to the OS keyring, remembered among the recent profiles).

use std::path::{Path, PathBuf};

use skein_core::profile_write::{self, ConnDraft, ProfileDraft};
use skein_core::secrets::{store_password, target_for};

use crate::app::App;
use crate::diagnose::{self, Diagnosis};
use crate::error::{Error, Result};
use crate::rpc::{FieldProblem, NodePassword, ProfileEdit, SaveOutcome};

/// A draft's validation error in the form's words: the field and the message, without the
/// file and line of a document that was never written.
fn problem(e: skein_core::Error) -> std::result::Result<FieldProblem, Error> {
    match e {
        skein_core::Error::Invalid { field, message, .. } => Ok(FieldProblem { field, message }),
        other => Err(Error::Profile(other)),
    }
}

/// The connection a password is for: a node of the draft by name, or `lake`.
fn conn_for<'d>(draft: &'d ProfileDraft, node: &str) -> Result<&'d ConnDraft> {
    std::iter::once(&draft.primary)
        .chain(&draft.replicas)
        .find(|n| n.name.trim() == node)
        .map(|n| &n.conn)
        .or_else(|| (node == "lake").then_some(&draft.lake.catalog))
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "a password was given for '{node}', which is neither a node of the profile nor the lake"
            ))
        })
}

/// The [`NodePassword::node`] of the object store's secret key.
pub const STORAGE_SECRET: &str = "lake.storage";

/// Stores the object store's secret key under the account the lake looks it up by
/// (`s3:KEY_ID@ENDPOINT`, [`skein_core::storage`]).
///
/// Errors: `InvalidInput` when the draft has no key id; `Internal` when the keyring refuses.
fn store_storage_secret(draft: &ProfileDraft, secret: &str) -> Result<()> {
    let st = &draft.lake.storage;
    let opt = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let spec = skein_core::StorageSpec {
        endpoint: opt(&st.endpoint),
        key_id: opt(&st.key_id),
        ..Default::default()
    };
    let account = spec.keyring_account().ok_or_else(|| {
        Error::InvalidInput(
            "the object store's secret key needs its key id: fill Key id under Object store".into(),
        )
    })?;
    skein_core::secrets::store_keyring_secret(&account, secret)?;
    Ok(())
}

/// Stores the passwords typed in the editor in the OS keyring, under the account the
/// node's connection resolves to (`USER@HOST:PORT`, as [`skein_core::secrets`] looks it up).
/// Empty passwords are ignored.
///
/// Errors: `InvalidInput` for an unknown node or a connection without a usable host/port;
/// `Internal` when the keyring refuses.
pub(crate) fn store_passwords(draft: &ProfileDraft, passwords: &[NodePassword]) -> Result<()> {
    for p in passwords.iter().filter(|p| !p.password.is_empty()) {
        if p.node == STORAGE_SECRET {
            store_storage_secret(draft, &p.password)?;
            continue;
        }
        let conn = conn_for(draft, &p.node)?;
        let mut config = tokio_postgres::Config::new();
        if let Some(host) = conn.host.split(',').next().filter(|h| !h.trim().is_empty()) {
            config.host(host.trim());
        }
        if let Some(port) = conn.port.split(',').next().filter(|s| !s.trim().is_empty()) {
            let port = port.trim().parse::<u16>().map_err(|_| {
                Error::InvalidInput(format!("{}: port '{port}' is not a port number", p.node))
            })?;
            config.port(port);
        }
        if !conn.user.trim().is_empty() {
            config.user(conn.user.trim());
        }
        if !conn.dbname.trim().is_empty() {
            config.dbname(conn.dbname.trim());
        }
        store_password(&target_for(&config), &p.password)?;
    }
    Ok(())
}

/// The part of a draft a test of `target` needs, so a profile still being written can test
/// what is filled in: a replica's test keeps the primary and that replica; the primary's
/// keeps the replicas that have a host; the lake's keeps the primary only. A part not filled
/// in yet (the lake for a node's test, the primary for the lake's) borrows the other's
/// connection, only to make the profile whole. Returns the draft and, for a replica, its
/// index in the full draft (messages name that one).
fn scoped(draft: &ProfileDraft, target: Option<&str>) -> (ProfileDraft, Option<usize>) {
    let mut d = draft.clone();
    let mut index = None;
    match target {
        Some(name) if name == draft.primary.name.trim() => {
            d.replicas.retain(|r| !r.conn.host.trim().is_empty());
        }
        Some(name) => {
            index = draft.replicas.iter().position(|r| r.name.trim() == name);
            d.replicas.retain(|r| r.name.trim() == name);
        }
        None => d.replicas.clear(),
    }
    if target.is_some() {
        if d.lake.catalog.host.trim().is_empty() {
            d.lake.catalog = d.primary.conn.clone();
        }
        if d.lake.data_path.trim().is_empty() {
            d.lake.data_path = "/".into();
        }
    } else if d.primary.conn.host.trim().is_empty() {
        d.primary.conn = d.lake.catalog.clone();
    }
    (d, index)
}

/// Diagnoses one node (or the lake, `None`) of a draft (see [`scoped`] for what of it must
/// be valid).
///
/// Errors: `InvalidInput` naming the field when that part is not valid; keyring errors from
/// storing the passwords; `NotFound` for an unknown node.
pub(crate) async fn diagnose(
    draft: &ProfileDraft,
    target: Option<&str>,
    passwords: &[NodePassword],
) -> Result<Diagnosis> {
    let (part, index) = scoped(draft, target);
    let profile = match part.to_profile(Path::new("profile")) {
        Ok(p) => p,
        Err(e) => {
            let p = problem(e)?;
            let field = match index {
                Some(i) => p
                    .field
                    .replacen("replicas[0]", &format!("replicas[{i}]"), 1),
                None => p.field,
            };
            return Err(Error::InvalidInput(format!("{field}: {}", p.message)));
        }
    };
    store_passwords(draft, passwords)?;
    diagnose::target(&profile, target, diagnose::DEFAULT_TIMEOUT).await
}

/// `~/x` → `$HOME/x`; the path must then be absolute (the server's working directory means
/// nothing to the person typing it).
fn absolute(path: &str) -> Result<PathBuf> {
    let path = path.trim();
    let expanded = match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    };
    if !expanded.is_absolute() {
        return Err(Error::InvalidInput(format!(
            "'{path}' is not an absolute path: give the profile file's full path (/home/me/skein/prod.toml or ~/skein/prod.toml)"
        )));
    }
    Ok(expanded)
}

/// The profile file at `path` (the open profile's when `None`) as the editor's fields.
///
/// Errors: `NotFound` when there is no such file (or no profile is open); `InvalidInput`
/// naming the field when it does not parse.
pub(crate) fn profile_for_edit(app: &App, path: Option<&str>) -> Result<ProfileEdit> {
    let path = match path {
        Some(p) => absolute(p)?,
        None => app
            .console()
            .and_then(|c| c.profile().source.clone())
            .ok_or(Error::NoProfile)?,
    };
    let text = std::fs::read_to_string(&path).map_err(|error| {
        Error::Profile(skein_core::Error::Read {
            path: path.clone(),
            error,
        })
    })?;
    Ok(ProfileEdit {
        path: path.display().to_string(),
        profile: ProfileDraft::from_toml(&text, &path)?,
    })
}

/// Saves the editor's profile (see [`crate::rpc::Request::SaveProfile`]).
pub(crate) fn save_profile(
    app: &App,
    path: &str,
    draft: &ProfileDraft,
    passwords: &[NodePassword],
    open: bool,
) -> Result<SaveOutcome> {
    let path = absolute(path)?;
    let shown = path.display().to_string();
    let not_saved = |p: FieldProblem| SaveOutcome {
        path: shown.clone(),
        saved: false,
        problem: Some(p),
        open_error: None,
        profiles: app.profiles(),
    };
    // Validate before touching the keyring or the file.
    if let Err(e) = draft.to_profile(&path) {
        return Ok(not_saved(problem(e)?));
    }
    store_passwords(draft, passwords)?;
    if let Err(e) = profile_write::save(&path, draft) {
        return Ok(not_saved(problem(e)?));
    }
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    app.remember(&path);
    let open_error = if open {
        app.open_profile(&path).err().map(|e| e.info())
    } else {
        None
    };
    Ok(SaveOutcome {
        path: path.display().to_string(),
        saved: true,
        problem: None,
        open_error,
        profiles: app.profiles(),
    })
}
