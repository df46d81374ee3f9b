//! Diagnosis of a profile's connections, one node (or the lake) at a time, as ordered steps
//! that each say what was found and, when something is wrong, the fix. `skein doctor` prints
//! them; the connection editor's "Test connection" shows them.
//!
//! Steps of a node: `dns` (the host resolves), `tcp` (its port accepts within the timeout),
//! `tls` (what `pg_stat_ssl` says of the session: version and cipher, or not encrypted),
//! `auth` (the login, through [`skein_pg::Node`] with the node's own settings: password from
//! the keyring, `PGPASSWORD` or a password file, TLS as the URL's `sslmode` says),
//! `privileges` (what the role may do) and `replication` (a replica: `pg_is_in_recovery()`
//! on it and whether the primary's `pg_stat_replication` lists it, by `application_name` as
//! the lag probe matches it; the primary: that it is not in recovery and the standbys it
//! streams to). Steps of the lake: `dns`, `tcp`, `tls`, `auth` against the catalog database,
//! `catalog` (the DuckLake version in `ducklake_metadata`, the snapshot count, the role's
//! write access) and `data_path` (a file can be created and removed there; for an object
//! store, the credentials are found and a listing under the data path answers).
//!
//! A failed step stops the ones after it: they are `skipped`, saying which step failed.
//! `warn` does not stop anything. Nothing here fails as a whole: an unreachable node is a
//! diagnosis with a failed step. Every step runs under the timeout given.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use skein_core::profile_write::ConnDraft;
use skein_core::{ErrorCode, NodeSpec, Profile};
use skein_pg::{Node, NodeRole};
use ts_rs::TS;

use crate::error::{Error, Result};

/// The timeout of each step unless told otherwise
/// ([`crate::limits::DIAGNOSE_STEP_TIMEOUT_MS`]).
pub const DEFAULT_TIMEOUT: Duration =
    Duration::from_millis(crate::limits::DIAGNOSE_STEP_TIMEOUT_MS);

/// Which check a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// The host name resolves (`getaddrinfo`).
    Dns,
    /// The port accepts a TCP connection.
    Tcp,
    /// The session's encryption (`pg_stat_ssl`).
    Tls,
    /// The login.
    Auth,
    /// What the role may do.
    Privileges,
    /// Streaming replication as the console sees it.
    Replication,
    /// The lake's DuckLake catalog.
    Catalog,
    /// The lake's data path.
    DataPath,
}

impl StepKind {
    /// The step's name as serialised (`data_path`).
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Dns => "dns",
            StepKind::Tcp => "tcp",
            StepKind::Tls => "tls",
            StepKind::Auth => "auth",
            StepKind::Privileges => "privileges",
            StepKind::Replication => "replication",
            StepKind::Catalog => "catalog",
            StepKind::DataPath => "data_path",
        }
    }
}

/// How a step came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// Works.
    Ok,
    /// Works, but something should be looked at (the fix says what).
    Warn,
    /// Does not work; the steps after it are skipped.
    Fail,
    /// Not checked (a step before it failed, or it does not apply); the detail says why.
    Skipped,
}

/// One check and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Step {
    /// Which check.
    pub step: StepKind,
    /// How it came out.
    pub status: StepStatus,
    /// What was found (`TLSv1.3 TLS_AES_256_GCM_SHA384 (256 bits)`, `connected as
    /// skein_monitor to app (PostgreSQL 15.8)`), or the error.
    pub detail: String,
    /// What to do about a `warn` or a `fail`.
    pub fix: Option<String>,
}

/// What was diagnosed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// The profile's primary.
    Primary,
    /// One of the profile's replicas.
    Replica,
    /// The lake (its catalog database and data path).
    Lake,
}

/// Every step of one node or of the lake, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Diagnosis {
    /// Node name, or `lake`.
    pub target: String,
    /// Primary, replica or lake.
    pub kind: TargetKind,
    /// `host:port/dbname` (no user, no password).
    pub address: String,
    /// The steps, in the order they ran.
    pub steps: Vec<Step>,
    /// Wall time of the whole diagnosis, ms.
    pub took_ms: u64,
}

impl Diagnosis {
    /// Whether any step failed.
    pub fn failed(&self) -> bool {
        self.steps.iter().any(|s| s.status == StepStatus::Fail)
    }

    /// The step of that kind, if it ran.
    pub fn step(&self, kind: StepKind) -> Option<&Step> {
        self.steps.iter().find(|s| s.step == kind)
    }
}

fn step(kind: StepKind, status: StepStatus, detail: impl Into<String>) -> Step {
    Step {
        step: kind,
        status,
        detail: detail.into(),
        fix: None,
    }
}

fn with_fix(mut s: Step, fix: impl Into<String>) -> Step {
    s.fix = Some(fix.into());
    s
}

/// The steps so far; a failed one turns the rest into `skipped`.
struct Steps {
    steps: Vec<Step>,
    failed: Option<StepKind>,
}

impl Steps {
    fn new() -> Steps {
        Steps {
            steps: Vec::new(),
            failed: None,
        }
    }

    fn push(&mut self, s: Step) {
        if s.status == StepStatus::Fail && self.failed.is_none() {
            self.failed = Some(s.step);
        }
        self.steps.push(s);
    }

    /// `true` (and a `skipped` step) when an earlier step failed.
    fn skip(&mut self, kind: StepKind) -> bool {
        match self.failed {
            Some(f) => {
                self.steps.push(step(
                    kind,
                    StepStatus::Skipped,
                    format!("not checked: the {} step failed", f.name()),
                ));
                true
            }
            None => false,
        }
    }
}

