/*!
`cachetape map --infer TRACE`: streams the trace through the analyzer's [`Inference`] and prints
the proposed mapping as TOML, each rule preceded by its evidence.
*/

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use cachetape_analyzer::{Inference, InferredMapping};
use cachetape_tape::Reader;

use crate::cli::MapArgs;

pub fn run(args: MapArgs) -> anyhow::Result<ExitCode> {
    let inferred = infer(&args.trace)?;
    let name = args
        .trace
        .file_name()
        .map_or_else(|| args.trace.display().to_string(), |n| n.to_string_lossy().into_owned());
    let text = inferred.to_toml(&name);
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    if inferred.mapping.rules.is_empty() {
        eprintln!(
            "note: no key family of the trace matches a table's rows; write the mapping by hand \
             (see README, \"Mappings\")"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The mapping inferred from the trace at `path` (one pass over it).
pub fn infer(path: &Path) -> anyhow::Result<InferredMapping> {
    let mut reader = Reader::open(path)?;
    let mut inference = Inference::default();
    let Some(mut event) = reader.next().transpose()? else { return Ok(inference.finish()) };
    loop {
        inference.push(&event);
        if !reader.next_event_into(&mut event)? {
            break;
        }
    }
    Ok(inference.finish())
}
