//! Build script: compiles the Tauri configuration (`../tauri.conf.json`, at the repository
//! root) and the capabilities in `capabilities/` into the access-control list the app is
//! checked against at run time.
//!
//! The app's one command, `rpc`, is declared here so that it gets `allow-rpc` / `deny-rpc`
//! permissions and is callable only from windows whose capability grants `allow-rpc`.
//!
//! `tauri::generate_context!` embeds `ui/dist` and fails to compile when it is missing. So that
//! workspace-wide `cargo` commands (clippy, tests) do not depend on the npm build, a missing
//! `ui/dist/index.html` makes this script point `frontendDist` at `placeholder/` (a page that
//! says how to build the UI) and print a warning. An explicit `TAURI_CONFIG` is left alone.

use std::path::Path;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let ui_index = Path::new(&manifest_dir).join("../ui/dist/index.html");
    println!("cargo:rerun-if-changed={}", ui_index.display());
    println!("cargo:rerun-if-env-changed=TAURI_CONFIG");
    if !ui_index.exists() && std::env::var_os("TAURI_CONFIG").is_none() {
        let placeholder = Path::new(&manifest_dir).join("placeholder");
        let config = serde_json::json!({ "build": { "frontendDist": placeholder } });
        println!("cargo:rustc-env=TAURI_CONFIG={config}");
        println!(
            "cargo:warning=ui/dist is missing: this skein-desktop embeds a placeholder page; \
             build the UI (npm --prefix ui run build) and rebuild"
        );
    }

    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(&["rpc"]));
    tauri_build::try_build(attributes).expect("tauri-build failed (see the message above)");
}
