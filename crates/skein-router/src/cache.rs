//! Routing reads to caches: which part of a read a fresh cache already holds.
//!
//! A cache is a source query materialised into a lake table (`lake.main.<name>`). Queries are
//! matched by PostgreSQL's query fingerprint (`pg_query::fingerprint`, with full relation
//! names: constants and formatting do not count, tables do):
//!
//! - **whole**: the statement is a fresh cache's query → read the cache table;
//! - **partial**: a subquery in `FROM` or a CTE is a fresh cache's query → that part is
//!   replaced by the cache table and the statement runs in DuckDB, the rest read live from a
//!   replica (the caller sets the replica as DuckDB's default catalog);
//! - a matching cache that is not fresh (stale, expired, empty, unknown) is **never used
//!   silently**: it is listed in [`CachePlan::skipped`] with its state, and the read runs live.
//!
//! Only reads qualify (the caller checks the classification first). The rewritten SQL is
//! PostgreSQL's deparse of the changed tree, which DuckDB reads for the common subset
//! (joins, aggregates, CTEs); a statement DuckDB rejects fails with DuckDB's message.

use pg_query::protobuf::{self, node::Node as N};
use serde::{Deserialize, Serialize};

/// A cache as the router sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedQuery {
    /// Cache name: the lake table `<lake>.main.<name>`.
    pub name: String,
    /// Its source query.
    pub query: String,
    /// Whether it may serve reads now (state fresh).
    pub fresh: bool,
    /// Its state word (`fresh`, `stale`, `expired`, `empty`, `unknown`), for reasons.
    pub state: String,
}

/// A matching cache that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SkippedCache {
    /// Cache name.
    pub name: String,
    /// Its state (not fresh).
    pub state: String,
}

/// How a read uses caches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheUse {
    /// The whole statement is this cache's query.
    Whole {
        /// Cache name.
        cache: String,
    },
    /// Parts of it are; `sql` is the statement with those parts replaced by the cache
    /// tables, for DuckDB, unqualified tables to be read from a replica.
    Partial {
        /// Caches used.
        caches: Vec<String>,
        /// The rewritten statement.
        sql: String,
    },
}

/// What the caches can do for one read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CachePlan {
    /// How fresh caches serve it, if they do.
    pub uses: Option<CacheUse>,
    /// Caches holding the statement or a part of it that are not fresh.
    pub skipped: Vec<SkippedCache>,
}

/// The caches, by query fingerprint.
#[derive(Debug, Clone, Default)]
pub struct CacheRoutes {
    lake: String,
    caches: Vec<(u64, CachedQuery)>,
}

fn fingerprint(sql: &str) -> Option<u64> {
    pg_query::fingerprint(sql, 0, pg_query::FingerprintOptions::FULL_RELNAME)
        .ok()
        .map(|f| f.value)
}

fn fingerprint_select(sel: &protobuf::SelectStmt) -> Option<u64> {
    let node = N::SelectStmt(Box::new(sel.clone()));
    let sql = node.deparse(Default::default()).ok()?;
    fingerprint(&sql)
}

impl CacheRoutes {
    /// The caches of the lake attached in DuckDB as `lake` (its catalog name).
    pub fn new(lake: &str, caches: Vec<CachedQuery>) -> CacheRoutes {
        CacheRoutes {
            lake: lake.to_owned(),
            caches: caches
                .into_iter()
                .filter_map(|c| fingerprint(&c.query).map(|f| (f, c)))
                .collect(),
        }
    }

    fn find(&self, fp: u64) -> Option<&CachedQuery> {
        self.caches.iter().find(|(f, _)| *f == fp).map(|(_, c)| c)
    }

