//! Replication slots through `App::rpc` against a real sandbox: an inactive physical slot that
//! retains WAL under the demo workload becomes an attention item (with when the console first
//! saw it inactive), a slot a real consumer (`pg_receivewal`) streams from is refused with
//! `Conflict` naming the consumer, the monitoring role is refused with the probe's reason,
//! and dropping the slot through the console clears the item and the slot from the next
//! `replication` event.

mod common;

use common::{fast, Stack};
use std::time::{Duration, Instant};

use skein_console::{App, Event, Request, Response};
use skein_core::{ErrorCode, Profile};
use skein_pg::ReplicationReading;
use skein_sandbox::{ProfileRole, SandboxSecurity, ScratchSandbox};

const DEADLINE: Duration = Duration::from_secs(40);

/// A process killed when the test ends, pass or fail.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn stack(tag: &str, role: ProfileRole) -> Stack {
    let sandbox = ScratchSandbox::up_with(
        tag,
        1,
        SandboxSecurity {
            profile_role: role,
            ..Default::default()
        },
    )
    .await
    .expect("sandbox up");
    let app = App::with_config_dir(fast(), Some(sandbox.dir.join("config")));
    let mut profile = Profile::load(&sandbox.profile).expect("profile");
    // 1 MiB: the demo workload's writes are enough to pass it.
    profile.thresholds.slot_wal_warning_bytes = 1024 * 1024;
    app.open(profile).expect("open the profile");
    Stack { sandbox, app }
}

/// Waits for a `replication` event that satisfies `ok`.
async fn replication_until(
    events: &mut tokio::sync::broadcast::Receiver<Event>,
    what: &str,
    ok: impl Fn(&ReplicationReading) -> bool,
) -> ReplicationReading {
    let until = Instant::now() + DEADLINE;
    let mut last = None;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(e)) if e.replication().is_some_and(&ok) => {
                return e.replication().cloned().expect("a reading")
            }
            Ok(Ok(e)) if e.replication().is_some() => last = e.replication().cloned(),
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("never {what}: {other:?}; last reading {last:#?}"),
        }
    }
}

