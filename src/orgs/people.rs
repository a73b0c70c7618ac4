//! The people of an organisation who use the console: registering them with a personal certificate, and their
//! lifecycle. Shared by `doelpoort person …` and `/v1/admin/people…`; every change commits with its `admin` record
//! and moves the registry generation, so a suspended or removed person is refused at their next request.
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::onboarding::{finish, oin, text, OnboardingError};
use crate::crypto::pki::{
    cert_facts, read_request, CertificateAuthority, ClientCertSpec, IssuedCertificate, PkiError, SignedCertificate,
};
use crate::log::actor::AnyActor;
use crate::store::{PersonCertRow, PersonRow, Store};
use crate::types::clock::rfc3339;
use crate::types::{Instant, Oin, OrgStatus, PersonId, PersonStatus, UserRole};

type Result<T> = std::result::Result<T, OnboardingError>;

/// Validity of a personal certificate the gateway's CA issues or signs.
pub const PERSON_CERT_DAYS: i64 = 365;

/// A person to register.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// The organisation's OIN.
    #[schema(pattern = "^[0-9]{20}$")]
    pub oin: String,
    /// The person's id at that organisation (the certificate's `UID`).
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub id: String,
    /// Name as shown in the console and the certificate's `CN`.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// `procesregisseur` and `admin` only for the host.
    pub roles: Vec<UserRole>,
}

