//! The profile: one TOML file that describes a stack — the primary, its replicas, the
//! DuckLake lake and the lag thresholds. Secrets never live here (see [`crate::secrets`]).
//!
//! ```toml
//! name = "sandbox"
//! passfile = "/tmp/skein-sandbox/pgpass"      # optional; else PGPASSFILE or ~/.pgpass
//!
//! [primary]
//! url = "host=127.0.0.1 port=54321 user=postgres dbname=tpch"
//!
//! [[replicas]]
//! name = "replica1"
//! url = "postgresql://postgres@127.0.0.1:54322/tpch"
//! region = "local"                            # optional
//! weight = 1                                  # optional, default 1
//!
//! [[replicas]]                               # a node behind a bastion: an SSH tunnel
//! name = "replica2"                           # (see crate::tunnel)
//! url = "host=db2.internal port=5432 user=postgres dbname=tpch"
//! ssh = "me@bastion.example.com"              # [user@]host, or a Host alias of ~/.ssh/config
//! ssh_jump = "me@jump.example.com"            # optional: ssh -J
//! ssh_config = "/home/me/.ssh/skein_config"   # optional: ssh -F
//! ssh_port = 22                               # optional: ssh -p
//!
//! [lake]
//! catalog = "host=127.0.0.1 port=54321 user=postgres dbname=skein_lake"
//! data_path = "/tmp/skein-sandbox/lake"
//! name = "lake"                               # optional, default "lake"
//! # ssh, ssh_jump, ssh_config, ssh_port as on a node: the catalog through a tunnel
//!
//! [thresholds]
//! lag_warning_ms = 5000                       # optional
//! lag_critical_ms = 30000                     # optional
//! slot_wal_warning_bytes = 1073741824         # optional: an inactive slot retaining this much WAL
//!
//! [sampling]                                  # optional
//! interval_ms = 250                           # how often the console samples every node
//!
//! [alerts]                                    # optional: see crate::alerts
//! fire_after = 3
//!
//! [router]                                    # optional: read/write splitting
//! read_splitting = true                       # (see skein-router's RouterConfig)
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Error, Result};

/// A whole stack, as read from a profile file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// Display name of the stack (`sandbox`, `prod-eu`).
    pub name: String,
    /// A libpq password file to look passwords up in before `PGPASSFILE` and `~/.pgpass`.
    pub passfile: Option<PathBuf>,
    /// The primary (read-write) node.
    pub primary: NodeSpec,
    /// Streaming replicas (hot standbys), in profile order.
    pub replicas: Vec<NodeSpec>,
    /// The DuckLake lake that holds the caches.
    pub lake: LakeSpec,
    /// Lag thresholds.
    pub thresholds: Thresholds,
    /// The `[sampling]` table: how often the console samples the nodes.
    pub sampling: Sampling,
    /// The `[alerts]` table: when each alert rule fires and clears ([`crate::alerts`]).
    pub alerts: crate::AlertRules,
    /// The `[router]` table: read/write splitting settings, read by `skein-router`
    /// (`RouterConfig`). Empty means the router's defaults.
    pub router: toml::Table,
    /// The file this profile was read from, if any.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// One PostgreSQL node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeSpec {
    /// Unique name within the profile (`primary`, `replica1`).
    pub name: String,
    /// libpq connection string: a URL (`postgresql://user@host:port/db`) or `key=value` pairs.
    /// Never carries a password.
    pub url: String,
    /// Optional region label, for nearest-region routing.
    pub region: Option<String>,
    /// Relative weight for balancing reads (≥ 1).
    pub weight: u32,
    /// How the primary's `pg_stat_replication.application_name` names this replica; defaults
    /// to the replica's own `cluster_name` setting, then to `name`.
    pub application_name: Option<String>,
    /// Reach the node through an SSH tunnel (keys `ssh`, `ssh_jump`, `ssh_config`,
    /// `ssh_port`); `None` connects directly.
    #[serde(flatten)]
    pub ssh: Option<SshSpec>,
}

