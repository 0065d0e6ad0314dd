/*!
What a replay found, as plain data: the as-recorded analysis, how each component was explored,
and every read some order within the window serves stale, with its story. Rendering (text, JSON,
HTML) is the `cachetape` binary's.
*/

use crate::Coverage;
use cachetape_analyzer::{Report, StaleRead, TraceVerdict};
use cachetape_tape::Micros;

use super::figures::{estimate, format_window, thousands};

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
    /// The stale read in that order, as the analyzer reports one: the key, the client, what was
    /// served and what the database held, the cause, the age and the chain behind it. Its
    /// `verdict` is the as-recorded one, which `analyze` decides: the analyzer's verdict of the
    /// recorded trace when it flags the read (`stale-definite`: stale for every placement of the
    /// events inside their uncertainty; `stale-possible`: for some), else `stale-possible` (only
    /// a reordering makes it stale); its `t_us` is when it was recorded, and its
    /// `uncertainty_us` is 0 (a schedule places every unit at a point).
    pub read: StaleRead,
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
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayReport {
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
    /// What reading the trace file left out (a cut, frames skipped in salvage mode, a second
    /// trace after the footer), in words; also among the as-recorded notes. `None` when the
    /// whole file was read.
    pub unread: Option<String>,
}

impl ReplayReport {
    /// The reads some order within the window serves stale.
    pub fn stale_reads(&self) -> &[PerturbedRead] {
        &self.findings
    }

    /// The reads stale as recorded for certain (`stale-definite`): the as-recorded analysis'
    /// count, the same as `analyze`'s. A finding of the search carries that verdict exactly when
    /// it is one of them.
    pub fn stale_as_recorded(&self) -> usize {
        self.recorded.summary.stale_definite as usize
    }

    /// The reads stale as recorded for some placement of the events (`stale-possible`), as
    /// `analyze` counts them.
    pub fn possibly_stale_as_recorded(&self) -> usize {
        self.recorded.summary.stale_possible as usize
    }

    /// The verdict: `stale` when some read is stale, as recorded or in some order explored;
    /// else `inconclusive` when the as-recorded analysis could not judge enough of the trace
    /// to call it clean (its [`Summary::inconclusive`](cachetape_analyzer::Summary) says why);
    /// else `clean`.
    pub fn verdict(&self) -> TraceVerdict {
        if !self.findings.is_empty() || self.recorded.has_stale() {
            TraceVerdict::Stale
        } else {
            self.recorded.verdict()
        }
    }

    /// True when the verdict is `clean`: no read is stale, as recorded or in any order
    /// explored, and enough of the trace was judged to say so.
    pub fn is_clean(&self) -> bool {
        self.verdict() == TraceVerdict::Clean
    }

    /// True when every component was explored exhaustively.
    pub fn is_exhaustive(&self) -> bool {
        self.components.iter().all(|c| matches!(c.coverage, Coverage::Exhaustive { .. }))
    }

    /// Components explored exhaustively, and those sampled.
    pub fn by_coverage(&self) -> (Vec<&ComponentSummary>, Vec<&ComponentSummary>) {
        self.components.iter().partition(|c| matches!(c.coverage, Coverage::Exhaustive { .. }))
    }

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

    /// `clean under ±5ms (exhaustive)`, `clean under ±5ms (sampled, coverage …)`,
    /// `inconclusive: …` (the first reason) or `stale`.
    pub fn verdict_text(&self) -> String {
        match self.verdict() {
            TraceVerdict::Stale => return "stale".into(),
            TraceVerdict::Inconclusive => {
                let why = self.recorded.summary.inconclusive.first().map_or("", String::as_str);
                return format!("inconclusive: {why}");
            }
            TraceVerdict::Clean => {}
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
}
