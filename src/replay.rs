/*!
The regression API: replay a trace under perturbation and ask whether any read can be served
stale — what `cachetape replay --perturb W TRACE` prints, as a value a test can assert on.

```
use std::time::Duration;

// The shipped incident: a stale set poisons order:42 with CANCELLED after the DB says PAID.
let report = cachetape::Replay::open("traces/incident.bin")?
    .perturb(Duration::from_millis(5))
    .seed(1)
    .run()?;
assert!(!report.is_clean());
let incident = report.stale_reads().iter().find(|r| r.key == "order:42").expect("found");
assert_eq!(incident.cause, cachetape::analyzer::Cause::StaleSet);
for read in report.stale_reads() {
    println!("{} read by {}: {} ({})", read.key, read.client, read.cause, read.story.join("; "));
}
println!("{report}"); // the human report, as the CLI prints it

// The shipped clean trace stays clean under every order within ±5 ms.
let clean = cachetape::Replay::open("traces/clean.bin")?.perturb(Duration::from_millis(5)).run()?;
assert!(clean.is_clean(), "{clean}");
# Ok::<(), cachetape::ReplayError>(())
```

[`Replay::run`] makes one pass over the trace: the analyzer judges every read as recorded
([`analyzer::Report`](crate::analyzer::Report): causes, ages, exposure) while the perturbation's
extraction cuts the same events into independent components; then every component's schedules
within the window are explored ([`explore_all`]) and each read some schedule serves stale
becomes a [`PerturbedRead`] with its story: the fewest inversions of the recorded order that
make it stale, the schedule id that replays it ([`Replay::replay_schedule`]) and its margin.
The report is a pure function of the trace, the mapping, the window, the seed and the budget:
the number of jobs changes nothing but the time it takes.
*/

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use cachetape_analyzer::report::Link;
use cachetape_analyzer::{
    Analysis, AnalysisOptions, Cause, Inference, Mapping, Report, TimelineOptions, Verdict,
};
use cachetape_perturb::extract::{ComponentInfo, ExtractOptions, Extraction, Extractor};
use cachetape_perturb::{
    CacheVal, Component, Coverage, DbVal, ExploreOptions, Found, Lane, Op, check_schedule,
    explore_all, parse_schedule_id,
};
use cachetape_tape::{Event, EventBody, Micros, Reader, format_duration, format_time};

/// Schedules explored per component at most by default; beyond, sampling.
pub const DEFAULT_BUDGET: u64 = 20_000;

/// A replay failed: what, on which input, and what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReplayError {
    /// The trace cannot be read.
    Trace(cachetape_tape::Error),
    /// The mapping cannot be read or does not fit the trace.
    Mapping(String),
    /// The analysis failed.
    Analysis(String),
    /// A schedule id does not name a schedule of this trace.
    Schedule(String),
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Trace(e) => write!(f, "{e}"),
            ReplayError::Mapping(m) | ReplayError::Analysis(m) | ReplayError::Schedule(m) => {
                f.write_str(m)
            }
        }
    }
}

/// The messages already say what failed and why: no further source to print.
impl std::error::Error for ReplayError {}

impl From<cachetape_tape::Error> for ReplayError {
    fn from(e: cachetape_tape::Error) -> Self {
        ReplayError::Trace(e)
    }
}

type Progress = Box<dyn Fn(usize, usize) + Sync + Send>;

/// A replay to run: a trace, its mapping, the window and how to search. Build it with the
/// methods below, then [`Replay::run`].
pub struct Replay {
    trace: PathBuf,
    map: Option<PathBuf>,
    mapping: Option<(Mapping, String)>,
    window_us: Micros,
    seed: u64,
    budget: u64,
    jobs: usize,
    db_lag_us: Micros,
    progress: Option<Progress>,
}

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replay")
            .field("trace", &self.trace)
            .field("window_us", &self.window_us)
            .field("seed", &self.seed)
            .field("budget", &self.budget)
            .field("jobs", &self.jobs)
            .finish_non_exhaustive()
    }
}

impl Replay {
    /// A replay of the trace at `path` (checked to open), as recorded (no perturbation), seed 1,
    /// [`DEFAULT_BUDGET`], on every core. The mapping is the trace's name with `.toml` beside
    /// it, else inferred from the trace.
    pub fn open(path: impl AsRef<Path>) -> Result<Replay, ReplayError> {
        let trace = path.as_ref().to_path_buf();
        Reader::open(&trace)?;
        Ok(Replay {
            trace,
            map: None,
            mapping: None,
            window_us: 0,
            seed: 1,
            budget: DEFAULT_BUDGET,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            db_lag_us: cachetape_analyzer::DEFAULT_DB_LAG_US,
            progress: None,
        })
    }

    /// The key→row mapping file to use.
    pub fn map(mut self, path: impl AsRef<Path>) -> Replay {
        self.map = Some(path.as_ref().to_path_buf());
        self
    }

