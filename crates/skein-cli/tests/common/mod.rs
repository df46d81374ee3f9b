//! Helpers shared by the `skein` binary's tests: a private D-Bus session bus with an unlocked
//! GNOME Keyring on it (`dbus-daemon --session` and `gnome-keyring-daemon --unlock
//! --components=secrets` in a temporary HOME), running `skein` with a clean environment, and
//! profile copies of a sandbox's.
//!
//! Each test target uses some of these; the rest would be dead code there.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use skein_sandbox::ScratchSandbox;

/// A D-Bus session bus and an unlocked GNOME Keyring on it, in a temporary HOME. Both daemons
/// are stopped (by pid) when dropped.
pub struct KeyringSession {
    dir: tempfile::TempDir,
    address: String,
    dbus: Child,
    keyring: Child,
}

/// The environment of a session in `dir` on the bus at `address`.
pub fn session_env(cmd: &mut Command, dir: &Path, address: &str) {
    let home = dir.join("home");
    cmd.env("HOME", &home)
        .env("XDG_RUNTIME_DIR", dir.join("run"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("DBUS_SESSION_BUS_ADDRESS", address);
}

impl KeyringSession {
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn env(&self, cmd: &mut Command) {
        session_env(cmd, self.dir.path(), &self.address);
    }

    pub fn start() -> KeyringSession {
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
    pub fn skein(&self, args: &[&str], stdin: Option<&str>) -> Output {
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

pub fn clean_env(cmd: &mut Command) {
    for var in ["PGPASSWORD", "PGPASSFILE", "SKEIN_PROFILE", "SKEIN_KEYRING"] {
        cmd.env_remove(var);
    }
}

pub fn run(mut cmd: Command, stdin: Option<&str>) -> Output {
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

pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn ok(out: &Output, what: &str) -> (String, String) {
    let (o, e) = text(out);
    assert!(out.status.success(), "{what} failed:\n{o}\n{e}");
    (o, e)
}

/// A copy of the sandbox's profile without its password file, under `dir`.
pub fn keyring_only_profile(sandbox: &ScratchSandbox, dir: &Path) -> PathBuf {
    let mut profile = skein_core::Profile::load(&sandbox.profile).expect("sandbox profile");
    profile.passfile = None;
    let path = dir.join("profile.toml");
    std::fs::write(&path, profile.to_toml()).expect("write profile");
    path
}

pub fn files_under(dir: &Path) -> Vec<PathBuf> {
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

/// One raw HTTP/1.1 exchange with 127.0.0.1:`port` (the request ends with `Connection: close`):
/// the whole answer, headers and body.
pub fn http(port: u16, request: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    s.write_all(request.as_bytes()).expect("send");
    let mut out = String::new();
    let _ = std::io::Read::read_to_string(&mut s, &mut out);
    out
}
