//! The analyzer on a real workload: a cache-aside workload (readers GET → miss → SELECT →
//! SETEX, some stalling before the SETEX; writers UPDATE → COMMIT → DEL) runs against a private
//! redis-server and the shared mariadbd while the live recorder records both; the workload logs
//! what every read returned, from where and when, and when every commit returned. The analyzer,
//! with no mapping file (so with the mapping it infers), must flag every cache hit the log proves
//! stale and must not call any hit the log proves fresh `stale-definite`. Twice: with every
//! commit changing the cached value, and with ABA values (two statuses, totals kept: a row's
//! value returns to earlier ones) after a multi-row transaction that deletes and re-inserts every
//! row, with the scripted race of issue 17, item 1: PENDING read before a commit to REFUNDED,
//! cached after it and served, then the row set back to PENDING at once. On both, `replay`'s as-recorded findings are `analyze`'s (item 3).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use cachetape_recorder::live::{RecordConfig, Recording};
use cachetape_tape::{EventBody, KeyPattern, Reader};
use cachetape_testkit::cache_aside::{From, Proof, Workload, run, setup};
use cachetape_testkit::{MariaDb, RedisServer};

use crate::util::cachetape;

#[test]
fn every_read_the_workload_log_proves_stale_is_flagged() {
    let redis = RedisServer::start();
    let workload = Workload::new(redis.port, MariaDb::shared().url(), "ct_analyze_workload");
    check_against_log(&redis, &workload);
}

#[test]
fn with_aba_values_and_a_multi_row_reload_every_proven_stale_read_is_flagged() {
    let redis = RedisServer::start();
    let mut workload = Workload::new(redis.port, MariaDb::shared().url(), "ct_analyze_aba");
    workload.aba = true;
    workload.reload = true;
    workload.aba_incident = true;
    check_against_log(&redis, &workload);
}

/// Records `workload` and checks analyze's verdicts against its log, and replay's as-recorded
/// findings against analyze's.
fn check_against_log(redis: &RedisServer, workload: &Workload) {
    let db = MariaDb::shared();
    let workload = workload.clone();
    let initial = setup(&workload);

    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("workload.bin");
    let mut config = RecordConfig::new(&trace);
    config.redis = vec![redis.url()];
    config.mysql = Some(db.url());
    config.tables = vec![KeyPattern::new(format!("{}.*", workload.database))];
    config.probe_interval = Duration::from_millis(200);
    let recording = Recording::start(config).expect("start recording");
    let log = run(&workload, initial);
    recording.stop();
    let summary = recording.wait().expect("recording finishes");
    assert_eq!(summary.gaps, 0, "{summary}");

    // Each reader's GETs in the trace, in order: the log's cache and DB reads both began with one.
    let mut gets: HashMap<String, Vec<u64>> = HashMap::new();
    let mut commit_recv: Vec<i64> = Vec::new();
    for event in Reader::open(&trace).unwrap() {
        let event = event.unwrap();
        match &event.body {
            EventBody::Redis(c) if c.argv.is("GET") => {
                gets.entry(c.client.to_string()).or_default().push(event.seq)
            }
            EventBody::Commit(_) => commit_recv.push(event.recv_us),
            _ => {}
        }
    }
    let mut per_client: BTreeMap<&str, usize> = BTreeMap::new();
    let mut proven: Vec<(u64, Proof, &cachetape_testkit::cache_aside::Read)> = Vec::new();
    for read in &log.reads {
        let n = per_client.entry(&read.client).or_default();
        let seq = gets[&read.client][*n];
        *n += 1;
        if read.from == From::Cache {
            proven.push((seq, log.proof(read), read));
        }
    }
    for (client, n) in &per_client {
        assert_eq!(gets[*client].len(), *n, "{client}: GETs in the trace vs the log");
    }

    let out = cachetape()
        .current_dir(dir.path())
        .args(["analyze", "workload.bin", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("inferred from the trace"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let rules = &doc["summary"]["mapping"]["rules"];
    assert_eq!(rules.as_array().map(Vec::len), Some(1), "{rules}");
    let verdicts: HashMap<u64, String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["seq"].as_u64().unwrap(), f["verdict"].as_str().unwrap().to_string()))
        .collect();

    // The mapping is inferred, so replay sees the same one analyze did.
    crate::as_recorded::same_as_recorded(dir.path(), "workload.bin");
    let stale: Vec<_> = proven.iter().filter(|p| p.1 == Proof::Stale).collect();
    let fresh: Vec<_> = proven.iter().filter(|p| p.1 == Proof::Fresh).collect();
    let missed: Vec<_> = stale.iter().filter(|p| !verdicts.contains_key(&p.0)).collect();
    let wrong: Vec<_> = fresh
        .iter()
        .filter(|p| verdicts.get(&p.0).is_some_and(|v| v == "stale-definite"))
        .collect();
    let report = || {
        let text =
            cachetape().current_dir(dir.path()).args(["analyze", "workload.bin"]).output().unwrap();
        String::from_utf8_lossy(&text.stdout).into_owned()
    };
    eprintln!(
        "workload: {} reads ({} cache hits: {} proven stale, {} proven fresh), {} commits; \
         analyzer: {} findings",
        log.reads.len(),
        proven.len(),
        stale.len(),
        fresh.len(),
        log.commits.len(),
        verdicts.len()
    );
    // The binlog's delivery: how long after the commit returned the recorder received it.
    let mut lags: Vec<i64> = Vec::new();
    let mut commits = log.commits.clone();
    commits.sort_by_key(|c| c.returned_us);
    // One transaction of several rows is one commit in the binlog.
    commits.dedup_by_key(|c| (c.sent_us, c.returned_us));
    for (c, recv) in commits.iter().zip(&commit_recv) {
        lags.push(recv - c.returned_us);
    }
    lags.sort_unstable();
    // An UPDATE that changes nothing (an ABA writer picking the status the row has) writes no
    // binlog event: then the pairs mean nothing.
    if !lags.is_empty() && commits.len() == commit_recv.len() {
        eprintln!(
            "binlog receipt after the commit returned: median {}us, max {}us",
            lags[lags.len() / 2],
            lags[lags.len() - 1]
        );
    }
    let by_verdict = |want: Proof| {
        let mut m: BTreeMap<&str, usize> = BTreeMap::new();
        for p in proven.iter().filter(|p| p.1 == want) {
            *m.entry(verdicts.get(&p.0).map_or("not flagged", String::as_str)).or_default() += 1;
        }
        m
    };
    eprintln!(
        "proven stale → {:?}; proven fresh → {:?}; summary {}",
        by_verdict(Proof::Stale),
        by_verdict(Proof::Fresh),
        doc["summary"]
    );
    assert!(!stale.is_empty(), "the stalls made no stale read; the workload proves nothing");
    assert!(
        missed.is_empty(),
        "{} read(s) the log proves stale were not flagged: {:?}\n{}",
        missed.len(),
        missed.iter().map(|p| (p.0, &p.2.value)).collect::<Vec<_>>(),
        report()
    );
    assert!(
        wrong.is_empty(),
        "{} read(s) the log proves fresh were called stale-definite: {:?}\n{}",
        wrong.len(),
        wrong.iter().map(|p| p.0).collect::<Vec<_>>(),
        report()
    );
}
