//! `skein doctor` end to end against a real sandbox: exit status 0 and every step ok on a
//! good profile (table and `--json`), exit status 1 with the failed step and its fix when a
//! node is down.

use std::process::{Command, Output};

use serde_json::Value;
use skein_sandbox::ScratchSandbox;

fn doctor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skein"))
        .arg("doctor")
        .args(args)
        .env_remove("SKEIN_PROFILE")
        .output()
        .expect("run skein doctor")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_exit_status_follows_the_checks() {
    let sandbox = ScratchSandbox::up("cli-doctor", 1).await.expect("sandbox");
    let profile = sandbox.profile.display().to_string();

    let out = doctor(&["--profile", &profile]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "doctor failed on a good profile: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for header in ["NODE", "STEP", "STATUS", "DETAIL", "FIX"] {
        assert!(stdout.contains(header), "{stdout}");
    }
    assert!(stdout.contains("0 warn, 0 fail, 0 skipped"), "{stdout}");

    let out = doctor(&["--profile", &profile, "--json"]);
    assert!(out.status.success());
    let all: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let targets: Vec<&str> = all
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["target"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(targets, ["primary", "replica1", "lake"]);
    assert!(
        all.as_array()
            .expect("array")
            .iter()
            .flat_map(|d| d["steps"].as_array().expect("steps"))
            .all(|s| s["status"] == "ok"),
        "{all:#}"
    );

    sandbox.stop_node("replica1").expect("stop replica1");
    let out = doctor(&["--profile", &profile]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let tcp = stdout
        .lines()
        .skip_while(|l| !l.starts_with("replica1"))
        .find(|l| l.contains(" tcp "))
        .unwrap_or_else(|| panic!("no tcp row for replica1: {stdout}"));
    assert!(
        tcp.contains("FAIL") && tcp.contains("start the server"),
        "{tcp}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("replica1"), "{stderr}");
    assert!(!stderr.contains("primary,"), "the primary passed: {stderr}");

    let out = doctor(&["--profile", &profile, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let all: Value = serde_json::from_slice(&out.stdout).expect("JSON even when a check fails");
    assert_eq!(all[1]["steps"][1]["step"], "tcp");
    assert_eq!(all[1]["steps"][1]["status"], "fail");
}
