//! What needs attention, worst first: down or lagging replicas, an unreachable lake; caches
//! whose last refresh failed (critical), that went stale, were edited, never refreshed or
//! whose state is unknown (warning), and those past their TTL with unchanged sources (info:
//! their data is current).

use skein_core::Profile;
use skein_lake::CacheState;
use skein_pg::{LagLevel, ReplicaState};

use crate::rpc::{Attention, CacheView, LakeSummary, Severity};

/// A duration for a person: `850 ms`, `4.2 s`, `3 min 10 s`.
fn human_ms(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => {
            let s = format!("{:.1}", ms as f64 / 1000.0);
            format!("{} s", s.trim_end_matches(".0"))
        }
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// What needs attention, worst first.
pub(crate) fn attention(
    profile: &Profile,
    lag: Option<&skein_pg::LagSample>,
    lake: &LakeSummary,
    caches: &[CacheView],
) -> Vec<Attention> {
    let mut out = Vec::new();
    if let Some(sample) = lag {
        for n in &sample.nodes {
            let (severity, message) = match (n.state, n.level) {
                (ReplicaState::Down, _) => (
                    Severity::Critical,
                    format!(
                        "down: {}",
                        n.error
                            .as_ref()
                            .map_or("no answer".to_string(), |e| e.message.clone())
                    ),
                ),
                (_, LagLevel::Critical) => (
                    Severity::Critical,
                    format!(
                        "replay lag past critical ({} ≥ {}): out of rotation",
                        human_ms(n.replay_lag_ms.unwrap_or(0)),
                        human_ms(profile.thresholds.lag_critical_ms)
                    ),
                ),
                (ReplicaState::Promoted, _) => (
                    Severity::Critical,
                    "not in recovery: it was promoted and accepts writes".to_string(),
                ),
                (ReplicaState::Disconnected, _) => (
                    Severity::Critical,
                    "not streaming: the primary lists no WAL sender for it".to_string(),
                ),
                (_, LagLevel::Warning) => (
                    Severity::Warning,
                    format!(
                        "replay lag past warning ({} ≥ {})",
                        human_ms(n.replay_lag_ms.unwrap_or(0)),
                        human_ms(profile.thresholds.lag_warning_ms)
                    ),
                ),
                (ReplicaState::Paused, _) => {
                    (Severity::Warning, "WAL replay is paused".to_string())
                }
                (ReplicaState::CatchingUp, _) => (
                    Severity::Warning,
                    "catching up with the primary".to_string(),
                ),
                _ => continue,
            };
            out.push(Attention {
                severity,
                subject: n.name.clone(),
                message,
            });
        }
    }
    if let Some(e) = &lake.error {
        out.push(Attention {
            severity: Severity::Critical,
            subject: "lake".into(),
            message: format!("{}: {}", e.code, e.message),
        });
    }
    for c in caches {
        let name = &c.status.definition.name;
        let item = match (&c.last_outcome, c.status.state) {
            (Some(o), _) if o.result == skein_lake::RefreshResult::Error => Some((
                Severity::Critical,
                format!(
                    "last refresh failed: {}",
                    o.error
                        .as_ref()
                        .map_or(o.message.clone(), |e| format!("{}: {}", e.code, e.message))
                ),
            )),
            (_, CacheState::Stale) => Some((
                Severity::Warning,
                "stale: a monitored table changed since the last refresh; not served until refreshed"
                    .into(),
            )),
            (_, CacheState::Edited) => Some((
                Severity::Warning,
                "edited: the definition changed since the last refresh; the lake holds the old \
                 query's result, not served until refreshed"
                    .into(),
            )),
            (_, CacheState::Expired) => Some((
                Severity::Info,
                "expired: TTL passed · sources unchanged · refreshed data is current (served \
                 again after a refresh)"
                    .into(),
            )),
            (_, CacheState::Empty) => Some((Severity::Warning, "never refreshed".into())),
            (_, CacheState::Unknown) => Some((
                Severity::Warning,
                c.status
                    .state_error
                    .as_ref()
                    .map_or("state unknown".into(), |e| {
                        format!("state unknown: {}", e.message)
                    }),
            )),
            _ => None,
        };
        if let Some((severity, message)) = item {
            out.push(Attention {
                severity,
                subject: format!("cache {name}"),
                message,
            });
        }
    }
    out.sort_by_key(|a| match a.severity {
        Severity::Critical => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::human_ms;

    #[test]
    fn durations_read_in_adaptive_units() {
        assert_eq!(human_ms(850), "850 ms");
        assert_eq!(human_ms(4_200), "4.2 s");
        assert_eq!(human_ms(30_000), "30 s");
        assert_eq!(human_ms(190_000), "3 min 10 s");
    }
}
