//! libpq connection strings as libpq users write them, for every connection Skein opens.
//!
//! tokio-postgres parses URLs (`postgresql://user@host:port/db?k=v`) and `key=value` strings,
//! but knows only three `sslmode` values and none of the certificate keys. [`parse`] takes the
//! TLS keys out first (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`, `sslcrl`), fills what the
//! string lacks from libpq's environment variables (`PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`,
//! `PGSSLKEY`, `PGSSLCRL`) and libpq's default files, and hands the rest to tokio-postgres.
//! [`connect`] then opens one connection with the TLS settings of [`crate::tls`].

use std::str::FromStr;

use crate::error::{Error, Result};
use crate::tls::{SslMode, TlsSettings};

/// A parsed connection string: what tokio-postgres needs, plus the TLS settings it cannot hold.
#[derive(Clone)]
pub struct ConnInfo {
    /// Host, port, user, database, options, timeouts; `ssl_mode` set from [`TlsSettings::mode`].
    pub config: tokio_postgres::Config,
    /// `sslmode` and the certificate files.
    pub tls: TlsSettings,
}

impl std::fmt::Debug for ConnInfo {
    // Never prints the config: it may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnInfo").field("tls", &self.tls).finish()
    }
}

/// The TLS keys this module takes out of a connection string before tokio-postgres sees it.
const TLS_KEYS: [&str; 6] = [
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslpassword",
];

/// Parses a libpq connection string (URL or `key=value` pairs).
///
/// Errors ([`Error::Conninfo`]): the string does not parse, `sslmode` is not one of libpq's six
/// values, or `sslpassword` is given (encrypted client keys are not supported).
pub fn parse(conn: &str) -> Result<ConnInfo> {
    let (rest, tls_pairs) = split_tls_keys(conn)?;
    let mut config = tokio_postgres::Config::from_str(&rest).map_err(|e| {
        Error::Conninfo(format!(
            "not a libpq connection string ({e}); write a URL (postgresql://user@host:port/db) or key=value pairs"
        ))
    })?;
    let lookup = |key: &str| -> Option<String> {
        tls_pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .or_else(|| {
                std::env::var(format!("PG{}", key.to_ascii_uppercase()))
                    .ok()
                    .filter(|v| !v.is_empty())
            })
    };
    if lookup("sslpassword").is_some() {
        return Err(Error::Conninfo(
            "sslpassword is not supported: Skein reads unencrypted client keys only; decrypt the key \
             (openssl pkey -in KEY -out KEY.plain) and keep it readable by you alone (chmod 600)"
                .into(),
        ));
    }
    let tls = TlsSettings::from_keys(&lookup)?;
    config.ssl_mode(match tls.mode {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        SslMode::Allow | SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            tokio_postgres::config::SslMode::Require
        }
    });
    Ok(ConnInfo { config, tls })
}

/// Opens one connection (TLS as the string says) and runs its connection task on the current
/// tokio runtime. For the sandbox's own connections and for tests; Skein's pools use
/// [`TlsSettings::connector`] with deadpool.
///
/// Errors: [`Error::Conninfo`] for a bad string or unreadable certificate files,
/// [`Error::Connect`] when the server cannot be reached, refuses TLS or the credentials, or its
/// certificate does not verify (the message names what failed and the fix).
pub async fn connect(conn: &str) -> Result<tokio_postgres::Client> {
    let info = parse(conn)?;
    let tls = info.tls.connector()?;
    let (client, connection) = info
        .config
        .connect(tls)
        .await
        .map_err(|e| connect_error(&e))?;
    let addr = address_of(&info.config);
    tokio::spawn(async move {
        // The client sees the same failure on its next query; this says when it happened.
        if let Err(e) = connection.await {
            tracing::debug!(%addr, "connection closed: {}", describe(&e));
        }
    });
    Ok(client)
}

/// `host:port` of a connection string (URL or `key=value`), for logs and messages: never its
/// user, password or options. A string that does not parse gives `(unparsable connection
/// string)`.
pub fn address(conn: &str) -> String {
    match parse(conn) {
        Ok(info) => address_of(&info.config),
        Err(_) => "(unparsable connection string)".into(),
    }
}

/// `host:port` of a parsed configuration (the first host; `hostaddr` when no host is named;
/// port 5432 when none is).
pub fn address_of(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => config
            .get_hostaddrs()
            .first()
            .map(|a| a.to_string())
            .unwrap_or_else(|| "localhost".into()),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    if host.contains(':') && !host.starts_with('/') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A connection failure as [`Error::Connect`]: TLS failures explained by
/// [`crate::tls::tls_failure`], refused credentials as `AuthFailed`, the rest as
/// `ConnectionRefused`, each with the driver's own text.
pub fn connect_error(e: &tokio_postgres::Error) -> Error {
    use crate::code::ErrorCode;
    if let Some(message) = crate::tls::tls_failure(e) {
        return Error::Connect {
            code: ErrorCode::Tls,
            message,
        };
    }
    let auth = e.code().is_some_and(|c| {
        *c == tokio_postgres::error::SqlState::INVALID_PASSWORD
            || *c == tokio_postgres::error::SqlState::INVALID_AUTHORIZATION_SPECIFICATION
    });
    Error::Connect {
        code: if auth {
            ErrorCode::AuthFailed
        } else {
            ErrorCode::ConnectionRefused
        },
        message: describe(e),
    }
}

/// The most useful one-line text of a driver error: the server's message and SQLSTATE, or the
/// driver's message with its cause.
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} (SQLSTATE {})", db.message(), db.code().code());
    }
    match std::error::Error::source(e) {
        Some(src) => format!("{e}: {src}"),
        None => e.to_string(),
    }
}

