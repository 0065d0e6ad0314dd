/*!
The tests a shrink keeps a candidate by: the as-recorded analysis of the candidate still has the
target ([`analysis_test`]), or the perturbation search on it still finds the target
([`perturbation_test`], each candidate replayed from memory with [`Replay::from_events`]). A
candidate the analysis refuses (a mapping rule whose table no longer appears) fails.
*/

use std::time::Duration;

use cachetape_analyzer::{Analysis, AnalysisError, AnalysisOptions, Mapping, Report};
use cachetape_tape::{Event, Header};

use super::target::Target;
use crate::replay::Replay;

/// Runs the analysis on `events` in process.
pub fn analyze_events(
    header: &Header,
    mapping: &Mapping,
    options: &AnalysisOptions,
    events: &[Event],
) -> Result<Report, AnalysisError> {
    let mut analysis = Analysis::new(header, mapping.clone(), options.clone());
    analysis.push_all(events)?;
    analysis.finish()
}

/// The as-recorded test: the analysis of the candidate still has the target.
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

/// How the perturbation search runs on each candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perturbation {
    /// The window W.
    pub window: Duration,
    /// The seed of the sampling.
    pub seed: u64,
    /// The as-recorded analysis' `--db-lag`.
    pub db_lag: Duration,
}

impl Perturbation {
    /// `replay` set to search under this perturbation (its budget and jobs left as they are).
    pub fn configure(self, replay: Replay) -> Replay {
        replay.perturb(self.window).seed(self.seed).db_lag(self.db_lag)
    }
}

/// The perturbation test: the search on the candidate, with the same window and seed, still
/// finds the target.
pub fn perturbation_test<'a>(
    header: &'a Header,
    mapping: &'a Mapping,
    perturbation: Perturbation,
    target: &'a Target,
) -> impl FnMut(&[Event]) -> bool + 'a {
    move |events| {
        let replay = Replay::from_events(header.clone(), events.to_vec())
            .mapping(mapping.clone(), "the mapping being shrunk under");
        perturbation
            .configure(replay)
            .run()
            .is_ok_and(|r| r.stale_reads().iter().any(|f| target.matches(&f.read)))
    }
}
