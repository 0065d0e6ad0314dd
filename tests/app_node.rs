//! A Node app end to end: cache-manager 7 over Keyv and @keyv/redis (Redis holds Keyv's
//! envelope, `order:{id}` → `{"value":{…the row…},"expires":ms}`) over a private redis-server,
//! and MariaDB through mysql2, runs a cache-aside load with stalling readers
//! (`tests/apps/node/app.mjs`) while `cachetape record` records it. With no mapping file,
//! `analyze` and `replay --perturb 5ms` must judge at least 99% of the hits, flag every read the
//! app's own log proves stale, and call no read it proves fresh stale-definite.
//!
//! `app.mjs run --tiers memory,redis` caches in cache-manager's two tiers, an in-process memory
//! store in front of Redis: the memory tier serves every hit, so the trace has none, and the
//! verdict must be `inconclusive` (exit 3, the tier named as the likely reason), never clean.
//!
//! `app.mjs run --serializer json` stores plain JSON instead (to tell a harness problem from a
//! decoding one by hand; no test runs it).
//!
//! The app's npm packages are installed by `scripts/test.sh` (`npm ci` in `tests/apps/node`,
//! from its committed package-lock.json).

use crate::app_support::{
    App, Proof, app_dir, json, judge, record, record_once, require_installed, text,
};

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

#[test]
fn node_cache_manager_with_a_memory_tier_in_front_of_redis_is_inconclusive_never_clean() {
    // cache-manager's two tiers, one cache for the process: the memory tier serves every hit,
    // so Redis only ever sees GETs that miss (after a DEL), then SETs. The app's log has hits
    // (some it proves stale: a stalled reader's set lands in both tiers); the trace has none.
    let app = node(&["--tiers", "memory,redis"]);
    let run = record_once(&app, "ct_app_node_tiers");
    let log = &run.log;
    let hits: Vec<_> = log.reads.iter().filter(|r| r.hit).collect();
    let stale = hits.iter().filter(|r| log.proof(r) == Proof::Stale).count();
    eprintln!(
        "node, two tiers: {} reads, {} hits ({stale} proven stale)",
        log.reads.len(),
        hits.len()
    );
    assert!(!hits.is_empty(), "the memory tier served no hit: {} reads", log.reads.len());

    let replay: &[&str] = &["replay", "--perturb", "5ms", "--budget", "2000"];
    for args in [&["analyze"][..], replay] {
        let (doc, code) = json(&run, args);
        let s = &doc["summary"];
        // `replay` gives the recorded order's figures under `recorded`.
        let figures = if s["recorded"].is_object() { &s["recorded"] } else { s };
        assert_eq!(figures["hits"], 0, "{args:?}: no read reached Redis with a value: {s}");
        assert!(figures["reads"].as_u64().unwrap() > 0, "{args:?}: the memory tier's misses: {s}");
        assert_eq!(s["verdict"], "inconclusive", "{args:?}: {s}");
        assert_eq!(code, 3, "{args:?}: inconclusive, so exit 3: {s}");
        assert!(figures["share_verifiable"].is_null(), "{args:?}: no share of no hits: {s}");
        let why = s["inconclusive"].to_string();
        assert!(
            why.contains("no read of a mapped key hit a value")
                && why.contains("a cache tier in front of Redis"),
            "{args:?}: the reason names the tier: {why}"
        );

        let (stdout, stderr, code) = text(&run, args);
        assert_eq!(code, 3, "{args:?}: {stdout}{stderr}");
        assert!(stdout.lines().any(|l| l.starts_with("INCONCLUSIVE: ")), "{args:?}: {stdout}");
        assert!(stdout.contains("a cache tier in front of Redis"), "{args:?}: {stdout}");
        assert!(!stdout.contains("100%") && !stderr.contains("100%"), "{args:?}: {stdout}{stderr}");
        assert!(!stdout.contains("CLEAN"), "{args:?}: {stdout}");

        // `--expect clean` never passes on it.
        let mut expect = args.to_vec();
        expect.extend(["--expect", "clean"]);
        let (_, stderr, code) = text(&run, &expect);
        assert_eq!(code, 3, "{args:?} --expect clean: {stderr}");
        assert!(
            stderr.contains("expected a clean trace, but the verdict is inconclusive"),
            "{stderr}"
        );
    }
}
