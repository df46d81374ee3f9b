//! One TLS setup for every PostgreSQL connection Skein opens, with libpq's semantics and names.
//!
//! The connector is rustls (through `tokio-postgres-rustls`, with the `ring` provider): pure
//! Rust, so a build does not depend on the machine's OpenSSL, and it checks certificate
//! revocation lists (`sslcrl`) natively. What each `sslmode` checks, as in libpq:
//!
//! | sslmode     | encrypts               | verifies the server certificate                  |
//! |-------------|------------------------|--------------------------------------------------|
//! | disable     | never                  | —                                                |
//! | allow       | when the server offers | no (tried TLS-first, unlike libpq's plain-first) |
//! | prefer      | when the server offers | no                                               |
//! | require     | always                 | chain only, when a root certificate is present   |
//! | verify-ca   | always                 | chain against `sslrootcert`                      |
//! | verify-full | always                 | chain and that the certificate names the host    |
//!
//! `sslrootcert=system` uses the operating system's trusted roots and, as in libpq, requires
//! `verify-full`. Defaults, as libpq's: `~/.postgresql/root.crt`, `postgresql.crt` and
//! `postgresql.key` when they exist. Client keys must be unencrypted and private (0600, or
//! 0640 when owned by root).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, UnixTime,
};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The connector every pool and connection uses (cheap to clone).
pub type MakeTls = tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`. Serialised as libpq spells it (`verify-full`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Plain TCP only.
    Disable,
    /// TLS when the server offers it (libpq tries plain first; Skein tries TLS first).
    Allow,
    /// TLS when the server offers it, no certificate check (libpq's default).
    Prefer,
    /// TLS always; the certificate chain is checked only when a root certificate is present.
    Require,
    /// TLS always, the chain checked against `sslrootcert`.
    VerifyCa,
    /// TLS always, the chain checked and the certificate must name the host.
    VerifyFull,
}

impl SslMode {
    /// libpq's spelling.
    pub fn word(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Parses libpq's spelling.
    ///
    /// Errors: [`Error::Conninfo`] naming the six values.
    pub fn parse(s: &str) -> Result<SslMode> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(Error::Conninfo(format!(
                    "sslmode `{other}` is not one of libpq's: disable, allow, prefer, require, verify-ca, verify-full"
                )))
            }
        })
    }
}

/// Where trusted root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file of CA certificates (`sslrootcert=/path`).
    File(PathBuf),
    /// The operating system's trusted roots (`sslrootcert=system`).
    System,
}

/// The TLS part of a connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// `sslmode` (default `prefer`).
    pub mode: SslMode,
    /// `sslrootcert`, or `~/.postgresql/root.crt` when that exists.
    pub root_cert: Option<RootCert>,
    /// `sslcert`: the client certificate (PEM), or `~/.postgresql/postgresql.crt` when it exists.
    pub cert: Option<PathBuf>,
    /// `sslkey`: the client certificate's private key (PEM, unencrypted).
    pub key: Option<PathBuf>,
    /// `sslcrl`: certificate revocation lists (PEM) the server certificate is checked against.
    pub crl: Option<PathBuf>,
}

/// How much of the server's certificate a connection checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Nothing (encryption without authentication of the server).
    None,
    /// The chain up to a trusted root.
    Chain,
    /// The chain, and that the certificate names the host.
    ChainAndName,
}

impl TlsSettings {
    /// Reads the settings from `lookup(key)` (the string's value, else the `PG…` variable),
    /// adding libpq's default files.
    ///
    /// Errors: [`Error::Conninfo`] for a bad `sslmode` or a weak mode with `sslrootcert=system`.
    pub(crate) fn from_keys(lookup: &dyn Fn(&str) -> Option<String>) -> Result<TlsSettings> {
        let mode = match lookup("sslmode") {
            Some(m) => SslMode::parse(&m)?,
            None => SslMode::Prefer,
        };
        let home = std::env::var_os("HOME").map(|h| Path::new(&h).join(".postgresql"));
        let default_file = |name: &str| home.as_ref().map(|d| d.join(name)).filter(|p| p.is_file());
        let root_cert = match lookup("sslrootcert") {
            Some(v) if v == "system" => Some(RootCert::System),
            Some(v) => Some(RootCert::File(v.into())),
            None => default_file("root.crt").map(RootCert::File),
        };
        if root_cert == Some(RootCert::System) && mode != SslMode::VerifyFull {
            return Err(Error::Conninfo(format!(
                "sslmode `{}` may not be used with sslrootcert=system: trusting every public CA \
                 is safe only when the host name is checked too; use sslmode=verify-full",
                mode.word()
            )));
        }
        let cert = lookup("sslcert")
            .map(PathBuf::from)
            .or_else(|| default_file("postgresql.crt"));
        let key = lookup("sslkey")
            .map(PathBuf::from)
            .or_else(|| cert.as_ref().and(default_file("postgresql.key")));
        Ok(TlsSettings {
            mode,
            root_cert,
            cert,
            key,
            crl: lookup("sslcrl").map(PathBuf::from),
        })
    }

    /// What the server's certificate is checked for under these settings.
    pub fn verification(&self) -> Verification {
        match self.mode {
            SslMode::Disable | SslMode::Allow | SslMode::Prefer => Verification::None,
            SslMode::Require if self.root_cert.is_some() => Verification::Chain,
            SslMode::Require => Verification::None,
            SslMode::VerifyCa => Verification::Chain,
            SslMode::VerifyFull => Verification::ChainAndName,
        }
    }

    /// Builds the connector (reads the certificate files now, once).
    ///
    /// Errors: [`Error::Conninfo`] naming the file and the fix when a certificate, key or CRL
    /// cannot be read or parsed, when a verifying mode has no root certificate, or when a
    /// client key is readable by others.
    pub fn connector(&self) -> Result<MakeTls> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Conninfo(format!("TLS setup: {e}")))?;
        let verifier: Arc<dyn ServerCertVerifier> = match self.verification() {
            Verification::None => Arc::new(NoVerification(provider.clone())),
            level => {
                let roots = self.root_store()?;
                let mut webpki =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone());
                if let Some(crl) = &self.crl {
                    webpki = webpki.with_crls(read_crls(crl)?);
                }
                let webpki = webpki
                    .build()
                    .map_err(|e| Error::Conninfo(format!("TLS setup: {e}")))?;
                if level == Verification::Chain {
                    Arc::new(ChainOnly(webpki))
                } else {
                    webpki
                }
            }
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(read_certs(cert, "sslcert")?, read_key(key)?)
                .map_err(|e| {
                    Error::Conninfo(format!(
                        "sslcert {} and sslkey {} do not make a client identity ({e}); give the \
                         key that belongs to the certificate",
                        cert.display(),
                        key.display()
                    ))
                })?,
            (Some(cert), None) => {
                return Err(Error::Conninfo(format!(
                "sslcert {} is set but sslkey is not; give the client certificate's private key \
                     with sslkey=/path/to/key",
                cert.display()
            )))
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(MakeTls::new(config))
    }

    /// The TLS settings as libpq `key=value` pairs, for DuckDB's libpq-based attachments
    /// (`postgres`, `ducklake`): the same mode and files this connector uses.
    pub fn libpq_params(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("sslmode", self.mode.word().to_owned())];
        match &self.root_cert {
            Some(RootCert::File(p)) => out.push(("sslrootcert", p.display().to_string())),
            Some(RootCert::System) => out.push(("sslrootcert", "system".into())),
            None => {}
        }
        if let Some(p) = &self.cert {
            out.push(("sslcert", p.display().to_string()));
        }
        if let Some(p) = &self.key {
            out.push(("sslkey", p.display().to_string()));
        }
        if let Some(p) = &self.crl {
            out.push(("sslcrl", p.display().to_string()));
        }
        out
    }

    fn root_store(&self) -> Result<rustls::RootCertStore> {
        let mut store = rustls::RootCertStore::empty();
        match &self.root_cert {
            Some(RootCert::File(path)) => {
                for cert in read_certs(path, "sslrootcert")? {
                    store.add(cert).map_err(|e| {
                        Error::Conninfo(format!(
                            "sslrootcert {}: not a usable CA certificate ({e})",
                            path.display()
                        ))
                    })?;
                }
            }
            Some(RootCert::System) => {
                let found = rustls_native_certs::load_native_certs();
                let (added, _) = store.add_parsable_certificates(found.certs);
                if added == 0 {
                    return Err(Error::Conninfo(
                        "sslrootcert=system: the operating system has no trusted root certificates \
                         (install ca-certificates) ; or point sslrootcert at the server's CA file"
                            .into(),
                    ));
                }
            }
            None => {
                return Err(Error::Conninfo(format!(
                    "sslmode={} checks the server's certificate but no root certificate is given: \
                     set sslrootcert=/path/to/ca.crt (or sslrootcert=system for public CAs, or \
                     put it at ~/.postgresql/root.crt), or use sslmode=require to encrypt without \
                     checking",
                    self.mode.word()
                )))
            }
        }
        Ok(store)
    }
}

fn read_certs(path: &Path, key: &str) -> Result<Vec<CertificateDer<'static>>> {
    let unreadable = |e: String| {
        Error::Conninfo(format!(
            "{key} {}: cannot read the certificate ({e}); check the path and that the file is a \
             PEM certificate readable by this user",
            path.display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(e.to_string()))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| unreadable(e.to_string()))?;
    if certs.is_empty() {
        return Err(unreadable("no BEGIN CERTIFICATE block in it".into()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::Conninfo(format!(
            "sslkey {}: cannot read the private key ({e}); check the path",
            path.display()
        ))
    })?;
    let mode = meta.permissions().mode() & 0o777;
    let allowed = if meta.uid() == 0 { 0o640 } else { 0o600 };
    if mode & !allowed != 0 {
        return Err(Error::Conninfo(format!(
            "sslkey {}: the private key is readable by others (mode {mode:o}); as libpq does, \
             Skein refuses it: chmod 600 {}",
            path.display(),
            path.display()
        )));
    }
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        Error::Conninfo(format!(
            "sslkey {}: not an unencrypted PEM private key ({e}); encrypted keys must be decrypted \
             first (openssl pkey -in KEY -out KEY.plain)",
            path.display()
        ))
    })
}

fn read_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>> {
    CertificateRevocationListDer::pem_file_iter(path)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| {
            Error::Conninfo(format!(
                "sslcrl {}: cannot read the revocation list ({e}); give a PEM CRL file",
                path.display()
            ))
        })
}

/// Accepts any server certificate (sslmode prefer/require without a root certificate) but
/// still checks that the server holds its key (handshake signatures).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// verify-ca: the full WebPKI check, except that the certificate need not name the host.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        // WebPKI checks the chain (and revocation) before the name, so a name error means the
        // chain was good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// When a driver error is a TLS failure (handshake, certificate check, or the server and the
/// profile disagreeing on encryption), what failed and the fix, in one line; `None` otherwise.
///
/// Sources: rustls's certificate errors and alerts in the error's source chain; tokio-postgres's
/// "server does not support TLS"; the server's SQLSTATE 28000 messages from `pg_hba.conf`
/// ("no encryption", "requires a valid client certificate", "certificate authentication failed").
pub fn tls_failure(e: &tokio_postgres::Error) -> Option<String> {
    if let Some(db) = e.as_db_error() {
        let m = db.message();
        if m.contains("no encryption") {
            return Some(format!(
                "the server accepts only TLS connections from here ({m}); set sslmode=require or \
                 stricter (verify-full with sslrootcert=CA file checks the server too)"
            ));
        }
        if m.contains("client certificate") {
            return Some(format!(
                "the server wants a client certificate ({m}); set sslcert and sslkey to a \
                 certificate signed by the server's ssl_ca_file"
            ));
        }
        if m.contains("certificate authentication failed") {
            return Some(format!(
                "the server rejected the client certificate for this role ({m}); the \
                 certificate's CN must be the role name (or mapped in pg_ident.conf)"
            ));
        }
        return None;
    }
    // One walk down the source chain: a rustls error anywhere in it explains itself; otherwise
    // the whole chain's text is read (tokio-postgres says "error performing TLS handshake" on
    // top and the reason in a source).
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<rustls::Error>() {
            return Some(explain_rustls(r));
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return Some(explain_rustls(r));
            }
        }
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if text.contains("server does not support TLS") {
        return Some(
            "the server does not accept TLS (ssl = off in its postgresql.conf); turn ssl on there, \
             or use sslmode=prefer or disable for this node"
                .into(),
        );
    }
    None
}

fn explain_rustls(e: &rustls::Error) -> String {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => format!(
                "TLS: the server's certificate is not signed by a trusted CA ({c:?}); point \
                 sslrootcert at the CA certificate that signed the server's certificate"
            ),
            CertificateError::NotValidForNameContext {
                expected,
                presented,
            } => format!(
                "TLS: the server's certificate is not valid for host {} (it names {}); connect \
                 with a host name the certificate lists, or use sslmode=verify-ca to check only \
                 the CA",
                expected.to_str(),
                presented.join(", ")
            ),
            CertificateError::NotValidForName => "TLS: the server's certificate does not name \
                this host; connect with a host name the certificate lists, or use \
                sslmode=verify-ca to check only the CA"
                .into(),
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => format!(
                "TLS: the server's certificate is outside its validity period ({c:?}); renew the \
                 server certificate (or check this machine's clock)"
            ),
            CertificateError::Revoked => {
                "TLS: the server's certificate is revoked by sslcrl; the server needs a new \
                 certificate"
                    .into()
            }
            other => format!(
                "TLS: the server's certificate was rejected ({other:?}); check sslrootcert and the \
                 server's certificate"
            ),
        },
        rustls::Error::AlertReceived(a)
            if matches!(
                a,
                A::CertificateRequired | A::BadCertificate | A::UnknownCA | A::AccessDenied
            ) =>
        {
            format!(
                "TLS: the server rejected the client certificate (alert {a:?}); set sslcert/sslkey \
                 to a certificate signed by the server's ssl_ca_file"
            )
        }
        other => format!("TLS handshake failed ({other}); check the server's TLS settings"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(mode: SslMode, root: Option<RootCert>) -> TlsSettings {
        TlsSettings {
            mode,
            root_cert: root,
            cert: None,
            key: None,
            crl: None,
        }
    }

    #[test]
    fn verification_follows_libpq() {
        let ca = Some(RootCert::File("/ca.crt".into()));
        assert_eq!(
            settings(SslMode::Prefer, ca.clone()).verification(),
            Verification::None
        );
        assert_eq!(
            settings(SslMode::Require, None).verification(),
            Verification::None
        );
        assert_eq!(
            settings(SslMode::Require, ca.clone()).verification(),
            Verification::Chain
        );
        assert_eq!(
            settings(SslMode::VerifyFull, ca).verification(),
            Verification::ChainAndName
        );
    }

    #[test]
    fn a_verifying_mode_without_a_root_says_how_to_give_one() {
        let err = match settings(SslMode::VerifyFull, None).connector() {
            Err(e) => e.to_string(),
            Ok(_) => panic!("verify-full without a root must fail"),
        };
        assert!(err.contains("sslrootcert"), "{err}");
        let err = match settings(
            SslMode::VerifyCa,
            Some(RootCert::File("/nope/ca.crt".into())),
        )
        .connector()
        {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a missing CA file must fail"),
        };
        assert!(err.contains("/nope/ca.crt"), "{err}");
    }

    #[test]
    fn libpq_params_carry_the_files() {
        let s = TlsSettings {
            mode: SslMode::VerifyFull,
            root_cert: Some(RootCert::File("/ca.crt".into())),
            cert: Some("/c.crt".into()),
            key: Some("/c.key".into()),
            crl: None,
        };
        let p = s.libpq_params();
        assert!(p.contains(&("sslmode", "verify-full".into())));
        assert!(p.contains(&("sslrootcert", "/ca.crt".into())));
        assert!(p.contains(&("sslkey", "/c.key".into())));
    }
}
