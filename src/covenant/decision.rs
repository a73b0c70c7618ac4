//! The one decision point: may organisation A share category C with organisation B about a case, in a meeting of
//! type M, for purpose P? It combines the covenant's rules with the recorded facts (membership, open meeting,
//! attendance, signature or confidentiality declaration, consent) and answers allow or deny with the reason, the
//! article and the covenant version. Every part of the gateway that lets data flow asks here; nothing else
//! decides. It is pure: callers gather the facts, so the rules can be tested exhaustively.
use crate::covenant::{Covenant, Direction, PolicyLine};

/// One side of a flow, with the facts that concern it.
#[derive(Debug, Clone)]
pub struct Party<'a> {
    /// Covenant roles the organisation was onboarded with.
    pub roles: &'a [String],
    /// Member of the case.
    pub member: bool,
    /// Attends the meeting (for flows inside a meeting; requests count the meeting's attendance too).
    pub attends: bool,
    /// Signed the covenant version in force.
    pub signed: bool,
    /// Holds a confidentiality declaration for this meeting (incidental attendee).
    pub declaration: bool,
    /// Holds the case (casushouder): may share what the covenant lets the case holder share.
    pub case_holder: bool,
}

/// The question: everything the decision depends on.
#[derive(Debug, Clone)]
pub struct Question<'a> {
    pub source: Party<'a>,
    pub recipient: Party<'a>,
    pub meeting_type: &'a str,
    pub purpose: &'a str,
    pub category: &'a str,
    pub meeting_open: bool,
    /// The case is on the meeting's agenda.
    pub on_agenda: bool,
    /// Recorded consent covers this category and recipient, valid now.
    pub consent: bool,
}

/// Why a flow is refused; `code` is the API's problem code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    UnknownMeetingType,
    UnknownPurpose,
    UnknownCategory,
    MeetingClosed,
    NotOnAgenda,
    NotMember(Side),
    NotAttendee(Side),
    NotSigned(Side),
    NoRule(Side),
    ConsentRequired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Recipient,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Source => "the sharing organisation",
            Side::Recipient => "the receiving organisation",
        }
    }
}

impl Denial {
    pub fn code(&self) -> &'static str {
        match self {
            Denial::UnknownMeetingType | Denial::UnknownPurpose | Denial::UnknownCategory => "validation_failed",
            Denial::MeetingClosed => "meeting_closed",
            Denial::NotOnAgenda => "not_on_agenda",
            Denial::NotMember(_) => "not_member",
            Denial::NotAttendee(_) => "not_attendee",
            Denial::NotSigned(_) => "covenant_not_signed",
            Denial::NoRule(_) => "forbidden_category",
            Denial::ConsentRequired => "consent_required",
        }
    }

    fn reason(&self, q: &Question<'_>) -> String {
        match self {
            Denial::UnknownMeetingType => format!("unknown meeting type `{}`", q.meeting_type),
            Denial::UnknownPurpose => format!("`{}` is not a purpose of meeting type `{}`", q.purpose, q.meeting_type),
            Denial::UnknownCategory => format!("unknown category `{}`", q.category),
            Denial::MeetingClosed => "the meeting is closed or outside its time window".into(),
            Denial::NotOnAgenda => "the case is not on the meeting's agenda".into(),
            Denial::NotMember(s) => format!("{} is not a member of the case", s.name()),
            Denial::NotAttendee(s) => format!("{} does not attend the meeting", s.name()),
            Denial::NotSigned(s) => format!(
                "{} has not signed the covenant version in force and holds no confidentiality declaration",
                s.name()
            ),
            Denial::NoRule(Side::Source) => format!(
                "no covenant rule lets the sharing organisation share `{}` in `{}` meetings for `{}`",
                q.category, q.meeting_type, q.purpose
            ),
            Denial::NoRule(Side::Recipient) => format!(
                "no covenant rule lets the receiving organisation receive `{}` in `{}` meetings for `{}`",
                q.category, q.meeting_type, q.purpose
            ),
            Denial::ConsentRequired => format!(
                "sharing `{}` by this organisation needs the client's recorded consent, and none covers it",
                q.category
            ),
        }
    }
}

/// The answer, with what it was decided under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub denial: Option<Denial>,
    pub reason: String,
    /// The articles of the rules that allow sharing and receiving (share first), or of the rule that was missing.
    pub articles: Vec<String>,
    pub covenant_version: String,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.denial.is_none()
    }

    pub fn code(&self) -> &'static str {
        self.denial.as_ref().map_or("allow", Denial::code)
    }
}

impl Covenant {
    /// The rule that lets one of `roles` act in `direction`, if any.
    pub fn rule_for(
        &self,
        direction: Direction,
        roles: &[String],
        meeting_type: &str,
        purpose: &str,
        category: &str,
    ) -> Option<&PolicyLine> {
        roles
            .iter()
            .find_map(|r| self.rules.find(direction, r, meeting_type, purpose, category))
    }

    /// Decides `q` under this covenant.
    pub fn decide(&self, q: &Question<'_>) -> Decision {
        let deny = |d: Denial| Decision {
            reason: d.reason(q),
            denial: Some(d),
            articles: Vec::new(),
            covenant_version: self.version.clone(),
        };
        let Some(meeting_type) = self.meeting_type(q.meeting_type) else {
            return deny(Denial::UnknownMeetingType);
        };
        if !meeting_type.purposes.iter().any(|p| p.id == q.purpose) {
            return deny(Denial::UnknownPurpose);
        }
        if self.category(q.category).is_none() {
            return deny(Denial::UnknownCategory);
        }
        if !q.meeting_open {
            return deny(Denial::MeetingClosed);
        }
        if !q.on_agenda {
            return deny(Denial::NotOnAgenda);
        }
        for (side, party) in [(Side::Source, &q.source), (Side::Recipient, &q.recipient)] {
            if !party.member {
                return deny(Denial::NotMember(side));
            }
            if !party.attends {
                return deny(Denial::NotAttendee(side));
            }
            if !party.signed && !party.declaration {
                return deny(Denial::NotSigned(side));
            }
        }
        let share = self
            .rule_for(Direction::Share, q.source.roles, q.meeting_type, q.purpose, q.category)
            .or_else(|| self.case_holder_rule(q));
        let Some(share) = share else {
            return deny(Denial::NoRule(Side::Source));
        };
        let Some(receive) = self.rule_for(
            Direction::Receive,
            q.recipient.roles,
            q.meeting_type,
            q.purpose,
            q.category,
        ) else {
            return deny(Denial::NoRule(Side::Recipient));
        };
        let needs_consent = q.source.roles.iter().any(|r| self.needs_consent(q.category, r));
        if needs_consent && !q.consent {
            return deny(Denial::ConsentRequired);
        }
        Decision {
            denial: None,
            reason: format!(
                "allowed by {} (line {}) and {} (line {})",
                share.article, share.line, receive.article, receive.line
            ),
            articles: vec![share.article.clone(), receive.article.clone()],
            covenant_version: self.version.clone(),
        }
    }

    fn case_holder_rule(&self, q: &Question<'_>) -> Option<&PolicyLine> {
        if !q.source.case_holder {
            return None;
        }
        self.rule_for(
            Direction::Share,
            &self.case_roles,
            q.meeting_type,
            q.purpose,
            q.category,
        )
    }
}
