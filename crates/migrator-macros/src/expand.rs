//! Writing the expansion: static data built with documented `const fn` constructors.

use proc_macro2::TokenStream;
use quote::quote;

use migrator_core::source::LoadedMigration;
use migrator_core::{Dialect, Migration};

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
    let (dir, written) = (&loaded.dir, &loaded.written);
    // Debug builds remember where the files were, so a stale binary says so at startup.
    quote! {
        {
            const MIGRATIONS: &[#krate::EmbeddedMigration] = &[#(#items),*];
            #krate::EmbeddedMigrations::new(#dialect, MIGRATIONS).with_source_dir(
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
    let up = script(krate, m.up_script().path(), &loaded.up_file, m.up_script().checksum().as_str());
    let down = match (m.down_script(), &loaded.down_file) {
        (Some(down), Some(file)) => {
            let down = script(krate, down.path(), file, down.checksum().as_str());
            quote!(::core::option::Option::Some(#down))
        }
        _ => quote!(::core::option::Option::None),
    };
    quote!(#krate::EmbeddedMigration::new(#version, #name, #up, #down))
}

fn script(krate: &syn::Path, shown: &str, file: &std::path::Path, checksum: &str) -> TokenStream {
    let file = file.to_string_lossy();
    quote!(#krate::EmbeddedScript::new(#shown, ::core::include_str!(#file), #checksum))
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
