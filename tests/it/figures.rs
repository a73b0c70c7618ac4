//! Disclosure control under attack: random populations of areas are published, and a reader who holds every
//! published table — each area's and the region's — tries to recompute the suppressed counts from what is shown
//! (rows, totals, the region minus the other areas, and what `"<10"` says about a count). The reader here is
//! written apart from the gateway's own check, from the published tables alone.
use doelpoort::figures::control::{publish, Cell, Published, THRESHOLD};
use proptest::prelude::*;
use std::collections::HashMap;

/// (area, table, row or total); the region is area `areas`.
type Var = (usize, usize, Option<usize>);

/// What the reader knows of a count: exactly, or between bounds (upper `None`: no limit).
/// `widths`: each table's rows, which a reader knows from the labels even where a breakdown is withheld.
fn reader_bounds(out: &[Published], published: &[bool], widths: &[usize]) -> HashMap<Var, (u64, Option<u64>)> {
    let mut b = HashMap::new();
    let region = out.len() - 1;
    for (a, sheet) in out.iter().enumerate() {
        let seen = a == region || published[a];
        for (t, total) in sheet.totals.iter().enumerate() {
            let width = widths[t];
            let rows: Vec<Option<Cell>> = match (&sheet.rows[t], seen) {
                (Some(r), true) => r.iter().copied().map(Some).collect(),
                _ => vec![None; width],
            };
            for (r, cell) in rows.into_iter().enumerate() {
                b.insert((a, t, Some(r)), bound(cell));
            }
            b.insert((a, t, None), bound(seen.then_some(*total)));
        }
    }
    b
}

fn bound(cell: Option<Cell>) -> (u64, Option<u64>) {
    match cell {
        Some(Cell::Shown(n)) => (n, Some(n)),
        Some(Cell::Small) => (1, Some(THRESHOLD - 1)),
        Some(Cell::Hidden) => (THRESHOLD, None),
        None => (0, None),
    }
}

/// Every equation the tables publish: a table's total is the sum of its rows; a region count the areas' sum.
fn equations(areas: usize, widths: &[usize]) -> Vec<(Var, Vec<Var>)> {
    let mut out = Vec::new();
    for a in 0..=areas {
        for (t, w) in widths.iter().enumerate() {
            out.push(((a, t, None), (0..*w).map(|r| (a, t, Some(r))).collect()));
        }
    }
    for (t, w) in widths.iter().enumerate() {
        for r in (0..*w).map(Some).chain([None]) {
            out.push(((areas, t, r), (0..areas).map(|a| (a, t, r)).collect()));
        }
    }
    out
}

/// Interval reasoning to a fixed point.
fn solve(b: &mut HashMap<Var, (u64, Option<u64>)>, eqs: &[(Var, Vec<Var>)]) {
    let mut changed = true;
    while changed {
        changed = false;
        for (sum, parts) in eqs {
            let mut vars = vec![*sum];
            vars.extend(parts);
            for (i, v) in vars.iter().enumerate() {
                // v = sum − Σ others (for a part), or Σ parts (for the sum).
                let (lo, hi) = if i == 0 {
                    let lo = parts.iter().map(|p| b[p].0).sum::<u64>();
                    let hi = parts.iter().map(|p| b[p].1).sum::<Option<u64>>();
                    (lo, hi)
                } else {
                    let others: Vec<&Var> = parts.iter().filter(|p| *p != v).collect();
                    let (slo, shi) = b[sum];
                    let olo: u64 = others.iter().map(|p| b[*p].0).sum();
                    let ohi: Option<u64> = others.iter().map(|p| b[*p].1).sum();
                    (
                        ohi.map_or(0, |h| slo.saturating_sub(h)),
                        shi.map(|h| h.saturating_sub(olo)),
                    )
                };
                let (old_lo, old_hi) = b[v];
                let new_lo = old_lo.max(lo);
                let new_hi = match (old_hi, hi) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, None) => x,
                    (None, y) => y,
                };
                if (new_lo, new_hi) != (old_lo, old_hi) {
                    b.insert(*v, (new_lo, new_hi));
                    changed = true;
                }
            }
        }
    }
}

