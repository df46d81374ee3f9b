//! The change feed: which monitored tables a committed transaction changed, read from the
//! primary's WAL through a logical decoding slot, so that "has this cache's source changed
//! since its refresh?" costs a catalog query instead of a scan of the tables on the primary.
//!
//! - **Source.** A logical replication slot (`skein_changes`, output plugin `test_decoding`,
//!   part of PostgreSQL's contrib and of managed services; no publication, so no ownership
//!   of the tables is needed) on the primary. Each consumption peeks the decoded changes
//!   (`pg_logical_slot_peek_changes`), keeps one row per (transaction, table) in the lake's
//!   catalog database (`skein_feed`, `skein_feed_changes`: plain PostgreSQL tables beside DuckLake's, so
//!   every console of the lake reads the same log), then advances the slot
//!   (`pg_replication_slot_advance`) so the primary can recycle its WAL.
//! - **Exactness by snapshot, not by time.** A refresh records the primary's
//!   `pg_current_snapshot()` S taken before its data is read. A logged transaction changed the
//!   cache iff it touched a monitored table and its xid is not visible in S. Every
//!   transaction with an xid at or past the feed's `since_xid` (the next xid right after
//!   the slot became consistent) is decoded, so S is judged by the feed only when
//!   `xmin(S) >= since_xid`; otherwise the refresh falls back to the scan fingerprint.
//!   Before a judgement the feed is consumed up to the WAL insert position read then, after
//!   waiting for that position to be flushed (`synchronous_commit = off` makes a commit
//!   visible before its WAL is flushed; logical decoding reads only flushed WAL).
//! - **Generations.** When the slot is missing, invalidated (`wal_status = lost`), made by
//!   another plugin, or advanced past what Skein logged (another consumer, or dropped and
//!   recreated), the log may have a gap: the feed starts a new generation (a new id, a new
//!   `since_xid`, an empty log). A refresh recorded under an older generation is never judged
//!   unchanged.
//! - **What it does not see.** DDL is not decoded; the mark keeps each table's OID and the md5
//!   of its columns (`pg_class`, `pg_attribute`, catalog reads, no table scan) and compares
//!   them too.
//! - **Requirements.** `wal_level = logical` and a role with `REPLICATION` (or superuser) on
//!   the primary, to create and advance the slot; otherwise [`FeedStatus::Unavailable`] says
//!   which is missing and refreshes fingerprint by a scan, as before. The slot keeps WAL until
//!   consumed: every check consumes it (refreshes, and the watcher's exact checks, at least
//!   every 12 ticks); cap it with the primary's
//!   `max_slot_wal_keep_size` (an invalidated slot is detected and recreated).

use serde::{Deserialize, Serialize};
use skein_core::ErrorCode;
use skein_pg::{Lsn, Node};

use crate::error::{Error, Result};

/// The slot's name on the primary.
pub const SLOT: &str = "skein_changes";

/// Whether a slot (by `pg_replication_slots`' name and plugin) is the change feed's: inactive
/// between checks by design and consumed by Skein, so alerts about WAL a slot keeps because
/// nothing consumes it do not apply to it (its WAL status still does).
pub fn is_feed_slot(name: &str, plugin: Option<&str>) -> bool {
    name == SLOT && plugin == Some("test_decoding")
}

/// The prefix of a refresh record's `fingerprint` that the feed wrote.
const MARK_PREFIX: &str = "feed:";

/// What the feed can do now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedStatus {
    /// The slot exists and the log is complete from `since_xid` on.
    Available(Generation),
    /// Change detection falls back to scanning; why, in words that say how to fix it.
    Unavailable(String),
}

/// One unbroken stretch of the change log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    /// A new id whenever the log may have a gap.
    pub id: String,
    /// Every transaction whose xid (64-bit, `xid8`) is at least this one is in the log.
    pub since_xid: u64,
    /// Where the slot was last advanced to (WAL that the primary may recycle).
    pub consumed_lsn: Lsn,
}

