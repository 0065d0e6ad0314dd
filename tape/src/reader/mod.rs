/*!
The streaming trace reader.

Events are decoded one frame at a time, lazily. A file that ends early (a recorder killed mid
frame, a partial copy) is not an error: every complete frame is returned and the [`ReadReport`]
says what was lost, using the lost frame's block head when it survived. A frame that is complete
but damaged is an error naming its byte offset; in salvage mode it is skipped instead (finding the
next block by its tag when the damaged length cannot be trusted) and listed in the report. A file
holds one trace: a second one after the footer (two traces concatenated) is an error naming where
it starts, or in salvage mode left unread and reported; other bytes after the footer are counted
and reported.
*/

mod report;

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

pub use report::{Damage, LostFrame, ReadReport, Truncation};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::header::{Footer, Header};
use crate::wire::{self, BlockHead, EventRef};

/// Reads a trace lazily, frame by frame.
pub struct Reader<R: Read> {
    src: Pushback<R>,
    path: String,
    header: Header,
    version: u16,
    offset: u64,
    salvage: bool,
    done: bool,
    open: Option<OpenFrame>,
    report: ReadReport,
    /// Buffers and the zstd context kept from frame to frame: a frame's compressed and raw bytes
    /// land in memory that is already mapped and warm, with no allocation per frame.
    reuse: Reuse,
}

/// What [`Reader`] keeps between frames.
#[derive(Default)]
struct Reuse {
    /// The compressed payload of the block being read.
    payload: Vec<u8>,
    /// The raw bytes of the last finished frame, to decompress the next one into.
    raw: Vec<u8>,
    /// The borrowed path's spans buffer ([`Reader::next_ref`]), from frame to frame.
    spans: Vec<(u32, u32)>,
    /// Created at the first frame.
    dctx: Option<zstd::bulk::Decompressor<'static>>,
}

/// One decoded frame.
#[derive(Debug)]
pub struct Frame {
    /// Byte offset of its block head.
    pub offset: u64,
    /// Its events, in order.
    pub events: Vec<Event>,
}

impl Reader<BufReader<File>> {
    /// Opens the trace at `path` and reads its header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| Error::io("open", &name, e))?;
        // Small enough that a frame's payload (hundreds of KiB) is read straight into the
        // reader's buffer rather than copied through this one; large enough that block heads
        // and small frames cost few system calls.
        Reader::new(BufReader::with_capacity(64 << 10, file), &name)
    }
}

