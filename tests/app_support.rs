//! What the framework-app tests (`app_django`, `app_node`) share: finding each app's installed
//! dependencies, recording an app's run with the real `cachetape record`, reading the app's own
//! log, and judging the trace with no mapping file against it.
//!
//! Each app (`tests/apps/*/`) takes the same command line — `setup` creates its table before
//! recording, `run` inserts the rows and runs a cache-aside load with stalling readers — and
//! writes the same log: one JSON line per commit and per read, with the app's clock before and
//! after it (see `tests/apps/django/app.py`). The log proves a cache hit fresh or stale when no
//! commit of its row was in flight during the GET, as the workload tests' log does
//! (`cachetape_testkit::cache_aside`). A reader's reads each began with one GET on its own
//! connection, so the n-th read a reader logged is the n-th GET of its client in the trace.
//!
//! `CACHETAPE_KEEP_APP_TRACES=DIR` keeps each run's trace and log in `DIR/DATABASE/`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use cachetape_tape::{EventBody, Reader};
use cachetape_testkit::{MariaDb, RedisServer};
use serde_json::Value;

use crate::util::cachetape;

/// The command that installs the apps' dependencies.
const INSTALL: &str = "scripts/test.sh --install-only";

/// Where `scripts/test.sh` installs the apps' dependencies that do not live in the repository:
/// `$CACHETAPE_APPS_CACHE`, else `$HOME/.cache/cachetape`.
pub fn apps_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("CACHETAPE_APPS_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    Path::new(&home).join(".cache/cachetape")
}

/// The repository's `tests/apps/NAME`.
pub fn app_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps").join(name)
}

/// Panics saying what is missing and the command that installs it, unless `stamp` — the copy of
/// `pins` (the pinned versions) that `scripts/test.sh` leaves beside what it installed — exists
/// and equals `pins`.
pub fn require_installed(stamp: &Path, pins: &Path, what: &str) {
    let installed = std::fs::read(stamp).ok();
    let why = match installed {
        None => format!("{what} is not installed ({} is missing)", stamp.display()),
        Some(installed) if installed != std::fs::read(pins).unwrap() => {
            format!("{what} is out of date ({} changed since it was installed)", pins.display())
        }
        Some(_) => return,
    };
    panic!(
        "{why}: run `{INSTALL}` from the repository's root, which installs the end-to-end apps' \
         dependencies"
    );
}

/// An app: `PROGRAM ARGS… setup|run --redis-port … --mysql-port … --database … [--log …]`.
pub struct App {
    /// What the messages call it.
    pub name: &'static str,
    /// The interpreter.
    pub program: PathBuf,
    /// Its first arguments (the script).
    pub args: Vec<String>,
    /// Options added to `run` (`--serializer json`).
    pub run_options: Vec<String>,
}

impl App {
    fn command_line(&self, sub: &str, redis: u16, db: &MariaDb, database: &str) -> Vec<String> {
        let mut line = vec![self.program.display().to_string()];
        line.extend(self.args.iter().cloned());
        line.push(sub.into());
        for (flag, value) in [
            ("--redis-port", redis.to_string()),
            ("--mysql-port", db.port.to_string()),
            ("--database", database.to_string()),
        ] {
            line.push(flag.into());
            line.push(value);
        }
        line
    }
}

/// One read the app logged.
#[derive(Clone, Debug)]
pub struct LogRead {
    /// The reader's Redis connection as MONITOR names it.
    pub client: String,
    /// The row id.
    pub id: u64,
    /// True for a cache hit, false for a miss then the database.
    pub hit: bool,
    /// What the read returned (the app's rendering of the row's cached columns).
    pub value: String,
    /// When the read began and ended (the app's clock, µs).
    pub sent_us: i64,
    /// When it ended.
    pub returned_us: i64,
}

/// One commit the app logged (the seed inserts included).
#[derive(Clone, Debug)]
pub struct LogCommit {
    /// The row id.
    pub id: u64,
    /// The row after it, rendered as reads render it.
    pub value: String,
    /// When the transaction began.
    pub sent_us: i64,
    /// When the commit returned.
    pub returned_us: i64,
}

/// What the app's log proves about a cache hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proof {
    /// The DB held the served value throughout the GET.
    Fresh,
    /// The DB held another value throughout the GET.
    Stale,
    /// A commit of the row was in flight during the GET: the log proves nothing.
    Unproven,
}

/// The app's log.
#[derive(Debug, Default)]
pub struct AppLog {
    /// Reads, each reader's in its order.
    pub reads: Vec<LogRead>,
    /// Commits, each row's in its order.
    pub commits: Vec<LogCommit>,
}

