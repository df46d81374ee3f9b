//! Alert rules and recovery conflicts through `App::rpc` against a real sandbox:
//!
//! - an inactive physical slot that retains WAL under the demo workload fires `slot_retained`
//!   after exactly `fire_after` breaching samples, is acknowledged, and clears after
//!   `clear_after` healthy samples once the slot is dropped through the console; the history
//!   is read back from the state directory by a console opened afterwards;
//! - a recovery conflict produced for real (a repeatable-read query on a replica with a small
//!   `max_standby_streaming_delay` while the primary deletes and vacuums the rows it sees) is
//!   counted, has a rate, is in the lag history's `conflicts` series, halves the replica's
//!   weight in rotation, is an attention item and fires `conflict_rate`;
//! - after a replica is promoted, `promoted` fires, the primary's slot for it is inactive
//!   (stamped) and retains what the primary writes, as `pg_replication_slots` says, and
//!   `slot_retained` fires for it;
//! - rules edited through the RPC are written into the profile and in force.

mod common;

use common::{fast, fast_persisted, Stack};
use std::time::{Duration, Instant};

use skein_console::alerts::{AlertChangeKind, AlertRule};
use skein_console::{App, Event, Request, Response};
use skein_core::Profile;
use skein_sandbox::ScratchSandbox;

const DEADLINE: Duration = Duration::from_secs(60);

fn app_on(sandbox: &ScratchSandbox, persist: bool, edit: impl Fn(&mut Profile)) -> App {
    let options = if persist { fast_persisted() } else { fast() };
    let app = App::with_config_dir(options, Some(sandbox.dir.join("config")));
    let mut profile = Profile::load(&sandbox.profile).expect("profile");
    edit(&mut profile);
    app.open(profile).expect("open the profile");
    app
}

/// The next event `pick` takes, within the deadline; `seen` sees every event before it.
async fn next<T>(
    events: &mut tokio::sync::broadcast::Receiver<Event>,
    what: &str,
    mut seen: impl FnMut(&Event),
    pick: impl Fn(&Event) -> Option<T>,
) -> T {
    let until = Instant::now() + DEADLINE;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(e)) => {
                if let Some(t) = pick(&e) {
                    return t;
                }
                seen(&e);
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(n))) => {
                panic!("the test fell {n} events behind while waiting for {what}")
            }
            other => panic!("never {what}: {other:?}"),
        }
    }
}

