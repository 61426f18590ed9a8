//! Writing the expansion: static data built with documented `const fn` constructors.

use proc_macro2::TokenStream;
use quote::quote;

use migrator_core::source::{Layout, LoadedMigration, LoadedRepeatable};
use migrator_core::{Dialect, Migration, Script};

use crate::ast::Args;
use crate::valid::Loaded;

fn dialect_tokens(krate: &syn::Path, dialect: Dialect) -> TokenStream {
    match dialect {
        Dialect::MySql => quote!(#krate::Dialect::MySql),
        Dialect::Sqlite => quote!(#krate::Dialect::Sqlite),
        _ => quote!(#krate::Dialect::Postgres),
    }
}

/// The embedded set.
pub(crate) fn embed(args: &Args, loaded: &Loaded) -> TokenStream {
    let krate = &args.krate;
    let dialect = dialect_tokens(krate, loaded.dialect);
    let items = loaded.migrations.iter().map(|m| migration(krate, m));
    let repeatables = loaded.repeatables.iter().map(|r| repeatable(krate, r));
    let layout = layout_tokens(krate, loaded.layout);
    let (dir, written) = (&loaded.dir, &loaded.written);
    // Debug builds remember where the files were, so a stale binary says so at startup.
    quote! {
        {
            const MIGRATIONS: &[#krate::EmbeddedMigration] = &[#(#items),*];
            const REPEATABLES: &[#krate::EmbeddedRepeatable] = &[#(#repeatables),*];
            #krate::EmbeddedMigrations::new(#dialect, MIGRATIONS)
                .with_repeatables(REPEATABLES)
                .with_layout(#layout)
                .with_source_dir(
                if ::core::cfg!(debug_assertions) {
                    ::core::option::Option::Some((#dir, #written))
                } else {
                    ::core::option::Option::None
                },
            )
        }
    }
}

fn migration(krate: &syn::Path, loaded: &LoadedMigration) -> TokenStream {
    let m = &loaded.migration;
    let meta = Migration::<()>::meta(m);
    let version = meta.version().get();
    let name = meta.name();
    let up = script(krate, m.up_script(), &loaded.up_file);
    let down = match (m.down_script(), &loaded.down_file) {
        (Some(down), Some(file)) => {
            let down = script(krate, down, file);
            quote!(::core::option::Option::Some(#down))
        }
        _ => quote!(::core::option::Option::None),
    };
    quote!(#krate::EmbeddedMigration::new(#version, #name, #up, #down))
}

fn repeatable(krate: &syn::Path, loaded: &LoadedRepeatable) -> TokenStream {
    let name = loaded.repeatable.name();
    let script = script(krate, loaded.repeatable.script(), &loaded.file);
    quote!(#krate::EmbeddedRepeatable::new(#name, #script))
}

/// One script: its file's text through `include_str!` (so editing the file recompiles the
/// crate), or, for a section of a goose file, the section the loader cut, with the file
/// still included for the same reason. Then the flags its layout adds.
fn script(krate: &syn::Path, script: &Script, file: &std::path::Path) -> TokenStream {
    let (shown, checksum) = (script.path(), script.checksum().as_str());
    let file = file.to_string_lossy();
    let flags = script.layout_flags();
    let text = if flags.goose_blocks {
        let section = script.text();
        quote!({
            const _: &str = ::core::include_str!(#file);
            #section
        })
    } else {
        quote!(::core::include_str!(#file))
    };
    let no_transaction = flags.no_transaction.then(|| quote!(.with_no_transaction()));
    let goose_blocks = flags.goose_blocks.then(|| quote!(.with_goose_blocks()));
    quote!(#krate::EmbeddedScript::new(#shown, #text, #checksum) #no_transaction #goose_blocks)
}

fn layout_tokens(krate: &syn::Path, layout: Layout) -> TokenStream {
    match layout {
        Layout::Sqlx => quote!(#krate::Layout::Sqlx),
        Layout::Diesel => quote!(#krate::Layout::Diesel),
        Layout::Refinery => quote!(#krate::Layout::Refinery),
        Layout::Flyway => quote!(#krate::Layout::Flyway),
        Layout::GolangMigrate => quote!(#krate::Layout::GolangMigrate),
        Layout::Goose => quote!(#krate::Layout::Goose),
        _ => quote!(#krate::Layout::Migrator),
    }
}

/// The errors, plus an empty set of the right type so the user sees these errors and not a
/// cascade of type errors.
pub(crate) fn with_errors(args: &Args, error: syn::Error) -> TokenStream {
    let krate = &args.krate;
    let errors = error.to_compile_error();
    quote! {
        {
            #errors
            #krate::EmbeddedMigrations::new(#krate::Dialect::Postgres, &[])
        }
    }
}
