//! The lake's history as marks on a time axis: each snapshot with its kind and the tables it
//! touched, for the console's timeline (one lane per table and one for the lake itself).
//!
//! Sources: `<lake>.snapshots()` (time, author, message, extra info and the `changes` map) and
//! the catalog's `ducklake_table` + `ducklake_schema` (table id → `schema.table` while the id
//! was alive, read through DuckDB's `__ducklake_metadata_<lake>` catalog). Skein's own records
//! (`skein.*`) are not lanes: a mark that touched only them sits on the lake's lane.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lake::{ident, Lake};
use crate::snapshot::Snapshot;
use crate::AUTHOR;

/// What a snapshot was, by who wrote it and what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    /// A cache refresh by Skein (`refresh cache NAME`).
    Refresh,
    /// A consistent snapshot of several caches (`snapshot caches … together at LSN`).
    Together,
    /// A table put back to an earlier snapshot (`restore TABLE to snapshot N`).
    Restore,
    /// A schema change that is not one of the above (tables or schemas created, dropped,
    /// altered).
    Schema,
    /// Maintenance by Skein (compaction, flushing inlined data).
    Maintenance,
    /// Skein's own records: a cache created, edited, paused or deleted; a bookmark set or
    /// deleted.
    Catalog,
    /// A commit by another writer (an author other than `skein`, or none).
    Other,
}

/// One snapshot on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TimelineMark {
    /// `snapshot_id`.
    pub id: i64,
    /// `snapshot_time`, ms since the Unix epoch.
    pub time_ms: i64,
    /// What it was.
    pub kind: MarkKind,
    /// The tables it touched (`schema.table`, Skein's `skein.*` records left out); empty: it
    /// sits on the lake's lane.
    pub tables: Vec<String>,
    /// `author`.
    pub author: Option<String>,
    /// `commit_message`.
    pub message: Option<String>,
}

/// The lake's newest snapshots as marks, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Timeline {
    /// Oldest first.
    pub marks: Vec<TimelineMark>,
    /// Every table a mark touched, by name: the lanes.
    pub tables: Vec<String>,
    /// Snapshots in the lake (more than `marks` when the limit cut the oldest).
    pub total: u64,
    /// The lake's bookmarks (named snapshots), by snapshot.
    pub bookmarks: Vec<crate::Bookmark>,
}

/// The largest number of marks [`Lake::timeline`] returns.
pub const TIMELINE_MAX: usize = 20_000;

/// The kind of a snapshot (see [`MarkKind`]).
pub fn kind_of(s: &Snapshot) -> MarkKind {
    let message = s.commit_message.as_deref().unwrap_or("");
    if s.author.as_deref() != Some(AUTHOR) {
        return if s.author.is_none() && message.is_empty() && !s.schema_changes.is_empty() {
            // DuckLake's own first snapshot ("created schema main") and the like.
            MarkKind::Schema
        } else {
            MarkKind::Other
        };
    }
    let extra = s.commit_extra_info.as_deref().unwrap_or("");
    if message.starts_with("restore ") || extra.contains("\"restore\"") {
        MarkKind::Restore
    } else if message.starts_with("refresh cache ") {
        MarkKind::Refresh
    } else if message.starts_with("snapshot caches ") {
        MarkKind::Together
    } else if crate::Compaction::ALL
        .iter()
        .any(|c| message.starts_with(c.describe()))
    {
        MarkKind::Maintenance
    } else if [
        "create cache ",
        "edit cache ",
        "delete cache ",
        "pause cache ",
        "resume cache ",
        "create Skein's",
        "record ",
        "bookmark ",
        "delete bookmark ",
    ]
    .iter()
    .any(|m| message.starts_with(m))
    {
        MarkKind::Catalog
    } else if !s.schema_changes.is_empty() {
        MarkKind::Schema
    } else {
        MarkKind::Catalog
    }
}

/// A table id's name while it was alive: `(id, schema.table, begin_snapshot, end_snapshot)`.
pub(crate) type TableSpan = (String, String, i64, Option<i64>);

/// Every table id the catalog has known, with its name and life (`ducklake_table` +
/// `ducklake_schema`).
pub(crate) fn read_spans(conn: &duckdb::Connection, lake: &str) -> Result<Vec<TableSpan>> {
    let meta = ident(&format!("__ducklake_metadata_{lake}"));
    let mut stmt = conn
        .prepare(&format!(
            "SELECT t.table_id::VARCHAR, s.schema_name || '.' || t.table_name, t.begin_snapshot, t.end_snapshot \
             FROM {meta}.ducklake_table t JOIN {meta}.ducklake_schema s USING (schema_id)"
        ))
        .map_err(Error::duck("reading the catalog's tables"))?;
    let spans = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .map_err(Error::duck("reading the catalog's tables"))?
        .collect::<std::result::Result<_, _>>()
        .map_err(Error::duck("reading the catalog's tables"))?;
    Ok(spans)
}

