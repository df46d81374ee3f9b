//! Proposing a cache's key: the columns of its query's result that identify a row, so a
//! snapshot diff of the cache's table can say which rows changed rather than only which were
//! added and removed.
//!
//! Two sources, in order:
//! - the query's `GROUP BY`, when every grouping item is a plain column (or a position) that
//!   the query returns: each group is one row (PostgreSQL's parser, libpg_query);
//! - the primary key of the one table the query reads, when the query returns every column of
//!   it as is: PostgreSQL's own description of the prepared query (`RowDescription`: the
//!   source table's OID and attribute number of each plain column) against `pg_index`
//!   (`indisprimary`). A join, a `DISTINCT ON`, a set operation or an aggregate without
//!   `GROUP BY` proposes nothing.
//!
//! A proposal is checked again where it is used: a diff whose key repeats in a version falls
//! back to whole rows and says so.

use pg_query::NodeEnum;
use serde::{Deserialize, Serialize};
use skein_pg::Cluster;

use crate::error::{Error, Result};
use crate::lifecycle::tables_of;

/// A proposed key and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct KeySuggestion {
    /// Result columns, in the order of their source.
    pub key: Vec<String>,
    /// Where the proposal comes from, for a person: `the query's GROUP BY`, `the primary key
    /// of public.nation`.
    pub source: String,
}