/// Splits `conn` into the string tokio-postgres parses and the TLS `(key, value)` pairs.
fn split_tls_keys(conn: &str) -> Result<(String, Vec<(String, String)>)> {
    let trimmed = conn.trim();
    if trimmed.starts_with("postgresql://") || trimmed.starts_with("postgres://") {
        let Some((base, query)) = trimmed.split_once('?') else {
            return Ok((trimmed.to_owned(), Vec::new()));
        };
        let mut kept = Vec::new();
        let mut tls = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(k)?;
            if TLS_KEYS.contains(&key.as_str()) {
                tls.push((key, percent_decode(v)?));
            } else {
                kept.push(pair);
            }
        }
        let rest = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok((rest, tls))
    } else {
        let pairs = split_key_values(trimmed)?;
        let (tls, kept): (Vec<_>, Vec<_>) = pairs
            .into_iter()
            .partition(|(k, _)| TLS_KEYS.contains(&k.as_str()));
        let rest = kept
            .iter()
            .map(|(k, v)| format!("{k}={}", quote_value(v)))
            .collect::<Vec<_>>()
            .join(" ");
        Ok((rest, tls))
    }
}

/// `key=value` pairs with libpq's quoting: a value is a run of non-blank characters or a
/// single-quoted string; a backslash escapes the next character in both.
fn split_key_values(s: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(Error::Conninfo(format!(
                "not a libpq connection string: `{key}` has no `=value`; write key=value pairs \
                 (host=… port=… dbname=…) or a URL (postgresql://user@host:port/db)"
            )));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => {
                        return Err(Error::Conninfo(format!(
                        "not a libpq connection string: the quoted value of `{key}` is not closed"
                    )))
                    }
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
}

/// Quotes a value for a `key=value` string when it needs it (empty, blanks, quotes, backslashes).
pub fn quote_value(v: &str) -> String {
    if !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\')
    {
        v.to_owned()
    } else {
        format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

fn percent_decode(s: &str) -> Result<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|v| v.into_owned())
        .map_err(|_| {
            Error::Conninfo(format!(
                "not a libpq connection string: `{s}` is not valid percent-encoded UTF-8"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::RootCert;

    #[test]
    fn an_address_is_host_and_port_only() {
        assert_eq!(
            address("postgresql://me:s3cret@db.example.com:6432/app?sslmode=require"),
            "db.example.com:6432"
        );
        assert_eq!(
            address("host=10.0.0.5 user=me password=s3cret dbname=app"),
            "10.0.0.5:5432"
        );
        assert_eq!(address("hostaddr=::1 port=5433"), "[::1]:5433");
        assert_eq!(
            address("postgresql://me:s3cret@[bad"),
            "(unparsable connection string)"
        );
    }

    #[test]
    fn url_tls_keys_are_taken_out_and_the_rest_parses() {
        let info = parse(
            "postgresql://mon@db.example.com:6432/app?sslmode=verify-full&sslrootcert=/etc/ca%20x.crt&application_name=a",
        )
        .expect("parse");
        assert_eq!(info.tls.mode, SslMode::VerifyFull);
        assert_eq!(
            info.tls.root_cert,
            Some(RootCert::File("/etc/ca x.crt".into()))
        );
        assert_eq!(info.config.get_user(), Some("mon"));
        assert_eq!(info.config.get_ports(), &[6432]);
        assert_eq!(info.config.get_application_name(), Some("a"));
        assert_eq!(
            info.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
    }

    #[test]
    fn key_value_strings_keep_quoting_and_lose_tls_keys() {
        let info = parse(
            "host=127.0.0.1 port=5433 user='a b' sslmode = verify-ca sslrootcert='/tmp/my ca.crt' sslcert=/tmp/c.crt sslkey=/tmp/c.key dbname=x",
        )
        .expect("parse");
        assert_eq!(info.tls.mode, SslMode::VerifyCa);
        assert_eq!(
            info.tls.root_cert,
            Some(RootCert::File("/tmp/my ca.crt".into()))
        );
        assert_eq!(
            info.tls.cert.as_deref(),
            Some(std::path::Path::new("/tmp/c.crt"))
        );
        assert_eq!(info.config.get_user(), Some("a b"));
        assert_eq!(info.config.get_dbname(), Some("x"));
    }

    #[test]
    fn a_wrong_sslmode_names_the_six_values() {
        let err = parse("host=h sslmode=strict")
            .expect_err("bad mode")
            .to_string();
        assert!(
            err.contains("strict") && err.contains("verify-full"),
            "{err}"
        );
        let err = parse("host=h sslmode=require sslpassword=x")
            .expect_err("sslpassword")
            .to_string();
        assert!(err.contains("sslpassword"), "{err}");
        let err = parse("host=h port").expect_err("no value").to_string();
        assert!(err.contains("port"), "{err}");
    }

    #[test]
    fn quoting_round_trips() {
        let pairs = split_key_values(&format!(
            "a={} b={}",
            quote_value("x 'y' \\z"),
            quote_value("")
        ))
        .expect("split");
        assert_eq!(pairs[0].1, "x 'y' \\z");
        assert_eq!(pairs[1].1, "");
    }
}
