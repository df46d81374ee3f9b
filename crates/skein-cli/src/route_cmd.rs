//! `skein route explain SQL [--json]`: where the router would send a statement and why
//! ([`skein_router::classify`]). With a profile whose primary answers, user functions marked
//! volatile in `pg_proc` count as writes; without one, only built-in functions are known.

use clap::Subcommand;
use skein_router::{classify, Functions};

use crate::output;

#[derive(Subcommand)]
pub enum RouteCommand {
    /// Classify a statement: primary or replica, the rule that decided, and why.
    Explain {
        /// The SQL statement.
        sql: String,
        /// Print `{ "target", "rule", "reason", "replica" }`.
        #[arg(long)]
        json: bool,
    },
}

/// Volatile user functions from the primary's `pg_proc`; none when it cannot be asked.
async fn volatile_functions(profile: Option<&skein_core::Profile>) -> Functions {
    let Some(profile) = profile else {
        return Functions::default();
    };
    let Ok(cluster) = skein_pg::Cluster::from_profile(profile) else {
        return Functions::default();
    };
    let names = cluster
        .primary
        .with_client("reading pg_proc", |c| async move {
            c.query(
                "SELECT DISTINCT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 WHERE p.provolatile = 'v' AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
                &[],
            )
            .await
            .map(|rows| rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>())
        })
        .await
        .unwrap_or_default();
    Functions::new(names)
}

pub async fn run(profile: Option<&skein_core::Profile>, cmd: RouteCommand) -> anyhow::Result<()> {
    match cmd {
        RouteCommand::Explain { sql, json } => {
            let functions = volatile_functions(profile).await;
            let c = classify(&sql, &functions);
            if json {
                return output::json(&c);
            }
            output::line(&format!(
                "{} ({}): {}{}",
                output::enum_name(&c.target),
                c.rule,
                c.reason,
                c.replica
                    .as_deref()
                    .map(|r| format!(" → {r}"))
                    .unwrap_or_default()
            ));
            Ok(())
        }
    }
}
