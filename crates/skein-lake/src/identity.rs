//! Who writes to the lake. Every commit Skein makes carries author `skein` (so the snapshot
//! history is the audit log and every Skein query can find its own commits), and its
//! `commit_extra_info` JSON carries `"writer": "<kind>@<host>#<id>"` naming the process that
//! made it: `console@build-7#3f9a1c` for a console (its id kept in its state directory, so it
//! is the same across restarts and differs between two consoles on one machine), `cli@build-7`
//! for the CLI. [`Lake::writers`] reads them back to say which *other* writers are active.
//!
//! One identity per process: [`set_writer`] is called once at start by the binary; a process
//! that never calls it writes `skein@<host>`.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::lake::{ident, Lake};
use crate::AUTHOR;

static WRITER: OnceLock<String> = OnceLock::new();

/// This machine's host name (`gethostname(2)`), `unknown-host` when it is not valid text.
pub fn host_name() -> String {
    gethostname::gethostname()
        .into_string()
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// Sets this process's writer identity, `<kind>@<host>` or `<kind>@<host>#<id>` (e.g.
/// `console`, `Some("3f9a1c")`). Only the first call counts; returns the identity in force.
pub fn set_writer(kind: &str, id: Option<&str>) -> &'static str {
    let host = host_name();
    WRITER.get_or_init(|| match id {
        Some(id) => format!("{kind}@{host}#{id}"),
        None => format!("{kind}@{host}"),
    })
}

/// This process's writer identity (see [`set_writer`]).
pub fn writer() -> &'static str {
    WRITER.get_or_init(|| format!("skein@{}", host_name()))
}

/// `extra_info` (a JSON object, or empty) with this process's `"writer"` added.
pub(crate) fn stamp(extra_info: &str) -> String {
    let mut value = serde_json::from_str::<serde_json::Value>(extra_info)
        .ok()
        .filter(serde_json::Value::is_object)
        .unwrap_or_else(|| serde_json::json!({}));
    value["writer"] = serde_json::Value::String(writer().to_owned());
    value.to_string()
}

/// The `writer` in a commit's `extra_info`, when it is a JSON object that names one.
pub(crate) fn writer_in(extra_info: &str) -> Option<String> {
    match serde_json::from_str::<serde_json::Value>(extra_info)
        .ok()?
        .get("writer")?
    {
        serde_json::Value::String(w) => Some(w.clone()),
        _ => None,
    }
}

/// A writer of the lake seen in its recent snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WriterActivity {
    /// The snapshots' `author` (`skein` for Skein, whatever another tool set, `null` for none).
    pub author: Option<String>,
    /// The writer in `commit_extra_info` (`console@host#id`, `cli@host`); `null` for a commit
    /// that names none (another tool, or Skein before writers were recorded).
    pub writer: Option<String>,
    /// Its commits in the window.
    pub commits: u64,
    /// Its newest commit in the window: snapshot id.
    pub last_snapshot_id: i64,
    /// Its newest commit's `snapshot_time`, ms since the epoch.
    pub last_commit_ms: i64,
    /// Its newest commit's `commit_message`.
    pub last_message: Option<String>,
}

impl Lake {
    /// Everyone who committed to the lake in the last `window_secs` seconds other than this
    /// process (its own `writer`), newest first, leaving out snapshot 0 (DuckLake's own, made
    /// when the catalog was created): grouped by `author` and the `writer` in
    /// `commit_extra_info`, from `<lake>.snapshots()` (`snapshot_time` is the catalog's clock).
    ///
    /// Errors: `DuckDb` when the catalog cannot be read.
    pub async fn writers(&self, window_secs: u64) -> Result<Vec<WriterActivity>> {
        let me = writer().to_owned();
        self.read(move |conn, lake| {
            let sql = format!(
                "WITH s AS (SELECT snapshot_id, epoch_ms(snapshot_time) AS t, author, commit_message, \
                   json_extract_string(commit_extra_info, '$.writer') AS writer \
                 FROM {l}.snapshots() WHERE snapshot_id > 0 AND snapshot_time > now() - to_seconds(?)) \
                 SELECT author, writer, count(*), max(snapshot_id), max(t), \
                   arg_max(commit_message, snapshot_id) \
                 FROM s WHERE NOT (coalesce(author, '') = ? AND coalesce(writer, '') = ?) \
                 GROUP BY author, writer ORDER BY max(snapshot_id) DESC",
                l = ident(lake)
            );
            let mut stmt = conn
                .prepare(&sql)
                .map_err(Error::duck("reading the lake's recent writers"))?;
            let rows = stmt
                .query_map(duckdb::params![window_secs as i64, AUTHOR, me], |r| {
                    Ok(WriterActivity {
                        author: r.get(0)?,
                        writer: r.get(1)?,
                        commits: r.get::<_, i64>(2)?.max(0) as u64,
                        last_snapshot_id: r.get(3)?,
                        last_commit_ms: r.get(4)?,
                        last_message: r.get(5)?,
                    })
                })
                .map_err(Error::duck("reading the lake's recent writers"))?;
            rows.collect::<std::result::Result<Vec<_>, _>>()
                .map_err(Error::duck("reading the lake's recent writers"))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_adds_the_writer_to_an_object_and_to_nothing() {
        let w = writer();
        let v: serde_json::Value =
            serde_json::from_str(&stamp(r#"{"cache":"a","refresh_id":"x"}"#)).expect("JSON");
        assert_eq!(v["cache"], "a");
        assert_eq!(v["refresh_id"], "x");
        assert_eq!(v["writer"], w);
        for empty in ["", "{}", "not json", "[1]"] {
            let v: serde_json::Value = serde_json::from_str(&stamp(empty)).expect("JSON");
            assert_eq!(v, serde_json::json!({ "writer": w }), "{empty}");
        }
        assert_eq!(writer_in(&stamp("{}")).as_deref(), Some(w));
        assert_eq!(writer_in("not json"), None);
        assert_eq!(writer_in(r#"{"writer": 3}"#), None);
    }
}