/// Diagnoses every node of the profile and the lake, concurrently: primary first, then the
/// replicas in profile order, the lake last.
pub async fn profile(profile: &Profile, timeout: Duration) -> Vec<Diagnosis> {
    let nodes = futures_util::future::join_all(
        profile
            .nodes()
            .map(|n| diagnose_node(profile, n, role_of(profile, n), timeout)),
    );
    let (mut all, lake) = tokio::join!(nodes, lake(profile, timeout));
    all.push(lake);
    all
}

/// Diagnoses one target of the profile: a node by name, or the lake (`None` or `"lake"`,
/// unless a node is named `lake`).
///
/// Errors: `NotFound` when the profile has no node of that name.
pub async fn target(profile: &Profile, name: Option<&str>, timeout: Duration) -> Result<Diagnosis> {
    match name {
        None => Ok(lake(profile, timeout).await),
        Some(name) => match profile.nodes().find(|n| n.name == name) {
            Some(n) => Ok(diagnose_node(profile, n, role_of(profile, n), timeout).await),
            None if name == "lake" => Ok(lake(profile, timeout).await),
            None => Err(Error::Pg(skein_pg::Error::UnknownNode(name.into()))),
        },
    }
}

fn role_of(profile: &Profile, n: &NodeSpec) -> NodeRole {
    if n.name == profile.primary.name {
        NodeRole::Primary
    } else {
        NodeRole::Replica
    }
}

/// The host, port and database a connection string names, and its `sslmode`.
struct Endpoint {
    conn: ConnDraft,
    /// `sslmode` as libpq resolves it (the string's, else `PGSSLMODE`, else `prefer`).
    sslmode: &'static str,
    /// First TCP host and port; `None` for a Unix socket.
    tcp: Option<(String, u16)>,
    address: String,
}

fn endpoint(url: &str) -> std::result::Result<Endpoint, String> {
    let conn = ConnDraft::parse(url)?.conn;
    let sslmode = skein_core::conninfo::parse(url)
        .map_err(|e| e.to_string())?
        .tls
        .mode
        .word();
    let tcp = conn.first_tcp_endpoint();
    let host = if conn.host.is_empty() {
        "localhost"
    } else {
        conn.host.as_str()
    };
    let port = if conn.port.is_empty() {
        "5432"
    } else {
        conn.port.as_str()
    };
    let address = format!(
        "{host}:{port}/{}",
        if conn.dbname.is_empty() {
            &conn.user
        } else {
            &conn.dbname
        }
    );
    Ok(Endpoint {
        conn,
        sslmode,
        tcp,
        address,
    })
}

/// How the node is reached: directly, or through an SSH tunnel whose local end the TCP
/// check then connects to.
enum Route {
    Direct,
    /// Through `via` (`me@bastion`); the tunnel's local port on 127.0.0.1.
    Tunnel {
        via: String,
        local_port: u16,
    },
}

/// The route to a node: with `ssh` set, the SSH tunnel's local port (started, or this
/// process's tunnel for the same settings and target reused; [`skein_core::tunnel`]).
/// Errors: what ssh said and the fix.
async fn route_of(spec: &NodeSpec) -> std::result::Result<Route, String> {
    let Some(ssh) = spec.ssh.clone() else {
        return Ok(Route::Direct);
    };
    let config = skein_core::conninfo::parse(&spec.url)
        .map_err(|e| e.to_string())?
        .config;
    let (host, port) = skein_core::tunnel::forward_target(&config).ok_or_else(|| {
        format!("an SSH tunnel through {ssh} needs a TCP host in the connection string, not a Unix socket")
    })?;
    let via = ssh.to_string();
    let local_port =
        tokio::task::spawn_blocking(move || skein_core::tunnel::local_endpoint(&ssh, &host, port))
            .await
            .map_err(|e| format!("the tunnel did not start: {e}"))?
            .map_err(|e| e.to_string())?;
    Ok(Route::Tunnel { via, local_port })
}

async fn diagnose_node(
    profile: &Profile,
    spec: &NodeSpec,
    role: NodeRole,
    timeout: Duration,
) -> Diagnosis {
    let started = Instant::now();
    let kind = match role {
        NodeRole::Primary => TargetKind::Primary,
        NodeRole::Replica => TargetKind::Replica,
    };
    let mut steps = Steps::new();
    let (address, node) = connect_steps(profile, spec, role, timeout, &mut steps).await;
    if !steps.skip(StepKind::Privileges) {
        if let Some(node) = &node {
            steps.push(privileges_step(node).await);
        }
    }
    if !steps.skip(StepKind::Replication) {
        if let Some(node) = &node {
            steps.push(match role {
                NodeRole::Primary => primary_replication_step(profile, node).await,
                NodeRole::Replica => replica_replication_step(profile, node, timeout).await,
            });
        }
    }
    Diagnosis {
        target: spec.name.clone(),
        kind,
        address,
        steps: steps.steps,
        took_ms: started.elapsed().as_millis() as u64,
    }
}

/// Diagnoses the lake: its catalog database (as a node named `lake`), the DuckLake catalog
/// in it and the data path.
pub async fn lake(profile: &Profile, timeout: Duration) -> Diagnosis {
    let started = Instant::now();
    let spec = NodeSpec {
        name: "lake".into(),
        url: profile.lake.catalog.clone(),
        region: None,
        weight: 1,
        application_name: None,
        ssh: profile.lake.ssh.clone(),
    };
    let mut steps = Steps::new();
    let (address, node) =
        connect_steps(profile, &spec, NodeRole::Primary, timeout, &mut steps).await;
    if !steps.skip(StepKind::Catalog) {
        if let Some(node) = &node {
            steps.push(catalog_step(node, &profile.lake.data_path).await);
        }
    }
    if !steps.skip(StepKind::DataPath) {
        steps.push(data_path_step(&profile.lake).await);
    }
    Diagnosis {
        target: "lake".into(),
        kind: TargetKind::Lake,
        address,
        steps: steps.steps,
        took_ms: started.elapsed().as_millis() as u64,
    }
}

