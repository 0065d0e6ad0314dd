//! A framework's own expiry inside the value (a Keyv envelope's `expires`, written by
//! @keyv/redis: `analyzer/fixtures/decode/keyv/`) bounds the value's expiry in the extraction:
//! a read after it, a Redis hit, finds the key absent (a miss), not a stale value.

use crate::eval::{Judged, evaluate};
use crate::extract::{ExtractOptions, extract};
use crate::model::{CacheVal, Op, Us};
use cachetape_analyzer::mapping::Mapping;
use cachetape_tape::{
    Argv, Cell, Commit, Event, EventBody, Micros, RedisCommand, RowChange, RowImage, RowOp,
    SourceId, Value,
};

/// The Keyv fixtures' pinned `Date.now()` (ms), as µs.
const T0: Micros = 1_795_666_525_000_000;
const MS: Micros = 1_000;

fn fixture(name: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../analyzer/fixtures/decode/keyv");
    std::fs::read(format!("{dir}/{name}.bin")).unwrap()
}

fn image(id: i64, status: &str) -> RowImage {
    RowImage {
        cells: vec![
            Cell { column: "id".into(), value: Value::Int(id) },
            Cell { column: "status".into(), value: Value::Bytes(status.as_bytes().to_vec()) },
        ],
    }
}

/// order:{id} cached as `status` in `value` (no Redis TTL), the row moved on, GETs at 10 s and
/// 61 s.
fn events(id: i64, status: &str, value: &[u8]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut push = |source: u16, t: Micros, body: EventBody| {
        let seq = out.len() as u64;
        out.push(Event { seq, source: SourceId(source), recv_us: t + 50, body });
    };
    let key = format!("order:{id}");
    let redis = |t: Micros, args: &[&[u8]]| {
        EventBody::Redis(RedisCommand {
            db: 0,
            client: "10.0.0.1:1".into(),
            server_us: t,
            argv: Argv::from_parts(args.iter().copied()),
            script: Vec::new(),
        })
    };
    for (txn, (t, from, to)) in
        [(MS, "OLD", status), (3 * MS, status, "LATER")].into_iter().enumerate()
    {
        let t = T0 + t;
        let secs = (t / 1_000_000) as u32;
        let change = RowChange {
            table: "shop.orders".into(),
            op: RowOp::Update,
            before: Some(image(id, from)),
            after: Some(image(id, to)),
            txn: txn as u64,
            header_secs: secs,
        };
        push(1, t, EventBody::Row(change));
        let commit =
            Commit { txn: txn as u64, header_secs: secs, commit_us: None, gtid: None, xid: None };
        push(1, t, EventBody::Commit(commit));
        if txn == 0 {
            push(0, T0 + 2 * MS, redis(T0 + 2 * MS, &[b"SET", key.as_bytes(), value]));
        }
    }
    push(0, T0 + 10_000 * MS, redis(T0 + 10_000 * MS, &[b"GET", key.as_bytes()]));
    push(0, T0 + 61_000 * MS, redis(T0 + 61_000 * MS, &[b"GET", key.as_bytes()]));
    out
}

fn judged(id: i64, status: &str, value: &[u8]) -> (Option<Us>, Vec<(CacheVal, Judged)>) {
    let mapping = Mapping::parse(
        "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\njson = [\"status\"]\n",
    )
    .unwrap();
    let header = cachetape_testkit::trace::cache_and_db(T0);
    let x =
        extract(&header, &events(id, status, value), &mapping, ExtractOptions::default()).unwrap();
    // The reads are far apart: a component each (quiet gaps), judged in recorded order.
    let mut set = None;
    let mut reads = Vec::new();
    for c in &x.components {
        // The SET's value and expiry: in a unit, or carried in as the component's initial state.
        let initial =
            c.initial_cache.iter().find_map(|&(v, e)| matches!(v, CacheVal::Known(_)).then_some(e));
        set = set.or(c.units.iter().flat_map(|u| &u.ops).find_map(|op| match *op {
            Op::Set { expires_at, value: CacheVal::Known(_), .. } => Some(expires_at),
            _ => None,
        }));
        set = set.or(initial);
        let schedule: Vec<u32> = (0..c.units.len() as u32).collect();
        reads.extend(evaluate(c, &schedule).into_iter().map(|r| (r.served, r.judged)));
    }
    (set.expect("the SET's op"), reads)
}

#[test]
fn a_read_past_the_envelopes_expiry_is_a_miss_not_stale() {
    let (expires_at, reads) = judged(1, "PAID", &fixture("order_ttl"));
    // The envelope's expires (T0 + 60 s) on the node's virtual clock.
    assert_eq!(expires_at, Some(T0 + 60_000 * MS));
    assert_eq!(reads.len(), 2);
    assert!(matches!(reads[0], (CacheVal::Known(_), Judged::Stale)), "{reads:?}");
    assert_eq!(reads[1], (CacheVal::Absent, Judged::Fine));
}

#[test]
fn without_an_expiry_in_the_value_the_late_read_is_stale() {
    let (expires_at, reads) = judged(2, "NEW", &fixture("order_no_ttl"));
    assert_eq!(expires_at, None);
    assert!(reads.iter().all(|r| matches!(r, (CacheVal::Known(_), Judged::Stale))), "{reads:?}");
}
