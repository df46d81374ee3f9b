//! Alert delivery for a console that runs with no window (`skein serve`): every fired and
//! cleared alert ([`crate::alerts`]) goes to a webhook (Slack-compatible JSON) and/or a
//! command, off the sampler — the sampler only emits events; a queue per target takes them.
//!
//! A delivery that fails is retried with exponential backoff ([`BACKOFF_S`]: 1 s, 2 s, 4 s, …
//! up to 60 s, [`BACKOFF_S`]`.len()` tries), and the target shows as failing (on the Alerts
//! page and as a `delivery` event) until one succeeds; after the last try that change is
//! dropped and counted, and the next one is tried. A full queue ([`QUEUE_MAX`]) drops the new
//! change and counts it. Nothing here ever blocks the sampler.
//!
//! - **Webhook**: `POST` of `{"text": "...", "skein": {"profile", "change", "alert"}}` with
//!   `Content-Type: application/json`; any 2xx is delivered. Slack (and Mattermost, Rocket.Chat,
//!   Teams' incoming webhooks in Slack mode) shows `text`. The URL is a secret (a Slack URL's
//!   path is its token): it is never logged or shown; the target is named by scheme and host.
//! - **Command**: run through `sh -c`, with the change as JSON on standard input and in
//!   `SKEIN_ALERT_JSON`, and `SKEIN_ALERT_CHANGE` (`fired`/`cleared`), `SKEIN_ALERT_RULE`,
//!   `SKEIN_ALERT_SUBJECT`, `SKEIN_ALERT_SEVERITY`, `SKEIN_ALERT_MESSAGE`; exit status 0 is
//!   delivered; it is killed after [`COMMAND_TIMEOUT`].

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::alerts::{AlertChange, AlertChangeKind, DeliveryStatus};
use crate::{App, Event};

/// Seconds to wait before each retry.
pub const BACKOFF_S: [u64; 8] = [1, 2, 4, 8, 16, 30, 60, 60];
/// Changes waiting per target, at most.
pub const QUEUE_MAX: usize = 1024;
/// A webhook request's timeout.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a command may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Where alerts go.
#[derive(Clone)]
pub enum Target {
    /// A URL taking Slack-compatible JSON (a secret: never shown).
    Webhook(String),
    /// A shell command line.
    Command(String),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind(), self.shown())
    }
}

impl Target {
    fn kind(&self) -> &'static str {
        match self {
            Target::Webhook(_) => "webhook",
            Target::Command(_) => "command",
        }
    }

    /// What may be shown of it: a webhook's scheme and host (never its path or query), a
    /// command's program.
    pub fn shown(&self) -> String {
        match self {
            Target::Webhook(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("?", url));
                let host = rest.split(['/', '?', '#']).next().unwrap_or("");
                // user:password@host keeps only the host.
                let host = host.rsplit('@').next().unwrap_or(host);
                format!("{scheme}://{host}")
            }
            Target::Command(line) => line.split_whitespace().next().unwrap_or("").to_owned(),
        }
    }

    /// Checks the target before anything runs. Errors: a message naming what is wrong.
    pub fn check(&self) -> std::result::Result<(), String> {
        match self {
            Target::Webhook(url) => {
                let lower = url.to_ascii_lowercase();
                if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                    return Err(
                        "the webhook URL must start with https:// (or http:// on a trusted network)"
                            .into(),
                    );
                }
                if Target::Webhook(url.clone()).shown().ends_with("://") {
                    return Err("the webhook URL names no host".into());
                }
                Ok(())
            }
            Target::Command(line) if line.trim().is_empty() => {
                Err("the alert command is empty".into())
            }
            Target::Command(_) => Ok(()),
        }
    }
}

#[derive(Serialize)]
struct Payload<'a> {
    text: String,
    skein: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    profile: &'a str,
    #[serde(flatten)]
    change: &'a AlertChange,
}

