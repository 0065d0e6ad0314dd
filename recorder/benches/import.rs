//! Import speed: MONITOR lines per second on one core, parse alone and the whole import
//! (parse, encode, zstd, write), against the floor of merely splitting the text into lines.
//!
//! `cargo bench -p cachetape-recorder --bench import`

use std::io::BufRead;

use cachetape_recorder::import::{ImportPlan, MonitorInput, import};
use cachetape_recorder::monitor::{MonitorReader, parse_line};
use cachetape_testkit::synthetic::cache_aside_monitor_text;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const LINES: usize = 200_000;

fn bench(c: &mut Criterion) {
    let text = cache_aside_monitor_text(LINES, 42);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("capture.txt");
    std::fs::write(&input, &text).unwrap();

    let mut g = c.benchmark_group("import");
    g.throughput(Throughput::Elements(LINES as u64));
    g.sample_size(20);
    g.bench_function("baseline: split lines", |b| {
        b.iter(|| {
            text.as_bytes().lines().filter(|l| l.as_ref().is_ok_and(|l| !l.is_empty())).count()
        })
    });
    g.bench_function("parse_line", |b| {
        b.iter(|| text.as_bytes().split(|&c| c == b'\n').filter(|l| parse_line(l).is_ok()).count())
    });
    g.bench_function("MonitorReader (parse + script attach + client interning)", |b| {
        b.iter(|| MonitorReader::new(text.as_bytes()).count())
    });
    g.bench_function("import file to trace (parse + encode + zstd + write)", |b| {
        let plan = ImportPlan {
            monitors: vec![MonitorInput { path: input.clone(), node: "redis".into() }],
            output: dir.path().join("out.bin"),
            ..ImportPlan::default()
        };
        b.iter(|| import(&plan).unwrap().events)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
