//! An object-store data path (`s3://bucket/prefix/`): DuckDB's `httpfs` extension and one
//! temporary (in-memory, never persisted) secret built from the profile's `[lake.storage]`
//! and the credentials `skein_core::storage` finds, scoped to the bucket; then a probe that
//! lists one key under the data path, so wrong credentials, a missing bucket or an endpoint
//! that is not S3 fail when the lake is opened, naming the endpoint and the bucket — never
//! half-way through a refresh, and never with the secret in the message.

use duckdb::Connection;
use serde::{Deserialize, Serialize};
use skein_core::storage::{bucket_of, resolve_credentials, secret_type, Credentials, StorageSpec};
use skein_core::ErrorCode;

use crate::error::{Error, Result};
use crate::lake::lit;

/// Where an object-store lake's files are, as the console and `doctor` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Store {
    /// `127.0.0.1:3900`, or `AWS S3`.
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
    /// The key prefix of the data path (`data/`), maybe empty.
    pub prefix: String,
    /// Where the credentials came from (`the OS keyring (Secret Service)`,
    /// `AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY`, a credentials file and profile, or
    /// `DuckDB's credential chain`).
    pub credentials: String,
}

/// Loads `httpfs`, creates the secret and probes the store, for an object-store `data_path`;
/// `Ok(None)` for a local directory.
///
/// Errors: `InvalidInput` for credentials that cannot be found; `AuthFailed` when the store
/// refuses them; `NotFound` for a missing bucket; `ConnectionRefused` when the endpoint does
/// not answer (or is not S3); `Internal` when the extensions are missing.
pub(crate) fn configure(
    conn: &Connection,
    data_path: &str,
    spec: Option<&StorageSpec>,
) -> Result<Option<Store>> {
    let Some(kind) = secret_type(data_path) else {
        return Ok(None);
    };
    let (bucket, prefix) = bucket_of(data_path).ok_or_else(|| {
        Error::InvalidInput(format!("lake.data_path {data_path} names no bucket"))
    })?;
    let default = StorageSpec::default();
    let spec = spec.unwrap_or(&default);
    let endpoint = spec.endpoint_text();
    let load = |ext: &str| {
        conn.execute_batch(&format!("LOAD {ext}"))
            .map_err(|e| Error::DuckDb {
                context: format!("loading the {ext} extension"),
                message: format!(
                    "{e}; install the pinned extensions with `make setup` (scripts/setup.sh)"
                ),
                code: ErrorCode::Internal,
            })
    };
    load("httpfs")?;
    let creds = resolve_credentials(spec).map_err(|e| Error::InvalidInput(e.to_string()))?;
    let mut opts = vec![
        format!("TYPE {kind}"),
        format!(
            "SCOPE {}",
            lit(&format!("{}://{bucket}/", scheme(data_path)))
        ),
    ];
    let mut secrets: Vec<String> = Vec::new();
    let source = match &creds {
        Credentials::Key {
            key_id,
            secret,
            session_token,
            source,
        } => {
            opts.push(format!("KEY_ID {}", lit(key_id)));
            opts.push(format!("SECRET {}", lit(secret)));
            secrets.push(secret.clone());
            if let Some(t) = session_token {
                opts.push(format!("SESSION_TOKEN {}", lit(t)));
                secrets.push(t.clone());
            }
            source.to_string()
        }
        Credentials::Chain => {
            load("aws")?;
            opts.push("PROVIDER credential_chain".into());
            if let Some(p) = &spec.aws_profile {
                opts.push(format!("PROFILE {}", lit(p)));
            }
            "DuckDB's credential chain".to_owned()
        }
    };
    if let Some(r) = &spec.region {
        opts.push(format!("REGION {}", lit(r)));
    }
    if let Some(e) = &spec.endpoint {
        opts.push(format!("ENDPOINT {}", lit(e)));
    }
    if let Some(u) = &spec.url_style {
        opts.push(format!("URL_STYLE {}", lit(u)));
    }
    if let Some(s) = spec.use_ssl {
        opts.push(format!("USE_SSL {s}"));
    }
    let redact = |m: String| secrets.iter().fold(m, |m, s| m.replace(s.as_str(), "…"));
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMPORARY SECRET skein_storage ({})",
        opts.join(", ")
    ))
    .map_err(|e| Error::DuckDb {
        context: format!("setting up the credentials for {endpoint}"),
        message: redact(e.to_string()),
        code: ErrorCode::InvalidInput,
    })?;
    let probe = format!(
        "{data_path}{}_skein_probe*",
        if data_path.ends_with('/') { "" } else { "/" }
    );
    conn.query_row(
        &format!("SELECT count(*) FROM glob({})", lit(&probe)),
        [],
        |r| r.get::<_, i64>(0),
    )
    .map_err(|e| store_error(&redact(e.to_string()), &endpoint, &bucket, &source))?;
    Ok(Some(Store {
        endpoint,
        bucket,
        prefix,
        credentials: source,
    }))
}

/// Prepares any DuckDB connection to read and write `lake`'s data path as the lake handle
/// does (`httpfs`, the secret, the probe): for other tools and tests writing the same lake
/// as another writer. A local data path needs nothing: `Ok(None)`.
///
/// Errors: as [`configure`].
pub fn prepare(conn: &Connection, lake: &skein_core::LakeSpec) -> Result<Option<Store>> {
    configure(conn, &lake.data_path, lake.storage.as_ref())
}

