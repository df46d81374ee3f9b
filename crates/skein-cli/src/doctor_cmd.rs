//! `skein doctor [--json]`: checks every node of the profile and the lake step by step (DNS,
//! TCP, TLS, login, privileges, replication; the lake's catalog and data path) and says what
//! to fix. Exits non-zero when any step fails.

use skein_console::diagnose::{self, Diagnosis, StepStatus};

use crate::output;

/// Runs every check; `Err` (exit status 1) when one failed.
pub async fn run(profile: &skein_core::Profile, json: bool) -> anyhow::Result<()> {
    let all = diagnose::profile(profile, diagnose::DEFAULT_TIMEOUT).await;
    if json {
        output::json(&all)?;
    } else {
        print_table(profile, &all);
    }
    let failed: Vec<&str> = all
        .iter()
        .filter(|d| d.failed())
        .map(|d| d.target.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{} of {} failed a check: {} (the fix is in the table above)",
        failed.len(),
        all.len(),
        failed.join(", ")
    )
}

fn print_table(profile: &skein_core::Profile, all: &[Diagnosis]) {
    output::line(&format!(
        "profile: {} ({})",
        profile.name,
        profile
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    ));
    let mut rows = Vec::new();
    for d in all {
        for (i, s) in d.steps.iter().enumerate() {
            rows.push(vec![
                if i == 0 {
                    format!("{} ({})", d.target, d.address)
                } else {
                    String::new()
                },
                s.step.name().to_owned(),
                status_word(s.status).to_owned(),
                s.detail.clone(),
                s.fix.clone().unwrap_or_default(),
            ]);
        }
    }
    output::table(&["NODE", "STEP", "STATUS", "DETAIL", "FIX"], &rows);
    let count = |st: StepStatus| {
        all.iter()
            .flat_map(|d| &d.steps)
            .filter(|s| s.status == st)
            .count()
    };
    output::line(&format!(
        "{} ok, {} warn, {} fail, {} skipped",
        count(StepStatus::Ok),
        count(StepStatus::Warn),
        count(StepStatus::Fail),
        count(StepStatus::Skipped)
    ));
}

fn status_word(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Ok => "ok",
        StepStatus::Warn => "WARN",
        StepStatus::Fail => "FAIL",
        StepStatus::Skipped => "skipped",
    }
}
