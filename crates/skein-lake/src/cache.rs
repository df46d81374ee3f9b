//! Cache definitions and their state, stored in the lake itself so every console and CLI
//! pointed at the lake sees the same caches:
//!
//! - `<lake>.skein.caches`: one row per cache (name, source query, monitored tables, TTL,
//!   the key its rows are matched by in a diff);
//! - `<lake>.skein.cache_refreshes`: one row per refresh that wrote data (append-only, so
//!   refreshes of different caches never conflict on an UPDATE); the newest row is the
//!   cache's state;
//! - the cached result: `<lake>.main.<name>`, readable by stock DuckDB by name.

use duckdb::Connection;
use serde::{Deserialize, Serialize};
use skein_pg::Cluster;

use crate::error::{Error, Result};
use crate::feed::Verdict;
use crate::lake::{ident, lit, text_array, Lake};
use crate::validate::validate_definition;
use crate::AUTHOR;

/// A cache: a source query materialised into a lake table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CacheDefinition {
    /// Name; also the lake table's name (`<lake>.main.<name>`).
    pub name: String,
    /// Source query in PostgreSQL's SQL, sent as is to a replica (or the primary).
    pub query: String,
    /// Source tables whose fingerprint decides whether a refresh is needed.
    pub monitor: Vec<String>,
    /// Time to live in seconds: past it, a refresh rewrites the cache even when the
    /// monitored tables did not change. `None`: no TTL.
    pub ttl_seconds: Option<u64>,
    /// When the cache was defined, ms since the Unix epoch.
    pub created_at_ms: i64,
    /// The console's scheduler leaves a paused cache alone (the newest row of
    /// `<lake>.skein.cache_settings`); a refresh by hand still works.
    #[serde(default)]
    pub paused: bool,
    /// Columns of the query's result that identify a row: a snapshot diff of the cache's table
    /// matches rows by them ([`Lake::diff`]). Empty: whole rows are compared. Proposed from the
    /// source's primary key or the query's `GROUP BY` ([`Lake::suggest_key`]).
    #[serde(default)]
    pub key: Vec<String>,
}

/// What defines a cache, as created or edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CacheSpec {
    /// Name: letters, digits and `_`; also the lake table's name.
    pub name: String,
    /// Source query in PostgreSQL's SQL.
    pub query: String,
    /// Source tables whose changes make the cache stale.
    pub monitor: Vec<String>,
    /// Time to live, seconds; with one, the scheduler refreshes the cache when it has passed
    /// and the sources changed. `null`: refreshed by hand only.
    pub ttl_seconds: Option<u64>,
    /// Columns of the query's result that identify a row (see [`CacheDefinition::key`]);
    /// each must be a column the query returns. Empty: none.
    #[serde(default)]
    pub key: Vec<String>,
}

/// The newest refresh that wrote a cache's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RefreshRecord {
    /// Unique id, also in the snapshot's `commit_extra_info`.
    pub refresh_id: String,
    /// When the refresh committed, ms since the Unix epoch.
    pub refreshed_at_ms: i64,
    /// Fingerprint digest of the monitored tables, taken before the data was read.
    pub fingerprint: String,
    /// Primary LSN the fingerprint is valid at.
    pub source_lsn: String,
    /// The node that served the read.
    pub served_by: String,
    /// Rows written.
    pub rows: u64,
    /// Wall time of the refresh, ms.
    pub duration_ms: u64,
    /// The snapshot that holds the data (looked up by `refresh_id`).
    pub snapshot_id: Option<i64>,
    /// The snapshot of the cache's refresh before this one, if any: a snapshot diff from it
    /// to [`RefreshRecord::snapshot_id`] is what this refresh changed.
    #[serde(default)]
    pub previous_snapshot_id: Option<i64>,
    /// Set when this record is a restore ([`Lake::restore`]): the snapshot whose data the
    /// cache's table was put back to. The cache is then [`CacheState::Restored`].
    #[serde(default)]
    pub restored_from: Option<i64>,
    /// Digest of the definition the refresh ran ([`CacheDefinition::digest`]); `None` for a
    /// record written before Skein recorded it, which counts as another definition.
    #[serde(default)]
    pub definition_digest: Option<String>,
}

