/*!
The mapping `analyze`, `replay` and `shrink` judge a trace under: `--map FILE`, else the trace's
name with `.toml` beside it, else inferred from the trace — resolved by the library's one loader
([`cachetape::replay::load_mapping`]); stderr says when the mapping was inferred and how to write
it out for review.
*/

use std::path::Path;

use cachetape::analyzer::Mapping;
use cachetape::replay::{LoadedMapping, load_mapping as resolve};

/// The mapping to use and where it came from.
pub fn load_mapping(trace: &Path, explicit: Option<&Path>) -> anyhow::Result<(Mapping, String)> {
    let LoadedMapping { mapping, origin, inferred_instead_of } = resolve(trace, explicit)?;
    if let Some(beside) = inferred_instead_of {
        eprintln!(
            "note: no mapping file {}: using the mapping inferred from the trace ({} rule(s)); \
             `cachetape map --infer {} > {}` writes it out to review and edit",
            beside.display(),
            mapping.rules.len(),
            trace.display(),
            beside.display()
        );
    }
    Ok((mapping, origin))
}
