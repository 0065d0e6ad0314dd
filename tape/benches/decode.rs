//! Trace decoding speed: events per second through the reader's reusing fast path
//! (`next_event_into`) and through the owned-event iterator, on a 1M-command cache trace.
//!
//! `cargo bench -p cachetape-tape --bench decode`

use std::hint::black_box;
use std::sync::Arc;

use cachetape_tape::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const EVENTS: usize = 1_000_000;

fn trace() -> Vec<u8> {
    let mut header = Header::new(0);
    let source = header.add_source(Source {
        name: "cache".into(),
        kind: SourceKind::Redis,
        address: "redis://127.0.0.1:6379".into(),
        version: None,
        capture: Capture::Live,
    });
    let clients: Vec<Name> =
        (0..64).map(|i| Arc::from(format!("10.0.0.{}:{}", i % 8, 40_000 + i))).collect();
    let mut w = Writer::new(Vec::new(), "mem", &header, WriterOptions::default()).unwrap();
    let mut rng = cachetape_base::Rng::new(0x5eed);
    for i in 0..EVENTS {
        let x = rng.next_u64();
        let key = format!("order:{}", x % 20_000);
        let argv = match x % 10 {
            0..=4 => Argv::from_parts(["GET", &key]),
            5..=7 => Argv::from_parts([
                "SET",
                &key,
                &format!("{{\"id\":{i},\"status\":\"PAID\"}}"),
                "EX",
                "300",
            ]),
            8 => Argv::from_parts(["DEL", &key]),
            _ => Argv::from_parts(["EXPIRE", &key, "60"]),
        };
        let t = 1_795_000_000_000_000 + i as i64;
        let body = EventBody::Redis(RedisCommand {
            db: 0,
            client: clients[i % 64].clone(),
            server_us: t,
            argv,
            script: Vec::new(),
        });
        w.append(source, t + 40, body).unwrap();
    }
    w.finish().unwrap().0
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
