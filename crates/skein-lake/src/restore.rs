//! Restoring a lake table to what it held at an earlier snapshot, as a snapshot operation.
//!
//! The preview is the diff it would apply: from the current snapshot to the restored one
//! ([`Lake::diff`]), with its counts and first rows. The restore itself is one DuckLake commit
//! with author `skein` and message `restore TABLE to snapshot N`:
//! `CREATE OR REPLACE TABLE … AS SELECT * FROM … AT (VERSION => N)`, so columns come back as
//! they were too. It names the snapshot its preview was taken at: when the table changed since
//! (another console's refresh, a writer), it is refused with `Conflict` and nothing is written,
//! so what is confirmed is what is applied.
//!
//! For a cache's table the same commit appends a refresh record with `restored_from = N`
//! (`<lake>.skein.cache_refreshes`): the cache is then [`crate::CacheState::Restored`] — never
//! served — until its next refresh, which is never SKIPPED (the record's fingerprint matches
//! no source). The scheduler refreshes it once its TTL has passed; pause the cache to keep the
//! restored data.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::cache::{commit, now_ms, read_definitions, refresh_extra_info};
use crate::diff::{DiffRequest, TableDiff};
use crate::error::{Error, Result};
use crate::lake::{ident, Lake};
use crate::snapshot::{qualified, At};

/// What restoring a table to a snapshot would apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RestorePreview {
    /// The table as asked.
    pub table: String,
    /// The snapshot it would be restored to.
    pub version: i64,
    /// The lake's current snapshot, the preview's "now": pass it to [`Lake::restore`].
    pub current: i64,
    /// The cache whose table it is, if any (it becomes `restored`).
    pub cache: Option<String>,
    /// From `current` to `version`: rows the restore adds back, removes and changes, with the
    /// first of them.
    pub diff: TableDiff,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RestoreResult {
    /// The table as asked.
    pub table: String,
    /// The snapshot it was restored to.
    pub version: i64,
    /// The snapshot the restore committed.
    pub snapshot_id: Option<i64>,
    /// Rows added back, removed and changed (as the preview counted them).
    pub added: u64,
    /// See `added`.
    pub removed: u64,
    /// See `added`.
    pub changed: u64,
    /// Rows in the table now.
    pub rows: u64,
    /// The cache marked restored, if the table is one's.
    pub cache: Option<String>,
}

impl Lake {
    /// What restoring `table` to snapshot `version` would apply: the diff from the current
    /// snapshot to `version` (by the cache's key when it has one), its first `limit` rows.
    ///
    /// Errors: those of [`Lake::diff`] (a snapshot or a table that does not exist names what
    /// the lake holds); `InvalidInput` when `version` is the current snapshot.
    pub async fn preview_restore(
        &self,
        table: &str,
        version: i64,
        limit: u32,
    ) -> Result<RestorePreview> {
        let current = self.snapshot_at(&At::Latest).await?.id;
        if version == current {
            return Err(Error::InvalidInput(format!(
                "snapshot {version} is the lake's current snapshot: restore {table} to an earlier one"
            )));
        }
        let diff = self
            .diff(DiffRequest {
                table: table.to_owned(),
                from: current,
                to: version,
                key: None,
                only: None,
                limit,
                offset: 0,
            })
            .await?;
        let t = table.to_owned();
        let cache = self
            .read(move |conn, lake| crate::cache::cache_of_table(conn, lake, &t))
            .await?
            .map(|d| d.name);
        Ok(RestorePreview {
            table: table.to_owned(),
            version,
            current,
            cache,
            diff,
        })
    }

