//! Certificates of a TLS sandbox, made with `rcgen`: a private certificate authority, one
//! server certificate every node presents (subject alternative names `127.0.0.1` and
//! `localhost`, so `sslmode=verify-full` passes for either), and client certificates
//! (CN = the role's name) for `cert` authentication. Keys are ECDSA P-256; every file is PEM.
//!
//! Files under `<sandbox>/tls/`:
//!
//! | file | what | mode, owner |
//! | --- | --- | --- |
//! | `ca.crt` | the CA certificate (`ssl_ca_file`, the clients' `sslrootcert`) | 0644 |
//! | `server.crt`, `server.key` | the nodes' `ssl_cert_file`, `ssl_key_file` | key 0600, server user |
//! | `ROLE.crt`, `ROLE.key` | a client certificate for the role `ROLE` | key 0600, caller |
//! | `replication.crt`, `replication.key` | the replicas' own client certificate (CN = the superuser), read by their WAL receivers | key 0600, server user |
//!
//! The CA's private key is never written: nothing signs anything after `up`.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::cluster::RunAs;
use crate::error::{Error, Result};

/// The directory of a sandbox's certificates.
pub(crate) fn tls_dir(sandbox_dir: &Path) -> PathBuf {
    sandbox_dir.join("tls")
}

/// `<tls>/<name>.crt` and `<tls>/<name>.key`.
pub(crate) fn cert_pair(sandbox_dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let dir = tls_dir(sandbox_dir);
    (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    )
}

/// Name of the replicas' own client certificate pair.
pub(crate) const REPLICATION: &str = "replication";

fn cert_err(context: &str) -> impl FnOnce(rcgen::Error) -> Error + '_ {
    move |e| Error::Certificate {
        context: context.to_owned(),
        detail: e.to_string(),
    }
}

/// Makes the CA, the server certificate, a client certificate per role in `clients`, and —
/// when `replication_user` is given — the replicas' client certificate with that CN, then
/// writes them (see the module header). Returns the CA file.
pub(crate) fn make(
    sandbox_dir: &Path,
    run_as: RunAs,
    clients: &[&str],
    replication_user: Option<&str>,
) -> Result<PathBuf> {
    let dir = tls_dir(sandbox_dir);
    std::fs::create_dir_all(&dir).map_err(Error::io(format!("creating {}", dir.display())))?;

    let mut ca_params = CertificateParams::default();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Skein sandbox CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(cert_err("generating the CA key"))?;
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key)
        .map_err(cert_err("signing the CA certificate"))?;
    let ca_file = dir.join("ca.crt");
    write_file(&ca_file, &ca.pem(), false)?;

    let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .map_err(cert_err("naming the server certificate"))?;
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.use_authority_key_identifier_extension = true;
    let server_key = KeyPair::generate().map_err(cert_err("generating the server key"))?;
    let server_cert = server
        .signed_by(&server_key, &ca)
        .map_err(cert_err("signing the server certificate"))?;
    let (crt, key) = cert_pair(sandbox_dir, "server");
    write_file(&crt, &server_cert.pem(), false)?;
    write_file(&key, &server_key.serialize_pem(), true)?;
    // PostgreSQL refuses a key that is not the server user's own with mode 0600.
    run_as.own(&key)?;

    let mut pairs: Vec<(&str, &str)> = clients.iter().map(|role| (*role, *role)).collect();
    if let Some(user) = replication_user {
        pairs.push((REPLICATION, user));
    }
    for (file_name, role) in pairs {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, role);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let key_pair = KeyPair::generate().map_err(cert_err("generating a client key"))?;
        let cert = params
            .signed_by(&key_pair, &ca)
            .map_err(cert_err("signing a client certificate"))?;
        let (crt, key) = cert_pair(sandbox_dir, file_name);
        write_file(&crt, &cert.pem(), false)?;
        write_file(&key, &key_pair.serialize_pem(), true)?;
        if file_name == REPLICATION {
            // Read by the replicas' WAL receivers and by pg_basebackup, as the server user
            // (libpq refuses a key file another user owns or others may read).
            run_as.own(&key)?;
            run_as.own(&crt)?;
        }
    }
    Ok(ca_file)
}

/// Writes a new file: mode 0600 when `private`, else 0644.
fn write_file(file: &Path, text: &str, private: bool) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(file);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if private { 0o600 } else { 0o644 })
        .open(file)
        .map_err(Error::io(format!("writing {}", file.display())))?;
    f.write_all(text.as_bytes())
        .map_err(Error::io(format!("writing {}", file.display())))
}
