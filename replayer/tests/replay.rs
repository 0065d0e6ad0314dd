/*!
Replay semantics on hand-written traces: MONITOR's transaction order, scripts applied through
their `[lua]` lines, unmodelled commands making keys unknown, snapshots, gaps, and expiry on the
virtual clock.
*/

use std::sync::Arc;

use cachetape_replayer::{
    Command, KeyView, Prefetch, ReplayOptions, Replayer, Reply, Step, Value, replay_events,
};
use cachetape_tape::{
    Argv, Capture, Event, EventBody, Gap, Header, Reader, RedisCommand, ScriptCall, Snapshot,
    Source, SourceId, SourceKind, StoredValue, Writer, WriterOptions,
};

const T0: i64 = 1_795_666_525_000_000;

fn header() -> Header {
    let mut h = Header::new(T0);
    h.add_source(Source {
        name: "cache".into(),
        kind: SourceKind::Redis,
        address: "redis://127.0.0.1:6379".into(),
        version: None,
        capture: Capture::Live,
    });
    h
}

/// A trace builder: one Redis source, times in ms after T0.
#[derive(Default)]
struct Trace(Vec<Event>);

impl Trace {
    fn push(&mut self, body: EventBody, ms: i64) {
        let seq = self.0.len() as u64;
        self.0.push(Event { seq, source: SourceId(0), recv_us: T0 + ms * 1000, body });
    }

    fn cmd(&mut self, client: &str, ms: i64, parts: &[&str]) -> &mut Self {
        self.script(client, ms, parts, &[])
    }

    fn script(&mut self, client: &str, ms: i64, parts: &[&str], calls: &[&[&str]]) -> &mut Self {
        let server_us = T0 + ms * 1000;
        let script = calls
            .iter()
            .map(|c| ScriptCall { db: 0, server_us, argv: Argv::from_parts(c.iter()) })
            .collect();
        self.push(
            EventBody::Redis(RedisCommand {
                db: 0,
                client: Arc::from(client),
                server_us,
                argv: Argv::from_parts(parts.iter()),
                script,
            }),
            ms,
        );
        self
    }

    fn replay(&self) -> (Vec<Step>, cachetape_replayer::ReplayReport) {
        replay_events(
            &header(),
            &self.0,
            ReplayOptions { key_views: true, ..ReplayOptions::default() },
        )
    }
}

fn bulk(s: &str) -> Reply {
    Reply::bulk(s.as_bytes())
}

#[test]
fn keys_expire_exactly_at_the_virtual_time_of_each_command() {
    let mut t = Trace::default();
    t.cmd("a:1", 0, &["SET", "order:42", "CANCELLED", "PX", "100"])
        .cmd("b:2", 100, &["GET", "order:42"])
        .cmd("b:2", 101, &["GET", "order:42"])
        .cmd("a:1", 101, &["TTL", "order:42"]);
    let (steps, _) = t.replay();
    assert_eq!(steps[1].reply, bulk("CANCELLED"), "expires_at == now: still there (now > when)");
    assert_eq!(steps[2].reply, Reply::Nil);
    assert_eq!(steps[3].reply, Reply::Integer(-2));
}

#[test]
fn transaction_lines_arrive_at_exec_time_and_exec_replies_with_their_results() {
    let mut t = Trace::default();
    t.cmd("a:1", 0, &["MULTI"])
        .cmd("b:2", 1, &["SET", "k", "from-b"])
        // EXEC time: the queued commands, then EXEC.
        .cmd("a:1", 5, &["GET", "k"])
        .cmd("a:1", 5, &["SET", "k", "from-a"])
        .cmd("a:1", 5, &["EXEC"])
        .cmd("b:2", 6, &["GET", "k"]);
    let (steps, _) = t.replay();
    assert_eq!(steps[0].reply, Reply::OK);
    assert!(steps[2].queued && steps[3].queued);
    assert_eq!(steps[2].client_reply(), &Reply::QUEUED);
    assert_eq!(steps[2].reply, bulk("from-b"));
    assert_eq!(steps[4].reply, Reply::Array(vec![bulk("from-b"), Reply::OK]));
    assert_eq!(steps[5].reply, bulk("from-a"));
}

