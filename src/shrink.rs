/*!
Shrinking a trace to the events one finding needs (`cachetape shrink`).

A [`Target`] is a finding as the reports print it — key, cause, served and DB value, verdict. The
shrinker cuts the trace in three stages, each candidate checked by a test the caller gives (the
CLI re-runs the analysis in process: [`analysis_test`]):

The same works for a finding of the perturbation search (`replay --perturb W`): the test then
re-runs the search on the candidate ([`Target::of_perturbed`]).

1. **keys**: only the finding's key and the row it maps to — Redis commands (and script calls)
   touching the key, with the MULTI/EXEC around them; row changes of that row and their commits;
   snapshots and keyspace notices of the key; plus every clock probe and gap (the timeline and the
   "nothing is known here" marks), and commands that touch every key (FLUSHALL, FLUSHDB,
   SWAPDB). If that alone does not reproduce the finding, the stage keeps everything.
2. **time range**: the longest prefix, then the longest suffix, of the remaining non-probe events
   that can go (binary search; each cut verified).
3. **delta debugging** (Zeller's ddmin) of what remains, probes included, over *units* that must
   stay whole: a transaction's row changes with its commit, a MULTI…EXEC block of one client.

Every stage's result reproduces the target (it was tested); the final result is 1-minimal with
respect to removing one unit. Events keep their sequence numbers, so the finding's read keeps its
`#seq`. Pure: no I/O, no clock; the test decides.
*/

use std::collections::{BTreeMap, BTreeSet};

use cachetape_analyzer::report::StaleRead;
use cachetape_analyzer::{Analysis, AnalysisOptions, Cause, Mapping, Report, Verdict};
use cachetape_tape::{Event, EventBody, Header, SourceId, commands};

/// The finding to keep: what makes a stale read "the same finding".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The key.
    pub key: String,
    /// Its Redis node.
    pub node: String,
    /// Its db index.
    pub redis_db: u32,
    /// Why it was stale.
    pub cause: Cause,
    /// What the cache served (projected, as the report prints it).
    pub served: String,
    /// What the DB held.
    pub db: String,
    /// Definite or possible.
    pub verdict: Verdict,
}

impl Target {
    /// The target a finding makes.
    pub fn of(finding: &StaleRead) -> Target {
        Target {
            key: finding.key.clone(),
            node: finding.node.clone(),
            redis_db: finding.redis_db,
            cause: finding.cause,
            served: finding.served.clone(),
            db: finding.db.clone(),
            verdict: finding.verdict,
        }
    }

    /// The target a perturbation finding makes (`cachetape replay --perturb W`).
    pub fn of_perturbed(read: &crate::PerturbedRead) -> Target {
        Target {
            key: read.key.clone(),
            node: read.node.clone(),
            redis_db: read.redis_db,
            cause: read.cause,
            served: read.served.clone(),
            db: read.db.clone(),
            verdict: read.verdict,
        }
    }

    /// The first perturbation finding among `reads` that is this target.
    pub fn find_in_perturbed<'r>(
        &self,
        reads: &'r [crate::PerturbedRead],
    ) -> Option<&'r crate::PerturbedRead> {
        reads.iter().find(|r| {
            r.key == self.key
                && r.node == self.node
                && r.redis_db == self.redis_db
                && r.cause == self.cause
                && r.served == self.served
                && r.db == self.db
                && r.verdict == self.verdict
        })
    }

    /// The first finding among `findings` that is this target.
    pub fn find_in<'r>(&self, findings: &'r [StaleRead]) -> Option<&'r StaleRead> {
        findings.iter().find(|f| {
            f.key == self.key
                && f.node == self.node
                && f.redis_db == self.redis_db
                && f.cause == self.cause
                && f.served == self.served
                && f.db == self.db
                && f.verdict == self.verdict
        })
    }
}

