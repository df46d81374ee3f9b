//! `skein snapshot list | show`: the lake's history and time travel.

use clap::Subcommand;
use skein_core::Profile;
use skein_lake::snapshot::At;
use skein_lake::Lake;

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
        /// Snapshot id (`AT (VERSION => n)`); default: the latest.
        #[arg(long, conflicts_with = "timestamp")]
        version: Option<i64>,
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
                (Some(v), _) => At::Version(v),
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
    }
}

fn compact_changes(changes: &skein_lake::snapshot::ChangeMap) -> String {
    changes
        .iter()
        .map(|(k, items)| format!("{k}: {}", items.join(",")))
        .collect::<Vec<_>>()
        .join("; ")
}
