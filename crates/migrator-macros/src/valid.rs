//! Loading and validating the directory with migrator-core's loader.

use std::path::{Path, PathBuf};

use migrator_core::source::{LoadedMigration, load_dir};
use migrator_core::{Dialect, LoadError};

use crate::ast::{Args, RelativeTo};

/// What the expansion needs.
pub(crate) struct Loaded {
    pub(crate) dialect: Dialect,
    pub(crate) migrations: Vec<LoadedMigration>,
}

/// Loads the directory named by `args`, turning every problem into one spanned error.
pub(crate) fn load(args: &Args) -> syn::Result<Loaded> {
    let span = args.path.span();
    let dialect = match args.dialect.to_string().as_str() {
        "postgres" => Dialect::Postgres,
        "mysql" => Dialect::MySql,
        other => {
            return Err(syn::Error::new(args.dialect.span(), format!("unknown dialect `{other}`: postgres or mysql")));
        }
    };
    let written = args.path.value();
    let dir = resolve(args, &written)?;
    match load_dir(&dir, &written, dialect) {
        Ok(migrations) => Ok(Loaded { dialect, migrations }),
        Err(errors) => {
            let mut combined: Option<syn::Error> = None;
            for error in &errors {
                let message = describe(error, &written, &dir);
                let e = syn::Error::new(span, message);
                match &mut combined {
                    Some(all) => all.combine(e),
                    None => combined = Some(e),
                }
            }
            Err(combined.unwrap_or_else(|| syn::Error::new(span, "the migrations directory cannot be loaded")))
        }
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
