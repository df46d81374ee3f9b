//! Fingerprints of source tables: what smart refresh compares to know whether a cache's
//! sources changed, and the primary LSN the fingerprint is valid at.
//!
//! A table's fingerprint is `(count(*), sum(hashtext(xmin::text)))` over its rows, read in one
//! REPEATABLE READ transaction on the primary. Every INSERT and UPDATE writes a row version
//! with a new `xmin`; every DELETE removes one; so any committed change moves the pair (up to
//! a 64-bit hash collision). Unlike `pg_stat_user_tables` counters it is transactional and
//! exact, at the price of one scan of each monitored table. The md5 of the table's columns
//! (`pg_attribute`) is part of it, so a schema change counts as a change too. Freezing keeps the raw `xmin`, so
//! VACUUM does not change it.
//!
//! The LSN is `pg_current_wal_insert_lsn()` read after the fingerprint's snapshot was taken:
//! every commit the fingerprint saw lies before it, so a node that has replayed up to it holds
//! at least the data the fingerprint describes. Not `pg_current_wal_lsn()` (the write
//! position): a commit with `synchronous_commit = off` is visible before its WAL is written,
//! so it can lie past the write position while the fingerprint already counts it. (At the
//! start of a WAL page the insert position is taken back over the page header, to the end of
//! the last record, a position a replica's replay reaches.)

use serde::{Deserialize, Serialize};
use tokio_postgres::IsolationLevel;

use crate::error::{Error, Result};
use crate::lsn::Lsn;
use crate::node::Node;

/// One table's part of a fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableFingerprint {
    /// Table as given (`lineitem`, `public.orders`).
    pub table: String,
    /// Live rows.
    pub rows: i64,
    /// Sum of `hashtext(xmin::text)` over the rows.
    pub xmin_hash: i64,
    /// `md5` of the column names and types (`pg_attribute`), so a schema change counts.
    pub columns_md5: String,
}

/// A fingerprint of several tables plus the primary LSN it is valid at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Per table, in the order asked.
    pub tables: Vec<TableFingerprint>,
    /// `pg_current_wal_insert_lsn()` on the primary after the fingerprint's snapshot.
    pub lsn: Lsn,
}

