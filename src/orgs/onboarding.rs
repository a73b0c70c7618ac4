//! Onboarding and lifecycle of signatories, shared by the admin API and the `doelpoort org` / `cert` commands:
//! one place for each rule. Every change is recorded as an admin action (who, when, what) in the same
//! transaction as the change itself.
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::covenant::Covenant;
use crate::crypto::jwks::{parse_jwks, thumbprint};
use crate::crypto::pki::{
    read_request, CertificateAuthority, ClientCertSpec, IssuedCertificate, PkiError, SignedCertificate,
};
use crate::log;
use crate::log::actor::AnyActor;
use crate::log::chain::Entry;
use crate::store::{CertificateRow, KeyRow, NewOrganisation, OrgRow, SignatureRow, Store, StoreError, Tx};
use crate::types::clock::rfc3339;
use crate::types::{Instant, Oin, OrgKind, OrgStatus};

#[derive(Debug, thiserror::Error)]
pub enum OnboardingError {
    #[error("oin: an OIN is exactly 20 digits")]
    InvalidOin,
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Jwks(String),
    #[error("{0} already exists")]
    Exists(&'static str),
    #[error("no organisation with this OIN is onboarded")]
    NotFound,
    #[error("no person with this id is registered for this organisation")]
    PersonNotFound,
    #[error("cannot {action} an organisation that is {status}")]
    InvalidState { action: &'static str, status: String },
    #[error("cannot {action} a person who is {status}")]
    PersonState { action: &'static str, status: String },
    #[error("the host organisation cannot be suspended or offboarded")]
    HostProtected,
    #[error("the gateway holds no CA key, so it cannot issue certificates")]
    NoCa,
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Pki(PkiError),
}

impl From<StoreError> for OnboardingError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Exists(what) => OnboardingError::Exists(what),
            StoreError::NotFound("person") => OnboardingError::PersonNotFound,
            StoreError::NotFound(_) => OnboardingError::NotFound,
            other => OnboardingError::Store(other),
        }
    }
}

type Result<T> = std::result::Result<T, OnboardingError>;

/// Commits a change to the registry with its `admin` record, moving the registry generation so running gateways
/// reload: one place, so no change can skip either.
pub(super) async fn finish(mut tx: Tx, entry: Entry, at: Instant) -> Result<()> {
    tx.registry_changed().await?;
    log::commit_with(tx, entry, at).await?;
    Ok(())
}

/// A new signatory.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    /// 20-digit OIN.
    #[schema(pattern = "^[0-9]{20}$")]
    pub oin: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub name: String,
    /// `ketenpartner`, `convenantpartner` or `incidenteel`.
    #[schema(value_type = crate::types::OrgKind)]
    pub kind: String,
    /// Covenant roles, from the covenant in force, each once.
    #[schema(min_items = 1)]
    pub covenant_roles: Vec<String>,
    /// Public token-signing keys (EdDSA/Ed25519 or ES256/P-256) as a JWKS document.
    #[schema(value_type = Object)]
    pub jwks: serde_json::Value,
    /// CBS codes (`GM` and four digits) of the municipalities the organisation is onboarded for: its
    /// professionals may read these municipalities' factsheets.
    #[serde(default)]
    #[schema(value_type = Vec<String>, example = json!(["GM0268"]))]
    pub municipalities: Vec<String>,
}

/// A recorded covenant signature.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Covenant version signed.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub version: String,
    /// Date of signing, `YYYY-MM-DD`; not in the future.
    #[schema(format = Date)]
    pub signed_on: String,
    /// Who signed on behalf of the organisation (a function or name of the signatory).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub signatory: String,
}

/// An organisation as administrators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgView {
    pub oin: Oin,
    pub name: String,
    pub kind: OrgKind,
    pub covenant_roles: Vec<String>,
    pub municipalities: Vec<String>,
    pub status: OrgStatus,
    pub signatures: Vec<Signature>,
    pub created_at: Instant,
    pub updated_at: Instant,
}

