//! The trace format end to end: round trips, truncation at every byte, corruption, versions.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use cachetape_tape::*;

fn header() -> Header {
    let mut h = Header::new(1_795_666_525_000_000);
    h.add_source(Source {
        name: "cache".into(),
        kind: SourceKind::Redis,
        address: "redis://:hunter2@10.0.0.7:6379/0".into(),
        version: Some("7.0.15".into()),
        capture: Capture::Live,
    });
    h.add_source(Source {
        name: "db".into(),
        kind: SourceKind::MariaDb,
        address: "mysql://root:pw@127.0.0.1:3306/shop".into(),
        version: None,
        capture: Capture::Live,
    });
    h
}

/// `n` events of mixed kinds, `per_ms` per millisecond.
fn events(n: usize) -> Vec<(SourceId, Micros, EventBody)> {
    let t0 = 1_795_666_525_000_000;
    (0..n)
        .map(|i| {
            let t = t0 + i as i64 * 250;
            let body = match i % 5 {
                0..=2 => EventBody::Redis(RedisCommand {
                    db: (i % 3) as u32,
                    client: Arc::from(format!("10.0.0.{}:{}", i % 7, 40000 + i % 13)),
                    server_us: t - 40,
                    argv: Argv::from_parts([
                        if i % 2 == 0 { "GET" } else { "SETEX" },
                        &format!("order:{}", i % 97),
                        "300",
                        &format!("{{\"id\":{},\"status\":\"PAID\"}}", i % 97),
                    ]),
                    script: Vec::new(),
                }),
                3 => EventBody::Row(RowChange {
                    table: Arc::from("shop.orders"),
                    op: RowOp::Update,
                    before: Some(RowImage {
                        cells: vec![
                            Cell { column: Arc::from("id"), value: Value::Int(i as i64) },
                            Cell {
                                column: Arc::from("status"),
                                value: Value::Bytes(b"NEW".to_vec()),
                            },
                        ],
                    }),
                    after: Some(RowImage {
                        cells: vec![
                            Cell { column: Arc::from("id"), value: Value::Int(i as i64) },
                            Cell {
                                column: Arc::from("status"),
                                value: Value::Bytes(b"PAID".to_vec()),
                            },
                        ],
                    }),
                    txn: i as u64,
                    header_secs: (t / 1_000_000) as u32,
                }),
                _ => EventBody::Commit(Commit {
                    txn: i as u64 - 1,
                    header_secs: (t / 1_000_000) as u32,
                    commit_us: None,
                    gtid: Some(format!("0-1-{i}")),
                    xid: Some(i as u64),
                }),
            };
            (SourceId(if i % 5 < 3 { 0 } else { 1 }), t, body)
        })
        .collect()
}

fn write(n: usize, options: WriterOptions) -> (Vec<u8>, Vec<Event>) {
    let mut w = Writer::new(Vec::new(), "mem", &header(), options).unwrap();
    let mut written = Vec::new();
    for (source, t, body) in events(n) {
        let seq = w.append(source, t, body.clone()).unwrap();
        written.push(Event { seq, source, recv_us: t, body });
    }
    let (bytes, footer) = w.finish().unwrap();
    assert_eq!(footer.events, n as u64);
    (bytes, written)
}

fn small_frames() -> WriterOptions {
    WriterOptions { max_frame_events: 40, ..WriterOptions::default() }
}

fn read_all(bytes: &[u8]) -> Result<(Vec<Event>, ReadReport)> {
    let mut r = Reader::new(bytes, "mem")?;
    let mut out = Vec::new();
    for e in &mut r {
        out.push(e?);
    }
    Ok((out, r.report().clone()))
}

#[test]
fn events_round_trip_exactly() {
    let (bytes, written) = write(1_000, small_frames());
    let (read, report) = read_all(&bytes).unwrap();
    assert_eq!(read, written);
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.frames, 25);
    let footer = report.footer.unwrap();
    assert_eq!(footer.count(EventKind::Redis), 600);
    assert_eq!(footer.count(EventKind::Row), 200);
    assert_eq!(footer.frames, 25);
}

