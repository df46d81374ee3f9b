//! Lake maintenance through DuckLake's own functions — never hand-written file deletion:
//!
//! - `ducklake_expire_snapshots(lake, versions => […] | older_than => …, dry_run => …)`: the
//!   snapshots go (time travel to them stops working); their data files move to
//!   `ducklake_files_scheduled_for_deletion`. The latest snapshot is never expired.
//! - `ducklake_cleanup_old_files(lake, cleanup_all => true, dry_run => …)`: deletes the files
//!   scheduled for deletion.
//! - `ducklake_delete_orphaned_files(lake, cleanup_all => true, dry_run => …)`: deletes files
//!   under the data path that no snapshot references.
//!
//! Every destructive call has a dry run that lists exactly what the real run removes; the
//! real expiry is run on the snapshot ids the preview listed (`versions => …`), so a snapshot
//! that became expirable in between is not taken without being shown. Only one maintenance
//! operation runs per lake at a time, across processes: [`MaintenanceLock`] holds a
//! PostgreSQL advisory lock on the catalog database.
//!
//! Sizes come from the catalog (`ducklake_data_file.file_size_bytes`) and, for files already
//! scheduled for deletion, from the file system or, on an object store, its `size` of each
//! object (`read_blob`, no content read). Deleting orphaned files is refused when the data
//! path is a bucket's root, and any file listed outside the data path stops a deletion.

use serde::{Deserialize, Serialize};
use skein_pg::Node;

use crate::changes::SnapshotRef;
use crate::error::{Error, Result};
use crate::lake::{ident, lit, Lake};
use crate::snapshot::Snapshot;

/// What the lake holds, and what maintenance could reclaim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LakeStats {
    /// Snapshots (`<lake>.snapshots()`).
    pub snapshots: u64,
    /// The oldest snapshot (`id`, `time_ms`: ms since the Unix epoch); `null` when the
    /// lake has none.
    pub oldest_snapshot: Option<SnapshotRef>,
    /// The newest snapshot, likewise: never expired.
    pub newest_snapshot: Option<SnapshotRef>,
    /// Data and delete files the catalog lists (`ducklake_data_file` + `ducklake_delete_file`).
    pub files: u64,
    /// Their bytes (`file_size_bytes`).
    pub bytes: u64,
    /// Files only older snapshots reference (`end_snapshot` set): expiring those snapshots
    /// schedules them for deletion.
    pub old_files: u64,
    /// Their bytes.
    pub old_bytes: u64,
    /// Files already scheduled for deletion (`ducklake_files_scheduled_for_deletion`): cleanup
    /// deletes them.
    pub scheduled_files: u64,
    /// Their bytes (from the file system, or the object store's `size`; `null` when one
    /// cannot be read).
    pub scheduled_bytes: Option<u64>,
    /// Live rows held inlined in the catalog rather than in Parquet files (the catalog's
    /// `ducklake_inlined_data_*` tables); flushing inlined data writes them out.
    pub inlined_rows: u64,
}

/// A file a cleanup deletes (or deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LakeFile {
    /// Absolute path (or URL) as DuckLake reports it.
    pub path: String,
    /// Size before deletion (the file system's, or the object store's); `null` when it cannot
    /// be read.
    pub bytes: Option<u64>,
}

/// What an expiry did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ExpireReport {
    /// The snapshots expired, oldest first.
    pub expired: Vec<Snapshot>,
    /// The files the expiry scheduled for deletion (a cleanup deletes them), with sizes.
    pub scheduled: Vec<LakeFile>,
}

impl ExpireReport {
    /// One line for a person saying what happened: how many snapshots went and which files
    /// (if any) are now scheduled for deletion, or why none is.
    pub fn message(&self) -> String {
        let n = self.expired.len();
        let snaps = if n == 1 {
            "1 snapshot".to_owned()
        } else {
            format!("{n} snapshots")
        };
        let k = self.scheduled.len();
        if k == 0 {
            format!(
                "expired {snaps}; no file was scheduled for deletion: the data only {} used was \
                 inlined in the catalog or is still used by a snapshot kept, so there is nothing to \
                 clean up",
                if n == 1 { "it" } else { "they" }
            )
        } else {
            let size = self
                .scheduled
                .iter()
                .map(|f| f.bytes)
                .sum::<Option<u64>>()
                .map(|b| format!(" ({b} bytes)"))
                .unwrap_or_default();
            format!(
                "expired {snaps}; {}{size} scheduled for deletion: clean up to reclaim the space",
                if k == 1 {
                    "1 file".to_owned()
                } else {
                    format!("{k} files")
                }
            )
        }
    }
}

