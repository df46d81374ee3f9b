//! Profiles written by the connection editor instead of by hand.
//!
//! - [`ProfileDraft`] is the editor's model of a profile: every node's connection split into
//!   the fields a form shows ([`ConnDraft`]: host, port, user, dbname, the TLS keys and the
//!   other libpq keys as written), plus the SSH and lake settings. Passwords are never part
//!   of it: they go to the OS keyring ([`crate::secrets::store_password`]).
//! - [`ProfileDraft::from_toml`] reads one from a profile file's text (leniently: missing
//!   keys are empty fields, so a half-written profile can still be opened for editing).
//! - [`render`] turns a draft into profile TOML with `toml_edit`, editing the existing
//!   document in place: comments, key order, quoting and every value the draft did not
//!   change stay as they were, keys the editor does not know (`[router]`, …) are kept, and a
//!   connection string whose fields did not change keeps its own spelling (a URL stays a URL).
//! - [`save`] renders, validates the result with the profile loader ([`Profile::parse`])
//!   before anything is written, replaces the file atomically and reads it back.
//!
//! Connection strings are libpq's: a URL (`postgresql://user@host:5432/db?sslmode=require`)
//! or `key=value` pairs (`host=db1 port=5432 sslmode=verify-full`). The editor writes the
//! `key=value` form; TLS settings are libpq keys inside it (`sslmode`, `sslrootcert`,
//! `sslcert`, `sslkey`), as a hand-written profile has them.

use std::path::Path;

use serde::{Deserialize, Serialize};
use toml_edit::{DocumentMut, Item, Table, TableLike, Value};

use crate::error::{Error, Result};
use crate::profile::{Profile, Thresholds};

/// libpq's six `sslmode` values, weakest first.
pub const SSLMODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// One libpq connection split into the fields the editor shows. Empty text means "not set"
/// (libpq's default applies: port 5432, the OS user, a database named like the user,
/// `sslmode=prefer`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ConnDraft {
    /// `host`: a name, an address or a Unix-socket directory; comma-separated for several.
    pub host: String,
    /// `port`, as written (comma-separated when there are several hosts).
    pub port: String,
    /// `user`: the role to log in as.
    pub user: String,
    /// `dbname`.
    pub dbname: String,
    /// `sslmode`: one of [`SSLMODES`], or empty for libpq's default (`prefer`).
    pub sslmode: String,
    /// `sslrootcert`: the CA certificates the server's certificate must chain to (a path).
    pub sslrootcert: String,
    /// `sslcert`: the client certificate (a path).
    pub sslcert: String,
    /// `sslkey`: the client certificate's private key (a path; the key itself never goes in
    /// a profile).
    pub sslkey: String,
    /// Every other libpq key, in the order written (`application_name`, `connect_timeout`,
    /// `options`, `hostaddr`, …).
    pub params: Vec<ConnParam>,
}

/// A libpq key and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ConnParam {
    /// The libpq key (`connect_timeout`).
    pub key: String,
    /// Its value, unquoted.
    pub value: String,
}

/// A connection string taken apart: its fields and, separately, the password it carried
/// (which the editor moves to the keyring; it never goes back into a profile).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ParsedConn {
    /// The fields.
    pub conn: ConnDraft,
    /// The `password` the string carried, if any.
    pub password: Option<String>,
}

impl std::fmt::Debug for ParsedConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedConn")
            .field("conn", &self.conn)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .finish()
    }
}

/// SSH tunnel settings of a node or of the lake's catalog (profile keys `ssh`, `ssh_jump`,
/// `ssh_config`, `ssh_port`). Empty `ssh`: no tunnel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SshDraft {
    /// `ssh`: the SSH server to tunnel through (`me@bastion`).
    pub ssh: String,
    /// `ssh_jump`: a jump host on the way (`ssh -J`).
    pub jump: String,
    /// `ssh_config`: an ssh_config file to use (`ssh -F`).
    pub config: String,
    /// `ssh_port`: the SSH server's port, when not 22 or the config's.
    pub port: Option<u16>,
}

/// A PostgreSQL node as the editor shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct NodeDraft {
    /// Node name (`primary`, `replica1`): letters, digits, `-` and `_`.
    pub name: String,
    /// Its connection.
    pub conn: ConnDraft,
    /// Region label for nearest-region routing; empty for none.
    pub region: String,
    /// Relative weight for balancing reads (≥ 1).
    pub weight: u32,
    /// How the primary's `pg_stat_replication.application_name` names this replica; empty:
    /// the replica's `cluster_name`, then its name.
    pub application_name: String,
    /// SSH tunnel.
    pub ssh: SshDraft,
}

/// The lake as the editor shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LakeDraft {
    /// The DuckDB catalog name (`lake`); empty for the default.
    pub name: String,
    /// The catalog database's connection.
    pub catalog: ConnDraft,
    /// Directory (or object-store URL) of the lake's data files.
    pub data_path: String,
    /// SSH tunnel to the catalog.
    pub ssh: SshDraft,
    /// `[lake.storage]`, the object store of an `s3://…` data path (ignored, and the table
    /// removed, for a directory).
    #[serde(default)]
    pub storage: StorageDraft,
}

