//! `skein serve`: web mode. Serves the built UI (`ui/dist`) and the console's RPC surface
//! over HTTP on loopback:
//!
//! - `POST /api/rpc`: a JSON [`Request`] → 200 with the [`skein_console::Response`], or an
//!   error status with `{ code, message }` (400 InvalidInput, 404 NotFound, 409 Conflict,
//!   502 ConnectionRefused/AuthFailed, 504 Timeout, 500 otherwise);
//! - `GET /api/events`: Server-Sent Events, one [`skein_console::Event`] JSON per message;
//! - everything else: the UI's static files.
//!
//! Every request must carry the access token printed in the URL: `?token=…`, an
//! `Authorization: Bearer …` header, or the `skein_token` cookie (HttpOnly, SameSite=Strict)
//! set when the page is first opened with `?token=`. Anything else gets 401.

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
use skein_console::{App, ConsoleOptions, Request};
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
    if !ui_dir.join("index.html").exists() {
        return Err(fail(
            ErrorCode::NotFound,
            format!(
                "the UI is not built: {} has no index.html; run `make ui` (npm run build in ui/) or pass --ui-dir",
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
    let token: Arc<str> = args
        .token
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
        .into();
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::AddrInUse {
                ErrorCode::Conflict
            } else {
                ErrorCode::Internal
            };
            fail(code, format!("cannot listen on {}: {e}", args.bind))
        })?;
    tracing::info!(addr = %listener.local_addr()?, "web console listening");
    let addr = listener.local_addr()?;
    println!("Skein web console: http://{addr}/?token={token}");
    let router = router(Ctx { app, token }, ui_dir);
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

fn router(ctx: Ctx, ui_dir: PathBuf) -> Router {
    let index = ui_dir.join("index.html");
    let files = ServeDir::new(ui_dir).fallback(ServeFile::new(index));
    Router::new()
        .route("/api/rpc", post(rpc))
        .route("/api/events", get(events))
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(ctx.clone(), auth))
        .with_state(ctx)
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