/// The tables a snapshot touched, by name (`tables_created` by name, the other `tables_*` and
/// `inlined_*` keys by the id's name while alive there; a dropped one ends there), among those
/// `spans` names.
pub(crate) fn touched(s: &Snapshot, spans: &[TableSpan]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (key, items) in &s.changes {
        for item in items {
            let name = if key == "tables_created" {
                Some(item.clone())
            } else if key.starts_with("tables_") || key.starts_with("inlined_") {
                // An id: its name while alive at this snapshot (a dropped one ends here).
                spans
                    .iter()
                    .find(|(id, _, begin, end)| {
                        id == item && *begin <= s.id && end.is_none_or(|e| e >= s.id)
                    })
                    .map(|(_, name, ..)| name.clone())
            } else {
                None
            };
            if let Some(n) = name {
                out.insert(n);
            }
        }
    }
    out
}

/// The tables a snapshot touched, by name, without Skein's records.
fn tables_of(s: &Snapshot, spans: &[TableSpan]) -> Vec<String> {
    touched(s, spans)
        .into_iter()
        .filter(|n| !n.starts_with("skein."))
        .collect()
}

impl Lake {
    /// The newest `limit` (1–[`TIMELINE_MAX`]) snapshots as timeline marks, oldest first, with
    /// the tables each touched and its kind.
    ///
    /// Errors: `InvalidInput` for a limit outside 1–20,000.
    pub async fn timeline(&self, limit: usize) -> Result<Timeline> {
        if !(1..=TIMELINE_MAX).contains(&limit) {
            return Err(Error::InvalidInput(format!(
                "ask for 1 to {TIMELINE_MAX} snapshots on the timeline, not {limit}"
            )));
        }
        let mut snapshots = self.snapshot_page(limit, None).await?;
        snapshots.reverse();
        let (spans, total, bookmarks) = self
            .read(|conn, lake| {
                let spans = read_spans(conn, lake)?;
                let total: i64 = conn
                    .query_row(
                        &format!("SELECT count(*) FROM {}.snapshots()", ident(lake)),
                        [],
                        |r| r.get(0),
                    )
                    .map_err(Error::duck("counting snapshots"))?;
                let bookmarks = crate::bookmarks::read_bookmarks(conn, lake)?;
                Ok((spans, total.max(0) as u64, bookmarks))
            })
            .await?;
        let marks: Vec<TimelineMark> = snapshots
            .iter()
            .map(|s| TimelineMark {
                id: s.id,
                time_ms: s.time_ms,
                kind: kind_of(s),
                tables: tables_of(s, &spans),
                author: s.author.clone(),
                message: s.commit_message.clone(),
            })
            .collect();
        let tables = marks
            .iter()
            .flat_map(|m| m.tables.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        Ok(Timeline {
            marks,
            tables,
            total,
            bookmarks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{kind_of, MarkKind};
    use crate::snapshot::Snapshot;

    fn snap(author: Option<&str>, message: &str, extra: Option<&str>, schema: &[&str]) -> Snapshot {
        Snapshot {
            id: 3,
            time_ms: 0,
            time: String::new(),
            schema_version: 1,
            changes: Default::default(),
            author: author.map(Into::into),
            commit_message: (!message.is_empty()).then(|| message.into()),
            commit_extra_info: extra.map(Into::into),
            writer: None,
            schema_changes: schema.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn kinds_follow_author_and_message() {
        let skein = Some("skein");
        assert_eq!(
            kind_of(&snap(skein, "refresh cache x", None, &["tables_created"])),
            MarkKind::Refresh
        );
        assert_eq!(
            kind_of(&snap(
                skein,
                "snapshot caches a, b together at 0/1",
                None,
                &[]
            )),
            MarkKind::Together
        );
        assert_eq!(
            kind_of(&snap(
                skein,
                "restore main.x to snapshot 3",
                Some(r#"{"restore":{}}"#),
                &[]
            )),
            MarkKind::Restore
        );
        assert_eq!(
            kind_of(&snap(skein, "flush inlined data", None, &[])),
            MarkKind::Maintenance
        );
        assert_eq!(
            kind_of(&snap(skein, "create cache x", None, &[])),
            MarkKind::Catalog
        );
        assert_eq!(
            kind_of(&snap(
                skein,
                "bookmark before: snapshot 3",
                None,
                &["tables_created"]
            )),
            MarkKind::Catalog
        );
        assert_eq!(
            kind_of(&snap(skein, "something new", None, &["tables_altered"])),
            MarkKind::Schema
        );
        assert_eq!(
            kind_of(&snap(Some("etl"), "nightly load", None, &[])),
            MarkKind::Other
        );
        assert_eq!(kind_of(&snap(None, "", None, &[])), MarkKind::Other);
        assert_eq!(
            kind_of(&snap(None, "", None, &["schemas_created"])),
            MarkKind::Schema
        );
    }
}
