//! Certificates for development and private-CA deployments, made with rcgen: the gateway's CA, its server
//! certificate, client certificates that carry the OIN in the subject `serialNumber` (as PKIoverheid
//! certificates do), revocation lists, and Ed25519 token-signing keys with their public JWK.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams, SanType,
    SerialNumber,
};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::KeyPair as _;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::types::Oin;

/// The X.520 `serialNumber` attribute, where PKIoverheid certificates carry the OIN.
const OID_SERIAL_NUMBER: [u64; 4] = [2, 5, 4, 5];
/// The `UID` attribute (RFC 4519), where a personal certificate names the person's id at its organisation.
const OID_UID: [u64; 7] = [0, 9, 2342, 19200300, 100, 1, 1];

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("the certificate is not valid X.509")]
    Parse,
    #[error("the key is not a valid PKCS#8 Ed25519 key")]
    Key,
    #[error("no randomness available")]
    Random,
    /// A certificate request that is not signed by its own key, names no single OIN, or has a key or extension
    /// this gateway does not certify.
    #[error("the certificate request {0}")]
    Request(&'static str),
}

/// A PEM certificate with its PEM private key.
#[derive(Debug, Clone)]
pub struct PemPair {
    pub cert_pem: String,
    pub key_pem: String,
}

/// The gateway's own CA, able to sign certificates and revocation lists.
pub struct CertificateAuthority {
    cert: rcgen::Certificate,
    key: KeyPair,
    pem: String,
}

impl CertificateAuthority {
    /// A new self-signed CA (ECDSA P-256, ten years).
    pub fn generate(name: &str, now: OffsetDateTime) -> Result<CertificateAuthority, PkiError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(name, None)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        params.serial_number = Some(random_serial()?);
        params.key_identifier_method = KeyIdMethod::Sha256;
        let cert = params.self_signed(&key)?;
        let pem = cert.pem();
        Ok(CertificateAuthority { cert, key, pem })
    }

    /// Loads a CA from its PEM certificate and PEM (PKCS#8) key.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<CertificateAuthority, PkiError> {
        let key = KeyPair::from_pem(key_pem)?;
        let params = CertificateParams::from_ca_cert_pem(cert_pem)?;
        let cert = params.self_signed(&key)?;
        Ok(CertificateAuthority {
            cert,
            key,
            pem: cert_pem.to_owned(),
        })
    }

    /// The CA certificate as it was issued (PEM).
    pub fn cert_pem(&self) -> &str {
        &self.pem
    }

    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// A server certificate for the given DNS names and IP addresses (one year).
    pub fn issue_server(&self, names: &[String], now: OffsetDateTime) -> Result<PemPair, PkiError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = dn("Doelpoort gateway", None)?;
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => Ok(SanType::DnsName(n.clone().try_into()?)),
            })
            .collect::<Result<_, rcgen::Error>>()?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(365);
        params.serial_number = Some(random_serial()?);
        let cert = params.signed_by(&key, &self.cert, &self.key)?;
        Ok(PemPair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A client certificate as described by `spec`, with a key the gateway makes (development only: the key is
    /// then known to the gateway's host).
    pub fn issue_client(&self, spec: &ClientCertSpec) -> Result<IssuedCertificate, PkiError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let signed = self.sign(spec, &key)?;
        Ok(IssuedCertificate {
            serial: signed.serial,
            thumbprint: signed.thumbprint,
            not_after: signed.not_after,
            pem: PemPair {
                cert_pem: signed.cert_pem,
                key_pem: key.serialize_pem(),
            },
        })
    }

    /// A client certificate as described by `spec` for the key of `request`, which its holder keeps. Only the
    /// request's key is taken from it: subject, usages and validity are the gateway's.
    pub fn sign_request(&self, request: &CertRequest, spec: &ClientCertSpec) -> Result<SignedCertificate, PkiError> {
        self.sign(spec, &request.key)
    }

    fn sign(&self, spec: &ClientCertSpec, key: &impl rcgen::PublicKeyData) -> Result<SignedCertificate, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(&spec.name, spec.oin.as_deref())?;
        if let Some((uid, organisation)) = &spec.person {
            params
                .distinguished_name
                .push(DnType::OrganizationName, organisation.as_str());
            params
                .distinguished_name
                .push(DnType::CustomDnType(OID_UID.to_vec()), uid.as_str());
        }
        params.extended_key_usages = spec.usages.clone();
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        let serial = random_serial()?;
        params.serial_number = Some(serial.clone());
        let cert = params.signed_by(key, &self.cert, &self.key)?;
        Ok(SignedCertificate {
            serial: hex::encode(serial.as_ref()),
            thumbprint: thumbprint(cert.der()),
            not_after: spec.not_after,
            cert_pem: cert.pem(),
        })
    }

    /// A revocation list of this CA naming `revoked` serials (lowercase hex), valid from `now` for `validity`.
    pub fn crl(
        &self,
        revoked: &[(String, OffsetDateTime)],
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<CertificateRevocationListDer<'static>, PkiError> {
        let revoked_certs = revoked
            .iter()
            .filter_map(|(serial, at)| {
                let bytes = hex::decode(serial).ok()?;
                Some(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&bytes),
                    revocation_time: *at,
                    reason_code: Some(RevocationReason::Unspecified),
                    invalidity_date: None,
                })
            })
            .collect();
        let params = CertificateRevocationListParams {
            this_update: now - Duration::minutes(5),
            next_update: now + validity,
            crl_number: SerialNumber::from_slice(&now.unix_timestamp().to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.cert, &self.key)?;
        Ok(CertificateRevocationListDer::from(crl.der().to_vec()))
    }
}

