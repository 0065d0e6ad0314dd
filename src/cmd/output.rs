/*!
Writing an output file safely: refused when it is one of the command's inputs (writing it would
destroy what is being read), and written through a temporary file beside it that is renamed into
place only once complete, so a failure never leaves a half-written file under the name asked for.
*/

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use cachetape_tape::output::OutputFile;

/// Writes `path` with `write`, through a temporary file renamed into place ([`OutputFile`]);
/// `inputs` are the files the command reads (and other outputs), which `path` must not be.
pub fn write_output(
    path: &Path,
    what: &str,
    inputs: &[&Path],
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    refuse_input(path, what, inputs)?;
    let mut file = OutputFile::create(path).with_context(|| format!("cannot create {what}"))?;
    let mut out = BufWriter::new(&mut file);
    write(&mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {what} {}", path.display()))?;
    drop(out);
    file.commit().with_context(|| format!("cannot write {what} {}", path.display()))
}

/// An error when `path` names the same file as one of `inputs`.
fn refuse_input(path: &Path, what: &str, inputs: &[&Path]) -> anyhow::Result<()> {
    let Ok(out) = std::fs::canonicalize(path) else { return Ok(()) };
    for input in inputs {
        if std::fs::canonicalize(input).is_ok_and(|i| i == out) {
            anyhow::bail!(
                "{what} {} is also an input of this command ({}): give another file name",
                path.display(),
                input.display()
            );
        }
    }
    Ok(())
}