impl Fingerprint {
    /// A compact text form (`lineitem:60175:-1234:9f8e…;orders:…`) to store and compare.
    pub fn digest(&self) -> String {
        self.tables
            .iter()
            .map(|t| {
                format!(
                    "{}:{}:{}:{}",
                    t.table,
                    t.rows,
                    t.xmin_hash,
                    &t.columns_md5[..t.columns_md5.len().min(12)]
                )
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Takes the fingerprint of `tables` on the primary.
    ///
    /// Errors: [`Error::Query`] with code `NotFound` when a table does not exist; connection
    /// errors as [`Node::with_client`] returns them.
    pub async fn take(primary: &Node, tables: &[String]) -> Result<Fingerprint> {
        for t in tables {
            if t.is_empty()
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.\"".contains(c))
            {
                return Err(Error::Query {
                    node: primary.name().into(),
                    what: "fingerprinting".into(),
                    detail: format!("'{t}' is not a table name"),
                    code: skein_core::ErrorCode::InvalidInput,
                });
            }
        }
        let tables = tables.to_vec();
        let timeout = primary.timeout() * 30;
        let work = primary.with_client_timeout("fingerprinting the monitored tables", timeout, |mut c| async move {
            let tx = c.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await?;
            let mut out = Vec::with_capacity(tables.len());
            for t in &tables {
                let row = tx
                    .query_one(
                        &format!(
                            "SELECT count(*)::int8, coalesce(sum(hashtext(xmin::text)::int8), 0)::int8, \
                             (SELECT md5(string_agg(attname || ' ' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)) \
                              FROM pg_attribute WHERE attrelid = '{t}'::regclass AND attnum > 0 AND NOT attisdropped) \
                             FROM {t}"
                        ),
                        &[],
                    )
                    .await?;
                out.push(TableFingerprint { table: t.clone(), rows: row.get(0), xmin_hash: row.get(1), columns_md5: row.get(2) });
            }
            let row = tx
                .query_one(
                    "SELECT pg_current_wal_insert_lsn()::text, current_setting('wal_block_size')::int8, \
                     pg_size_bytes(current_setting('wal_segment_size'))::int8",
                    &[],
                )
                .await?;
            tx.commit().await?;
            Ok((out, row.get::<_, String>(0), row.get::<_, i64>(1), row.get::<_, i64>(2)))
        });
        let (tables, lsn, block, segment) = work.await?;
        Ok(Fingerprint {
            tables,
            lsn: end_of_inserted(lsn.parse().unwrap_or_default(), block, segment),
        })
    }
}

/// The insert position as the end of the last record inserted, comparable with a replica's
/// `pg_last_wal_replay_lsn()` (the end of the last record replayed): at the very start of a
/// WAL page, `pg_current_wal_insert_lsn()` points past the page header (24 bytes, 40 at a
/// segment's start) where no record ends, so a replica that has replayed everything would
/// never reach it.
fn end_of_inserted(lsn: Lsn, block: i64, segment: i64) -> Lsn {
    const SHORT_HEADER: u64 = 24;
    const LONG_HEADER: u64 = 40;
    let (block, segment) = (block.max(1) as u64, segment.max(1) as u64);
    if lsn.0 % segment == LONG_HEADER {
        Lsn(lsn.0 - LONG_HEADER)
    } else if lsn.0 % block == SHORT_HEADER {
        Lsn(lsn.0 - SHORT_HEADER)
    } else {
        lsn
    }
}

/// A cheap signature of the write activity on each of `tables` since the statistics were
/// reset: `n_tup_ins`, `n_tup_upd`, `n_tup_del` and `n_live_tup` from `pg_stat_user_tables`
/// on the primary (no table scan), one `(table, "ins/upd/del/live")` pair per table in the
/// order asked, all in one query. When a table's signature has not moved, no change was
/// committed to it, so its [`Fingerprint`] has not moved either — up to the statistics'
/// reporting delay (PostgreSQL flushes a session's counters about once a second, at worst
/// after ~10 s idle). It is a hint for how often to take the exact fingerprint, never a
/// substitute for it.
///
/// A table that does not exist (or has no statistics) has the signature `-`.
pub async fn activity_signature(
    primary: &Node,
    tables: &[String],
) -> Result<Vec<(String, String)>> {
    let tables = tables.to_vec();
    primary
        .with_client("reading pg_stat_user_tables", |c| async move {
            let rows = c
                .query(
                    "SELECT t, coalesce(s.n_tup_ins || '/' || s.n_tup_upd || '/' || s.n_tup_del || '/' || s.n_live_tup, '-') \
                     FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i) \
                     LEFT JOIN pg_stat_user_tables s ON s.relid = to_regclass(u.t) ORDER BY i",
                    &[&tables],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
                .collect())
        })
        .await
}

/// The node's replay position: `pg_last_wal_replay_lsn()` on a replica,
/// `pg_current_wal_insert_lsn()` on a primary (everything it holds, as a [`Fingerprint`]'s
/// LSN counts it).
pub async fn replay_lsn(node: &Node) -> Result<Lsn> {
    let text: String = node
        .with_client("reading the replay LSN", |c| async move {
            c.query_one(
                "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text",
                &[],
            )
            .await
            .map(|r| r.get::<_, Option<String>>(0).unwrap_or_default())
        })
        .await?;
    Ok(text.parse().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::end_of_inserted;
    use crate::lsn::Lsn;

    #[test]
    fn a_page_header_is_not_a_position_a_replica_reaches() {
        let (block, segment) = (8192, 16 << 20);
        assert_eq!(
            end_of_inserted(Lsn(8192 * 5 + 24), block, segment),
            Lsn(8192 * 5)
        );
        assert_eq!(
            end_of_inserted(Lsn((16 << 20) + 40), block, segment),
            Lsn(16 << 20)
        );
        assert_eq!(
            end_of_inserted(Lsn(8192 * 5 + 96), block, segment),
            Lsn(8192 * 5 + 96)
        );
    }
}