    /// A mapping already loaded, and where it came from (for the report).
    pub fn mapping(mut self, mapping: Mapping, origin: impl Into<String>) -> Replay {
        self.mapping = Some((mapping, origin.into()));
        self
    }

    /// The window W: events further apart than W keep their order; closer ones may swap.
    pub fn perturb(mut self, window: Duration) -> Replay {
        self.window_us = Micros::try_from(window.as_micros()).unwrap_or(Micros::MAX);
        self
    }

    /// The seed of the sampling of components too large to explore exhaustively.
    pub fn seed(mut self, seed: u64) -> Replay {
        self.seed = seed;
        self
    }

    /// Distinct schedules per component at most (beyond, sampling).
    pub fn budget(mut self, budget: u64) -> Replay {
        self.budget = budget.max(1);
        self
    }

    /// Worker threads (the report is the same for any number).
    pub fn jobs(mut self, jobs: usize) -> Replay {
        self.jobs = jobs.max(1);
        self
    }

    /// How long before its receipt a live-recorded database commit may have happened (the
    /// as-recorded analysis' `--db-lag`).
    pub fn db_lag(mut self, lag: Duration) -> Replay {
        self.db_lag_us = Micros::try_from(lag.as_micros()).unwrap_or(Micros::MAX);
        self
    }

    /// Called with (components done, components) as the exploration goes.
    pub fn progress(mut self, f: impl Fn(usize, usize) + Sync + Send + 'static) -> Replay {
        self.progress = Some(Box::new(f));
        self
    }