/// Runs the analysis on `events` in process.
pub fn analyze_events(
    header: &Header,
    mapping: &Mapping,
    options: &AnalysisOptions,
    events: &[Event],
) -> Result<Report, cachetape_analyzer::AnalysisError> {
    let mut analysis = Analysis::new(header, mapping.clone(), options.clone());
    analysis.push_all(events)?;
    analysis.finish()
}

/// The test the CLI shrinks with: the as-recorded analysis of the candidate still has the target.
/// A candidate the analysis refuses (a mapping rule whose table no longer appears) fails.
pub fn analysis_test<'a>(
    header: &'a Header,
    mapping: &'a Mapping,
    options: &'a AnalysisOptions,
    target: &'a Target,
) -> impl FnMut(&[Event]) -> bool + 'a {
    move |events| {
        analyze_events(header, mapping, options, events)
            .is_ok_and(|r| target.find_in(&r.findings).is_some())
    }
}

/// One stage's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// `keys`, `time range`, `ddmin`.
    pub name: &'static str,
    /// Events after it.
    pub events: usize,
    /// Candidates tested in it.
    pub tests: usize,
    /// What it kept, when it had to keep more than it wanted.
    pub note: Option<String>,
}

/// A shrunk trace.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The events kept, in trace order with their sequence numbers.
    pub events: Vec<Event>,
    /// The stages, in order.
    pub stages: Vec<Stage>,
}

/// Why shrinking could not start.
#[derive(Debug)]
pub enum ShrinkError {
    /// The whole trace does not reproduce the target under the test.
    NotReproduced,
}

impl std::fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShrinkError::NotReproduced => f.write_str(
                "the whole trace does not reproduce the finding under this check, so there is \
                 nothing to shrink towards; check the finding number and the mapping",
            ),
        }
    }
}

impl std::error::Error for ShrinkError {}

/// Shrinks `events` (a whole trace, in order) to what `test` still accepts, keeping `target`'s
/// key and row. `max_tests` bounds the delta debugging (it stops early, still verified).
pub fn shrink(
    header: &Header,
    mapping: &Mapping,
    target: &Target,
    events: Vec<Event>,
    max_tests: usize,
    test: &mut dyn FnMut(&[Event]) -> bool,
) -> Result<Shrunk, ShrinkError> {
    if !test(&events) {
        return Err(ShrinkError::NotReproduced);
    }
    let mut stages = Vec::new();
    let names: Vec<String> = header.sources.iter().map(|s| s.name.clone()).collect();

    // 1. The key and its row.
    let keep = relevant(&names, mapping, target, &events);
    let candidate: Vec<Event> =
        events.iter().zip(&keep).filter(|(_, k)| **k).map(|(e, _)| e.clone()).collect();
    let mut current = if test(&candidate) {
        stages.push(Stage { name: "keys", events: candidate.len(), tests: 1, note: None });
        candidate
    } else {
        stages.push(Stage {
            name: "keys",
            events: events.len(),
            tests: 1,
            note: Some("the key and its row alone do not reproduce it: kept everything".into()),
        });
        events
    };

    // 2. The time range of the non-probe events.
    let mut tests = 0;
    let movable: Vec<usize> = (0..current.len()).filter(|&i| !is_probe(&current[i])).collect();
    let without = |current: &[Event], drop: &BTreeSet<usize>| -> Vec<Event> {
        current
            .iter()
            .enumerate()
            .filter(|(i, _)| !drop.contains(i))
            .map(|(_, e)| e.clone())
            .collect()
    };
    // Longest prefix of `movable` that can go.
    let (mut lo, mut hi) = (0usize, movable.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let drop: BTreeSet<usize> = movable[..mid].iter().copied().collect();
        tests += 1;
        if test(&without(&current, &drop)) { lo = mid } else { hi = mid - 1 }
    }
    let prefix = lo;
    let (mut lo, mut hi) = (0usize, movable.len() - prefix);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let drop: BTreeSet<usize> =
            movable[..prefix].iter().chain(&movable[movable.len() - mid..]).copied().collect();
        tests += 1;
        if test(&without(&current, &drop)) { lo = mid } else { hi = mid - 1 }
    }
    let drop: BTreeSet<usize> =
        movable[..prefix].iter().chain(&movable[movable.len() - lo..]).copied().collect();
    current = without(&current, &drop);
    stages.push(Stage { name: "time range", events: current.len(), tests, note: None });

    // 3. ddmin over units.
    let units = units(&current);
    let (kept, tests, exhausted) = ddmin(&current, units, max_tests, test);
    current = kept;
    stages.push(Stage {
        name: "ddmin",
        events: current.len(),
        tests,
        note: exhausted.then(|| format!("stopped after {max_tests} tests (--max-tests)")),
    });
    Ok(Shrunk { events: current, stages })
}

