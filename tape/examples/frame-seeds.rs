//! Writes raw frames (one per file) for the `frame_decode` fuzz target's seed corpus:
//! `cargo run -p cachetape-tape --example frame-seeds -- fuzz/seeds/frame_decode`.

use std::sync::Arc;

use cachetape_tape::*;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: frame-seeds DIR");
    std::fs::create_dir_all(&dir).unwrap();
    let t = 1_795_666_525_369_271;
    let redis = |i: i64, argv: Argv, script: Vec<ScriptCall>| Event {
        seq: i as u64,
        source: SourceId(0),
        recv_us: t + i * 100,
        body: EventBody::Redis(RedisCommand {
            db: (i % 3) as u32,
            client: Arc::from(format!("10.0.0.{}:4000{}", i % 4, i % 10)),
            server_us: t + i * 100 - 7,
            argv,
            script,
        }),
    };
    let row = Event {
        seq: 10,
        source: SourceId(1),
        recv_us: t,
        body: EventBody::Row(RowChange {
            table: Arc::from("shop.orders"),
            op: RowOp::Update,
            before: Some(RowImage {
                cells: vec![Cell {
                    column: Arc::from("status"),
                    value: Value::Bytes(b"NEW".to_vec()),
                }],
            }),
            after: Some(RowImage {
                cells: vec![
                    Cell { column: Arc::from("status"), value: Value::Bytes(b"PAID".to_vec()) },
                    Cell { column: Arc::from("total"), value: Value::Decimal("9.99".into()) },
                ],
            }),
            txn: 3,
            header_secs: 1_795_666_525,
        }),
    };
    let seeds: Vec<Vec<Event>> = vec![
        (0..20)
            .map(|i| redis(i, Argv::from_parts(["GET", &format!("order:{i}")]), vec![]))
            .collect(),
        vec![
            redis(0, Argv::from_parts(["SET", "k", "\u{0}\u{ff}v", "EX", "300"]), vec![]),
            redis(
                1,
                Argv::from_parts(["EVAL", "return 1", "1", "k"]),
                vec![ScriptCall {
                    db: 0,
                    server_us: t + 150,
                    argv: Argv::from_parts(["get", "k"]),
                }],
            ),
            row,
        ],
    ];
    for (i, events) in seeds.iter().enumerate() {
        std::fs::write(format!("{dir}/frame{i}.bin"), wire::encode_frame(events)).unwrap();
    }
}
