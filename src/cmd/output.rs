/*!
Writing an output file safely: refused when it is one of the command's inputs (writing it would
destroy what is being read), and written through a temporary file beside it that is renamed into
place only once complete, so a failure never leaves a half-written file under the name asked for.
*/

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Writes `path` with `write`, through a temporary file renamed into place; `inputs` are the
/// files the command reads (and other outputs), which `path` must not be.
pub fn write_output(
    path: &Path,
    what: &str,
    inputs: &[&Path],
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    refuse_input(path, what, inputs)?;
    let tmp = temp_beside(path);
    let result = (|| -> anyhow::Result<()> {
        let file = File::create_new(&tmp)
            .with_context(|| format!("cannot create {} (for {what})", tmp.display()))?;
        let mut out = BufWriter::new(file);
        write(&mut out).with_context(|| format!("cannot write {what} {}", path.display()))?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all().with_context(|| format!("cannot write {what} {}", path.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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

/// `dir/.name.tmp-PID`: a name beside `path` no other cachetape process uses.
fn temp_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
