//! The sandbox as a whole: lay out the directory, start the primary and replicas, create
//! the lake's catalog database, load demo data, write the profile; and tear it all down.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use skein_core::conninfo::quote_value as quote;
use skein_core::{LakeSpec, NodeSpec, Profile, Thresholds};

use crate::cluster::{self, RunAs};
use crate::demo;
use crate::error::{Error, Result};

/// What `up` builds.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// The sandbox's own directory (created; must not hold a running sandbox).
    pub dir: PathBuf,
    /// Number of streaming replicas (≥ 0).
    pub replicas: usize,
    /// TPC-H scale factor of the demo data (0.01 ≈ 87k rows, 0.1 ≈ 866k rows); 0 loads none.
    pub scale: f64,
    /// Cascading replicas: each one streams from an earlier replica instead of the primary
    /// (its base backup is taken from that replica and its physical slot is created there).
    /// Empty: every replica streams from the primary.
    pub cascade: Vec<Cascade>,
    /// The lake's data in a three-node Garage cluster (`s3://lake/data/`) instead of a local
    /// directory ([`crate::garage`]).
    pub object_store: bool,
}

/// One cascading replica of a sandbox: `replica` streams from `upstream`, another replica.
/// Parsed from `REPLICA=UPSTREAM` (`replica2=replica1`), as `skein sandbox up --cascade` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cascade {
    /// The cascading replica (`replica2`).
    pub replica: String,
    /// The replica it streams from (`replica1`); built before it.
    pub upstream: String,
}

impl std::str::FromStr for Cascade {
    type Err = Error;
    fn from_str(s: &str) -> Result<Cascade> {
        match s.split_once('=') {
            Some((replica, upstream))
                if !replica.trim().is_empty() && !upstream.trim().is_empty() =>
            {
                Ok(Cascade {
                    replica: replica.trim().to_owned(),
                    upstream: upstream.trim().to_owned(),
                })
            }
            _ => Err(Error::InvalidInput(format!(
                "'{s}' is not REPLICA=UPSTREAM (for example replica2=replica1)"
            ))),
        }
    }
}

/// The upstream of each replica `1..=replicas` (`"primary"` unless `cascade` names another
/// replica), in build order. Errors: [`Error::InvalidInput`] naming the entry when a name is
/// not one of the sandbox's replicas, a replica is given twice, or an upstream is not built
/// before its replica (it must be a replica with a lower number).
fn upstreams(replicas: usize, cascade: &[Cascade]) -> Result<Vec<String>> {
    let index = |name: &str| {
        name.strip_prefix("replica")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=replicas).contains(n) && name == format!("replica{n}"))
    };
    let mut out = vec!["primary".to_owned(); replicas];
    let mut seen = std::collections::HashSet::new();
    for c in cascade {
        let entry = format!("{}={}", c.replica, c.upstream);
        let Some(child) = index(&c.replica) else {
            return Err(Error::InvalidInput(format!(
                "--cascade {entry}: {} is not a replica of this sandbox (replica1 … replica{replicas})",
                c.replica
            )));
        };
        let Some(parent) = index(&c.upstream) else {
            return Err(Error::InvalidInput(format!(
                "--cascade {entry}: {} is not a replica of this sandbox (replica1 … replica{replicas})",
                c.upstream
            )));
        };
        if parent >= child {
            return Err(Error::InvalidInput(format!(
                "--cascade {entry}: the upstream must be built first, a replica with a lower number"
            )));
        }
        if !seen.insert(child) {
            return Err(Error::InvalidInput(format!(
                "--cascade names {} twice",
                c.replica
            )));
        }
        out[child - 1] = c.upstream.clone();
    }
    Ok(out)
}

/// How a sandbox's servers take connections and whom its profile connects as. The default is
/// a plain sandbox (no TLS, password authentication) whose profile uses the superuser.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SandboxSecurity {
    /// TLS only: every node has `ssl = on` with a certificate of the sandbox's own CA
    /// (`<dir>/tls/`), `pg_hba.conf` accepts `hostssl` only (plain TCP is rejected, for
    /// normal and replication connections), replicas stream over TLS with
    /// `sslmode=verify-full`, and every URL of the profile carries `sslmode=verify-full
    /// sslrootcert=<dir>/tls/ca.crt`.
    pub tls: bool,
    /// With `tls`: `cert` authentication (the client certificate's CN is the role; no
    /// password) for every connection, replication included; the profile's URLs add
    /// `sslcert` and `sslkey`.
    pub client_cert: bool,
    /// The role the written profile connects as.
    pub profile_role: ProfileRole,
}

