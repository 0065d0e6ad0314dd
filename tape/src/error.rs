/*!
Errors of reading and writing traces, worded for the person at the terminal: what failed, on
which file and where in it, and what to do next.
*/

use std::io;

/// Something went wrong reading or writing a trace.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused a read or write.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done (`open`, `read`, `write`, `create`).
        op: &'static str,
        /// The trace.
        path: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file does not start with the trace magic.
    #[error(
        "{path} is not a cachetape trace (it does not start with the trace magic bytes); \
         traces are written by `cachetape record` and `cachetape import`"
    )]
    NotATrace {
        /// The file.
        path: String,
    },
    /// The trace was written by a newer cachetape.
    #[error(
        "{path} uses trace format version {found}, newer than this cachetape reads (up to \
         {supported}); upgrade cachetape to read it"
    )]
    NewerVersion {
        /// The file.
        path: String,
        /// Its format version.
        found: u16,
        /// The newest version this build reads.
        supported: u16,
    },
    /// The file ends inside its header: no event can be recovered.
    #[error(
        "{path} is cut short inside its header ({len} bytes): no events can be recovered; \
         was it copied completely?"
    )]
    TruncatedHeader {
        /// The file.
        path: String,
        /// Its length.
        len: u64,
    },
    /// The header does not decode or fails its checksum.
    #[error("{path}: the trace header is damaged ({reason}); no events can be trusted")]
    CorruptHeader {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A frame fails its checksum or does not decode.
    #[error(
        "{path}: the frame at byte offset {offset} is corrupt ({reason}); the {events_before} \
         events before it are intact — rerun with --salvage to skip damaged frames and read the rest"
    )]
    CorruptFrame {
        /// The file.
        path: String,
        /// Byte offset of the frame's block head.
        offset: u64,
        /// What is wrong.
        reason: String,
        /// Events read successfully before it.
        events_before: u64,
    },
    /// A second trace follows the footer of the first (`cat a.bin b.bin > ab.bin`).
    #[error(
        "{path} holds a second trace after the end of the first, from byte {offset}: cachetape \
         reads one trace per file, and the {events_before} events of the first were read. Split \
         the file to read the second (`tail -c +{next} {path} > second.bin`, \
         `head -c {offset} {path} > first.bin`), or rerun with --salvage to use the first trace \
         only"
    )]
    AppendedTrace {
        /// The file.
        path: String,
        /// Byte offset where the second trace's magic starts.
        offset: u64,
        /// `offset + 1`, for `tail -c +N`.
        next: u64,
        /// Events of the first trace.
        events_before: u64,
    },
    /// An output path is one of the command's inputs.
    #[error(
        "refusing to write {flag} {output}: it is {role} {input}{how}, which writing would \
         destroy; give {flag} another path"
    )]
    OutputIsInput {
        /// The output's flag (`-o`, `--html`).
        flag: String,
        /// The output as given.
        output: String,
        /// What the input is (`the trace`, `--map`).
        role: String,
        /// The input as given.
        input: String,
        /// How they are the same when the paths differ.
        how: &'static str,
    },
    /// A recording's `.partial` file is already there.
    #[error(
        "{path} already exists: an earlier recording that did not finish (killed?) left it, and \
         it may hold events (`cachetape info --salvage {path}` shows them); move or delete it, \
         then record again"
    )]
    PartialExists {
        /// The `.partial` file.
        path: String,
    },
    /// An event was appended out of sequence order.
    #[error("event seq {seq} appended after seq {last}: sequence numbers must increase")]
    OutOfOrder {
        /// The rejected sequence number.
        seq: u64,
        /// The last one written.
        last: u64,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: &str, source: io::Error) -> Error {
        Error::Io { op, path: path.to_string(), source }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