/// A PostgreSQL snapshot (`pg_snapshot` text, `xmin:xmax:xip,…`), 64-bit xids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Every xid below it is finished.
    pub xmin: u64,
    /// Every xid at or above it had not started.
    pub xmax: u64,
    /// In progress when it was taken.
    pub xip: Vec<u64>,
}

impl Snapshot {
    /// Parses `pg_snapshot` text.
    pub fn parse(text: &str) -> Option<Snapshot> {
        let mut parts = text.trim().splitn(3, ':');
        let xmin = parts.next()?.parse().ok()?;
        let xmax = parts.next()?.parse().ok()?;
        let xip = match parts.next()? {
            "" => Vec::new(),
            list => list
                .split(',')
                .map(|x| x.parse().ok())
                .collect::<Option<Vec<u64>>>()?,
        };
        Some(Snapshot { xmin, xmax, xip })
    }

    /// Whether a committed transaction `xid` is visible in this snapshot (as
    /// `pg_visible_in_snapshot` says).
    pub fn sees(&self, xid: u64) -> bool {
        xid < self.xmin || (xid < self.xmax && !self.xip.contains(&xid))
    }
}

impl std::fmt::Display for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let xip: Vec<String> = self.xip.iter().map(u64::to_string).collect();
        write!(f, "{}:{}:{}", self.xmin, self.xmax, xip.join(","))
    }
}

/// The 64-bit xid of a 32-bit `xid` that committed before `next` (an `xid8`, such as a
/// snapshot's xmax): the epoch of `next`, or the one before when the low 32 bits wrapped.
pub fn widen_xid(xid: u32, next: u64) -> u64 {
    let candidate = (next & !0xffff_ffff) | u64::from(xid);
    if candidate >= next && candidate >= 1 << 32 {
        candidate - (1 << 32)
    } else {
        candidate
    }
}

/// The tables named in a `test_decoding` change line (`table public.a: INSERT: …`, or
/// `table public.a, public."B c": TRUNCATE: …`), as PostgreSQL quotes them.
pub fn decoded_tables(line: &str) -> Vec<String> {
    let Some(rest) = line.strip_prefix("table ") else {
        return Vec::new();
    };
    let mut tables = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                current.push(c);
                if quoted && chars.peek() == Some(&'"') {
                    current.push('"');
                    chars.next();
                } else {
                    quoted = !quoted;
                }
            }
            ',' if !quoted => {
                tables.push(std::mem::take(&mut current));
                while chars.peek() == Some(&' ') {
                    chars.next();
                }
            }
            ':' if !quoted => {
                tables.push(std::mem::take(&mut current));
                return tables;
            }
            _ => current.push(c),
        }
    }
    Vec::new()
}

/// A table as a refresh saw it: its qualified name (quoted as `test_decoding` writes it), OID
/// and the md5 of its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableIdentity {
    /// `public.lineitem`, `public."Mixed"`.
    pub qualified: String,
    /// `pg_class.oid`: a table dropped and created again has a new one.
    pub oid: u32,
    /// md5 of the column names and types (`pg_attribute`).
    pub columns_md5: String,
}

/// What a refresh records to be judged by the feed later: the generation, the snapshot its
/// data is at least as new as, and the monitored tables' identities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// [`Generation::id`] when it was taken.
    pub generation: String,
    /// `pg_current_snapshot()` on the primary.
    pub snapshot: Snapshot,
    /// In the order the cache monitors them.
    pub tables: Vec<TableIdentity>,
}

impl Mark {
    /// The text stored in the refresh record's `fingerprint` column:
    /// `feed:<generation>:<xmin:xmax:xip>|<table>/<oid>/<md5>|…`.
    pub fn encode(&self) -> String {
        let mut out = format!("{MARK_PREFIX}{}:{}", self.generation, self.snapshot);
        for t in &self.tables {
            // '|' separates the tables: escaped in a (quoted) name, with '%' itself.
            let name = t.qualified.replace('%', "%25").replace('|', "%7C");
            out.push_str(&format!("|{name}/{}/{}", t.oid, t.columns_md5));
        }
        out
    }

