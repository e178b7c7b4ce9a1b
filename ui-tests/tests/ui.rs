//! Compile-pass cases (`pass/`) and compile-fail cases (`fail/`, each with the
//! exact `.stderr` the user sees). Regenerate snapshots after an intended
//! message change with `TRYBUILD=overwrite cargo test -p obs-ui-tests`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("pass/*.rs");
    t.compile_fail("fail/*.rs");
}
