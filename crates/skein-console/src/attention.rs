//! What needs attention, worst first: promoted replicas (a second primary), then down,
//! recovering or lagging replicas, stalled WAL receivers and replication slots that retain too
//! much WAL or lost it ([`crate::replication`]), an unreachable lake; caches whose last refresh failed
//! (critical), that went stale, were edited, never refreshed or whose state is unknown
//! (warning), and those past their TTL with unchanged sources (info: their data is current).

use skein_core::Profile;
use skein_lake::CacheState;
use skein_pg::{LagLevel, NodeRole, ReplicaState};
use skein_router::{NodeRouting, RoutingStats};

use crate::rpc::{Attention, CacheView, LakeSummary, Severity};

/// A duration for a person: `850 ms`, `4.2 s`, `3 min 10 s`.
pub(crate) fn human_ms(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => {
            let s = format!("{:.1}", ms as f64 / 1000.0);
            format!("{} s", s.trim_end_matches(".0"))
        }
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// The attention list for a sample and the router's stats of the same tick (the lag sampler
/// emits it once a tick, so its values are those of the newest sample; `overview` answers the
/// same list).
pub(crate) fn for_tick(
    shared: &crate::console::Shared,
    lag: Option<&skein_pg::LagSample>,
    routing: &RoutingStats,
    lake: &LakeSummary,
) -> Vec<Attention> {
    let caches = shared
        .caches
        .lock()
        .map(|b| b.views.clone())
        .unwrap_or_default();
    let history = shared.history.read().ok();
    let promoted_since = |name: &str| {
        history
            .as_ref()
            .and_then(|h| h.state_since(name, ReplicaState::Promoted))
    };
    let replication = shared
        .replication
        .lock()
        .ok()
        .and_then(|b| b.latest.clone());
    let facts = NodeFacts {
        lag,
        routing: Some(routing),
        promoted_since: &promoted_since,
        replication: replication.as_ref(),
    };
    let mut items = attention(&shared.profile, &facts, lake, &caches);
    // An active alert needs attention too, unless an item already says so of its subject.
    let active = shared.alerts.lock().map(|b| b.active()).unwrap_or_default();
    for a in active.into_iter().rev() {
        if items.iter().any(|i| i.subject == a.subject) {
            continue;
        }
        items.push(Attention {
            severity: a.severity,
            subject: a.subject,
            message: format!(
                "alert {}{}: {}",
                a.rule.name(),
                if a.acknowledged_at_ms.is_some() {
                    " (acknowledged)"
                } else {
                    ""
                },
                a.message
            ),
        });
    }
    let rank = |s: Severity| match s {
        Severity::Critical => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    };
    items.sort_by_key(|i| rank(i.severity));
    items
}

/// What the replica part of the attention list reads: the newest sample, the router's
/// rotation at the same tick, and when each node's current promoted run began.
pub(crate) struct NodeFacts<'a> {
    /// The newest lag sample.
    pub(crate) lag: Option<&'a skein_pg::LagSample>,
    /// The router's stats computed with that sample.
    pub(crate) routing: Option<&'a RoutingStats>,
    /// Per node: when the console first saw it out of recovery (start of its current
    /// `Promoted` run in the kept history), ms since the Unix epoch.
    pub(crate) promoted_since: &'a dyn Fn(&str) -> Option<u64>,
    /// The newest replication reading (stalled receivers, slots), when there is one.
    pub(crate) replication: Option<&'a skein_pg::ReplicationReading>,
}

/// `HH:MM:SS UTC` of an instant in ms since the Unix epoch.
pub(crate) fn utc_clock(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map_or_else(|| "?".into(), |t| t.format("%H:%M:%S UTC").to_string())
}

