//! The recorded facts a decision depends on, read once per flow: the case's members and holder, the meeting's
//! window, agenda and attendees (with confidentiality declarations), the organisations' covenant roles and
//! signatures, and the case's valid consents. [`Facts::decide`] then asks the pure decision point per category,
//! so a response of many items reads the database once and every item is judged by the same facts.
use time::OffsetDateTime;

use crate::clock::rfc3339;
use crate::covenant::Covenant;
use crate::decision::{Decision, Party, Question};
use crate::domain::OrgStatus;
use crate::registry::Snapshot;
use crate::store::{AttendeeRow, ConsentScope, Store, StoreError};

/// Where data flows: in answer to a request (membership counts, attendance does not) or as a share inside a
/// meeting (the attendees of the open meeting only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Request,
    MeetingShare,
}

/// One flow to decide: from `source` to `recipient` (OINs) about a case, in the context of a meeting.
#[derive(Debug, Clone, Copy)]
pub struct Flow<'a> {
    pub case_id: &'a str,
    pub meeting_id: &'a str,
    pub source: &'a str,
    pub recipient: &'a str,
    pub setting: Setting,
}

#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    #[error("no such case")]
    UnknownCase,
    #[error("no such meeting")]
    UnknownMeeting,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One organisation's side, owned.
#[derive(Debug, Clone, Default)]
struct Side {
    roles: Vec<String>,
    member: bool,
    attends: bool,
    signed: bool,
    declaration: bool,
    case_holder: bool,
}

impl Side {
    fn party(&self) -> Party<'_> {
        Party {
            roles: &self.roles,
            member: self.member,
            attends: self.attends,
            signed: self.signed,
            declaration: self.declaration,
            case_holder: self.case_holder,
        }
    }
}

/// Everything recorded about one flow at one instant.
#[derive(Debug, Clone)]
pub struct Facts {
    meeting_type: String,
    meeting_open: bool,
    on_agenda: bool,
    source: Side,
    recipient: Side,
    recipient_oin: String,
    consents: Vec<ConsentScope>,
}

impl Facts {
    /// Reads the facts of `flow` at `now`.
    ///
    /// # Errors
    /// The case or meeting does not exist, or the database refused.
    pub async fn gather(
        store: &Store,
        registry: &Snapshot,
        covenant: &Covenant,
        now: OffsetDateTime,
        flow: &Flow<'_>,
    ) -> Result<Facts, FactsError> {
        let case = store.case(flow.case_id).await?.ok_or(FactsError::UnknownCase)?;
        let meeting = store
            .meeting(flow.meeting_id)
            .await?
            .ok_or(FactsError::UnknownMeeting)?;
        let members = store.case_members(flow.case_id).await?;
        let agenda = store.meeting_agenda(flow.meeting_id).await?;
        let attendees = store.meeting_attendees(flow.meeting_id).await?;
        let side = |oin: &str| {
            let attendee: Option<&AttendeeRow> = attendees.iter().find(|a| a.oin == oin);
            let org = registry.organisation(oin).filter(|o| o.status == OrgStatus::Active);
            Side {
                roles: org.map(|o| o.covenant_roles.clone()).unwrap_or_default(),
                member: case.status == "open" && members.iter().any(|m| m.oin == oin),
                attends: flow.setting == Setting::Request || attendee.is_some(),
                signed: org.is_some_and(|o| o.signed_versions.contains(&covenant.version)),
                declaration: attendee.is_some_and(|a| a.declaration_signed_by.is_some()),
                case_holder: case.holder_oin == oin,
            }
        };
        Ok(Facts {
            meeting_type: meeting.meeting_type.clone(),
            meeting_open: crate::meetings::in_session(&meeting, now),
            on_agenda: agenda.iter().any(|c| c == flow.case_id),
            source: side(flow.source),
            recipient: side(flow.recipient),
            recipient_oin: flow.recipient.to_owned(),
            consents: store.consent_scopes(flow.case_id, &rfc3339(now)).await?,
        })
    }

    /// May `category` flow for `purpose`, given these facts?
    pub fn decide(&self, covenant: &Covenant, purpose: &str, category: &str) -> Decision {
        covenant.decide(&Question {
            source: self.source.party(),
            recipient: self.recipient.party(),
            meeting_type: &self.meeting_type,
            purpose,
            category,
            meeting_open: self.meeting_open,
            on_agenda: self.on_agenda,
            consent: self.consents.iter().any(|c| c.covers(category, &self.recipient_oin)),
        })
    }

    pub fn meeting_type(&self) -> &str {
        &self.meeting_type
    }
}
