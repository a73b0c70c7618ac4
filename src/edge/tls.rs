//! Mutual-TLS configuration. Client certificates must chain to a configured trust anchor, be within validity,
//! carry the clientAuth usage and an OIN, and not be revoked — by a revocation list, which is required for every
//! trust anchor and must not be expired, or by the registry's list of revoked serials. The configuration is
//! rebuilt whole and swapped in on every change (rustls fixes CRLs when the verifier is built).
use arc_swap::ArcSwap;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{CertificateRevocationList, FromDer, X509Certificate};

use crate::crypto::pki::{cert_facts, CertificateAuthority, SubjectOin};
use crate::orgs::registry::Registry;
use crate::types::OrgStatus;

/// Validity of the revocation list the gateway signs for its own CA; it is re-signed well before that.
pub const OWN_CRL_VALIDITY: Duration = Duration::hours(24);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} {path} holds no usable PEM or DER data")]
    Empty { what: &'static str, path: PathBuf },
    #[error("the trust anchor {subject} has no revocation list: add its CRL to tls.crl_files (or configure the gateway's own CA key)")]
    MissingCrl { subject: String },
    #[error("the revocation list {path} expired at {next_update}")]
    ExpiredCrl { path: PathBuf, next_update: String },
    #[error("the gateway CA could not be loaded: {0}")]
    OwnCa(String),
    #[error("TLS configuration refused: {0}")]
    Rustls(String),
}

/// `[tls]` of the configuration: where the certificates, keys and revocation lists are.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Server certificate chain (PEM), leaf first.
    pub cert_file: PathBuf,
    /// Server private key (PEM, PKCS#8).
    pub key_file: PathBuf,
    /// Trust anchors for client certificates (PEM files, one or more certificates each).
    pub client_ca_files: Vec<PathBuf>,
    /// Revocation lists (PEM or DER) for every issuing CA whose key the gateway does not hold.
    #[serde(default)]
    pub crl_files: Vec<PathBuf>,
    /// The gateway's own CA (development or private-CA deployments): certificate and key. With it the gateway
    /// issues client certificates and signs its own revocation list.
    #[serde(default)]
    pub own_ca_cert_file: Option<PathBuf>,
    #[serde(default)]
    pub own_ca_key_file: Option<PathBuf>,
}

/// Everything read from files that the TLS configuration is built from.
pub struct TlsMaterial {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    anchors: Vec<CertificateDer<'static>>,
    crl_files: Vec<(PathBuf, CertificateRevocationListDer<'static>)>,
    own_ca: Option<CertificateAuthority>,
}

impl TlsMaterial {
    /// Reads certificate, key, trust anchors, CRL files and (optionally) the gateway's own CA.
    ///
    /// # Errors
    /// A file is missing, unreadable or empty; the own CA does not load.
    pub fn load(cfg: &TlsConfig) -> Result<TlsMaterial, TlsError> {
        let chain = read_certs("server certificate", &cfg.cert_file)?;
        let key_bytes = read("server key", &cfg.key_file)?;
        let key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|_| TlsError::Empty {
            what: "server key",
            path: cfg.key_file.clone(),
        })?;
        let mut anchors = Vec::new();
        for path in &cfg.client_ca_files {
            anchors.extend(read_certs("client CA file", path)?);
        }
        let mut crl_files = Vec::new();
        for path in &cfg.crl_files {
            crl_files.push((path.clone(), read_crl(path)?));
        }
        let own_ca = match (&cfg.own_ca_cert_file, &cfg.own_ca_key_file) {
            (Some(c), Some(k)) => {
                let cert = String::from_utf8_lossy(&read("gateway CA certificate", c)?).into_owned();
                let key = String::from_utf8_lossy(&read("gateway CA key", k)?).into_owned();
                Some(CertificateAuthority::from_pem(&cert, &key).map_err(|e| TlsError::OwnCa(e.to_string()))?)
            }
            _ => None,
        };
        Ok(TlsMaterial {
            chain,
            key,
            anchors,
            crl_files,
            own_ca,
        })
    }

