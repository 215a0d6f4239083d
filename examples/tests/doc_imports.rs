//! Every documentation example of every crate must compile for a user who depends on that
//! crate alone. Doctests cannot show this (they see all of the crate's dependencies), so this
//! test reads the examples: a path that starts at another crate (`nalgebra::…`,
//! `num_traits::…`, `adroit_reverse::…`) needs that name brought into scope through the
//! crate's re-export (`use adroit_nn::nalgebra::{self, dmatrix};`), and so do nalgebra's
//! `dmatrix!`/`dvector!`, which expand to `nalgebra::` paths.

use std::path::{Path, PathBuf};

/// Crates a user of one adroit crate reaches only through its re-exports.
const OTHER_CRATES: [&str; 10] = [
    "nalgebra",
    "num_traits",
    "rand",
    "simba",
    "approx",
    "safetensors",
    "adroit_forward",
    "adroit_reverse",
    "adroit_nn",
    "adroit_check",
];

/// Rust files under `dir`, recursively.
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

/// The Rust code blocks of the doc comments of `source`: (first line number, lines), with
/// rustdoc's hidden-line `# ` markers removed.
fn doc_blocks(source: &str) -> Vec<(usize, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, Vec<String>, bool)> = None;
    for (number, line) in source.lines().enumerate() {
        let trimmed = line.trim_start();
        let Some(text) = trimmed
            .strip_prefix("///")
            .or_else(|| trimmed.strip_prefix("//!"))
        else {
            continue;
        };
        let text = text.strip_prefix(' ').unwrap_or(text);
        if let Some(lang) = text.trim().strip_prefix("```") {
            match current.take() {
                Some((start, lines, true)) => blocks.push((start, lines)),
                Some(_) => {}
                None => {
                    let rust = lang.is_empty()
                        || lang.split(',').all(|a| {
                            ["rust", "should_panic", "no_run", "edition2024"].contains(&a)
                        });
                    current = Some((number + 2, Vec::new(), rust));
                }
            }
            continue;
        }
        if let Some((_, lines, _)) = &mut current {
            let code = text
                .strip_prefix("# ")
                .or(if text == "#" { Some("") } else { None })
                .unwrap_or(text);
            lines.push(code.to_string());
        }
    }
    blocks
}

/// True when `code` uses `name` as the first segment of a path (`name::…`), outside `use`
/// lists of another crate (`use adroit_nn::{nalgebra::…}` is a re-export path).
fn uses_as_root(code: &str, name: &str) -> bool {
    let pattern = format!("{name}::");
    code.match_indices(&pattern).any(|(at, _)| {
        let before = code[..at].trim_end();
        let prev = before.chars().last();
        let glued = code[..at].chars().last();
        !matches!(glued, Some(c) if c.is_alphanumeric() || c == '_' || c == ':')
            && !matches!(prev, Some('{') | Some(','))
    })
}

/// True when a `use` line of the block brings `name` itself into scope.
fn imports(lines: &[String], name: &str) -> bool {
    lines.iter().any(|line| {
        let l = line.trim();
        l.starts_with("use ")
            && (l.contains(&format!("::{name};"))
                || l.contains(&format!("::{name}::{{self"))
                || l.contains(&format!("{{{name},"))
                || l.contains(&format!("{{{name}}}"))
                || l.contains(&format!(", {name},"))
                || l.contains(&format!(", {name}}}"))
                || l.contains(&format!("{{{name}::{{self"))
                || l.contains(&format!(", {name}::{{self")))
    })
}

#[test]
fn documentation_examples_need_only_the_documented_crate() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut problems = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&crates).unwrap() {
        let dir = entry.unwrap().path();
        let own = dir.file_name().unwrap().to_string_lossy().replace('-', "_");
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for (line, block) in doc_blocks(&source) {
                checked += 1;
                let code = block.join("\n");
                for name in OTHER_CRATES.iter().filter(|&&n| n != own) {
                    let macro_needs = *name == "nalgebra"
                        && (code.contains("dmatrix!") || code.contains("dvector!"));
                    if (macro_needs || uses_as_root(&code, name)) && !imports(&block, name) {
                        problems.push(format!("{}:{line}: {name}", file.display()));
                    }
                }
            }
        }
    }
    assert!(
        checked > 400,
        "only {checked} examples found: is the parser broken?"
    );
    assert!(
        problems.is_empty(),
        "examples that do not compile for a user of that crate alone (bring the name in \
         through the crate's re-export, e.g. `use adroit_nn::nalgebra::{{self, dmatrix}};`):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checker_sees_a_missing_import() {
    let bad = vec!["use adroit_nn::nalgebra::dmatrix;".to_string()];
    assert!(!imports(&bad, "nalgebra"));
    let good = vec!["use adroit_nn::nalgebra::{self, dmatrix};".to_string()];
    assert!(imports(&good, "nalgebra"));
    assert!(uses_as_root(
        "let m = nalgebra::DMatrix::zeros(1, 1);",
        "nalgebra"
    ));
    assert!(!uses_as_root(
        "use adroit_nn::nalgebra::DMatrix;",
        "nalgebra"
    ));
    assert!(!uses_as_root(
        "use adroit_reverse::{adroit_forward::rules, matrix};",
        "adroit_forward"
    ));
    let blocks = doc_blocks("/// ```\n/// # use x;\n/// let a = 1;\n/// ```\nfn f() {}\n");
    assert_eq!(
        blocks,
        vec![(2, vec!["use x;".to_string(), "let a = 1;".to_string()])]
    );
}
