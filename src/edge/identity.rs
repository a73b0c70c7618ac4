//! Who is calling: the organisation from the connection's certificate (onboarded, active, certificate not
//! revoked) and the professional from a bearer token bound to that certificate. [`identify`] is the whole path;
//! the API's extractor calls it for every request and there is no other way to learn the caller.
use std::sync::Arc;

use crate::edge::conn::PeerCert;
use crate::edge::token::{TokenError, TokenVerifier, VerifiedToken};
use crate::orgs::registry::{Organisation, Snapshot};
use crate::types::{OrgStatus, UserRole};

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