#[test]
fn header_never_holds_credentials() {
    let (bytes, _) = write(10, small_frames());
    let r = Reader::new(&bytes[..], "mem").unwrap();
    assert_eq!(r.header().sources[0].address, "redis://10.0.0.7:6379/0");
    assert_eq!(r.header().sources[1].address, "mysql://127.0.0.1:3306/shop");
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("hunter2") && !text.contains("root:pw"));
}

#[test]
fn cutting_at_every_byte_recovers_every_complete_frame() {
    let (bytes, written) = write(300, small_frames());
    let header_len = {
        let r = Reader::new(&bytes[..], "mem").unwrap();
        r.report().bytes as usize
    };
    for cut in 0..bytes.len() {
        let part = &bytes[..cut];
        match read_all(part) {
            Err(Error::TruncatedHeader { .. }) | Err(Error::NotATrace { .. }) => {
                assert!(cut < header_len, "cut at {cut} refused after the header");
            }
            Err(e) => panic!("cut at {cut}: unexpected error {e}"),
            Ok((read, report)) => {
                assert_eq!(read[..], written[..read.len()], "cut at {cut}: events differ");
                assert_eq!(report.events as usize, read.len());
                let t = report.truncated.as_ref().expect("a cut trace is reported truncated");
                assert!(t.offset as usize <= cut);
                // Every frame that ended before the cut was recovered.
                if let Some(lost) = t.lost_frame {
                    assert_eq!(
                        read.len() + lost.events as usize,
                        ((read.len() / 40 + 1) * 40).min(300)
                    );
                }
                assert!(report.to_string().contains("events recovered"));
            }
        }
    }
}

#[test]
fn a_corrupt_frame_names_its_offset_and_salvage_skips_it() {
    let (mut bytes, written) = write(200, small_frames());
    // Find the second frame's offset by reading frame by frame.
    let offsets: Vec<u64> = {
        let mut r = Reader::new(&bytes[..], "mem").unwrap();
        std::iter::from_fn(|| r.next_frame().unwrap().map(|f| f.offset)).collect()
    };
    let second = offsets[1] as usize;
    bytes[second + 60] ^= 0x55; // inside the payload
    let err = read_all(&bytes).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&format!("byte offset {second}")), "{msg}");
    assert!(msg.contains("40 events before it are intact"), "{msg}");

    let mut r = Reader::new(&bytes[..], "mem").unwrap().salvage(true);
    let read: Vec<Event> = (&mut r).map(|e| e.unwrap()).collect();
    assert_eq!(read.len(), 160);
    assert_eq!(read[..40], written[..40]);
    assert_eq!(read[40..], written[80..]);
    assert_eq!(r.report().skipped.len(), 1);
    assert_eq!(r.report().known_lost_events(), 40);

    // A damaged block head: salvage finds the next frame by scanning.
    let (mut bytes, _) = write(200, small_frames());
    bytes[second + 2] ^= 0xff;
    assert!(read_all(&bytes).unwrap_err().to_string().contains(&format!("offset {second}")));
    let mut r = Reader::new(&bytes[..], "mem").unwrap().salvage(true);
    let n = (&mut r).inspect(|e| assert!(e.is_ok())).count();
    assert_eq!(n, 160);
}

#[test]
fn newer_versions_and_other_files_are_clear_errors() {
    let (mut bytes, _) = write(5, small_frames());
    bytes[8] = 99;
    let msg = read_all(&bytes).unwrap_err().to_string();
    assert!(msg.contains("format version 99") && msg.contains("upgrade cachetape"), "{msg}");
    let msg =
        read_all(b"1700000000.000000 [0 127.0.0.1:1] \"GET\" \"k\"\n").unwrap_err().to_string();
    assert!(msg.contains("not a cachetape trace"), "{msg}");
    bytes[8] = 1;
    bytes[20] ^= 1; // inside the header
    let msg = read_all(&bytes).unwrap_err().to_string();
    assert!(msg.contains("header is damaged"), "{msg}");
}