#[test]
fn an_exec_without_lines_after_a_watched_key_changed_is_the_nil_array() {
    let mut t = Trace::default();
    t.cmd("a:1", 0, &["WATCH", "k"])
        .cmd("a:1", 1, &["MULTI"])
        .cmd("b:2", 2, &["SET", "k", "x"])
        .cmd("a:1", 3, &["EXEC"])
        .cmd("a:1", 4, &["MULTI"])
        .cmd("a:1", 5, &["EXEC"]);
    let (steps, _) = t.replay();
    assert_eq!(steps[3].reply, Reply::NilArray);
    assert_eq!(steps[5].reply, Reply::Array(vec![]));
}

#[test]
fn scripts_apply_their_lua_lines_once_as_one_unit() {
    let mut t = Trace::default();
    t.cmd("a:1", 0, &["SET", "n", "1"])
        .script(
            "a:1",
            1,
            &["EVAL", "redis.call('incr', KEYS[1]) return redis.call('get', KEYS[1])", "1", "n"],
            &[&["incr", "n"], &["get", "n"]],
        )
        .cmd("b:2", 2, &["GET", "n"]);
    let (steps, report) = t.replay();
    assert_eq!(steps[1].reply, Reply::Unknown, "a script's return value is not recorded");
    assert_eq!(
        steps[1].script.iter().map(|s| s.reply.clone()).collect::<Vec<_>>(),
        vec![Reply::Integer(2), bulk("2")]
    );
    assert_eq!(steps[2].reply, bulk("2"), "applied once, not twice");
    assert_eq!(report.script_calls, 2);
    assert!(report.unmodelled.is_empty());
}

#[test]
fn an_unmodelled_command_is_named_in_the_report_and_its_key_becomes_unknown() {
    let mut t = Trace::default();
    t.cmd("a:1", 0, &["SET", "events", "x"])
        .cmd("a:1", 1, &["XADD", "events", "*", "f", "v"])
        .cmd("b:2", 2, &["GET", "events"])
        .cmd("b:2", 3, &["TYPE", "events"])
        .cmd("b:2", 4, &["OBJECT", "ENCODING", "other"])
        .cmd("b:2", 5, &["GET", "other"])
        .cmd("a:1", 6, &["SET", "events", "fresh"])
        .cmd("b:2", 7, &["GET", "events"]);
    let (steps, report) = t.replay();
    assert_eq!(steps[1].command, Command::Unknown);
    assert_eq!(steps[1].reply, Reply::Unknown);
    assert_eq!(steps[2].reply, Reply::Unknown, "a read of an unknown key is unverifiable");
    assert_eq!(steps[2].keys[0].view, KeyView::Unknown);
    assert_eq!(steps[3].reply, Reply::Unknown);
    assert_eq!(steps[5].reply, Reply::Nil, "a read-only unmodelled command changes nothing");
    assert_eq!(steps[7].reply, bulk("fresh"), "a blind SET makes the key known again");
    assert_eq!(report.unmodelled.get("xadd"), Some(&1));
    assert_eq!(report.unmodelled.get("object encoding"), Some(&1));
    assert!(report.unknown_keys.is_empty(), "events is known again at the end");
    assert_eq!(report.unknown_replies, 4);
    let text = report.to_string();
    assert!(text.contains("xadd ×1"), "{text}");
}

