//! scratch
#![allow(clippy::unwrap_used)]
use std::time::{Duration, Instant};
use skein_sandbox::{Sandbox, SandboxOptions};
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scratch() {
    let dir = std::path::PathBuf::from(format!("/tmp/skein-test-{}-scratch", std::process::id()));
    let sb = Sandbox::up(SandboxOptions { dir: dir.clone(), replicas: 1, scale: 0.0 }).await.unwrap();
    let pid = sb.nodes[1].pid;
    let t = Instant::now();
    std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    let mut last = String::new();
    while t.elapsed() < Duration::from_secs(5) {
        let st = std::fs::read_to_string(format!("/proc/{pid}/stat")).map(|s| { let r = s.rsplit_once(')').unwrap().1.trim().to_owned(); r.split(' ').take(2).collect::<Vec<_>>().join(" ") }).unwrap_or_else(|_| "gone".into());
        if st != last { eprintln!("{:?} {st}", t.elapsed()); last = st; }
        if last == "gone" { break; }
        std::thread::sleep(Duration::from_millis(20));
    }
    Sandbox::down(&dir).unwrap();
}
