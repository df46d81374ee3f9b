//! The two paths between the webview and [`App`]: the `rpc` command (UI → app) and the
//! event forwarder (app → UI). Both only move serde values; what a request does is decided
//! in `skein-console`.
//!
//! From the UI (`@tauri-apps/api`): `invoke('rpc', { request })` resolves to a `Response`
//! or rejects with `{ code, message }`; `listen('skein://event', e => e.payload)` receives
//! every `Event` (`{ kind, data }`).
//!
//! A fired alert is also a desktop notification (the notification plugin: the desktop's
//! notification service), so it is seen with the window in the background; a cleared one too.

use std::sync::Arc;

use skein_console::alerts::{AlertChange, AlertChangeKind};
use skein_console::{App, Event, Request, Response};
use skein_core::ErrorInfo;
use tauri::{AppHandle, Emitter, State};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::{error::RecvError, Receiver};

/// Name of the Tauri event that carries every [`Event`] to the webview.
pub const EVENT: &str = "skein://event";

/// The app's one command: answers `request` with [`App::rpc`]. Errors cross as
/// `{ code, message }` ([`ErrorInfo`]).
#[tauri::command]
pub async fn rpc(app: State<'_, Arc<App>>, request: Request) -> Result<Response, ErrorInfo> {
    app.rpc(request).await
}

/// Emits every event from `events` to the webview as [`EVENT`] until the app's channel
/// closes. When this task falls more than the channel's buffer behind, the skipped events
/// are dropped (the UI catches up from the next lag tick or by asking again) and it goes on.
pub async fn forward_events(mut events: Receiver<Event>, handle: AppHandle) {
    loop {
        match events.recv().await {
            Ok(event) => {
                if let Event::Alert(change) = &event {
                    notify(&handle, change);
                }
                if let Err(e) = handle.emit(EVENT, &event) {
                    tracing::warn!("could not emit an event to the webview: {e}");
                }
            }
            Err(RecvError::Lagged(skipped)) => {
                tracing::warn!(skipped, "the webview fell behind; events skipped");
            }
            Err(RecvError::Closed) => break,
        }
    }
}

/// Shows a fired or cleared alert as a desktop notification (acknowledgements are not news).
fn notify(handle: &AppHandle, change: &AlertChange) {
    let a = &change.alert;
    let title = match change.change {
        AlertChangeKind::Fired => format!("Skein: {} on {}", a.rule.name(), a.subject),
        AlertChangeKind::Cleared => format!("Skein: cleared, {} on {}", a.rule.name(), a.subject),
        AlertChangeKind::Acknowledged => return,
    };
    match handle
        .notification()
        .builder()
        .title(&title)
        .body(&a.message)
        .show()
    {
        Ok(()) => tracing::info!(alert = a.id, "desktop notification shown: {title}"),
        Err(e) => tracing::warn!(alert = a.id, "the desktop notification failed: {e}"),
    }
}
