//! Bookmarks: names for snapshots ("before-migration"), kept in the lake beside Skein's cache
//! records (`<lake>.skein.bookmarks`, created with the first bookmark), so every console and
//! CLI on the lake sees them. A name is usable wherever a snapshot id is
//! ([`Lake::resolve_version`]). Setting or deleting one is a lake commit with author `skein`.
//! A bookmark whose snapshot was expired stays, marked `expired`, until it is deleted.

use serde::{Deserialize, Serialize};

use crate::cache::{commit, now_ms};
use crate::error::{Error, Result};
use crate::lake::{ident, Lake};

/// A named snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Bookmark {
    /// The name: a letter, then letters, digits, `_` or `-` (at most 63).
    pub name: String,
    /// The snapshot it names.
    pub snapshot_id: i64,
    /// When it was set, ms since the Unix epoch.
    pub created_at_ms: i64,
    /// Its snapshot no longer exists (expired): time travel to it fails.
    pub expired: bool,
}

/// Why `name` is not a bookmark name, or `None`.
fn name_problem(name: &str) -> Option<String> {
    let ok = name.len() <= 63
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (!ok).then(|| {
        format!(
            "'{name}' is not a bookmark name: start with a letter, then letters, digits, '_' or '-' (at most 63)"
        )
    })
}

fn has_table(conn: &duckdb::Connection, lake: &str) -> Result<bool> {
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'skein' \
             AND table_name = 'bookmarks'",
            [lake],
            |r| r.get(0),
        )
        .map_err(Error::duck("looking for the bookmarks"))?;
    Ok(n > 0)
}

pub(crate) fn read_bookmarks(conn: &duckdb::Connection, lake: &str) -> Result<Vec<Bookmark>> {
    if !has_table(conn, lake)? {
        return Ok(Vec::new());
    }
    let l = ident(lake);
    let mut stmt = conn
        .prepare(&format!(
            "SELECT b.name, b.snapshot_id, b.created_at_ms, \
             NOT EXISTS (SELECT 1 FROM {l}.snapshots() s WHERE s.snapshot_id = b.snapshot_id) \
             FROM {l}.skein.bookmarks b ORDER BY b.snapshot_id, b.name"
        ))
        .map_err(Error::duck("reading the bookmarks"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Bookmark {
                name: r.get(0)?,
                snapshot_id: r.get(1)?,
                created_at_ms: r.get(2)?,
                expired: r.get(3)?,
            })
        })
        .map_err(Error::duck("reading the bookmarks"))?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::duck("reading the bookmarks"))
}

impl Lake {
    /// Every bookmark, by snapshot.
    pub async fn bookmarks(&self) -> Result<Vec<Bookmark>> {
        self.read(read_bookmarks).await
    }

    /// Names snapshot `snapshot_id` `name`, in one commit ("bookmark NAME: snapshot N").
    ///
    /// Errors: `InvalidInput` for a bad name; `NotFound` for a snapshot that does not exist
    /// (naming the ids the lake holds); `Conflict` for a name in use (naming its snapshot).
    pub async fn set_bookmark(&self, name: &str, snapshot_id: i64) -> Result<Bookmark> {
        if let Some(p) = name_problem(name) {
            return Err(Error::InvalidInput(p));
        }
        // The snapshot must exist: its own error says which ones do.
        self.snapshot_at(&crate::At::Version(snapshot_id)).await?;
        let n = name.to_owned();
        self.run(move |conn, lake| {
            if let Some(b) = read_bookmarks(conn, lake)?.into_iter().find(|b| b.name == n) {
                return Err(Error::Conflict(format!(
                    "bookmark '{n}' names snapshot {} already: delete it first to move it",
                    b.snapshot_id
                )));
            }
            let l = ident(lake);
            let created_at_ms = now_ms();
            let extra = serde_json::json!({ "bookmark": n, "snapshot_id": snapshot_id }).to_string();
            commit(conn, lake, &format!("bookmark {n}: snapshot {snapshot_id}"), &extra, |c| {
                c.execute_batch(&format!(
                    "CREATE TABLE IF NOT EXISTS {l}.skein.bookmarks (name VARCHAR, snapshot_id BIGINT, created_at_ms BIGINT)"
                ))
                .map_err(Error::duck("creating the bookmarks table"))?;
                c.execute(
                    &format!("INSERT INTO {l}.skein.bookmarks VALUES (?, ?, ?)"),
                    duckdb::params![n, snapshot_id, created_at_ms],
                )
                .map(|_| ())
                .map_err(Error::duck("saving the bookmark"))
            })?;
            Ok(Bookmark {
                name: n,
                snapshot_id,
                created_at_ms,
                expired: false,
            })
        })
        .await
    }

    /// Deletes bookmark `name`, in one commit ("delete bookmark NAME"). The snapshot stays.
    ///
    /// Errors: `NotFound` naming the bookmarks there are.
    pub async fn delete_bookmark(&self, name: &str) -> Result<()> {
        let n = name.to_owned();
        self.run(move |conn, lake| {
            let all = read_bookmarks(conn, lake)?;
            if !all.iter().any(|b| b.name == n) {
                return Err(not_found(&n, &all));
            }
            let l = ident(lake);
            let extra = serde_json::json!({ "bookmark": n }).to_string();
            commit(conn, lake, &format!("delete bookmark {n}"), &extra, |c| {
                c.execute(
                    &format!("DELETE FROM {l}.skein.bookmarks WHERE name = ?"),
                    [&n],
                )
                .map(|_| ())
                .map_err(Error::duck("deleting the bookmark"))
            })
        })
        .await
    }

    /// A snapshot id from what a user typed: digits are an id, anything else a bookmark's name.
    ///
    /// Errors: `NotFound` for a name no bookmark has (naming the bookmarks there are).
    pub async fn resolve_version(&self, text: &str) -> Result<i64> {
        let t = text.trim();
        if let Ok(id) = t.parse::<i64>() {
            return Ok(id);
        }
        let all = self.bookmarks().await?;
        all.iter()
            .find(|b| b.name == t)
            .map(|b| b.snapshot_id)
            .ok_or_else(|| not_found(t, &all))
    }
}

fn not_found(name: &str, all: &[Bookmark]) -> Error {
    let names = if all.is_empty() {
        "the lake has none".to_owned()
    } else {
        format!(
            "bookmarks: {}",
            all.iter()
                .map(|b| b.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Error::NotFound(format!("no snapshot id or bookmark '{name}' ({names})"))
}

#[cfg(test)]
mod tests {
    use super::name_problem;

    #[test]
    fn a_name_starts_with_a_letter() {
        assert_eq!(name_problem("before-migration"), None);
        assert_eq!(name_problem("v2_ok"), None);
        for bad in ["", "1st", "-x", "has space", "ü"] {
            assert!(name_problem(bad).is_some(), "{bad}");
        }
        assert!(name_problem(&"a".repeat(64)).is_some());
    }
}
