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
use cachetape_tape::{Reader, RowImage, SourceId, Value};
use cachetape_testkit::trace::{TraceBuilder, cache_and_db, image, text};

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

fn row(id: u64, status: &str, total: u64) -> RowImage {
    image([
        ("id", Value::Int(id as i64)),
        ("status", text(status)),
        ("total", Value::Decimal(format!("{}.{:02}", total / 100, total % 100))),
    ])
}

fn json(id: u64, status: &str, total: u64) -> String {
    format!(
        r#"{{"id":{id},"status":"{status}","total":"{}.{:02}","customer":{}}}"#,
        total / 100,
        total % 100,
        10_000 + id % 90_000
    )
}

/// Writes the trace (see the crate documentation) of `n` events to `path`: MONITOR lines
/// received 80 µs after their timestamp, a probe of both sources every second.
fn generate(path: &str, n: u64) {
    let mut w = TraceBuilder::create(path, &cache_and_db(1_795_666_525_000_000));
    w.monitor_delay(80);
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    const ORDERS: u64 = 100_000;
    let mut rows: Vec<(u8, u64)> = (0..ORDERS).map(|i| (0, 1_000 + i)).collect();
    let mut cached = vec![false; ORDERS as usize];
    let clients: Vec<String> =
        (0..64).map(|i| format!("10.0.{}.{}:{}", i / 16, i % 250, 40_000 + i)).collect();
    // µs after the trace's creation.
    let mut t: i64 = 0;
    let mut next_probe = t;
    let mut written = 0u64;
    while written < n {
        t += 1 + rng.below(99) as i64;
        if t >= next_probe {
            for s in 0..2 {
                w.probe(SourceId(s), t - 100, t, t + 100);
                written += 1;
            }
            next_probe += 1_000_000;
        }
        let id = if rng.below(2) == 0 { rng.below(1_000) } else { rng.below(ORDERS) };
        let key = format!("order:{id}");
        let client = clients[rng.below(64) as usize].as_str();
        if rng.below(100) < 3 {
            // A writer: update the row, commit, DEL the key.
            let (s, total) = rows[id as usize];
            let ns = ((s as usize + 1 + rng.below(4) as usize) % STATUSES.len()) as u8;
            let nt = total + 1 + rng.below(500);
            let before = row(id, STATUSES[s as usize], total);
            w.update(t, "shop.orders", before, row(id, STATUSES[ns as usize], nt));
            rows[id as usize] = (ns, nt);
            t += 200;
            w.redis(t, client, ["DEL", &key]);
            cached[id as usize] = false;
            written += 3;
        } else {
            w.redis(t, client, ["GET", &key]);
            written += 1;
            if !cached[id as usize] {
                let (s, total) = rows[id as usize];
                t += 300 + rng.below(700) as i64;
                let v = json(id, STATUSES[s as usize], total);
                w.redis(t, client, ["SETEX", &key, "300", &v]);
                cached[id as usize] = true;
                written += 1;
            }
        }
    }
    w.finish();
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
