/*!
The streaming trace writer.

Events are encoded into the open frame as they arrive; the frame is compressed and written (and
the output flushed) when it holds [`WriterOptions::max_frame_events`] events or
[`WriterOptions::max_frame_bytes`] raw bytes, or when it has been open for
[`WriterOptions::max_frame_age`] — so a recorder killed at any moment loses at most that long of
events. The age is checked on every append and on [`Writer::tick`], which an idle recorder must
call at least that often. The age is measured by [`WriterOptions::clock`], the monotonic clock
unless the caller (a test) gives another. [`Writer::finish`] closes the last frame and writes the footer.
*/

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::event::{Event, EventBody, EventKind, Micros, SourceId};
use crate::header::{Footer, Header, strip_credentials};
use crate::output::OutputFile;
use crate::wire::{self, BlockHead, FrameEncoder};

/// How the writer cuts and compresses frames.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// zstd level (1–22). 3 is fast enough for live recording; imports can afford more.
    pub level: i32,
    /// Close a frame after this many events.
    pub max_frame_events: u32,
    /// Close a frame after this many raw (uncompressed) bytes.
    pub max_frame_bytes: usize,
    /// Close a frame this long after its first event at the latest.
    pub max_frame_age: Duration,
    /// What the frame's age is measured by: [`Clock::monotonic`] by default.
    pub clock: Clock,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            level: 3,
            max_frame_events: 1 << 20,
            max_frame_bytes: 4 << 20,
            max_frame_age: Duration::from_secs(1),
            clock: Clock::monotonic(),
        }
    }
}

/// Writes a trace: header, frames, footer.
pub struct Writer<W: Write> {
    out: W,
    path: String,
    options: WriterOptions,
    encoder: FrameEncoder,
    compressor: zstd::bulk::Compressor<'static>,
    /// When the open frame got its first event, by [`WriterOptions::clock`].
    opened_at: Option<Micros>,
    footer: Footer,
    last_seq: Option<u64>,
    bytes_written: u64,
    raw_bytes: u64,
}

impl Writer<BufWriter<File>> {
    /// Creates (or replaces) the trace file at `path`, writing it in place (tests and tools;
    /// commands use [`Writer::to_output`], which never leaves half a trace over an old one).
    pub fn create(path: impl AsRef<Path>, header: &Header, options: WriterOptions) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::create(path).map_err(|e| Error::io("create", &name, e))?;
        Writer::new(BufWriter::with_capacity(1 << 20, file), &name, header, options)
    }
}

impl Writer<BufWriter<OutputFile>> {
    /// Starts a trace written into `out` ([`OutputFile::create`] or [`OutputFile::partial`]);
    /// [`Writer::commit`] finishes it and moves it into place.
    pub fn to_output(out: OutputFile, header: &Header, options: WriterOptions) -> Result<Self> {
        let name = out.path().to_string();
        Writer::new(BufWriter::with_capacity(1 << 20, out), &name, header, options)
    }

    /// Closes the last frame, writes the footer and renames the file into place; returns the
    /// footer. On an error the output is left as it was before.
    pub fn commit(self) -> Result<Footer> {
        let path = self.path.clone();
        let (out, footer) = self.finish()?;
        let out = out.into_inner().map_err(|e| Error::io("write", &path, e.into_error()))?;
        out.commit()?;
        Ok(footer)
    }
}

impl<W: Write> Writer<W> {
    /// Starts a trace on `out` (named `name` in errors) and writes its header. Source addresses
    /// are stripped of credentials first.
    pub fn new(mut out: W, name: &str, header: &Header, options: WriterOptions) -> Result<Self> {
        let mut header = header.clone();
        for source in &mut header.sources {
            source.address = strip_credentials(&source.address);
        }
        let bytes = postcard::to_allocvec(&header).expect("Vec never fails");
        let mut preamble = Vec::with_capacity(wire::PREAMBLE_LEN + bytes.len());
        preamble.extend_from_slice(&wire::MAGIC);
        preamble.extend_from_slice(&wire::FORMAT_VERSION.to_le_bytes());
        preamble.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        preamble.extend_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
        preamble.extend_from_slice(&bytes);
        out.write_all(&preamble).map_err(|e| Error::io("write", name, e))?;
        out.flush().map_err(|e| Error::io("write", name, e))?;
        let compressor = zstd::bulk::Compressor::new(options.level)
            .map_err(|e| Error::io("set up compression for", name, e))?;
        Ok(Writer {
            out,
            path: name.to_string(),
            options,
            encoder: FrameEncoder::default(),
            compressor,
            opened_at: None,
            footer: Footer { by_kind: vec![0; EventKind::ALL.len()], ..Footer::default() },
            last_seq: None,
            bytes_written: preamble.len() as u64,
            raw_bytes: 0,
        })
    }

