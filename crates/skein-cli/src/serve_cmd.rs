//! `skein serve`: web mode. Serves the built UI (`ui/dist`) and the console's RPC surface
//! over HTTP on loopback:
//!
//! - `POST /api/rpc`: a JSON [`Request`] → 200 with the [`skein_console::Response`], or an
//!   error status with `{ code, message }` (400 InvalidInput, 404 NotFound, 409 Conflict,
//!   502 ConnectionRefused/AuthFailed, 504 Timeout, 500 otherwise);
//! - `GET /api/events`: Server-Sent Events, one [`skein_console::Event`] JSON per message;
//! - `GET /metrics`: every metric in the Prometheus (OpenMetrics) text format
//!   ([`skein_console::metrics`]);
//! - everything else: the UI's static files (not with `--headless`).
//!
//! Every request must carry the access token printed in the URL: `?token=…`, an
//! `Authorization: Bearer …` header, or the `skein_token` cookie (HttpOnly, SameSite=Strict)
//! set when the page is first opened with `?token=`. Anything else gets 401. `--metrics-bind`
//! serves `/metrics` alone on an address of its own, without the token (for a Prometheus that
//! scrapes a loopback or private address).
//!
//! The alert rules run here as in the app; `--webhook` and `--alert-command` deliver each
//! fired and cleared alert ([`skein_console::deliver`]), so a console with no window still
//! reaches someone.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Request as HttpRequest, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::Stream;
use futures_util::StreamExt;
use skein_console::{deliver, App, ConsoleOptions, Request};
use skein_core::{ErrorCode, ErrorInfo};
use tokio_stream::wrappers::BroadcastStream;
use tower_http::services::{ServeDir, ServeFile};

use crate::failure::fail;

/// Options of `skein serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Loopback by default; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub bind: SocketAddr,
    /// Directory of the built UI (default: $SKEIN_UI_DIR, else the repository's ui/dist).
    #[arg(long, env = "SKEIN_UI_DIR")]
    pub ui_dir: Option<PathBuf>,
    /// Access token (default: a random one). Anyone with it can drive the console.
    #[arg(long, env = "SKEIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// No UI: the RPC surface, the events, /metrics and the alert rules only (a service).
    #[arg(long)]
    pub headless: bool,
    /// Post every fired and cleared alert to this URL as Slack-compatible JSON. A secret (a
    /// Slack URL's path is its token): prefer the environment variable.
    #[arg(long, env = "SKEIN_ALERT_WEBHOOK", hide_env_values = true)]
    pub webhook: Option<String>,
    /// Run this shell command for every fired and cleared alert (the alert as JSON on stdin
    /// and in SKEIN_ALERT_JSON; SKEIN_ALERT_CHANGE, _RULE, _SUBJECT, _SEVERITY, _MESSAGE).
    #[arg(long, env = "SKEIN_ALERT_COMMAND")]
    pub alert_command: Option<String>,
    /// Also serve /metrics alone here, without the token (e.g. 127.0.0.1:9187).
    #[arg(long)]
    pub metrics_bind: Option<SocketAddr>,
}

const COOKIE: &str = "skein_token";

#[derive(Clone)]
struct Ctx {
    app: Arc<App>,
    token: Arc<str>,
}

/// Runs the web console until interrupted. `profile`: the profile file to open at start
/// (none: the UI starts on its profile picker).
pub async fn run(profile: Option<PathBuf>, args: ServeArgs) -> anyhow::Result<()> {
    let ui_dir = args
        .ui_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/dist")));
    if !args.headless && !ui_dir.join("index.html").exists() {
        return Err(fail(
            ErrorCode::NotFound,
            format!(
                "the UI is not built: {} has no index.html; run `make ui` (npm run build in ui/), pass --ui-dir, or run --headless",
                ui_dir.display()
            ),
        ));
    }
    if !args.bind.ip().is_loopback() {
        tracing::warn!(bind = %args.bind, "listening beyond loopback");
        eprintln!(
            "skein: warning: listening on {} — anyone who can reach it and has the token can drive this console",
            args.bind
        );
    }
    let app = Arc::new(App::new(ConsoleOptions::default()));
    if let Some(p) = profile {
        app.open_profile(&p)
            .map_err(|e| fail(e.code(), e.to_string()))?;
    }
    let cancel = tokio_util::sync::CancellationToken::new();
    let targets = [
        args.webhook.clone().map(deliver::Target::Webhook),
        args.alert_command.clone().map(deliver::Target::Command),
    ];
    for target in targets.into_iter().flatten() {
        let shown = format!("{target:?}");
        deliver::start(app.clone(), target, cancel.clone())
            .map_err(|why| fail(ErrorCode::InvalidInput, format!("{shown}: {why}")))?;
        tracing::info!(target = %shown, "delivering alerts");
    }
    if let Some(bind) = args.metrics_bind {
        let listener = listen(bind).await?;
        let addr = listener.local_addr()?;
        println!("Skein metrics: http://{addr}/metrics");
        let metrics_only = Router::new()
            .route("/metrics", get(metrics))
            .with_state(app.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, metrics_only).await {
                tracing::warn!("the metrics listener stopped: {e}");
            }
        });
    }
    let token: Arc<str> = args
        .token
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
        .into();
    let listener = listen(args.bind).await?;
    tracing::info!(addr = %listener.local_addr()?, "web console listening");
    let addr = listener.local_addr()?;
    if args.headless {
        println!("Skein console (headless): http://{addr}/api/rpc (Authorization: Bearer TOKEN)");
    } else {
        println!("Skein web console: http://{addr}/?token={token}");
    }
    let router = router(Ctx { app, token }, (!args.headless).then_some(ui_dir));
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await?;
    cancel.cancel();
    Ok(())
}

