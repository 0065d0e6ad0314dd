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
encoder writes it field by field (`FrameEncoder`, in `encoder`) and the decoder reads it back the
same way (`FrameCursor`, in `cursor`): the head, then one event at a time, so a whole frame never
has to exist twice in memory.

A frame is independent: it carries its own string table (clients, command names, tables,
columns, keyspace events are interned per frame), its first sequence number and a base time;
events store their sequence number and receive time as deltas from the previous event, and source
timestamps as deltas from the receive time, all as postcard varints (zig-zag for signed). The
block head repeats the frame's event count and time span outside the compressed payload, so a
frame cut short by a crash still says how many events, from when to when, were lost.

The checksum is CRC-32 (IEEE). postcard 1.x has a stable, documented wire format
(<https://postcard.jamesmunns.com/wire-format>).

Files: `layout` (the constants above and [`BlockHead`]), `schema` (the postcard structs of a
frame), `convert` (model ⇄ wire values), `encoder`, `cursor` (the general decoding path and the
lent [`RedisRef`]), `short` (the one-pass short form of a common Redis command), `primitives`
(postcard's varints read by hand). The functions below encode and decode one whole frame, for
tools and fuzzing.
*/

mod convert;
mod cursor;
mod encoder;
mod layout;
mod primitives;
mod schema;
mod short;

#[cfg(test)]
mod tests;

pub(crate) use cursor::{Decoded, FrameCursor, blank_event};
pub use cursor::{EventRef, RedisRef};
pub(crate) use encoder::FrameEncoder;
pub use layout::*;

use crate::event::Event;

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
