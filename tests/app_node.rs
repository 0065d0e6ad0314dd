//! A Node app end to end: cache-manager 7 over Keyv and @keyv/redis (Redis holds Keyv's
//! envelope, `order:{id}` → `{"value":{…the row…},"expires":ms}`) over a private redis-server,
//! and MariaDB through mysql2, runs a cache-aside load with stalling readers
//! (`tests/apps/node/app.mjs`) while `cachetape record` records it. With no mapping file,
//! `analyze` and `replay --perturb 5ms` must judge at least 99% of the hits, flag every read the
//! app's own log proves stale, and call no read it proves fresh stale-definite.
//!
//! `app.mjs run --serializer json` stores plain JSON instead (to tell a harness problem from a
//! decoding one by hand; no test runs it).
//!
//! The app's npm packages are installed by `scripts/test.sh` (`npm ci` in `tests/apps/node`,
//! from its committed package-lock.json).

use crate::app_support::{App, app_dir, judge, record, require_installed};

fn node(run_options: &[&str]) -> App {
    let dir = app_dir("node");
    let stamp = dir.join("node_modules/.installed-package-lock.json");
    require_installed(&stamp, &dir.join("package-lock.json"), "the Node app's npm packages");
    let node = cachetape_testkit::require("node", "nodejs");
    App {
        name: "node",
        program: node,
        args: vec![dir.join("app.mjs").display().to_string()],
        run_options: run_options.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn node_cache_manager_with_keyv_redis_is_judged_against_the_apps_log() {
    let app = node(&[]);
    let run = record(&app, "ct_app_node");
    judge(&app, &run);
}
