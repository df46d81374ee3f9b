//! Running a planned statement: on the session's pinned connection, on the primary, or on a
//! replica (after waiting for read-your-writes), retrying a replica's failure once on the
//! primary, recording a session's write LSN and counting what each node served.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use skein_pg::Lsn;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, SimpleQueryMessage};

use super::plan::Plan;
use super::{Analysed, Route, Routed, Router};
use crate::balance::Candidate;
use crate::classify::{Effect, Target};
use crate::error::{Error, Result};
use crate::session::{self, Pinned, SessionState};

/// What a statement does to a node, to run it.
enum Op<'a> {
    Query(&'a [&'a (dyn ToSql + Sync)]),
    Execute(&'a [&'a (dyn ToSql + Sync)]),
    Simple,
}

enum Out {
    Rows(Vec<Row>),
    Count(u64),
    Simple(Vec<SimpleQueryMessage>),
}

/// Runs `op` on `client`; inside a session, the statement can be cancelled
/// ([`crate::Session::cancel`]) while it runs.
async fn run_op(
    client: &tokio_postgres::Client,
    sql: &str,
    op: &Op<'_>,
    session: Option<(&SessionState, &skein_pg::Node)>,
) -> std::result::Result<Out, tokio_postgres::Error> {
    // Cleared when the statement ends or its future is dropped, so a cancel never reaches a
    // statement of whoever uses the connection next.
    let _in_flight = session.map(|(s, node)| crate::session::InFlight::start(s, client, node));
    match op {
        Op::Query(p) => client.query(sql, p).await.map(Out::Rows),
        Op::Execute(p) => client.execute(sql, p).await.map(Out::Count),
        Op::Simple => client.simple_query(sql).await.map(Out::Simple),
    }
}

/// A failure on a replica that a retry on the primary can cure: the connection failed, the
/// replica refused a write (SQLSTATE 25006), or recovery cancelled the read (40001).
fn retryable(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        Some(c) => {
            *c == SqlState::READ_ONLY_SQL_TRANSACTION || *c == SqlState::T_R_SERIALIZATION_FAILURE
        }
        None => {
            e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
        }
    }
}

impl Router {
    /// Runs `sql` with parameters where the router sends it; returns its rows.
    ///
    /// Errors: the node's error, naming it ([`skein_pg::Error`]); [`Error::NeedsSession`]
    /// for `BEGIN` or session state outside a [`crate::Session`].
    pub async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Routed<Vec<Row>>> {
        let r = self.run(sql, Op::Query(params)).await?;
        match r.value {
            Out::Rows(v) => Ok(Routed {
                value: v,
                route: r.route,
                elapsed_ms: r.elapsed_ms,
            }),
            _ => unreachable_out(),
        }
    }

    /// Runs `sql` with parameters where the router sends it; returns the rows it affected.
    ///
    /// Errors: as [`Router::query`].
    pub async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Routed<u64>> {
        let r = self.run(sql, Op::Execute(params)).await?;
        match r.value {
            Out::Count(v) => Ok(Routed {
                value: v,
                route: r.route,
                elapsed_ms: r.elapsed_ms,
            }),
            _ => unreachable_out(),
        }
    }

    /// Runs `sql` (no parameters; values come back as text) where the router sends it.
    ///
    /// Errors: as [`Router::query`].
    pub async fn simple_query(&self, sql: &str) -> Result<Routed<Vec<SimpleQueryMessage>>> {
        let r = self.run(sql, Op::Simple).await?;
        match r.value {
            Out::Simple(v) => Ok(Routed {
                value: v,
                route: r.route,
                elapsed_ms: r.elapsed_ms,
            }),
            _ => unreachable_out(),
        }
    }

