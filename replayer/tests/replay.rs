/*!
Replay semantics on hand-written traces: MONITOR's transaction order, scripts applied through
their `[lua]` lines, unmodelled commands making keys unknown, snapshots, gaps, and expiry on the
virtual clock.
*/

use cachetape_replayer::{
    Command, KeyView, Prefetch, ReplayOptions, ReplayReport, Replayer, Reply, Step, Value,
    replay_events,
};
use cachetape_tape::{Event, Header, Reader, StoredValue, Writer, WriterOptions};
use cachetape_testkit::trace::{TraceBuilder, redis_only};

const T0: i64 = 1_795_666_525_000_000;
const MS: i64 = 1_000;

fn header() -> Header {
    redis_only(T0, "cache", "redis://127.0.0.1:6379")
}

/// A trace of one Redis node, in memory; times are µs after T0.
fn trace() -> TraceBuilder<Vec<u8>> {
    TraceBuilder::in_memory(&header())
}

/// Every step and the report of an as-recorded replay of `events`, with key views.
fn replay(events: &[Event]) -> (Vec<Step>, ReplayReport) {
    replay_events(&header(), events, ReplayOptions { key_views: true, ..ReplayOptions::default() })
}

fn bulk(s: &str) -> Reply {
    Reply::bulk(s.as_bytes())
}

#[test]
fn keys_expire_exactly_at_the_virtual_time_of_each_command() {
    let mut t = trace();
    t.redis(0, "a:1", ["SET", "order:42", "CANCELLED", "PX", "100"])
        .redis(100 * MS, "b:2", ["GET", "order:42"])
        .redis(101 * MS, "b:2", ["GET", "order:42"])
        .redis(101 * MS, "a:1", ["TTL", "order:42"]);
    let (steps, _) = replay(&t.events());
    assert_eq!(steps[1].reply, bulk("CANCELLED"), "expires_at == now: still there (now > when)");
    assert_eq!(steps[2].reply, Reply::Nil);
    assert_eq!(steps[3].reply, Reply::Integer(-2));
}

#[test]
fn transaction_lines_arrive_at_exec_time_and_exec_replies_with_their_results() {
    let mut t = trace();
    t.redis(0, "a:1", ["MULTI"])
        .redis(MS, "b:2", ["SET", "k", "from-b"])
        // EXEC time: the queued commands, then EXEC.
        .redis(5 * MS, "a:1", ["GET", "k"])
        .redis(5 * MS, "a:1", ["SET", "k", "from-a"])
        .redis(5 * MS, "a:1", ["EXEC"])
        .redis(6 * MS, "b:2", ["GET", "k"]);
    let (steps, _) = replay(&t.events());
    assert_eq!(steps[0].reply, Reply::OK);
    assert!(steps[2].queued && steps[3].queued);
    assert_eq!(steps[2].client_reply(), &Reply::QUEUED);
    assert_eq!(steps[2].reply, bulk("from-b"));
    assert_eq!(steps[4].reply, Reply::Array(vec![bulk("from-b"), Reply::OK]));
    assert_eq!(steps[5].reply, bulk("from-a"));
}

#[test]
fn an_exec_without_lines_after_a_watched_key_changed_is_the_nil_array() {
    let mut t = trace();
    t.redis(0, "a:1", ["WATCH", "k"])
        .redis(MS, "a:1", ["MULTI"])
        .redis(2 * MS, "b:2", ["SET", "k", "x"])
        .redis(3 * MS, "a:1", ["EXEC"])
        .redis(4 * MS, "a:1", ["MULTI"])
        .redis(5 * MS, "a:1", ["EXEC"]);
    let (steps, _) = replay(&t.events());
    assert_eq!(steps[3].reply, Reply::NilArray);
    assert_eq!(steps[5].reply, Reply::Array(vec![]));
}

#[test]
fn scripts_apply_their_lua_lines_once_as_one_unit() {
    let mut t = trace();
    t.redis(0, "a:1", ["SET", "n", "1"])
        .script(
            MS,
            "a:1",
            ["EVAL", "redis.call('incr', KEYS[1]) return redis.call('get', KEYS[1])", "1", "n"],
            &[&["incr", "n"], &["get", "n"]],
        )
        .redis(2 * MS, "b:2", ["GET", "n"]);
    let (steps, report) = replay(&t.events());
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
    let mut t = trace();
    t.redis(0, "a:1", ["SET", "events", "x"])
        .redis(MS, "a:1", ["XADD", "events", "*", "f", "v"])
        .redis(2 * MS, "b:2", ["GET", "events"])
        .redis(3 * MS, "b:2", ["TYPE", "events"])
        .redis(4 * MS, "b:2", ["OBJECT", "ENCODING", "other"])
        .redis(5 * MS, "b:2", ["GET", "other"])
        .redis(6 * MS, "a:1", ["SET", "events", "fresh"])
        .redis(7 * MS, "b:2", ["GET", "events"]);
    let (steps, report) = replay(&t.events());
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
}

