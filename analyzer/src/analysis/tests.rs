/*!
Unit tests of the streaming analysis: batched pushing and feeding from another thread report
exactly what pushing events one by one does.
*/

use super::*;
use cachetape_tape::{
    Argv, Cell, Commit, EventBody, Micros, RedisCommand, RowChange, RowImage, RowOp, SourceId,
    Value,
};

const T0: Micros = 1_795_666_525_000_000;

fn header() -> Header {
    cachetape_testkit::trace::cache_and_db(T0)
}

fn image(id: u64, v: u64) -> RowImage {
    RowImage {
        cells: vec![
            Cell { column: "id".into(), value: Value::Int(id as i64) },
            Cell { column: "status".into(), value: Value::Int(v as i64) },
        ],
    }
}

/// Readers caching rows (some late, some with old values), writers committing and
/// deleting (some late, some never), on 40 keys.
fn events() -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    let mut push = |source: u16, recv_us: Micros, body: EventBody| {
        let seq = out.len() as u64;
        out.push(Event { seq, source: SourceId(source), recv_us, body });
    };
    let mut rng = cachetape_base::Rng::new(0x9E37_79B9_7F4A_7C15);
    let mut rnd = |n: u64| rng.below(n);
    let mut rows = [0u64; 40];
    let mut t = T0;
    for txn in 0..3_000u64 {
        t += 1 + rnd(2_000) as Micros;
        let id = rnd(40);
        let key = format!("order:{id}");
        let redis = |args: &[&[u8]], t: Micros| {
            EventBody::Redis(RedisCommand {
                db: 0,
                client: format!("10.0.0.{}:1", id % 5).into(),
                server_us: t,
                argv: Argv::from_parts(args.iter().copied()),
                script: Vec::new(),
            })
        };
        if rnd(4) == 0 {
            let (old, new) = (rows[id as usize], rows[id as usize] + 1);
            rows[id as usize] = new;
            let change = RowChange {
                table: "shop.orders".into(),
                op: RowOp::Update,
                before: Some(image(id, old)),
                after: Some(image(id, new)),
                txn,
                header_secs: (t / 1_000_000) as u32,
            };
            push(1, t, EventBody::Row(change));
            let commit = Commit {
                txn,
                header_secs: (t / 1_000_000) as u32,
                commit_us: None,
                gtid: None,
                xid: None,
            };
            push(1, t, EventBody::Commit(commit));
            if rnd(3) != 0 {
                let late = t + rnd(3) as Micros * 40_000;
                push(0, late + 50, redis(&[b"DEL", key.as_bytes()], late));
            }
        } else {
            push(0, t + 50, redis(&[b"GET", key.as_bytes()], t));
            if rnd(3) == 0 {
                let v = rows[id as usize].saturating_sub(rnd(2));
                let json = format!(r#"{{"id":{id},"status":{v}}}"#);
                let at = t + 300 + rnd(2) as Micros * 60_000;
                let set = redis(&[b"SETEX", key.as_bytes(), b"30", json.as_bytes()], at);
                push(0, at + 50, set);
            }
        }
    }
    out
}

fn analyze(events: &[Event], batched: bool) -> Report {
    let mapping = Mapping::parse(
        "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\njson = [\"id\", \"status\"]\n",
    )
    .unwrap();
    let mut a = Analysis::new(&header(), mapping, AnalysisOptions::default());
    if batched {
        for chunk in events.chunks(100) {
            a.push_all(chunk).unwrap();
        }
    } else {
        for e in events {
            a.push(e).unwrap();
        }
    }
    a.finish().unwrap()
}

#[test]
fn push_all_reports_what_pushing_one_by_one_does() {
    let events = events();
    let one = analyze(&events, false);
    assert!(one.summary.stale_definite > 0 && one.summary.fresh > 0, "{:?}", one.summary);
    assert!(one.summary.exposure_intervals > 0);
    assert_eq!(analyze(&events, true), one);
}

#[test]
fn feeding_from_another_thread_reports_what_pushing_one_by_one_does() {
    let mut events = events();
    // Unmapped keys, a GET answered with an error, and another node's and db's keys among
    // the briefed GETs.
    let t = events.last().map_or(T0, |e| e.recv_us);
    for (i, (source, db, args)) in [
        (0, 0, vec![&b"GET"[..], b"session:1"]),
        (0, 0, vec![&b"SET"[..], b"session:1", b"x"]),
        (0, 0, vec![&b"GET"[..], b"session:1"]),
        (0, 0, vec![&b"GET"[..], b"order:3", b"extra"]),
        (0, 1, vec![&b"GET"[..], b"order:3"]),
        (0, 0, vec![&b"GET"[..], b"order:3"]),
    ]
    .into_iter()
    .enumerate()
    {
        let body = EventBody::Redis(RedisCommand {
            db,
            client: format!("10.0.9.{i}:1").into(),
            server_us: t + i as Micros,
            argv: Argv::from_parts(args),
            script: Vec::new(),
        });
        let seq = events.len() as u64;
        events.push(Event { seq, source: SourceId(source), recv_us: t + 50, body });
    }
    let one = analyze(&events, false);
    let mapping = Mapping::parse(
        "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\njson = [\"id\", \"status\"]\n",
    )
    .unwrap();
    let mut a = Analysis::new(&header(), mapping, AnalysisOptions::default());
    let mut it = events.iter();
    crate::feed::feed(&mut a, |e: &mut Event| -> Result<bool, ()> {
        Ok(it.next().map(|next| *e = next.clone()).is_some())
    })
    .unwrap();
    assert_eq!(a.finish().unwrap(), one);
}