#[test]
fn a_frame_is_closed_when_it_gets_old() {
    // The writer's clock is the test's: time moves only when the test says so.
    let now = Arc::new(AtomicI64::new(5_000_000));
    let clock = Clock::from_fn({
        let now = Arc::clone(&now);
        move || now.load(Ordering::Relaxed)
    });
    let opts = WriterOptions {
        max_frame_age: Duration::from_millis(20),
        clock,
        ..WriterOptions::default()
    };
    let mut w = Writer::new(Vec::new(), "mem", &header(), opts).unwrap();
    let mut events = events(3).into_iter();
    let (source, t, body) = events.next().unwrap();
    w.append(source, t, body).unwrap();
    let before = w.bytes_written();
    now.fetch_add(19_999, Ordering::Relaxed);
    w.tick().unwrap();
    let (source, t, body) = events.next().unwrap();
    w.append(source, t, body).unwrap();
    assert_eq!(w.bytes_written(), before, "a frame younger than max_frame_age stays open");
    now.fetch_add(1, Ordering::Relaxed);
    w.tick().unwrap();
    assert!(w.bytes_written() > before, "tick at max_frame_age must write the frame");
    assert_eq!(w.counts().frames, 1);
    // The next frame's age counts from its own first event.
    let (source, t, body) = events.next().unwrap();
    w.append(source, t, body).unwrap();
    now.fetch_add(19_999, Ordering::Relaxed);
    w.tick().unwrap();
    assert_eq!(w.counts().frames, 1);
    now.fetch_add(1, Ordering::Relaxed);
    w.tick().unwrap();
    assert_eq!(w.counts().frames, 2);
}

#[test]
fn sequence_numbers_must_increase() {
    let mut w = Writer::new(Vec::new(), "mem", &header(), WriterOptions::default()).unwrap();
    let (source, t, body) = events(1).pop().unwrap();
    let e = Event { seq: 5, source, recv_us: t, body };
    w.append_event(&e).unwrap();
    assert!(matches!(w.append_event(&e), Err(Error::OutOfOrder { seq: 5, last: 5 })));
    assert_eq!(w.next_seq(), 6);
}

/// Every event and the outcome through `Reader::next_ref` (as owned events) and through
/// `Reader::next_event_into`: (events, the report or the error's text).
fn both_paths(
    bytes: &[u8],
    salvage: bool,
) -> [(Vec<Event>, std::result::Result<ReadReport, String>); 2] {
    let mut borrowed = Vec::new();
    let end = Reader::new(bytes, "mem").map_err(|e| e.to_string()).and_then(|r| {
        let mut r = r.salvage(salvage);
        let mut scratch = Event {
            seq: 0,
            source: SourceId(0),
            recv_us: 0,
            body: EventBody::Gap(Gap { from_us: 0, to_us: 0, reason: String::new() }),
        };
        loop {
            match r.next_ref(&mut scratch) {
                Ok(Some(e)) => borrowed.push(e.to_event()),
                Ok(None) => return Ok(r.report().clone()),
                Err(e) => return Err(e.to_string()),
            }
        }
    });
    let mut owned = Vec::new();
    let owned_end = Reader::new(bytes, "mem").map_err(|e| e.to_string()).and_then(|r| {
        let mut r = r.salvage(salvage);
        let mut e = Event {
            seq: 0,
            source: SourceId(0),
            recv_us: 0,
            body: EventBody::Gap(Gap { from_us: 0, to_us: 0, reason: String::new() }),
        };
        loop {
            match r.next_event_into(&mut e) {
                Ok(true) => owned.push(e.clone()),
                Ok(false) => return Ok(r.report().clone()),
                Err(err) => return Err(err.to_string()),
            }
        }
    });
    [(borrowed, end), (owned, owned_end)]
}