#[test]
fn only_the_keys_a_command_writes_become_unknown() {
    let mut t = Trace::default();
    t.cmd("a:1", 0, &["SET", "a", "1"])
        .cmd("a:1", 1, &["SADD", "b", "x"])
        .cmd("a:1", 2, &["XADD", "s", "*", "f", "v"])
        // Unmodelled: Redis's key specs say it writes d and only reads b.
        .cmd("a:1", 3, &["SUNIONSTORE", "d", "b"])
        .cmd("a:1", 4, &["SCARD", "b"])
        .cmd("a:1", 5, &["SCARD", "d"])
        // Modelled, touching an unknown key: COPY writes its destination, not its source.
        .cmd("a:1", 6, &["COPY", "a", "s"])
        .cmd("a:1", 7, &["GET", "a"])
        // WATCH reads its keys.
        .cmd("b:2", 8, &["WATCH", "s", "a"])
        .cmd("b:2", 9, &["UNWATCH"])
        .cmd("a:1", 10, &["GET", "a"])
        // A SET that keeps the TTL depends on the key; a plain SET does not.
        .cmd("a:1", 11, &["SET", "s", "v", "KEEPTTL"])
        .cmd("a:1", 12, &["GET", "s"])
        .cmd("a:1", 13, &["SET", "s", "v"])
        .cmd("a:1", 14, &["GET", "s"]);
    let (steps, report) = t.replay();
    assert_eq!(steps[4].reply, Reply::Integer(1), "SUNIONSTORE's source stays known");
    assert_eq!(steps[5].reply, Reply::Unknown, "its destination is unknown");
    assert_eq!(steps[6].reply, Reply::Unknown, "COPY onto an unknown key");
    assert_eq!(steps[7].reply, bulk("1"), "COPY's source stays known");
    assert_eq!(steps[10].reply, bulk("1"), "WATCH changes no key");
    assert_eq!(steps[11].reply, Reply::Unknown);
    assert_eq!(steps[12].reply, Reply::Unknown, "SET … KEEPTTL is no blind write");
    assert_eq!(steps[14].reply, bulk("v"), "a plain SET is");
    let unknown: Vec<&[u8]> = report.unknown_keys.iter().map(|k| &k.key[..]).collect();
    assert_eq!(unknown, [&b"d"[..]]);
}

#[test]
fn a_key_left_unknown_is_listed() {
    let mut t = Trace::default();
    t.cmd("a:1", 0, &["XADD", "events", "*", "f", "v"]).cmd("a:1", 1, &["INCR", "events"]);
    let (steps, report) = t.replay();
    assert_eq!(steps[1].reply, Reply::Unknown, "INCR of an unknown key");
    assert_eq!(report.unknown_keys.len(), 1);
    assert_eq!(report.unknown_keys[0].key, b"events");
}

#[test]
fn snapshots_set_initial_state_and_gaps_make_everything_unknown() {
    let mut t = Trace::default();
    t.cmd("a:1", 0, &["PING"]);
    t.push(
        EventBody::Snapshot(Snapshot {
            db: 0,
            key: b"order:1".to_vec(),
            value: StoredValue::Hash(vec![(b"status".to_vec(), b"PAID".to_vec())]),
            pttl_ms: 50,
        }),
        0,
    );
    t.cmd("b:2", 10, &["HGET", "order:1", "status"]).cmd("b:2", 60, &["HGET", "order:1", "status"]);
    t.push(
        EventBody::Gap(Gap { from_us: T0, to_us: T0 + 70_000, reason: "connection lost".into() }),
        70,
    );
    t.cmd("b:2", 80, &["GET", "anything"]);
    let (steps, report) = t.replay();
    assert_eq!(steps[1].reply, bulk("PAID"));
    assert_eq!(steps[2].reply, Reply::Nil, "the snapshot's PTTL ran out at 50 ms");
    assert_eq!(steps[3].reply, Reply::Unknown);
    assert_eq!(report.gaps, 1);
    assert_eq!(report.snapshots, 1);
}

#[test]
fn key_views_show_value_and_expiry_after_each_command() {
    let mut t = Trace::default();
    t.cmd("a:1", 0, &["SET", "k", "v", "PXAT", "1795666526000"]).cmd("a:1", 1, &["DEL", "k"]);
    let (steps, _) = t.replay();
    assert_eq!(
        steps[0].keys[0].view,
        KeyView::Present {
            value: Value::String(b"v"[..].into()),
            expires_at: Some(1_795_666_526_000)
        }
    );
    assert_eq!(steps[1].keys[0].view, KeyView::Missing);
}