    /// The sequence number the next [`Writer::append`] will get.
    pub fn next_seq(&self) -> u64 {
        self.last_seq.map_or(0, |s| s + 1)
    }

    /// Appends an event, giving it the next sequence number, which is returned.
    pub fn append(&mut self, source: SourceId, recv_us: Micros, body: EventBody) -> Result<u64> {
        let seq = self.next_seq();
        self.append_event(&Event { seq, source, recv_us, body })?;
        Ok(seq)
    }

    /// Appends an event keeping its sequence number, which must be greater than the last one.
    pub fn append_event(&mut self, event: &Event) -> Result<()> {
        if let Some(last) = self.last_seq
            && event.seq <= last
        {
            return Err(Error::OutOfOrder { seq: event.seq, last });
        }
        if self.encoder.is_empty() {
            self.opened_at = Some(self.options.clock.now_us());
        }
        self.encoder.push(event);
        self.last_seq = Some(event.seq);
        let f = &mut self.footer;
        if f.events == 0 {
            f.first_us = event.recv_us;
        }
        f.events += 1;
        f.last_us = event.recv_us;
        f.by_kind[event.kind().index()] += 1;
        if self.encoder.event_count() >= self.options.max_frame_events
            || self.encoder.raw_len() >= self.options.max_frame_bytes
        {
            self.close_frame()
        } else {
            self.tick()
        }
    }

    /// Closes the open frame if it is older than [`WriterOptions::max_frame_age`].
    pub fn tick(&mut self) -> Result<()> {
        let Some(opened) = self.opened_at else { return Ok(()) };
        let age = self.options.clock.now_us().saturating_sub(opened).max(0);
        if Duration::from_micros(age as u64) >= self.options.max_frame_age {
            self.close_frame()
        } else {
            Ok(())
        }
    }

    /// Compresses and writes the open frame (if any) and flushes the output.
    pub fn close_frame(&mut self) -> Result<()> {
        if self.encoder.is_empty() {
            return Ok(());
        }
        let frame = self.encoder.finish();
        self.opened_at = None;
        let payload = self
            .compressor
            .compress(&frame.raw)
            .map_err(|e| Error::io("compress a frame for", &self.path, e))?;
        let head = BlockHead {
            tag: wire::FRAME_TAG,
            payload_len: payload.len() as u32,
            raw_len: frame.raw.len() as u32,
            events: frame.events,
            first_us: frame.first_us,
            last_us: frame.last_us,
            payload_crc: crc32fast::hash(&payload),
        };
        self.raw_bytes += frame.raw.len() as u64;
        self.write_block(&head, &payload)?;
        self.footer.frames += 1;
        Ok(())
    }

    fn write_block(&mut self, head: &BlockHead, payload: &[u8]) -> Result<()> {
        let io = |e| Error::io("write", &self.path, e);
        self.out.write_all(&head.encode()).map_err(io)?;
        self.out.write_all(payload).map_err(io)?;
        self.out.flush().map_err(io)?;
        self.bytes_written += (wire::BLOCK_HEAD_LEN + payload.len()) as u64;
        Ok(())
    }

    /// Counts events the caller had to drop (reported in the footer).
    pub fn note_dropped(&mut self, n: u64) {
        self.footer.dropped += n;
    }

    /// Bytes written so far (closed frames only).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Uncompressed size of the closed frames so far.
    pub fn raw_bytes(&self) -> u64 {
        self.raw_bytes
    }

    /// The output being written.
    pub fn output(&self) -> &W {
        &self.out
    }

    /// Counts so far (what the footer will say).
    pub fn counts(&self) -> &Footer {
        &self.footer
    }

    /// Closes the last frame, writes the footer and flushes; returns the output and the footer.
    pub fn finish(mut self) -> Result<(W, Footer)> {
        self.close_frame()?;
        let payload = postcard::to_allocvec(&self.footer).expect("Vec never fails");
        let head = BlockHead {
            tag: wire::FOOTER_TAG,
            payload_len: payload.len() as u32,
            raw_len: payload.len() as u32,
            events: 0,
            first_us: self.footer.first_us,
            last_us: self.footer.last_us,
            payload_crc: crc32fast::hash(&payload),
        };
        self.write_block(&head, &payload)?;
        Ok((self.out, self.footer))
    }
}
