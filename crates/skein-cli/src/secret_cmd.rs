//! `skein secret set NODE`: store a node's password in the OS keyring, read from standard
//! input, so profiles never hold it.

use std::io::BufRead;
use std::str::FromStr;

use anyhow::Context;
use skein_core::secrets::{keyring_account, store_password, target_for};
use skein_core::Profile;

/// Stores the password for `node` (a node name, or `lake` for the lake's catalog).
pub fn set(profile: &Profile, node: &str) -> anyhow::Result<()> {
    let url = if node == "lake" {
        profile.lake.catalog.clone()
    } else {
        profile
            .nodes()
            .find(|n| n.name == node)
            .map(|n| n.url.clone())
            .with_context(|| {
                format!("no node named '{node}' in the profile (use a node name or 'lake')")
            })?
    };
    let target = target_for(&tokio_postgres::Config::from_str(&url)?);
    eprintln!(
        "password for {} (read from standard input):",
        keyring_account(&target)
    );
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        anyhow::bail!("no password given on standard input");
    }
    store_password(&target, password)?;
    eprintln!(
        "stored in the OS keyring (service skein, account {})",
        keyring_account(&target)
    );
    Ok(())
}
