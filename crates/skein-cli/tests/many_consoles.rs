//! Many consoles, one lake: two `skein serve` processes with state directories of their own
//! (as on two machines) and the CLI, on one lake whose data is in a three-node Garage cluster.
//! The second console calls the lake by another name, as another machine's profile may.
//!
//! - A cache defined and refreshed by one console shows in the other within a watcher tick
//!   (5 s), with the same refresh snapshot; a refresh by the CLI shows in both.
//! - A write to the source makes both say `stale`: a refresh by one never makes the other
//!   show the cache as fresh when its sources moved on.
//! - Each console names the other writers (the other console by its id, the CLI), and each
//!   snapshot names the process that made it.
//! - The maintenance lock holds across processes: while it is held, both consoles and the CLI
//!   are refused with `Conflict`; once it is released, an expire by one console runs and every
//!   cache still reads.
//! - The connection editor shows the object store's settings; a secret key typed there goes to
//!   the OS keyring (a real GNOME Keyring on a private D-Bus session), never into the file, and
//!   the profile saved without its credentials file opens with the key from the keyring.
//! - `skein doctor` checks the store as opening the lake does: listed with the sandbox's key;
//!   refused, naming the endpoint and the bucket (never the secret), with a wrong one.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{clean_env, http, ok, run, text, KeyringSession};
use serde_json::{json, Value};
use skein_sandbox::ScratchSandbox;

const TOKEN: &str = "many-consoles-token";
/// The console's cache watcher period (`ConsoleOptions::default().cache_interval`).
const TICK: Duration = Duration::from_secs(5);

