/*!
The trace file's wire layout, and the encoding of one frame.

```text
file    = preamble header-bytes block* ;            every integer little-endian
preamble= magic "CTAPE\r\n\x1a" (8) | version u16 | header_len u32 | header_crc u32
header-bytes = postcard(Header)                      (header_len bytes, CRC-32 = header_crc)
block   = tag [u8;4] | payload_len u32 | raw_len u32 | events u32
          | first_us i64 | last_us i64 | head_crc u32 | payload_crc u32 | payload
          (40 bytes before the payload; head_crc covers the 32 bytes before it)
tag     = "FRAM": payload = zstd(postcard(WireFrame)), raw_len = decompressed size
        | "FOOT": payload = postcard(Footer), raw_len = payload_len, last block of a closed trace
```

A frame's raw bytes are `postcard(WireFrame)` where `WireFrame = { first_seq: u64, base_us: i64,
strings: Vec<bytes>, events: Vec<WireEvent> }` (ARCHITECTURE.md spells out every struct). The
encoder writes it field by field ([`FrameEncoder`]) and the decoder reads it back the same way
([`FrameCursor`]): the head, then one event at a time, so a whole frame never has to exist twice
in memory.

A frame is independent: it carries its own string table (clients, command names, tables,
columns, keyspace events are interned per frame), its first sequence number and a base time;
events store their sequence number and receive time as deltas from the previous event, and source
timestamps as deltas from the receive time, all as postcard varints (zig-zag for signed). The
block head repeats the frame's event count and time span outside the compressed payload, so a
frame cut short by a crash still says how many events, from when to when, were lost.

The checksum is CRC-32 (IEEE). postcard 1.x has a stable, documented wire format
(<https://postcard.jamesmunns.com/wire-format>).
*/

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::argv::{Argv, ArgvRef};
use crate::event::*;
use crate::value::*;

/// The eight bytes every trace starts with.
pub const MAGIC: [u8; 8] = *b"CTAPE\r\n\x1a";
/// The format version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u16 = 1;
/// Tag of a frame block.
pub const FRAME_TAG: [u8; 4] = *b"FRAM";
/// Tag of the footer block.
pub const FOOTER_TAG: [u8; 4] = *b"FOOT";
/// Bytes before the header's postcard bytes.
pub const PREAMBLE_LEN: usize = 18;
/// Bytes of a block head.
pub const BLOCK_HEAD_LEN: usize = 40;
/// Largest decompressed frame a reader accepts (a defence against corrupt lengths).
pub const MAX_RAW_FRAME: u32 = 256 << 20;
/// Largest header a reader accepts.
pub const MAX_HEADER: u32 = 16 << 20;

/// A block head, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHead {
    /// [`FRAME_TAG`] or [`FOOTER_TAG`].
    pub tag: [u8; 4],
    /// Bytes of payload after the head.
    pub payload_len: u32,
    /// Bytes of the payload once decompressed.
    pub raw_len: u32,
    /// Events in the frame (0 for the footer).
    pub events: u32,
    /// Receive time of the frame's first event.
    pub first_us: Micros,
    /// Receive time of the frame's last event.
    pub last_us: Micros,
    /// CRC-32 of the payload.
    pub payload_crc: u32,
}

impl BlockHead {
    /// Encodes the head, computing its own checksum.
    pub fn encode(&self) -> [u8; BLOCK_HEAD_LEN] {
        let mut b = [0u8; BLOCK_HEAD_LEN];
        b[0..4].copy_from_slice(&self.tag);
        b[4..8].copy_from_slice(&self.payload_len.to_le_bytes());
        b[8..12].copy_from_slice(&self.raw_len.to_le_bytes());
        b[12..16].copy_from_slice(&self.events.to_le_bytes());
        b[16..24].copy_from_slice(&self.first_us.to_le_bytes());
        b[24..32].copy_from_slice(&self.last_us.to_le_bytes());
        let head_crc = crc32fast::hash(&b[0..32]);
        b[32..36].copy_from_slice(&head_crc.to_le_bytes());
        b[36..40].copy_from_slice(&self.payload_crc.to_le_bytes());
        b
    }

    /// Decodes a head; `Err` says what is wrong with it.
    pub fn decode(b: &[u8; BLOCK_HEAD_LEN]) -> Result<BlockHead, &'static str> {
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        let i64_at = |i: usize| i64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        let tag: [u8; 4] = b[0..4].try_into().unwrap();
        if tag != FRAME_TAG && tag != FOOTER_TAG {
            return Err("no block starts here (unknown tag)");
        }
        if crc32fast::hash(&b[0..32]) != u32_at(32) {
            return Err("block head checksum mismatch");
        }
        Ok(BlockHead {
            tag,
            payload_len: u32_at(4),
            raw_len: u32_at(8),
            events: u32_at(12),
            first_us: i64_at(16),
            last_us: i64_at(24),
            payload_crc: u32_at(36),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Wire structs (postcard encodes them field by field, in declaration order).

/// Borrowed bytes that serialize as serde bytes (postcard: varint length + bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawBytes<'a>(pub &'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawBytes<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawBytes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("borrowed bytes")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
                Ok(RawBytes(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(RawBytes(v.as_bytes()))
            }
        }
        d.deserialize_bytes(V)
    }
}

impl fmt::Debug for RawBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.0))
    }
}

