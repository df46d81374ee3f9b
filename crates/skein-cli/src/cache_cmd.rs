//! `skein cache create | list | refresh` and the sandbox's demo caches.

use std::path::Path;

use clap::Subcommand;
use skein_core::Profile;
use skein_lake::{CacheState, Lake, RefreshResult};
use skein_pg::Cluster;

use skein_core::ErrorCode;

use crate::failure::{fail, Failure};
use crate::output;

#[derive(Subcommand)]
pub enum CacheCommand {
    /// Define a cache: a source query materialised into a lake table of the same name.
    Create {
        /// Cache name (letters, digits, '_'); also the lake table's name.
        name: String,
        /// Source query, in PostgreSQL's SQL.
        #[arg(long)]
        query: String,
        /// Source tables whose changes make the cache stale (one or more).
        #[arg(long, num_args = 1.., required = true)]
        monitor: Vec<String>,
        /// Time to live in seconds: past it a refresh rewrites the cache regardless.
        #[arg(long)]
        ttl: Option<u64>,
        /// Columns of the result that identify a row (comma-separated), for snapshot diffs.
        /// Without it the key is proposed from the query's GROUP BY or the source table's
        /// primary key when the query keeps it.
        #[arg(long, value_delimiter = ',', conflicts_with = "no_key")]
        key: Vec<String>,
        /// Declare no key: diffs of the cache compare whole rows.
        #[arg(long)]
        no_key: bool,
        /// Print the definition as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List caches with their last refresh and state (empty, fresh, edited, stale, expired,
    /// unknown), then what each state shown means.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Refresh a cache: SKIPPED when its sources are unchanged within its TTL, else REFRESHED.
    Refresh {
        /// Cache name.
        name: String,
        /// Rewrite the cache even when its sources are unchanged.
        #[arg(long)]
        force: bool,
        /// Print `{ "result", "message", "rows", "duration_ms", "snapshot_id", … }`.
        #[arg(long)]
        json: bool,
    },
    /// Refresh several caches (all when none is named) from one PostgreSQL snapshot, in one
    /// lake commit that records the source's LSN: a consistent snapshot of the caches.
    Snapshot {
        /// Cache names; all caches when none.
        names: Vec<String>,
        /// Print `{ "caches": [{ "name", "rows" }…], "snapshot_id", "lsn", "served_by", "duration_ms" }`.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(profile: &Profile, cmd: CacheCommand) -> anyhow::Result<()> {
    let cluster = Cluster::from_profile(profile)?;
    let lake = Lake::open(profile).await?;
    match cmd {
        CacheCommand::Create {
            name,
            query,
            monitor,
            ttl,
            key,
            no_key,
            json,
        } => {
            let (key, proposed) = if no_key || !key.is_empty() {
                (key, None)
            } else {
                match skein_lake::suggest_key(&cluster, &query).await? {
                    Some(s) => (s.key, Some(s.source)),
                    None => (Vec::new(), None),
                }
            };
            let spec = skein_lake::CacheSpec {
                name,
                query,
                monitor,
                ttl_seconds: ttl,
                key,
            };
            let def = lake.define_cache(&cluster, &spec).await?;
            if json {
                output::json(&def)
            } else {
                let key = match (&proposed, def.key.is_empty()) {
                    (_, true) => "no key: its diffs compare whole rows".to_owned(),
                    (Some(source), false) => {
                        format!("key ({}) from {source}", def.key.join(", "))
                    }
                    (None, false) => format!("key ({})", def.key.join(", ")),
                };
                output::line(&format!(
                    "cache {} created, {key}; fill it with `skein cache refresh {}`",
                    def.name, def.name
                ));
                Ok(())
            }
        }
        CacheCommand::List { json } => {
            let caches = lake.cache_statuses(&cluster).await?;
            if json {
                return output::json(&caches);
            }
            let rows: Vec<Vec<String>> = caches
                .iter()
                .map(|c| {
                    let r = c.last_refresh.as_ref();
                    vec![
                        c.definition.name.clone(),
                        output::enum_name(&c.state),
                        c.definition.monitor.join(","),
                        c.definition
                            .ttl_seconds
                            .map(|t| format!("{t}s"))
                            .unwrap_or_else(|| "-".into()),
                        r.map(|r| r.rows.to_string()).unwrap_or_else(|| "-".into()),
                        c.age_ms.map(output::duration).unwrap_or_else(|| "-".into()),
                        r.map(|r| format!("{} ms", r.duration_ms))
                            .unwrap_or_else(|| "-".into()),
                        r.map(|r| r.served_by.clone()).unwrap_or_else(|| "-".into()),
                        r.and_then(|r| r.snapshot_id)
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            output::table(
                &[
                    "NAME",
                    "STATE",
                    "MONITORS",
                    "TTL",
                    "ROWS",
                    "AGE",
                    "DURATION",
                    "SERVED_BY",
                    "SNAPSHOT",
                ],
                &rows,
            );
            for c in caches.iter().filter(|c| c.state == CacheState::Unknown) {
                if let Some(e) = &c.state_error {
                    output::line(&format!(
                        "{}: state unknown: {}",
                        c.definition.name, e.message
                    ));
                }
            }
            let shown: Vec<CacheState> = CacheState::ALL
                .into_iter()
                .filter(|s| caches.iter().any(|c| c.state == *s))
                .collect();
            if !shown.is_empty() {
                output::line("");
                for s in shown {
                    output::line(&format!("{:<8} {}", s.word(), s.meaning()));
                }
            }
            Ok(())
        }
        CacheCommand::Snapshot { names, json } => {
            let s = lake.snapshot_caches(&cluster, &names).await?;
            if json {
                return output::json(&s);
            }
            output::line(&format!(
                "snapshot {}: {} at {} from {} ({} ms)",
                s.snapshot_id.map_or("?".into(), |i| i.to_string()),
                s.caches
                    .iter()
                    .map(|c| format!("{} ({} rows)", c.name, c.rows))
                    .collect::<Vec<_>>()
                    .join(", "),
                s.lsn,
                s.served_by,
                s.duration_ms
            ));
            Ok(())
        }
        CacheCommand::Refresh { name, force, json } => {
            let outcome = lake.refresh_cache(&cluster, &name, force).await?;
            if json {
                output::json(&outcome)?;
            } else {
                output::line(&format!(
                    "{} {}: {} ({} ms{})",
                    output::enum_name(&outcome.result),
                    outcome.cache,
                    outcome.message,
                    outcome.duration_ms,
                    outcome
                        .snapshot_id
                        .map(|s| format!(", snapshot {s}"))
                        .unwrap_or_default()
                ));
            }
            match (outcome.result, outcome.error) {
                // The answer says it already; the exit status is that of the error's code.
                (RefreshResult::Error, error) => Err(Failure {
                    code: error.as_ref().map_or(ErrorCode::Internal, |e| e.code),
                    message: format!(
                        "refreshing cache {}: {}",
                        outcome.cache,
                        error.map_or(outcome.message, |e| e.message)
                    ),
                    status: None,
                    shown: true,
                }
                .into()),
                _ => Ok(()),
            }
        }
    }
}

/// Defines the sandbox's demo caches and refreshes each once, so the lake has a history.
pub async fn define_demo_caches(profile_path: &Path) -> anyhow::Result<()> {
    let profile = Profile::load(profile_path)?;
    let cluster = Cluster::from_profile(&profile)?;
    let lake = Lake::open(&profile).await?;
    for demo in skein_sandbox::DEMO_CACHES {
        let monitor: Vec<String> = demo.monitor.iter().map(|s| s.to_string()).collect();
        let key = skein_lake::suggest_key(&cluster, demo.query)
            .await?
            .map(|s| s.key)
            .unwrap_or_default();
        let spec = skein_lake::CacheSpec {
            name: demo.name.to_owned(),
            query: demo.query.to_owned(),
            monitor,
            ttl_seconds: Some(demo.ttl_seconds),
            key,
        };
        lake.define_cache(&cluster, &spec).await?;
        let outcome = lake.refresh_cache(&cluster, demo.name, false).await?;
        if let Some(e) = outcome.error {
            return Err(fail(
                e.code,
                format!("refreshing demo cache {}: {}", demo.name, e.message),
            ));
        }
        eprintln!(
            "demo cache {}: {} rows in {} ms from {}",
            demo.name,
            outcome.rows.unwrap_or(0),
            outcome.duration_ms,
            outcome.served_by.unwrap_or_default()
        );
    }
    Ok(())
}
