//! SSH tunnels against a real OpenSSH server: `sshd -D -e` on a loopback port with a generated
//! host key and an authorized client key, and a profile whose replica (and lake catalog) have
//! `ssh = "root@127.0.0.1"`, `ssh_port`, `ssh_config` (IdentityFile, known_hosts in the test's
//! directory). `skein` runs as its own process: status through the tunnel matches status
//! without it, sshd's log shows the forward, a killed ssh is started again on the same port, a
//! wrong key fails naming the node and the fix, and no ssh outlives the command — whether it
//! ends by itself, by Ctrl-C or by SIGKILL.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use skein_core::SshSpec;
use skein_sandbox::ScratchSandbox;

/// An sshd for one test, stopped by its pid when dropped.
struct Sshd {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
    log: Arc<Mutex<String>>,
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "skein-test", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen (apt install openssh-client)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Sshd {
    fn start() -> Sshd {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        keygen(&d.join("wrong_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).expect("authorize");
        // sshd's privilege separation directory (systemd's tmpfiles make it on a booted system).
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        let port = free_port();
        let config = d.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 StrictModes no\nAllowTcpForwarding yes\nLogLevel DEBUG1\n",
                d = d.display()
            ),
        )
        .expect("sshd_config");
        let mut child = Command::new("/usr/sbin/sshd")
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sshd (apt install openssh-server)");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        let mut err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut l) = sink.lock() {
                    l.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        let sshd = Sshd {
            dir,
            port,
            child,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut banner = [0u8; 7];
            let ok = std::net::TcpStream::connect(("127.0.0.1", port))
                .and_then(|mut s| s.read_exact(&mut banner))
                .is_ok();
            if ok && &banner == b"SSH-2.0" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not start: {}",
                sshd.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        sshd
    }

    fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// An ssh client configuration that logs in with `key` (a file in the test directory).
    fn client_config(&self, key: &str) -> PathBuf {
        let d = self.dir.path();
        let path = d.join(format!("ssh_config_{key}"));
        std::fs::write(
            &path,
            format!(
                "Host *\n  IdentityFile {d}/{key}\n  IdentitiesOnly yes\n  IdentityAgent none\n  \
                 UserKnownHostsFile {d}/known_hosts\n  GlobalKnownHostsFile /dev/null\n  \
                 StrictHostKeyChecking accept-new\n",
                d = d.display()
            ),
        )
        .expect("ssh_config");
        path
    }

    fn spec(&self, key: &str) -> SshSpec {
        SshSpec {
            destination: "root@127.0.0.1".into(),
            jump: None,
            config: Some(self.client_config(key)),
            port: Some(self.port),
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sandbox's profile with its replica (and, with `lake`, the lake catalog) behind `ssh`.
fn tunnel_profile(
    sandbox: &ScratchSandbox,
    ssh: SshSpec,
    lake: bool,
    dir: &Path,
    name: &str,
) -> String {
    let mut profile = skein_core::Profile::load(&sandbox.profile).expect("sandbox profile");
    profile.replicas[0].ssh = Some(ssh.clone());
    if lake {
        profile.lake.ssh = Some(ssh);
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, profile.to_toml()).expect("write profile");
    // The profile as written must load again (the ssh keys round-trip).
    skein_core::Profile::load(&path).expect("tunnel profile loads");
    path.display().to_string()
}

fn skein_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skein"));
    cmd.args(args)
        .env_remove("SKEIN_PROFILE")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null());
    cmd
}

fn skein(args: &[&str]) -> Output {
    skein_cmd(args).output().expect("run skein")
}

fn status(profile: &str) -> Vec<Value> {
    let out = skein(&["status", "--profile", profile, "--json"]);
    let o = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "status failed: {o}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&o).unwrap_or_else(|e| panic!("{e}: {o}"));
    v["nodes"].as_array().expect("nodes").clone()
}

/// ssh processes forwarding to `127.0.0.1:target_port`: (pid, local port).
fn ssh_forwarding_to(target_port: u16) -> Vec<(u32, u16)> {
    let suffix = format!(":127.0.0.1:{target_port}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.first().map(String::as_str) != Some("ssh") {
            continue;
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
        {
            continue;
        }
        if let Some(fwd) = args
            .iter()
            .find(|a| a.starts_with("127.0.0.1:") && a.ends_with(&suffix))
        {
            if let Some(p) = fwd.split(':').nth(1).and_then(|p| p.parse().ok()) {
                found.push((pid, p));
            }
        }
    }
    found
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// `skein status --watch --json` with its samples on a channel.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Watch {
    fn start(profile: &str) -> Watch {
        let mut child = skein_cmd(&["status", "--watch", "--json", "--profile", profile])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("skein status --watch");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        Watch { child, lines }
    }

    /// Waits for a sample whose replica is reachable and streaming.
    fn replica_streaming(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .lines
                .recv_timeout(left)
                .expect("a sample with the replica streaming");
            if v["nodes"][1]["reachable"] == true && v["nodes"][1]["state"] == "streaming" {
                return;
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn status_through_the_tunnel_matches_direct_and_a_wrong_key_names_the_fix() {
    let sandbox = ScratchSandbox::up("tunnel", 1).await.expect("sandbox");
    let sshd = Sshd::start();
    let replica_port = sandbox.port("replica1").expect("replica port");
    let primary_port = sandbox.port("primary").expect("primary port");
    let direct = sandbox.profile.display().to_string();
    let tunnelled = tunnel_profile(
        &sandbox,
        sshd.spec("client_key"),
        true,
        sshd.dir.path(),
        "good",
    );

    let a = status(&direct);
    let b = status(&tunnelled);
    for (x, y) in a.iter().zip(&b) {
        for field in ["name", "role", "reachable", "state", "timeline_id"] {
            assert_eq!(x[field], y[field], "{field}: direct {x} / tunnelled {y}");
        }
        assert!(y["error"].is_null(), "{y}");
    }
    assert!(
        b[1]["lag_bytes"].is_u64() && b[1]["replay_lag_ms"].is_number(),
        "{}",
        b[1]
    );
    assert_eq!(
        a[1]["lag_bytes"], b[1]["lag_bytes"],
        "idle sandbox: the same lag"
    );
    assert!(
        sshd.log()
            .contains(&format!("target 127.0.0.1 port {replica_port}")),
        "sshd did not forward to the replica:\n{}",
        sshd.log()
    );
    assert!(
        ssh_forwarding_to(replica_port).is_empty(),
        "ssh left after status"
    );

    // The table notes the tunnel.
    let out = skein(&["status", "--profile", &tunnelled]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "replica1: through an SSH tunnel via root@127.0.0.1 (port {}) (127.0.0.1:",
            sshd.port
        )),
        "{text}"
    );

    // The lake catalog through the tunnel too: DuckDB attaches it at hostaddr/port.
    let out = skein(&["lake", "summary", "--json", "--profile", &tunnelled]);
    assert!(
        out.status.success(),
        "lake summary: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        sshd.log()
            .contains(&format!("target 127.0.0.1 port {primary_port}")),
        "the catalog did not go through the tunnel"
    );
    assert!(
        ssh_forwarding_to(primary_port).is_empty(),
        "ssh left after lake summary"
    );

    // A key the server does not know: the node, ssh's words, the fix.
    let wrong = tunnel_profile(
        &sandbox,
        sshd.spec("wrong_key"),
        false,
        sshd.dir.path(),
        "wrong",
    );
    let started = Instant::now();
    // The rest of the stack keeps working: the primary still answers, replica1 is down with
    // ssh's reason.
    let out = skein(&["status", "--profile", &wrong]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stdout);
    let primary_row = err
        .lines()
        .find(|l| l.starts_with("primary "))
        .unwrap_or_default();
    assert!(primary_row.contains(" yes "), "{err}");
    assert!(
        err.contains("replica1: opening the SSH tunnel failed")
            && err.contains("Permission denied (publickey")
            && err.contains("ssh-agent")
            && err.contains("IdentityFile"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        ssh_forwarding_to(replica_port).is_empty(),
        "ssh left after the failure"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_ssh_comes_back_and_no_ssh_outlives_the_cli() {
    let sandbox = ScratchSandbox::up("tunnel-restart", 1)
        .await
        .expect("sandbox");
    let sshd = Sshd::start();
    let replica_port = sandbox.port("replica1").expect("replica port");
    let profile = tunnel_profile(
        &sandbox,
        sshd.spec("client_key"),
        false,
        sshd.dir.path(),
        "good",
    );

    let watch = Watch::start(&profile);
    watch.replica_streaming(Duration::from_secs(30));
    let first = ssh_forwarding_to(replica_port);
    assert_eq!(first.len(), 1, "{first:?}");
    let (old_pid, local_port) = first[0];

    // Kill ssh: the supervisor starts it again on the same port and queries work again.
    signal(old_pid, "-KILL");
    wait_until(
        "a new ssh on the same port",
        Duration::from_secs(15),
        || {
            ssh_forwarding_to(replica_port)
                .iter()
                .any(|&(pid, port)| pid != old_pid && port == local_port)
        },
    );
    while watch.lines.try_recv().is_ok() {}
    watch.replica_streaming(Duration::from_secs(20));

    // Ctrl-C: the CLI stops its tunnel on the way out.
    let mut watch = watch;
    signal(watch.child.id(), "-INT");
    let deadline = Instant::now() + Duration::from_secs(10);
    while watch.child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "status --watch ignored Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_until("no ssh after Ctrl-C", Duration::from_secs(5), || {
        ssh_forwarding_to(replica_port).is_empty()
    });

    // SIGKILL leaves no chance to clean up: the watchdog stops ssh all the same.
    let mut watch = Watch::start(&profile);
    watch.replica_streaming(Duration::from_secs(30));
    assert_eq!(ssh_forwarding_to(replica_port).len(), 1);
    signal(watch.child.id(), "-KILL");
    let _ = watch.child.wait();
    wait_until("no ssh after SIGKILL", Duration::from_secs(5), || {
        ssh_forwarding_to(replica_port).is_empty()
    });
}

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for `db.internal` (no other name), in `dir`.
fn certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=skein test CA",
    ]);
    openssl(&ca, dir);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=db.internal",
    ]);
    openssl(&csr, dir);
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:db.internal\n").expect("ext");
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
        dir,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_full_through_the_tunnel_checks_the_host_written_in_the_profile() {
    let sandbox = ScratchSandbox::up("tunnel-tls", 0).await.expect("sandbox");
    let sshd = Sshd::start();
    let port = sandbox.port("primary").expect("primary port");
    let password = sandbox.password().expect("password");

    // TLS on the primary, with a certificate for db.internal only.
    let tls = sandbox.dir.join("tls");
    std::fs::create_dir_all(&tls).expect("tls dir");
    certificates(&tls);
    for f in ["server.key", "server.crt"] {
        let ok = Command::new("chown")
            .args(["postgres:postgres", &tls.join(f).display().to_string()])
            .status()
            .expect("chown")
            .success();
        assert!(ok, "chown {f}");
    }
    let admin = skein_core::conninfo::connect(&format!(
        "host=127.0.0.1 port={port} user=postgres dbname=postgres password={password} sslmode=disable"
    ))
    .await
    .expect("connect to the primary");
    for sql in [
        "ALTER SYSTEM SET ssl = on".to_owned(),
        format!(
            "ALTER SYSTEM SET ssl_cert_file = '{}'",
            tls.join("server.crt").display()
        ),
        format!(
            "ALTER SYSTEM SET ssl_key_file = '{}'",
            tls.join("server.key").display()
        ),
        "SELECT pg_reload_conf()".to_owned(),
    ] {
        admin.batch_execute(&sql).await.expect("enable TLS");
    }

    // host = the certificate's name (which the bastion could not even resolve); hostaddr tells
    // the bastion where the server is.
    let write = |host: &str, name: &str| {
        let mut profile = skein_core::Profile::load(&sandbox.profile).expect("profile");
        profile.primary.url = format!(
            "host={host} hostaddr=127.0.0.1 port={port} user=postgres dbname=tpch \
             sslmode=verify-full sslrootcert={}",
            tls.join("ca.crt").display()
        );
        profile.primary.ssh = Some(sshd.spec("client_key"));
        let path = sshd.dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, profile.to_toml()).expect("write profile");
        path.display().to_string()
    };
    let good = write("db.internal", "tls-good");
    let deadline = Instant::now() + Duration::from_secs(10);
    let node = loop {
        let out = skein_cmd(&["status", "--profile", &good, "--json"])
            .env("PGPASSWORD", &password)
            .output()
            .expect("status");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let node = v["nodes"][0].clone();
        if node["reachable"] == true || Instant::now() > deadline {
            break node;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(node["reachable"], true, "{node}");
    assert!(
        node["tls"]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("TLSv1")),
        "{node}"
    );
    assert!(sshd
        .log()
        .contains(&format!("target 127.0.0.1 port {port}")));

    // A name the certificate does not carry: refused, though the tunnel itself works.
    let wrong = write("other.internal", "tls-wrong");
    let out = skein_cmd(&["status", "--profile", &wrong, "--json"])
        .env("PGPASSWORD", &password)
        .output()
        .expect("status");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let node = &v["nodes"][0];
    assert_eq!(node["reachable"], false, "{node}");
    assert_eq!(node["error"]["code"], "Tls", "{node}");
    assert!(
        node["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("db.internal")),
        "{node}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&password));
    assert!(ssh_forwarding_to(port).is_empty(), "ssh left behind");
}