impl AppLog {
    fn parse(text: &str) -> AppLog {
        let mut log = AppLog::default();
        for line in text.lines() {
            let e: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let int = |k: &str| e[k].as_i64().unwrap_or_else(|| panic!("no {k}: {line}"));
            let value = e["value"].as_str().unwrap().to_string();
            match e["kind"].as_str() {
                Some("read") => log.reads.push(LogRead {
                    client: e["client"].as_str().unwrap().to_string(),
                    id: int("id") as u64,
                    hit: e["from"] == "cache",
                    value,
                    sent_us: int("sent_us"),
                    returned_us: int("returned_us"),
                }),
                Some("commit") => log.commits.push(LogCommit {
                    id: int("id") as u64,
                    value,
                    sent_us: int("sent_us"),
                    returned_us: int("returned_us"),
                }),
                _ => panic!("unknown log line: {line}"),
            }
        }
        log
    }

    /// The row's last commit that returned before `read` was sent.
    pub fn last_commit_before(&self, read: &LogRead) -> Option<&LogCommit> {
        let before = self.commits.iter().filter(|c| c.id == read.id);
        before.filter(|c| c.returned_us < read.sent_us).max_by_key(|c| c.returned_us)
    }

    /// What the log proves about `read` (a cache hit): the DB value during the GET is known when
    /// the row's last commit returned before the GET was sent and its next one began after the
    /// GET returned.
    pub fn proof(&self, read: &LogRead) -> Proof {
        let mut value = None;
        for c in self.commits.iter().filter(|c| c.id == read.id) {
            if c.returned_us < read.sent_us {
                value = Some(&c.value);
            } else if c.sent_us <= read.returned_us {
                return Proof::Unproven;
            }
        }
        match value {
            Some(v) if *v == read.value => Proof::Fresh,
            Some(_) => Proof::Stale,
            None => Proof::Unproven,
        }
    }
}

/// A recorded run of an app: the trace (`app.bin`, no mapping beside it), its directory, and
/// the app's log.
pub struct AppRun {
    /// The temporary directory holding the trace.
    pub dir: tempfile::TempDir,
    /// The app's log.
    pub log: AppLog,
}

/// Records a run of `app` whose log proves at least one hit stale: the stalls make stale sets,
/// but whether a stale value is then read before the next write deletes it is up to the
/// scheduler, so a run without one (rare; more so on a loaded machine) is run again, up to three
/// times.
pub fn record(app: &App, database: &str) -> AppRun {
    let mut runs = 0;
    loop {
        runs += 1;
        let run = record_once(app, database);
        let log = &run.log;
        if log.reads.iter().any(|r| r.hit && log.proof(r) == Proof::Stale) {
            return run;
        }
        eprintln!("{} run {runs}: its log proves no hit stale; again", app.name);
        assert!(runs < 3, "{}: three runs, none with a hit its log proves stale", app.name);
    }
}

/// Runs `app`'s setup, then records its run with `cachetape record … -- APP run`.
pub fn record_once(app: &App, database: &str) -> AppRun {
    let redis = RedisServer::start();
    let db = MariaDb::shared();
    db.sql(&format!("DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database}"));
    let dir = tempfile::tempdir().unwrap();
    let setup = app.command_line("setup", redis.port, db, database);
    let out = Command::new(&setup[0]).args(&setup[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{} setup failed: {}",
        app.name,
        String::from_utf8_lossy(&out.stderr)
    );

    let log_path = dir.path().join("app.log");
    let mut run = app.command_line("run", redis.port, db, database);
    run.push("--log".into());
    run.push(log_path.display().to_string());
    run.extend(app.run_options.iter().cloned());
    let out = cachetape()
        .current_dir(dir.path())
        .args(["record", "--redis", &redis.url(), "--mysql", &db.url(), "--tables"])
        .arg(format!("{database}.*"))
        .args(["-o", "app.bin", "--probe-interval", "200ms", "--quiet", "--"])
        // A hung app must not hang the test.
        .args(["timeout", "120"])
        .args(&run)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "recording {} failed: {stderr}", app.name);
    assert!(stderr.contains("gaps: 0"), "the trace has gaps: {stderr}");
    eprintln!("{stderr}");
    // To look at a run after the test: its trace and log, copied to
    // $CACHETAPE_KEEP_APP_TRACES/DATABASE/.
    if let Some(keep) = std::env::var_os("CACHETAPE_KEEP_APP_TRACES") {
        let kept = Path::new(&keep).join(database);
        std::fs::create_dir_all(&kept).unwrap();
        for name in ["app.bin", "app.log"] {
            std::fs::copy(dir.path().join(name), kept.join(name)).unwrap();
        }
        eprintln!("{}: trace and log kept in {}", app.name, kept.display());
    }
    let log = AppLog::parse(&std::fs::read_to_string(&log_path).unwrap());
    AppRun { dir, log }
}

