//! `skein route explain SQL [--session HINT] [--json]`: where the router would send a
//! statement and why. With a profile, the answer comes from a [`skein_router::Router`] on it:
//! user functions marked volatile in the primary's `pg_proc` count as writes, replicas out of
//! rotation (one lag sample) are left out, the `[router]` rules apply and `--session` gives
//! the session's affinity, and a read that a fresh cache holds is shown going to the lake
//! (every cache's state is computed now: its definition as the lake holds it, and a
//! fingerprint of its monitored tables on the primary; the reason says when it was checked).
//! A cache that holds the read but is edited, stale, expired or empty is named and not used.
//! Without a profile, only the statement is classified (no node).
//!
//! `skein route check FILE [--generate] [--replica NAME] --yes [--json]`: the differential
//! oracle ([`skein_router::oracle`]) over the statements of FILE (one per line; empty lines and
//! lines starting with `--` are skipped; `-` reads standard input) and, with `--generate`, the
//! corpus generated from the primary's `pg_proc` ([`skein_router::corpus`]). Each statement the
//! router sends to a replica runs on the standby in a read-only transaction that is rolled
//! back; a disagreement is printed with the decision, its reason and what the standby said,
//! and makes the command exit 1. It runs statements on a standby, so it wants a disposable
//! stack (`skein sandbox up`) and `--yes`.

use clap::Subcommand;
use serde::Serialize;
use skein_core::ErrorCode;
use skein_router::{classify, Functions, Router, Session, Target};

use crate::failure::fail;
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
    /// The differential oracle: each statement classified, then checked on a real hot standby
    /// (a replica-routed one must run there and change nothing; one whose reason says a
    /// replica would refuse it must be refused). Exits 1 on a disagreement.
    Check {
        /// Statements, one per line (`--` comment lines and empty lines skipped; `-` for stdin).
        file: Option<std::path::PathBuf>,
        /// Also check the corpus generated from the primary's pg_proc (every statement kind,
        /// and every function called in every place a call may hide).
        #[arg(long)]
        generate: bool,
        /// The standby to judge on (default: the profile's first replica).
        #[arg(long)]
        replica: Option<String>,
        /// Run statements on that standby: use a disposable stack.
        #[arg(long)]
        yes: bool,
        /// Print `{ "tally", "verdicts" }` (every verdict that is not an agreement).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct Checked {
    tally: skein_router::oracle::Tally,
    /// Disagreements and inconclusive ones.
    verdicts: Vec<skein_router::oracle::Verdict>,
}

/// The statements of `file` (see the module header).
fn statements_of(file: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let text = if file == std::path::Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file).map_err(|e| {
            fail(
                ErrorCode::NotFound,
                format!("cannot read {}: {e}", file.display()),
            )
        })?
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .map(str::to_owned)
        .collect())
}

async fn check(
    profile: Option<&skein_core::Profile>,
    file: Option<&std::path::Path>,
    generate: bool,
    replica: Option<&str>,
    yes: bool,
    json: bool,
) -> anyhow::Result<()> {
    let Some(profile) = profile else {
        return Err(fail(
            ErrorCode::InvalidInput,
            "route check needs a stack with a hot standby: pass --profile (or start `skein sandbox up`)",
        ));
    };
    if file.is_none() && !generate {
        return Err(fail(
            ErrorCode::InvalidInput,
            "nothing to check: name a FILE of statements, or pass --generate",
        ));
    }
    let cluster = skein_pg::Cluster::from_profile(profile)?;
    let standby = match replica {
        Some(name) => cluster
            .replicas
            .iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| {
                fail(
                    ErrorCode::NotFound,
                    format!(
                        "no replica {name} in the profile (it has: {})",
                        cluster
                            .replicas
                            .iter()
                            .map(|r| r.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?,
        None => cluster.replicas.first().ok_or_else(|| {
            fail(
                ErrorCode::InvalidInput,
                "the profile has no replica to judge on",
            )
        })?,
    };
    if !yes {
        return Err(fail(
            ErrorCode::InvalidInput,
            format!(
                "route check runs statements on {} ({}) in read-only transactions; a wrong decision may change that standby (promote it, pause its replay): run it on a disposable stack (`skein sandbox up`) and pass --yes",
                standby.name(),
                standby.addr
            ),
        ));
    }
    let mut statements = match file {
        Some(f) => statements_of(f)?,
        None => Vec::new(),
    };
    if generate {
        statements.extend(skein_router::corpus::generate(&cluster.primary).await?);
    }
    let functions = skein_router::load_functions(&cluster.primary).await?;
    let mut oracle = skein_router::oracle::Oracle::connect(standby).await?;
    let mut tally = skein_router::oracle::Tally::default();
    let mut verdicts = Vec::new();
    for sql in &statements {
        let v = oracle.check(sql, &functions).await?;
        tally.add(&v);
        use skein_router::oracle::Outcome;
        if matches!(v.outcome, Outcome::Disagrees | Outcome::Inconclusive) {
            if !json && v.outcome == Outcome::Disagrees {
                output::line(&format!("DISAGREES {v}"));
            }
            verdicts.push(v);
        }
    }
    let words = format!(
        "{} statements on {}: {tally}",
        tally.statements,
        standby.name()
    );
    let disagrees = tally.disagrees;
    if json {
        output::json(&Checked { tally, verdicts })?;
    } else {
        output::line(&words);
    }
    if disagrees > 0 {
        return Err(crate::failure::Failure {
            code: ErrorCode::Internal,
            message: format!("the standby disagrees with {disagrees} decision(s): {words}"),
            status: Some(1),
            shown: !json,
        }
        .into());
    }
    Ok(())
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
        RouteCommand::Check {
            file,
            generate,
            replica,
            yes,
            json,
        } => {
            check(
                profile,
                file.as_deref(),
                generate,
                replica.as_deref(),
                yes,
                json,
            )
            .await
        }
    }
}
