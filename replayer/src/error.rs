/*!
Errors of the replayer's file-level API.
*/

/// Why a replay could not run to the end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The trace could not be read (the tape crate's error names the file and offset).
    #[error("cannot replay: {0}")]
    Trace(#[from] cachetape_tape::Error),
}