/// How to reach a node through an SSH server (a bastion): the OpenSSH client forwards a
/// loopback port to the node's host and port as the SSH server sees them (see
/// [`crate::tunnel`]). Written in the profile as flat keys beside `url` / `catalog`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SshSpec {
    /// `[user@]host` of the SSH server, or a `Host` alias of the ssh configuration
    /// (`ssh = "me@bastion"`).
    #[serde(rename = "ssh")]
    pub destination: String,
    /// Jump hosts before it, as `ssh -J` takes them (`me@jump`, comma-separated for several).
    #[serde(rename = "ssh_jump", skip_serializing_if = "Option::is_none")]
    pub jump: Option<String>,
    /// An ssh configuration file to use instead of `~/.ssh/config` (`ssh -F`).
    #[serde(rename = "ssh_config", skip_serializing_if = "Option::is_none")]
    pub config: Option<PathBuf>,
    /// The SSH server's port (`ssh -p`); else the configuration's, else 22.
    #[serde(rename = "ssh_port", skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl std::fmt::Display for SshSpec {
    /// `me@bastion` with ` (port N)`, ` via me@jump` when set: for messages and `skein status`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.destination)?;
        if let Some(p) = self.port {
            write!(f, " (port {p})")?;
        }
        if let Some(j) = &self.jump {
            write!(f, " via {j}")?;
        }
        Ok(())
    }
}

/// The DuckLake lake: a PostgreSQL catalog plus a data path for Parquet files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LakeSpec {
    /// libpq connection string of the catalog database.
    pub catalog: String,
    /// Directory (or object-store URL) that holds the lake's data files.
    pub data_path: String,
    /// The name the lake is attached under in DuckDB (`lake` → `lake.main.t`).
    pub name: String,
    /// Reach the catalog database through an SSH tunnel; see [`NodeSpec::ssh`].
    #[serde(flatten)]
    pub ssh: Option<SshSpec>,
    /// `[lake.storage]`: the object store of an `s3://…` data path (endpoint, region, URL
    /// style, TLS, access key id); see [`crate::storage`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<crate::storage::StorageSpec>,
}

/// Lag thresholds (warning lowers a replica's standing, critical takes it out of rotation) and
/// the WAL an inactive replication slot may retain before it needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Replay lag (ms) past which a replica is "lagging" (amber).
    #[serde(default = "default_warning_ms")]
    pub lag_warning_ms: u64,
    /// Replay lag (ms) past which a replica is out of rotation (red).
    #[serde(default = "default_critical_ms")]
    pub lag_critical_ms: u64,
    /// Bytes of WAL an inactive replication slot may retain (`pg_current_wal_lsn() −
    /// restart_lsn`) before it is a warning (default 1 GiB).
    #[serde(default = "default_slot_wal_warning_bytes")]
    pub slot_wal_warning_bytes: u64,
}

fn default_warning_ms() -> u64 {
    5_000
}
fn default_critical_ms() -> u64 {
    30_000
}
fn default_slot_wal_warning_bytes() -> u64 {
    1024 * 1024 * 1024
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            lag_warning_ms: default_warning_ms(),
            lag_critical_ms: default_critical_ms(),
            slot_wal_warning_bytes: default_slot_wal_warning_bytes(),
        }
    }
}

/// How often the console samples the stack: every node's lag (`pg_stat_replication`, the
/// replay functions) once an `interval_ms`; the replication details (slots, receivers,
/// conflicts, settings) at most once a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Sampling {
    /// The lag sampling period, ms ([`Sampling::MIN_MS`] … [`Sampling::MAX_MS`], default 250).
    #[serde(default = "default_interval_ms")]
    pub interval_ms: u64,
}

impl Sampling {
    /// The shortest period a profile may ask for, ms.
    pub const MIN_MS: u64 = 50;
    /// The longest, ms.
    pub const MAX_MS: u64 = 60_000;
}

fn default_interval_ms() -> u64 {
    250
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            interval_ms: default_interval_ms(),
        }
    }
}

// ---- the file format (spans kept so errors can name the line) ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Option<String>,
    passfile: Option<PathBuf>,
    primary: RawNode,
    #[serde(default)]
    replicas: Vec<RawNode>,
    lake: RawLake,
    #[serde(default)]
    thresholds: Thresholds,
    #[serde(default)]
    sampling: Sampling,
    #[serde(default)]
    alerts: crate::AlertRules,
    #[serde(default)]
    router: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: Option<Spanned<String>>,
    url: Spanned<String>,
    region: Option<String>,
    weight: Option<Spanned<u32>>,
    application_name: Option<String>,
    ssh: Option<Spanned<String>>,
    ssh_jump: Option<Spanned<String>>,
    ssh_config: Option<Spanned<String>>,
    ssh_port: Option<Spanned<u16>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLake {
    catalog: Spanned<String>,
    data_path: Spanned<String>,
    name: Option<Spanned<String>>,
    ssh: Option<Spanned<String>>,
    ssh_jump: Option<Spanned<String>>,
    ssh_config: Option<Spanned<String>>,
    ssh_port: Option<Spanned<u16>>,
    storage: Option<Spanned<crate::storage::StorageSpec>>,
}

