//! `skein serve --headless` as a service against a real sandbox: an inactive slot that retains
//! WAL under the demo workload fires `slot_retained`, which reaches a webhook listener in the
//! test (after a retry: its first answer is HTTP 500) and an alert command; the webhook's URL
//! path (its secret) is in no log and no status; `/metrics` answers with the token on the main
//! address and without it on `--metrics-bind`; a real Prometheus (Debian's `prometheus`, on a
//! loopback port) scrapes it and its API returns the lag series with the console's value; the
//! slot dropped through the RPC clears the alert, delivered too; SIGTERM stops the service.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{clean_env, files_under, http};
use skein_sandbox::ScratchSandbox;

const TOKEN: &str = "serve-alerts-token";
const SECRET: &str = "T0SECRET/B0SECRET/XXXXSECRETPATH";
const DEADLINE: Duration = Duration::from_secs(60);

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A webhook in the test: answers 500 to the first request, 200 after; keeps every body.
fn webhook() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().expect("clone"));
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            kept.lock()
                .expect("bodies")
                .push(format!("{head}\n{}", String::from_utf8_lossy(&body)));
            let status = if n == 0 { "500 Oops" } else { "200 OK" };
            let _ = s.write_all(
                format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                    .as_bytes(),
            );
        }
    });
    (port, bodies)
}

fn get(port: u16, path: &str, token: Option<&str>) -> String {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    http(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"),
    )
}

