/*!
Binlog files → row changes and commits, in file order.

[`BinlogFile`] reads one binlog (or relay log) file as MySQL and MariaDB write it: the magic
`fe 62 69 6e`, a format description event, then events, each a 19-byte header and a body with a
CRC32 checksum when `binlog_checksum=CRC32` (MariaDB's default). It frames the events itself,
verifies their checksums and hands each to a [`BinlogDecoder`], yielding `(recv_us, body)` pairs
for every [`RowChange`](cachetape_tape::RowChange) and [`Commit`](cachetape_tape::Commit)
(`recv_us` is the event header's seconds × 10⁶: files carry nothing finer).

A file cut short — copied while the server was writing it, or left by a crash — keeps every
complete event; the [`FileReport`] says where the cut is and what it declared. What the file
is not (empty, gzip, `mysqlbinlog` text, a MySQL-encrypted binlog, an index file) is a
[`BinlogError`] that says so and what to give instead; a corrupt event is an error naming its
position. Nothing here panics on any input.

Transaction numbers must be unique within a source across its files: pass the previous file's
[`FileReport::next_txn`] as [`BinlogOptions::first_txn`] of the next.
*/

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cachetape_tape::SourceKind;
use mysql_async::binlog::events::FormatDescriptionEvent;
use mysql_async::binlog::{BinlogChecksumAlg, BinlogVersion, EventFlags, EventType};

use super::decoder::{BinlogDecoder, DecodeError, DecodeReport, TimedBody};
use super::event::{EVENT_HEADER_LEN, declared_size, event_type_name, parse_event};
use crate::schema::Schema;

/// The four bytes every binlog file starts with.
pub const BINLOG_MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];

/// How to read a binlog file.
#[derive(Clone, Debug)]
pub struct BinlogOptions {
    /// Column names (and UNSIGNED, JSON, ENUM members) for tables the binlog does not describe.
    pub schema: Option<Arc<Schema>>,
    /// The first transaction number to hand out.
    pub first_txn: u64,
    /// Check each event's CRC32 (on by default; off only to look at a damaged file).
    pub verify_checksums: bool,
}

impl Default for BinlogOptions {
    fn default() -> Self {
        BinlogOptions { schema: None, first_txn: 1, verify_checksums: true }
    }
}

/// Why a binlog file could not be read (further).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BinlogError {
    /// The file could not be opened or read.
    #[error("cannot read binlog file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The file is not a binlog file.
    #[error("{} is not a binlog file: {reason}", path.display())]
    NotBinlog {
        /// The file.
        path: PathBuf,
        /// What it is instead, and what to give.
        reason: String,
    },
    /// An event's framing is broken in the middle of the file.
    #[error(
        "{}: the event at position {offset} is corrupt ({detail}); the file is damaged here. \
         The events before it were read; take a fresh copy from the server",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset of the event.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// An event's CRC32 does not match its bytes.
    #[error(
        "{}: the {event_type} at position {offset} fails its CRC32 checksum (stored {stored:08x}, \
         computed {computed:08x}); the file is damaged here. The events before it were read; \
         take a fresh copy from the server",
        path.display()
    )]
    Checksum {
        /// The file.
        path: PathBuf,
        /// Byte offset of the event.
        offset: u64,
        /// The event's type.
        event_type: String,
        /// The checksum in the file.
        stored: u32,
        /// The checksum of the bytes.
        computed: u32,
    },
    /// An event could not be decoded.
    #[error("{}: {source}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: DecodeError,
    },
}

/// Where and how a file was cut short.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// Byte offset where the incomplete event starts.
    pub offset: u64,
    /// Bytes present from there to the end of the file.
    pub present: u64,
    /// The size the event's header declares, when the header is complete.
    pub declared: Option<u64>,
    /// The event's type, when the header is complete.
    pub event_type: Option<String>,
    /// The rest of the file is zero bytes (space allocated but never written).
    pub zero_filled: bool,
}

/// What reading one binlog file found.
#[derive(Clone, Debug, PartialEq)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Its size when opened.
    pub bytes: u64,
    /// What the decoder saw.
    pub decoded: DecodeReport,
    /// Set when the file ends inside an event.
    pub truncated: Option<Truncation>,
    /// The format description event says the server still had the file open (it was copied
    /// while in use, or the server crashed).
    pub in_use: bool,
}

