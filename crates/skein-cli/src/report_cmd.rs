//! `skein report --out DIR [--since 1h] [--sample 10]`: PNG and SVG charts rendered with
//! plotters, the same renderings the console's "Export PNG/SVG" produces:
//!
//! - `skein-lag-<replica>.{png,svg}`: each replica's replay lag (s) and bytes behind since
//!   `--since`, from the lag history consoles keep on disk ([`skein_console::lag_log`]); when
//!   no console has sampled this stack in that period, the CLI samples it once a second for
//!   `--sample` seconds ([`skein_pg::lag::sample`]);
//! - `skein-cache-refreshes.{png,svg}`: every cache refresh since `--since`, its duration per
//!   cache, from the lake's `skein.cache_refreshes`.

use std::path::PathBuf;
use std::time::Duration;

use skein_console::chart::{lag_chart, refresh_chart, ChartFile, ChartFormat};
use skein_console::history::LagHistory;
use skein_core::Profile;
use skein_lake::Lake;
use skein_pg::{Cluster, NodeRole};

use skein_core::ErrorCode;

use crate::failure::fail;
use crate::output;

/// Options of `skein report`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// Directory to write the charts to (created when missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Lag and cache refreshes since this long ago: `90s`, `30m`, `1h`, `7d`.
    #[arg(long, default_value = "1h")]
    pub since: String,
    /// Seconds of lag to sample (one sample a second) when no console has kept this stack's
    /// lag history in the period.
    #[arg(long, default_value_t = 10)]
    pub sample: u64,
}

/// Parses `90s`, `30m`, `1h`, `7d` into seconds.
fn parse_span(s: &str) -> anyhow::Result<u64> {
    let (n, unit) = s.split_at(s.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len());
    let n: u64 = n.parse().map_err(|_| {
        fail(
            ErrorCode::InvalidInput,
            format!("--since {s}: use a number and a unit, like 90s, 30m, 1h or 7d"),
        )
    })?;
    Ok(match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => {
            return Err(fail(
                ErrorCode::InvalidInput,
                format!("--since {s}: the unit must be s, m, h or d"),
            ))
        }
    })
}

fn write(dir: &std::path::Path, f: &ChartFile) -> anyhow::Result<PathBuf> {
    let path = dir.join(&f.file_name);
    let bytes = if f.mime == "image/png" {
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &f.data)?
    } else {
        f.data.clone().into_bytes()
    };
    std::fs::write(&path, bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

pub async fn run(profile: &Profile, args: ReportArgs) -> anyhow::Result<()> {
    let since_s = parse_span(&args.since)?;
    if args.sample == 0 {
        return Err(fail(
            ErrorCode::InvalidInput,
            "--sample must be at least 1 second",
        ));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", args.out.display()))?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let since_ms = now_ms - (since_s as i64) * 1000;
    // The log keeps one sample a second: all of the span at that resolution.
    let span = Duration::from_secs(since_s.clamp(1, 7 * 86_400));
    let mut history = LagHistory::new(span, span);
    let logged = skein_console::lag_log::LagLog::for_profile(profile)
        .map_or(0, |log| log.load_into(&mut history, since_ms.max(0) as u64));
    let retention_s = if logged >= 2 {
        output::line(&format!(
            "lag: {logged} samples from the consoles' history of the last {}",
            args.since
        ));
        since_s
    } else {
        output::line(&format!(
            "lag: no console history of this stack in the last {}; sampling {} s",
            args.since, args.sample
        ));
        let cluster = Cluster::from_profile(profile)?;
        let span = Duration::from_secs(args.sample);
        history = LagHistory::new(span, span);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        for _ in 0..args.sample {
            tick.tick().await;
            history.push(&skein_pg::lag::sample(&cluster).await);
        }
        args.sample
    };
    let lag = skein_console::rpc::LagHistory {
        thresholds: profile.thresholds,
        retention_s,
        full_resolution_s: retention_s,
        interval_ms: 1000,
        nodes: history.series(None),
    };
    let mut written = Vec::new();
    for node in lag.nodes.iter().filter(|n| n.role == NodeRole::Replica) {
        for format in [ChartFormat::Png, ChartFormat::Svg] {
            let mut f = lag_chart(&lag, &node.name, format)?;
            f.file_name = format!(
                "skein-lag-{}.{}",
                node.name,
                if format == ChartFormat::Png {
                    "png"
                } else {
                    "svg"
                }
            );
            written.push(write(&args.out, &f)?);
        }
    }
    let lake = Lake::open(profile).await?;
    let refreshes = lake.refresh_history(since_ms).await?;
    if refreshes.is_empty() {
        output::line(&format!(
            "no cache refresh in the last {}: no refresh chart",
            args.since
        ));
    } else {
        for format in [ChartFormat::Png, ChartFormat::Svg] {
            written.push(write(&args.out, &refresh_chart(&refreshes, format)?)?);
        }
    }
    for p in &written {
        output::line(&p.display().to_string());
    }
    Ok(())
}
