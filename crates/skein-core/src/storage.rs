//! Object storage for the lake's data files: the profile's `[lake.storage]` (where an
//! S3-compatible store is served and how to sign in), and where its secret access key comes
//! from. The key never lives in the profile.
//!
//! Credentials, in order:
//! 1. With `key_id` set: the secret key from the OS keyring (account `s3:KEY_ID@ENDPOINT`,
//!    stored by `skein secret set storage`), else from an AWS
//!    credentials file (`credentials_file`, else `AWS_SHARED_CREDENTIALS_FILE`, else
//!    `~/.aws/credentials`) whose profile (`aws_profile`, else `AWS_PROFILE`, else `default`)
//!    holds that key id, else `AWS_SECRET_ACCESS_KEY` when `AWS_ACCESS_KEY_ID` is that key id.
//! 2. Without `key_id`: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`),
//!    else the credentials file's profile; else DuckDB's own credential chain (its `aws`
//!    extension: SSO, instance roles), see [`Credentials::Chain`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secrets::{keyring_backend, KeyringBackend};

/// The object-store schemes a data path may use, and the DuckDB secret type of each.
pub const SCHEMES: &[(&str, &str)] = &[
    ("s3://", "s3"),
    ("r2://", "r2"),
    ("gs://", "gcs"),
    ("gcs://", "gcs"),
];

/// `[lake.storage]`: how Skein reaches an object-store data path (`s3://bucket/prefix/`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    /// `host:port` of an S3-compatible endpoint (Garage, MinIO, Ceph RGW); absent: AWS S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The store's region (`us-east-1`; Garage: its `s3_region`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `path` (the bucket in the path: most S3-compatible stores) or `vhost` (AWS's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_style: Option<String>,
    /// HTTPS to the endpoint (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_ssl: Option<bool>,
    /// The access key id (not a secret); its secret key comes from the keyring or the AWS
    /// conventions (see the module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The profile of the AWS credentials file to read (default `AWS_PROFILE`, else `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_profile: Option<String>,
    /// An AWS credentials file (INI) to read instead of `AWS_SHARED_CREDENTIALS_FILE` /
    /// `~/.aws/credentials`; like a password file, it must not be readable by others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<PathBuf>,
    /// An HTTP health endpoint of the store the console polls (Garage's admin API
    /// `http://HOST:3903/health`; MinIO's `/minio/health/cluster`): 200 is healthy — degraded
    /// when its body says a node is unavailable — anything else unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_url: Option<String>,
}

impl StorageSpec {
    /// Checks the values; `Err((key, message))` names the offending key.
    pub fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        if let Some(e) = &self.endpoint {
            if e.contains("://") {
                return Err((
                    "endpoint",
                    format!("'{e}' is a URL: write host:port (127.0.0.1:3900) and say HTTPS or not with use_ssl"),
                ));
            }
            if e.trim().is_empty() || e.contains('/') {
                return Err(("endpoint", format!("'{e}' is not host:port")));
            }
        }
        if let Some(s) = &self.url_style {
            if s != "path" && s != "vhost" {
                return Err(("url_style", format!("'{s}' is neither 'path' nor 'vhost'")));
            }
        }
        if let Some(h) = &self.health_url {
            if !(h.starts_with("http://") || h.starts_with("https://")) {
                return Err((
                    "health_url",
                    format!("'{h}' is not an http:// or https:// URL"),
                ));
            }
        }
        if let Some(k) = &self.key_id {
            if k.trim().is_empty() || k.contains(char::is_whitespace) {
                return Err(("key_id", "the access key id must be one word".into()));
            }
        }
        Ok(())
    }

    /// Where the store is, for messages: the endpoint, else `AWS S3`.
    pub fn endpoint_text(&self) -> String {
        self.endpoint.clone().unwrap_or_else(|| "AWS S3".into())
    }

    /// The keyring account of the secret key: `s3:KEY_ID@ENDPOINT` (`s3.amazonaws.com` for AWS).
    pub fn keyring_account(&self) -> Option<String> {
        let id = self.key_id.as_ref()?;
        Some(format!(
            "s3:{id}@{}",
            self.endpoint.as_deref().unwrap_or("s3.amazonaws.com")
        ))
    }
}