/// Municipality codes, each a CBS code (`GM` and four digits), each once.
fn municipalities(given: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, m) in given.iter().enumerate() {
        if !crate::types::is_municipality(m) {
            return Err(OnboardingError::Validation(format!(
                "municipalities[{i}]: a CBS municipality code, `GM` and four digits (e.g. GM0268)"
            )));
        }
        if !out.contains(m) {
            out.push(m.clone());
        }
    }
    Ok(out)
}

/// Text of at most `max` characters without control characters that is not blank, kept without its surrounding
/// whitespace.
pub(super) fn text(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(OnboardingError::Validation(format!(
            "{field}: must be 1–{max} characters without control characters"
        )));
    }
    Ok(v.to_owned())
}

pub(super) fn oin(value: &str) -> Result<Oin> {
    value.parse().map_err(|_| OnboardingError::InvalidOin)
}

/// The keys of a JWKS for `oin`, each checked (see [`parse_jwks`]) and none registered for another organisation
/// already, current or retired: a key identifies one organisation.
async fn key_rows(store: &Store, oin: &Oin, jwks: &serde_json::Value) -> Result<Vec<KeyRow>> {
    let keys = parse_jwks(jwks).map_err(|e| OnboardingError::Jwks(e.to_string()))?;
    let elsewhere: Vec<String> = store
        .token_keys()
        .await?
        .into_iter()
        .filter(|k| k.oin != oin.as_str())
        .filter_map(|k| thumbprint(&k.jwk))
        .collect();
    if let Some(i) = keys.iter().position(|k| elsewhere.contains(&k.thumbprint)) {
        return Err(OnboardingError::Jwks(format!(
            "jwks: key {i}: is registered for another organisation already"
        )));
    }
    Ok(keys
        .into_iter()
        .map(|k| KeyRow {
            oin: oin.to_string(),
            kid: k.kid,
            alg: k.alg.to_owned(),
            jwk: k.jwk,
        })
        .collect())
}

/// Onboards a new organisation (status `active`), or one that was offboarded and signs again: it starts a new
/// membership period (new name, kind, roles and keys; its earlier keys retired, its earlier signatures no longer
/// counting), and its history stays in the log.
///
/// # Errors
/// Invalid OIN, name, kind, roles or JWKS; the host's role for another organisation; an OIN onboarded already
/// (and not offboarded).
pub async fn add(
    store: &Store,
    covenant: &Covenant,
    (host, now): (&Oin, OffsetDateTime),
    actor: &AnyActor,
    new: &NewOrg,
) -> Result<OrgView> {
    let oin = oin(&new.oin)?;
    let name = text("name", &new.name, 200)?;
    let kind: OrgKind = new
        .kind
        .parse()
        .map_err(|e: crate::types::ParseError| OnboardingError::Validation(e.to_string()))?;
    if new.covenant_roles.is_empty() {
        return Err(OnboardingError::Validation(
            "covenant_roles: at least one role is required".into(),
        ));
    }
    for (i, role) in new.covenant_roles.iter().enumerate() {
        if !covenant.has_role(role) {
            return Err(OnboardingError::Validation(format!(
                "covenant_roles[{i}]: not a role of covenant {}",
                covenant.version
            )));
        }
        if new.covenant_roles.iter().take(i).any(|r| r == role) {
            return Err(OnboardingError::Validation(format!(
                "covenant_roles[{i}]: listed twice"
            )));
        }
        if *role == covenant.host_role && &oin != host {
            return Err(OnboardingError::Validation(format!(
                "covenant_roles[{i}]: `{role}` is the host's role; only the host organisation holds it"
            )));
        }
    }
    let municipalities = municipalities(&new.municipalities)?;
    let existing = store.organisation(oin.as_str()).await?;
    let rejoins = match existing.map(|o| o.status) {
        None => false,
        Some(status) if status == OrgStatus::Offboarded.as_str() => true,
        Some(_) => return Err(OnboardingError::Exists("organisation")),
    };
    let keys = key_rows(store, &oin, &new.jwks).await?;
    let row = NewOrganisation {
        oin: oin.to_string(),
        name,
        kind: kind.as_str().to_owned(),
        roles: new.covenant_roles.join(","),
        municipalities: municipalities.join(","),
        keys,
    };
    let detail = serde_json::json!({"kind": row.kind, "covenant_roles": new.covenant_roles,
        "kids": row.keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), "rejoins": rejoins});
    let at = Instant::from(now);
    let mut tx = store.begin().await?;
    if rejoins {
        if !tx.rejoin_organisation(&row, &at.to_string()).await? {
            tx.rollback().await?;
            return Err(OnboardingError::Exists("organisation"));
        }
    } else {
        tx.insert_organisation(&row, &at.to_string()).await?;
    }
    finish(tx, actor.admin_entry("organisation.add", oin.as_str(), &detail), at).await?;
    get(store, oin.as_str()).await
}

