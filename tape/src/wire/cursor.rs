/*!
Reading a frame: [`FrameCursor`] decodes a frame's events one at a time, straight from its raw
bytes, and lends the Redis command it decoded last as a [`RedisRef`].

Two ways in. [`FrameCursor::next_into`] decodes into a caller's [`Event`], reusing its buffers: a
Redis command is read by hand (postcard's primitives, no serde) into the event's argv, every other
kind through serde. [`FrameCursor::decode_ref`] leaves a Redis command without script lines in the
cursor — its fixed fields, and its arguments as spans into the frame — and decodes anything else
the first way; it tries the short form first (the `short` module) and falls back to the general
path here, which reads every event the short form does not take.
*/

use std::fmt;
use std::sync::Arc;

use super::convert::body_of;
use super::primitives::WireReader;
use super::schema::{WireBodyIn, WireFrameHead};
use super::short;
use crate::argv::{Argv, ArgvRef};
use crate::event::*;
use crate::value::Name;

/// Decodes a frame's events one at a time, straight from its raw bytes, into caller-provided
/// events whose buffers are reused: in steady state a Redis command decodes without allocating.
pub(crate) struct FrameCursor {
    raw: Vec<u8>,
    pos: usize,
    /// (start, end) of each interned string in `raw`.
    strings: Vec<(usize, usize)>,
    names: Vec<Option<Name>>,
    remaining: usize,
    next_seq: u64,
    recv: i64,
    /// Read Redis commands by hand (always, but in the test that compares it with serde).
    pub(super) hand_redis: bool,
    /// The Redis command [`FrameCursor::decode_ref`] left in place, for [`FrameCursor::current`].
    borrowed: Borrowed,
}

/// The fixed fields of the Redis command last decoded by [`FrameCursor::decode_ref`]; its
/// arguments are spans into the frame's raw bytes.
#[derive(Default)]
struct Borrowed {
    seq: u64,
    source: u16,
    recv_us: Micros,
    db: u32,
    client: u32,
    server_us: Micros,
    spans: Vec<(u32, u32)>,
}

/// What [`FrameCursor::decode_ref`] decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// A Redis command without script lines, left in the cursor (borrowed).
    Redis,
    /// Any other event, decoded into the caller's event.
    Owned,
}

/// One event from [`crate::Reader::next_ref`]: a Redis command borrowed from the decompressed
/// frame, or any other event decoded into the caller's reused [`Event`].
#[derive(Clone, Copy, Debug)]
pub enum EventRef<'a> {
    /// A Redis command with no script lines, borrowed from the frame.
    Redis(RedisRef<'a>),
    /// Every other event (Redis commands with script lines included).
    Owned(&'a Event),
}

/// A Redis command borrowed from a decompressed frame: [`RedisCommand`] with its event's fields,
/// no script lines, the client name lent from the frame's interned names (no reference count
/// taken) and the arguments as spans into the frame. Two pointers wide; its fields are read
/// through its methods.
#[derive(Clone, Copy)]
pub struct RedisRef<'a> {
    cursor: &'a FrameCursor,
    client: &'a Name,
}

impl<'a> RedisRef<'a> {
    /// The event's sequence number.
    #[inline]
    pub fn seq(&self) -> u64 {
        self.cursor.borrowed.seq
    }

    /// The event's source.
    #[inline]
    pub fn source(&self) -> SourceId {
        SourceId(self.cursor.borrowed.source)
    }

    /// The event's receive time (µs since the epoch).
    #[inline]
    pub fn recv_us(&self) -> Micros {
        self.cursor.borrowed.recv_us
    }

    /// The db index the command ran in.
    #[inline]
    pub fn db(&self) -> u32 {
        self.cursor.borrowed.db
    }

    /// The client, as [`RedisCommand::client`].
    #[inline]
    pub fn client(&self) -> &'a Name {
        self.client
    }

    /// The server's timestamp (µs since the epoch).
    #[inline]
    pub fn server_us(&self) -> Micros {
        self.cursor.borrowed.server_us
    }

    /// A hint for the next event: its first argument (for most commands, its key) when it is
    /// a Redis command whose head fields and first argument's length are one-byte varints, read
    /// at fixed offsets without decoding it. For a replayer to start loading that key's memory
    /// while it works on this command. `None` when the next event is anything else; a hint
    /// only: the next event is still read and checked in full when its turn comes.
    #[inline]
    pub fn next_key_hint(&self) -> Option<&'a [u8]> {
        self.cursor.next_key_hint()
    }

    /// The arguments, command name first.
    #[inline]
    pub fn argv(&self) -> ArgvRef<'a> {
        ArgvRef { bytes: &self.cursor.raw, spans: &self.cursor.borrowed.spans }
    }
}