    /// What fresh caches can serve of `sql` (a read).
    pub fn plan(&self, sql: &str) -> CachePlan {
        let mut plan = CachePlan::default();
        if self.caches.is_empty() {
            return plan;
        }
        if let Some(c) = fingerprint(sql).and_then(|f| self.find(f)) {
            if c.fresh {
                plan.uses = Some(CacheUse::Whole {
                    cache: c.name.clone(),
                });
            } else {
                plan.skipped.push(SkippedCache {
                    name: c.name.clone(),
                    state: c.state.clone(),
                });
            }
            return plan;
        }
        let Ok(parsed) = pg_query::parse(sql, 0) else {
            return plan;
        };
        let mut tree = parsed.protobuf;
        let [raw] = tree.stmts.as_mut_slice() else {
            return plan;
        };
        let Some(N::SelectStmt(sel)) = raw.stmt.as_mut().and_then(|s| s.node.as_mut()) else {
            return plan;
        };
        let mut used = Vec::new();
        self.rewrite_select(sel, &mut used, &mut plan.skipped);
        if used.is_empty() {
            return plan;
        }
        if let Ok(sql) = pg_query::deparse(&tree, Default::default()) {
            plan.uses = Some(CacheUse::Partial { caches: used, sql });
        }
        plan
    }

    /// The cache table as a `FROM` item (`lake.main.<name> [AS alias]`).
    fn table(&self, cache: &str, alias: Option<protobuf::Alias>) -> protobuf::RangeVar {
        protobuf::RangeVar {
            catalogname: self.lake.clone(),
            schemaname: "main".into(),
            relname: cache.to_owned(),
            inh: true,
            relpersistence: "p".into(),
            alias,
            location: -1,
        }
    }

    /// `SELECT * FROM <cache table>`.
    fn select_all(&self, cache: &str) -> protobuf::SelectStmt {
        let star = protobuf::Node {
            node: Some(N::ResTarget(Box::new(protobuf::ResTarget {
                val: Some(Box::new(protobuf::Node {
                    node: Some(N::ColumnRef(protobuf::ColumnRef {
                        fields: vec![protobuf::Node {
                            node: Some(N::AStar(protobuf::AStar {})),
                        }],
                        location: -1,
                    })),
                })),
                location: -1,
                ..Default::default()
            }))),
        };
        protobuf::SelectStmt {
            target_list: vec![star],
            from_clause: vec![protobuf::Node {
                node: Some(N::RangeVar(self.table(cache, None))),
            }],
            limit_option: protobuf::LimitOption::Default as i32,
            op: protobuf::SetOperation::SetopNone as i32,
            ..Default::default()
        }
    }

    /// Whether `sel` is a cache's query: `Some(Ok(name))` fresh, `Some(Err(skipped))` not.
    fn matches(&self, sel: &protobuf::SelectStmt) -> Option<Result<String, SkippedCache>> {
        let c = fingerprint_select(sel).and_then(|f| self.find(f))?;
        Some(if c.fresh {
            Ok(c.name.clone())
        } else {
            Err(SkippedCache {
                name: c.name.clone(),
                state: c.state.clone(),
            })
        })
    }

    fn rewrite_select(
        &self,
        sel: &mut protobuf::SelectStmt,
        used: &mut Vec<String>,
        skipped: &mut Vec<SkippedCache>,
    ) {
        if let Some(with) = sel.with_clause.as_mut() {
            for cte in &mut with.ctes {
                let Some(N::CommonTableExpr(cte)) = cte.node.as_mut() else {
                    continue;
                };
                let Some(N::SelectStmt(q)) = cte.ctequery.as_mut().and_then(|n| n.node.as_mut())
                else {
                    continue;
                };
                match self.matches(q) {
                    Some(Ok(name)) => {
                        **q = self.select_all(&name);
                        used.push(name);
                    }
                    Some(Err(s)) => skipped.push(s),
                    None => self.rewrite_select(q, used, skipped),
                }
            }
        }
        for item in &mut sel.from_clause {
            self.rewrite_from(item, used, skipped);
        }
        if let Some(l) = sel.larg.as_mut() {
            self.rewrite_select(l, used, skipped);
        }
        if let Some(r) = sel.rarg.as_mut() {
            self.rewrite_select(r, used, skipped);
        }
    }