fn is_probe(e: &Event) -> bool {
    matches!(e.body, EventBody::ClockProbe(_))
}

/// Commands that change every key of a db (or all dbs): kept whatever their arguments.
fn touches_everything(argv: &cachetape_tape::Argv) -> bool {
    argv.is("FLUSHALL") || argv.is("FLUSHDB") || argv.is("SWAPDB")
}

/// Which events the target's key and row need (stage 1).
fn relevant(names: &[String], mapping: &Mapping, target: &Target, events: &[Event]) -> Vec<bool> {
    let key = target.key.as_bytes();
    let node_of = |s: SourceId| names.get(s.0 as usize).map_or("", String::as_str);
    // The rule and row the key maps to.
    let mut holes = Vec::new();
    let rule = mapping.find(&target.node, target.redis_db, key, &mut holes);
    let mut row_id = Vec::new();
    if let Some(r) = rule {
        mapping.rules[r].row_id_from_key(&holes, &mut row_id);
    }
    let mut keep = vec![false; events.len()];
    let mut txns: BTreeSet<(SourceId, u64)> = BTreeSet::new();
    // Open MULTI per (source, client): its position and whether a kept command is inside.
    let mut multi: BTreeMap<(SourceId, String), (usize, bool)> = BTreeMap::new();
    let mut image_id = Vec::new();
    for (i, e) in events.iter().enumerate() {
        keep[i] = match &e.body {
            EventBody::ClockProbe(_) | EventBody::Gap(_) => true,
            EventBody::Snapshot(s) => s.key == key && node_of(e.source) == target.node,
            EventBody::Keyspace(k) => k.key == key && node_of(e.source) == target.node,
            EventBody::Redis(c) => {
                let block = (e.source, c.client.to_string());
                let touches = node_of(e.source) == target.node
                    && std::iter::once(&c.argv).chain(c.script.iter().map(|s| &s.argv)).any(
                        |argv| {
                            touches_everything(argv)
                                || commands::keys(argv).iter(argv).any(|k| k == key)
                        },
                    );
                if c.argv.is("MULTI") {
                    multi.insert(block, (i, false));
                    false
                } else if c.argv.is("EXEC") || c.argv.is("DISCARD") {
                    match multi.remove(&block) {
                        Some((start, true)) => {
                            keep[start] = true;
                            true
                        }
                        _ => false,
                    }
                } else {
                    if touches && let Some(open) = multi.get_mut(&block) {
                        open.1 = true;
                    }
                    touches
                }
            }
            EventBody::Row(r) => match rule {
                Some(rule) => {
                    let rule = &mapping.rules[rule];
                    let same = |image: &Option<cachetape_tape::RowImage>, out: &mut Vec<u8>| {
                        image
                            .as_ref()
                            .is_some_and(|im| rule.row_id_from_image(im, out) && *out == row_id)
                    };
                    let hit = *r.table == *rule.table
                        && (same(&r.before, &mut image_id) || same(&r.after, &mut image_id));
                    if hit {
                        txns.insert((e.source, r.txn));
                    }
                    hit
                }
                None => false,
            },
            EventBody::Commit(c) => txns.contains(&(e.source, c.txn)),
        };
    }
    keep
}