/// Ctrl-C or SIGTERM (systemd's stop).
async fn shutdown() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

async fn listen(bind: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(bind).await.map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::AddrInUse {
            ErrorCode::Conflict
        } else {
            ErrorCode::Internal
        };
        fail(code, format!("cannot listen on {bind}: {e}"))
    })
}

fn router(ctx: Ctx, ui_dir: Option<PathBuf>) -> Router {
    let api = Router::new()
        .route("/api/rpc", post(rpc))
        .route("/api/events", get(events))
        .route(
            "/metrics",
            get(|State(ctx): State<Ctx>| async move { metrics(State(ctx.app)).await }),
        );
    let api = match ui_dir {
        Some(dir) => {
            let index = dir.join("index.html");
            api.fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)))
        }
        None => api,
    };
    api.layer(middleware::from_fn_with_state(ctx.clone(), auth))
        .with_state(ctx)
}

/// `GET /metrics`: the open console's metrics; 503 with a line of text when no profile is
/// open.
async fn metrics(State(app): State<Arc<App>>) -> HttpResponse {
    match app.console() {
        Some(c) => (
            [(header::CONTENT_TYPE, skein_console::metrics::CONTENT_TYPE)],
            c.metrics(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "no profile is open: start `skein serve` with --profile\n",
        )
            .into_response(),
    }
}

/// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

async fn auth(State(ctx): State<Ctx>, req: HttpRequest, next: Next) -> HttpResponse {
    let headers = req.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| {
            c.trim()
                .strip_prefix(&format!("{COOKIE}="))
                .map(str::to_owned)
        })
        .next();
    let query = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("token=").map(str::to_owned))
    });
    let ok = |t: Option<&str>| t.is_some_and(|t| same(t, &ctx.token));
    if !(ok(bearer) || ok(cookie.as_deref()) || ok(query.as_deref())) {
        return error_response(
            StatusCode::UNAUTHORIZED,
            ErrorInfo {
                code: ErrorCode::AuthFailed,
                message: "missing or wrong access token: open the URL `skein serve` printed (it carries ?token=…)".into(),
            },
        );
    }
    let set_cookie = ok(query.as_deref()) && !ok(cookie.as_deref());
    let mut resp = next.run(req).await;
    if set_cookie {
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
            ctx.token
        )) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict | ErrorCode::ReadOnlyReplica | ErrorCode::Cancelled => {
            StatusCode::CONFLICT
        }
        ErrorCode::ConnectionRefused | ErrorCode::AuthFailed | ErrorCode::Tls => {
            StatusCode::BAD_GATEWAY
        }
        ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::QueryFailed | ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn error_response(status: StatusCode, info: ErrorInfo) -> HttpResponse {
    (status, Json(info)).into_response()
}

async fn rpc(State(ctx): State<Ctx>, body: Result<Json<Request>, JsonRejection>) -> HttpResponse {
    let Json(request) = match body {
        Ok(b) => b,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorInfo {
                    code: ErrorCode::InvalidInput,
                    message: format!("not a valid request: {}", e.body_text()),
                },
            )
        }
    };
    match ctx.app.rpc(request).await {
        Ok(response) => Json(response).into_response(),
        Err(info) => error_response(status_of(info.code), info),
    }
}

async fn events(State(ctx): State<Ctx>) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let stream = BroadcastStream::new(ctx.app.subscribe()).filter_map(|item| async move {
        // A subscriber that fell behind skips what it missed and goes on.
        let event = item.ok()?;
        SseEvent::default().json_data(&event).ok().map(Ok)
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