/// One organisation with its signatures.
///
/// # Errors
/// Unknown OIN.
pub async fn get(store: &Store, oin_text: &str) -> Result<OrgView> {
    let oin = oin(oin_text)?;
    let row = store
        .organisation(oin.as_str())
        .await?
        .ok_or(OnboardingError::NotFound)?;
    let signatures = store.signatures_of(oin.as_str()).await?;
    view(row, signatures)
}

/// Every onboarded organisation.
pub async fn list(store: &Store) -> Result<Vec<OrgView>> {
    let mut out = Vec::new();
    for row in store.organisations().await? {
        let signatures = store.signatures_of(&row.oin).await?;
        out.push(view(row, signatures)?);
    }
    Ok(out)
}

/// An organisation as stored, parsed for its readers; a row edited into something else is reported as corrupt.
fn view(row: OrgRow, signatures: Vec<SignatureRow>) -> Result<OrgView> {
    let corrupt = |_| OnboardingError::Store(StoreError::Corrupt("organisation"));
    Ok(OrgView {
        covenant_roles: row.covenant_roles(),
        municipalities: row.municipalities(),
        oin: row.oin.parse().map_err(corrupt)?,
        name: row.name,
        kind: row.kind.parse().map_err(corrupt)?,
        status: row.status.parse().map_err(corrupt)?,
        signatures: signatures
            .into_iter()
            .map(|s| Signature {
                version: s.version,
                signed_on: s.signed_on,
                signatory: s.signatory,
            })
            .collect(),
        created_at: row.created_at.parse().map_err(corrupt)?,
        updated_at: row.updated_at.parse().map_err(corrupt)?,
    })
}

/// A token key as administrators see it (no key material beyond its thumbprint).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyView {
    pub kid: String,
    /// `EdDSA` or `ES256`.
    pub alg: String,
    /// RFC 7638 thumbprint of the public key.
    pub thumbprint: String,
    pub since: Instant,
    /// Set once the key was replaced; tokens it signed are refused from then on.
    pub retired_at: Option<Instant>,
}

/// A certificate the gateway's CA issued, as administrators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateView {
    /// Serial number, lowercase hex (what `cert revoke` and `/v1/admin/revocations` take).
    pub serial: String,
    /// `x5t#S256` of the certificate.
    pub thumbprint: String,
    pub issued_at: Instant,
    pub not_after: Instant,
    pub revoked_at: Option<Instant>,
}

/// What an organisation holds: its token keys and the certificates the gateway issued to it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Credentials {
    pub keys: Vec<KeyView>,
    pub certificates: Vec<CertificateView>,
}

