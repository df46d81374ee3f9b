//! `skein route explain SQL [--session HINT] [--json]`: where the router would send a
//! statement and why. With a profile, the answer comes from a [`skein_router::Router`] on it:
//! user functions marked volatile in the primary's `pg_proc` count as writes, replicas out of
//! rotation (one lag sample) are left out, the `[router]` rules apply and `--session` gives
//! the session's affinity, and a read that a fresh cache holds is shown going to the lake
//! (every cache's state is computed now: its definition as the lake holds it, and a
//! fingerprint of its monitored tables on the primary; the reason says when it was checked).
//! A cache that holds the read but is edited, stale, expired or empty is named and not used.
//! Without a profile, only the statement is classified (no node).

use clap::Subcommand;
use serde::Serialize;
use skein_router::{classify, Functions, Router, Session, Target};

use crate::output;

#[derive(Subcommand)]
pub enum RouteCommand {
    /// Where a statement goes: primary or replica, the node, the rule that decided, and why.
    Explain {
        /// The SQL statement.
        sql: String,
        /// A session hint (a user or tenant id): the same hint lands on the same replica.
        #[arg(long)]
        session: Option<String>,
        /// Print `{ "target", "node", "rule", "reason", "needs_lsn", "caches" }`.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct Explained {
    /// `primary`, `replica` or `cache`.
    target: String,
    node: Option<String>,
    rule: String,
    reason: String,
    needs_lsn: Option<String>,
    caches: Vec<String>,
}

async fn explain(
    profile: Option<&skein_core::Profile>,
    sql: &str,
    session: Option<&str>,
) -> anyhow::Result<Explained> {
    let Some(profile) = profile else {
        let c = classify(sql, &Functions::default());
        return Ok(Explained {
            target: output::enum_name(&c.target),
            node: c.replica,
            rule: c.rule.into(),
            reason: format!(
                "{} (no profile: the statement alone was classified)",
                c.reason
            ),
            needs_lsn: None,
            caches: Vec::new(),
        });
    };
    let router = Router::connect(profile).await?;
    let live = Session::new(session)
        .scope(async { router.explain(sql) })
        .await;
    let route = if live.target == Target::Replica {
        // Only a read may be served by a cache; the lake is opened only then.
        match cache_statuses(profile).await {
            Ok(statuses) => skein_console::workbench::explain_with_caches(
                &router,
                sql,
                live,
                &statuses,
                &profile.lake.name,
            ),
            Err(e) => {
                let mut r: skein_console::rpc::QueryRoute = live.into();
                r.reason = format!("{}; caches not checked: {e}", r.reason);
                r
            }
        }
    } else {
        live.into()
    };
    Ok(Explained {
        target: output::enum_name(&route.target),
        node: Some(route.node),
        rule: route.rule,
        reason: route.reason,
        needs_lsn: route.needs_lsn.map(|l| l.to_string()),
        caches: route.caches,
    })
}

/// Every cache's status, computed now (a fingerprint of its monitored tables on the primary).
async fn cache_statuses(
    profile: &skein_core::Profile,
) -> anyhow::Result<Vec<skein_lake::CacheStatus>> {
    let lake = skein_lake::Lake::open(profile).await?;
    let cluster = skein_pg::Cluster::from_profile(profile)?;
    Ok(lake.cache_statuses(&cluster).await?)
}

pub async fn run(profile: Option<&skein_core::Profile>, cmd: RouteCommand) -> anyhow::Result<()> {
    match cmd {
        RouteCommand::Explain { sql, session, json } => {
            let e = explain(profile, &sql, session.as_deref()).await?;
            if json {
                return output::json(&e);
            }
            output::line(&format!(
                "{}{} ({}): {}",
                e.target,
                e.node
                    .as_deref()
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default(),
                e.rule,
                e.reason
            ));
            Ok(())
        }
    }
}
