//! The `skein` binary end to end against a real sandbox: `sandbox up --json`, status, caches,
//! snapshots, errors people will hit, and `sandbox down` leaving nothing behind.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn skein(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skein"))
        .args(args)
        .env_remove("SKEIN_PROFILE")
        .output()
        .expect("run skein")
}

fn ok_json(args: &[&str]) -> Value {
    let out = skein(args);
    assert!(
        out.status.success(),
        "skein {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "skein {args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn err_line(args: &[&str]) -> String {
    let out = skein(args);
    assert!(!out.status.success(), "skein {args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert_eq!(
        err.lines().count(),
        1,
        "one-line error expected, got: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// A process that exists and is not a zombie (an exited child its parent has not reaped).
fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

/// Brings the sandbox down when the test ends, pass or fail.
struct Down(PathBuf);
impl Drop for Down {
    fn drop(&mut self) {
        if self.0.exists() {
            let _ = skein(&["sandbox", "down", "--dir", &self.0.display().to_string()]);
        }
    }
}

#[test]
fn sandbox_status_caches_snapshots_and_down() {
    let dir = PathBuf::from(format!("/tmp/skein-cli-test-{}", std::process::id()));
    let d = dir.display().to_string();
    let _down = Down(dir.clone());

    let up = ok_json(&["sandbox", "up", "--dir", &d, "--scale", "0.01", "--json"]);
    let nodes = up["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes[0]["role"], "primary");
    assert!(nodes[1..].iter().all(|n| n["role"] == "replica"));
    let pids: Vec<u64> = nodes
        .iter()
        .map(|n| n["pid"].as_u64().expect("pid"))
        .collect();
    assert!(pids.iter().all(|p| alive(*p)));
    let profile = up["profile"].as_str().expect("profile").to_owned();

    let again = err_line(&["sandbox", "up", "--dir", &d]);
    assert!(again.contains("already running"), "{again}");

    let status = ok_json(&["status", "--profile", &profile, "--json"]);
    let states: Vec<&str> = status["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["state"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(states, ["primary", "streaming", "streaming"]);

    let caches = ok_json(&["cache", "list", "--profile", &profile, "--json"]);
    let names: Vec<&str> = caches
        .as_array()
        .expect("caches")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "open_orders_by_priority",
            "pricing_summary",
            "revenue_by_nation"
        ]
    );
    assert!(
        caches
            .as_array()
            .expect("caches")
            .iter()
            .all(|c| c["state"] == "fresh"),
        "{caches}"
    );

    let refresh = ok_json(&[
        "cache",
        "refresh",
        "pricing_summary",
        "--profile",
        &profile,
        "--json",
    ]);
    assert_eq!(refresh["result"], "SKIPPED");
    for key in ["message", "rows", "duration_ms", "snapshot_id"] {
        assert!(!refresh[key].is_null(), "{key} missing in {refresh}");
    }
    let snaps = ok_json(&["snapshot", "list", "--profile", &profile, "--json"]);
    let snaps = snaps.as_array().expect("snapshots");
    assert!(
        snaps.len() >= 7,
        "catalog + 3 × (create, refresh) + the initial snapshot"
    );
    assert_eq!(
        snaps[0]["commit_message"],
        "refresh cache open_orders_by_priority"
    );
    assert!(
        snaps[0]["id"].as_i64() > snaps[1]["id"].as_i64(),
        "newest first"
    );

    // What a refresh changed: new orders, a refresh, and the diff between its snapshot and
    // the one before, by the cache's grouping key; each side is what time travel reads.
    let skipped = ok_json(&[
        "cache",
        "refresh",
        "open_orders_by_priority",
        "--profile",
        &profile,
        "--json",
    ]);
    assert_eq!(skipped["result"], "SKIPPED", "{skipped}");
    let before = skipped["snapshot_id"]
        .as_i64()
        .expect("the cache's snapshot");
    let _ = skein(&[
        "sandbox",
        "workload",
        "--dir",
        &d,
        "--seconds",
        "2",
        "--rate",
        "100",
    ]);
    let again = ok_json(&[
        "cache",
        "refresh",
        "open_orders_by_priority",
        "--profile",
        &profile,
        "--json",
    ]);
    assert_eq!(again["result"], "REFRESHED", "{again}");
    let after = again["snapshot_id"].as_i64().expect("the new snapshot");
    let table = |v: i64| {
        let page = ok_json(&[
            "snapshot",
            "show",
            "open_orders_by_priority",
            "--version",
            &v.to_string(),
            "--profile",
            &profile,
            "--json",
        ]);
        page["rows"].as_array().expect("rows").clone()
    };
    let (old_rows, new_rows) = (table(before), table(after));
    let (from, to) = (before.to_string(), after.to_string());
    let diff_args = |key: &'static str| {
        [
            "snapshot",
            "diff",
            "open_orders_by_priority",
            from.as_str(),
            to.as_str(),
            "--key",
            key,
            "--profile",
            profile.as_str(),
        ]
    };
    let diff = ok_json(&[&diff_args("o_orderpriority")[..], &["--json"]].concat());
    assert_eq!(
        diff["key"],
        serde_json::json!(["o_orderpriority"]),
        "{diff}"
    );
    assert_eq!(
        (diff["added"].as_u64(), diff["removed"].as_u64()),
        (Some(0), Some(0)),
        "{diff}"
    );
    let changed = diff["rows"].as_array().expect("rows");
    assert!(
        !changed.is_empty(),
        "new open orders change some priority: {diff}"
    );
    assert_eq!(diff["changed"].as_u64(), Some(changed.len() as u64));
    for r in changed {
        assert!(
            old_rows.contains(&r["old"]),
            "{r} is a row of snapshot {before}"
        );
        assert!(
            new_rows.contains(&r["new"]),
            "{r} is a row of snapshot {after}"
        );
        assert!(
            r["changed"].as_array().is_some_and(|c| !c.is_empty()),
            "{r}"
        );
    }
    let text = skein(&diff_args("o_orderpriority"));
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.starts_with(&format!(
            "open_orders_by_priority from snapshot {before} to {after} by key (o_orderpriority): +0 −0 ~{}",
            changed.len()
        )),
        "{text}"
    );
    assert!(
        text.contains("~ o_orderpriority=") && text.contains(" → "),
        "{text}"
    );
    // The demo cache is keyed by its GROUP BY: without --key the diff matches by it, the same.
    let by_cache = ok_json(&[
        "snapshot",
        "diff",
        "open_orders_by_priority",
        from.as_str(),
        to.as_str(),
        "--json",
        "--profile",
        profile.as_str(),
    ]);
    assert_eq!(by_cache["key_source"], "cache", "{by_cache}");
    assert_eq!(by_cache["rows"], diff["rows"], "{by_cache}");
    let whole = ok_json(&[
        "snapshot",
        "diff",
        "open_orders_by_priority",
        from.as_str(),
        to.as_str(),
        "--whole-rows",
        "--only",
        "added",
        "--json",
        "--profile",
        profile.as_str(),
    ]);
    assert_eq!(whole["key"], serde_json::json!([]), "{whole}");
    assert_eq!(
        whole["added"].as_u64(),
        Some(changed.len() as u64),
        "{whole}"
    );
    assert!(
        whole["rows"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["kind"] == "added")),
        "{whole}"
    );
    // A bookmark stands wherever an id does.
    let set = skein(&[
        "snapshot",
        "bookmark",
        "before-workload",
        "--version",
        from.as_str(),
        "--profile",
        profile.as_str(),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&set.stdout).trim(),
        format!("bookmark before-workload: snapshot {before}")
    );
    let marks = ok_json(&["snapshot", "bookmarks", "--json", "--profile", &profile]);
    assert_eq!(marks[0]["name"], "before-workload", "{marks}");
    assert_eq!(marks[0]["snapshot_id"].as_i64(), Some(before), "{marks}");
    let by_name = ok_json(&[
        "snapshot",
        "diff",
        "open_orders_by_priority",
        "before-workload",
        to.as_str(),
        "--json",
        "--profile",
        profile.as_str(),
    ]);
    assert_eq!(by_name["rows"], diff["rows"], "{by_name}");
    let nope = err_line(&[
        "snapshot",
        "show",
        "open_orders_by_priority",
        "--version",
        "no-such-mark",
        "--profile",
        &profile,
    ]);
    assert!(
        nope.contains("no snapshot id or bookmark 'no-such-mark' (bookmarks: before-workload)"),
        "{nope}"
    );

    // Restore it to the older snapshot: a preview without --yes, then one commit, restored.
    let restore_args = |yes: bool| {
        let mut a = vec![
            "snapshot",
            "restore",
            "open_orders_by_priority",
            "--version",
            "before-workload",
            "--profile",
            profile.as_str(),
        ];
        if yes {
            a.push("--yes");
        }
        a
    };
    let refused = skein(&restore_args(false));
    let preview = String::from_utf8_lossy(&refused.stdout).into_owned();
    assert!(
        preview.starts_with(&format!(
            "restoring open_orders_by_priority to snapshot {before} would apply"
        )) && preview.contains("cache open_orders_by_priority would be restored"),
        "{preview}"
    );
    let e = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(
        e.contains(&format!(
            "nothing restored: re-run with --yes to restore open_orders_by_priority to snapshot {before} (+0 −0 ~{})",
            changed.len()
        )),
        "{e}"
    );
    let done = skein(&restore_args(true));
    let done = String::from_utf8_lossy(&done.stdout).into_owned();
    assert!(
        done.starts_with(&format!(
            "restored open_orders_by_priority to snapshot {before}: +0 −0 ~{}",
            changed.len()
        )),
        "{done}"
    );
    let listed = ok_json(&["cache", "list", "--profile", &profile, "--json"]);
    let restored = listed
        .as_array()
        .and_then(|l| l.iter().find(|c| c["name"] == "open_orders_by_priority"))
        .expect("listed");
    assert_eq!(restored["state"], "restored", "{restored}");
    assert_eq!(
        restored["last_refresh"]["restored_from"].as_i64(),
        Some(before)
    );
    let r = ok_json(&[
        "cache",
        "refresh",
        "open_orders_by_priority",
        "--profile",
        &profile,
        "--json",
    ]);
    assert_eq!(
        r["result"], "REFRESHED",
        "a restored cache is never skipped: {r}"
    );

    let bad = err_line(&diff_args("nope"));
    assert!(
        bad.contains("'nope'") && bad.contains("o_orderpriority"),
        "{bad}"
    );

    // The new orders made the other caches stale too: fresh again for what follows.
    for cache in ["pricing_summary", "revenue_by_nation"] {
        let r = ok_json(&["cache", "refresh", cache, "--profile", &profile, "--json"]);
        assert_eq!(r["result"], "REFRESHED", "{r}");
    }

    // Lake maintenance: a preview, a refusal without --yes, then the real run.
    let snaps = ok_json(&["snapshot", "list", "--profile", &profile, "--json"]);
    let snaps = snaps.as_array().expect("snapshots");
    let far = "2999-01-01 00:00:00";
    let preview = ok_json(&[
        "lake",
        "expire",
        "--older-than",
        far,
        "--dry-run",
        "--json",
        "--profile",
        &profile,
    ]);
    let preview: Vec<i64> = preview
        .as_array()
        .expect("preview")
        .iter()
        .filter_map(|s| s["id"].as_i64())
        .collect();
    assert_eq!(preview.len(), snaps.len() - 1, "all but the latest");
    let e = err_line(&["lake", "expire", "--older-than", far, "--profile", &profile]);
    assert!(e.contains("re-run with --yes"), "{e}");
    assert_eq!(
        ok_json(&["snapshot", "list", "--profile", &profile, "--json"])
            .as_array()
            .map(Vec::len),
        Some(snaps.len()),
        "nothing expired without --yes"
    );
    let expired = ok_json(&[
        "lake",
        "expire",
        "--older-than",
        far,
        "--yes",
        "--json",
        "--profile",
        &profile,
    ]);
    let expired: Vec<i64> = expired
        .as_array()
        .expect("expired")
        .iter()
        .filter_map(|s| s["id"].as_i64())
        .collect();
    assert_eq!(expired, {
        let mut p = preview.clone();
        p.sort();
        p
    });
    let summary = ok_json(&["lake", "summary", "--json", "--profile", &profile]);
    assert_eq!(summary["snapshots"], 1);
    // The bookmark's snapshot went: it says so, and still resolves to its id.
    let marks = ok_json(&["snapshot", "bookmarks", "--json", "--profile", &profile]);
    assert_eq!(marks[0]["expired"], true, "{marks}");
    let cleaned = ok_json(&["lake", "cleanup", "--yes", "--json", "--profile", &profile]);
    assert_eq!(
        cleaned.as_array().map(Vec::len),
        summary["scheduled_files"].as_u64().map(|n| n as usize)
    );
    let summary = ok_json(&["lake", "summary", "--json", "--profile", &profile]);
    assert_eq!(summary["scheduled_files"], 0);

    // Report: PNG and SVG charts that decode and show the sandbox's replicas.
    let out_dir = dir.join("report");
    let out = skein(&[
        "report",
        "--out",
        &out_dir.display().to_string(),
        "--sample",
        "2",
        "--since",
        "1h",
        "--profile",
        &profile,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "skein-lag-replica1",
        "skein-lag-replica2",
        "skein-cache-refreshes",
    ] {
        let png = std::fs::File::open(out_dir.join(format!("{name}.png"))).expect("png written");
        let decoder = png::Decoder::new(std::io::BufReader::new(png));
        let reader = decoder.read_info().expect("a PNG that decodes");
        let info = reader.info();
        assert_eq!((info.width, info.height), (1200, 700), "{name}");
        let svg = std::fs::read_to_string(out_dir.join(format!("{name}.svg"))).expect("svg");
        assert!(svg.starts_with("<svg"), "{name}");
    }
    let svg = std::fs::read_to_string(out_dir.join("skein-lag-replica2.svg")).expect("svg");
    assert!(
        svg.contains("replica2 · replay lag (s)"),
        "the chart names its replica"
    );
    let svg = std::fs::read_to_string(out_dir.join("skein-cache-refreshes.svg")).expect("svg");
    assert!(
        svg.contains("pricing_summary"),
        "the legend names the caches"
    );

    // Route explain: where a statement goes and why.
    let locking = ok_json(&[
        "route",
        "explain",
        "SELECT * FROM (SELECT * FROM orders FOR UPDATE) s",
        "--json",
        "--profile",
        &profile,
    ]);
    assert_eq!(locking["target"], "primary");
    assert_eq!(locking["rule"], "locking");
    let read = ok_json(&[
        "route",
        "explain",
        "SELECT count(*) FROM orders",
        "--json",
        "--profile",
        &profile,
    ]);
    assert_eq!(read["target"], "replica");
    assert!(
        read["node"]
            .as_str()
            .is_some_and(|n| n.starts_with("replica")),
        "{read}"
    );
    // A session hint always lands on the same replica.
    let hinted = |hint: &str| {
        ok_json(&[
            "route",
            "explain",
            "SELECT 1",
            "--session",
            hint,
            "--json",
            "--profile",
            &profile,
        ])["node"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(hinted("tenant-42"), hinted("tenant-42"));
    // A read a fresh cache holds goes to the lake (the demo cache, in other words).
    let cached = ok_json(&[
        "route",
        "explain",
        "select n_name as nation, count(distinct o_orderkey) as orders, sum(l_extendedprice * (1 - l_discount)) as revenue \
         from lineitem join orders on l_orderkey = o_orderkey join customer on o_custkey = c_custkey \
         join nation on c_nationkey = n_nationkey group by n_name order by revenue desc",
        "--json",
        "--profile",
        &profile,
    ]);
    assert_eq!(
        (cached["target"].as_str(), cached["rule"].as_str()),
        (Some("cache"), Some("cache")),
        "{cached}"
    );
    assert_eq!(cached["caches"][0], "revenue_by_nation");

    // Route check: the oracle judges a file of statements on a standby (--yes required).
    let statements = dir.join("statements.sql");
    std::fs::write(
        &statements,
        "-- reads, a write, and one the standby cannot be asked\nSELECT count(*) FROM orders\n\nUPDATE orders SET o_comment = 'x' WHERE o_orderkey = 1\nSELECT pg_promote()\n",
    )
    .expect("statements");
    let file = statements.display().to_string();
    let e = err_line(&["route", "check", &file, "--profile", &profile]);
    assert!(
        e.contains("a disposable stack") && e.contains("--yes"),
        "{e}"
    );
    let checked = ok_json(&[
        "route",
        "check",
        &file,
        "--yes",
        "--json",
        "--profile",
        &profile,
    ]);
    assert_eq!(
        checked["tally"],
        serde_json::json!({ "statements": 3, "to_replica": 1, "claimed_refused": 1, "agrees": 2,
            "disagrees": 0, "inconclusive": 0, "not_run": 1 }),
        "{checked}"
    );

    // Errors people hit: one line naming what is wrong.
    let e = err_line(&["cache", "refresh", "nope", "--profile", &profile]);
    assert!(e.contains("no cache named 'nope'"), "{e}");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&profile)
            .expect("profile")
            .replace("[lake]", "[lake]\ncatalgo = \"x\""),
    )
    .expect("write");
    let e = err_line(&["status", "--profile", &bad.display().to_string()]);
    assert!(e.contains("bad.toml:") && e.contains("catalgo"), "{e}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let wrong_port = dir.join("wrong-port.toml");
    let text = std::fs::read_to_string(&profile).expect("profile");
    let primary_port = nodes[0]["port"].as_u64().expect("port").to_string();
    std::fs::write(
        &wrong_port,
        text.replacen(
            &format!("port={primary_port} user=postgres dbname=tpch"),
            &format!("port={closed} user=postgres dbname=tpch"),
            1,
        ),
    )
    .expect("write");
    let status = ok_json(&[
        "status",
        "--profile",
        &wrong_port.display().to_string(),
        "--json",
    ]);
    assert_eq!(status["nodes"][0]["state"], "down");
    assert_eq!(status["nodes"][0]["error"]["code"], "ConnectionRefused");
    assert_eq!(
        status["nodes"][1]["reachable"], true,
        "the replicas still report"
    );

    // A cache created without --key gets the source's primary key; a key column the query
    // does not return is named with the ones it does.
    let created = skein(&[
        "cache",
        "create",
        "nation_copy",
        "--query",
        "SELECT n_nationkey, n_name FROM nation",
        "--monitor",
        "nation",
        "--profile",
        &profile,
    ]);
    let created = String::from_utf8_lossy(&created.stdout).into_owned();
    assert_eq!(
        created.trim(),
        "cache nation_copy created, key (n_nationkey) from the primary key of nation; fill it with `skein cache refresh nation_copy`"
    );
    let bad = err_line(&[
        "cache",
        "create",
        "nation_bad",
        "--query",
        "SELECT n_nationkey, n_name FROM nation",
        "--monitor",
        "nation",
        "--key",
        "n_regionkey",
        "--profile",
        &profile,
    ]);
    assert!(
        bad.contains("key column 'n_regionkey' is not a column of the cache query's result; it returns n_nationkey, n_name"),
        "{bad}"
    );
    let demo_keys: Vec<(String, Value)> =
        ok_json(&["cache", "list", "--profile", &profile, "--json"])
            .as_array()
            .expect("caches")
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap_or("").to_owned(),
                    c["key"].clone(),
                )
            })
            .collect();
    assert_eq!(
        demo_keys,
        [
            ("nation_copy".to_owned(), serde_json::json!(["n_nationkey"])),
            (
                "open_orders_by_priority".to_owned(),
                serde_json::json!(["o_orderpriority"])
            ),
            (
                "pricing_summary".to_owned(),
                serde_json::json!(["l_returnflag", "l_linestatus"])
            ),
            (
                "revenue_by_nation".to_owned(),
                serde_json::json!(["nation"])
            ),
        ]
    );

    // A long history by another writer: one commit each, in turn over the tables asked for.
    let e = err_line(&["sandbox", "history", "--dir", &d, "--commits", "0"]);
    assert!(e.contains("--commits must be 1 to 100000, not 0"), "{e}");
    let grown = ok_json(&[
        "sandbox",
        "history",
        "--dir",
        &d,
        "--commits",
        "4",
        "--tables",
        "2",
    ]);
    let (first, last) = (
        grown["first_snapshot"].as_i64().expect("first"),
        grown["last_snapshot"].as_i64().expect("last"),
    );
    assert_eq!(last - first, 3, "{grown}");
    let snaps = ok_json(&["snapshot", "list", "--profile", &profile, "--json"]);
    let newest: Vec<(i64, &str, &str)> = snaps.as_array().expect("snapshots")[..4]
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().unwrap_or(0),
                s["author"].as_str().unwrap_or(""),
                s["commit_message"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        newest,
        [
            (last, "sandbox", "event 3 into history_2"),
            (last - 1, "sandbox", "event 2 into history_1"),
            (last - 2, "sandbox", "event 1 into history_2"),
            (first, "sandbox", "event 0 into history_1"),
        ]
    );
    // Again: the tables exist, so only the events are new commits.
    let again = ok_json(&[
        "sandbox",
        "history",
        "--dir",
        &d,
        "--commits",
        "1",
        "--tables",
        "2",
    ]);
    assert_eq!(again["first_snapshot"].as_i64(), Some(last + 1));

    let out = skein(&["sandbox", "down", "--dir", &d]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.exists(), "the sandbox directory is removed");
    for pid in &pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(!alive(*pid), "server process {pid} is left: {stat}");
    }
    let e = err_line(&["sandbox", "status", "--dir", &d]);
    assert!(e.contains("no sandbox"), "{e}");
}

