//! The health of the lake's object store, from the HTTP endpoint `[lake.storage] health_url`
//! names (Garage's admin API `/health`: "Garage is fully operational", or "… operational but
//! some storage nodes are unavailable" — still 200 — or 503 without a quorum). Read with each
//! lake summary, at most 2 s a read; a reading younger than [`REUSE`] is reused, so a burst
//! of summaries (a page's `caches` requests between ticks) reads the endpoint once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use skein_lake::storage::Store;

use crate::rpc::{StoreHealth, StoreView};

const TIMEOUT: Duration = Duration::from_secs(2);

/// How long a reading of a health endpoint is reused: under the watcher's 5 s tick, so every
/// tick reads the endpoint again.
pub(crate) const REUSE: Duration = Duration::from_secs(4);

/// A reading of a health endpoint: when, the verdict, what it said.
type Reading = (Instant, StoreHealth, String);

/// The last reading of each health URL.
static LAST: std::sync::LazyLock<Mutex<HashMap<String, Reading>>> =
    std::sync::LazyLock::new(|| Mutex::new(HashMap::new()));

static AGENT: std::sync::LazyLock<ureq::Agent> = std::sync::LazyLock::new(|| {
    ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into()
});

/// The store as the console shows it, its health read from `url` when there is one.
pub(crate) async fn view(store: &Store, url: Option<String>) -> StoreView {
    let (health, health_detail) = match url {
        Some(url) => {
            let recent = LAST.lock().ok().and_then(|m| {
                m.get(&url)
                    .filter(|(at, _, _)| at.elapsed() < REUSE)
                    .map(|(_, h, d)| (*h, d.clone()))
            });
            let (h, d) = match recent {
                Some(r) => r,
                None => {
                    let key = url.clone();
                    let read = tokio::task::spawn_blocking(move || check(&url))
                        .await
                        .unwrap_or((
                            StoreHealth::Unavailable,
                            "the health check did not finish".into(),
                        ));
                    if let Ok(mut m) = LAST.lock() {
                        m.insert(key, (Instant::now(), read.0, read.1.clone()));
                    }
                    read
                }
            };
            (Some(h), Some(d))
        }
        None => (None, None),
    };
    StoreView {
        endpoint: store.endpoint.clone(),
        bucket: store.bucket.clone(),
        prefix: store.prefix.clone(),
        credentials: store.credentials.clone(),
        health,
        health_detail,
    }
}

/// One read of the health endpoint: its verdict and its first line (or why it did not answer).
pub(crate) fn check(url: &str) -> (StoreHealth, String) {
    match AGENT.get(url).call() {
        Ok(mut resp) => {
            let code = resp.status().as_u16();
            let body = resp.body_mut().read_to_string().unwrap_or_default();
            let first = body.lines().next().unwrap_or("").trim().to_owned();
            (
                verdict(code, &body),
                if first.is_empty() {
                    format!("HTTP {code}")
                } else {
                    first
                },
            )
        }
        Err(e) => (
            StoreHealth::Unavailable,
            format!("the health endpoint does not answer: {e}"),
        ),
    }
}

/// 200 is healthy unless the body says a node is unavailable or the store is degraded.
fn verdict(code: u16, body: &str) -> StoreHealth {
    let lower = body.to_lowercase();
    match code {
        200 if lower.contains("unavailable") || lower.contains("degraded") => StoreHealth::Degraded,
        200 => StoreHealth::Healthy,
        _ => StoreHealth::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garage_answers_read_as_health() {
        assert_eq!(
            verdict(200, "Garage is fully operational\nConsult …"),
            StoreHealth::Healthy
        );
        assert_eq!(
            verdict(
                200,
                "Garage is operational but some storage nodes are unavailable"
            ),
            StoreHealth::Degraded
        );
        assert_eq!(
            verdict(503, "Quorum is not available"),
            StoreHealth::Unavailable
        );
    }
}