/// `[lake.storage]` as the editor shows it: empty text means "not set". The secret key is
/// never part of it: it goes to the OS keyring (`skein secret set storage`, or the editor's
/// secret key field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct StorageDraft {
    /// `host:port` of an S3-compatible store; empty for AWS S3.
    pub endpoint: String,
    /// The region (`us-east-1`, `garage`).
    pub region: String,
    /// `path` or `vhost`; empty for DuckDB's default (`vhost`).
    pub url_style: String,
    /// HTTPS to the endpoint; `null` for DuckDB's default (on).
    pub use_ssl: Option<bool>,
    /// The access key id; its secret key is in the keyring or an AWS credentials file.
    pub key_id: String,
    /// A profile of the AWS credentials file.
    pub aws_profile: String,
    /// An AWS credentials file other than `~/.aws/credentials`.
    pub credentials_file: String,
    /// A health endpoint the console polls (`http://host:3903/health` for Garage).
    pub health_url: String,
}

/// A whole profile as the editor shows it (see the module header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ProfileDraft {
    /// Display name of the stack.
    pub name: String,
    /// A libpq password file to look passwords up in; empty for none.
    pub passfile: String,
    /// The primary.
    pub primary: NodeDraft,
    /// The replicas, in order.
    pub replicas: Vec<NodeDraft>,
    /// The lake.
    pub lake: LakeDraft,
    /// Lag thresholds, ms.
    pub thresholds: Thresholds,
}

impl ConnDraft {
    /// Takes a libpq connection string apart (URL or `key=value` pairs). Later keys win over
    /// earlier ones, as in libpq; `ssl=true` in a URL means `sslmode=require`.
    ///
    /// Errors: a message saying what does not parse (an unterminated quote, a key without
    /// `=`, an `sslmode` libpq does not know). The password never appears in it.
    pub fn parse(conninfo: &str) -> std::result::Result<ParsedConn, String> {
        let text = conninfo.trim();
        let pairs = if let Some(rest) = text
            .strip_prefix("postgresql://")
            .or_else(|| text.strip_prefix("postgres://"))
        {
            uri_pairs(rest)?
        } else {
            keyword_pairs(text)?
        };
        let mut conn = ConnDraft::default();
        let mut password = None;
        for (key, value) in pairs {
            let slot = match key.as_str() {
                "host" => &mut conn.host,
                "port" => &mut conn.port,
                "user" => &mut conn.user,
                "dbname" => &mut conn.dbname,
                "sslmode" => &mut conn.sslmode,
                "sslrootcert" => &mut conn.sslrootcert,
                "sslcert" => &mut conn.sslcert,
                "sslkey" => &mut conn.sslkey,
                "password" => {
                    password = Some(value);
                    continue;
                }
                _ => {
                    match conn.params.iter_mut().find(|p| p.key == key) {
                        Some(p) => p.value = value,
                        None => conn.params.push(ConnParam { key, value }),
                    }
                    continue;
                }
            };
            *slot = value;
        }
        if !conn.sslmode.is_empty() && !SSLMODES.contains(&conn.sslmode.as_str()) {
            return Err(format!(
                "sslmode '{}' is not one of libpq's: {}",
                conn.sslmode,
                SSLMODES.join(", ")
            ));
        }
        Ok(ParsedConn { conn, password })
    }

    /// The `key=value` connection string of these fields (empty fields left out; values
    /// quoted where libpq needs it).
    pub fn to_conninfo(&self) -> String {
        let fixed = [
            ("host", &self.host),
            ("port", &self.port),
            ("user", &self.user),
            ("dbname", &self.dbname),
            ("sslmode", &self.sslmode),
            ("sslrootcert", &self.sslrootcert),
            ("sslcert", &self.sslcert),
            ("sslkey", &self.sslkey),
        ];
        fixed
            .into_iter()
            .map(|(k, v)| (k, v.trim()))
            .chain(self.params.iter().map(|p| (p.key.trim(), p.value.as_str())))
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .map(|(k, v)| format!("{k}={}", quote_value(v)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The first host and port, for messages and network checks (`None` for a Unix socket
    /// or when no host is set).
    pub fn first_tcp_endpoint(&self) -> Option<(String, u16)> {
        let host = self.host.split(',').next()?.trim();
        if host.is_empty() || host.starts_with('/') || host.starts_with('@') {
            return None;
        }
        let port = self
            .port
            .split(',')
            .next()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.parse::<u16>().ok())
            .unwrap_or(Some(5432))?;
        Some((host.to_owned(), port))
    }
}

/// Quotes a `key=value` value the way libpq reads it back.
fn quote_value(v: &str) -> String {
    if !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\')
    {
        v.to_owned()
    } else {
        format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// `key=value` pairs of libpq's keyword form.
fn keyword_pairs(text: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(format!(
                "missing '=' after '{key}' in the connection string (write key=value pairs or a postgresql:// URL)"
            ));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => {
                        return Err(format!("the quoted value of '{key}' has no closing quote"))
                    }
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
}

/// The pairs of a `postgresql://` URL (after the scheme).
fn uri_pairs(rest: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let decode = |s: &str| -> std::result::Result<String, String> {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| "the URL holds a percent-escape that is not UTF-8".to_owned())
    };
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = before_query.split_once('/').unwrap_or((before_query, ""));
    let mut out = Vec::new();
    let hostlist = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                out.push(("user".to_owned(), decode(user)?));
            }
            if let Some(p) = password {
                out.push(("password".to_owned(), decode(p)?));
            }
            hosts
        }
        None => authority,
    };
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    for spec in hostlist.split(',').filter(|s| !s.is_empty()) {
        let (host, port) = if let Some(v6) = spec.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("the IPv6 address in '{spec}' has no closing ']'"))?;
            (h, after.strip_prefix(':'))
        } else {
            match spec.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (spec, None),
            }
        };
        hosts.push(decode(host)?);
        ports.push(port.unwrap_or("").to_owned());
    }
    if !hosts.is_empty() {
        out.push(("host".to_owned(), hosts.join(",")));
    }
    if ports.iter().any(|p| !p.is_empty()) {
        out.push(("port".to_owned(), ports.join(",")));
    }
    if !path.is_empty() {
        out.push(("dbname".to_owned(), decode(path)?));
    }
    for param in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = param
            .split_once('=')
            .ok_or_else(|| format!("the URL parameter '{param}' has no '='"))?;
        let (k, v) = (decode(k)?, decode(v)?);
        if k == "ssl" && v == "true" {
            out.push(("sslmode".to_owned(), "require".to_owned()));
        } else {
            out.push((k, v));
        }
    }
    Ok(out)
}