/// Arguments 1.. of an argv, serialized as a sequence of bytes without copying.
struct ArgsTail<'a>(&'a Argv);

impl Serialize for ArgsTail<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = self.0.len().saturating_sub(1);
        let mut seq = s.serialize_seq(Some(n))?;
        for arg in self.0.iter().skip(1) {
            seq.serialize_element(&RawBytes(arg))?;
        }
        seq.end()
    }
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct WireRow<'a> {
    pub table: u32,
    /// 0 insert, 1 update, 2 delete.
    pub op: u8,
    pub txn: u64,
    pub header_secs: u32,
    #[serde(borrow)]
    pub before: Option<Vec<WireCell<'a>>>,
    #[serde(borrow)]
    pub after: Option<Vec<WireCell<'a>>>,
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct WireCell<'a> {
    pub column: u32,
    #[serde(borrow)]
    pub value: WireValue<'a>,
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) enum WireValue<'a> {
    Null,
    Int(i64),
    UInt(u64),
    Float(f32),
    Double(f64),
    Decimal(&'a str),
    Bytes(#[serde(borrow)] RawBytes<'a>),
    DateTime(u16, u8, u8, u8, u8, u8, u32),
    Timestamp(i64),
    Time(i64),
    Json(&'a str),
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct WireCommit<'a> {
    pub txn: u64,
    pub header_secs: u32,
    /// `commit_us - recv_us`.
    pub commit_delta: Option<i64>,
    pub gtid: Option<&'a str>,
    pub xid: Option<u64>,
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct WireSnapshot<'a> {
    pub db: u32,
    #[serde(borrow)]
    pub key: RawBytes<'a>,
    #[serde(borrow)]
    pub value: WireStored<'a>,
    pub pttl_ms: i64,
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) enum WireStored<'a> {
    Missing,
    String(#[serde(borrow)] RawBytes<'a>),
    Hash(#[serde(borrow)] Vec<(RawBytes<'a>, RawBytes<'a>)>),
    List(#[serde(borrow)] Vec<RawBytes<'a>>),
    Set(#[serde(borrow)] Vec<RawBytes<'a>>),
    SortedSet(#[serde(borrow)] Vec<(RawBytes<'a>, f64)>),
    Other(&'a str),
}

// ---------------------------------------------------------------------------------------------
// Encoding.

/// Builds one frame's raw (uncompressed) bytes event by event.
#[derive(Default)]
pub(crate) struct FrameEncoder {
    strings: Vec<Vec<u8>>,
    index: HashMap<Vec<u8>, u32>,
    events: Vec<u8>,
    count: u32,
    first_seq: u64,
    base_us: i64,
    prev_seq: u64,
    prev_us: i64,
    strings_len: usize,
}

/// A finished frame, before compression.
pub(crate) struct RawFrame {
    pub raw: Vec<u8>,
    pub events: u32,
    pub first_us: Micros,
    pub last_us: Micros,
}

impl FrameEncoder {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Approximate raw size so far.
    pub fn raw_len(&self) -> usize {
        self.events.len() + self.strings_len
    }

    pub fn event_count(&self) -> u32 {
        self.count
    }

    fn intern(&mut self, s: &[u8]) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_vec());
        self.index.insert(s.to_vec(), i);
        self.strings_len += s.len() + 2;
        i
    }

    /// Appends one event; `seq` must be greater than the previous event's.
    pub fn push(&mut self, e: &Event) {
        if self.count == 0 {
            self.first_seq = e.seq;
            self.base_us = e.recv_us;
            self.prev_seq = e.seq.wrapping_sub(1);
            self.prev_us = e.recv_us;
        }
        let body = self.wire_body(e);
        let wire = WireEventOut {
            seq_gap: e.seq.wrapping_sub(self.prev_seq).wrapping_sub(1),
            source: e.source.0,
            recv_delta: e.recv_us.wrapping_sub(self.prev_us),
            body,
        };
        self.events =
            postcard::to_extend(&wire, std::mem::take(&mut self.events)).expect("Vec never fails");
        self.prev_seq = e.seq;
        self.prev_us = e.recv_us;
        self.count += 1;
    }

    fn wire_body<'e>(&mut self, e: &'e Event) -> WireBodyOut<'e> {
        let recv = e.recv_us;
        match &e.body {
            EventBody::Redis(c) => WireBodyOut::Redis {
                db: c.db,
                client: self.intern(c.client.as_bytes()),
                server_delta: c.server_us.wrapping_sub(recv),
                name: self.intern(c.argv.name()),
                args: ArgsTail(&c.argv),
                script: c
                    .script
                    .iter()
                    .map(|s| WireScriptOut {
                        db: s.db,
                        server_delta: s.server_us.wrapping_sub(c.server_us),
                        name: self.intern(s.argv.name()),
                        args: ArgsTail(&s.argv),
                    })
                    .collect(),
            },
            EventBody::Row(r) => WireBodyOut::Row(WireRowOut {
                table: self.intern(r.table.as_bytes()),
                op: match r.op {
                    RowOp::Insert => 0,
                    RowOp::Update => 1,
                    RowOp::Delete => 2,
                },
                txn: r.txn,
                header_secs: r.header_secs,
                before: r.before.as_ref().map(|img| self.wire_cells(img)),
                after: r.after.as_ref().map(|img| self.wire_cells(img)),
            }),
            EventBody::Commit(c) => WireBodyOut::Commit(WireCommit {
                txn: c.txn,
                header_secs: c.header_secs,
                commit_delta: c.commit_us.map(|t| t.wrapping_sub(recv)),
                gtid: c.gtid.as_deref(),
                xid: c.xid,
            }),
            EventBody::ClockProbe(p) => WireBodyOut::ClockProbe {
                send_delta: p.local_send_us.wrapping_sub(recv),
                remote_delta: p.remote_us.wrapping_sub(recv),
                recv_delta: p.local_recv_us.wrapping_sub(recv),
            },
            EventBody::Snapshot(s) => WireBodyOut::Snapshot(WireSnapshot {
                db: s.db,
                key: RawBytes(&s.key),
                value: match &s.value {
                    StoredValue::Missing => WireStored::Missing,
                    StoredValue::String(v) => WireStored::String(RawBytes(v)),
                    StoredValue::Hash(kv) => WireStored::Hash(
                        kv.iter().map(|(k, v)| (RawBytes(&k[..]), RawBytes(&v[..]))).collect(),
                    ),
                    StoredValue::List(l) => {
                        WireStored::List(l.iter().map(|v| RawBytes(&v[..])).collect())
                    }
                    StoredValue::Set(l) => {
                        WireStored::Set(l.iter().map(|v| RawBytes(&v[..])).collect())
                    }
                    StoredValue::SortedSet(l) => WireStored::SortedSet(
                        l.iter().map(|(m, s)| (RawBytes(&m[..]), *s)).collect(),
                    ),
                    StoredValue::Other(t) => WireStored::Other(t),
                },
                pttl_ms: s.pttl_ms,
            }),
            EventBody::Gap(g) => WireBodyOut::Gap {
                from_delta: g.from_us.wrapping_sub(recv),
                to_delta: g.to_us.wrapping_sub(recv),
                reason: &g.reason,
            },
            EventBody::Keyspace(k) => WireBodyOut::Keyspace {
                db: k.db,
                key: RawBytes(&k.key),
                event: self.intern(k.event.as_bytes()),
            },
        }
    }

    fn wire_cells<'e>(&mut self, img: &'e RowImage) -> Vec<WireCellOut<'e>> {
        img.cells
            .iter()
            .map(|c| WireCellOut {
                column: self.intern(c.column.as_bytes()),
                value: match &c.value {
                    Value::Null => WireValue::Null,
                    Value::Int(v) => WireValue::Int(*v),
                    Value::UInt(v) => WireValue::UInt(*v),
                    Value::Float(v) => WireValue::Float(*v),
                    Value::Double(v) => WireValue::Double(*v),
                    Value::Decimal(v) => WireValue::Decimal(v),
                    Value::Bytes(v) => WireValue::Bytes(RawBytes(v)),
                    Value::DateTime(d) => WireValue::DateTime(
                        d.year, d.month, d.day, d.hour, d.minute, d.second, d.micros,
                    ),
                    Value::Timestamp(v) => WireValue::Timestamp(*v),
                    Value::Time(v) => WireValue::Time(*v),
                    Value::Json(v) => WireValue::Json(v),
                },
            })
            .collect()
    }

    /// Finishes the frame: `postcard(WireFrame)`, and resets the encoder.
    pub fn finish(&mut self) -> RawFrame {
        let mut raw = Vec::with_capacity(self.raw_len() + 32);
        raw = postcard::to_extend(&self.first_seq, raw).expect("Vec never fails");
        raw = postcard::to_extend(&self.base_us, raw).expect("Vec never fails");
        let strings: Vec<RawBytes<'_>> = self.strings.iter().map(|s| RawBytes(s)).collect();
        raw = postcard::to_extend(&strings, raw).expect("Vec never fails");
        raw = postcard::to_extend(&(self.count as usize), raw).expect("Vec never fails");
        raw.extend_from_slice(&self.events);
        let frame =
            RawFrame { raw, events: self.count, first_us: self.base_us, last_us: self.prev_us };
        self.strings.clear();
        self.index.clear();
        self.events.clear();
        self.strings_len = 0;
        self.count = 0;
        frame
    }
}

// Encoding-side wire structs (borrowing from events, no copies). Field and variant order must
// match the decoding structs below exactly; `frames_round_trip` checks it for every kind.
#[derive(Serialize)]
struct WireEventOut<'a> {
    seq_gap: u64,
    source: u16,
    recv_delta: i64,
    body: WireBodyOut<'a>,
}