fn retained(r: &skein_pg::ReplicationReading, slot: &str) -> Option<u64> {
    r.slots()
        .find(|(_, s)| s.name == slot)
        .and_then(|(_, s)| s.retained_bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inactive_slot_fires_after_n_samples_and_clears_after_m_once_dropped() {
    let sandbox = ScratchSandbox::up("console-test-alerts", 1)
        .await
        .expect("sandbox up");
    // This test binary's consoles keep their state (the alert log) in the sandbox.
    std::env::set_var("SKEIN_STATE_DIR", sandbox.dir.join("state"));
    const LIMIT: u64 = 1024 * 1024;
    let rules = |p: &mut Profile| {
        p.alerts.fire_after = 3;
        p.alerts.clear_after = 4;
        p.alerts.slot_retained_bytes = LIMIT;
    };
    let app = app_on(&sandbox, true, rules);
    let stack = Stack { sandbox, app };
    let app = &stack.app;
    let mut events = app.subscribe();
    let admin = skein_sandbox::demo::connect_primary(&stack.sandbox)
        .await
        .expect("admin connection");
    admin
        .batch_execute("SELECT pg_create_physical_replication_slot('forgotten', true)")
        .await
        .expect("slot created");
    let report = skein_sandbox::demo::workload(&admin, 200, 3)
        .await
        .expect("workload");
    assert!(report.line_items > 0, "{report:?}");

    // Fired after exactly `fire_after` readings in breach (each tick's replication event comes
    // before its alert events).
    let mut breaching = 0;
    let fired = next(
        &mut events,
        "slot_retained fired",
        |e| {
            if let Some(r) = e.replication() {
                if retained(r, "forgotten").is_some_and(|b| b >= LIMIT) {
                    breaching += 1;
                }
            }
        },
        |e| match e {
            Event::Alert(c)
                if c.change == AlertChangeKind::Fired
                    && c.alert.rule == AlertRule::SlotRetained =>
            {
                Some(c.alert.clone())
            }
            _ => None,
        },
    )
    .await;
    assert_eq!(breaching, 3, "fired after {breaching} breaching samples");
    assert_eq!(fired.subject, "slot forgotten on primary");
    assert!(fired.value.is_some_and(|v| v >= LIMIT as f64), "{fired:?}");
    assert_eq!(fired.threshold, Some(LIMIT as f64));
    assert!(fired.message.contains("inactive"), "{fired:?}");

    // The attention list names it too (its own slot threshold, 1 GiB, is not reached).
    let Ok(Response::Overview(ov)) = app.rpc(Request::Overview).await else {
        panic!("overview")
    };
    let item = ov
        .attention
        .iter()
        .find(|i| i.subject == "slot forgotten on primary")
        .unwrap_or_else(|| panic!("no attention item: {:#?}", ov.attention));
    assert!(
        item.message.starts_with("alert slot_retained: retains"),
        "{item:?}"
    );

    // The same alert on the Alerts page; acknowledged, it stays active.
    let Ok(Response::Alerts(view)) = app.rpc(Request::Alerts).await else {
        panic!("alerts")
    };
    assert!(view.active.iter().any(|a| a.id == fired.id), "{view:#?}");
    assert!(view.log_path.is_some(), "{view:#?}");
    let Ok(Response::AcknowledgeAlert(acked)) =
        app.rpc(Request::AcknowledgeAlert { id: fired.id }).await
    else {
        panic!("acknowledge")
    };
    assert!(
        acked.acknowledged_at_ms.is_some() && acked.active(),
        "{acked:?}"
    );
    let e = app
        .rpc(Request::AcknowledgeAlert { id: 9_999 })
        .await
        .expect_err("no such alert");
    assert_eq!(e.code, skein_core::ErrorCode::NotFound, "{e:?}");

    // Dropped through the console: cleared after `clear_after` samples without it.
    let dropped = app
        .rpc(Request::DropSlot {
            node: "primary".into(),
            slot: "forgotten".into(),
        })
        .await;
    assert!(matches!(dropped, Ok(Response::DropSlot)), "{dropped:?}");
    let mut without = 0;
    let cleared = next(
        &mut events,
        "slot_retained cleared",
        |e| {
            if let Some(r) = e.replication() {
                if retained(r, "forgotten").is_none() {
                    without += 1;
                }
            }
        },
        |e| match e {
            Event::Alert(c) if c.change == AlertChangeKind::Cleared && c.alert.id == fired.id => {
                Some(c.alert.clone())
            }
            _ => None,
        },
    )
    .await;
    // `clear_after` ticks judged it healthy; the drop's own reading (emitted at once, judged
    // by no tick) may come on top.
    assert!(
        (4..=5).contains(&without),
        "cleared after {without} readings"
    );
    assert!(cleared.cleared_at_ms.is_some(), "{cleared:?}");
    assert!(cleared.acknowledged_at_ms.is_some(), "{cleared:?}");
    let Ok(Response::Alerts(view)) = app.rpc(Request::Alerts).await else {
        panic!("alerts")
    };
    assert!(view.active.iter().all(|a| a.id != fired.id), "{view:#?}");

    // A console opened afterwards reads the history back from the state directory.
    stack.app.console().expect("console").close();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let again = app_on(&stack.sandbox, true, rules);
    let Ok(Response::Alerts(view)) = again.rpc(Request::Alerts).await else {
        panic!("alerts")
    };
    let kept = view
        .history
        .iter()
        .find(|a| a.id == fired.id)
        .expect("the alert in the history after a restart");
    assert_eq!(kept.cleared_at_ms, cleared.cleared_at_ms);
    assert_eq!(kept.acknowledged_at_ms, acked.acknowledged_at_ms);
    again.console().expect("console").close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_recovery_conflict_is_counted_charted_and_lowers_the_weight() {
    let sandbox = ScratchSandbox::up("console-test-conflicts", 2)
        .await
        .expect("sandbox up");
    let admin = skein_sandbox::demo::connect_primary(&sandbox)
        .await
        .expect("admin connection");
    admin
        .batch_execute(
            "CREATE TABLE conflict_probe AS SELECT g AS id FROM generate_series(1, 10000) g; \
             ALTER TABLE conflict_probe SET (autovacuum_enabled = off)",
        )
        .await
        .expect("table");
    let replica = skein_sandbox::demo::connect_node(
        &sandbox,
        "replica1",
        skein_sandbox::DEMO_DATABASE,
        skein_sandbox::SUPERUSER,
    )
    .await
    .expect("replica connection");
    // Replay waits at most 100 ms for a query in its way, then cancels it.
    // replica2 must not hold the primary's vacuum back either (its slot's xmin would keep the
    // rows, and no conflict would happen).
    let replica2 = skein_sandbox::demo::connect_node(
        &sandbox,
        "replica2",
        skein_sandbox::DEMO_DATABASE,
        skein_sandbox::SUPERUSER,
    )
    .await
    .expect("replica2 connection");
    for sql in [
        "ALTER SYSTEM SET max_standby_streaming_delay = '100ms'",
        "ALTER SYSTEM SET hot_standby_feedback = off",
        "SELECT pg_reload_conf()",
    ] {
        replica.batch_execute(sql).await.expect("standby settings");
    }
    for sql in [
        "ALTER SYSTEM SET hot_standby_feedback = off",
        "SELECT pg_reload_conf()",
    ] {
        replica2.batch_execute(sql).await.expect("standby settings");
    }
    let app = app_on(&sandbox, false, |p| {
        p.alerts.fire_after = 1;
        p.alerts.conflicts_per_minute = 0.5;
    });
    let stack = Stack { sandbox, app };
    let app = &stack.app;
    let mut events = app.subscribe();
    // Wait for the settings to show, and for the primary to forget the xmin the replicas held
    // back while hot_standby_feedback was on (the sandbox's default): else vacuum keeps the rows.
    next(
        &mut events,
        "max_standby_streaming_delay 100 ms on replica1, no xmin held on the primary by either replica",
        |_| {},
        |e| match e.replication() {
            Some(r) => {
                let set = r
                    .node("replica1")
                    .and_then(|n| n.settings)
                    .is_some_and(|s| s.max_standby_streaming_delay_ms == 100 && !s.hot_standby_feedback);
                let released = ["replica1", "replica2"].iter().all(|n| {
                    r.sender_for(n).is_some_and(|s| s.backend_xmin_age.is_none())
                }) && r.node("primary").is_some_and(|p| {
                    !p.slots.is_empty() && p.slots.iter().all(|s| s.xmin_age.is_none())
                });
                (set && released).then_some(())
            }
            _ => None,
        },
    )
    .await;
    let before = loop {
        let r = app.console().expect("console").replication().await;
        let c = r
            .node("replica1")
            .and_then(|n| n.conflicts)
            .expect("conflicts");
        if replica
            .query_one("SELECT count(*) FROM conflict_probe", &[])
            .await
            .is_ok()
        {
            break c.total();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // A long read on the replica holds a snapshot that sees the rows ...
    let reader_conn = skein_sandbox::demo::connect_node(
        &stack.sandbox,
        "replica1",
        skein_sandbox::DEMO_DATABASE,
        skein_sandbox::SUPERUSER,
    )
    .await
    .expect("reader connection");
    let reader = tokio::spawn(async move {
        reader_conn
            .batch_execute(
                "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM conflict_probe; \
                 SELECT pg_sleep(20); COMMIT",
            )
            .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    // ... while the primary deletes them and vacuums them away.
    for sql in ["DELETE FROM conflict_probe", "VACUUM conflict_probe"] {
        admin.batch_execute(sql).await.expect("delete and vacuum");
    }
    let cancelled = tokio::time::timeout(Duration::from_secs(15), reader)
        .await
        .expect("the read was cancelled within 15 s, not after its 20 s sleep")
        .expect("reader task");
    let e = cancelled.expect_err("cancelled by recovery");
    assert!(
        e.as_db_error()
            .is_some_and(|d| d.message().contains("conflict with recovery")),
        "cancelled for another reason: {e:?}"
    );

    // Counted and a rate ...
    let (total, rate) = next(
        &mut events,
        "a conflict rate on replica1",
        |_| {},
        |e| match e.replication() {
            Some(r) => r
                .node("replica1")
                .and_then(|n| n.conflicts)
                .filter(|c| c.total() > before && c.per_minute.is_some_and(|p| p > 0.0))
                .map(|c| (c.total(), c.per_minute.unwrap_or(0.0))),
            _ => None,
        },
    )
    .await;
    assert_eq!(total, before + 1, "one query cancelled");
    let server: i64 = replica
        .query_one(
            "SELECT sum(confl_snapshot + confl_lock + confl_bufferpin + confl_deadlock + \
             confl_tablespace)::bigint FROM pg_stat_database_conflicts",
            &[],
        )
        .await
        .expect("pg_stat_database_conflicts")
        .get(0);
    assert_eq!(server, total, "the console counts what the server counts");
    assert!(rate > 0.5, "{rate} a minute");
    // ... an alert and an attention item ...
    let fired = next(
        &mut events,
        "conflict_rate fired",
        |_| {},
        |e| match e {
            Event::Alert(c)
                if c.change == AlertChangeKind::Fired
                    && c.alert.rule == AlertRule::ConflictRate =>
            {
                Some(c.alert.clone())
            }
            _ => None,
        },
    )
    .await;
    assert_eq!(fired.subject, "replica1");
    assert!(
        fired.message.contains("max_standby_streaming_delay 100 ms"),
        "{fired:?}"
    );
    let Ok(Response::Overview(ov)) = app.rpc(Request::Overview).await else {
        panic!("overview")
    };
    assert!(
        ov.attention
            .iter()
            .any(|a| a.subject == "replica1" && a.message.contains("recovery conflicts a minute")),
        "{:#?}",
        ov.attention
    );
    // ... half the weight in rotation, beside replica2's full one ...
    let Ok(Response::Routing(stats)) = app.rpc(Request::Routing).await else {
        panic!("routing")
    };
    let weight = |n: &str| {
        stats
            .nodes
            .iter()
            .find(|x| x.name == n)
            .map(|x| (x.weight, x.conflicts_per_minute))
            .expect("node")
    };
    assert_eq!(weight("replica1").0, 0.5, "{stats:#?}");
    assert!(weight("replica1").1.is_some_and(|r| r > 0.5), "{stats:#?}");
    assert_eq!(weight("replica2").0, 1.0, "{stats:#?}");
    // ... and in the history the chart draws: the count steps up by one.
    let Ok(Response::LagHistory(h)) = app.rpc(Request::LagHistory { since_ms: None }).await else {
        panic!("history")
    };
    let series = h
        .nodes
        .iter()
        .find(|s| s.name == "replica1")
        .expect("series");
    let counts: Vec<i64> = series.conflicts.iter().flatten().copied().collect();
    assert_eq!(counts.first(), Some(&before), "{counts:?}");
    assert_eq!(counts.last(), Some(&total), "{counts:?}");
    assert!(
        series.write_lag_ms.len() == series.t_ms.len()
            && series.flush_lag_ms.len() == series.t_ms.len(),
        "columns of one length"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_rules_edited_in_the_app_are_written_to_the_profile_and_in_force() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("stack.toml");
    let text = "# my stack\nname = \"edited\"\n\n[primary]\nurl = \"host=127.0.0.1 port=9 user=u dbname=d\"\n\n\
                [lake]\ncatalog = \"host=127.0.0.1 port=9 user=u dbname=l\"\ndata_path = \"/tmp/x/\"\n";
    std::fs::write(&path, text).expect("profile");
    let app = App::with_config_dir(fast(), Some(dir.path().join("config")));
    app.open_profile(&path).expect("open");
    let Ok(Response::Alerts(before)) = app.rpc(Request::Alerts).await else {
        panic!("alerts")
    };
    let mut rules = before.rules;
    assert_eq!(rules, skein_core::AlertRules::default());
    rules.fire_after = 1;
    rules.slot_retained_bytes = 5 * 1024 * 1024;
    let mut events = app.subscribe();
    let Ok(Response::SaveAlertRules(view)) = app.rpc(Request::SaveAlertRules { rules }).await
    else {
        panic!("saved")
    };
    assert_eq!(view.rules, rules);
    next(
        &mut events,
        "profile_opened",
        |_| {},
        |e| matches!(e, Event::ProfileOpened(_)).then_some(()),
    )
    .await;
    let written = std::fs::read_to_string(&path).expect("read");
    assert!(written.starts_with("# my stack"), "{written}");
    assert!(
        written.contains("[alerts]\nfire_after = 1\nslot_retained_bytes = 5242880"),
        "{written}"
    );
    assert_eq!(app.console().expect("console").profile().alerts, rules);

    // Out of range: refused naming the key; the file and the rules in force stay.
    let e = app
        .rpc(Request::SaveAlertRules {
            rules: skein_core::AlertRules {
                clear_after: 0,
                ..rules
            },
        })
        .await
        .expect_err("clear_after 0");
    assert_eq!(e.code, skein_core::ErrorCode::InvalidInput, "{e:?}");
    assert!(e.message.contains("alerts.clear_after"), "{e:?}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), written);
    assert_eq!(app.console().expect("console").profile().alerts, rules);
    app.console().expect("console").close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_promotion_its_slot_goes_inactive_and_the_alerts_say_so() {
    let sandbox = ScratchSandbox::up("console-test-promoted-slots", 1)
        .await
        .expect("sandbox up");
    // A few seconds of the demo workload write well over this.
    const LIMIT: u64 = 256 * 1024;
    let app = app_on(&sandbox, false, |p| {
        p.alerts.fire_after = 1;
        p.alerts.clear_after = 1;
        p.alerts.slot_retained_bytes = LIMIT;
    });
    let stack = Stack { sandbox, app };
    let app = &stack.app;
    let mut events = app.subscribe();
    // Before: replica1 streams through its slot on the primary.
    next(
        &mut events,
        "replica1's slot active",
        |_| {},
        |e| match e.replication() {
            Some(r) => r
                .slots()
                .any(|(n, s)| n == "primary" && s.name == "replica1" && s.active)
                .then_some(()),
            _ => None,
        },
    )
    .await;
    let replica = skein_sandbox::demo::connect_node(
        &stack.sandbox,
        "replica1",
        skein_sandbox::DEMO_DATABASE,
        skein_sandbox::SUPERUSER,
    )
    .await
    .expect("replica connection");
    let promoted: bool = replica
        .query_one("SELECT pg_promote()", &[])
        .await
        .expect("pg_promote")
        .get(0);
    assert!(promoted);
    let fired = next(
        &mut events,
        "promoted fired",
        |_| {},
        |e| match e {
            Event::Alert(c)
                if c.change == AlertChangeKind::Fired && c.alert.rule == AlertRule::Promoted =>
            {
                Some(c.alert.clone())
            }
            _ => None,
        },
    )
    .await;
    assert_eq!(fired.subject, "replica1");
    // The primary's slot for it is inactive now, stamped, and retains what the primary writes.
    let admin = skein_sandbox::demo::connect_primary(&stack.sandbox)
        .await
        .expect("admin connection");
    skein_sandbox::demo::workload(&admin, 200, 3)
        .await
        .expect("workload");
    let r = next(
        &mut events,
        "the slot inactive and retaining WAL",
        |_| {},
        |e| match e.replication() {
            Some(r) => r
                .slots()
                .find(|(n, s)| {
                    *n == "primary"
                        && s.name == "replica1"
                        && !s.active
                        && s.retained_bytes.is_some_and(|b| b >= LIMIT)
                })
                .map(|_| r.clone()),
            _ => None,
        },
    )
    .await;
    let (_, slot) = r
        .slots()
        .find(|(n, s)| *n == "primary" && s.name == "replica1")
        .expect("slot");
    assert!(slot.inactive_since_ms.is_some(), "{slot:#?}");
    // The server agrees.
    let row = admin
        .query_one(
            "SELECT active, (pg_current_wal_lsn() - restart_lsn)::int8 FROM pg_replication_slots \
             WHERE slot_name = 'replica1'",
            &[],
        )
        .await
        .expect("pg_replication_slots");
    assert!(!row.get::<_, bool>(0));
    assert!(row.get::<_, i64>(1) as u64 >= slot.retained_bytes.unwrap_or(0));
    // replica1 out of recovery: no receiver, and both alerts active on the page.
    let node = r.node("replica1").expect("replica1");
    assert_eq!(node.in_recovery, Some(false), "{node:#?}");
    assert!(node.receiver.is_none(), "{node:#?}");
    next(
        &mut events,
        "slot_retained fired",
        |_| {},
        |e| match e {
            Event::Alert(c)
                if c.change == AlertChangeKind::Fired
                    && c.alert.rule == AlertRule::SlotRetained
                    && c.alert.subject == "slot replica1 on primary" =>
            {
                Some(())
            }
            _ => None,
        },
    )
    .await;
    let Ok(Response::Alerts(view)) = app.rpc(Request::Alerts).await else {
        panic!("alerts")
    };
    let rules: Vec<_> = view
        .active
        .iter()
        .map(|a| (a.rule, a.subject.as_str()))
        .collect();
    assert!(
        rules.contains(&(AlertRule::Promoted, "replica1")),
        "{rules:?}"
    );
    assert!(
        rules.contains(&(AlertRule::SlotRetained, "slot replica1 on primary")),
        "{rules:?}"
    );
}
