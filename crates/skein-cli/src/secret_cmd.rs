//! `skein secret set|get|delete NODE`: a node's password in the OS keyring (service `skein`,
//! account `USER@HOST:PORT`), so profiles never hold it; `storage` for the secret key of the
//! lake's object store (account `s3:KEY_ID@ENDPOINT`, `[lake.storage] key_id`). The password is read from standard
//! input or a prompt that does not echo — never from the command line — and is printed only by
//! `get --show`.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use skein_core::secrets::{self, keyring_account, target_for, PasswordSource, Target};
use skein_core::{ErrorCode, Profile};

use crate::failure::fail;
use crate::output;

/// What to do with a node's password.
#[derive(clap::Subcommand)]
pub enum SecretCommand {
    /// Store NODE's password (or `lake` for the catalog's), read from standard input or, on a
    /// terminal, from a prompt that does not echo.
    Set {
        /// Node name from the profile, `lake` for the catalog, or `storage` for the object store's secret key.
        node: String,
    },
    /// Say whether the keyring holds NODE's password and in which store.
    Get {
        /// Node name from the profile, `lake` for the catalog, or `storage` for the object store's secret key.
        node: String,
        /// Print the password itself to standard output.
        #[arg(long)]
        show: bool,
    },
    /// Delete NODE's password from the keyring.
    Delete {
        /// Node name from the profile, `lake` for the catalog, or `storage` for the object store's secret key.
        node: String,
    },
}

/// Runs one `skein secret` command against the profile.
pub fn run(profile: &Profile, command: SecretCommand) -> anyhow::Result<()> {
    let (SecretCommand::Set { node }
    | SecretCommand::Get { node, .. }
    | SecretCommand::Delete { node }) = &command;
    if node == "storage" {
        return storage(profile, command);
    }
    match command {
        SecretCommand::Set { node } => set(profile, &node),
        SecretCommand::Get { node, show } => get(profile, &node, show),
        SecretCommand::Delete { node } => delete(profile, &node),
    }
}

/// The password-file fields of `node` (a node name, or `lake` for the lake's catalog).
fn target(profile: &Profile, node: &str) -> anyhow::Result<Target> {
    let url = if node == "lake" {
        profile.lake.catalog.clone()
    } else {
        match profile.nodes().find(|n| n.name == node) {
            Some(n) => n.url.clone(),
            None => {
                let names: Vec<&str> = profile.nodes().map(|n| n.name.as_str()).collect();
                return Err(fail(
                    ErrorCode::NotFound,
                    format!(
                        "no node named '{node}' in profile {}: use one of {}, or 'lake' for the lake's catalog",
                        profile.name,
                        names.join(", ")
                    ),
                ));
            }
        }
    };
    let info = skein_core::conninfo::parse(&url).with_context(|| node.to_owned())?;
    Ok(target_for(&info.config))
}

fn read_password(account: &str) -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("password for {account}: "))
            .context("reading the password from the terminal")?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    if password.is_empty() {
        return Err(fail(
            ErrorCode::InvalidInput,
            "no password given (type it at the prompt or pipe it on standard input)",
        ));
    }
    Ok(password)
}

fn set(profile: &Profile, node: &str) -> anyhow::Result<()> {
    let target = target(profile, node)?;
    let account = keyring_account(&target);
    let password = read_password(&account)?;
    let backend = secrets::store_password(&target, &password)
        .with_context(|| format!("{node}: {account}"))?;
    let note = if backend.persistent() {
        ""
    } else {
        " — in memory only: gone at logout or reboot; start a Secret Service (gnome-keyring) to keep it"
    };
    eprintln!("{node}: stored the password for {account} in the {backend}{note}");
    Ok(())
}

fn get(profile: &Profile, node: &str, show: bool) -> anyhow::Result<()> {
    let target = target(profile, node)?;
    let account = keyring_account(&target);
    let found = secrets::keyring_password(&target).with_context(|| format!("{node}: {account}"))?;
    match found {
        Some((password, backend)) => {
            if show {
                output::line(&password);
            } else {
                output::line(&format!(
                    "{node}: the {backend} holds a password for {account}"
                ));
            }
        }
        None => {
            let backend = secrets::keyring_backend();
            let other = secrets::resolve_password_with_source(&target, profile.passfile.as_deref())
                .map(|(_, source)| source)
                .filter(|s| !matches!(s, PasswordSource::Keyring(_)));
            let fallback = match other {
                Some(source) => format!("; connections take it from {source}"),
                None => String::new(),
            };
            if show {
                return Err(fail(
                    ErrorCode::NotFound,
                    format!(
                        "{node}: the {backend} holds no password for {account}{fallback}; store one with `skein secret set {node}`"
                    ),
                ));
            }
            output::line(&format!(
                "{node}: the {backend} holds no password for {account}{fallback}"
            ));
        }
    }
    Ok(())
}

fn delete(profile: &Profile, node: &str) -> anyhow::Result<()> {
    let target = target(profile, node)?;
    let account = keyring_account(&target);
    let backend = secrets::keyring_backend();
    if secrets::delete_password(&target).with_context(|| format!("{node}: {account}"))? {
        eprintln!("{node}: deleted the password for {account} from the {backend}");
    } else {
        eprintln!("{node}: the {backend} held no password for {account}");
    }
    Ok(())
}

/// `secret set|get|delete storage`: the object store's secret key under `s3:KEY_ID@ENDPOINT`.
fn storage(profile: &Profile, command: SecretCommand) -> anyhow::Result<()> {
    let Some(account) = profile
        .lake
        .storage
        .as_ref()
        .and_then(|s| s.keyring_account())
    else {
        return Err(fail(
            ErrorCode::InvalidInput,
            format!(
                "profile {} names no object-store access key: set [lake.storage] key_id (and an s3:// data_path) first",
                profile.name
            ),
        ));
    };
    let backend = secrets::keyring_backend();
    match command {
        SecretCommand::Set { .. } => {
            let secret = read_password(&account)?;
            let backend = secrets::store_keyring_secret(&account, &secret).with_context(|| account.clone())?;
            eprintln!("storage: stored the secret key for {account} in the {backend}");
        }
        SecretCommand::Get { show, .. } => match secrets::keyring_secret(&account).with_context(|| account.clone())? {
            Some(secret) if show => output::line(&secret),
            Some(_) => output::line(&format!("storage: the {backend} holds a secret key for {account}")),
            None if show => {
                return Err(fail(
                    ErrorCode::NotFound,
                    format!("storage: the {backend} holds no secret key for {account}; store one with `skein secret set storage`"),
                ))
            }
            None => output::line(&format!("storage: the {backend} holds no secret key for {account}")),
        },
        SecretCommand::Delete { .. } => {
            if secrets::delete_keyring_secret(&account).with_context(|| account.clone())? {
                eprintln!("storage: deleted the secret key for {account} from the {backend}");
            } else {
                eprintln!("storage: the {backend} held no secret key for {account}");
            }
        }
    }
    Ok(())
}