impl ProfileDraft {
    /// An empty profile: a primary with no connection yet, no replicas, an empty lake and
    /// the default thresholds.
    pub fn blank() -> ProfileDraft {
        ProfileDraft {
            name: String::new(),
            passfile: String::new(),
            primary: NodeDraft {
                name: "primary".into(),
                conn: ConnDraft::default(),
                region: String::new(),
                weight: 1,
                application_name: String::new(),
                ssh: SshDraft::default(),
            },
            replicas: Vec::new(),
            lake: LakeDraft {
                name: String::new(),
                catalog: ConnDraft::default(),
                data_path: String::new(),
                ssh: SshDraft::default(),
                storage: StorageDraft::default(),
            },
            thresholds: Thresholds::default(),
        }
    }

    /// Reads a draft from profile text. Lenient: a missing key is an empty field, so a
    /// profile that does not validate yet can still be opened in the editor.
    ///
    /// Errors: [`Error::Invalid`] (naming `path` and the field) when the text is not TOML,
    /// a value has the wrong type, or a connection string does not parse.
    pub fn from_toml(text: &str, path: &Path) -> Result<ProfileDraft> {
        let invalid = |field: &str, message: String| Error::Invalid {
            path: path.to_owned(),
            line: 0,
            field: field.to_owned(),
            message,
        };
        let doc: DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| invalid("profile", e.message().trim().to_owned()))?;
        let root = doc.as_table();
        let mut draft = ProfileDraft::blank();
        draft.name = str_of(root, "name", "name", &invalid)?;
        draft.passfile = str_of(root, "passfile", "passfile", &invalid)?;
        if let Some(t) = table_of(root.get("primary"), "primary", &invalid)? {
            draft.primary = node_of(t, "primary", Some("primary"), &invalid)?;
        }
        match root.get("replicas") {
            None => {}
            Some(Item::ArrayOfTables(aot)) => {
                for (i, t) in aot.iter().enumerate() {
                    draft
                        .replicas
                        .push(node_of(t, &format!("replicas[{i}]"), None, &invalid)?);
                }
            }
            Some(_) => {
                return Err(invalid(
                    "replicas",
                    "replicas must be an array of tables ([[replicas]])".into(),
                ))
            }
        }
        if let Some(t) = table_of(root.get("lake"), "lake", &invalid)? {
            draft.lake = LakeDraft {
                name: str_of(t, "name", "lake.name", &invalid)?,
                catalog: conn_of(t, "catalog", "lake.catalog", &invalid)?,
                data_path: str_of(t, "data_path", "lake.data_path", &invalid)?,
                ssh: ssh_of(t, "lake", &invalid)?,
                storage: match table_of(t.get("storage"), "lake.storage", &invalid)? {
                    Some(st) => storage_of(st, &invalid)?,
                    None => StorageDraft::default(),
                },
            };
        }
        if let Some(t) = table_of(root.get("thresholds"), "thresholds", &invalid)? {
            let d = Thresholds::default();
            draft.thresholds = Thresholds {
                lag_warning_ms: int_of(t, "lag_warning_ms", "thresholds", &invalid)?
                    .map(|v| v.max(0) as u64)
                    .unwrap_or(d.lag_warning_ms),
                lag_critical_ms: int_of(t, "lag_critical_ms", "thresholds", &invalid)?
                    .map(|v| v.max(0) as u64)
                    .unwrap_or(d.lag_critical_ms),
                slot_wal_warning_bytes: int_of(
                    t,
                    "slot_wal_warning_bytes",
                    "thresholds",
                    &invalid,
                )?
                .map(|v| v.max(0) as u64)
                .unwrap_or(d.slot_wal_warning_bytes),
            };
        }
        Ok(draft)
    }

    /// The profile this draft describes, validated by the profile loader (as if read from
    /// `path`, which only names it in messages).
    ///
    /// Errors: [`Error::Invalid`] naming the field, as for a hand-written profile.
    pub fn to_profile(&self, path: &Path) -> Result<Profile> {
        Profile::parse(&render(None, self)?, path)
    }
}

type Invalid<'a> = &'a dyn Fn(&str, String) -> Error;

fn table_of<'t>(
    item: Option<&'t Item>,
    field: &str,
    invalid: Invalid<'_>,
) -> Result<Option<&'t dyn TableLike>> {
    match item {
        None => Ok(None),
        Some(i) => i
            .as_table_like()
            .map(Some)
            .ok_or_else(|| invalid(field, format!("{field} must be a table ([{field}])"))),
    }
}

