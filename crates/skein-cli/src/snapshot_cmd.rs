//! `skein snapshot list | show | diff | restore`: the lake's history, time travel, what changed
//! in a table between two snapshots, and putting a table back to an earlier snapshot.

use clap::Subcommand;
use skein_core::Profile;
use skein_lake::snapshot::At;
use skein_lake::Lake;

use crate::failure::fail;
use crate::output;

#[derive(Subcommand)]
pub enum SnapshotCommand {
    /// Snapshots, newest first: id, time, schema version, changes, author, message.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A lake table's rows as of a snapshot (time travel).
    Show {
        /// Table (`name` in the lake's main schema, or `schema.name`).
        table: String,
        /// Snapshot id or bookmark (`AT (VERSION => n)`); default: the latest.
        #[arg(long, conflicts_with = "timestamp")]
        version: Option<String>,
        /// Point in time, UTC (`AT (TIMESTAMP => …)`).
        #[arg(long)]
        timestamp: Option<String>,
        /// Rows per page.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Rows to skip.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// What changed in a table between two snapshots: rows added, removed and changed
    /// (old → new), counts first, and the columns added, dropped or retyped.
    Diff {
        /// Table (`name` in the lake's main schema, or `schema.name`).
        table: String,
        /// The older snapshot: an id or a bookmark.
        from: String,
        /// The newer snapshot: an id or a bookmark.
        to: String,
        /// Columns that identify a row (comma-separated), unique in both versions. Without
        /// it a cache's table is matched by the cache's declared key; with neither (or when
        /// the key repeats) whole rows are compared, so an update is a removal and an addition.
        #[arg(long, value_delimiter = ',', conflicts_with = "whole_rows")]
        key: Vec<String>,
        /// Compare whole rows even when the table is a cache's with a declared key.
        #[arg(long)]
        whole_rows: bool,
        /// Only list rows of this kind (the counts are of every kind).
        #[arg(long, value_parser = ["added", "removed", "changed"])]
        only: Option<String>,
        /// Differing rows per page (1–1000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Differing rows to skip.
        #[arg(long, default_value_t = 0)]
        offset: u32,
        /// Print JSON (`TableDiff`: counts, key, note, columns, schema, rows).
        #[arg(long)]
        json: bool,
    },
    /// Put a table back to what it held at a snapshot, in one new snapshot ("restore TABLE to
    /// snapshot N"); a cache's table makes the cache `restored` until its next refresh. Prints
    /// what it would apply and stops unless `--yes` is given.
    Restore {
        /// Table (`name` in the lake's main schema, or `schema.name`).
        table: String,
        /// The snapshot to restore it to: an id or a bookmark.
        #[arg(long)]
        version: String,
        /// Restore (without it: only the preview).
        #[arg(long)]
        yes: bool,
        /// Print JSON (`RestorePreview`, or with `--yes` `RestoreResult`).
        #[arg(long)]
        json: bool,
    },
    /// Name a snapshot (a letter, then letters, digits, '_' or '-'): usable wherever a
    /// snapshot id is (`--version before-migration`). One lake commit.
    Bookmark {
        /// The name.
        name: String,
        /// The snapshot (an id); default: the latest.
        #[arg(long)]
        version: Option<i64>,
    },
    /// The lake's bookmarks: name, snapshot, when set, and whether the snapshot was expired.
    Bookmarks {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a bookmark (the snapshot stays). One lake commit.
    Unbookmark {
        /// The name.
        name: String,
    },
}

pub async fn run(profile: &Profile, cmd: SnapshotCommand) -> anyhow::Result<()> {
    let lake = Lake::open(profile).await?;
    match cmd {
        SnapshotCommand::List { limit, json } => {
            let snaps = lake.snapshots(limit).await?;
            if json {
                return output::json(&snaps);
            }
            let rows: Vec<Vec<String>> = snaps
                .iter()
                .map(|s| {
                    vec![
                        s.id.to_string(),
                        s.time.clone(),
                        s.schema_version.to_string(),
                        s.author.clone().unwrap_or_default(),
                        s.commit_message.clone().unwrap_or_default(),
                        compact_changes(&s.changes),
                    ]
                })
                .collect();
            output::table(
                &["ID", "TIME (UTC)", "SCHEMA", "AUTHOR", "MESSAGE", "CHANGES"],
                &rows,
            );
            Ok(())
        }
        SnapshotCommand::Show {
            table,
            version,
            timestamp,
            limit,
            offset,
            json,
        } => {
            let at = match (version, timestamp) {
                (Some(v), _) => At::Version(lake.resolve_version(&v).await?),
                (None, Some(t)) => At::Timestamp(t),
                (None, None) => At::Latest,
            };
            let page = lake.rows_at(&table, at.clone(), limit, offset).await?;
            if json {
                return output::json(&page);
            }
            let when = match &at {
                At::Latest => "the latest snapshot".to_owned(),
                At::Version(v) => format!("snapshot {v}"),
                At::Timestamp(t) => t.clone(),
            };
            output::line(&format!("{table} as of {when} · {} rows", page.total));
            let rows: Vec<Vec<String>> = page
                .rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|v| v.to_text().unwrap_or_else(|| "null".into()))
                        .collect()
                })
                .collect();
            let header: Vec<&str> = page.columns.iter().map(String::as_str).collect();
            output::table(&header, &rows);
            Ok(())
        }
        SnapshotCommand::Diff {
            table,
            from,
            to,
            key,
            whole_rows,
            only,
            limit,
            offset,
            json,
        } => {
            let only = match only.as_deref() {
                Some("added") => Some(skein_lake::DiffKind::Added),
                Some("removed") => Some(skein_lake::DiffKind::Removed),
                Some("changed") => Some(skein_lake::DiffKind::Changed),
                _ => None,
            };
            let (from, to) = (
                lake.resolve_version(&from).await?,
                lake.resolve_version(&to).await?,
            );
            let key = match (whole_rows, key.is_empty()) {
                (true, _) => Some(Vec::new()),
                (false, true) => None,
                (false, false) => Some(key),
            };
            let d = lake
                .diff(skein_lake::DiffRequest {
                    table,
                    from,
                    to,
                    key,
                    only,
                    limit,
                    offset,
                })
                .await?;
            if json {
                return output::json(&d);
            }
            print_diff(&d);
            Ok(())
        }
        SnapshotCommand::Restore {
            table,
            version,
            yes,
            json,
        } => {
            let version = lake.resolve_version(&version).await?;
            let preview = lake.preview_restore(&table, version, 20).await?;
            let d = &preview.diff;
            let counts = format!("+{} −{} ~{}", d.added, d.removed, d.changed);
            if !yes {
                if json {
                    output::json(&preview)?;
                } else {
                    output::line(&format!(
                        "restoring {table} to snapshot {version} would apply (now: snapshot {}):",
                        preview.current
                    ));
                    print_diff(d);
                    if let Some(c) = &preview.cache {
                        output::line(&format!(
                            "cache {c} would be restored (not served) until its next refresh"
                        ));
                    }
                }
                return Err(fail(
                    skein_core::ErrorCode::InvalidInput,
                    format!("nothing restored: re-run with --yes to restore {table} to snapshot {version} ({counts})"),
                ));
            }
            let r = lake.restore(&table, version, preview.current).await?;
            if json {
                return output::json(&r);
            }
            output::line(&format!(
                "restored {table} to snapshot {version}: +{} −{} ~{}, {} rows, in snapshot {}",
                r.added,
                r.removed,
                r.changed,
                r.rows,
                r.snapshot_id
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "?".into())
            ));
            if let Some(c) = &r.cache {
                output::line(&format!(
                    "cache {c} is restored (not served) until its next refresh"
                ));
            }
            Ok(())
        }
        SnapshotCommand::Bookmark { name, version } => {
            let id = match version {
                Some(v) => v,
                None => lake.snapshot_at(&At::Latest).await?.id,
            };
            let b = lake.set_bookmark(&name, id).await?;
            output::line(&format!("bookmark {}: snapshot {}", b.name, b.snapshot_id));
            Ok(())
        }
        SnapshotCommand::Bookmarks { json } => {
            let all = lake.bookmarks().await?;
            if json {
                return output::json(&all);
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|b| {
                    vec![
                        b.name.clone(),
                        b.snapshot_id.to_string(),
                        chrono::DateTime::from_timestamp_millis(b.created_at_ms)
                            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                            .unwrap_or_default(),
                        if b.expired { "expired" } else { "" }.to_owned(),
                    ]
                })
                .collect();
            output::table(&["NAME", "SNAPSHOT", "SET (UTC)", "NOTE"], &rows);
            Ok(())
        }
        SnapshotCommand::Unbookmark { name } => {
            lake.delete_bookmark(&name).await?;
            output::line(&format!("bookmark {name} deleted"));
            Ok(())
        }
    }
}

