//! Tidy checks over the workspace's own source: the cheap rules a reviewer would otherwise
//! have to remember.
//!
//! - **Modules form layers without circles.** Inside every crate, a module may use modules
//!   below it, never one that (directly or through others) uses it back. A module's own
//!   `#[cfg(test)] mod tests` is not part of the graph (tests may look anywhere), and a parent
//!   declaring or re-exporting its children is the parent using them.
//! - Items are imported from the module that defines them, not through the crate root's
//!   re-exports (`crate::Error` in a module would make every module depend on every other).

#![allow(clippy::indexing_slicing, clippy::string_slice)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One source file of a crate, as a module path (`lint::check`), with its text minus
/// comments, strings and test modules.
#[derive(Debug)]
struct Module {
    path: Vec<String>,
    file: PathBuf,
    code: String,
}

fn modules_of(src: &Path) -> Vec<Module> {
    let mut out = Vec::new();
    walk(src, src, &mut out);
    out
}

fn walk(src: &Path, dir: &Path, out: &mut Vec<Module>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            // `bin/` holds separate binaries, each its own crate.
            if path.file_name().is_some_and(|n| n == "bin") {
                continue;
            }
            walk(src, &path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(src).unwrap_or(&path);
        let mut parts: Vec<String> =
            rel.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned()).collect();
        let last = parts.last().cloned().unwrap_or_default();
        let is_dir_module = matches!(last.as_str(), "mod" | "lib" | "main");
        if is_dir_module {
            parts.pop();
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        // A `tests.rs` beside its parent is that parent's test module.
        if last == "tests" {
            continue;
        }
        out.push(Module { path: parts, file: path.clone(), code: strip(&text) });
    }
}

/// The code without comments, string literals and `#[cfg(test)]` items.
fn strip(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(rest.len(), |e| e + 2);
            i += end;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = if rest.starts_with("r#") { "\"#" } else { "\"" };
            let open = if rest.starts_with("r#") { 3 } else { 2 };
            let end = rest[open..].find(hashes).map_or(rest.len(), |e| e + open + hashes.len());
            i += end;
            out.push_str("\"\"");
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() {
                match rest.as_bytes()[j] {
                    b'\\' => j += 2,
                    b'"' => break,
                    _ => j += 1,
                }
            }
            i += (j + 1).min(rest.len());
            out.push_str("\"\"");
        } else if let Some(after) = rest.strip_prefix('\'') {
            // A char literal ('x', '\'', '\u{1e}'), or a lifetime ('a), which is kept.
            let mut chars = after.chars();
            match chars.next() {
                Some('\\') => {
                    let end = after.get(2..).and_then(|a| a.find('\'')).map_or(rest.len(), |e| e + 4);
                    i += end.min(rest.len());
                }
                Some(c) if after[c.len_utf8()..].starts_with('\'') => i += 2 + c.len_utf8(),
                _ => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else if rest.starts_with("#[cfg(test)]") {
            // Skip the attribute and the item it guards (up to its matching brace or `;`).
            let mut j = "#[cfg(test)]".len();
            let mut depth = 0usize;
            let body = rest.as_bytes();
            while j < body.len() {
                match body[j] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            j += 1;
                            break;
                        }
                    }
                    b';' if depth == 0 => {
                        j += 1;
                        break;
                    }
                    _ => {}
                }
                j += 1;
            }
            i += j;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every module path a module's code refers to: `crate::a::b`, `super::x`, `self::x`, and in
/// a directory module, its children by bare name (`child::Item`, `use child::…`).
fn references(module: &Module, known: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let mut refs = BTreeSet::new();
    let code = &module.code;
    // The module's own directory path: where `self::` and bare child names resolve.
    // (A file module `a.rs` may have children in `a/` too, so both kinds resolve alike.)
    let own = module.path.clone();
    let parent: Vec<String> = own.iter().take(own.len().saturating_sub(1)).cloned().collect();
    let children_base = own.clone();
    for path in paths_in(code) {
        let (base, rest): (Vec<String>, &[String]) = match path.first().map(String::as_str) {
            Some("crate") => (Vec::new(), &path[1..]),
            Some("super") => {
                let mut base = parent.clone();
                let mut rest = &path[1..];
                while rest.first().is_some_and(|p| p == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                (base, rest)
            }
            Some("self") => (children_base.clone(), &path[1..]),
            Some(_) => (children_base.clone(), &path[..]),
            None => continue,
        };
        // The longest known module this path names.
        let mut best: Option<Vec<String>> = None;
        let mut candidate = base.clone();
        if known.contains(&candidate) && path.first().is_some_and(|p| p == "crate" || p == "super") {
            best = Some(candidate.clone());
        }
        for part in rest {
            candidate.push(part.clone());
            if known.contains(&candidate) {
                best = Some(candidate.clone());
            } else {
                break;
            }
        }
        if let Some(target) = best
            && target != module.path
        {
            refs.insert(target);
        }
    }
    refs
}

/// Paths like `a::b::{c, d::e}` in the code, expanded into `[a, b, c]`, `[a, b, d, e]`.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts_ident = (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_')
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b':'));
        if !starts_ident {
            i += 1;
            continue;
        }
        let (paths, end) = parse_path(code, i, Vec::new());
        out.extend(paths.into_iter().filter(|p| p.len() > 1));
        i = end.max(i + 1);
    }
    out
}

