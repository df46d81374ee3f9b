//! SSH tunnels to nodes behind a bastion, through the system's OpenSSH client, so that
//! `~/.ssh/config`, `ProxyJump`, keys and the agent work as they do for `ssh` itself.
//!
//! For a node whose profile entry has `ssh = "me@bastion"`, [`local_endpoint`] runs
//!
//! ```text
//! ssh -N -L 127.0.0.1:P:HOST:PORT -o ExitOnForwardFailure=yes -o BatchMode=yes
//!     -o ServerAliveInterval=15 -o ServerAliveCountMax=3 -o ConnectTimeout=10
//!     [-F ssh_config] [-J ssh_jump] [-p ssh_port] -- me@bastion
//! ```
//!
//! on a free loopback port P, waits until P accepts and the far end answers a PostgreSQL
//! `SSLRequest` (so a bastion that cannot reach HOST:PORT is reported as such), and returns P.
//! HOST and PORT are the node's as the SSH server sees them. One tunnel serves every caller
//! with the same SSH settings and target (process-wide). A supervisor thread restarts ssh on
//! the same port when it exits (a dropped network, a killed process), with a back-off.
//!
//! ssh runs under a small `sh` watchdog that holds a pipe from this process: when this process
//! ends, however it ends (even `SIGKILL`), the pipe closes and the watchdog stops ssh, so no
//! ssh outlives Skein. [`shutdown_all`] stops every tunnel at once; the CLI and the console
//! call it on exit.
//!
//! ssh's standard error goes into error messages: it carries no secrets (BatchMode forbids
//! password and passphrase prompts; keys come from files or the agent).

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::profile::SshSpec;

/// How long [`local_endpoint`] waits for ssh to authenticate and open the forward.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How often the supervisor checks that ssh still runs.
const CHECK_EVERY: Duration = Duration::from_millis(250);

/// The longest wait between two restarts of a tunnel that keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Lines of ssh's standard error kept for messages.
const STDERR_LINES: usize = 12;

/// Runs ssh ("$@") in the background and stops it when standard input (a pipe from Skein)
/// reaches end of file — that is, when Skein stops or closes the pipe — or on TERM/INT/HUP.
/// Exits with ssh's status.
const WATCHDOG: &str = r#"exec 3<&0
ssh "$@" </dev/null &
p=$!
trap 'kill "$p" 2>/dev/null' TERM INT HUP
( read -r _ <&3; kill "$p" 2>/dev/null ) >/dev/null 2>&1 &
w=$!
exec 3<&-
wait "$p"
s=$?
kill "$w" 2>/dev/null
exit "$s""#;

/// A tunnel as [`tunnels`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TunnelInfo {
    /// The SSH settings the tunnel runs with.
    pub ssh: SshSpec,
    /// The target host, as the SSH server resolves it.
    pub host: String,
    /// The target port.
    pub port: u16,
    /// The loopback port that forwards to the target.
    pub local_port: u16,
    /// `true` while ssh runs.
    pub running: bool,
    /// How often ssh was started again after it exited.
    pub restarts: u32,
    /// Why the last start failed, while the tunnel is down.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    ssh: SshSpec,
    host: String,
    port: u16,
}

struct Tunnel {
    key: Key,
    /// Chosen before the first start; kept for every restart.
    local_port: AtomicU16,
    /// `true` once ssh has opened the forward once: the port is then fixed.
    established: AtomicBool,
    proc: Mutex<Option<Running>>,
    stop: AtomicBool,
    restarts: AtomicU32,
    last_error: Mutex<Option<String>>,
}

/// One ssh run: the watchdog shell (leader of its own process group), the pipe it watches,
/// and ssh's standard error.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

fn registry() -> MutexGuard<'static, HashMap<Key, Arc<Tunnel>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<Key, Arc<Tunnel>>>> = OnceLock::new();
    REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The loopback port that forwards to `host:port` through the SSH server `ssh` names: starts
