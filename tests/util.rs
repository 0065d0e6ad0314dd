//! Helpers shared by the CLI tests.

use std::path::Path;

/// The `cachetape` binary built for this test run.
pub fn cachetape() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("cachetape").expect("the cachetape binary is built")
}

/// Runs `cachetape import --monitor capture -o out` and returns its stdout; panics on failure.
pub fn import_monitor(capture: &Path, out: &Path) -> String {
    let output =
        cachetape().args(["import", "--monitor"]).arg(capture).arg("-o").arg(out).output().unwrap();
    assert!(output.status.success(), "import failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}