/// `dns`, `tcp`, `tls` and `auth`. Returns the address for display and, when the login
/// worked, the node (its pool holds the session).
async fn connect_steps(
    profile: &Profile,
    spec: &NodeSpec,
    role: NodeRole,
    timeout: Duration,
    steps: &mut Steps,
) -> (String, Option<Node>) {
    let field = if spec.name == "lake" && role == NodeRole::Primary {
        "lake.catalog".to_owned()
    } else {
        format!("the url of {}", spec.name)
    };
    let ep = match endpoint(&spec.url) {
        Ok(ep) => ep,
        Err(m) => {
            steps.push(with_fix(
                step(
                    StepKind::Dns,
                    StepStatus::Fail,
                    format!("the connection string does not parse: {m}"),
                ),
                format!("fix {field} in the profile"),
            ));
            for k in [StepKind::Tcp, StepKind::Tls, StepKind::Auth] {
                steps.skip(k);
            }
            return (spec.url.chars().take(40).collect(), None);
        }
    };
    let route = match route_of(spec).await {
        Ok(r) => r,
        Err(m) => {
            // The tunnel's messages end with "; fix: …".
            let (what, fix) = match m.split_once("; fix: ") {
                Some((what, fix)) => (what.to_owned(), fix.to_owned()),
                None => (
                    m.clone(),
                    format!(
                        "check ssh, ssh_jump, ssh_config and ssh_port of {}",
                        spec.name
                    ),
                ),
            };
            steps.push(step(
                StepKind::Dns,
                StepStatus::Skipped,
                "resolved by the SSH server, at the tunnel's far end",
            ));
            steps.push(with_fix(step(StepKind::Tcp, StepStatus::Fail, what), fix));
            for k in [StepKind::Tls, StepKind::Auth] {
                steps.skip(k);
            }
            return (ep.address, None);
        }
    };

    // dns + tcp
    match (&ep.tcp, &route) {
        (_, Route::Tunnel { via, local_port }) => {
            steps.push(step(
                StepKind::Dns,
                StepStatus::Ok,
                format!("resolved by the SSH server {via}, at the tunnel's far end"),
            ));
            let mut tcp = tcp_step(
                &[SocketAddr::from(([127, 0, 0, 1], *local_port))],
                timeout,
                &ep,
            )
            .await;
            tcp.detail = format!("through the SSH tunnel via {via}: {}", tcp.detail);
            steps.push(tcp);
        }
        (None, Route::Direct) => {
            let dir = if ep.conn.host.is_empty() {
                "the default socket directory".to_owned()
            } else {
                ep.conn.host.clone()
            };
            steps.push(step(
                StepKind::Dns,
                StepStatus::Ok,
                format!("Unix socket in {dir}: nothing to resolve"),
            ));
            let port = ep.conn.port.split(',').next().unwrap_or("").trim();
            let port = if port.is_empty() { "5432" } else { port };
            if ep.conn.host.starts_with('/') {
                let socket = Path::new(&ep.conn.host).join(format!(".s.PGSQL.{port}"));
                steps.push(if socket.exists() {
                    step(StepKind::Tcp, StepStatus::Ok, format!("socket {} exists", socket.display()))
                } else {
                    with_fix(
                        step(StepKind::Tcp, StepStatus::Fail, format!("no socket {}", socket.display())),
                        "start the server, or check host (the socket directory) and port in the profile against PostgreSQL's unix_socket_directories and port",
                    )
                });
            } else {
                steps.push(step(
                    StepKind::Tcp,
                    StepStatus::Skipped,
                    "Unix socket: no TCP connection to check",
                ));
            }
        }
        (Some((host, port)), Route::Direct) => {
            let (dns, addrs) = dns_step(host, *port, timeout, &field).await;
            steps.push(dns);
            if !steps.skip(StepKind::Tcp) {
                steps.push(tcp_step(&addrs, timeout, &ep).await);
            }
        }
    }
    if steps.skip(StepKind::Tls) {
        steps.skip(StepKind::Auth);
        return (ep.address, None);
    }

    // tls + auth: one login with the node's real settings.
    let node = match Node::new(spec, role, profile.passfile.as_deref(), 1, timeout) {
        Ok(n) => n,
        Err(e) => {
            steps.push(with_fix(
                step(StepKind::Tls, StepStatus::Fail, e.to_string()),
                format!("fix {field} in the profile"),
            ));
            steps.skip(StepKind::Auth);
            return (ep.address, None);
        }
    };
    let loopback = ep.tcp.as_ref().is_some_and(|(h, _)| is_loopback(h)) || ep.tcp.is_none();
    let tunnelled = matches!(route, Route::Tunnel { .. });
    match read_session(&node).await {
        Ok(session) => {
            steps.push(tls_step(&session, ep.sslmode, loopback, tunnelled));
            steps.push(step(
                StepKind::Auth,
                StepStatus::Ok,
                format!(
                    "connected as {} to {} (PostgreSQL {})",
                    session.user, session.database, session.server_version
                ),
            ));
            (ep.address, Some(node))
        }
        Err(e) => {
            let (tls, auth) = classify_login_error(&e, &spec.name, &ep);
            steps.push(tls);
            if let Some(auth) = auth {
                steps.push(auth);
            } else {
                steps.skip(StepKind::Auth);
            }
            (ep.address, None)
        }
    }
}

