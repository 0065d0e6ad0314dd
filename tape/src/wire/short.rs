/*!
The short form: the common Redis command read in one pass, at fixed offsets.

A Redis command without script lines whose nine head fields (sequence gap, source, receive delta,
kind, db, client, server delta, name, argument count) and argument lengths are all one-byte
varints has every head field at a fixed offset: the event's first 16 bytes, read as one
little-endian word, give each field for a shift instead of a bounds check and a branch. [`decode`]
reads such a command; for anything else — a longer varint, a string index out of range, a client
whose name is not made yet, an argument running past the frame, fewer than 16 bytes left — it
returns `None` having changed nothing but the spans scratch buffer, and the cursor's general path
decodes (or rejects) the event. Tests over every cut and flipped byte of a frame and the
`frame_decode_ref` / `trace_reader_ref` fuzz targets hold both ways to the same events and errors.

[`next_key_hint`] reads the next event's first argument at the same offsets without decoding it.
*/

use crate::event::Micros;
use crate::value::Name;

/// The top bits of the nine head bytes read as one little-endian word: all clear when each is a
/// one-byte varint.
const SHORT_HEAD_HIGH_BITS: u128 = 0x80_8080_8080_8080_8080;

/// Bytes of the head: one per field.
const HEAD: usize = 9;

/// A Redis command read in the short form: its event's fixed fields (times resolved against the
/// previous event), and where the next event starts. Its arguments are in the spans buffer.
pub(super) struct ShortCommand {
    pub seq: u64,
    pub source: u16,
    pub recv_us: Micros,
    pub db: u32,
    pub client: u32,
    pub server_us: Micros,
    /// Offset of the next event.
    pub end: usize,
}

/// Reads the event at `pos` of the frame `raw` if it is a Redis command in the short form, its
/// name and client among the interned `strings` and its client's name already made in `names`;
/// `next_seq` and `recv` are the sequence number and receive time the event's deltas start from.
/// The arguments, command name first, go to `spans` as (start, end) offsets into `raw`.
#[inline(always)]
pub(super) fn decode(
    raw: &[u8],
    pos: usize,
    strings: &[(usize, usize)],
    names: &[Option<Name>],
    next_seq: u64,
    recv: Micros,
    spans: &mut Vec<(u32, u32)>,
) -> Option<ShortCommand> {
    let word = raw.get(pos..pos + 16)?;
    let w = u128::from_le_bytes(word.try_into().expect("16 bytes"));
    // Every head byte below 0x80 (a one-byte varint), and the kind is 0 (Redis).
    if w & SHORT_HEAD_HIGH_BITS != 0 || (w >> 24) as u8 != 0 {
        return None;
    }
    let field = |i: u32| (w >> (8 * i)) as u8;
    let zigzag = |b: u8| i64::from(b >> 1) ^ -i64::from(b & 1);
    let (client, name, argc) = (field(5) as usize, field(7) as usize, field(8) as usize);
    let (Some(&(a, e)), Some(Some(_))) = (strings.get(name), names.get(client)) else {
        return None;
    };
    let seq = next_seq.checked_add(u64::from(field(0)))?;
    let mut p = pos + HEAD;
    if argc > raw.len() - p {
        return None;
    }
    spans.clear();
    spans.push((a as u32, e as u32));
    for _ in 0..argc {
        let n = match raw.get(p) {
            Some(&n) if n < 0x80 && (n as usize) < raw.len() - p => n as usize,
            _ => return None,
        };
        p += 1;
        spans.push((p as u32, (p + n) as u32));
        p += n;
    }
    // No script lines.
    if raw.get(p) != Some(&0) {
        return None;
    }
    let recv_us = recv.wrapping_add(zigzag(field(2)));
    Some(ShortCommand {
        seq,
        source: u16::from(field(1)),
        recv_us,
        db: u32::from(field(4)),
        client: client as u32,
        server_us: recv_us.wrapping_add(zigzag(field(6))),
        end: p + 1,
    })
}

/// The first argument of the event at `pos` when it is a Redis command whose head is in the
/// short form and whose first argument has a one-byte length; `None` for anything else. A hint
/// only: nothing else of the event is checked.
#[inline(always)]
pub(super) fn next_key_hint(raw: &[u8], pos: usize) -> Option<&[u8]> {
    let word = raw.get(pos..pos + 16)?;
    let w = u128::from_le_bytes(word.try_into().expect("16 bytes"));
    // One-byte head fields, a Redis command, at least one argument, a one-byte length.
    if w & SHORT_HEAD_HIGH_BITS != 0 || (w >> 24) as u8 != 0 || (w >> 64) as u8 == 0 {
        return None;
    }
    let n = (w >> (8 * HEAD)) as u8;
    if n >= 0x80 {
        return None;
    }
    raw.get(pos + HEAD + 1..pos + HEAD + 1 + n as usize)
}