/// What a client certificate should say; tests vary it to make expired, early or wrong-purpose certificates.
#[derive(Debug, Clone)]
pub struct ClientCertSpec {
    pub name: String,
    pub oin: Option<String>,
    /// For a personal certificate: the person's id (`UID`) and the organisation's name (`O`); `name` is then the
    /// person's (`CN`).
    pub person: Option<(String, String)>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub usages: Vec<ExtendedKeyUsagePurpose>,
}

impl ClientCertSpec {
    /// A client-authentication certificate for `oin`, valid from a day ago for `days` days.
    pub fn new(name: &str, oin: &str, now: OffsetDateTime, days: i64) -> ClientCertSpec {
        ClientCertSpec {
            name: name.to_owned(),
            oin: Some(oin.to_owned()),
            person: None,
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(days),
            usages: vec![ExtendedKeyUsagePurpose::ClientAuth],
        }
    }
}

/// A certificate the gateway's CA signed for a key it does not hold.
#[derive(Debug, Clone)]
pub struct SignedCertificate {
    /// Serial number, lowercase hex.
    pub serial: String,
    /// `x5t#S256` of the certificate.
    pub thumbprint: String,
    pub not_after: OffsetDateTime,
    pub cert_pem: String,
}

/// A certificate request (PKCS#10) whose signature verifies under its own key, with the OIN its subject names.
pub struct CertRequest {
    pub subject_oin: SubjectOin,
    key: rcgen::PublicKey,
}

/// Reads a PEM certificate request, checking that it is signed by the key it asks to certify, and that the key is
/// one the gateway certifies (ECDSA P-256 or P-384, Ed25519, or RSA of 2048 bits or more).
///
/// # Errors
/// [`PkiError::Request`] naming what is wrong.
pub fn read_request(pem: &str) -> Result<CertRequest, PkiError> {
    use x509_parser::public_key::PublicKey;
    let der = rustls_pki_types::CertificateSigningRequestDer::from_pem_slice(pem.as_bytes())
        .map_err(|_| PkiError::Request("is not a PEM certificate request"))?;
    let (_, parsed) = x509_parser::certification_request::X509CertificationRequest::from_der(der.as_ref())
        .map_err(|_| PkiError::Request("does not parse"))?;
    parsed
        .verify_signature()
        .map_err(|_| PkiError::Request("is not signed by the key it asks to certify"))?;
    let info = &parsed.certification_request_info;
    let key_ok = match info.subject_pki.parsed() {
        Ok(PublicKey::EC(point)) => matches!(point.key_size(), 256 | 384),
        Ok(PublicKey::RSA(rsa)) => rsa.key_size() >= 2048,
        Ok(_) => info.subject_pki.algorithm.algorithm == x509_parser::oid_registry::OID_SIG_ED25519,
        Err(_) => false,
    };
    if !key_ok {
        return Err(PkiError::Request(
            "has a key the gateway does not certify (ECDSA P-256 or P-384, Ed25519, RSA of 2048 bits or more)",
        ));
    }
    let subject_oin = subject_oin(&info.subject)?;
    let params = rcgen::CertificateSigningRequestParams::from_der(&der)
        .map_err(|_| PkiError::Request("asks for extensions this gateway does not certify"))?;
    Ok(CertRequest {
        subject_oin,
        key: params.public_key,
    })
}

