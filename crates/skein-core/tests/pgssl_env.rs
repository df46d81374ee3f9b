//! libpq's environment variables fill what a connection string leaves out, and the string wins
//! where it says something. One test in its own binary: it sets process-wide variables.

use skein_core::conninfo::parse;
use skein_core::tls::{RootCert, SslMode, Verification};

#[test]
fn pgssl_variables_fill_what_the_string_leaves_out() {
    let dir = tempfile::tempdir().expect("tmp");
    // No ~/.postgresql defaults may leak in from the machine running the test.
    std::env::set_var("HOME", dir.path());
    std::env::set_var("PGSSLMODE", "verify-ca");
    std::env::set_var("PGSSLROOTCERT", "/etc/skein/ca.crt");
    std::env::set_var("PGSSLCERT", "/etc/skein/client.crt");
    std::env::set_var("PGSSLKEY", "/etc/skein/client.key");

    let info = parse("host=db.internal user=mon dbname=app").expect("parse");
    assert_eq!(info.tls.mode, SslMode::VerifyCa);
    assert_eq!(
        info.tls.root_cert,
        Some(RootCert::File("/etc/skein/ca.crt".into()))
    );
    assert_eq!(
        info.tls.key.as_deref(),
        Some(std::path::Path::new("/etc/skein/client.key"))
    );
    assert_eq!(info.tls.verification(), Verification::Chain);

    // The string's own keys win over the variables.
    let info = parse("postgresql://mon@db.internal/app?sslmode=disable").expect("parse");
    assert_eq!(info.tls.mode, SslMode::Disable);
    assert_eq!(
        info.config.get_ssl_mode(),
        tokio_postgres::config::SslMode::Disable
    );

    // A bad variable is named like a bad key.
    std::env::set_var("PGSSLMODE", "sometimes");
    let err = parse("host=db.internal")
        .expect_err("bad PGSSLMODE")
        .to_string();
    assert!(err.contains("sometimes"), "{err}");

    // libpq's default files apply when present: ~/.postgresql/root.crt.
    for v in ["PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY"] {
        std::env::remove_var(v);
    }
    std::fs::create_dir_all(dir.path().join(".postgresql")).expect("mkdir");
    std::fs::write(dir.path().join(".postgresql/root.crt"), "x").expect("write");
    let info = parse("host=db.internal sslmode=require").expect("parse");
    assert_eq!(
        info.tls.root_cert,
        Some(RootCert::File(dir.path().join(".postgresql/root.crt")))
    );
    // …and, as in libpq, make `require` check the chain.
    assert_eq!(info.tls.verification(), Verification::Chain);
}