impl CacheDefinition {
    /// A digest of what decides the cached data: the query and the monitored tables (not the
    /// TTL, the name, the pause or the key). Two definitions with the same digest cache the same
    /// result; a refresh records it, so an edit since the refresh is seen
    /// ([`CacheState::Edited`]). 64-bit FNV-1a of the query and the tables, in hex.
    pub fn digest(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        eat(self.query.as_bytes());
        for t in &self.monitor {
            eat(&[0]);
            eat(t.as_bytes());
        }
        format!("fnv1a64:{h:016x}")
    }
}

/// Where a cache stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum CacheState {
    /// Never refreshed: the lake has no data for it yet.
    Empty,
    /// The monitored tables are as they were at the last refresh, within the TTL, and the
    /// data was refreshed with the current definition: the only state routing serves.
    Fresh,
    /// The definition (query, monitored tables) changed since the last refresh: the lake
    /// holds the old query's result. Never served; the next refresh is never SKIPPED.
    Edited,
    /// A monitored table changed since the last refresh (past the TTL or not): the data is
    /// behind.
    Stale,
    /// Put back to an earlier snapshot's data by hand ([`Lake::restore`]): the lake holds what
    /// a past refresh wrote, not what the source holds now. Never served; the next refresh
    /// (by hand, or the scheduler's once the TTL has passed) is never SKIPPED.
    Restored,
    /// Past its TTL, with the monitored tables provably unchanged since the refresh (same
    /// fingerprint): the data is current, but the TTL asks for a refresh before routing
    /// serves it again. Not an alarm.
    Expired,
    /// The state could not be determined (the primary is unreachable, a table is gone).
    Unknown,
}

impl CacheState {
    /// Every state, in the order a legend lists them.
    pub const ALL: [CacheState; 7] = [
        CacheState::Empty,
        CacheState::Fresh,
        CacheState::Edited,
        CacheState::Stale,
        CacheState::Expired,
        CacheState::Restored,
        CacheState::Unknown,
    ];

    /// The state's word, as serialised (`fresh`, `edited`, …).
    pub fn word(self) -> &'static str {
        match self {
            CacheState::Empty => "empty",
            CacheState::Fresh => "fresh",
            CacheState::Edited => "edited",
            CacheState::Stale => "stale",
            CacheState::Restored => "restored",
            CacheState::Expired => "expired",
            CacheState::Unknown => "unknown",
        }
    }

    /// What the state means for a person, the same words everywhere (`skein cache list`,
    /// the console's attention list).
    pub fn meaning(self) -> &'static str {
        match self {
            CacheState::Empty => "never refreshed: the lake has no data for it",
            CacheState::Fresh => {
                "refreshed with the current definition, monitored tables unchanged since, within the TTL: the only state routing serves"
            }
            CacheState::Edited => {
                "the definition changed since the last refresh: the lake holds the old query's result; never served; the next refresh rewrites it"
            }
            CacheState::Stale => {
                "a monitored table changed since the last refresh: the data is behind; not served"
            }
            CacheState::Restored => {
                "restored to an earlier snapshot by hand: the lake holds that snapshot's data, not the source's; not served until the next refresh"
            }
            CacheState::Expired => {
                "TTL passed · sources unchanged · refreshed data is current; not served until refreshed"
            }
            CacheState::Unknown => "the state could not be checked (the error says why)",
        }
    }
}