impl IssuedCertificate {
    /// The certificate without its key.
    pub fn signed(&self) -> SignedCertificate {
        SignedCertificate {
            serial: self.serial.clone(),
            thumbprint: self.thumbprint.clone(),
            not_after: self.not_after,
            cert_pem: self.pem.cert_pem.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    /// Serial number, lowercase hex.
    pub serial: String,
    /// `x5t#S256` of the certificate.
    pub thumbprint: String,
    pub not_after: OffsetDateTime,
    pub pem: PemPair,
}

fn dn(name: &str, oin: Option<&str>) -> Result<DistinguishedName, rcgen::Error> {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, name);
    dn.push(DnType::CommonName, name);
    if let Some(oin) = oin {
        dn.push(
            DnType::CustomDnType(OID_SERIAL_NUMBER.to_vec()),
            DnValue::PrintableString(oin.try_into()?),
        );
    }
    Ok(dn)
}

fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes).map_err(|_| PkiError::Random)?;
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x01; // no leading zero byte, so the hex form is canonical
    Ok(SerialNumber::from_slice(&bytes))
}

/// The RFC 8705 `x5t#S256` thumbprint: base64url SHA-256 of the DER certificate.
pub fn thumbprint(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

/// The OIN a subject names: exactly one `serialNumber` attribute that is an OIN. A subject with two is ambiguous
/// (which one would count?) and is refused like one with none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectOin {
    One(Oin),
    Missing,
    Several,
    Malformed,
}

impl SubjectOin {
    pub fn oin(&self) -> Option<&Oin> {
        match self {
            SubjectOin::One(oin) => Some(oin),
            _ => None,
        }
    }
}

/// Reads the OIN of a subject (a certificate's, or a certificate request's).
///
/// # Errors
/// The serialNumber OID does not build (never).
pub fn subject_oin(subject: &x509_parser::x509::X509Name<'_>) -> Result<SubjectOin, PkiError> {
    let oid = x509_parser::oid_registry::Oid::from(&OID_SERIAL_NUMBER).map_err(|_| PkiError::Parse)?;
    let values: Vec<_> = subject.iter_attributes().filter(|a| a.attr_type() == &oid).collect();
    Ok(match values.as_slice() {
        [] => SubjectOin::Missing,
        [one] => match one.as_str().ok().and_then(|s| s.parse().ok()) {
            Some(oin) => SubjectOin::One(oin),
            None => SubjectOin::Malformed,
        },
        _ => SubjectOin::Several,
    })
}

/// What the gateway needs from a client certificate: the OIN in its subject, its serial, and its thumbprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// The OIN the subject names in its `serialNumber`.
    pub subject_oin: SubjectOin,
    /// Certificate serial, lowercase hex without leading zero bytes.
    pub serial: String,
    pub thumbprint: String,
    /// Whether the extended key usage extension names clientAuth.
    pub client_auth: bool,
    /// The end of its validity.
    pub not_after: OffsetDateTime,
}

/// Reads the facts the gateway checks from a DER certificate.
pub fn cert_facts(der: &CertificateDer<'_>) -> Result<CertFacts, PkiError> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).map_err(|_| PkiError::Parse)?;
    let subject_oin = subject_oin(cert.subject())?;
    let client_auth = matches!(cert.extended_key_usage(), Ok(Some(eku)) if eku.value.client_auth);
    let raw = cert.raw_serial();
    let trimmed = raw
        .iter()
        .position(|b| *b != 0)
        .map_or_else(|| raw.get(raw.len().saturating_sub(1)..), |i| raw.get(i..))
        .unwrap_or_default();
    Ok(CertFacts {
        subject_oin,
        serial: hex::encode(trimmed),
        thumbprint: thumbprint(der.as_ref()),
        client_auth,
        not_after: cert.validity().not_after.to_datetime(),
    })
}

