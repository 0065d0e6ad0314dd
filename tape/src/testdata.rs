/*!
Events of every kind, for the format's unit tests.
*/

use std::sync::Arc;

use crate::*;

/// One event of each kind, with binary arguments, scripts and row images.
pub fn sample_events() -> Vec<Event> {
    let t = 1_795_666_525_369_271;
    let cells = |status: &str| RowImage {
        cells: vec![
            Cell { column: Arc::from("id"), value: Value::Int(42) },
            Cell { column: Arc::from("status"), value: Value::Bytes(status.into()) },
            Cell { column: Arc::from("total"), value: Value::Decimal("9.99".into()) },
            Cell {
                column: Arc::from("updated"),
                value: Value::DateTime(DateTime {
                    year: 2026,
                    month: 11,
                    day: 26,
                    hour: 4,
                    minute: 15,
                    second: 25,
                    micros: 0,
                }),
            },
            Cell { column: Arc::from("note"), value: Value::Null },
        ],
    };
    let bodies = vec![
        EventBody::Redis(RedisCommand {
            db: 0,
            client: Arc::from("127.0.0.1:35434"),
            server_us: t - 3,
            argv: Argv::from_parts([&b"SET"[..], b"order:42", b"\x00\xff\"\\ x", b""]),
            script: vec![],
        }),
        EventBody::Redis(RedisCommand {
            db: 3,
            client: Arc::from("[::1]:52762"),
            server_us: t + 10,
            argv: Argv::from_parts(["EVAL", "redis.call('set','k','v')", "0"]),
            script: vec![ScriptCall {
                db: 3,
                server_us: t + 50,
                argv: Argv::from_parts(["set", "k", "v"]),
            }],
        }),
        EventBody::Row(RowChange {
            table: Arc::from("shop.orders"),
            op: RowOp::Update,
            before: Some(cells("CANCELLED")),
            after: Some(cells("PAID")),
            txn: 7,
            header_secs: 1_795_666_525,
        }),
        EventBody::Commit(Commit {
            txn: 7,
            header_secs: 1_795_666_525,
            commit_us: Some(t + 100),
            gtid: Some("0-1-42".into()),
            xid: Some(99),
        }),
        EventBody::ClockProbe(ClockProbe {
            local_send_us: t,
            remote_us: t + 1_000,
            local_recv_us: t + 300,
        }),
        EventBody::Snapshot(Snapshot {
            db: 0,
            key: b"order:42".to_vec(),
            value: StoredValue::Hash(vec![(b"status".to_vec(), b"PAID".to_vec())]),
            pttl_ms: 299_000,
        }),
        EventBody::Gap(Gap { from_us: t - 1_000_000, to_us: t, reason: "connection lost".into() }),
        EventBody::Keyspace(KeyspaceNotice {
            db: 0,
            key: b"order:42".to_vec(),
            event: Arc::from("expired"),
        }),
    ];
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| Event {
            seq: i as u64 * 2,
            source: SourceId((i % 2) as u16),
            recv_us: t + i as i64 * 1_000,
            body,
        })
        .collect()
}