impl fmt::Debug for RedisRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRef")
            .field("seq", &self.seq())
            .field("source", &self.source())
            .field("recv_us", &self.recv_us())
            .field("db", &self.db())
            .field("client", self.client)
            .field("server_us", &self.server_us())
            .field("argv", &self.argv())
            .finish()
    }
}

impl EventRef<'_> {
    /// The event as an owned [`Event`], equal to what [`crate::Reader::next_event_into`] gives.
    pub fn to_event(&self) -> Event {
        match self {
            EventRef::Owned(e) => (*e).clone(),
            EventRef::Redis(r) => Event {
                seq: r.seq(),
                source: r.source(),
                recv_us: r.recv_us(),
                body: EventBody::Redis(RedisCommand {
                    db: r.db(),
                    client: r.client.clone(),
                    server_us: r.server_us(),
                    argv: r.argv().to_argv(),
                    script: Vec::new(),
                }),
            },
        }
    }
}

impl FrameCursor {
    /// Reads the frame's head (sequence base, time base, string table, event count).
    pub fn open(raw: Vec<u8>) -> Result<FrameCursor, String> {
        let (head, rest) = postcard::take_from_bytes::<WireFrameHead<'_>>(&raw)
            .map_err(|e| format!("frame does not decode: {e}"))?;
        let base = raw.as_ptr() as usize;
        let strings: Vec<(usize, usize)> = head
            .strings
            .iter()
            .map(|s| {
                let start = s.0.as_ptr() as usize - base;
                (start, start + s.0.len())
            })
            .collect();
        let pos = raw.len() - rest.len();
        // Every event takes at least 4 bytes: a count beyond that is damage, not a reason to
        // reserve memory.
        if head.events > rest.len() / 4 + 1 {
            return Err(format!("frame claims {} events in {} bytes", head.events, rest.len()));
        }
        Ok(FrameCursor {
            names: vec![None; strings.len()],
            strings,
            pos,
            remaining: head.events,
            next_seq: head.first_seq,
            recv: head.base_us,
            raw,
            hand_redis: true,
            borrowed: Borrowed::default(),
        })
    }

    /// The spans buffer, for the next frame's cursor to reuse.
    pub fn take_spans(&mut self) -> Vec<(u32, u32)> {
        std::mem::take(&mut self.borrowed.spans)
    }

    /// Hands this cursor a spans buffer left by a previous frame's.
    pub fn give_spans(&mut self, spans: Vec<(u32, u32)>) {
        self.borrowed.spans = spans;
    }

    /// Decodes the next event (there must be one: `remaining() > 0`): a Redis command without
    /// script lines stays in the cursor, its arguments as spans into the frame (see
    /// [`FrameCursor::current`]); any other event is decoded into `out`.
    #[inline(always)]
    pub fn decode_ref(&mut self, out: &mut Event) -> Result<Decoded, String> {
        debug_assert!(self.remaining > 0);
        if self.decode_short() {
            return Ok(Decoded::Redis);
        }
        self.decode_ref_general(out)
    }

    /// [`FrameCursor::decode_ref`] for every event [`FrameCursor::decode_short`] does not take.
    #[inline(never)]
    fn decode_ref_general(&mut self, out: &mut Event) -> Result<Decoded, String> {
        let saved = (self.pos, self.remaining, self.next_seq, self.recv);
        let event_seq = self.next_seq;
        let at = |e: String| format!("event {event_seq} does not decode: {e}");
        let mut r = WireReader { buf: &self.raw, pos: self.pos };
        let seq_gap = r.varint(u64::MAX).map_err(at)?;
        let source = r.varint(u16::MAX as u64).map_err(at)? as u16;
        let recv_delta = r.zigzag().map_err(at)?;
        let seq = self.next_seq.checked_add(seq_gap).ok_or("sequence number overflows")?;
        let recv = self.recv.wrapping_add(recv_delta);
        self.remaining -= 1;
        if r.varint(u32::MAX as u64).map_err(at)? == 0 {
            let b = &mut self.borrowed;
            b.db = r.u32().map_err(at)?;
            let client = r.u32().map_err(at)?;
            if client as usize >= self.strings.len() {
                return Err(at(format!("string index {client} out of range")));
            }
            b.client = client;
            b.server_us = recv.wrapping_add(r.zigzag().map_err(at)?);
            let name = r.u32().map_err(at)?;
            let &(a, e) = self
                .strings
                .get(name as usize)
                .ok_or_else(|| at(format!("string index {name} out of range")))?;
            b.spans.clear();
            b.spans.push((a as u32, e as u32));
            for _ in 0..r.len().map_err(at)? {
                let n = r.varint(u64::MAX).map_err(at)?;
                if n > (r.buf.len() - r.pos) as u64 {
                    return Err(at("the frame ends inside an argument".into()));
                }
                let start = r.pos;
                r.pos += n as usize;
                b.spans.push((start as u32, r.pos as u32));
            }
            if r.len().map_err(at)? == 0 {
                b.seq = seq;
                b.source = source;
                b.recv_us = recv;
                self.next_seq = seq.wrapping_add(1);
                self.recv = recv;
                self.pos = r.pos;
                let i = client as usize;
                if self.names[i].is_none() {
                    let (a, e) = self.strings[i];
                    self.names[i] = Some(Arc::from(String::from_utf8_lossy(&self.raw[a..e])));
                }
                return Ok(Decoded::Redis);
            }
        }
        // Everything else, scripts included, the owned way from the event's start.
        self.decode_owned_again(saved, out)
    }