/// Groups event indexes into units that stay whole: a transaction (row changes + commit), a
/// MULTI…EXEC block of one client, else one event.
fn units(events: &[Event]) -> Vec<Vec<usize>> {
    let mut units: Vec<Vec<usize>> = Vec::new();
    let mut txn_unit: BTreeMap<(SourceId, u64), usize> = BTreeMap::new();
    let mut multi_unit: BTreeMap<(SourceId, String), usize> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        match &e.body {
            EventBody::Row(r) => {
                let u = *txn_unit.entry((e.source, r.txn)).or_insert_with(|| {
                    units.push(Vec::new());
                    units.len() - 1
                });
                units[u].push(i);
            }
            EventBody::Commit(c) => match txn_unit.remove(&(e.source, c.txn)) {
                Some(u) => units[u].push(i),
                None => units.push(vec![i]),
            },
            EventBody::Redis(c) => {
                let block = (e.source, c.client.to_string());
                if c.argv.is("MULTI") {
                    units.push(vec![i]);
                    multi_unit.insert(block, units.len() - 1);
                } else if let Some(&u) = multi_unit.get(&block) {
                    units[u].push(i);
                    if c.argv.is("EXEC") || c.argv.is("DISCARD") {
                        multi_unit.remove(&block);
                    }
                } else {
                    units.push(vec![i]);
                }
            }
            _ => units.push(vec![i]),
        }
    }
    units
}

