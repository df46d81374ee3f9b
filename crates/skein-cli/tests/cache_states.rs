//! Cache states through the `skein` binary against a sandbox: `cache list` prints each state
//! with what it means, an edited cache is `edited` and never served by `route explain`, a
//! fresh one is served and says when it was checked, and a write is refused as a cache query.

use std::path::PathBuf;
use std::process::{Command, Output};

fn skein(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skein"))
        .args(args)
        .env_remove("SKEIN_PROFILE")
        .output()
        .expect("run skein")
}

fn ok_text(args: &[&str]) -> String {
    let out = skein(args);
    assert!(
        out.status.success(),
        "skein {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Down(PathBuf);
impl Drop for Down {
    fn drop(&mut self) {
        let _ = skein(&["sandbox", "down", "--dir", &self.0.display().to_string()]);
    }
}

const QUERY: &str = "SELECT n_name, n_regionkey FROM nation";

#[test]
fn cache_list_and_route_explain_agree_on_the_states() {
    let dir = PathBuf::from(format!("/tmp/skein-cli-states-{}", std::process::id()));
    let d = dir.display().to_string();
    let _down = Down(dir.clone());
    ok_text(&["sandbox", "up", "--dir", &d, "--scale", "0.01", "--json"]);
    let profile = dir.join("profile.toml").display().to_string();

    let out = skein(&[
        "cache",
        "create",
        "w",
        "--query",
        "DELETE FROM nation RETURNING n_name",
        "--monitor",
        "nation",
        "--profile",
        &profile,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused") && err.contains("statement"),
        "{err}"
    );

    ok_text(&[
        "cache",
        "create",
        "nations",
        "--query",
        QUERY,
        "--monitor",
        "nation",
        "--profile",
        &profile,
    ]);
    ok_text(&["cache", "refresh", "nations", "--profile", &profile]);
    let served = ok_text(&["route", "explain", QUERY, "--profile", &profile]);
    assert!(served.starts_with("cache lake"), "{served}");
    assert!(served.contains("checked at"), "{served}");

    // Edited elsewhere (as the console does): never served, and the list says what it means.
    let edited = "SELECT n_name FROM nation WHERE n_regionkey = 1";
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let p = skein_core::Profile::load(std::path::Path::new(&profile)).expect("profile");
            let cluster = skein_pg::Cluster::from_profile(&p).expect("cluster");
            let lake = skein_lake::Lake::open(&p).await.expect("lake");
            lake.update_cache(&cluster, "nations", edited, &["nation".into()], None)
                .await
                .expect("edit");
        });
    let live = ok_text(&["route", "explain", edited, "--profile", &profile]);
    assert!(live.starts_with("replica"), "{live}");
    assert!(
        live.contains("cache nations") && live.contains("edited"),
        "{live}"
    );
    let list = ok_text(&["cache", "list", "--profile", &profile]);
    let row = list
        .lines()
        .find(|l| l.starts_with("nations "))
        .unwrap_or_else(|| panic!("no row for nations: {list}"));
    assert!(row.contains(" edited "), "{row}");
    let legend = |word: &str| list.lines().any(|l| l.starts_with(&format!("{word:<8} ")));
    assert!(legend("edited"), "{list}");
    assert!(legend("fresh"), "the demo caches are fresh: {list}");
    assert!(
        !legend("stale"),
        "only the states shown are explained: {list}"
    );
    assert!(list.contains("the next refresh rewrites it"), "{list}");
}
