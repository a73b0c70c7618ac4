//! The one decision point. May organisation A share category C with organisation B about a case, in a meeting of
//! type M, for purpose P ([`Covenant::decide`])? May an organisation ask hit/no-hit ([`Covenant::decide_lookup`])?
//! May it take part in a meeting's exchange ([`Covenant::decide_attendance`])? Each combines the covenant's rules
//! with recorded facts (an open case, membership, an open meeting, attendance, a signature or confidentiality
//! declaration, consent) and answers allow or deny with the reason, the article and the covenant version; a denial
//! is a [`Denial`], which the exchange and lookups record as a refusal and the API maps to a status. It is pure:
//! callers gather the facts, so the rules can be tested exhaustively.
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
    /// The case is open (not closed or purged).
    pub case_open: bool,
}

/// Why a flow is refused; `code` is the API's problem code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    UnknownMeetingType,
    UnknownPurpose,
    UnknownCategory,
    MeetingClosed,
    NotOnAgenda,
    CaseClosed,
    /// The covenant does not let any of the organisation's roles ask hit/no-hit.
    LookupNotAllowed,
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
    pub fn name(self) -> &'static str {
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
            Denial::CaseClosed => "case_closed",
            Denial::LookupNotAllowed => "lookup_not_allowed",
            Denial::NotMember(_) => "not_member",
            Denial::NotAttendee(_) => "not_attendee",
            Denial::NotSigned(_) => "covenant_not_signed",
            Denial::NoRule(_) => "forbidden_category",
            Denial::ConsentRequired => "consent_required",
        }
    }

    /// Why, for the denials whose reason needs nothing but the denial itself.
    fn text(&self) -> String {
        match self {
            Denial::MeetingClosed => "the meeting is closed or outside its time window".into(),
            Denial::NotOnAgenda => "the case is not on the meeting's agenda".into(),
            Denial::CaseClosed => "the case is closed".into(),
            Denial::LookupNotAllowed => {
                "the covenant does not allow this organisation's roles to ask hit/no-hit".into()
            }
            Denial::NotMember(s) => format!("{} is not a member of the case", s.name()),
            Denial::NotAttendee(s) => format!("{} does not attend the meeting", s.name()),
            Denial::NotSigned(s) => format!(
                "{} has not signed the covenant version in force and holds no confidentiality declaration",
                s.name()
            ),
            other => other.code().to_owned(),
        }
    }

    /// Why, in the words of the question asked.
    fn reason(&self, q: &Question<'_>) -> String {
        match self {
            Denial::UnknownMeetingType => format!("unknown meeting type `{}`", q.meeting_type),
            Denial::UnknownPurpose => format!("`{}` is not a purpose of meeting type `{}`", q.purpose, q.meeting_type),
            Denial::UnknownCategory => format!("unknown category `{}`", q.category),
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
            other => other.text(),
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

/// What the decision point refused, said about the thing refused (an item, a category from an organisation): the
/// caller's error. The API answers with the status of its [`Denial`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Refusal {
    pub denial: Denial,
    pub detail: String,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.denial.is_none()
    }

    /// The refusal of `what` this decision makes, if it denies.
    pub fn refusal(&self, what: &str) -> Option<Refusal> {
        self.denial.clone().map(|denial| Refusal {
            denial,
            detail: format!("{what}: {}", self.reason),
        })
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

    fn deny(&self, d: Denial, reason: String) -> Decision {
        Decision {
            reason,
            denial: Some(d),
            articles: Vec::new(),
            covenant_version: self.version.clone(),
        }
    }

    /// May an organisation holding `roles` ask hit/no-hit, having `signed` the version in force or not?
    pub fn decide_lookup(&self, roles: &[String], signed: bool) -> Decision {
        if !roles.iter().any(|r| self.lookup_roles.contains(r)) {
            return self.deny(Denial::LookupNotAllowed, Denial::LookupNotAllowed.text());
        }
        if !signed {
            let denial = Denial::NotSigned(Side::Recipient);
            return self.deny(
                denial,
                "the organisation has not signed the covenant version in force".into(),
            );
        }
        Decision {
            denial: None,
            reason: format!("allowed by {}", self.lookup_article),
            articles: vec![self.lookup_article.clone()],
            covenant_version: self.version.clone(),
        }
    }

    /// May the host's weighing desk read the summary of a report by an organisation holding `roles` (which has
    /// `signed` the version in force or not)? The covenant's intake rule names the roles it covers.
    pub fn decide_intake(&self, roles: &[String], signed: bool) -> Decision {
        if !roles.iter().any(|r| self.intake.reporting_roles.contains(r)) {
            return self.deny(
                Denial::NoRule(Side::Source),
                "the covenant's intake rule does not cover reports of this organisation's roles".into(),
            );
        }
        if !signed {
            return self.deny(
                Denial::NotSigned(Side::Source),
                "the reporting organisation has not signed the covenant version in force".into(),
            );
        }
        Decision {
            denial: None,
            reason: format!("allowed by {} (intake)", self.intake.article),
            articles: vec![self.intake.article.clone()],
            covenant_version: self.version.clone(),
        }
    }

    /// May an organisation take part in a meeting's exchange — share in it (`side` source) or read what was shared
    /// in it (recipient)? Only its attendees; what flows is then decided item by item.
    pub fn decide_attendance(&self, side: Side, attends: bool) -> Decision {
        if !attends {
            let denial = Denial::NotAttendee(side);
            return self.deny(denial.clone(), denial.text());
        }
        Decision {
            denial: None,
            reason: format!("{} attends the meeting", side.name()),
            articles: Vec::new(),
            covenant_version: self.version.clone(),
        }
    }

    /// Decides `q` under this covenant.
    pub fn decide(&self, q: &Question<'_>) -> Decision {
        let deny = |d: Denial| self.deny(d.clone(), d.reason(q));
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
        if !q.case_open {
            return deny(Denial::CaseClosed);
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
        let share = self.share_rule(
            q.source.roles,
            q.source.case_holder,
            (q.meeting_type, q.purpose, q.category),
        );
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

    /// The rule that lets a source holding `roles` share: one of its own, else, when it holds the case, one of the
    /// covenant's case-holder rules.
    pub fn share_rule(
        &self,
        roles: &[String],
        case_holder: bool,
        (meeting_type, purpose, category): (&str, &str, &str),
    ) -> Option<&PolicyLine> {
        self.rule_for(Direction::Share, roles, meeting_type, purpose, category)
            .or_else(|| {
                case_holder
                    .then(|| self.rule_for(Direction::Share, &self.case_roles, meeting_type, purpose, category))
                    .flatten()
            })
    }
}