/// Parses a path starting at `i` with `prefix` before it; returns the expanded paths and
/// the end offset.
fn parse_path(code: &str, mut i: usize, prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let bytes = code.as_bytes();
    let mut current = prefix;
    loop {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if i == start {
            return (vec![current], i);
        }
        current.push(code[start..i].to_owned());
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if !code[j..].starts_with("::") {
            return (vec![current], i);
        }
        j += 2;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b'{' {
            // A group: each member is a path after the prefix.
            let mut all = Vec::new();
            j += 1;
            loop {
                while j < bytes.len() && (bytes[j].is_ascii_whitespace() || bytes[j] == b',') {
                    j += 1;
                }
                if j >= bytes.len() || bytes[j] == b'}' {
                    return (all, j + 1);
                }
                let (paths, end) = parse_path(code, j, current.clone());
                all.extend(paths);
                // Skip `as alias` and anything up to the next separator.
                let mut k = end.max(j + 1);
                while k < bytes.len() && bytes[k] != b',' && bytes[k] != b'}' {
                    if bytes[k] == b'{' {
                        break;
                    }
                    k += 1;
                }
                j = k;
            }
        }
        if j < bytes.len() && bytes[j] == b'*' {
            return (vec![current], j + 1);
        }
        i = j;
    }
}