/// The token keys (current and retired) and certificates of an onboarded organisation, oldest first.
///
/// # Errors
/// Malformed or unknown OIN, or a stored value that does not parse.
pub async fn credentials(store: &Store, oin_text: &str) -> Result<Credentials> {
    let oin = oin(oin_text)?;
    store
        .organisation(oin.as_str())
        .await?
        .ok_or(OnboardingError::NotFound)?;
    let corrupt = |_| OnboardingError::Store(StoreError::Corrupt("credential"));
    let instant = |t: &str| t.parse::<Instant>().map_err(corrupt);
    let mut keys = Vec::new();
    for k in store.token_keys().await?.into_iter().filter(|k| k.oin == oin.as_str()) {
        keys.push(KeyView {
            thumbprint: thumbprint(&k.jwk).unwrap_or_default(),
            since: instant(&k.added_at)?,
            retired_at: k.retired_at.as_deref().map(instant).transpose()?,
            kid: k.kid,
            alg: k.alg,
        });
    }
    let mut certificates = Vec::new();
    for c in store.certificates_of(oin.as_str()).await? {
        certificates.push(CertificateView {
            issued_at: instant(&c.issued_at)?,
            not_after: instant(&c.not_after)?,
            revoked_at: c.revoked_at.as_deref().map(instant).transpose()?,
            serial: c.serial,
            thumbprint: c.thumbprint,
        });
    }
    Ok(Credentials { keys, certificates })
}

/// Records that the organisation signed a covenant version.
///
/// # Errors
/// Malformed fields, a signing date in the future, unknown OIN, or this version signed already.
pub async fn sign(
    store: &Store,
    now: OffsetDateTime,
    actor: &AnyActor,
    oin_text: &str,
    sig: &Signature,
) -> Result<OrgView> {
    let oin = oin(oin_text)?;
    let version = text("version", &sig.version, 64)?;
    let signatory = text("signatory", &sig.signatory, 200)?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(sig.signed_on.trim(), &format)
        .map_err(|_| OnboardingError::Validation("signed_on: must be a date YYYY-MM-DD".into()))?;
    if date > now.date() {
        return Err(OnboardingError::Validation("signed_on: lies in the future".into()));
    }
    let detail = serde_json::json!({"version": version, "signed_on": date.to_string()});
    let at = Instant::from(now);
    let row = SignatureRow {
        oin: oin.to_string(),
        version,
        signed_on: date.to_string(),
        signatory,
        recorded_at: at.to_string(),
    };
    let mut tx = store.begin().await?;
    tx.insert_signature(&row).await?;
    finish(tx, actor.admin_entry("organisation.sign", oin.as_str(), &detail), at).await?;
    get(store, oin.as_str()).await
}

/// Replaces the organisation's token keys; tokens signed with the old keys stop working at once.
///
/// # Errors
/// Malformed JWKS or unknown OIN.
pub async fn rotate_keys(
    store: &Store,
    now: OffsetDateTime,
    actor: &AnyActor,
    oin_text: &str,
    jwks: &serde_json::Value,
) -> Result<OrgView> {
    let oin = oin(oin_text)?;
    let keys = key_rows(store, &oin, jwks).await?;
    let detail = serde_json::json!({"kids": keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>()});
    let at = Instant::from(now);
    let mut tx = store.begin().await?;
    tx.replace_keys(oin.as_str(), &keys, &at.to_string()).await?;
    finish(
        tx,
        actor.admin_entry("organisation.rotate_keys", oin.as_str(), &detail),
        at,
    )
    .await?;
    get(store, oin.as_str()).await
}

/// A lifecycle step: which statuses it starts from and where it leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Suspend,
    Reinstate,
    Offboard,
}

impl Transition {
    /// The step a path names (`suspend`, `reinstate`, `offboard`).
    pub fn parse(name: &str) -> Option<Transition> {
        [Transition::Suspend, Transition::Reinstate, Transition::Offboard]
            .into_iter()
            .find(|s| s.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            Transition::Suspend => "suspend",
            Transition::Reinstate => "reinstate",
            Transition::Offboard => "offboard",
        }
    }

