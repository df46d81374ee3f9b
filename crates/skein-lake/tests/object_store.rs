//! The lake on a real three-node Garage cluster (`s3://lake/data/`, replication factor 3):
//! the store as the lake handle reports it; caches written as objects that a stock DuckDB
//! (its own `httpfs` and a secret of its own, not Skein's code) reads row for row; every bad
//! setting refused when the lake is opened, naming the endpoint and bucket and never the
//! secret; one node stopped — the lake stays readable and writable; the whole store stopped —
//! lake operations fail naming the endpoint, and the same handle works again once it is back;
//! deleting orphaned files refused at a bucket's root.

use skein_core::{ErrorCode, Profile};
use skein_lake::snapshot::At;
use skein_lake::{Lake, RefreshResult};
use skein_pg::Cluster;
use skein_sandbox::ScratchSandbox;

/// `aws_access_key_id` and `aws_secret_access_key` of the sandbox's credentials file.
fn key_pair(profile: &Profile) -> (String, String) {
    let storage = profile.lake.storage.as_ref().expect("storage");
    let text =
        std::fs::read_to_string(storage.credentials_file.as_ref().expect("file")).expect("read");
    let get = |k: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(k)
                    .map(|v| v.trim_start_matches([' ', '=']).trim().to_owned())
            })
            .expect(k)
    };
    (get("aws_access_key_id"), get("aws_secret_access_key"))
}

