/*!
`cachetape map --infer TRACE`: the mapping the library infers from the trace (one pass,
[`cachetape::replay::infer_mapping`]) as TOML, each rule preceded by its evidence; the key
families it could not map (no table's rows match, or no decoder reads their values) are named on
stderr too. `-o FILE` never overwrites the trace and goes into place only when whole;
`--salvage` infers from what is recoverable of a damaged trace.
*/

use std::process::ExitCode;

use cachetape::replay::infer_mapping;
use cachetape_tape::output::write_file;

use super::read::{refuse_trace_and_mapping, warn_incomplete};
use crate::cli::MapArgs;

/// Unmapped key families named on stderr.
const UNMAPPED_SHOWN: usize = 10;

pub fn run(args: MapArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.output {
        refuse_trace_and_mapping("-o", path, &args.trace, None)?;
    }
    let (inferred, read) = infer_mapping(&args.trace, args.salvage)?;
    warn_incomplete(&args.trace, &read);
    let name = args
        .trace
        .file_name()
        .map_or_else(|| args.trace.display().to_string(), |n| n.to_string_lossy().into_owned());
    let mut text = inferred.to_toml(&name);
    if !read.is_complete() {
        text = format!("# inferred from part of {name}: {read}\n{text}");
    }
    match &args.output {
        Some(path) => write_file(path, text)?,
        None => print!("{text}"),
    }
    // Written key families no rule maps (the output lists them all as comments).
    for u in inferred.unmapped.iter().take(UNMAPPED_SHOWN) {
        eprintln!("note: not mapped: {u}");
    }
    if let Some(more) = inferred.unmapped.len().checked_sub(UNMAPPED_SHOWN).filter(|&n| n > 0) {
        eprintln!("note: … and {more} more key families not mapped (see the output's comments)");
    }
    if inferred.mapping.rules.is_empty() {
        eprintln!(
            "note: no key family of the trace matches a table's rows; write the mapping by hand \
             (see README, \"Mappings\")"
        );
    }
    Ok(ExitCode::SUCCESS)
}