#[derive(Serialize)]
enum WireBodyOut<'a> {
    Redis {
        db: u32,
        client: u32,
        server_delta: i64,
        name: u32,
        args: ArgsTail<'a>,
        script: Vec<WireScriptOut<'a>>,
    },
    Row(WireRowOut<'a>),
    Commit(WireCommit<'a>),
    ClockProbe {
        send_delta: i64,
        remote_delta: i64,
        recv_delta: i64,
    },
    Snapshot(WireSnapshot<'a>),
    Gap {
        from_delta: i64,
        to_delta: i64,
        reason: &'a str,
    },
    Keyspace {
        db: u32,
        key: RawBytes<'a>,
        event: u32,
    },
}

#[derive(Serialize)]
struct WireScriptOut<'a> {
    db: u32,
    server_delta: i64,
    name: u32,
    args: ArgsTail<'a>,
}

#[derive(Serialize)]
struct WireRowOut<'a> {
    table: u32,
    op: u8,
    txn: u64,
    header_secs: u32,
    before: Option<Vec<WireCellOut<'a>>>,
    after: Option<Vec<WireCellOut<'a>>>,
}

#[derive(Serialize)]
struct WireCellOut<'a> {
    column: u32,
    value: WireValue<'a>,
}

// ---------------------------------------------------------------------------------------------
// Decoding.