/// the tunnel (or reuses this process's tunnel for the same settings and target, starting ssh
/// again if it has exited), waits until the port accepts, and returns it. Blocks up to
/// [`START_TIMEOUT`].
///
/// Errors: [`Error::Tunnel`] when ssh cannot be started, exits (authentication refused, host
/// key unknown, SSH server unreachable), the SSH server cannot reach `host:port`, or the
/// forward does not open in time; the message carries ssh's own words and the fix.
pub fn local_endpoint(ssh: &SshSpec, host: &str, port: u16) -> Result<u16> {
    let key = Key {
        ssh: ssh.clone(),
        host: host.to_owned(),
        port,
    };
    let (tunnel, new) = {
        let mut reg = registry();
        match reg.get(&key) {
            Some(t) => (Arc::clone(t), false),
            None => {
                let t = Arc::new(Tunnel {
                    key: key.clone(),
                    local_port: AtomicU16::new(0),
                    established: AtomicBool::new(false),
                    proc: Mutex::new(None),
                    stop: AtomicBool::new(false),
                    restarts: AtomicU32::new(0),
                    last_error: Mutex::new(None),
                });
                reg.insert(key.clone(), Arc::clone(&t));
                (t, true)
            }
        }
    };
    match tunnel.ensure_running() {
        Ok(p) => {
            if new {
                tracing::info!(tunnel = %tunnel.describe(), local_port = p, "SSH tunnel up");
                let weak = Arc::downgrade(&tunnel);
                let name = format!("ssh-tunnel-{p}");
                if let Err(e) = std::thread::Builder::new()
                    .name(name)
                    .spawn(move || supervise(weak))
                {
                    tracing::error!(
                        tunnel = %tunnel.describe(),
                        "cannot start the tunnel's supervisor thread ({e}): a tunnel whose ssh exits will not be started again"
                    );
                }
            }
            Ok(p)
        }
        Err(e) => {
            if new || !tunnel.established.load(Ordering::SeqCst) {
                let mut reg = registry();
                if reg.get(&key).is_some_and(|t| Arc::ptr_eq(t, &tunnel)) {
                    reg.remove(&key);
                }
                tunnel.stop.store(true, Ordering::SeqCst);
            }
            Err(e)
        }
    }
}

/// Every tunnel this process runs, for status displays.
pub fn tunnels() -> Vec<TunnelInfo> {
    let list: Vec<Arc<Tunnel>> = registry().values().cloned().collect();
    list.iter()
        .map(|t| TunnelInfo {
            ssh: t.key.ssh.clone(),
            host: t.key.host.clone(),
            port: t.key.port,
            local_port: t.local_port.load(Ordering::SeqCst),
            // A tunnel being restarted holds its lock: report it down rather than wait.
            running: t
                .proc
                .try_lock()
                .ok()
                .is_some_and(|mut p| p.as_mut().is_some_and(Running::alive)),
            restarts: t.restarts.load(Ordering::SeqCst),
            last_error: lock(&t.last_error).clone(),
        })
        .collect()
}

/// Stops every tunnel of this process and waits (briefly) for each ssh to exit. Later calls
/// to [`local_endpoint`] start new tunnels.
pub fn shutdown_all() {
    let all: Vec<Arc<Tunnel>> = registry().drain().map(|(_, t)| t).collect();
    for t in &all {
        t.stop.store(true, Ordering::SeqCst);
    }
    for t in all {
        drop(lock(&t.proc).take());
    }
}

