//! Lag charts rendered in Rust with `plotters`, for export (PNG or SVG): one replica's replay
//! lag (seconds) over the kept history with the warning and critical thresholds as dashed
//! lines, and below it the bytes of WAL it is behind. The data is the console's lag history
//! (`pg_stat_replication.replay_lag` and primary `pg_current_wal_lsn()` − replica
//! `pg_last_wal_replay_lsn()`, see [`skein_pg::lag`]). The x axis is clock time, UTC
//! (`HH:MM:SS`); a sample without a lag (a node down or promoted) is a gap in the line, never
//! a value. Threshold labels sit on either side of their lines (critical above its line,
//! warning below its own), so they never overlap however close the thresholds are; series
//! are drawn in colours that are not the warning or critical colours.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::rpc::{LagHistory, NodeSeries};

/// An exported chart's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ChartFormat {
    /// A PNG image (returned base64-encoded).
    Png,
    /// An SVG document (returned as text).
    Svg,
}

/// An exported chart, ready to save.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ChartFile {
    /// A file name to save it under (`skein-lag-replica1-20261122T091403Z.png`).
    pub file_name: String,
    /// `image/png` or `image/svg+xml`.
    pub mime: String,
    /// The content: base64 for PNG, the document's text for SVG.
    pub data: String,
    /// Samples drawn.
    pub samples: u32,
}

/// Pixel size of an exported chart.
const SIZE: (u32, u32) = (1200, 700);

/// Renders `node`'s lag chart from `history`. Errors: `NotFound` when the history has no such
/// node, `InvalidInput` when it has no samples yet, `Internal` when drawing fails.
pub fn lag_chart(history: &LagHistory, node: &str, format: ChartFormat) -> Result<ChartFile> {
    let series = history
        .nodes
        .iter()
        .find(|n| n.name == node)
        .ok_or_else(|| {
            Error::Lake(skein_lake::Error::NotFound(format!(
                "no lag history for node '{node}': it is not in the open profile"
            )))
        })?;
    if series.t_ms.is_empty() {
        return Err(Error::InvalidInput(format!(
            "no lag samples for {node} yet: wait for the first sample (one a second)"
        )));
    }
    let stamp = chrono::DateTime::from_timestamp_millis(
        series.t_ms.last().copied().unwrap_or_default() as i64,
    )
    .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
    .unwrap_or_default();
    let (ext, mime) = match format {
        ChartFormat::Png => ("png", "image/png"),
        ChartFormat::Svg => ("svg", "image/svg+xml"),
    };
    let data = render(format, |svg, png| match (svg, png) {
        (Some(root), _) => draw(root, history, series),
        (_, Some(root)) => draw(root, history, series),
        _ => Ok(()),
    })?;
    Ok(ChartFile {
        file_name: format!("skein-lag-{node}-{stamp}.{ext}"),
        mime: mime.into(),
        data,
        samples: series.t_ms.len() as u32,
    })
}

type SvgArea<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type PngArea<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// Draws with `paint` on an SVG or a bitmap backend and returns the SVG text or the PNG as
/// base64.
fn render(
    format: ChartFormat,
    paint: impl Fn(Option<&SvgArea<'_>>, Option<&PngArea<'_>>) -> Result<()>,
) -> Result<String> {
    Ok(match format {
        ChartFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
                paint(Some(&root), None)?;
                root.present().map_err(drawing)?;
            }
            svg
        }
        ChartFormat::Png => {
            let mut pixels = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
                paint(None, Some(&root))?;
                root.present().map_err(drawing)?;
            }
            let mut png = Vec::new();
            let mut encoder = png::Encoder::new(&mut png, SIZE.0, SIZE.1);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            encoder
                .write_header()
                .and_then(|mut w| w.write_image_data(&pixels))
                .map_err(|e| Error::Internal(format!("encoding the PNG: {e}")))?;
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, png)
        }
    })
}

/// A chart of cache refreshes over time: each refresh's duration (ms), one series per cache,
/// from `<lake>.skein.cache_refreshes` ([`skein_lake::Lake::refresh_history`]).
/// Errors: `InvalidInput` when there is no refresh to draw.
pub fn refresh_chart(
    history: &[skein_lake::lifecycle::RefreshEntry],
    format: ChartFormat,
) -> Result<ChartFile> {
    if history.is_empty() {
        return Err(Error::InvalidInput(
            "no cache refresh in that period: nothing to chart".into(),
        ));
    }
    let (ext, mime) = match format {
        ChartFormat::Png => ("png", "image/png"),
        ChartFormat::Svg => ("svg", "image/svg+xml"),
    };
    let data = render(format, |svg, png| match (svg, png) {
        (Some(root), _) => draw_refreshes(root, history),
        (_, Some(root)) => draw_refreshes(root, history),
        _ => Ok(()),
    })?;
    Ok(ChartFile {
        file_name: format!("skein-cache-refreshes.{ext}"),
        mime: mime.into(),
        data,
        samples: history.len() as u32,
    })
}

