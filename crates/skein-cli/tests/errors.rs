//! The `skein` binary's failures against a real sandbox: the exit status of each error code
//! (the README's table) and, with `--json`, the error as one `{"code", "message"}` line on
//! standard error with nothing on standard output — for a malformed profile, a missing one, an
//! unreachable node, a wrong password, an unknown cache, a rejected command line, `route
//! explain` on a broken profile, and `doctor`'s 1 for a failed check.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use skein_sandbox::ScratchSandbox;

/// Runs `skein` with no password source but `PGPASSWORD` (when given) and the profile's own
/// passfile, and its logs in `state`.
fn skein(args: &[&str], state: &Path, pgpassword: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skein"));
    cmd.args(args)
        .env("SKEIN_STATE_DIR", state)
        .env("SKEIN_KEYRING", "none")
        .env("PGPASSFILE", state.join("no-such-pgpass"))
        .env_remove("SKEIN_PROFILE")
        .env_remove("PGPASSWORD")
        .env_remove("SKEIN_LOG")
        .env_remove("RUST_LOG");
    if let Some(pw) = pgpassword {
        cmd.env("PGPASSWORD", pw);
    }
    cmd.output().expect("run skein")
}

/// Asserts a failure with `status` and, as `--json` promises, nothing on standard output and
/// one JSON line `{code, message}` on standard error; returns the message.
fn json_failure(out: &Output, status: i32, code: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(status),
        "exit status\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stdout.trim().is_empty(),
        "standard output holds answers only: {stdout}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    let v: Value =
        serde_json::from_str(stderr.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"));
    let obj = v.as_object().expect("an object");
    assert_eq!(obj.len(), 2, "exactly code and message: {v}");
    assert_eq!(v["code"], code, "{v}");
    v["message"].as_str().expect("message").to_owned()
}

/// Asserts a failure with `status` and a one-line `skein: …` message; returns it.
fn human_failure(out: &Output, status: i32) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(status), "exit status: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("skein: "), "{stderr}");
    stderr.trim().to_owned()
}