    async fn run(&self, sql: &str, op: Op<'_>) -> Result<Routed<Out>> {
        let started = Instant::now();
        let session = session::current();
        let analysed = self.analyse(sql);
        let eff = &analysed.1;
        let pins = matches!(eff, Effect::Begin | Effect::SessionState(_));
        let pinned = match &session {
            None if pins => {
                let what = match eff {
                    Effect::SessionState(w) => w.clone(),
                    _ => "BEGIN".into(),
                };
                return Err(Error::NeedsSession(format!(
                    "{what} keeps state on one connection: run it inside a skein_router::Session \
                     (Session::scope) so the statements that follow use the same connection"
                )));
            }
            // The pin's lock is taken only when the session is or becomes pinned.
            Some(s) if pins || s.is_pinned() => {
                Some(s.pinned.lock().await).filter(|p| p.is_some() || pins)
            }
            _ => None,
        };
        let (Some(session), Some(pinned)) = (session.as_deref(), pinned) else {
            let plan = self.plan(&analysed, sql, session.as_deref(), None);
            return self
                .run_plan(sql, &op, plan, session.as_deref(), &analysed, started)
                .await;
        };
        // Boxed: the pinned path's state stays out of the future every read builds and moves.
        Box::pin(self.run_pinned(sql, &op, session, pinned, &analysed, started)).await
    }

    /// Runs a statement on the session's pinned primary connection (pinning it first when
    /// the statement begins a transaction or leaves session state); unpins once the
    /// connection holds neither.
    async fn run_pinned(
        &self,
        sql: &str,
        op: &Op<'_>,
        session: &SessionState,
        mut pinned: tokio::sync::MutexGuard<'_, Option<Pinned>>,
        analysed: &Analysed,
        started: Instant,
    ) -> Result<Routed<Out>> {
        let eff = &analysed.1;
        // Pinned: the session's own primary connection.
        let why = pinned.as_ref().map(pin_reason);
        let primary = &self.inner.cluster.primary;
        if pinned.is_none() {
            *pinned = Some(Pinned {
                client: Some(primary.client().await?),
                in_transaction: false,
                state: None,
            });
            session.set_pinned(true);
        }
        let cls = &analysed.0;
        let rt = match &why {
            Some(w) => self.primary_route(
                "session_pinned",
                format!("the session is pinned to its primary connection ({w})"),
            ),
            None => self.primary_route(cls.rule, cls.reason.clone()),
        };
        let p = pinned
            .as_mut()
            .ok_or_else(|| Error::NeedsSession("lost the pinned connection".into()))?;
        let client = p
            .client
            .as_ref()
            .ok_or_else(|| Error::NeedsSession("lost the pinned connection".into()))?;
        let out = run_op(client, sql, op, Some((session, primary)))
            .await
            .map_err(|e| {
                skein_pg::Error::from_pg(primary.name(), &primary.addr, "running the statement", &e)
            })?;
        match eff {
            Effect::Begin => p.in_transaction = true,
            Effect::End => p.in_transaction = false,
            Effect::SessionState(w) => p.state = Some(w.clone()),
            _ => {}
        }
        self.count(primary.name(), cls.target);
        if !p.in_transaction && (cls.target == Target::Primary || matches!(eff, Effect::End)) {
            if let Ok(lsn) = current_lsn(client).await {
                session.record_write(lsn);
            }
        }
        if !p.in_transaction && p.state.is_none() {
            *pinned = None;
            session.set_pinned(false);
        }
        drop(pinned);
        if *eff == Effect::Ddl {
            let _ = self.reload_functions().await;
        }
        Ok(Routed {
            value: out,
            route: rt,
            elapsed_ms: ms(started),
        })
    }