    pub fn own_ca(&self) -> Option<&CertificateAuthority> {
        self.own_ca.as_ref()
    }

    /// Builds the server configuration: the CRL files plus, when the gateway holds its CA key, a fresh CRL of
    /// that CA naming `revoked`. Every trust anchor must be covered by a CRL that has not expired.
    ///
    /// # Errors
    /// A trust anchor lacks a CRL, a CRL expired, or rustls refuses the configuration.
    pub fn server_config(
        &self,
        revoked: &[(String, OffsetDateTime)],
        registry: Arc<Registry>,
        now: OffsetDateTime,
    ) -> Result<Arc<ServerConfig>, TlsError> {
        let mut crls: Vec<CertificateRevocationListDer<'static>> = Vec::new();
        let mut crl_issuers: Vec<Vec<u8>> = Vec::new();
        for (path, crl) in &self.crl_files {
            let (issuer, next_update) = crl_issuer_and_next_update(crl).ok_or_else(|| TlsError::Empty {
                what: "revocation list",
                path: path.clone(),
            })?;
            if next_update.is_some_and(|n| n < now) {
                return Err(TlsError::ExpiredCrl {
                    path: path.clone(),
                    next_update: next_update.map(crate::types::clock::rfc3339).unwrap_or_default(),
                });
            }
            crl_issuers.push(issuer);
            crls.push(crl.clone());
        }
        if let Some(ca) = &self.own_ca {
            let crl = ca
                .crl(revoked, now, OWN_CRL_VALIDITY)
                .map_err(|e| TlsError::OwnCa(e.to_string()))?;
            if let Some((issuer, _)) = crl_issuer_and_next_update(&crl) {
                crl_issuers.push(issuer);
            }
            crls.push(crl);
        }
        let mut roots = RootCertStore::empty();
        for anchor in &self.anchors {
            let subject = subject_of(anchor).unwrap_or_default();
            if !crl_issuers.contains(&subject) {
                return Err(TlsError::MissingCrl {
                    subject: subject_name(anchor),
                });
            }
            roots.add(anchor.clone()).map_err(|e| TlsError::Rustls(e.to_string()))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let inner = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .with_crls(crls)
            .enforce_revocation_expiration()
            .build()
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        let verifier = Arc::new(OinVerifier { inner, registry });
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Rustls(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        // Every connection does a full handshake, so a revoked certificate cannot ride on a resumed session.
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The current server configuration, swapped whole on reload.
pub struct TlsState {
    current: ArcSwap<ServerConfig>,
}

impl TlsState {
    pub fn new(config: Arc<ServerConfig>) -> TlsState {
        TlsState {
            current: ArcSwap::new(config),
        }
    }

    pub fn current(&self) -> Arc<ServerConfig> {
        self.current.load_full()
    }

    pub fn swap(&self, config: Arc<ServerConfig>) {
        self.current.store(config);
    }
}

/// Why the gateway refuses a certificate that passed WebPKI verification, during the handshake: such a client
/// never gets an HTTP response (contract, "Identity").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Stranger {
    #[error("the client certificate carries no OIN in its subject serialNumber")]
    NoOin,
    #[error("the client certificate's subject names more than one serialNumber")]
    SeveralOins,
    #[error("the client certificate's subject serialNumber is not an OIN")]
    MalformedOin,
    #[error("the organisation of the client certificate is not onboarded")]
    UnknownOrganisation,
    #[error("the organisation of the client certificate is not active")]
    InactiveOrganisation,
}

impl Stranger {
    /// The `reason` of the refused-handshake metric.
    fn reason(self) -> &'static str {
        match self {
            Stranger::NoOin => "no_oin",
            Stranger::SeveralOins => "ambiguous_oin",
            Stranger::MalformedOin => "malformed_oin",
            Stranger::UnknownOrganisation => "unknown_organisation",
            Stranger::InactiveOrganisation => "inactive_organisation",
        }
    }
}

fn refuse(stranger: Stranger) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(stranger))))
}

