//! The request-scoped routing context: a [`Session`] carried by a tokio task-local, so it
//! follows the request across `.await`s without a global and without threading a handle
//! through every call (as Plane's request scope does).
//!
//! - **Read-your-writes.** After a statement the router sent to the primary commits, the
//!   session records the primary's `pg_current_wal_lsn()`; its later reads go only to a
//!   replica whose `pg_last_wal_replay_lsn()` has reached it, after a bounded wait, else to
//!   the primary.
//! - **Stickiness.** Optionally, reads go to the primary for a while after any write
//!   (`sticky_after_write_ms`).
//! - **Session state.** A transaction block (`BEGIN` … `COMMIT`) and anything that leaves state
//!   on the connection (`SET`, `PREPARE`, temporary tables, `LISTEN`, …) pin the session to
//!   one primary connection: the block until it ends, session state for the rest of the
//!   session, so a temp table is read where it was created.
//! - **Affinity.** A hint (a user or tenant id) makes the session's reads land on the same
//!   replica while it is in rotation.
//!
//! A task-local does not cross `tokio::spawn`: wrap a spawned future in
//! [`Session::scope`] again to carry the session into it. [`force_primary`] scopes one block
//! of work to the primary.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use deadpool_postgres::Object;
use skein_pg::Lsn;

tokio::task_local! {
    static SESSION: Arc<SessionState>;
    static FORCE_PRIMARY: bool;
}

/// One routing session (a request, a user's unit of work). Cheap to clone; clones share state.
#[derive(Clone, Default)]
pub struct Session(pub(crate) Arc<SessionState>);

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("hint", &self.0.hint)
            .field("last_write_lsn", &self.last_write_lsn())
            .finish()
    }
}

/// A connection a session is pinned to, and why.
pub(crate) struct Pinned {
    /// Always `Some` until dropped.
    pub(crate) client: Option<Object>,
    /// Inside `BEGIN` … `COMMIT`.
    pub(crate) in_transaction: bool,
    /// What session state the connection holds (`SET`, a temporary table, …), if any.
    pub(crate) state: Option<String>,
}

impl Drop for Pinned {
    /// A connection that holds session state (or an open transaction) never goes back to
    /// the pool: another caller would inherit its `SET`s and temp tables. It is closed.
    fn drop(&mut self) {
        if self.in_transaction || self.state.is_some() {
            if let Some(c) = self.client.take() {
                drop(Object::take(c));
            }
        }
    }
}

#[derive(Default)]
pub(crate) struct SessionState {
    pub(crate) hint: Option<String>,
    /// The LSN of the session's last write and when it committed.
    pub(crate) written: Mutex<Option<(Lsn, Instant)>>,
    pub(crate) pinned: tokio::sync::Mutex<Option<Pinned>>,
    /// The statement running now, if any: how to cancel it, and on which node.
    pub(crate) in_flight: Mutex<
        Option<(
            tokio_postgres::CancelToken,
            String,
            skein_core::tls::MakeTls,
        )>,
    >,
}

impl Session {
    /// A new session; `hint` (a user or tenant id) gives it affinity to one replica.
    pub fn new(hint: Option<&str>) -> Session {
        Session(Arc::new(SessionState {
            hint: hint.map(str::to_owned),
            ..Default::default()
        }))
    }

    /// Runs `work` with this session as the routing context of every router call in it.
    pub async fn scope<F: Future>(&self, work: F) -> F::Output {
        SESSION.scope(self.0.clone(), work).await
    }

    /// The LSN of the session's last committed write through the router, if any.
    pub fn last_write_lsn(&self) -> Option<Lsn> {
        self.0.last_write().map(|(l, _)| l)
    }

    /// The affinity hint.
    pub fn hint(&self) -> Option<&str> {
        self.0.hint.as_deref()
    }

    /// Asks the server to cancel the statement this session is running now (PostgreSQL's
    /// cancel request, as `pg_cancel_backend` does); the statement then fails with SQLSTATE
    /// 57014. Returns the node it ran on, or `None` when nothing was running.
    ///
    /// Errors: the cancel request could not reach the node.
    pub async fn cancel(&self) -> Result<Option<String>, tokio_postgres::Error> {
        let running = self
            .0
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match running {
            Some((token, node, tls)) => {
                // The cancel request goes over the node's own TLS settings.
                token.cancel_query(tls).await?;
                Ok(Some(node))
            }
            None => Ok(None),
        }
    }
}

impl SessionState {
    pub(crate) fn last_write(&self) -> Option<(Lsn, Instant)> {
        *self.written.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn record_write(&self, lsn: Lsn) {
        let mut w = self.written.lock().unwrap_or_else(|p| p.into_inner());
        let lsn = w.map_or(lsn, |(old, _)| old.max(lsn));
        *w = Some((lsn, Instant::now()));
    }
}

/// Marks a statement of a session as running (cancellable) until dropped.
pub(crate) struct InFlight<'a>(&'a SessionState);

impl<'a> InFlight<'a> {
    pub(crate) fn start(
        session: &'a SessionState,
        client: &tokio_postgres::Client,
        node: &skein_pg::Node,
    ) -> InFlight<'a> {
        *session.in_flight.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((client.cancel_token(), node.name().to_owned(), node.tls()));
        InFlight(session)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        *self.0.in_flight.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Runs `work` with every router call in it sent to the primary.
pub async fn force_primary<F: Future>(work: F) -> F::Output {
    FORCE_PRIMARY.scope(true, work).await
}

/// The session of the current task, if any.
pub(crate) fn current() -> Option<Arc<SessionState>> {
    SESSION.try_with(Arc::clone).ok()
}

/// Whether the current task runs inside [`force_primary`].
pub(crate) fn forced_primary() -> bool {
    FORCE_PRIMARY.try_with(|f| *f).unwrap_or(false)
}
