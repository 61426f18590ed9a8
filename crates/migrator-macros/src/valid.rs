//! Loading, validating and linting the directory with migrator-core's loader and linter.

use std::path::{Path, PathBuf};

use migrator_core::lint::{DirLint, Finding, LintOptions, check_dir_with_layout, closest_rule, rule};
use migrator_core::source::{Layout, LoadedMigration, LoadedRepeatable};
use migrator_core::{Dialect, Version};

use crate::ast::{Args, RelativeTo};

/// What the expansion needs.
pub(crate) struct Loaded {
    pub(crate) dialect: Dialect,
    /// The layout the directory was read with.
    pub(crate) layout: Layout,
    pub(crate) migrations: Vec<LoadedMigration>,
    pub(crate) repeatables: Vec<LoadedRepeatable>,
    /// The directory, absolute (for the stale-binary check of debug builds).
    pub(crate) dir: String,
    /// The directory as the macro's argument wrote it.
    pub(crate) written: String,
}

/// Loads and lints the directory named by `args`, turning every problem (load errors, fatal
/// and unacknowledged deny findings) into one spanned error.
pub(crate) fn load(args: &Args) -> syn::Result<Loaded> {
    let span = args.path.span();
    let written_dialect = args.dialect.to_string();
    let Some(dialect) = Dialect::from_id(&written_dialect) else {
        return Err(syn::Error::new(
            args.dialect.span(),
            format!("unknown dialect `{written_dialect}`: postgres, mysql or sqlite"),
        ));
    };
    let options = lint_options(args)?;
    let layout = match &args.layout {
        None => None,
        Some((value, span)) => Some(value.parse::<Layout>().map_err(|message| syn::Error::new(*span, message))?),
    };
    let written = args.path.value();
    if written.trim().is_empty() {
        return Err(syn::Error::new(
            span,
            "the migrations directory path is empty: write it relative to the crate root, such as \
             `embed_migrations!(\"migrations\")`",
        ));
    }
    let dir = resolve(args, &written)?;
    if dir.to_str().is_none() {
        // `include_str!` takes a string: a lossy path would embed another file, or none.
        return Err(syn::Error::new(
            span,
            format!("the migrations directory's path {} is not UTF-8: move the crate or the directory", dir.display()),
        ));
    }
    let checked = check_dir_with_layout(&dir, &written, dialect, layout, &options);
    let mut messages: Vec<String> = checked.described_load_errors().collect();
    messages.extend(checked.findings().failures().map(|finding| with_allow_notes(finding, &checked)));
    if let Some(error) = combine(span, &messages) {
        return Err(error);
    }
    match checked.into_loaded() {
        Ok(loaded) => Ok(Loaded {
            dialect,
            layout: loaded.layout,
            migrations: loaded.migrations,
            repeatables: loaded.repeatables,
            dir: std::path::absolute(&dir).unwrap_or(dir).to_string_lossy().into_owned(),
            written,
        }),
        Err(errors) => {
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            Err(combine(span, &messages)
                .unwrap_or_else(|| syn::Error::new(span, "the migrations directory cannot be loaded")))
        }
    }
}

/// How many problems the macro lists; the rest are counted in one last error.
pub(crate) const LISTED: usize = 50;

/// One error per message, all on `span`: the first [`LISTED`], then how many more there are
/// (a file of 20,000 hazards must not print 20,000 errors).
fn combine(span: proc_macro2::Span, messages: &[String]) -> Option<syn::Error> {
    let mut combined: Option<syn::Error> = None;
    let more = messages.len().saturating_sub(LISTED);
    let overflow = (more > 0).then(|| {
        format!("… and {more} more problem{} (run `migrator lint --all` for all)", if more == 1 { "" } else { "s" })
    });
    for message in messages.iter().take(LISTED).chain(overflow.as_ref()) {
        let e = syn::Error::new(span, message);
        match &mut combined {
            Some(all) => all.combine(e),
            None => combined = Some(e),
        }
    }
    combined
}

/// A failing finding, with a note for each rule its file's allow lines name that does not
/// exist: a misspelled allow silences nothing, and the finding's own advice would send the
/// user back to the line they believe is right.
fn with_allow_notes(finding: &Finding, checked: &DirLint) -> String {
    let mut text = finding.to_string();
    let gutter = " ".repeat(finding.line.to_string().len());
    let allows = checked
        .migrations()
        .iter()
        .map(|m| m.migration.up_script())
        .filter(|up| up.path() == finding.file)
        .flat_map(|up| up.directives().allow.iter());
    for allow in allows {
        for id in allow.rules.iter().filter(|id| rule(id).is_none()) {
            let hint = match closest_rule(id) {
                Some(close) => format!(": did you mean `{close}`?"),
                None => ": the rule ids are listed in the README's linter section".to_owned(),
            };
            text.push_str(&format!(
                "\n{gutter} = note: the allow on line {} names `{id}`, which is not a rule{hint}",
                allow.line
            ));
        }
    }
    text
}

/// `lint_from = …` and the level options, each error spanned on its own token.
fn lint_options(args: &Args) -> syn::Result<LintOptions> {
    let mut options = LintOptions::new();
    if let Some(lit) = &args.lint_from {
        let version = lit.base10_parse::<i64>().ok().and_then(Version::new).ok_or_else(|| {
            syn::Error::new(lit.span(), "`lint_from` is a migration version: a positive integer such as 20261101000000")
        })?;
        options = options.with_lint_from(version);
    }
    let mut errors: Option<syn::Error> = None;
    for level in &args.levels {
        match options.clone().with_level(&level.rule, level.setting) {
            Ok(next) => options = next,
            Err(e) => {
                let e = syn::Error::new(level.span, e.to_string());
                match &mut errors {
                    Some(all) => all.combine(e),
                    None => errors = Some(e),
                }
            }
        }
    }
    match errors {
        Some(errors) => Err(errors),
        None => Ok(options),
    }
}

