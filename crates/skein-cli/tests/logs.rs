//! The log file of the `skein` binary, at `SKEIN_LOG=trace` (every crate's events, the
//! libraries' `log` records included), against a real sandbox and a real GNOME Keyring: the
//! primary's password stored in the keyring, a wrong one stored for the replica. `secret set`,
//! `secret get --show`, `status -v --json` and `skein serve` (whose console samples lag in the
//! background and is asked over HTTP with its access token) all run; then no password, no
//! token and no keyring unlock password is anywhere in the log directory, while the warnings a
//! person needs are there: the replica by name, unreachable because its credentials were
//! refused, and out of rotation. `-v` puts the log on standard error and leaves the `--json`
//! answer on standard output intact.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{clean_env, files_under, http, keyring_only_profile, ok, run, KeyringSession};
use serde_json::Value;
use skein_sandbox::ScratchSandbox;

const WRONG: &str = "Wrong-Replica-Pw-9137";
const TOKEN: &str = "tok3n-that-must-stay-out-of-logs";

/// `skein` on the keyring's bus with its logs in `state` at trace level.
fn traced(session: &KeyringSession, state: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skein"));
    session.env(&mut cmd);
    clean_env(&mut cmd);
    cmd.env("SKEIN_STATE_DIR", state)
        .env("SKEIN_LOG", "trace")
        .env_remove("RUST_LOG");
    cmd
}

fn log_text(state: &Path) -> String {
    files_under(&state.join("logs"))
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect()
}

/// One HTTP request on a fresh connection; the response's text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_log_and_the_warnings_name_the_node() {
    let sandbox = ScratchSandbox::up("cli-logs", 1).await.expect("sandbox");
    let password = sandbox.password().expect("sandbox password");
    let session = KeyringSession::start();
    let profile = keyring_only_profile(&sandbox, &session.home());
    let p = profile.display().to_string();
    let state = session.home().join("state");

    // The primary's (and the lake catalog's, same account) password, and a wrong one for the
    // replica, stored with logging at trace.
    for (node, pw) in [("primary", password.as_str()), ("replica1", WRONG)] {
        let mut cmd = traced(&session, &state);
        cmd.args(["secret", "set", node, "--profile", &p]);
        ok(&run(cmd, Some(&format!("{pw}\n"))), "secret set");
    }
    let mut cmd = traced(&session, &state);
    cmd.args(["secret", "get", "primary", "--show", "--profile", &p]);
    let (shown, _) = ok(&run(cmd, None), "secret get --show");
    assert_eq!(shown.trim_end(), password, "the keyring holds it");

    // -v: the log on standard error too; standard output is the JSON answer alone.
    let mut cmd = traced(&session, &state);
    cmd.args(["-v", "status", "--json", "--profile", &p]);
    let out = run(cmd, None);
    let (stdout, stderr) = ok(&out, "status -v --json");
    let status: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not only JSON ({e}): {stdout}"));
    assert_eq!(status["nodes"][0]["state"], "primary", "{status}");
    assert_eq!(
        status["nodes"][1]["error"]["code"], "AuthFailed",
        "{status}"
    );
    assert!(
        stderr.contains("TRACE") && stderr.contains("DEBUG"),
        "-v prints the log to standard error: {stderr}"
    );
    assert!(
        stderr.contains("lag probe failed") && stderr.contains("replica1"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&password) && !stderr.contains(WRONG),
        "{stderr}"
    );
    // Without -v, nothing but the answer.
    let mut cmd = traced(&session, &state);
    cmd.args(["status", "--json", "--profile", &p]);
    let out = run(cmd, None);
    let (_, stderr) = ok(&out, "status --json");
    assert!(stderr.is_empty(), "{stderr}");

    // The web console: its background tasks sample lag and open the lake while an RPC call
    // arrives with the access token.
    let ui = session.home().join("ui");
    std::fs::create_dir_all(&ui).expect("ui dir");
    std::fs::write(ui.join("index.html"), "<!doctype html><title>t</title>").expect("index");
    let mut cmd = traced(&session, &state);
    cmd.args([
        "serve",
        "--profile",
        &p,
        "--bind",
        "127.0.0.1:0",
        "--token",
        TOKEN,
    ])
    .arg("--ui-dir")
    .arg(&ui)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let mut serve = cmd.spawn().expect("skein serve");
    let mut line = String::new();
    BufReader::new(serve.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the URL line");
    let port: u16 = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no URL in {line}"));
    let body = r#"{"method":"overview"}"#;
    let answer = http(
        port,
        &format!(
            "POST /api/rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let answer = http(
        port,
        &format!("GET /?token={TOKEN} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Wait for the sampler's warning and the replica's ejection (3 failed ticks).
    let deadline = Instant::now() + Duration::from_secs(30);
    let wanted = |log: &str| {
        let unreachable = log.lines().any(|l| {
            l.contains(" WARN ")
                && l.contains("node unreachable")
                && l.contains("node=replica1")
                && l.contains("code=AuthFailed")
                && l.contains("password authentication failed")
        });
        let ejected = log.lines().any(|l| {
            l.contains(" WARN ") && l.contains("replica leaves rotation") && l.contains("replica1")
        });
        unreachable && ejected
    };
    while !wanted(&log_text(&state)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
    }
    let pid = serve.id().to_string();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
    let stop = Instant::now() + Duration::from_secs(15);
    while serve.try_wait().expect("wait").is_none() && Instant::now() < stop {
        std::thread::sleep(Duration::from_millis(100));
    }
    if serve.try_wait().expect("wait").is_none() {
        let _ = serve.kill();
        let _ = serve.wait();
        panic!("skein serve did not stop on SIGINT");
    }

    let log = log_text(&state);
    let files = files_under(&state.join("logs"));
    assert!(
        files.iter().all(|f| f
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("skein-cli.") && n.ends_with(".log"))),
        "{files:?}"
    );
    assert!(wanted(&log), "the warnings are missing:\n{log}");
    assert!(
        log.contains(" TRACE ") && log.contains(" DEBUG "),
        "the log is at trace level"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("password from the OS keyring")),
        "where passwords come from is logged (not what they are)"
    );
    for (what, secret) in [
        ("the primary's password", password.as_str()),
        ("the replica's wrong password", WRONG),
        ("the access token", TOKEN),
        ("the keyring's unlock password", "keyring-unlock-password"),
    ] {
        assert!(
            !log.contains(secret),
            "{what} is in the log:\n{}",
            log.lines()
                .filter(|l| l.contains(secret))
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