/// The one line a chat shows.
pub fn text(profile: &str, c: &AlertChange) -> String {
    let a = &c.alert;
    let what = match c.change {
        AlertChangeKind::Fired => "FIRED",
        AlertChangeKind::Cleared => "cleared",
        AlertChangeKind::Acknowledged => "acknowledged",
    };
    let severity = match a.severity {
        crate::rpc::Severity::Critical => "critical",
        crate::rpc::Severity::Warning => "warning",
        crate::rpc::Severity::Info => "info",
    };
    format!(
        "Skein [{profile}] {what} {severity} {} on {}: {}",
        a.rule.name(),
        a.subject,
        a.message
    )
}

/// Starts delivering to `target` until `cancel`: one task takes `alert` events off the bus
/// into the queue, another sends them. Errors: [`Target::check`]'s message.
pub fn start(
    app: Arc<App>,
    target: Target,
    cancel: CancellationToken,
) -> std::result::Result<(), String> {
    target.check()?;
    let (tx, rx) = mpsc::channel::<(String, AlertChange)>(QUEUE_MAX);
    let status = Arc::new(std::sync::Mutex::new(DeliveryStatus {
        kind: target.kind().into(),
        target: target.shown(),
        failing: false,
        last_error: None,
        delivered: 0,
        dropped: 0,
        queued: 0,
        last_ok_ms: None,
    }));
    let mut events = app.subscribe();
    {
        let (app, status, cancel) = (app.clone(), status.clone(), cancel.clone());
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    _ = cancel.cancelled() => return,
                    e = events.recv() => e,
                };
                let change = match event {
                    Ok(Event::Alert(c)) if c.change != AlertChangeKind::Acknowledged => c,
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("alert delivery fell {n} events behind the bus");
                        continue;
                    }
                    Err(_) => return,
                };
                let profile = app
                    .console()
                    .map(|c| c.profile().name.clone())
                    .unwrap_or_default();
                let full = tx.try_send((profile, change)).is_err();
                update(&app, &status, |s| {
                    if full {
                        s.dropped += 1;
                    }
                    s.queued = (QUEUE_MAX - tx.capacity()) as u64;
                });
            }
        });
    }
    tokio::spawn(send_loop(app, target, status, rx, cancel));
    Ok(())
}

fn update(
    app: &App,
    status: &std::sync::Mutex<DeliveryStatus>,
    f: impl FnOnce(&mut DeliveryStatus),
) {
    let now = match status.lock() {
        Ok(mut s) => {
            f(&mut s);
            s.clone()
        }
        Err(_) => return,
    };
    if let Some(c) = app.console() {
        c.report_delivery(now);
    }
}