/// The last name of a column reference (`n.n_name` → `n_name`), if the node is one.
fn column_name(node: &pg_query::protobuf::Node) -> Option<String> {
    match node.node.as_ref()? {
        NodeEnum::ColumnRef(c) => match c.fields.last()?.node.as_ref()? {
            NodeEnum::String(s) => Some(s.sval.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The output names of the target list, `None` for an item whose name PostgreSQL makes up
/// (an expression without an alias) or a `*`.
fn output_names(select: &pg_query::protobuf::SelectStmt) -> Vec<(Option<String>, Option<String>)> {
    select
        .target_list
        .iter()
        .map(|t| match t.node.as_ref() {
            Some(NodeEnum::ResTarget(r)) => {
                let source = r.val.as_deref().and_then(column_name);
                let name = if r.name.is_empty() {
                    source.clone()
                } else {
                    Some(r.name.clone())
                };
                (name, source)
            }
            _ => (None, None),
        })
        .collect()
}

/// The key the `GROUP BY` of a single `SELECT` gives, as output column names; `None` when
/// there is no `GROUP BY` or an item is not a returned plain column.
pub(crate) fn group_by_key(query: &str) -> Option<Vec<String>> {
    let parsed = pg_query::parse(query, 0).ok()?;
    let [stmt] = parsed.protobuf.stmts.as_slice() else {
        return None;
    };
    let Some(NodeEnum::SelectStmt(select)) = stmt.stmt.as_ref()?.node.as_ref() else {
        return None;
    };
    if select.group_clause.is_empty() || select.larg.is_some() || !select.distinct_clause.is_empty()
    {
        return None;
    }
    let outputs = output_names(select);
    let mut key = Vec::new();
    for item in &select.group_clause {
        let name = match item.node.as_ref()? {
            NodeEnum::AConst(c) => match c.val.as_ref()? {
                pg_query::protobuf::a_const::Val::Ival(i) => outputs
                    .get(usize::try_from(i.ival).ok()?.checked_sub(1)?)?
                    .0
                    .clone()?,
                _ => return None,
            },
            _ => {
                let col = column_name(item)?;
                // Grouped by a returned column (by its source or its output name).
                outputs
                    .iter()
                    .find(|(name, source)| {
                        source.as_ref() == Some(&col) || name.as_ref() == Some(&col)
                    })?
                    .0
                    .clone()?
            }
        };
        if !key.contains(&name) {
            key.push(name);
        }
    }
    Some(key)
}

/// Whether the query may return one row per row of the table it reads: a single plain
/// `SELECT` from one table (no join, no CTE) without `GROUP BY`, `DISTINCT`, set operation or
/// aggregate (an aggregate alone
/// makes one row, and the key would then say nothing).
fn row_per_row(query: &str) -> bool {
    let Ok(parsed) = pg_query::parse(query, 0) else {
        return false;
    };
    let [stmt] = parsed.protobuf.stmts.as_slice() else {
        return false;
    };
    let Some(NodeEnum::SelectStmt(select)) = stmt.stmt.as_ref().and_then(|s| s.node.as_ref())
    else {
        return false;
    };
    let one_table = matches!(
        select.from_clause.as_slice(),
        [pg_query::protobuf::Node {
            node: Some(NodeEnum::RangeVar(_))
        }]
    );
    one_table
        && select.with_clause.is_none()
        && select.group_clause.is_empty()
        && select.distinct_clause.is_empty()
        && select.larg.is_none()
        && select.having_clause.is_none()
        && !parsed.functions.iter().any(|(f, _)| {
            matches!(
                f.rsplit('.').next().unwrap_or(f),
                "count"
                    | "sum"
                    | "avg"
                    | "min"
                    | "max"
                    | "array_agg"
                    | "string_agg"
                    | "bool_and"
                    | "bool_or"
            )
        })
}

/// Proposes a key for a cache query (see the module's notes); `None` when neither source
/// gives one.
///
/// Errors: `InvalidInput` when the query does not parse; `QueryFailed` when it does not plan
/// on the primary (`PREPARE`; it is not run).
pub async fn suggest_key(cluster: &Cluster, query: &str) -> Result<Option<KeySuggestion>> {
    let q = query.trim().trim_end_matches(';').to_owned();
    let tables = tables_of(&q)?;
    if let Some(key) = group_by_key(&q) {
        return Ok(Some(KeySuggestion {
            key,
            source: "the query's GROUP BY".into(),
        }));
    }
    if tables.len() != 1 || !row_per_row(&q) {
        // A join can repeat a table's primary key; an aggregate makes one row.
        return Ok(None);
    }
    let found: Option<(String, Vec<String>)> = cluster
        .primary
        .with_client("proposing the cache's key", |c| async move {
            let stmt = c.prepare(&q).await?;
            let columns: Vec<(String, Option<u32>, Option<i16>)> = stmt
                .columns()
                .iter()
                .map(|c| (c.name().to_owned(), c.table_oid(), c.column_id()))
                .collect();
            let Some(oid) = columns.iter().find_map(|c| c.1.filter(|o| *o != 0)) else {
                return Ok(None);
            };
            // The primary key's attribute numbers, in the key's order, and the table's name.
            let pk = c
                .query_opt(
                    "SELECT i.indrelid::regclass::text, array_agg(k.attnum ORDER BY k.ord) \
                     FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
                     WHERE i.indrelid = $1 AND i.indisprimary GROUP BY i.indrelid",
                    &[&oid],
                )
                .await?;
            let Some(row) = pk else {
                return Ok(None);
            };
            let (table, attnums): (String, Vec<i16>) = (row.get(0), row.get(1));
            let key: Option<Vec<String>> = attnums
                .iter()
                .map(|a| {
                    columns
                        .iter()
                        .find(|c| c.1 == Some(oid) && c.2 == Some(*a))
                        .map(|c| c.0.clone())
                })
                .collect();
            Ok(key.map(|k| (table, k)))
        })
        .await
        .map_err(Error::Pg)?;
    Ok(found.map(|(table, key)| KeySuggestion {
        key,
        source: format!("the primary key of {table}"),
    }))
}

#[cfg(test)]
mod tests {
    use super::{group_by_key, row_per_row};

    #[test]
    fn group_by_items_map_to_output_names() {
        let q = "SELECT l_returnflag AS flag, l_linestatus, sum(l_quantity) FROM lineitem GROUP BY l_returnflag, 2";
        assert_eq!(
            group_by_key(q),
            Some(vec!["flag".into(), "l_linestatus".into()])
        );
        let q = "SELECT n.n_name, count(*) FROM nation n GROUP BY n.n_name";
        assert_eq!(group_by_key(q), Some(vec!["n_name".into()]));
        // Grouped by a column the query does not return, or by an expression: no key.
        assert_eq!(group_by_key("SELECT count(*) FROM t GROUP BY a"), None);
        assert_eq!(
            group_by_key("SELECT a + 1, count(*) FROM t GROUP BY a + 1"),
            None
        );
        assert_eq!(group_by_key("SELECT a FROM t"), None);
    }

    #[test]
    fn only_a_plain_select_keeps_a_row_per_row() {
        assert!(row_per_row("SELECT id, v FROM t WHERE v > 1"));
        assert!(!row_per_row("SELECT DISTINCT v FROM t"));
        assert!(!row_per_row("SELECT count(*) FROM t"));
        assert!(!row_per_row("SELECT id FROM t UNION SELECT id FROM u"));
        assert!(!row_per_row("SELECT a.id FROM t a JOIN t b ON b.v = a.v"));
        assert!(!row_per_row("SELECT a.id FROM t a, u"));
    }
}