/// A cache with its last refresh and current state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct CacheStatus {
    /// The definition.
    #[serde(flatten)]
    pub definition: CacheDefinition,
    /// The newest refresh that wrote data.
    pub last_refresh: Option<RefreshRecord>,
    /// Age of the data, ms (now − last refresh).
    pub age_ms: Option<u64>,
    /// Fresh, stale, expired, …
    pub state: CacheState,
    /// Why the state is `Unknown`.
    pub state_error: Option<skein_core::ErrorInfo>,
    /// When the state was decided by comparing a fingerprint taken on the primary with the
    /// refresh's (ms since the Unix epoch): `Fresh`, `Stale` and `Expired` are as of then.
    /// `None` when no fingerprint was needed (`Empty`, `Edited`) or could be taken.
    #[serde(default)]
    pub checked_at_ms: Option<i64>,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Creates Skein's schema in the lake when missing, in one commit with author and message.
pub(crate) fn ensure_schema(conn: &Connection, lake: &str) -> Result<()> {
    let complete = || -> Result<bool> {
        let present: i64 = conn
            .query_row(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'skein' \
                 AND table_name IN ('caches', 'cache_refreshes', 'cache_settings')",
                [lake],
                |r| r.get(0),
            )
            .map_err(Error::duck("looking for Skein's schema in the lake"))?;
        Ok(present == 3)
    };
    if complete()? {
        return ensure_columns(conn, lake);
    }
    let l = ident(lake);
    let created = commit(
        conn,
        lake,
        "create Skein's cache catalog (skein.caches, skein.cache_refreshes, skein.cache_settings)",
        "{}",
        |c| {
            c.execute_batch(&format!(
            "CREATE SCHEMA IF NOT EXISTS {l}.skein;
             CREATE TABLE IF NOT EXISTS {l}.skein.caches (name VARCHAR, query VARCHAR, monitor VARCHAR[], ttl_seconds BIGINT, created_at_ms BIGINT, key VARCHAR[]);
             CREATE TABLE IF NOT EXISTS {l}.skein.cache_refreshes (cache VARCHAR, refresh_id VARCHAR, refreshed_at_ms BIGINT, fingerprint VARCHAR, source_lsn VARCHAR, served_by VARCHAR, rows BIGINT, duration_ms BIGINT, definition VARCHAR, restored_from BIGINT);
             CREATE TABLE IF NOT EXISTS {l}.skein.cache_settings (cache VARCHAR, paused BOOLEAN, changed_at_ms BIGINT);"
        ))
        .map_err(Error::duck("creating Skein's schema in the lake"))
        },
    );
    match created {
        // Another process (or handle) created it at the same moment: DuckLake refuses the
        // second commit; what matters is that the schema is there.
        Err(e) if e.code() == skein_core::ErrorCode::Conflict && complete()? => {
            ensure_columns(conn, lake)
        }
        other => other,
    }
}

/// The columns of `<lake>.skein.cache_refreshes`, in the order the refresh writes them.
pub(crate) const REFRESH_COLUMNS: &str =
    "(cache, refresh_id, refreshed_at_ms, fingerprint, source_lsn, served_by, rows, duration_ms, definition)";

/// The columns added to Skein's tables after they were first created: the table, the column,
/// its type, and the commit message of the migration.
const ADDED_COLUMNS: [(&str, &str, &str, &str); 3] = [
    (
        "cache_refreshes",
        "definition",
        "VARCHAR",
        "record each refresh's definition (skein.cache_refreshes.definition)",
    ),
    (
        "caches",
        "key",
        "VARCHAR[]",
        "record each cache's key (skein.caches.key)",
    ),
    (
        "cache_refreshes",
        "restored_from",
        "BIGINT",
        "record restores of caches (skein.cache_refreshes.restored_from)",
    ),
];

