//! The RPC surface against a real sandbox (a PostgreSQL primary, two streaming replicas and a
//! DuckLake lake), without a UI: requests go through `App::rpc` exactly as the desktop shell
//! and `skein serve` forward them, events come from `App::subscribe`.

mod common;

use common::{fast, Stack};
use std::time::{Duration, Instant};

use skein_console::chart::ChartFormat;
use skein_console::jobs::JobState;
use skein_console::rpc::{CacheSpec, LagHistory, SnapshotPage, TimeTravelPage};
use skein_console::{App, Event, Request, Response};
use skein_core::{ErrorCode, ErrorInfo, Profile};
use skein_lake::{At, ExpireTarget, Lake, MaintenanceLock, RefreshOutcome, RefreshResult};
use skein_pg::fingerprint::activity_signature;
use skein_pg::{Cluster, ReplicaState};
use skein_sandbox::ScratchSandbox;
use tokio::sync::broadcast;

async fn stack(tag: &str) -> Stack {
    let sandbox = ScratchSandbox::up(&format!("console-test-{tag}"), 2)
        .await
        .expect("sandbox up");
    let dir = sandbox.dir.clone();
    let app = App::with_config_dir(fast(), Some(dir.join("config")));
    app.open_profile(&sandbox.profile).expect("open profile");
    Stack { sandbox, app }
}

async fn call(app: &App, req: Request) -> Result<Response, ErrorInfo> {
    app.rpc(req).await
}

async fn history(app: &App) -> LagHistory {
    match call(app, Request::LagHistory { since_ms: None }).await {
        Ok(Response::LagHistory(h)) => h,
        other => panic!("lag_history answered {other:?}"),
    }
}

async fn refresh(app: &App, name: &str, force: bool) -> RefreshOutcome {
    match call(
        app,
        Request::RefreshCache {
            name: name.into(),
            force,
        },
    )
    .await
    {
        Ok(Response::RefreshCache(o)) => o,
        other => panic!("refresh_cache answered {other:?}"),
    }
}

async fn travel(app: &App, table: &str, at: At) -> Result<TimeTravelPage, ErrorInfo> {
    call(
        app,
        Request::TimeTravel {
            table: table.into(),
            at,
            limit: 10,
            offset: 0,
        },
    )
    .await
    .map(|r| match r {
        Response::TimeTravel(p) => p,
        other => panic!("time_travel answered {other:?}"),
    })
}