/// Series colours: none of them near the warning (amber) or critical (red) colours.
const PALETTE: [RGBColor; 6] = [
    RGBColor(40, 100, 200),
    RGBColor(130, 60, 180),
    RGBColor(40, 150, 80),
    RGBColor(0, 140, 160),
    RGBColor(90, 90, 110),
    RGBColor(60, 60, 200),
];

/// `HH:MM:SS` (UTC) of an instant in seconds since the Unix epoch.
fn clock(t_s: f64) -> String {
    chrono::DateTime::from_timestamp_millis((t_s * 1000.0).round() as i64)
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_default()
}

fn draw_refreshes<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    history: &[skein_lake::lifecycle::RefreshEntry],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(drawing)?;
    let t0 = history.first().map_or(0, |r| r.refreshed_at_ms) as f64 / 1000.0;
    let t1 = (history.last().map_or(0, |r| r.refreshed_at_ms) as f64 / 1000.0).max(t0 + 1.0);
    let y_max = history.iter().map(|r| r.duration_ms).max().unwrap_or(1) as f64 * 1.15;
    let mut names: Vec<&str> = history.iter().map(|r| r.cache.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut chart = ChartBuilder::on(root)
        .caption("cache refreshes · duration (ms)", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(t0..t1, 0.0..y_max.max(1.0))
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .x_desc("time (UTC)")
        .x_label_formatter(&|t| clock(*t))
        .y_desc("duration (ms)")
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(drawing)?;
    for (i, name) in names.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points: Vec<(f64, f64)> = history
            .iter()
            .filter(|r| r.cache == *name)
            .map(|r| (r.refreshed_at_ms as f64 / 1000.0, r.duration_ms as f64))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(1)))
            .map_err(drawing)?
            .label(name.to_string())
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, color.filled())),
            )
            .map_err(drawing)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(drawing)?;
    Ok(())
}

fn drawing<E: std::fmt::Debug>(e: E) -> Error {
    Error::Internal(format!("drawing the chart: {e:?}"))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    history: &LagHistory,
    s: &NodeSeries,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(drawing)?;
    let (top, bottom) = root.split_vertically(SIZE.1 * 3 / 5);
    let t0 = *s.t_ms.first().unwrap_or(&0) as f64 / 1000.0;
    let t1 = (*s.t_ms.last().unwrap_or(&0) as f64 / 1000.0).max(t0 + 1.0);
    let at = |t: u64| t as f64 / 1000.0; // seconds since the Unix epoch
    let (x0, x1) = (t0, t1);
    let warn = history.thresholds.lag_warning_ms as f64 / 1000.0;
    let crit = history.thresholds.lag_critical_ms as f64 / 1000.0;
    let lag_max = s
        .replay_lag_ms
        .iter()
        .flatten()
        .map(|v| *v as f64 / 1000.0)
        .fold(0.0, f64::max);
    let y_lag = (lag_max.max(warn) * 1.15).max(1.0);
    let newest = chrono::DateTime::from_timestamp_millis((t1 * 1000.0) as i64)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();

    let mut lag = ChartBuilder::on(&top)
        .caption(
            format!("{} · replay lag (s) · until {newest}", s.name),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, 0.0..y_lag)
        .map_err(drawing)?;
    lag.configure_mesh()
        .x_desc("time (UTC)")
        .x_label_formatter(&|t| clock(*t))
        .y_desc("replay lag (s)")
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(drawing)?;
    // Critical's label above its line, warning's below its own: apart however close.
    for (value, color, label, vpos) in [
        (warn, RGBColor(200, 140, 0), "warning", VPos::Top),
        (crit, RGBColor(200, 30, 30), "critical", VPos::Bottom),
    ] {
        if value > y_lag {
            continue;
        }
        lag.draw_series(DashedLineSeries::new(
            [(x0, value), (x1, value)],
            8,
            5,
            color.stroke_width(2),
        ))
        .map_err(drawing)?;
        lag.draw_series(std::iter::once(Text::new(
            format!("{label} {value} s"),
            (x0, value),
            ("sans-serif", 14)
                .into_font()
                .color(&color)
                .pos(Pos::new(HPos::Left, vpos)),
        )))
        .map_err(drawing)?;
    }
    let blue = RGBColor(40, 100, 200);
    for run in runs(&s.t_ms, &s.replay_lag_ms) {
        lag.draw_series(LineSeries::new(
            run.into_iter().map(|(t, v)| (at(t), v as f64 / 1000.0)),
            blue.stroke_width(2),
        ))
        .map_err(drawing)?;
    }

    let bytes_max = s.lag_bytes.iter().flatten().copied().max().unwrap_or(0) as f64;
    let (unit, div) = iec_unit(bytes_max);
    let y_bytes = (bytes_max / div * 1.15).max(1.0);
    let mut by = ChartBuilder::on(&bottom)
        .caption(format!("bytes behind ({unit})"), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, 0.0..y_bytes)
        .map_err(drawing)?;
    by.configure_mesh()
        .x_desc("time (UTC)")
        .x_label_formatter(&|t| clock(*t))
        .y_desc(unit)
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(drawing)?;
    let purple = RGBColor(130, 60, 180);
    for run in runs(&s.t_ms, &s.lag_bytes) {
        by.draw_series(LineSeries::new(
            run.into_iter().map(|(t, v)| (at(t), v as f64 / div)),
            purple.stroke_width(2),
        ))
        .map_err(drawing)?;
    }
    Ok(())
}