/// The DuckDB secret type of an object-store data path (`s3`, `r2`, `gcs`), `None` for a
/// local directory.
pub fn secret_type(data_path: &str) -> Option<&'static str> {
    SCHEMES
        .iter()
        .find(|(scheme, _)| data_path.starts_with(scheme))
        .map(|(_, t)| *t)
}

/// `s3://bucket/prefix/` → (`bucket`, `prefix/`).
pub fn bucket_of(data_path: &str) -> Option<(String, String)> {
    let rest = data_path.split_once("://")?.1;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_owned(), prefix.to_owned()))
}

/// Where a storage secret came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// The OS keyring, in this store.
    Keyring(KeyringBackend),
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    Environment,
    /// This AWS credentials file, this profile.
    File(PathBuf, String),
}

impl std::fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialSource::Keyring(b) => write!(f, "the OS keyring ({b})"),
            CredentialSource::Environment => {
                f.write_str("AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")
            }
            CredentialSource::File(p, profile) => write!(f, "{} [{profile}]", p.display()),
        }
    }
}

/// What signs the lake's requests to the store.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A key pair (and a session token, for temporary credentials) found by Skein.
    Key {
        /// The access key id.
        key_id: String,
        /// The secret access key (never printed: `Debug` redacts it).
        secret: String,
        /// `AWS_SESSION_TOKEN` / `aws_session_token`, when there is one.
        session_token: Option<String>,
        /// Where it came from.
        source: CredentialSource,
    },
    /// None found here: DuckDB's credential chain (`PROVIDER credential_chain`, the `aws`
    /// extension) looks (SSO, instance roles, …).
    Chain,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Key {
                key_id,
                source,
                session_token,
                ..
            } => f
                .debug_struct("Key")
                .field("key_id", key_id)
                .field("secret", &"<redacted>")
                .field(
                    "session_token",
                    &session_token.as_ref().map(|_| "<redacted>"),
                )
                .field("source", source)
                .finish(),
            Credentials::Chain => f.write_str("Chain"),
        }
    }
}