/// Which snapshots to expire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ExpireTarget {
    /// Every snapshot before this instant (RFC 3339 or `YYYY-MM-DD HH:MM:SS`, UTC), except
    /// the latest.
    OlderThan(String),
    /// These snapshot ids (the latest is never expired).
    Versions(Vec<i64>),
}

/// The catalog-wide lock that keeps maintenance to one operation per lake.
pub struct MaintenanceLock {
    client: Option<deadpool_postgres::ClientWrapper>,
    key: i64,
}

/// The advisory-lock key of a lake's maintenance (stable across processes). Advisory locks
/// are scoped to the catalog database, which holds exactly one lake, so the key does not
/// depend on the name a profile attaches the lake under: two consoles that call one lake by
/// different names still take the same lock.
fn lock_key() -> i64 {
    skein_core::stable_hash("skein maintenance") as i64
}

impl MaintenanceLock {
    /// Takes the lock or fails at once with `Conflict` when another operation (in this or
    /// another process) holds it. The lock lives on a connection of its own: it is released
    /// by [`MaintenanceLock::release`], or by PostgreSQL when the process dies.
    pub async fn acquire(catalog: &Node, lake: &str) -> Result<MaintenanceLock> {
        let key = lock_key();
        let client = deadpool_postgres::Object::take(catalog.client().await?);
        let got: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await
            .map_err(|e| Error::Pg(skein_pg::Error::from_pg("lake", "catalog", "locking", &e)))?
            .get(0);
        if !got {
            return Err(Error::Conflict(format!(
                "another maintenance operation is running on lake {lake}: wait for it to finish (one at a time per lake)"
            )));
        }
        Ok(MaintenanceLock {
            client: Some(client),
            key,
        })
    }

    /// Releases the lock (closing its connection).
    pub async fn release(mut self) {
        if let Some(c) = self.client.take() {
            // Closing the connection releases the lock too, so a failure here frees it anyway.
            if let Err(e) = c
                .execute("SELECT pg_advisory_unlock($1)", &[&self.key])
                .await
            {
                tracing::debug!(
                    key = self.key,
                    "maintenance lock released by closing its connection: {}",
                    skein_core::conninfo::describe(&e)
                );
            }
        }
    }
}

impl Lake {
    /// The catalog node (for [`MaintenanceLock::acquire`]).
    pub fn catalog(&self) -> &Node {
        &self.catalog
    }