    /// [`FrameCursor::decode_ref`]'s common case in one pass: a Redis command in the short form
    /// (see the `short` module), its client's name already made. False for anything else,
    /// having changed nothing but the spans scratch buffer; the general path then decodes (or
    /// rejects) the event.
    #[inline(always)]
    pub(super) fn decode_short(&mut self) -> bool {
        let Some(c) = short::decode(
            &self.raw,
            self.pos,
            &self.strings,
            &self.names,
            self.next_seq,
            self.recv,
            &mut self.borrowed.spans,
        ) else {
            return false;
        };
        let b = &mut self.borrowed;
        b.seq = c.seq;
        b.source = c.source;
        b.recv_us = c.recv_us;
        b.db = c.db;
        b.client = c.client;
        b.server_us = c.server_us;
        self.next_seq = c.seq.wrapping_add(1);
        self.recv = c.recv_us;
        self.pos = c.end;
        self.remaining -= 1;
        true
    }

    /// [`RedisRef::next_key_hint`].
    #[inline(always)]
    pub(super) fn next_key_hint(&self) -> Option<&[u8]> {
        if self.remaining == 0 {
            return None;
        }
        short::next_key_hint(&self.raw, self.pos)
    }

    /// [`FrameCursor::decode_ref`] for an event that is not lent: back to the state before it
    /// (pos, remaining, next_seq, recv), then decoded into `out`.
    #[inline(never)]
    fn decode_owned_again(
        &mut self,
        saved: (usize, usize, u64, i64),
        out: &mut Event,
    ) -> Result<Decoded, String> {
        (self.pos, self.remaining, self.next_seq, self.recv) = saved;
        let raw = std::mem::take(&mut self.raw);
        let result = self.decode_one(&raw, out);
        self.raw = raw;
        result.map(|()| Decoded::Owned)
    }

    /// The event [`FrameCursor::decode_ref`] last decoded, `out` being the event it was given.
    #[inline]
    pub fn current<'a>(&'a self, decoded: Decoded, out: &'a Event) -> EventRef<'a> {
        let b = &self.borrowed;
        match (decoded, self.names.get(b.client as usize)) {
            (Decoded::Redis, Some(Some(client))) => {
                EventRef::Redis(RedisRef { cursor: self, client })
            }
            _ => EventRef::Owned(out),
        }
    }

    /// The frame's raw bytes back, for the next frame to be decompressed into.
    pub fn into_raw(self) -> Vec<u8> {
        self.raw
    }

    /// Events not yet decoded.
    pub fn remaining(&self) -> usize {
        self.remaining
    }

    /// Decodes the next event into `out`, reusing its buffers; `Ok(false)` after the last.
    pub fn next_into(&mut self, out: &mut Event) -> Result<bool, String> {
        if self.remaining == 0 {
            if self.pos != self.raw.len() {
                return Err(format!("{} bytes after the last event", self.raw.len() - self.pos));
            }
            return Ok(false);
        }
        let raw = std::mem::take(&mut self.raw);
        let result = self.decode_one(&raw, out);
        self.raw = raw;
        result.map(|()| true)
    }