fn str_of(t: &dyn TableLike, key: &str, field: &str, invalid: Invalid<'_>) -> Result<String> {
    match t.get(key) {
        None => Ok(String::new()),
        Some(i) => i
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| invalid(field, format!("{field} must be a string"))),
    }
}

fn int_of(t: &dyn TableLike, key: &str, table: &str, invalid: Invalid<'_>) -> Result<Option<i64>> {
    match t.get(key) {
        None => Ok(None),
        Some(i) => i
            .as_integer()
            .map(Some)
            .ok_or_else(|| invalid(&format!("{table}.{key}"), format!("{key} must be a number"))),
    }
}

fn conn_of(t: &dyn TableLike, key: &str, field: &str, invalid: Invalid<'_>) -> Result<ConnDraft> {
    let text = str_of(t, key, field, invalid)?;
    if text.trim().is_empty() {
        return Ok(ConnDraft::default());
    }
    ConnDraft::parse(&text)
        .map(|p| p.conn)
        .map_err(|m| invalid(field, m))
}

fn ssh_of(t: &dyn TableLike, field: &str, invalid: Invalid<'_>) -> Result<SshDraft> {
    Ok(SshDraft {
        ssh: str_of(t, "ssh", &format!("{field}.ssh"), invalid)?,
        jump: str_of(t, "ssh_jump", &format!("{field}.ssh_jump"), invalid)?,
        config: str_of(t, "ssh_config", &format!("{field}.ssh_config"), invalid)?,
        port: int_of(t, "ssh_port", field, invalid)?.and_then(|p| u16::try_from(p).ok()),
    })
}

fn storage_of(t: &dyn TableLike, invalid: Invalid<'_>) -> Result<StorageDraft> {
    let f = |key: &str| str_of(t, key, &format!("lake.storage.{key}"), invalid);
    Ok(StorageDraft {
        endpoint: f("endpoint")?,
        region: f("region")?,
        url_style: f("url_style")?,
        use_ssl: match t.get("use_ssl") {
            None => None,
            Some(i) => Some(i.as_bool().ok_or_else(|| {
                invalid(
                    "lake.storage.use_ssl",
                    "use_ssl must be true or false".into(),
                )
            })?),
        },
        key_id: f("key_id")?,
        aws_profile: f("aws_profile")?,
        credentials_file: f("credentials_file")?,
        health_url: f("health_url")?,
    })
}

fn node_of(
    t: &dyn TableLike,
    field: &str,
    default_name: Option<&str>,
    invalid: Invalid<'_>,
) -> Result<NodeDraft> {
    let name = str_of(t, "name", &format!("{field}.name"), invalid)?;
    Ok(NodeDraft {
        name: if name.is_empty() {
            default_name.unwrap_or_default().to_owned()
        } else {
            name
        },
        conn: conn_of(t, "url", &format!("{field}.url"), invalid)?,
        region: str_of(t, "region", &format!("{field}.region"), invalid)?,
        weight: int_of(t, "weight", field, invalid)?
            .and_then(|w| u32::try_from(w).ok())
            .unwrap_or(1),
        application_name: str_of(
            t,
            "application_name",
            &format!("{field}.application_name"),
            invalid,
        )?,
        ssh: ssh_of(t, field, invalid)?,
    })
}

// ---- writing ----

const HEADER: &str =
    "# Skein profile: the primary, its replicas, the DuckLake lake and the lag thresholds.\n\
# Written by the connection editor; comments and keys it does not know are kept.\n\
# Passwords are not kept here: they live in the OS keyring (or PGPASSWORD, ~/.pgpass).\n";

/// Profile TOML for `draft`. With `existing` (the file's current text), that document is
/// edited in place (see the module header); without, a new document is written.
///
/// Errors: [`Error::Invalid`] when `existing` is not TOML or a table the draft fills is
/// something else in it (`primary = "…"`).
pub fn render(existing: Option<&str>, draft: &ProfileDraft) -> Result<String> {
    let here = Path::new("profile");
    let invalid = |field: &str, message: String| Error::Invalid {
        path: here.to_owned(),
        line: 0,
        field: field.to_owned(),
        message,
    };
    let mut doc: DocumentMut = match existing {
        Some(text) => text
            .parse()
            .map_err(|e: toml_edit::TomlError| invalid("profile", e.message().trim().to_owned()))?,
        None => DocumentMut::new(),
    };
    let root = doc.as_table_mut();
    set_str(root, "name", draft.name.trim());
    if existing.is_none() {
        if let Some(mut key) = root.key_mut("name") {
            key.leaf_decor_mut().set_prefix(HEADER);
        }
    }
    set_opt(root, "passfile", &draft.passfile);

    let primary = table_mut(root, "primary", &invalid)?;
    write_node(primary, &draft.primary, true);

    write_replicas(root, &draft.replicas, &invalid)?;

    let lake = table_mut(root, "lake", &invalid)?;
    set_conn(lake, "catalog", &draft.lake.catalog);
    set_str(lake, "data_path", draft.lake.data_path.trim());
    let lake_name = draft.lake.name.trim();
    if lake_name.is_empty() || (lake_name == "lake" && !lake.contains_key("name")) {
        lake.remove("name");
    } else {
        set_str(lake, "name", lake_name);
    }
    write_ssh(lake, &draft.lake.ssh);
    write_storage(lake, draft, &invalid)?;

    let t = draft.thresholds;
    if t != Thresholds::default() || root.contains_key("thresholds") {
        let th = table_mut(root, "thresholds", &invalid)?;
        set_int(th, "lag_warning_ms", t.lag_warning_ms as i64);
        set_int(th, "lag_critical_ms", t.lag_critical_ms as i64);
        if t.slot_wal_warning_bytes != Thresholds::default().slot_wal_warning_bytes
            || th.contains_key("slot_wal_warning_bytes")
        {
            set_int(
                th,
                "slot_wal_warning_bytes",
                t.slot_wal_warning_bytes as i64,
            );
        }
    }
    Ok(doc.to_string())
}

