//! `skein lake summary | expire | cleanup | compact`: lake maintenance from the command line, through
//! DuckLake's own functions ([`skein_lake::maintenance`]). A destructive command shows what
//! it would remove and stops unless `--yes` is given; `--dry-run` only shows it. Real runs
//! take the lake's maintenance lock, so they are refused while another operation (from a
//! console or another CLI) runs.

use clap::Subcommand;
use skein_core::Profile;
use skein_lake::{Compaction, ExpireTarget, Lake, LakeFile, MaintenanceLock};

use skein_core::ErrorCode;

use crate::failure::fail;
use crate::output;

#[derive(Subcommand)]
pub enum LakeCommand {
    /// Snapshots, files, bytes, and what expiring and cleaning up could reclaim.
    Summary {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Expire snapshots (ducklake_expire_snapshots): time travel to them stops working and
    /// their files are scheduled for deletion. The latest snapshot is never expired.
    Expire {
        /// Every snapshot before this instant (UTC, `2026-11-22 09:00:00`).
        #[arg(
            long,
            conflicts_with = "versions",
            required_unless_present = "versions"
        )]
        older_than: Option<String>,
        /// These snapshot ids (comma-separated).
        #[arg(long, value_delimiter = ',')]
        versions: Option<Vec<i64>>,
        /// Only list what would be expired.
        #[arg(long)]
        dry_run: bool,
        /// Expire without stopping at the preview.
        #[arg(long)]
        yes: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compact the lake: merge adjacent small files, rewrite files with deletes, flush inlined
    /// data (all three unless some are named). Each is one commit; none loses data, so no
    /// --yes is needed; --dry-run lists each table's files.
    Compact {
        /// ducklake_merge_adjacent_files.
        #[arg(long)]
        merge: bool,
        /// ducklake_rewrite_data_files.
        #[arg(long)]
        rewrite: bool,
        /// ducklake_flush_inlined_data.
        #[arg(long)]
        flush: bool,
        /// Only list each table's files.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete the files expired snapshots left (ducklake_cleanup_old_files), or with
    /// `--orphaned` the files no snapshot references (ducklake_delete_orphaned_files).
    Cleanup {
        /// Orphaned files instead of files scheduled for deletion.
        #[arg(long)]
        orphaned: bool,
        /// Only list what would be deleted.
        #[arg(long)]
        dry_run: bool,
        /// Delete without stopping at the preview.
        #[arg(long)]
        yes: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(profile: &Profile, cmd: LakeCommand) -> anyhow::Result<()> {
    let lake = Lake::open(profile).await?;
    match cmd {
        LakeCommand::Summary { json } => {
            let s = lake.stats().await?;
            if json {
                return output::json(&s);
            }
            let oldest = s
                .oldest_snapshot
                .map_or("-".into(), |o| format!("{} ({})", o.id, time(o.time_ms)));
            output::table(
                &[
                    "SNAPSHOTS",
                    "OLDEST",
                    "FILES",
                    "BYTES",
                    "OLD_FILES",
                    "OLD_BYTES",
                    "SCHEDULED_FILES",
                    "SCHEDULED_BYTES",
                ],
                &[vec![
                    s.snapshots.to_string(),
                    oldest,
                    s.files.to_string(),
                    s.bytes.to_string(),
                    s.old_files.to_string(),
                    s.old_bytes.to_string(),
                    s.scheduled_files.to_string(),
                    s.scheduled_bytes.map_or("?".into(), |b| b.to_string()),
                ]],
            );
            Ok(())
        }
        LakeCommand::Expire {
            older_than,
            versions,
            dry_run,
            yes,
            json,
        } => {
            let target = match (older_than, versions) {
                (Some(t), _) => ExpireTarget::OlderThan(t),
                (None, Some(v)) => ExpireTarget::Versions(v),
                (None, None) => {
                    return Err(fail(
                        ErrorCode::InvalidInput,
                        "name the snapshots: --older-than TIME or --versions IDS",
                    ))
                }
            };
            let preview = lake.expire_snapshots(&target, true).await?;
            if dry_run || !yes || preview.is_empty() {
                if json {
                    output::json(&preview)?;
                } else {
                    for s in &preview {
                        output::line(&format!(
                            "{}\t{}\t{}",
                            s.id,
                            s.time,
                            s.commit_message.clone().unwrap_or_default()
                        ));
                    }
                    output::line(&format!(
                        "{} snapshot(s) would be expired; time travel to them would stop working",
                        preview.len()
                    ));
                }
                if !dry_run && !yes && !preview.is_empty() {
                    return Err(fail(
                        ErrorCode::InvalidInput,
                        format!(
                            "nothing expired: re-run with --yes to expire these {} snapshot(s)",
                            preview.len()
                        ),
                    ));
                }
                return Ok(());
            }
            let ids: Vec<i64> = preview.iter().map(|s| s.id).collect();
            let lock = MaintenanceLock::acquire(lake.catalog(), &lake.name).await?;
            let expired = lake
                .expire_snapshots(&ExpireTarget::Versions(ids), false)
                .await;
            lock.release().await;
            let expired = expired?;
            if json {
                return output::json(&expired);
            }
            output::line(&format!(
                "expired {} snapshot(s): {}; their files are scheduled for deletion (skein lake cleanup)",
                expired.len(),
                expired
                    .iter()
                    .map(|s| s.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            Ok(())
        }
        LakeCommand::Compact {
            merge,
            rewrite,
            flush,
            dry_run,
            json,
        } => {
            if dry_run {
                let files = lake.compaction_preview().await?;
                if json {
                    return output::json(&files);
                }
                let rows: Vec<Vec<String>> = files
                    .iter()
                    .map(|t| {
                        vec![
                            t.table.clone(),
                            t.data_files.to_string(),
                            t.bytes.to_string(),
                            t.files_with_deletes.to_string(),
                        ]
                    })
                    .collect();
                output::table(
                    &["TABLE", "DATA_FILES", "BYTES", "FILES_WITH_DELETES"],
                    &rows,
                );
                return Ok(());
            }
            let all = !(merge || rewrite || flush);
            let mut chosen = Vec::new();
            if merge || all {
                chosen.push(Compaction::MergeAdjacentFiles);
            }
            if rewrite || all {
                chosen.push(Compaction::RewriteDataFiles);
            }
            if flush || all {
                chosen.push(Compaction::FlushInlinedData);
            }
            let lock = MaintenanceLock::acquire(lake.catalog(), &lake.name).await?;
            let mut done = Vec::new();
            for what in chosen {
                match lake.compact(what).await {
                    Ok(r) => done.push((what, r)),
                    Err(e) => {
                        lock.release().await;
                        return Err(e.into());
                    }
                }
            }
            lock.release().await;
            if json {
                return output::json(&done);
            }
            for (what, results) in done {
                if results.is_empty() {
                    output::line(&format!("{}: nothing to do", what.describe()));
                }
                for r in results {
                    output::line(&format!(
                        "{}: {} processed {}, created {}",
                        what.describe(),
                        r.table,
                        r.processed,
                        r.created
                    ));
                }
            }
            Ok(())
        }
        LakeCommand::Cleanup {
            orphaned,
            dry_run,
            yes,
            json,
        } => {
            let list = |dry| {
                let lake = lake.clone();
                async move {
                    if orphaned {
                        lake.delete_orphaned_files(dry).await
                    } else {
                        lake.cleanup_old_files(dry).await
                    }
                }
            };
            let preview = list(true).await?;
            if dry_run || !yes || preview.is_empty() {
                print_files(&preview, json, "would be deleted")?;
                if !dry_run && !yes && !preview.is_empty() {
                    return Err(fail(
                        ErrorCode::InvalidInput,
                        format!(
                            "nothing deleted: re-run with --yes to delete these {} file(s)",
                            preview.len()
                        ),
                    ));
                }
                return Ok(());
            }
            let lock = MaintenanceLock::acquire(lake.catalog(), &lake.name).await?;
            let deleted = list(false).await;
            lock.release().await;
            print_files(&deleted?, json, "deleted")
        }
    }
}

fn print_files(files: &[LakeFile], json: bool, verb: &str) -> anyhow::Result<()> {
    if json {
        return output::json(&files);
    }
    for f in files {
        output::line(&format!(
            "{}\t{}",
            f.bytes.map_or("?".into(), |b| b.to_string()),
            f.path
        ));
    }
    let total = files.iter().map(|f| f.bytes).sum::<Option<u64>>();
    output::line(&format!(
        "{} file(s) {verb}{}",
        files.len(),
        total.map_or(String::new(), |b| format!(", {b} bytes"))
    ));
    Ok(())
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}
