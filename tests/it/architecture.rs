//! The floor plan, checked: every `crate::…` path in `src/` names a folder its own folder may use. The rules are
//! written once, here; `docs/architecture.md` explains them. An arrow outward (a domain folder reaching for the
//! HTTP layer, the store for the log, the edge for the API) fails this test and names the file and line.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each part of `src/` and the parts it may use. A part is a folder (`src/log/`) or a file at the top
/// (`src/app.rs`). The domain folders form layers: each may use the ones listed before it, none after.
const RULES: &[(&str, &[&str])] = &[
    ("types", &[]),
    ("crypto", &["types"]),
    ("store", &["types"]),
    ("covenant", &["types"]),
    ("log", &["types", "crypto", "store"]),
    ("orgs", &["types", "crypto", "store", "log", "covenant"]),
    ("cases", &["types", "crypto", "store", "log", "covenant", "orgs"]),
    (
        "exchange",
        &["types", "crypto", "store", "log", "covenant", "orgs", "cases"],
    ),
    ("figures", &["types", "store", "log", "covenant", "orgs"]),
    ("edge", &["types", "crypto", "orgs"]),
    ("config", &["types", "crypto", "log", "exchange", "edge"]),
    (
        "app",
        &[
            "types", "crypto", "store", "log", "covenant", "orgs", "cases", "exchange", "figures", "edge", "config",
        ],
    ),
    (
        "api",
        &[
            "types", "crypto", "store", "log", "covenant", "orgs", "cases", "exchange", "figures", "edge", "config",
            "app",
        ],
    ),
    (
        "console",
        &[
            "types", "crypto", "store", "log", "covenant", "orgs", "cases", "exchange", "figures", "edge", "config",
            "app", "api",
        ],
    ),
    (
        "server",
        &[
            "types", "crypto", "store", "log", "covenant", "orgs", "cases", "exchange", "figures", "edge", "config",
            "app", "api", "console",
        ],
    ),
    (
        "cli",
        &[
            "types", "crypto", "store", "log", "covenant", "orgs", "cases", "exchange", "figures", "edge", "config",
            "app", "api", "console", "server",
        ],
    ),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The part of `src/` a file belongs to (`None` for `lib.rs` and `main.rs`, which may name every part).
fn part_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let part = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(part, "lib" | "main")).then(|| part.to_owned())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::PART` named on a line of code (comments left out), with its line number. A file's unit tests
/// (from its `#[cfg(test)]` module on) may reach further for their fixtures and are not read.
fn named_parts(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push((i + 1, name));
            }
            rest = after;
        }
    }
    found
}

/// Arrows that the rules forbid, as `file:line: part -> other`.
fn forbidden_arrows() -> Vec<String> {
    let rules: BTreeMap<&str, &[&str]> = RULES.iter().copied().collect();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut bad = Vec::new();
    for file in files {
        let Some(part) = part_of(&file) else { continue };
        let text = std::fs::read_to_string(&file).unwrap();
        let Some(allowed) = rules.get(part.as_str()) else {
            bad.push(format!("{}: `{part}` is not a part the rules know", file.display()));
            continue;
        };
        for (line, other) in named_parts(&text) {
            if other != part && !allowed.contains(&other.as_str()) {
                let rel = file.strip_prefix(src()).unwrap().display().to_string();
                bad.push(format!("src/{rel}:{line}: {part} -> {other}"));
            }
        }
    }
    bad
}

#[test]
fn arrows_point_only_inward() {
    let bad = forbidden_arrows();
    assert!(bad.is_empty(), "forbidden imports:\n{}", bad.join("\n"));
}

#[test]
fn the_rules_are_layers_without_cycles() {
    // A part may only use parts defined before it in RULES: that order is a topological order, so no cycle.
    for (i, (part, uses)) in RULES.iter().enumerate() {
        for used in *uses {
            let at = RULES.iter().position(|(p, _)| p == used);
            assert!(
                at.is_some_and(|at| at < i),
                "{part} uses {used}, which is not a layer below it"
            );
        }
    }
}

#[test]
fn the_checker_sees_a_forbidden_arrow() {
    let sample = "use crate::api::error::ApiError; // crate::app in a comment is not an arrow\n\
                  fn f() { crate::types::clock::rfc3339(x) }\n#[cfg(test)]\nmod tests { use crate::store::Store; }";
    let parts: Vec<String> = named_parts(sample).into_iter().map(|(_, p)| p).collect();
    assert_eq!(parts, ["api", "types"]);
}