    fn rewrite_from(
        &self,
        item: &mut protobuf::Node,
        used: &mut Vec<String>,
        skipped: &mut Vec<SkippedCache>,
    ) {
        let replacement = match item.node.as_mut() {
            Some(N::RangeSubselect(rs)) => {
                let Some(N::SelectStmt(q)) = rs.subquery.as_mut().and_then(|n| n.node.as_mut())
                else {
                    return;
                };
                match self.matches(q) {
                    Some(Ok(name)) => {
                        let table = self.table(&name, rs.alias.clone());
                        used.push(name);
                        Some(table)
                    }
                    Some(Err(s)) => {
                        skipped.push(s);
                        None
                    }
                    None => {
                        self.rewrite_select(q, used, skipped);
                        None
                    }
                }
            }
            Some(N::JoinExpr(j)) => {
                if let Some(l) = j.larg.as_mut() {
                    self.rewrite_from(l, used, skipped);
                }
                if let Some(r) = j.rarg.as_mut() {
                    self.rewrite_from(r, used, skipped);
                }
                None
            }
            _ => None,
        };
        if let Some(t) = replacement {
            item.node = Some(N::RangeVar(t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(fresh: bool) -> CacheRoutes {
        CacheRoutes::new(
            "lake",
            vec![CachedQuery {
                name: "revenue_by_nation".into(),
                query: "SELECT n_nationkey, sum(o_totalprice) AS revenue FROM orders JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey GROUP BY n_nationkey".into(),
                fresh,
                state: if fresh { "fresh" } else { "stale" }.into(),
            }],
        )
    }

    #[test]
    fn the_same_query_in_other_words_is_served_whole() {
        let p = routes(true).plan(
            "select n_nationkey,   SUM(o_totalprice) as revenue from orders join customer on o_custkey = c_custkey join nation on c_nationkey = n_nationkey group by n_nationkey",
        );
        assert_eq!(
            p.uses,
            Some(CacheUse::Whole {
                cache: "revenue_by_nation".into()
            })
        );
    }

    #[test]
    fn a_cached_subquery_joined_with_a_live_table_is_rewritten() {
        let p = routes(true).plan(
            "SELECT n.n_name, r.revenue FROM (SELECT n_nationkey, sum(o_totalprice) AS revenue FROM orders JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey GROUP BY n_nationkey) r JOIN nation n ON n.n_nationkey = r.n_nationkey ORDER BY r.revenue DESC",
        );
        let Some(CacheUse::Partial { caches, sql }) = p.uses else {
            panic!("not partial: {p:?}");
        };
        assert_eq!(caches, ["revenue_by_nation"]);
        assert!(sql.contains("lake.main.revenue_by_nation r"), "{sql}");
        assert!(sql.contains("JOIN nation n"), "{sql}");
        assert!(!sql.contains("customer"), "{sql}");
    }

    #[test]
    fn a_cached_cte_is_replaced_and_a_stale_cache_is_never_used() {
        let q = "WITH r AS (SELECT n_nationkey, sum(o_totalprice) AS revenue FROM orders JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey GROUP BY n_nationkey) SELECT count(*) FROM r JOIN region ON true";
        let fresh = routes(true).plan(q);
        let Some(CacheUse::Partial { sql, .. }) = fresh.uses else {
            panic!("not partial: {fresh:?}");
        };
        assert!(
            sql.contains("SELECT * FROM lake.main.revenue_by_nation"),
            "{sql}"
        );
        let stale = routes(false).plan(q);
        assert_eq!(stale.uses, None);
        assert_eq!(
            stale.skipped,
            [SkippedCache {
                name: "revenue_by_nation".into(),
                state: "stale".into()
            }]
        );
        assert_eq!(routes(true).plan("SELECT * FROM orders").uses, None);
    }
}
