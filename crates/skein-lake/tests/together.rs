//! A consistent snapshot of two caches against a real sandbox, verified by a heartbeat: a
//! writer bumps a counter in both source tables in one transaction, many times a second,
//! while the caches are read. Read together, both caches hold the same heartbeat; refreshed
//! one after the other (the control), they do not.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use skein_core::Profile;
use skein_lake::snapshot::At;
use skein_lake::{CacheState, Lake};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

async fn heartbeat(lake: &Lake, table: &str, at: i64) -> i64 {
    let rows = lake
        .rows_at(table, At::Version(at), 1, 0)
        .await
        .expect("read the cache");
    rows.rows[0][0].as_i64().expect("a heartbeat")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caches_snapshotted_together_reflect_the_same_point_of_the_primary() {
    let sandbox = ScratchSandbox::up("lake-together", 1)
        .await
        .expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    let lake = Lake::open(&profile).await.expect("lake");
    for t in ["hb_a", "hb_b"] {
        cluster
            .primary
            .execute(&format!(
                "CREATE TABLE {t} AS SELECT 1 AS id, 0::bigint AS hb"
            ))
            .await
            .expect("create heartbeat table");
    }
    // The first cache's query takes 0.4 s, so the writer commits many times between the
    // first and the second cache's read.
    lake.create_cache(
        &cluster,
        "a_copy",
        "SELECT hb FROM hb_a CROSS JOIN pg_sleep(0.4)",
        &["hb_a".into()],
        None,
    )
    .await
    .expect("cache a");
    lake.create_cache(
        &cluster,
        "b_copy",
        "SELECT hb FROM hb_b",
        &["hb_b".into()],
        None,
    )
    .await
    .expect("cache b");

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let primary = cluster.primary.clone();
        tokio::spawn(async move {
            let mut beats = 0u64;
            while !stop.load(Ordering::Relaxed) {
                primary
                    .execute(
                        "WITH a AS (UPDATE hb_a SET hb = hb + 1 RETURNING hb) \
                         UPDATE hb_b SET hb = (SELECT hb FROM a)",
                    )
                    .await
                    .expect("heartbeat");
                beats += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            beats
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Control: one after the other, the second cache sees later heartbeats.
    let a = lake
        .refresh_cache(&cluster, "a_copy", true)
        .await
        .expect("refresh a");
    let b = lake
        .refresh_cache(&cluster, "b_copy", true)
        .await
        .expect("refresh b");
    let (ha, hb) = (
        heartbeat(&lake, "a_copy", a.snapshot_id.expect("snapshot a")).await,
        heartbeat(&lake, "b_copy", b.snapshot_id.expect("snapshot b")).await,
    );
    assert!(
        hb > ha,
        "the control must see the writer move ({ha} vs {hb})"
    );

    // Together: one snapshot of the source, one lake commit.
    let together = lake
        .snapshot_caches(&cluster, &["a_copy".into(), "b_copy".into()])
        .await
        .expect("snapshot together");
    stop.store(true, Ordering::Relaxed);
    let beats = writer.await.expect("writer");
    let snap = together.snapshot_id.expect("one snapshot");
    let (ta, tb) = (
        heartbeat(&lake, "a_copy", snap).await,
        heartbeat(&lake, "b_copy", snap).await,
    );
    eprintln!(
        "together at {} from {}: heartbeat {ta} in both ({beats} beats written; control {ha} vs {hb}); {} ms",
        together.lsn, together.served_by, together.duration_ms
    );
    assert_eq!(ta, tb, "both caches must hold the same heartbeat");
    assert!(ta > hb, "the snapshot is newer than the control");
    assert_eq!(
        together
            .caches
            .iter()
            .map(|c| (c.name.as_str(), c.rows))
            .collect::<Vec<_>>(),
        [("a_copy", 1), ("b_copy", 1)]
    );
    assert!(together.lsn.contains('/'), "an LSN: {}", together.lsn);

    // One commit, with the LSN and a message; each cache's last refresh points at it.
    let s = lake
        .snapshots(1)
        .await
        .expect("snapshots")
        .pop()
        .expect("a snapshot");
    assert_eq!(s.id, snap);
    assert_eq!(s.author.as_deref(), Some("skein"));
    assert_eq!(
        s.commit_message.as_deref(),
        Some(
            format!(
                "snapshot caches a_copy, b_copy together at {}",
                together.lsn
            )
            .as_str()
        )
    );
    assert!(s
        .commit_extra_info
        .as_deref()
        .is_some_and(|x| x.contains(&together.lsn)));
    for st in lake.cache_statuses(&cluster).await.expect("statuses") {
        assert_eq!(
            st.last_refresh.as_ref().and_then(|r| r.snapshot_id),
            Some(snap),
            "{}",
            st.definition.name
        );
        // The writer stopped after the snapshot's fingerprint: its last beats make the caches
        // stale, never wrongly fresh.
        assert_ne!(st.state, CacheState::Empty);
    }
}
