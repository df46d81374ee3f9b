//! A three-node Garage cluster (the S3-compatible distributed object store) for a sandbox's
//! lake: each node on its own loopback ports (RPC, S3 API, admin API) and directory, one
//! zone, replication factor 3 (writes and reads need 2 of 3 nodes), a bucket `lake` and an
//! access key allowed on it. The binary is the pinned build `scripts/setup.sh` makes once
//! ([`garage_bin`]). Nodes are stopped by pid.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The Garage release the setup builds.
pub const GARAGE_VERSION: &str = "2.5.0";
/// The bucket the sandbox's lake lives in.
pub const BUCKET: &str = "lake";
/// The region Garage answers as (its `s3_region`).
pub const REGION: &str = "garage";
/// The nodes of the cluster, and its replication factor.
pub const NODES: usize = 3;

/// One Garage server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GarageNode {
    /// `garage1`, `garage2`, `garage3`.
    pub name: String,
    /// Its pid.
    pub pid: u32,
    /// The RPC port (node to node).
    pub rpc_port: u16,
    /// The S3 API port.
    pub s3_port: u16,
    /// The admin API port.
    pub admin_port: u16,
    /// Its configuration file.
    pub config: PathBuf,
}

/// The sandbox's object store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Garage {
    /// The servers.
    pub nodes: Vec<GarageNode>,
    /// The bucket (`lake`).
    pub bucket: String,
    /// The access key id allowed on the bucket (its secret key is in the sandbox's
    /// `aws-credentials`, profile `[sandbox]`).
    pub key_id: String,
}

impl Garage {
    /// `127.0.0.1:PORT` of the first node's S3 API: the endpoint the profile names.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.nodes[0].s3_port)
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&GarageNode> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

/// The Garage binary: `SKEIN_GARAGE`, else the setup's build
/// (`~/.cache/skein-tools/garage-2.5.0/bin/garage`), else `garage` on the `PATH`.
///
/// Errors: `InvalidInput` saying how to build it when none is found.
pub fn garage_bin() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SKEIN_GARAGE") {
        return Ok(PathBuf::from(p));
    }
    if let Some(home) = std::env::var_os("HOME") {
        let p = Path::new(&home).join(format!(
            ".cache/skein-tools/garage-{GARAGE_VERSION}/bin/garage"
        ));
        if p.is_file() {
            return Ok(p);
        }
    }
    if let Some(p) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("garage"))
        .find(|p| p.is_file())
    {
        return Ok(p);
    }
    Err(Error::InvalidInput(format!(
        "Garage is not installed: run scripts/setup.sh (it builds Garage {GARAGE_VERSION} once into \
         ~/.cache/skein-tools), or set SKEIN_GARAGE to a garage binary"
    )))
}

