//! The covenant's rules: policy lines read from `covenant_policy.csv` (casbin's CSV form, one `p` line per rule)
//! and the index compiled from them, which answers "which rule lets role R share/receive category C in meeting
//! type M for purpose P" with one hash lookup instead of casbin's scan over every line.
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Share,
    Receive,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Share => "share",
            Direction::Receive => "receive",
        }
    }
}

/// One rule, with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLine {
    pub line: usize,
    pub direction: Direction,
    pub role: String,
    pub meeting_type: String,
    /// A purpose id, or `*` for every purpose of the meeting type.
    pub purpose: String,
    pub category: String,
    pub article: String,
}

/// Reads the policy: blank lines and `#` comments are skipped; anything else must be
/// `p, share|receive, role, meeting type, purpose|*, category, article`.
pub fn parse_policy(text: &str) -> Vec<Result<PolicyLine, (usize, String)>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| parse_line(i + 1, l))
        .collect()
}

fn parse_line(line: usize, text: &str) -> Result<PolicyLine, (usize, String)> {
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    let [p, direction, role, meeting_type, purpose, category, article] = fields[..] else {
        return Err((
            line,
            format!(
                "expected 7 fields `p, share|receive, role, meeting type, purpose|*, category, article`, found {}",
                fields.len()
            ),
        ));
    };
    if p != "p" {
        return Err((line, format!("unknown policy type `{p}` (only `p` lines)")));
    }
    let direction = match direction {
        "share" => Direction::Share,
        "receive" => Direction::Receive,
        other => return Err((line, format!("unknown direction `{other}` (share or receive)"))),
    };
    if [role, meeting_type, purpose, category, article]
        .iter()
        .any(|f| f.is_empty())
    {
        return Err((line, "a field is empty".into()));
    }
    Ok(PolicyLine {
        line,
        direction,
        role: role.into(),
        meeting_type: meeting_type.into(),
        purpose: purpose.into(),
        category: category.into(),
        article: article.into(),
    })
}

type Key = (Direction, String, String, String);

/// The rules by (direction, role, meeting type, category); each entry lists the purposes it covers.
#[derive(Debug, Clone, Default)]
pub struct RuleIndex {
    lines: Vec<PolicyLine>,
    by_key: HashMap<Key, Vec<usize>>,
}

impl RuleIndex {
    pub fn new(lines: Vec<PolicyLine>) -> RuleIndex {
        let mut by_key: HashMap<Key, Vec<usize>> = HashMap::new();
        for (i, l) in lines.iter().enumerate() {
            by_key
                .entry((l.direction, l.role.clone(), l.meeting_type.clone(), l.category.clone()))
                .or_default()
                .push(i);
        }
        RuleIndex { lines, by_key }
    }

    /// The first rule (in file order) that allows the question, if any.
    pub fn find(
        &self,
        direction: Direction,
        role: &str,
        meeting_type: &str,
        purpose: &str,
        category: &str,
    ) -> Option<&PolicyLine> {
        let key = (direction, role.to_owned(), meeting_type.to_owned(), category.to_owned());
        self.by_key
            .get(&key)?
            .iter()
            .filter_map(|i| self.lines.get(*i))
            .find(|l| l.purpose == "*" || l.purpose == purpose)
    }

    pub fn lines(&self) -> &[PolicyLine] {
        &self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_and_names_bad_lines() {
        let parsed = parse_policy(
            "# comment\n\np, share, politie, focus, *, politie_details, art. 10 lid 1\np, give, x\nq, share, a, b, c, d, e\n",
        );
        assert_eq!(parsed[0].as_ref().unwrap().line, 3);
        assert_eq!(parsed[1].as_ref().unwrap_err().0, 4);
        assert!(parsed[2].as_ref().unwrap_err().1.contains("policy type"));
        let index = RuleIndex::new(vec![parsed[0].clone().unwrap()]);
        assert!(index
            .find(Direction::Share, "politie", "focus", "any", "politie_details")
            .is_some());
        assert!(index
            .find(Direction::Receive, "politie", "focus", "any", "politie_details")
            .is_none());
        assert!(index
            .find(Direction::Share, "om", "focus", "any", "politie_details")
            .is_none());
    }
}
