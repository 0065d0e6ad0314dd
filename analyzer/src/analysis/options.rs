/*!
How to analyze ([`AnalysisOptions`]) and how an analysis fails ([`AnalysisError`]).
*/

use cachetape_tape::Micros;

use crate::lag::DbLagSource;
use crate::mapping::MappingError;
use crate::timeline::TimelineOptions;

/// How to analyze.
#[derive(Clone, Debug)]
pub struct AnalysisOptions {
    /// Placement of events on the timeline.
    pub timeline: TimelineOptions,
    /// Age limits for the "fresh within" figures (µs).
    pub ages_us: Vec<Micros>,
    /// How far out of time order events may arrive in the trace (µs).
    pub reorder_slack_us: Micros,
    /// Where the mapping came from, for the report.
    pub mapping_origin: String,
    /// Keys whose whole timeline the report should carry (for the HTML page).
    pub detail_keys: Vec<String>,
    /// The least share of hits of mapped keys whose value must be decoded and compared with
    /// the mapping for the trace to be called clean (`--min-verifiable`); below it, or when
    /// nothing was judged, the verdict is `inconclusive`.
    pub min_verifiable: f64,
    /// Keep a record of every judged read ([`ReadLog`](super::ReadLog), from
    /// [`Analysis::finish_with_reads`](super::Analysis::finish_with_reads)): about 100 bytes per
    /// hit while the analysis runs.
    pub log_reads: bool,
    /// Where `timeline.db_lag_us` comes from, for the report.
    pub db_lag_source: DbLagSource,
}

/// The default of [`AnalysisOptions::min_verifiable`]: 90%.
pub const DEFAULT_MIN_VERIFIABLE: f64 = 0.9;

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            timeline: TimelineOptions::default(),
            ages_us: vec![0, 10_000, 1_000_000, 300_000_000],
            reorder_slack_us: 1_000_000,
            mapping_origin: String::new(),
            detail_keys: Vec::new(),
            min_verifiable: DEFAULT_MIN_VERIFIABLE,
            log_reads: false,
            db_lag_source: DbLagSource::Assumed,
        }
    }
}

/// An analysis failed.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// The mapping does not fit the trace.
    #[error(transparent)]
    Mapping(#[from] MappingError),
}
