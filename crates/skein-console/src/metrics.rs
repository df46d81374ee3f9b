//! The console's numbers for Prometheus: [`Console::metrics`] encodes, with the Prometheus
//! project's client (`prometheus-client`, OpenMetrics text), the same readings the UI shows —
//! the sampler's newest lag sample and replication reading, the caches' board, the router's
//! counters and the active alerts — so a dashboard and the console never disagree.
//!
//! | Metric | Labels | Source |
//! |---|---|---|
//! | `skein_node_up` | node, role | the lag sample: 1 answering, 0 not |
//! | `skein_replica_state` | node, state | 1 for the node's state (streaming, paused, promoted, …) |
//! | `skein_replay_lag_seconds` | node | true replay lag (0 when caught up) |
//! | `skein_write_lag_seconds`, `skein_flush_lag_seconds` | node | `pg_stat_replication` |
//! | `skein_lag_bytes` | node | primary's `pg_current_wal_lsn()` − replay LSN |
//! | `skein_timeline` | node | the node's timeline |
//! | `skein_slot_retained_bytes` | node, slot, slot_type, active | current LSN − `restart_lsn` |
//! | `skein_slot_safe_wal_size_bytes` | node, slot | `pg_replication_slots.safe_wal_size` |
//! | `skein_recovery_conflicts_total` | node, cause | `pg_stat_database_conflicts`, summed |
//! | `skein_recovery_conflicts_per_minute` | node | over the last minute |
//! | `skein_backend_xmin_age` | node, application_name | `age(backend_xmin)` of a WAL sender |
//! | `skein_cache_state` | cache, state | 1 for the cache's state |
//! | `skein_cache_age_seconds` | cache | now − last refresh |
//! | `skein_cache_rows` | cache | rows of the last refresh that wrote data |
//! | `skein_cache_refresh_duration_seconds` | cache | wall time of that refresh |
//! | `skein_cache_last_result` | cache, result | 1 for this console's last refresh result |
//! | `skein_router_reads_total`, `_writes_total`, `_retried_total` | node | the router's counters |
//! | `skein_router_weight`, `skein_router_in_rotation` | node | rotation |
//! | `skein_router_fallbacks_total`, `skein_router_cache_reads_total` | | the router's counters |
//! | `skein_alerts_active` | rule, severity | active alerts |
//! | `skein_sample_timestamp_seconds` | | when the lag sample was taken |
//!
//! A value that is unknown (a node down, a view the role may not read) is left out, never 0.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::console::Console;

type Labels = Vec<(String, String)>;
type G = Family<Labels, Gauge<f64, AtomicU64>>;
type C = Family<Labels, Counter<f64, AtomicU64>>;

/// The content type of [`Console::metrics`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

struct Reg(Registry);

impl Reg {
    fn gauge(&mut self, name: &str, help: &str) -> G {
        let g = G::default();
        self.0.register(name, help, g.clone());
        g
    }
    fn counter(&mut self, name: &str, help: &str) -> C {
        let c = C::default();
        self.0.register(name, help, c.clone());
        c
    }
}

