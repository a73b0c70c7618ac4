//! Figures for the people who govern: factsheets per municipality and for the region, over fixed periods, with
//! nobody identifiable. Facts are counted from the store (meeting types the covenant keeps out of statistics never
//! count, not even in totals) and every figure passes [`control::publish`]. May use `types`, `store`, `covenant`
//! and `orgs`; who may read them is [`may_read`].
pub mod control;
pub mod factsheet;

use crate::orgs::registry::Organisation;
use crate::types::{Oin, UserRole};

/// Who may read a factsheet: the host's procesregisseur, privacy officer and admin, for the region and every
/// municipality; a municipality's professionals for the municipalities their organisation is onboarded for.
pub fn may_read(org: &Organisation, roles: &[UserRole], host: &Oin, municipality: Option<&str>) -> bool {
    let host_role = [UserRole::Procesregisseur, UserRole::PrivacyOfficer, UserRole::Admin];
    if &org.oin == host && roles.iter().any(|r| host_role.contains(r)) {
        return true;
    }
    roles.contains(&UserRole::Professional) && municipality.is_some_and(|m| org.municipalities.iter().any(|o| o == m))
}
