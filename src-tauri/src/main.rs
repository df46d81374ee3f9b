//! `skein-desktop`: the Skein console in a desktop window.
//!
//! This crate is only a shell around [`skein_console::App`] (web mode, `skein serve`, calls
//! the same `App`): it opens a window on the web UI (`ui/dist`, embedded at build time
//! through `tauri.conf.json` at the repository root), exposes one command, `rpc`, that
//! forwards a [`skein_console::Request`] to [`skein_console::App::rpc`], and forwards every
//! [`skein_console::Event`] to the webview as the Tauri event `skein://event`
//! ([`bridge`]). No command body lives here.
//!
//! Two pieces of platform glue run before GTK starts: [`locale`] keeps WebKitGTK from giving
//! the page an invalid language under the `C.UTF-8` locale, and [`render`] turns WebKitGTK's
//! OpenGL compositing off on a machine without a GPU, where it costs memory for nothing.
//!
//! Usage: `skein-desktop [PROFILE]`, `skein-desktop --profile PROFILE`, or
//! `SKEIN_PROFILE=PROFILE skein-desktop` ([`launch`]). Without a profile the app starts with
//! none open and the UI shows its profile picker.
//!
//! The app logs to `<state>/logs/skein-desktop.<date>.log` ([`skein_console::logging`]:
//! `SKEIN_LOG`, else `RUST_LOG`, sets the level), not to standard error.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod bridge;
mod launch;
mod locale;
mod render;

use std::sync::Arc;

use skein_console::{App, ConsoleOptions};

fn main() {
    let logging = skein_console::logging::init("skein-desktop", false);
    for p in &logging.problems {
        eprintln!("skein-desktop: log: {p}");
    }
    locale::fix_webkit_language();
    let compositing = render::apply();
    tracing::info!(
        choice = ?compositing,
        disabled = compositing.disables(),
        "WebKitGTK accelerated compositing ({} overrides: on, off, auto)",
        render::ENV
    );
    let profile = launch::profile_path(std::env::args_os().skip(1), std::env::var_os(launch::ENV));
    let app = Arc::new(App::new(ConsoleOptions::default()));
    let on_exit = Arc::clone(&app);

    tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .manage(Arc::clone(&app))
        .invoke_handler(tauri::generate_handler![bridge::rpc])
        .setup(move |tauri_app| {
            // Subscribe before opening the profile so that `profile_opened` reaches the UI.
            let events = app.subscribe();
            tauri::async_runtime::spawn(bridge::forward_events(events, tauri_app.handle().clone()));
            if let Some(path) = profile {
                // The console spawns its background tasks on the current tokio runtime:
                // open it inside Tauri's.
                let opened = tauri::async_runtime::block_on(async { app.open_profile(&path) });
                if let Err(e) = opened {
                    let info = e.info();
                    tracing::error!(
                        profile = %path.display(),
                        code = %info.code,
                        "could not open the profile: {}",
                        info.message
                    );
                    eprintln!(
                        "skein-desktop: could not open profile {}: {}: {}",
                        path.display(),
                        info.code,
                        info.message
                    );
                }
            }
            Ok(())
        })
        .build(tauri::generate_context!("../tauri.conf.json"))
        .expect("the Tauri application could not be built")
        .run(move |_, event| {
            if let tauri::RunEvent::Exit = event {
                tracing::info!("the desktop app exits");
                if let Some(console) = on_exit.console() {
                    console.close();
                }
                skein_core::tunnel::shutdown_all();
            }
        });
}