/// `+3 −2 ~1` and the schema changes, then one line per differing row: `+ (cells)`,
/// `− (cells)`, `~ key: column old → new, …`.
fn print_diff(d: &skein_lake::TableDiff) {
    let text = |c: &skein_lake::Cell| c.to_text().unwrap_or_else(|| "null".into());
    let by = match (d.key.is_empty(), d.key_source.as_deref()) {
        (true, _) => "whole rows".to_owned(),
        (false, Some("cache")) => format!("the cache's key ({})", d.key.join(", ")),
        (false, _) => format!("key ({})", d.key.join(", ")),
    };
    output::line(&format!(
        "{} from snapshot {} to {} by {by}: +{} −{} ~{}",
        d.table, d.from, d.to, d.added, d.removed, d.changed
    ));
    if let Some(note) = &d.note {
        output::line(&format!("note: {note}"));
    }
    let s = &d.schema;
    for c in &s.added {
        output::line(&format!("column added: {} {}", c.name, c.data_type));
    }
    for c in &s.dropped {
        output::line(&format!("column dropped: {} {}", c.name, c.data_type));
    }
    for c in &s.retyped {
        output::line(&format!("column retyped: {} {} → {}", c.name, c.from, c.to));
    }
    let row = |cells: &[skein_lake::Cell]| cells.iter().map(text).collect::<Vec<_>>().join(", ");
    for r in &d.rows {
        let line = match (r.kind, &r.old, &r.new) {
            (skein_lake::DiffKind::Changed, Some(old), Some(new)) => {
                let key: Vec<String> = d
                    .columns
                    .iter()
                    .zip(new)
                    .filter(|(c, _)| d.key.contains(c))
                    .map(|(c, v)| format!("{c}={}", text(v)))
                    .collect();
                let cells: Vec<String> = d
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| r.changed.contains(c))
                    .map(|(i, c)| format!("{c} {} → {}", text(&old[i]), text(&new[i])))
                    .collect();
                format!("~ {}: {}", key.join(" "), cells.join(", "))
            }
            (_, _, Some(new)) => format!("+ ({})", row(new)),
            (_, Some(old), None) => format!("− ({})", row(old)),
            _ => continue,
        };
        output::line(&line);
    }
    let shown = d.rows.len() as u64;
    let total = d.added + d.removed + d.changed;
    if shown < total {
        output::line(&format!(
            "{shown} of {total} differing rows shown (--limit, --offset)"
        ));
    }
}

fn compact_changes(changes: &skein_lake::snapshot::ChangeMap) -> String {
    changes
        .iter()
        .map(|(k, items)| format!("{k}: {}", items.join(",")))
        .collect::<Vec<_>>()
        .join("; ")
}
