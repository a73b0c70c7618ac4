//! The covenant in `policies/`: `covenant.toml` (version, roles, meeting types with purposes and retention, data
//! categories), `covenant_model.conf` (casbin model) and `covenant_policy.csv` (the rules, each naming its
//! article). Loading checks the three files against each other and compiles the rules into an index that answers
//! in constant time; casbin itself stays the reference (`explain`, and a test that the index agrees with it).
//! [`decision`] is the one decision point. Pure (no I/O beyond reading its files); may use only `types`.
pub mod check;
pub mod decision;
pub mod diff;
pub(crate) mod explain;
pub mod rules;

use serde::Deserialize;
use std::path::{Path, PathBuf};

pub use rules::{Direction, PolicyLine, RuleIndex};

pub const METADATA_FILE: &str = "covenant.toml";
pub const MODEL_FILE: &str = "covenant_model.conf";
pub const POLICY_FILE: &str = "covenant_policy.csv";
/// The category an intake record names: a report's summary, read under the `[intake]` rule.
pub const INTAKE_CATEGORY: &str = "melding";
/// The purpose an intake record names.
pub const INTAKE_PURPOSE: &str = "intake";

#[derive(Debug, thiserror::Error)]
pub enum CovenantError {
    #[error("cannot read the covenant file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the covenant file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("the covenant in {dir} is inconsistent:\n{}", problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Inconsistent {
        dir: PathBuf,
        problems: Vec<check::Problem>,
    },
}

/// The three covenant files' texts.
#[derive(Debug, Clone, Default)]
pub struct Texts {
    pub metadata: String,
    pub model: String,
    pub policy: String,
}

impl Texts {
    /// Reads the three files in `dir`.
    ///
    /// # Errors
    /// A file is missing or unreadable.
    pub fn read(dir: &Path) -> Result<Texts, CovenantError> {
        Ok(Texts {
            metadata: read(&dir.join(METADATA_FILE))?,
            model: read(&dir.join(MODEL_FILE))?,
            policy: read(&dir.join(POLICY_FILE))?,
        })
    }
}

/// The covenant as the gateway enforces it.
#[derive(Debug, Clone)]
pub struct Covenant {
    pub version: String,
    pub title: String,
    pub host_role: String,
    pub lookup_roles: Vec<String>,
    pub lookup_article: String,
    pub lookup_purposes: Vec<Purpose>,
    pub case_roles: Vec<String>,
    pub roles: Vec<CovenantRole>,
    pub meeting_types: Vec<MeetingType>,
    pub categories: Vec<Category>,
    /// What closing a case may record it achieved (domain.md, "Closure outcomes").
    pub closure_outcomes: Vec<Purpose>,
    pub intake: Intake,
    pub weighing: Weighing,
    pub monitoring: Monitoring,
    pub rules: RuleIndex,
}

/// The intake rule: whose reports' summaries the host's weighing desk reads, and under which article.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intake {
    pub article: String,
    /// Covenant roles whose reports' summaries the host may read at intake.
    pub reporting_roles: Vec<String>,
}

/// The weighing at the briefing: where it happens and what it may decide.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weighing {
    /// The meeting type whose meetings weigh (the briefing).
    pub meeting_type: String,
    pub outcomes: Vec<Purpose>,
    /// The outcome "not taken up", which needs one of `reasons`.
    pub declined_outcome: String,
    pub reasons: Vec<Purpose>,
}

/// Monitoring after a plan: which share makes a plan, and the checks it schedules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// A share of `plan_category` in a meeting of `plan_meeting_type` is a plan.
    pub plan_meeting_type: String,
    pub plan_category: String,
    /// The meeting type the case file's shares outside a meeting are judged as.
    pub meeting_type: String,
    pub moments: Vec<Moment>,
}

/// A monitoring moment: `days` after the meeting that made the plan.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moment {
    pub id: String,
    pub days: u32,
}

