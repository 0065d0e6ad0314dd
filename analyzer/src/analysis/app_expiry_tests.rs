/*!
A framework's own expiry inside the value (a Keyv envelope's `expires`, written by @keyv/redis:
`analyzer/fixtures/decode/keyv/`) is honoured: a Redis hit at or after it is a miss, not a stale
read; a value without one is judged as before.
*/

use super::super::{Analysis, AnalysisOptions};
use crate::mapping::Mapping;
use cachetape_tape::{
    Argv, Commit, Event, EventBody, Micros, RedisCommand, RowChange, RowOp, SourceId, Value,
};

/// The Keyv fixtures' pinned `Date.now()` (ms), as µs.
const T0: Micros = 1_795_666_525_000_000;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/decode/keyv/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap()
}

struct Trace(Vec<Event>);

impl Trace {
    fn push(&mut self, source: u16, t: Micros, body: EventBody) {
        let seq = self.0.len() as u64;
        self.0.push(Event { seq, source: SourceId(source), recv_us: t + 50, body });
    }

    fn redis(&mut self, t: Micros, args: &[&[u8]]) {
        let body = EventBody::Redis(RedisCommand {
            db: 0,
            client: "10.0.0.1:1".into(),
            server_us: t,
            argv: Argv::from_parts(args.iter().copied()),
            script: Vec::new(),
        });
        self.push(0, t, body);
    }

    fn update(&mut self, t: Micros, txn: u64, id: i64, from: &str, to: &str) {
        let image = |s: &str| {
            cachetape_testkit::trace::image([
                ("id", Value::Int(id)),
                ("status", Value::Bytes(s.as_bytes().to_vec())),
            ])
        };
        let header_secs = (t / 1_000_000) as u32;
        let change = RowChange {
            table: "shop.orders".into(),
            op: RowOp::Update,
            before: Some(image(from)),
            after: Some(image(to)),
            txn,
            header_secs,
        };
        self.push(1, t, EventBody::Row(change));
        let commit = Commit { txn, header_secs, commit_us: None, gtid: None, xid: None };
        self.push(1, t, EventBody::Commit(commit));
    }
}

fn analyze(events: &[Event]) -> crate::report::Report {
    let mapping = Mapping::parse(
        "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\njson = [\"status\"]\n",
    )
    .unwrap();
    let header = cachetape_testkit::trace::cache_and_db(T0);
    let mut a = Analysis::new(&header, mapping, AnalysisOptions::default());
    a.push_all(events).unwrap();
    a.finish().unwrap()
}

/// order:{id} holds the order as `status` in an envelope (order_ttl's expires at T0 + 60 s;
/// no Redis TTL: the app's clock and Redis' disagree, or the TTL was lost); the row moves on;
/// GETs at T0 + 10 s (a stale hit) and T0 + 61 s (Keyv takes it for a miss).
fn trace(id: i64, status: &str, value: &[u8]) -> Vec<Event> {
    let key = format!("order:{id}");
    let mut t = Trace(Vec::new());
    t.update(T0 + 1_000, 1, id, "OLD", status);
    t.redis(T0 + 2_000, &[b"SET", key.as_bytes(), value]);
    t.update(T0 + 3_000, 2, id, status, "LATER");
    t.redis(T0 + 10_000_000, &[b"GET", key.as_bytes()]);
    t.redis(T0 + 61_000_000, &[b"GET", key.as_bytes()]);
    t.0
}

#[test]
fn a_hit_past_the_envelopes_expiry_is_a_miss_not_a_stale_read() {
    let r = analyze(&trace(1, "PAID", &fixture("order_ttl")));
    let s = &r.summary;
    assert_eq!((s.reads, s.hits, s.misses), (2, 1, 1), "{s:?}");
    assert_eq!((s.stale_definite, s.stale_possible, s.fresh), (1, 0, 0), "{s:?}");
    assert_eq!(s.unverifiable, 0, "{s:?}");
}

#[test]
fn without_an_expiry_in_the_value_both_hits_are_judged() {
    // Written without a TTL: no `expires` in the envelope.
    let r = analyze(&trace(2, "NEW", &fixture("order_no_ttl")));
    let s = &r.summary;
    assert_eq!((s.reads, s.hits, s.misses), (2, 2, 0), "{s:?}");
    assert_eq!((s.stale_definite, s.unverifiable), (2, 0), "{s:?}");
}
