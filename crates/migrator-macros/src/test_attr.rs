//! `#[migrator_postgres::test]` / `#[migrator_mysql::test]` / `#[migrator_sqlite::test]`: a test on a fresh migrated
//! database. Expands to a plain `#[test]` calling the backend's `testing::run_test`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, FnArg, Ident, ItemFn, Token};

/// `migrations = <expression>`.
pub(crate) struct TestArgs {
    migrations: Expr,
}

impl Parse for TestArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let missing = || {
            syn::Error::new(
                input.span(),
                "name the migrations: `#[migrator_postgres::test(migrations = MIGRATIONS)]`, where MIGRATIONS is the \
                 static set from `embed_migrations!`",
            )
        };
        if input.is_empty() {
            return Err(missing());
        }
        let key: Ident = input.parse()?;
        if key != "migrations" {
            return Err(syn::Error::new(key.span(), format!("unknown option `{key}`: the option is `migrations = …`")));
        }
        input.parse::<Token![=]>()?;
        let migrations: Expr = input.parse()?;
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
            if !input.is_empty() {
                return Err(syn::Error::new(input.span(), "only `migrations = …` is accepted"));
            }
        }
        Ok(TestArgs { migrations })
    }
}

/// Expands the attribute for the backend crate at `backend` (`::migrator_postgres`).
pub(crate) fn expand(args: TestArgs, item: ItemFn, backend: TokenStream) -> syn::Result<TokenStream> {
    let ItemFn { attrs, vis, sig, block } = item;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(sig.fn_token, "the test function must be `async fn`"));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&sig.generics, "a test function takes no generic parameters"));
    }
    let param = match sig.inputs.len() {
        0 => quote!(_: #backend::testing::Pool),
        1 => match sig.inputs.first() {
            Some(FnArg::Typed(typed)) => {
                let (pat, ty) = (&typed.pat, &typed.ty);
                quote!(#pat: #ty)
            }
            _ => return Err(syn::Error::new_spanned(&sig.inputs, "the test function takes the pool: `pool: PgPool`")),
        },
        _ => {
            return Err(syn::Error::new_spanned(
                &sig.inputs,
                "the test function takes one argument, the pool on its fresh database",
            ));
        }
    };
    let name = &sig.ident;
    let output = &sig.output;
    let migrations = &args.migrations;
    Ok(quote! {
        #(#attrs)*
        #[::core::prelude::v1::test]
        #vis fn #name() {
            async fn __migrator_test_body(#param) #output #block
            #backend::testing::run_test(#migrations, __migrator_test_body)
        }
    })
}