#[test]
fn only_the_keys_a_command_writes_become_unknown() {
    let mut t = trace();
    t.redis(0, "a:1", ["SET", "a", "1"])
        .redis(MS, "a:1", ["SADD", "b", "x"])
        .redis(2 * MS, "a:1", ["XADD", "s", "*", "f", "v"])
        // Unmodelled: Redis's key specs say it writes d and only reads b.
        .redis(3 * MS, "a:1", ["SUNIONSTORE", "d", "b"])
        .redis(4 * MS, "a:1", ["SCARD", "b"])
        .redis(5 * MS, "a:1", ["SCARD", "d"])
        // Modelled, touching an unknown key: COPY writes its destination, not its source.
        .redis(6 * MS, "a:1", ["COPY", "a", "s"])
        .redis(7 * MS, "a:1", ["GET", "a"])
        // WATCH reads its keys.
        .redis(8 * MS, "b:2", ["WATCH", "s", "a"])
        .redis(9 * MS, "b:2", ["UNWATCH"])
        .redis(10 * MS, "a:1", ["GET", "a"])
        // A SET that keeps the TTL depends on the key; a plain SET does not.
        .redis(11 * MS, "a:1", ["SET", "s", "v", "KEEPTTL"])
        .redis(12 * MS, "a:1", ["GET", "s"])
        .redis(13 * MS, "a:1", ["SET", "s", "v"])
        .redis(14 * MS, "a:1", ["GET", "s"]);
    let (steps, report) = replay(&t.events());
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
    let mut t = trace();
    t.redis(0, "a:1", ["XADD", "events", "*", "f", "v"]).redis(MS, "a:1", ["INCR", "events"]);
    let (steps, report) = replay(&t.events());
    assert_eq!(steps[1].reply, Reply::Unknown, "INCR of an unknown key");
    assert_eq!(report.unknown_keys.len(), 1);
    assert_eq!(report.unknown_keys[0].key, b"events");
}

#[test]
fn snapshots_set_initial_state_and_gaps_make_everything_unknown() {
    let mut t = trace();
    let status = StoredValue::Hash(vec![(b"status".to_vec(), b"PAID".to_vec())]);
    t.redis(0, "a:1", ["PING"])
        .snapshot(0, 0, b"order:1", status, 50)
        .redis(10 * MS, "b:2", ["HGET", "order:1", "status"])
        .redis(60 * MS, "b:2", ["HGET", "order:1", "status"])
        .gap(70 * MS, 0, 70 * MS, "connection lost")
        .redis(80 * MS, "b:2", ["GET", "anything"]);
    let (steps, report) = replay(&t.events());
    assert_eq!(steps[1].reply, bulk("PAID"));
    assert_eq!(steps[2].reply, Reply::Nil, "the snapshot's PTTL ran out at 50 ms");
    assert_eq!(steps[3].reply, Reply::Unknown);
    assert_eq!(report.gaps, 1);
    assert_eq!(report.snapshots, 1);
}

#[test]
fn key_views_show_value_and_expiry_after_each_command() {
    let mut t = trace();
    t.redis(0, "a:1", ["SET", "k", "v", "PXAT", "1795666526000"]).redis(MS, "a:1", ["DEL", "k"]);
    let (steps, _) = replay(&t.events());
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
    let mut t = trace();
    t.redis(0, "a:1", ["SET", "short", "v"])
        .redis(MS, "a:1", ["SET", "long", &long])
        .redis(2 * MS, "a:1", ["HSET", "h", "f", "v"])
        .redis(3 * MS, "a:1", ["GET", "long"])
        .redis(4 * MS, "a:1", ["GET", "short"])
        .redis(5 * MS, "a:1", ["GET", "missing"])
        .redis(6 * MS, "a:1", ["HGET", "h", "f"])
        .redis(7 * MS, "a:1", ["PING"]);
    let events = t.events();
    let (expected, _) = replay(&events);
    let mut replayer =
        Replayer::new(&header(), ReplayOptions { key_views: true, ..ReplayOptions::default() });
    let steps: Vec<Step> = events
        .iter()
        .filter_map(|e| {
            // Every step for every event, including ones the store has not seen yet.
            for step in [Prefetch::Control, Prefetch::Bucket, Prefetch::Value] {
                for other in &events {
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
    let mut t = trace();
    t.redis(0, "a:1", ["GET", "short"])
        .redis(MS, "a:1", ["SET", "short", "v", "PX", "5"])
        .redis(2 * MS, "b:2", ["GET", "short"])
        .redis(3 * MS, "a:1", ["SET", "long", &long])
        .redis(4 * MS, "b:2", ["get", "long"])
        .redis(5 * MS, "a:1", ["HSET", "h", "f", "v"])
        .redis(6 * MS, "a:1", ["GET", "h"])
        .redis(7 * MS, "a:1", ["GET"])
        .redis(8 * MS, "a:1", ["GET", "short", "extra"])
        .redis(9 * MS, "b:2", ["GET", "short"])
        .redis(10 * MS, "a:1", ["MULTI"])
        .redis(10 * MS, "a:1", ["SET", "k", "1"])
        .redis(10 * MS, "a:1", ["GET", "k"])
        .redis(10 * MS, "a:1", ["EXEC"])
        .script(11 * MS, "b:2", ["EVAL", "...", "1", "k"], &[&["GET", "k"], &["SET", "k", "2"]])
        .redis(12 * MS, "a:1", ["GET", "k"])
        .redis(13 * MS, "a:1", ["XADD", "k", "*", "f", "v"])
        .redis(14 * MS, "a:1", ["GET", "k"])
        .redis(15 * MS, "a:1", ["GET", "long"])
        .redis(16 * MS, "a:1", ["DEL", "long"])
        .redis(17 * MS, "a:1", ["GET", "long"]);
    let events = t.events();
    for key_views in [false, true] {
        let options = ReplayOptions { key_views, ..ReplayOptions::default() };
        let mut owned = Replayer::new(&header(), options.clone());
        let mut borrowed = Replayer::new(&header(), options);
        for e in &events {
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
    for e in &events {
        w.append(e.source, e.recv_us, e.body.clone()).unwrap();
    }
    let bytes = w.finish().unwrap().0;
    let read: Vec<Event> = Reader::new(&bytes[..], "mem").unwrap().map(Result::unwrap).collect();
    assert_eq!(read.len(), events.len());
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