    /// What the lake holds and what maintenance could reclaim.
    pub async fn stats(&self) -> Result<LakeStats> {
        self.read(|conn, lake| {
            let meta = ident(&format!("__ducklake_metadata_{lake}"));
            let (snapshots, oldest_id, oldest_ms): (i64, Option<i64>, Option<i64>) = conn
                .query_row(
                    &format!(
                        "SELECT count(*), min(snapshot_id), epoch_ms(min(snapshot_time)) FROM {}.snapshots()",
                        ident(lake)
                    ),
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .map_err(Error::duck("reading the snapshots"))?;
            let files_sql = format!(
                "SELECT count(*), coalesce(sum(file_size_bytes), 0)::BIGINT, \
                 count(*) FILTER (WHERE end_snapshot IS NOT NULL), \
                 coalesce(sum(file_size_bytes) FILTER (WHERE end_snapshot IS NOT NULL), 0)::BIGINT \
                 FROM (SELECT file_size_bytes, end_snapshot FROM {meta}.ducklake_data_file \
                       UNION ALL SELECT file_size_bytes, end_snapshot FROM {meta}.ducklake_delete_file)"
            );
            let (files, bytes, old_files, old_bytes): (i64, i64, i64, i64) = conn
                .query_row(&files_sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .map_err(Error::duck("reading the data files"))?;
            let newest_snapshot = crate::changes::history_range(conn, lake)
                .ok()
                .map(|(_, newest)| newest);
            let scheduled = scheduled_files(conn, lake)?;
            let inlined_rows = inlined_rows(conn, &meta)?;
            let scheduled_bytes = scheduled.iter().map(|f| f.bytes).sum::<Option<u64>>();
            Ok(LakeStats {
                snapshots: snapshots.max(0) as u64,
                oldest_snapshot: oldest_id
                    .zip(oldest_ms)
                    .map(|(id, time_ms)| SnapshotRef { id, time_ms }),
                newest_snapshot,
                files: files.max(0) as u64,
                bytes: bytes.max(0) as u64,
                old_files: old_files.max(0) as u64,
                old_bytes: old_bytes.max(0) as u64,
                scheduled_files: scheduled.len() as u64,
                scheduled_bytes,
                inlined_rows,
            })
        })
        .await
    }

    /// Expires snapshots (`ducklake_expire_snapshots`); with `dry_run`, only lists them.
    /// Returns the snapshots expired (or that would be), oldest first.
    ///
    /// Errors: `InvalidInput` for a malformed timestamp or an empty id list.
    pub async fn expire_snapshots(
        &self,
        target: &ExpireTarget,
        dry_run: bool,
    ) -> Result<Vec<Snapshot>> {
        let arg = match target {
            ExpireTarget::OlderThan(t) => {
                let t = crate::snapshot::parse_timestamp(t)?;
                format!("older_than => {}", crate::snapshot::timestamptz(&t))
            }
            ExpireTarget::Versions(v) if v.is_empty() => {
                return Err(Error::InvalidInput(
                    "no snapshots to expire: name at least one id".into(),
                ))
            }
            ExpireTarget::Versions(v) => format!(
                "versions => [{}]",
                v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
            ),
        };
        let work = move |conn: &duckdb::Connection, lake: &str| {
            let sql = format!(
                "SELECT snapshot_id, epoch_ms(snapshot_time), strftime(snapshot_time::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%gZ'), \
                 schema_version, to_json(changes)::VARCHAR, author, commit_message, commit_extra_info \
                 FROM ducklake_expire_snapshots({}, {arg}, dry_run => {dry_run}) ORDER BY snapshot_id",
                lit(lake)
            );
            crate::snapshot::query_snapshots(conn, &sql, "expiring snapshots")
        };
        if dry_run {
            self.read(work).await
        } else {
            let expired = self.run(work).await?;
            tracing::info!(
                lake = %self.name,
                snapshots = expired.len(),
                ids = %expired.iter().map(|s| s.id.to_string()).collect::<Vec<_>>().join(","),
                "snapshots expired"
            );
            Ok(expired)
        }
    }

    /// Expires the snapshots `versions` (as [`Lake::expire_snapshots`], for real) and reports
    /// the files the expiry scheduled for deletion: those `ducklake_cleanup_old_files` lists
    /// after it and did not list before. None when the data only those snapshots used was
    /// inlined in the catalog or is still used by a snapshot kept.
    ///
    /// Errors: as [`Lake::expire_snapshots`].
    pub async fn expire_versions(&self, versions: &[i64]) -> Result<ExpireReport> {
        let before: std::collections::HashSet<String> = self
            .read(scheduled_files)
            .await?
            .into_iter()
            .map(|f| f.path)
            .collect();
        let expired = self
            .expire_snapshots(&ExpireTarget::Versions(versions.to_vec()), false)
            .await?;
        let scheduled = self
            .read(scheduled_files)
            .await?
            .into_iter()
            .filter(|f| !before.contains(&f.path))
            .collect();
        Ok(ExpireReport { expired, scheduled })
    }

    /// Deletes the files scheduled for deletion (`ducklake_cleanup_old_files`, all of them);
    /// with `dry_run`, only lists them. Sizes are read before deletion.
    pub async fn cleanup_old_files(&self, dry_run: bool) -> Result<Vec<LakeFile>> {
        self.delete_files("ducklake_cleanup_old_files", dry_run)
            .await
    }

    /// Deletes files under the data path that no snapshot references
    /// (`ducklake_delete_orphaned_files`); with `dry_run`, only lists them.
    pub async fn delete_orphaned_files(&self, dry_run: bool) -> Result<Vec<LakeFile>> {
        self.delete_files("ducklake_delete_orphaned_files", dry_run)
            .await
    }

    async fn delete_files(&self, function: &'static str, dry_run: bool) -> Result<Vec<LakeFile>> {
        let orphans = function == "ducklake_delete_orphaned_files";
        if orphans && self.data_path.contains("://") {
            // DuckLake deletes every object under the data path that no snapshot references:
            // at a bucket's root that is everything else in the bucket.
            let prefix = skein_core::storage::bucket_of(&self.data_path)
                .map(|(_, p)| p)
                .unwrap_or_default();
            if prefix.trim_matches('/').is_empty() {
                return Err(Error::InvalidInput(format!(
                    "refusing to delete orphaned files: the data path {} is a bucket's root, so \
                     every object in the bucket that is not the lake's would go; give the lake a \
                     prefix of its own (s3://bucket/lake/)",
                    self.data_path
                )));
            }
        }
        // List first (always a dry run) so the sizes can be read before the files go.
        let data_path = self.data_path.clone();
        let files = self
            .read(move |conn, lake| {
                let listed = paths(
                    conn,
                    &format!(
                        "SELECT path FROM {function}({}, cleanup_all => true, dry_run => true) ORDER BY path",
                        lit(lake)
                    ),
                )?;
                // Never anything outside the data path (DuckLake lists under it).
                if let Some(outside) = listed.iter().find(|p| !p.starts_with(&data_path)) {
                    return Err(Error::InvalidInput(format!(
                        "refusing to delete files: {outside} is outside the data path {data_path}"
                    )));
                }
                Ok(with_sizes(conn, listed))
            })
            .await?;
        if dry_run {
            return Ok(files);
        }
        let deleted = self
            .run(move |conn, lake| {
                paths(
                    conn,
                    &format!(
                        "SELECT path FROM {function}({}, cleanup_all => true) ORDER BY path",
                        lit(lake)
                    ),
                )
            })
            .await?;
        tracing::info!(
            lake = %self.name,
            function,
            files = deleted.len(),
            "lake files deleted"
        );
        Ok(deleted
            .into_iter()
            .map(|path| LakeFile {
                bytes: files.iter().find(|f| f.path == path).and_then(|f| f.bytes),
                path,
            })
            .collect())
    }
}

/// Live inlined rows of the live tables (`ducklake_inlined_data_tables` joined with
/// `ducklake_table`).
fn inlined_rows(conn: &duckdb::Connection, meta: &str) -> Result<u64> {
    let tables = paths(
        conn,
        // Only tables still alive: a replaced or dropped table leaves its inlined rows behind.
        &format!(
            "SELECT i.table_name FROM {meta}.ducklake_inlined_data_tables i \
             JOIN {meta}.ducklake_table t ON t.table_id = i.table_id WHERE t.end_snapshot IS NULL"
        ),
    )?;
    let mut total = 0u64;
    for t in tables {
        // A table listed but gone (dropped with its table) counts as empty.
        if let Ok(n) = conn.query_row(
            &format!(
                "SELECT count(*) FROM {meta}.{} WHERE end_snapshot IS NULL",
                ident(&t)
            ),
            [],
            |r| r.get::<_, i64>(0),
        ) {
            total += n.max(0) as u64;
        }
    }
    Ok(total)
}

fn paths(conn: &duckdb::Connection, sql: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(sql).map_err(Error::duck("listing files"))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(Error::duck("listing files"))?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::duck("listing files"))
}

/// The files with their sizes: a local file's from the file system, an object's from the
/// store (`read_blob`'s `size`, which reads no content); `None` where it cannot be read.
fn with_sizes(conn: &duckdb::Connection, paths: Vec<String>) -> Vec<LakeFile> {
    let remote: Vec<&String> = paths.iter().filter(|p| p.contains("://")).collect();
    let mut sizes = std::collections::HashMap::new();
    for chunk in remote.chunks(500) {
        let list = chunk.iter().map(|p| lit(p)).collect::<Vec<_>>().join(", ");
        // A size that cannot be read is shown as unknown (`bytes: null`), never as 0; why is
        // logged (a file gone since the listing, the store unreachable).
        let read = conn
            .prepare(&format!("SELECT filename, size FROM read_blob([{list}])"))
            .and_then(|mut stmt| {
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                    .collect::<std::result::Result<Vec<_>, _>>()
            });
        match read {
            Ok(rows) => {
                for (name, size) in rows {
                    sizes.insert(name, size.max(0) as u64);
                }
            }
            Err(e) => tracing::warn!(
                files = chunk.len(),
                "the sizes of files in the object store could not be read: {}",
                e.to_string().lines().next().unwrap_or("")
            ),
        }
    }
    paths
        .into_iter()
        .map(|path| LakeFile {
            bytes: if path.contains("://") {
                sizes.get(&path).copied()
            } else {
                std::fs::metadata(&path).ok().map(|m| m.len())
            },
            path,
        })
        .collect()
}

fn scheduled_files(conn: &duckdb::Connection, lake: &str) -> Result<Vec<LakeFile>> {
    let listed = paths(
        conn,
        &format!(
            "SELECT path FROM ducklake_cleanup_old_files({}, cleanup_all => true, dry_run => true)",
            lit(lake)
        ),
    )?;
    Ok(with_sizes(conn, listed))
}

/// A compaction DuckLake offers; each writes a snapshot (author `skein`, a message) and has no
/// dry run: its preview is the table's files ([`Lake::compaction_preview`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Compaction {
    /// `ducklake_merge_adjacent_files`: small adjacent data files merged into larger ones.
    MergeAdjacentFiles,
    /// `ducklake_rewrite_data_files`: data files with deletes rewritten without the deleted
    /// rows.
    RewriteDataFiles,
    /// `ducklake_flush_inlined_data`: rows inlined in the catalog written out to Parquet.
    FlushInlinedData,
}