/// Adds the columns of [`ADDED_COLUMNS`] to a lake created before they existed: one commit
/// each, `ALTER TABLE … ADD COLUMN`. Earlier rows hold NULL there (a refresh's `definition`
/// then counts as another definition, so the next refresh rewrites; a NULL `key` is no key).
/// A concurrent migration by another process makes DuckLake refuse one of the two commits:
/// what matters is that the column is there.
fn ensure_columns(conn: &Connection, lake: &str) -> Result<()> {
    for (table, column, ty, message) in ADDED_COLUMNS {
        let present = || -> Result<bool> {
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'skein' \
                     AND table_name = ? AND column_name = ?",
                    [lake, table, column],
                    |r| r.get(0),
                )
                .map_err(Error::duck("looking at the columns of Skein's tables"))?;
            Ok(n > 0)
        };
        if present()? {
            continue;
        }
        let l = ident(lake);
        let added = commit(conn, lake, message, "{}", |c| {
            c.execute_batch(&format!(
                "ALTER TABLE {l}.skein.{table} ADD COLUMN IF NOT EXISTS {} {ty}",
                ident(column)
            ))
            .map_err(Error::duck(format!("adding skein.{table}.{column}")))
        });
        match added {
            Err(_) if present()? => {}
            other => other?,
        }
    }
    Ok(())
}

/// Runs `work` in one DuckLake transaction whose commit carries author `skein`, `message`
/// and `extra_info` (`set_commit_message` only applies inside an explicit transaction).
/// On any error the transaction is rolled back and nothing changes.
pub(crate) fn commit<T>(
    conn: &Connection,
    lake: &str,
    message: &str,
    extra_info: &str,
    work: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    commit_by(conn, lake, AUTHOR, message, extra_info, work)
}

/// [`commit`] with another author.
pub(crate) fn commit_by<T>(
    conn: &Connection,
    lake: &str,
    author: &str,
    message: &str,
    extra_info: &str,
    work: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(Error::duck("starting a lake transaction"))?;
    let result = conn
        .execute_batch(&format!(
            "CALL {}.set_commit_message({}, {}, extra_info => {})",
            ident(lake),
            lit(author),
            lit(message),
            lit(&crate::identity::stamp(extra_info))
        ))
        .map_err(Error::duck("setting the commit message"))
        .and_then(|()| work(conn))
        .and_then(|v| {
            conn.execute_batch("COMMIT")
                .map(|()| v)
                .map_err(Error::duck("committing to the lake"))
        });
    if result.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

pub(crate) fn read_definitions(
    conn: &Connection,
    lake: &str,
    only: Option<&str>,
) -> Result<Vec<CacheDefinition>> {
    let filter = only
        .map(|n| format!(" WHERE name = {}", lit(n)))
        .unwrap_or_default();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT name, query, to_json(monitor)::VARCHAR, ttl_seconds, created_at_ms, \
             coalesce((SELECT s.paused FROM {l}.skein.cache_settings s WHERE s.cache = c.name ORDER BY s.changed_at_ms DESC LIMIT 1), false), \
             to_json(coalesce(c.key, []::VARCHAR[]))::VARCHAR \
             FROM {l}.skein.caches c{filter} ORDER BY name",
            l = ident(lake)
        ))
        .map_err(Error::duck("reading cache definitions"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(CacheDefinition {
                name: r.get(0)?,
                query: r.get(1)?,
                monitor: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or_default(),
                ttl_seconds: r.get::<_, Option<i64>>(3)?.map(|t| t.max(0) as u64),
                created_at_ms: r.get(4)?,
                paused: r.get(5)?,
                key: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
            })
        })
        .map_err(Error::duck("reading cache definitions"))?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::duck("reading cache definitions"))
}

