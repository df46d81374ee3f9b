//! The rest of a cache's life after `create_cache`: the tables a query reads (to propose
//! what to monitor), editing a definition, pausing the scheduler for it, and deleting it. Each
//! change is one DuckLake commit with author `skein` and a message; a deleted cache's data and
//! history stay reachable by time travel until its snapshots are expired.

use skein_pg::Cluster;

use crate::cache::{commit, now_ms, read_definitions, CacheDefinition, CacheSpec};
use crate::error::{Error, Result};
use crate::lake::{ident, lit, text_array, Lake};
use crate::validate::validate_definition;

/// The tables a query reads, as written (`orders`, `public.orders`), in order of first use,
/// without CTE names. Parsed with PostgreSQL's own parser (libpg_query).
///
/// Errors: `InvalidInput` with the parser's message when the query does not parse.
pub fn tables_of(query: &str) -> Result<Vec<String>> {
    let parsed = pg_query::parse(query, 0)
        .map_err(|e| Error::InvalidInput(format!("the query does not parse: {e}")))?;
    let ctes: Vec<String> = parsed.cte_names.clone();
    let mut out: Vec<String> = Vec::new();
    for (t, _) in &parsed.tables {
        if !ctes.contains(t) && !out.contains(t) {
            out.push(t.clone());
        }
    }
    Ok(out)
}

/// One refresh that wrote data, from `<lake>.skein.cache_refreshes`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct RefreshEntry {
    /// Cache name.
    pub cache: String,
    /// When it committed, ms since the Unix epoch.
    pub refreshed_at_ms: i64,
    /// Rows written.
    pub rows: u64,
    /// Wall time, ms.
    pub duration_ms: u64,
    /// The node that served the read.
    pub served_by: String,
}

