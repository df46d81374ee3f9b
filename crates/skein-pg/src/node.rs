//! A pool per node and the cluster of them a profile describes. Replica connections carry
//! `default_transaction_read_only=on`, so the server itself refuses writes there too.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use skein_core::secrets::{resolve_password, target_for};
use skein_core::tls::{MakeTls, TlsSettings};
use skein_core::{NodeSpec, Profile, Thresholds};

use crate::error::{Error, Result};
use crate::lag::NodeRole;

/// Default timeout of a probe or a connection attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// One PostgreSQL node with its own connection pool.
#[derive(Clone)]
pub struct Node {
    /// The node as the profile describes it.
    pub spec: NodeSpec,
    /// Primary or replica, as the profile says (probes check what the server says).
    pub role: NodeRole,
    /// `host:port`, for messages.
    pub addr: String,
    config: tokio_postgres::Config,
    tls_settings: TlsSettings,
    tls: MakeTls,
    /// Why the node's SSH tunnel could not start; the node is then unreachable.
    tunnel_error: Option<String>,
    pool: Pool,
    timeout: Duration,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.spec.name)
            .field("addr", &self.addr)
            .finish()
    }
}

impl Node {
    /// Builds the node's pool (no connection is made yet). The password comes from the
    /// keyring, `PGPASSWORD` or a password file (see [`skein_core::secrets`]); TLS follows the
    /// connection string's `sslmode`/`sslrootcert`/`sslcert`/`sslkey`/`sslcrl` and the `PGSSL…`
    /// variables (see [`skein_core::tls`]).
    ///
    /// Errors: [`Error::Profile`] when the connection string or its certificate files cannot be
    /// used (the message names the node and the file).
    pub fn new(
        spec: &NodeSpec,
        role: NodeRole,
        passfile: Option<&std::path::Path>,
        max_size: usize,
        timeout: Duration,
    ) -> Result<Node> {
        let in_node = |e: skein_core::Error| {
            Error::Profile(skein_core::Error::Conninfo(format!("{}: {e}", spec.name)))
        };
        let info = skein_core::conninfo::parse(&spec.url).map_err(in_node)?;
        let tls = info.tls.connector().map_err(in_node)?;
        let mut config = info.config;
        let target = target_for(&config);
        let mut tunnel_error = None;
        if let Some(ssh) = &spec.ssh {
            // hostaddr=127.0.0.1 port=P; host stays, for TLS name checks. A tunnel that cannot
            // start makes this node unreachable (with ssh's reason), not the whole stack; the
            // node never connects around its bastion.
            match skein_core::tunnel::tunnelled(&config, ssh) {
                Ok(c) => {
                    tracing::debug!(node = %spec.name, %ssh, "connecting through an SSH tunnel");
                    config = c
                }
                Err(e) => {
                    tracing::warn!(node = %spec.name, %ssh, code = %e.code(), "{e}");
                    tunnel_error = Some(e.to_string())
                }
            }
        }
        if config.get_user().is_none() {
            config.user(&target.user);
        }
        if config.get_dbname().is_none() {
            config.dbname(&target.database);
        }
        if let Some(pw) = resolve_password(&target, passfile) {
            config.password(pw);
        }
        config.connect_timeout(timeout);
        config.application_name("skein");
        if role == NodeRole::Replica {
            config.options("-c default_transaction_read_only=on");
        }
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_size)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| Error::Query {
                node: spec.name.clone(),
                what: "building the pool".into(),
                detail: e.to_string(),
                code: skein_core::ErrorCode::Internal,
            })?;
        Ok(Node {
            spec: spec.clone(),
            role,
            addr: format!("{}:{}", target.host, target.port),
            config,
            tls_settings: info.tls,
            tls,
            tunnel_error,
            pool,
            timeout,
        })
    }

    /// The TLS connector this node's connections use (for cancel requests).
    pub fn tls(&self) -> MakeTls {
        self.tls.clone()
    }

    /// The node's TLS settings, as its connection string gives them.
    pub fn tls_settings(&self) -> &TlsSettings {
        &self.tls_settings
    }

    /// Node name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The probe timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The pool's state: connections open (`size`), idle in the pool (`available`) and
    /// callers waiting for one (`waiting`), as deadpool counts them.
    pub fn pool_status(&self) -> deadpool_postgres::Status {
        self.pool.status()
    }

    /// A pooled connection, within the timeout.
    ///
    /// Errors: [`Error::Unreachable`], [`Error::AuthFailed`], [`Error::Tls`], [`Error::Timeout`], or
    /// [`Error::Query`] ("opening the SSH tunnel") when the node's tunnel could not start.
    pub async fn client(&self) -> Result<Object> {
        use deadpool_postgres::PoolError;
        if let Some(detail) = &self.tunnel_error {
            return Err(Error::Query {
                node: self.name().into(),
                what: "opening the SSH tunnel".into(),
                detail: detail.clone(),
                code: skein_core::ErrorCode::ConnectionRefused,
            });
        }
        match self.pool.get().await {
            Ok(c) => Ok(c),
            Err(PoolError::Backend(e)) => {
                Err(Error::from_pg(self.name(), &self.addr, "connecting", &e))
            }
            Err(PoolError::Timeout(_)) => Err(Error::Timeout {
                node: self.name().into(),
                what: "connecting".into(),
                timeout_ms: self.timeout.as_millis() as u64,
            }),
            Err(e) => Err(Error::Unreachable {
                node: self.name().into(),
                addr: self.addr.clone(),
                detail: e.to_string(),
            }),
        }
    }

    /// Runs `f` with a pooled connection under the node's timeout, mapping errors to ones that
    /// name this node. `what` says what the query does, for messages.
    pub async fn with_client<T, F, Fut>(&self, what: &str, f: F) -> Result<T>
    where
        F: FnOnce(Object) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    {
        self.with_client_timeout(what, self.timeout, f).await
    }

    /// [`Node::with_client`] with a timeout of its own, for work longer than a probe.
    pub async fn with_client_timeout<T, F, Fut>(
        &self,
        what: &str,
        timeout: Duration,
        f: F,
    ) -> Result<T>
    where
        F: FnOnce(Object) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    {
        let timeout_ms = timeout.as_millis() as u64;
        let work = async {
            let client = self.client().await?;
            f(client)
                .await
                .map_err(|e| Error::from_pg(self.name(), &self.addr, what, &e))
        };
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| Error::Timeout {
                node: self.name().into(),
                what: what.into(),
                timeout_ms,
            })?
    }

    /// Runs one SQL statement (no parameters) and returns the rows it affected. On a replica,
    /// a write fails with [`Error::ReadOnlyReplica`] naming the node.
    pub async fn execute(&self, sql: &str) -> Result<u64> {
        let sql = sql.to_owned();
        self.with_client("executing a statement", |c| async move {
            c.execute(sql.as_str(), &[]).await
        })
        .await
    }

    /// A `key=value` connection string with the resolved password and the node's TLS settings
    /// (the same `sslmode` and certificate files), for DuckDB's libpq-based `postgres` and
    /// `ducklake` extensions. Holds a secret: never log or show it.
    pub fn duckdb_conninfo(&self) -> String {
        let c = &self.config;
        let mut parts = Vec::new();
        if let Some(tokio_postgres::config::Host::Tcp(h)) = c.get_hosts().first() {
            parts.push(format!("host={}", quote(h)));
        }
        if let Some(a) = c.get_hostaddrs().first() {
            parts.push(format!("hostaddr={a}"));
        }
        if let Some(p) = c.get_ports().first() {
            parts.push(format!("port={p}"));
        }
        if let Some(u) = c.get_user() {
            parts.push(format!("user={}", quote(u)));
        }
        if let Some(d) = c.get_dbname() {
            parts.push(format!("dbname={}", quote(d)));
        }
        if let Some(pw) = c.get_password() {
            parts.push(format!("password={}", quote(&String::from_utf8_lossy(pw))));
        }
        for (k, v) in self.tls_settings.libpq_params() {
            parts.push(format!("{k}={}", quote(&v)));
        }
        parts.push("application_name=skein".into());
        parts.join(" ")
    }
}