impl Compaction {
    /// Every compaction, in the order the console offers them.
    pub const ALL: [Compaction; 3] = [
        Compaction::MergeAdjacentFiles,
        Compaction::RewriteDataFiles,
        Compaction::FlushInlinedData,
    ];

    fn function(self) -> &'static str {
        match self {
            Compaction::MergeAdjacentFiles => "ducklake_merge_adjacent_files",
            Compaction::RewriteDataFiles => "ducklake_rewrite_data_files",
            Compaction::FlushInlinedData => "ducklake_flush_inlined_data",
        }
    }

    /// What it does, for commit messages and job titles.
    pub fn describe(self) -> &'static str {
        match self {
            Compaction::MergeAdjacentFiles => "merge adjacent files",
            Compaction::RewriteDataFiles => "rewrite data files with deletes",
            Compaction::FlushInlinedData => "flush inlined data",
        }
    }
}

/// One table's current files: what a compaction works on (`ducklake_list_files`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TableFiles {
    /// `schema.table`.
    pub table: String,
    /// Data files at the current snapshot.
    pub data_files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Data files that carry a delete file (rows deleted since they were written).
    pub files_with_deletes: u64,
}

/// What a compaction did to one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CompactionResult {
    /// `schema.table`.
    pub table: String,
    /// Files read (merge, rewrite) or rows written out (flush).
    pub processed: u64,
    /// Files written (merge, rewrite); 0 for a flush.
    pub created: u64,
}

