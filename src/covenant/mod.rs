//! The covenant files in `policies/`. For now the metadata that onboarding needs: the version in force and the
//! covenant roles an organisation can hold.
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CovenantError {
    #[error("cannot read the covenant file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the covenant file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Covenant {
    pub version: String,
    pub title: String,
    pub host_role: String,
    pub roles: Vec<CovenantRole>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CovenantRole {
    pub id: String,
    pub description: String,
    pub chain_partner: bool,
}

impl Covenant {
    /// Loads `covenant.toml` from `dir` and checks that its role ids are unique and the host role exists.
    ///
    /// # Errors
    /// The file is missing, unreadable or inconsistent.
    pub fn load(dir: &Path) -> Result<Covenant, CovenantError> {
        let path = dir.join("covenant.toml");
        let text = std::fs::read_to_string(&path).map_err(|source| CovenantError::Read {
            path: path.clone(),
            source,
        })?;
        let invalid = |message: String| CovenantError::Invalid {
            path: path.clone(),
            message,
        };
        let covenant: Covenant = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let mut ids: Vec<&str> = covenant.roles.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(invalid(format!("role `{}` is defined twice", w[0])));
        }
        if !covenant.has_role(&covenant.host_role) {
            return Err(invalid(format!(
                "host_role `{}` is not a defined role",
                covenant.host_role
            )));
        }
        Ok(covenant)
    }

    pub fn has_role(&self, id: &str) -> bool {
        self.roles.iter().any(|r| r.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_covenant_loads() {
        let c = Covenant::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies").as_path()).unwrap();
        assert!(c.has_role("politie"));
        assert!(!c.has_role("bakker"));
        assert_eq!(c.host_role, "zvh");
    }
}
