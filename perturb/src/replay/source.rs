/*!
Where a replay's events come from: a trace file, read lazily each time it is needed, or a trace
already in memory (a header and its events, as `shrink` holds its candidates).
*/

use std::borrow::Cow;
use std::path::PathBuf;

use cachetape_analyzer::InferredMapping;
use cachetape_tape::{Event, Header, Reader};

use super::error::ReplayError;
use super::mapping::{LoadedMapping, infer_mapping_from_events, load_mapping};

/// A trace to replay.
#[derive(Debug)]
pub(crate) enum TraceSource {
    /// A trace file; in salvage mode its damaged frames are skipped (and reported) and a second
    /// trace after its footer is left unread (and reported).
    File {
        /// The file.
        path: PathBuf,
        /// Skip what is damaged instead of failing.
        salvage: bool,
    },
    /// A header and its events, in trace order.
    Events {
        /// The trace's header (its sources name the nodes and databases).
        header: Header,
        /// The events.
        events: Vec<Event>,
    },
}

impl TraceSource {
    /// The name errors use: the file's path, or `the events`.
    pub(crate) fn name(&self) -> String {
        match self {
            TraceSource::File { path, .. } => path.display().to_string(),
            TraceSource::Events { .. } => "the events".to_string(),
        }
    }

    /// The trace's header.
    pub(crate) fn header(&self) -> Result<Header, ReplayError> {
        match self {
            TraceSource::File { path, .. } => Ok(Reader::open(path)?.header().clone()),
            TraceSource::Events { header, .. } => Ok(header.clone()),
        }
    }

    /// Calls `each` with every event in order. Returns what a damaged file lost, in words
    /// (`None` when the whole trace was read).
    pub(crate) fn for_each_event(
        &self,
        mut each: impl FnMut(&Event) -> Result<(), ReplayError>,
    ) -> Result<Option<String>, ReplayError> {
        match self {
            TraceSource::File { path, salvage } => {
                let mut reader = Reader::open(path)?.salvage(*salvage);
                for event in reader.by_ref() {
                    each(&event?)?;
                }
                let lost = reader.report();
                Ok((!lost.is_complete()).then(|| lost.to_string()))
            }
            TraceSource::Events { events, .. } => {
                events.iter().try_for_each(each)?;
                Ok(None)
            }
        }
    }

    /// Every event, in order.
    pub(crate) fn events(&self) -> Result<Cow<'_, [Event]>, ReplayError> {
        match self {
            TraceSource::File { path, salvage } => {
                let mut events = Vec::new();
                for event in Reader::open(path)?.salvage(*salvage) {
                    events.push(event?);
                }
                Ok(Cow::Owned(events))
            }
            TraceSource::Events { events, .. } => Ok(Cow::Borrowed(events)),
        }
    }

    /// The mapping to use when none was given: the file's `.toml` beside it, else inferred.
    pub(crate) fn default_mapping(&self) -> Result<LoadedMapping, ReplayError> {
        match self {
            TraceSource::File { path, salvage } => load_mapping(path, None, *salvage),
            TraceSource::Events { events, .. } => {
                let InferredMapping { mapping, .. } = infer_mapping_from_events(events);
                Ok(LoadedMapping {
                    mapping,
                    origin: "inferred from the events".to_string(),
                    inferred_instead_of: None,
                })
            }
        }
    }
}
