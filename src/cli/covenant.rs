//! `doelpoort covenant check | explain | diff | dry-run | evaluate`.
use std::path::Path;

use super::{say, usage, ConfigArg, CovenantCommand, Failure, WindowArgs};
use crate::covenant::diff::{self, Change};
use crate::covenant::Covenant;
use crate::figures::evaluation::{self, DryRun, Evaluation, Shift, Window};
use crate::log::DecisionGroup;
use crate::orgs::registry::{Registry, Snapshot};

pub async fn covenant(c: CovenantCommand) -> Result<(), Failure> {
    match c {
        CovenantCommand::Check { dir } => check(&dir),
        CovenantCommand::Explain {
            dir,
            from,
            to,
            meeting_type,
            purpose,
            category,
        } => {
            let question = crate::covenant::explain::RoleQuestion {
                from,
                to,
                meeting_type,
                purpose,
                category,
            };
            explain(&dir, &question).await
        }
        CovenantCommand::Diff { old, new } => {
            let changes = diff::diff(&Covenant::load(&old)?, &Covenant::load(&new)?);
            say!("{}", changes_text(&changes));
            Ok(())
        }
        CovenantCommand::DryRun(a) => {
            let proposed = Covenant::load(&a.dir)?;
            let (covenant, registry, groups, window) = history(&a.c, &a.window).await?;
            let run = evaluation::dry_run(&covenant, &proposed, &registry, &groups, window);
            print(a.window.json, &run, dry_run_text)
        }
        CovenantCommand::Evaluate(a) => {
            let (covenant, registry, groups, window) = history(&a.c, &a.window).await?;
            let e = evaluation::evaluate(&covenant, &registry, &groups, window);
            print(a.window.json, &e, evaluation_text)
        }
    }
}

fn print<T: serde::Serialize>(json: bool, value: &T, text: fn(&T) -> String) -> Result<(), Failure> {
    if json {
        say!("{}", serde_json::to_string_pretty(value)?);
    } else {
        say!("{}", text(value));
    }
    Ok(())
}

/// The covenant in force, the organisations and the decisions recorded in the window.
async fn history(
    c: &ConfigArg,
    w: &WindowArgs,
) -> Result<(Covenant, std::sync::Arc<Snapshot>, Vec<DecisionGroup>, Window), Failure> {
    let window = Window::parse(w.from.as_deref(), w.to.as_deref()).map_err(usage)?;
    let (config, store) = super::open(c).await?;
    let covenant = Covenant::load(&config.covenant_dir)?;
    let registry = Registry::default();
    registry.reload(&store).await?;
    let groups = evaluation::recorded(&store, &window).await;
    store.close().await;
    Ok((covenant, registry.current(), groups?, window))
}

fn check(dir: &Path) -> Result<(), Failure> {
    let c = Covenant::load(dir)?;
    say!(
        "covenant {} is consistent: {} roles, {} meeting types, {} categories, {} rules",
        c.version,
        c.roles.len(),
        c.meeting_types.len(),
        c.categories.len(),
        c.rules.lines().len()
    );
    Ok(())
}

async fn explain(dir: &Path, question: &crate::covenant::explain::RoleQuestion) -> Result<(), Failure> {
    let text = crate::covenant::explain::explain(dir, question)
        .await
        .map_err(|e| match e {
            crate::covenant::explain::ExplainError::Unknown(m) => usage(m),
            other => Failure::from(other),
        })?;
    say!("{text}");
    Ok(())
}

fn changes_text(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "the two covenants are the same".into();
    }
    changes
        .iter()
        .map(|c| {
            let part = serde_json::to_value(c.part).unwrap_or_default();
            let how = serde_json::to_value(c.how).unwrap_or_default();
            format!(
                "{:<8} {:<13} {}: {}",
                how.as_str().unwrap_or(""),
                part.as_str().unwrap_or(""),
                c.id,
                c.detail
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn window_text(w: &Window) -> String {
    format!(
        "{} to {}",
        w.from.as_deref().unwrap_or("the first record"),
        w.to.as_deref().unwrap_or("the last")
    )
}

fn shifts_text(title: &str, shifts: &[Shift]) -> String {
    let mut out = format!("{title}: {}\n", shifts.iter().map(|s| s.flows).sum::<i64>());
    for s in shifts {
        out.push_str(&format!(
            "  {:>7}  {} {} {}: {} → {}  [{}] {} ({})\n",
            s.flows,
            s.route.meeting_type,
            s.route.purpose,
            s.route.category,
            s.route.source_roles,
            s.route.recipient_roles,
            s.article,
            s.rules.join(" / "),
            s.now
        ));
    }
    out
}

fn dry_run_text(r: &DryRun) -> String {
    format!(
        "dry run of covenant {} over the decisions recorded under {} ({}):\n\
         {} flows replayed, {} unchanged; {} refused on facts not replayed\n{}{}\nwhat the files change:\n{}",
        r.to_version,
        r.from_version,
        window_text(&r.window),
        r.replayed,
        r.unchanged,
        r.not_replayed,
        shifts_text("would now be refused", &r.now_refused),
        shifts_text("would now be allowed", &r.now_allowed),
        changes_text(&r.changes)
    )
}

fn evaluation_text(e: &Evaluation) -> String {
    let mut out = format!(
        "evaluation of covenant {} ({}): {} recorded flows\n\nper article (disclosures, lookups, refusals):\n",
        e.covenant_version,
        window_text(&e.window),
        e.flows
    );
    for a in &e.articles {
        out.push_str(&format!(
            "  {:<24} {:>8} {:>8} {:>8}\n",
            a.article, a.disclosures, a.lookups, a.refusals
        ));
    }
    out.push_str(&format!("\nrules never used: {}\n", e.unused_rules.len()));
    for r in &e.unused_rules {
        out.push_str(&format!("  line {:>3}  {}  [{}]\n", r.line, r.rule, r.article));
    }
    out.push_str(&format!("\nrecurring refusals: {}\n", e.recurring_refusals.len()));
    for r in &e.recurring_refusals {
        out.push_str(&format!(
            "  {:>7}  {} {} {} {}: {} → {}\n",
            r.refusals,
            r.code,
            r.route.meeting_type,
            r.route.purpose,
            r.route.category,
            r.route.source_roles,
            r.route.recipient_roles
        ));
    }
    out.push_str(&format!(
        "\npartners that have not signed version {}: {}\n",
        e.covenant_version,
        e.unsigned.len()
    ));
    for u in &e.unsigned {
        out.push_str(&format!("  {} {} (signed: {})\n", u.oin, u.name, u.signed.join(", ")));
    }
    out
}