/// WebPKI verification (chain, validity, clientAuth usage, CRLs) plus the gateway's own demands: an explicit
/// clientAuth usage, exactly one OIN in the subject, a serial that the registry has not revoked, and an
/// organisation that is onboarded and active now.
#[derive(Debug)]
struct OinVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    registry: Arc<Registry>,
}

impl ClientCertVerifier for OinVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.inner.verify_client_cert(end_entity, intermediates, now)?;
        let facts =
            cert_facts(end_entity).map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        if !facts.client_auth {
            return Err(rustls::Error::InvalidCertificate(CertificateError::InvalidPurpose));
        }
        let oin = match facts.subject_oin {
            SubjectOin::One(oin) => oin,
            SubjectOin::Missing => return Err(refuse(Stranger::NoOin)),
            SubjectOin::Several => return Err(refuse(Stranger::SeveralOins)),
            SubjectOin::Malformed => return Err(refuse(Stranger::MalformedOin)),
        };
        let registry = self.registry.current();
        if registry.is_revoked(&facts.serial) {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Revoked));
        }
        match registry.organisation(&oin).map(|o| o.status) {
            Some(OrgStatus::Active) => Ok(ClientCertVerified::assertion()),
            Some(_) => Err(refuse(Stranger::InactiveOrganisation)),
            None => Err(refuse(Stranger::UnknownOrganisation)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A short, stable label for a refused handshake (the `reason` of the metric).
pub fn refusal_reason(err: &std::io::Error) -> &'static str {
    if err.kind() == std::io::ErrorKind::TimedOut {
        return "timeout";
    }
    let Some(tls) = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) else {
        return "io";
    };
    match tls {
        rustls::Error::NoCertificatesPresented => "no_certificate",
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired",
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => "not_yet_valid",
            CertificateError::Revoked => "revoked",
            CertificateError::UnknownIssuer => "unknown_ca",
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => "wrong_purpose",
            CertificateError::UnknownRevocationStatus
            | CertificateError::ExpiredRevocationList
            | CertificateError::ExpiredRevocationListContext { .. } => "revocation_status",
            CertificateError::Other(other) => other
                .0
                .downcast_ref::<Stranger>()
                .map_or("bad_certificate", |s| s.reason()),
            _ => "bad_certificate",
        },
        _ => "protocol",
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

fn read_certs(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(what, path)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes).filter_map(Result::ok).collect();
    if certs.is_empty() {
        return Err(TlsError::Empty {
            what,
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

fn read_crl(path: &Path) -> Result<CertificateRevocationListDer<'static>, TlsError> {
    let bytes = read("revocation list", path)?;
    match CertificateRevocationListDer::from_pem_slice(&bytes) {
        Ok(crl) => Ok(crl),
        Err(_) if bytes.first() == Some(&0x30) => Ok(CertificateRevocationListDer::from(bytes)),
        Err(_) => Err(TlsError::Empty {
            what: "revocation list",
            path: path.to_owned(),
        }),
    }
}

fn crl_issuer_and_next_update(crl: &CertificateRevocationListDer<'_>) -> Option<(Vec<u8>, Option<OffsetDateTime>)> {
    let (_, parsed) = CertificateRevocationList::from_der(crl.as_ref()).ok()?;
    let next = parsed.next_update().map(|t| t.to_datetime());
    Some((parsed.issuer().as_raw().to_vec(), next))
}

fn subject_of(cert: &CertificateDer<'_>) -> Option<Vec<u8>> {
    let (_, parsed) = X509Certificate::from_der(cert.as_ref()).ok()?;
    Some(parsed.subject().as_raw().to_vec())
}

fn subject_name(cert: &CertificateDer<'_>) -> String {
    X509Certificate::from_der(cert.as_ref()).map_or_else(|_| "(unparseable)".into(), |(_, c)| c.subject().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trust anchor, a server certificate from it, and a configuration naming them; no CRL yet.
    fn setup(dir: &Path) -> (TlsConfig, CertificateAuthority) {
        let now = OffsetDateTime::now_utc();
        let ca = CertificateAuthority::generate("Anchor CA", now).unwrap();
        let server = ca.issue_server(&["localhost".into()], now).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.cert_pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), server.cert_pem).unwrap();
        std::fs::write(dir.join("key.pem"), server.key_pem).unwrap();
        let cfg = TlsConfig {
            cert_file: dir.join("cert.pem"),
            key_file: dir.join("key.pem"),
            client_ca_files: vec![dir.join("ca.pem")],
            crl_files: vec![],
            own_ca_cert_file: None,
            own_ca_key_file: None,
        };
        (cfg, ca)
    }

    fn build(cfg: &TlsConfig) -> Result<Arc<ServerConfig>, TlsError> {
        TlsMaterial::load(cfg)?.server_config(&[], Arc::new(Registry::default()), OffsetDateTime::now_utc())
    }

    #[test]
    fn a_trust_anchor_without_a_crl_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, _) = setup(dir.path());
        assert!(matches!(build(&cfg), Err(TlsError::MissingCrl { .. })));
    }

    #[test]
    fn an_expired_crl_is_refused_and_a_current_one_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let (mut cfg, ca) = setup(dir.path());
        let now = OffsetDateTime::now_utc();
        let crl_path = dir.path().join("ca.crl");
        cfg.crl_files = vec![crl_path.clone()];
        let expired = ca.crl(&[], now - Duration::days(3), Duration::days(1)).unwrap();
        std::fs::write(&crl_path, expired.as_ref()).unwrap();
        assert!(matches!(build(&cfg), Err(TlsError::ExpiredCrl { .. })));
        let current = ca.crl(&[], now, Duration::days(1)).unwrap();
        std::fs::write(&crl_path, current.as_ref()).unwrap();
        assert!(build(&cfg).is_ok());
    }

    #[test]
    fn the_own_ca_covers_itself_with_a_signed_crl() {
        let dir = tempfile::tempdir().unwrap();
        let (mut cfg, ca) = setup(dir.path());
        std::fs::write(dir.path().join("ca-key.pem"), ca.key_pem()).unwrap();
        cfg.own_ca_cert_file = Some(dir.path().join("ca.pem"));
        cfg.own_ca_key_file = Some(dir.path().join("ca-key.pem"));
        assert!(build(&cfg).is_ok());
    }

    /// A full handshake in memory; the server's verdict on the client certificate.
    fn handshake(
        server: Arc<ServerConfig>,
        ca_pem: &str,
        client: &crate::crypto::pki::IssuedCertificate,
    ) -> Result<(), rustls::Error> {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
            .unwrap();
        let chain = vec![CertificateDer::from_pem_slice(client.pem.cert_pem.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(client.pem.key_pem.as_bytes()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap();
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        let mut c = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let mut s = rustls::ServerConnection::new(server).unwrap();
        for _ in 0..10 {
            let mut buf = Vec::new();
            while c.wants_write() {
                c.write_tls(&mut buf).unwrap();
            }
            let mut rd = &buf[..];
            while !rd.is_empty() {
                s.read_tls(&mut rd).unwrap();
            }
            s.process_new_packets()?;
            let mut buf = Vec::new();
            while s.wants_write() {
                s.write_tls(&mut buf).unwrap();
            }
            let mut rd = &buf[..];
            while !rd.is_empty() {
                c.read_tls(&mut rd).unwrap();
            }
            let _ = c.process_new_packets();
            if !s.is_handshaking() {
                return Ok(());
            }
        }
        panic!("handshake did not finish");
    }

    /// A registry in which politie (…0002) is onboarded and active, and `revoked` serials are revoked.
    fn registry_with_politie(revoked: Vec<String>) -> Arc<Registry> {
        let org = crate::store::OrgRow {
            oin: "00000099000000000002".into(),
            name: "Politie".into(),
            kind: "ketenpartner".into(),
            roles: "politie".into(),
            status: "active".into(),
            created_at: "2026-01-01T00:00:00.000000Z".into(),
            updated_at: "2026-01-01T00:00:00.000000Z".into(),
            member_since: None,
            municipalities: String::new(),
        };
        let rows = crate::store::RegistryRows {
            generation: 1,
            orgs: vec![org],
            revoked,
            ..Default::default()
        };
        let registry = Arc::new(Registry::default());
        registry.set(crate::orgs::registry::Snapshot::from_rows(rows));
        registry
    }

    fn own_ca_setup(dir: &Path) -> (TlsMaterial, CertificateAuthority) {
        let (mut cfg, ca) = setup(dir);
        std::fs::write(dir.join("ca-key.pem"), ca.key_pem()).unwrap();
        cfg.own_ca_cert_file = Some(dir.join("ca.pem"));
        cfg.own_ca_key_file = Some(dir.join("ca-key.pem"));
        (TlsMaterial::load(&cfg).unwrap(), ca)
    }

    #[test]
    fn the_own_crl_refuses_a_revoked_serial_by_itself() {
        let dir = tempfile::tempdir().unwrap();
        let (material, ca) = own_ca_setup(dir.path());
        let now = OffsetDateTime::now_utc();
        let client = ca
            .issue_client(&crate::crypto::pki::ClientCertSpec::new(
                "Politie",
                "00000099000000000002",
                now,
                30,
            ))
            .unwrap();
        let registry = registry_with_politie(vec![]);
        let open = material.server_config(&[], registry.clone(), now).unwrap();
        assert!(handshake(open, ca.cert_pem(), &client).is_ok());
        let revoked = material
            .server_config(&[(client.serial.clone(), now)], registry, now)
            .unwrap();
        assert_eq!(
            handshake(revoked, ca.cert_pem(), &client),
            Err(rustls::Error::InvalidCertificate(CertificateError::Revoked))
        );
    }

    #[test]
    fn the_registry_refuses_a_revoked_serial_without_a_crl_entry() {
        let dir = tempfile::tempdir().unwrap();
        let (material, ca) = own_ca_setup(dir.path());
        let now = OffsetDateTime::now_utc();
        let client = ca
            .issue_client(&crate::crypto::pki::ClientCertSpec::new(
                "Politie",
                "00000099000000000002",
                now,
                30,
            ))
            .unwrap();
        let registry = registry_with_politie(vec![client.serial.clone()]);
        let config = material.server_config(&[], registry, now).unwrap();
        assert_eq!(
            handshake(config, ca.cert_pem(), &client),
            Err(rustls::Error::InvalidCertificate(CertificateError::Revoked))
        );
    }

    /// A certificate of a trusted CA whose organisation is not onboarded completes no handshake.
    #[test]
    fn a_stranger_is_refused_in_the_handshake() {
        let dir = tempfile::tempdir().unwrap();
        let (material, ca) = own_ca_setup(dir.path());
        let now = OffsetDateTime::now_utc();
        let stranger = ca
            .issue_client(&crate::crypto::pki::ClientCertSpec::new(
                "Vreemde",
                "00000099000000000077",
                now,
                30,
            ))
            .unwrap();
        let config = material.server_config(&[], registry_with_politie(vec![]), now).unwrap();
        match handshake(config, ca.cert_pem(), &stranger) {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(e))) => {
                assert_eq!(e.0.downcast_ref::<Stranger>(), Some(&Stranger::UnknownOrganisation));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