    async fn run_plan(
        &self,
        sql: &str,
        op: &Op<'_>,
        plan: Plan,
        session: Option<&SessionState>,
        analysed: &Analysed,
        started: Instant,
    ) -> Result<Routed<Out>> {
        let (mut rt, wait) = match plan {
            Plan::Primary(rt) => {
                let kind = analysed.0.target;
                let routed = Box::pin(self.on_primary(sql, op, session, rt, kind, started)).await?;
                if analysed.1 == Effect::Ddl {
                    let _ = Box::pin(self.reload_functions()).await;
                }
                return Ok(routed);
            }
            Plan::Fallback(rt) => {
                self.inner.fallbacks.fetch_add(1, Ordering::Relaxed);
                return Box::pin(self.on_primary(sql, op, session, rt, Target::Replica, started))
                    .await;
            }
            Plan::Replica { route, wait } => (route, wait),
        };
        if let Some(w) = wait {
            let waited = Instant::now();
            let reached = Box::pin(self.await_replay(&w.candidates, w.lsn)).await;
            if reached.is_empty() {
                self.inner.fallbacks.fetch_add(1, Ordering::Relaxed);
                let seen: Vec<String> = w
                    .candidates
                    .iter()
                    .map(|c| {
                        let at = self
                            .replay_lsn(&c.name)
                            .map_or_else(|| "?".into(), |l| l.to_string());
                        format!("{} at {at}", c.name)
                    })
                    .collect();
                let mut fallback = self.primary_route(
                    "read_your_writes",
                    format!(
                        "read-your-writes: no replica in rotation replayed the session's {} within {} ms ({}); the primary serves it",
                        w.lsn,
                        self.inner.config.read_your_writes_wait_ms,
                        seen.join(", ")
                    ),
                );
                fallback.needs_lsn = Some(w.lsn);
                return Box::pin(self.on_primary(
                    sql,
                    op,
                    session,
                    fallback,
                    Target::Replica,
                    started,
                ))
                .await;
            }
            let chosen = match &w.wanted {
                Some(n) if reached.iter().any(|c| &c.name == n) => n.clone(),
                _ => self
                    .inner
                    .balancer
                    .pick(&reached, w.hint.as_deref())
                    .unwrap_or_default(),
            };
            rt.reason = format!(
                "{}; read-your-writes: {chosen} had replayed {} after {:.0} ms",
                w.reason,
                w.lsn,
                ms(waited)
            );
            rt.node = chosen;
        }
        let node = self.inner.cluster.node(&rt.node)?;
        let attempt = async {
            // The scope's connection to this replica, if its last read ran there.
            let client = match session.and_then(|s| s.take_held(node.name())) {
                Some(c) => c,
                // Boxed: the pool's checkout future is large and a held connection skips it.
                None => Box::pin(node.client()).await.map_err(Failure::Connect)?,
            };
            let out = run_op(&client, sql, op, session.map(|s| (s, node)))
                .await
                .map_err(Failure::Query)?;
            Ok((out, client))
        };
        match attempt.await {
            Ok((out, client)) => {
                // Kept for the scope's next read there, unless others wait for a connection
                // to this replica: then it goes back to the pool at once.
                match session {
                    Some(s) if node.pool_status().waiting == 0 => s.hold(node.name(), client),
                    _ => drop(client),
                }
                self.count(node.name(), Target::Replica);
                Ok(Routed {
                    value: out,
                    route: rt,
                    elapsed_ms: ms(started),
                })
            }
            Err(f) => {
                let (retry, detail) = match &f {
                    Failure::Connect(e) => (true, e.to_string()),
                    Failure::Query(e) => (retryable(e), skein_pg::describe(e)),
                };
                if !retry {
                    let Failure::Query(e) = f else {
                        unreachable_out()
                    };
                    return Err(skein_pg::Error::from_pg(
                        node.name(),
                        &node.addr,
                        "running the statement",
                        &e,
                    )
                    .into());
                }
                tracing::warn!(
                    replica = node.name(),
                    addr = %node.addr,
                    "a read failed on the replica ({detail}); retried once on the primary"
                );
                self.inner
                    .rotation
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .failure(node.name(), self.now_ms(), &detail);
                self.update_eligible();
                if let Some(c) = self.inner.counters.get(node.name()) {
                    c.retried.fetch_add(1, Ordering::Relaxed);
                }
                rt = self.primary_route(
                    "retry",
                    format!(
                        "failed on {} ({detail}); retried once on the primary",
                        node.name()
                    ),
                );
                Box::pin(self.on_primary(sql, op, session, rt, Target::Replica, started)).await
            }
        }
    }