impl FileReport {
    /// MariaDB or MySQL, from the server version in the file.
    pub fn source_kind(&self) -> Option<SourceKind> {
        self.decoded.source_kind
    }

    /// The server version in the file.
    pub fn server_version(&self) -> Option<&str> {
        self.decoded.server_version.as_deref()
    }

    /// The transaction number the next file of this source should start from.
    pub fn next_txn(&self) -> u64 {
        self.decoded.next_txn
    }

    /// What the person at the terminal should know about this file, one message each.
    pub fn notes(&self) -> Vec<String> {
        let path = self.path.display().to_string();
        let mut notes = self.decoded.notes(&path);
        if let Some(cut) = &self.truncated {
            if cut.zero_filled {
                notes.push(format!(
                    "{path} ends with {} zero bytes after position {} (space allocated but never \
                     written, typically after a crash); they were ignored",
                    cut.present, cut.offset
                ));
            } else {
                let what = match (&cut.event_type, cut.declared) {
                    (Some(t), Some(n)) => format!(
                        "the {t} at position {} declares {n} bytes but only {} are there",
                        cut.offset, cut.present
                    ),
                    _ => format!(
                        "the event header at position {} is cut after {} bytes",
                        cut.offset, cut.present
                    ),
                };
                notes.push(format!(
                    "{path} ends inside an event: {what}. The file was copied while the server \
                     was writing it, or the server crashed. Every complete event before the cut \
                     was imported; the cut event and the rest of its transaction are missing \
                     (copy the file again once the server has rotated it to get them)"
                ));
            }
        } else if self.in_use {
            notes.push(format!(
                "{path} was still open for writing on the server when it was read (or the \
                 server crashed): events written after the copy are not in it"
            ));
        }
        notes
    }
}

impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.decoded;
        write!(
            f,
            "{}: {}, {} row change(s) in {} transaction(s), {} DDL statement(s); skipped: {}",
            self.path.display(),
            d.server_version.as_deref().unwrap_or("unknown server"),
            d.row_changes,
            d.commits,
            d.ddl.len(),
            d.skipped_summary()
        )
    }
}

/// One binlog file, read event by event. Iterating yields the row changes and commits in file
/// order; after an error the iteration ends. [`BinlogFile::finish`] gives the report.
pub struct BinlogFile {
    path: PathBuf,
    input: BufReader<File>,
    bytes: u64,
    offset: u64,
    fde: FormatDescriptionEvent<'static>,
    decoder: BinlogDecoder,
    pending: VecDeque<TimedBody>,
    scratch: Vec<TimedBody>,
    verify_checksums: bool,
    truncated: Option<Truncation>,
    in_use: bool,
    done: bool,
}

impl fmt::Debug for BinlogFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinlogFile")
            .field("path", &self.path)
            .field("offset", &self.offset)
            .finish()
    }
}

impl BinlogFile {
    /// Opens `path`, checks that it is a binlog file and reads its format description event.
    pub fn open(
        path: impl AsRef<Path>,
        options: &BinlogOptions,
    ) -> Result<BinlogFile, BinlogError> {
        let path = path.as_ref().to_path_buf();
        let io_error = |source| BinlogError::Io { path: path.clone(), source };
        let file = File::open(&path).map_err(io_error)?;
        let bytes = file.metadata().map_err(io_error)?.len();
        let mut input = BufReader::with_capacity(1 << 16, file);
        let mut magic = [0u8; 64];
        let n = read_up_to(&mut input, &mut magic[..4]).map_err(io_error)?;
        if magic[..n] != BINLOG_MAGIC {
            let more = read_up_to(&mut input, &mut magic[n..]).map_err(io_error)?;
            let reason = not_a_binlog(&magic[..n + more], bytes);
            return Err(BinlogError::NotBinlog { path, reason });
        }
        let mut file = BinlogFile {
            path,
            input,
            bytes,
            offset: BINLOG_MAGIC.len() as u64,
            fde: FormatDescriptionEvent::new(BinlogVersion::Version4),
            decoder: BinlogDecoder::new(options.schema.clone(), options.first_txn),
            pending: VecDeque::new(),
            scratch: Vec::new(),
            verify_checksums: options.verify_checksums,
            truncated: None,
            in_use: false,
            done: false,
        };
        // The format description event: the server version is known before the first row.
        if !file.step()? {
            file.done = true;
        }
        Ok(file)
    }

