/*!
Unit tests of the shrinker's stages: the key stage's choice of events, units staying whole, and
ddmin finding what a test needs.
*/

use super::*;
use cachetape_analyzer::{Cause, Verdict};
use cachetape_tape::SourceId;
use cachetape_tape::{Argv, Commit, RedisCommand};

fn redis(seq: u64, client: &str, args: &[&str]) -> Event {
    Event {
        seq,
        source: SourceId(0),
        recv_us: seq as i64,
        body: EventBody::Redis(RedisCommand {
            db: 0,
            client: client.into(),
            server_us: seq as i64,
            argv: Argv::from_parts(args.iter().map(|a| a.as_bytes())),
            script: Vec::new(),
        }),
    }
}

#[test]
fn ddmin_finds_the_two_events_a_test_needs() {
    let events: Vec<Event> = (0..40).map(|i| redis(i, "c:1", &["GET", &format!("k{i}")])).collect();
    let units = units(&events);
    let mut test = |e: &[Event]| e.iter().any(|e| e.seq == 7) && e.iter().any(|e| e.seq == 31);
    let (kept, tests, exhausted) = ddmin(&events, units, 10_000, &mut test);
    assert_eq!(kept.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![7, 31]);
    assert!(!exhausted);
    assert!(tests < 200, "{tests} tests");
}

fn row(seq: u64, txn: u64, id: i64) -> Event {
    use cachetape_tape::{Cell, RowChange, RowImage, RowOp, Value};
    let image = |status: &str| RowImage {
        cells: vec![
            Cell { column: "id".into(), value: Value::Int(id) },
            Cell { column: "status".into(), value: Value::Bytes(status.as_bytes().to_vec()) },
        ],
    };
    Event {
        seq,
        source: SourceId(1),
        recv_us: seq as i64,
        body: EventBody::Row(RowChange {
            table: "shop.orders".into(),
            op: RowOp::Update,
            before: Some(image("NEW")),
            after: Some(image("PAID")),
            txn,
            header_secs: 0,
        }),
    }
}

fn commit(seq: u64, txn: u64) -> Event {
    Event {
        seq,
        source: SourceId(1),
        recv_us: seq as i64,
        body: EventBody::Commit(Commit {
            txn,
            header_secs: 0,
            commit_us: None,
            gtid: None,
            xid: None,
        }),
    }
}

#[test]
fn the_key_stage_keeps_the_key_its_row_and_the_blocks_around_them() {
    use cachetape_tape::{Capture, Source, SourceKind};
    let mut header = Header::new(0);
    for (name, kind) in [("cache", SourceKind::Redis), ("db", SourceKind::MariaDb)] {
        header.add_source(Source {
            name: name.into(),
            kind,
            address: String::new(),
            version: None,
            capture: Capture::Live,
        });
    }
    let mapping = Mapping::parse(
        "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\ncolumn = \"status\"\n",
    )
    .unwrap();
    let target = Target {
        key: "order:42".into(),
        node: "cache".into(),
        redis_db: 0,
        cause: Cause::StaleSet,
        served: String::new(),
        db: String::new(),
        verdict: Verdict::StaleDefinite,
    };
    let events = vec![
        redis(0, "a:1", &["GET", "order:42"]),
        redis(1, "b:1", &["GET", "order:7"]),
        row(2, 1, 7),
        commit(3, 1),
        row(4, 2, 42),
        row(5, 2, 7),
        commit(6, 2),
        redis(7, "a:1", &["MULTI"]),
        redis(8, "a:1", &["SET", "order:42", "PAID"]),
        redis(9, "a:1", &["EXEC"]),
        redis(10, "b:1", &["MULTI"]),
        redis(11, "b:1", &["DEL", "order:7"]),
        redis(12, "b:1", &["EXEC"]),
        redis(13, "c:1", &["FLUSHDB"]),
        redis(14, "c:1", &["MGET", "order:1", "order:42"]),
    ];
    let names: Vec<String> = header.sources.iter().map(|s| s.name.clone()).collect();
    let keep = relevant(&names, &mapping, &target, &events);
    let kept: Vec<u64> =
        events.iter().zip(&keep).filter(|(_, k)| **k).map(|(e, _)| e.seq).collect();
    assert_eq!(kept, vec![0, 4, 6, 7, 8, 9, 13, 14]);
}

#[test]
fn multi_blocks_and_transactions_stay_whole() {
    let commit = Event {
        seq: 5,
        source: SourceId(1),
        recv_us: 5,
        body: EventBody::Commit(Commit {
            txn: 9,
            header_secs: 0,
            commit_us: None,
            gtid: None,
            xid: None,
        }),
    };
    let events = vec![
        redis(0, "a:1", &["MULTI"]),
        redis(1, "b:1", &["GET", "x"]),
        redis(2, "a:1", &["SET", "x", "1"]),
        redis(3, "a:1", &["EXEC"]),
        redis(4, "a:1", &["GET", "x"]),
        commit,
    ];
    assert_eq!(units(&events), vec![vec![0, 2, 3], vec![1], vec![4], vec![5]]);
}