/// The role a sandbox's profile connects as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileRole {
    /// The sandbox's superuser, `postgres`.
    #[default]
    Superuser,
    /// [`MONITOR_ROLE`]: what a monitoring console needs and no more (see the README's
    /// "Least privilege" section).
    Monitor,
}

impl ProfileRole {
    /// The PostgreSQL role name.
    pub fn user(self) -> &'static str {
        match self {
            ProfileRole::Superuser => SUPERUSER,
            ProfileRole::Monitor => MONITOR_ROLE,
        }
    }
}

impl std::str::FromStr for ProfileRole {
    type Err = Error;
    fn from_str(s: &str) -> Result<ProfileRole> {
        match s {
            "superuser" => Ok(ProfileRole::Superuser),
            "monitor" => Ok(ProfileRole::Monitor),
            other => Err(Error::InvalidInput(format!(
                "unknown role '{other}': use superuser or monitor"
            ))),
        }
    }
}

impl SandboxOptions {
    /// The default directory: `$TMPDIR/skein-sandbox` (or `/tmp/skein-sandbox`), reachable by
    /// the unprivileged server user.
    pub fn default_dir() -> PathBuf {
        std::env::var_os("TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| "/tmp".into())
            .join("skein-sandbox")
    }
}

/// A node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The read-write primary.
    Primary,
    /// A hot-standby streaming replica.
    Replica,
}

/// One server of the sandbox, as `--json` prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeInfo {
    /// `primary`, `replica1`, …
    pub name: String,
    /// Primary or replica.
    pub role: Role,
    /// Loopback TCP port.
    pub port: u16,
    /// Postmaster pid.
    pub pid: u32,
    /// A replica: the node it streams from (`primary`, or another replica for a cascading
    /// one); `None` for the primary, and for the replicas of a sandbox recorded before this
    /// field existed (they all stream from the primary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
}

/// A running (or described) sandbox. Dropping it does nothing: call [`Sandbox::down`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sandbox {
    /// The sandbox directory.
    pub dir: PathBuf,
    /// The profile written for this stack.
    pub profile: PathBuf,
    /// The servers, primary first.
    pub nodes: Vec<NodeInfo>,
    /// Demo rows loaded into the primary (all TPC-H tables).
    pub rows_loaded: u64,
    /// Wall time of `up`, in ms.
    pub up_ms: u64,
    /// Whether the servers accept TLS connections only (see [`SandboxSecurity::tls`]).
    #[serde(default)]
    pub tls: bool,
    /// The CA certificate of a TLS sandbox (`sslrootcert`, the servers' `ssl_cert_file`
    /// issuer); `None` for a plain one.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Whether the servers authenticate with client certificates (`cert`) instead of
    /// passwords.
    #[serde(default)]
    pub client_cert: bool,
    /// The role the profile connects as.
    #[serde(default)]
    pub profile_role: ProfileRole,
    /// The Garage cluster the lake's data lives in, for an object-store sandbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub garage: Option<crate::garage::Garage>,
}

/// Database the demo data lives in.
pub const DEMO_DATABASE: &str = "tpch";
/// Database that holds the DuckLake catalog.
pub const LAKE_DATABASE: &str = "skein_lake";
/// The sandbox's superuser.
pub const SUPERUSER: &str = "postgres";
/// The least-privilege role every sandbox creates: `pg_monitor`, CONNECT on the databases,
/// SELECT on the demo tables, and what DuckLake needs on the lake's catalog database.
pub const MONITOR_ROLE: &str = "skein_monitor";

impl Sandbox {
    /// Starts a new plain sandbox whose profile connects as the superuser. Blocking work runs
    /// off the async runtime.
    ///
    /// Errors: [`Error::AlreadyRunning`] when `dir` holds a running sandbox; [`Error::Command`]
    /// when a PostgreSQL program fails (its output is included).
    pub async fn up(opts: SandboxOptions) -> Result<Sandbox> {
        Sandbox::up_with(opts, SandboxSecurity::default()).await
    }