    /// The server version from the file's format description event (read by
    /// [`BinlogFile::open`]); `None` only when the file is cut inside that event.
    pub fn server_version(&self) -> Option<&str> {
        self.decoder.report().server_version.as_deref()
    }

    /// MariaDB or MySQL, from the server version.
    pub fn source_kind(&self) -> Option<SourceKind> {
        self.decoder.report().source_kind
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What was decoded so far.
    pub fn progress(&self) -> &DecodeReport {
        self.decoder.report()
    }

    /// Ends reading (wherever it stopped) and returns the report.
    pub fn finish(self) -> FileReport {
        FileReport {
            path: self.path,
            bytes: self.bytes,
            decoded: self.decoder.finish(),
            truncated: self.truncated,
            in_use: self.in_use,
        }
    }

    /// Reads every event: the bodies, the report, and the error that stopped reading early, if
    /// any (the bodies before it are kept).
    pub fn read_all(mut self) -> (Vec<TimedBody>, FileReport, Option<BinlogError>) {
        let mut bodies = Vec::new();
        let mut error = None;
        for item in &mut self {
            match item {
                Ok(body) => bodies.push(body),
                Err(e) => error = Some(e),
            }
        }
        (bodies, self.finish(), error)
    }

    /// Reads and decodes the next event; `Ok(false)` at the end of the file.
    fn step(&mut self) -> Result<bool, BinlogError> {
        let offset = self.offset;
        let mut header = [0u8; EVENT_HEADER_LEN];
        let n = read_up_to(&mut self.input, &mut header).map_err(|e| self.io(e))?;
        if n == 0 {
            return Ok(false);
        }
        if n < EVENT_HEADER_LEN {
            // The type byte (the fifth) is never 0: a shorter all-zero start may be a cut header.
            let zero_filled =
                n > 4 && header[..n].iter().all(|&b| b == 0) && self.rest_is_zero()?;
            self.truncated = Some(Truncation {
                offset,
                present: self.bytes.saturating_sub(offset).max(n as u64),
                declared: None,
                event_type: None,
                zero_filled,
            });
            return Ok(false);
        }
        let size = declared_size(&header).unwrap_or(0);
        if size < EVENT_HEADER_LEN {
            if header.iter().all(|&b| b == 0) && self.rest_is_zero()? {
                self.truncated = Some(Truncation {
                    offset,
                    present: self.bytes.saturating_sub(offset),
                    declared: None,
                    event_type: None,
                    zero_filled: true,
                });
                return Ok(false);
            }
            return Err(self.corrupt(offset, format!("its header declares {size} bytes")));
        }
        // A header cut or damaged into a huge size must not allocate it: an event longer than
        // what is left of the file is a cut.
        let available =
            self.input.get_ref().metadata().map_or(self.bytes, |m| m.len().max(self.bytes));
        if size as u64 > available.saturating_sub(offset) {
            self.truncated = Some(Truncation {
                offset,
                present: available.saturating_sub(offset),
                declared: Some(size as u64),
                event_type: Some(event_type_name(header[4])),
                zero_filled: false,
            });
            return Ok(false);
        }
        let mut bytes = vec![0u8; size];
        bytes[..EVENT_HEADER_LEN].copy_from_slice(&header);
        let got =
            read_up_to(&mut self.input, &mut bytes[EVENT_HEADER_LEN..]).map_err(|e| self.io(e))?;
        if got < size - EVENT_HEADER_LEN {
            self.truncated = Some(Truncation {
                offset,
                present: (EVENT_HEADER_LEN + got) as u64,
                declared: Some(size as u64),
                event_type: Some(event_type_name(header[4])),
                zero_filled: false,
            });
            return Ok(false);
        }
        self.offset += size as u64;
        let is_fde = header[4] == EventType::FORMAT_DESCRIPTION_EVENT as u8;
        if offset == BINLOG_MAGIC.len() as u64 && !is_fde {
            return Err(BinlogError::NotBinlog {
                path: self.path.clone(),
                reason: format!(
                    "its first event is a {}, not a format description event: it was written \
                     by a server older than MySQL 5.0, which cachetape does not read",
                    event_type_name(header[4])
                ),
            });
        }
        let event =
            parse_event(&self.fde, &bytes).map_err(|detail| self.corrupt(offset, detail))?;
        let footer = event.footer();
        if self.verify_checksums
            && footer.get_checksum_enabled()
            && matches!(
                footer.get_checksum_alg(),
                Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32))
            )
            && let Some(stored) = event.checksum()
        {
            let stored = u32::from_le_bytes(stored);
            let computed = event.calc_checksum(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32);
            if stored != computed {
                return Err(BinlogError::Checksum {
                    path: self.path.clone(),
                    offset,
                    event_type: event_type_name(header[4]),
                    stored,
                    computed,
                });
            }
        }
        if is_fde {
            let fde = event
                .read_event::<FormatDescriptionEvent<'_>>()
                .map_err(|e| self.corrupt(offset, e.to_string()))?;
            self.fde = fde.with_footer(event.footer()).into_owned();
            self.in_use = event.header().flags().contains(EventFlags::LOG_EVENT_BINLOG_IN_USE_F);
        }
        self.decoder
            .decode(&event, offset, &mut self.scratch)
            .map_err(|source| BinlogError::Decode { path: self.path.clone(), source })?;
        self.pending.extend(self.scratch.drain(..));
        Ok(true)
    }

    fn rest_is_zero(&mut self) -> Result<bool, BinlogError> {
        let mut buf = [0u8; 1 << 14];
        loop {
            let n = read_up_to(&mut self.input, &mut buf).map_err(|e| self.io(e))?;
            if n == 0 {
                return Ok(true);
            }
            if buf[..n].iter().any(|&b| b != 0) {
                return Ok(false);
            }
        }
    }

    fn io(&self, source: io::Error) -> BinlogError {
        BinlogError::Io { path: self.path.clone(), source }
    }

    fn corrupt(&self, offset: u64, detail: String) -> BinlogError {
        BinlogError::Corrupt { path: self.path.clone(), offset, detail }
    }
}