    fn decode_one(&mut self, raw: &[u8], out: &mut Event) -> Result<(), String> {
        let event_seq = self.next_seq;
        let at = |e: String| format!("event {event_seq} does not decode: {e}");
        let mut r = WireReader { buf: raw, pos: self.pos };
        let seq_gap = r.varint(u64::MAX).map_err(at)?;
        let source = r.varint(u16::MAX as u64).map_err(at)? as u16;
        let recv_delta = r.zigzag().map_err(at)?;
        self.remaining -= 1;
        let seq = self.next_seq.checked_add(seq_gap).ok_or("sequence number overflows")?;
        self.next_seq = seq.wrapping_add(1);
        self.recv = self.recv.wrapping_add(recv_delta);
        let recv = self.recv;
        out.seq = seq;
        out.source = SourceId(source);
        out.recv_us = recv;
        // Redis commands, nearly every event of a trace, are read by hand straight into the
        // reused argv; every other kind goes through serde.
        let body_at = r.pos;
        if r.varint(u32::MAX as u64).map_err(at)? == 0 && self.hand_redis {
            self.decode_redis(&mut r, out).map_err(at)?;
            self.pos = r.pos;
            return Ok(());
        }
        let (body, rest) = postcard::take_from_bytes::<WireBodyIn<'_>>(&raw[body_at..])
            .map_err(|e| at(e.to_string()))?;
        self.pos = raw.len() - rest.len();
        let (strings, names) = (&self.strings[..], &mut self.names[..]);
        let bytes = |i: u32| -> Result<&[u8], String> {
            let &(a, b) =
                strings.get(i as usize).ok_or_else(|| format!("string index {i} out of range"))?;
            Ok(&raw[a..b])
        };
        out.body = body_of(&body, recv, &mut |i| name_at(strings, names, raw, i), bytes)?;
        Ok(())
    }

    /// The fields of a `WireBody::Redis` after its variant index, into `out` (reusing its argv
    /// and script calls when it already holds a Redis command).
    fn decode_redis(&mut self, r: &mut WireReader<'_>, out: &mut Event) -> Result<(), String> {
        let db = r.u32()?;
        let client = self.name_in(r.buf, r.u32()?)?;
        let server_us = out.recv_us.wrapping_add(r.zigzag()?);
        let c = redis_slot(out, db, client, server_us);
        self.read_argv(r, &mut c.argv)?;
        let calls = r.len()?;
        c.script.truncate(calls);
        for i in 0..calls {
            let db = r.u32()?;
            let call_us = server_us.wrapping_add(r.zigzag()?);
            match c.script.get_mut(i) {
                Some(call) => {
                    call.db = db;
                    call.server_us = call_us;
                    self.read_argv(r, &mut call.argv)?;
                }
                None => {
                    let mut argv = Argv::new();
                    self.read_argv(r, &mut argv)?;
                    c.script.push(ScriptCall { db, server_us: call_us, argv });
                }
            }
        }
        Ok(())
    }

    /// `name: str#` then `args: Vec<bytes>` into `argv`.
    fn read_argv(&self, r: &mut WireReader<'_>, argv: &mut Argv) -> Result<(), String> {
        let name = r.u32()?;
        let &(a, b) = self
            .strings
            .get(name as usize)
            .ok_or_else(|| format!("string index {name} out of range"))?;
        argv.clear();
        argv.push(&r.buf[a..b]);
        for _ in 0..r.len()? {
            argv.push(r.bytes()?);
        }
        Ok(())
    }

    /// Interned string `i` as a shared name, the frame's bytes being moved out into `raw`.
    fn name_in(&mut self, raw: &[u8], i: u32) -> Result<Name, String> {
        name_at(&self.strings, &mut self.names, raw, i)
    }
}

/// Interned string `i` of the frame `raw` as a shared name, made once per frame and kept in
/// `names`.
fn name_at(
    strings: &[(usize, usize)],
    names: &mut [Option<Name>],
    raw: &[u8],
    i: u32,
) -> Result<Name, String> {
    let &(a, b) =
        strings.get(i as usize).ok_or_else(|| format!("string index {i} out of range"))?;
    Ok(names[i as usize]
        .get_or_insert_with(|| Arc::from(String::from_utf8_lossy(&raw[a..b])))
        .clone())
}

/// `out`'s Redis command with its fixed fields set, keeping its argv and script buffers when it
/// already holds one.
fn redis_slot(out: &mut Event, db: u32, client: Name, server_us: Micros) -> &mut RedisCommand {
    if let EventBody::Redis(c) = &mut out.body {
        c.db = db;
        c.client = client;
        c.server_us = server_us;
    } else {
        out.body = EventBody::Redis(RedisCommand {
            db,
            client,
            server_us,
            argv: Argv::new(),
            script: Vec::new(),
        });
    }
    match &mut out.body {
        EventBody::Redis(c) => c,
        _ => unreachable!("set just above"),
    }
}

/// A placeholder event for [`FrameCursor::next_into`] to overwrite.
pub(crate) fn blank_event() -> Event {
    Event {
        seq: 0,
        source: SourceId(0),
        recv_us: 0,
        body: EventBody::Gap(Gap { from_us: 0, to_us: 0, reason: String::new() }),
    }
}
