//! Time travel's input against a real sandbox: malformed and time-only timestamps, times
//! outside the lake's history, unknown snapshot ids and missing tables each get an error that
//! says what was wrong and what the lake holds (never a DuckDB conversion error or its
//! "Did you mean").

use skein_core::{ErrorCode, Profile};
use skein_lake::snapshot::{parse_timestamp, travel_note, At};
use skein_lake::Lake;
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_travel_input_errors_name_the_lakes_history_and_tables() {
    // Parsing alone: the accepted forms, and what is refused.
    for ok in [
        "2026-11-22 09:14:03",
        "2026-11-22T09:14:03Z",
        "2026-11-22 09:14:03.123+00",
        "2026-11-22T10:14:03+01:00",
        "2026-11-22 09:14",
        "2026-11-22",
    ] {
        assert!(parse_timestamp(ok).is_ok(), "{ok} parses");
    }
    assert_eq!(
        parse_timestamp("2026-11-22T10:14:03+01:00").expect("offset"),
        parse_timestamp("2026-11-22 09:14:03").expect("utc")
    );
    let e = parse_timestamp("09:14:03").expect_err("a time alone");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(e.to_string().contains("without a date"), "{e}");
    assert!(e.to_string().contains("YYYY-MM-DD HH:MM:SS"), "{e}");
    for bad in [
        "yesterday",
        "2026-13-45 10:00:00",
        "2026-11-22 25:00:00",
        "",
    ] {
        let e = parse_timestamp(bad).expect_err(bad);
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{bad}");
        assert!(e.to_string().contains("RFC 3339"), "{bad}: {e}");
    }

    let sandbox = ScratchSandbox::up("lake-travel", 1)
        .await
        .expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    let lake = Lake::open(&profile).await.expect("lake");
    let before_cache = lake.snapshot_at(&At::Latest).await.expect("a snapshot");
    cluster
        .primary
        .execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 20) g")
        .await
        .expect("create t");
    lake.create_cache(&cluster, "t_copy", "SELECT * FROM t", &["t".into()], None)
        .await
        .expect("create cache");
    lake.refresh_cache(&cluster, "t_copy", true)
        .await
        .expect("refresh");
    let newest = lake.snapshot_at(&At::Latest).await.expect("newest");
    assert!(newest.id > before_cache.id);

    // A malformed timestamp is refused by every entry point as InvalidInput, not DuckDB's.
    for at in [
        At::Timestamp("09:14:03".into()),
        At::Timestamp("soon".into()),
    ] {
        let e = lake
            .rows_at("t_copy", at.clone(), 10, 0)
            .await
            .expect_err("bad timestamp");
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{at:?}: {e}");
        let e = lake.snapshot_at(&at).await.expect_err("bad timestamp");
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{at:?}: {e}");
    }

    // Before the first snapshot: says so, with the history's ends.
    let e = lake
        .snapshot_at(&At::Timestamp("2000-01-01 00:00:00".into()))
        .await
        .expect_err("before the history");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    let msg = e.to_string();
    assert!(msg.contains("before the lake's first snapshot"), "{msg}");
    assert!(
        msg.contains(&format!("to snapshot {}", newest.id)),
        "names the newest: {msg}"
    );

    // After the newest: reads the newest, and the note says so.
    let late = At::Timestamp("2999-01-01 00:00:00".into());
    let resolved = lake.snapshot_at(&late).await.expect("after the history");
    assert_eq!(resolved, newest);
    let note = travel_note(&late, &resolved, &newest).expect("a note");
    assert!(note.contains("after the lake's newest snapshot"), "{note}");
    assert!(
        travel_note(&At::Version(newest.id), &resolved, &newest).is_none(),
        "an id needs no note"
    );
    // A timestamp inside the history resolves without a note.
    let inside = At::Timestamp(
        chrono::DateTime::from_timestamp_millis(newest.time_ms)
            .expect("time")
            .format("%Y-%m-%d %H:%M:%S%.3f")
            .to_string(),
    );
    let r = lake.snapshot_at(&inside).await.expect("inside");
    assert!(r.id < newest.id || r.time_ms <= newest.time_ms);
    assert!(travel_note(&inside, &r, &newest).is_none());

    // An id the lake does not hold names the range it holds.
    let e = lake
        .snapshot_at(&At::Version(newest.id + 1000))
        .await
        .expect_err("no such id");
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert!(e.to_string().contains("runs from snapshot"), "{e}");

    // A missing table lists the tables that exist, not DuckDB's guess.
    let e = lake
        .rows_at("t_cpy", At::Latest, 10, 0)
        .await
        .expect_err("no such table");
    assert_eq!(e.code(), ErrorCode::NotFound);
    let msg = e.to_string();
    assert!(msg.contains("'t_cpy' does not exist"), "{msg}");
    assert!(msg.contains("main.t_copy"), "lists the tables: {msg}");
    assert!(!msg.contains("Did you mean"), "{msg}");
    let e = lake
        .columns_at("t_cpy", At::Latest)
        .await
        .expect_err("no such table");
    assert!(e.to_string().contains("main.t_copy"), "{e}");
    // A table that exists now but not at an older snapshot: named at that snapshot.
    let e = lake
        .rows_at("t_copy", At::Version(before_cache.id), 10, 0)
        .await
        .expect_err("not yet created");
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert!(
        e.to_string()
            .contains(&format!("does not exist at snapshot {}", before_cache.id)),
        "{e}"
    );
    // And the table reads where it exists.
    let page = lake
        .rows_at("t_copy", At::Version(newest.id), 5, 0)
        .await
        .expect("reads");
    assert_eq!(page.total, 20);
}
