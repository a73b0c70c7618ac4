//! Disclosure control, the one place every figure passes through. Counts from 1 to 9 are shown as `"<10"`; a
//! breakdown in which one category is the whole group is withheld; then, until nothing more can be learned, any
//! suppressed count that the published tables pin to one value — through a table's total, or through the region
//! minus the other areas — makes one more count of that equation suppressed (the smallest shown one, shown as
//! `"."`). What an attacker can learn is computed by propagating value bounds through every equation the tables
//! publish: each table's total is the sum of its rows, and each region count the sum of the areas' counts.
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

/// Counts below this (and above zero) are never shown.
pub const THRESHOLD: u64 = 10;

/// A count as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Shown(u64),
    /// 1–9.
    Small,
    /// Suppressed so that another suppressed count cannot be recomputed (10 or more, or withheld).
    Hidden,
}

impl Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Shown(n) => s.serialize_u64(*n),
            Cell::Small => s.serialize_str("<10"),
            Cell::Hidden => s.serialize_str("."),
        }
    }
}

impl ToSchema for Cell {}
impl utoipa::PartialSchema for Cell {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, SchemaType, Type};
        OneOfBuilder::new()
            .description(Some("a whole number, `\"<10\"` (1–9) or `\".\"` (suppressed)"))
            .item(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::Integer))
                    .minimum(Some(0)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::String))
                    .enum_values(Some(["<10", "."])),
            )
            .into()
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Shown(n) => write!(f, "{n}"),
            Cell::Small => f.write_str("<10"),
            Cell::Hidden => f.write_str("."),
        }
    }
}

/// The raw counts of one area: per table, its rows' counts (the total is their sum).
pub type Sheet = Vec<Vec<u64>>;

/// One area's tables as published: per table, the rows (empty when the breakdown is withheld) and the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub rows: Vec<Option<Vec<Cell>>>,
    pub totals: Vec<Cell>,
}

/// Which count: area (`areas.len()` is the region), table, and row (`None` for the table's total).
type Var = (usize, usize, Option<usize>);

/// The published form of `areas` and their region (the sums), in that order; every area has the same tables with
/// the same rows as the first. `published[i]` says whether area `i` is published at all (an unpublished area —
/// reports without a municipality — still counts in the region and is unknown to a reader).
pub fn publish(areas: &[Sheet], published: &[bool]) -> Vec<Published> {
    let mut grid = Grid::new(areas, published);
    grid.primary();
    loop {
        let pinned = grid.bounds().pinned();
        if pinned.is_empty() {
            break;
        }
        // An equation with one unknown gives it away whatever else is hidden: protect that first; when no equation
        // of a pinned count has a count left to hide, hide the smallest count shown anywhere. Each round hides one
        // more count, and with every count hidden nothing is pinned, so this ends.
        let mut targets = grid.lone_unknown().into_iter().chain(pinned);
        if !targets.any(|t| grid.protect(t)) && !grid.protect_any() {
            break;
        }
    }
    grid.output()
}

/// Every count of every area and the region, as value and as shown.
struct Grid {
    /// Rows per table.
    widths: Vec<usize>,
    /// Areas, the region not counted.
    areas: usize,
    values: HashMap<Var, u64>,
    cells: HashMap<Var, Cell>,
    /// (area, table) whose breakdown is withheld.
    withheld: HashSet<(usize, usize)>,
    published: Vec<bool>,
}

impl Grid {
    fn new(areas: &[Sheet], published: &[bool]) -> Grid {
        let widths: Vec<usize> = areas
            .first()
            .map(|s| s.iter().map(Vec::len).collect())
            .unwrap_or_default();
        let mut values = HashMap::new();
        for (a, sheet) in areas.iter().enumerate() {
            for (t, rows) in sheet.iter().enumerate() {
                for (r, v) in rows.iter().enumerate() {
                    values.insert((a, t, Some(r)), *v);
                    *values.entry((areas.len(), t, Some(r))).or_insert(0) += *v;
                }
                *values.entry((a, t, None)).or_insert(0) += rows.iter().sum::<u64>();
                *values.entry((areas.len(), t, None)).or_insert(0) += rows.iter().sum::<u64>();
            }
        }
        let cells = values.iter().map(|(v, n)| (*v, Cell::Shown(*n))).collect();
        let mut published = published.to_vec();
        published.resize(areas.len(), false);
        published.push(true);
        Grid {
            widths,
            areas: areas.len(),
            values,
            cells,
            withheld: HashSet::new(),
            published,
        }
    }

    fn value(&self, v: Var) -> u64 {
        self.values.get(&v).copied().unwrap_or(0)
    }

    fn cell(&self, v: Var) -> Cell {
        self.cells.get(&v).copied().unwrap_or(Cell::Shown(0))
    }