/// Small counts are common in real factsheets: mostly 0–12, sometimes larger.
fn count() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0u64..13, 1 => 13u64..80]
}

fn population() -> impl Strategy<Value = (Vec<Vec<Vec<u64>>>, Vec<bool>)> {
    (2usize..5, prop::collection::vec(2usize..5, 1..3)).prop_flat_map(|(areas, widths)| {
        let sheet = widths
            .iter()
            .map(|w| prop::collection::vec(count(), *w))
            .collect::<Vec<_>>();
        (
            prop::collection::vec(sheet, areas),
            prop::collection::vec(prop_oneof![5 => Just(true), 1 => Just(false)], areas),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn no_suppressed_count_can_be_recomputed_from_the_published_tables((areas, published) in population()) {
        let out = publish(&areas, &published);
        let widths: Vec<usize> = areas[0].iter().map(Vec::len).collect();
        let region = areas.len();
        // What is shown is true, and "<10" only stands for 1–9.
        for (a, sheet) in out.iter().enumerate() {
            for (t, rows) in sheet.rows.iter().enumerate() {
                let truth: Vec<u64> = if a == region {
                    (0..widths[t]).map(|r| areas.iter().map(|s| s[t][r]).sum()).collect()
                } else {
                    areas[a][t].clone()
                };
                let total: u64 = truth.iter().sum();
                let shown: Vec<(Cell, u64)> = match rows {
                    Some(cells) => cells.iter().copied().zip(truth.iter().copied()).collect(),
                    None => Vec::new(),
                };
                for (cell, value) in shown.into_iter().chain([(sheet.totals[t], total)]) {
                    match cell {
                        Cell::Shown(n) => prop_assert_eq!(n, value),
                        Cell::Small => prop_assert!((1..THRESHOLD).contains(&value)),
                        Cell::Hidden => prop_assert!(value >= THRESHOLD),
                    }
                }
            }
        }
        let mut b = reader_bounds(&out, &published, &widths);
        solve(&mut b, &equations(region, &widths));
        for (a, sheet) in out.iter().enumerate() {
            if a < region && !published[a] {
                continue;
            }
            for (t, rows) in sheet.rows.iter().enumerate() {
                let hidden: Vec<Var> = match rows {
                    Some(cells) => cells.iter().enumerate()
                        .filter(|(_, c)| !matches!(c, Cell::Shown(_))).map(|(r, _)| (a, t, Some(r))).collect(),
                    None => (0..widths[t]).map(|r| (a, t, Some(r))).collect(),
                };
                let total = (!matches!(sheet.totals[t], Cell::Shown(_))).then_some((a, t, None));
                for v in hidden.into_iter().chain(total) {
                    let (lo, hi) = b[&v];
                    // A zero is never protected (tables show zeros); any other suppressed count must stay open.
                    prop_assert!(lo == 0 || Some(lo) != hi, "{:?} recomputed as {} from {:?}", v, lo, out);
                }
            }
        }
    }
}

mod factsheets {
    //! The factsheet over real TLS: who may ask, what is counted (never radicalisation), the CSV, and the record.
    use crate::both;
    use crate::helpers::*;
    use doelpoort::types::clock::Clock as _;
    use hyper::Method;
    use serde_json::{json, Value};

    both!(a_municipality_reads_its_factsheet_and_nobody_else_does);

    async fn report(gw: &Gateway, org: &Org, who: usize, municipality: &str) -> String {
        let subject = json!({"no_bsn": {"reason": "onbekend", "family_name": format!("Persoon {who}"),
            "given_name": "Test", "birth_date": "1990-01-01"}});
        let body = json!({"subject": subject, "municipality": municipality, "summary": "Melding"});
        let r = gw
            .call(org, &["professional"], Method::POST, "/v1/cases", Some(body))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["id"].as_str().unwrap().to_owned()
    }

    fn row<'a>(sheet: &'a Value, table: &str, label: &str) -> &'a Value {
        let t = sheet["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == table)
            .unwrap();
        &t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["label"] == label)
            .unwrap()["values"][0]
    }

    fn table<'a>(sheet: &'a Value, id: &str) -> &'a Value {
        sheet["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()
    }

    async fn a_municipality_reads_its_factsheet_and_nobody_else_does(b: Backend) {
        let gw = Gateway::start(b).await;
        let (politie, gemeente) = (gw.org("politie"), gw.org("gemeente"));
        for i in 0..12 {
            report(&gw, &politie, i, "GM0268").await;
        }
        for i in 12..23 {
            report(&gw, &gemeente, i, "GM0268").await;
        }
        for i in 23..35 {
            report(&gw, &gemeente, i, "GM0277").await;
        }
        for i in 35..45 {
            report(&gw, &politie, i, "GM0277").await;
        }
        // A radicalisation case counts nowhere, not even in totals.
        let radical = report(&gw, &politie, 99, "GM0268").await;
        let now = gw.clock.now();
        let at = |s: i64| doelpoort::types::clock::rfc3339(now + time::Duration::seconds(s));
        let body = json!({"type": "radicalisering", "starts_at": at(-60), "ends_at": at(3600)});
        let m = gw
            .call(
                &gw.org(HOST),
                &["procesregisseur"],
                Method::POST,
                "/v1/meetings",
                Some(body),
            )
            .await;
        let agenda = format!("/v1/meetings/{}/agenda", m.body["id"].as_str().unwrap());
        let r = gw
            .call(
                &gw.org(HOST),
                &["procesregisseur"],
                Method::POST,
                &agenda,
                Some(json!({"case_id": radical})),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text);

        let year = now.year();
        let path = format!("/v1/statistics/factsheet?period={year}&municipality=GM0268");
        let r = gw.call(&gemeente, &["professional"], Method::GET, &path, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(row(&r.body, "reports_by_reporter", "politie"), &json!(12));
        assert_eq!(row(&r.body, "reports_by_reporter", "gemeente"), &json!(11));
        assert_eq!(table(&r.body, "reports_by_reporter")["total"], 23);
        assert_eq!(r.body["region_total"], 45);
        assert_eq!(
            table(&r.body, "gender")["withheld"],
            true,
            "every report's gender is unknown: one category"
        );
        assert!(r.headers.get("doelpoort-log-record").is_some());
        let record = gw.newest_admin_record().await;
        assert_eq!(record.entry.action.as_deref(), Some("statistics.factsheet"));

        let csv = gw
            .call(
                &gemeente,
                &["professional"],
                Method::GET,
                &format!("{path}&format=csv"),
                None,
            )
            .await;
        assert_eq!(csv.status, 200);
        assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(
            csv.text.contains("reports_by_reporter,politie,12\n") && csv.text.contains("region,totaal,45\n"),
            "{}",
            csv.text
        );

        // Who may ask: the host's officers for anything; the municipality for its own only.
        let region = format!("/v1/statistics/factsheet?period={year}");
        for (org, roles, path, status) in [
            (
                &gemeente,
                &["professional"][..],
                format!("/v1/statistics/factsheet?period={year}&municipality=GM0277"),
                403,
            ),
            (&gemeente, &["professional"][..], region.clone(), 403),
            (&politie, &["professional"][..], path.clone(), 403),
            (&gw.org(HOST), &["privacy_officer"][..], region.clone(), 200),
            (&gw.org(HOST), &["procesregisseur"][..], path.clone(), 200),
            (&gw.org(HOST), &["professional"][..], region.clone(), 403),
        ] {
            let r = gw.call(org, roles, Method::GET, &path, None).await;
            assert_eq!(r.status, status, "{roles:?} {path}: {}", r.text);
        }
        for bad in [
            format!("{year}-07"),
            format!("{year}-Q5"),
            "2026-01-01/2026-03-01".into(),
        ] {
            let p = format!("/v1/statistics/factsheet?period={bad}");
            gw.call(&gw.org(HOST), &["privacy_officer"], Method::GET, &p, None)
                .await
                .assert_problem(422, "validation_failed");
        }
        gw.stop().await;
    }
}

mod evaluation {
    //! The steering group's evaluation and a dry run of a changed covenant over what the log recorded, over real
    //! TLS: what is counted, who may ask, what a bad window or proposal gets, and the record of each.
    use crate::both;
    use crate::helpers::*;
    use doelpoort::types::clock::Clock as _;
    use hyper::Method;
    use serde_json::{json, Value};

    both!(the_evaluation_and_a_dry_run_count_what_the_log_recorded);

    async fn regisseur(gw: &Gateway, method: Method, path: &str, body: Option<Value>) -> Response {
        gw.call(&gw.org(HOST), &["procesregisseur"], method, path, body).await
    }

    /// A case of the police's in a focus meeting where the police shared a summary that the host read once and
    /// the wijkteam (which may not receive it) tried to read three times.
    async fn history(gw: &Gateway) {
        let politie = gw.org("politie");
        let report = json!({"subject": {"bsn": "123456782"}, "municipality": "GM0268", "summary": "Melding"});
        let r = gw
            .call(&politie, &["professional"], Method::POST, "/v1/cases", Some(report))
            .await;
        let case = r.body["id"].as_str().unwrap().to_owned();
        for oin in [ZVH, WIJKTEAM] {
            let grant = json!({"oin": oin, "reason": "Betrokken"});
            let r = regisseur(gw, Method::POST, &format!("/v1/cases/{case}/members"), Some(grant)).await;
            assert_eq!(r.status, 204, "{}", r.text);
        }
        let now = gw.clock.now();
        let at = |s: i64| doelpoort::types::clock::rfc3339(now + time::Duration::seconds(s));
        let m = regisseur(
            gw,
            Method::POST,
            "/v1/meetings",
            Some(json!({"type": "focus", "starts_at": at(-60), "ends_at": at(3600)})),
        )
        .await;
        let meeting = m.body["id"].as_str().unwrap().to_owned();
        let agenda = json!({"case_id": case});
        regisseur(
            gw,
            Method::POST,
            &format!("/v1/meetings/{meeting}/agenda"),
            Some(agenda),
        )
        .await;
        for oin in [POLITIE, WIJKTEAM] {
            let path = format!("/v1/meetings/{meeting}/attendees");
            assert_eq!(
                regisseur(gw, Method::POST, &path, Some(json!({"oin": oin})))
                    .await
                    .status,
                204
            );
        }
        let shares = format!("/v1/meetings/{meeting}/shares");
        let item = json!({"case_id": case, "items": [{"category": "politie_samenvatting", "content": "Bekend"}]});
        let r = gw
            .call(&politie, &["professional"], Method::POST, &shares, Some(item))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let read = format!("{shares}?case_id={case}");
        let r = gw
            .call(&gw.org(HOST), &["professional"], Method::GET, &read, None)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        for _ in 0..3 {
            gw.call(&gw.org("wijkteam"), &["professional"], Method::GET, &read, None)
                .await;
        }
    }

    fn find<'a>(list: &'a Value, key: &str, value: &str) -> Option<&'a Value> {
        list.as_array().unwrap().iter().find(|v| v[key] == value)
    }

    async fn the_evaluation_and_a_dry_run_count_what_the_log_recorded(b: Backend) {
        let gw = Gateway::start(b).await;
        history(&gw).await;
        let unsigned = onboard(&gw, "00000099000000000011", "ketenpartner", &["ggd"], false).await;
        gw.settle().await;

        let e = regisseur(&gw, Method::GET, "/v1/statistics/evaluation", None).await;
        assert_eq!(e.status, 200, "{}", e.text);
        let art = |a: &str| find(&e.body["articles"], "article", a).cloned().unwrap_or(Value::Null);
        assert_eq!(art("art. 10 lid 1")["disclosures"], 1, "{}", e.text);
        assert_eq!(art("art. 10 lid 2")["disclosures"], 1);
        assert_eq!(
            art("art. 10 lid 1")["refusals"],
            3,
            "the share rule the wijkteam's reads ran into"
        );
        let recurring = &e.body["recurring_refusals"][0];
        assert_eq!(
            (
                &recurring["code"],
                &recurring["category"],
                &recurring["source_roles"],
                &recurring["recipient_roles"]
            ),
            (
                &json!("forbidden_category"),
                &json!("politie_samenvatting"),
                &json!("politie"),
                &json!("wijkteam")
            )
        );
        assert_eq!(recurring["refusals"], 3);
        let unused = &e.body["unused_rules"];
        assert!(find(unused, "rule", "share politie focus * politie_samenvatting").is_none());
        assert!(find(unused, "rule", "receive zvh focus * politie_samenvatting").is_none());
        assert!(find(unused, "rule", "share dji briefing * detentie").is_some());
        assert!(find(&e.body["unsigned"], "oin", &unsigned.oin).is_some());
        assert!(find(&e.body["unsigned"], "oin", POLITIE).is_none());
        let record = gw.newest_admin_record().await;
        assert_eq!(record.entry.action.as_deref(), Some("statistics.evaluation"));

        // A proposal: the wijkteam may receive the summary, the host no longer.
        let policy = std::fs::read_to_string("policies/covenant_policy.csv")
            .unwrap()
            .replace("p, receive, zvh, focus, *, politie_samenvatting, art. 10 lid 2\n", "")
            + "p, receive, wijkteam, focus, *, politie_samenvatting, art. 10 lid 3\n";
        let run = regisseur(
            &gw,
            Method::POST,
            "/v1/statistics/dry-run",
            Some(json!({"policy": policy})),
        )
        .await;
        assert_eq!(run.status, 200, "{}", run.text);
        let allowed = &run.body["now_allowed"][0];
        assert_eq!(
            (&allowed["flows"], &allowed["recipient_roles"]),
            (&json!(3), &json!("wijkteam"))
        );
        assert_eq!(allowed["rules"][1], "receive wijkteam focus * politie_samenvatting");
        assert_eq!(allowed["article"], "art. 10 lid 1; art. 10 lid 3");
        let refused = &run.body["now_refused"][0];
        assert_eq!(
            (&refused["flows"], &refused["recipient_roles"]),
            (&json!(1), &json!("zvh"))
        );
        assert_eq!(refused["now"], "forbidden_category");
        assert_eq!(refused["rules"][1], "receive zvh focus * politie_samenvatting");
        assert_eq!(run.body["now_allowed"].as_array().unwrap().len(), 1, "{}", run.text);
        assert_eq!(run.body["now_refused"].as_array().unwrap().len(), 1, "{}", run.text);
        assert!(run.text.contains("\"how\":\"added\""), "{}", run.text);
        assert!(!run.text.contains("123456782"));
        assert_eq!(
            gw.newest_admin_record().await.entry.action.as_deref(),
            Some("covenant.dry_run")
        );

        // Later than everything recorded: nothing to replay.
        let empty = json!({"policy": policy, "from": "2999-01-01"});
        let run = regisseur(&gw, Method::POST, "/v1/statistics/dry-run", Some(empty)).await;
        assert_eq!(run.status, 200, "{}", run.text);
        assert_eq!(run.body["replayed"], 0);

        // Every way to be refused.
        let gemeente = gw.org("gemeente");
        gw.call(
            &gemeente,
            &["professional"],
            Method::GET,
            "/v1/statistics/evaluation",
            None,
        )
        .await
        .assert_problem(403, "forbidden");
        gw.call(
            &gw.org(HOST),
            &["professional"],
            Method::GET,
            "/v1/statistics/evaluation",
            None,
        )
        .await
        .assert_problem(403, "forbidden");
        for bad in ["from=2026-13-01", "to=gisteren", "from=2026-05-01&to=2026-05-01"] {
            regisseur(&gw, Method::GET, &format!("/v1/statistics/evaluation?{bad}"), None)
                .await
                .assert_problem(422, "validation_failed");
        }
        let broken = json!({"policy": "p, share, politie, focus, *, onbekend, art. 1\n"});
        let r = regisseur(&gw, Method::POST, "/v1/statistics/dry-run", Some(broken)).await;
        r.assert_problem(422, "validation_failed");
        assert!(r.text.contains("onbekend"), "names the problem: {}", r.text);
        gw.stop().await;
    }
}
