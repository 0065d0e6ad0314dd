/*!
The regression API: replay a trace under perturbation and ask whether any read can be served
stale — what `cachetape replay --perturb W TRACE` finds, as plain data a test can assert on.

```
use std::time::Duration;

use cachetape_analyzer::Cause;

// The shipped incident: a stale set poisons order:42 with CANCELLED after the DB says PAID.
let report = cachetape_perturb::Replay::open("../traces/incident.bin")?
    .perturb(Duration::from_millis(5))
    .seed(1)
    .run()?;
assert!(!report.is_clean());
let incident = report.stale_reads().iter().find(|r| r.read.key == "order:42").expect("found");
assert_eq!(incident.read.cause, Cause::StaleSet);
for r in report.stale_reads() {
    println!("{} read by {}: {} ({})", r.read.key, r.read.client, r.read.cause, r.story.join("; "));
}

// The shipped clean trace stays clean under every order within ±5 ms.
let clean = cachetape_perturb::Replay::open("../traces/clean.bin")?
    .perturb(Duration::from_millis(5))
    .run()?;
assert!(clean.is_clean(), "{}", clean.verdict_text());
# Ok::<(), cachetape_perturb::ReplayError>(())
```

[`Replay::run`] makes one pass over the trace: the analyzer judges every read as recorded
([`Report`](cachetape_analyzer::Report): causes, ages, exposure) while the perturbation's
extraction cuts the same events into independent components; then every component's schedules
within the window are explored and each read some schedule serves stale becomes a
[`PerturbedRead`] with its story: the fewest inversions of the recorded order that make it
stale, the schedule id that replays it ([`Replay::replay_schedule`]) and its margin. The report
is a pure function of the trace, the mapping, the window, the seed and the budget: the number of
jobs changes nothing but the time it takes. A trace is a file ([`Replay::open`]) or events
already in memory ([`Replay::from_events`]).

- `mod.rs`: the builder; `run.rs`: the as-recorded pass and the exploration; `story.rs`: a
  finding told in words; `schedule.rs`: one schedule replayed through the full analyzer;
  `report.rs`: the report as plain data; `mapping.rs`: which mapping a trace is judged under;
  `source.rs`: where the events come from; `figures.rs`: figures for people; `error.rs`.
*/

mod error;
mod figures;
mod mapping;
mod report;
mod run;
mod schedule;
mod source;
mod story;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cachetape_analyzer::{DbLagSource, HeartbeatLag, Mapping};
use cachetape_tape::{Event, Header, Micros, Reader};

pub use error::ReplayError;
pub use figures::{estimate, format_window, thousands};
pub use mapping::{LoadedMapping, infer_mapping, load_mapping, read_mapping};
pub use report::{ComponentSummary, MoveStory, PerturbedRead, ReplayReport};
pub use schedule::ScheduleReplay;

use source::TraceSource;

/// Schedules explored per component at most by default; beyond, sampling.
pub const DEFAULT_BUDGET: u64 = 20_000;

/// Called with (components done, components) as the exploration goes.
type Progress = Box<dyn Fn(usize, usize) + Sync + Send>;

/// A replay to run: a trace, its mapping, the window and how to search. Build it with the
/// methods below, then [`Replay::run`].
pub struct Replay {
    source: TraceSource,
    map: Option<PathBuf>,
    mapping: Option<(Mapping, String)>,
    window_us: Micros,
    seed: u64,
    budget: u64,
    jobs: usize,
    /// Given with [`Replay::db_lag`]; else measured by the trace's heartbeats, else the default.
    db_lag_us: Option<Micros>,
    min_verifiable: f64,
    progress: Option<Progress>,
}

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replay")
            .field("trace", &self.source.name())
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
        Ok(Replay::of(TraceSource::File { path: trace, salvage: false }))
    }

    /// A replay of a trace already in memory: its header and its events, in trace order. The
    /// defaults are [`Replay::open`]'s; without a mapping given, it is inferred from the events.
    pub fn from_events(header: Header, events: Vec<Event>) -> Replay {
        Replay::of(TraceSource::Events { header, events })
    }

    fn of(source: TraceSource) -> Replay {
        Replay {
            source,
            map: None,
            mapping: None,
            window_us: 0,
            seed: 1,
            budget: DEFAULT_BUDGET,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            db_lag_us: None,
            min_verifiable: cachetape_analyzer::DEFAULT_MIN_VERIFIABLE,
            progress: None,
        }
    }

    /// In salvage mode a trace file's damaged frames are skipped instead of failing the replay,
    /// and a second trace after its footer is left unread; the report's notes say what was
    /// skipped. No effect on a trace in memory.
    pub fn salvage(mut self, yes: bool) -> Replay {
        if let TraceSource::File { salvage, .. } = &mut self.source {
            *salvage = yes;
        }
        self
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
    /// as-recorded analysis' `--db-lag`). Without it, the worst lag the trace's heartbeats
    /// measured (`record --heartbeat`), else 5 ms.
    pub fn db_lag(mut self, lag: Duration) -> Replay {
        self.db_lag_us = Some(Micros::try_from(lag.as_micros()).unwrap_or(Micros::MAX));
        self
    }

    /// The least share of hits of mapped keys whose value must be decoded and compared for the
    /// trace to be called clean (`--min-verifiable`; 0.9 by default): below it, or when
    /// nothing was judged, a replay that finds no stale read is `inconclusive`.
    pub fn min_verifiable(mut self, share: f64) -> Replay {
        self.min_verifiable = share;
        self
    }

    /// Called with (components done, components) as the exploration goes.
    pub fn progress(mut self, f: impl Fn(usize, usize) + Sync + Send + 'static) -> Replay {
        self.progress = Some(Box::new(f));
        self
    }

    /// The mapping to judge under and where it came from: the one given, else the file given,
    /// else the trace's own (its `.toml` beside it, or inferred).
    fn resolve_mapping(&self) -> Result<(Mapping, String), ReplayError> {
        if let Some(given) = &self.mapping {
            return Ok(given.clone());
        }
        if let Some(path) = &self.map {
            return Ok((read_mapping(path)?, path.display().to_string()));
        }
        let loaded = self.source.default_mapping()?;
        Ok((loaded.mapping, loaded.origin))
    }

    /// The database lag and where it comes from: given, else measured by the trace's heartbeats
    /// (a pass over the events, only when the trace has a live-recorded database), else the
    /// default.
    fn resolve_db_lag(&self) -> Result<(Micros, DbLagSource), ReplayError> {
        let mut measured = HeartbeatLag::default();
        if self.db_lag_us.is_none() && HeartbeatLag::may_have_heartbeats(&self.source.header()?) {
            self.source.for_each_event(|e| {
                measured.push(e);
                Ok(())
            })?;
        }
        Ok(measured.resolve(self.db_lag_us))
    }
}
