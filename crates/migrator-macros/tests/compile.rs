//! Compile-time behaviour of `embed_migrations!`: one compile-fail case per mistake, named
//! after it (`tests/ui/duplicate-version.rs` with its fixture directory
//! `tests/ui/fixtures/duplicate-version/`), and the valid case.

#[test]
fn compile_errors_name_the_file_and_line() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/pass/*.rs");
}