fn quote(v: &str) -> String {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c))
    {
        v.to_owned()
    } else {
        format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// The nodes a profile describes: the primary and its replicas, each with a pool.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The primary.
    pub primary: Node,
    /// The replicas, in profile order.
    pub replicas: Vec<Node>,
    /// Lag thresholds.
    pub thresholds: Thresholds,
}

impl Cluster {
    /// Pools for every node of the profile, with [`DEFAULT_TIMEOUT`]. Connects lazily.
    pub fn from_profile(profile: &Profile) -> Result<Cluster> {
        Cluster::with_timeout(profile, DEFAULT_TIMEOUT)
    }

    /// Like [`Cluster::from_profile`] with a chosen probe timeout.
    pub fn with_timeout(profile: &Profile, timeout: Duration) -> Result<Cluster> {
        let passfile = profile.passfile.as_deref();
        Ok(Cluster {
            primary: Node::new(&profile.primary, NodeRole::Primary, passfile, 8, timeout)?,
            replicas: profile
                .replicas
                .iter()
                .map(|r| Node::new(r, NodeRole::Replica, passfile, 8, timeout))
                .collect::<Result<_>>()?,
            thresholds: profile.thresholds,
        })
    }

    /// The node with this name.
    ///
    /// Errors: [`Error::UnknownNode`].
    pub fn node(&self, name: &str) -> Result<&Node> {
        std::iter::once(&self.primary)
            .chain(&self.replicas)
            .find(|n| n.name() == name)
            .ok_or_else(|| Error::UnknownNode(name.into()))
    }

    /// Pauses WAL replay on a replica (`pg_wal_replay_pause()`); lag then grows with writes.
    pub async fn pause_replay(&self, replica: &str) -> Result<()> {
        self.replay_control(replica, "SELECT pg_wal_replay_pause()")
            .await
    }

    /// Resumes WAL replay on a replica (`pg_wal_replay_resume()`).
    pub async fn resume_replay(&self, replica: &str) -> Result<()> {
        self.replay_control(replica, "SELECT pg_wal_replay_resume()")
            .await
    }

    async fn replay_control(&self, replica: &str, sql: &'static str) -> Result<()> {
        let node = self.node(replica)?;
        node.with_client(
            "replay control",
            |c| async move { c.batch_execute(sql).await },
        )
        .await
    }
}

/// Runs `sql` (no parameters) as a statement prepared once per pooled connection (deadpool's
/// statement cache), so a probe that runs every tick is not parsed and planned every tick.
pub(crate) async fn cached_query(
    c: &Object,
    sql: &str,
) -> std::result::Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    let statement = c.prepare_cached(sql).await?;
    c.query(&statement, &[]).await
}

/// [`cached_query`] for a statement that returns exactly one row.
pub(crate) async fn cached_one(
    c: &Object,
    sql: &str,
) -> std::result::Result<tokio_postgres::Row, tokio_postgres::Error> {
    let statement = c.prepare_cached(sql).await?;
    c.query_one(&statement, &[]).await
}

/// [`cached_query`] for a statement that returns at most one row.
pub(crate) async fn cached_opt(
    c: &Object,
    sql: &str,
) -> std::result::Result<Option<tokio_postgres::Row>, tokio_postgres::Error> {
    let statement = c.prepare_cached(sql).await?;
    c.query_opt(&statement, &[]).await
}
