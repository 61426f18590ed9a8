//! Compile-time macros of **migrator**.
//!
//! Applications do not use this crate directly: each backend crate re-exports
//! `embed_migrations!` with its SQL dialect fixed (`migrator_postgres::embed_migrations!`),
//! since a proc macro cannot see which database the application uses.
//!
//! `embed_migrations!` reads the migrations directory at compile time with the same loader
//! as runtime loading ([`migrator_core::source::load_dir`]), so a bad file name, a duplicate
//! version, a down script without its up script, an empty up script, an unknown directive,
//! a non-UTF-8 file or unsplittable SQL is a compile error, spanned on the path literal and
//! naming `file:line:column`. It then runs the safety linter ([`migrator_core::lint`]):
//! every fatal finding, and every deny finding not acknowledged with `-- migrator:allow`, is a
//! compile error too, all of them at once. It computes every checksum at compile time and emits one
//! `include_str!` per file, so editing a file recompiles the crate. New files need the
//! build-script helper `migrator_core::build::watch_migrations` (stable Rust gives macros no
//! way to watch a directory).
//!
//! The pipeline follows thiserror's: `ast` parses the invocation, `valid` loads and
//! checks the directory, `expand` writes the code.

mod ast;
mod expand;
mod test_attr;
mod valid;

use proc_macro::TokenStream;

/// Embeds a migrations directory. Use a backend crate's re-export, which fixes the dialect:
///
/// ```text
/// static MIGRATIONS: EmbeddedMigrations = migrator_postgres::embed_migrations!("migrations");
/// ```
///
/// The path is relative to the calling crate's `Cargo.toml`. Options, after the path:
///
/// | option | meaning |
/// |---|---|
/// | `lint_from = 20261101000000` | lint only migrations of this version and newer (older ones have shipped) |
/// | `deny(prefer-text, …)` | raise rules to deny: their findings become compile errors |
/// | `warn(mixed-ddl-dml, …)` | lower rules to warn: reported by the library call and `migrator lint` only |
/// | `off(prefer-bigint, …)` | turn rules off |
/// | `relative_to = file` | resolve the path from the source file instead (test fixtures) |
/// | `layout = diesel` | read the directory in this layout instead of detecting it: `migrator`, `sqlx`, `diesel`, `refinery`, `flyway`, `golang_migrate` (or `"golang-migrate"`), `goose` |
///
/// Other tools' layouts are read as they are (sqlx, diesel, refinery, Flyway, golang-migrate,
/// goose; see `migrator_core::source::Layout` for each one's rules and for how a directory's
/// layout is detected). Their repeatable migrations (`R__{name}.sql`) are embedded too, and a
/// goose file's up and down sections are embedded as the loader cut them (the file is still
/// included, so editing it recompiles the crate).
///
/// Rule ids are written as they are (`deny(prefer-text)`), or as strings
/// (`deny("prefer-text")`). Fatal rules cannot be lowered: a fatal finding means the migration
/// cannot work as written.
///
/// ```text
/// static MIGRATIONS: EmbeddedMigrations = migrator_postgres::embed_migrations!(
///     "migrations",
///     lint_from = 20261101000000,
///     deny(prefer-text, prefer-timestamptz),
///     off(mixed-ddl-dml),
/// );
/// ```
///
/// Direct use also takes `crate = <path to migrator_core>` and `dialect = postgres | mysql | sqlite`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let args = match syn::parse::<ast::Args>(input) {
        Ok(args) => args,
        Err(e) => return e.to_compile_error().into(),
    };
    let output = match valid::load(&args) {
        Ok(migrations) => expand::embed(&args, &migrations),
        Err(e) => expand::with_errors(&args, e),
    };
    output.into()
}

fn test_attribute(args: TokenStream, item: TokenStream, backend: proc_macro2::TokenStream) -> TokenStream {
    let args = match syn::parse::<test_attr::TestArgs>(args) {
        Ok(args) => args,
        Err(e) => return e.to_compile_error().into(),
    };
    let item = match syn::parse::<syn::ItemFn>(item) {
        Ok(item) => item,
        Err(e) => return e.to_compile_error().into(),
    };
    test_attr::expand(args, item, backend).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// A test on a fresh, migrated PostgreSQL database, re-exported as `migrator_postgres::test`:
/// `#[migrator_postgres::test(migrations = MIGRATIONS)] async fn t(pool: sqlx::PgPool) { … }`.
#[proc_macro_attribute]
pub fn postgres_test(args: TokenStream, item: TokenStream) -> TokenStream {
    test_attribute(args, item, quote::quote!(::migrator_postgres))
}

/// A test on a fresh, migrated MySQL/MariaDB database, re-exported as `migrator_mysql::test`:
/// `#[migrator_mysql::test(migrations = MIGRATIONS)] async fn t(pool: sqlx::MySqlPool) { … }`.
#[proc_macro_attribute]
pub fn mysql_test(args: TokenStream, item: TokenStream) -> TokenStream {
    test_attribute(args, item, quote::quote!(::migrator_mysql))
}

/// A test on a fresh, migrated SQLite database file, re-exported as `migrator_sqlite::test`:
/// `#[migrator_sqlite::test(migrations = MIGRATIONS)] async fn t(pool: sqlx::SqlitePool) { … }`.
#[proc_macro_attribute]
pub fn sqlite_test(args: TokenStream, item: TokenStream) -> TokenStream {
    test_attribute(args, item, quote::quote!(::migrator_sqlite))
}