/// A cache hit the log proves fresh or stale, with the trace's sequence number of its GET.
struct Proven<'a> {
    seq: u64,
    proof: Proof,
    read: &'a LogRead,
}

/// The trace's sequence number of each logged read's GET, matched by client and order.
fn match_gets(run: &AppRun) -> Vec<u64> {
    let mut gets: HashMap<String, Vec<u64>> = HashMap::new();
    for event in Reader::open(run.dir.path().join("app.bin")).unwrap() {
        let event = event.unwrap();
        if let EventBody::Redis(c) = &event.body
            && c.argv.is("GET")
        {
            gets.entry(c.client.to_string()).or_default().push(event.seq);
        }
    }
    let mut per_client: BTreeMap<&str, usize> = BTreeMap::new();
    let mut seqs = Vec::new();
    for read in &run.log.reads {
        let n = per_client.entry(&read.client).or_default();
        let client_gets = gets.get(&read.client).map_or(&[][..], Vec::as_slice);
        assert!(
            *n < client_gets.len(),
            "{}: the log has more reads than the trace has GETs ({})",
            read.client,
            client_gets.len()
        );
        seqs.push(client_gets[*n]);
        *n += 1;
    }
    for (client, n) in &per_client {
        assert_eq!(gets[*client].len(), *n, "{client}: GETs in the trace vs reads in the log");
    }
    seqs
}

/// Runs `cachetape ARGS… app.bin --format json` in the run's directory: the document and the
/// exit code.
pub fn json(run: &AppRun, args: &[&str]) -> (Value, i32) {
    let out = cachetape()
        .current_dir(run.dir.path())
        .args(args)
        .args(["app.bin", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("cachetape {args:?}: no JSON report ({e}): {stderr}"));
    eprintln!("cachetape {args:?}: exit {:?}; stderr: {stderr}", out.status.code());
    (doc, out.status.code().unwrap_or(-1))
}

/// Runs `cachetape ARGS… app.bin` in the run's directory: its stdout (the text report), stderr
/// and exit code.
pub fn text(run: &AppRun, args: &[&str]) -> (String, String, i32) {
    let out = cachetape().current_dir(run.dir.path()).args(args).arg("app.bin").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (stdout, stderr, out.status.code().unwrap_or(-1))
}

/// The verdict of each stale read a report lists, by sequence number (a read listed twice
/// keeps its worst: `stale-definite`). A finding of `replay`'s search in another order than the
/// recorded one (`margin_us` > 0) is a what-if — the read would be stale were some event up to
/// the window earlier or later — whatever its verdict in that order: it counts as
/// `stale within the window`, never as a definite call on the recorded read.
fn verdicts<'a>(lists: impl IntoIterator<Item = &'a Value>) -> HashMap<u64, String> {
    const WHAT_IF: &str = "stale within the window";
    let mut out: HashMap<u64, String> = HashMap::new();
    for f in lists.into_iter().filter_map(Value::as_array).flatten() {
        let seq = f["seq"].as_u64().unwrap();
        let reordered = f["margin_us"].as_i64().is_some_and(|m| m > 0);
        let verdict = if reordered { WHAT_IF } else { f["verdict"].as_str().unwrap() }.to_string();
        let slot = out.entry(seq).or_insert_with(|| verdict.clone());
        if verdict == "stale-definite" || *slot == WHAT_IF {
            *slot = verdict;
        }
    }
    out
}

