//! `doelpoort covenant explain`: one question answered with the rules and articles that decide it. casbin (the
//! language the covenant is written in) answers next to the gateway's compiled index, so a reader sees both agree.
use std::fmt::Write as _;
use std::path::Path;

use super::{reference_enforcer, Covenant, CovenantError, Direction};

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    Covenant(#[from] CovenantError),
    #[error("casbin refused the covenant: {0}")]
    Casbin(#[from] casbin::Error),
    #[error("{0}")]
    Unknown(String),
}

/// May an organisation with covenant role `from` share `category` with one of role `to`?
#[derive(Debug, Clone)]
pub struct RoleQuestion {
    pub from: String,
    pub to: String,
    pub meeting_type: String,
    pub purpose: String,
    pub category: String,
}

/// The explanation as text.
///
/// # Errors
/// The covenant does not load, or the question names something the covenant does not know.
pub async fn explain(dir: &Path, q: &RoleQuestion) -> Result<String, ExplainError> {
    use casbin::CoreApi as _;
    let covenant = Covenant::load(dir)?;
    check_ids(&covenant, q)?;
    let enforcer = reference_enforcer(dir).await?;
    let mut out = String::new();
    let mut allowed = true;
    for (direction, role, verb) in [
        (Direction::Share, &q.from, "share"),
        (Direction::Receive, &q.to, "receive"),
    ] {
        let rule = covenant
            .rules
            .find(direction, role, &q.meeting_type, &q.purpose, &q.category);
        let casbin = enforcer.enforce((
            direction.as_str(),
            role.as_str(),
            q.meeting_type.as_str(),
            q.purpose.as_str(),
            q.category.as_str(),
        ))?;
        let casbin = if casbin { "allow" } else { "deny" };
        let _ = match rule {
            Some(r) => writeln!(
                out,
                "{verb}: `{role}` may {verb} `{}` in `{}` for `{}`: {}, line {} of covenant_policy.csv (casbin: {casbin})",
                q.category, q.meeting_type, q.purpose, r.article, r.line
            ),
            None => {
                allowed = false;
                writeln!(
                    out,
                    "{verb}: no rule lets `{role}` {verb} `{}` in `{}` for `{}` (casbin: {casbin})",
                    q.category, q.meeting_type, q.purpose
                )
            }
        };
    }
    if covenant.needs_consent(&q.category, &q.from) {
        let _ = writeln!(
            out,
            "consent: `{}` sharing `{}` needs the client's recorded consent covering it and the recipient",
            q.from, q.category
        );
    }
    let _ = write!(
        out,
        "decision under covenant {}: {}",
        covenant.version,
        if allowed {
            "allowed, when both organisations are members of the case, attend the open meeting, and have signed this \
             version (or hold a confidentiality declaration)"
        } else {
            "denied"
        }
    );
    Ok(out)
}

fn check_ids(c: &Covenant, q: &RoleQuestion) -> Result<(), ExplainError> {
    let unknown = |what: &str, id: &str| Err(ExplainError::Unknown(format!("the covenant has no {what} `{id}`")));
    for role in [&q.from, &q.to] {
        if !c.has_role(role) && !c.case_roles.contains(role) {
            return unknown("role", role);
        }
    }
    let Some(mt) = c.meeting_type(&q.meeting_type) else {
        return unknown("meeting type", &q.meeting_type);
    };
    if !mt.purposes.iter().any(|p| p.id == q.purpose) {
        return unknown(&format!("purpose in meeting type `{}` called", mt.id), &q.purpose);
    }
    if c.category(&q.category).is_none() {
        return unknown("category", &q.category);
    }
    Ok(())
}