fn rpc(port: u16, body: &str) -> serde_json::Value {
    let answer = http(
        port,
        &format!(
            "POST /api/rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{body}: {answer}");
    let json = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    let v: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {answer}"));
    v["result"].clone()
}

fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + DEADLINE;
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(Instant::now() < until, "never {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn port_in(line: &str) -> u16 {
    line.split("http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no URL in {line}"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The webhook bodies about `rule` and `change` (`fired`, `cleared`).
fn delivered(bodies: &Mutex<Vec<String>>, rule: &str, change: &str) -> Vec<serde_json::Value> {
    bodies
        .lock()
        .expect("bodies")
        .iter()
        .filter_map(|b| serde_json::from_str::<serde_json::Value>(b.split("\n\n").nth(1)?).ok())
        .filter(|j| j["skein"]["alert"]["rule"] == rule && j["skein"]["change"] == change)
        .collect()
}

fn log_text(state: &Path) -> String {
    files_under(state)
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect()
}

/// A copy of the sandbox's profile under `dir` whose `slot_retained` fires at 1 MiB after
/// `after` samples and clears after as many.
fn alert_profile(sandbox: &ScratchSandbox, dir: &Path, after: u32) -> std::path::PathBuf {
    let mut profile = skein_core::Profile::load(&sandbox.profile).expect("profile");
    profile.alerts.fire_after = after;
    profile.alerts.clear_after = after;
    profile.alerts.slot_retained_bytes = 1024 * 1024;
    let path = dir.join("profile.toml");
    std::fs::write(&path, profile.to_toml()).expect("profile written");
    path
}

/// `skein serve --headless` on a free loopback port with the test's token, on `profile`, with
/// the sandbox's password file; its standard output piped (the URL lines).
fn serve_command(sandbox: &ScratchSandbox, profile: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skein"));
    clean_env(&mut cmd);
    cmd.args([
        "serve",
        "--headless",
        "--bind",
        "127.0.0.1:0",
        "--token",
        TOKEN,
    ])
    .arg("--profile")
    .arg(profile)
    .env("PGPASSFILE", sandbox.dir.join("pgpass"))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    cmd
}

/// An inactive slot `forgotten` on the primary, and `seconds` of the demo workload it retains.
async fn forgotten_slot(sandbox: &ScratchSandbox, seconds: u64) {
    let admin = skein_sandbox::demo::connect_primary(sandbox)
        .await
        .expect("admin connection");
    admin
        .batch_execute("SELECT pg_create_physical_replication_slot('forgotten', true)")
        .await
        .expect("slot");
    skein_sandbox::demo::workload(&admin, 200, seconds)
        .await
        .expect("workload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_a_webhook_and_a_command_and_prometheus_scrapes_the_lag() {
    let sandbox = ScratchSandbox::up("cli-serve-alerts", 1)
        .await
        .expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let path = alert_profile(&sandbox, dir.path(), 2);
    let (hook_port, bodies) = webhook();
    let commands = dir.path().join("commands");
    std::fs::create_dir_all(&commands).expect("commands dir");

    let mut cmd = serve_command(&sandbox, &path);
    cmd.args(["--metrics-bind", "127.0.0.1:0"])
        .arg("--alert-command")
        .arg(format!(
            "cat > {}/$SKEIN_ALERT_RULE-$SKEIN_ALERT_CHANGE.json",
            commands.display()
        ))
        .env(
            "SKEIN_ALERT_WEBHOOK",
            format!("http://127.0.0.1:{hook_port}/services/{SECRET}"),
        )
        .env("SKEIN_STATE_DIR", &state)
        .env("SKEIN_LOG", "debug");
    let mut serve = Killed(cmd.spawn().expect("skein serve"));
    let mut out = BufReader::new(serve.0.stdout.take().expect("stdout"));
    let mut lines = [String::new(), String::new()];
    for l in &mut lines {
        out.read_line(l).expect("a line");
    }
    let metrics_line = lines
        .iter()
        .find(|l| l.contains("/metrics"))
        .expect("metrics URL");
    let console_line = lines
        .iter()
        .find(|l| l.contains("/api/rpc"))
        .expect("console URL");
    let (metrics_port, port) = (port_in(metrics_line), port_in(console_line));

    forgotten_slot(&sandbox, 3).await;

    // The webhook gets it twice: the 500 it answered first, then the retry.
    let fired = wait_for("the fired alert at the webhook, retried", || {
        let d = delivered(&bodies, "slot_retained", "fired");
        (d.len() >= 2).then(|| {
            assert_eq!(d[0], d[1], "the retry sends the same alert");
            d[1].clone()
        })
    });
    assert_eq!(
        fired["skein"]["alert"]["subject"],
        "slot forgotten on primary"
    );
    assert_eq!(fired["skein"]["profile"], "sandbox");
    let text = fired["text"].as_str().expect("text");
    assert!(
        text.starts_with(
            "Skein [sandbox] FIRED warning slot_retained on slot forgotten on primary: retains"
        ),
        "{text}"
    );
    // The command too, with the alert on its standard input.
    let from_command = wait_for("the alert command's file", || {
        std::fs::read_to_string(commands.join("slot_retained-fired.json")).ok()
    });
    let from_command: serde_json::Value = serde_json::from_str(&from_command).expect("JSON");
    assert_eq!(
        from_command["skein"]["alert"]["id"],
        fired["skein"]["alert"]["id"]
    );

    // The Alerts view: the alert, and both targets working, the webhook named by host only.
    let view = wait_for("both deliveries reported working", || {
        let v = rpc(port, r#"{"method":"alerts"}"#);
        let d = v["deliveries"].as_array()?;
        (d.len() == 2
            && d.iter()
                .all(|d| d["failing"] == false && d["delivered"] == 1))
        .then_some(v)
    });
    let hook = view["deliveries"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["kind"] == "webhook"))
        .expect("webhook status");
    assert_eq!(hook["target"], format!("http://127.0.0.1:{hook_port}"));
    assert!(!view.to_string().contains("SECRET"), "{view}");
    assert!(
        view["active"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["rule"] == "slot_retained")),
        "{view}"
    );

    // /metrics: with the token on the console's address, without it on --metrics-bind.
    assert!(get(port, "/metrics", None).starts_with("HTTP/1.1 401"));
    let with_token = get(port, "/metrics", Some(TOKEN));
    assert!(with_token.starts_with("HTTP/1.1 200"), "{with_token}");
    let m = get(metrics_port, "/metrics", None);
    assert!(m.contains("application/openmetrics-text"), "{m}");
    for needle in [
        "skein_replay_lag_seconds{node=\"replica1\"}",
        "skein_node_up{node=\"primary\",role=\"primary\"} 1",
        "slot=\"forgotten\"",
        "skein_alerts_active{rule=\"slot_retained\",severity=\"warning\"} 1",
        "skein_recovery_conflicts_total{node=\"replica1\",cause=\"snapshot\"}",
    ] {
        assert!(m.contains(needle), "{needle} not in\n{m}");
    }

    // A real Prometheus scrapes it; its API has the lag series, at the console's value.
    let prom_port = free_port();
    let prom_dir = dir.path().join("prometheus");
    std::fs::create_dir_all(&prom_dir).expect("prometheus dir");
    let config = prom_dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: skein\n    \
             static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n"
        ),
    )
    .expect("config");
    let _prometheus = Killed(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                prom_dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus (apt install prometheus; see scripts/setup.sh)"),
    );
    let series = wait_for("the lag series in Prometheus", || {
        let answer = std::net::TcpStream::connect(("127.0.0.1", prom_port))
            .ok()
            .map(|_| {
                get(
                    prom_port,
                    "/api/v1/query?query=skein_replay_lag_seconds",
                    None,
                )
            })?;
        let json: serde_json::Value =
            serde_json::from_str(answer.split("\r\n\r\n").nth(1)?).ok()?;
        let result = json["data"]["result"].as_array()?;
        result
            .iter()
            .find(|r| r["metric"]["node"] == "replica1" && r["metric"]["job"] == "skein")
            .cloned()
    });
    let value: f64 = series["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a value");
    // The workload is over: the replica has caught up, and a caught-up replica's lag is 0.
    let idle = rpc(port, r#"{"method":"overview"}"#);
    let console_lag = idle["lag"]["nodes"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["name"] == "replica1"))
        .and_then(|n| n["replay_lag_ms"].as_f64())
        .expect("the console's replay lag");
    assert_eq!(console_lag, 0.0, "{idle}");
    assert!((0.0..1.0).contains(&value), "Prometheus has {value} s");

    // Dropped through the RPC: the alert clears, and that is delivered too.
    let dropped = rpc(
        port,
        r#"{"method":"drop_slot","params":{"node":"primary","slot":"forgotten"}}"#,
    );
    assert_eq!(dropped, serde_json::Value::Null);
    let cleared = wait_for("the cleared alert at the webhook", || {
        delivered(&bodies, "slot_retained", "cleared").pop()
    });
    assert_eq!(
        cleared["skein"]["alert"]["id"],
        fired["skein"]["alert"]["id"]
    );
    assert!(cleared["text"]
        .as_str()
        .is_some_and(|t| t.contains("cleared")));

    // The webhook's secret is in no log and no state file.
    let logs = log_text(&state);
    assert!(logs.contains("alert fired"), "the log has the alert");
    assert!(
        !logs.contains("SECRET"),
        "the webhook's path reached a file"
    );

    // SIGTERM (systemd's stop) ends it cleanly.
    let pid = serve.0.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let status = wait_for("skein serve to stop", || serve.0.try_wait().ok().flatten());
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_is_down_shows_as_failing_and_the_sampler_goes_on() {
    let sandbox = ScratchSandbox::up("cli-serve-webhook-down", 1)
        .await
        .expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = alert_profile(&sandbox, dir.path(), 1);
    // Nothing listens there.
    let down = free_port();
    let mut cmd = serve_command(&sandbox, &path);
    cmd.arg("--webhook")
        .arg(format!("http://127.0.0.1:{down}/hook/{SECRET}"))
        .env("SKEIN_STATE_DIR", dir.path().join("state"));
    let mut serve = Killed(cmd.spawn().expect("skein serve"));
    let mut line = String::new();
    BufReader::new(serve.0.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the URL line");
    let port = port_in(&line);
    forgotten_slot(&sandbox, 2).await;
    let failing = wait_for("the webhook reported failing", || {
        let v = rpc(port, r#"{"method":"alerts"}"#);
        let d = v["deliveries"].as_array()?.first()?.clone();
        (d["failing"] == true).then_some(d)
    });
    assert_eq!(failing["target"], format!("http://127.0.0.1:{down}"));
    let why = failing["last_error"].as_str().expect("a reason");
    assert!(
        why.starts_with(&format!("http://127.0.0.1:{down}: ")),
        "{why}"
    );
    assert!(!failing.to_string().contains("SECRET"), "{failing}");
    // The sampler is not held up by the retries: samples keep coming.
    let taken = |v: &serde_json::Value| v["lag"]["taken_at_ms"].as_u64().unwrap_or(0);
    let first = taken(&rpc(port, r#"{"method":"overview"}"#));
    std::thread::sleep(Duration::from_millis(2_500));
    let later = taken(&rpc(port, r#"{"method":"overview"}"#));
    assert!(later >= first + 1_500, "samples stalled: {first} → {later}");
}