    fn rule(self) -> (&'static [&'static str], OrgStatus) {
        match self {
            Transition::Suspend => (&["active"], OrgStatus::Suspended),
            Transition::Reinstate => (&["suspended"], OrgStatus::Active),
            Transition::Offboard => (&["active", "suspended"], OrgStatus::Offboarded),
        }
    }
}

/// Suspends, reinstates or offboards an organisation. Offboarding also revokes every certificate the gateway
/// issued to it. The host organisation cannot be suspended or offboarded (that would lock out its admins).
///
/// # Errors
/// Missing reason, unknown OIN, the host organisation, or a status the step does not start from.
pub async fn transition(
    store: &Store,
    now: OffsetDateTime,
    actor: &AnyActor,
    host_oin: &Oin,
    oin_text: &str,
    step: Transition,
    reason: Option<&str>,
) -> Result<OrgView> {
    let oin = oin(oin_text)?;
    let reason = reason.map(|r| text("reason", r, 500)).transpose()?;
    if &oin == host_oin && step != Transition::Reinstate {
        return Err(OnboardingError::HostProtected);
    }
    let (from, to) = step.rule();
    let entry = actor.admin_entry(
        &format!("organisation.{}", step.name()),
        oin.as_str(),
        &serde_json::json!({"reason": reason}),
    );
    let at = Instant::from(now);
    let mut tx = store.begin().await?;
    let previous = tx.set_status(oin.as_str(), from, to.as_str(), &at.to_string()).await?;
    if from.contains(&previous.as_str()) {
        finish(tx, entry, at).await?;
    } else {
        tx.rollback().await?;
        return Err(OnboardingError::InvalidState {
            action: step.name(),
            status: previous,
        });
    }
    get(store, oin.as_str()).await
}

/// Revokes a certificate by serial (hex); new handshakes with it fail and open connections are refused at their
/// next request. Returns false when it was revoked already.
///
/// # Errors
/// Malformed serial or reason.
pub async fn revoke_certificate(
    store: &Store,
    now: OffsetDateTime,
    actor: &AnyActor,
    serial: &str,
    reason: &str,
) -> Result<bool> {
    let serial = normalise_serial(serial)?;
    let reason = text("reason", reason, 500)?;
    let entry = actor.admin_entry("certificate.revoke", &serial, &serde_json::json!({"reason": reason}));
    let at = Instant::from(now);
    let mut tx = store.begin().await?;
    let revoked = tx.revoke(&serial, &reason, &at.to_string()).await?;
    if revoked {
        finish(tx, entry, at).await?;
    } else {
        tx.rollback().await?;
    }
    Ok(revoked)
}

/// Lowercase hex without separators or leading zero bytes, as the gateway compares serials.
///
/// # Errors
/// Not a hex serial of at most 20 bytes.
pub fn normalise_serial(serial: &str) -> Result<String> {
    let cleaned: String = serial
        .trim()
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_lowercase();
    let mut bytes = hex::decode(if cleaned.len() % 2 == 1 {
        format!("0{cleaned}")
    } else {
        cleaned
    })
    .map_err(|_| OnboardingError::Validation("serial: must be hexadecimal".into()))?;
    while bytes.len() > 1 && bytes.first() == Some(&0) {
        bytes.remove(0);
    }
    if bytes.is_empty() || bytes.len() > 20 {
        return Err(OnboardingError::Validation("serial: must be 1–20 bytes".into()));
    }
    Ok(hex::encode(bytes))
}

/// Issues a client certificate for `oin` from the gateway's own CA and remembers it (so offboarding revokes it).
///
/// # Errors
/// Malformed OIN or name, no CA, or certificate generation failed.
pub async fn issue_certificate(
    store: &Store,
    ca: Option<&CertificateAuthority>,
    now: OffsetDateTime,
    actor: &AnyActor,
    oin_text: &str,
    name: &str,
    days: i64,
) -> Result<IssuedCertificate> {
    let (ca, spec) = certifiable(store, ca, now, oin_text, name, days).await?;
    let issued = ca.issue_client(&spec).map_err(OnboardingError::Pki)?;
    record_certificate(
        store,
        now,
        actor,
        spec.oin.as_deref().unwrap_or_default(),
        &issued.signed(),
    )
    .await?;
    Ok(issued)
}

