/*!
Why a replay failed, worded for the person at the terminal: what failed, on which input, and
what to do. Each variant keeps the error it came from as its source, so `{:#}` (or anyhow's
chain) prints the whole story.
*/

use std::path::PathBuf;

use crate::extract::ExtractError;
use cachetape_analyzer::{AnalysisError, MappingError};
use cachetape_tape::Micros;

use super::figures::format_window;

/// A replay failed: what, on which input, and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The trace cannot be read.
    #[error(transparent)]
    Trace(#[from] cachetape_tape::Error),
    /// The mapping file given does not exist.
    #[error("the mapping {} does not exist", path.display())]
    MappingMissing {
        /// The file.
        path: PathBuf,
    },
    /// The mapping file cannot be read.
    #[error("cannot read the mapping {}", path.display())]
    MappingUnreadable {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The mapping file is not a valid mapping.
    #[error("in the mapping {}", path.display())]
    MappingInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong in it.
        #[source]
        source: MappingError,
    },
    /// The as-recorded analysis refused the trace (the mapping does not fit it).
    #[error("analyzing {trace}")]
    Analysis {
        /// The trace, as given.
        trace: String,
        /// Why.
        #[source]
        source: AnalysisError,
    },
    /// Cutting the trace into components refused it (the mapping does not fit it).
    #[error("analyzing {trace}")]
    Extraction {
        /// The trace, as given.
        trace: String,
        /// Why.
        #[source]
        source: ExtractError,
    },
    /// A schedule id does not parse.
    #[error("{reason} (schedule ids come from `cachetape replay --perturb W TRACE`)")]
    ScheduleId {
        /// What is wrong with it.
        reason: String,
    },
    /// A schedule id names a component the trace does not have.
    #[error(
        "schedule {id} names component {component}, but this trace has {components} under this \
         mapping and window: was it made from another trace, mapping or --perturb?"
    )]
    NoSuchComponent {
        /// The id.
        id: String,
        /// The component it names.
        component: u32,
        /// The components the trace has.
        components: usize,
    },
    /// A schedule id names a unit twice or one the component does not have.
    #[error(
        "schedule {id} is not an order of component {component}'s {units} units: was it made \
         from another trace, mapping or --perturb?"
    )]
    NotAnOrder {
        /// The id.
        id: String,
        /// Its component.
        component: u32,
        /// The component's units.
        units: usize,
    },
    /// A schedule id orders fewer units than its component has.
    #[error("schedule {id} orders {ordered} units, component {component} has {units}")]
    WrongLength {
        /// The id.
        id: String,
        /// Its component.
        component: u32,
        /// The units it orders.
        ordered: usize,
        /// The component's units.
        units: usize,
    },
    /// A schedule breaks a constraint of the window (or of causality).
    #[error(
        "schedule {id} is not an order the trace could have taken under ±{}: {why}; pass the \
         --perturb window it was found with",
        format_window(*window_us)
    )]
    NotAllowed {
        /// The id.
        id: String,
        /// The window replayed under (µs).
        window_us: Micros,
        /// The constraint it breaks.
        why: String,
    },
}
