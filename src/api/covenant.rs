//! `GET /v1/covenant`: the covenant in force, for partners' systems to know what they may ask for.
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::edge::identity::Caller;

#[derive(Debug, Serialize, ToSchema)]
pub struct CovenantView {
    pub version: String,
    pub title: String,
    pub meeting_types: Vec<MeetingTypeView>,
    pub categories: Vec<CategoryView>,
    /// Covenant roles whose professionals may ask hit/no-hit.
    pub lookup_roles: Vec<String>,
    /// What a hit/no-hit may be asked for.
    pub lookup_purposes: Vec<PurposeView>,
    /// What closing a case may record it achieved (`outcomes` of `POST /v1/cases/{id}/close`).
    pub closure_outcomes: Vec<PurposeView>,
    /// The weighing at the briefing (`POST /v1/cases/{id}/weighing`).
    pub weighing: WeighingRulesView,
    /// Monitoring moments, in days after the focus meeting that made the plan.
    pub monitoring_moments: Vec<MomentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WeighingRulesView {
    pub meeting_type: String,
    pub outcomes: Vec<PurposeView>,
    /// The outcome that needs one of `reasons`.
    pub declined_outcome: String,
    pub reasons: Vec<PurposeView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MomentView {
    pub id: String,
    pub days: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingTypeView {
    pub id: String,
    pub description: String,
    pub purposes: Vec<PurposeView>,
    pub categories: Vec<String>,
    /// Days a closed case's content is kept.
    pub retention_days: u32,
    /// Longest meeting of this type, in days.
    pub max_days: u32,
    /// Counted in figures.
    pub statistics: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeView {
    pub id: String,
    pub description: String,
}

impl PurposeView {
    fn of(p: &crate::covenant::Purpose) -> PurposeView {
        PurposeView {
            id: p.id.clone(),
            description: p.description.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub id: String,
    pub description: String,
    pub confidential: bool,
    /// Covenant roles whose sharing of this category needs the client's recorded consent.
    pub requires_consent_from: Vec<String>,
    /// Kept in the case file (`GET /v1/cases/{id}/file`) until the case closes.
    pub case_file: bool,
}

/// The covenant version in force: meeting types with their purposes and categories, and the data categories.
#[utoipa::path(get, path = "/v1/covenant", tag = "covenant", security(("bearer" = [])),
    responses((status = 200, body = CovenantView), (status = 401, body = crate::api::error::Problem)))]
pub async fn covenant(State(app): State<AppState>, _caller: Caller) -> axum::Json<CovenantView> {
    let c = app.covenant();
    axum::Json(CovenantView {
        version: c.version.clone(),
        title: c.title.clone(),
        meeting_types: c
            .meeting_types
            .iter()
            .map(|m| MeetingTypeView {
                id: m.id.clone(),
                description: m.description.clone(),
                purposes: m.purposes.iter().map(PurposeView::of).collect(),
                categories: m.categories.clone(),
                retention_days: m.retention_days,
                max_days: m.max_days,
                statistics: m.statistics,
            })
            .collect(),
        categories: c
            .categories
            .iter()
            .map(|k| CategoryView {
                id: k.id.clone(),
                description: k.description.clone(),
                confidential: k.confidential,
                requires_consent_from: k.requires_consent_from.clone(),
                case_file: k.case_file,
            })
            .collect(),
        lookup_roles: c.lookup_roles.clone(),
        lookup_purposes: c.lookup_purposes.iter().map(PurposeView::of).collect(),
        closure_outcomes: c.closure_outcomes.iter().map(PurposeView::of).collect(),
        weighing: WeighingRulesView {
            meeting_type: c.weighing.meeting_type.clone(),
            outcomes: c.weighing.outcomes.iter().map(PurposeView::of).collect(),
            declined_outcome: c.weighing.declined_outcome.clone(),
            reasons: c.weighing.reasons.iter().map(PurposeView::of).collect(),
        },
        monitoring_moments: c
            .monitoring
            .moments
            .iter()
            .map(|m| MomentView {
                id: m.id.clone(),
                days: m.days,
            })
            .collect(),
    })
}