async fn dns_step(
    host: &str,
    port: u16,
    timeout: Duration,
    field: &str,
) -> (Step, Vec<SocketAddr>) {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return (
            step(
                StepKind::Dns,
                StepStatus::Ok,
                format!("{ip} is an IP address: nothing to resolve"),
            ),
            vec![SocketAddr::new(ip, port)],
        );
    }
    match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
        Ok(Ok(addrs)) => {
            let mut addrs: Vec<SocketAddr> = addrs.collect();
            addrs.dedup();
            let shown: Vec<String> = addrs.iter().take(4).map(|a| a.ip().to_string()).collect();
            let more = addrs.len().saturating_sub(4);
            (
                step(
                    StepKind::Dns,
                    StepStatus::Ok,
                    format!(
                        "{host} resolves to {}{}",
                        shown.join(", "),
                        if more > 0 { format!(" and {more} more") } else { String::new() }
                    ),
                ),
                addrs,
            )
        }
        Ok(Err(e)) => (
            with_fix(
                step(StepKind::Dns, StepStatus::Fail, format!("{host} does not resolve: {e}")),
                format!("check the host name in {field}, or this machine's DNS (/etc/resolv.conf, /etc/hosts)"),
            ),
            Vec::new(),
        ),
        Err(_) => (
            with_fix(
                step(
                    StepKind::Dns,
                    StepStatus::Fail,
                    format!("no answer from DNS for {host} within {} ms", timeout.as_millis()),
                ),
                "check this machine's DNS servers (/etc/resolv.conf) or use an IP address",
            ),
            Vec::new(),
        ),
    }
}