/// The cache whose lake table `table` is (`name` or `main.name`), if any. A lake without
/// Skein's tables has no caches.
pub(crate) fn cache_of_table(
    conn: &Connection,
    lake: &str,
    table: &str,
) -> Result<Option<CacheDefinition>> {
    let name = table.strip_prefix("main.").unwrap_or(table);
    if name.contains('.') {
        return Ok(None);
    }
    match read_definitions(conn, lake, Some(name)) {
        Ok(mut defs) => Ok(defs.pop()),
        Err(Error::DuckDb { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Caches' definitions and last refresh records read at one lake snapshot: every change to
/// either is a lake commit, so they hold until the catalog's newest snapshot moves.
#[derive(Default)]
pub(crate) struct Memo {
    snapshot: i64,
    caches: std::collections::HashMap<String, (CacheDefinition, Option<RefreshRecord>)>,
}

impl Lake {
    /// The lake's newest snapshot id, asked of the catalog database directly (DuckLake's
    /// `ducklake_snapshot`): a round trip, where a DuckDB query of the lake costs tens of ms.
    async fn newest_snapshot(&self) -> Option<i64> {
        self.catalog
            .with_client("reading the lake's newest snapshot", |c| async move {
                c.query_one("SELECT max(snapshot_id) FROM ducklake_snapshot", &[])
                    .await
                    .map(|r| r.get::<_, Option<i64>>(0))
            })
            .await
            .ok()
            .flatten()
    }

    /// A cache's definition and last refresh record, from the memo while the lake's newest
    /// snapshot has not moved since they were read, else read from the lake (and kept).
    ///
    /// Errors: `NotFound` for no such cache; the lake cannot be read.
    pub(crate) async fn cache_and_last_refresh(
        &self,
        name: &str,
    ) -> Result<(CacheDefinition, Option<RefreshRecord>)> {
        // Read before the lake is: what the lake shows is at least as new as this snapshot.
        let snapshot = self.newest_snapshot().await;
        if let Some(snap) = snapshot {
            let memo = self.memo.lock().map_err(|_| poisoned())?;
            if memo.snapshot == snap {
                if let Some(hit) = memo.caches.get(name) {
                    return Ok(hit.clone());
                }
            }
        }
        let def = self.cache_definition(name).await?;
        let n = name.to_owned();
        let last = self
            .read(move |conn, lake| read_last_refresh(conn, lake, &n))
            .await?;
        if let Some(snap) = snapshot {
            let mut memo = self.memo.lock().map_err(|_| poisoned())?;
            if memo.snapshot != snap {
                memo.snapshot = snap;
                memo.caches.clear();
            }
            memo.caches
                .insert(name.to_owned(), (def.clone(), last.clone()));
        }
        Ok((def, last))
    }
}

fn poisoned() -> Error {
    Error::Task("the lake's memo was poisoned by a panic".into())
}

pub(crate) fn read_last_refresh(
    conn: &Connection,
    lake: &str,
    cache: &str,
) -> Result<Option<RefreshRecord>> {
    Ok(read_refreshes(conn, lake, cache, 1)?.pop())
}

/// A cache's newest `limit` refresh records, newest first, each with its snapshot and the
/// snapshot of the refresh before it.
pub(crate) fn read_refreshes(
    conn: &Connection,
    lake: &str,
    cache: &str,
    limit: u32,
) -> Result<Vec<RefreshRecord>> {
    let l = ident(lake);
    // One more than asked, so the oldest returned knows the one before it.
    let sql = format!(
        "SELECT r.refresh_id, r.refreshed_at_ms, r.fingerprint, r.source_lsn, r.served_by, r.rows, r.duration_ms, r.definition, r.restored_from, \
           (SELECT max(s.snapshot_id) FROM {l}.snapshots() s WHERE s.author = 'skein' AND json_extract_string(s.commit_extra_info, '$.refresh_id') = r.refresh_id) \
         FROM {l}.skein.cache_refreshes r WHERE r.cache = ? ORDER BY r.refreshed_at_ms DESC LIMIT {}",
        u64::from(limit) + 1
    );
    let mut stmt = conn
        .prepare(&sql)
        .map_err(Error::duck("reading the refresh records"))?;
    let rows = stmt
        .query_map([cache], |r| {
            Ok(RefreshRecord {
                refresh_id: r.get(0)?,
                refreshed_at_ms: r.get(1)?,
                fingerprint: r.get(2)?,
                source_lsn: r.get(3)?,
                served_by: r.get(4)?,
                rows: r.get::<_, i64>(5)?.max(0) as u64,
                duration_ms: r.get::<_, i64>(6)?.max(0) as u64,
                definition_digest: r.get(7)?,
                restored_from: r.get(8)?,
                snapshot_id: r.get(9)?,
                previous_snapshot_id: None,
            })
        })
        .map_err(Error::duck("reading the refresh records"))?;
    let mut out = rows
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::duck("reading the refresh records"))?;
    for i in 0..out.len().saturating_sub(1) {
        out[i].previous_snapshot_id = out[i + 1].snapshot_id;
    }
    out.truncate(limit as usize);
    Ok(out)
}

/// The `extra_info` JSON a refresh's commit carries; the same text finds its snapshot again.
pub(crate) fn refresh_extra_info(cache: &str, refresh_id: &str) -> String {
    serde_json::json!({ "cache": cache, "refresh_id": refresh_id }).to_string()
}

impl Lake {
    /// Every cache definition, by name.
    pub async fn cache_definitions(&self) -> Result<Vec<CacheDefinition>> {
        self.read(|conn, lake| read_definitions(conn, lake, None))
            .await
    }

    /// A cache's newest `limit` (1–500) refreshes that wrote data, newest first, from
    /// `<lake>.skein.cache_refreshes`, each with its snapshot (`snapshots()`, by the refresh's
    /// id in `commit_extra_info`) and the previous refresh's.
    ///
    /// Errors: `NotFound` for no such cache; `InvalidInput` for a limit outside 1–500.
    pub async fn cache_refreshes(&self, name: &str, limit: u32) -> Result<Vec<RefreshRecord>> {
        if !(1..=500).contains(&limit) {
            return Err(Error::InvalidInput(format!(
                "ask for 1 to 500 refreshes, not {limit}"
            )));
        }
        self.cache_definition(name).await?;
        let n = name.to_owned();
        self.read(move |conn, lake| read_refreshes(conn, lake, &n, limit))
            .await
    }

    /// One cache definition.
    ///
    /// Errors: `NotFound` naming the cache and how to list them.
    pub async fn cache_definition(&self, name: &str) -> Result<CacheDefinition> {
        let n = name.to_owned();
        self.read(move |conn, lake| read_definitions(conn, lake, Some(&n)))
            .await?
            .pop()
            .ok_or_else(|| {
                Error::NotFound(format!("no cache named '{name}' (see `skein cache list`)"))
            })
    }

    /// Defines a cache after checking it against the primary: the name is a plain
    /// identifier not in use, every monitored table exists, and the query parses and plans
    /// (`PREPARE` on the primary; it is not run). No key (see [`Lake::define_cache`]). One
    /// lake commit, "create cache NAME".
    ///
    /// Errors: `InvalidInput` (name, TTL, empty monitor list), `Conflict` (name in use),
    /// `NotFound` (a monitored table), `QueryFailed` (the query does not plan).
    pub async fn create_cache(
        &self,
        cluster: &Cluster,
        name: &str,
        query: &str,
        monitor: &[String],
        ttl_seconds: Option<u64>,
    ) -> Result<CacheDefinition> {
        let spec = CacheSpec {
            name: name.to_owned(),
            query: query.to_owned(),
            monitor: monitor.to_vec(),
            ttl_seconds,
            key: Vec::new(),
        };
        self.define_cache(cluster, &spec).await
    }

    /// Defines a cache from `spec` after the checks of [`Lake::create_cache`], and that each
    /// key column is a column the query returns (as the primary's `PREPARE` describes it).
    /// One lake commit, "create cache NAME".
    ///
    /// Errors: those of [`Lake::create_cache`]; `InvalidInput` for a key column the query does
    /// not return (naming the columns it does).
    pub async fn define_cache(
        &self,
        cluster: &Cluster,
        spec: &CacheSpec,
    ) -> Result<CacheDefinition> {
        let q = validate_definition(cluster, spec).await?;
        let def = CacheDefinition {
            name: spec.name.clone(),
            query: q,
            monitor: spec.monitor.clone(),
            ttl_seconds: spec.ttl_seconds,
            created_at_ms: now_ms(),
            paused: false,
            key: spec.key.clone(),
        };
        let d = def.clone();
        self.run(move |conn, lake| {
            if !read_definitions(conn, lake, Some(&d.name))?.is_empty() {
                return Err(Error::Conflict(format!("a cache named '{}' exists already", d.name)));
            }
            let taken: i64 = conn
                .query_row(
                    "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' AND table_name = ?",
                    [lake, d.name.as_str()],
                    |r| r.get(0),
                )
                .map_err(Error::duck("checking the table name"))?;
            if taken > 0 {
                return Err(Error::Conflict(format!("the lake already has a table main.{}; choose another cache name", d.name)));
            }
            let (monitor_list, key_list) = (text_array(&d.monitor), text_array(&d.key));
            let extra = serde_json::json!({ "cache": d.name }).to_string();
            commit(conn, lake, &format!("create cache {}", d.name), &extra, |c| {
                c.execute(
                    &format!(
                        "INSERT INTO {}.skein.caches (name, query, monitor, ttl_seconds, created_at_ms, key) \
                         VALUES (?, ?, {monitor_list}, ?, ?, {key_list})",
                        ident(lake)
                    ),
                    duckdb::params![d.name, d.query, d.ttl_seconds.map(|t| t as i64), d.created_at_ms],
                )
                .map(|_| ())
                .map_err(Error::duck("recording the cache definition"))
            })
        })
        .await?;
        Ok(def)
    }

    /// Every cache with its last refresh and state: `Empty` without a refresh; `Edited` when
    /// the definition's digest differs from the one the last refresh recorded; otherwise a
    /// fingerprint of the monitored tables taken now on the primary is compared with the
    /// refresh's: different is `Stale`, equal is `Expired` past the TTL and `Fresh` within
    /// it. When the primary cannot be asked the state is `Unknown`, with the error.
    pub async fn cache_statuses(&self, cluster: &Cluster) -> Result<Vec<CacheStatus>> {
        let defs = self.cache_definitions().await?;
        // One consumption of the change feed answers for every cache.
        let feed = Some(self.change_feed(cluster).await);
        let mut out = Vec::with_capacity(defs.len());
        for def in defs {
            out.push(self.cache_status_with(cluster, def, feed.as_ref()).await?);
        }
        if let Some(crate::feed::FeedStatus::Available(g)) = &feed {
            // The log keeps what some cache's mark did not see; older entries go.
            let oldest = out
                .iter()
                .filter_map(|s| s.last_refresh.as_ref())
                .filter_map(|r| crate::feed::Mark::decode(&r.fingerprint))
                .filter(|m| m.generation == g.id)
                .map(|m| m.snapshot.xmin)
                .min();
            if let Some(xmin) = oldest {
                let _ = crate::feed::prune(&self.catalog, xmin).await;
            }
        }
        Ok(out)
    }

    /// One cache's status (see [`Lake::cache_statuses`]).
    pub async fn cache_status(&self, cluster: &Cluster, name: &str) -> Result<CacheStatus> {
        let (def, _) = self.cache_and_last_refresh(name).await?;
        self.cache_status_of(cluster, def).await
    }

    /// The status of the cache `definition` describes (see [`Lake::cache_statuses`]).
    pub async fn cache_status_of(
        &self,
        cluster: &Cluster,
        definition: CacheDefinition,
    ) -> Result<CacheStatus> {
        self.cache_status_with(cluster, definition, None).await
    }

    /// [`Lake::cache_status_of`] with a consumption of the change feed ([`Lake::change_feed`])
    /// made after the question was asked, shared by several caches; `None` consumes one.
    pub async fn cache_status_with(
        &self,
        cluster: &Cluster,
        definition: CacheDefinition,
        feed: Option<&crate::feed::FeedStatus>,
    ) -> Result<CacheStatus> {
        let last = match self.cache_and_last_refresh(&definition.name).await {
            Ok((_, last)) => last,
            // Deleted since `definition` was read: whatever the lake says of its refreshes.
            Err(_) => {
                let name = definition.name.clone();
                self.read(move |conn, lake| read_last_refresh(conn, lake, &name))
                    .await?
            }
        };
        let age_ms = last
            .as_ref()
            .map(|r| (now_ms() - r.refreshed_at_ms).max(0) as u64);
        let expired = |age: Option<u64>| {
            definition
                .ttl_seconds
                .zip(age)
                .is_some_and(|(t, a)| a > t * 1000)
        };
        let mut checked_at_ms = None;
        let (state, state_error) = match &last {
            None => (CacheState::Empty, None),
            Some(r) if r.definition_digest.as_deref() != Some(definition.digest().as_str()) => {
                (CacheState::Edited, None)
            }
            Some(r) if r.restored_from.is_some() => (CacheState::Restored, None),
            Some(r) => match self
                .changed_since(cluster, &definition.monitor, &r.fingerprint, feed)
                .await
            {
                Ok(Verdict::Unchanged) => {
                    checked_at_ms = Some(now_ms());
                    if expired(age_ms) {
                        (CacheState::Expired, None)
                    } else {
                        (CacheState::Fresh, None)
                    }
                }
                Ok(Verdict::Changed(_)) => {
                    checked_at_ms = Some(now_ms());
                    (CacheState::Stale, None)
                }
                Ok(Verdict::Unknown(why)) => (
                    CacheState::Unknown,
                    Some(skein_core::ErrorInfo {
                        code: skein_core::ErrorCode::Conflict,
                        message: format!("{why}: refresh the cache to know"),
                    }),
                ),
                Err(e) => (
                    CacheState::Unknown,
                    Some(skein_core::ErrorInfo {
                        code: e.code(),
                        message: e.to_string(),
                    }),
                ),
            },
        };
        Ok(CacheStatus {
            definition,
            last_refresh: last,
            age_ms,
            state,
            state_error,
            checked_at_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{CacheDefinition, CacheState};

    #[test]
    fn each_state_has_its_serialised_word_and_a_meaning() {
        for s in CacheState::ALL {
            assert_eq!(serde_json::to_value(s).expect("json"), s.word());
            assert!(!s.meaning().is_empty());
        }
        assert!(CacheState::Expired
            .meaning()
            .starts_with("TTL passed · sources unchanged · refreshed data is current"));
    }

    #[test]
    fn the_digest_follows_query_and_tables_only() {
        let def = CacheDefinition {
            name: "c".into(),
            query: "SELECT a FROM t".into(),
            monitor: vec!["t".into()],
            ttl_seconds: Some(5),
            created_at_ms: 1,
            paused: false,
            key: vec!["a".into()],
        };
        let same = CacheDefinition {
            ttl_seconds: None,
            paused: true,
            key: Vec::new(),
            ..def.clone()
        };
        assert_eq!(def.digest(), same.digest());
        let other_query = CacheDefinition {
            query: "SELECT b FROM t".into(),
            ..def.clone()
        };
        let other_tables = CacheDefinition {
            monitor: vec!["t".into(), "u".into()],
            ..def.clone()
        };
        assert_ne!(def.digest(), other_query.digest());
        assert_ne!(def.digest(), other_tables.digest());
    }
}