/// The sandbox's profile with `edit` applied to its text, written to `dir/name`.
fn variant(
    sandbox: &ScratchSandbox,
    dir: &Path,
    name: &str,
    edit: impl Fn(String) -> String,
) -> String {
    let text = std::fs::read_to_string(&sandbox.profile).expect("profile");
    let path = dir.join(name);
    std::fs::write(&path, edit(text)).expect("write profile");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_statuses_and_json_errors_follow_the_error_codes() {
    let sandbox = ScratchSandbox::up("cli-errors", 1).await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let good = sandbox.profile.display().to_string();

    // A good profile: status 0, the answer on standard output, nothing on standard error.
    let out = skein(
        &["cache", "list", "--profile", &good, "--json"],
        &state,
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let caches: Value = serde_json::from_slice(&out.stdout).expect("JSON answer");
    assert!(caches.is_array(), "{caches}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A malformed profile: InvalidInput, 2, with the file, line and field.
    let bad = variant(&sandbox, dir.path(), "bad.toml", |t| {
        t.replace("[lake]", "[lake]\ncatalgo = \"x\"")
    });
    for args in [
        vec!["status", "--profile", &bad, "--json"],
        vec!["cache", "list", "--profile", &bad, "--json"],
    ] {
        let m = json_failure(&skein(&args, &state, None), 2, "InvalidInput");
        assert!(m.contains("bad.toml:") && m.contains("catalgo"), "{m}");
    }
    let m = human_failure(&skein(&["status", "--profile", &bad], &state, None), 2);
    assert!(m.contains("catalgo"), "{m}");

    // A profile file that is not there: NotFound, 3.
    let missing = dir.path().join("missing.toml").display().to_string();
    let m = json_failure(
        &skein(
            &["snapshot", "list", "--profile", &missing, "--json"],
            &state,
            None,
        ),
        3,
        "NotFound",
    );
    assert!(m.contains("missing.toml"), "{m}");

    // `route explain` on a broken profile fails with the profile's code, not a guess made
    // without it; on a missing one likewise.
    let m = json_failure(
        &skein(
            &["route", "explain", "SELECT 1", "--profile", &bad, "--json"],
            &state,
            None,
        ),
        2,
        "InvalidInput",
    );
    assert!(m.contains("catalgo"), "{m}");
    let m = human_failure(
        &skein(
            &["route", "explain", "SELECT 1", "--profile", &bad],
            &state,
            None,
        ),
        2,
    );
    assert!(m.contains("bad.toml:"), "{m}");
    json_failure(
        &skein(
            &[
                "route",
                "explain",
                "SELECT 1",
                "--profile",
                &missing,
                "--json",
            ],
            &state,
            None,
        ),
        3,
        "NotFound",
    );
    // And on the good one it still answers.
    let out = skein(
        &["route", "explain", "SELECT 1", "--profile", &good, "--json"],
        &state,
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An unreachable node (the primary, which holds the lake's catalog, on a closed port):
    // ConnectionRefused, 4.
    let port = sandbox.port("primary").expect("primary port");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let unreachable = variant(&sandbox, dir.path(), "unreachable.toml", |t| {
        t.replace(&format!("port={port} "), &format!("port={closed} "))
    });
    let m = json_failure(
        &skein(
            &["cache", "list", "--profile", &unreachable, "--json"],
            &state,
            None,
        ),
        4,
        "ConnectionRefused",
    );
    assert!(m.contains(&format!("127.0.0.1:{closed}")), "{m}");
    human_failure(
        &skein(
            &["snapshot", "list", "--profile", &unreachable],
            &state,
            None,
        ),
        4,
    );

    // A wrong password (no password file, PGPASSWORD wrong): AuthFailed, 5; the password is
    // in no output.
    let wrong = "not-the-Password-4242";
    let mut no_passfile = skein_core::Profile::load(&sandbox.profile).expect("profile");
    no_passfile.passfile = None;
    let nopass = dir.path().join("nopass.toml");
    std::fs::write(&nopass, no_passfile.to_toml()).expect("write");
    let nopass = nopass.display().to_string();
    let out = skein(
        &["cache", "list", "--profile", &nopass, "--json"],
        &state,
        Some(wrong),
    );
    let m = json_failure(&out, 5, "AuthFailed");
    assert!(m.contains("password authentication failed"), "{m}");
    let out2 = skein(
        &["lake", "summary", "--profile", &nopass],
        &state,
        Some(wrong),
    );
    human_failure(&out2, 5);
    // doctor keeps its own status: 1 when a check fails, with the failed step's code.
    let out3 = skein(
        &["doctor", "--profile", &nopass, "--json"],
        &state,
        Some(wrong),
    );
    assert_eq!(out3.status.code(), Some(1));
    let checks: Value = serde_json::from_slice(&out3.stdout).expect("doctor's JSON answer");
    assert_eq!(checks[0]["steps"][3]["step"], "auth", "{checks:#}");
    assert_eq!(checks[0]["steps"][3]["status"], "fail", "{checks:#}");
    let stderr = String::from_utf8_lossy(&out3.stderr);
    let v: Value = serde_json::from_str(stderr.trim()).expect("JSON error");
    assert_eq!(v["code"], "AuthFailed", "{v}");
    for o in [&out, &out2, &out3] {
        for stream in [&o.stdout, &o.stderr] {
            assert!(
                !String::from_utf8_lossy(stream).contains(wrong),
                "password leaked"
            );
        }
    }

    // An unknown cache: NotFound, 3.
    let m = json_failure(
        &skein(
            &["cache", "refresh", "nope", "--profile", &good, "--json"],
            &state,
            None,
        ),
        3,
        "NotFound",
    );
    assert!(m.contains("nope"), "{m}");

    // A command line clap rejects: 2 as clap has it; with --json, its error as JSON.
    let out = skein(&["status", "--json", "--bogus"], &state, None);
    let m = json_failure(&out, 2, "InvalidInput");
    assert!(m.contains("--bogus"), "{m}");
    let out = skein(&["status", "--bogus"], &state, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage:"));
    let out = skein(&["--help"], &state, None);
    assert_eq!(out.status.code(), Some(0));

    // Every failure is in the log file too, with its code.
    let logs = std::fs::read_dir(state.join("logs"))
        .expect("log directory")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect::<String>();
    assert!(
        logs.lines().any(|l| l.contains("WARN")
            && l.contains("command failed")
            && l.contains("code=AuthFailed")
            && l.contains("command=\"cache list\"")),
        "{logs}"
    );
    assert!(!logs.contains(wrong), "password in the log");
}