/// Splits a series at unknown values, so a gap (node down) is drawn as a gap.
fn runs(t: &[u64], v: &[Option<u64>]) -> Vec<Vec<(u64, u64)>> {
    let mut out = vec![Vec::new()];
    for (t, v) in t.iter().zip(v) {
        match v {
            Some(v) => out.last_mut().map(|r| r.push((*t, *v))).unwrap_or(()),
            None => {
                if out.last().is_some_and(|r| !r.is_empty()) {
                    out.push(Vec::new());
                }
            }
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// The IEC unit that fits `max` bytes and its divisor.
fn iec_unit(max: f64) -> (&'static str, f64) {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut div = 1.0;
    for unit in UNITS {
        if max < div * 1024.0 {
            return (unit, div);
        }
        div *= 1024.0;
    }
    ("TiB", div / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use skein_core::Thresholds;
    use skein_pg::{NodeRole, ReplicaState};

    fn history() -> LagHistory {
        let t_ms: Vec<u64> = (0..120).map(|i| 1_795_000_000_000 + i * 1000).collect();
        let lag: Vec<Option<u64>> = (0..120)
            .map(|i| if i == 60 { None } else { Some(i * 100) })
            .collect();
        LagHistory {
            thresholds: Thresholds {
                lag_warning_ms: 5000,
                lag_critical_ms: 30000,
                ..Default::default()
            },
            retention_s: 3600,
            full_resolution_s: 300,
            interval_ms: 1000,
            nodes: vec![NodeSeries {
                name: "replica1".into(),
                role: NodeRole::Replica,
                t_ms: t_ms.clone(),
                replay_lag_ms: lag.clone(),
                lag_bytes: lag.iter().map(|v| v.map(|x| x * 4096)).collect(),
                write_lag_ms: vec![None; 120],
                flush_lag_ms: vec![None; 120],
                conflicts: vec![None; 120],
                state: vec![ReplicaState::Streaming; 120],
            }],
        }
    }

    #[test]
    fn svg_has_the_series_and_the_thresholds() {
        let f = lag_chart(&history(), "replica1", ChartFormat::Svg).expect("svg");
        assert_eq!(f.mime, "image/svg+xml");
        assert_eq!(f.samples, 120);
        assert!(f.file_name.starts_with("skein-lag-replica1-") && f.file_name.ends_with(".svg"));
        assert!(
            f.data.starts_with("<svg"),
            "{}",
            &f.data[..60.min(f.data.len())]
        );
        assert!(f.data.contains("warning 5 s"));
        assert!(f.data.contains("bytes behind (MiB)"));
        // The gap at sample 60 splits each line in two: lag (blue) and bytes (purple).
        assert_eq!(f.data.matches(r##"stroke="#2864C8""##).count(), 2);
        assert_eq!(f.data.matches(r##"stroke="#823CB4""##).count(), 2);
    }

    #[test]
    fn svg_x_axis_reads_utc_clock_times() {
        let f = lag_chart(&history(), "replica1", ChartFormat::Svg).expect("svg");
        assert!(f.data.contains("time (UTC)"));
        assert!(!f.data.contains("seconds before"));
        // The history spans 1_795_000_000 s .. +119 s: 2026-11-18 11:06:40 .. 11:08:39 UTC.
        let texts: Vec<&str> = f
            .data
            .split("<text")
            .skip(1)
            .filter_map(|t| t.split_once('>').and_then(|(_, r)| r.split_once("</text>")))
            .map(|(text, _)| text.trim())
            .collect();
        let clocks: Vec<&&str> = texts
            .iter()
            .filter(|t| {
                t.len() == 8
                    && t.as_bytes().iter().enumerate().all(|(i, b)| {
                        if i == 2 || i == 5 {
                            *b == b':'
                        } else {
                            b.is_ascii_digit()
                        }
                    })
            })
            .collect();
        assert!(clocks.len() >= 4, "x-axis clock labels: {texts:?}");
        assert!(clocks.iter().all(|c| c.starts_with("11:0")), "{clocks:?}");
        assert!(clocks.contains(&&"11:07:00"), "{clocks:?}");
    }

    #[test]
    fn png_is_a_png() {
        let f = lag_chart(&history(), "replica1", ChartFormat::Png).expect("png");
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &f.data)
            .expect("base64");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(
            bytes.len() > 10_000,
            "a 1200x700 chart, got {} bytes",
            bytes.len()
        );
        if let Some(dir) = std::env::var_os("SKEIN_CHART_OUT") {
            std::fs::write(std::path::Path::new(&dir).join(&f.file_name), &bytes).expect("write");
        }
    }

    #[test]
    fn unknown_node_is_not_found() {
        let e = lag_chart(&history(), "nope", ChartFormat::Svg).expect_err("no such node");
        assert_eq!(e.code(), skein_core::ErrorCode::NotFound);
    }
}