/// Payloads up to this size are read into a buffer sized up front; larger claimed sizes as
/// their bytes arrive.
const PAYLOAD_IN_PLACE: usize = 8 << 20;

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(src: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl<R: Read> Reader<R> {
    /// Reads the header from `src` (named `name` in errors).
    pub fn new(mut src: R, name: &str) -> Result<Self> {
        let io = |e| Error::io("read", name, e);
        let mut pre = [0u8; wire::PREAMBLE_LEN];
        let n = read_full(&mut src, &mut pre).map_err(io)?;
        if n < wire::MAGIC.len() || pre[..8] != wire::MAGIC {
            if n < wire::MAGIC.len() && wire::MAGIC.starts_with(&pre[..n]) {
                return Err(Error::TruncatedHeader { path: name.into(), len: n as u64 });
            }
            return Err(Error::NotATrace { path: name.into() });
        }
        if n < wire::PREAMBLE_LEN {
            return Err(Error::TruncatedHeader { path: name.into(), len: n as u64 });
        }
        let version = u16::from_le_bytes([pre[8], pre[9]]);
        if version > wire::FORMAT_VERSION {
            return Err(Error::NewerVersion {
                path: name.into(),
                found: version,
                supported: wire::FORMAT_VERSION,
            });
        }
        if version == 0 {
            return Err(Error::CorruptHeader {
                path: name.into(),
                reason: "format version 0".into(),
            });
        }
        let len = u32::from_le_bytes(pre[10..14].try_into().unwrap());
        let crc = u32::from_le_bytes(pre[14..18].try_into().unwrap());
        if len > wire::MAX_HEADER {
            return Err(Error::CorruptHeader {
                path: name.into(),
                reason: format!("header length {len} is implausible"),
            });
        }
        let mut bytes = vec![0u8; len as usize];
        let got = read_full(&mut src, &mut bytes).map_err(io)?;
        if got < bytes.len() {
            return Err(Error::TruncatedHeader {
                path: name.into(),
                len: (wire::PREAMBLE_LEN + got) as u64,
            });
        }
        if crc32fast::hash(&bytes) != crc {
            return Err(Error::CorruptHeader {
                path: name.into(),
                reason: "checksum mismatch".into(),
            });
        }
        let header: Header = postcard::from_bytes(&bytes).map_err(|e| Error::CorruptHeader {
            path: name.into(),
            reason: format!("does not decode: {e}"),
        })?;
        let offset = (wire::PREAMBLE_LEN + bytes.len()) as u64;
        Ok(Reader {
            src: Pushback { inner: src, front: Vec::new(), pos: 0 },
            path: name.to_string(),
            header,
            version,
            offset,
            salvage: false,
            done: false,
            open: None,
            report: ReadReport { bytes: offset, ..ReadReport::default() },
            reuse: Reuse::default(),
        })
    }

    /// In salvage mode damaged frames are skipped (and listed in the report) instead of ending
    /// the read with an error.
    pub fn salvage(mut self, yes: bool) -> Self {
        self.salvage = yes;
        self
    }

    /// The trace's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The format version the file was written in.
    pub fn format_version(&self) -> u16 {
        self.version
    }

    /// What has been read so far; complete once iteration has ended.
    pub fn report(&self) -> &ReadReport {
        &self.report
    }

    /// The file name used in messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Decodes the rest of the current frame, or the next frame, as a whole; `Ok(None)` at the
    /// end (clean or truncated: see the report).
    pub fn next_frame(&mut self) -> Result<Option<Frame>> {
        let mut event = wire::blank_event();
        if !self.next_event_into(&mut event)? {
            return Ok(None);
        }
        let offset = self.open.as_ref().map_or(0, |o| o.offset);
        let left = self.open.as_ref().map_or(0, |o| o.cursor.remaining());
        let mut events = Vec::with_capacity(left + 1);
        events.push(event);
        for _ in 0..left {
            let mut event = wire::blank_event();
            if !self.next_event_into(&mut event)? {
                break;
            }
            events.push(event);
        }
        Ok(Some(Frame { offset, events }))
    }

    fn read_block(&mut self) -> Result<Block> {
        let start = self.offset;
        let mut head_bytes = [0u8; wire::BLOCK_HEAD_LEN];
        let n = read_full(&mut self.src, &mut head_bytes).map_err(|e| self.io_err(e))?;
        if n < wire::BLOCK_HEAD_LEN {
            self.report.truncated =
                Some(Truncation { offset: start, partial_bytes: n as u64, lost_frame: None });
            self.report.bytes += n as u64;
            return Ok(Block::End);
        }
        let head = match BlockHead::decode(&head_bytes) {
            Ok(head) => head,
            Err(reason) => {
                return self.damaged(start, head_bytes.to_vec(), reason.to_string(), None);
            }
        };
        let lost =
            LostFrame { events: head.events, first_us: head.first_us, last_us: head.last_us };
        let lost = (head.tag == wire::FRAME_TAG).then_some(lost);
        if head.payload_len > wire::MAX_RAW_FRAME || head.raw_len > wire::MAX_RAW_FRAME {
            let reason = format!("implausible frame size {} bytes", head.payload_len);
            return self.damaged(start, head_bytes.to_vec(), reason, lost);
        }
        let mut payload = std::mem::take(&mut self.reuse.payload);
        let len = head.payload_len as usize;
        let got = if len <= PAYLOAD_IN_PLACE {
            // Straight into the reused buffer (zeroed only where it grows): one large read
            // that bypasses the BufReader, no zeroing and copying per frame.
            if payload.len() < len {
                payload.resize(len, 0);
            }
            read_full(&mut self.src, &mut payload[..len])
        } else {
            // A claimed length this large is read as it arrives, so that a damaged head
            // cannot make the reader allocate memory for bytes that are not there.
            payload.clear();
            payload.reserve(PAYLOAD_IN_PLACE);
            (&mut self.src).take(len as u64).read_to_end(&mut payload)
        };
        let got = match got {
            Ok(got) => got,
            Err(e) => {
                self.reuse.payload = payload;
                return Err(self.io_err(e));
            }
        };
        let result = self.open_frame(start, head, lost, &payload[..got], got);
        self.reuse.payload = payload;
        result
    }

    /// The rest of [`Reader::read_block`] once the block's payload (`got` of its bytes) is in.
    fn open_frame(
        &mut self,
        start: u64,
        head: BlockHead,
        lost: Option<LostFrame>,
        payload: &[u8],
        got: usize,
    ) -> Result<Block> {
        self.offset += (wire::BLOCK_HEAD_LEN + got) as u64;
        self.report.bytes = self.offset;
        if got < head.payload_len as usize {
            self.report.truncated = Some(Truncation {
                offset: start,
                partial_bytes: (wire::BLOCK_HEAD_LEN + got) as u64,
                lost_frame: lost,
            });
            return Ok(Block::End);
        }
        if crc32fast::hash(payload) != head.payload_crc {
            return self.skip_or_fail(
                start,
                wire::BLOCK_HEAD_LEN as u64 + got as u64,
                "payload checksum mismatch".into(),
                lost,
            );
        }
        if head.tag == wire::FOOTER_TAG {
            match postcard::from_bytes::<Footer>(payload) {
                Ok(footer) => self.report.footer = Some(footer),
                Err(e) => {
                    let reason = format!("footer does not decode: {e}");
                    return self.skip_or_fail(start, self.offset - start, reason, None);
                }
            }
            return self.after_footer();
        }
        let mut raw = std::mem::take(&mut self.reuse.raw);
        raw.clear();
        raw.reserve(head.raw_len as usize);
        let dctx = match &mut self.reuse.dctx {
            Some(dctx) => dctx,
            none => none.insert(
                zstd::bulk::Decompressor::new()
                    .map_err(|e| Error::io("set up decompression for", &self.path, e))?,
            ),
        };
        let raw = match dctx.decompress_to_buffer(payload, &mut raw).map(|_| raw) {
            Ok(raw) if raw.len() == head.raw_len as usize => raw,
            Ok(raw) => {
                let reason =
                    format!("decompressed to {} bytes, expected {}", raw.len(), head.raw_len);
                return self.skip_or_fail(start, self.offset - start, reason, lost);
            }
            Err(e) => {
                let reason = format!("does not decompress: {e}");
                return self.skip_or_fail(start, self.offset - start, reason, lost);
            }
        };
        let cursor = match wire::FrameCursor::open(raw) {
            Ok(cursor) if cursor.remaining() == head.events as usize => cursor,
            Ok(cursor) => {
                let reason =
                    format!("holds {} events, its head says {}", cursor.remaining(), head.events);
                return self.skip_or_fail(start, self.offset - start, reason, lost);
            }
            Err(reason) => return self.skip_or_fail(start, self.offset - start, reason, lost),
        };
        self.open = Some(OpenFrame { offset: start, bytes: self.offset - start, head, cursor });
        Ok(Block::Frame)
    }

    /// What follows the footer: nothing; a second trace (`cat a.bin b.bin > ab.bin`), which is
    /// an error naming where it starts (in salvage mode it is skipped, and the report says so);
    /// or other bytes, counted and ignored.
    fn after_footer(&mut self) -> Result<Block> {
        let mut magic = [0u8; wire::MAGIC.len()];
        let n = read_full(&mut self.src, &mut magic).map_err(|e| self.io_err(e))?;
        let second = n == magic.len() && magic == wire::MAGIC;
        if second && !self.salvage {
            self.done = true;
            return Err(Error::AppendedTrace {
                path: self.path.clone(),
                offset: self.offset,
                next: self.offset + 1,
                events_before: self.report.events,
            });
        }
        let rest = io::copy(&mut self.src, &mut io::sink()).map_err(|e| self.io_err(e))?;
        self.report.trailing_bytes = n as u64 + rest;
        if second {
            self.report.appended_trace = Some(self.offset);
        }
        Ok(Block::End)
    }

    /// Decodes the next event into `out`, reusing its buffers (no allocation per Redis command
    /// in steady state); `Ok(false)` at the end of the trace (clean or truncated: see the
    /// report). This is the fast path; the `Iterator` gives owned events.
    pub fn next_event_into(&mut self, out: &mut Event) -> Result<bool> {
        loop {
            if let Some(open) = &mut self.open {
                match open.cursor.next_into(out) {
                    Ok(true) => {
                        self.report.events += 1;
                        return Ok(true);
                    }
                    Ok(false) => {
                        if let Some(open) = self.open.take() {
                            self.reuse.raw = open.cursor.into_raw();
                        }
                        self.report.frames += 1;
                    }
                    Err(reason) => {
                        let open = self.open.take().expect("matched above");
                        let left = open.cursor.remaining() as u32;
                        let lost = LostFrame {
                            events: left + 1,
                            first_us: open.head.first_us,
                            last_us: open.head.last_us,
                        };
                        self.skip_or_fail(open.offset, open.bytes, reason, Some(lost))?;
                    }
                }
                continue;
            }
            if self.done {
                return Ok(false);
            }
            match self.read_block()? {
                Block::End => {
                    self.done = true;
                    return Ok(false);
                }
                Block::Frame | Block::Skipped => {}
            }
        }
    }

    /// Like [`Reader::next_event_into`], but a Redis command without script lines (nearly every
    /// event of a trace) is lent straight from the decompressed frame, its arguments and client
    /// name not copied ([`EventRef::Redis`]); every other event is decoded into `scratch` and
    /// lent as [`EventRef::Owned`]. `Ok(None)` at the end of the trace. The events, errors and
    /// report are exactly those of [`Reader::next_event_into`].
    #[inline(always)]
    pub fn next_ref<'a>(&'a mut self, scratch: &'a mut Event) -> Result<Option<EventRef<'a>>> {
        // The common case (an event left in the open frame) inline, the rest out of line; only
        // a one-byte `Decoded` comes out of either, so the event is built once, here.
        let decoded = match self.open.as_mut() {
            Some(open) if open.cursor.remaining() > 0 => match open.cursor.decode_ref(scratch) {
                Ok(decoded) => {
                    self.report.events += 1;
                    Some(decoded)
                }
                Err(reason) => {
                    self.damaged_event(reason)?;
                    self.next_decoded(scratch)?
                }
            },
            _ => self.next_decoded(scratch)?,
        };
        Ok(match (decoded, &self.open) {
            (Some(decoded), Some(open)) => Some(open.cursor.current(decoded, scratch)),
            _ => None,
        })
    }

    /// [`Reader::next_ref`] when the open frame has no event left (or none is open, or its
    /// event was damaged and skipped in salvage mode): what the next event decoded as, left in
    /// the open frame's cursor or in `scratch`; `None` at the end.
    #[inline(never)]
    fn next_decoded(&mut self, scratch: &mut Event) -> Result<Option<wire::Decoded>> {
        loop {
            if !self.next_frame_ready()? {
                return Ok(None);
            }
            let open = self.open.as_mut().expect("next_frame_ready: a frame is open");
            match open.cursor.decode_ref(scratch) {
                Ok(decoded) => {
                    self.report.events += 1;
                    return Ok(Some(decoded));
                }
                Err(reason) => self.damaged_event(reason)?,
            }
        }
    }

    /// The open frame's next event does not decode: the frame is dropped, and the read fails
    /// (or, in salvage mode, the frame is listed as skipped), as in [`Reader::next_event_into`].
    #[cold]
    #[inline(never)]
    fn damaged_event(&mut self, reason: String) -> Result<()> {
        let Some(mut open) = self.open.take() else { return Ok(()) };
        self.reuse.spans = open.cursor.take_spans();
        let lost = LostFrame {
            events: open.cursor.remaining() as u32 + 1,
            first_us: open.head.first_us,
            last_us: open.head.last_us,
        };
        self.skip_or_fail(open.offset, open.bytes, reason, Some(lost)).map(drop)
    }

    /// Makes sure a frame with an event left is open (finishing frames, reading blocks, as
    /// [`Reader::next_event_into`] does); `Ok(false)` at the end of the trace.
    #[inline(never)]
    fn next_frame_ready(&mut self) -> Result<bool> {
        loop {
            if let Some(open) = &mut self.open {
                if open.cursor.remaining() > 0 {
                    return Ok(true);
                }
                // Checks that nothing follows the last event (it decodes nothing into the blank).
                match open.cursor.next_into(&mut wire::blank_event()) {
                    Ok(_) => {
                        if let Some(mut open) = self.open.take() {
                            self.reuse.spans = open.cursor.take_spans();
                            self.reuse.raw = open.cursor.into_raw();
                        }
                        self.report.frames += 1;
                    }
                    Err(reason) => {
                        let mut open = self.open.take().expect("matched above");
                        self.reuse.spans = open.cursor.take_spans();
                        let lost = LostFrame {
                            events: 1,
                            first_us: open.head.first_us,
                            last_us: open.head.last_us,
                        };
                        self.skip_or_fail(open.offset, open.bytes, reason, Some(lost))?;
                    }
                }
                continue;
            }
            if self.done {
                return Ok(false);
            }
            match self.read_block()? {
                Block::End => {
                    self.done = true;
                    return Ok(false);
                }
                Block::Frame | Block::Skipped => {
                    if let Some(open) = &mut self.open {
                        open.cursor.give_spans(std::mem::take(&mut self.reuse.spans));
                    }
                }
            }
        }
    }

    fn io_err(&self, e: io::Error) -> Error {
        Error::io("read", &self.path, e)
    }

    fn skip_or_fail(
        &mut self,
        offset: u64,
        bytes: u64,
        reason: String,
        lost_frame: Option<LostFrame>,
    ) -> Result<Block> {
        if !self.salvage {
            self.done = true;
            return Err(Error::CorruptFrame {
                path: self.path.clone(),
                offset,
                reason,
                events_before: self.report.events,
            });
        }
        self.report.skipped.push(Damage { offset, bytes, reason, lost_frame });
        Ok(Block::Skipped)
    }

    /// The head at `offset` is unusable: fail, or (salvage) scan forward one byte at a time for
    /// the next valid block head and resume there.
    fn damaged(
        &mut self,
        offset: u64,
        mut window: Vec<u8>,
        reason: String,
        lost_frame: Option<LostFrame>,
    ) -> Result<Block> {
        if !self.salvage {
            return self.skip_or_fail(offset, window.len() as u64, reason, lost_frame);
        }
        let mut skipped = 0u64;
        loop {
            window.remove(0);
            skipped += 1;
            let mut b = [0u8; 1];
            let n = read_full(&mut self.src, &mut b).map_err(|e| self.io_err(e))?;
            if n == 1 {
                window.push(b[0]);
            }
            let found = <&[u8; wire::BLOCK_HEAD_LEN]>::try_from(window.as_slice())
                .is_ok_and(|head| BlockHead::decode(head).is_ok());
            if found || window.is_empty() {
                self.report.skipped.push(Damage { offset, bytes: skipped, reason, lost_frame });
                self.offset = offset + skipped;
                self.report.bytes = self.offset;
                self.src.unread(window);
                return Ok(Block::Skipped);
            }
        }
    }
}

/// A reader that can be handed bytes back (salvage mode finds a block head by reading past it).
struct Pushback<R> {
    inner: R,
    front: Vec<u8>,
    pos: usize,
}

impl<R> Pushback<R> {
    fn unread(&mut self, mut bytes: Vec<u8>) {
        bytes.extend_from_slice(&self.front[self.pos..]);
        self.front = bytes;
        self.pos = 0;
    }
}

impl<R: Read> Read for Pushback<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.front.len() {
            let n = buf.len().min(self.front.len() - self.pos);
            buf[..n].copy_from_slice(&self.front[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

enum Block {
    /// A frame was opened (`Reader::open`).
    Frame,
    Skipped,
    End,
}

/// The frame being decoded.
struct OpenFrame {
    offset: u64,
    bytes: u64,
    head: BlockHead,
    cursor: wire::FrameCursor,
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        let mut event = wire::blank_event();
        self.next_event_into(&mut event).map(|more| more.then_some(event)).transpose()
    }
}