/// Renders `draft` over the file at `path` (if it exists), validates the result with the
/// profile loader, writes it atomically (a temporary file beside it, then a rename; the old
/// file's permissions are kept) and reads it back.
///
/// Errors: [`Error::Invalid`] naming the field when the draft does not make a valid
/// profile (nothing is written then); [`Error::Read`] / [`Error::Write`] for I/O.
pub fn save(path: &Path, draft: &ProfileDraft) -> Result<Profile> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(Error::Read {
                path: path.to_owned(),
                error,
            })
        }
    };
    let text = render(existing.as_deref(), draft).map_err(|e| match e {
        Error::Invalid {
            line,
            field,
            message,
            ..
        } => Error::Invalid {
            path: path.to_owned(),
            line,
            field,
            message,
        },
        other => other,
    })?;
    Profile::parse(&text, path)?;
    write_atomically(path, &text).map_err(|error| Error::Write {
        path: path.to_owned(),
        error,
    })?;
    Profile::load(path)
}

/// Writes `rules` as the `[alerts]` table of the profile at `path`, keeping everything else
/// as written (comments included): a key is written when it differs from its default or was
/// there already. Validated with the profile loader before the file is replaced, atomically.
///
/// Errors: [`Error::Invalid`] naming `alerts.KEY` when a value is out of range (nothing is
/// written then); [`Error::Read`] / [`Error::Write`] for I/O.
pub fn save_alerts(path: &Path, rules: &crate::AlertRules) -> Result<Profile> {
    let text = std::fs::read_to_string(path).map_err(|error| Error::Read {
        path: path.to_owned(),
        error,
    })?;
    let invalid = |field: &str, message: String| Error::Invalid {
        path: path.to_owned(),
        line: 0,
        field: field.to_owned(),
        message,
    };
    if let Err((key, message)) = rules.check() {
        return Err(invalid(&format!("alerts.{key}"), message));
    }
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| invalid("profile", e.message().to_owned()))?;
    let to_table = |r: &crate::AlertRules| {
        toml::Value::try_from(r)
            .ok()
            .and_then(|v| v.as_table().cloned())
            .unwrap_or_default()
    };
    let (new, defaults) = (to_table(rules), to_table(&crate::AlertRules::default()));
    let table = table_mut(doc.as_table_mut(), "alerts", &invalid)?;
    for (key, value) in &new {
        if defaults.get(key) == Some(value) && !table.contains_key(key) {
            continue;
        }
        let v = match value {
            toml::Value::Integer(i) => Value::from(*i),
            toml::Value::Float(f) => Value::from(*f),
            toml::Value::Boolean(b) => Value::from(*b),
            other => {
                return Err(invalid(
                    &format!("alerts.{key}"),
                    format!("unexpected {other}"),
                ))
            }
        };
        match table.get_mut(key) {
            Some(Item::Value(old)) => {
                let decor = old.decor().clone();
                *old = v;
                *old.decor_mut() = decor;
            }
            _ => {
                table.insert(key, Item::Value(v));
            }
        }
    }
    let text = doc.to_string();
    Profile::parse(&text, path)?;
    write_atomically(path, &text).map_err(|error| Error::Write {
        path: path.to_owned(),
        error,
    })?;
    Profile::load(path)
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes())?;
    tmp.as_file().sync_all()?;
    let perms = match std::fs::metadata(path) {
        Ok(m) => m.permissions(),
        Err(_) => std::os::unix::fs::PermissionsExt::from_mode(0o644),
    };
    std::fs::set_permissions(tmp.path(), perms)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn table_mut<'t>(
    parent: &'t mut Table,
    key: &str,
    invalid: &dyn Fn(&str, String) -> Error,
) -> Result<&'t mut dyn TableLike> {
    if !parent.contains_key(key) {
        // A new table goes at the end of the file (the tables of a parsed file are printed
        // in the order of their positions).
        let last = parent
            .iter()
            .flat_map(|(_, item)| match item {
                Item::Table(t) => vec![t.position()],
                Item::ArrayOfTables(a) => a.iter().map(Table::position).collect(),
                _ => Vec::new(),
            })
            .flatten()
            .max();
        let mut table = Table::new();
        if let Some(p) = last {
            table.set_position(p + 1);
        }
        parent.insert(key, Item::Table(table));
    }
    parent
        .get_mut(key)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| invalid(key, format!("{key} must be a table ([{key}])")))
}

fn write_node(t: &mut dyn TableLike, node: &NodeDraft, primary: bool) {
    let name = node.name.trim();
    if primary && name == "primary" && !t.contains_key("name") {
        // The primary's default name: a hand-written profile leaves it out.
    } else {
        set_str(t, "name", name);
    }
    set_conn(t, "url", &node.conn);
    set_opt(t, "region", &node.region);
    if node.weight == 1 && !t.contains_key("weight") {
        // The default weight: left out, as by hand.
    } else {
        set_int(t, "weight", i64::from(node.weight));
    }
    set_opt(t, "application_name", &node.application_name);
    write_ssh(t, &node.ssh);
}