/// Checks `lake`'s object store as opening the lake does (`httpfs`, the secret, the probe
/// listing under the data path) on a DuckDB connection of its own, without the catalog: for
/// `doctor` and a profile's test. `Ok(None)` for a local directory.
///
/// Errors: as [`configure`]; `Internal` when DuckDB cannot be opened.
pub async fn check(lake: &skein_core::LakeSpec) -> Result<Option<Store>> {
    let (data_path, spec) = (lake.data_path.clone(), lake.storage.clone());
    tokio::task::spawn_blocking(move || {
        let conn = Connection::open_in_memory().map_err(Error::duck("opening DuckDB"))?;
        configure(&conn, &data_path, spec.as_ref())
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))?
}

fn scheme(data_path: &str) -> &str {
    data_path.split_once("://").map(|(s, _)| s).unwrap_or("s3")
}

/// DuckDB's multi-line HTTP error in one line: its first line and the store's error code line
/// (`AccessDenied: Forbidden: Invalid signature`), without the SQL it echoes.
fn one_line(message: &str) -> String {
    let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("").to_owned();
    let code = message.lines().map(str::trim).find(|l| {
        l.split(':').next().is_some_and(|w| {
            !w.is_empty()
                && w.chars().all(|c| c.is_ascii_alphanumeric())
                && w.chars().next().is_some_and(char::is_uppercase)
                && l.contains(": ")
        }) && !l.starts_with("LINE")
            && !l.starts_with("HTTP")
            && !l.starts_with("IO Error")
    });
    match code {
        Some(c) if !first.contains(c) => format!("{first}; {c}"),
        _ => first,
    }
}

/// A failed probe as an error that names the endpoint, the bucket and the fix.
pub(crate) fn store_error(message: &str, endpoint: &str, bucket: &str, source: &str) -> Error {
    let m = one_line(message);
    // HTTP statuses as DuckDB words them ("(HTTP 403 Forbidden)"), never a bare number: a
    // port in the URL may hold the same digits.
    let status = |n: &str| m.contains(&format!("HTTP {n}"));
    let (code, what) = if status("403")
        || m.contains("AccessDenied")
        || m.contains("InvalidAccessKeyId")
        || m.contains("SignatureDoesNotMatch")
    {
        (
            ErrorCode::AuthFailed,
            format!("the store at {endpoint} refused the credentials from {source} for bucket {bucket}: check the key id and its secret key, and that the key may read and write the bucket"),
        )
    } else if m.contains("NoSuchBucket") || (status("404") && !m.contains("NoSuchKey")) {
        (
            ErrorCode::NotFound,
            format!(
                "bucket {bucket} does not exist at {endpoint}: create it, or fix lake.data_path"
            ),
        )
    } else if m.contains("Could not connect")
        || m.contains("Connection refused")
        || m.contains("Failed to connect")
        || m.contains("timed out")
        || m.contains("Timeout")
    {
        (
            ErrorCode::ConnectionRefused,
            format!("the object store at {endpoint} does not answer: check lake.storage.endpoint, and that the store runs"),
        )
    } else if m.contains("returned nothing") || m.contains("SSL") || m.contains("TLS") {
        (
            ErrorCode::ConnectionRefused,
            format!("{endpoint} does not answer as an S3 store: check lake.storage.endpoint (the S3 API's port) and use_ssl"),
        )
    } else {
        (
            ErrorCode::ConnectionRefused,
            format!("the object store at {endpoint} (bucket {bucket}) cannot be used"),
        )
    };
    Error::DuckDb {
        context: what,
        message: m,
        code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_error_reads_as_one_line_naming_the_store() {
        let denied = "HTTP Error: HTTP GET error reading 's3://lake/data/_skein_probe' in region 'garage' (HTTP 403 Forbidden)\n\nAccessDenied: Forbidden: Invalid signature\n\nAuthentication Failure - this is usually caused by invalid or missing credentials.\n\nLINE 1: SELECT count(*) FROM glob('s3://lake/data/_skein_probe*')\n";
        let e = store_error(denied, "127.0.0.1:3900", "lake", "the OS keyring");
        assert_eq!(e.code(), ErrorCode::AuthFailed);
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(
            text.contains("refused the credentials from the OS keyring for bucket lake"),
            "{text}"
        );
        assert!(
            text.contains("(HTTP 403 Forbidden); AccessDenied: Forbidden: Invalid signature"),
            "{text}"
        );
        let missing = "HTTP Error: HTTP GET error reading 's3://nobucket/data/_skein_probe' in region 'garage' (HTTP 404 Not Found)\n\nNoSuchBucket: Bucket not found: nobucket\n";
        assert_eq!(
            store_error(missing, "e", "nobucket", "f").code(),
            ErrorCode::NotFound
        );
        let not_s3 = "IO Error: Server returned nothing (no headers, no data) error for HTTP GET to 'http://127.0.0.1:5432/lake/'\n\nLINE 1: SELECT";
        assert!(store_error(not_s3, "127.0.0.1:5432", "lake", "f")
            .to_string()
            .contains("does not answer as an S3 store"));
        // A port with 403 or 404 in it is no HTTP status.
        let port = "IO Error: Server returned nothing (no headers, no data) error for HTTP GET to 'http://127.0.0.1:40309/lake/?prefix=x'";
        let e = store_error(port, "127.0.0.1:40309", "lake", "f");
        assert_eq!(e.code(), ErrorCode::ConnectionRefused, "{e}");
        let port = "IO Error: Could not connect to server error for HTTP GET to 'http://127.0.0.1:40404/lake/'";
        assert_eq!(
            store_error(port, "127.0.0.1:40404", "lake", "f").code(),
            ErrorCode::ConnectionRefused
        );
    }
}