async fn attention_about(app: &App, subject: &str) -> Vec<skein_console::rpc::Attention> {
    match app.rpc(Request::Overview).await {
        Ok(Response::Overview(ov)) => ov
            .attention
            .into_iter()
            .filter(|a| a.subject == subject)
            .collect(),
        other => panic!("overview: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inactive_slot_is_an_attention_item_until_the_console_drops_it() {
    let stack = stack("console-test-slots", ProfileRole::Superuser).await;
    let app = &stack.app;
    let mut events = app.subscribe();
    let admin = skein_sandbox::demo::connect_primary(&stack.sandbox)
        .await
        .expect("admin connection");
    admin
        .batch_execute(
            "SELECT pg_create_physical_replication_slot('forgotten', true); \
             SELECT pg_create_physical_replication_slot('held', true)",
        )
        .await
        .expect("slots created");

    // A real consumer streams from `held`.
    let port = stack.sandbox.port("primary").expect("primary port");
    let wal_dir = stack.sandbox.dir.join("receivewal");
    std::fs::create_dir_all(&wal_dir).expect("receivewal dir");
    let receiver = Child(
        std::process::Command::new(
            skein_sandbox::pg_bin_dir()
                .expect("PostgreSQL binaries")
                .join("pg_receivewal"),
        )
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        .args(["-S", "held", "--no-loop", "-D"])
        .arg(&wal_dir)
        .env(
            "PGPASSWORD",
            stack.sandbox.password().expect("superuser password"),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("pg_receivewal started"),
    );

    // Writes on the primary: the forgotten slot retains them.
    let report = skein_sandbox::demo::workload(&admin, 200, 3)
        .await
        .expect("workload");
    assert!(report.line_items > 0, "{report:?}");
    let r = replication_until(&mut events, "forgotten retaining WAL, held active", |r| {
        let f = r.slots().find(|(_, s)| s.name == "forgotten");
        let h = r.slots().find(|(_, s)| s.name == "held");
        f.is_some_and(|(_, s)| s.retained_bytes.unwrap_or(0) >= 1024 * 1024)
            && h.is_some_and(|(_, s)| s.active)
    })
    .await;
    let (_, forgotten) = r
        .slots()
        .find(|(_, s)| s.name == "forgotten")
        .expect("forgotten");
    let since = forgotten.inactive_since_ms.expect("inactive since");
    assert!(since <= r.taken_at_ms, "{forgotten:#?}");
    let (_, held) = r.slots().find(|(_, s)| s.name == "held").expect("held");
    assert_eq!(held.inactive_since_ms, None, "{held:#?}");
    assert_eq!(held.used_by.as_deref(), Some("pg_receivewal"), "{held:#?}");

    // The attention item, the same in the overview: inactive, with its retained WAL.
    let items = attention_about(app, "slot forgotten on primary").await;
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(items[0].severity, skein_console::rpc::Severity::Warning);
    assert!(
        items[0].message.contains("inactive since")
            && items[0].message.contains("of WAL (warning at 1.0 MiB)"),
        "{items:#?}"
    );
    assert!(
        attention_about(app, "slot held on primary")
            .await
            .is_empty(),
        "an active slot is no item"
    );
    // The stamp holds across ticks: it is when the console first saw it inactive.
    let later = replication_until(&mut events, "a later tick", |x| {
        x.taken_at_ms > r.taken_at_ms + 500
    })
    .await;
    assert_eq!(
        later
            .slots()
            .find(|(_, s)| s.name == "forgotten")
            .and_then(|(_, s)| s.inactive_since_ms),
        Some(since)
    );

    // An active slot is refused, naming its consumer; nothing is dropped.
    let e = app
        .rpc(Request::DropSlot {
            node: "primary".into(),
            slot: "held".into(),
        })
        .await
        .expect_err("an active slot");
    assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
    assert!(e.message.contains("used by pg_receivewal"), "{e:?}");
    let e = app
        .rpc(Request::DropSlot {
            node: "primary".into(),
            slot: "nope".into(),
        })
        .await
        .expect_err("an unknown slot");
    assert_eq!(e.code, ErrorCode::NotFound, "{e:?}");

    // Dropped through the console: gone from the next event and from the attention list.
    let dropped = app
        .rpc(Request::DropSlot {
            node: "primary".into(),
            slot: "forgotten".into(),
        })
        .await;
    assert!(matches!(dropped, Ok(Response::DropSlot)), "{dropped:?}");
    let r = replication_until(&mut events, "forgotten gone", |r| {
        r.slots().all(|(_, s)| s.name != "forgotten")
    })
    .await;
    assert!(r.slots().any(|(_, s)| s.name == "held"), "{r:#?}");
    assert!(attention_about(app, "slot forgotten on primary")
        .await
        .is_empty());
    let rows = admin
        .query(
            "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'forgotten'",
            &[],
        )
        .await
        .expect("pg_replication_slots");
    assert!(rows.is_empty(), "dropped on the server");
    drop(receiver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitoring_role_sees_slots_and_may_not_drop_them() {
    let stack = stack("console-test-slots-monitor", ProfileRole::Monitor).await;
    let app = &stack.app;
    let mut events = app.subscribe();
    let admin = skein_sandbox::demo::connect_primary(&stack.sandbox)
        .await
        .expect("admin connection");
    admin
        .batch_execute("SELECT pg_create_physical_replication_slot('kept', true)")
        .await
        .expect("slot created");
    replication_until(&mut events, "the slot listed", |r| {
        r.slots().any(|(_, s)| s.name == "kept")
    })
    .await;
    let e = app
        .rpc(Request::DropSlot {
            node: "primary".into(),
            slot: "kept".into(),
        })
        .await
        .expect_err("pg_monitor may not drop slots");
    assert_eq!(e.code, ErrorCode::PermissionDenied, "{e:?}");
    assert!(
        e.message.contains("ALTER ROLE skein_monitor REPLICATION"),
        "the probe's reason: {e:?}"
    );
    let Ok(Response::Privileges(p)) = app.rpc(Request::Privileges).await else {
        panic!("privileges");
    };
    let primary = p
        .iter()
        .find(|p| p.node == "primary")
        .and_then(|p| p.privileges.clone())
        .expect("primary probed");
    assert!(!primary.drop_slots.allowed, "{primary:?}");
    let Ok(Response::Replication(r)) = app.rpc(Request::Replication).await else {
        panic!("replication");
    };
    assert!(
        r.slots().any(|(_, s)| s.name == "kept"),
        "still there: {r:#?}"
    );
}
