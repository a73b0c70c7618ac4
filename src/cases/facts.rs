//! The recorded facts a decision depends on, read once per flow: the case's members and holder, the meeting's
//! window, agenda and attendees (with confidentiality declarations), the organisations' covenant roles and
//! signatures, and the case's valid consents. [`Facts::decide`] then asks the pure decision point per category,
//! so a response of many items reads the database once and every item is judged by the same facts.
use time::OffsetDateTime;

use crate::covenant::decision::{Decision, Party, Question};
use crate::covenant::Covenant;
use crate::orgs::registry::Snapshot;
use crate::store::{AttendeeRow, CaseRow, ConsentScope, MeetingRow, Store, StoreError};
use crate::types::{CaseStatus, Instant, Oin, OrgStatus};

/// Where data flows: in answer to a request (membership counts, attendance does not), as a share inside a
/// meeting (the attendees of the open meeting only), or through the case file (membership counts; the file
/// outlives the meeting its items were shared in, until the case closes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Request,
    MeetingShare,
    CaseFile,
}

/// One organisation's standing in a flow (its roles, membership, attendance, signature), owned.
#[derive(Debug, Clone, Default)]
struct Standing {
    roles: Vec<String>,
    member: bool,
    attends: bool,
    signed: bool,
    declaration: bool,
    case_holder: bool,
}

impl Standing {
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

/// What is recorded about a case in the context of a meeting at one instant; every flow between two of its
/// organisations is judged from it, so a response or read with many items and sources reads the database once.
#[derive(Debug, Clone)]
pub struct Recorded {
    case: CaseRow,
    meeting: MeetingRow,
    members: Vec<Oin>,
    on_agenda: bool,
    attendees: Vec<AttendeeRow>,
    consents: Vec<ConsentScope>,
    now: OffsetDateTime,
}

impl Recorded {
    /// Reads what is recorded about an already loaded case and meeting (one query).
    ///
    /// # Errors
    /// The database refused.
    pub async fn load(
        store: &Store,
        case: CaseRow,
        meeting: MeetingRow,
        now: OffsetDateTime,
    ) -> Result<Recorded, StoreError> {
        let rows = store.case_in_meeting(&case.id, &meeting.id).await?;
        Ok(Recorded {
            consents: rows.consents,
            members: rows.members,
            on_agenda: rows.on_agenda,
            attendees: rows.attendees,
            case,
            meeting,
            now,
        })
    }

    /// The same record judged at another instant (meeting windows and consents expire; nothing else moves).
    pub fn at(&self, now: OffsetDateTime) -> Recorded {
        Recorded { now, ..self.clone() }
    }

    /// The consents still valid at this record's instant.
    fn valid_consents(&self) -> Vec<ConsentScope> {
        let now = Instant::from(self.now);
        self.consents.iter().filter(|c| c.valid_at(now)).cloned().collect()
    }

    pub fn case(&self) -> &CaseRow {
        &self.case
    }

    pub fn meeting(&self) -> &MeetingRow {
        &self.meeting
    }

    /// The facts of one flow from `source` to `recipient` (OINs).
    pub fn flow(
        &self,
        registry: &Snapshot,
        covenant: &Covenant,
        source: &Oin,
        recipient: &Oin,
        setting: Setting,
    ) -> Facts {
        let side = |oin: &Oin| {
            let attendee = self.attendees.iter().find(|a| &a.oin == oin);
            let org = registry.organisation(oin).filter(|o| o.status == OrgStatus::Active);
            Standing {
                roles: org.map(|o| o.covenant_roles.clone()).unwrap_or_default(),
                member: self.members.contains(oin),
                attends: setting != Setting::MeetingShare || attendee.is_some(),
                signed: org.is_some_and(|o| o.signed_versions.contains(&covenant.version)),
                declaration: attendee.is_some_and(|a| a.declaration_signed_by.is_some()),
                case_holder: &self.case.holder_oin == oin,
            }
        };
        // Requests are prepared before a meeting; shares happen in it.
        let meeting_open = match setting {
            Setting::Request => crate::cases::meetings::not_over(&self.meeting, self.now),
            Setting::MeetingShare => crate::cases::meetings::in_session(&self.meeting, self.now),
            Setting::CaseFile => true,
        };
        Facts {
            meeting_type: self.meeting.meeting_type.clone(),
            meeting_open,
            on_agenda: self.on_agenda,
            case_open: self.case.status == CaseStatus::Open,
            source: side(source),
            recipient: side(recipient),
            recipient_oin: recipient.clone(),
            consents: self.valid_consents(),
        }
    }
}

/// Everything recorded about one flow at one instant.
#[derive(Debug, Clone)]
pub struct Facts {
    meeting_type: String,
    meeting_open: bool,
    on_agenda: bool,
    case_open: bool,
    source: Standing,
    recipient: Standing,
    recipient_oin: Oin,
    consents: Vec<ConsentScope>,
}

impl Facts {
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
            case_open: self.case_open,
            consent: self.consents.iter().any(|c| c.covers(category, &self.recipient_oin)),
        })
    }

    pub fn meeting_type(&self) -> &str {
        &self.meeting_type
    }
}
