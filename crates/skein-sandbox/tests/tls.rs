//! TLS sandboxes against real servers: certificates of the sandbox's own CA, `hostssl`-only
//! `pg_hba.conf`, replicas streaming over TLS, client-certificate authentication, and the
//! profile's URLs. Each connection is tried two ways: through Skein's own client
//! (`skein_core::conninfo::connect`, rustls) and through libpq (`psql`, what DuckDB's
//! attachments use). Every sandbox is torn down when its test ends, pass or fail.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;
use std::time::{Duration, Instant};

use skein_core::{ErrorCode, Profile};
use skein_sandbox::{
    ProfileRole, Sandbox, SandboxSecurity, ScratchSandbox, DEMO_DATABASE, MONITOR_ROLE, SUPERUSER,
};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const DEADLINE: Duration = Duration::from_secs(20);

/// `conninfo` plus the role's password (from the sandbox's password file).
fn with_password(sandbox: &Sandbox, conninfo: String, user: &str) -> TestResult<String> {
    Ok(format!(
        "{conninfo} password={} connect_timeout=5",
        sandbox.password_of(user)?
    ))
}

/// Runs `SELECT …` through psql (libpq) with `conninfo`; Ok(stdout) or Err(stderr).
fn psql(conninfo: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args(["-X", "-At", "-d", conninfo, "-c", sql])
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", "/nonexistent")
        .env("PGCONNECT_TIMEOUT", "5")
        .output()
        .map_err(|e| format!("running psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// The error of a connection that must fail through Skein's client.
async fn refused(conninfo: &str) -> skein_core::Error {
    match skein_core::conninfo::connect(conninfo).await {
        Ok(_) => panic!("the connection succeeded but must fail"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_sandbox_takes_verified_tls_only() -> TestResult {
    let security = SandboxSecurity {
        tls: true,
        ..Default::default()
    };
    let sandbox = ScratchSandbox::up_with("tls-only", 1, security).await?;
    let ca = sandbox
        .ca_file
        .clone()
        .expect("a TLS sandbox records its CA");
    assert!(sandbox.tls && !sandbox.client_cert);
    assert_eq!(ca, sandbox.dir.join("tls/ca.crt"));
    let saved = Sandbox::open(&sandbox.dir)?;
    assert!(saved.tls, "sandbox.json records TLS");
    assert_eq!(saved.ca_file.as_deref(), Some(ca.as_path()));

    // The server's key: the server user's own, readable by nobody else.
    let key = std::fs::metadata(sandbox.dir.join("tls/server.key"))?;
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    let data = std::fs::metadata(sandbox.data_dir("primary"))?;
    assert_eq!(
        key.uid(),
        data.uid(),
        "server.key belongs to the server user"
    );

    // Every URL of the profile checks the server's certificate against the sandbox's CA.
    let profile = Profile::load(&sandbox.profile)?;
    let ca_s = ca.display().to_string();
    for url in profile
        .nodes()
        .map(|n| n.url.as_str())
        .chain([profile.lake.catalog.as_str()])
    {
        assert!(url.contains("sslmode=verify-full"), "{url}");
        assert!(url.contains(&format!("sslrootcert={ca_s}")), "{url}");
        assert!(url.contains("user=postgres"), "{url}");
    }

    // verify-full with the CA: encrypted, through Skein's client and through libpq.
    let good = with_password(
        &sandbox,
        sandbox.conninfo("primary", DEMO_DATABASE),
        SUPERUSER,
    )?;
    let client = skein_core::conninfo::connect(&good).await?;
    let ssl: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await?
        .get(0);
    assert!(ssl, "the session is encrypted");
    assert_eq!(
        psql(
            &good,
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ),
        Ok("t".into())
    );
    // localhost is on the certificate too.
    let by_name = good.replace("host=127.0.0.1", "host=localhost");
    skein_core::conninfo::connect(&by_name).await?;

    // The replica streams over TLS.
    let started = Instant::now();
    loop {
        let rows = client
            .query(
                "SELECT s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) \
                 WHERE r.application_name = 'replica1' AND r.state = 'streaming'",
                &[],
            )
            .await?;
        if let Some(row) = rows.first() {
            assert!(row.get::<_, bool>(0), "replica1's WAL sender is encrypted");
            break;
        }
        assert!(started.elapsed() < DEADLINE, "replica1 never streamed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let replica = with_password(
        &sandbox,
        sandbox.conninfo("replica1", DEMO_DATABASE),
        SUPERUSER,
    )?;
    let r = skein_core::conninfo::connect(&replica).await?;
    let in_recovery: bool = r.query_one("SELECT pg_is_in_recovery()", &[]).await?.get(0);
    assert!(in_recovery);

    // Plain TCP is refused, for sessions and for replication.
    let plain = good.replace("sslmode=verify-full", "sslmode=disable");
    let e = refused(&plain).await;
    assert_eq!(e.code(), ErrorCode::Tls, "{e}");
    let m = e.to_string();
    assert!(
        m.contains("no encryption") && m.contains("sslmode"),
        "names the cause and the fix: {m}"
    );
    let libpq = psql(&plain, "SELECT 1").expect_err("libpq without TLS is refused");
    assert!(
        libpq.contains("pg_hba.conf rejects connection") && libpq.contains("no encryption"),
        "{libpq}"
    );
    let replication = psql(&format!("{plain} replication=database"), "IDENTIFY_SYSTEM")
        .expect_err("replication without TLS is refused");
    assert!(replication.contains("no encryption"), "{replication}");

    // A CA that did not sign the server's certificate.
    let wrong_ca = good.replace(&ca_s, "/etc/ssl/certs/ca-certificates.crt");
    let e = refused(&wrong_ca).await;
    assert_eq!(e.code(), ErrorCode::Tls, "{e}");
    let m = e.to_string();
    assert!(
        m.contains("not signed by a trusted CA") && m.contains("sslrootcert"),
        "{m}"
    );
    let libpq = psql(&wrong_ca, "SELECT 1").expect_err("libpq with the wrong CA fails");
    assert!(libpq.contains("certificate verify failed"), "{libpq}");

    // A host name the certificate does not list (reached at the right address).
    let wrong_name = good.replace(
        "host=127.0.0.1",
        "host=db.not-on-the-certificate.invalid hostaddr=127.0.0.1",
    );
    let e = refused(&wrong_name).await;
    assert_eq!(e.code(), ErrorCode::Tls, "{e}");
    let m = e.to_string();
    assert!(
        m.contains("not valid for host") && m.contains("db.not-on-the-certificate.invalid"),
        "{m}"
    );
    let libpq = psql(&wrong_name, "SELECT 1").expect_err("libpq with a wrong name fails");
    assert!(
        libpq.contains("does not match host name")
            && libpq.contains("db.not-on-the-certificate.invalid"),
        "{libpq}"
    );

    // Passwords still matter under TLS.
    let e = refused(&good.replace("password=", "password=wrong")).await;
    assert_eq!(e.code(), ErrorCode::AuthFailed, "{e}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_replace_passwords() -> TestResult {
    let security = SandboxSecurity {
        tls: true,
        client_cert: true,
        profile_role: ProfileRole::Monitor,
    };
    let sandbox = ScratchSandbox::up_with("tls-cert", 1, security).await?;
    assert!(sandbox.client_cert);
    assert_eq!(sandbox.profile_role, ProfileRole::Monitor);

    // The profile's URLs carry the monitoring role's certificate and key.
    let profile = Profile::load(&sandbox.profile)?;
    let (crt, key) = sandbox.client_cert_files(MONITOR_ROLE);
    for url in profile
        .nodes()
        .map(|n| n.url.as_str())
        .chain([profile.lake.catalog.as_str()])
    {
        assert!(url.contains(&format!("user={MONITOR_ROLE}")), "{url}");
        assert!(url.contains(&format!("sslcert={}", crt.display())), "{url}");
        assert!(url.contains(&format!("sslkey={}", key.display())), "{url}");
    }
    let key_mode = std::fs::metadata(&key)?.permissions().mode() & 0o777;
    assert_eq!(key_mode, 0o600, "the client key is private");

    // No password anywhere: the certificate is the credential.
    for (node, user) in [
        ("primary", MONITOR_ROLE),
        ("replica1", MONITOR_ROLE),
        ("primary", SUPERUSER),
    ] {
        let conninfo = sandbox.conninfo_as(node, DEMO_DATABASE, user);
        assert!(!conninfo.contains("password"));
        let client = skein_core::conninfo::connect(&conninfo).await?;
        let who: String = client
            .query_one("SELECT current_user::text", &[])
            .await?
            .get(0);
        assert_eq!(who, user);
        assert_eq!(
            psql(&conninfo, "SELECT current_user"),
            Ok(user.to_owned()),
            "libpq with {user}'s certificate on {node}"
        );
    }

    // The replica authenticates with its own certificate and streams.
    let primary =
        skein_core::conninfo::connect(&sandbox.conninfo("primary", DEMO_DATABASE)).await?;
    let started = Instant::now();
    while primary
        .query(
            "SELECT 1 FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) \
             WHERE r.state = 'streaming' AND s.ssl AND s.client_dn = '/CN=postgres'",
            &[],
        )
        .await?
        .is_empty()
    {
        assert!(
            started.elapsed() < DEADLINE,
            "replica1 never streamed with its certificate"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Without a certificate, or with another role's, the server refuses, and says why.
    let plain_tls = format!(
        "host=127.0.0.1 port={} user={MONITOR_ROLE} dbname={DEMO_DATABASE} sslmode=verify-full sslrootcert={}",
        sandbox.port("primary").unwrap_or(0),
        sandbox.ca_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
    );
    let e = refused(&format!("{plain_tls} password=anything")).await;
    let m = e.to_string();
    assert!(
        m.contains("client certificate") && m.contains("sslcert"),
        "{m}"
    );
    let someone_else = sandbox
        .conninfo_as("primary", DEMO_DATABASE, MONITOR_ROLE)
        .replace(&format!("user={MONITOR_ROLE}"), "user=postgres");
    let e = refused(&someone_else).await;
    let m = e.to_string();
    assert!(
        m.contains("certificate authentication failed") && m.contains("CN"),
        "{m}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_sandbox_stays_plain() -> TestResult {
    let sandbox = ScratchSandbox::up("tls-plain", 0).await?;
    assert!(!sandbox.tls && sandbox.ca_file.is_none() && !sandbox.client_cert);
    assert_eq!(sandbox.profile_role, ProfileRole::Superuser);
    assert!(!sandbox.dir.join("tls").exists());
    let profile = Profile::load(&sandbox.profile)?;
    assert_eq!(
        profile.primary.url,
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=tpch",
            sandbox.port("primary").unwrap_or(0)
        )
    );
    // Unencrypted connections work as before; the monitoring role exists here too.
    let conninfo = with_password(
        &sandbox,
        format!(
            "{} sslmode=disable",
            sandbox.conninfo("primary", DEMO_DATABASE)
        ),
        SUPERUSER,
    )?;
    let client = skein_core::conninfo::connect(&conninfo).await?;
    let monitor: bool = client
        .query_one(
            "SELECT pg_has_role($1, 'pg_monitor', 'USAGE') AND NOT rolsuper FROM pg_roles WHERE rolname = $1",
            &[&MONITOR_ROLE],
        )
        .await?
        .get(0);
    assert!(monitor, "{MONITOR_ROLE} has pg_monitor and is no superuser");
    Ok(())
}

#[tokio::test]
async fn client_certificates_need_tls() {
    let e = ScratchSandbox::up_with(
        "tls-bad",
        0,
        SandboxSecurity {
            tls: false,
            client_cert: true,
            profile_role: ProfileRole::Superuser,
        },
    )
    .await
    .expect_err("client certificates without TLS are refused");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(e.to_string().contains("--tls"), "{e}");
}

/// A cascading replica of a TLS sandbox with client certificates: its base backup is taken
/// from replica1 over TLS, and it streams from replica1 over TLS with the replication
/// certificate; `Sandbox::open` reads its upstream back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cascading_replica_streams_from_its_upstream_over_tls() -> TestResult {
    let security = SandboxSecurity {
        tls: true,
        client_cert: true,
        profile_role: ProfileRole::Superuser,
    };
    let sandbox = ScratchSandbox::up_cascade(
        "tls-cascade",
        2,
        vec!["replica2=replica1".parse()?],
        security,
    )
    .await?;
    let reopened = Sandbox::open(&sandbox.dir)?;
    assert_eq!(reopened.upstream_of("replica1"), Some("primary"));
    assert_eq!(reopened.upstream_of("replica2"), Some("replica1"));
    assert_eq!(reopened.upstream_of("primary"), None);

    let replica1 =
        skein_core::conninfo::connect(&sandbox.conninfo("replica1", DEMO_DATABASE)).await?;
    let started = Instant::now();
    while replica1
        .query(
            "SELECT 1 FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) \
             WHERE r.application_name = 'replica2' AND r.state = 'streaming' AND s.ssl \
             AND s.client_dn = '/CN=postgres'",
            &[],
        )
        .await?
        .is_empty()
    {
        assert!(
            started.elapsed() < DEADLINE,
            "replica2 never streamed from replica1 over TLS"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let slot: String = replica1
        .query_one(
            "SELECT slot_name::text FROM pg_replication_slots WHERE active",
            &[],
        )
        .await?
        .get(0);
    assert_eq!(slot, "replica2", "replica2's slot is on replica1");
    let primary =
        skein_core::conninfo::connect(&sandbox.conninfo("primary", DEMO_DATABASE)).await?;
    let names: Vec<String> = primary
        .query(
            "SELECT application_name FROM pg_stat_replication ORDER BY 1",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, ["replica1"], "the primary feeds replica1 only");
    Ok(())
}
