//! `skein route explain SQL [--session HINT] [--json]`: where the router would send a
//! statement and why. With a profile, the answer comes from a [`skein_router::Router`] on it:
//! user functions marked volatile in the primary's `pg_proc` count as writes, replicas out of
//! rotation (one lag sample) are left out, the `[router]` rules apply and `--session` gives
//! the session's affinity. Without a profile, only the statement is classified (no node).

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
        /// Print `{ "target", "node", "rule", "reason", "needs_lsn" }`.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct Explained {
    target: Target,
    node: Option<String>,
    rule: String,
    reason: String,
    needs_lsn: Option<String>,
}

async fn explain(
    profile: Option<&skein_core::Profile>,
    sql: &str,
    session: Option<&str>,
) -> anyhow::Result<Explained> {
    let Some(profile) = profile else {
        let c = classify(sql, &Functions::default());
        return Ok(Explained {
            target: c.target,
            node: c.replica,
            rule: c.rule.into(),
            reason: format!(
                "{} (no profile: the statement alone was classified)",
                c.reason
            ),
            needs_lsn: None,
        });
    };
    let router = Router::connect(profile).await?;
    let route = Session::new(session)
        .scope(async { router.explain(sql) })
        .await;
    Ok(Explained {
        target: route.target,
        node: Some(route.node),
        rule: route.rule,
        reason: route.reason,
        needs_lsn: route.needs_lsn.map(|l| l.to_string()),
    })
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
                output::enum_name(&e.target),
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