/// The fields of a frame before its events (`WireFrame` minus the event list's elements).
#[derive(Deserialize)]
struct WireFrameHead<'a> {
    first_seq: u64,
    base_us: i64,
    #[serde(borrow)]
    strings: Vec<RawBytes<'a>>,
    events: usize,
}

/// Arguments as the serde path decodes them (inline, no allocation for up to five).
type Args<'a> = SmallVec<[RawBytes<'a>; 5]>;

/// The decoding twin of the encoder's body: every kind but Redis commands is read through it
/// (Redis commands are read by hand, `FrameCursor::decode_redis`; a test holds both to the same
/// result).

#[derive(Deserialize)]
enum WireBodyIn<'a> {
    Redis {
        db: u32,
        client: u32,
        server_delta: i64,
        name: u32,
        #[serde(borrow)]
        args: Args<'a>,
        #[serde(borrow)]
        script: Vec<WireScriptIn<'a>>,
    },
    Row(#[serde(borrow)] WireRow<'a>),
    Commit(#[serde(borrow)] WireCommit<'a>),
    ClockProbe {
        send_delta: i64,
        remote_delta: i64,
        recv_delta: i64,
    },
    Snapshot(#[serde(borrow)] WireSnapshot<'a>),
    Gap {
        from_delta: i64,
        to_delta: i64,
        #[serde(borrow)]
        reason: &'a str,
    },
    Keyspace {
        db: u32,
        #[serde(borrow)]
        key: RawBytes<'a>,
        event: u32,
    },
}

#[derive(Deserialize)]
struct WireScriptIn<'a> {
    db: u32,
    server_delta: i64,
    name: u32,
    #[serde(borrow)]
    args: Args<'a>,
}

/// The top bits of the nine head bytes of an event read as one little-endian word (sequence gap,
/// source, receive delta, kind, db, client, server delta, name, argument count): all clear when
/// each is a one-byte varint, the short form [`FrameCursor::decode_short`] and
/// [`RedisRef::next_key_hint`] read at fixed offsets.
const SHORT_HEAD_HIGH_BITS: u128 = 0x80_8080_8080_8080_8080;

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
    hand_redis: bool,
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
    /// a Redis command in the frame's short form (see [`FrameCursor::decode_short`]), read at
    /// fixed offsets without decoding it. For a replayer to start loading that key's memory
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

    /// [`FrameCursor::decode_ref`]'s common case in one pass: a Redis command without script
    /// lines whose nine head fields (sequence gap, source, receive delta, kind, db, client,
    /// server delta, name, argument count) and argument lengths are all one-byte varints, its
    /// client's name already made. The head is read as one 16-byte word, so its fields cost a
    /// shift each instead of a bounds check and a branch. Anything else — a longer varint, a
    /// string index out of range, an argument running past the frame, fewer than 16 bytes left —
    /// returns false having changed nothing but the spans scratch buffer, and the general path
    /// decodes (or rejects) the event exactly as before; tests and the `trace_reader_ref` fuzz
    /// target hold both to the same events and errors.
    #[inline(always)]
    fn decode_short(&mut self) -> bool {
        const HEAD: usize = 9;
        let pos = self.pos;
        let Some(word) = self.raw.get(pos..pos + 16) else { return false };
        let w = u128::from_le_bytes(word.try_into().expect("16 bytes"));
        // Every head byte below 0x80 (a one-byte varint), and the kind is 0 (Redis).
        if w & SHORT_HEAD_HIGH_BITS != 0 || (w >> 24) as u8 != 0 {
            return false;
        }
        let field = |i: u32| (w >> (8 * i)) as u8;
        let zigzag = |b: u8| i64::from(b >> 1) ^ -i64::from(b & 1);
        let (client, name, argc) = (field(5) as usize, field(7) as usize, field(8) as usize);
        let (Some(&(a, e)), Some(Some(_))) = (self.strings.get(name), self.names.get(client))
        else {
            return false;
        };
        let Some(seq) = self.next_seq.checked_add(u64::from(field(0))) else { return false };
        let raw = &self.raw[..];
        let mut p = pos + HEAD;
        if argc > raw.len() - p {
            return false;
        }
        let spans = &mut self.borrowed.spans;
        spans.clear();
        spans.push((a as u32, e as u32));
        for _ in 0..argc {
            let n = match raw.get(p) {
                Some(&n) if n < 0x80 && (n as usize) < raw.len() - p => n as usize,
                _ => return false,
            };
            p += 1;
            spans.push((p as u32, (p + n) as u32));
            p += n;
        }
        // No script lines.
        if raw.get(p) != Some(&0) {
            return false;
        }
        let recv = self.recv.wrapping_add(zigzag(field(2)));
        let b = &mut self.borrowed;
        b.seq = seq;
        b.source = u16::from(field(1));
        b.recv_us = recv;
        b.db = u32::from(field(4));
        b.client = client as u32;
        b.server_us = recv.wrapping_add(zigzag(field(6)));
        self.next_seq = seq.wrapping_add(1);
        self.recv = recv;
        self.pos = p + 1;
        self.remaining -= 1;
        true
    }

    /// [`RedisRef::next_key_hint`].
    #[inline(always)]
    fn next_key_hint(&self) -> Option<&[u8]> {
        if self.remaining == 0 {
            return None;
        }
        let pos = self.pos;
        let word = self.raw.get(pos..pos + 16)?;
        let w = u128::from_le_bytes(word.try_into().expect("16 bytes"));
        // One-byte head fields, a Redis command, at least one argument, a one-byte length.
        if w & SHORT_HEAD_HIGH_BITS != 0 || (w >> 24) as u8 != 0 || (w >> 64) as u8 == 0 {
            return None;
        }
        let n = (w >> 72) as u8;
        if n >= 0x80 {
            return None;
        }
        self.raw.get(pos + 10..pos + 10 + n as usize)
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
        let str_at = |strings: &[(usize, usize)], i: u32| -> Result<&[u8], String> {
            let &(a, b) =
                strings.get(i as usize).ok_or_else(|| format!("string index {i} out of range"))?;
            Ok(&raw[a..b])
        };
        match &body {
            &WireBodyIn::Redis { db, client, server_delta, name, ref args, ref script } => {
                let client = self.name_in(raw, client)?;
                let server_us = recv.wrapping_add(server_delta);
                let c = redis_slot(out, db, client, server_us);
                fill_argv(&mut c.argv, str_at(&self.strings, name)?, args);
                c.script.truncate(script.len());
                for (i, s) in script.iter().enumerate() {
                    let call_us = server_us.wrapping_add(s.server_delta);
                    let name = str_at(&self.strings, s.name)?;
                    match c.script.get_mut(i) {
                        Some(call) => {
                            call.db = s.db;
                            call.server_us = call_us;
                            fill_argv(&mut call.argv, name, &s.args);
                        }
                        None => {
                            let mut argv = Argv::new();
                            fill_argv(&mut argv, name, &s.args);
                            c.script.push(ScriptCall { db: s.db, server_us: call_us, argv });
                        }
                    }
                }
            }
            WireBodyIn::Row(r) => {
                let mut name = |i| self.name_in(raw, i);
                let before = r.before.as_deref().map(|c| image_of(c, &mut name)).transpose()?;
                let after = r.after.as_deref().map(|c| image_of(c, &mut name)).transpose()?;
                out.body = EventBody::Row(RowChange {
                    table: name(r.table)?,
                    op: match r.op {
                        0 => RowOp::Insert,
                        1 => RowOp::Update,
                        2 => RowOp::Delete,
                        op => return Err(format!("unknown row operation {op}")),
                    },
                    before,
                    after,
                    txn: r.txn,
                    header_secs: r.header_secs,
                });
            }
            WireBodyIn::Commit(c) => {
                out.body = EventBody::Commit(Commit {
                    txn: c.txn,
                    header_secs: c.header_secs,
                    commit_us: c.commit_delta.map(|d| recv.wrapping_add(d)),
                    gtid: c.gtid.map(str::to_string),
                    xid: c.xid,
                })
            }
            &WireBodyIn::ClockProbe { send_delta, remote_delta, recv_delta } => {
                out.body = EventBody::ClockProbe(ClockProbe {
                    local_send_us: recv.wrapping_add(send_delta),
                    remote_us: recv.wrapping_add(remote_delta),
                    local_recv_us: recv.wrapping_add(recv_delta),
                })
            }
            WireBodyIn::Snapshot(s) => {
                out.body = EventBody::Snapshot(Snapshot {
                    db: s.db,
                    key: s.key.0.to_vec(),
                    value: match &s.value {
                        WireStored::Missing => StoredValue::Missing,
                        WireStored::String(v) => StoredValue::String(v.0.to_vec()),
                        WireStored::Hash(kv) => StoredValue::Hash(
                            kv.iter().map(|(k, v)| (k.0.to_vec(), v.0.to_vec())).collect(),
                        ),
                        WireStored::List(l) => {
                            StoredValue::List(l.iter().map(|v| v.0.to_vec()).collect())
                        }
                        WireStored::Set(l) => {
                            StoredValue::Set(l.iter().map(|v| v.0.to_vec()).collect())
                        }
                        WireStored::SortedSet(l) => StoredValue::SortedSet(
                            l.iter().map(|(m, s)| (m.0.to_vec(), *s)).collect(),
                        ),
                        WireStored::Other(t) => StoredValue::Other(t.to_string()),
                    },
                    pttl_ms: s.pttl_ms,
                })
            }
            &WireBodyIn::Gap { from_delta, to_delta, reason } => {
                out.body = EventBody::Gap(Gap {
                    from_us: recv.wrapping_add(from_delta),
                    to_us: recv.wrapping_add(to_delta),
                    reason: reason.to_string(),
                })
            }
            &WireBodyIn::Keyspace { db, key, event } => {
                out.body = EventBody::Keyspace(KeyspaceNotice {
                    db,
                    key: key.0.to_vec(),
                    event: self.name_in(raw, event)?,
                })
            }
        }
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

    /// [`FrameCursor::name`] while the frame's bytes are moved out into `raw`.
    fn name_in(&mut self, raw: &[u8], i: u32) -> Result<Name, String> {
        let &(a, b) =
            self.strings.get(i as usize).ok_or_else(|| format!("string index {i} out of range"))?;
        Ok(self.names[i as usize]
            .get_or_insert_with(|| Arc::from(String::from_utf8_lossy(&raw[a..b])))
            .clone())
    }
}

/// Reads postcard's primitives (varints, zig-zag varints, length-prefixed bytes) from a frame, as
/// the wire-format spec defines them, rejecting overlong or out-of-range varints as postcard does.
struct WireReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> WireReader<'a> {
    /// One varint; most are a single byte, read inline.
    #[inline(always)]
    fn varint(&mut self, max: u64) -> Result<u64, String> {
        if let Some(&byte) = self.buf.get(self.pos)
            && byte < 0x80
            && u64::from(byte) <= max
        {
            self.pos += 1;
            return Ok(u64::from(byte));
        }
        self.varint_long(max)
    }

    #[inline(never)]
    fn varint_long(&mut self, max: u64) -> Result<u64, String> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err("the frame ends inside a number".into());
            };
            self.pos += 1;
            let bits = u64::from(byte & 0x7f);
            if i == 9 && byte > 1 {
                return Err("a number is too large".into());
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                if value > max {
                    return Err(format!("{value} is out of range here"));
                }
                return Ok(value);
            }
        }
        Err("a number is too long".into())
    }

    #[inline(always)]
    fn u32(&mut self) -> Result<u32, String> {
        self.varint(u32::MAX as u64).map(|v| v as u32)
    }

    #[inline(always)]
    fn len(&mut self) -> Result<usize, String> {
        let n = self.varint(u64::MAX)?;
        // Every element takes at least one byte: a longer count is damage.
        if n > (self.buf.len() - self.pos) as u64 {
            return Err(format!("a list of {n} elements cannot fit in what is left of the frame"));
        }
        Ok(n as usize)
    }

    #[inline(always)]
    fn zigzag(&mut self) -> Result<i64, String> {
        let v = self.varint(u64::MAX)?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    #[inline(always)]
    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.varint(u64::MAX)?;
        if n > (self.buf.len() - self.pos) as u64 {
            return Err("the frame ends inside an argument".into());
        }
        let start = self.pos;
        self.pos += n as usize;
        Ok(&self.buf[start..self.pos])
    }
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

