//! Figures for the people who govern: factsheets per municipality and for the region, over fixed periods, with
//! nobody identifiable. Facts are counted from the store (meeting types the covenant keeps out of statistics never
//! count, not even in totals) and every figure passes [`control::publish`]. May use `types`, `store`, `log`,
//! `covenant` and `orgs`; who may read them is [`may_read`]. [`evaluation`] counts the decisions the log recorded
//! per article and replays them under a proposed covenant.
pub mod control;
pub mod evaluation;
pub mod factsheet;

use crate::orgs::registry::Organisation;
use crate::types::{Oin, UserRole};

/// Who may read the covenant's evaluation and dry-run a proposal over history: the host's procesregisseur, privacy
/// officer and admin (those who may read the region's factsheet).
pub fn may_evaluate(org: &Organisation, roles: &[UserRole], host: &Oin) -> bool {
    may_read(org, roles, host, None)
}

/// Who may read a factsheet: the host's procesregisseur, privacy officer and admin, for the region and every
/// municipality; a municipality's professionals for the municipalities their organisation is onboarded for.
pub fn may_read(org: &Organisation, roles: &[UserRole], host: &Oin, municipality: Option<&str>) -> bool {
    let host_role = [UserRole::Procesregisseur, UserRole::PrivacyOfficer, UserRole::Admin];
    if &org.oin == host && roles.iter().any(|r| host_role.contains(r)) {
        return true;
    }
    roles.contains(&UserRole::Professional) && municipality.is_some_and(|m| org.municipalities.iter().any(|o| o == m))
}