    /// Restores `table` to what it held at snapshot `version`, in one commit (`restore TABLE to
    /// snapshot N`), after checking that it has not changed since `previewed` (the `current`
    /// of the [`RestorePreview`] the user confirmed). A cache's table makes the cache
    /// `restored` in the same commit.
    ///
    /// Errors: `Conflict` when the table changed since `previewed` (preview again) or another
    /// writer committed to it at the same moment; `InvalidInput` when there is nothing to
    /// restore (the table holds what it held then); those of [`Lake::preview_restore`].
    pub async fn restore(
        &self,
        table: &str,
        version: i64,
        previewed: i64,
    ) -> Result<RestoreResult> {
        let started = Instant::now();
        let preview = self.preview_restore(table, version, 1).await?;
        if preview.current != previewed {
            // Something was committed since the preview: only a change of this table matters.
            let since = self
                .diff(DiffRequest {
                    table: table.to_owned(),
                    from: previewed,
                    to: preview.current,
                    key: Some(Vec::new()),
                    only: None,
                    limit: 1,
                    offset: 0,
                })
                .await?;
            let s = &since.schema;
            if since.added + since.removed > 0
                || !(s.added.is_empty() && s.dropped.is_empty() && s.retyped.is_empty())
            {
                return Err(Error::Conflict(format!(
                    "{table} changed since the preview (snapshot {previewed} → {}): preview the restore again",
                    preview.current
                )));
            }
        }
        let d = &preview.diff;
        let s = &d.schema;
        if d.added + d.removed + d.changed == 0
            && s.added.is_empty()
            && s.dropped.is_empty()
            && s.retyped.is_empty()
        {
            return Err(Error::InvalidInput(format!(
                "nothing to restore: {table} holds at snapshot {} what it held at snapshot {version}",
                preview.current
            )));
        }
        let q = qualified(table)?;
        let clause = At::Version(version).clause()?;
        let refresh_id = uuid::Uuid::new_v4().to_string();
        let cache = preview.cache.clone();
        let (t, rid, c) = (table.to_owned(), refresh_id.clone(), cache.clone());
        let rows = self
            .run(move |conn, lake| {
                let l = ident(lake);
                let mut extra = match &c {
                    Some(name) => serde_json::from_str::<serde_json::Value>(&refresh_extra_info(name, &rid))
                        .unwrap_or_default(),
                    None => serde_json::json!({}),
                };
                extra["restore"] = serde_json::json!({ "table": t, "version": version, "id": rid });
                let message = format!("restore {t} to snapshot {version}");
                commit(conn, lake, &message, &extra.to_string(), |conn| {
                    conn.execute_batch(&format!(
                        "CREATE OR REPLACE TABLE {l}.{q} AS SELECT * FROM {l}.{q}{clause}"
                    ))
                    .map_err(Error::duck(format!("restoring {t} to snapshot {version}")))?;
                    let rows: i64 = conn
                        .query_row(&format!("SELECT count(*) FROM {l}.{q}"), [], |r| r.get(0))
                        .map_err(Error::duck("counting the restored rows"))?;
                    if let Some(name) = &c {
                        let def = read_definitions(conn, lake, Some(name))?
                            .pop()
                            .ok_or_else(|| Error::NotFound(format!("no cache named '{name}'")))?;
                        conn.execute(
                            &format!(
                                "INSERT INTO {l}.skein.cache_refreshes (cache, refresh_id, refreshed_at_ms, fingerprint, \
                                 source_lsn, served_by, rows, duration_ms, definition, restored_from) \
                                 VALUES (?, ?, ?, ?, '', 'restore', ?, ?, ?, ?)"
                            ),
                            duckdb::params![
                                name,
                                rid,
                                now_ms(),
                                format!("restored from snapshot {version}"),
                                rows,
                                started.elapsed().as_millis() as i64,
                                def.digest(),
                                version
                            ],
                        )
                        .map_err(Error::duck("recording the restore"))?;
                    }
                    Ok(rows.max(0) as u64)
                })
            })
            .await?;
        let snapshot_id = self
            .read(move |conn, lake| {
                conn.query_row(
                    &format!(
                        "SELECT max(snapshot_id) FROM {}.snapshots() WHERE author = 'skein' \
                         AND json_extract_string(commit_extra_info, '$.restore.id') = ?",
                        ident(lake)
                    ),
                    [refresh_id.as_str()],
                    |r| r.get::<_, Option<i64>>(0),
                )
                .map_err(Error::duck("finding the restore's snapshot"))
            })
            .await?;
        Ok(RestoreResult {
            table: table.to_owned(),
            version,
            snapshot_id,
            added: d.added,
            removed: d.removed,
            changed: d.changed,
            rows,
            cache,
        })
    }
}