/// Zeller's ddmin over `units` of `events`: returns the kept events, the tests run, and whether
/// the budget ran out.
fn ddmin(
    events: &[Event],
    mut units: Vec<Vec<usize>>,
    max_tests: usize,
    test: &mut dyn FnMut(&[Event]) -> bool,
) -> (Vec<Event>, usize, bool) {
    let build = |units: &[Vec<usize>]| -> Vec<Event> {
        let mut idx: Vec<usize> = units.iter().flatten().copied().collect();
        idx.sort_unstable();
        idx.into_iter().map(|i| events[i].clone()).collect()
    };
    let mut tests = 0;
    let mut n = 2usize;
    while units.len() >= 2 {
        let chunk = units.len().div_ceil(n);
        let mut reduced = false;
        let mut start = 0;
        while start < units.len() {
            if tests >= max_tests {
                return (build(&units), tests, true);
            }
            let end = (start + chunk).min(units.len());
            let complement: Vec<Vec<usize>> =
                units[..start].iter().chain(&units[end..]).cloned().collect();
            tests += 1;
            if test(&build(&complement)) {
                units = complement;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
            start = end;
        }
        if !reduced {
            if n >= units.len() {
                break;
            }
            n = (n * 2).min(units.len());
        }
    }
    (build(&units), tests, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachetape_tape::{Argv, Commit, RedisCommand};

    fn redis(seq: u64, client: &str, args: &[&str]) -> Event {
        Event {
            seq,
            source: SourceId(0),
            recv_us: seq as i64,
            body: EventBody::Redis(RedisCommand {
                db: 0,
                client: client.into(),
                server_us: seq as i64,
                argv: Argv::from_parts(args.iter().map(|a| a.as_bytes())),
                script: Vec::new(),
            }),
        }
    }

    #[test]
    fn ddmin_finds_the_two_events_a_test_needs() {
        let events: Vec<Event> =
            (0..40).map(|i| redis(i, "c:1", &["GET", &format!("k{i}")])).collect();
        let units = units(&events);
        let mut test = |e: &[Event]| e.iter().any(|e| e.seq == 7) && e.iter().any(|e| e.seq == 31);
        let (kept, tests, exhausted) = ddmin(&events, units, 10_000, &mut test);
        assert_eq!(kept.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![7, 31]);
        assert!(!exhausted);
        assert!(tests < 200, "{tests} tests");
    }

    fn row(seq: u64, txn: u64, id: i64) -> Event {
        use cachetape_tape::{Cell, RowChange, RowImage, RowOp, Value};
        let image = |status: &str| RowImage {
            cells: vec![
                Cell { column: "id".into(), value: Value::Int(id) },
                Cell { column: "status".into(), value: Value::Bytes(status.as_bytes().to_vec()) },
            ],
        };
        Event {
            seq,
            source: SourceId(1),
            recv_us: seq as i64,
            body: EventBody::Row(RowChange {
                table: "shop.orders".into(),
                op: RowOp::Update,
                before: Some(image("NEW")),
                after: Some(image("PAID")),
                txn,
                header_secs: 0,
            }),
        }
    }

    fn commit(seq: u64, txn: u64) -> Event {
        Event {
            seq,
            source: SourceId(1),
            recv_us: seq as i64,
            body: EventBody::Commit(Commit {
                txn,
                header_secs: 0,
                commit_us: None,
                gtid: None,
                xid: None,
            }),
        }
    }

    #[test]
    fn the_key_stage_keeps_the_key_its_row_and_the_blocks_around_them() {
        use cachetape_tape::{Capture, Source, SourceKind};
        let mut header = Header::new(0);
        for (name, kind) in [("cache", SourceKind::Redis), ("db", SourceKind::MariaDb)] {
            header.add_source(Source {
                name: name.into(),
                kind,
                address: String::new(),
                version: None,
                capture: Capture::Live,
            });
        }
        let mapping = Mapping::parse(
            "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\ncolumn = \"status\"\n",
        )
        .unwrap();
        let target = Target {
            key: "order:42".into(),
            node: "cache".into(),
            redis_db: 0,
            cause: Cause::StaleSet,
            served: String::new(),
            db: String::new(),
            verdict: Verdict::StaleDefinite,
        };
        let events = vec![
            redis(0, "a:1", &["GET", "order:42"]),
            redis(1, "b:1", &["GET", "order:7"]),
            row(2, 1, 7),
            commit(3, 1),
            row(4, 2, 42),
            row(5, 2, 7),
            commit(6, 2),
            redis(7, "a:1", &["MULTI"]),
            redis(8, "a:1", &["SET", "order:42", "PAID"]),
            redis(9, "a:1", &["EXEC"]),
            redis(10, "b:1", &["MULTI"]),
            redis(11, "b:1", &["DEL", "order:7"]),
            redis(12, "b:1", &["EXEC"]),
            redis(13, "c:1", &["FLUSHDB"]),
            redis(14, "c:1", &["MGET", "order:1", "order:42"]),
        ];
        let names: Vec<String> = header.sources.iter().map(|s| s.name.clone()).collect();
        let keep = relevant(&names, &mapping, &target, &events);
        let kept: Vec<u64> =
            events.iter().zip(&keep).filter(|(_, k)| **k).map(|(e, _)| e.seq).collect();
        assert_eq!(kept, vec![0, 4, 6, 7, 8, 9, 13, 14]);
    }

    #[test]
    fn multi_blocks_and_transactions_stay_whole() {
        let commit = Event {
            seq: 5,
            source: SourceId(1),
            recv_us: 5,
            body: EventBody::Commit(Commit {
                txn: 9,
                header_secs: 0,
                commit_us: None,
                gtid: None,
                xid: None,
            }),
        };
        let events = vec![
            redis(0, "a:1", &["MULTI"]),
            redis(1, "b:1", &["GET", "x"]),
            redis(2, "a:1", &["SET", "x", "1"]),
            redis(3, "a:1", &["EXEC"]),
            redis(4, "a:1", &["GET", "x"]),
            commit,
        ];
        assert_eq!(units(&events), vec![vec![0, 2, 3], vec![1], vec![4], vec![5]]);
    }
}