async fn tcp_step(addrs: &[SocketAddr], timeout: Duration, ep: &Endpoint) -> Step {
    let mut last: Option<(SocketAddr, String, bool)> = None;
    for addr in addrs {
        let started = Instant::now();
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_stream)) => {
                return step(
                    StepKind::Tcp,
                    StepStatus::Ok,
                    format!(
                        "{addr} accepts connections ({:.1} ms)",
                        started.elapsed().as_secs_f64() * 1000.0
                    ),
                )
            }
            Ok(Err(e)) => {
                let refused = e.kind() == std::io::ErrorKind::ConnectionRefused;
                last = Some((*addr, e.to_string(), refused));
            }
            Err(_) => {
                last = Some((
                    *addr,
                    format!("no answer within {} ms", timeout.as_millis()),
                    false,
                ));
            }
        }
    }
    let port = ep.tcp.as_ref().map(|(_, p)| *p).unwrap_or(5432);
    match last {
        None => with_fix(
            step(StepKind::Tcp, StepStatus::Fail, "the host resolved to no address"),
            "check the host name in the profile",
        ),
        Some((addr, detail, true)) => with_fix(
            step(StepKind::Tcp, StepStatus::Fail, format!("{addr}: {detail}")),
            format!(
                "nothing listens on port {port} there: start the server, or check the port in the profile against PostgreSQL's port and listen_addresses"
            ),
        ),
        Some((addr, detail, false)) => with_fix(
            step(StepKind::Tcp, StepStatus::Fail, format!("{addr}: {detail}")),
            format!(
                "the host did not answer: it may be down, or a firewall (security group, network ACL) drops port {port}"
            ),
        ),
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare == "localhost" || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What the server says of this session.
struct Session {
    user: String,
    database: String,
    server_version: String,
    ssl: bool,
    tls_version: Option<String>,
    cipher: Option<String>,
    bits: Option<i32>,
}

const SESSION_SQL: &str = "SELECT current_user::text, current_database()::text, \
     current_setting('server_version'), s.ssl, s.version, s.cipher, s.bits \
     FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()";

async fn read_session(node: &Node) -> skein_pg::Result<Session> {
    let row = node
        .with_client("reading the session (pg_stat_ssl)", |c| async move {
            c.query_one(SESSION_SQL, &[]).await
        })
        .await?;
    Ok(Session {
        user: row.get(0),
        database: row.get(1),
        server_version: {
            // `15.8 (Debian 15.8-1)` → `15.8`
            let v: String = row.get(2);
            v.split_whitespace().next().unwrap_or_default().to_owned()
        },
        ssl: row.get(3),
        tls_version: row.get(4),
        cipher: row.get(5),
        bits: row.get(6),
    })
}

fn tls_step(s: &Session, sslmode: &str, loopback: bool, tunnelled: bool) -> Step {
    let mode = if sslmode.is_empty() {
        "prefer"
    } else {
        sslmode
    };
    if s.ssl {
        let what = format!(
            "{} {}{}",
            s.tls_version.as_deref().unwrap_or("TLS"),
            s.cipher.as_deref().unwrap_or(""),
            s.bits.map(|b| format!(" ({b} bits)")).unwrap_or_default()
        );
        return match mode {
            "verify-full" => step(
                StepKind::Tls,
                StepStatus::Ok,
                format!("{what}; the certificate is verified, name included (sslmode=verify-full)"),
            ),
            "verify-ca" => step(
                StepKind::Tls,
                StepStatus::Ok,
                format!("{what}; the certificate chains to sslrootcert, its name is not checked (sslmode=verify-ca)"),
            ),
            _ if loopback || tunnelled => step(
                StepKind::Tls,
                StepStatus::Ok,
                format!("{what}; the certificate is not verified (sslmode={mode})"),
            ),
            _ => with_fix(
                step(
                    StepKind::Tls,
                    StepStatus::Warn,
                    format!("{what}; the server's certificate is not verified (sslmode={mode})"),
                ),
                "set sslmode=verify-full and sslrootcert (the CA that signed the server's certificate) so no one in between can pose as the server",
            ),
        };
    }
    match mode {
        "disable" => step(StepKind::Tls, StepStatus::Ok, "not encrypted (sslmode=disable)"),
        _ if tunnelled => step(
            StepKind::Tls,
            StepStatus::Ok,
            "not encrypted by TLS; the SSH tunnel carries it",
        ),
        _ if loopback => step(
            StepKind::Tls,
            StepStatus::Ok,
            format!("not encrypted (sslmode={mode}; loopback: the traffic stays on this machine)"),
        ),
        _ => with_fix(
            step(
                StepKind::Tls,
                StepStatus::Warn,
                format!("not encrypted: sslmode={mode} fell back to a plain connection (the server offers no TLS)"),
            ),
            "turn ssl on in the server's postgresql.conf and set sslmode=verify-full with sslrootcert, so plain connections are refused",
        ),
    }
}

/// Which step a failed login belongs to, with its fix: the `tls` step always, and the
/// `auth` step when the failure got as far as the login (`None`: skip it).
fn classify_login_error(e: &skein_pg::Error, node: &str, ep: &Endpoint) -> (Step, Option<Step>) {
    let mode = ep.sslmode;
    // The driver's or server's own words; the error's advice is replaced by the step's fix.
    let detail = match e {
        skein_pg::Error::AuthFailed { detail, .. }
        | skein_pg::Error::Tls { detail, .. }
        | skein_pg::Error::Unreachable { detail, .. }
        | skein_pg::Error::Query { detail, .. } => detail.clone(),
        other => other.to_string(),
    };
    let lower = detail.to_lowercase();
    // A TLS failure the error's code does not carry (the driver's words only).
    let tls_text = lower.contains("tls handshake") || lower.contains("does not support tls");
    let detail = if lower.contains("password missing") {
        format!(
            "the server asks for a password and none was found for this role (OS keyring, PGPASSWORD, the profile's passfile or ~/.pgpass) ({detail})"
        )
    } else {
        detail
    };
    let tls_unknown = || {
        if matches!(mode, "require" | "verify-ca" | "verify-full") {
            step(
                StepKind::Tls,
                StepStatus::Ok,
                format!("the handshake worked (sslmode={mode}); version and cipher need a login"),
            )
        } else {
            step(
                StepKind::Tls,
                StepStatus::Skipped,
                "not known: the login failed before pg_stat_ssl could be read",
            )
        }
    };
    let auth_fail = |fix: String| {
        Some(with_fix(
            step(StepKind::Auth, StepStatus::Fail, detail.clone()),
            fix,
        ))
    };
    let code = if tls_text { ErrorCode::Tls } else { e.code() };
    match code {
        ErrorCode::AuthFailed => {
            let fix = if lower.contains("pg_hba.conf") {
                if lower.contains("no encryption") {
                    format!("the server only accepts encrypted connections from here: set sslmode=require or stronger (now {mode}) in the node's URL")
                } else {
                    "the server's pg_hba.conf has no line for this host, user and database: add one (e.g. hostssl DB ROLE CLIENT/32 scram-sha-256) and reload, or connect as a role it allows".to_owned()
                }
            } else if lower.contains("does not exist") {
                "the role does not exist on the server: create it, or fix user in the node's URL"
                    .to_owned()
            } else {
                // PostgreSQL answers an expired password (VALID UNTIL in the past) with the same
                // words as a wrong one; only its log tells them apart.
                format!("the password is wrong or has expired (the role's VALID UNTIL; the server's log says which): set it with `skein secret set {node}` (OS keyring), PGPASSWORD or the profile's passfile, renew it on the server (ALTER ROLE … VALID UNTIL …), or check user in the node's URL")
            };
            (tls_unknown(), auth_fail(fix))
        }
        ErrorCode::Tls => {
            // The TLS core says what failed, then the fix: "…; set sslmode=…".
            let (what, fix) = match detail.split_once("; ") {
                Some((what, fix)) => (what.to_owned(), fix.to_owned()),
                None if lower.contains("does not support tls") => (
                    detail.clone(),
                    format!("the server does not accept TLS (ssl = off in its postgresql.conf): turn ssl on there, or lower sslmode (now {mode}) to prefer or disable for this node"),
                ),
                None => (
                    detail.clone(),
                    format!("check sslmode (now {mode}), sslrootcert, sslcert and sslkey in the node's URL against the server's TLS settings"),
                ),
            };
            (
                with_fix(step(StepKind::Tls, StepStatus::Fail, what), fix),
                None,
            )
        }
        ErrorCode::ConnectionRefused | ErrorCode::Timeout => {
            // The port accepted TCP, then the exchange stalled or broke: with TLS wanted the
            // first exchange is the TLS request, else the login.
            let fix = "the port accepts TCP but did not answer as PostgreSQL: check that it is a PostgreSQL server (not another service or a proxy), and its log".to_owned();
            if mode == "disable" {
                (
                    step(
                        StepKind::Tls,
                        StepStatus::Skipped,
                        "not asked for (sslmode=disable)",
                    ),
                    auth_fail(fix),
                )
            } else {
                (
                    with_fix(step(StepKind::Tls, StepStatus::Fail, detail.clone()), fix),
                    None,
                )
            }
        }
        _ => {
            let fix = if lower.contains("3d000") {
                "the database does not exist: create it, or fix dbname in the node's URL".to_owned()
            } else if lower.contains("53300") {
                "the server has no connection slots left: raise max_connections or close idle sessions".to_owned()
            } else if lower.contains("57p03") {
                "the server is starting up, shutting down, or is a standby without hot_standby = on: wait, or turn hot_standby on".to_owned()
            } else {
                "see the server's log for why it refused the session".to_owned()
            };
            (tls_unknown(), auth_fail(fix))
        }
    }
}

/// What the role may do ([`skein_pg::privileges::probe`]): what works and what is disabled,
/// with the reason the probe gives.
async fn privileges_step(node: &Node) -> Step {
    let p = match skein_pg::privileges::probe(node).await {
        Ok(p) => p,
        Err(e) => {
            return with_fix(
                step(
                    StepKind::Privileges,
                    StepStatus::Warn,
                    format!("could not read the role's privileges: {e}"),
                ),
                "the role may not read pg_roles: grant it pg_monitor",
            )
        }
    };
    if p.superuser {
        return step(
            StepKind::Privileges,
            StepStatus::Ok,
            format!("{} is a superuser: everything works (a monitoring role with pg_monitor is enough to watch)", p.role),
        );
    }
    let monitor = if p.pg_monitor {
        skein_pg::privileges::Allowed::yes()
    } else {
        skein_pg::privileges::Allowed::no("needs pg_monitor")
    };
    let mut works = Vec::new();
    let mut disabled = Vec::new();
    for (what, allowed) in [
        ("lag and replication details", &monitor),
        ("other roles' WAL senders", &p.read_replication_stats),
        ("replay pause/resume", &p.replay_control),
        ("promote", &p.promote),
        ("terminate sessions", &p.terminate),
    ] {
        match allowed.check() {
            Ok(()) => works.push(what.to_owned()),
            Err(reason) => disabled.push(format!("{what} ({reason})")),
        }
    }
    let detail = format!(
        "{}: works: {}{}",
        p.role,
        if works.is_empty() {
            "reads".to_owned()
        } else {
            works.join(", ")
        },
        if disabled.is_empty() {
            String::new()
        } else {
            format!("; disabled: {}", disabled.join(", "))
        }
    );
    if p.pg_monitor {
        step(StepKind::Privileges, StepStatus::Ok, detail)
    } else {
        with_fix(
            step(StepKind::Privileges, StepStatus::Warn, detail),
            format!(
                "GRANT pg_monitor TO {}; without it pg_stat_replication hides the lag columns",
                p.role
            ),
        )
    }
}

async fn primary_replication_step(profile: &Profile, node: &Node) -> Step {
    let read = node
        .with_client("reading pg_stat_replication", |c| async move {
            let recovery: bool = c.query_one("SELECT pg_is_in_recovery()", &[]).await?.get(0);
            let rows = c
                .query("SELECT application_name, state FROM pg_stat_replication ORDER BY application_name", &[])
                .await?;
            Ok((recovery, rows))
        })
        .await;
    let (recovery, rows) = match read {
        Ok(r) => r,
        Err(e) => {
            return with_fix(
                step(
                    StepKind::Replication,
                    StepStatus::Warn,
                    format!("could not read pg_stat_replication: {e}"),
                ),
                "grant the role pg_monitor",
            )
        }
    };
    if recovery {
        return with_fix(
            step(StepKind::Replication, StepStatus::Fail, "in recovery (pg_is_in_recovery() is true): this server is a standby, not the primary"),
            "point [primary] url at the read-write server",
        );
    }
    let senders: Vec<String> = rows
        .iter()
        .map(|r| {
            let app: Option<String> = r.get(0);
            let state: Option<String> = r.get(1);
            format!(
                "{} ({})",
                app.filter(|a| !a.is_empty())
                    .unwrap_or_else(|| "unnamed".into()),
                state.unwrap_or_else(|| "state hidden".into())
            )
        })
        .collect();
    let expected = profile.replicas.len();
    if senders.len() < expected {
        return with_fix(
            step(
                StepKind::Replication,
                StepStatus::Warn,
                format!(
                    "not in recovery; streams WAL to {} standby{}{}, and the profile names {expected}",
                    senders.len(),
                    if senders.len() == 1 { "" } else { "s" },
                    if senders.is_empty() { String::new() } else { format!(" ({})", senders.join(", ")) }
                ),
            ),
            "see each replica's replication step: a standby that does not connect says why in its log",
        );
    }
    step(
        StepKind::Replication,
        StepStatus::Ok,
        if senders.is_empty() {
            "not in recovery; streams WAL to no standby".to_owned()
        } else {
            format!(
                "not in recovery; streams WAL to {} standby{}: {}",
                senders.len(),
                if senders.len() == 1 { "" } else { "s" },
                senders.join(", ")
            )
        },
    )
}

async fn replica_replication_step(profile: &Profile, node: &Node, timeout: Duration) -> Step {
    let read = node
        .with_client("reading the replica's recovery state", |c| async move {
            let row = c
                .query_one(
                    "SELECT pg_is_in_recovery(), current_setting('cluster_name')",
                    &[],
                )
                .await?;
            Ok((row.get::<_, bool>(0), row.get::<_, String>(1)))
        })
        .await;
    let (recovery, cluster_name) = match read {
        Ok(r) => r,
        Err(e) => {
            return with_fix(
                step(
                    StepKind::Replication,
                    StepStatus::Warn,
                    format!("could not ask the replica: {e}"),
                ),
                "see the auth step",
            )
        }
    };
    if !recovery {
        return with_fix(
            step(
                StepKind::Replication,
                StepStatus::Fail,
                "not in recovery (pg_is_in_recovery() is false): this server accepts writes — it was promoted, or the URL names a primary",
            ),
            format!(
                "point the url of {} at a standby, or rebuild it from the primary (pg_basebackup -R)",
                node.name()
            ),
        );
    }
    // As the lag probe matches it: the profile's application_name, else the replica's
    // cluster_name, else the node's name.
    let app = node.spec.application_name.clone().unwrap_or_else(|| {
        if cluster_name.is_empty() {
            node.name().to_owned()
        } else {
            cluster_name.clone()
        }
    });
    let primary = match Node::new(
        &profile.primary,
        NodeRole::Primary,
        profile.passfile.as_deref(),
        1,
        timeout,
    ) {
        Ok(p) => p,
        Err(e) => {
            return with_fix(
                step(
                    StepKind::Replication,
                    StepStatus::Warn,
                    format!("in recovery; the primary cannot be asked: {e}"),
                ),
                "see the primary's diagnosis",
            )
        }
    };
    let wanted = app.clone();
    let seen = primary
        .with_client("reading pg_stat_replication", |c| async move {
            let rows = c
                .query(
                    "SELECT state FROM pg_stat_replication WHERE application_name = $1",
                    &[&wanted],
                )
                .await?;
            Ok(rows
                .into_iter()
                .map(|r| r.get::<_, Option<String>>(0))
                .collect::<Vec<_>>())
        })
        .await;
    match seen {
        Err(e) => with_fix(
            step(StepKind::Replication, StepStatus::Warn, format!("in recovery; the primary cannot be asked: {e}")),
            "see the primary's diagnosis",
        ),
        Ok(states) if states.is_empty() => with_fix(
            step(
                StepKind::Replication,
                StepStatus::Fail,
                format!("in recovery, but the primary's pg_stat_replication lists no standby named '{app}'"),
            ),
            format!(
                "the replica does not stream from this primary under that name: check primary_conninfo on the replica (host, port and application_name) and its log; if it connects under another name, set application_name = \"…\" for {} in the profile",
                node.name()
            ),
        ),
        Ok(states) => match states[0].as_deref() {
            Some("streaming") => step(
                StepKind::Replication,
                StepStatus::Ok,
                format!("in recovery; the primary streams to it as '{app}'"),
            ),
            Some(other) => with_fix(
                step(
                    StepKind::Replication,
                    StepStatus::Warn,
                    format!("in recovery; the primary lists it as '{app}' in state {other}"),
                ),
                "it is still catching up: wait, and watch its lag",
            ),
            None => with_fix(
                step(
                    StepKind::Replication,
                    StepStatus::Warn,
                    format!("in recovery; the primary lists '{app}' but hides its state from this role"),
                ),
                "grant the primary's role pg_monitor to see the state and lag",
            ),
        },
    }
}

const CATALOG_SQL: &str = "SELECT to_regclass('ducklake_metadata') IS NOT NULL, \
     has_schema_privilege(current_schema(), 'CREATE')";

async fn catalog_step(node: &Node, data_path: &str) -> Step {
    struct Catalog {
        exists: bool,
        may_create: bool,
        version: Option<String>,
        data_path: Option<String>,
        snapshots: Option<i64>,
        writable: bool,
    }
    let read = node
        .with_client("reading the DuckLake catalog", |c| async move {
            let row = c.query_one(CATALOG_SQL, &[]).await?;
            let exists: bool = row.get(0);
            let may_create: bool = row.get::<_, Option<bool>>(1).unwrap_or(false);
            if !exists {
                return Ok(Catalog { exists, may_create, version: None, data_path: None, snapshots: None, writable: false });
            }
            let meta = c
                .query("SELECT key, value FROM ducklake_metadata WHERE key IN ('version', 'data_path')", &[])
                .await?;
            let get = |k: &str| meta.iter().find(|r| r.get::<_, String>(0) == k).and_then(|r| r.get::<_, Option<String>>(1));
            let snapshots = c
                .query_one("SELECT count(*) FROM ducklake_snapshot", &[])
                .await
                .ok()
                .map(|r| r.get::<_, i64>(0));
            let writable: bool = c
                .query_one("SELECT has_table_privilege('ducklake_snapshot', 'INSERT')", &[])
                .await?
                .get(0);
            Ok(Catalog { exists, may_create, version: get("version"), data_path: get("data_path"), snapshots, writable })
        })
        .await;
    let cat = match read {
        Ok(c) => c,
        Err(e) => {
            return with_fix(
                step(StepKind::Catalog, StepStatus::Fail, e.to_string()),
                "the role may not read the catalog's tables: grant it SELECT, INSERT, UPDATE and DELETE on the ducklake_* tables (or connect as their owner)",
            )
        }
    };
    if !cat.exists {
        return if cat.may_create {
            step(
                StepKind::Catalog,
                StepStatus::Ok,
                "no DuckLake catalog in this database yet: Skein creates it when it first opens the lake",
            )
        } else {
            with_fix(
                step(StepKind::Catalog, StepStatus::Fail, "no DuckLake catalog in this database, and the role may not create its tables"),
                "create the lake once as a role that may (its owner), or GRANT CREATE ON SCHEMA public to this role",
            )
        };
    }
    let detail = format!(
        "DuckLake {} catalog{}",
        cat.version.as_deref().unwrap_or("(version unknown)"),
        cat.snapshots
            .map(|n| format!(", {n} snapshots"))
            .unwrap_or_default()
    );
    let norm = |p: &str| p.trim_end_matches('/').to_owned();
    if let Some(theirs) = cat
        .data_path
        .as_deref()
        .filter(|p| norm(p) != norm(data_path))
    {
        return with_fix(
            step(
                StepKind::Catalog,
                StepStatus::Warn,
                format!("{detail}; its data path is {theirs}, the profile says {data_path}"),
            ),
            "set lake.data_path in the profile to the catalog's data path, or the data files written before will not be found",
        );
    }
    if !cat.writable {
        return with_fix(
            step(
                StepKind::Catalog,
                StepStatus::Warn,
                format!("{detail}; the role may read it but not write it"),
            ),
            "caches cannot be refreshed: grant INSERT, UPDATE and DELETE on the ducklake_* tables",
        );
    }
    step(StepKind::Catalog, StepStatus::Ok, detail)
}

async fn data_path_step(lake: &skein_core::LakeSpec) -> Step {
    let data_path = lake.data_path.as_str();
    if data_path.contains("://") {
        // The object store, as opening the lake reaches it: the credentials found, the
        // secret, a listing under the data path.
        return match skein_lake::storage::check(lake).await {
            Ok(Some(store)) => step(
                StepKind::DataPath,
                StepStatus::Ok,
                format!(
                    "{data_path}: listed bucket {} at {} with the credentials from {}",
                    store.bucket, store.endpoint, store.credentials
                ),
            ),
            Ok(None) => step(
                StepKind::DataPath,
                StepStatus::Skipped,
                format!("{data_path} is not an object-store URL Skein knows"),
            ),
            Err(e) => {
                let fix = match e.code() {
                    ErrorCode::AuthFailed => "check [lake.storage] key_id and its secret key (`skein secret set storage`), and the key's permissions on the bucket",
                    ErrorCode::NotFound => "create the bucket, or fix lake.data_path",
                    ErrorCode::ConnectionRefused | ErrorCode::Timeout => "check [lake.storage] endpoint and use_ssl, and that the store runs",
                    _ => "fix [lake.storage] in the profile",
                };
                with_fix(
                    step(StepKind::DataPath, StepStatus::Fail, e.to_string()),
                    fix,
                )
            }
        };
    }
    let path = data_path.to_owned();
    let check =
        tokio::task::spawn_blocking(move || -> std::result::Result<String, (String, String)> {
            let dir = Path::new(&path);
            // The directory itself, or (when Skein is yet to create it) the nearest ancestor.
            let existing = dir.ancestors().find(|a| a.is_dir()).ok_or_else(|| {
                (
                    format!("neither {path} nor any directory above it exists"),
                    "fix lake.data_path in the profile".to_owned(),
                )
            })?;
            let probe = tempfile::Builder::new()
                .prefix(".skein-doctor-")
                .tempfile_in(existing)
                .map_err(|e| {
                    (
                        format!("cannot create a file in {}: {e}", existing.display()),
                        format!(
                            "make {} writable by the user Skein runs as",
                            existing.display()
                        ),
                    )
                })?;
            let name = probe.path().display().to_string();
            probe.close().map_err(|e| {
                (
                    format!("created {name} but cannot remove it: {e}"),
                    "check the directory's permissions".to_owned(),
                )
            })?;
            Ok(if existing == dir {
                format!("{path} is writable (a file was created and removed)")
            } else {
                format!(
                    "{path} does not exist yet; {} is writable, so Skein can create it",
                    existing.display()
                )
            })
        })
        .await;
    match check {
        Ok(Ok(detail)) => step(StepKind::DataPath, StepStatus::Ok, detail),
        Ok(Err((detail, fix))) => with_fix(step(StepKind::DataPath, StepStatus::Fail, detail), fix),
        Err(e) => step(
            StepKind::DataPath,
            StepStatus::Fail,
            format!("the check did not finish: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(ssl: bool) -> Session {
        Session {
            user: "u".into(),
            database: "d".into(),
            server_version: "15".into(),
            ssl,
            tls_version: ssl.then(|| "TLSv1.3".into()),
            cipher: ssl.then(|| "TLS_AES_256_GCM_SHA384".into()),
            bits: ssl.then_some(256),
        }
    }

    #[test]
    fn tls_standing_follows_sslmode() {
        let s = tls_step(&session(true), "verify-full", false, false);
        assert_eq!(s.status, StepStatus::Ok);
        assert!(
            s.detail
                .starts_with("TLSv1.3 TLS_AES_256_GCM_SHA384 (256 bits)"),
            "{}",
            s.detail
        );
        assert_eq!(
            tls_step(&session(true), "require", false, false).status,
            StepStatus::Warn
        );
        assert_eq!(
            tls_step(&session(false), "", false, false).status,
            StepStatus::Warn
        );
        assert_eq!(
            tls_step(&session(false), "", true, false).status,
            StepStatus::Ok
        );
        assert_eq!(
            tls_step(&session(false), "disable", false, false).status,
            StepStatus::Ok
        );
    }

    #[test]
    fn a_failed_step_skips_the_rest() {
        let mut steps = Steps::new();
        steps.push(step(StepKind::Dns, StepStatus::Ok, ""));
        steps.push(step(StepKind::Tcp, StepStatus::Fail, ""));
        assert!(steps.skip(StepKind::Tls));
        assert_eq!(steps.steps[2].status, StepStatus::Skipped);
        assert!(
            steps.steps[2].detail.contains("tcp"),
            "{}",
            steps.steps[2].detail
        );
    }
}
