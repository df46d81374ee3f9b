//! The checks a cache definition passes before it is saved (create and edit): a plain name,
//! monitored tables that exist, a positive TTL, a query that is one read — judged by the
//! router's own classifier — and plans on the primary, and a key made of columns it returns.

use skein_pg::{Cluster, Fingerprint};

use crate::cache::CacheSpec;
use crate::error::{Error, Result};

/// Checks a cache definition before it is saved: the name is an identifier, at least one
/// monitored table and each exists (a fingerprint is taken), the TTL is positive, the query is
/// a read ([`refuse_writes`]), it parses and plans on the primary (`PREPARE`; it is not run),
/// and each key column is one of the columns the prepared statement returns, named once.
/// Returns the query without a trailing `;`.
pub(crate) async fn validate_definition(cluster: &Cluster, spec: &CacheSpec) -> Result<String> {
    let (name, query, monitor, ttl_seconds) =
        (&spec.name, &spec.query, &spec.monitor, spec.ttl_seconds);
    if !skein_core::profile::is_identifier(name) || name.len() > 63 {
        return Err(Error::InvalidInput(format!(
            "'{name}' is not a valid cache name: use letters, digits and '_' (at most 63)"
        )));
    }
    if monitor.is_empty() {
        return Err(Error::InvalidInput(
            "name at least one source table to monitor (--monitor TABLE)".into(),
        ));
    }
    if ttl_seconds == Some(0) {
        return Err(Error::InvalidInput(
            "--ttl must be at least 1 second (leave it out for no TTL)".into(),
        ));
    }
    if query.trim().is_empty() {
        return Err(Error::InvalidInput("the cache query is empty".into()));
    }
    refuse_writes(cluster, query).await?;
    Fingerprint::take(&cluster.primary, monitor).await?;
    let q = query.trim().trim_end_matches(';').to_owned();
    let check = q.clone();
    let columns: Vec<String> = cluster
        .primary
        .with_client("checking the cache query", |c| async move {
            c.prepare(&check)
                .await
                .map(|s| s.columns().iter().map(|c| c.name().to_owned()).collect())
        })
        .await?;
    check_key(&spec.key, &columns)?;
    Ok(q)
}

/// A key names columns of the result (`columns`, as PostgreSQL describes it), each once.
fn check_key(key: &[String], columns: &[String]) -> Result<()> {
    for (i, k) in key.iter().enumerate() {
        if !columns.contains(k) {
            return Err(Error::InvalidInput(format!(
                "key column '{k}' is not a column of the cache query's result; it returns {}",
                columns.join(", ")
            )));
        }
        if key[..i].contains(k) {
            return Err(Error::InvalidInput(format!(
                "key column '{k}' is named twice; name each key column once"
            )));
        }
    }
    Ok(())
}

/// Refuses a cache query that is not a single read, with the router's own classifier
/// ([`skein_router::classify`], functions from the primary's `pg_proc` through
/// [`skein_router::load_functions`]): a statement the router would send to the primary —
/// `DELETE …`, `INSERT … RETURNING`, a writable CTE, a locking read, several statements, a
/// call of a writing function — is `InvalidInput` naming the rule and why. Routing hints
/// (`/* skein:primary */`) are not writes: the statement is judged without them
/// ([`skein_router::strip_hints`]).
pub(crate) async fn refuse_writes(cluster: &Cluster, query: &str) -> Result<()> {
    let functions = skein_router::load_functions(&cluster.primary)
        .await
        .map_err(|e| match e {
            skein_router::Error::Pg(e) => Error::Pg(e),
            other => Error::InvalidInput(format!(
                "the cache query could not be checked for writes: {other}"
            )),
        })?;
    let judged = skein_router::strip_hints(query);
    let c = skein_router::classify(judged.trim().trim_end_matches(';'), &functions);
    if c.target == skein_router::Target::Primary {
        return Err(Error::InvalidInput(format!(
            "a cache query must be one read (SELECT, VALUES, WITH … SELECT) that writes nothing; \
             this one is refused ({}: {}): save a read-only query instead",
            c.rule, c.reason
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_key;

    #[test]
    fn a_key_names_result_columns_once() {
        let cols = vec!["id".to_owned(), "v".to_owned()];
        assert!(check_key(&[], &cols).is_ok());
        assert!(check_key(&["id".into()], &cols).is_ok());
        let e = check_key(&["nope".into()], &cols).expect_err("not a column");
        assert_eq!(
            e.to_string(),
            "key column 'nope' is not a column of the cache query's result; it returns id, v"
        );
        let e = check_key(&["id".into(), "id".into()], &cols).expect_err("twice");
        assert!(e.to_string().contains("named twice"), "{e}");
    }
}
