//! The lake handle: one in-memory DuckDB database with the `ducklake` and `postgres`
//! extensions loaded and the profile's lake attached
//! (`ATTACH 'ducklake:postgres:<catalog>' AS <name> (DATA_PATH '<path>')`), plus Skein's own
//! schema in the lake (`<name>.skein`) that holds cache definitions and refresh records.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use duckdb::Connection;
use skein_core::{ErrorCode, NodeSpec, Profile};
use skein_pg::{Node, NodeRole};

use crate::error::{Error, Result};

/// The extensions every lake connection loads (installed by `scripts/setup.sh`).
const EXTENSIONS: &[&str] = &["ducklake", "postgres"];

pub(crate) struct Inner {
    pub(crate) conn: Connection,
    /// PostgreSQL nodes attached as read-only DuckDB catalogs (`src_<node>`).
    attached: HashSet<String>,
}

/// An open lake. Cheap to clone; all clones share one DuckDB database with two connections:
/// one for writes (refreshes, cache definitions) and one for reads (history, time travel), so
/// a long refresh never holds up a read of the lake's history.
#[derive(Clone)]
pub struct Lake {
    inner: Arc<Mutex<Inner>>,
    reader: Arc<Mutex<Connection>>,
    /// The catalog database, for what DuckDB cannot do (maintenance's advisory lock).
    pub(crate) catalog: Node,
    /// The DuckDB catalog name the lake is attached under (`lake`).
    pub name: String,
    /// The profile's lake data path.
    pub data_path: String,
    /// The object store of an `s3://…` data path (`None`: a local directory).
    pub store: Option<crate::storage::Store>,
    /// Caches' definitions and last refresh records as of a lake snapshot
    /// ([`crate::cache`]'s `cache_and_last_refresh`).
    pub(crate) memo: Arc<Mutex<crate::cache::Memo>>,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake")
            .field("name", &self.name)
            .field("data_path", &self.data_path)
            .finish()
    }
}

/// Quotes text as a SQL string literal.
pub(crate) fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A `VARCHAR[]` literal of `items` (`['a', 'b']`).
pub(crate) fn text_array(items: &[String]) -> String {
    format!(
        "[{}]::VARCHAR[]",
        items.iter().map(|m| lit(m)).collect::<Vec<_>>().join(", ")
    )
}