impl Iterator for BinlogFile {
    type Item = Result<TimedBody, BinlogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(body) = self.pending.pop_front() {
                return Some(Ok(body));
            }
            if self.done {
                return None;
            }
            match self.step() {
                Ok(true) => {}
                Ok(false) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// What a file that does not start with the binlog magic is, and what to give instead.
fn not_a_binlog(start: &[u8], bytes: u64) -> String {
    let text = String::from_utf8_lossy(start);
    if bytes == 0 {
        "it is empty; give the server's binlog files (`SHOW BINARY LOGS` lists them)".into()
    } else if start.len() < 4 && BINLOG_MAGIC.starts_with(start) {
        format!("it has only {bytes} bytes, less than a binlog file header; copy it again")
    } else if start.starts_with(&[0x1f, 0x8b]) {
        "it is gzip-compressed; decompress it first (`gunzip`)".into()
    } else if start.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "it is zstd-compressed; decompress it first (`zstd -d`)".into()
    } else if start.starts_with(&[0xfd, b'b', b'i', b'n']) {
        "it is an encrypted MySQL binlog (binlog_encryption=ON), which cachetape cannot decrypt; \
         fetch a decrypted copy through the server with `mysqlbinlog --read-from-remote-server \
         --raw --host=HOST --user=USER FILE`"
            .into()
    } else if text.starts_with("/*!") || text.starts_with("# at") || text.starts_with("DELIMITER") {
        "it is text written by mysqlbinlog/mariadb-binlog; give the binary binlog file itself \
         (the server's log-bin files, e.g. /var/lib/mysql/binlog.000042)"
            .into()
    } else if text.starts_with("./") || text.starts_with('/') || text.contains("bin.0") {
        "it looks like a binlog index file; give the files it lists".into()
    } else {
        let hex: Vec<String> = start.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!(
            "it starts with {} instead of the binlog magic fe 62 69 6e; give the server's binlog \
             files (`SHOW BINARY LOGS` lists them)",
            hex.join(" ")
        )
    }
}
