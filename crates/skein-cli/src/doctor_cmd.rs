//! `skein doctor [--json]`: checks every node of the profile and the lake step by step (DNS,
//! TCP, TLS, login, privileges, replication; the lake's catalog and data path) and says what
//! to fix. Exits 1 when any step fails (whatever the step: the table or the JSON says which);
//! an error before the checks (a profile that does not load) exits with its code's status.

use skein_console::diagnose::{self, Diagnosis, StepKind, StepStatus};
use skein_core::ErrorCode;

use crate::failure::Failure;
use crate::output;

/// Runs every check; `Err` (exit status 1) when one failed, with the code of the first failed
/// step (`tcp` → `ConnectionRefused`, `auth` → `AuthFailed`, …).
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
    let first = all
        .iter()
        .flat_map(|d| &d.steps)
        .find(|s| s.status == StepStatus::Fail)
        .map_or(ErrorCode::Internal, |s| step_code(s.step));
    Err(Failure {
        code: first,
        message: format!(
            "{} of {} failed a check: {} (the fix is in the {} above)",
            failed.len(),
            all.len(),
            failed.join(", "),
            if json { "JSON" } else { "table" }
        ),
        status: Some(1),
        shown: false,
    }
    .into())
}

/// The code of a failed step: what kind of failure it found.
fn step_code(step: StepKind) -> ErrorCode {
    match step {
        StepKind::Dns | StepKind::Tcp | StepKind::Replication => ErrorCode::ConnectionRefused,
        StepKind::Tls => ErrorCode::Tls,
        StepKind::Auth => ErrorCode::AuthFailed,
        StepKind::Privileges => ErrorCode::PermissionDenied,
        StepKind::Catalog => ErrorCode::QueryFailed,
        StepKind::DataPath => ErrorCode::Internal,
    }
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