/// `covenant.toml` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub version: String,
    pub title: String,
    pub host_role: String,
    #[serde(default)]
    pub lookup_roles: Vec<String>,
    #[serde(default)]
    pub lookup_article: String,
    /// What a hit/no-hit may be asked for.
    #[serde(default)]
    pub lookup_purposes: Vec<Purpose>,
    #[serde(default)]
    pub case_roles: Vec<String>,
    pub roles: Vec<CovenantRole>,
    #[serde(default)]
    pub meeting_types: Vec<MeetingType>,
    #[serde(default)]
    pub categories: Vec<Category>,
    /// What closing a case may record it achieved.
    #[serde(default)]
    pub closure_outcomes: Vec<Purpose>,
    #[serde(default)]
    pub intake: Intake,
    #[serde(default)]
    pub weighing: Weighing,
    #[serde(default)]
    pub monitoring: Monitoring,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CovenantRole {
    pub id: String,
    pub description: String,
    pub chain_partner: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingType {
    pub id: String,
    pub description: String,
    /// Days a closed case's content is kept before it is purged.
    pub retention_days: u32,
    pub categories: Vec<String>,
    pub purposes: Vec<Purpose>,
    /// Longest meeting of this type, in days.
    #[serde(default = "default_max_days")]
    pub max_days: u32,
    /// Counted in figures; `false` keeps its meetings out of every statistic, totals included.
    #[serde(default = "yes")]
    pub statistics: bool,
}

fn default_max_days() -> u32 {
    31
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub id: String,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: String,
    pub description: String,
    /// Marked as confidential in a subject access report.
    #[serde(default)]
    pub confidential: bool,
    /// Covenant roles whose sharing of this category needs the client's recorded consent.
    #[serde(default)]
    pub requires_consent_from: Vec<String>,
    /// Kept in the case file: readable by the case's members after the meeting it was shared in, until the case
    /// closes.
    #[serde(default)]
    pub case_file: bool,
}

fn read(path: &Path) -> Result<String, CovenantError> {
    std::fs::read_to_string(path).map_err(|source| CovenantError::Read {
        path: path.to_owned(),
        source,
    })
}

impl Covenant {
    /// Loads and checks the three files in `dir`; any inconsistency refuses the whole covenant.
    ///
    /// # Errors
    /// A file is missing, unreadable, does not parse, or the files do not agree (every problem is listed with
    /// its file and line).
    pub fn load(dir: &Path) -> Result<Covenant, CovenantError> {
        Covenant::from_texts(dir, &Texts::read(dir)?)
    }

    /// Checks and compiles the three files' texts (as read from `dir`, which errors name).
    ///
    /// # Errors
    /// A text does not parse, or the three do not agree.
    pub fn from_texts(dir: &Path, texts: &Texts) -> Result<Covenant, CovenantError> {
        let metadata_path = dir.join(METADATA_FILE);
        let metadata: Metadata = toml::from_str(&texts.metadata).map_err(|e| CovenantError::Invalid {
            path: metadata_path.clone(),
            message: e.to_string(),
        })?;
        let lines = rules::parse_policy(&texts.policy);
        let problems = check::check(&metadata, &texts.model, &lines);
        if !problems.is_empty() {
            return Err(CovenantError::Inconsistent {
                dir: dir.to_owned(),
                problems,
            });
        }
        let lines = lines.into_iter().filter_map(Result::ok).collect();
        Ok(Covenant {
            rules: RuleIndex::new(lines),
            version: metadata.version,
            title: metadata.title,
            host_role: metadata.host_role,
            lookup_roles: metadata.lookup_roles,
            lookup_article: metadata.lookup_article,
            lookup_purposes: metadata.lookup_purposes,
            case_roles: metadata.case_roles,
            roles: metadata.roles,
            meeting_types: metadata.meeting_types,
            categories: metadata.categories,
            closure_outcomes: metadata.closure_outcomes,
            intake: metadata.intake,
            weighing: metadata.weighing,
            monitoring: metadata.monitoring,
        })
    }

    pub fn has_role(&self, id: &str) -> bool {
        self.roles.iter().any(|r| r.id == id)
    }

    pub fn meeting_type(&self, id: &str) -> Option<&MeetingType> {
        self.meeting_types.iter().find(|m| m.id == id)
    }

    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// Whether the case file keeps `category`.
    pub fn in_case_file(&self, category: &str) -> bool {
        self.category(category).is_some_and(|c| c.case_file)
    }

    /// Whether `role` sharing `category` needs the client's consent.
    pub fn needs_consent(&self, category: &str, role: &str) -> bool {
        self.category(category)
            .is_some_and(|c| c.requires_consent_from.iter().any(|r| r == role))
    }
}

/// The casbin enforcer over the same files: the reference the compiled index is tested against, and what
/// `covenant explain` asks.
///
/// # Errors
/// casbin refuses the model or the policy.
pub async fn reference_enforcer(dir: &Path) -> Result<casbin::Enforcer, casbin::Error> {
    use casbin::CoreApi as _;
    let model = casbin::DefaultModel::from_file(dir.join(MODEL_FILE)).await?;
    let adapter = casbin::FileAdapter::new(dir.join(POLICY_FILE));
    casbin::Enforcer::new(model, adapter).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Covenant {
        Covenant::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies").as_path()).unwrap()
    }

    #[test]
    fn the_shipped_covenant_loads() {
        let c = shipped();
        assert!(c.has_role("politie"));
        assert!(!c.has_role("bakker"));
        assert_eq!(c.host_role, "zvh");
        assert_eq!(c.meeting_types.len(), 6);
        assert_eq!(c.categories.len(), 13);
        assert!(c.needs_consent("leefgebieden", "wijkteam"));
        assert!(!c.needs_consent("leefgebieden", "gemeente"));
    }
}