/// A PKCS#12 file for browsers holding the certificate, its key and the CA certificate, encrypted under
/// `password` (PBES2 with AES-256 and an HMAC-SHA256 MAC, which Firefox, Chromium and OpenSSL 3 read).
///
/// # Errors
/// A PEM that does not parse.
pub fn pkcs12(pair: &PemPair, ca_pem: &str, password: &str) -> Result<Vec<u8>, PkiError> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let cert = CertificateDer::from_pem_slice(pair.cert_pem.as_bytes()).map_err(|_| PkiError::Parse)?;
    let ca = CertificateDer::from_pem_slice(ca_pem.as_bytes()).map_err(|_| PkiError::Parse)?;
    let key =
        rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(pair.key_pem.as_bytes()).map_err(|_| PkiError::Key)?;
    let certs = [cert.as_ref(), ca.as_ref()]
        .into_iter()
        .map(Certificate::from_der)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| PkiError::Parse)?;
    let key = PrivateKey::from_der(key.secret_pkcs8_der()).map_err(|_| PkiError::Key)?;
    let local_key_id = thumbprint(cert.as_ref()).into_bytes();
    let mut store = KeyStore::new();
    store.add_entry(
        "doelpoort",
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id, key, certs)),
    );
    store.writer(password).write().map_err(|_| PkiError::Parse)
}

/// An Ed25519 token-signing key: the PKCS#8 PEM private key, and its public JWK whose `kid` is the RFC 7638
/// thumbprint of the key.
#[derive(Debug, Clone)]
pub struct TokenKeyPair {
    pub private_pem: String,
    pub kid: String,
    pub public_jwk: serde_json::Value,
}

impl TokenKeyPair {
    /// A new key, written as PKCS#8 version 1 (RFC 8410): what OpenSSL 3.0 and Python's `cryptography` read
    /// (ring's own PKCS#8 v2, with the public key appended, is refused by both).
    pub fn generate() -> Result<TokenKeyPair, PkiError> {
        let mut seed = [0u8; 32];
        SystemRandom::new().fill(&mut seed).map_err(|_| PkiError::Random)?;
        let mut der = ED25519_PKCS8_V1_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        TokenKeyPair::from_pem(&pem_encode("PRIVATE KEY", &der))
    }

    /// Reads a PKCS#8 Ed25519 key in PEM.
    pub fn from_pem(pem: &str) -> Result<TokenKeyPair, PkiError> {
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| PkiError::Key)?;
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der.secret_pkcs8_der())
            .map_err(|_| PkiError::Key)?;
        let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
        let kid = super::jwks::thumbprint(&serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x}).to_string())
            .ok_or(PkiError::Key)?;
        let public_jwk =
            serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"});
        Ok(TokenKeyPair {
            private_pem: pem.to_owned(),
            kid,
            public_jwk,
        })
    }

    /// The public key as a JWKS document.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.public_jwk] })
    }
}

/// The DER of a PKCS#8 v1 Ed25519 private key up to its 32-byte seed (RFC 8410 §7: version 0, algorithm
/// id-Ed25519, and the seed as an OCTET STRING inside the privateKey OCTET STRING).
const ED25519_PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

use rustls_pki_types::pem::PemObject as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_certificates_carry_the_oin_serial_and_purpose() {
        let now = OffsetDateTime::now_utc();
        let ca = CertificateAuthority::generate("Test CA", now).unwrap();
        let issued = ca
            .issue_client(&ClientCertSpec::new("Politie", "00000099000000000002", now, 30))
            .unwrap();
        let der = CertificateDer::from_pem_slice(issued.pem.cert_pem.as_bytes()).unwrap();
        let facts = cert_facts(&der).unwrap();
        assert_eq!(facts.subject_oin.oin().map(Oin::as_str), Some("00000099000000000002"));
        assert_eq!(facts.serial, issued.serial);
        assert_eq!(facts.thumbprint, issued.thumbprint);
        assert!(facts.client_auth);
    }

    #[test]
    fn a_reloaded_ca_signs_a_crl_and_the_token_key_round_trips() {
        let now = OffsetDateTime::now_utc();
        let ca = CertificateAuthority::generate("Test CA", now).unwrap();
        let again = CertificateAuthority::from_pem(ca.cert_pem(), &ca.key_pem()).unwrap();
        let crl = again.crl(&[("0abc".to_owned(), now)], now, Duration::days(1)).unwrap();
        assert!(!crl.as_ref().is_empty());
        let key = TokenKeyPair::generate().unwrap();
        let back = TokenKeyPair::from_pem(&key.private_pem).unwrap();
        assert_eq!(key.kid, back.kid);
        assert_eq!(key.kid.len(), 43);
    }
}