/// A replica's standing in the rotation, in the words every view uses (the UI's
/// `rotationWords` in `ui/src/lib/status.ts` says the same): `in rotation`, `out of
/// rotation`, or `recovering · back in rotation in 23 s` (the seconds rounded up).
pub(crate) fn rotation_words(n: &NodeRouting) -> String {
    match (n.in_rotation, n.recovering_ms) {
        (true, _) => "in rotation".into(),
        (false, Some(ms)) => format!("recovering · back in rotation in {} s", ms.div_ceil(1000)),
        (false, None) => "out of rotation".into(),
    }
}

/// `"WAL replay is paused · "` for a paused replica, so a lag item says why the lag grows.
fn paused_prefix(state: ReplicaState) -> &'static str {
    if state == ReplicaState::Paused {
        "WAL replay is paused · "
    } else {
        ""
    }
}

/// The replica items, worst first: promoted replicas before anything else, then every
/// replica out of rotation at once, then the rest in profile order.
fn node_items(profile: &Profile, facts: &NodeFacts<'_>) -> Vec<Attention> {
    let mut first = Vec::new();
    let mut out = Vec::new();
    let rotation = |name: &str| {
        facts
            .routing
            .and_then(|r| r.nodes.iter().find(|n| n.name == name))
    };
    let primary_tli = facts
        .lag
        .and_then(|s| s.nodes.iter().find(|n| n.role == NodeRole::Primary))
        .and_then(|p| p.timeline_id);
    if let Some(sample) = facts.lag {
        for n in &sample.nodes {
            let routing = rotation(&n.name);
            let rot = routing.map(rotation_words);
            let lag = |ms: Option<u64>| human_ms(ms.unwrap_or(0));
            if n.state == ReplicaState::Promoted {
                let since = (facts.promoted_since)(&n.name).unwrap_or(sample.taken_at_ms);
                let timeline = match (n.timeline_id, primary_tli) {
                    (Some(t), Some(p)) => format!(" · timeline {t}, the primary's {p}"),
                    (Some(t), None) => format!(" · timeline {t}"),
                    _ => String::new(),
                };
                let standing = match routing {
                    Some(r) if r.in_rotation => "it is still in rotation: reads may go to it",
                    _ => "it is out of rotation",
                };
                first.push(Attention {
                    severity: Severity::Critical,
                    subject: n.name.clone(),
                    message: format!(
                        "{} was promoted (out of recovery since {}, when this console first saw \
                         it): it accepts writes; {standing}{timeline}",
                        n.name,
                        utc_clock(since)
                    ),
                });
                continue;
            }
            let recovering = routing.filter(|r| !r.in_rotation && r.recovering_ms.is_some());
            let other_timeline = n.timeline_id.zip(primary_tli).is_some_and(|(a, b)| a != b);
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
                _ if other_timeline => (
                    Severity::Critical,
                    n.error.as_ref().map_or_else(
                        || "on another timeline than the primary".to_string(),
                        |e| e.message.clone(),
                    ),
                ),
                _ if recovering.is_some() => (
                    Severity::Warning,
                    format!(
                        "{} · replay lag {}",
                        rot.clone().unwrap_or_default(),
                        lag(n.replay_lag_ms)
                    ),
                ),
                (_, LagLevel::Critical) => (
                    Severity::Critical,
                    format!(
                        "{}replay lag past critical ({} ≥ {}): {}",
                        paused_prefix(n.state),
                        lag(n.replay_lag_ms),
                        human_ms(profile.thresholds.lag_critical_ms),
                        rot.clone().unwrap_or_else(|| "out of rotation".into())
                    ),
                ),
                (ReplicaState::Disconnected, _) => (
                    Severity::Critical,
                    "not streaming: the primary lists no WAL sender for it".to_string(),
                ),
                _ if routing.is_some_and(|r| r.role == NodeRole::Replica && !r.in_rotation) => (
                    Severity::Critical,
                    format!(
                        "out of rotation: {}",
                        routing
                            .and_then(|r| r.reason.clone())
                            .unwrap_or_else(|| "the router took it out".into())
                    ),
                ),
                (_, LagLevel::Warning) => (
                    Severity::Warning,
                    format!(
                        "{}replay lag past warning ({} ≥ {}){}",
                        paused_prefix(n.state),
                        lag(n.replay_lag_ms),
                        human_ms(profile.thresholds.lag_warning_ms),
                        routing.map_or(String::new(), |r| format!(
                            ": weight {} → {}",
                            r.configured_weight, r.weight
                        ))
                    ),
                ),
                (ReplicaState::Paused, _) => (
                    Severity::Warning,
                    format!("WAL replay is paused · replay lag {}", lag(n.replay_lag_ms)),
                ),
                (ReplicaState::CatchingUp, _) => (
                    Severity::Warning,
                    format!(
                        "catching up with the primary · replay lag {}",
                        lag(n.replay_lag_ms)
                    ),
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
    if facts.routing.is_some_and(|r| r.all_out) {
        first.push(Attention {
            severity: Severity::Critical,
            subject: "routing".into(),
            message: "every replica is out of rotation: reads go to the primary".into(),
        });
    }
    first.extend(out);
    if let Some(r) = facts.replication {
        first.extend(crate::replication::attention(
            &profile.thresholds,
            &profile.alerts,
            r,
        ));
    }
    first
}

/// What needs attention, worst first (a stable sort: critical before warning, each in the
/// order pushed, so promoted replicas come first of all).
pub(crate) fn attention(
    profile: &Profile,
    nodes: &NodeFacts<'_>,
    lake: &LakeSummary,
    caches: &[CacheView],
) -> Vec<Attention> {
    let mut out = node_items(profile, nodes);
    if let Some(e) = &lake.error {
        out.push(Attention {
            severity: Severity::Critical,
            subject: "lake".into(),
            message: format!("{}: {}", e.code, e.message),
        });
    }
    if let Some(st) = &lake.store {
        let said = st.health_detail.clone().unwrap_or_default();
        let item = match st.health {
            Some(crate::rpc::StoreHealth::Degraded) => Some((
                Severity::Warning,
                format!("the object store at {} is degraded (reads and writes go on while a quorum answers): {said}", st.endpoint),
            )),
            Some(crate::rpc::StoreHealth::Unavailable) => Some((
                Severity::Critical,
                format!("the object store at {} is unavailable: {said}", st.endpoint),
            )),
            _ => None,
        };
        if let Some((severity, message)) = item {
            out.push(Attention {
                severity,
                subject: "store".into(),
                message,
            });
        }
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
            (_, CacheState::Restored) => Some((
                Severity::Info,
                format!(
                    "restored to snapshot {} by hand: the lake holds that snapshot's data, not \
                     the source's; not served until the next refresh",
                    c.status
                        .last_refresh
                        .as_ref()
                        .and_then(|r| r.restored_from)
                        .map_or("?".into(), |v| v.to_string())
                ),
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
    use super::*;
    use skein_core::{ErrorCode, ErrorInfo};
    use skein_pg::{LagSample, NodeStatus};

    fn status(name: &str, role: NodeRole, state: ReplicaState, tli: u32) -> NodeStatus {
        NodeStatus {
            name: name.into(),
            role,
            reachable: state != ReplicaState::Down,
            state,
            lag_bytes: None,
            replay_lag_ms: None,
            write_lag_ms: None,
            flush_lag_ms: None,
            upstream: None,
            upstream_lag_bytes: None,
            upstream_replay_lag_ms: None,
            lsn: None,
            receive_lsn: None,
            last_replay_at: None,
            timeline_id: (state != ReplicaState::Down).then_some(tli),
            tls: None,
            level: match state {
                ReplicaState::Primary => LagLevel::Ok,
                _ => LagLevel::Critical,
            },
            error: (state == ReplicaState::Down).then(|| ErrorInfo {
                code: ErrorCode::Timeout,
                message: "no answer within 2 s".into(),
            }),
        }
    }

    /// A profile of a primary and replicas r1 and r2 (default thresholds: 5 s, 30 s).
    fn two_replicas() -> Profile {
        Profile::parse(
            "name = \"t\"\n[primary]\nurl = \"host=h dbname=d\"\n\
             [[replicas]]\nname = \"r1\"\nurl = \"host=h dbname=d\"\n\
             [[replicas]]\nname = \"r2\"\nurl = \"host=h dbname=d\"\n\
             [lake]\ncatalog = \"host=h dbname=l\"\ndata_path = \"/tmp/l\"\n",
            std::path::Path::new("t.toml"),
        )
        .expect("profile")
    }

    #[test]
    fn a_promoted_replica_comes_before_every_other_item() {
        let profile = two_replicas();
        let sample = LagSample {
            taken_at_ms: 1_795_000_000_000,
            nodes: vec![
                status("primary", NodeRole::Primary, ReplicaState::Primary, 1),
                status("r1", NodeRole::Replica, ReplicaState::Down, 1),
                status("r2", NodeRole::Replica, ReplicaState::Promoted, 2),
            ],
        };
        let since = |name: &str| (name == "r2").then_some(1_794_999_990_000);
        let facts = NodeFacts {
            lag: Some(&sample),
            routing: None,
            promoted_since: &since,
            replication: None,
        };
        let lake = LakeSummary {
            reachable: false,
            snapshots: None,
            current_snapshot: None,
            error: Some(ErrorInfo {
                code: ErrorCode::ConnectionRefused,
                message: "catalog down".into(),
            }),
            ..Default::default()
        };
        let items = attention(&profile, &facts, &lake, &[]);
        let subjects: Vec<&str> = items.iter().map(|a| a.subject.as_str()).collect();
        assert_eq!(subjects, ["r2", "r1", "lake"]);
        assert_eq!(
            items[0].message,
            "r2 was promoted (out of recovery since 11:06:30 UTC, when this console first saw \
             it): it accepts writes; it is out of rotation · timeline 2, the primary's 1"
        );
        assert!(items.iter().all(|a| a.severity == Severity::Critical));
    }

    #[test]
    fn a_paused_replica_past_a_threshold_says_it_is_paused() {
        let profile = two_replicas();
        let mut paused = status("r1", NodeRole::Replica, ReplicaState::Paused, 1);
        paused.replay_lag_ms = Some(34_700);
        let mut streaming = status("r2", NodeRole::Replica, ReplicaState::Streaming, 1);
        streaming.replay_lag_ms = Some(31_000);
        let sample = LagSample {
            taken_at_ms: 1_795_000_000_000,
            nodes: vec![
                status("primary", NodeRole::Primary, ReplicaState::Primary, 1),
                paused,
                streaming,
            ],
        };
        let since = |_: &str| None;
        let facts = NodeFacts {
            lag: Some(&sample),
            routing: None,
            promoted_since: &since,
            replication: None,
        };
        let lake = LakeSummary {
            reachable: true,
            snapshots: Some(1),
            current_snapshot: Some(1),
            error: None,
            ..Default::default()
        };
        let items = attention(&profile, &facts, &lake, &[]);
        let text = |who: &str| {
            items
                .iter()
                .find(|a| a.subject == who)
                .map(|a| a.message.clone())
                .expect(who)
        };
        assert_eq!(
            text("r1"),
            "WAL replay is paused · replay lag past critical (34.7 s ≥ 30 s): out of rotation"
        );
        assert_eq!(
            text("r2"),
            "replay lag past critical (31 s ≥ 30 s): out of rotation"
        );
    }

    #[test]
    fn durations_read_in_adaptive_units() {
        assert_eq!(human_ms(850), "850 ms");
        assert_eq!(human_ms(4_200), "4.2 s");
        assert_eq!(human_ms(30_000), "30 s");
        assert_eq!(human_ms(190_000), "3 min 10 s");
    }
}
