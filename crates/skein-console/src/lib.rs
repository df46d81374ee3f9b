//! The application every front end shares: a running [`Console`] for one profile
//! (connections, a lag sampler with bounded history, a cache watcher, an event bus), the
//! [`App`] that opens profiles and answers RPC requests, and the request, response and event
//! types ([`rpc`]) from which the UI's TypeScript types are generated ([`bindings`]).
//!
//! No front-end code lives here and nothing here depends on Tauri: the desktop shell and
//! `skein serve` forward [`Request`]s to [`App::rpc`] and events from [`App::subscribe`].

pub mod alerts;
mod app;
mod attention;
pub mod bindings;
mod board;
mod cached_reads;
pub mod chart;
mod console;
pub mod deliver;
pub mod diagnose;
mod editor;
mod error;
pub mod history;
pub mod jobs;
pub mod lag_log;
pub mod limits;
pub mod logging;
pub mod metrics;
mod privileges;
mod replication;
pub mod rpc;
mod sampler;
mod scheduler;
mod sessions;
mod store_health;
mod watcher;
pub mod workbench;

pub use app::{App, RECENT_MAX};
pub use console::{Console, ConsoleOptions};
pub use error::{Error, Result};
pub use limits::Limit;
pub use rpc::{Event, Request, Response};
pub use watcher::EXACT_EVERY;

/// The directory a console keeps its state in (the lag history, the logs):
/// `$SKEIN_STATE_DIR`, else `$XDG_STATE_HOME/skein`, else `~/.local/state/skein`; `None` when
/// none of them is set.
pub fn state_dir() -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    if let Some(d) = std::env::var_os("SKEIN_STATE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("skein"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".local/state/skein"))
}

/// This console's writer id (see [`skein_lake::identity`]): six hex digits kept in
/// `<state>/console-id` (written once, so a console keeps its id across restarts and two
/// consoles with their own state directories, as on two machines, differ); `None` when there
/// is no state directory or it cannot be written (the writer is then `console@<host>`).
pub fn console_id() -> Option<String> {
    let path = state_dir()?.join("console-id");
    let valid = |t: &str| t.len() == 6 && t.bytes().all(|b| b.is_ascii_hexdigit());
    if let Ok(text) = std::fs::read_to_string(&path) {
        let text = text.trim();
        if valid(text) {
            return Some(text.to_owned());
        }
    }
    let id = uuid::Uuid::new_v4().simple().to_string()[..6].to_owned();
    std::fs::create_dir_all(path.parent()?).ok()?;
    std::fs::write(&path, format!("{id}\n")).ok()?;
    Some(id)
}

/// Now, ms since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
