//! Hit/no-hit (002 §3.3): a professional of a role the covenant allows asks whether a person is discussed in
//! the ZVH. The answer is `known` and, when known, whom to contact — the holder of the newest open case — and
//! nothing more. Every answer is a `lookup` record committed before it leaves; a refused lookup is a `refusal`
//! record. A per-user rate limit stops anyone from enumerating BSNs.
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::time::Duration;
use utoipa::ToSchema;

use crate::cases::Subject;
use crate::covenant::decision::Refusal;
use crate::covenant::Covenant;
use crate::crypto::Pseudonymiser;
use crate::log::actor::Actor;
use crate::log::chain::{Entry, Kind};
use crate::log::{Log, LogError, Released};
use crate::orgs::registry::Snapshot;
use crate::store::{Store, StoreError};
use crate::types::Oin;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    pub subject: Subject,
    /// A lookup purpose of the covenant in force.
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LookupAnswer {
    pub known: bool,
    pub contact: Option<Contact>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Contact {
    pub oin: Oin,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("subject.bsn: not a valid BSN (nine digits passing the elfproef)")]
    InvalidBsn,
    #[error("{0}")]
    Validation(String),
    /// The decision point refused (recorded).
    #[error(transparent)]
    Refused(Refusal),
    #[error("too many lookups; try again later")]
    RateLimited { retry_after: Duration },
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Lookups per user (organisation and subject of the token) and per organisation, each a rate with an equal burst.
pub struct LookupLimiter {
    users: DefaultKeyedRateLimiter<String>,
    organisations: DefaultKeyedRateLimiter<Oin>,
    clock: DefaultClock,
}

/// Users remembered before idle ones are forgotten.
const LIMITER_USERS: usize = 10_000;

impl LookupLimiter {
    /// At most `per_user` lookups a minute per user and `per_organisation` per organisation (whatever users its
    /// tokens name, so that an organisation's own token service cannot enumerate); 0 is treated as 1 (lookups are
    /// never unlimited).
    pub fn new(per_user: u32, per_organisation: u32) -> LookupLimiter {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        LookupLimiter {
            users: DefaultKeyedRateLimiter::keyed(quota(per_user)),
            organisations: DefaultKeyedRateLimiter::keyed(quota(per_organisation)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one lookup from the organisation's and the user's allowance, or says how long to wait.
    fn take(&self, oin: &Oin, sub: &str) -> Result<(), LookupError> {
        if self.users.len() > LIMITER_USERS {
            self.users.retain_recent();
        }
        let wait = |not_until: governor::NotUntil<_>| LookupError::RateLimited {
            retry_after: not_until.wait_time_from(self.clock.now()),
        };
        // The user's allowance first: a user over its own limit does not spend the organisation's budget.
        self.users.check_key(&format!("{oin}/{sub}")).map_err(wait)?;
        self.organisations.check_key(oin).map_err(wait)
    }
}

/// What a lookup needs from the gateway.
pub struct Lookups<'a> {
    pub store: &'a Store,
    pub log: &'a Log,
    pub pseudonyms: &'a Pseudonymiser,
    pub registry: &'a Snapshot,
    pub covenant: &'a Covenant,
    pub limiter: &'a LookupLimiter,
    pub host_oin: &'a Oin,
}

impl Lookups<'_> {
    /// Answers one hit/no-hit for `actor`, whose organisation holds `roles`.
    ///
    /// # Errors
    /// Over the rate limit, a role or organisation the covenant does not allow (recorded as a refusal), a bad
    /// BSN or purpose, or the log or database could not be reached (nothing is answered).
    pub async fn lookup(
        &self,
        actor: &Actor,
        roles: &[String],
        signed_versions: &[String],
        request: &LookupRequest,
    ) -> Result<Released<LookupAnswer>, LookupError> {
        self.limiter.take(&actor.oin, &actor.sub)?;
        let subject = match request.subject.resolve(self.pseudonyms, "subject") {
            Ok(s) => s.pseudonym,
            Err(crate::cases::CaseError::InvalidBsn) => return Err(LookupError::InvalidBsn),
            Err(e) => return Err(LookupError::Validation(e.to_string())),
        };
        if !self.covenant.lookup_purposes.iter().any(|p| p.id == request.purpose) {
            return Err(LookupError::Validation(format!(
                "purpose: unknown lookup purpose `{}`",
                request.purpose
            )));
        }
        let signed = signed_versions.contains(&self.covenant.version);
        let decision = self.covenant.decide_lookup(roles, signed);
        if let Some(denial) = decision.denial.clone() {
            let entry = Entry {
                reason: Some(format!("{}: {}", decision.code(), decision.reason)),
                ..self.entry(Kind::Refusal, actor, &subject, &request.purpose)
            };
            self.log.append(entry).await?;
            return Err(LookupError::Refused(Refusal {
                denial,
                detail: decision.reason,
            }));
        }
        let newest = self.store.open_cases_about(&subject).await?.into_iter().next();
        let contact = newest.as_ref().map(|(_, holder)| Contact {
            name: self
                .registry
                .organisation(holder)
                .map_or_else(String::new, |o| o.name.clone()),
            oin: holder.clone(),
        });
        let entry = Entry {
            case_id: newest.as_ref().map(|(case, _)| case.to_string()),
            reason: Some(match &contact {
                Some(c) => format!("hit; contact {}", c.oin),
                None => "no hit".into(),
            }),
            ..self.entry(Kind::Lookup, actor, &subject, &request.purpose)
        };
        let answer = LookupAnswer {
            known: contact.is_some(),
            contact,
        };
        Ok(self.log.release(answer, vec![entry]).await?)
    }

    fn entry(&self, kind: Kind, actor: &Actor, subject: &str, purpose: &str) -> Entry {
        actor.stamp(Entry {
            source_oin: Some(self.host_oin.to_string()),
            recipient_oin: Some(actor.oin.to_string()),
            actor_oin: Some(actor.oin.to_string()),
            actor_sub: Some(actor.sub.clone()),
            subject: Some(subject.to_owned()),
            purpose: Some(purpose.to_owned()),
            covenant_version: Some(self.covenant.version.clone()),
            article: Some(self.covenant.lookup_article.clone()),
            ..Entry::new(kind)
        })
    }
}
