//! `skein secret` against a real GNOME Keyring: a private D-Bus session bus
//! (`dbus-daemon --session`) with `gnome-keyring-daemon --unlock --components=secrets` in a
//! temporary HOME. Each `skein` runs as its own process on that bus: a password one stores,
//! another reads; `skein status` connects with a password that only the keyring holds; the
//! password is in no file under HOME (the keyring file is encrypted) and in no output but
//! `get --show`. Without a session bus the kernel keyring takes over, and with no keyring at all
//! the error says what to install and the alternatives.

mod common;

use std::process::{Command, Output};

use common::{clean_env, files_under, keyring_only_profile, ok, run, text, KeyringSession};
use serde_json::Value;
use skein_sandbox::ScratchSandbox;

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
