/*!
Analysis throughput and memory on a large synthetic cache-aside trace (target: ≥ 2M events/s,
≤ 1 GB RSS on 10M events), against the baseline of decoding the same trace, in the same run.

`bench/analyze.sh [EVENTS]` runs the three steps in separate processes (so each peak RSS is its
own): `gen FILE N` writes the trace, `decode FILE` decodes it, `analyze FILE` decodes and
analyzes it; each prints one line `what seconds events rss_kib`.

The trace: 100,000 orders (half the traffic on 1,000 hot ones), 64 reader connections doing
`GET order:N` (a miss is followed by `SETEX order:N 300 <json of the row>`), writers updating a
row (row change + commit) then `DEL`ing its key, clock probes every second; about 20,000 events
per second of trace time, so 10M events span about 8 minutes.
*/

use std::time::Instant;

use cachetape_analyzer::{Analysis, AnalysisOptions, Mapping, feed};
use cachetape_base::Rng;
use cachetape_tape::{
    Argv, Capture, Cell, ClockProbe, Commit, EventBody, Header, Reader, RedisCommand, RowChange,
    RowImage, RowOp, Source, SourceId, SourceKind, Value, Writer, WriterOptions,
};

const MAPPING: &str = "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\njson = [\"id\", \"status\", \"total\"]\n";
const STATUSES: [&str; 5] = ["NEW", "PAID", "SHIPPED", "CANCELLED", "REFUNDED"];

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn image(id: u64, status: &str, total: u64) -> RowImage {
    RowImage {
        cells: vec![
            Cell { column: "id".into(), value: Value::Int(id as i64) },
            Cell { column: "status".into(), value: Value::Bytes(status.as_bytes().to_vec()) },
            Cell {
                column: "total".into(),
                value: Value::Decimal(format!("{}.{:02}", total / 100, total % 100)),
            },
        ],
    }
}

fn json(id: u64, status: &str, total: u64) -> String {
    format!(
        r#"{{"id":{id},"status":"{status}","total":"{}.{:02}","customer":{}}}"#,
        total / 100,
        total % 100,
        10_000 + id % 90_000
    )
}

fn generate(path: &str, n: u64) {
    let mut header = Header::new(1_795_666_525_000_000);
    for (name, kind) in [("cache", SourceKind::Redis), ("db", SourceKind::MariaDb)] {
        header.add_source(Source {
            name: name.into(),
            kind,
            address: format!("{name}:1"),
            version: None,
            capture: Capture::Live,
        });
    }
    let mut w = Writer::create(path, &header, WriterOptions::default()).unwrap();
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    const ORDERS: u64 = 100_000;
    let mut rows: Vec<(u8, u64)> = (0..ORDERS).map(|i| (0, 1_000 + i)).collect();
    let mut cached = vec![false; ORDERS as usize];
    let clients: Vec<String> =
        (0..64).map(|i| format!("10.0.{}.{}:{}", i / 16, i % 250, 40_000 + i)).collect();
    let mut t: i64 = 1_795_666_525_000_000;
    let mut next_probe = t;
    let mut txn = 0u64;
    let mut written = 0u64;
    let redis = |w: &mut Writer<_>, t: i64, client: &str, args: &[&[u8]]| {
        let c = RedisCommand {
            db: 0,
            client: client.into(),
            server_us: t,
            argv: Argv::from_parts(args.iter().copied()),
            script: Vec::new(),
        };
        w.append(SourceId(0), t + 80, EventBody::Redis(c)).unwrap();
    };
    while written < n {
        t += 1 + rng.below(99) as i64;
        if t >= next_probe {
            for s in 0..2 {
                let p = ClockProbe { local_send_us: t - 100, remote_us: t, local_recv_us: t + 100 };
                w.append(SourceId(s), t + 100, EventBody::ClockProbe(p)).unwrap();
                written += 1;
            }
            next_probe += 1_000_000;
        }
        let id = if rng.below(2) == 0 { rng.below(1_000) } else { rng.below(ORDERS) };
        let key = format!("order:{id}");
        let client = &clients[rng.below(64) as usize];
        if rng.below(100) < 3 {
            // A writer: update the row, commit, DEL the key.
            let (s, total) = rows[id as usize];
            let ns = ((s as usize + 1 + rng.below(4) as usize) % STATUSES.len()) as u8;
            let nt = total + 1 + rng.below(500);
            txn += 1;
            let secs = (t / 1_000_000) as u32;
            let change = RowChange {
                table: "shop.orders".into(),
                op: RowOp::Update,
                before: Some(image(id, STATUSES[s as usize], total)),
                after: Some(image(id, STATUSES[ns as usize], nt)),
                txn,
                header_secs: secs,
            };
            w.append(SourceId(1), t, EventBody::Row(change)).unwrap();
            let commit =
                Commit { txn, header_secs: secs, commit_us: None, gtid: None, xid: Some(txn) };
            w.append(SourceId(1), t, EventBody::Commit(commit)).unwrap();
            rows[id as usize] = (ns, nt);
            t += 200;
            redis(&mut w, t, client, &[b"DEL", key.as_bytes()]);
            cached[id as usize] = false;
            written += 3;
        } else {
            redis(&mut w, t, client, &[b"GET", key.as_bytes()]);
            written += 1;
            if !cached[id as usize] {
                let (s, total) = rows[id as usize];
                t += 300 + rng.below(700) as i64;
                let v = json(id, STATUSES[s as usize], total);
                redis(&mut w, t, client, &[b"SETEX", key.as_bytes(), b"300", v.as_bytes()]);
                cached[id as usize] = true;
                written += 1;
            }
        }
    }
    w.finish().unwrap();
}

fn decode(path: &str) -> u64 {
    let mut reader = Reader::open(path).unwrap();
    let mut n = 0;
    let Some(mut event) = reader.next().transpose().unwrap() else { return 0 };
    loop {
        n += 1;
        std::hint::black_box(&event);
        if !reader.next_event_into(&mut event).unwrap() {
            return n;
        }
    }
}

fn analyze(path: &str) -> (u64, u64) {
    let mut reader = Reader::open(path).unwrap();
    let mapping = Mapping::parse(MAPPING).unwrap();
    let mut analysis = Analysis::new(reader.header(), mapping, AnalysisOptions::default());
    // As `cachetape analyze` does: decoding on a thread of its own, a batch ahead.
    feed(&mut analysis, |event| reader.next_event_into(event)).unwrap();
    let n = reader.report().events;
    let report = analysis.finish().unwrap();
    (n, report.summary.hits)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let (what, path) = match (args.first(), args.get(1)) {
        (Some(w), Some(p)) => (w.as_str(), p.as_str()),
        _ => {
            eprintln!("usage: analyze (gen FILE N | decode FILE | analyze FILE)");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let events = match what {
        "gen" => {
            let n = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10_000_000);
            generate(path, n);
            n
        }
        "decode" => decode(path),
        "analyze" => analyze(path).0,
        _ => {
            eprintln!("unknown step {what}");
            std::process::exit(2);
        }
    };
    println!("{what} {:.3} {events} {}", start.elapsed().as_secs_f64(), rss_kib());
}
