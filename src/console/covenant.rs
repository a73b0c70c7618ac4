//! The steering group's page: the covenant's evaluation over a window (decisions per article, rules never used,
//! recurring refusals, partners that have not signed), and a proposed covenant's dry run over the same history —
//! the proposal's `covenant.toml` and `covenant_policy.csv` pasted into the form, prefilled with those in force.
//! Both ask what the API asks, and both are recorded before they are shown.
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::{given, page, problem, Frame, Refusal, Visitor};
use crate::api::error::ApiError;
use crate::api::statistics::{self, Proposal, WindowQuery};
use crate::app::AppState;
use crate::covenant::diff::Change;
use crate::covenant::Texts;
use crate::figures::evaluation::{DryRun, Evaluation, Shift};

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/covenant", get(show).post(propose))
}

#[derive(Debug, Default, Deserialize)]
struct Ask {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ProposalForm {
    from: String,
    to: String,
    metadata: String,
    policy: String,
}

/// The flows a proposal would refuse, or allow, under a caption.
struct Shifts {
    title: &'static str,
    shifts: Vec<Shift>,
}

/// A change as the page names it.
struct Shown {
    how: &'static str,
    part: &'static str,
    id: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "console/covenant.html")]
struct CovenantPage {
    frame: Frame,
    from: String,
    to: String,
    evaluation: Evaluation,
    metadata: String,
    policy: String,
    run: Option<DryRun>,
    changes: Vec<Shown>,
    shifts: Vec<Shifts>,
    message: Option<String>,
}

fn shown(c: &Change) -> Shown {
    use crate::covenant::diff::{How, Part};
    Shown {
        how: match c.how {
            How::Added => "toegevoegd",
            How::Removed => "vervallen",
            How::Changed => "gewijzigd",
        },
        part: match c.part {
            Part::Version => "versie",
            Part::Role => "rol",
            Part::MeetingType => "soort overleg",
            Part::Category => "categorie",
            Part::Rule => "regel",
            Part::Lookup => "hit/no-hit",
            Part::Intake => "intake",
        },
        id: c.id.clone(),
        detail: c.detail.clone(),
    }
}

async fn render(
    app: &AppState,
    v: &Visitor,
    window: WindowQuery,
    proposal: Option<(Texts, Result<DryRun, String>)>,
) -> Result<Response, Refusal> {
    let (records, evaluation) = statistics::evaluate(app, &v.caller, &v.ctx, &window)
        .await?
        .into_parts();
    let (texts, run, message) = match proposal {
        None => (
            Texts::read(&app.config.covenant_dir).map_err(|e| ApiError::internal(&e))?,
            None,
            None,
        ),
        Some((texts, Ok(run))) => (texts, Some(run), None),
        Some((texts, Err(message))) => (texts, None, Some(message)),
    };
    let body = CovenantPage {
        frame: v.frame("Convenant"),
        from: window.from.unwrap_or_default(),
        to: window.to.unwrap_or_default(),
        evaluation,
        metadata: texts.metadata,
        policy: texts.policy,
        changes: run.iter().flat_map(|r| r.changes.iter().map(shown)).collect(),
        shifts: run
            .iter()
            .flat_map(|r| {
                [
                    Shifts {
                        title: "Zou nu geweigerd worden",
                        shifts: r.now_refused.clone(),
                    },
                    Shifts {
                        title: "Zou nu worden toegestaan",
                        shifts: r.now_allowed.clone(),
                    },
                ]
            })
            .collect(),
        run,
        message,
    };
    Ok(super::audit::cite(&records, page(&body)))
}

async fn show(State(app): State<AppState>, v: Visitor, Query(ask): Query<Ask>) -> Result<Response, Refusal> {
    let window = WindowQuery {
        from: ask.from.as_deref().and_then(given),
        to: ask.to.as_deref().and_then(given),
    };
    render(&app, &v, window, None).await
}

async fn propose(State(app): State<AppState>, v: Visitor, Form(form): Form<ProposalForm>) -> Result<Response, Refusal> {
    let window = WindowQuery {
        from: given(&form.from),
        to: given(&form.to),
    };
    let proposal = Proposal {
        metadata: Some(form.metadata.clone()),
        policy: Some(form.policy.clone()),
        from: window.from.clone(),
        to: window.to.clone(),
    };
    let texts = Texts {
        metadata: form.metadata,
        policy: form.policy,
        model: String::new(),
    };
    let run = match statistics::replay(&app, &v.caller, &v.ctx, proposal).await {
        Ok(released) => Ok(released.into_parts().1),
        Err(e) => Err(problem(e)?),
    };
    render(&app, &v, window, Some((texts, run))).await
}
