//! Who is calling: the organisation from the connection's certificate (onboarded, active, certificate not
//! revoked) and the professional from a bearer token bound to that certificate ([`identify`], the API's path), or
//! a registered person from their personal certificate ([`person_of`], the console's path). A personal
//! certificate opens the console only, an organisation's certificate the API only. There is no other way to learn
//! the caller.
use std::sync::Arc;

use crate::edge::conn::PeerCert;
use crate::edge::token::{TokenError, TokenVerifier, VerifiedToken};
use crate::orgs::registry::{Organisation, Person, Snapshot};
use crate::types::{OrgStatus, PersonStatus, UserRole};

/// An identified organisation and professional.
#[derive(Debug, Clone)]
pub struct Caller {
    pub org: Arc<Organisation>,
    pub user: Arc<VerifiedToken>,
}

/// Why a caller is not let in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("the client certificate of this connection has been revoked")]
    CertificateRevoked,
    #[error("the organisation of this certificate is not onboarded")]
    UnknownOrganisation,
    #[error("the organisation of this certificate is suspended")]
    Suspended,
    #[error("the organisation of this certificate has been offboarded")]
    Offboarded,
    #[error("an Authorization: Bearer token is required")]
    NoToken,
    #[error("a personal certificate opens the console only; the API needs the organisation's certificate")]
    PersonalCertificate,
    #[error("this certificate is not registered for a person; the console needs a personal certificate")]
    NotAPerson,
    #[error("this person is suspended")]
    PersonSuspended,
    #[error("this person has been removed")]
    PersonRemoved,
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// The professional lacks a role the action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this action needs the {} role", .0.as_str())]
pub struct MissingRole(pub UserRole);

impl Caller {
    pub fn has_role(&self, role: UserRole) -> bool {
        self.user.roles.contains(&role)
    }

    /// Refuses unless the professional holds `role`.
    ///
    /// # Errors
    /// [`MissingRole`] when the role is missing.
    pub fn require(&self, role: UserRole) -> Result<(), MissingRole> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(MissingRole(role))
        }
    }
}

/// The organisation behind a certificate, if it may use the gateway now.
///
/// # Errors
/// The certificate is revoked, or its organisation is not onboarded or not active.
pub fn organisation_of(snapshot: &Snapshot, peer: &PeerCert) -> Result<Arc<Organisation>, IdentityError> {
    if snapshot.is_revoked(&peer.serial) {
        return Err(IdentityError::CertificateRevoked);
    }
    let org = snapshot
        .organisation(&peer.oin)
        .ok_or(IdentityError::UnknownOrganisation)?;
    match org.status {
        OrgStatus::Active => Ok(org.clone()),
        OrgStatus::Suspended => Err(IdentityError::Suspended),
        OrgStatus::Offboarded => Err(IdentityError::Offboarded),
    }
}

/// The whole per-request identity path: certificate → organisation → token → roles.
///
/// # Errors
/// The refusals of [`organisation_of`] and of token verification.
pub fn identify(
    snapshot: &Snapshot,
    tokens: &TokenVerifier,
    peer: &PeerCert,
    authorization: Option<&str>,
    now: i64,
) -> Result<Caller, IdentityError> {
    if snapshot.person(&peer.thumbprint).is_some() {
        return Err(IdentityError::PersonalCertificate);
    }
    let org = organisation_of(snapshot, peer)?;
    let token = authorization
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or(IdentityError::NoToken)?;
    let user = tokens.verify(token, &org, &peer.thumbprint, now, snapshot.generation)?;
    Ok(Caller { org, user })
}

/// The console's identity path: certificate → registered, active person of an active organisation. The person
/// acts as a [`Caller`] with their registered roles, named `person:ID` in the records, so every rule of the API
/// applies to them unchanged.
///
/// # Errors
/// The refusals of [`organisation_of`]; a certificate no person is registered with; a suspended or removed
/// person. Host-only roles count only for the host's people (registration refuses them elsewhere too).
pub fn person_of(
    snapshot: &Snapshot,
    peer: &PeerCert,
    host_oin: &crate::types::Oin,
) -> Result<(Caller, Arc<Person>), IdentityError> {
    let person = snapshot.person(&peer.thumbprint).ok_or(IdentityError::NotAPerson)?;
    let org = organisation_of(snapshot, peer)?;
    if person.oin != org.oin {
        return Err(IdentityError::NotAPerson);
    }
    match person.status {
        PersonStatus::Active => {}
        PersonStatus::Suspended => return Err(IdentityError::PersonSuspended),
        PersonStatus::Removed => return Err(IdentityError::PersonRemoved),
    }
    let roles = person
        .roles
        .iter()
        .copied()
        .filter(|r| !r.host_only() || &org.oin == host_oin)
        .collect();
    let user = VerifiedToken {
        sub: format!("person:{}", person.id),
        roles,
        exp: i64::MAX,
        thumbprint: peer.thumbprint.clone(),
    };
    Ok((
        Caller {
            org,
            user: Arc::new(user),
        },
        person.clone(),
    ))
}