    /// Reads [`Mark::encode`]'s text; `None` for a scan fingerprint (or anything else).
    pub fn decode(text: &str) -> Option<Mark> {
        let rest = text.strip_prefix(MARK_PREFIX)?;
        let mut parts = rest.split('|');
        let head = parts.next()?;
        let (generation, snapshot) = head.split_once(':')?;
        let snapshot = Snapshot::parse(snapshot)?;
        let tables = parts
            .map(|p| {
                // The name may hold '/' when quoted: OID and md5 are the last two fields.
                let (rest, md5) = p.rsplit_once('/')?;
                let (qualified, oid) = rest.rsplit_once('/')?;
                Some(TableIdentity {
                    qualified: qualified.replace("%7C", "|").replace("%25", "%"),
                    oid: oid.parse().ok()?,
                    columns_md5: md5.to_owned(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Mark {
            generation: generation.to_owned(),
            snapshot,
            tables,
        })
    }
}

/// What the feed says about a mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No transaction the mark's snapshot did not see changed a monitored table, and no
    /// table's OID or columns changed.
    Unchanged,
    /// Something changed; what, for a person.
    Changed(String),
    /// The feed cannot tell (a new generation since the mark); why.
    Unknown(String),
}

/// The catalog's log tables (created when missing).
///
/// In the catalog's current schema (DuckLake's, `public` by default), where the role that
/// writes the lake may create tables already: no `CREATE` on the database is needed.
const SCHEMA_SQL: &str = "CREATE TABLE IF NOT EXISTS skein_feed (
    slot text PRIMARY KEY,
    generation text NOT NULL,
    since_xid bigint NOT NULL,
    consumed_lsn pg_lsn NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS skein_feed_changes (
    slot text NOT NULL,
    xid bigint NOT NULL,
    tbl text NOT NULL,
    commit_lsn pg_lsn NOT NULL,
    PRIMARY KEY (slot, tbl, xid)
);";

/// How long a consumption waits for the insert position it read to be flushed.
const FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// After this long unflushed, the consumption flushes the WAL itself (a logical message
/// committed synchronously): asynchronous commits may otherwise wait `wal_writer_delay`.
const FLUSH_NUDGE_AFTER: std::time::Duration = std::time::Duration::from_millis(100);

fn pg_err<'a>(node: &'a Node, what: &str) -> impl Fn(tokio_postgres::Error) -> Error + 'a {
    let what = what.to_owned();
    move |e| skein_pg::Error::from_pg(node.name(), &node.addr, &what, &e).into()
}

/// Consumes the slot on `primary` into the log in `catalog`, up to the primary's WAL insert
/// position now (so every transaction committed before this call is in the log when it
/// returns); creates the slot or starts a new generation when needed (see the module
/// header). Consoles sharing the catalog take turns (an advisory lock on the catalog).
///
/// Errors: `Ok(FeedStatus::Unavailable)` (not `Err`) when `wal_level` is not `logical`, the
/// role may not create or use slots, or `test_decoding` is missing; `Err` when the primary or
/// the catalog cannot be reached.
pub async fn consume(primary: &Node, catalog: &Node) -> Result<FeedStatus> {
    let p = primary.client().await?;
    let row = p
        .query_one(
            "SELECT current_setting('wal_level'), \
             (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user)",
            &[],
        )
        .await
        .map_err(pg_err(primary, "reading wal_level"))?;
    let (wal_level, may): (String, Option<bool>) = (row.get(0), row.get(1));
    if wal_level != "logical" {
        return Ok(FeedStatus::Unavailable(format!(
            "wal_level is '{wal_level}' on {}: set wal_level = logical (a restart) for change detection without scanning the monitored tables",
            primary.name()
        )));
    }
    if may != Some(true) {
        return Ok(FeedStatus::Unavailable(format!(
            "the role of {} has no REPLICATION attribute: ALTER ROLE … REPLICATION lets Skein create and advance its slot '{SLOT}'",
            primary.name()
        )));
    }
    let mut c = catalog.client().await?;
    c.batch_execute(SCHEMA_SQL).await.map_err(pg_err(
        catalog,
        "creating the change log (tables skein_feed, skein_feed_changes)",
    ))?;
    let tx = c
        .transaction()
        .await
        .map_err(pg_err(catalog, "starting a transaction"))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('skein_feed:' || $1::text))",
        &[&SLOT],
    )
    .await
    .map_err(pg_err(catalog, "waiting for another console's consumption"))?;
    let logged = tx
        .query_opt(
            "SELECT generation, since_xid, consumed_lsn::text FROM skein_feed WHERE slot = $1",
            &[&SLOT],
        )
        .await
        .map_err(pg_err(catalog, "reading the change log"))?
        .map(|r| Generation {
            id: r.get(0),
            since_xid: r.get::<_, i64>(1) as u64,
            consumed_lsn: r.get::<_, String>(2).parse().unwrap_or_default(),
        });
    let slot = p
        .query_opt(
            "SELECT confirmed_flush_lsn::text, coalesce(wal_status, ''), plugin FROM pg_replication_slots WHERE slot_name = $1",
            &[&SLOT],
        )
        .await
        .map_err(pg_err(primary, "reading pg_replication_slots"))?
        .map(|r| {
            (
                r.get::<_, Option<String>>(0)
                    .and_then(|l| l.parse::<Lsn>().ok()),
                r.get::<_, String>(1),
                r.get::<_, Option<String>>(2),
            )
        });
    // The logged generation goes on only while the slot is the one it consumed.
    let usable = match (&slot, logged) {
        (Some((Some(confirmed), status, Some(plugin))), Some(g))
            if status != "lost" && plugin == "test_decoding" && *confirmed <= g.consumed_lsn =>
        {
            Some(g)
        }
        _ => None,
    };
    let generation = if let Some(g) = usable {
        g
    } else {
        if slot.is_some() {
            p.execute("SELECT pg_drop_replication_slot($1)", &[&SLOT])
                .await
                .map_err(pg_err(primary, "dropping the unusable slot"))?;
        }
        let created = p
            .query_one(
                "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'test_decoding')",
                &[&SLOT],
            )
            .await;
        let created = match created {
            Ok(r) => r.get::<_, String>(0).parse().unwrap_or_default(),
            Err(e) => {
                return Ok(FeedStatus::Unavailable(format!(
                    "could not create the slot '{SLOT}' on {}: {}",
                    primary.name(),
                    skein_pg::describe(&e)
                )))
            }
        };
        // Read after the slot became consistent: every xid from here on is decoded.
        let since: String = p
            .query_one("SELECT pg_snapshot_xmax(pg_current_snapshot())::text", &[])
            .await
            .map_err(pg_err(primary, "reading the next xid"))?
            .get(0);
        let g = Generation {
            id: uuid::Uuid::new_v4().to_string(),
            since_xid: since.parse().unwrap_or(u64::MAX),
            consumed_lsn: created,
        };
        tx.execute("DELETE FROM skein_feed_changes WHERE slot = $1", &[&SLOT])
            .await
            .map_err(pg_err(catalog, "clearing the change log"))?;
        tx.execute(
            "INSERT INTO skein_feed (slot, generation, since_xid, consumed_lsn) VALUES ($1, $2, $3, $4::text::pg_lsn) \
             ON CONFLICT (slot) DO UPDATE SET generation = excluded.generation, since_xid = excluded.since_xid, \
             consumed_lsn = excluded.consumed_lsn, started_at = now()",
            &[&SLOT, &g.id, &(g.since_xid as i64), &g.consumed_lsn.to_string()],
        )
        .await
        .map_err(pg_err(catalog, "starting a change log generation"))?;
        tracing::info!(slot = SLOT, generation = %g.id, since_xid = g.since_xid, "change feed: new generation");
        g
    };
    // Everything committed before now lies before `upto`; wait until it is flushed, since
    // logical decoding reads flushed WAL only.
    let row = p
        .query_one(
            "SELECT pg_current_wal_insert_lsn()::text, pg_snapshot_xmax(pg_current_snapshot())::text",
            &[],
        )
        .await
        .map_err(pg_err(primary, "reading the WAL insert position"))?;
    let upto: Lsn = row.get::<_, String>(0).parse().unwrap_or_default();
    let next: u64 = row.get::<_, String>(1).parse().unwrap_or_default();
    let deadline = std::time::Instant::now() + FLUSH_WAIT;
    let nudge_at = std::time::Instant::now() + FLUSH_NUDGE_AFTER;
    let mut nudged = false;
    loop {
        let flushed: Lsn = p
            .query_one("SELECT pg_current_wal_flush_lsn()::text", &[])
            .await
            .map_err(pg_err(primary, "reading the WAL flush position"))?
            .get::<_, String>(0)
            .parse()
            .unwrap_or_default();
        if flushed >= upto {
            break;
        }
        if !nudged && std::time::Instant::now() >= nudge_at {
            // Asynchronous commits wait for the WAL writer (`wal_writer_delay`); a synchronous
            // commit of a logical message flushes everything before it at once.
            p.batch_execute(
                "BEGIN; SET LOCAL synchronous_commit = on;                  SELECT pg_logical_emit_message(true, 'skein', 'flush'); COMMIT",
            )
            .await
            .map_err(pg_err(primary, "flushing the WAL"))?;
            nudged = true;
            continue;
        }
        if std::time::Instant::now() >= deadline {
            return Err(Error::Pg(skein_pg::Error::Timeout {
                node: primary.name().into(),
                what: format!("waiting for the WAL up to {upto} to be flushed"),
                timeout_ms: FLUSH_WAIT.as_millis() as u64,
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let rows = p
        .query(
            "SELECT xid::text, data, lsn::text FROM pg_logical_slot_peek_changes($1, $2::text::pg_lsn, NULL, \
             'skip-empty-xacts', '1', 'include-xids', '0') WHERE data LIKE 'table %'",
            &[&SLOT, &upto.to_string()],
        )
        .await
        .map_err(pg_err(primary, "reading the slot's decoded changes"))?;
    let mut changes: std::collections::BTreeMap<(String, u64), String> = Default::default();
    for r in &rows {
        let xid: u32 = r.get::<_, String>(0).parse().unwrap_or_default();
        let xid = widen_xid(xid, next);
        let lsn: String = r.get(2);
        for t in decoded_tables(&r.get::<_, String>(1)) {
            changes.entry((t, xid)).or_insert_with(|| lsn.clone());
        }
    }
    for ((tbl, xid), lsn) in &changes {
        tx.execute(
            "INSERT INTO skein_feed_changes (slot, xid, tbl, commit_lsn) VALUES ($1, $2, $3, $4::text::pg_lsn) ON CONFLICT DO NOTHING",
            &[&SLOT, &(*xid as i64), tbl, lsn],
        )
        .await
        .map_err(pg_err(catalog, "logging the decoded changes"))?;
    }
    let advanced_to = upto.max(generation.consumed_lsn);
    tx.execute(
        "UPDATE skein_feed SET consumed_lsn = $2::text::pg_lsn WHERE slot = $1",
        &[&SLOT, &advanced_to.to_string()],
    )
    .await
    .map_err(pg_err(catalog, "recording the consumed position"))?;
    tx.commit()
        .await
        .map_err(pg_err(catalog, "committing the change log"))?;
    // After the log holds them: a failure here only means the same changes are read again.
    if let Err(e) = p
        .execute(
            "SELECT pg_replication_slot_advance($1, $2::text::pg_lsn)",
            &[&SLOT, &advanced_to.to_string()],
        )
        .await
    {
        tracing::warn!(
            slot = SLOT,
            "advancing the slot failed: {}",
            skein_pg::describe(&e)
        );
    }
    Ok(FeedStatus::Available(Generation {
        consumed_lsn: advanced_to,
        ..generation
    }))
}

/// Takes a mark for `tables` on `primary` in `generation`: the snapshot, then the tables'
/// identities, and the WAL insert position after the snapshot (the LSN a replica must have
/// replayed to hold at least what the snapshot sees). `None` when the snapshot is older than
/// the generation (a transaction from before the slot existed is still open): then only a
/// scan can fingerprint the tables.
///
/// Errors: a table that does not exist (`NotFound`), the primary unreachable.
pub async fn take_mark(
    primary: &Node,
    tables: &[String],
    generation: &Generation,
) -> Result<Option<(Mark, Lsn)>> {
    let p = primary.client().await?;
    let row = p
        .query_one(
            "SELECT pg_current_snapshot()::text, pg_current_wal_insert_lsn()::text",
            &[],
        )
        .await
        .map_err(pg_err(primary, "taking a snapshot"))?;
    let snapshot = Snapshot::parse(&row.get::<_, String>(0)).ok_or_else(|| {
        Error::InvalidInput("pg_current_snapshot() returned text Skein cannot read".into())
    })?;
    let lsn: Lsn = row.get::<_, String>(1).parse().unwrap_or_default();
    if snapshot.xmin < generation.since_xid {
        return Ok(None);
    }
    let tables = identities(primary, tables).await?;
    Ok(Some((
        Mark {
            generation: generation.id.clone(),
            snapshot,
            tables,
        },
        lsn,
    )))
}

/// Each table's qualified name, OID and columns' md5, from the catalog (no scan).
async fn identities(primary: &Node, tables: &[String]) -> Result<Vec<TableIdentity>> {
    let p = primary.client().await?;
    let mut out = Vec::with_capacity(tables.len());
    for t in tables {
        let row = p
            .query_opt(
                "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.oid::int8, \
                 (SELECT md5(string_agg(attname || ' ' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)) \
                  FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped) \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
                &[t],
            )
            .await
            .map_err(pg_err(primary, "reading the monitored tables' identities"))?;
        let Some(row) = row else {
            return Err(Error::Pg(skein_pg::Error::Query {
                node: primary.name().into(),
                what: "reading the monitored tables".into(),
                detail: format!("relation \"{t}\" does not exist"),
                code: ErrorCode::NotFound,
            }));
        };
        out.push(TableIdentity {
            qualified: row.get(0),
            oid: row.get::<_, i64>(1) as u32,
            columns_md5: row.get::<_, Option<String>>(2).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Whether the tables of `mark` changed since it was taken, given `status`, a [`consume`]
/// made after the question was asked (so every commit up to then is in the log): looks for a
/// logged transaction on them that the mark's snapshot did not see, and compares the tables'
/// OIDs and columns.
///
/// Errors: the primary or the catalog cannot be reached; a table that no longer exists is
/// [`Verdict::Changed`].
pub async fn judge(
    primary: &Node,
    catalog: &Node,
    mark: &Mark,
    status: &FeedStatus,
) -> Result<Verdict> {
    let generation = match status {
        FeedStatus::Available(g) => g,
        FeedStatus::Unavailable(why) => return Ok(Verdict::Unknown(why.clone())),
    };
    if generation.id != mark.generation {
        return Ok(Verdict::Unknown(
            "the change feed started again since this refresh (its slot was missing, invalidated or consumed elsewhere)".into(),
        ));
    }
    let names: Vec<String> = mark.tables.iter().map(|t| t.qualified.clone()).collect();
    let c = catalog.client().await?;
    let rows = c
        .query(
            "SELECT tbl, xid FROM skein_feed_changes WHERE slot = $1 AND tbl = ANY($2) AND xid >= $3",
            &[&SLOT, &names, &(mark.snapshot.xmin as i64)],
        )
        .await
        .map_err(pg_err(catalog, "reading the change log"))?;
    let mut changed: Vec<String> = Vec::new();
    let mut count = 0;
    for r in &rows {
        let (tbl, xid): (String, i64) = (r.get(0), r.get(1));
        if !mark.snapshot.sees(xid as u64) {
            count += 1;
            if !changed.contains(&tbl) {
                changed.push(tbl);
            }
        }
    }
    if !changed.is_empty() {
        return Ok(Verdict::Changed(format!(
            "{count} transaction(s) changed {} since the refresh",
            changed.join(", ")
        )));
    }
    let tables: Vec<String> = mark.tables.iter().map(|t| t.qualified.clone()).collect();
    let now = match identities(primary, &tables).await {
        Ok(n) => n,
        Err(Error::Pg(e)) if e.code() == ErrorCode::NotFound => {
            return Ok(Verdict::Changed(format!("{e} any more")));
        }
        Err(e) => return Err(e),
    };
    for (was, is) in mark.tables.iter().zip(&now) {
        if was.oid != is.oid {
            return Ok(Verdict::Changed(format!(
                "{} was dropped and created again",
                was.qualified
            )));
        }
        if was.columns_md5 != is.columns_md5 {
            return Ok(Verdict::Changed(format!(
                "{}'s columns changed",
                was.qualified
            )));
        }
    }
    Ok(Verdict::Unchanged)
}

/// Forgets logged transactions every cache's mark sees (xid below the oldest mark's xmin).
///
/// Errors: the catalog cannot be reached.
pub async fn prune(catalog: &Node, oldest_xmin: u64) -> Result<u64> {
    let c = catalog.client().await?;
    c.execute(
        "DELETE FROM skein_feed_changes WHERE slot = $1 AND xid < $2",
        &[&SLOT, &(oldest_xmin as i64)],
    )
    .await
    .map_err(pg_err(catalog, "pruning the change log"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_sees_what_pg_visible_in_snapshot_sees() {
        let s = Snapshot::parse("100:105:101,103").expect("parses");
        assert_eq!(s.to_string(), "100:105:101,103");
        assert!(s.sees(99));
        assert!(s.sees(100) && s.sees(102) && s.sees(104));
        assert!(!s.sees(101) && !s.sees(103));
        assert!(!s.sees(105) && !s.sees(1000));
        assert_eq!(
            Snapshot::parse("7:7:").expect("empty xip").xip,
            Vec::<u64>::new()
        );
        assert!(Snapshot::parse("7:x:").is_none());
    }

    #[test]
    fn a_32_bit_xid_takes_the_epoch_of_the_next_xid() {
        let next = (3u64 << 32) | 10;
        assert_eq!(widen_xid(5, next), (3 << 32) | 5);
        // Past the low bits of next: it committed before the wrap, in the epoch before.
        assert_eq!(widen_xid(4_000_000_000, next), (2 << 32) | 4_000_000_000);
        assert_eq!(widen_xid(5, 10), 5);
    }

    #[test]
    fn tables_are_read_from_decoded_lines_quotes_and_all() {
        assert_eq!(
            decoded_tables("table public.lineitem: INSERT: l_orderkey[integer]:1"),
            vec!["public.lineitem"]
        );
        assert_eq!(
            decoded_tables("table public.a, public.\"B, c:\"\"d\": TRUNCATE: (no-flags)"),
            vec!["public.a", "public.\"B, c:\"\"d\""]
        );
        assert!(decoded_tables("BEGIN 1234").is_empty());
    }

    #[test]
    fn a_mark_reads_back_what_it_wrote() {
        let m = Mark {
            generation: "g-1".into(),
            snapshot: Snapshot::parse("10:12:11").expect("parses"),
            tables: vec![
                TableIdentity {
                    qualified: "public.orders".into(),
                    oid: 16384,
                    columns_md5: "abc".into(),
                },
                TableIdentity {
                    qualified: "public.\"a/b|c%7C\"".into(),
                    oid: 7,
                    columns_md5: "def".into(),
                },
            ],
        };
        let text = m.encode();
        assert!(text.starts_with("feed:g-1:10:12:11|public.orders/16384/abc|"));
        assert_eq!(Mark::decode(&text), Some(m));
        assert_eq!(Mark::decode("lineitem:6:-12:abcdef"), None);
    }
}