/// The `ssh*` keys of a node or of `[lake]`, as read.
struct RawSsh {
    ssh: Option<Spanned<String>>,
    jump: Option<Spanned<String>>,
    config: Option<Spanned<String>>,
    port: Option<Spanned<u16>>,
}

impl RawSsh {
    /// Validates the keys; `Err((offset, key, message))` names the offending value.
    fn check(
        self,
        conninfo: &tokio_postgres::Config,
    ) -> std::result::Result<Option<SshSpec>, (usize, &'static str, String)> {
        let Some(ssh) = self.ssh else {
            let stray = [
                self.jump.as_ref().map(|j| (j.span().start, "ssh_jump")),
                self.config.as_ref().map(|c| (c.span().start, "ssh_config")),
                self.port.as_ref().map(|p| (p.span().start, "ssh_port")),
            ];
            if let Some((at, key)) = stray.into_iter().flatten().next() {
                return Err((
                    at,
                    key,
                    format!(
                        "{key} needs ssh = \"user@bastion\" (the SSH server to tunnel through)"
                    ),
                ));
            }
            return Ok(None);
        };
        let destination = ssh.get_ref().trim().to_owned();
        check_ssh_host(&destination, false).map_err(|m| (ssh.span().start, "ssh", m))?;
        let jump = match self.jump {
            Some(j) => {
                let v = j.get_ref().trim().to_owned();
                for hop in v.split(',') {
                    check_ssh_host(hop.trim(), true)
                        .map_err(|m| (j.span().start, "ssh_jump", m))?;
                }
                Some(v)
            }
            None => None,
        };
        let config = match self.config {
            Some(c) if c.get_ref().trim().is_empty() => {
                return Err((
                    c.span().start,
                    "ssh_config",
                    "ssh_config must name an ssh configuration file".into(),
                ))
            }
            Some(c) => Some(PathBuf::from(c.into_inner())),
            None => None,
        };
        let port = match self.port {
            Some(p) if *p.get_ref() == 0 => {
                return Err((
                    p.span().start,
                    "ssh_port",
                    "ssh_port must be 1 to 65535".into(),
                ))
            }
            Some(p) => Some(p.into_inner()),
            None => None,
        };
        let hosts = conninfo.get_hosts();
        let tcp = matches!(hosts, [tokio_postgres::config::Host::Tcp(_)]);
        if !tcp || conninfo.get_hostaddrs().len() > 1 {
            return Err((
                ssh.span().start,
                "ssh",
                "an SSH tunnel reaches one TCP host: give the connection string a single host \
                 name or address (no Unix-socket directory, no list of hosts)"
                    .into(),
            ));
        }
        Ok(Some(SshSpec {
            destination,
            jump,
            config,
            port,
        }))
    }
}

/// `[user@]host` (with `:port` allowed for a jump host): no spaces, no leading `-` (it would
/// be read as an ssh option), a host part.
fn check_ssh_host(v: &str, jump: bool) -> std::result::Result<(), String> {
    let key = if jump { "ssh_jump" } else { "ssh" };
    let host = v.rsplit('@').next().unwrap_or("");
    if v.is_empty() || host.is_empty() {
        return Err(format!(
            "{key} must name an SSH server: \"user@host\" or \"host\""
        ));
    }
    if v.starts_with('-') || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "'{v}' is not an SSH destination: write \"user@host\" (no spaces, not starting with '-')"
        ));
    }
    if !jump && host.contains(':') && !host.starts_with('[') {
        return Err(format!(
            "'{v}': give the SSH server's port as ssh_port, not in ssh"
        ));
    }
    Ok(())
}