/// `sandbox up --cascade`: alone it means replica2 streams from replica1, repeated it adds
/// more; the upstreams are printed, recorded and read back by `sandbox status`, and `skein
/// status` finds every replica streaming from its upstream. A cascade that cannot be built is
/// refused before anything starts.
#[test]
fn sandbox_up_cascade_is_recorded_and_reopened() {
    let dir = PathBuf::from(format!("/tmp/skein-cli-cascade-{}", std::process::id()));
    let d = dir.display().to_string();
    let _down = Down(dir.clone());

    let bad = err_line(&[
        "sandbox",
        "up",
        "--dir",
        &d,
        "--replicas",
        "2",
        "--cascade",
        "replica1=replica2",
    ]);
    assert!(bad.contains("lower number"), "{bad}");
    assert!(
        !dir.join("pg").exists(),
        "nothing started for a refused cascade"
    );
    // Below 0.01 TPC-H's generator repeats keys: refused up front, naming the flag and range.
    let bad = err_line(&["sandbox", "up", "--dir", &d, "--scale", "0.001"]);
    assert!(
        bad.contains("--scale 0.001") && bad.contains("0.01 to 10"),
        "{bad}"
    );
    assert!(
        !dir.join("pg").exists(),
        "nothing started for a refused scale"
    );

    let up = ok_json(&[
        "sandbox",
        "up",
        "--dir",
        &d,
        "--replicas",
        "3",
        "--scale",
        "0",
        "--no-caches",
        "--cascade",
        "--cascade",
        "replica3=replica2",
        "--json",
    ]);
    let upstreams = |v: &Value| -> Vec<String> {
        v["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["upstream"].as_str().unwrap_or("-").to_owned())
            .collect()
    };
    let want = ["-", "primary", "replica1", "replica2"];
    assert_eq!(upstreams(&up), want);
    let status = ok_json(&["sandbox", "status", "--dir", &d, "--json"]);
    assert_eq!(upstreams(&status), want, "read back from sandbox.json");
    let profile = up["profile"].as_str().expect("profile").to_owned();

    // Streaming (not disconnected), each from its upstream, once every replica caught up.
    let started = std::time::Instant::now();
    loop {
        let s = ok_json(&["status", "--profile", &profile, "--json"]);
        let nodes = s["nodes"].as_array().expect("nodes").clone();
        let states: Vec<&str> = nodes
            .iter()
            .map(|n| n["state"].as_str().unwrap_or(""))
            .collect();
        if states == ["primary", "streaming", "streaming", "streaming"] {
            assert_eq!(upstreams(&s), want, "{s}");
            break;
        }
        assert!(started.elapsed().as_secs() < 30, "never all streaming: {s}");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let out = skein(&["status", "--profile", &profile]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("UPSTREAM"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("replica3") && l.contains("streaming  replica2")),
        "{table}"
    );
}

/// `sandbox up --object-store`: three Garage servers beside PostgreSQL, the lake's data path in
/// their bucket; `status` lists them (role `store`) and `down` stops them by pid.
#[test]
fn sandbox_up_object_store_lists_and_stops_its_garage_servers() {
    let dir = PathBuf::from(format!("/tmp/skein-cli-s3-{}", std::process::id()));
    let d = dir.display().to_string();
    let _down = Down(dir.clone());
    let up = ok_json(&[
        "sandbox",
        "up",
        "--dir",
        &d,
        "--scale",
        "0",
        "--replicas",
        "1",
        "--no-caches",
        "--object-store",
        "--json",
    ]);
    let store = &up["store"];
    assert_eq!(store["bucket"], "lake", "{up}");
    let nodes = store["nodes"].as_array().expect("store nodes");
    assert_eq!(nodes.len(), 3);
    let pids: Vec<u64> = nodes
        .iter()
        .map(|n| n["pid"].as_u64().expect("pid"))
        .collect();
    assert!(pids.iter().all(|p| alive(*p)), "{up}");
    let profile = std::fs::read_to_string(dir.join("profile.toml")).expect("profile");
    assert!(
        profile.contains("data_path = \"s3://lake/data/\""),
        "{profile}"
    );
    assert!(
        !profile.contains("aws_secret_access_key"),
        "the secret stays out of the profile"
    );
    let status = skein(&["sandbox", "status", "--dir", &d]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains(&format!(
            "object store: Garage, 3 nodes, bucket lake at {}",
            store["endpoint"].as_str().unwrap_or("")
        )),
        "{text}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.contains(" store ") && l.contains("running"))
            .count(),
        3,
        "{text}"
    );
    let summary = ok_json(&[
        "lake",
        "summary",
        "--profile",
        &dir.join("profile.toml").display().to_string(),
        "--json",
    ]);
    assert!(summary["snapshots"].as_u64().is_some(), "{summary}");
    let out = skein(&["sandbox", "down", "--dir", &d]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        pids.iter().all(|p| !alive(*p)),
        "the Garage servers are stopped"
    );
}
