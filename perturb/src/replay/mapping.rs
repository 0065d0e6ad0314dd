/*!
Which key→row mapping a trace is judged under: the file given, else the trace's name with
`.toml` beside it, else the mapping inferred from the trace itself. The one place that resolves
a mapping: [`Replay`](super::Replay) uses it, and so do the CLI's `analyze`, `replay`, `shrink`
and `map --infer`.
*/

use std::path::{Path, PathBuf};

use cachetape_analyzer::{Inference, InferredMapping, Mapping};
use cachetape_tape::{Event, ReadReport, Reader};

use super::error::ReplayError;

/// A mapping and where it came from.
#[derive(Clone, Debug)]
pub struct LoadedMapping {
    /// The rules.
    pub mapping: Mapping,
    /// Where they came from, as the reports print it: the file, or `inferred from the trace (no
    /// incident.toml)`.
    pub origin: String,
    /// When the mapping was inferred: the file beside the trace that was looked for and not
    /// found (a tool may say how to write it out).
    pub inferred_instead_of: Option<PathBuf>,
}

/// The mapping for the trace at `trace`: `explicit` when given (it must exist), else the trace's
/// name with `.toml` beside it when that exists, else inferred from the trace (one pass over it,
/// skipping damaged frames in `salvage` mode).
pub fn load_mapping(
    trace: &Path,
    explicit: Option<&Path>,
    salvage: bool,
) -> Result<LoadedMapping, ReplayError> {
    let beside = trace.with_extension("toml");
    let path = explicit.unwrap_or(&beside);
    if explicit.is_some() || path.exists() {
        return Ok(LoadedMapping {
            mapping: read_mapping(path)?,
            origin: path.display().to_string(),
            inferred_instead_of: None,
        });
    }
    let (inferred, _) = infer_mapping(trace, salvage)?;
    Ok(LoadedMapping {
        mapping: inferred.mapping,
        origin: format!("inferred from the trace (no {})", beside.display()),
        inferred_instead_of: Some(beside),
    })
}

/// The mapping in the TOML file at `path`, which must exist.
pub fn read_mapping(path: &Path) -> Result<Mapping, ReplayError> {
    if !path.exists() {
        return Err(ReplayError::MappingMissing { path: path.to_path_buf() });
    }
    let text = std::fs::read_to_string(path)
        .map_err(|source| ReplayError::MappingUnreadable { path: path.to_path_buf(), source })?;
    Mapping::parse(&text)
        .map_err(|source| ReplayError::MappingInvalid { path: path.to_path_buf(), source })
}

/// The mapping inferred from the trace at `path` (one pass over it; in `salvage` mode damaged
/// frames are skipped, as [`Reader::salvage`] does), with its evidence, and what the read left
/// out.
pub fn infer_mapping(
    path: &Path,
    salvage: bool,
) -> Result<(InferredMapping, ReadReport), ReplayError> {
    let mut reader = Reader::open(path)?.salvage(salvage);
    let mut inference = Inference::default();
    if let Some(mut event) = reader.next().transpose()? {
        loop {
            inference.push(&event);
            if !reader.next_event_into(&mut event)? {
                break;
            }
        }
    }
    Ok((inference.finish(), reader.report().clone()))
}

/// The mapping inferred from `events` (a whole trace, in order).
pub fn infer_mapping_from_events(events: &[Event]) -> InferredMapping {
    let mut inference = Inference::default();
    for event in events {
        inference.push(event);
    }
    inference.finish()
}