/// Where a person's certificate comes from.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// The gateway's CA makes a key and certificate (development and demo: the host then knows the key).
    Issue,
    /// The gateway's CA signs the person's own certificate request (PEM).
    Csr(&'a str),
    /// A certificate (PEM) from the organisation's own CA, which must be a trust anchor of the gateway.
    Cert(&'a str),
}

/// What registering gave: the person and, unless a certificate was registered, the one the CA made.
#[derive(Debug)]
pub struct Registered {
    pub person: PersonView,
    /// The key and certificate the CA made ([`Credential::Issue`]).
    pub issued: Option<IssuedCertificate>,
    /// The certificate the CA signed ([`Credential::Csr`]).
    pub signed: Option<SignedCertificate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonView {
    pub oin: Oin,
    pub id: PersonId,
    pub name: String,
    pub roles: Vec<UserRole>,
    pub status: PersonStatus,
    pub certificates: Vec<PersonCertificate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonCertificate {
    /// `x5t#S256`.
    pub thumbprint: String,
    /// Lowercase hex.
    pub serial: String,
    pub not_after: String,
    /// `issued`, `csr` or `registered`.
    pub source: String,
    pub added_at: String,
}

/// Checks a new person: its id, name and roles, and that its organisation may have people (onboarded, not
/// offboarded). Host-only roles only for the host.
async fn checked(store: &Store, host_oin: &Oin, new: &NewPerson) -> Result<(Oin, PersonId, String, String)> {
    let oin = oin(&new.oin)?;
    let id: PersonId = new
        .id
        .parse()
        .map_err(|e: crate::types::ParseError| OnboardingError::Validation(e.to_string()))?;
    let name = text("name", &new.name, 64)?;
    if new.roles.is_empty() {
        return Err(OnboardingError::Validation("roles: name at least one role".into()));
    }
    if let Some(role) = new.roles.iter().find(|r| r.host_only() && &oin != host_oin) {
        return Err(OnboardingError::Validation(format!(
            "roles: {} is only for people of the host organisation",
            role.as_str()
        )));
    }
    let org = store
        .organisation(oin.as_str())
        .await?
        .ok_or(OnboardingError::NotFound)?;
    if org.status == OrgStatus::Offboarded.as_str() {
        return Err(OnboardingError::InvalidState {
            action: "register a person for",
            status: org.status,
        });
    }
    Ok((oin, id, name, org.name))
}

/// Registers a person with a personal certificate.
///
/// # Errors
/// Invalid id, name or roles; an unknown or offboarded organisation; a person with this id already; no CA (for
/// issue and CSR); a request or certificate that does not fit (another OIN, no client authentication, expired).
pub async fn add(
    store: &Store,
    ca: Option<&CertificateAuthority>,
    (now, actor, host_oin): (OffsetDateTime, &AnyActor, &Oin),
    new: &NewPerson,
    credential: Credential<'_>,
) -> Result<Registered> {
    let (oin, id, name, org_name) = checked(store, host_oin, new).await?;
    let spec = || ClientCertSpec {
        person: Some((id.to_string(), org_name.clone())),
        ..ClientCertSpec::new(&name, oin.as_str(), now, PERSON_CERT_DAYS)
    };
    let (mut issued, mut signed) = (None, None);
    let cert = match credential {
        Credential::Issue => {
            let made = ca
                .ok_or(OnboardingError::NoCa)?
                .issue_client(&spec())
                .map_err(OnboardingError::Pki)?;
            let cert = (made.signed(), "issued");
            issued = Some(made);
            cert
        }
        Credential::Csr(pem) => {
            let ca = ca.ok_or(OnboardingError::NoCa)?;
            let request = read_request(pem).map_err(OnboardingError::Pki)?;
            if request.subject_oin.oin() != Some(&oin) {
                return Err(OnboardingError::Validation(
                    "the certificate request's subject must name this OIN, once, in its serialNumber".into(),
                ));
            }
            let made = ca.sign_request(&request, &spec()).map_err(OnboardingError::Pki)?;
            signed = Some(made.clone());
            (made, "csr")
        }
        Credential::Cert(pem) => (registered_certificate(pem, &oin, now)?, "registered"),
    };
    let (cert, source) = cert;
    let at = Instant::from(now);
    let roles: Vec<&str> = new.roles.iter().map(|r| r.as_str()).collect();
    let entry = actor.admin_entry(
        "person.add",
        &format!("{oin}/{id}"),
        &serde_json::json!({"roles": roles, "certificate": cert.serial, "source": source}),
    );
    let row = PersonRow {
        oin: oin.to_string(),
        person_id: id.to_string(),
        name,
        roles: roles.join(","),
        status: PersonStatus::Active.as_str().to_owned(),
        created_at: at.to_string(),
        updated_at: at.to_string(),
    };
    let cert_row = PersonCertRow {
        thumbprint: cert.thumbprint.clone(),
        oin: oin.to_string(),
        person_id: id.to_string(),
        serial: cert.serial.clone(),
        not_after: rfc3339(cert.not_after),
        source: source.to_owned(),
        added_at: at.to_string(),
    };
    let mut tx = store.begin().await?;
    tx.insert_person(&row).await?;
    tx.insert_person_certificate(&cert_row).await?;
    finish(tx, entry, at).await?;
    Ok(Registered {
        person: get(store, oin.as_str(), id.as_str()).await?,
        issued,
        signed,
    })
}

/// A certificate from the organisation's own CA: it names this OIN once, is for client authentication and is
/// still valid. Its chain is checked at every handshake against the configured trust anchors.
fn registered_certificate(pem: &str, oin: &Oin, now: OffsetDateTime) -> Result<SignedCertificate> {
    use rustls_pki_types::pem::PemObject as _;
    let der = rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|_| OnboardingError::Validation("certificate: is not a PEM certificate".into()))?;
    let facts = cert_facts(&der).map_err(|e| match e {
        PkiError::Parse => OnboardingError::Validation("certificate: is not valid X.509".into()),
        other => OnboardingError::Pki(other),
    })?;
    if facts.subject_oin.oin() != Some(oin) {
        return Err(OnboardingError::Validation(
            "certificate: its subject must name this OIN, once, in its serialNumber".into(),
        ));
    }
    if !facts.client_auth {
        return Err(OnboardingError::Validation(
            "certificate: its extended key usage must name client authentication".into(),
        ));
    }
    if facts.not_after <= now {
        return Err(OnboardingError::Validation("certificate: has expired".into()));
    }
    Ok(SignedCertificate {
        serial: facts.serial,
        thumbprint: facts.thumbprint,
        not_after: facts.not_after,
        cert_pem: pem.to_owned(),
    })
}

/// One person with their certificates.
///
/// # Errors
/// Unknown organisation or person.
pub async fn get(store: &Store, oin_text: &str, id: &str) -> Result<PersonView> {
    let oin = oin(oin_text)?;
    let row = store
        .person(oin.as_str(), id)
        .await?
        .ok_or(OnboardingError::PersonNotFound)?;
    let certs = store.person_certificates(Some(oin.as_str())).await?;
    view(row, &certs)
}

/// Every person, of one organisation when `oin` is given.
///
/// # Errors
/// A malformed OIN.
pub async fn list(store: &Store, oin_text: Option<&str>) -> Result<Vec<PersonView>> {
    let oin = oin_text.map(oin).transpose()?;
    let oin = oin.as_ref().map(Oin::as_str);
    let certs = store.person_certificates(oin).await?;
    store
        .people(oin)
        .await?
        .into_iter()
        .map(|row| view(row, &certs))
        .collect()
}

fn view(row: PersonRow, certs: &[PersonCertRow]) -> Result<PersonView> {
    let corrupt = || OnboardingError::Store(crate::store::StoreError::Corrupt("person"));
    let certificates = certs
        .iter()
        .filter(|c| c.oin == row.oin && c.person_id == row.person_id)
        .map(|c| PersonCertificate {
            thumbprint: c.thumbprint.clone(),
            serial: c.serial.clone(),
            not_after: c.not_after.clone(),
            source: c.source.clone(),
            added_at: c.added_at.clone(),
        })
        .collect();
    Ok(PersonView {
        oin: row.oin.parse().map_err(|_| corrupt())?,
        id: row.person_id.parse().map_err(|_| corrupt())?,
        name: row.name,
        roles: row.roles.split(',').filter_map(|r| r.parse().ok()).collect(),
        status: row.status.parse().map_err(|_| corrupt())?,
        certificates,
    })
}

/// A step in a person's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonStep {
    Suspend,
    Reinstate,
    Remove,
}

impl PersonStep {
    /// The step a path names (`suspend`, `reinstate`, `remove`).
    pub fn parse(name: &str) -> Option<PersonStep> {
        [PersonStep::Suspend, PersonStep::Reinstate, PersonStep::Remove]
            .into_iter()
            .find(|s| s.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            PersonStep::Suspend => "suspend",
            PersonStep::Reinstate => "reinstate",
            PersonStep::Remove => "remove",
        }
    }

    fn rule(self) -> (&'static [&'static str], PersonStatus) {
        match self {
            PersonStep::Suspend => (&["active"], PersonStatus::Suspended),
            PersonStep::Reinstate => (&["suspended"], PersonStatus::Active),
            PersonStep::Remove => (&["active", "suspended"], PersonStatus::Removed),
        }
    }
}

/// Suspends, reinstates or removes a person; refused from a status the step does not start from (a removed
/// person stays removed).
///
/// # Errors
/// Unknown organisation or person, or the wrong status.
pub async fn transition(
    store: &Store,
    (now, actor): (OffsetDateTime, &AnyActor),
    oin_text: &str,
    id: &str,
    step: PersonStep,
) -> Result<PersonView> {
    let oin = oin(oin_text)?;
    let (from, to) = step.rule();
    let at = Instant::from(now);
    let entry = actor.admin_entry(
        &format!("person.{}", step.name()),
        &format!("{oin}/{id}"),
        &serde_json::json!({}),
    );
    let mut tx = store.begin().await?;
    let previous = tx
        .set_person_status((oin.as_str(), id), from, to.as_str(), &at.to_string())
        .await?;
    if from.contains(&previous.as_str()) {
        finish(tx, entry, at).await?;
    } else {
        tx.rollback().await?;
        return Err(OnboardingError::PersonState {
            action: step.name(),
            status: previous,
        });
    }
    get(store, oin.as_str(), id).await
}