fn cli(bin: &Path, config: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(bin)
        .arg("-c")
        .arg(config)
        .args(args)
        .output()
        .map_err(Error::io(format!("running {}", bin.display())))?;
    if !out.status.success() {
        return Err(Error::Command {
            command: format!("garage {}", args.join(" ")),
            detail: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn config_text(dir: &Path, rpc: u16, s3: u16, admin: u16, secret: &str) -> String {
    format!(
        "metadata_dir = \"{meta}\"\n\
         data_dir = \"{data}\"\n\
         db_engine = \"sqlite\"\n\
         replication_factor = {NODES}\n\
         rpc_bind_addr = \"127.0.0.1:{rpc}\"\n\
         rpc_public_addr = \"127.0.0.1:{rpc}\"\n\
         rpc_secret = \"{secret}\"\n\
         \n\
         [s3_api]\n\
         s3_region = \"{REGION}\"\n\
         api_bind_addr = \"127.0.0.1:{s3}\"\n\
         root_domain = \".s3.garage.localhost\"\n\
         \n\
         [admin]\n\
         api_bind_addr = \"127.0.0.1:{admin}\"\n",
        meta = dir.join("meta").display(),
        data = dir.join("data").display(),
    )
}

/// Starts the server of a configured node; returns its pid once its RPC port answers.
pub(crate) fn spawn(bin: &Path, node_dir: &Path, config: &Path, rpc_port: u16) -> Result<u32> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(node_dir.join("garage.log"))
        .map_err(Error::io("opening garage.log"))?;
    let err = log.try_clone().map_err(Error::io("opening garage.log"))?;
    use std::os::unix::process::CommandExt;
    let child = Command::new(bin)
        .arg("-c")
        .arg(config)
        .arg("server")
        .env("RUST_LOG", "garage=warn")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        // Its own process group: a Ctrl-C in the terminal that ran `up` does not reach it.
        .process_group(0)
        .spawn()
        .map_err(Error::io(format!("starting {}", bin.display())))?;
    let pid = child.id();
    // Not waited for here: it outlives `up`, and init reaps it.
    std::mem::forget(child);
    // For `down` of a half-built sandbox, before sandbox.json names it.
    std::fs::write(node_dir.join("pid"), pid.to_string())
        .map_err(Error::io("writing garage's pid file"))?;
    let until = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", rpc_port)).is_err() {
        if Instant::now() > until || !crate::cluster::alive(pid) {
            let log = std::fs::read_to_string(node_dir.join("garage.log")).unwrap_or_default();
            return Err(Error::Command {
                command: "garage server".into(),
                detail: log
                    .lines()
                    .rev()
                    .take(20)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n"),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(pid)
}

/// Starts the cluster under `dir/garage`, lays it out, creates the bucket and the key.
/// Returns it with the key's secret (for the credentials file; never in sandbox.json).
pub(crate) fn start(dir: &Path, free_port: impl Fn() -> Result<u16>) -> Result<(Garage, String)> {
    let bin = garage_bin()?;
    let root = dir.join("garage");
    let secret = {
        let a = uuid::Uuid::new_v4().simple().to_string();
        let b = uuid::Uuid::new_v4().simple().to_string();
        format!("{a}{b}")
    };
    let mut nodes = Vec::new();
    for i in 1..=NODES {
        let name = format!("garage{i}");
        let node_dir = root.join(&name);
        std::fs::create_dir_all(&node_dir)
            .map_err(Error::io(format!("creating {}", node_dir.display())))?;
        let (rpc, s3, admin) = (free_port()?, free_port()?, free_port()?);
        let config = node_dir.join("garage.toml");
        crate::sandbox::write_private(&config, &config_text(&node_dir, rpc, s3, admin, &secret))?;
        let pid = spawn(&bin, &node_dir, &config, rpc)?;
        nodes.push(GarageNode {
            name,
            pid,
            rpc_port: rpc,
            s3_port: s3,
            admin_port: admin,
            config,
        });
    }
    let mut garage = Garage {
        nodes,
        bucket: BUCKET.into(),
        key_id: String::new(),
    };
    match configure(&bin, &mut garage) {
        Ok(secret) => Ok((garage, secret)),
        Err(e) => {
            stop(&garage);
            Err(e)
        }
    }
}

fn configure(bin: &Path, garage: &mut Garage) -> Result<String> {
    let first = garage.nodes[0].config.clone();
    let run = |config: &Path, args: &[&str]| cli(bin, config, args);
    let step = || -> Result<(String, String)> {
        let mut ids = Vec::new();
        for n in &garage.nodes {
            ids.push(run(&n.config, &["node", "id", "-q"])?.trim().to_owned());
        }
        for id in &ids[1..] {
            run(&first, &["node", "connect", id])?;
        }
        // Every node knows the others from its configuration too, so a cluster restarted from
        // scratch (every node stopped) finds itself again.
        let peers = ids
            .iter()
            .map(|i| format!("\"{i}\""))
            .collect::<Vec<_>>()
            .join(", ");
        for n in &garage.nodes {
            let text =
                std::fs::read_to_string(&n.config).map_err(Error::io("reading garage.toml"))?;
            let text = text.replacen(
                "\n[s3_api]",
                &format!("bootstrap_peers = [{peers}]\n\n[s3_api]"),
                1,
            );
            crate::sandbox::write_private(&n.config, &text)?;
        }
        for id in &ids {
            let short = id.split('@').next().unwrap_or(id);
            run(
                &first,
                &["layout", "assign", "-z", "dc1", "-c", "1G", short],
            )?;
        }
        run(&first, &["layout", "apply", "--version", "1"])?;
        // The layout reaches every node, then the bucket can be made.
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            match run(&first, &["bucket", "create", BUCKET]) {
                Ok(_) => break,
                Err(e) if Instant::now() < until => {
                    tracing::debug!("bucket create: {e}; retrying");
                    std::thread::sleep(Duration::from_millis(300));
                }
                Err(e) => return Err(e),
            }
        }
        let key = run(&first, &["key", "create", "skein-sandbox"])?;
        let field = |label: &str| {
            key.lines()
                .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
                .ok_or_else(|| Error::Command {
                    command: "garage key create".into(),
                    detail: format!("no '{label}' in its output"),
                })
        };
        let (id, secret) = (field("Key ID:")?, field("Secret key:")?);
        run(
            &first,
            &[
                "bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", &id,
            ],
        )?;
        Ok((id, secret))
    };
    let (id, secret) = step()?;
    garage.key_id = id;
    Ok(secret)
}

/// Polls `garage health` on the first running node until it says `HEALTHY`.
pub(crate) fn wait_healthy(garage: &Garage, timeout: Duration) -> Result<()> {
    let bin = garage_bin()?;
    let until = Instant::now() + timeout;
    let mut last = String::new();
    while Instant::now() < until {
        if let Some(n) = garage.nodes.iter().find(|n| crate::cluster::alive(n.pid)) {
            match cli(&bin, &n.config, &["health"]) {
                Ok(out) if out.contains("HEALTHY") && !out.contains("DEGRADED") => return Ok(()),
                Ok(out) => last = out,
                Err(e) => last = e.to_string(),
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(Error::Command {
        command: "garage health".into(),
        detail: format!("not healthy after {} s: {last}", timeout.as_secs()),
    })
}

/// Stops every node (SIGTERM, then SIGKILL).
pub(crate) fn stop(garage: &Garage) {
    for n in &garage.nodes {
        stop_pid(n.pid);
    }
}

/// Stops one Garage server by pid: SIGTERM, then SIGKILL after 10 s.
pub(crate) fn stop_pid(pid: u32) {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let Ok(raw) = i32::try_from(pid) else { return };
    for (signal, wait) in [(Signal::SIGTERM, 10), (Signal::SIGKILL, 5)] {
        if kill(Pid::from_raw(raw), signal).is_err() {
            return;
        }
        let until = Instant::now() + Duration::from_secs(wait);
        while Instant::now() < until {
            if !crate::cluster::alive(pid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
