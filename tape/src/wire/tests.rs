/*!
One frame's encoding and decoding: round trips of every event kind, the hand-written and serde
readers held equal, the borrowed (`decode_ref`, short form first) and owned (`next_into`) ways
held to the same events and errors on every cut and flipped byte, the read-ahead hint, and the
string table.
*/

use std::sync::Arc;

use super::cursor::{Decoded, FrameCursor, blank_event};
use super::encoder::FrameEncoder;
use super::schema::WireFrameHead;
use super::{decode_frame, encode_frame};
use crate::argv::Argv;
use crate::event::*;

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