/// Finds the credentials for `spec` (see the module docs for the order).
///
/// Errors: `InvalidInput` when `key_id` is set and no source has its secret key (naming the
/// sources looked in, never a secret), or a credentials file is readable by others.
pub fn resolve_credentials(spec: &StorageSpec) -> Result<Credentials> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let profile = spec
        .aws_profile
        .clone()
        .or_else(|| env("AWS_PROFILE"))
        .unwrap_or_else(|| "default".into());
    let file = spec
        .credentials_file
        .clone()
        .or_else(|| env("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from))
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".aws/credentials")));
    let from_file = |want: Option<&str>| -> Result<Option<Credentials>> {
        let Some(path) = &file else { return Ok(None) };
        let Some(section) = read_profile(path, &profile)? else {
            return Ok(None);
        };
        let (Some(id), Some(secret)) = (section.0, section.1) else {
            return Ok(None);
        };
        if want.is_some_and(|w| w != id) {
            return Ok(None);
        }
        Ok(Some(Credentials::Key {
            key_id: id,
            secret,
            session_token: section.2,
            source: CredentialSource::File(path.clone(), profile.clone()),
        }))
    };
    match &spec.key_id {
        Some(id) => {
            if let Some(account) = spec.keyring_account() {
                if let Ok(Some(secret)) = crate::secrets::keyring_secret(&account) {
                    return Ok(Credentials::Key {
                        key_id: id.clone(),
                        secret,
                        session_token: None,
                        source: CredentialSource::Keyring(keyring_backend()),
                    });
                }
            }
            if let Some(c) = from_file(Some(id))? {
                return Ok(c);
            }
            if let (Some(env_id), Some(secret)) =
                (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
            {
                if &env_id == id {
                    return Ok(Credentials::Key {
                        key_id: id.clone(),
                        secret,
                        session_token: env("AWS_SESSION_TOKEN"),
                        source: CredentialSource::Environment,
                    });
                }
            }
            Err(Error::Storage(format!(
                "no secret key for access key {id} at {}: store it with `skein secret set storage` \
                 (the OS keyring), or put it in {} under [{profile}] as \
                 aws_secret_access_key, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                spec.endpoint_text(),
                file.as_deref().map(|p| p.display().to_string()).unwrap_or_else(|| "~/.aws/credentials".into()),
            )))
        }
        None => {
            if let (Some(key_id), Some(secret)) =
                (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
            {
                return Ok(Credentials::Key {
                    key_id,
                    secret,
                    session_token: env("AWS_SESSION_TOKEN"),
                    source: CredentialSource::Environment,
                });
            }
            Ok(from_file(None)?.unwrap_or(Credentials::Chain))
        }
    }
}

/// `aws_access_key_id`, `aws_secret_access_key`, `aws_session_token` of a credentials file's profile.
type KeyTriple = (Option<String>, Option<String>, Option<String>);

/// The (`aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`) of `profile` in
/// an AWS credentials file; `None` when the file or the profile is missing.
fn read_profile(path: &Path, profile: &str) -> Result<Option<KeyTriple>> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::Storage(format!(
            "the credentials file {} is readable by others: chmod 600 it",
            path.display()
        )));
    }
    let ini = ini::Ini::load_from_file(path).map_err(|e| {
        // The parser's message names a line and a column, never a value.
        Error::Storage(format!(
            "the credentials file {} cannot be read: {e}",
            path.display()
        ))
    })?;
    let section = ini
        .section(Some(profile))
        .or_else(|| ini.section(Some(format!("profile {profile}"))));
    Ok(section.map(|s| {
        let get = |k: &str| s.get(k).map(str::to_owned).filter(|v| !v.is_empty());
        (
            get("aws_access_key_id"),
            get("aws_secret_access_key"),
            get("aws_session_token"),
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_types() {
        assert_eq!(
            bucket_of("s3://lake/data/"),
            Some(("lake".into(), "data/".into()))
        );
        assert_eq!(bucket_of("s3://lake"), Some(("lake".into(), "".into())));
        assert_eq!(bucket_of("s3:///x"), None);
        assert_eq!(secret_type("s3://lake/"), Some("s3"));
        assert_eq!(secret_type("gs://lake/"), Some("gcs"));
        assert_eq!(secret_type("/var/lake"), None);
    }

    #[test]
    fn checks_name_the_key() {
        let bad = StorageSpec {
            endpoint: Some("http://127.0.0.1:3900".into()),
            ..Default::default()
        };
        assert_eq!(bad.check().expect_err("refused").0, "endpoint");
        let bad = StorageSpec {
            url_style: Some("virtual".into()),
            ..Default::default()
        };
        assert!(bad
            .check()
            .expect_err("refused")
            .1
            .contains("neither 'path' nor 'vhost'"));
        assert!(StorageSpec {
            endpoint: Some("127.0.0.1:3900".into()),
            url_style: Some("path".into()),
            ..Default::default()
        }
        .check()
        .is_ok());
    }

    #[test]
    fn a_credentials_file_answers_for_its_key_and_never_shows_the_secret() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("credentials");
        std::fs::write(&file, "[default]\naws_access_key_id = GKother\naws_secret_access_key = s0\n\n[sandbox]\naws_access_key_id = GK1\naws_secret_access_key = hunter2\n").expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let spec = StorageSpec {
            endpoint: Some("127.0.0.1:1".into()),
            key_id: Some("GK1".into()),
            aws_profile: Some("sandbox".into()),
            credentials_file: Some(file.clone()),
            ..Default::default()
        };
        let c = resolve_credentials(&spec).expect("found");
        let Credentials::Key {
            key_id,
            secret,
            source,
            ..
        } = &c
        else {
            panic!("{c:?}")
        };
        assert_eq!((key_id.as_str(), secret.as_str()), ("GK1", "hunter2"));
        assert_eq!(
            source,
            &CredentialSource::File(file.clone(), "sandbox".into())
        );
        assert!(!format!("{c:?}").contains("hunter2"));
        // Another key id: the file's profile does not hold it.
        let other = StorageSpec {
            key_id: Some("GK2".into()),
            ..spec.clone()
        };
        let e = resolve_credentials(&other)
            .expect_err("no secret for GK2")
            .to_string();
        assert!(
            e.contains("no secret key for access key GK2 at 127.0.0.1:1"),
            "{e}"
        );
        assert!(!e.contains("hunter2"));
        // Readable by others: refused, as libpq refuses such a password file.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = resolve_credentials(&spec)
            .expect_err("world-readable")
            .to_string();
        assert!(e.contains("readable by others"), "{e}");
    }
}