fn resolve(args: &Args, written: &str) -> syn::Result<PathBuf> {
    let path = Path::new(written);
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let span = args.path.span();
    let base = match args.relative_to {
        RelativeTo::Manifest => std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).ok_or_else(|| {
            syn::Error::new(span, "CARGO_MANIFEST_DIR is not set: build with cargo, or give an absolute path")
        })?,
        RelativeTo::File => {
            let file = span.unwrap().local_file().ok_or_else(|| {
                syn::Error::new(span, "the source file of this call is unknown: use a path relative to the crate root")
            })?;
            let file = if file.is_relative() {
                std::env::current_dir().map(|cwd| cwd.join(&file)).unwrap_or(file)
            } else {
                file
            };
            file.parent().map(Path::to_path_buf).unwrap_or_default()
        }
    };
    Ok(base.join(path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;

    /// The macro's checks on `dir`, as `embed_migrations!("<dir>", dialect = <dialect>)`.
    pub(crate) fn check(dir: &Path, dialect: &str) -> syn::Result<Loaded> {
        let args: Args = syn::parse_str(&format!("{:?}, dialect = {dialect}", dir.to_str().unwrap())).unwrap();
        load(&args)
    }

    fn messages(error: syn::Error) -> Vec<String> {
        error.into_iter().map(|e| e.to_string()).collect()
    }

    /// 20,000 hazards printed 903 MB of errors: each repeated the whole source line.
    #[test]
    fn errors_stop_after_fifty_and_say_how_many_more() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1_drop.up.sql"), "DROP TABLE IF EXISTS zz;".repeat(20_000)).unwrap();
        let errors = messages(check(dir.path(), "postgres").err().unwrap());
        assert_eq!(errors.len(), LISTED + 1);
        assert_eq!(errors[LISTED], "… and 19950 more problems (run `migrator lint --all` for all)");
        let total: usize = errors.iter().map(String::len).sum();
        assert!(total < 100_000, "{total} bytes of errors");
    }

    /// The macro's checks on the directory, in a thread with a time bound: the messages of
    /// its errors, or how many migrations it would embed.
    fn check_within_10s(dir: PathBuf, dialect: &'static str) -> Result<Result<usize, Vec<String>>, String> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let result = check(&dir, dialect).map(|loaded| loaded.migrations.len()).map_err(messages);
            let _ = tx.send(result);
        });
        rx.recv_timeout(std::time::Duration::from_secs(10)).map_err(|e| match e {
            std::sync::mpsc::RecvTimeoutError::Timeout => "blocked for more than 10 s".to_owned(),
            std::sync::mpsc::RecvTimeoutError::Disconnected => "panicked".to_owned(),
        })
    }

    /// The hostile corpus of migrator-core (`tests/hostile/manifest.txt`), through the
    /// macro's own checks: each file case compiles exactly when the manifest says `ok`;
    /// otherwise an error contains the manifest's text, and every error names the directory
    /// or a file in it. A FIFO named like a migration fails instead of blocking the build.
    #[test]
    fn the_hostile_corpus_through_the_macro() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrator-core/tests/hostile");
        let manifest = std::fs::read_to_string(corpus.join("manifest.txt")).unwrap();
        let fifo_dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mkfifo").arg(fifo_dir.path().join("1_a.up.sql")).status().unwrap();
        assert!(status.success());
        let mut failures = Vec::new();
        let mut runs = 0;
        for line in manifest.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            let columns: Vec<&str> = line.split(" | ").map(str::trim).collect();
            let (path, dialects, expect) = (columns[0], columns[1], columns[2]);
            let substring = columns.get(3).copied().unwrap_or("");
            let dir = match path {
                "generated/fifo" => fifo_dir.path().to_owned(),
                _ if path.starts_with("cases/") => corpus.join(path).canonicalize().unwrap(),
                _ => continue,
            };
            let written = dir.to_str().unwrap().to_owned();
            let dialects: Vec<&'static str> = match dialects {
                "all" => vec!["postgres", "mysql", "sqlite"],
                list => {
                    ["postgres", "mysql", "sqlite"].into_iter().filter(|d| list.split(',').any(|l| l == *d)).collect()
                }
            };
            for dialect in dialects {
                runs += 1;
                let wrong = match (expect, check_within_10s(dir.clone(), dialect)) {
                    (_, Err(why)) => Some(why),
                    ("ok", Ok(Ok(_))) => None,
                    ("ok", Ok(Err(errors))) => Some(format!("expected to compile:\n{}", errors.join("\n"))),
                    (_, Ok(Ok(count))) => Some(format!("expected {expect}, but {count} migration(s) embed")),
                    (_, Ok(Err(errors))) => {
                        let wanted = substring.replace("m/", &format!("{written}/"));
                        let unnamed: Vec<&String> =
                            errors.iter().filter(|e| !e.starts_with(&written) && !e.starts_with("… and ")).collect();
                        if !unnamed.is_empty() {
                            Some(format!("errors that name no file: {unnamed:#?}"))
                        } else if !errors.iter().any(|e| e.contains(&wanted)) {
                            Some(format!("no error contains {wanted:?}:\n{}", errors.join("\n")))
                        } else {
                            None
                        }
                    }
                };
                if let Some(wrong) = wrong {
                    failures.push(format!("{path} ({dialect}): {wrong}"));
                }
            }
        }
        assert!(runs >= 300, "only {runs} runs");
        assert!(failures.is_empty(), "{} of {runs} runs failed:\n\n{}", failures.len(), failures.join("\n\n"));
    }
}
