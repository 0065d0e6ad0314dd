//! Trace decoding speed: events per second through the reader's reusing fast path
//! (`next_event_into`) and through the owned-event iterator, on a 1M-command cache trace.
//!
//! `cargo bench -p cachetape-tape --bench decode`

use std::hint::black_box;
use std::sync::Arc;

use cachetape_tape::*;
use cachetape_testkit::trace::{TraceBuilder, redis_only};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const EVENTS: usize = 1_000_000;

/// One Redis node, 64 clients, a command per µs from 1_795_000_000 s (the header says 0), each
/// received 40 µs after its MONITOR timestamp: half GETs, SETs with EX, DELs, EXPIREs over 20,000
/// keys.
fn trace() -> Vec<u8> {
    let clients: Vec<Name> =
        (0..64).map(|i| Arc::from(format!("10.0.0.{}:{}", i % 8, 40_000 + i))).collect();
    let mut t = TraceBuilder::in_memory(&redis_only(0, "cache", "redis://127.0.0.1:6379"));
    t.monitor_delay(40);
    let mut rng = cachetape_base::Rng::new(0x5eed);
    for i in 0..EVENTS {
        let x = rng.next_u64();
        let key = format!("order:{}", x % 20_000);
        let at = 1_795_000_000_000_000 + i as i64;
        let client = clients[i % 64].clone();
        match x % 10 {
            0..=4 => t.redis(at, client, ["GET", &key]),
            5..=7 => {
                let value = format!("{{\"id\":{i},\"status\":\"PAID\"}}");
                t.redis(at, client, ["SET", &key, &value, "EX", "300"])
            }
            8 => t.redis(at, client, ["DEL", &key]),
            _ => t.redis(at, client, ["EXPIRE", &key, "60"]),
        };
    }
    t.finish()
}

fn bench(c: &mut Criterion) {
    let bytes = trace();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.sample_size(10);
    g.bench_function("next_event_into (reused event)", |b| {
        b.iter(|| {
            let mut r = Reader::new(&bytes[..], "mem").unwrap();
            let mut e = r.next().unwrap().unwrap();
            let mut n = 1;
            while r.next_event_into(&mut e).unwrap() {
                black_box(&e);
                n += 1;
            }
            n
        })
    });
    g.bench_function("Iterator (owned events)", |b| {
        b.iter(|| {
            let mut n = 0;
            for e in Reader::new(&bytes[..], "mem").unwrap() {
                black_box(e.unwrap());
                n += 1;
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
