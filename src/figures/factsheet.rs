//! The factsheet of a municipality or the region over a fixed period (a year or a quarter, never a free range:
//! differencing two ranges would single people out). Facts come from the store, are counted per municipality into
//! fixed rows, and the whole region passes disclosure control at once, so that what one municipality's sheet shows
//! and what another's shows cannot be combined against either.
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use utoipa::ToSchema;

use super::control::{publish, Cell, Sheet};
use crate::covenant::Covenant;
use crate::orgs::registry::Snapshot;
use crate::store::figures::Span;
use crate::store::{Store, StoreError};
use crate::types::{is_municipality, Oin};

/// A year (`2026`) or a quarter (`2026-Q3`), as the half-open span of instants it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub label: String,
    from: String,
    to: String,
}

impl FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Period, String> {
        let bad = || "period: a year (2026) or a quarter (2026-Q3)".to_owned();
        let (year, quarter) = match s.split_once("-Q") {
            Some((y, q)) => (y, Some(q.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let year: i32 = year.parse().map_err(|_| bad())?;
        if !(2000..=2999).contains(&year) || year.to_string().len() != 4 {
            return Err(bad());
        }
        let (from, to) = match quarter {
            None => ((year, 1), (year + 1, 1)),
            Some(q @ 1..=3) => ((year, 3 * q - 2), (year, 3 * q + 1)),
            Some(4) => ((year, 10), (year + 1, 1)),
            Some(_) => return Err(bad()),
        };
        let at = |(y, m): (i32, u8)| format!("{y:04}-{m:02}-01T00:00:00.000000Z");
        Ok(Period {
            label: s.to_owned(),
            from: at(from),
            to: at(to),
        })
    }
}

/// A factsheet as published.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Factsheet {
    pub period: String,
    /// The municipality's CBS code, or `null` for the region.
    pub municipality: Option<String>,
    /// Reports in the whole region in the period.
    pub region_total: Cell,
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Table {
    pub id: String,
    pub columns: Vec<String>,
    /// Empty, with `withheld`, when one category is the whole group.
    pub rows: Vec<Row>,
    pub total: Cell,
    pub withheld: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Row {
    pub label: String,
    pub values: Vec<Cell>,
}

/// One table's fixed rows, and how a fact is counted into them.
struct Spec {
    id: &'static str,
    labels: Vec<String>,
}

/// The facts of a period, each with its area (a municipality, or `None` when the report named none).
#[derive(Default)]
struct Counts {
    /// Per table: (area, label) → count.
    tables: Vec<BTreeMap<(Option<String>, String), u64>>,
}

impl Counts {
    fn add(&mut self, table: usize, area: Option<String>, label: String, n: i64) {
        if let Some(t) = self.tables.get_mut(table) {
            *t.entry((area, label)).or_insert(0) += u64::try_from(n).unwrap_or(0);
        }
    }
}

/// The region's factsheets for `period`, counted and published at once; `municipality` picks one (`None`: the
/// region's own).
///
/// # Errors
/// The database refused.
pub async fn factsheet(
    store: &Store,
    (covenant, registry): (&Covenant, &Snapshot),
    period: &Period,
    municipality: Option<&str>,
) -> Result<Factsheet, StoreError> {
    let specs = specs(covenant);
    let excluded: Vec<String> = covenant
        .meeting_types
        .iter()
        .filter(|m| !m.statistics)
        .map(|m| m.id.clone())
        .collect();
    let span = Span {
        from: &period.from,
        to: &period.to,
        excluded: &excluded,
    };
    let counts = count(store, &span, covenant, registry).await?;
    let mut areas: BTreeSet<Option<String>> = counts
        .tables
        .iter()
        .flat_map(|t| t.keys().map(|(a, _)| a.clone()))
        .collect();
    if let Some(m) = municipality {
        areas.insert(Some(m.to_owned()));
    }
    let areas: Vec<Option<String>> = areas.into_iter().collect();
    let sheets: Vec<Sheet> = areas
        .iter()
        .map(|area| {
            specs
                .iter()
                .zip(&counts.tables)
                .map(|(spec, t)| {
                    spec.labels
                        .iter()
                        .map(|l| t.get(&(area.clone(), l.clone())).copied().unwrap_or(0))
                        .collect()
                })
                .collect()
        })
        .collect();
    let published: Vec<bool> = areas.iter().map(Option::is_some).collect();
    let out = publish(&sheets, &published);
    let pick = municipality.and_then(|m| areas.iter().position(|a| a.as_deref() == Some(m)));
    let region = out.last().cloned();
    let sheet = match pick {
        Some(i) => out.get(i).cloned(),
        None => region.clone(),
    };
    let (Some(sheet), Some(region)) = (sheet, region) else {
        return Err(StoreError::Corrupt("factsheet"));
    };
    let tables = specs
        .iter()
        .zip(sheet.rows.iter().zip(&sheet.totals))
        .map(|(spec, (rows, total))| Table {
            id: spec.id.to_owned(),
            columns: vec!["aantal".into()],
            withheld: rows.is_none(),
            rows: rows
                .iter()
                .flatten()
                .zip(&spec.labels)
                .map(|(cell, label)| Row {
                    label: label.clone(),
                    values: vec![*cell],
                })
                .collect(),
            total: *total,
        })
        .collect();
    Ok(Factsheet {
        period: period.label.clone(),
        municipality: municipality.map(str::to_owned),
        region_total: region.totals.first().copied().unwrap_or(Cell::Shown(0)),
        tables,
    })
}

/// Whose reports, how weighed, which meetings, who (age band, gender), how often, what closing achieved.
fn specs(covenant: &Covenant) -> Vec<Spec> {
    let ids = |list: &[crate::covenant::Purpose]| list.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    let w = &covenant.weighing;
    let mut outcomes: Vec<String> = w
        .outcomes
        .iter()
        .filter(|o| o.id != w.declined_outcome)
        .map(|o| o.id.clone())
        .collect();
    outcomes.extend(w.reasons.iter().map(|r| format!("{}/{}", w.declined_outcome, r.id)));
    let strings = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect();
    let mut roles: Vec<String> = covenant.roles.iter().map(|r| r.id.clone()).collect();
    roles.push("onbekend".into());
    let mut closures = ids(&covenant.closure_outcomes);
    closures.push("geen".into());
    vec![
        Spec {
            id: "reports_by_reporter",
            labels: roles,
        },
        Spec {
            id: "weighing_outcomes",
            labels: outcomes,
        },
        Spec {
            id: "cases_by_meeting_type",
            labels: covenant
                .meeting_types
                .iter()
                .filter(|m| m.statistics)
                .map(|m| m.id.clone())
                .collect(),
        },
        Spec {
            id: "age_band",
            labels: strings(&["<18", "18-23", "23+", "onbekend"]),
        },
        Spec {
            id: "gender",
            labels: strings(&["man", "vrouw", "x", "gezin", "groep", "onbekend"]),
        },
        Spec {
            id: "repeat_reports",
            labels: strings(&["1", "2", "3", "4-6", "7+"]),
        },
        Spec {
            id: "closure_outcomes",
            labels: closures,
        },
    ]
}

/// Counts every fact of the span into its table's rows (the order of [`specs`]).
async fn count(store: &Store, span: &Span<'_>, covenant: &Covenant, registry: &Snapshot) -> Result<Counts, StoreError> {
    let mut c = Counts {
        tables: vec![BTreeMap::new(); 7],
    };
    let area = |m: Option<String>| m.filter(|m| is_municipality(m));
    for (m, reporter, kind, gender, age, n) in store.report_facts(span).await? {
        let role = reporter
            .parse::<Oin>()
            .ok()
            .and_then(|o| {
                registry
                    .organisation(&o)
                    .and_then(|o| o.covenant_roles.first().cloned())
            })
            .unwrap_or_else(|| "onbekend".into());
        c.add(0, area(m.clone()), role, n);
        c.add(3, area(m.clone()), age, n);
        let gender = if kind == "persoon" { gender } else { kind };
        c.add(4, area(m), gender, n);
    }
    let w = &covenant.weighing;
    for (m, outcome, reason, n) in store.weighing_facts(span).await? {
        let label = match reason {
            Some(r) if outcome == w.declined_outcome => format!("{outcome}/{r}"),
            _ => outcome,
        };
        c.add(1, area(m), label, n);
    }
    for (m, meeting_type, n) in store.agenda_facts(span).await? {
        c.add(2, area(m), meeting_type, n);
    }
    for (reports, m, n) in store.subject_facts(span).await? {
        let bucket = match reports {
            1..=3 => reports.to_string(),
            4..=6 => "4-6".into(),
            _ => "7+".into(),
        };
        c.add(5, area(m), bucket, n);
    }
    for (m, outcome, n) in store.closure_facts(span).await? {
        c.add(6, area(m), if outcome.is_empty() { "geen".into() } else { outcome }, n);
    }
    Ok(c)
}

/// The factsheet as CSV: `table,label,value`, each table's total as label `totaal`.
pub fn csv(sheet: &Factsheet) -> String {
    let mut out = String::from("table,label,value\n");
    for t in &sheet.tables {
        for r in &t.rows {
            for v in &r.values {
                out.push_str(&format!("{},{},{v}\n", t.id, r.label));
            }
        }
        out.push_str(&format!("{},totaal,{}\n", t.id, t.total));
    }
    out.push_str(&format!("region,totaal,{}\n", sheet.region_total));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_years_or_quarters_only() {
        let q: Period = "2026-Q3".parse().unwrap();
        assert_eq!(
            (q.from.as_str(), q.to.as_str()),
            ("2026-07-01T00:00:00.000000Z", "2026-10-01T00:00:00.000000Z")
        );
        let y: Period = "2026".parse().unwrap();
        assert_eq!(y.to, "2027-01-01T00:00:00.000000Z");
        let q4: Period = "2026-Q4".parse().unwrap();
        assert_eq!(q4.to, "2027-01-01T00:00:00.000000Z");
        for bad in ["2026-Q5", "2026-Q0", "26", "2026-07", "2026-01-01/2026-02-01", ""] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }
}
