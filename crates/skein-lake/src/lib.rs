//! DuckDB + DuckLake for Skein: open the lake a profile names (PostgreSQL catalog, Parquet
//! data path) with the pinned `ducklake` and `postgres` extensions; list snapshots and travel
//! in time; define caches and refresh them without ever recording stale data as fresh.
//!
//! DuckDB connections are `Send` but not `Sync`: every DuckDB call runs on the blocking pool
//! ([`tokio::task::spawn_blocking`]) behind a mutex, never on the async runtime's workers.

pub mod bookmarks;
pub mod cache;
pub mod changes;
pub mod detect;
pub mod diff;
mod error;
pub mod feed;
pub mod history;
pub mod identity;
pub mod key;
mod lake;
pub mod lifecycle;
pub mod maintenance;
pub mod refresh;
pub mod restore;
pub mod routed;
pub mod side;
pub mod snapshot;
pub mod storage;
pub mod timeline;
pub mod together;
mod validate;
mod value;
pub mod writer;

pub use bookmarks::Bookmark;
pub use cache::{CacheDefinition, CacheSpec, CacheState, CacheStatus};
pub use changes::{LakeTable, SnapshotChanges, SnapshotRef, TableChange};
pub use diff::{DiffKind, DiffRequest, DiffRow, Retyped, SchemaDiff, TableDiff};
pub use error::{Error, Result};
pub use history::{HistoryPoint, TableHistory};
pub use identity::WriterActivity;
pub use key::{suggest_key, KeySuggestion};
pub use lake::Lake;
pub use maintenance::{
    Compaction, CompactionResult, ExpireReport, ExpireTarget, LakeFile, LakeStats, MaintenanceLock,
    TableFiles,
};
pub use refresh::{RefreshOutcome, RefreshResult};
pub use restore::{RestorePreview, RestoreResult};
pub use routed::LakeRows;
pub use side::{SideBySide, SideBySideRequest, SideRow};
pub use snapshot::{At, Snapshot, TableRows};
pub use timeline::{MarkKind, Timeline, TimelineMark};
pub use together::{CacheRows, CachesSnapshot};
pub use value::Cell;

/// The author every change Skein makes to the lake carries, so the snapshot history is the audit log.
pub const AUTHOR: &str = "skein";