impl Lake {
    /// Every table's current data files (`ducklake_list_files`), for a compaction's preview.
    pub async fn compaction_preview(&self) -> Result<Vec<TableFiles>> {
        let tables = self.tables().await?;
        self.read(move |conn, lake| {
            let mut out = Vec::new();
            for t in tables {
                let Some((schema, table)) = t.name.split_once('.') else {
                    continue;
                };
                let (files, bytes, with_deletes): (i64, i64, i64) = conn
                    .query_row(
                        &format!(
                            "SELECT count(*), coalesce(sum(data_file_size_bytes), 0)::BIGINT, count(delete_file) \
                             FROM ducklake_list_files({}, {}, schema => {})",
                            lit(lake),
                            lit(table),
                            lit(schema)
                        ),
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .map_err(Error::duck(format!("listing the files of {}", t.name)))?;
                out.push(TableFiles {
                    table: t.name.clone(),
                    data_files: files.max(0) as u64,
                    bytes: bytes.max(0) as u64,
                    files_with_deletes: with_deletes.max(0) as u64,
                });
            }
            Ok(out)
        })
        .await
    }

    /// Runs a compaction over the whole lake in one commit with author `skein` and message
    /// `<what it does>`; the tables it touched, with counts. Take a [`MaintenanceLock`] first.
    pub async fn compact(&self, what: Compaction) -> Result<Vec<CompactionResult>> {
        self.run(move |conn, lake| {
            crate::cache::commit(conn, lake, what.describe(), "{}", |c| {
                let mut stmt = c
                    .prepare(&format!("SELECT * FROM {}({})", what.function(), lit(lake)))
                    .map_err(Error::duck(what.describe()))?;
                let rows = stmt
                    .query_map([], |r| {
                        let schema: String = r.get(0)?;
                        let table: String = r.get(1)?;
                        let processed: i64 =
                            r.get::<_, duckdb::types::Value>(2).map(|v| match v {
                                duckdb::types::Value::BigInt(n) => n,
                                duckdb::types::Value::HugeInt(n) => n as i64,
                                duckdb::types::Value::Int(n) => i64::from(n),
                                _ => 0,
                            })?;
                        let created: i64 = if what == Compaction::FlushInlinedData {
                            0
                        } else {
                            r.get(3)?
                        };
                        Ok(CompactionResult {
                            table: format!("{schema}.{table}"),
                            processed: processed.max(0) as u64,
                            created: created.max(0) as u64,
                        })
                    })
                    .map_err(Error::duck(what.describe()))?;
                rows.collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(Error::duck(what.describe()))
            })
        })
        .await
        .inspect(|done| {
            tracing::info!(
                lake = %self.name,
                tables = done.len(),
                "{} done",
                what.describe()
            )
        })
    }
}
