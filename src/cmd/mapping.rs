/*!
The mapping `analyze`, `replay` and `shrink` judge a trace under: `--map FILE`, else the trace's
name with `.toml` beside it, else inferred from the trace — resolved by the library's one loader
([`cachetape::replay::load_mapping`]); stderr says when the mapping was inferred (and which decoders its
rules read values with) and how to write it out for review.
*/

use std::path::{Path, PathBuf};

use cachetape::analyzer::Mapping;
use cachetape::analyzer::decode::Codec;
use cachetape::replay::{LoadedMapping, load_mapping as resolve};

/// The mapping to use and where it came from; inferring it reads the trace, skipping damaged
/// frames in `salvage` mode.
pub fn load_mapping(
    trace: &Path,
    explicit: Option<&Path>,
    salvage: bool,
) -> anyhow::Result<(Mapping, String)> {
    let LoadedMapping { mapping, origin, inferred_instead_of } = resolve(trace, explicit, salvage)?;
    if let Some(beside) = inferred_instead_of {
        eprintln!(
            "note: no mapping file {}: using the mapping inferred from the trace ({} rule(s){}); \
             `cachetape map --infer {} > {}` writes it out to review and edit",
            beside.display(),
            mapping.rules.len(),
            decoders(&mapping),
            trace.display(),
            beside.display()
        );
    }
    Ok((mapping, origin))
}

/// The mapping file [`load_mapping`] will read, if any: `explicit`, else the trace's `.toml`
/// beside it when that exists (an input no output may overwrite).
pub fn mapping_file(trace: &Path, explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(path) => Some(path.to_path_buf()),
        None => Some(trace.with_extension("toml")).filter(|p| p.exists()),
    }
}

/// `, decoding pickle, keyv` when inferred rules read their values through decoders.
fn decoders(mapping: &Mapping) -> String {
    let mut names: Vec<&str> =
        mapping.rules.iter().filter(|r| r.decode != Codec::Auto).map(|r| r.decode.name()).collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() { String::new() } else { format!(", decoding {}", names.join(", ")) }
}