    fn is_published(&self, area: usize) -> bool {
        self.published.get(area).copied().unwrap_or(false)
    }

    /// Every count, in a fixed order.
    fn vars(&self) -> Vec<Var> {
        let mut out = Vec::new();
        for a in 0..=self.areas {
            for (t, w) in self.widths.iter().enumerate() {
                out.extend((0..*w).map(|r| (a, t, Some(r))));
                out.push((a, t, None));
            }
        }
        out
    }

    /// Primary suppression: 1–9 everywhere, and breakdowns where one row is the whole (non-empty) group.
    fn primary(&mut self) {
        for v in self.vars() {
            if (1..THRESHOLD).contains(&self.value(v)) {
                self.cells.insert(v, Cell::Small);
            }
        }
        for a in 0..=self.areas {
            for (t, w) in self.widths.iter().enumerate() {
                let total = self.value((a, t, None));
                if total > 0 && *w > 1 && (0..*w).any(|r| self.value((a, t, Some(r))) == total) {
                    self.withheld.insert((a, t));
                }
            }
        }
    }

    /// Whether a reader sees the count's value.
    fn known(&self, (a, t, r): Var) -> bool {
        self.is_published(a)
            && !(r.is_some() && self.withheld.contains(&(a, t)))
            && matches!(self.cell((a, t, r)), Cell::Shown(_))
    }

    /// The equations the tables publish, as (sum, parts).
    fn equations(&self) -> Vec<(Var, Vec<Var>)> {
        let region = self.areas;
        let mut out = Vec::new();
        for (t, w) in self.widths.iter().enumerate() {
            for a in 0..=region {
                out.push(((a, t, None), (0..*w).map(|r| (a, t, Some(r))).collect()));
            }
            for r in (0..*w).map(Some).chain([None]) {
                out.push(((region, t, r), (0..region).map(|a| (a, t, r)).collect()));
            }
        }
        out
    }

    /// The bounds a reader can derive for every count.
    fn bounds(&self) -> Bounds<'_> {
        let mut b: HashMap<Var, (u64, Option<u64>)> = self
            .vars()
            .into_iter()
            .map(|v| {
                let bound = if self.known(v) {
                    (self.value(v), Some(self.value(v)))
                } else if !self.is_published(v.0) || (v.2.is_some() && self.withheld.contains(&(v.0, v.1))) {
                    (0, None)
                } else if self.cell(v) == Cell::Small {
                    (1, Some(THRESHOLD - 1))
                } else {
                    (THRESHOLD, None)
                };
                (v, bound)
            })
            .collect();
        propagate(&mut b, &self.equations());
        Bounds { grid: self, b }
    }

    /// A hidden, non-zero count of a published area that is the only unknown of some equation.
    fn lone_unknown(&self) -> Option<Var> {
        self.equations().into_iter().find_map(|(sum, parts)| {
            let unknown: Vec<Var> = std::iter::once(sum).chain(parts).filter(|v| !self.known(*v)).collect();
            match unknown.as_slice() {
                [v] if self.is_published(v.0) && self.value(*v) > 0 => Some(*v),
                _ => None,
            }
        })
    }

    /// Suppresses one more count of an equation that holds `var`: the smallest shown one. `false` when none is left.
    fn protect(&mut self, var: Var) -> bool {
        let next = self
            .equations()
            .into_iter()
            .filter(|(sum, parts)| *sum == var || parts.contains(&var))
            .flat_map(|(sum, parts)| std::iter::once(sum).chain(parts))
            .filter(|v| self.known(*v) && self.value(*v) > 0)
            .min_by_key(|v| (self.value(*v), *v));
        let Some(next) = next else { return false };
        self.hide(next);
        true
    }

    /// Hides the smallest count still shown anywhere; `false` when every count is hidden.
    fn protect_any(&mut self) -> bool {
        let next = self
            .vars()
            .into_iter()
            .filter(|v| self.known(*v) && self.value(*v) > 0)
            .min_by_key(|v| (self.value(*v), *v));
        let Some(next) = next else { return false };
        self.hide(next);
        true
    }

    fn hide(&mut self, v: Var) {
        let cell = if self.value(v) < THRESHOLD {
            Cell::Small
        } else {
            Cell::Hidden
        };
        self.cells.insert(v, cell);
    }

    fn output(&self) -> Vec<Published> {
        (0..=self.areas)
            .map(|a| Published {
                rows: self
                    .widths
                    .iter()
                    .enumerate()
                    .map(|(t, w)| {
                        (!self.withheld.contains(&(a, t)))
                            .then(|| (0..*w).map(|r| self.cell((a, t, Some(r)))).collect())
                    })
                    .collect(),
                totals: (0..self.widths.len()).map(|t| self.cell((a, t, None))).collect(),
            })
            .collect()
    }
}