fn l(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn name_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Console {
    /// Every metric in the OpenMetrics text format ([`CONTENT_TYPE`]; see the module header).
    pub fn metrics(&self) -> String {
        let mut r = Reg(Registry::default());
        let s = &self.shared;
        let sample = s.history.read().ok().and_then(|h| h.latest().cloned());
        let up = r.gauge("skein_node_up", "1 when the node answered the last sample");
        let state = r.gauge("skein_replica_state", "1 for the node's current state");
        let replay = r.gauge(
            "skein_replay_lag_seconds",
            "True replay lag (0 when caught up)",
        );
        let write = r.gauge("skein_write_lag_seconds", "pg_stat_replication.write_lag");
        let flush = r.gauge("skein_flush_lag_seconds", "pg_stat_replication.flush_lag");
        let bytes = r.gauge("skein_lag_bytes", "WAL behind the primary, bytes");
        let tli = r.gauge("skein_timeline", "The node's timeline");
        let taken = r.gauge(
            "skein_sample_timestamp_seconds",
            "When the last lag sample was taken, Unix time",
        );
        if let Some(sample) = &sample {
            taken
                .get_or_create(&Vec::new())
                .set(sample.taken_at_ms as f64 / 1000.0);
            for n in &sample.nodes {
                let node = n.name.as_str();
                up.get_or_create(&l(&[("node", node), ("role", &name_of(&n.role))]))
                    .set(f64::from(u8::from(n.reachable)));
                state
                    .get_or_create(&l(&[("node", node), ("state", &name_of(&n.state))]))
                    .set(1.0);
                let secs = |ms: Option<u64>| ms.map(|v| v as f64 / 1000.0);
                for (g, v) in [
                    (&replay, secs(n.replay_lag_ms)),
                    (&write, secs(n.write_lag_ms)),
                    (&flush, secs(n.flush_lag_ms)),
                    (&bytes, n.lag_bytes.map(|b| b as f64)),
                    (&tli, n.timeline_id.map(f64::from)),
                ] {
                    if let Some(v) = v {
                        g.get_or_create(&l(&[("node", node)])).set(v);
                    }
                }
            }
        }

        let retained = r.gauge(
            "skein_slot_retained_bytes",
            "WAL a replication slot retains: current LSN - restart_lsn",
        );
        let safe = r.gauge(
            "skein_slot_safe_wal_size_bytes",
            "pg_replication_slots.safe_wal_size: headroom before max_slot_wal_keep_size",
        );
        let conflicts = r.counter(
            "skein_recovery_conflicts",
            "Queries cancelled by recovery (pg_stat_database_conflicts), by cause",
        );
        let rate = r.gauge(
            "skein_recovery_conflicts_per_minute",
            "Recovery conflicts a minute over the last minute",
        );
        let xmin = r.gauge(
            "skein_backend_xmin_age",
            "age(backend_xmin) of a WAL sender: the xmin a replica holds back, transactions",
        );
        let replication = s.replication.lock().ok().and_then(|b| b.latest.clone());
        for n in replication.iter().flat_map(|r| &r.nodes) {
            let node = n.name.as_str();
            for slot in &n.slots {
                if let Some(b) = slot.retained_bytes {
                    retained
                        .get_or_create(&l(&[
                            ("node", node),
                            ("slot", &slot.name),
                            ("slot_type", &slot.slot_type),
                            ("active", if slot.active { "true" } else { "false" }),
                        ]))
                        .set(b as f64);
                }
                if let Some(left) = slot.safe_wal_size {
                    safe.get_or_create(&l(&[("node", node), ("slot", &slot.name)]))
                        .set(left as f64);
                }
            }
            if let Some(c) = n.conflicts {
                for (cause, v) in [
                    ("snapshot", c.snapshot),
                    ("lock", c.lock),
                    ("bufferpin", c.bufferpin),
                    ("deadlock", c.deadlock),
                    ("tablespace", c.tablespace),
                ] {
                    conflicts
                        .get_or_create(&l(&[("node", node), ("cause", cause)]))
                        .inc_by(v.max(0) as f64);
                }
                if let Some(p) = c.per_minute {
                    rate.get_or_create(&l(&[("node", node)])).set(p);
                }
            }
            for sender in &n.senders {
                if let Some(age) = sender.backend_xmin_age {
                    xmin.get_or_create(&l(&[
                        ("node", node),
                        ("application_name", &sender.application_name),
                    ]))
                    .set(age as f64);
                }
            }
        }

        let cache_state = r.gauge("skein_cache_state", "1 for the cache's current state");
        let cache_age = r.gauge("skein_cache_age_seconds", "Age of the cache's data");
        let cache_rows = r.gauge(
            "skein_cache_rows",
            "Rows of the last refresh that wrote data",
        );
        let cache_duration = r.gauge(
            "skein_cache_refresh_duration_seconds",
            "Wall time of the last refresh that wrote data",
        );
        let cache_result = r.gauge(
            "skein_cache_last_result",
            "1 for this console's last refresh result (skipped, refreshed, error)",
        );
        for v in self.caches_now() {
            let cache = v.status.definition.name.as_str();
            cache_state
                .get_or_create(&l(&[
                    ("cache", cache),
                    ("state", &name_of(&v.status.state)),
                ]))
                .set(1.0);
            if let Some(age) = v.status.age_ms {
                cache_age
                    .get_or_create(&l(&[("cache", cache)]))
                    .set(age as f64 / 1000.0);
            }
            if let Some(last) = &v.status.last_refresh {
                cache_rows
                    .get_or_create(&l(&[("cache", cache)]))
                    .set(last.rows as f64);
                cache_duration
                    .get_or_create(&l(&[("cache", cache)]))
                    .set(last.duration_ms as f64 / 1000.0);
            }
            if let Some(o) = &v.last_outcome {
                cache_result
                    .get_or_create(&l(&[
                        ("cache", cache),
                        ("result", &name_of(&o.result).to_lowercase()),
                    ]))
                    .set(1.0);
            }
        }

        let stats = s.router.stats();
        let reads = r.counter("skein_router_reads", "Reads the router sent to the node");
        let writes = r.counter(
            "skein_router_writes",
            "Statements that had to run on the primary, by node",
        );
        let retried = r.counter(
            "skein_router_retried",
            "Reads that failed on the node and were retried on the primary",
        );
        let weight = r.gauge("skein_router_weight", "Effective weight in rotation");
        let rotation = r.gauge(
            "skein_router_in_rotation",
            "1 when reads may go to the node",
        );
        for n in &stats.nodes {
            let labels = l(&[("node", &n.name)]);
            reads.get_or_create(&labels).inc_by(n.reads as f64);
            writes.get_or_create(&labels).inc_by(n.writes as f64);
            retried.get_or_create(&labels).inc_by(n.retried as f64);
            weight.get_or_create(&labels).set(n.weight);
            rotation
                .get_or_create(&labels)
                .set(f64::from(u8::from(n.in_rotation)));
        }
        r.counter(
            "skein_router_fallbacks",
            "Reads sent to the primary because no replica qualified",
        )
        .get_or_create(&Vec::new())
        .inc_by(stats.fallbacks as f64);
        r.counter(
            "skein_router_cache_reads",
            "Reads served from the lake by fresh caches",
        )
        .get_or_create(&Vec::new())
        .inc_by(stats.cache_reads as f64);

        let alerts = r.gauge("skein_alerts_active", "Active alerts by rule and severity");
        for a in self.alerts().active {
            alerts
                .get_or_create(&l(&[
                    ("rule", a.rule.name()),
                    ("severity", &name_of(&a.severity)),
                ]))
                .inc();
        }

        let mut out = String::new();
        if let Err(e) = encode(&mut out, &r.0) {
            tracing::warn!("encoding the metrics failed: {e}");
        }
        out
    }
}