impl Profile {
    /// Reads and validates a profile file.
    ///
    /// Errors: [`Error::Read`] when the file cannot be read; [`Error::Invalid`] naming the
    /// file, line and field when it is not a valid profile (unknown or missing field, a
    /// connection string that does not parse or carries a password, duplicate node names).
    pub fn load(path: impl AsRef<Path>) -> Result<Profile> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| Error::Read {
            path: path.to_owned(),
            error,
        })?;
        let mut profile = Profile::parse(&text, path)?;
        profile.source = Some(path.to_owned());
        Ok(profile)
    }

    /// Parses profile text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Profile> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let invalid = |offset: usize, field: &str, message: String| Error::Invalid {
            path: path.to_owned(),
            line: line_of(offset),
            field: field.to_owned(),
            message,
        };
        let raw: RawProfile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let message = e.message().trim().to_owned();
            let field = field_of_message(&message);
            invalid(offset, &field, message)
        })?;

        let mut names = std::collections::HashSet::new();
        let mut node = |raw: RawNode,
                        field: String,
                        default_name: Option<&str>|
         -> Result<NodeSpec> {
            let name = match (&raw.name, default_name) {
                (Some(n), _) => n.get_ref().trim().to_owned(),
                (None, Some(d)) => d.to_owned(),
                (None, None) => {
                    return Err(invalid(
                        raw.url.span().start,
                        &format!("{field}.name"),
                        "every replica needs a name (name = \"replica1\")".into(),
                    ))
                }
            };
            let name_at = raw
                .name
                .as_ref()
                .map(|n| n.span().start)
                .unwrap_or(raw.url.span().start);
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
            {
                return Err(invalid(
                    name_at,
                    &format!("{field}.name"),
                    format!("'{name}' is not a valid node name: use letters, digits, '-' and '_'"),
                ));
            }
            if !names.insert(name.clone()) {
                return Err(invalid(
                    name_at,
                    &format!("{field}.name"),
                    format!("node name '{name}' is used twice"),
                ));
            }
            let conninfo = check_conninfo(raw.url.get_ref())
                .map_err(|m| invalid(raw.url.span().start, &format!("{field}.url"), m))?;
            let ssh = RawSsh {
                ssh: raw.ssh,
                jump: raw.ssh_jump,
                config: raw.ssh_config,
                port: raw.ssh_port,
            }
            .check(&conninfo)
            .map_err(|(at, key, m)| invalid(at, &format!("{field}.{key}"), m))?;
            let weight = match raw.weight {
                Some(w) if *w.get_ref() == 0 => {
                    return Err(invalid(
                        w.span().start,
                        &format!("{field}.weight"),
                        "weight must be 1 or more".into(),
                    ))
                }
                Some(w) => w.into_inner(),
                None => 1,
            };
            Ok(NodeSpec {
                name,
                url: raw.url.into_inner(),
                region: raw.region,
                weight,
                application_name: raw.application_name,
                ssh,
            })
        };

        let primary = node(raw.primary, "primary".into(), Some("primary"))?;
        let replicas = raw
            .replicas
            .into_iter()
            .enumerate()
            .map(|(i, r)| node(r, format!("replicas[{i}]"), None))
            .collect::<Result<Vec<_>>>()?;

        let lake = raw.lake;
        let catalog = check_conninfo(lake.catalog.get_ref())
            .map_err(|m| invalid(lake.catalog.span().start, "lake.catalog", m))?;
        let lake_ssh = RawSsh {
            ssh: lake.ssh,
            jump: lake.ssh_jump,
            config: lake.ssh_config,
            port: lake.ssh_port,
        }
        .check(&catalog)
        .map_err(|(at, key, m)| invalid(at, &format!("lake.{key}"), m))?;
        if lake.data_path.get_ref().trim().is_empty() {
            return Err(invalid(
                lake.data_path.span().start,
                "lake.data_path",
                "data_path must name a directory".into(),
            ));
        }
        let data_path = lake.data_path.get_ref().clone();
        let storage = match lake.storage {
            Some(st) => {
                let at = st.span().start;
                let spec = st.into_inner();
                if crate::storage::secret_type(&data_path).is_none() {
                    return Err(invalid(
                        at,
                        "lake.storage",
                        format!(
                            "[lake.storage] is for an object-store data_path (s3://bucket/prefix/), \
                             and data_path is the directory {data_path}"
                        ),
                    ));
                }
                spec.check()
                    .map_err(|(key, m)| invalid(at, &format!("lake.storage.{key}"), m))?;
                Some(spec)
            }
            None => None,
        };
        if data_path.contains("://") {
            let azure = ["az://", "azure://", "abfss://"]
                .iter()
                .any(|p| data_path.starts_with(p));
            if azure {
                return Err(invalid(
                    lake.data_path.span().start,
                    "lake.data_path",
                    format!(
                        "'{data_path}' is on Azure Blob Storage, which needs DuckDB's azure \
                         extension: Skein does not install it; use s3://, r2:// or gs://, or an \
                         S3-compatible gateway in front of the container"
                    ),
                ));
            }
            if crate::storage::secret_type(&data_path).is_none() {
                return Err(invalid(
                    lake.data_path.span().start,
                    "lake.data_path",
                    format!(
                        "'{data_path}' is not a data path Skein can use: a directory, or s3://, \
                         r2://, gs:// followed by a bucket"
                    ),
                ));
            }
            if crate::storage::bucket_of(&data_path).is_none() {
                return Err(invalid(
                    lake.data_path.span().start,
                    "lake.data_path",
                    format!("'{data_path}' names no bucket: write s3://BUCKET/PREFIX/"),
                ));
            }
        }
        let lake_name = match lake.name {
            Some(n) if !is_identifier(n.get_ref()) => {
                return Err(invalid(
                    n.span().start,
                    "lake.name",
                    format!(
                        "'{}' is not a valid DuckDB catalog name: use letters, digits and '_'",
                        n.get_ref()
                    ),
                ))
            }
            Some(n) => n.into_inner(),
            None => "lake".to_owned(),
        };
        let t = raw.thresholds;
        if t.lag_warning_ms >= t.lag_critical_ms {
            return Err(Error::Invalid {
                path: path.to_owned(),
                line: text.find("lag_warning_ms").map(line_of).unwrap_or(0),
                field: "thresholds.lag_warning_ms".into(),
                message: format!(
                    "warning ({} ms) must be below critical ({} ms)",
                    t.lag_warning_ms, t.lag_critical_ms
                ),
            });
        }
        let every = raw.sampling.interval_ms;
        if !(Sampling::MIN_MS..=Sampling::MAX_MS).contains(&every) {
            return Err(Error::Invalid {
                path: path.to_owned(),
                line: text.find("interval_ms").map(line_of).unwrap_or(0),
                field: "sampling.interval_ms".into(),
                message: format!(
                    "{every} ms is out of range: sample every {} to {} ms (default 250)",
                    Sampling::MIN_MS,
                    Sampling::MAX_MS
                ),
            });
        }
        if let Err((key, message)) = raw.alerts.check() {
            return Err(Error::Invalid {
                path: path.to_owned(),
                line: text.find(&format!("{key} =")).map(line_of).unwrap_or(0),
                field: format!("alerts.{key}"),
                message,
            });
        }
        Ok(Profile {
            name: raw.name.unwrap_or_else(|| "default".into()),
            passfile: raw.passfile,
            primary,
            replicas,
            lake: LakeSpec {
                catalog: lake.catalog.into_inner(),
                data_path: lake.data_path.into_inner(),
                name: lake_name,
                ssh: lake_ssh,
                storage,
            },
            thresholds: t,
            sampling: raw.sampling,
            alerts: raw.alerts,
            router: raw.router,
            source: None,
        })
    }

    /// Every node, primary first.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeSpec> {
        std::iter::once(&self.primary).chain(self.replicas.iter())
    }

    /// Serialises the profile back to TOML (what `skein sandbox up` writes).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

