//! `skein secret` against a real GNOME Keyring: a private D-Bus session bus
//! (`dbus-daemon --session`) with `gnome-keyring-daemon --unlock --components=secrets` in a
//! temporary HOME. Each `skein` runs as its own process on that bus: a password one stores,
//! another reads; `skein status` connects with a password that only the keyring holds; the
//! password is in no file under HOME (the keyring file is encrypted) and in no output but
//! `get --show`. Without a session bus the kernel keyring takes over, and with no keyring at all
//! the error says what to install and the alternatives.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use skein_sandbox::ScratchSandbox;

/// A D-Bus session bus and an unlocked GNOME Keyring on it, in a temporary HOME. Both daemons
/// are stopped (by pid) when dropped.
struct KeyringSession {
    dir: tempfile::TempDir,
    address: String,
    dbus: Child,
    keyring: Child,
}

/// The environment of a session in `dir` on the bus at `address`.
fn session_env(cmd: &mut Command, dir: &Path, address: &str) {
    let home = dir.join("home");
    cmd.env("HOME", &home)
        .env("XDG_RUNTIME_DIR", dir.join("run"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("DBUS_SESSION_BUS_ADDRESS", address);
}

impl KeyringSession {
    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn env(&self, cmd: &mut Command) {
        session_env(cmd, self.dir.path(), &self.address);
    }

    fn start() -> KeyringSession {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        std::fs::create_dir_all(dir.path().join("run")).expect("run dir");

        let mut cmd = Command::new("dbus-daemon");
        cmd.args(["--session", "--print-address=1", "--nofork"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        session_env(&mut cmd, dir.path(), "");
        cmd.env_remove("DBUS_SESSION_BUS_ADDRESS");
        let mut dbus = cmd
            .spawn()
            .expect("dbus-daemon (apt install dbus-daemon; see scripts/setup.sh)");
        let mut line = String::new();
        BufReader::new(dbus.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("bus address");
        let address = line.trim().to_owned();

        let mut cmd = Command::new("gnome-keyring-daemon");
        cmd.args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        session_env(&mut cmd, dir.path(), &address);
        let keyring = match cmd.spawn() {
            Ok(k) => k,
            Err(e) => {
                let _ = dbus.kill();
                let _ = dbus.wait();
                panic!("gnome-keyring-daemon (apt install gnome-keyring): {e}");
            }
        };
        let mut session = KeyringSession {
            dir,
            address,
            dbus,
            keyring,
        };
        assert!(session.address.starts_with("unix:"), "{line}");
        // The keyring's own password, on standard input (then end of file).
        session
            .keyring
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"keyring-unlock-password")
            .expect("unlock password");
        // Wait until the keyring owns org.freedesktop.secrets on the bus.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut q = Command::new("dbus-send");
            q.args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ]);
            session.env(&mut q);
            let out = q.output().expect("dbus-send");
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "gnome-keyring-daemon did not claim org.freedesktop.secrets"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        session
    }

    /// Runs `skein` on this session's bus, with no other password source.
    fn skein(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skein"));
        cmd.args(args);
        self.env(&mut cmd);
        clean_env(&mut cmd);
        run(cmd, stdin)
    }
}

impl Drop for KeyringSession {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.dbus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn clean_env(cmd: &mut Command) {
    for var in ["PGPASSWORD", "PGPASSFILE", "SKEIN_PROFILE", "SKEIN_KEYRING"] {
        cmd.env_remove(var);
    }
}

fn run(mut cmd: Command, stdin: Option<&str>) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run skein");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("skein output")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(out: &Output, what: &str) -> (String, String) {
    let (o, e) = text(out);
    assert!(out.status.success(), "{what} failed:\n{o}\n{e}");
    (o, e)
}

/// A copy of the sandbox's profile without its password file, under `dir`.
fn keyring_only_profile(sandbox: &ScratchSandbox, dir: &Path) -> PathBuf {
    let mut profile = skein_core::Profile::load(&sandbox.profile).expect("sandbox profile");
    profile.passfile = None;
    let path = dir.join("profile.toml");
    std::fs::write(&path, profile.to_toml()).expect("write profile");
    path
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

fn status_nodes(out: &Output) -> Vec<Value> {
    let (o, e) = ok(out, "skein status --json");
    let v: Value = serde_json::from_str(&o).unwrap_or_else(|err| panic!("{err}: {o}\n{e}"));
    v["nodes"].as_array().expect("nodes").clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_service_holds_the_password_across_processes() {
    let sandbox = ScratchSandbox::up("secrets", 1).await.expect("sandbox");
    let password = sandbox.password().expect("sandbox password");
    let session = KeyringSession::start();
    let profile = keyring_only_profile(&sandbox, &session.home());
    let p = profile.display().to_string();
    let mut outputs: Vec<Output> = Vec::new();

    // Nothing stored yet: status cannot log in, get says so.
    let out = session.skein(&["status", "--profile", &p, "--json"], None);
    let nodes = status_nodes(&out);
    assert!(
        nodes
            .iter()
            .all(|n| n["reachable"] == false && n["error"]["code"] == "AuthFailed"),
        "{nodes:?}"
    );
    outputs.push(out);
    let out = session.skein(&["secret", "get", "primary", "--profile", &p], None);
    let (o, _) = ok(&out, "secret get");
    assert!(o.contains("Secret Service holds no password"), "{o}");
    outputs.push(out);

    // Store from standard input, one process per node.
    for node in ["primary", "replica1"] {
        let out = session.skein(
            &["secret", "set", node, "--profile", &p],
            Some(&format!("{password}\n")),
        );
        let (_, e) = ok(&out, "secret set");
        assert!(
            e.contains(&format!(
                "{node}: stored the password for postgres@127.0.0.1:"
            )) && e.contains("in the Secret Service"),
            "{e}"
        );
        outputs.push(out);
    }

    // A new process reads it, says where it is; --show prints it.
    let out = session.skein(&["secret", "get", "replica1", "--profile", &p], None);
    let (o, _) = ok(&out, "secret get");
    assert!(
        o.contains("replica1: the Secret Service holds a password for postgres@127.0.0.1:"),
        "{o}"
    );
    outputs.push(out);
    let out = session.skein(
        &["secret", "get", "primary", "--show", "--profile", &p],
        None,
    );
    let (o, _) = ok(&out, "secret get --show");
    assert_eq!(o.trim_end(), password);

    // Another client of the same keyring sees the item Skein wrote.
    let port = sandbox.port("primary").expect("primary port");
    let mut lookup = Command::new("secret-tool");
    lookup.args([
        "lookup",
        "service",
        "skein",
        "username",
        &format!("postgres@127.0.0.1:{port}"),
    ]);
    session.env(&mut lookup);
    let (o, e) = ok(&run(lookup, None), "secret-tool lookup");
    assert_eq!(o.trim_end(), password, "{e}");

    // Status connects with the password only the keyring holds.
    let out = session.skein(&["status", "--profile", &p, "--json"], None);
    let nodes = status_nodes(&out);
    let states: Vec<&str> = nodes
        .iter()
        .map(|n| n["state"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(states, ["primary", "streaming"], "{nodes:?}");
    outputs.push(out);

    // Delete: the replica cannot log in any more; deleting again says there was none.
    let out = session.skein(&["secret", "delete", "replica1", "--profile", &p], None);
    let (_, e) = ok(&out, "secret delete");
    assert!(e.contains("deleted the password"), "{e}");
    outputs.push(out);
    let out = session.skein(&["secret", "delete", "replica1", "--profile", &p], None);
    let (_, e) = ok(&out, "secret delete again");
    assert!(e.contains("held no password"), "{e}");
    outputs.push(out);
    let out = session.skein(&["status", "--profile", &p, "--json"], None);
    let nodes = status_nodes(&out);
    assert_eq!(nodes[0]["reachable"], true, "{nodes:?}");
    assert_eq!(nodes[1]["error"]["code"], "AuthFailed", "{nodes:?}");
    outputs.push(out);

    // An unknown node names the ones there are.
    let out = session.skein(&["secret", "get", "replica9", "--profile", &p], None);
    assert!(!out.status.success());
    let (_, e) = text(&out);
    assert!(
        e.contains("no node named 'replica9'")
            && e.contains("primary, replica1")
            && e.contains("'lake'"),
        "{e}"
    );
    outputs.push(out);

    // The password is in no output but --show's, and in no file under HOME in plain text,
    // though the keyring's own (encrypted) file is there.
    for out in &outputs {
        let (o, e) = text(out);
        assert!(
            !o.contains(&password) && !e.contains(&password),
            "leaked:\n{o}\n{e}"
        );
    }
    let files = files_under(&session.home());
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|x| x == "keyring")),
        "no keyring file under HOME: {files:?}"
    );
    for f in &files {
        let bytes = std::fs::read(f).expect("read");
        assert!(
            !bytes
                .windows(password.len())
                .any(|w| w == password.as_bytes()),
            "the password is in plain text in {}",
            f.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_session_bus_the_kernel_keyring_or_a_clear_error() {
    let sandbox = ScratchSandbox::up("nobus", 0).await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let run_dir = dir.path().join("run");
    std::fs::create_dir_all(&run_dir).expect("run dir");
    let profile = keyring_only_profile(&sandbox, dir.path());
    let p = profile.display().to_string();
    let skein = |args: &[&str], stdin: Option<&str>, keyring: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skein"));
        cmd.args(args)
            .env("HOME", dir.path())
            .env("XDG_RUNTIME_DIR", &run_dir)
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
        clean_env(&mut cmd);
        if let Some(k) = keyring {
            cmd.env("SKEIN_KEYRING", k);
        }
        run(cmd, stdin)
    };

    // No keyring at all: the error says what to install and the other ways.
    let out = skein(
        &["secret", "set", "primary", "--profile", &p],
        Some("pw\n"),
        Some("none"),
    );
    assert!(!out.status.success());
    let (_, e) = text(&out);
    assert!(
        e.contains("turned off (SKEIN_KEYRING=none)")
            && e.contains("PGPASSWORD")
            && e.contains("password file"),
        "{e}"
    );
    let out = skein(
        &["secret", "get", "primary", "--profile", &p],
        None,
        Some("secret-service"),
    );
    assert!(!out.status.success());
    let (_, e) = text(&out);
    assert!(
        e.contains("no OS keyring answers")
            && e.contains("DBUS_SESSION_BUS_ADDRESS is not set")
            && e.contains("gnome-keyring")
            && e.contains("PGPASSWORD"),
        "{e}"
    );

    // No bus: the kernel keyring, when this kernel allows it, says it forgets at reboot.
    let out = skein(&["secret", "get", "primary", "--profile", &p], None, None);
    let (o, e) = text(&out);
    if out.status.success() {
        assert!(
            o.contains("kernel keyring (keyutils) holds no password"),
            "{o}"
        );
        let password = sandbox.password().expect("password");
        let out = skein(
            &["secret", "set", "primary", "--profile", &p],
            Some(&format!("{password}\n")),
            None,
        );
        let (_, e) = ok(&out, "secret set (keyutils)");
        assert!(
            e.contains("kernel keyring (keyutils)") && e.contains("gone at logout or reboot"),
            "{e}"
        );
        let out = skein(&["status", "--profile", &p, "--json"], None, None);
        let nodes = status_nodes(&out);
        assert_eq!(nodes[0]["state"], "primary", "{nodes:?}");
        let out = skein(
            &["secret", "delete", "primary", "--profile", &p],
            None,
            None,
        );
        ok(&out, "secret delete (keyutils)");
    } else {
        assert!(
            e.contains("no OS keyring answers") && e.contains("PGPASSWORD"),
            "{e}"
        );
    }
}
