/*!
Output files that never destroy an input or leave half a file behind.

Every file cachetape writes (traces, mappings, report pages) goes through here:

- [`refuse_inputs`] refuses an output that is one of the command's inputs: the same path, a path
  that links to it (a symbolic link, either way round) or another name of it (a hard link: the
  same device and inode). Writing it would replace the input before (or while) it is read.
- [`OutputFile::create`] writes into a temporary file beside the output (same directory, so the
  rename cannot cross file systems) and [`OutputFile::commit`] renames it into place: a failure
  at any point leaves the old output as it was, and the temporary file is removed on drop. An
  output that is a symbolic link is written through: the file it points to is replaced, the link
  kept. A replaced file's permissions are kept.
- [`OutputFile::partial`] is for a recording that streams for minutes: it is written as
  `OUT.partial` (a name people can find), renamed to `OUT` when it is closed, and **kept** when
  the recorder stops without closing it (a crash, `kill -9`, a write error): it is a trace that
  ends early, which `info` and `cat` read up to its last complete frame.
*/

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, Result};

/// Symbolic links followed at most when resolving a path that does not exist yet.
const MAX_LINKS: usize = 40;

/// One input of a command, named as its flag names it (`--monitor`, `the trace`).
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// What the input is, for the message: `the trace`, `--map`, `--monitor`.
    pub role: &'a str,
    /// Its path as given.
    pub path: &'a Path,
}

impl<'a> Input<'a> {
    /// An input named `role`.
    pub fn new(role: &'a str, path: &'a Path) -> Input<'a> {
        Input { role, path }
    }
}

/// Fails with [`Error::OutputIsInput`] when `output` (given as `flag`) is one of `inputs`: the
/// same file by device and inode (hard links, symbolic links to it), or the same path once
/// symbolic links and `..` are resolved (an output that does not exist yet).
pub fn refuse_inputs(flag: &str, output: &Path, inputs: &[Input<'_>]) -> Result<()> {
    let out_id = identity(output);
    let out_path = resolve(output);
    for input in inputs {
        let same_file = out_id.is_some() && out_id == identity(input.path);
        let same_path = out_path.is_some() && out_path == resolve(input.path);
        if same_file || same_path {
            let how = if output == input.path {
                ""
            } else if is_link(output) || is_link(input.path) {
                " (the same file, through a symbolic link)"
            } else if same_path {
                " (the same path)"
            } else {
                " (the same file, through a hard link)"
            };
            return Err(Error::OutputIsInput {
                flag: flag.to_string(),
                output: output.display().to_string(),
                role: input.role.to_string(),
                input: input.path.display().to_string(),
                how,
            });
        }
    }
    Ok(())
}

/// True when `path` itself is a symbolic link.
fn is_link(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Device and inode of the file `path` names (links followed); `None` when there is none.
fn identity(path: &Path) -> Option<(u64, u64)> {
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// `path` with every symbolic link, `.` and `..` resolved, also when its last component does not
/// exist yet (a dangling link is followed to where it points); `None` when its directory does not
/// exist.
fn resolve(path: &Path) -> Option<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        if let Ok(real) = fs::canonicalize(&path) {
            return Some(real);
        }
        match fs::read_link(&path) {
            // A dangling link: follow it by hand.
            Ok(target) => path = parent_dir(&path).join(target),
            Err(_) => {
                let name = path.file_name()?.to_owned();
                return fs::canonicalize(parent_dir(&path)).ok().map(|dir| dir.join(name));
            }
        }
    }
    None
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Distinguishes the temporary files of one process.
static TEMP_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A file being written beside its final path and renamed into place by [`OutputFile::commit`].
#[derive(Debug)]
pub struct OutputFile {
    /// The path as given, for messages.
    shown: String,
    /// Where it goes: the path, or the file a symbolic link there points to.
    target: PathBuf,
    /// The file being written.
    temp: PathBuf,
    file: Option<File>,
    /// Kept on drop without commit ([`OutputFile::partial`]).
    keep: bool,
}

impl OutputFile {
    /// Starts writing `path`: into a new temporary file beside it, which [`OutputFile::commit`]
    /// renames to `path` and dropping removes.
    pub fn create(path: impl AsRef<Path>) -> Result<OutputFile> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let target = write_target(path);
        let dir = parent_dir(&target);
        let name = target.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy());
        loop {
            let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let temp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(file) => {
                    let out = OutputFile { shown, target, temp, file: Some(file), keep: false };
                    out.keep_permissions()?;
                    return Ok(out);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(Error::io(
                        "create a temporary file in the directory of",
                        &shown,
                        e,
                    ));
                }
            }
        }
    }

    /// Starts writing `path` as [`OutputFile::partial_path`]`(path)`, which
    /// [`OutputFile::commit`] renames to `path` and which is kept when dropped without a commit
    /// (a trace that ends early, readable). Fails with [`Error::PartialExists`] when that file is
    /// already there (an earlier recording's: never overwritten).
    pub fn partial(path: impl AsRef<Path>) -> Result<OutputFile> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let target = write_target(path);
        let temp = OutputFile::partial_path(&target);
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => {
                let out = OutputFile { shown, target, temp, file: Some(file), keep: true };
                out.keep_permissions()?;
                Ok(out)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Err(Error::PartialExists { path: temp.display().to_string() })
            }
            Err(e) => Err(Error::io("create", &temp.display().to_string(), e)),
        }
    }

    /// Where [`OutputFile::partial`] writes `path`: `path` with `.partial` added.
    pub fn partial_path(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".partial");
        PathBuf::from(name)
    }

    /// The path as given.
    pub fn path(&self) -> &str {
        &self.shown
    }

    /// The file being written (renamed into place at the commit).
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// A replaced file keeps its permissions (a trace made private stays private).
    fn keep_permissions(&self) -> Result<()> {
        if let (Ok(old), Some(file)) = (fs::metadata(&self.target), &self.file)
            && old.is_file()
        {
            file.set_permissions(old.permissions()).map_err(|e| {
                Error::io("set the permissions of", &self.temp.display().to_string(), e)
            })?;
        }
        Ok(())
    }

    /// Flushes the file to disk and renames it into place.
    pub fn commit(mut self) -> Result<()> {
        let file = self.file.take().expect("the file is open until commit");
        let temp = self.temp.display().to_string();
        file.sync_all().map_err(|e| Error::io("write", &temp, e))?;
        drop(file);
        fs::rename(&self.temp, &self.target)
            .map_err(|e| Error::io("move the finished file into place as", &self.shown, e))?;
        self.keep = true; // nothing left to remove
        Ok(())
    }

    /// Removes the file written so far (also a partial one).
    pub fn discard(mut self) {
        self.keep = false;
    }
}

/// Where writing `path` puts the file: `path`, or the file a symbolic link there points to (the
/// link is kept).
fn write_target(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => resolve(path).unwrap_or_else(|| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("the file is open until commit").write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("the file is open until commit").flush()
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        self.file = None;
        if !self.keep {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Writes `bytes` to `path` through an [`OutputFile`]: all of it, or (on any error) nothing, the
/// old file left as it was.
pub fn write_file(path: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> Result<()> {
    let mut out = OutputFile::create(path)?;
    let shown = out.path().to_string();
    out.write_all(bytes.as_ref()).map_err(|e| Error::io("write", &shown, e))?;
    out.commit()
}