    fn load_mapping(&self) -> Result<(Mapping, String), ReplayError> {
        if let Some(m) = &self.mapping {
            return Ok(m.clone());
        }
        let beside = self.trace.with_extension("toml");
        let path = self.map.clone().unwrap_or_else(|| beside.clone());
        if path.exists() {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ReplayError::Mapping(format!("cannot read the mapping {}: {e}", path.display()))
            })?;
            let mapping = Mapping::parse(&text).map_err(|e| {
                ReplayError::Mapping(format!("in the mapping {}: {e}", path.display()))
            })?;
            return Ok((mapping, path.display().to_string()));
        }
        if self.map.is_some() {
            return Err(ReplayError::Mapping(format!(
                "the mapping {} does not exist: give an existing file, or none to use {} or \
                 the mapping inferred from the trace",
                path.display(),
                beside.display()
            )));
        }
        let mut reader = Reader::open(&self.trace)?;
        let mut inference = Inference::default();
        let mut event = Event {
            seq: 0,
            source: cachetape_tape::SourceId(0),
            recv_us: 0,
            body: EventBody::Gap(cachetape_tape::Gap {
                from_us: 0,
                to_us: 0,
                reason: String::new(),
            }),
        };
        while reader.next_event_into(&mut event)? {
            inference.push(&event);
        }
        let inferred = inference.finish();
        Ok((inferred.mapping, format!("inferred from the trace (no {})", beside.display())))
    }

    fn timeline(&self) -> TimelineOptions {
        TimelineOptions { db_lag_us: self.db_lag_us }
    }

    /// Replays the trace as recorded and under every order within the window.
    pub fn run(&self) -> Result<ReplayReport, ReplayError> {
        let (mapping, origin) = self.load_mapping()?;
        let mut reader = Reader::open(&self.trace)?;
        let header = reader.header().clone();
        let options = AnalysisOptions {
            timeline: self.timeline(),
            mapping_origin: origin.clone(),
            ..AnalysisOptions::default()
        };
        let mut analysis = Analysis::new(&header, mapping.clone(), options);
        let extract_options =
            ExtractOptions { timeline: self.timeline(), window_us: self.window_us };
        let mut extractor = Extractor::new(&header, mapping, extract_options);
        let name = self.trace.display().to_string();
        let mut events = reader.by_ref();
        for event in &mut events {
            let event = event?;
            analysis
                .push(&event)
                .map_err(|e| ReplayError::Analysis(format!("analyzing {name}: {e}")))?;
            extractor
                .push(&event)
                .map_err(|e| ReplayError::Analysis(format!("analyzing {name}: {e}")))?;
        }
        let lost = reader.report().clone();
        let mut recorded = analysis
            .finish()
            .map_err(|e| ReplayError::Analysis(format!("analyzing {name}: {e}")))?;
        if !lost.is_complete() {
            recorded.summary.notes.push(format!("the trace is incomplete: {lost}"));
        }
        let extraction = extractor.finish();
        let explore = ExploreOptions {
            window_us: self.window_us,
            budget: self.budget,
            seed: self.seed,
            jobs: self.jobs,
        };
        let silent = |_: usize, _: usize| {};
        let progress: &(dyn Fn(usize, usize) + Sync) = match &self.progress {
            Some(p) => p.as_ref(),
            None => &silent,
        };
        let outcomes = explore_all(&extraction.components, &explore, progress);
        let mut report = ReplayReport {
            trace: name,
            window_us: self.window_us,
            seed: self.seed,
            budget: self.budget,
            recorded,
            components: Vec::new(),
            quiet: extraction.quiet,
            findings: Vec::new(),
            notes: extraction.notes.clone(),
        };
        for (i, (c, outcome)) in extraction.components.iter().zip(&outcomes).enumerate() {
            let info = &extraction.info[i];
            report.components.push(ComponentSummary {
                index: i as u32,
                keys: c.keys.clone(),
                units: c.units.len(),
                reads: c.reads.len(),
                coverage: outcome.coverage,
                approximate: c.approximate,
                stale: outcome.found.len(),
            });
            for found in &outcome.found {
                report.findings.push(perturbed_read(&extraction, i as u32, c, info, found));
            }
        }
        if extraction.components.iter().any(|c| c.approximate) {
            report.notes.push(
                "some writes depend on what the key held before (APPEND, INCR, SET NX, partial \
                 HSET…): in reordered schedules they are taken as their recorded result"
                    .into(),
            );
        }
        report.findings.sort_by(|a, b| (a.seq, &a.key).cmp(&(b.seq, &b.key)));
        Ok(report)
    }

    /// Replays one schedule — a component's units in the order `id` gives (each unit's events
    /// kept together, placed where the component's units were and timed in that order) —
    /// through the full analyzer, with database commits placed exactly where the schedule puts
    /// them (no receipt lag).
    pub fn replay_schedule(&self, id: &str) -> Result<ScheduleReplay, ReplayError> {
        let (component, order) = parse_schedule_id(id).map_err(|e| {
            ReplayError::Schedule(format!(
                "{e} (schedule ids come from `cachetape replay --perturb W TRACE`)"
            ))
        })?;
        let (mapping, origin) = self.load_mapping()?;
        let mut reader = Reader::open(&self.trace)?;
        let header = reader.header().clone();
        let mut events = Vec::new();
        for e in reader.by_ref() {
            events.push(e?);
        }
        let extract_options =
            ExtractOptions { timeline: self.timeline(), window_us: self.window_us };
        let mut extractor = Extractor::new(&header, mapping.clone(), extract_options);
        for e in &events {
            extractor.push(e).map_err(|e| ReplayError::Analysis(e.to_string()))?;
        }
        let x = extractor.finish();
        let Some(c) = x.components.get(component as usize) else {
            return Err(ReplayError::Schedule(format!(
                "schedule {id} names component {component}, but this trace has {} under this \
                 mapping and window: was it made from another trace, mapping or --perturb?",
                x.components.len()
            )));
        };
        let info = &x.info[component as usize];
        let mut seen = vec![false; c.units.len()];
        for &u in &order {
            if (u as usize) >= seen.len() || std::mem::replace(&mut seen[u as usize], true) {
                return Err(ReplayError::Schedule(format!(
                    "schedule {id} is not an order of component {component}'s {} units: was it \
                     made from another trace, mapping or --perturb?",
                    c.units.len()
                )));
            }
        }
        if order.len() != c.units.len() {
            return Err(ReplayError::Schedule(format!(
                "schedule {id} orders {} units, component {component} has {}",
                order.len(),
                c.units.len()
            )));
        }
        if let Err(why) = check_schedule(c, self.window_us, &order) {
            return Err(ReplayError::Schedule(format!(
                "schedule {id} is not an order the trace could have taken under ±{}: {why}; pass \
                 the --perturb window it was found with",
                format_window(self.window_us)
            )));
        }
        let reordered = reorder(&events, c, info, &order);
        let options = AnalysisOptions {
            timeline: TimelineOptions { db_lag_us: 0 },
            mapping_origin: origin,
            ..AnalysisOptions::default()
        };
        let mut analysis = Analysis::new(&header, mapping, options);
        for e in &reordered {
            analysis.push(e).map_err(|e| ReplayError::Analysis(e.to_string()))?;
        }
        let report = analysis.finish().map_err(|e| ReplayError::Analysis(e.to_string()))?;
        let steps = order
            .iter()
            .map(|&u| {
                let unit = &c.units[u as usize];
                format!(
                    "#{} {} from {}",
                    unit.seq,
                    info.units[u as usize].what,
                    x.lane_name(unit.lane)
                )
            })
            .collect();
        Ok(ScheduleReplay { id: id.to_string(), component, keys: c.keys.clone(), steps, report })
    }
}