/// Judges the run's trace with no mapping file — `analyze` and `replay --perturb 5ms` — against
/// the app's log: both must judge at least 99% of the hits, flag every hit the log proves stale,
/// and call no hit the log proves fresh stale-definite.
pub fn judge(app: &App, run: &AppRun) {
    let seqs = match_gets(run);
    let log = &run.log;
    let proven: Vec<Proven> = log
        .reads
        .iter()
        .zip(&seqs)
        .filter(|(r, _)| r.hit)
        .map(|(read, &seq)| Proven { seq, proof: log.proof(read), read })
        .collect();
    let hits = proven.len() as u64;
    let count = |p: Proof| proven.iter().filter(|x| x.proof == p).count();
    eprintln!(
        "{}: {} reads ({hits} hits: {} proven stale, {} proven fresh, {} unproven), {} commits",
        app.name,
        log.reads.len(),
        count(Proof::Stale),
        count(Proof::Fresh),
        count(Proof::Unproven),
        log.commits.len(),
    );
    assert!(hits > 0 && !log.commits.is_empty(), "{}: the app did nothing", app.name);
    assert!(count(Proof::Stale) > 0, "{}: the stalls made no stale read; nothing proven", app.name);

    let (analyzed, code) = json(run, &["analyze"]);
    let s = &analyzed["summary"];
    eprintln!("analyze: summary {s}");
    let origin = s["mapping"]["origin"].as_str().unwrap_or("");
    assert!(origin.starts_with("inferred from the trace"), "no mapping file, so inferred: {s}");
    let lists = [&analyzed["findings"]];
    check(app, log, &proven, hits, Report { what: "analyze", summary: s, lists: &lists });
    assert_eq!(code, 1, "analyze: stale reads, so exit 1: {s}");
    assert_eq!(s["verdict"], "stale", "{s}");

    // A smaller sample of each large component's orders than the default 20,000: what is checked
    // here (the as-recorded verdicts, and no fresh read called stale-definite) does not depend on
    // it, and a debug build on two cores takes minutes over the default.
    let (replayed, code) = json(run, &["replay", "--perturb", "5ms", "--budget", "2000"]);
    let s = &replayed["summary"];
    eprintln!("replay: summary {s}");
    let lists = [&replayed["findings"], &replayed["recorded"]];
    let what = "replay --perturb 5ms";
    check(app, log, &proven, hits, Report { what, summary: &s["recorded"], lists: &lists });
    // Every read the log proves stale was stale as recorded.
    let recorded = verdicts([&replayed["recorded"]]);
    let missed: Vec<u64> = proven
        .iter()
        .filter(|p| p.proof == Proof::Stale && !recorded.contains_key(&p.seq))
        .map(|p| p.seq)
        .collect();
    assert!(missed.is_empty(), "replay: proven stale reads not in `recorded`: {missed:?}");
    assert_eq!(code, 1, "replay: stale reads, so exit 1: {s}");
}

/// How to keep the trace of a failed run.
fn keep_hint() -> &'static str {
    if std::env::var_os("CACHETAPE_KEEP_APP_TRACES").is_some() {
        "\n(trace and log kept: see above)"
    } else {
        "\n(CACHETAPE_KEEP_APP_TRACES=DIR keeps each run's trace and log)"
    }
}

/// The three properties against one report: `summary` has `hits` and `unverifiable`, `lists`
/// are its lists of stale reads.
struct Report<'a> {
    what: &'a str,
    summary: &'a Value,
    lists: &'a [&'a Value],
}

fn check(app: &App, log: &AppLog, proven: &[Proven], hits: u64, report: Report) {
    let Report { what, summary, lists } = report;
    let verdicts = &verdicts(lists.iter().copied());
    let mut by_proof: BTreeMap<(Proof, &str), usize> = BTreeMap::new();
    for p in proven {
        let verdict = verdicts.get(&p.seq).map_or("not flagged", String::as_str);
        *by_proof.entry((p.proof, verdict)).or_default() += 1;
    }
    eprintln!("{}, {what}: (log's proof, verdict) → hits: {by_proof:?}", app.name);
    let judged_hits = summary["hits"].as_u64().unwrap_or(0);
    let unverifiable = summary["unverifiable"].as_u64().unwrap_or(u64::MAX);
    assert_eq!(judged_hits, hits, "{what}: the report's hits vs the app's: {summary}");
    assert!(
        unverifiable.saturating_mul(100) <= hits,
        "{what}: {unverifiable} of {hits} hits unverifiable (at most 1% may be): {summary}"
    );
    let missed: Vec<(u64, &LogRead, Option<&LogCommit>)> = proven
        .iter()
        .filter(|p| p.proof == Proof::Stale && !verdicts.contains_key(&p.seq))
        .map(|p| (p.seq, p.read, log.last_commit_before(p.read)))
        .collect();
    assert!(
        missed.is_empty(),
        "{what}: {} hit(s) the log proves stale were not flagged (the GET's sequence number, the \
         log's read, the commit that made it stale): {missed:#?}{}",
        missed.len(),
        keep_hint()
    );
    let wrong: Vec<(&LogRead, Vec<&Value>)> = proven
        .iter()
        .filter(|p| p.proof == Proof::Fresh)
        .filter(|p| verdicts.get(&p.seq).is_some_and(|v| v == "stale-definite"))
        .map(|p| {
            let listed = lists.iter().filter_map(|l| l.as_array()).flatten();
            (p.read, listed.filter(|f| f["seq"] == p.seq).collect())
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{what}: {} hit(s) the log proves fresh were called stale-definite (the log's read, \
         then the report's entries): {wrong:#?}{}",
        wrong.len(),
        keep_hint()
    );
}
