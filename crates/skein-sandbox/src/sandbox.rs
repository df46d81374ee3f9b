//! The sandbox as a whole: lay out the directory, start the primary and replicas, create
//! the lake's catalog database, load demo data, write the profile; and tear it all down.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
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
}

/// Database the demo data lives in.
pub const DEMO_DATABASE: &str = "tpch";
/// Database that holds the DuckLake catalog.
pub const LAKE_DATABASE: &str = "skein_lake";
const SUPERUSER: &str = "postgres";

impl Sandbox {
    /// Starts a new sandbox. Blocking work runs off the async runtime.
    ///
    /// Errors: [`Error::AlreadyRunning`] when `dir` holds a running sandbox; [`Error::Command`]
    /// when a PostgreSQL program fails (its output is included).
    pub async fn up(opts: SandboxOptions) -> Result<Sandbox> {
        if opts.replicas > 32 {
            return Err(Error::InvalidInput("--replicas must be 32 or fewer".into()));
        }
        if !(0.0..=10.0).contains(&opts.scale) {
            return Err(Error::InvalidInput(
                "--scale must be between 0 and 10".into(),
            ));
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
        let (mut sandbox, password) = tokio::task::spawn_blocking(move || start_servers(&opts))
            .await
            .map_err(|e| Error::InvalidInput(format!("sandbox task failed: {e}")))??;
        let result = async {
            demo::prepare_primary(sandbox.nodes[0].port, SUPERUSER, &password).await?;
            let port = sandbox.nodes[0].port;
            let pw = password.clone();
            sandbox.rows_loaded =
                tokio::task::spawn_blocking(move || demo::load_tpch(port, SUPERUSER, &pw, scale))
                    .await
                    .map_err(|e| Error::InvalidInput(format!("demo data task failed: {e}")))??;
            demo::add_primary_keys(port, SUPERUSER, &password).await?;
            sandbox.up_ms = started.elapsed().as_millis() as u64;
            sandbox.save()?;
            Ok(sandbox.clone())
        }
        .await;
        if result.is_err() {
            let _ = Sandbox::down(&dir);
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
        std::fs::remove_dir_all(dir).map_err(Error::io(format!("removing {}", dir.display())))
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
        let text = std::fs::read_to_string(self.dir.join("pgpass"))
            .map_err(Error::io("reading the sandbox pgpass"))?;
        text.lines()
            .next()
            .and_then(|l| l.rsplit(':').next())
            .map(str::to_owned)
            .ok_or_else(|| Error::InvalidInput("the sandbox pgpass is empty".into()))
    }

    /// A `key=value` connection string for the named node and database (no password).
    pub fn conninfo(&self, name: &str, database: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={SUPERUSER} dbname={database}",
            self.port(name).unwrap_or(0)
        )
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

/// Blocking part of `up`: directory, primary, replicas, profile. Returns the password.
fn start_servers(opts: &SandboxOptions) -> Result<(Sandbox, String)> {
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

    let password = uuid::Uuid::new_v4().simple().to_string();
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
    append(
        &primary.join("postgresql.conf"),
        &primary_conf(primary_port),
    )?;
    let mut nodes = vec![NodeInfo {
        name: "primary".into(),
        role: Role::Primary,
        port: primary_port,
        pid: cluster::start(run_as, &bin, &primary, &pg.join("primary.log"))?,
    }];
    // Record what runs as soon as it runs, so `down` can stop it if a later step fails.
    let mut sandbox = Sandbox {
        dir: dir.clone(),
        profile: dir.join("profile.toml"),
        nodes: Vec::new(),
        rows_loaded: 0,
        up_ms: 0,
    };
    sandbox.nodes = nodes.clone();
    sandbox.save()?;

    for i in 1..=opts.replicas {
        let name = format!("replica{i}");
        let data = pg.join(&name);
        let data_s = data.display().to_string();
        let port_s = primary_port.to_string();
        cluster::run(
            run_as,
            &bin,
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port_s,
                "-U",
                SUPERUSER,
                "-D",
                &data_s,
                "-R",
                "-X",
                "stream",
                "-C",
                "-S",
                &name,
                "-c",
                "fast",
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
        });
        sandbox.nodes = nodes.clone();
        sandbox.save()?;
    }

    let pgpass = dir.join("pgpass");
    write_private(&pgpass, &format!("127.0.0.1:*:*:{SUPERUSER}:{password}\n"))?;
    let lake_data = dir.join("lake");
    std::fs::create_dir_all(&lake_data).map_err(Error::io("creating lake/"))?;
    let profile = Profile {
        name: "sandbox".into(),
        passfile: Some(pgpass),
        primary: node_spec("primary", primary_port),
        replicas: nodes[1..]
            .iter()
            .map(|n| node_spec(&n.name, n.port))
            .collect(),
        lake: LakeSpec {
            catalog: format!(
                "host=127.0.0.1 port={primary_port} user={SUPERUSER} dbname={LAKE_DATABASE}"
            ),
            data_path: format!("{}/", lake_data.display()),
            name: "lake".into(),
            ssh: None,
        },
        thresholds: Thresholds::default(),
        router: Default::default(),
        source: None,
    };
    std::fs::write(
        &sandbox.profile,
        format!("# Written by `skein sandbox up`.\n{}", profile.to_toml()),
    )
    .map_err(Error::io("writing profile.toml"))?;
    Ok((sandbox, password))
}

fn node_spec(name: &str, port: u16) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        url: format!("host=127.0.0.1 port={port} user={SUPERUSER} dbname={DEMO_DATABASE}"),
        region: Some("local".into()),
        weight: 1,
        application_name: None,
        ssh: None,
    }
}

fn primary_conf(port: u16) -> String {
    format!(
        "\n# skein sandbox\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\n\
         cluster_name = 'primary'\nwal_level = replica\nmax_wal_senders = 40\nmax_replication_slots = 40\n\
         wal_keep_size = '256MB'\nhot_standby = on\nhot_standby_feedback = on\nwal_receiver_status_interval = '1s'\n\
         shared_buffers = '64MB'\nmax_connections = 200\nfsync = off\nfull_page_writes = off\n\
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

fn write_private(file: &Path, text: &str) -> Result<()> {
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