/// Signs a partner's own certificate request (its key never leaves it) for `oin`, whose subject must name that
/// OIN and nothing else, and remembers the certificate (so offboarding revokes it). The way to give a partner a
/// certificate from the gateway's CA.
///
/// # Errors
/// As [`issue_certificate`]; a request that does not verify, names another or no OIN, or has a key the gateway
/// does not certify.
#[allow(clippy::too_many_arguments)]
pub async fn sign_request(
    store: &Store,
    ca: Option<&CertificateAuthority>,
    now: OffsetDateTime,
    actor: &AnyActor,
    oin_text: &str,
    name: &str,
    days: i64,
    request_pem: &str,
) -> Result<SignedCertificate> {
    let (ca, spec) = certifiable(store, ca, now, oin_text, name, days).await?;
    let request = read_request(request_pem).map_err(OnboardingError::Pki)?;
    if request.subject_oin.oin().map(Oin::as_str) != spec.oin.as_deref() {
        return Err(OnboardingError::Validation(
            "the certificate request's subject must name this OIN, once, in its serialNumber".into(),
        ));
    }
    let signed = ca.sign_request(&request, &spec).map_err(OnboardingError::Pki)?;
    record_certificate(store, now, actor, spec.oin.as_deref().unwrap_or_default(), &signed).await?;
    Ok(signed)
}

/// The CA and what a certificate for `oin` says, if the organisation may have one: onboarded and not offboarded.
async fn certifiable<'a>(
    store: &Store,
    ca: Option<&'a CertificateAuthority>,
    now: OffsetDateTime,
    oin_text: &str,
    name: &str,
    days: i64,
) -> Result<(&'a CertificateAuthority, ClientCertSpec)> {
    let oin = oin(oin_text)?;
    let name = text("name", name, 64)?;
    let ca = ca.ok_or(OnboardingError::NoCa)?;
    if !(1..=825).contains(&days) {
        return Err(OnboardingError::Validation("days: must be 1–825".into()));
    }
    let org = store
        .organisation(oin.as_str())
        .await?
        .ok_or(OnboardingError::NotFound)?;
    if org.status == OrgStatus::Offboarded.as_str() {
        return Err(OnboardingError::InvalidState {
            action: "issue a certificate for",
            status: org.status,
        });
    }
    Ok((ca, ClientCertSpec::new(&name, oin.as_str(), now, days)))
}

/// Remembers a certificate issued elsewhere by the gateway's CA (the demo issues them before the database exists).
pub async fn record_certificate(
    store: &Store,
    now: OffsetDateTime,
    actor: &AnyActor,
    oin: &str,
    issued: &SignedCertificate,
) -> Result<()> {
    let entry = actor.admin_entry(
        "certificate.issue",
        &issued.serial,
        &serde_json::json!({"oin": oin, "not_after": rfc3339(issued.not_after)}),
    );
    let at = Instant::from(now);
    let row = CertificateRow {
        serial: issued.serial.clone(),
        oin: oin.to_owned(),
        thumbprint: issued.thumbprint.clone(),
        not_after: rfc3339(issued.not_after),
        issued_at: at.to_string(),
    };
    let mut tx = store.begin().await?;
    tx.insert_certificate(&row).await?;
    finish(tx, entry, at).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_normalised() {
        assert_eq!(normalise_serial("00:AB:cd").unwrap(), "abcd");
        assert_eq!(normalise_serial("abc").unwrap(), "0abc");
        assert!(normalise_serial("xyz").is_err());
        assert!(normalise_serial("").is_err());
    }
}
