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
//! - **The replica connection of a scope.** Inside one [`Session::scope`], a read keeps the
//!   replica connection it ran on, and the session's next read sent to that replica runs on it
//!   again instead of taking one from the pool; a read sent elsewhere, a failed read, the end
//!   of the scope, and others waiting for a connection to that replica give it back. A replica connection holds no session state (what would
//!   leave state goes to the primary), so reusing it changes nothing but the cost. Outside a
//!   scope nothing is kept, so a session a caller keeps between requests holds no connection.
//!
//! A task-local does not cross `tokio::spawn`: wrap a spawned future in
//! [`Session::scope`] again to carry the session into it. [`force_primary`] scopes one block
//! of work to the primary.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Whether `pinned` holds a connection, set under its lock: an unpinned statement reads
    /// this instead of taking the lock.
    is_pinned: AtomicBool,
    /// The replica connection of the running scope's last read, and that replica's name.
    pub(crate) held: Mutex<Held>,
    /// The statement running now, if any: how to cancel it, and on which node.
    pub(crate) in_flight: Mutex<Running>,
}

/// How to cancel the session's running statement. Kept between statements (only `active`
/// is cleared), so the next statement on the same node reuses the name's buffer.
#[derive(Default)]
pub(crate) struct Running {
    /// A statement is running on the connection `token` cancels.
    active: bool,
    token: Option<(tokio_postgres::CancelToken, skein_core::tls::MakeTls)>,
    node: String,
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
    /// The replica connection its reads keep goes back to the pool when `work` ends or is
    /// dropped.
    pub async fn scope<F: Future>(&self, work: F) -> F::Output {
        let _release = Release(&self.0);
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
        let running = {
            let r = self.0.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            match (&r.token, r.active) {
                (Some((token, tls)), true) => Some((token.clone(), r.node.clone(), tls.clone())),
                _ => None,
            }
        };
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

/// A replica connection kept between the reads of one scope.
#[derive(Default)]
pub(crate) struct Held {
    /// The replica it is on (kept when the connection is taken, to spare a copy per read).
    node: String,
    client: Option<Object>,
}

/// Gives the held replica connection back to the pool when a scope ends.
struct Release<'a>(&'a SessionState);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        let client = self
            .0
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .client
            .take();
        drop(client);
    }
}

impl SessionState {
    /// The held connection to `node`, if the last read of this scope ran there; a connection
    /// held to another node goes back to the pool.
    pub(crate) fn take_held(&self, node: &str) -> Option<Object> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let client = held.client.take();
        if held.node == node {
            // A connection the server closed meanwhile goes (the pool would not hand it out).
            client.filter(|c| !c.is_closed())
        } else {
            drop(held);
            drop(client);
            None
        }
    }

    /// Keeps `client`, a connection to `node` that just served a read, for the scope's next
    /// read there (the router has a session only inside a scope, whose end gives it back).
    pub(crate) fn hold(&self, node: &str, client: Object) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.node != node {
            held.node = node.to_owned();
        }
        let previous = held.client.replace(client);
        drop(held);
        drop(previous);
    }

    /// Whether the session is pinned to a primary connection now ([`SessionState::pinned`]).
    pub(crate) fn is_pinned(&self) -> bool {
        self.is_pinned.load(Ordering::Acquire)
    }

    /// Records whether [`SessionState::pinned`] holds a connection; called with its lock held.
    pub(crate) fn set_pinned(&self, pinned: bool) {
        self.is_pinned.store(pinned, Ordering::Release);
    }

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
        let mut r = session.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if r.node != node.name() {
            r.node.clear();
            r.node.push_str(node.name());
        }
        r.token = Some((client.cancel_token(), node.tls()));
        r.active = true;
        drop(r);
        InFlight(session)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut r = self.0.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        r.active = false;
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