    /// Runs the statement on a pooled primary connection, counted as `kind` (a write, or a
    /// read the primary served); after a write, records the session's commit LSN.
    async fn on_primary(
        &self,
        sql: &str,
        op: &Op<'_>,
        session: Option<&SessionState>,
        rt: Route,
        kind: Target,
        started: Instant,
    ) -> Result<Routed<Out>> {
        let primary = &self.inner.cluster.primary;
        let client = primary.client().await?;
        let out = run_op(&client, sql, op, session.map(|s| (s, primary)))
            .await
            .map_err(|e| {
                skein_pg::Error::from_pg(primary.name(), &primary.addr, "running the statement", &e)
            })?;
        self.count(primary.name(), kind);
        if kind == Target::Primary {
            // Read-your-writes: the session's later reads need a replica past this write.
            if let Some(s) = session {
                if let Ok(lsn) = current_lsn(&client).await {
                    s.record_write(lsn);
                }
            }
        }
        Ok(Routed {
            value: out,
            route: rt,
            elapsed_ms: ms(started),
        })
    }

    /// Asks every candidate for `pg_last_wal_replay_lsn()` (concurrently, on pooled
    /// connections) until at least one has reached `lsn` or `read_your_writes_wait_ms`
    /// passes; returns those that have. Updates the known replay LSNs on the way.
    async fn await_replay(&self, candidates: &[Candidate], lsn: Lsn) -> Vec<Candidate> {
        let deadline =
            Instant::now() + Duration::from_millis(self.inner.config.read_your_writes_wait_ms);
        loop {
            let asks = candidates.iter().map(|c| async move {
                let node = self.inner.cluster.node(&c.name).ok()?;
                let client = node.client().await.ok()?;
                let row = client
                    .query_one("SELECT pg_last_wal_replay_lsn()::text", &[])
                    .await
                    .ok()?;
                row.get::<_, Option<String>>(0)
                    .and_then(|s| s.parse::<Lsn>().ok())
            });
            let replayed = futures_util::future::join_all(asks).await;
            let mut reached = Vec::new();
            {
                let mut readings = self
                    .inner
                    .readings
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                for (c, r) in candidates.iter().zip(replayed) {
                    let Some(r) = r else { continue };
                    let e = readings.entry(c.name.clone()).or_default();
                    e.replay_lsn = Some(e.replay_lsn.map_or(r, |x| x.max(r)));
                    if r >= lsn {
                        reached.push(c.clone());
                    }
                }
            }
            if !reached.is_empty() || Instant::now() >= deadline {
                return reached;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    fn count(&self, node: &str, kind: Target) {
        if let Some(c) = self.inner.counters.get(node) {
            match kind {
                Target::Primary => c.writes.fetch_add(1, Ordering::Relaxed),
                Target::Replica => c.reads.fetch_add(1, Ordering::Relaxed),
            };
        }
    }
}

enum Failure {
    Connect(skein_pg::Error),
    Query(tokio_postgres::Error),
}

pub(super) fn pin_reason(p: &Pinned) -> String {
    match (&p.state, p.in_transaction) {
        (Some(s), _) => format!("{s} earlier in the session"),
        (None, true) => "inside a transaction block".into(),
        (None, false) => "session state".into(),
    }
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

#[allow(clippy::panic)]
fn unreachable_out() -> ! {
    panic!("run_op returns the output kind of its op")
}

/// The primary's `pg_current_wal_lsn()` on this connection: at or past the commit of the
/// statement that just ran on it.
async fn current_lsn(
    client: &tokio_postgres::Client,
) -> std::result::Result<Lsn, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await?;
    Ok(row.get::<_, String>(0).parse().unwrap_or_default())
}
