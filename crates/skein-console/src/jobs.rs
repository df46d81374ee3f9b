//! Maintenance jobs: a lake operation (expire snapshots, clean up files) that runs in the
//! background after its preview was confirmed. Starting one takes the lake's maintenance lock
//! first ([`skein_lake::MaintenanceLock`], a catalog advisory lock), so a second operation —
//! from this console, another console or the CLI — is refused at once with `Conflict`. Each
//! state change is emitted as a `job` event; the last [`JOBS_KEPT`] jobs stay listed.
//!
//! DuckLake's maintenance functions report nothing until they return, so a job's progress is
//! its state (running → done / failed) and its elapsed time, not a percentage.

use serde::{Deserialize, Serialize};
use skein_core::ErrorInfo;
use skein_lake::{Compaction, Lake, LakeFile, MaintenanceLock};
use ts_rs::TS;

use crate::console::Console;
use crate::error::{Error, Result};
use crate::rpc::Event;

/// Jobs kept in the list (older ones fall off; [`crate::limits::JOBS_KEPT`]).
pub const JOBS_KEPT: usize = crate::limits::JOBS_KEPT;

/// What a job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobKind {
    /// `ducklake_expire_snapshots(versions => …)`.
    ExpireSnapshots {
        /// The snapshot ids the preview listed.
        versions: Vec<i64>,
    },
    /// A compaction over the whole lake (`ducklake_merge_adjacent_files`,
    /// `ducklake_rewrite_data_files` or `ducklake_flush_inlined_data`), one commit.
    Compact {
        /// Which one.
        what: Compaction,
    },
    /// `ducklake_cleanup_old_files(cleanup_all => true)` (`orphaned`: false) or
    /// `ducklake_delete_orphaned_files(cleanup_all => true)` (`orphaned`: true).
    DeleteFiles {
        /// Orphaned files rather than files scheduled for deletion.
        orphaned: bool,
    },
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Running now.
    Running,
    /// Finished; `result` says what it did.
    Done,
    /// Failed; `error` says why. The lake is as DuckLake's transaction left it (unchanged).
    Failed,
}

/// A maintenance job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Job {
    /// Id, unique within this console.
    pub id: u64,
    /// What it does.
    pub kind: JobKind,
    /// One line for a person ("expire 12 snapshots").
    pub title: String,
    /// Running, done or failed.
    pub state: JobState,
    /// Start, ms since the Unix epoch.
    pub started_ms: u64,
    /// End, ms since the Unix epoch.
    pub finished_ms: Option<u64>,
    /// What it did (done only).
    pub result: Option<JobResult>,
    /// Why it failed (failed only).
    pub error: Option<ErrorInfo>,
}

/// What a finished job did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct JobResult {
    /// One line for a person.
    pub message: String,
    /// Snapshots expired or files deleted.
    pub items: u64,
    /// Bytes reclaimed (file deletions of local files; `null` otherwise).
    pub bytes: Option<u64>,
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

impl Console {
    /// Starts a maintenance job after taking the lake's maintenance lock. Returns the job as
    /// started; its end arrives as a `job` event (and in [`Console::jobs`]).
    ///
    /// Errors: `Conflict` when another maintenance operation runs on this lake;
    /// `InvalidInput` for an empty snapshot list.
    pub async fn start_job(&self, kind: JobKind) -> Result<Job> {
        if let JobKind::ExpireSnapshots { versions } = &kind {
            if versions.is_empty() {
                return Err(Error::InvalidInput(
                    "no snapshots to expire: preview first, then confirm the ids it listed".into(),
                ));
            }
        }
        let lake = self.lake().await?;
        let lock = MaintenanceLock::acquire(lake.catalog(), &lake.name).await?;
        let title = match &kind {
            JobKind::ExpireSnapshots { versions } => {
                format!("expire {}", plural(versions.len(), "snapshot"))
            }
            JobKind::DeleteFiles { orphaned: false } => {
                "delete the files scheduled for deletion".into()
            }
            JobKind::DeleteFiles { orphaned: true } => "delete orphaned files".into(),
            JobKind::Compact { what } => what.describe().to_owned(),
        };
        let job = Job {
            id: self.next_job_id(),
            kind: kind.clone(),
            title,
            state: JobState::Running,
            started_ms: crate::now_ms(),
            finished_ms: None,
            result: None,
            error: None,
        };
        self.record_job(&job);
        tracing::info!(job = job.id, lake = %lake.name, "job started: {}", job.title);
        let console = self.clone();
        let mut running = job.clone();
        tokio::spawn(async move {
            let outcome = run(&lake, &kind).await;
            lock.release().await;
            running.finished_ms = Some(crate::now_ms());
            match outcome {
                Ok(result) => {
                    tracing::info!(
                        job = running.id,
                        lake = %lake.name,
                        "{}: {}",
                        running.title,
                        result.message
                    );
                    running.state = JobState::Done;
                    running.result = Some(result);
                }
                Err(e) => {
                    tracing::warn!(
                        job = running.id,
                        lake = %lake.name,
                        code = %e.code(),
                        "{} failed: {e}",
                        running.title
                    );
                    running.state = JobState::Failed;
                    running.error = Some(e.info());
                }
            }
            console.record_job(&running);
            console.poke_watcher();
        });
        Ok(job)
    }
}

async fn run(lake: &Lake, kind: &JobKind) -> Result<JobResult> {
    match kind {
        JobKind::ExpireSnapshots { versions } => {
            let report = lake.expire_versions(versions).await?;
            Ok(JobResult {
                message: report.message(),
                items: report.expired.len() as u64,
                bytes: None,
            })
        }
        JobKind::Compact { what } => {
            let done = lake.compact(*what).await?;
            let processed: u64 = done.iter().map(|r| r.processed).sum();
            let created: u64 = done.iter().map(|r| r.created).sum();
            let unit = if *what == Compaction::FlushInlinedData {
                "rows"
            } else {
                "files"
            };
            Ok(JobResult {
                message: if done.is_empty() {
                    format!("{}: nothing to do", what.describe())
                } else if *what == Compaction::FlushInlinedData {
                    format!(
                        "flushed {processed} inlined rows of {} table(s) to Parquet",
                        done.len()
                    )
                } else {
                    format!(
                        "{}: {processed} {unit} read, {created} written, in {} table(s)",
                        what.describe(),
                        done.len()
                    )
                },
                items: processed,
                bytes: None,
            })
        }
        JobKind::DeleteFiles { orphaned } => {
            let files: Vec<LakeFile> = if *orphaned {
                lake.delete_orphaned_files(false).await?
            } else {
                lake.cleanup_old_files(false).await?
            };
            let bytes = files.iter().map(|f| f.bytes).sum::<Option<u64>>();
            Ok(JobResult {
                message: format!(
                    "deleted {}{}",
                    plural(files.len(), "file"),
                    bytes.map_or(String::new(), |b| format!(" ({b} bytes)"))
                ),
                items: files.len() as u64,
                bytes,
            })
        }
    }
}

/// Emits a job's state.
pub(crate) fn job_event(job: &Job) -> Event {
    Event::Job(job.clone())
}