fn supervise(tunnel: Weak<Tunnel>) {
    let mut backoff = Duration::from_secs(1);
    let mut next_try = Instant::now();
    let mut down = false;
    loop {
        std::thread::sleep(CHECK_EVERY);
        let Some(t) = tunnel.upgrade() else { return };
        if t.stop.load(Ordering::SeqCst) {
            return;
        }
        let (dead, said) = {
            let mut proc = lock(&t.proc);
            match proc.as_mut() {
                Some(r) => {
                    if r.alive() {
                        (false, String::new())
                    } else {
                        (true, stderr_text(&r.stderr))
                    }
                }
                None => (true, String::new()),
            }
        };
        if !dead {
            backoff = Duration::from_secs(1);
            continue;
        }
        if !down {
            down = true;
            tracing::warn!(
                tunnel = %t.describe(),
                local_port = t.local_port.load(Ordering::SeqCst),
                "ssh exited ({}); starting it again",
                if said.is_empty() { "no message" } else { said.as_str() }
            );
        }
        if Instant::now() < next_try {
            continue;
        }
        match t.ensure_running() {
            Ok(port) => {
                down = false;
                backoff = Duration::from_secs(1);
                tracing::info!(
                    tunnel = %t.describe(),
                    local_port = port,
                    restarts = t.restarts.load(Ordering::SeqCst),
                    "ssh started again; the tunnel is up"
                );
            }
            Err(e) => {
                tracing::warn!(
                    tunnel = %t.describe(),
                    retry_in_s = backoff.as_secs(),
                    "starting ssh again failed: {e}"
                );
                next_try = Instant::now() + backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

impl Running {
    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Closing the pipe makes the watchdog stop ssh; a process group kill is the fallback.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.child.wait();
    }
}

impl Tunnel {
    /// Starts ssh unless it runs; returns the local port.
    fn ensure_running(&self) -> Result<u16> {
        let mut proc = lock(&self.proc);
        if let Some(r) = proc.as_mut() {
            if r.alive() {
                return Ok(self.local_port.load(Ordering::SeqCst));
            }
        }
        let restarted = proc.take().is_some();
        if self.stop.load(Ordering::SeqCst) {
            return Err(Error::Tunnel(format!("{}: stopped", self.describe())));
        }
        let result = self.start();
        match result {
            Ok((running, port)) => {
                *proc = Some(running);
                if restarted {
                    self.restarts.fetch_add(1, Ordering::SeqCst);
                }
                self.established.store(true, Ordering::SeqCst);
                *lock(&self.last_error) = None;
                Ok(port)
            }
            Err(e) => {
                *lock(&self.last_error) = Some(e.to_string());
                Err(e)
            }
        }
    }

    fn describe(&self) -> String {
        format!(
            "SSH tunnel through {} to {}:{}",
            self.key.ssh,
            bracket(&self.key.host),
            self.key.port
        )
    }

    /// One start: on the fixed port once established, else on a free port (a few tries when
    /// another program takes the port first).
    fn start(&self) -> Result<(Running, u16)> {
        let fixed = self.established.load(Ordering::SeqCst);
        let mut last = None;
        for _ in 0..3 {
            let port = if fixed {
                self.local_port.load(Ordering::SeqCst)
            } else {
                free_port().map_err(|e| {
                    Error::Tunnel(format!("{}: no free loopback port ({e})", self.describe()))
                })?
            };
            self.local_port.store(port, Ordering::SeqCst);
            match self.start_on(port) {
                Ok(r) => return Ok((r, port)),
                Err(Failure::PortTaken(e)) if !fixed => last = Some(e),
                Err(Failure::PortTaken(e)) | Err(Failure::Other(e)) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::Tunnel(self.describe())))
    }

    fn start_on(&self, local_port: u16) -> std::result::Result<Running, Failure> {
        let spec = &self.key.ssh;
        let fail =
            |what: String| Failure::Other(Error::Tunnel(format!("{}: {what}", self.describe())));
        let mut args: Vec<String> = vec![
            "-N".into(),
            "-L".into(),
            format!(
                "127.0.0.1:{local_port}:{}:{}",
                bracket(&self.key.host),
                self.key.port
            ),
        ];
        for opt in [
            "ExitOnForwardFailure=yes",
            "BatchMode=yes",
            "ServerAliveInterval=15",
            "ServerAliveCountMax=3",
            "ConnectTimeout=10",
        ] {
            args.push("-o".into());
            args.push(opt.into());
        }
        if let Some(config) = &spec.config {
            let path = expand_home(config);
            if !path.is_file() {
                return Err(fail(format!(
                    "ssh_config {} is not a readable file; fix ssh_config in the profile",
                    path.display()
                )));
            }
            args.push("-F".into());
            args.push(path.display().to_string());
        }
        if let Some(jump) = &spec.jump {
            args.push("-J".into());
            args.push(jump.clone());
        }
        if let Some(p) = spec.port {
            args.push("-p".into());
            args.push(p.to_string());
        }
        args.push("--".into());
        args.push(spec.destination.clone());

        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| fail(format!("cannot run sh to start ssh ({e})")))?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(err) = child.stderr.take() {
            let lines = Arc::clone(&stderr);
            if let Err(e) = std::thread::Builder::new()
                .name("ssh-stderr".into())
                .spawn(move || collect_stderr(err, lines))
            {
                tracing::warn!(tunnel = %self.describe(), "ssh's messages will not be read ({e})");
            }
        }
        let stdin = child.stdin.take();
        let mut running = Running {
            child,
            stdin,
            stderr,
        };

        let deadline = Instant::now() + START_TIMEOUT;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, local_port));
        loop {
            if let Ok(Some(status)) = running.child.try_wait() {
                // Let the reader take ssh's last words.
                std::thread::sleep(Duration::from_millis(50));
                let said = stderr_text(&running.stderr);
                if said.contains("Address already in use") || said.contains("cannot listen") {
                    return Err(Failure::PortTaken(Error::Tunnel(format!(
                        "{}: loopback port {local_port} is taken: {said}",
                        self.describe()
                    ))));
                }
                let code = status.code();
                let fix = hint(&said, code, spec, &self.key);
                let said = said.trim_end_matches('.').to_owned();
                let said = if said.is_empty() {
                    "no message".to_owned()
                } else {
                    said
                };
                return Err(fail(format!(
                    "ssh exited ({}): {said}; fix: {fix}",
                    code.map(|c| format!("status {c}"))
                        .unwrap_or_else(|| "killed".into())
                )));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if Instant::now() >= deadline {
                let said = stderr_text(&running.stderr);
                return Err(fail(format!(
                    "ssh did not open the forward within {} s{}; fix: {}",
                    START_TIMEOUT.as_secs(),
                    if said.is_empty() {
                        String::new()
                    } else {
                        format!(" ({said})")
                    },
                    hint(&said, None, spec, &self.key)
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if !far_end_answers(addr) {
            std::thread::sleep(Duration::from_millis(100));
            let said = stderr_text(&running.stderr);
            return Err(fail(format!(
                "the SSH server accepted the forward but could not reach {}:{}{}; fix: check the \
                 node's host and port as the SSH server sees them (run `ssh {} nc -z {} {}`)",
                bracket(&self.key.host),
                self.key.port,
                if said.is_empty() {
                    String::new()
                } else {
                    format!(" ({said})")
                },
                spec.destination,
                self.key.host,
                self.key.port
            )));
        }
        // The probe's channel failure (if any) is not this run's news.
        lock(&running.stderr).clear();
        Ok(running)
    }
}

enum Failure {
    /// ssh could not listen on the chosen loopback port.
    PortTaken(Error),
    Other(Error),
}

/// `true` unless the far end closes a forwarded connection at once: sends a PostgreSQL
/// `SSLRequest` and waits for a reply byte (a server that says nothing in a second counts as
/// answering; ssh closes the connection when the SSH server cannot open the channel).
fn far_end_answers(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]).is_err() {
        return false;
    }
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(0) => false,
        Ok(_) => true,
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

fn collect_stderr(err: impl Read, lines: Arc<Mutex<VecDeque<String>>>) {
    for line in BufReader::new(err).lines() {
        let Ok(line) = line else { return };
        let line = line.trim().to_owned();
        // Routine notices, not causes.
        if line.is_empty() || line.starts_with("Warning: Permanently added") {
            continue;
        }
        let mut l = lock(&lines);
        if l.len() == STDERR_LINES {
            l.pop_front();
        }
        l.push_back(line);
    }
}

fn stderr_text(lines: &Mutex<VecDeque<String>>) -> String {
    lock(lines).iter().cloned().collect::<Vec<_>>().join("; ")
}

/// What to do about a failed ssh, from what it said.
fn hint(said: &str, code: Option<i32>, spec: &SshSpec, key: &Key) -> String {
    let dest = &spec.destination;
    let config = if spec.config.is_some() {
        "the profile's ssh_config"
    } else {
        "~/.ssh/config"
    };
    if code == Some(127) || said.contains("ssh: not found") {
        return "install the OpenSSH client (apt install openssh-client)".into();
    }
    if said.contains("Permission denied") || said.contains("Too many authentication failures") {
        return format!(
            "the SSH server refused the key: load it into ssh-agent (ssh-add ~/.ssh/id_ed25519) or \
             set IdentityFile for {dest} in {config}; ssh runs with BatchMode=yes, so it cannot \
             ask for a password or a passphrase"
        );
    }
    if said.contains("Host key verification failed") || said.contains("IDENTIFICATION HAS CHANGED")
    {
        return format!(
            "ssh does not know (or no longer trusts) the SSH server's host key: connect once with \
             `ssh {dest}` to check it and add it to known_hosts"
        );
    }
    if said.contains("Could not resolve hostname") {
        return format!(
            "check the host name in ssh / ssh_jump, or the Host entry for {dest} in {config}"
        );
    }
    if said.contains("open failed") || said.contains("connect failed") {
        return format!(
            "the SSH server cannot reach {}:{}: check the node's host and port as the SSH server sees them",
            key.host, key.port
        );
    }
    if said.contains("Connection refused")
        || said.contains("timed out")
        || said.contains("No route to host")
        || said.contains("Connection closed")
    {
        return format!(
            "the SSH server does not answer: check ssh = \"{dest}\", ssh_port and ssh_jump"
        );
    }
    if said.contains("Can't open user config file") || said.contains("Bad configuration option") {
        return "the ssh configuration file cannot be used: fix it or ssh_config in the profile"
            .into();
    }
    format!("run `ssh -N {dest}` by hand to see what fails")
}

/// A host for `-L` and messages: IPv6 literals in brackets.
fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn expand_home(path: &std::path::Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_owned(),
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// `config` pointed at `127.0.0.1:local_port`: the same settings (user, password, database,
/// options, timeouts, TLS mode) with `host` kept as written — so `verify-full` checks the
/// real server name — and `hostaddr=127.0.0.1`, `port=local_port`.
pub fn via_local_port(config: &tokio_postgres::Config, local_port: u16) -> tokio_postgres::Config {
    let mut c = tokio_postgres::Config::new();
    if let Some(tokio_postgres::config::Host::Tcp(h)) = config.get_hosts().first() {
        c.host(h);
    }
    c.hostaddr(Ipv4Addr::LOCALHOST.into());
    c.port(local_port);
    if let Some(u) = config.get_user() {
        c.user(u);
    }
    if let Some(p) = config.get_password() {
        c.password(p);
    }
    if let Some(d) = config.get_dbname() {
        c.dbname(d);
    }
    if let Some(o) = config.get_options() {
        c.options(o);
    }
    if let Some(a) = config.get_application_name() {
        c.application_name(a);
    }
    c.ssl_mode(config.get_ssl_mode());
    c.ssl_negotiation(config.get_ssl_negotiation());
    if let Some(t) = config.get_connect_timeout() {
        c.connect_timeout(*t);
    }
    if let Some(t) = config.get_tcp_user_timeout() {
        c.tcp_user_timeout(*t);
    }
    c.keepalives(config.get_keepalives());
    c.keepalives_idle(config.get_keepalives_idle());
    if let Some(i) = config.get_keepalives_interval() {
        c.keepalives_interval(i);
    }
    if let Some(r) = config.get_keepalives_retries() {
        c.keepalives_retries(r);
    }
    c.target_session_attrs(config.get_target_session_attrs());
    c.channel_binding(config.get_channel_binding());
    c
}

/// The host and port an SSH server should forward to for `config`: its `hostaddr` when set,
/// else its host name; its port, else 5432. `None` for a Unix-socket host.
pub fn forward_target(config: &tokio_postgres::Config) -> Option<(String, u16)> {
    let port = config.get_ports().first().copied().unwrap_or(5432);
    if let Some(a) = config.get_hostaddrs().first() {
        return Some((a.to_string(), port));
    }
    match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => Some((h.clone(), port)),
        _ => None,
    }
}

/// `config` routed through the tunnel for `ssh` ([`local_endpoint`] on [`forward_target`],
/// then [`via_local_port`]).
///
/// Errors: [`Error::Tunnel`] as [`local_endpoint`]; also for a Unix-socket host.
pub fn tunnelled(config: &tokio_postgres::Config, ssh: &SshSpec) -> Result<tokio_postgres::Config> {
    let (host, port) = forward_target(config).ok_or_else(|| {
        Error::Tunnel(format!(
            "an SSH tunnel through {ssh} needs a TCP host in the connection string, not a Unix socket"
        ))
    })?;
    let local = local_endpoint(ssh, &host, port)?;
    Ok(via_local_port(config, local))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn via_local_port_keeps_the_name_and_settings() {
        let c = tokio_postgres::Config::from_str(
            "host=db.internal port=6543 user=app dbname=shop options='-c x=1' connect_timeout=7 application_name=skein",
        )
        .expect("conninfo");
        assert_eq!(forward_target(&c), Some(("db.internal".into(), 6543)));
        let t = via_local_port(&c, 40001);
        assert_eq!(
            t.get_hosts(),
            &[tokio_postgres::config::Host::Tcp("db.internal".into())]
        );
        assert_eq!(
            t.get_hostaddrs(),
            &[std::net::IpAddr::from(Ipv4Addr::LOCALHOST)]
        );
        assert_eq!(t.get_ports(), &[40001]);
        assert_eq!(t.get_user(), Some("app"));
        assert_eq!(t.get_dbname(), Some("shop"));
        assert_eq!(t.get_options(), Some("-c x=1"));
        assert_eq!(t.get_connect_timeout(), Some(&Duration::from_secs(7)));
        let a = tokio_postgres::Config::from_str("host=db.internal hostaddr=10.1.2.3")
            .expect("conninfo");
        assert_eq!(forward_target(&a), Some(("10.1.2.3".into(), 5432)));
    }

    #[test]
    fn hints_name_the_fix() {
        let spec = SshSpec {
            destination: "me@bastion".into(),
            jump: None,
            config: None,
            port: None,
        };
        let key = Key {
            ssh: spec.clone(),
            host: "db".into(),
            port: 5432,
        };
        let h = hint(
            "me@bastion: Permission denied (publickey).",
            Some(255),
            &spec,
            &key,
        );
        assert!(h.contains("ssh-agent") && h.contains("IdentityFile"), "{h}");
        let h = hint("Host key verification failed.", Some(255), &spec, &key);
        assert!(h.contains("known_hosts"), "{h}");
        let h = hint("sh: 2: ssh: not found", Some(127), &spec, &key);
        assert!(h.contains("openssh-client"), "{h}");
        assert_eq!(bracket("::1"), "[::1]");
    }
}