/// Quotes a SQL identifier.
pub(crate) fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Lake {
    /// Opens the lake the profile names and makes sure Skein's schema exists in it.
    ///
    /// Errors: `DuckDb` with code `Internal` when the extensions are missing (run
    /// `scripts/setup.sh`), `NotFound` when the catalog database does not exist,
    /// `ConnectionRefused`/`AuthFailed` when the catalog cannot be reached.
    pub async fn open(profile: &Profile) -> Result<Lake> {
        let catalog_spec = NodeSpec {
            name: "lake".into(),
            url: profile.lake.catalog.clone(),
            region: None,
            weight: 1,
            application_name: None,
            ssh: profile.lake.ssh.clone(),
        };
        let catalog = Node::new(
            &catalog_spec,
            NodeRole::Primary,
            profile.passfile.as_deref(),
            1,
            skein_pg::node::DEFAULT_TIMEOUT,
        )?;
        // Reach the catalog with Skein's own driver first: a TLS, authentication or network
        // failure then reads as clearly as for any node (DuckDB's libpq message is terser).
        catalog
            .with_client("connecting to the lake catalog", |c| async move {
                c.simple_query("SELECT 1").await
            })
            .await
            .map_err(|e| match e {
                skein_pg::Error::Query {
                    node,
                    what,
                    detail,
                    code: ErrorCode::NotFound,
                } => skein_pg::Error::Query {
                    node,
                    what,
                    detail: format!(
                        "{detail}; create the catalog database or fix lake.catalog in the profile"
                    ),
                    code: ErrorCode::NotFound,
                },
                other => other,
            })?;
        tracing::debug!(
            lake = %profile.lake.name,
            catalog = %catalog.addr,
            data_path = %profile.lake.data_path,
            "opening the lake"
        );
        let conninfo = catalog.duckdb_conninfo();
        let name = profile.lake.name.clone();
        let data_path = profile.lake.data_path.clone();
        let (n, d) = (name.clone(), data_path.clone());
        let storage = profile.lake.storage.clone();
        let (conn, store) = tokio::task::spawn_blocking(move || {
            open_connection(&n, &conninfo, &d, storage.as_ref())
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))??;
        let reader = conn
            .try_clone()
            .map_err(Error::duck("opening a second DuckDB connection"))?;
        let lake = Lake {
            catalog,
            reader: Arc::new(Mutex::new(reader)),
            inner: Arc::new(Mutex::new(Inner {
                conn,
                attached: HashSet::new(),
            })),
            memo: Arc::default(),
            name,
            data_path,
            store,
        };
        lake.run(crate::cache::ensure_schema).await?;
        Ok(lake)
    }

    /// Runs DuckDB work on the blocking pool with the lake's connection.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &str) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        let name = self.name.clone();
        tokio::task::spawn_blocking(move || {
            let guard = inner
                .lock()
                .map_err(|_| Error::Task("the lake connection was poisoned by a panic".into()))?;
            f(&guard.conn, &name)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
    }

    /// Runs read-only DuckDB work on the blocking pool with the lake's reader connection.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &str) -> Result<T> + Send + 'static,
    {
        let reader = self.reader.clone();
        let name = self.name.clone();
        tokio::task::spawn_blocking(move || {
            let guard = reader
                .lock()
                .map_err(|_| Error::Task("the lake connection was poisoned by a panic".into()))?;
            f(&guard, &name)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
    }

    /// Runs DuckDB work that reads from a PostgreSQL node, attaching the node read-only as
    /// `src_<name>` first (once per lake handle). `f` gets the DuckDB catalog name.
    pub(crate) async fn run_with_source<T, F>(&self, node: &Node, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &str, &str) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        let name = self.name.clone();
        let source = format!(
            "src_{}",
            node.name()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        let conninfo = node.duckdb_conninfo();
        let node_name = node.name().to_owned();
        tokio::task::spawn_blocking(move || {
            let mut guard = inner
                .lock()
                .map_err(|_| Error::Task("the lake connection was poisoned by a panic".into()))?;
            if !guard.attached.contains(&source) {
                guard
                    .conn
                    .execute_batch(&format!(
                        "ATTACH {} AS {} (TYPE postgres, READ_ONLY)",
                        lit(&conninfo),
                        ident(&source)
                    ))
                    .map_err(Error::duck(format!("attaching {node_name} to DuckDB")))?;
                guard.attached.insert(source.clone());
            }
            f(&guard.conn, &name, &source)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
    }
}

/// `text` with every `password=VALUE` of a libpq string (quoted or not) replaced by
/// `password=…`.
pub(crate) fn scrub_password(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("password=") {
        out.push_str(&rest[..i + "password=".len()]);
        out.push('…');
        let value = &rest[i + "password=".len()..];
        let mut chars = value.char_indices();
        let end = if value.starts_with('\'') {
            chars.next();
            let mut end = value.len();
            while let Some((j, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '\'' => {
                        end = j + 1;
                        break;
                    }
                    _ => {}
                }
            }
            end
        } else {
            value
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(value.len())
        };
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

fn open_connection(
    name: &str,
    catalog_conninfo: &str,
    data_path: &str,
    storage: Option<&skein_core::StorageSpec>,
) -> Result<(Connection, Option<crate::storage::Store>)> {
    let conn = Connection::open_in_memory().map_err(Error::duck("opening DuckDB"))?;
    for ext in EXTENSIONS {
        conn.execute_batch(&format!("LOAD {ext}"))
            .map_err(|e| Error::DuckDb {
                context: format!("loading the {ext} extension"),
                message: format!(
                    "{e}; install the pinned extensions with `make setup` (scripts/setup.sh)"
                ),
                code: ErrorCode::Internal,
            })?;
    }
    if !data_path.contains("://") {
        std::fs::create_dir_all(data_path).map_err(|e| {
            Error::InvalidInput(format!("lake.data_path {data_path} cannot be created: {e}"))
        })?;
    }
    let store = crate::storage::configure(&conn, data_path, storage)?;
    let attach = format!(
        "ATTACH {} AS {} (DATA_PATH {})",
        lit(&format!("ducklake:postgres:{catalog_conninfo}")),
        ident(name),
        lit(data_path)
    );
    // Two processes opening a brand-new lake at the same moment both try to create the
    // catalog's tables; the loser fails with a duplicate-key error and succeeds on a retry,
    // when the catalog exists.
    let mut attempt = 0;
    let attached = loop {
        match conn.execute_batch(&attach) {
            Err(e)
                if attempt < 5 && {
                    let m = e.to_string();
                    m.contains("Failed to initialize DuckLake")
                        && (m.contains("already exists") || m.contains("duplicate key"))
                } =>
            {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(200 * attempt));
            }
            other => break other,
        }
    };
    attached.map_err(|e| {
        let mut err = Error::duck("attaching the lake")(e);
        if let Error::DuckDb { message, code, .. } = &mut err {
            if message.contains("does not exist") {
                *code = ErrorCode::NotFound;
                message
                    .push_str("; create the catalog database or fix lake.catalog in the profile");
            }
        }
        err
    })?;
    Ok((conn, store))
}

#[cfg(test)]
mod scrub_tests {
    use super::scrub_password;

    #[test]
    fn passwords_are_scrubbed_and_the_cause_kept() {
        let m = scrub_password(
            "at \"host=h password='s3 \\'cret' sslmode=disable\": FATAL: no pg_hba.conf entry, password=plain\" x",
        );
        assert!(
            !m.contains("s3") && !m.contains("cret") && !m.contains("plain"),
            "{m}"
        );
        assert!(
            m.contains("sslmode=disable") && m.contains("FATAL: no pg_hba.conf entry"),
            "{m}"
        );
    }
}