/// Waits for the first event `pick` accepts.
async fn next_event<T>(
    rx: &mut broadcast::Receiver<Event>,
    within: Duration,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(e)) => {
                if let Some(t) = pick(&e) {
                    return Some(t);
                }
            }
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            _ => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_history_grows_and_a_stopped_replica_turns_down() {
    let stack = stack("lag").await;
    let app = &stack.app;
    let mut rx = app.subscribe();

    // The sampler fills the history without anyone asking.
    let deadline = Instant::now() + Duration::from_secs(15);
    let first = loop {
        let h = history(app).await;
        if h.nodes.len() == 3 && h.nodes.iter().all(|n| n.t_ms.len() >= 2) {
            break h;
        }
        assert!(
            Instant::now() < deadline,
            "no lag history after 15 s: {h:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let names: Vec<&str> = first.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["primary", "replica1", "replica2"]);
    let n1 = first.nodes[1].t_ms.len();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let second = history(app).await;
    let r1 = &second.nodes[1];
    assert!(
        r1.t_ms.len() > n1,
        "history did not grow: {n1} → {}",
        r1.t_ms.len()
    );
    assert_eq!(r1.t_ms.len(), r1.replay_lag_ms.len());
    assert_eq!(r1.t_ms.len(), r1.lag_bytes.len());
    assert!(r1.t_ms.windows(2).all(|w| w[0] < w[1]), "times must rise");
    assert_eq!(r1.state.last(), Some(&ReplicaState::Streaming));
    // An idle primary with caught-up replicas shows 0, not a growing number.
    assert_eq!(r1.replay_lag_ms.last(), Some(&Some(0)));
    assert_eq!(second.thresholds.lag_warning_ms, 5000);

    // `since_ms` returns only newer samples.
    let since = *r1.t_ms.last().expect("a sample");
    match call(
        app,
        Request::LagHistory {
            since_ms: Some(since),
        },
    )
    .await
    {
        Ok(Response::LagHistory(h)) => {
            assert!(h.nodes[1].t_ms.iter().all(|t| *t > since))
        }
        other => panic!("lag_history answered {other:?}"),
    }

    // A lag chart exports as SVG (and PNG) from the same history.
    match call(
        app,
        Request::ExportLagChart {
            node: "replica1".into(),
            format: ChartFormat::Svg,
        },
    )
    .await
    {
        Ok(Response::ExportLagChart(f)) => {
            assert!(f.samples as usize >= r1.t_ms.len(), "{} samples", f.samples);
            assert!(f.data.starts_with("<svg"));
            assert!(f.data.contains("replica1 · replay lag (s)"));
        }
        other => panic!("export_lag_chart answered {other:?}"),
    }
    let unknown = call(
        app,
        Request::ExportLagChart {
            node: "nope".into(),
            format: ChartFormat::Png,
        },
    )
    .await;
    assert_eq!(unknown.err().map(|e| e.code), Some(ErrorCode::NotFound));

    // A tick carries every node's lag in one batch.
    let batch = next_event(&mut rx, Duration::from_secs(5), |e| {
        e.lag().map(|s| s.nodes.len())
    })
    .await;
    assert_eq!(batch, Some(3));

    // A replica that goes down is reported down within a few seconds; the others still report.
    stack.sandbox.stop_node("replica2").expect("stop replica2");
    let stopped = Instant::now();
    let down = next_event(&mut rx, Duration::from_secs(10), |e| {
        let s = e.lag()?;
        s.node("replica2")
            .filter(|n| n.state == ReplicaState::Down)
            .map(|_| s.clone())
    })
    .await
    .expect("replica2 never reported down");
    eprintln!("replica2 down after {} ms", stopped.elapsed().as_millis());
    assert!(down
        .node("replica2")
        .and_then(|n| n.error.as_ref())
        .is_some());
    assert_eq!(
        down.node("replica1").map(|n| n.state),
        Some(ReplicaState::Streaming)
    );
    match call(app, Request::Overview).await {
        Ok(Response::Overview(o)) => {
            assert!(
                o.attention.iter().any(|a| a.subject == "replica2"),
                "the overview must flag the down replica: {:?}",
                o.attention
            );
        }
        other => panic!("overview answered {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_emits_events_and_time_travel_returns_the_older_row_count() {
    let stack = stack("caches").await;
    let app = &stack.app;
    let profile = Profile::load(&stack.sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    cluster
        .primary
        .execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
        .await
        .expect("create t");
    cluster
        .primary
        .execute("INSERT INTO t SELECT g, g FROM generate_series(1, 100) g")
        .await
        .expect("fill t");
    let lake = Lake::open(&profile).await.expect("lake");
    lake.create_cache(&cluster, "t_copy", "SELECT * FROM t", &["t".into()], None)
        .await
        .expect("create cache");

    // The cache appears through the RPC surface, empty.
    let caches = match call(app, Request::Caches).await {
        Ok(Response::Caches(c)) => c,
        other => panic!("caches answered {other:?}"),
    };
    let view = caches
        .iter()
        .find(|c| c.status.definition.name == "t_copy")
        .expect("t_copy listed");
    assert_eq!(view.status.state, skein_lake::CacheState::Empty);

    // A refresh returns its result and emits started/finished events.
    let mut rx = app.subscribe();
    let first = refresh(app, "t_copy", false).await;
    assert_eq!(first.result, RefreshResult::Refreshed, "{first:?}");
    assert_eq!(first.rows, Some(100));
    let snap_100 = first.snapshot_id.expect("a snapshot");
    let started = next_event(&mut rx, Duration::from_secs(5), |e| match e {
        Event::RefreshStarted { cache, force } => Some((cache.clone(), *force)),
        _ => None,
    })
    .await;
    assert_eq!(started, Some(("t_copy".to_string(), false)));
    let finished = next_event(&mut rx, Duration::from_secs(5), |e| match e {
        Event::RefreshFinished(o) => Some(o.clone()),
        _ => None,
    })
    .await
    .expect("a refresh_finished event");
    assert_eq!(finished, first);
    // The watcher then reports the cache fresh.
    let fresh = next_event(&mut rx, Duration::from_secs(10), |e| match e {
        Event::Caches(v) => v
            .iter()
            .find(|c| c.status.definition.name == "t_copy")
            .filter(|c| c.status.state == skein_lake::CacheState::Fresh && !c.refreshing)
            .map(|c| c.last_outcome.clone()),
        _ => None,
    })
    .await
    .expect("t_copy never reported fresh");
    assert_eq!(
        fresh.map(|o| o.result),
        Some(RefreshResult::Refreshed),
        "the view carries the console's last outcome"
    );

    // Unchanged source: SKIPPED, same snapshot.
    let skipped = refresh(app, "t_copy", false).await;
    assert_eq!(skipped.result, RefreshResult::Skipped, "{skipped:?}");
    assert_eq!(skipped.snapshot_id, Some(snap_100));

    // The snapshot list now holds the refresh's snapshot, with what it changed.
    let page = match call(
        app,
        Request::Snapshots {
            limit: 5,
            before: None,
        },
    )
    .await
    {
        Ok(Response::Snapshots(p)) => p,
        other => panic!("snapshots answered {other:?}"),
    };
    let SnapshotPage {
        snapshots, total, ..
    } = &page;
    assert_eq!(snapshots.first().map(|s| s.id), Some(snap_100));
    assert!(*total >= snapshots.len() as u64);
    assert!(snapshots.windows(2).all(|w| w[0].id > w[1].id));
    match call(app, Request::SnapshotChanges { id: snap_100 }).await {
        Ok(Response::SnapshotChanges(c)) => {
            let t = c
                .tables
                .iter()
                .find(|t| t.table == "main.t_copy")
                .expect("main.t_copy in the changes");
            assert!(t.created);
            assert_eq!(t.inserted, 100);
            assert_eq!(c.snapshot.author.as_deref(), Some("skein"));
        }
        other => panic!("snapshot_changes answered {other:?}"),
    }

    // The source grows: the write counters move and the watcher reports the cache stale.
    let mut rx = app.subscribe();
    let before = activity_signature(&cluster.primary, &["t".into()])
        .await
        .expect("counters");
    cluster
        .primary
        .execute("INSERT INTO t SELECT g, g FROM generate_series(101, 150) g")
        .await
        .expect("grow t");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = activity_signature(&cluster.primary, &["t".into()])
            .await
            .expect("counters");
        if now != before {
            break;
        }
        assert!(Instant::now() < deadline, "pg_stat_user_tables never moved");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    next_event(&mut rx, Duration::from_secs(15), |e| match e {
        Event::Caches(v) => v
            .iter()
            .find(|c| c.status.definition.name == "t_copy")
            .filter(|c| c.status.state == skein_lake::CacheState::Stale)
            .map(|c| assert!(c.stale_since_ms.is_some())),
        _ => None,
    })
    .await
    .expect("t_copy never reported stale after a write");

    // The next refresh writes 150 rows in a new snapshot.
    let second = refresh(app, "t_copy", false).await;
    assert_eq!(second.result, RefreshResult::Refreshed, "{second:?}");
    assert_eq!(second.rows, Some(150));
    let snap_150 = second.snapshot_id.expect("a snapshot");
    assert!(snap_150 > snap_100);

    // Time travel: the older snapshot has the older row count; latest has the new one.
    let old = travel(app, "t_copy", At::Version(snap_100))
        .await
        .expect("travel to the older snapshot");
    assert_eq!(old.rows.total, 100);
    assert_eq!(old.snapshot.id, snap_100);
    assert!(!old.latest);
    assert_eq!(old.rows.rows.len(), 10, "one page of 10");
    assert_eq!(old.rows.columns, ["id", "v"]);
    let now = travel(app, "t_copy", At::Latest).await.expect("latest");
    assert_eq!(now.rows.total, 150);
    assert!(now.latest);
    // By timestamp: an instant just after the older snapshot (whose time has µs, the page
    // carries ms) resolves to it.
    let at = chrono_like(old.snapshot.time_ms + 1);
    let by_time = travel(app, "t_copy", At::Timestamp(at.clone()))
        .await
        .expect("travel by timestamp");
    assert_eq!(
        (by_time.snapshot.id, by_time.rows.total),
        (snap_100, 100),
        "{at}"
    );

    // Schema history: the cache gains a column; the old snapshot keeps the old schema.
    assert_eq!(
        old.schema
            .iter()
            .map(|c| (c.name.as_str(), c.data_type.as_str()))
            .collect::<Vec<_>>(),
        [("id", "INTEGER"), ("v", "INTEGER")]
    );
    match call(
        app,
        Request::UpdateCache(CacheSpec {
            name: "t_copy".into(),
            query: "SELECT id, v, v * 2 AS w FROM t".into(),
            monitor: vec!["t".into()],
            ttl_seconds: None,
            key: Vec::new(),
        }),
    )
    .await
    {
        Ok(Response::UpdateCache(_)) => {}
        other => panic!("update_cache answered {other:?}"),
    }
    let widened = refresh(app, "t_copy", true).await;
    let snap_w = widened.snapshot_id.expect("snapshot");
    let now = travel(app, "t_copy", At::Latest).await.expect("latest");
    assert_eq!(
        now.schema
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["id", "v", "w"]
    );
    let again = travel(app, "t_copy", At::Version(snap_100))
        .await
        .expect("old");
    assert_eq!(again.schema.len(), 2, "the old snapshot keeps its schema");
    match call(app, Request::SnapshotChanges { id: snap_w }).await {
        Ok(Response::SnapshotChanges(c)) => {
            assert!(c
                .snapshot
                .schema_changes
                .contains(&"tables_created".to_string()))
        }
        other => panic!("snapshot_changes answered {other:?}"),
    }

    // Bad input gets a clear error with a stable code.
    let missing = travel(app, "no_such_table", At::Latest).await;
    assert_eq!(missing.map_err(|e| e.code).err(), Some(ErrorCode::NotFound));
    let gone = travel(app, "t_copy", At::Version(99_999)).await;
    assert_eq!(gone.map_err(|e| e.code).err(), Some(ErrorCode::NotFound));
    let bad = call(
        app,
        Request::TimeTravel {
            table: "t_copy".into(),
            at: At::Latest,
            limit: 0,
            offset: 0,
        },
    )
    .await;
    assert_eq!(bad.err().map(|e| e.code), Some(ErrorCode::InvalidInput));
    let unknown = call(
        app,
        Request::RefreshCache {
            name: "nope".into(),
            force: false,
        },
    )
    .await;
    assert_eq!(unknown.err().map(|e| e.code), Some(ErrorCode::NotFound));
}

#[tokio::test]
async fn without_a_profile_requests_say_how_to_open_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::with_config_dir(fast(), Some(dir.path().to_path_buf()));
    let err = app.rpc(Request::Overview).await.expect_err("no profile");
    assert_eq!(err.code, ErrorCode::NotFound);
    assert!(err.message.contains("profile"), "{}", err.message);
    match app.rpc(Request::Profiles).await {
        Ok(Response::Profiles(p)) => assert!(p.current.is_none() && p.recent.is_empty()),
        other => panic!("profiles answered {other:?}"),
    }
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\n[primary]\nurl = 7\n").expect("write");
    let err = app
        .rpc(Request::OpenProfile {
            path: bad.display().to_string(),
        })
        .await
        .expect_err("malformed profile");
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("bad.toml"), "{}", err.message);
    let err = app
        .rpc(Request::OpenProfile {
            path: "/nonexistent/profile.toml".into(),
        })
        .await
        .expect_err("missing profile");
    assert_eq!(err.code, ErrorCode::NotFound);
}

/// `YYYY-MM-DD HH:MM:SS.mmm+00` for ms since the Unix epoch.
fn chrono_like(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("a valid time")
        .format("%Y-%m-%d %H:%M:%S%.3f+00")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_jobs_run_what_the_preview_listed_one_at_a_time() {
    let stack = stack("jobs").await;
    let app = &stack.app;
    let profile = Profile::load(&stack.sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    cluster
        .primary
        .execute(
            "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 3000) g",
        )
        .await
        .expect("create big");
    let lake = Lake::open(&profile).await.expect("lake");
    lake.create_cache(
        &cluster,
        "big_copy",
        "SELECT * FROM big",
        &["big".into()],
        None,
    )
    .await
    .expect("create cache");
    // All caches together, in one commit.
    match call(app, Request::SnapshotCaches { names: vec![] }).await {
        Ok(Response::SnapshotCaches(s)) => {
            assert_eq!(
                s.caches,
                vec![skein_lake::CacheRows {
                    name: "big_copy".into(),
                    rows: 3000
                }]
            );
            assert!(s.snapshot_id.is_some() && s.lsn.contains('/'), "{s:?}");
        }
        other => panic!("snapshot_caches answered {other:?}"),
    }
    for _ in 0..3 {
        let o = refresh(app, "big_copy", true).await;
        assert_eq!(o.result, RefreshResult::Refreshed, "{o:?}");
    }

    let preview = match call(
        app,
        Request::PreviewExpire {
            target: ExpireTarget::OlderThan("2999-01-01 00:00:00".into()),
        },
    )
    .await
    {
        Ok(Response::PreviewExpire(p)) => p,
        other => panic!("preview_expire answered {other:?}"),
    };
    let versions: Vec<i64> = preview.iter().map(|s| s.id).collect();
    assert!(versions.len() >= 4, "{versions:?}");

    // Another process holds the lake's maintenance lock: the job is refused.
    let other = Lake::open(&profile).await.expect("second handle");
    let held = MaintenanceLock::acquire(other.catalog(), &other.name)
        .await
        .expect("lock");
    let refused = call(
        app,
        Request::ExpireSnapshots {
            versions: versions.clone(),
        },
    )
    .await;
    assert_eq!(refused.err().map(|e| e.code), Some(ErrorCode::Conflict));
    held.release().await;

    let mut rx = app.subscribe();
    let job = match call(
        app,
        Request::ExpireSnapshots {
            versions: versions.clone(),
        },
    )
    .await
    {
        Ok(Response::ExpireSnapshots(j)) => j,
        other => panic!("expire_snapshots answered {other:?}"),
    };
    assert_eq!(job.state, JobState::Running);
    let done = next_event(&mut rx, Duration::from_secs(30), |e| match e {
        Event::Job(j) if j.id == job.id && j.state != JobState::Running => Some(j.clone()),
        _ => None,
    })
    .await
    .expect("the job never finished");
    assert_eq!(done.state, JobState::Done, "{done:?}");
    assert_eq!(
        done.result.as_ref().map(|r| r.items),
        Some(versions.len() as u64)
    );
    match call(app, Request::Jobs).await {
        Ok(Response::Jobs(jobs)) => assert_eq!(jobs.first().map(|j| j.id), Some(job.id)),
        other => panic!("jobs answered {other:?}"),
    }
    let left = match call(
        app,
        Request::Snapshots {
            limit: 100,
            before: None,
        },
    )
    .await
    {
        Ok(Response::Snapshots(p)) => p.total,
        other => panic!("snapshots answered {other:?}"),
    };
    assert_eq!(left, 1);

    // Cleanup: the job deletes the previewed files and reclaims the previewed bytes.
    let files = match call(app, Request::PreviewDeleteFiles { orphaned: false }).await {
        Ok(Response::PreviewDeleteFiles(f)) => f,
        other => panic!("preview_delete_files answered {other:?}"),
    };
    assert!(files.len() >= 2, "{files:?}");
    let preview_bytes: u64 = files.iter().filter_map(|f| f.bytes).sum();
    let job = match call(app, Request::DeleteFiles { orphaned: false }).await {
        Ok(Response::DeleteFiles(j)) => j,
        other => panic!("delete_files answered {other:?}"),
    };
    let done = next_event(&mut rx, Duration::from_secs(30), |e| match e {
        Event::Job(j) if j.id == job.id && j.state != JobState::Running => Some(j.clone()),
        _ => None,
    })
    .await
    .expect("the cleanup never finished");
    assert_eq!(done.state, JobState::Done, "{done:?}");
    let result = done.result.expect("a result");
    assert_eq!(result.items, files.len() as u64);
    assert_eq!(result.bytes, Some(preview_bytes));
    eprintln!(
        "expired {} snapshots; cleanup deleted {} files, {preview_bytes} bytes",
        versions.len(),
        result.items
    );
    match call(app, Request::LakeStats).await {
        Ok(Response::LakeStats(s)) => {
            assert_eq!(s.snapshots, 1);
            assert_eq!(s.scheduled_files, 0);
        }
        other => panic!("lake_stats answered {other:?}"),
    }
}

async fn cache_view(app: &App, name: &str) -> Option<skein_console::rpc::CacheView> {
    match call(app, Request::Caches).await {
        Ok(Response::Caches(c)) => c.into_iter().find(|c| c.status.definition.name == name),
        other => panic!("caches answered {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caches_are_created_scheduled_paused_edited_and_deleted_from_the_console() {
    let stack = stack("lifecycle").await;
    let app = &stack.app;
    let profile = Profile::load(&stack.sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    cluster
        .primary
        .execute(
            "CREATE TABLE events AS SELECT g AS id, g % 7 AS kind FROM generate_series(1, 70) g",
        )
        .await
        .expect("create events");
    let query = "SELECT kind, count(*) AS n FROM events GROUP BY kind";
    let monitor = match call(
        app,
        Request::SuggestMonitor {
            query: query.into(),
        },
    )
    .await
    {
        Ok(Response::SuggestMonitor(t)) => t,
        other => panic!("suggest_monitor answered {other:?}"),
    };
    assert_eq!(monitor, ["events"]);
    let bad = call(
        app,
        Request::CreateCache(CacheSpec {
            name: "kinds".into(),
            query: "SELECT nope FROM events".into(),
            monitor: monitor.clone(),
            ttl_seconds: Some(2),
            key: Vec::new(),
        }),
    )
    .await;
    assert_eq!(bad.err().map(|e| e.code), Some(ErrorCode::QueryFailed));

    let mut rx = app.subscribe();
    match call(
        app,
        Request::CreateCache(CacheSpec {
            name: "kinds".into(),
            query: query.into(),
            monitor: monitor.clone(),
            ttl_seconds: Some(2),
            key: Vec::new(),
        }),
    )
    .await
    {
        Ok(Response::CreateCache(d)) => assert_eq!(d.ttl_seconds, Some(2)),
        other => panic!("create_cache answered {other:?}"),
    }
    // Never refreshed and with a TTL: the scheduler refreshes it by itself.
    let first = next_event(&mut rx, Duration::from_secs(15), |e| match e {
        Event::RefreshFinished(o) if o.cache == "kinds" => Some(o.clone()),
        _ => None,
    })
    .await
    .expect("the scheduler never refreshed the new cache");
    assert_eq!(first.result, RefreshResult::Refreshed, "{first:?}");
    assert_eq!(first.rows, Some(7));
    let view = cache_view(app, "kinds").await.expect("listed");
    assert!(view.next_run_ms.is_some(), "the next run is shown");

    // The sources change; once the TTL has passed the scheduler writes the new rows.
    cluster
        .primary
        .execute("INSERT INTO events SELECT g, 100 + g FROM generate_series(1, 3) g")
        .await
        .expect("new kinds");
    let second = next_event(&mut rx, Duration::from_secs(20), |e| match e {
        Event::RefreshFinished(o) if o.cache == "kinds" && o.result == RefreshResult::Refreshed => {
            Some(o.clone())
        }
        _ => None,
    })
    .await
    .expect("the scheduler never picked up the change");
    assert_eq!(second.rows, Some(10));
    let snap_10 = second.snapshot_id.expect("snapshot");

    // Paused: no scheduled refresh, even with changed sources and the TTL passed.
    match call(
        app,
        Request::SetCachePaused {
            name: "kinds".into(),
            paused: true,
        },
    )
    .await
    {
        Ok(Response::SetCachePaused(d)) => assert!(d.paused),
        other => panic!("set_cache_paused answered {other:?}"),
    }
    cluster
        .primary
        .execute("INSERT INTO events VALUES (1000, 1000)")
        .await
        .expect("another kind");
    // A scheduled refresh that began before the pause may still finish; let it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut rx = app.subscribe();
    let during_pause = next_event(&mut rx, Duration::from_secs(5), |e| match e {
        Event::RefreshStarted { cache, .. } if cache == "kinds" => Some(()),
        _ => None,
    })
    .await;
    assert!(during_pause.is_none(), "a paused cache was refreshed");
    let view = cache_view(app, "kinds").await.expect("listed");
    assert!(view.status.definition.paused && view.next_run_ms.is_none());

    // Edited: the new query is checked and saved.
    match call(
        app,
        Request::UpdateCache(CacheSpec {
            name: "kinds".into(),
            query: "SELECT kind FROM events WHERE kind > 3".into(),
            monitor: monitor.clone(),
            ttl_seconds: None,
            key: Vec::new(),
        }),
    )
    .await
    {
        Ok(Response::UpdateCache(d)) => {
            assert_eq!(d.query, "SELECT kind FROM events WHERE kind > 3");
            assert_eq!(d.ttl_seconds, None);
            assert!(d.paused, "editing keeps the pause");
        }
        other => panic!("update_cache answered {other:?}"),
    }

    // Deleted: gone from the list, its history still reachable by time travel.
    assert!(matches!(
        call(
            app,
            Request::DeleteCache {
                name: "kinds".into()
            }
        )
        .await,
        Ok(Response::DeleteCache)
    ));
    assert!(cache_view(app, "kinds").await.is_none());
    let old = travel(app, "kinds", At::Version(snap_10))
        .await
        .expect("time travel to before the delete");
    assert_eq!(old.rows.total, 10);
    let gone = travel(app, "kinds", At::Latest).await;
    assert_eq!(gone.err().map(|e| e.code), Some(ErrorCode::NotFound));
    let again = call(
        app,
        Request::DeleteCache {
            name: "kinds".into(),
        },
    )
    .await;
    assert_eq!(again.err().map(|e| e.code), Some(ErrorCode::NotFound));
}

/// The attention list a lag tick carries.
async fn attention_event(
    rx: &mut broadcast::Receiver<Event>,
    what: &str,
    mut ok: impl FnMut(&[skein_console::rpc::Attention]) -> bool,
) -> Vec<skein_console::rpc::Attention> {
    let mut last = Vec::new();
    let got = next_event(rx, Duration::from_secs(30), |e| {
        let list = e.attention()?;
        last = list.to_vec();
        ok(list).then(|| list.to_vec())
    })
    .await;
    got.unwrap_or_else(|| panic!("{what}: no such attention list within 30 s; last: {last:#?}"))
}

/// Attention items are recomputed every tick (a paused replica's lag in its text grows), and a
/// promoted replica is the first, critical item, with no lag and the primary's timeline + 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attention_is_live_and_a_promoted_replica_comes_first() {
    let stack = stack("promote").await;
    let app = &stack.app;
    let mut rx = app.subscribe();
    let cluster = Cluster::from_profile(&Profile::load(&stack.sandbox.profile).expect("profile"))
        .expect("cluster");

    // Paused replay with WAL to replay: the item's lag value changes from tick to tick.
    cluster.pause_replay("replica2").await.expect("pause");
    cluster
        .primary
        .execute("CREATE TABLE behind AS SELECT g FROM generate_series(1, 1000) g")
        .await
        .expect("write");
    let paused = |list: &[skein_console::rpc::Attention]| {
        list.iter()
            .find(|a| a.subject == "replica2")
            .map(|a| a.message.clone())
            .filter(|m| {
                m.starts_with("WAL replay is paused · replay lag ") && !m.ends_with(" 0 ms")
            })
    };
    let first = attention_event(&mut rx, "replica2 paused and behind", |l| {
        paused(l).is_some()
    })
    .await;
    let first = paused(&first).expect("paused item");
    let later = attention_event(&mut rx, "a later text for replica2", |l| {
        paused(l).is_some_and(|m| m != first)
    })
    .await;
    eprintln!("{first} → {:?}", paused(&later));
    cluster.resume_replay("replica2").await.expect("resume");

    // Promote replica1.
    let tli = match call(app, Request::Overview).await {
        Ok(Response::Overview(o)) => o
            .lag
            .and_then(|s| s.node("primary").and_then(|p| p.timeline_id))
            .expect("the primary's timeline"),
        other => panic!("overview answered {other:?}"),
    };
    let promoted: bool = cluster
        .node("replica1")
        .expect("replica1")
        .with_client("promoting", |c| async move {
            c.query_one("SELECT pg_promote()", &[])
                .await
                .map(|r| r.get(0))
        })
        .await
        .expect("pg_promote");
    assert!(promoted);
    let list = attention_event(&mut rx, "replica1 promoted and out of rotation", |l| {
        l.first()
            .is_some_and(|a| a.subject == "replica1" && a.message.contains("it is out of rotation"))
    })
    .await;
    let top = &list[0];
    assert_eq!(top.severity, skein_console::rpc::Severity::Critical);
    assert!(
        top.message
            .starts_with("replica1 was promoted (out of recovery since ")
            && top.message.contains(
                " UTC, when this console first saw it): it accepts writes; it is out of rotation"
            ),
        "{top:?}"
    );
    assert!(
        top.message
            .ends_with(&format!("timeline {}, the primary's {tli}", tli + 1)),
        "{top:?}"
    );
    match call(app, Request::Overview).await {
        Ok(Response::Overview(o)) => {
            assert_eq!(
                o.attention.first().map(|a| a.subject.as_str()),
                Some("replica1"),
                "{:#?}",
                o.attention
            );
            let s = o.lag.expect("a sample");
            let r1 = s.node("replica1").expect("replica1");
            assert_eq!(r1.state, ReplicaState::Promoted);
            assert_eq!(r1.timeline_id, Some(tli + 1));
            assert_eq!((r1.lag_bytes, r1.replay_lag_ms), (None, None));
        }
        other => panic!("overview answered {other:?}"),
    }
    // The chart's history holds no lag for the promoted samples: a gap, not a rising line.
    let h = history(app).await;
    let r1 = h
        .nodes
        .iter()
        .find(|n| n.name == "replica1")
        .expect("replica1");
    let promoted_points: Vec<_> = r1
        .state
        .iter()
        .zip(&r1.replay_lag_ms)
        .filter(|(s, _)| **s == ReplicaState::Promoted)
        .collect();
    assert!(!promoted_points.is_empty());
    assert!(promoted_points.iter().all(|(_, lag)| lag.is_none()));
}