/// The events of the trace with `c`'s units in `order`: the i-th unit of the order takes the
/// place (in the trace) of the i-th of the component's units by position, with all its events
/// together, and the i-th smallest of their recorded times (strictly increasing), every event
/// of the unit shifted alike.
fn reorder(events: &[Event], c: &Component, info: &ComponentInfo, order: &[u32]) -> Vec<Event> {
    let pos = |seq: u64| events.binary_search_by_key(&seq, |e| e.seq).ok();
    let mut anchors: Vec<usize> = info.units.iter().filter_map(|u| pos(u.anchor)).collect();
    anchors.sort_unstable();
    let mut times: Vec<Micros> = c.units.iter().map(|u| u.t_us).collect();
    times.sort_unstable();
    let mut shift = vec![0; c.units.len()];
    let mut last = Micros::MIN;
    for (i, &u) in order.iter().enumerate() {
        let t = times[i].max(last.saturating_add(1));
        last = t;
        shift[u as usize] = t - c.units[u as usize].t_us;
    }
    let mut moved = std::collections::HashSet::new();
    for u in &info.units {
        moved.extend(u.events.iter().copied());
    }
    let mut emit_at = std::collections::HashMap::new();
    for (i, &p) in anchors.iter().enumerate() {
        emit_at.insert(p, order[i]);
    }
    let mut out = Vec::with_capacity(events.len());
    for (p, e) in events.iter().enumerate() {
        if let Some(&u) = emit_at.get(&p) {
            for &seq in &info.units[u as usize].events {
                if let Some(q) = pos(seq) {
                    out.push(shifted(&events[q], shift[u as usize]));
                }
            }
        } else if !moved.contains(&e.seq) {
            out.push(e.clone());
        }
    }
    out
}

/// `e` moved by `d` µs on every clock it carries.
fn shifted(e: &Event, d: Micros) -> Event {
    let mut e = e.clone();
    e.recv_us += d;
    let secs = |s: &mut u32| {
        *s = (i64::from(*s) * 1_000_000 + d).div_euclid(1_000_000).clamp(0, u32::MAX as i64) as u32
    };
    match &mut e.body {
        EventBody::Redis(rc) => {
            rc.server_us += d;
            for call in &mut rc.script {
                call.server_us += d;
            }
        }
        EventBody::Commit(c) => {
            if let Some(t) = &mut c.commit_us {
                *t += d;
            }
            secs(&mut c.header_secs);
        }
        EventBody::Row(r) => secs(&mut r.header_secs),
        _ => {}
    }
    e
}

fn perturbed_read(
    x: &Extraction,
    index: u32,
    c: &Component,
    info: &ComponentInfo,
    f: &Found,
) -> PerturbedRead {
    let read = &c.reads[f.read as usize];
    let unit = &c.units[read.unit as usize];
    let key = unit
        .ops
        .iter()
        .find_map(|op| match *op {
            Op::Read { key, read: r, .. } if r == f.read => Some(key),
            _ => None,
        })
        .unwrap_or(0);
    let (node, redis_db) = info.key_nodes.get(key as usize).cloned().unwrap_or_default();
    let describe = |u: u32| -> String {
        let unit = &c.units[u as usize];
        let on = if matches!(unit.lane, Lane::Db(_)) { "in" } else { "from" };
        format!("{} {on} {}", info.units[u as usize].what, x.lane_name(unit.lane))
    };
    let mut chain = Vec::new();
    for &u in &f.chain {
        let unit = &c.units[u as usize];
        let writes_served = unit.ops.iter().any(
            |op| matches!(*op, Op::Set { key: k, value, .. } if k == key && value == f.served),
        );
        let role = if matches!(unit.lane, Lane::Db(_)) {
            "superseded-by"
        } else if writes_served && chain.is_empty() {
            "write"
        } else {
            "invalidation"
        };
        chain.push(Link { role, seq: Some(unit.seq), t_us: unit.t_us, what: describe(u) });
    }
    if chain.first().is_none_or(|l| l.role != "write")
        && let Some(Some((seq, t_us, what))) = info.initial_writes.get(key as usize)
    {
        // The value was written in an earlier part of the trace, which every order keeps
        // before this one.
        chain.insert(0, Link { role: "write", seq: Some(*seq), t_us: *t_us, what: what.clone() });
    }
    let moves = f
        .moves
        .iter()
        .map(|m| {
            let (past, moved) = (describe(m.past), describe(m.moved));
            let story = if m.shift_us > 0 {
                format!("{past} lands {} later, after {moved}", format_duration(m.shift_us))
            } else {
                format!(
                    "{past} lands after {moved} (their clocks put them {} apart)",
                    format_duration(-m.shift_us)
                )
            };
            MoveStory {
                moved: c.units[m.moved as usize].seq,
                past: c.units[m.past as usize].seq,
                shift_us: m.shift_us,
                story,
            }
        })
        .collect::<Vec<_>>();
    let served = match f.served {
        CacheVal::Known(v) => info.cache_values.get(v as usize).cloned().unwrap_or_default(),
        CacheVal::Unreconciled => "(a value the mapping cannot compare)".into(),
        CacheVal::Absent => "(nothing)".into(),
        CacheVal::Unknown => "(unknown)".into(),
    };
    let db = match f.db {
        DbVal::Known(v) => info.db_values.get(v as usize).cloned().unwrap_or_default(),
        DbVal::Absent => "(no row)".into(),
        DbVal::Unknown => "(unknown)".into(),
    };
    PerturbedRead {
        key: c.keys.get(key as usize).cloned().unwrap_or_default(),
        node,
        redis_db,
        client: x.lane_name(unit.lane),
        seq: read.seq,
        t_us: unit.t_us,
        served,
        db,
        verdict: if f.as_recorded { Verdict::StaleDefinite } else { Verdict::StalePossible },
        cause: f.cause,
        age_us: (f.cause != Cause::Unexplained).then_some(f.age_us),
        chain,
        story: moves.iter().map(|m| m.story.clone()).collect(),
        moves,
        schedule: cachetape_perturb::schedule_id(index, &f.schedule),
        margin_us: f.margin_us,
        component: index,
        approximate: c.approximate,
    }
}

