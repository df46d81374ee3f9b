//! Replay control gated on the profile role's privileges, through `App::rpc` against a real
//! sandbox: the monitoring role's console refuses with `PermissionDenied` and the probe's
//! reason (not the server's bare permission error); the superuser's pauses and resumes; a node
//! that comes back is probed again.

mod common;

use common::{fast, Stack};
use std::time::{Duration, Instant};

use skein_console::rpc::NodePrivileges;
use skein_console::{App, Event, Request, Response};
use skein_core::ErrorCode;
use skein_pg::ReplicaState;
use skein_sandbox::{ProfileRole, SandboxSecurity, ScratchSandbox, MONITOR_ROLE};

const DEADLINE: Duration = Duration::from_secs(30);

async fn privileges(app: &App) -> Vec<NodePrivileges> {
    match app.rpc(Request::Privileges).await {
        Ok(Response::Privileges(p)) => p,
        other => panic!("privileges: {other:?}"),
    }
}

/// Polls `privileges` until `node` has an answer; returns it.
async fn probed(app: &App, node: &str) -> NodePrivileges {
    let started = Instant::now();
    loop {
        let list = privileges(app).await;
        if let Some(p) = list
            .iter()
            .find(|p| p.node == node && p.privileges.is_some())
        {
            return p.clone();
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{node} never probed: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for a tick in which replica1 is in `state`.
async fn replica_state(events: &mut tokio::sync::broadcast::Receiver<Event>, state: ReplicaState) {
    let until = Instant::now() + DEADLINE;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(e))
                if e.lag()
                    .and_then(|s| s.node("replica1"))
                    .is_some_and(|n| n.state == state) =>
            {
                return
            }
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("replica1 never {state:?}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_control_follows_the_roles_privileges() {
    let sandbox = ScratchSandbox::up_with(
        "console-test-replay",
        1,
        SandboxSecurity {
            profile_role: ProfileRole::Monitor,
            ..Default::default()
        },
    )
    .await
    .expect("sandbox up");
    let dir = sandbox.dir.clone();
    let app = App::with_config_dir(fast(), Some(dir.join("config")));
    let mut stack = Stack { sandbox, app };
    let mut events = stack.app.subscribe();
    stack
        .app
        .open_profile(&stack.sandbox.profile)
        .expect("open the monitoring role's profile");

    // Probed on the first tick, pushed as an event and carried by the overview.
    let p = probed(&stack.app, "replica1").await;
    let rp = p.privileges.expect("replica1 probed");
    assert_eq!(rp.role, MONITOR_ROLE);
    assert!(!rp.superuser && rp.pg_monitor, "{rp:?}");
    let reason = rp.replay_control.reason.clone().expect("a reason");
    assert!(!rp.replay_control.allowed);
    assert!(
        reason.contains("needs superuser or EXECUTE on pg_wal_replay_pause()"),
        "{reason}"
    );
    let Ok(Response::Overview(ov)) = stack.app.rpc(Request::Overview).await else {
        panic!("overview failed");
    };
    assert_eq!(
        ov.privileges
            .iter()
            .map(|p| p.node.as_str())
            .collect::<Vec<_>>(),
        ["primary", "replica1"]
    );
    let mut saw_event = false;
    while let Ok(e) = events.try_recv() {
        saw_event |= matches!(&e, Event::Privileges(list) if list.iter().any(|p| p.node == "replica1" && p.privileges.is_some()));
    }
    assert!(saw_event, "a privileges event was pushed");
    let first_probe = p.probed_at_ms.expect("a probe time");

    // Refused before the server is asked: the probe's reason, code PermissionDenied.
    for request in [
        Request::PauseReplay {
            node: "replica1".into(),
        },
        Request::ResumeReplay {
            node: "replica1".into(),
        },
    ] {
        let e = stack
            .app
            .rpc(request)
            .await
            .expect_err("the monitoring role may not control replay");
        assert_eq!(e.code, ErrorCode::PermissionDenied, "{e:?}");
        assert!(e.message.starts_with("replica1: "), "{}", e.message);
        assert!(
            e.message
                .contains("needs superuser or EXECUTE on pg_wal_replay_pause()"),
            "{}",
            e.message
        );
        assert!(
            !e.message.contains("permission denied for function"),
            "not the server's bare error: {}",
            e.message
        );
    }
    let e = stack
        .app
        .rpc(Request::PauseReplay {
            node: "primary".into(),
        })
        .await
        .expect_err("the primary replays nothing");
    assert_eq!(e.code, ErrorCode::InvalidInput, "{e:?}");
    let e = stack
        .app
        .rpc(Request::PauseReplay {
            node: "nope".into(),
        })
        .await
        .expect_err("no such node");
    assert_eq!(e.code, ErrorCode::NotFound, "{e:?}");

    // A node that comes back is probed again (not on every tick).
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        probed(&stack.app, "replica1").await.probed_at_ms,
        Some(first_probe),
        "no probe while the node stays up"
    );
    stack.sandbox.stop_node("replica1").expect("stop replica1");
    replica_state(&mut events, ReplicaState::Down).await;
    stack
        .sandbox
        .start_node("replica1")
        .expect("start replica1");
    let started = Instant::now();
    loop {
        let p = probed(&stack.app, "replica1").await;
        if p.probed_at_ms > Some(first_probe) {
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "replica1 never probed again: {p:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The superuser's console pauses and resumes.
    let text = std::fs::read_to_string(&stack.sandbox.profile).expect("profile");
    let admin = dir.join("admin.toml");
    std::fs::write(
        &admin,
        text.replace(&format!("user={MONITOR_ROLE}"), "user=postgres"),
    )
    .expect("superuser profile");
    stack
        .app
        .open_profile(&admin)
        .expect("open the superuser's profile");
    let p = probed(&stack.app, "replica1").await;
    assert!(p
        .privileges
        .is_some_and(|p| p.superuser && p.replay_control.allowed));
    assert!(matches!(
        stack
            .app
            .rpc(Request::PauseReplay {
                node: "replica1".into()
            })
            .await,
        Ok(Response::PauseReplay)
    ));
    replica_state(&mut events, ReplicaState::Paused).await;
    assert!(matches!(
        stack
            .app
            .rpc(Request::ResumeReplay {
                node: "replica1".into()
            })
            .await,
        Ok(Response::ResumeReplay)
    ));
    replica_state(&mut events, ReplicaState::Streaming).await;
}