/// The circles among `graph`'s nodes (strongly connected components of more than one node).
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    // Tarjan's algorithm, iterative enough for a few hundred modules.
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Vec<String>) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(edges) = s.graph.get(v) {
            for w in edges {
                let Some((w, _)) = s.graph.get_key_value(w) else { continue };
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let low = s.low[w].min(s.low[v]);
                    s.low.insert(v, low);
                } else if s.on_stack.contains(w) {
                    let low = s.index[w].min(s.low[v]);
                    s.low.insert(v, low);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(name(w));
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn name(path: &[String]) -> String {
    if path.is_empty() { "crate root".to_owned() } else { path.join("::") }
}

/// The module graph of one crate's `src` directory.
/// Which modules each module uses.
type Graph = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

fn graph_of(src: &Path) -> Graph {
    let modules = modules_of(src);
    let known: BTreeSet<Vec<String>> = modules.iter().map(|m| m.path.clone()).collect();
    modules.iter().map(|m| (m.path.clone(), references(m, &known))).collect()
}

fn crate_sources() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["crates", "examples"] {
        let Ok(entries) = std::fs::read_dir(root().join(dir)) else { continue };
        for entry in entries.flatten() {
            let src = entry.path().join("src");
            if src.is_dir() {
                out.push(src);
            }
        }
    }
    out.push(root().join("tests").join("src"));
    out.sort();
    out
}

#[test]
fn modules_inside_each_crate_form_layers_without_circles() {
    let mut problems = Vec::new();
    let sources = crate_sources();
    assert!(sources.len() >= 6, "expected the workspace's crates, found {sources:?}");
    for src in sources {
        let graph = graph_of(&src);
        assert!(!graph.is_empty(), "no modules found in {}", src.display());
        for circle in circles(&graph) {
            let edges: Vec<String> = circle
                .iter()
                .flat_map(|from| {
                    let from_path: Vec<String> =
                        if from == "crate root" { Vec::new() } else { from.split("::").map(str::to_owned).collect() };
                    graph
                        .get(&from_path)
                        .into_iter()
                        .flatten()
                        .filter(|to| circle.contains(&name(to)))
                        .map(move |to| format!("{from} -> {}", name(to)))
                        .collect::<Vec<_>>()
                })
                .collect();
            problems.push(format!("{}: {}", src.display(), edges.join(", ")));
        }
    }
    assert!(
        problems.is_empty(),
        "import circles (a lower module must not use a higher one; import items from the module that defines \
         them, not through the crate root):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_circle_check_finds_a_circle() {
    // The check itself, on a tiny made-up crate: a -> b -> a is a circle; c -> a is not.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\nmod c;\npub use a::A;\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(src.join("a.rs"), "use crate::b::B;\npub struct A;\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(src.join("b.rs"), "pub struct B(crate::a::A);\n// crate::c::C in a comment\n")
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        src.join("c.rs"),
        "use crate::{a::A, b};\n#[cfg(test)]\nmod tests { use crate::c; }\npub struct C(A, b::B);\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let graph = graph_of(src);
    let found = circles(&graph);
    assert_eq!(found, vec![vec!["a".to_owned(), "b".to_owned()]], "{graph:?}");
    let c = graph.get(&vec!["c".to_owned()]).cloned().unwrap_or_default();
    assert_eq!(c, [vec!["a".to_owned()], vec!["b".to_owned()]].into_iter().collect::<BTreeSet<_>>());
}

/// The README's rules table is the linter's rule book: every rule of `lint::RULES` has a row
/// with its level on each database, and every row is a rule.
#[test]
fn the_readme_rules_table_is_the_rule_catalogue() {
    use migrator_core::lint::RULES;
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap_or_else(|e| panic!("README.md: {e}"));
    let start =
        readme.find("| id | PostgreSQL | MySQL | SQLite | hazard |").unwrap_or_else(|| panic!("no rules table"));
    let rows: BTreeMap<String, [String; 3]> = readme[start..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<String> = line.split('|').map(|c| c.trim().trim_matches('`').to_owned()).collect();
            (cells[1].clone(), [cells[2].clone(), cells[3].clone(), cells[4].clone()])
        })
        .collect();
    let level = |l: Option<migrator_core::lint::Level>| l.map(|l| l.as_str().to_owned()).unwrap_or_default();
    let mut problems = Vec::new();
    for rule in RULES {
        let expected = [level(rule.postgres), level(rule.mysql), level(rule.sqlite)];
        match rows.get(rule.id) {
            None => problems.push(format!("{} has no row in the README's rules table", rule.id)),
            Some(row) if *row != expected => {
                problems.push(format!("{}: README says {row:?}, the code says {expected:?}", rule.id))
            }
            Some(_) => {}
        }
    }
    for id in rows.keys() {
        if !RULES.iter().any(|r| r.id == id) {
            problems.push(format!("the README lists `{id}`, which is no rule"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Decisions live in the planner: outside `plan/` (and `error/`, which defines them), a
/// `PlanError` is only matched, or built as one of these guards. A new one fails here: move
/// the decision into a pure planner function with its unit test.
#[test]
fn plan_errors_are_built_by_the_planner() {
    const ALLOWED: &[(&str, &str)] = &[
        // Matched (not built) to ask who holds the lock.
        ("crates/migrator-core/src/runner/migrator.rs", "Interrupted"),
        // A plan made from another set: the binary no longer has the migration.
        ("crates/migrator-core/src/runner/migrator.rs", "NotInBinary"),
        // A repeatable the plan names but the set lacks (a plan made from another set).
        ("crates/migrator-core/src/runner/steps.rs", "RepeatableNotInBinary"),
        // After plan::plan_resume_target checked it: a guard, never reached.
        ("crates/migrator-core/src/runner/ops.rs", "ResumeNoDown"),
        // Session::execute on SQLite, which the runner never calls (it calls
        // execute_unless_done): the trait's plain form must still answer.
        ("crates/migrator-sqlite/src/driver.rs", "DoneElsewhere"),
        // The CLI's status JSON matches failed and interrupted rows.
        ("crates/migrator-cli/src/commands.rs", "Failed"),
        ("crates/migrator-cli/src/commands.rs", "Interrupted"),
    ];
    let mut found = Vec::new();
    for src in crate_sources() {
        for module in modules_of(&src) {
            let file = module.file.strip_prefix(root()).unwrap_or(&module.file).to_string_lossy().into_owned();
            let file = file.trim_start_matches("./").trim_start_matches("../").to_owned();
            // Test code (the conformance crate, test modules) may match anything.
            if !file.starts_with("crates/")
                || file.contains("migrator-core/src/plan/")
                || file.contains("migrator-core/src/error/")
            {
                continue;
            }
            for (i, _) in module.code.match_indices("PlanError::") {
                let variant: String =
                    module.code[i + "PlanError::".len()..].chars().take_while(|c| c.is_alphanumeric()).collect();
                found.push((file.clone(), variant));
            }
        }
    }
    assert!(
        found.iter().any(|(file, variant)| file.ends_with("runner/migrator.rs") && variant == "NotInBinary"),
        "the scan must see the runner's guard: {found:?}"
    );
    let unexpected: Vec<String> = found
        .iter()
        .filter(|(file, variant)| !ALLOWED.iter().any(|(f, v)| file.ends_with(f) && v == variant))
        .map(|(file, variant)| format!("{file}: PlanError::{variant}"))
        .collect();
    assert!(unexpected.is_empty(), "planner decisions made outside the planner:\n{}", unexpected.join("\n"));
}