/// One inverted pair of a finding's reordering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoveStory {
    /// Seq of the unit recorded later that runs earlier.
    pub moved: u64,
    /// Seq of the unit recorded earlier that runs later.
    pub past: u64,
    /// The window this inversion needs (µs).
    pub shift_us: Micros,
    /// In words: `DEL order:42 from 10.0.0.7:51234 lands 3.1ms later, after GET order:42 from
    /// 10.0.0.9:40000`.
    pub story: String,
}

/// A read some order within the window serves stale.
#[derive(Clone, Debug, PartialEq)]
pub struct PerturbedRead {
    /// The key.
    pub key: String,
    /// Its Redis node.
    pub node: String,
    /// Its db index.
    pub redis_db: u32,
    /// The client that read it.
    pub client: String,
    /// The read's trace seq.
    pub seq: u64,
    /// When it was recorded (µs since the epoch).
    pub t_us: Micros,
    /// What the cache served in that order.
    pub served: String,
    /// What the database held then.
    pub db: String,
    /// `stale-definite` when stale as recorded, `stale-possible` when only a reordering makes it
    /// stale.
    pub verdict: Verdict,
    /// Why, in that order.
    pub cause: Cause,
    /// Time since the served value was superseded (`None` when it matches no version).
    pub age_us: Option<Micros>,
    /// The units behind it: the write, the commit that superseded it, the late invalidation.
    pub chain: Vec<Link>,
    /// The fewest inversions of the recorded order that make it stale.
    pub moves: Vec<MoveStory>,
    /// The same, in words.
    pub story: Vec<String>,
    /// The id that replays that order (`cachetape replay TRACE --schedule ID`).
    pub schedule: String,
    /// The smallest window at which some order makes it stale (µs; 0 when stale as recorded).
    pub margin_us: Micros,
    /// Its component.
    pub component: u32,
    /// Its component has writes taken as their recorded result.
    pub approximate: bool,
}

/// How one component was explored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentSummary {
    /// Its index (schedule ids name it).
    pub index: u32,
    /// Its keys.
    pub keys: Vec<String>,
    /// Its units.
    pub units: usize,
    /// Its judged reads.
    pub reads: usize,
    /// Exhaustive or sampled.
    pub coverage: Coverage,
    /// Writes taken as their recorded result.
    pub approximate: bool,
    /// Reads found stale in it.
    pub stale: usize,
}

/// What a replay found: the as-recorded analysis and the perturbation's stale reads.
#[derive(Clone, Debug)]
pub struct ReplayReport {
    /// The trace's path as given.
    pub trace: String,
    /// The window (µs).
    pub window_us: Micros,
    /// The seed.
    pub seed: u64,
    /// The budget per component.
    pub budget: u64,
    /// The analysis of the recorded order (causes, ages, exposure).
    pub recorded: Report,
    /// Every component explored, in trace order.
    pub components: Vec<ComponentSummary>,
    /// Every read some order within the window serves stale, by seq.
    pub findings: Vec<PerturbedRead>,
    /// Things the reader should know about the perturbation.
    pub notes: Vec<String>,
    /// Parts of the trace proven clean without a search: they commit nothing and every value
    /// their reads can be served agrees with its row, so no order of theirs is stale.
    pub quiet: u64,
}

impl ReplayReport {
    /// The reads some order within the window serves stale.
    pub fn stale_reads(&self) -> &[PerturbedRead] {
        &self.findings
    }