#[test]
fn prefetch_hints_change_nothing() {
    let long = "x".repeat(100);
    let mut t = Trace::default();
    t.cmd("a:1", 0, &["SET", "short", "v"])
        .cmd("a:1", 1, &["SET", "long", &long])
        .cmd("a:1", 2, &["HSET", "h", "f", "v"])
        .cmd("a:1", 3, &["GET", "long"])
        .cmd("a:1", 4, &["GET", "short"])
        .cmd("a:1", 5, &["GET", "missing"])
        .cmd("a:1", 6, &["HGET", "h", "f"])
        .cmd("a:1", 7, &["PING"]);
    let (expected, _) = t.replay();
    let mut replayer =
        Replayer::new(&header(), ReplayOptions { key_views: true, ..ReplayOptions::default() });
    let steps: Vec<Step> =
        t.0.iter()
            .filter_map(|e| {
                // Every step for every event, including ones the store has not seen yet.
                for step in [Prefetch::Control, Prefetch::Bucket, Prefetch::Value] {
                    for other in &t.0 {
                        replayer.prefetch(other, step);
                    }
                }
                replayer.apply(e)
            })
            .collect();
    assert_eq!(steps, expected);
}

#[test]
fn borrowed_steps_equal_owned_steps() {
    let long = "x".repeat(100);
    let mut t = Trace::default();
    t.cmd("a:1", 0, &["GET", "short"])
        .cmd("a:1", 1, &["SET", "short", "v", "PX", "5"])
        .cmd("b:2", 2, &["GET", "short"])
        .cmd("a:1", 3, &["SET", "long", &long])
        .cmd("b:2", 4, &["get", "long"])
        .cmd("a:1", 5, &["HSET", "h", "f", "v"])
        .cmd("a:1", 6, &["GET", "h"])
        .cmd("a:1", 7, &["GET"])
        .cmd("a:1", 8, &["GET", "short", "extra"])
        .cmd("b:2", 9, &["GET", "short"])
        .cmd("a:1", 10, &["MULTI"])
        .cmd("a:1", 10, &["SET", "k", "1"])
        .cmd("a:1", 10, &["GET", "k"])
        .cmd("a:1", 10, &["EXEC"])
        .script("b:2", 11, &["EVAL", "...", "1", "k"], &[&["GET", "k"], &["SET", "k", "2"]])
        .cmd("a:1", 12, &["GET", "k"])
        .cmd("a:1", 13, &["XADD", "k", "*", "f", "v"])
        .cmd("a:1", 14, &["GET", "k"])
        .cmd("a:1", 15, &["GET", "long"])
        .cmd("a:1", 16, &["DEL", "long"])
        .cmd("a:1", 17, &["GET", "long"]);
    for key_views in [false, true] {
        let options = ReplayOptions { key_views, ..ReplayOptions::default() };
        let mut owned = Replayer::new(&header(), options.clone());
        let mut borrowed = Replayer::new(&header(), options);
        for e in &t.0 {
            let want = owned.apply(e);
            let got = borrowed.apply_ref(e).map(|s| s.to_step());
            assert_eq!(got, want, "event {}", e.seq);
        }
        assert_eq!(borrowed.report(), owned.report());
    }

    // The same events written to a trace of several frames, read back with each Redis command
    // borrowed from its frame (`Reader::next_ref`) and replayed by `apply_borrowed`.
    let options = WriterOptions { max_frame_events: 4, ..WriterOptions::default() };
    let mut w = Writer::new(Vec::new(), "mem", &header(), options).unwrap();
    for e in &t.0 {
        w.append(e.source, e.recv_us, e.body.clone()).unwrap();
    }
    let bytes = w.finish().unwrap().0;
    let read: Vec<Event> = Reader::new(&bytes[..], "mem").unwrap().map(Result::unwrap).collect();
    assert_eq!(read.len(), t.0.len());
    for key_views in [false, true] {
        let options = ReplayOptions { key_views, ..ReplayOptions::default() };
        let mut owned = Replayer::new(&header(), options.clone());
        let mut borrowed = Replayer::new(&header(), options);
        let mut reader = Reader::new(&bytes[..], "mem").unwrap();
        let mut scratch = read[0].clone();
        let mut n = 0;
        while let Some(e) = reader.next_ref(&mut scratch).unwrap() {
            let want = owned.apply(&read[n]);
            assert_eq!(e.to_event(), read[n]);
            let got = borrowed.apply_borrowed(e).map(|s| s.to_step());
            assert_eq!(got, want, "event {}", read[n].seq);
            n += 1;
        }
        assert_eq!(n, read.len());
        assert!(reader.report().frames > 4, "{}", reader.report());
        assert_eq!(borrowed.report(), owned.report());
    }
}