/// A profile file next to the sandbox's with `edit` applied to its text.
fn variant(profile_path: &std::path::Path, name: &str, edit: impl Fn(String) -> String) -> Profile {
    let text = std::fs::read_to_string(profile_path).expect("profile");
    let path = profile_path.with_file_name(format!("{name}.toml"));
    std::fs::write(&path, edit(text)).expect("write");
    Profile::load(&path).expect("a valid profile")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lake_on_a_three_node_garage_cluster() {
    let mut sandbox = ScratchSandbox::up_object_store("lake-s3", 1)
        .await
        .expect("sandbox up");
    let profile = Profile::load(&sandbox.profile).expect("profile");
    assert_eq!(profile.lake.data_path, "s3://lake/data/");
    let cluster = Cluster::from_profile(&profile).expect("cluster");
    let lake = Lake::open(&profile).await.expect("lake");
    let store = lake.store.clone().expect("an object store");
    let garage = sandbox.garage.clone().expect("garage");
    assert_eq!(garage.nodes.len(), 3);
    assert_eq!(
        (
            store.endpoint.as_str(),
            store.bucket.as_str(),
            store.prefix.as_str()
        ),
        (garage.endpoint().as_str(), "lake", "data/")
    );
    assert!(
        store.credentials.ends_with("aws-credentials [sandbox]"),
        "{}",
        store.credentials
    );

    // Two caches, written as objects.
    cluster
        .primary
        .execute("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g")
        .await
        .expect("source");
    lake.create_cache(
        &cluster,
        "big_copy",
        "SELECT * FROM big",
        &["big".into()],
        None,
    )
    .await
    .expect("cache");
    lake.create_cache(
        &cluster,
        "big_count",
        "SELECT count(*) AS n FROM big",
        &["big".into()],
        None,
    )
    .await
    .expect("cache");
    for c in ["big_copy", "big_count"] {
        let o = lake
            .refresh_cache(&cluster, c, false)
            .await
            .expect("refresh");
        assert_eq!(o.result, RefreshResult::Refreshed, "{o:?}");
    }
    let files = lake.compaction_preview().await.expect("files");
    let copy = files
        .iter()
        .find(|t| t.table == "main.big_copy")
        .expect("big_copy's files");
    assert!(copy.data_files >= 1 && copy.bytes > 0, "{copy:?}");

    // A stock DuckDB with a secret of its own reads every cache Skein wrote.
    let (key_id, secret) = key_pair(&profile);
    let secret_sql = secret.clone();
    let conninfo = lake.catalog().duckdb_conninfo();
    let endpoint = garage.endpoint();
    let counts = tokio::task::spawn_blocking(move || {
        let c = duckdb::Connection::open_in_memory().expect("duckdb");
        c.execute_batch(&format!(
            "LOAD ducklake; LOAD postgres; LOAD httpfs; \
             CREATE SECRET g (TYPE s3, KEY_ID '{key_id}', SECRET '{secret_sql}', ENDPOINT '{endpoint}', \
             URL_STYLE 'path', USE_SSL false, REGION 'garage'); \
             ATTACH 'ducklake:postgres:{conninfo}' AS stock (DATA_PATH 's3://lake/data/', READ_ONLY)"
        ))
        .expect("a stock DuckDB attaches the lake");
        let n = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).expect(sql);
        (
            n("SELECT count(*) FROM stock.main.big_copy"),
            n("SELECT count(DISTINCT v) FROM stock.main.big_copy"),
            n("SELECT n FROM stock.main.big_count"),
        )
    })
    .await
    .expect("reader");
    assert_eq!(counts, (20000, 20000, 20000));

    // Bad settings fail when the lake is opened, naming what is wrong and never the secret.
    let profile_path = sandbox.profile.clone();
    let p = &profile_path;
    let wrong_id = variant(p, "wrong-id", |t| {
        t.replace("key_id = \"GK", "key_id = \"GKx")
    });
    let e = Lake::open(&wrong_id).await.expect_err("an unknown key id");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(
        e.to_string().contains("no secret key for access key GKx"),
        "{e}"
    );
    let bad_file = sandbox.dir.join("bad-credentials");
    let good = std::fs::read_to_string(
        profile
            .lake
            .storage
            .as_ref()
            .and_then(|s| s.credentials_file.clone())
            .expect("file"),
    )
    .expect("read");
    std::fs::write(&bad_file, good.replace(&secret, "not-the-secret")).expect("write");
    std::fs::set_permissions(
        &bad_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    let bad_secret = variant(p, "bad-secret", |t| {
        t.lines()
            .map(|l| {
                if l.starts_with("credentials_file") {
                    format!("credentials_file = \"{}\"", bad_file.display())
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    let e = Lake::open(&bad_secret)
        .await
        .expect_err("a wrong secret key");
    assert_eq!(e.code(), ErrorCode::AuthFailed, "{e}");
    let text = e.to_string();
    assert!(
        text.contains(&format!(
            "the store at {} refused the credentials",
            garage.endpoint()
        )),
        "{text}"
    );
    assert!(
        !text.contains("not-the-secret") && !text.contains(&secret),
        "{text}"
    );
    let no_bucket = variant(p, "no-bucket", |t| {
        t.replace("s3://lake/data/", "s3://nobucket/data/")
    });
    let e = Lake::open(&no_bucket).await.expect_err("a missing bucket");
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    assert!(
        e.to_string().contains("bucket nobucket does not exist at"),
        "{e}"
    );
    let pg_port = sandbox.port("primary").expect("port");
    let not_s3 = variant(p, "not-s3", |t| {
        t.replace(
            &format!("endpoint = \"{}\"", garage.endpoint()),
            &format!("endpoint = \"127.0.0.1:{pg_port}\""),
        )
    });
    let e = Lake::open(&not_s3)
        .await
        .expect_err("an endpoint that is not S3");
    assert_eq!(e.code(), ErrorCode::ConnectionRefused, "{e}");
    assert!(
        e.to_string().contains(&format!(
            "127.0.0.1:{pg_port} does not answer as an S3 store"
        )),
        "{e}"
    );

    // One node down: 2 of 3 still make a quorum — reads and writes go on.
    sandbox.stop_store_node("garage3").expect("stop garage3");
    cluster
        .primary
        .execute("UPDATE big SET v = 'changed' WHERE id <= 10")
        .await
        .expect("change");
    let o = lake
        .refresh_cache(&cluster, "big_copy", false)
        .await
        .expect("refresh with a node down");
    assert_eq!(o.result, RefreshResult::Refreshed);
    let page = lake
        .rows_at("big_copy", At::Latest, 5, 0)
        .await
        .expect("read with a node down");
    assert_eq!(page.total, 20000);
    sandbox.start_store_node("garage3").expect("start garage3");
    sandbox
        .wait_store_healthy(std::time::Duration::from_secs(60))
        .expect("the store healthy again");

    // The whole store down: lake operations fail naming the endpoint; monitoring does not
    // depend on it; once the store is back the same handle works again.
    for n in ["garage1", "garage2", "garage3"] {
        sandbox.stop_store_node(n).expect("stop");
    }
    cluster
        .primary
        .execute("UPDATE big SET v = 'again' WHERE id <= 10")
        .await
        .expect("change");
    let o = lake
        .refresh_cache(&cluster, "big_copy", false)
        .await
        .expect("an outcome");
    assert_eq!(o.result, RefreshResult::Error, "{o:?}");
    assert!(
        o.message
            .contains(&format!("the object store at {} failed", garage.endpoint())),
        "{}",
        o.message
    );
    assert!(
        o.message.ends_with("the previous contents are unchanged"),
        "{}",
        o.message
    );
    // A new handle cannot open the lake (its probe fails), naming the endpoint.
    let e = Lake::open(&profile).await.expect_err("no store to open");
    assert_eq!(e.code(), ErrorCode::ConnectionRefused, "{e}");
    assert!(
        e.to_string().contains(&format!(
            "the object store at {} does not answer",
            garage.endpoint()
        )),
        "{e}"
    );
    // The open handle still reads what it has read (DuckDB keeps the bytes of data files it
    // read, and a data file never changes): the same rows, not an error.
    assert_eq!(
        lake.rows_at("big_copy", At::Latest, 5, 0)
            .await
            .expect("already read")
            .total,
        20000
    );
    assert!(
        cluster.primary.execute("SELECT 1").await.is_ok(),
        "PostgreSQL does not depend on the store"
    );
    for n in ["garage1", "garage2", "garage3"] {
        sandbox.start_store_node(n).expect("start");
    }
    sandbox
        .wait_store_healthy(std::time::Duration::from_secs(60))
        .expect("the store healthy again");
    let o = lake
        .refresh_cache(&cluster, "big_copy", false)
        .await
        .expect("refresh once the store is back");
    assert_eq!(o.result, RefreshResult::Refreshed, "{o:?}");
    assert_eq!(
        lake.rows_at("big_copy", At::Latest, 5, 0)
            .await
            .expect("read again")
            .total,
        20000
    );

    // A lake at a bucket's root may not delete orphaned files: every other object would go.
    cluster
        .primary
        .execute("CREATE DATABASE skein_lake_root")
        .await
        .expect("a catalog of its own");
    let root = variant(p, "root", |t| {
        t.replace("s3://lake/data/", "s3://lake/")
            .replace("dbname=skein_lake\"", "dbname=skein_lake_root\"")
    });
    let at_root = Lake::open(&root)
        .await
        .expect("a lake at the bucket's root");
    let e = at_root
        .delete_orphaned_files(true)
        .await
        .expect_err("refused at the root");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(e.to_string().contains("is a bucket's root"), "{e}");
}