async fn send_loop(
    app: Arc<App>,
    target: Target,
    status: Arc<std::sync::Mutex<DeliveryStatus>>,
    mut rx: mpsc::Receiver<(String, AlertChange)>,
    cancel: CancellationToken,
) {
    loop {
        let item = tokio::select! {
            _ = cancel.cancelled() => return,
            i = rx.recv() => i,
        };
        let Some((profile, change)) = item else {
            return;
        };
        let mut tries = 0;
        loop {
            let result = send(&target, &profile, &change).await;
            tries += 1;
            let queued = rx.len() as u64;
            match result {
                Ok(()) => {
                    update(&app, &status, |s| {
                        s.failing = false;
                        s.last_error = None;
                        s.delivered += 1;
                        s.queued = queued;
                        s.last_ok_ms = Some(crate::now_ms());
                    });
                    break;
                }
                Err(why) => {
                    tracing::warn!(
                        target = %target.shown(),
                        alert = change.alert.id,
                        "alert delivery failed (try {tries} of {}): {why}",
                        BACKOFF_S.len()
                    );
                    let gave_up = tries >= BACKOFF_S.len();
                    update(&app, &status, |s| {
                        s.failing = true;
                        s.last_error = Some(if gave_up {
                            format!(
                                "{why} (gave up on alert #{} after {tries} tries)",
                                change.alert.id
                            )
                        } else {
                            why.clone()
                        });
                        s.queued = queued;
                        if gave_up {
                            s.dropped += 1;
                        }
                    });
                    if gave_up {
                        break;
                    }
                    let wait = Duration::from_secs(BACKOFF_S[tries - 1]);
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }
}

/// One attempt. Errors: why it failed, with no secret in it.
async fn send(target: &Target, profile: &str, change: &AlertChange) -> Result<(), String> {
    let payload = Payload {
        text: text(profile, change),
        skein: Body { profile, change },
    };
    let json = serde_json::to_string(&payload).map_err(|e| e.to_string())?;
    match target {
        Target::Webhook(url) => {
            let (url, shown) = (url.clone(), target.shown());
            tokio::task::spawn_blocking(move || post(&WEBHOOK_AGENT, &url, &json, &shown))
                .await
                .map_err(|e| format!("the webhook task failed: {e}"))?
        }
        Target::Command(line) => run(line, &json, change).await,
    }
}

/// The webhooks' HTTP client, built once (its connection pool and TLS roots are reused).
static WEBHOOK_AGENT: std::sync::LazyLock<ureq::Agent> = std::sync::LazyLock::new(|| {
    ureq::Agent::config_builder()
        .timeout_global(Some(WEBHOOK_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into()
});

fn post(agent: &ureq::Agent, url: &str, json: &str, shown: &str) -> Result<(), String> {
    let resp = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(json)
        // ureq's errors name the URL's host at most; say it ourselves, without the path.
        .map_err(|e| format!("{shown}: {}", strip_url(&e.to_string(), url)))?;
    let code = resp.status().as_u16();
    if (200..300).contains(&code) {
        Ok(())
    } else {
        Err(format!("{shown} answered HTTP {code}"))
    }
}

/// `text` without `url` in it (an error message may quote it).
fn strip_url(text: &str, url: &str) -> String {
    text.replace(url, "(webhook URL)")
}

async fn run(line: &str, json: &str, change: &AlertChange) -> Result<(), String> {
    let a = &change.alert;
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(line)
        .env("SKEIN_ALERT_JSON", json)
        .env(
            "SKEIN_ALERT_CHANGE",
            match change.change {
                AlertChangeKind::Fired => "fired",
                AlertChangeKind::Cleared => "cleared",
                AlertChangeKind::Acknowledged => "acknowledged",
            },
        )
        .env("SKEIN_ALERT_RULE", a.rule.name())
        .env("SKEIN_ALERT_SUBJECT", &a.subject)
        .env(
            "SKEIN_ALERT_SEVERITY",
            serde_json::to_value(a.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        )
        .env("SKEIN_ALERT_MESSAGE", &a.message)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start sh: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is fine.
        let _ = stdin.write_all(json.as_bytes()).await;
    }
    match tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output()).await {
        Err(_) => Err(format!(
            "the alert command ran longer than {} s and was killed",
            COMMAND_TIMEOUT.as_secs()
        )),
        Ok(Err(e)) => Err(format!("the alert command failed: {e}")),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().last().unwrap_or("").trim();
            Err(format!(
                "the alert command exited with {}{}",
                out.status,
                if last.is_empty() {
                    String::new()
                } else {
                    format!(": {last}")
                }
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_is_shown_by_scheme_and_host_only() {
        let t = Target::Webhook("https://hooks.slack.com/services/T000/B000/SECRET?x=1".into());
        assert_eq!(t.shown(), "https://hooks.slack.com");
        let t = Target::Webhook("http://user:pw@127.0.0.1:9/hook".into());
        assert_eq!(t.shown(), "http://127.0.0.1:9");
        assert!(!format!("{t:?}").contains("pw"));
        assert!(Target::Webhook("ftp://x/y".into()).check().is_err());
        assert!(Target::Webhook("https://".into()).check().is_err());
        assert!(Target::Command("  ".into()).check().is_err());
        assert_eq!(
            Target::Command("notify-send -u critical".into()).shown(),
            "notify-send"
        );
    }
}