fn fill_argv(argv: &mut Argv, name: &[u8], args: &[RawBytes<'_>]) {
    argv.clear();
    argv.push(name);
    for a in args {
        argv.push(a.0);
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

/// Encodes events as one frame's raw (uncompressed) bytes, as the writer does before zstd.
/// For tools and fuzzing; traces are written with [`crate::Writer`].
pub fn encode_frame(events: &[Event]) -> Vec<u8> {
    let mut enc = FrameEncoder::default();
    for e in events {
        enc.push(e);
    }
    enc.finish().raw
}

/// An event and the read-ahead hint it came with (see [`decode_frame_ref`]).
pub type HintedEvent = (Event, Option<Vec<u8>>);

/// [`decode_frame`] the way replay reads a frame ([`crate::Reader::next_ref`]: Redis commands
/// lent from the frame, the rest decoded into a reused event), each event with the read-ahead
/// hint ([`RedisRef::next_key_hint`]) it came with. For fuzzing: the events and the error must be
/// [`decode_frame`]'s, and a hint the next event's first argument.
pub fn decode_frame_ref(raw: &[u8]) -> Result<Vec<HintedEvent>, String> {
    let mut cursor = FrameCursor::open(raw.to_vec())?;
    let mut out = Vec::with_capacity(cursor.remaining());
    let mut scratch = blank_event();
    while cursor.remaining() > 0 {
        let decoded = cursor.decode_ref(&mut scratch)?;
        let hint = match cursor.current(decoded, &scratch) {
            EventRef::Redis(r) => r.next_key_hint().map(<[u8]>::to_vec),
            EventRef::Owned(_) => None,
        };
        out.push((cursor.current(decoded, &scratch).to_event(), hint));
    }
    cursor.next_into(&mut scratch)?;
    Ok(out)
}

/// Decodes one frame's raw (decompressed) bytes into events; `Err` says what is wrong with them.
/// For tools and fuzzing; traces are read with [`crate::Reader`].
pub fn decode_frame(raw: &[u8]) -> Result<Vec<Event>, String> {
    let mut cursor = FrameCursor::open(raw.to_vec())?;
    let mut out = Vec::with_capacity(cursor.remaining());
    loop {
        let mut e = blank_event();
        if !cursor.next_into(&mut e)? {
            return Ok(out);
        }
        out.push(e);
    }
}

fn image_of(
    cells: &[WireCell<'_>],
    name: &mut impl FnMut(u32) -> Result<Name, String>,
) -> Result<RowImage, String> {
    let mut out = Vec::with_capacity(cells.len());
    for c in cells {
        out.push(Cell { column: name(c.column)?, value: value_of(&c.value) });
    }
    Ok(RowImage { cells: out })
}

fn value_of(v: &WireValue<'_>) -> Value {
    match v {
        WireValue::Null => Value::Null,
        WireValue::Int(v) => Value::Int(*v),
        WireValue::UInt(v) => Value::UInt(*v),
        WireValue::Float(v) => Value::Float(*v),
        WireValue::Double(v) => Value::Double(*v),
        WireValue::Decimal(v) => Value::Decimal(v.to_string()),
        WireValue::Bytes(v) => Value::Bytes(v.0.to_vec()),
        WireValue::DateTime(year, month, day, hour, minute, second, micros) => {
            Value::DateTime(DateTime {
                year: *year,
                month: *month,
                day: *day,
                hour: *hour,
                minute: *minute,
                second: *second,
                micros: *micros,
            })
        }
        WireValue::Timestamp(v) => Value::Timestamp(*v),
        WireValue::Time(v) => Value::Time(*v),
        WireValue::Json(v) => Value::Json(v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_head_round_trips_and_detects_damage() {
        let head = BlockHead {
            tag: FRAME_TAG,
            payload_len: 10,
            raw_len: 20,
            events: 3,
            first_us: 1_700_000_000_000_000,
            last_us: 1_700_000_000_500_000,
            payload_crc: 0xdead_beef,
        };
        let mut b = head.encode();
        assert_eq!(BlockHead::decode(&b), Ok(head));
        b[5] ^= 1;
        assert_eq!(BlockHead::decode(&b), Err("block head checksum mismatch"));
        b[0] = b'X';
        assert!(BlockHead::decode(&b).is_err());
    }

    #[test]
    fn frames_round_trip() {
        let events = crate::testdata::sample_events();
        let mut enc = FrameEncoder::default();
        for e in &events {
            enc.push(e);
        }
        let raw = enc.finish().raw;
        assert_eq!(decode_frame(&raw).unwrap(), events);
        // Decoding into reused events (a Redis event overwritten by every other kind and back)
        // gives the same events.
        let mut cursor = FrameCursor::open(raw.clone()).unwrap();
        let mut reused = events[1].clone();
        for e in &events {
            assert!(cursor.next_into(&mut reused).unwrap());
            assert_eq!(&reused, e);
        }
        assert!(!cursor.next_into(&mut reused).unwrap());
    }

    #[test]
    fn hand_and_serde_decoding_agree() {
        let mut events = crate::testdata::sample_events();
        for (i, e) in events.clone().iter().enumerate() {
            let mut e = e.clone();
            e.seq = 100 + i as u64;
            e.recv_us -= 7_000_000 * i as i64; // negative deltas
            events.push(e);
        }
        let mut enc = FrameEncoder::default();
        for e in &events {
            enc.push(e);
        }
        let raw = enc.finish().raw;
        let mut hand = FrameCursor::open(raw.clone()).unwrap();
        let mut serde = FrameCursor::open(raw).unwrap();
        serde.hand_redis = false;
        let (mut a, mut b) = (blank_event(), blank_event());
        while hand.next_into(&mut a).unwrap() {
            assert!(serde.next_into(&mut b).unwrap());
            assert_eq!(a, b);
        }
        assert!(!serde.next_into(&mut b).unwrap());
    }

    #[test]
    fn damaged_frames_are_errors() {
        let events = crate::testdata::sample_events();
        let mut enc = FrameEncoder::default();
        for e in &events {
            enc.push(e);
        }
        let raw = enc.finish().raw;
        for cut in 0..raw.len() {
            assert!(decode_frame(&raw[..cut]).is_err(), "a frame cut at {cut} must not decode");
        }
        let mut longer = raw.clone();
        longer.push(0);
        assert!(decode_frame(&longer).unwrap_err().contains("after the last event"));
    }

    /// A frame's events through `decode_ref` (as owned events) and through `next_into`, and
    /// how each ended.
    fn both_ways(raw: &[u8]) -> [(Vec<Event>, Result<(), String>); 2] {
        let mut borrowed = Vec::new();
        let end = FrameCursor::open(raw.to_vec()).and_then(|mut c| {
            let mut scratch = blank_event();
            while c.remaining() > 0 {
                let decoded = c.decode_ref(&mut scratch)?;
                borrowed.push(c.current(decoded, &scratch).to_event());
            }
            c.next_into(&mut scratch).map(drop)
        });
        let mut owned = Vec::new();
        let owned_end = FrameCursor::open(raw.to_vec()).and_then(|mut c| {
            let mut e = blank_event();
            while c.next_into(&mut e)? {
                owned.push(e.clone());
            }
            Ok(())
        });
        [(borrowed, end), (owned, owned_end)]
    }

    #[test]
    fn borrowed_and_owned_decoding_agree_on_every_damaged_frame() {
        let events = crate::testdata::sample_events();
        let raw = encode_frame(&events);
        agree_whole_cut_and_damaged(&raw, &events, &[0x01, 0x80, 0xff]);
    }

    /// Borrowed and owned decoding give `events` from `raw`, and the same events and error
    /// from every cut of it and every byte of it flipped by each of `flips`.
    fn agree_whole_cut_and_damaged(raw: &[u8], events: &[Event], flips: &[u8]) {
        let [ok, owned] = both_ways(raw);
        assert_eq!(ok, owned);
        assert_eq!(ok, (events.to_vec(), Ok(())));
        for cut in 0..raw.len() {
            let [a, b] = both_ways(&raw[..cut]);
            assert_eq!(a, b, "cut at {cut}");
        }
        for at in 0..raw.len() {
            for &flip in flips {
                let mut damaged = raw.to_vec();
                damaged[at] ^= flip;
                let [a, b] = both_ways(&damaged);
                assert_eq!(a, b, "byte {at} ^ {flip:#x}");
            }
        }
    }

    /// Commands that take [`FrameCursor::decode_short`] (one-byte fields, a client seen before),
    /// mixed with ones that must not: a long argument, a large time step, a db past 127, a
    /// script, a row.
    fn short_path_frame() -> (Vec<Event>, Vec<u8>) {
        let t = 1_795_666_525_369_271;
        let sample = crate::testdata::sample_events();
        let mut events = Vec::new();
        for i in 0..40u64 {
            let client = if i % 3 == 0 { "10.0.0.1:4000" } else { "10.0.0.2:4001" };
            let argv = match i % 5 {
                0 => Argv::from_parts(["GET".to_string(), format!("order:{i}")]),
                1 => Argv::from_parts(["SET", "order:7", "{\"status\":\"PAID\"}", "EX", "300"]),
                2 if i == 12 => Argv::from_parts([b"SET".to_vec(), b"big".to_vec(), vec![7; 300]]),
                3 => Argv::from_parts(["DEL", "order:7"]),
                _ => Argv::from_parts(["PING"]),
            };
            let step = if i == 20 { 100_000 } else { 3 };
            let body = match i {
                25 => sample[1].body.clone(),
                30 => sample[sample.len() - 3].body.clone(),
                _ => EventBody::Redis(RedisCommand {
                    db: if i == 33 { 200 } else { (i % 2) as u32 },
                    client: Arc::from(client),
                    server_us: t + (i as i64) * step - 20,
                    argv,
                    script: vec![],
                }),
            };
            events.push(Event {
                seq: 100 + i + 5 * (i >= 17) as u64,
                source: SourceId((i % 2) as u16),
                recv_us: t + (i as i64) * step,
                body,
            });
        }
        let raw = encode_frame(&events);
        (events, raw)
    }

    #[test]
    fn the_short_path_is_taken_and_agrees_with_the_general_one() {
        let (events, raw) = short_path_frame();
        let mut cursor = FrameCursor::open(raw.clone()).unwrap();
        let mut scratch = blank_event();
        let mut short = 0;
        for e in &events {
            if cursor.decode_short() {
                short += 1;
                assert_eq!(&cursor.current(Decoded::Redis, &scratch).to_event(), e);
            } else {
                let decoded = cursor.decode_ref(&mut scratch).unwrap();
                assert_eq!(&cursor.current(decoded, &scratch).to_event(), e);
            }
        }
        assert!(short >= 25, "only {short} of {} events took the short path", events.len());
        // The read-ahead hint is the next event's first argument whenever there is one.
        let mut cursor = FrameCursor::open(raw.clone()).unwrap();
        let mut hints = 0;
        for (i, _) in events.iter().enumerate() {
            cursor.decode_ref(&mut scratch).unwrap();
            let next = events.get(i + 1).map(|e| &e.body);
            match (cursor.next_key_hint(), next) {
                (Some(key), Some(EventBody::Redis(c))) => {
                    assert_eq!(Some(key), c.argv.get(1), "event {i}");
                    hints += 1;
                }
                (Some(key), next) => panic!("event {i}: hint {key:?} but next is {next:?}"),
                (None, _) => {}
            }
        }
        assert!(hints >= 15, "only {hints} hints");
        agree_whole_cut_and_damaged(&raw, &events, &[0x01, 0x02, 0x10, 0x7f, 0x80, 0xff]);
    }

    #[test]
    fn strings_are_interned_once_per_frame() {
        let events = crate::testdata::sample_events();
        let mut enc = FrameEncoder::default();
        for (i, e) in events.iter().chain(&events).enumerate() {
            let mut e = e.clone();
            e.seq = i as u64;
            enc.push(&e);
        }
        let raw = enc.finish().raw;
        let (head, _) = postcard::take_from_bytes::<WireFrameHead<'_>>(&raw).unwrap();
        let mut seen = std::collections::HashSet::new();
        assert!(head.strings.iter().all(|s| seen.insert(s.0)), "duplicate in string table");
    }
}