    /// Starts a new sandbox secured as `security` says (TLS, client certificates, the
    /// profile's role). Errors: as [`Sandbox::up`]; [`Error::InvalidInput`] for
    /// `client_cert` without `tls`.
    pub async fn up_with(opts: SandboxOptions, security: SandboxSecurity) -> Result<Sandbox> {
        if security.client_cert && !security.tls {
            return Err(Error::InvalidInput(
                "--client-cert needs --tls: client certificates are checked over TLS".into(),
            ));
        }
        if opts.replicas > 32 {
            return Err(Error::InvalidInput("--replicas must be 32 or fewer".into()));
        }
        upstreams(opts.replicas, &opts.cascade)?;
        if !(opts.scale == 0.0 || (0.01..=10.0).contains(&opts.scale)) {
            return Err(Error::InvalidInput(format!(
                "--scale {} is out of range: use 0 (no demo data) or 0.01 to 10 (TPC-H's \
                 generator repeats partsupp keys below 0.01)",
                opts.scale
            )));
        }
        let started = Instant::now();
        if let Ok(existing) = Sandbox::open(&opts.dir) {
            if existing.nodes.iter().any(|n| cluster::alive(n.pid)) {
                return Err(Error::AlreadyRunning(opts.dir.clone()));
            }
            Sandbox::down(&opts.dir)?;
        }
        let dir = opts.dir.clone();
        let scale = opts.scale;
        let started_servers = tokio::task::spawn_blocking(move || start_servers(&opts, security))
            .await
            .map_err(|e| Error::InvalidInput(format!("sandbox task failed: {e}")))?;
        let mut sandbox = match started_servers {
            Ok(sandbox) => sandbox,
            Err(e) => {
                // Stop what did start (a primary, earlier replicas) before reporting.
                tracing::warn!(dir = %dir.display(), "sandbox failed to start: {e}; removing it");
                if dir.join("pg").exists() {
                    if let Err(down) = Sandbox::down(&dir) {
                        tracing::warn!(dir = %dir.display(), "removing the half-built sandbox failed: {down}");
                    }
                }
                return Err(e);
            }
        };
        let result = async {
            let admin = |db: &str| sandbox.secret_conninfo("primary", db, SUPERUSER);
            demo::prepare_primary(&admin("postgres")?, &sandbox.password_of(MONITOR_ROLE)?).await?;
            demo::prepare_lake_catalog(&admin(LAKE_DATABASE)?).await?;
            let tpch = admin(DEMO_DATABASE)?;
            let load = tpch.clone();
            sandbox.rows_loaded =
                tokio::task::spawn_blocking(move || demo::load_tpch(&load, scale))
                    .await
                    .map_err(|e| Error::InvalidInput(format!("demo data task failed: {e}")))??;
            demo::add_primary_keys(&tpch).await?;
            sandbox.up_ms = started.elapsed().as_millis() as u64;
            sandbox.save()?;
            Ok(sandbox.clone())
        }
        .await;
        match &result {
            Ok(s) => tracing::info!(
                dir = %dir.display(),
                nodes = %s.nodes.iter().map(|n| format!("{}:{}", n.name, n.port)).collect::<Vec<_>>().join(","),
                rows = s.rows_loaded,
                up_ms = s.up_ms,
                "sandbox up"
            ),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "sandbox failed to start: {e}; removing it");
                if let Err(down) = Sandbox::down(&dir) {
                    tracing::warn!(dir = %dir.display(), "removing the half-built sandbox failed: {down}");
                }
            }
        }
        result
    }

    /// Reads the description of the sandbox in `dir`.
    ///
    /// Errors: [`Error::NotFound`] when `dir` holds no sandbox.
    pub fn open(dir: &Path) -> Result<Sandbox> {
        let text = std::fs::read_to_string(dir.join("sandbox.json"))
            .map_err(|_| Error::NotFound(dir.to_owned()))?;
        serde_json::from_str(&text).map_err(|e| {
            Error::InvalidInput(format!("{}: {e}", dir.join("sandbox.json").display()))
        })
    }

    /// Stops every server the sandbox in `dir` started (by pid) and removes the directory.
    ///
    /// Errors: [`Error::NotFound`] when `dir` holds no sandbox.
    pub fn down(dir: &Path) -> Result<()> {
        let nodes = match Sandbox::open(dir) {
            Ok(s) => s.nodes,
            // A half-built sandbox: stop whatever postmaster.pid files name.
            Err(_) if dir.join("pg").exists() => Vec::new(),
            Err(e) => return Err(e),
        };
        if let Ok(Sandbox {
            garage: Some(g), ..
        }) = Sandbox::open(dir)
        {
            crate::garage::stop(&g);
        }
        // A half-built object store: the pid files its servers left.
        for entry in std::fs::read_dir(dir.join("garage"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Some(pid) = std::fs::read_to_string(entry.path().join("pid"))
                .ok()
                .and_then(|p| p.trim().parse::<u32>().ok())
            {
                crate::garage::stop_pid(pid);
            }
        }
        let mut pids: Vec<u32> = nodes.iter().map(|n| n.pid).collect();
        for entry in std::fs::read_dir(dir.join("pg"))
            .into_iter()
            .flatten()
            .flatten()
        {
            pids.extend(cluster::postmaster_pid(&entry.path()));
        }
        pids.sort_unstable();
        pids.dedup();
        // Replicas first, so they do not log lost connections to a stopped primary.
        for pid in pids.iter().rev() {
            cluster::stop(*pid);
        }
        tracing::info!(dir = %dir.display(), servers = pids.len(), "sandbox down");
        std::fs::remove_dir_all(dir).map_err(Error::io(format!("removing {}", dir.display())))
    }

    /// The node the named replica streams from (`primary`, or another replica when it
    /// cascades); `None` for the primary or an unknown name.
    pub fn upstream_of(&self, name: &str) -> Option<&str> {
        let node = self.nodes.iter().find(|n| n.name == name)?;
        match node.role {
            Role::Primary => None,
            Role::Replica => Some(node.upstream.as_deref().unwrap_or("primary")),
        }
    }

    /// Port of the named node.
    pub fn port(&self, name: &str) -> Option<u16> {
        self.nodes.iter().find(|n| n.name == name).map(|n| n.port)
    }

    /// Data directory of the named node.
    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.dir.join("pg").join(name)
    }

    /// Stops one node by its pid (for failure drills); the rest keep running.
    pub fn stop_node(&self, name: &str) -> Result<()> {
        let node = self
            .nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| Error::NotFound(self.data_dir(name)))?;
        cluster::stop(node.pid);
        Ok(())
    }

    /// Stops one Garage server of an object-store sandbox by its pid (`garage1`…`garage3`);
    /// the others keep running (2 of 3 still make a quorum).
    ///
    /// Errors: `InvalidInput` when the sandbox has no object store or no such server.
    pub fn stop_store_node(&self, name: &str) -> Result<()> {
        let node = self.store_node(name)?;
        crate::garage::stop_pid(node.pid);
        Ok(())
    }

    /// Starts a stopped Garage server again (same ports, same data) and records its pid.
    ///
    /// Errors: as [`Sandbox::stop_store_node`], and a start that fails (its log's end).
    pub fn start_store_node(&mut self, name: &str) -> Result<()> {
        let node = self.store_node(name)?.clone();
        let dir = node
            .config
            .parent()
            .map(Path::to_owned)
            .unwrap_or_else(|| self.dir.join("garage").join(name));
        let pid = crate::garage::spawn(
            &crate::garage::garage_bin()?,
            &dir,
            &node.config,
            node.rpc_port,
        )?;
        if let Some(g) = self.garage.as_mut() {
            for n in &mut g.nodes {
                if n.name == name {
                    n.pid = pid;
                }
            }
        }
        self.save()
    }

    /// Waits until the object store says it is healthy (`garage health`: every node connected
    /// and every partition with all its copies), at most `timeout`.
    ///
    /// Errors: `InvalidInput` without an object store; `Command` with its last answer when it
    /// is not healthy in time.
    pub fn wait_store_healthy(&self, timeout: std::time::Duration) -> Result<()> {
        let garage = self.garage.as_ref().ok_or_else(|| {
            Error::InvalidInput("this sandbox has no object store (--object-store)".into())
        })?;
        crate::garage::wait_healthy(garage, timeout)
    }

    fn store_node(&self, name: &str) -> Result<&crate::garage::GarageNode> {
        let garage = self.garage.as_ref().ok_or_else(|| {
            Error::InvalidInput("this sandbox has no object store (--object-store)".into())
        })?;
        garage.node(name).ok_or_else(|| {
            Error::InvalidInput(format!(
                "no store node '{name}': the nodes are {}",
                garage
                    .nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// Starts a stopped node again and records its new pid.
    pub fn start_node(&mut self, name: &str) -> Result<()> {
        let data = self.data_dir(name);
        let log = self.dir.join("pg").join(format!("{name}.log"));
        let pid = cluster::start(RunAs::detect()?, &cluster::pg_bin_dir()?, &data, &log)?;
        if let Some(n) = self.nodes.iter_mut().find(|n| n.name == name) {
            n.pid = pid;
        }
        self.save()
    }

    /// Password of the sandbox's superuser, from the sandbox's own password file.
    pub fn password(&self) -> Result<String> {
        self.password_of(SUPERUSER)
    }

    /// Password of one of the sandbox's roles ([`SUPERUSER`], [`MONITOR_ROLE`]), from the
    /// sandbox's own password file (`<dir>/pgpass`, `host:port:db:user:password` lines).
    pub fn password_of(&self, user: &str) -> Result<String> {
        let text = std::fs::read_to_string(self.dir.join("pgpass"))
            .map_err(Error::io("reading the sandbox pgpass"))?;
        text.lines()
            .find_map(|l| {
                let mut fields = l.splitn(5, ':');
                let user_field = fields.nth(3)?;
                (user_field == user).then(|| fields.next().map(str::to_owned))?
            })
            .ok_or_else(|| {
                Error::InvalidInput(format!("the sandbox pgpass has no password for {user}"))
            })
    }

    /// A `key=value` connection string for the named node and database as the superuser
    /// (no password), with the TLS parameters of a TLS sandbox.
    pub fn conninfo(&self, name: &str, database: &str) -> String {
        self.conninfo_as(name, database, SUPERUSER)
    }

    /// [`Sandbox::conninfo`] as another role.
    pub fn conninfo_as(&self, name: &str, database: &str, user: &str) -> String {
        let mut s = format!(
            "host=127.0.0.1 port={} user={user} dbname={database}",
            self.port(name).unwrap_or(0)
        );
        for (k, v) in self.tls_params(user) {
            s.push_str(&format!(" {k}={}", quote(&v)));
        }
        s
    }

    /// The TLS parameters of a connection as `user`: none for a plain sandbox; `sslmode`
    /// (`verify-full`) and `sslrootcert` for a TLS one; `sslcert` and `sslkey` too with client
    /// certificates.
    pub fn tls_params(&self, user: &str) -> Vec<(&'static str, String)> {
        let Some(ca) = self.ca_file.as_ref().filter(|_| self.tls) else {
            return Vec::new();
        };
        let mut params = vec![
            ("sslmode", "verify-full".to_owned()),
            ("sslrootcert", ca.display().to_string()),
        ];
        if self.client_cert {
            let (crt, key) = self.client_cert_files(user);
            params.push(("sslcert", crt.display().to_string()));
            params.push(("sslkey", key.display().to_string()));
        }
        params
    }

    /// The client certificate and key of `user` in a TLS sandbox (`<dir>/tls/USER.crt`,
    /// `USER.key`; they exist for [`SUPERUSER`] and [`MONITOR_ROLE`]).
    pub fn client_cert_files(&self, user: &str) -> (PathBuf, PathBuf) {
        crate::tls::cert_pair(&self.dir, user)
    }

    /// [`Sandbox::conninfo_as`] with the role's password: for the sandbox's own connections.
    /// Holds a secret: never log or show it.
    pub(crate) fn secret_conninfo(&self, name: &str, database: &str, user: &str) -> Result<String> {
        Ok(format!(
            "{} password={} application_name=skein-sandbox connect_timeout=10",
            self.conninfo_as(name, database, user),
            quote(&self.password_of(user)?)
        ))
    }

    fn save(&self) -> Result<()> {
        let text =
            serde_json::to_string_pretty(self).map_err(|e| Error::InvalidInput(e.to_string()))?;
        std::fs::write(self.dir.join("sandbox.json"), text)
            .map_err(Error::io("writing sandbox.json"))
    }
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(Error::io("finding a free port"))?;
    Ok(l.local_addr()
        .map_err(Error::io("finding a free port"))?
        .port())
}

/// Blocking part of `up`: directory, certificates, primary, replicas, password file,
/// profile.
fn start_servers(opts: &SandboxOptions, security: SandboxSecurity) -> Result<Sandbox> {
    let run_as = RunAs::detect()?;
    let bin = cluster::pg_bin_dir()?;
    let dir = &opts.dir;
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let dir = dir
        .canonicalize()
        .map_err(Error::io(format!("resolving {}", dir.display())))?;
    let pg = dir.join("pg");
    std::fs::create_dir_all(&pg).map_err(Error::io("creating pg/"))?;
    run_as.own(&pg)?;
    let ca_file = if security.tls {
        Some(crate::tls::make(
            &dir,
            run_as,
            &[SUPERUSER, MONITOR_ROLE],
            security.client_cert.then_some(SUPERUSER),
        )?)
    } else {
        None
    };

    let password = uuid::Uuid::new_v4().simple().to_string();
    let monitor_password = uuid::Uuid::new_v4().simple().to_string();
    // Written first: `up` reads both passwords from it.
    let pgpass = dir.join("pgpass");
    write_private(
        &pgpass,
        &format!(
            "127.0.0.1:*:*:{SUPERUSER}:{password}\n127.0.0.1:*:*:{MONITOR_ROLE}:{monitor_password}\n"
        ),
    )?;
    let pwfile = pg.join(".pwfile");
    std::fs::write(&pwfile, &password).map_err(Error::io("writing the initdb password file"))?;
    run_as.own(&pwfile)?;
    let primary_port = free_port()?;
    let primary = pg.join("primary");
    let primary_s = primary.display().to_string();
    let pwfile_s = pwfile.display().to_string();
    cluster::run(
        run_as,
        &bin,
        "initdb",
        &[
            "-D",
            &primary_s,
            "-U",
            SUPERUSER,
            "--pwfile",
            &pwfile_s,
            "--auth-host=scram-sha-256",
            "--auth-local=peer",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        &[],
    )?;
    let _ = std::fs::remove_file(&pwfile);
    // A base backup taken on a standby is refused once WAL written with full_page_writes = off
    // was replayed there: a sandbox with cascading replicas keeps them on.
    let mut conf = primary_conf(primary_port, !opts.cascade.is_empty());
    if let Some(ca) = &ca_file {
        conf.push_str(&tls_conf(&dir, ca));
        // Replicas are copies of the primary: they get the same rules.
        std::fs::write(primary.join("pg_hba.conf"), tls_hba(security.client_cert))
            .map_err(Error::io("writing pg_hba.conf"))?;
    }
    append(&primary.join("postgresql.conf"), &conf)?;
    let mut nodes = vec![NodeInfo {
        name: "primary".into(),
        role: Role::Primary,
        port: primary_port,
        pid: cluster::start(run_as, &bin, &primary, &pg.join("primary.log"))?,
        upstream: None,
    }];
    // Record what runs as soon as it runs, so `down` can stop it if a later step fails.
    let mut sandbox = Sandbox {
        dir: dir.clone(),
        profile: dir.join("profile.toml"),
        nodes: Vec::new(),
        rows_loaded: 0,
        up_ms: 0,
        tls: security.tls,
        ca_file: ca_file.clone(),
        client_cert: security.client_cert,
        profile_role: security.profile_role,
        garage: None,
    };
    sandbox.nodes = nodes.clone();
    sandbox.save()?;

    // A replica's connection to its upstream (`pg_basebackup -R` writes it into its
    // `primary_conninfo`): over TLS with the server's certificate checked, and with the
    // replicas' own client certificate under `cert` authentication.
    let source = |port: u16| {
        let mut source = format!("host=127.0.0.1 port={port} user={SUPERUSER}");
        if let Some(ca) = &ca_file {
            source.push_str(&format!(
                " sslmode=verify-full sslrootcert={}",
                quote(&ca.display().to_string())
            ));
            if security.client_cert {
                let (crt, key) = crate::tls::cert_pair(&dir, crate::tls::REPLICATION);
                source.push_str(&format!(
                    " sslcert={} sslkey={}",
                    quote(&crt.display().to_string()),
                    quote(&key.display().to_string())
                ));
            }
        }
        source
    };
    // A cascading replica is a base backup of its upstream replica, and its slot (`-C -S`)
    // is created on that replica: PostgreSQL takes both from a hot standby.
    for (i, upstream) in upstreams(opts.replicas, &opts.cascade)?
        .into_iter()
        .enumerate()
    {
        let name = format!("replica{}", i + 1);
        let upstream_port = nodes
            .iter()
            .find(|n| n.name == upstream)
            .map(|n| n.port)
            .ok_or_else(|| Error::InvalidInput(format!("{upstream} is not running")))?;
        let source = source(upstream_port);
        let data = pg.join(&name);
        let data_s = data.display().to_string();
        cluster::run(
            run_as,
            &bin,
            "pg_basebackup",
            &[
                "-d", &source, "-D", &data_s, "-R", "-X", "stream", "-C", "-S", &name, "-c", "fast",
            ],
            &[("PGPASSWORD", &password)],
        )?;
        let port = free_port()?;
        append(&data.join("postgresql.conf"), &replica_conf(port, &name))?;
        let pid = cluster::start(run_as, &bin, &data, &pg.join(format!("{name}.log")))?;
        nodes.push(NodeInfo {
            name,
            role: Role::Replica,
            port,
            pid,
            upstream: Some(upstream),
        });
        sandbox.nodes = nodes.clone();
        sandbox.save()?;
    }

    let lake_data = dir.join("lake");
    std::fs::create_dir_all(&lake_data).map_err(Error::io("creating lake/"))?;
    let (data_path, storage) = if opts.object_store {
        let (garage, secret) = crate::garage::start(&dir, free_port)?;
        // The secret key goes where AWS tools look for one, never into the profile.
        let credentials = dir.join("aws-credentials");
        write_private(
            &credentials,
            &format!(
                "[sandbox]\naws_access_key_id = {}\naws_secret_access_key = {secret}\n",
                garage.key_id
            ),
        )?;
        let storage = skein_core::StorageSpec {
            endpoint: Some(garage.endpoint()),
            region: Some(crate::garage::REGION.into()),
            url_style: Some("path".into()),
            use_ssl: Some(false),
            key_id: Some(garage.key_id.clone()),
            aws_profile: Some("sandbox".into()),
            credentials_file: Some(credentials),
            health_url: Some(format!(
                "http://127.0.0.1:{}/health",
                garage.nodes[0].admin_port
            )),
        };
        let path = format!("s3://{}/data/", garage.bucket);
        sandbox.garage = Some(garage);
        sandbox.save()?;
        (path, Some(storage))
    } else {
        (format!("{}/", lake_data.display()), None)
    };
    let user = security.profile_role.user();
    let profile = Profile {
        name: "sandbox".into(),
        passfile: Some(pgpass),
        primary: node_spec(
            "primary",
            sandbox.conninfo_as("primary", DEMO_DATABASE, user),
        ),
        replicas: nodes[1..]
            .iter()
            .map(|n| node_spec(&n.name, sandbox.conninfo_as(&n.name, DEMO_DATABASE, user)))
            .collect(),
        lake: LakeSpec {
            catalog: sandbox.conninfo_as("primary", LAKE_DATABASE, user),
            data_path,
            name: "lake".into(),
            ssh: None,
            storage,
        },
        thresholds: Thresholds::default(),
        sampling: Default::default(),
        alerts: Default::default(),
        router: Default::default(),
        source: None,
    };
    std::fs::write(
        &sandbox.profile,
        format!("# Written by `skein sandbox up`.\n{}", profile.to_toml()),
    )
    .map_err(Error::io("writing profile.toml"))?;
    Ok(sandbox)
}

fn node_spec(name: &str, url: String) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        url,
        region: Some("local".into()),
        weight: 1,
        application_name: None,
        ssh: None,
    }
}

/// The TLS lines of every node's `postgresql.conf`.
fn tls_conf(dir: &Path, ca: &Path) -> String {
    let (crt, key) = crate::tls::cert_pair(dir, "server");
    format!(
        "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\nssl_ca_file = '{}'\n",
        crt.display(),
        key.display(),
        ca.display()
    )
}

/// `pg_hba.conf` of a TLS sandbox: TLS connections only (normal and replication), with
/// SCRAM passwords or client certificates; everything unencrypted is rejected.
fn tls_hba(client_cert: bool) -> String {
    let method = if client_cert { "cert" } else { "scram-sha-256" };
    format!(
        "# skein sandbox: TLS connections only\n\
         # TYPE    DATABASE     USER  ADDRESS       METHOD\n\
         hostssl   all          all   127.0.0.1/32  {method}\n\
         hostssl   replication  all   127.0.0.1/32  {method}\n\
         hostnossl all          all   0.0.0.0/0     reject\n\
         hostnossl replication  all   0.0.0.0/0     reject\n\
         hostnossl all          all   ::/0          reject\n\
         hostnossl replication  all   ::/0          reject\n"
    )
}

fn primary_conf(port: u16, full_page_writes: bool) -> String {
    let full_page_writes = if full_page_writes { "on" } else { "off" };
    format!(
        "\n# skein sandbox\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\n\
         cluster_name = 'primary'\nwal_level = logical\nmax_wal_senders = 40\nmax_replication_slots = 40\n\
         wal_keep_size = '256MB'\nhot_standby = on\nhot_standby_feedback = on\nwal_receiver_status_interval = '1s'\n\
         shared_buffers = '64MB'\nmax_connections = 450\nfsync = off\nfull_page_writes = {full_page_writes}\n\
         checkpoint_timeout = '15min'\nmax_wal_size = '2GB'\n\
         shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = 'top'\n"
    )
}

fn replica_conf(port: u16, name: &str) -> String {
    format!("\n# skein sandbox replica\nport = {port}\ncluster_name = '{name}'\ndefault_transaction_read_only = on\n")
}

fn append(file: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(file)
        .map_err(Error::io(format!("opening {}", file.display())))?;
    f.write_all(text.as_bytes())
        .map_err(Error::io(format!("writing {}", file.display())))
}

pub(crate) fn write_private(file: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)
        .map_err(Error::io(format!("writing {}", file.display())))?;
    f.write_all(text.as_bytes())
        .map_err(Error::io(format!("writing {}", file.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cascade {
        s.parse().expect("parses")
    }

    #[test]
    fn cascades_parse_and_name_earlier_replicas() {
        assert_eq!(
            c("replica2=replica1"),
            Cascade {
                replica: "replica2".into(),
                upstream: "replica1".into()
            }
        );
        assert!("replica2".parse::<Cascade>().is_err());
        assert!("=replica1".parse::<Cascade>().is_err());
        assert_eq!(
            upstreams(2, &[]).expect("no cascade"),
            ["primary", "primary"]
        );
        assert_eq!(
            upstreams(3, &[c("replica2=replica1"), c("replica3=replica2")]).expect("a chain"),
            ["primary", "replica1", "replica2"]
        );
        let later = upstreams(2, &[c("replica1=replica2")]).expect_err("refused");
        assert!(later.to_string().contains("lower number"), "{later}");
        let unknown = upstreams(2, &[c("replica3=replica1")]).expect_err("refused");
        assert!(
            unknown.to_string().contains("replica1 … replica2"),
            "{unknown}"
        );
        assert!(upstreams(2, &[c("replica2=primary")]).is_err());
        assert!(upstreams(2, &[c("replica02=replica1")]).is_err());
        let twice =
            upstreams(3, &[c("replica3=replica1"), c("replica3=replica2")]).expect_err("refused");
        assert!(twice.to_string().contains("twice"), "{twice}");
    }

    #[test]
    fn a_recorded_upstream_survives_and_old_records_stream_from_the_primary() {
        let old = r#"{"name":"replica1","role":"replica","port":1,"pid":2}"#;
        let n: NodeInfo = serde_json::from_str(old).expect("an old record");
        assert_eq!(n.upstream, None);
        let sb = Sandbox {
            dir: "/x".into(),
            profile: "/x/profile.toml".into(),
            nodes: vec![
                NodeInfo {
                    name: "primary".into(),
                    role: Role::Primary,
                    port: 1,
                    pid: 1,
                    upstream: None,
                },
                n,
                NodeInfo {
                    name: "replica2".into(),
                    role: Role::Replica,
                    port: 3,
                    pid: 3,
                    upstream: Some("replica1".into()),
                },
            ],
            rows_loaded: 0,
            up_ms: 0,
            tls: false,
            ca_file: None,
            client_cert: false,
            profile_role: ProfileRole::Superuser,
            garage: None,
        };
        let back: Sandbox =
            serde_json::from_str(&serde_json::to_string(&sb).expect("json")).expect("read back");
        assert_eq!(back.upstream_of("primary"), None);
        assert_eq!(back.upstream_of("replica1"), Some("primary"));
        assert_eq!(back.upstream_of("replica2"), Some("replica1"));
    }
}
