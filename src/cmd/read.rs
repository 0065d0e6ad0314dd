/*!
What the commands share about reading a trace and writing beside it: the inputs no output may
overwrite, and the stderr line that says what a read left out.
*/

use std::path::{Path, PathBuf};

use cachetape_tape::ReadReport;
use cachetape_tape::output::{Input, refuse_inputs};

/// Fails when `output` (given as `flag`) is the trace or the mapping file read with it.
pub fn refuse_trace_and_mapping(
    flag: &str,
    output: &Path,
    trace: &Path,
    mapping: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let mut inputs = vec![Input::new("the trace", trace)];
    if let Some(m) = mapping {
        inputs.push(Input::new("the mapping", m));
    }
    Ok(refuse_inputs(flag, output, &inputs)?)
}

/// Says on stderr what reading the trace at `path` left out (a cut, skipped damage, a second
/// trace, bytes after the footer); nothing when the whole file was read.
pub fn warn_incomplete(path: &Path, report: &ReadReport) {
    if !report.is_complete() {
        eprintln!("warning: {}: {report}", path.display());
    }
}