/// `[lake.storage]` for an object-store data path (a field left empty is removed, other keys
/// are kept); for a directory, or nothing set, the table goes.
fn write_storage(
    lake: &mut dyn TableLike,
    draft: &ProfileDraft,
    invalid: &dyn Fn(&str, String) -> Error,
) -> Result<()> {
    let st = &draft.lake.storage;
    let object_store = draft.lake.data_path.trim().contains("://");
    if !object_store || *st == StorageDraft::default() {
        lake.remove("storage");
        return Ok(());
    }
    if !lake.contains_key("storage") {
        lake.insert("storage", Item::Table(Table::new()));
    }
    let t = lake
        .get_mut("storage")
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| {
            invalid(
                "lake.storage",
                "lake.storage must be a table ([lake.storage])".into(),
            )
        })?;
    set_opt(t, "endpoint", &st.endpoint);
    set_opt(t, "region", &st.region);
    set_opt(t, "url_style", &st.url_style);
    match st.use_ssl {
        Some(v) => match t.get_mut("use_ssl") {
            Some(Item::Value(old)) if old.as_bool() == Some(v) => {}
            _ => {
                t.insert("use_ssl", toml_edit::value(v));
            }
        },
        None => {
            t.remove("use_ssl");
        }
    }
    set_opt(t, "key_id", &st.key_id);
    set_opt(t, "aws_profile", &st.aws_profile);
    set_opt(t, "credentials_file", &st.credentials_file);
    set_opt(t, "health_url", &st.health_url);
    Ok(())
}

fn write_ssh(t: &mut dyn TableLike, ssh: &SshDraft) {
    set_opt(t, "ssh", &ssh.ssh);
    set_opt(t, "ssh_jump", &ssh.jump);
    set_opt(t, "ssh_config", &ssh.config);
    match ssh.port {
        Some(p) => set_int(t, "ssh_port", i64::from(p)),
        None => {
            t.remove("ssh_port");
        }
    }
}

/// Writes the `[[replicas]]` array: an existing table is matched by the replica's name
/// (then, for a renamed replica, the next table no draft claimed), so its comments and
/// other keys move with it; tables no draft claims are removed.
fn write_replicas(
    root: &mut Table,
    replicas: &[NodeDraft],
    invalid: &dyn Fn(&str, String) -> Error,
) -> Result<()> {
    let mut old: Vec<Option<Table>> = match root.remove("replicas") {
        None => Vec::new(),
        Some(Item::ArrayOfTables(aot)) => aot.into_iter().map(Some).collect(),
        Some(_) => {
            return Err(invalid(
                "replicas",
                "replicas must be an array of tables ([[replicas]])".into(),
            ))
        }
    };
    if replicas.is_empty() {
        return Ok(());
    }
    let name_of = |t: &Table| t.get("name").and_then(Item::as_str).map(str::to_owned);
    let mut positions: Vec<usize> = old.iter().flatten().filter_map(Table::position).collect();
    positions.sort_unstable();
    // First pass: by name.
    let mut claimed: Vec<Option<Table>> = replicas
        .iter()
        .map(|r| {
            let i = old
                .iter()
                .position(|t| t.as_ref().and_then(name_of).as_deref() == Some(r.name.trim()))?;
            old[i].take()
        })
        .collect();
    // Second pass: renamed replicas take the tables left, in order.
    for slot in claimed.iter_mut().filter(|s| s.is_none()) {
        if let Some(i) = old.iter().position(Option::is_some) {
            *slot = old[i].take();
        }
    }
    // Keep the array in the draft's order wherever it sits in the file: the i-th table takes
    // the i-th old position (the last one for tables past the old count, ties keeping array
    // order); with no old replicas they follow [primary].
    if positions.is_empty() {
        positions.extend(
            root.get("primary")
                .and_then(Item::as_table)
                .and_then(Table::position),
        );
    }
    let mut aot = toml_edit::ArrayOfTables::new();
    for (i, (draft, table)) in replicas.iter().zip(claimed).enumerate() {
        let mut table = table.unwrap_or_default();
        if let Some(p) = positions.get(i).or(positions.last()) {
            table.set_position(*p);
        }
        write_node(&mut table, draft, false);
        aot.push(table);
    }
    root.insert("replicas", Item::ArrayOfTables(aot));
    Ok(())
}

/// Sets a string, keeping the value's own comments and spelling when it does not change.
fn set_str(t: &mut dyn TableLike, key: &str, v: &str) {
    match t.get_mut(key) {
        Some(Item::Value(old)) if old.as_str() == Some(v) => {}
        Some(Item::Value(old)) => {
            let decor = old.decor().clone();
            *old = Value::from(v);
            *old.decor_mut() = decor;
        }
        _ => {
            t.insert(key, toml_edit::value(v));
        }
    }
}

/// Sets a string, or removes the key when `v` is empty.
fn set_opt(t: &mut dyn TableLike, key: &str, v: &str) {
    if v.trim().is_empty() {
        t.remove(key);
    } else {
        set_str(t, key, v.trim());
    }
}

fn set_int(t: &mut dyn TableLike, key: &str, v: i64) {
    match t.get_mut(key) {
        Some(Item::Value(old)) if old.as_integer() == Some(v) => {}
        Some(Item::Value(old)) => {
            let decor = old.decor().clone();
            *old = Value::from(v);
            *old.decor_mut() = decor;
        }
        _ => {
            t.insert(key, toml_edit::value(v));
        }
    }
}