impl Lake {
    /// Every refresh that wrote data since `since_ms` (ms since the Unix epoch), oldest
    /// first, from `<lake>.skein.cache_refreshes` (deleted caches' records go with them).
    pub async fn refresh_history(&self, since_ms: i64) -> Result<Vec<RefreshEntry>> {
        self.read(move |conn, lake| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT cache, refreshed_at_ms, rows, duration_ms, served_by FROM {}.skein.cache_refreshes \
                     WHERE refreshed_at_ms >= ? ORDER BY refreshed_at_ms",
                    ident(lake)
                ))
                .map_err(Error::duck("reading the refresh history"))?;
            let rows = stmt
                .query_map([since_ms], |r| {
                    Ok(RefreshEntry {
                        cache: r.get(0)?,
                        refreshed_at_ms: r.get(1)?,
                        rows: r.get::<_, i64>(2)?.max(0) as u64,
                        duration_ms: r.get::<_, i64>(3)?.max(0) as u64,
                        served_by: r.get(4)?,
                    })
                })
                .map_err(Error::duck("reading the refresh history"))?;
            rows.collect::<std::result::Result<Vec<_>, _>>()
                .map_err(Error::duck("reading the refresh history"))
        })
        .await
    }

    /// Replaces a cache's query, monitored tables and TTL after the same checks as
    /// `create_cache` (a write statement is refused), keeping its key. When the query or the
    /// monitored tables changed, the cache is `Edited` at once: the lake still holds the old
    /// query's result, routing never serves it, and the next refresh rewrites it ("definition
    /// changed", never SKIPPED). Errors: `NotFound`, and those of the checks.
    pub async fn update_cache(
        &self,
        cluster: &Cluster,
        name: &str,
        query: &str,
        monitor: &[String],
        ttl_seconds: Option<u64>,
    ) -> Result<CacheDefinition> {
        let key = self.cache_definition(name).await?.key;
        let spec = CacheSpec {
            name: name.to_owned(),
            query: query.to_owned(),
            monitor: monitor.to_vec(),
            ttl_seconds,
            key,
        };
        self.redefine_cache(cluster, &spec).await
    }

    /// Replaces the definition of the cache `spec.name` (query, monitored tables, TTL, key)
    /// after the checks of [`Lake::define_cache`]; see [`Lake::update_cache`]. A new key alone
    /// does not make the cache `Edited`: the data does not depend on it. One lake commit, "edit
    /// cache NAME". Errors: `NotFound`, and those of the checks.
    pub async fn redefine_cache(
        &self,
        cluster: &Cluster,
        spec: &CacheSpec,
    ) -> Result<CacheDefinition> {
        let old = self.cache_definition(&spec.name).await?;
        let q = validate_definition(cluster, spec).await?;
        let def = CacheDefinition {
            query: q,
            monitor: spec.monitor.clone(),
            ttl_seconds: spec.ttl_seconds,
            key: spec.key.clone(),
            ..old
        };
        let d = def.clone();
        self.run(move |conn, lake| {
            let l = ident(lake);
            let (monitor_list, key_list) = (text_array(&d.monitor), text_array(&d.key));
            let extra = serde_json::json!({ "cache": d.name }).to_string();
            commit(conn, lake, &format!("edit cache {}", d.name), &extra, |c| {
                c.execute(
                    &format!(
                        "UPDATE {l}.skein.caches SET query = ?, monitor = {monitor_list}, ttl_seconds = ?, key = {key_list} WHERE name = ?"
                    ),
                    duckdb::params![d.query, d.ttl_seconds.map(|t| t as i64), d.name],
                )
                .map(|_| ())
                .map_err(Error::duck("saving the cache definition"))
            })
        })
        .await?;
        Ok(def)
    }

    /// Pauses or resumes the console's scheduler for a cache (a row in
    /// `<lake>.skein.cache_settings`, newest wins). Errors: `NotFound`.
    pub async fn set_cache_paused(&self, name: &str, paused: bool) -> Result<CacheDefinition> {
        let def = self.cache_definition(name).await?;
        let n = name.to_owned();
        self.run(move |conn, lake| {
            let extra = serde_json::json!({ "cache": n }).to_string();
            let verb = if paused { "pause" } else { "resume" };
            commit(conn, lake, &format!("{verb} cache {n}"), &extra, |c| {
                c.execute(
                    &format!(
                        "INSERT INTO {}.skein.cache_settings VALUES (?, ?, ?)",
                        ident(lake)
                    ),
                    duckdb::params![n, paused, now_ms()],
                )
                .map(|_| ())
                .map_err(Error::duck("saving the cache setting"))
            })
        })
        .await?;
        Ok(CacheDefinition { paused, ..def })
    }

    /// Deletes a cache: its table, definition, refresh records and settings go in one commit
    /// ("delete cache NAME"). Earlier snapshots still hold them for time travel until expired.
    /// Errors: `NotFound`.
    pub async fn delete_cache(&self, name: &str) -> Result<()> {
        let n = name.to_owned();
        self.run(move |conn, lake| {
            if read_definitions(conn, lake, Some(&n))?.is_empty() {
                return Err(Error::NotFound(format!(
                    "no cache named '{n}' (list them with `skein cache list`)"
                )));
            }
            let l = ident(lake);
            let extra = serde_json::json!({ "cache": n }).to_string();
            commit(conn, lake, &format!("delete cache {n}"), &extra, |c| {
                c.execute_batch(&format!(
                    "DROP TABLE IF EXISTS {l}.main.{t};
                     DELETE FROM {l}.skein.caches WHERE name = {v};
                     DELETE FROM {l}.skein.cache_refreshes WHERE cache = {v};
                     DELETE FROM {l}.skein.cache_settings WHERE cache = {v};",
                    t = ident(&n),
                    v = lit(&n)
                ))
                .map_err(Error::duck(format!("deleting cache {n}")))
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::tables_of;

    #[test]
    fn tables_come_from_the_parser_without_ctes() {
        let t = tables_of(
            "WITH recent AS (SELECT * FROM orders WHERE o_orderdate > now() - interval '1 day') \
             SELECT n.n_name, count(*) FROM recent r JOIN customer c ON c.c_custkey = r.o_custkey \
             JOIN public.nation n ON n.n_nationkey = c.c_nationkey GROUP BY 1",
        )
        .expect("parses");
        assert_eq!(t.len(), 3, "{t:?}");
        for name in ["orders", "customer", "public.nation"] {
            assert!(t.iter().any(|x| x == name), "{name} missing from {t:?}");
        }
        assert!(!t.iter().any(|x| x == "recent"));
    }

    #[test]
    fn a_query_that_does_not_parse_says_so() {
        let e = tables_of("SELEC 1").expect_err("syntax error");
        assert_eq!(e.code(), skein_core::ErrorCode::InvalidInput);
        assert!(e.to_string().contains("does not parse"), "{e}");
    }
}