/// A multi-frame trace whose Redis commands include scripts (with `[lua]` lines), MULTI/EXEC
/// and binary arguments, between rows and commits.
fn scripted_trace() -> (Vec<u8>, Vec<Event>) {
    let mut w = Writer::new(Vec::new(), "mem", &header(), small_frames()).unwrap();
    let mut written = Vec::new();
    for (i, (source, t, mut body)) in events(600).into_iter().enumerate() {
        if let EventBody::Redis(c) = &mut body {
            match i % 11 {
                0 => {
                    c.argv = Argv::from_parts(["EVAL", "return 1", "1", "k\x00\u{ff}"]);
                    c.script = vec![
                        ScriptCall {
                            db: 0,
                            server_us: t - 30,
                            argv: Argv::from_parts(["SET", "k\x00\u{ff}", ""]),
                        },
                        ScriptCall {
                            db: 1,
                            server_us: t - 20,
                            argv: Argv::from_parts(["DEL", "x"]),
                        },
                    ];
                }
                1 => c.argv = Argv::from_parts(["MULTI"]),
                2 => c.argv = Argv::from_parts(["EXEC"]),
                3 => c.argv = Argv::from_parts(["GET", ""]),
                _ => {}
            }
        }
        let seq = w.append(source, t, body.clone()).unwrap();
        written.push(Event { seq, source, recv_us: t, body });
    }
    (w.finish().unwrap().0, written)
}

#[test]
fn borrowed_decoding_yields_exactly_the_owned_events() {
    let (bytes, written) = scripted_trace();
    let [(borrowed, end), (owned, owned_end)] = both_paths(&bytes, false);
    assert_eq!(owned, written);
    assert_eq!(borrowed, written);
    let report = end.unwrap();
    assert!(report.is_complete(), "{report}");
    assert!(report.frames > 10, "{report}");
    assert_eq!(Ok(report), owned_end);
}

#[test]
fn borrowed_decoding_of_damaged_traces_matches_the_owned_path() {
    let (bytes, _) = scripted_trace();
    // Cut anywhere (every 13th byte) and flipped bytes, strict and salvaging: the same events,
    // the same report or the same error.
    for cut in (0..bytes.len()).step_by(13) {
        let [a, b] = both_paths(&bytes[..cut], false);
        assert_eq!(a, b, "cut at {cut}");
    }
    for at in (0..bytes.len()).step_by(97) {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x5a;
        for salvage in [false, true] {
            let [a, b] = both_paths(&damaged, salvage);
            assert_eq!(a, b, "byte {at} flipped, salvage {salvage}");
        }
    }
}

#[test]
fn a_second_trace_after_the_footer_is_an_error_naming_where_it_starts() {
    let (first, written) = write(100, small_frames());
    let (second, _) = write(30, small_frames());
    let both = [first.clone(), second.clone()].concat();
    let err = read_all(&both).unwrap_err();
    let Error::AppendedTrace { offset, events_before, .. } = &err else {
        panic!("expected AppendedTrace, got {err}")
    };
    assert_eq!(*offset, first.len() as u64);
    assert_eq!(*events_before, 100);
    let text = err.to_string();
    assert!(text.contains("second trace") && text.contains("--salvage"), "{text}");
    assert!(text.contains(&format!("byte {}", first.len())), "{text}");

    // Salvage reads the first trace and reports the second, unread, with its size.
    let mut r = Reader::new(&both[..], "mem").unwrap().salvage(true);
    let read: Vec<Event> = r.by_ref().map(|e| e.unwrap()).collect();
    assert_eq!(read, written);
    let report = r.report();
    assert_eq!(report.appended_trace, Some(first.len() as u64));
    assert_eq!(report.trailing_bytes, second.len() as u64);
    assert!(!report.is_complete());
    let text = report.to_string();
    assert!(text.contains(&format!("a second trace of {} bytes", second.len())), "{text}");
}

#[test]
fn other_bytes_after_the_footer_are_counted_whatever_their_length() {
    let (first, written) = write(50, small_frames());
    // More than the 1 MiB the reader once looked at, and not a trace.
    let junk = vec![0u8; (1 << 20) + 17];
    let (read, report) = read_all(&[first, junk.clone()].concat()).unwrap();
    assert_eq!(read, written);
    assert_eq!(report.trailing_bytes, junk.len() as u64);
    assert_eq!(report.appended_trace, None);
    assert!(!report.is_complete(), "{report}");
    assert!(report.to_string().contains(&format!("{} bytes after the footer ignored", junk.len())));
}