/// Sets a connection string: kept as written when it holds the same fields, else the
/// fields' `key=value` form.
fn set_conn(t: &mut dyn TableLike, key: &str, conn: &ConnDraft) {
    let same = t
        .get(key)
        .and_then(Item::as_str)
        .and_then(|s| ConnDraft::parse(s).ok())
        .is_some_and(|p| p.conn == *conn && p.password.is_none());
    if !same {
        set_str(t, key, &conn.to_conninfo());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HAND_WRITTEN: &str = r#"# Production EU: keep this comment.
name = "prod-eu"

[primary]
# the writer
url = "postgresql://skein_monitor@db1.example.com:5432/app?sslmode=verify-full&sslrootcert=/etc/ca.pem"
region = "eu-west"  # where it runs

[[replicas]]
name = "r1"  # first replica
url = "host=db2.example.com port=5432 user=skein_monitor dbname=app"
weight = 2

[[replicas]]
name = "r2"
url = "host=db3.example.com port=5432 user=skein_monitor dbname=app"

[lake]
catalog = "host=db1.example.com user=skein dbname=lake"
data_path = "/srv/lake/"

[router]
read_splitting = true
"#;

    fn p() -> &'static Path {
        Path::new("p.toml")
    }

    #[test]
    fn conninfo_in_both_forms() {
        let url = ConnDraft::parse(
            "postgresql://me:s%40cret@[::1]:5433,h2/db%20x?sslmode=verify-ca&sslrootcert=/ca.pem&connect_timeout=5",
        )
        .expect("url");
        assert_eq!(url.password.as_deref(), Some("s@cret"));
        let c = url.conn;
        assert_eq!((c.host.as_str(), c.port.as_str()), ("::1,h2", "5433,"));
        assert_eq!((c.user.as_str(), c.dbname.as_str()), ("me", "db x"));
        assert_eq!(
            (c.sslmode.as_str(), c.sslrootcert.as_str()),
            ("verify-ca", "/ca.pem")
        );
        assert_eq!(c.params[0].key, "connect_timeout");

        let kv = ConnDraft::parse(
            "host=h port = 5432 user=u password='it\\'s' application_name='my app' sslkey=/k\\ ey",
        )
        .expect("kv");
        assert_eq!(kv.password.as_deref(), Some("it's"));
        assert_eq!(kv.conn.sslkey, "/k ey");
        assert_eq!(kv.conn.params[0].value, "my app");
        let again = ConnDraft::parse(&kv.conn.to_conninfo()).expect("round trip");
        assert_eq!(again.conn, kv.conn);
        assert_eq!(again.password, None, "the password never goes back");

        assert!(ConnDraft::parse("host=h sslmode=strict")
            .expect_err("rejected")
            .contains("verify-full"));
        assert!(ConnDraft::parse("host")
            .expect_err("rejected")
            .contains("'='"));
        let e = ConnDraft::parse("host=h password='secret").expect_err("rejected");
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn round_trip_keeps_comments_and_untouched_spelling() {
        let draft = ProfileDraft::from_toml(HAND_WRITTEN, p()).expect("read");
        assert_eq!(draft.name, "prod-eu");
        assert_eq!(draft.primary.conn.sslmode, "verify-full");
        assert_eq!(draft.replicas[0].weight, 2);
        // Nothing changed: the same text.
        assert_eq!(
            render(Some(HAND_WRITTEN), &draft).expect("render"),
            HAND_WRITTEN
        );

        let mut changed = draft.clone();
        changed.primary.conn.sslmode = "require".into();
        changed.replicas[1].weight = 3;
        changed.replicas.insert(
            0,
            NodeDraft {
                name: "r0".into(),
                ..draft.replicas[1].clone()
            },
        );
        changed.thresholds.lag_warning_ms = 1000;
        let text = render(Some(HAND_WRITTEN), &changed).expect("render");
        for kept in [
            "# Production EU: keep this comment.",
            "# the writer",
            "region = \"eu-west\"  # where it runs",
            "name = \"r1\"  # first replica",
            "[router]\nread_splitting = true\n\n[thresholds]\nlag_warning_ms = 1000",
        ] {
            assert!(text.contains(kept), "lost {kept:?}:\n{text}");
        }
        assert!(
            text.contains("url = \"host=db1.example.com port=5432 user=skein_monitor dbname=app sslmode=require sslrootcert=/etc/ca.pem\""),
            "{text}"
        );
        let back = ProfileDraft::from_toml(&text, p()).expect("read back");
        assert_eq!(back, changed);
        let names: Vec<&str> = back.replicas.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["r0", "r1", "r2"], "{text}");

        let mut fewer = draft.clone();
        fewer.replicas.remove(0);
        let text = render(Some(HAND_WRITTEN), &fewer).expect("render");
        assert!(!text.contains("db2.example.com"), "{text}");
        assert!(!text.contains("# first replica"), "{text}");
        assert!(text.contains("db3.example.com"), "{text}");
    }

    #[test]
    fn new_profile_is_what_the_loader_reads() {
        let mut d = ProfileDraft::blank();
        d.name = "fresh".into();
        d.primary.conn = ConnDraft::parse("host=127.0.0.1 port=5432 user=postgres dbname=app")
            .expect("conn")
            .conn;
        d.replicas.push(NodeDraft {
            name: "replica1".into(),
            region: "local".into(),
            weight: 2,
            ssh: SshDraft {
                ssh: "me@bastion".into(),
                jump: "me@jump".into(),
                config: String::new(),
                port: Some(2222),
            },
            ..d.primary.clone()
        });
        d.lake.catalog = d.primary.conn.clone();
        d.lake.data_path = "/tmp/lake".into();
        let text = render(None, &d).expect("render");
        assert!(text.starts_with("# Skein profile"), "{text}");
        let profile = Profile::parse(&text, p()).expect("valid");
        assert_eq!(profile.name, "fresh");
        assert_eq!(profile.replicas[0].weight, 2);
        let ssh = profile.replicas[0].ssh.as_ref().expect("ssh");
        assert_eq!(
            (ssh.destination.as_str(), ssh.jump.as_deref(), ssh.port),
            ("me@bastion", Some("me@jump"), Some(2222))
        );
        assert_eq!(profile.lake.data_path, "/tmp/lake");
        assert_eq!(ProfileDraft::from_toml(&text, p()).expect("read"), d);
    }

    #[test]
    fn object_store_settings_round_trip_and_go_with_a_directory() {
        let mut d = ProfileDraft::blank();
        d.name = "s3".into();
        d.primary.conn = ConnDraft::parse("host=127.0.0.1 user=postgres dbname=app")
            .expect("conn")
            .conn;
        d.lake.catalog = d.primary.conn.clone();
        d.lake.data_path = "s3://lake/data/".into();
        d.lake.storage = StorageDraft {
            endpoint: "127.0.0.1:3900".into(),
            region: "garage".into(),
            url_style: "path".into(),
            use_ssl: Some(false),
            key_id: "GK1".into(),
            health_url: "http://127.0.0.1:3903/health".into(),
            ..StorageDraft::default()
        };
        let text = render(None, &d).expect("render");
        let profile = Profile::parse(&text, p()).expect("valid");
        let st = profile.lake.storage.as_ref().expect("[lake.storage]");
        assert_eq!(
            (st.endpoint.as_deref(), st.use_ssl, st.key_id.as_deref()),
            (Some("127.0.0.1:3900"), Some(false), Some("GK1"))
        );
        assert!(!text.contains("aws_profile"), "{text}");
        assert_eq!(ProfileDraft::from_toml(&text, p()).expect("read"), d);

        // A comment stays; an emptied field goes.
        let hand = text.replace("region = \"garage\"", "region = \"garage\"  # Garage's");
        let mut changed = ProfileDraft::from_toml(&hand, p()).expect("read");
        changed.lake.storage.health_url.clear();
        let again = render(Some(&hand), &changed).expect("render");
        assert!(again.contains("region = \"garage\"  # Garage's"), "{again}");
        Profile::parse(&again, p()).expect("valid");
        assert!(!again.contains("health_url"), "{again}");

        // Back to a directory: the table goes, and the profile is valid.
        changed.lake.data_path = "/tmp/lake".into();
        let local = render(Some(&hand), &changed).expect("render");
        assert!(!local.contains("[lake.storage]"), "{local}");
        Profile::parse(&local, p()).expect("valid");
    }

    #[test]
    fn alert_rules_are_written_into_alerts_keeping_the_rest() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("p.toml");
        let text = format!(
            "{}\n[alerts]\nfire_after = 4 # four samples\n",
            HAND_WRITTEN
        );
        std::fs::write(&path, &text).expect("write");
        let mut rules = Profile::load(&path).expect("load").alerts;
        assert_eq!(rules.fire_after, 4);
        rules.fire_after = 2;
        rules.lag_ms = 0;
        rules.conflicts_per_minute = 2.5;
        let saved = save_alerts(&path, &rules).expect("saved");
        assert_eq!(saved.alerts, rules);
        let written = std::fs::read_to_string(&path).expect("read");
        assert!(
            written.starts_with("# Production EU: keep this comment."),
            "{written}"
        );
        assert!(
            written.contains("fire_after = 2 # four samples"),
            "{written}"
        );
        assert!(written.contains("lag_ms = 0"), "{written}");
        assert!(
            !written.contains("clear_after"),
            "defaults stay out: {written}"
        );
        rules.clear_after = 0;
        let e = save_alerts(&path, &rules).expect_err("clear_after 0");
        assert!(e.to_string().contains("alerts.clear_after"), "{e}");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            written,
            "nothing written"
        );
    }

    #[test]
    fn save_validates_before_writing() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("p.toml");
        std::fs::write(
            &file,
            HAND_WRITTEN.replace("sslmode=verify-full&sslrootcert=/etc/ca.pem", ""),
        )
        .expect("write");
        let mut draft =
            ProfileDraft::from_toml(&std::fs::read_to_string(&file).expect("read"), &file)
                .expect("draft");
        draft.replicas[1].name = "r1".into();
        let e = save(&file, &draft).expect_err("duplicate names");
        assert!(e.to_string().contains("used twice"), "{e}");
        assert!(
            std::fs::read_to_string(&file)
                .expect("read")
                .contains("name = \"r2\""),
            "nothing written"
        );
        draft.replicas[1].name = "r3".into();
        let profile = save(&file, &draft).expect("saved");
        assert_eq!(profile.replicas[1].name, "r3");
        assert_eq!(profile.source.as_deref(), Some(file.as_path()));
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(
            text.contains("# Production EU: keep this comment."),
            "{text}"
        );
    }
}