    /// True when no read is stale, as recorded or in any order explored.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty() && self.recorded.is_clean()
    }

    /// True when every component was explored exhaustively.
    pub fn is_exhaustive(&self) -> bool {
        self.components.iter().all(|c| matches!(c.coverage, Coverage::Exhaustive { .. }))
    }

    /// Schedules evaluated over all components.
    /// Schedules evaluated over all components; a part proven clean without a search counts as
    /// one (every order of it is clean, shown without enumerating them).
    pub fn schedules(&self) -> u64 {
        self.quiet
            + self
                .components
                .iter()
                .map(|c| match c.coverage {
                    Coverage::Exhaustive { schedules } => schedules,
                    Coverage::Sampled { tried, .. } => tried,
                })
                .sum::<u64>()
    }

    /// `clean under ±5ms (exhaustive)`, `clean under ±5ms (sampled, coverage …)` or `stale`.
    pub fn verdict(&self) -> String {
        if !self.is_clean() {
            return "stale".into();
        }
        let w = format_window(self.window_us);
        if self.is_exhaustive() {
            return format!("clean under ±{w} (exhaustive)");
        }
        let (mut tried, mut about, mut n) = (0u64, 0u64, 0usize);
        for c in &self.components {
            if let Coverage::Sampled { tried: t, about: a } = c.coverage {
                tried += t;
                about = about.saturating_add(a.max(t));
                n += 1;
            }
        }
        format!(
            "clean under ±{w} (sampled, coverage {} of about {} schedules in {n} component(s))",
            thousands(tried),
            estimate(about)
        )
    }

    /// The report as one JSON document: `{"summary": {...}, "findings": [...], "recorded":
    /// [...]}` (schema in the README).
    pub fn to_json(&self) -> String {
        use serde_json::{Value, json};
        let link = |l: &Link| json!({"role": l.role, "seq": l.seq, "t_us": l.t_us, "what": l.what});
        let (mut exhaustive, mut sampled) = (0u64, Vec::new());
        for c in &self.components {
            match c.coverage {
                Coverage::Exhaustive { .. } => exhaustive += 1,
                Coverage::Sampled { tried, about } => sampled.push(json!({
                    "component": c.index, "keys": c.keys, "units": c.units,
                    "tried": tried, "about": about,
                })),
            }
        }
        let r = &self.recorded.summary;
        let summary = json!({
            "trace": self.trace,
            "window_us": self.window_us,
            "seed": self.seed,
            "budget": self.budget,
            "verdict": if self.is_clean() { "clean" } else { "stale" },
            "verdict_text": self.verdict(),
            "exhaustive": self.is_exhaustive(),
            "components": self.components.len(),
            "components_exhaustive": exhaustive,
            "components_sampled": sampled.len(),
            "components_quiet": self.quiet,
            "schedules": self.schedules(),
            "sampled": sampled,
            "stale_reads": self.findings.len(),
            "stale_as_recorded": self.findings.iter().filter(|f| f.verdict == Verdict::StaleDefinite).count(),
            "mapping": { "origin": r.mapping_origin, "rules": r.rules },
            "recorded": {
                "verdict": if self.recorded.is_clean() { "clean" } else { "stale" },
                "reads": r.reads,
                "hits": r.hits,
                "stale_definite": r.stale_definite,
                "stale_possible": r.stale_possible,
                "unverifiable": r.unverifiable,
                "exposure_total_us": r.exposure_total_us,
                "longest_exposure_us": r.longest_exposure.as_ref().map(|(_, l)| *l),
                "longest_exposure_key": r.longest_exposure.as_ref().map(|(k, _)| k.clone()),
            },
            "notes": self.notes.iter().chain(&r.notes).collect::<Vec<_>>(),
        });
        let findings: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                json!({
                    "key": f.key,
                    "node": f.node,
                    "redis_db": f.redis_db,
                    "client": f.client,
                    "seq": f.seq,
                    "t_us": f.t_us,
                    "served": f.served,
                    "db": f.db,
                    "verdict": f.verdict.name(),
                    "cause": f.cause.name(),
                    "age_us": f.age_us,
                    "chain": f.chain.iter().map(link).collect::<Vec<_>>(),
                    "schedule": f.schedule,
                    "margin_us": f.margin_us,
                    "moves": f.moves.iter().map(|m| json!({
                        "moved": m.moved, "past": m.past, "shift_us": m.shift_us, "story": m.story,
                    })).collect::<Vec<_>>(),
                    "component": f.component,
                    "approximate": f.approximate,
                })
            })
            .collect();
        let recorded: Vec<Value> = self
            .recorded
            .findings
            .iter()
            .map(|f| {
                json!({
                    "key": f.key, "node": f.node, "redis_db": f.redis_db, "client": f.client,
                    "seq": f.seq, "t_us": f.t_us, "uncertainty_us": f.uncertainty_us,
                    "served": f.served, "db": f.db, "verdict": f.verdict.name(),
                    "cause": f.cause.name(), "age_us": f.age_us,
                    "chain": f.chain.iter().map(link).collect::<Vec<_>>(),
                })
            })
            .collect();
        let doc = json!({ "summary": summary, "findings": findings, "recorded": recorded });
        let mut out = serde_json::to_string_pretty(&doc).expect("JSON values serialize");
        out.push('\n');
        out
    }
}

/// A window for people: `5ms`, `500us`, `1.5ms`, `0`.
pub fn format_window(us: Micros) -> String {
    match us {
        0 => "0".into(),
        _ if us % 1_000_000 == 0 => format!("{}s", us / 1_000_000),
        _ if us % 1_000 == 0 => format!("{}ms", us / 1_000),
        _ if us < 1_000 => format!("{us}us"),
        _ => format_duration(us),
    }
}

