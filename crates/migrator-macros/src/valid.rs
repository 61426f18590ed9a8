//! Loading, validating and linting the directory with migrator-core's loader and linter.

use std::path::{Path, PathBuf};

use migrator_core::lint::{LintOptions, check_dir};
use migrator_core::source::LoadedMigration;
use migrator_core::{Dialect, LoadError, Version};

use crate::ast::{Args, RelativeTo};

/// What the expansion needs.
pub(crate) struct Loaded {
    pub(crate) dialect: Dialect,
    pub(crate) migrations: Vec<LoadedMigration>,
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
    let written = args.path.value();
    let dir = resolve(args, &written)?;
    let checked = check_dir(&dir, &written, dialect, &options);
    let mut messages: Vec<String> = checked.load_errors().map(|error| describe(error, &written, &dir)).collect();
    messages.extend(checked.findings().failures().map(ToString::to_string));
    if let Some(error) = combine(span, &messages) {
        return Err(error);
    }
    match checked.into_migrations() {
        Ok(migrations) => Ok(Loaded { dialect, migrations }),
        Err(errors) => {
            let messages: Vec<String> = errors.iter().map(|error| describe(error, &written, &dir)).collect();
            Err(combine(span, &messages)
                .unwrap_or_else(|| syn::Error::new(span, "the migrations directory cannot be loaded")))
        }
    }
}

/// One error per message, all on `span`.
fn combine(span: proc_macro2::Span, messages: &[String]) -> Option<syn::Error> {
    let mut combined: Option<syn::Error> = None;
    for message in messages {
        let e = syn::Error::new(span, message);
        match &mut combined {
            Some(all) => all.combine(e),
            None => combined = Some(e),
        }
    }
    combined
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

/// `file:line:column: message`, then the offending source line when there is one.
fn describe(error: &LoadError, written: &str, dir: &Path) -> String {
    let mut text = error.to_string();
    if let Some(line) = error.line {
        let file = error.path.strip_prefix(written.trim_end_matches('/')).map(|rest| rest.trim_start_matches('/'));
        let source = file
            .and_then(|name| std::fs::read(dir.join(name)).ok())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .and_then(|content| content.lines().nth(line.saturating_sub(1)).map(str::to_owned));
        if let Some(source) = source {
            let gutter = " ".repeat(line.to_string().len());
            text.push_str(&format!("\n{gutter} |\n{line} | {source}\n{gutter} |"));
            if let Some(column) = error.column {
                let pad = " ".repeat(column.saturating_sub(1));
                text.pop();
                text.push_str(&format!("| {pad}^"));
            }
        }
    }
    text
}