/// `true` when `s` is a plain SQL identifier (letters, digits, `_`, not starting with a digit).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks a libpq connection string: it must parse and must not carry a password.
fn check_conninfo(conninfo: &str) -> std::result::Result<tokio_postgres::Config, String> {
    let config = crate::conninfo::parse(conninfo)
        .map_err(|e| e.to_string())?
        .config;
    if config.get_password().is_some() {
        return Err(
            "the connection string carries a password; secrets do not belong in profile files: \
             use `skein secret set NODE` (OS keyring), PGPASSWORD or ~/.pgpass"
                .into(),
        );
    }
    if config.get_hosts().is_empty() {
        return Err(
            "the connection string names no host (add host=… or postgresql://HOST/…)".into(),
        );
    }
    Ok(config)
}

/// Pulls the field name out of a serde message such as "missing field `url`".
fn field_of_message(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .map(str::to_owned)
        .unwrap_or_else(|| "profile".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "t"
[primary]
url = "host=127.0.0.1 port=5432 user=postgres dbname=app"
[[replicas]]
name = "r1"
url = "postgresql://postgres@127.0.0.1:5433/app"
weight = 2
[lake]
catalog = "host=127.0.0.1 port=5432 dbname=lake"
data_path = "/tmp/lake"
"#;

    fn err(text: &str) -> Error {
        Profile::parse(text, Path::new("p.toml")).expect_err("profile should be rejected")
    }

    #[test]
    fn parses_a_full_profile() {
        let p = Profile::parse(GOOD, Path::new("p.toml")).expect("valid");
        assert_eq!(p.primary.name, "primary");
        assert_eq!(p.replicas[0].name, "r1");
        assert_eq!(p.replicas[0].weight, 2);
        assert_eq!(p.lake.name, "lake");
        assert_eq!(p.thresholds, Thresholds::default());
        let again = Profile::parse(&p.to_toml(), Path::new("p.toml")).expect("round trip");
        assert_eq!(again, p);
    }

    #[test]
    fn an_object_store_lake_round_trips_and_bad_storage_is_named() {
        let s3 = GOOD.replace("data_path = \"/tmp/lake\"", "data_path = \"s3://lake/data/\"\n[lake.storage]\nendpoint = \"127.0.0.1:3900\"\nregion = \"garage\"\nurl_style = \"path\"\nuse_ssl = false\nkey_id = \"GK1\"");
        let p = Profile::parse(&s3, Path::new("p.toml")).expect("valid");
        let st = p.lake.storage.clone().expect("storage");
        assert_eq!(
            (st.endpoint.as_deref(), st.use_ssl, st.key_id.as_deref()),
            (Some("127.0.0.1:3900"), Some(false), Some("GK1"))
        );
        assert_eq!(
            Profile::parse(&p.to_toml(), Path::new("p.toml")).expect("round trip"),
            p
        );
        let e = err(&GOOD.replace(
            "data_path = \"/tmp/lake\"",
            "data_path = \"/tmp/lake\"\n[lake.storage]\nregion = \"x\"",
        ))
        .to_string();
        assert!(
            e.contains("lake.storage: [lake.storage] is for an object-store data_path"),
            "{e}"
        );
        let e = err(&s3.replace("url_style = \"path\"", "url_style = \"virtual\"")).to_string();
        assert!(
            e.contains("lake.storage.url_style: 'virtual' is neither 'path' nor 'vhost'"),
            "{e}"
        );
        let e = err(&s3.replace("127.0.0.1:3900", "http://127.0.0.1:3900")).to_string();
        assert!(e.contains("lake.storage.endpoint"), "{e}");
        let e = err(&GOOD.replace("/tmp/lake", "ftp://lake/")).to_string();
        assert!(
            e.contains("lake.data_path: 'ftp://lake/' is not a data path Skein can use"),
            "{e}"
        );
        let e = err(&GOOD.replace("/tmp/lake", "az://container/lake/")).to_string();
        assert!(
            e.contains("'az://container/lake/' is on Azure Blob Storage")
                && e.contains("use s3://, r2:// or gs://"),
            "{e}"
        );
        let e = err(&GOOD.replace("/tmp/lake", "s3://")).to_string();
        assert!(e.contains("names no bucket"), "{e}");
        let e =
            err(&s3.replace("key_id = \"GK1\"", "key_id = \"GK1\"\nsecret = \"x\"")).to_string();
        assert!(e.contains("unknown field `secret`"), "{e}");
    }

    #[test]
    fn unknown_field_names_line_and_field() {
        let text = GOOD.replace("weight = 2", "wieght = 2");
        let e = err(&text).to_string();
        assert!(e.starts_with("p.toml:8: wieght:"), "{e}");
    }

    #[test]
    fn password_in_url_is_refused() {
        let text = GOOD.replace("postgres@127.0.0.1:5433", "postgres:secret@127.0.0.1:5433");
        let e = err(&text).to_string();
        assert!(e.starts_with("p.toml:7: replicas[0].url:"), "{e}");
        assert!(e.contains("password"), "{e}");
        assert!(!e.contains("secret@"), "the secret must not be echoed: {e}");
    }

    #[test]
    fn missing_field_and_duplicate_names() {
        let e = err("[primary]\nurl = \"host=x\"\n").to_string();
        assert!(e.contains("lake"), "{e}");
        let dup = GOOD.replace("name = \"r1\"", "name = \"primary\"");
        assert!(err(&dup).to_string().contains("used twice"));
        let bad = GOOD.replace("port=5432 user", "port=notaport user");
        assert!(err(&bad).to_string().starts_with("p.toml:4: primary.url:"));
    }

    #[test]
    fn ssh_keys_parse_round_trip_and_validate() {
        let text = GOOD.replace(
            "weight = 2",
            "weight = 2\nssh = \"me@bastion\"\nssh_jump = \"me@jump:2222\"\nssh_config = \"/etc/skein/ssh_config\"\nssh_port = 2200",
        ) + "ssh = \"cat@bastion\"\n";
        let p = Profile::parse(&text, Path::new("p.toml")).expect("valid");
        let ssh = p.replicas[0].ssh.as_ref().expect("replica ssh");
        assert_eq!(ssh.destination, "me@bastion");
        assert_eq!(ssh.jump.as_deref(), Some("me@jump:2222"));
        assert_eq!(
            ssh.config.as_deref(),
            Some(Path::new("/etc/skein/ssh_config"))
        );
        assert_eq!(ssh.port, Some(2200));
        assert_eq!(ssh.to_string(), "me@bastion (port 2200) via me@jump:2222");
        assert_eq!(p.primary.ssh, None);
        assert_eq!(
            p.lake.ssh.as_ref().map(|s| s.destination.as_str()),
            Some("cat@bastion")
        );
        let toml = p.to_toml();
        assert!(toml.contains("ssh = \"me@bastion\""), "{toml}");
        let again = Profile::parse(&toml, Path::new("p.toml")).expect("round trip");
        assert_eq!(again, p);

        let e = err(&GOOD.replace("weight = 2", "ssh_port = 22")).to_string();
        assert!(e.starts_with("p.toml:8: replicas[0].ssh_port:"), "{e}");
        assert!(e.contains("needs ssh ="), "{e}");
        let e = err(&GOOD.replace("weight = 2", "ssh = \"-oProxyCommand=x\"")).to_string();
        assert!(e.starts_with("p.toml:8: replicas[0].ssh:"), "{e}");
        let e = err(&GOOD.replace("weight = 2", "ssh = \"me@bastion:22\"")).to_string();
        assert!(e.contains("ssh_port"), "{e}");
        let e = err(&GOOD.replace("weight = 2", "ssh = \"b\"\nssh_port = 0")).to_string();
        assert!(e.starts_with("p.toml:9: replicas[0].ssh_port:"), "{e}");
        let e = err(&GOOD.replace("weight = 2", "ssh = \"b\"\nssh_port = 70000")).to_string();
        assert!(e.starts_with("p.toml:9:"), "{e}");
        let sock = GOOD.replace(
            "url = \"postgresql://postgres@127.0.0.1:5433/app\"",
            "url = \"host=/var/run/postgresql dbname=app\"\nssh = \"b\"",
        );
        let e = err(&sock).to_string();
        assert!(
            e.starts_with("p.toml:8: replicas[0].ssh:") && e.contains("TCP host"),
            "{e}"
        );
        let e = err(&format!("{GOOD}ssh_jump = \"j\"\n")).to_string();
        assert!(e.contains("lake.ssh_jump"), "{e}");
    }

    #[test]
    fn sampling_defaults_to_250_ms_and_refuses_a_period_out_of_range() {
        let parse = |t: &str| Profile::parse(t, Path::new("p.toml")).expect("valid");
        assert_eq!(parse(GOOD).sampling.interval_ms, 250);
        let fast = parse(&format!("{GOOD}[sampling]\ninterval_ms = 100\n"));
        assert_eq!(fast.sampling.interval_ms, 100);
        let e = err(&format!("{GOOD}[sampling]\ninterval_ms = 5\n")).to_string();
        assert!(
            e.contains("sampling.interval_ms") && e.contains("50 to 60000"),
            "{e}"
        );
    }

    #[test]
    fn thresholds_must_be_ordered() {
        let text = format!("{GOOD}[thresholds]\nlag_warning_ms = 9000\nlag_critical_ms = 100\n");
        assert!(err(&text).to_string().contains("thresholds.lag_warning_ms"));
    }
}