/// A sampled component's estimated class count for people: the explorer saturates at
/// `u64::MAX` when the estimate overflows, which is "more than 10^19", not a count.
fn estimate(n: u64) -> String {
    if n == u64::MAX { "more than 10^19".to_string() } else { thousands(n) }
}

/// `1234567` → `1,234,567` (the CLI's reports share it).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Stale reads listed per key in the as-recorded part.
const RECORDED_READS: usize = 3;
/// Keys with stale reads listed in the as-recorded part (worst first).
const RECORDED_KEYS: usize = 10;

/// Components listed one by one at most; beyond, only counts and the sampled ones.
const LIST_COMPONENTS: usize = 10;

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let w = format_window(self.window_us);
        let _ = writeln!(out, "cachetape replay --perturb {w} {}", self.trace);
        let r = &self.recorded;
        let s = &r.summary;
        let _ = writeln!(out, "mapping: {}", s.mapping_origin);
        for rule in &s.rules {
            let _ = writeln!(out, "  {rule}");
        }
        let _ = writeln!(out);
        // As recorded: the analyzer's findings, each key's exposure.
        if r.is_clean() {
            let _ = writeln!(
                out,
                "as recorded: clean — no stale read among {} hits of mapped keys",
                thousands(s.hits)
            );
        } else {
            let _ = writeln!(
                out,
                "as recorded: STALE — {} read(s) stale for certain and {} possibly, of {} hits",
                thousands(s.stale_definite),
                thousands(s.stale_possible),
                thousands(s.hits)
            );
        }
        let stale_keys: Vec<&cachetape_analyzer::KeyReport> =
            r.keys.iter().filter(|k| k.stale_definite + k.stale_possible > 0).collect();
        for k in stale_keys.iter().take(RECORDED_KEYS) {
            let longest = k.exposure.iter().map(|e| e.to_us - e.from_us).max().unwrap_or(0);
            let _ = writeln!(
                out,
                "  {} ({} db {}): {} stale for certain, {} possibly; the cache disagreed with \
                 the database for {} in all (longest {})",
                k.key,
                k.node,
                k.db,
                k.stale_definite,
                k.stale_possible,
                format_duration(k.exposed_us),
                format_duration(longest)
            );
            if k.exposure.len() > RECORDED_READS {
                let _ = writeln!(
                    out,
                    "    {} exposure intervals; the longest {}:",
                    k.exposure.len(),
                    RECORDED_READS
                );
            }
            let mut longest: Vec<_> = k.exposure.iter().collect();
            longest.sort_by_key(|e| (std::cmp::Reverse(e.to_us - e.from_us), e.from_us));
            longest.truncate(RECORDED_READS);
            longest.sort_by_key(|e| e.from_us);
            for e in longest {
                let ttl = e
                    .ttl_left_us
                    .map_or(String::new(), |t| format!(", {} TTL left", format_duration(t)));
                let _ = writeln!(
                    out,
                    "    exposure from {} for {}: cache held {}; started by {}, ended by {}{ttl}",
                    format_time(e.from_us),
                    format_duration(e.to_us - e.from_us),
                    e.cached,
                    e.started_by,
                    e.ended_by
                );
            }
            let reads: Vec<_> =
                r.findings.iter().filter(|x| x.key == k.key && x.node == k.node).collect();
            for x in reads.iter().take(RECORDED_READS) {
                let age = x.age_us.map_or_else(|| "unknown".into(), format_duration);
                let _ = writeln!(
                    out,
                    "    #{} {} {}  served {}, db {}  {} {} age {age}",
                    x.seq,
                    format_time(x.t_us),
                    x.client,
                    x.served,
                    x.db,
                    x.verdict,
                    x.cause
                );
            }
            if reads.len() > RECORDED_READS {
                let _ = writeln!(
                    out,
                    "    … and {} more (`cachetape analyze {}` lists them all)",
                    reads.len() - RECORDED_READS,
                    self.trace
                );
            }
        }
        if stale_keys.len() > RECORDED_KEYS {
            let _ = writeln!(
                out,
                "  … and {} more key(s) with stale reads (`cachetape analyze {}` lists them all)",
                stale_keys.len() - RECORDED_KEYS,
                self.trace
            );
        }
        let quiet: Vec<_> =
            r.keys.iter().filter(|k| k.stale_definite + k.stale_possible == 0).collect();
        if !quiet.is_empty() {
            let longest = quiet.iter().map(|k| k.exposed_us).max().unwrap_or(0);
            let _ = writeln!(
                out,
                "  {} other key(s) disagreed with the database for a while (at most {}) \
                 without a read seeing it",
                quiet.len(),
                format_duration(longest)
            );
        }
        let _ = writeln!(out);
        // The exploration.
        let exhaustive: Vec<&ComponentSummary> = self
            .components
            .iter()
            .filter(|c| matches!(c.coverage, Coverage::Exhaustive { .. }))
            .collect();
        let sampled: Vec<&ComponentSummary> = self
            .components
            .iter()
            .filter(|c| matches!(c.coverage, Coverage::Sampled { .. }))
            .collect();
        let _ = writeln!(
            out,
            "perturbation ±{w} (seed {}, budget {} per component): {} component(s) explored \
             ({} exhaustive, {} sampled), {} part(s) proven clean without a search; {} \
             schedule(s)",
            self.seed,
            thousands(self.budget),
            thousands(self.components.len() as u64),
            thousands(exhaustive.len() as u64),
            thousands(sampled.len() as u64),
            thousands(self.quiet),
            thousands(self.schedules())
        );
        let listed: Vec<&ComponentSummary> = if self.components.len() <= LIST_COMPONENTS {
            self.components.iter().collect()
        } else {
            sampled.clone()
        };
        for c in listed {
            let how = match c.coverage {
                Coverage::Exhaustive { schedules } => {
                    format!("exhaustive ({} schedules)", thousands(schedules))
                }
                Coverage::Sampled { tried, about } => {
                    format!("sampled {} of about {}", thousands(tried), estimate(about))
                }
            };
            let keys = if c.keys.len() <= 3 {
                c.keys.join(", ")
            } else {
                format!("{} … (+{})", c.keys[..3].join(", "), c.keys.len() - 3)
            };
            let _ = writeln!(
                out,
                "  component {} ({keys}; {} units, {} reads): {how}{}",
                c.index,
                c.units,
                c.reads,
                if c.approximate { ", approximate" } else { "" }
            );
        }
        if self.findings.is_empty() {
            let _ = writeln!(out, "verdict: {}", self.verdict());
        } else {
            let recorded = self.findings.iter().filter(|f| f.verdict == Verdict::StaleDefinite);
            let _ = writeln!(
                out,
                "verdict: STALE under ±{w} — {} read(s) served stale in some order ({} of them \
                 as recorded)",
                self.findings.len(),
                recorded.count()
            );
        }
        // Stories told: (chain, moves) → the finding number that told it.
        type Story = (Vec<Option<u64>>, Vec<String>);
        let mut told: Vec<(Story, usize)> = Vec::new();
        for (n, x) in self.findings.iter().enumerate() {
            let age = x.age_us.map_or_else(|| "unknown".into(), format_duration);
            let told_key: Story = (x.chain.iter().map(|l| l.seq).collect(), x.story.clone());
            if let Some(&(_, first)) = told.iter().find(|t| t.0 == told_key) {
                let _ = writeln!(
                    out,
                    "{}. {} read by {} (#{}): {} {}, age {age} — the same story as {}.",
                    n + 1,
                    x.key,
                    x.client,
                    x.seq,
                    x.verdict,
                    x.cause,
                    first
                );
                continue;
            }
            told.push((told_key, n + 1));
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "{}. {} read by {} (#{} at {})  {} {}",
                n + 1,
                x.key,
                x.client,
                x.seq,
                format_time(x.t_us),
                x.verdict,
                x.cause
            );
            let _ = writeln!(out, "   served {}, db {}; age {age}", x.served, x.db);
            if x.story.is_empty() {
                let _ = writeln!(out, "   as recorded: no reordering needed");
            }
            for s in &x.story {
                let _ = writeln!(out, "   {s}");
            }
            for l in &x.chain {
                let seq = l.seq.map_or_else(String::new, |s| format!("#{s}"));
                let _ = writeln!(out, "     {:<14} {seq:>7}  {}", l.role, l.what);
            }
            if x.margin_us == 0 {
                let _ = writeln!(out, "   margin: stale as recorded (at any window)");
            } else {
                let m = format_duration(x.margin_us);
                let _ = writeln!(out, "   margin: clean below {m}, stale from {m}");
            }
            let _ = writeln!(
                out,
                "   replay it: cachetape replay {} --perturb {w} --schedule {}",
                self.trace, x.schedule
            );
        }
        for n in self.notes.iter().chain(&s.notes) {
            let _ = writeln!(out, "note: {n}");
        }
        f.write_str(&out)
    }
}

/// One schedule replayed through the full analyzer.
#[derive(Clone, Debug)]
pub struct ScheduleReplay {
    /// The schedule id.
    pub id: String,
    /// Its component.
    pub component: u32,
    /// The component's keys.
    pub keys: Vec<String>,
    /// The component's units in the schedule's order, for people.
    pub steps: Vec<String>,
    /// The analysis of the reordered trace.
    pub report: Report,
}

#[cfg(test)]
mod tests {
    use super::{estimate, thousands};

    #[test]
    fn counts_read_with_thousands_and_a_saturated_estimate_is_not_a_count() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_816), "1,816");
        assert_eq!(thousands(72_933_943), "72,933,943");
        assert_eq!(estimate(12_345), "12,345");
        assert_eq!(estimate(u64::MAX), "more than 10^19");
    }
}