struct Bounds<'g> {
    grid: &'g Grid,
    b: HashMap<Var, (u64, Option<u64>)>,
}

impl Bounds<'_> {
    /// The suppressed counts of published areas whose values the reader can derive exactly (a zero needs no
    /// protection: tables show zeros).
    fn pinned(&self) -> Vec<Var> {
        let g = self.grid;
        g.vars()
            .into_iter()
            .filter(|v| {
                let hidden = g.is_published(v.0) && !g.known(*v);
                hidden && self.b.get(v).is_some_and(|(lo, hi)| *lo > 0 && Some(*lo) == *hi)
            })
            .collect()
    }
}

/// Tightens `b` (lower bound, upper bound or none) through every `sum = Σ parts` until nothing changes: the sum
/// lies between its parts' bounds summed, and each part between the sum's bounds less the others'.
pub(crate) fn propagate<V: Copy + Eq + std::hash::Hash>(
    b: &mut HashMap<V, (u64, Option<u64>)>,
    equations: &[(V, Vec<V>)],
) {
    let get = |b: &HashMap<V, (u64, Option<u64>)>, v: &V| b.get(v).copied().unwrap_or((0, None));
    loop {
        let mut changed = false;
        for (sum, parts) in equations {
            let lows: u64 = parts.iter().map(|p| get(b, p).0).sum();
            let unbounded = parts.iter().filter(|p| get(b, p).1.is_none()).count();
            let highs: u64 = parts.iter().filter_map(|p| get(b, p).1).sum();
            changed |= tighten(b, *sum, lows, (unbounded == 0).then_some(highs));
            let (slo, shi) = get(b, sum);
            for p in parts {
                let (lo, hi) = get(b, p);
                let others_hi = match (hi, unbounded) {
                    (Some(h), 0) => Some(highs - h),
                    (None, 1) => Some(highs),
                    _ => None,
                };
                let new_lo = others_hi.map_or(0, |oh| slo.saturating_sub(oh));
                let new_hi = shi.map(|sh| sh.saturating_sub(lows - lo));
                changed |= tighten(b, *p, new_lo, new_hi);
            }
        }
        if !changed {
            return;
        }
    }
}

fn tighten<V: Copy + Eq + std::hash::Hash>(
    b: &mut HashMap<V, (u64, Option<u64>)>,
    v: V,
    lo: u64,
    hi: Option<u64>,
) -> bool {
    let Some(entry) = b.get_mut(&v) else { return false };
    let (old_lo, old_hi) = *entry;
    let new_lo = old_lo.max(lo);
    let new_hi = match (old_hi, hi) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    };
    let new_hi = new_hi.map(|h| h.max(new_lo));
    *entry = (new_lo, new_hi);
    (new_lo, new_hi) != (old_lo, old_hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_hide_and_a_lone_small_count_takes_its_neighbour_along() {
        let out = publish(&[vec![vec![3, 20, 40]], vec![vec![30, 30, 30]]], &[true, true]);
        let rows = out[0].rows[0].clone().unwrap();
        assert_eq!(rows[0], Cell::Small);
        let hidden = rows.iter().filter(|c| !matches!(c, Cell::Shown(_))).count();
        assert!(hidden >= 2, "total − shown would give the 3 back: {rows:?}");
        // The region minus the other area would give the 3 back: the other area hides a rectangle's corner too.
        let other = out[1].rows[0].clone().unwrap();
        assert_eq!(
            other.iter().filter(|c| !matches!(c, Cell::Shown(_))).count(),
            2,
            "{out:?}"
        );
        assert_eq!(out[2].totals[0], Cell::Shown(153), "the region stays whole");
    }

    #[test]
    fn one_category_as_the_whole_group_withholds_the_breakdown() {
        let out = publish(&[vec![vec![0, 25]]], &[true]);
        assert_eq!(out[0].rows[0], None);
        assert_eq!(out[0].totals[0], Cell::Shown(25));
    }

    #[test]
    fn two_small_counts_that_sum_to_their_total_do_not_give_each_other_away() {
        let out = publish(&[vec![vec![1, 1, 30]]], &[true]);
        let rows = out[0].rows[0].clone().unwrap();
        assert!(rows.iter().filter(|c| **c != Cell::Shown(30)).count() >= 2);
        let mut b = HashMap::new();
        b.insert(0, (1, Some(9)));
        b.insert(1, (1, Some(9)));
        b.insert(2, (2, Some(2)));
        propagate(&mut b, &[(2, vec![0, 1])]);
        assert_eq!(
            (b[&0], b[&1]),
            ((1, Some(1)), (1, Some(1))),
            "the bounds find what the sum gives away"
        );
    }
}
