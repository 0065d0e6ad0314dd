/*!
[`Replay::run`]: one pass over the trace feeds both the analyzer (the as-recorded report: causes,
ages, exposure) and the extraction of components; then every component is explored within the
window and each read some order serves stale is told in words.
*/

use crate::extract::{ExtractOptions, Extractor};
use crate::{ExploreOptions, explore_all};
use std::collections::BTreeMap;

use cachetape_analyzer::{Analysis, AnalysisOptions, Report, TimelineOptions, Verdict};

use super::Replay;
use super::error::ReplayError;
use super::report::{ComponentSummary, PerturbedRead, ReplayReport};
use super::story::perturbed_read;

impl Replay {
    /// Replays the trace as recorded and under every order within the window.
    pub fn run(&self) -> Result<ReplayReport, ReplayError> {
        let (mapping, origin) = self.resolve_mapping()?;
        let header = self.source.header()?;
        let trace = self.source.name();
        let (db_lag_us, db_lag_source) = self.resolve_db_lag()?;
        let timeline = TimelineOptions { db_lag_us };
        let options = AnalysisOptions {
            timeline,
            db_lag_source,
            mapping_origin: origin,
            min_verifiable: self.min_verifiable,
            ..AnalysisOptions::default()
        };
        let mut analysis = Analysis::new(&header, mapping.clone(), options);
        let extract_options = ExtractOptions { timeline, window_us: self.window_us };
        let mut extractor = Extractor::new(&header, mapping, extract_options);
        let analysis_error = |source| ReplayError::Analysis { trace: trace.clone(), source };
        let extraction_error = |source| ReplayError::Extraction { trace: trace.clone(), source };
        let lost = self.source.for_each_event(|event| {
            analysis.push(event).map_err(analysis_error)?;
            extractor.push(event).map_err(extraction_error)
        })?;
        let mut recorded = analysis.finish().map_err(analysis_error)?;
        if let Some(lost) = &lost {
            recorded.summary.notes.push(format!("not all of the trace file was read: {lost}"));
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
            window_us: self.window_us,
            seed: self.seed,
            budget: self.budget,
            recorded,
            components: Vec::new(),
            quiet: extraction.quiet,
            findings: Vec::new(),
            notes: extraction.notes.clone(),
            unread: lost,
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
        report.findings.sort_by(|a, b| (a.read.seq, &a.read.key).cmp(&(b.read.seq, &b.read.key)));
        as_recorded_verdicts(&report.recorded, &mut report.findings);
        Ok(report)
    }
}

/// Gives each finding the as-recorded verdict, which the analyzer alone decides (one definition
/// for `analyze` and `replay`): a read the analysis of the recorded trace flags keeps its verdict
/// there — `stale-definite` when stale for every placement of the events inside their
/// uncertainty, `stale-possible` when for some — and a read it does not flag is stale only in
/// some reordering: `stale-possible`. (The engine's own evaluation of the recorded order puts
/// every unit at a point, commits at their receipt, so it cannot tell the two apart.)
fn as_recorded_verdicts(recorded: &Report, findings: &mut [PerturbedRead]) {
    let verdicts: BTreeMap<(u64, &str), Verdict> =
        recorded.findings.iter().map(|f| ((f.seq, f.key.as_str()), f.verdict)).collect();
    for f in findings {
        f.read.verdict = verdicts
            .get(&(f.read.seq, f.read.key.as_str()))
            .copied()
            .unwrap_or(Verdict::StalePossible);
    }
}