struct Serve {
    child: Child,
    port: u16,
    name: &'static str,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `skein serve --headless` on `profile` with its own state directory `state` (and, with
/// `keyring`, on that session's bus, its HOME seeing the DuckDB extensions of this one).
fn serve(
    name: &'static str,
    sandbox: &ScratchSandbox,
    profile: &Path,
    state: &Path,
    keyring: Option<&KeyringSession>,
) -> Serve {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skein"));
    if let Some(k) = keyring {
        k.env(&mut cmd);
        let home = std::env::var("HOME").expect("HOME");
        let _ =
            std::os::unix::fs::symlink(Path::new(&home).join(".duckdb"), k.home().join(".duckdb"));
    }
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
    .env("SKEIN_STATE_DIR", state)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("skein serve");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut port = None;
    for _ in 0..4 {
        let mut line = String::new();
        out.read_line(&mut line).expect("a line");
        if line.contains("/api/rpc") {
            port = line
                .split("http://127.0.0.1:")
                .nth(1)
                .and_then(|r| r.split('/').next())
                .and_then(|p| p.parse().ok());
            break;
        }
    }
    Serve {
        child,
        port: port.expect("the console's URL"),
        name,
    }
}

impl Serve {
    /// One RPC: `Ok(result)` on 200, `Err((status line, body))` otherwise.
    fn call(&self, method: &str, params: Option<Value>) -> Result<Value, (String, String)> {
        let body = match params {
            Some(p) => json!({ "method": method, "params": p }),
            None => json!({ "method": method }),
        }
        .to_string();
        let answer = http(
            self.port,
            &format!(
                "POST /api/rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        );
        let (head, json) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head.lines().next().unwrap_or("").to_owned();
        if !status.starts_with("HTTP/1.1 200") {
            return Err((status, json.to_owned()));
        }
        let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {answer}"));
        Ok(v["result"].clone())
    }

    fn rpc(&self, method: &str, params: Option<Value>) -> Value {
        self.call(method, params)
            .unwrap_or_else(|e| panic!("{} {method}: {e:?}", self.name))
    }

    /// The cache `name` as this console shows it between requests: the overview, which holds
    /// what the watcher last read (no fingerprint is taken for the asking). Every reading also
    /// checks that the lake summary beside it is not older than the cache's refresh: the
    /// snapshot a cache shows is never ahead of the one the top bar names.
    fn cache(&self, name: &str) -> Option<Value> {
        let o = self.rpc("overview", None);
        let current = o["lake"]["current_snapshot"].as_i64();
        for c in o["caches"].as_array().expect("caches") {
            if let Some(s) = refresh_snapshot(c) {
                assert!(
                    current >= Some(s),
                    "{}: a cache at snapshot {s} beside a lake summary at {current:?}: {o}",
                    self.name
                );
            }
        }
        o["caches"]
            .as_array()
            .expect("caches")
            .iter()
            .find(|c| c["status"]["name"] == name)
            .cloned()
    }

    /// Polls the cache `name` (as [`Serve::cache`]) until `ok` holds, within two watcher
    /// ticks and some slack; the view and how long it took.
    fn until_cache(
        &self,
        name: &str,
        what: &str,
        ok: impl Fn(&Value) -> bool,
    ) -> (Value, Duration) {
        let t0 = Instant::now();
        let deadline = t0 + 2 * TICK + Duration::from_secs(10);
        loop {
            if let Some(c) = self.cache(name).filter(|c| ok(c)) {
                return (c, t0.elapsed());
            }
            assert!(
                Instant::now() < deadline,
                "{}: {what}: {:?}; lake {}",
                self.name,
                self.cache(name),
                self.lake()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn lake(&self) -> Value {
        self.rpc("overview", None)["lake"].clone()
    }
}

fn state_of(c: &Value) -> &str {
    c["status"]["state"].as_str().unwrap_or("")
}

fn refresh_snapshot(c: &Value) -> Option<i64> {
    c["status"]["last_refresh"]["snapshot_id"].as_i64()
}

fn cli(
    sandbox: &ScratchSandbox,
    profile: &Path,
    state: &Path,
    args: &[&str],
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skein"));
    clean_env(&mut cmd);
    cmd.args(args)
        .arg("--profile")
        .arg(profile)
        .env("PGPASSFILE", sandbox.dir.join("pgpass"))
        .env("SKEIN_STATE_DIR", state);
    run(cmd, None)
}

/// The other writers a console's lake summary names.
fn writers(lake: &Value) -> Vec<String> {
    lake["writers"]
        .as_array()
        .expect("writers")
        .iter()
        .map(|w| w["writer"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_and_the_cli_share_one_lake_on_an_object_store() {
    let sandbox = ScratchSandbox::up_object_store("many-consoles", 1)
        .await
        .expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let (state_a, state_b, state_cli) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("cli"),
    );
    // B's profile attaches the same lake under another name.
    let mut profile = skein_core::Profile::load(&sandbox.profile).expect("profile");
    profile.lake.name = "shared".into();
    let profile_b = dir.path().join("b.toml");
    std::fs::write(&profile_b, profile.to_toml()).expect("B's profile");
    let keyring = KeyringSession::start();
    let a = serve("A", &sandbox, &sandbox.profile, &state_a, Some(&keyring));
    let b = serve("B", &sandbox, &profile_b, &state_b, None);
    let id_of = |state: &Path| {
        std::fs::read_to_string(state.join("console-id"))
            .expect("a console id in the state directory")
            .trim()
            .to_owned()
    };
    let host = skein_lake::identity::host_name();
    let (writer_a, writer_b) = (
        format!("console@{host}#{}", id_of(&state_a)),
        format!("console@{host}#{}", id_of(&state_b)),
    );
    assert_ne!(writer_a, writer_b, "two state directories, two identities");
    let writer_cli = format!("cli@{host}");

    // A defines a cache; B lists it within a tick.
    a.rpc(
        "run_query",
        Some(json!({
            "sql": "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g",
            "session": null, "max_rows": 10
        })),
    );
    a.rpc(
        "create_cache",
        Some(json!({ "name": "t_copy", "query": "SELECT * FROM t", "monitor": ["t"], "ttl_seconds": null, "key": [] })),
    );
    let (seen, _) = b.until_cache("t_copy", "the cache A defined", |c| state_of(c) == "empty");
    assert_eq!(seen["status"]["query"], "SELECT * FROM t");

    // A refreshes it; B shows it fresh from A's refresh, with the same snapshot.
    let out = a.rpc(
        "refresh_cache",
        Some(json!({ "name": "t_copy", "force": false })),
    );
    assert_eq!(out["result"], "REFRESHED", "{out}");
    let (in_a, _) = a.until_cache("t_copy", "A's refresh", |c| state_of(c) == "fresh");
    let s1 = refresh_snapshot(&in_a).expect("A's refresh snapshot");
    let (in_b, took) = b.until_cache("t_copy", "A's refresh seen by B", |c| {
        state_of(c) == "fresh" && refresh_snapshot(c) == Some(s1)
    });
    eprintln!(
        "B saw A's refresh after {} ms (tick {} ms)",
        took.as_millis(),
        TICK.as_millis()
    );
    assert_eq!(
        in_b["status"]["last_refresh"],
        in_a["status"]["last_refresh"]
    );
    assert_eq!(in_b["status"]["last_refresh"]["rows"], 2000);
    let lake_b = b.lake();
    assert!(lake_b["current_snapshot"].as_i64() >= Some(s1), "{lake_b}");
    assert!(
        writers(&lake_b).contains(&writer_a),
        "B names A among the other writers: {lake_b}"
    );
    assert!(
        !writers(&lake_b).contains(&writer_b),
        "B does not name itself: {lake_b}"
    );

    // A write to the source: both say stale, and neither shows A's refresh as fresh.
    a.rpc(
        "run_query",
        Some(json!({ "sql": "UPDATE t SET v = 'changed' WHERE id <= 10", "session": null, "max_rows": 10 })),
    );
    for c in [&a, &b] {
        let (v, _) = c.until_cache("t_copy", "stale after the write", |v| {
            state_of(v) == "stale"
        });
        assert_eq!(refresh_snapshot(&v), Some(s1));
    }

    // The CLI refreshes it: both consoles show the CLI's refresh, fresh, with one snapshot.
    let (o, _) = ok(
        &cli(
            &sandbox,
            &sandbox.profile,
            &state_cli,
            &["cache", "refresh", "t_copy", "--json"],
        ),
        "cache refresh",
    );
    assert!(o.contains("\"REFRESHED\""), "{o}");
    let (in_a, _) = a.until_cache("t_copy", "the CLI's refresh", |c| {
        state_of(c) == "fresh" && refresh_snapshot(c) > Some(s1)
    });
    let s2 = refresh_snapshot(&in_a).expect("the CLI's snapshot");
    let (in_b, took) = b.until_cache("t_copy", "the CLI's refresh", |c| {
        state_of(c) == "fresh" && refresh_snapshot(c) == Some(s2)
    });
    eprintln!("B saw the CLI's refresh after {} ms", took.as_millis());
    assert_eq!(in_b["status"]["last_refresh"]["rows"], 2000);
    // Its snapshot names the CLI; both consoles name the CLI as a writer.
    let page = b.rpc("snapshots", Some(json!({ "before": null, "limit": 20 })));
    let snap = page["snapshots"]
        .as_array()
        .expect("snapshots")
        .iter()
        .find(|s| s["id"] == s2)
        .cloned()
        .expect("the CLI's snapshot in B's list");
    assert_eq!(snap["writer"], writer_cli.as_str(), "{snap}");
    assert_eq!(snap["author"], "skein");
    for c in [&a, &b] {
        let deadline = Instant::now() + 2 * TICK + Duration::from_secs(10);
        while !writers(&c.lake()).contains(&writer_cli) {
            assert!(
                Instant::now() < deadline,
                "{} names the CLI: {}",
                c.name,
                c.lake()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    // B bookmarks a snapshot: A sees the bookmark and names B.
    b.rpc(
        "set_bookmark",
        Some(json!({ "name": "before-cleanup", "version": s2 })),
    );
    let deadline = Instant::now() + 2 * TICK + Duration::from_secs(10);
    while !writers(&a.lake()).contains(&writer_b) {
        assert!(Instant::now() < deadline, "A names B: {}", a.lake());
        std::thread::sleep(Duration::from_millis(200));
    }
    let marks = a.rpc("bookmarks", None);
    assert!(
        marks
            .as_array()
            .expect("bookmarks")
            .iter()
            .any(|m| m["name"] == "before-cleanup" && m["snapshot_id"] == s2),
        "{marks}"
    );

    // The maintenance lock, held elsewhere, refuses both consoles and the CLI.
    let lake = skein_lake::Lake::open(&profile)
        .await
        .expect("a third handle");
    let lock = skein_lake::MaintenanceLock::acquire(lake.catalog(), &lake.name)
        .await
        .expect("the lock");
    let versions = json!({ "versions": [s1] });
    for c in [&a, &b] {
        let (status, body) = c
            .call("expire_snapshots", Some(versions.clone()))
            .expect_err("refused while the lock is held");
        assert!(status.contains("409"), "{}: {status} {body}", c.name);
        assert!(
            body.contains("another maintenance operation is running"),
            "{body}"
        );
    }
    let refused = cli(
        &sandbox,
        &sandbox.profile,
        &state_cli,
        &["lake", "expire", "--versions", &s1.to_string(), "--yes"],
    );
    let (o, e) = text(&refused);
    assert!(!refused.status.success(), "{o}{e}");
    assert!(
        e.contains("another maintenance operation is running"),
        "{e}"
    );
    lock.release().await;

    // Released: B expires A's first refresh; every cache still reads, in both consoles.
    let job = b.rpc("expire_snapshots", Some(versions));
    let id = job["id"].as_u64().expect("a job id");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let jobs = b.rpc("jobs", None);
        let j = jobs
            .as_array()
            .expect("jobs")
            .iter()
            .find(|j| j["id"] == id)
            .cloned()
            .expect("the job");
        if j["state"] == "done" {
            break;
        }
        assert_ne!(j["state"], "failed", "{j}");
        assert!(Instant::now() < deadline, "the expire job: {j}");
        std::thread::sleep(Duration::from_millis(200));
    }
    for c in [&a, &b] {
        let page = c.rpc(
            "time_travel",
            Some(json!({ "table": "t_copy", "at": "latest", "limit": 5, "offset": 0 })),
        );
        assert_eq!(page["rows"]["total"], 2000, "{}: {page}", c.name);
    }

    // A's user moves the secret key into the keyring with the connection editor.
    let edit = a.rpc("profile_for_edit", Some(json!({ "path": null })));
    let mut draft = edit["profile"].clone();
    let storage = &draft["lake"]["storage"];
    let garage = sandbox.garage.clone().expect("garage");
    assert_eq!(storage["endpoint"], garage.endpoint().as_str(), "{storage}");
    assert_eq!(
        (storage["url_style"].as_str(), storage["use_ssl"].as_bool()),
        (Some("path"), Some(false))
    );
    let key_id = storage["key_id"].as_str().expect("a key id").to_owned();
    assert!(storage["credentials_file"]
        .as_str()
        .is_some_and(|f| f.ends_with("aws-credentials")));
    let credentials =
        std::fs::read_to_string(sandbox.dir.join("aws-credentials")).expect("credentials");
    let secret = credentials
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key = "))
        .expect("the sandbox's secret key")
        .to_owned();
    draft["lake"]["storage"]["credentials_file"] = json!("");
    draft["lake"]["storage"]["aws_profile"] = json!("");
    let saved_path = dir.path().join("keyring.toml");
    let out = a.rpc(
        "save_profile",
        Some(json!({
            "path": saved_path,
            "profile": draft,
            "passwords": [{ "node": "lake.storage", "password": secret }],
            "open": true,
        })),
    );
    assert_eq!(out["saved"], true, "{out}");
    assert!(out["open_error"].is_null(), "{out}");
    let text_saved = std::fs::read_to_string(&saved_path).expect("the saved profile");
    assert!(
        !text_saved.contains(&secret),
        "the secret key is not in the file:\n{text_saved}"
    );
    assert!(
        text_saved.contains("[lake.storage]") && !text_saved.contains("credentials_file"),
        "{text_saved}"
    );
    let mut lookup = Command::new("secret-tool");
    keyring.env(&mut lookup);
    lookup.args([
        "lookup",
        "service",
        "skein",
        "username",
        &format!("s3:{key_id}@{}", garage.endpoint()),
    ]);
    let (found, _) = ok(&run(lookup, None), "secret-tool lookup");
    assert_eq!(found.trim(), secret, "the keyring holds the secret key");
    // Opened: the lake reads with the key from the keyring, and says so.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let lake = a.lake();
        let from = lake["store"]["credentials"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if lake["reachable"] == true && from.contains("keyring") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A's lake with the keyring's key: {lake}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let page = a.rpc(
        "time_travel",
        Some(json!({ "table": "t_copy", "at": "latest", "limit": 5, "offset": 0 })),
    );
    assert_eq!(page["rows"]["total"], 2000, "{page}");
    let logs = common::files_under(&state_a)
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect::<String>();
    assert!(!logs.contains(&secret), "the secret key is in no log");

    // The doctor lists the store with the right key and names what refused a wrong one.
    let (o, _) = ok(
        &cli(
            &sandbox,
            &sandbox.profile,
            &state_cli,
            &["doctor", "--json"],
        ),
        "doctor",
    );
    let step = data_path_step(&o);
    assert_eq!(step["status"], "ok", "{step}");
    assert_eq!(
        step["detail"].as_str().unwrap_or(""),
        format!(
            "s3://lake/data/: listed bucket lake at {} with the credentials from {} [sandbox]",
            garage.endpoint(),
            sandbox.dir.join("aws-credentials").display()
        )
    );
    let wrong = "0000WrongSecret0000";
    let bad_credentials = dir.path().join("bad-credentials");
    std::fs::write(&bad_credentials, credentials.replace(&secret, wrong)).expect("bad credentials");
    std::fs::set_permissions(
        &bad_credentials,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("0600");
    let mut bad = skein_core::Profile::load(&sandbox.profile).expect("profile");
    if let Some(st) = bad.lake.storage.as_mut() {
        st.credentials_file = Some(bad_credentials.clone());
    }
    let bad_path = dir.path().join("bad.toml");
    std::fs::write(&bad_path, bad.to_toml()).expect("bad profile");
    let out = cli(&sandbox, &bad_path, &state_cli, &["doctor", "--json"]);
    assert!(!out.status.success(), "a refused key fails the doctor");
    let (o, e) = text(&out);
    let step = data_path_step(&o);
    assert_eq!(step["status"], "fail", "{step}");
    let detail = step["detail"].as_str().unwrap_or("");
    assert!(
        detail.starts_with(&format!(
            "the store at {} refused the credentials from {} [sandbox] for bucket lake",
            garage.endpoint(),
            bad_credentials.display()
        )),
        "{detail}"
    );
    assert!(
        !o.contains(wrong) && !e.contains(wrong),
        "the secret is in no output"
    );
}

/// The lake's `data_path` step in `doctor --json` output.
fn data_path_step(json_text: &str) -> Value {
    let all: Value = serde_json::from_str(json_text).unwrap_or_else(|e| panic!("{e}: {json_text}"));
    all.as_array()
        .expect("diagnoses")
        .iter()
        .filter(|d| d["kind"] == "lake")
        .flat_map(|d| d["steps"].as_array().cloned().unwrap_or_default())
        .find(|s| s["step"] == "data_path")
        .unwrap_or_else(|| panic!("no data_path step: {json_text}"))
}
