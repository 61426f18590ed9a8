//! Parsing the macro's arguments.

use migrator_core::lint::Setting;
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitInt, LitStr, Path, Token, token};

/// Where a relative path is resolved from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelativeTo {
    /// The calling crate's `CARGO_MANIFEST_DIR` (the default, like `include_str!` users expect).
    Manifest,
    /// The directory of the source file holding the invocation.
    File,
}

/// A level option: `deny(prefer-text)`, `warn("mixed-ddl-dml")`, `off(prefer-bigint)`.
pub(crate) struct LevelOption {
    pub(crate) rule: String,
    pub(crate) span: Span,
    pub(crate) setting: Setting,
}

/// The parsed invocation.
pub(crate) struct Args {
    /// The directory literal, whose span carries every error.
    pub(crate) path: LitStr,
    /// The path to `migrator_core` in the expansion.
    pub(crate) krate: Path,
    /// The dialect, as written (`postgres`, `mysql`).
    pub(crate) dialect: Ident,
    pub(crate) relative_to: RelativeTo,
    /// `lint_from = <version>`.
    pub(crate) lint_from: Option<LitInt>,
    /// `layout = <layout>` (an identifier or a string), as written; detected when absent.
    pub(crate) layout: Option<(String, Span)>,
    pub(crate) levels: Vec<LevelOption>,
}

/// Parses the rule ids inside `deny(…)`: kebab-case ids written bare (`prefer-text`, Rust
/// keywords such as `in` or `type` included) or as string literals.
fn rule_ids(input: ParseStream<'_>, setting: Setting, into: &mut Vec<LevelOption>) -> syn::Result<()> {
    let content;
    syn::parenthesized!(content in input);
    while !content.is_empty() {
        if content.peek(LitStr) {
            let lit: LitStr = content.parse()?;
            into.push(LevelOption { rule: lit.value(), span: lit.span(), setting });
        } else {
            let first = content.call(Ident::parse_any)?;
            let mut rule = first.to_string();
            let mut span = first.span();
            while content.peek(Token![-]) {
                content.parse::<Token![-]>()?;
                let part = content.call(Ident::parse_any)?;
                rule.push('-');
                rule.push_str(&part.to_string());
                span = span.join(part.span()).unwrap_or(span);
            }
            into.push(LevelOption { rule, span, setting });
        }
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(())
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut path: Option<LitStr> = None;
        let mut krate: Option<Path> = None;
        let mut dialect: Option<Ident> = None;
        let mut relative_to = RelativeTo::Manifest;
        let mut lint_from: Option<LitInt> = None;
        let mut layout: Option<(String, Span)> = None;
        let mut levels = Vec::new();
        while !input.is_empty() {
            if input.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                if path.is_some() {
                    return Err(syn::Error::new(lit.span(), "only one migrations directory can be embedded per call"));
                }
                path = Some(lit);
            } else if input.peek(Token![crate]) {
                input.parse::<Token![crate]>()?;
                input.parse::<Token![=]>()?;
                krate = Some(input.parse()?);
            } else {
                let key: Ident = input.parse()?;
                let setting = match key.to_string().as_str() {
                    "deny" => Some(Setting::Deny),
                    "warn" => Some(Setting::Warn),
                    "off" => Some(Setting::Off),
                    _ => None,
                };
                if let Some(setting) = setting.filter(|_| input.peek(token::Paren)) {
                    rule_ids(input, setting, &mut levels)?;
                    if input.is_empty() {
                        break;
                    }
                    input.parse::<Token![,]>()?;
                    continue;
                }
                if !input.peek(Token![=]) {
                    return Err(syn::Error::new(
                        key.span(),
                        "the migrations directory is a string literal: write `embed_migrations!(\"migrations\")`",
                    ));
                }
                input.parse::<Token![=]>()?;
                match key.to_string().as_str() {
                    "dialect" => dialect = Some(input.parse()?),
                    "lint_from" => lint_from = Some(input.parse()?),
                    "layout" => {
                        layout = Some(if input.peek(LitStr) {
                            let lit: LitStr = input.parse()?;
                            (lit.value(), lit.span())
                        } else {
                            let value = input.call(Ident::parse_any)?;
                            (value.to_string(), value.span())
                        });
                    }
                    "relative_to" => {
                        let value: Ident = input.parse()?;
                        relative_to = match value.to_string().as_str() {
                            "file" => RelativeTo::File,
                            "manifest" => RelativeTo::Manifest,
                            _ => {
                                return Err(syn::Error::new(
                                    value.span(),
                                    "`relative_to` is `file` (the source file's directory) or `manifest` (the crate root)",
                                ));
                            }
                        };
                    }
                    other => {
                        return Err(syn::Error::new(
                            key.span(),
                            format!(
                                "unknown option `{other}`: the options are `layout = <layout>`, `lint_from = <version>`, \
                                 `deny(<rule>, …)`, `warn(<rule>, …)`, `off(<rule>, …)` and `relative_to = file`"
                            ),
                        ));
                    }
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        let path = path.ok_or_else(|| {
            syn::Error::new(
                Span::call_site(),
                "missing the migrations directory: write `embed_migrations!(\"migrations\")`",
            )
        })?;
        let dialect = dialect.ok_or_else(|| {
            syn::Error::new(
                path.span(),
                "no SQL dialect: use the backend crate's macro, such as `migrator_postgres::embed_migrations!`",
            )
        })?;
        let krate = krate.unwrap_or_else(|| syn::parse_quote!(::migrator_core));
        Ok(Args { path, krate, dialect, relative_to, lint_from, layout, levels })
    }
}
