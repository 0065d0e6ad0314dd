//! Reading a MONITOR stream off the socket, per line: the recorder's raw reader (chunks split at
//! `\n`, each line parsed where it lies) against the redis crate's decoder (`redis::ValueCodec`,
//! which `redis::aio::Monitor` runs: one `Value::SimpleString` per line, made a `String` as
//! `Monitor::into_on_message::<String>()` does). Both then run the same `parse_line`, and both
//! are also measured without it (framing alone).
//!
//! `cargo bench -p cachetape-recorder --bench monitor_stream` (wall time, criterion), or one pass
//! of one reader for an instruction count:
//! `MONITOR_STREAM_ONCE=raw|crate|input valgrind --tool=callgrind <bench binary>`; `input` only
//! builds the input, to subtract.

use bytes::BytesMut;
use cachetape_recorder::monitor::parse_line;
use cachetape_testkit::synthetic::cache_aside_monitor_text;
use criterion::{Criterion, Throughput};
use redis::{FromRedisValue, ValueCodec};
use tokio_util::codec::Decoder;

const LINES: usize = 200_000;
/// The recorder's read size.
const CHUNK: usize = 256 << 10;

/// The bytes Redis sends a MONITOR client: one `+…\r\n` status line per command.
fn wire() -> Vec<u8> {
    let text = cache_aside_monitor_text(LINES, 42);
    let mut out = Vec::with_capacity(text.len() + 3 * LINES);
    for line in text.lines().filter(|l| !l.is_empty()) {
        out.push(b'+');
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The recorder's way: append a chunk, take every complete line in place, keep the rest.
#[inline(never)]
fn read_raw(wire: &[u8], parse: bool) -> usize {
    let mut buf: Vec<u8> = Vec::with_capacity(2 * CHUNK);
    let mut seen = 0;
    for chunk in wire.chunks(CHUNK) {
        buf.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(nl) = memchr::memchr(b'\n', &buf[start..]) {
            let line = &buf[start..start + nl + 1];
            start += nl + 1;
            seen += if parse { usize::from(parse_line(line).is_ok()) } else { line.len() & 1 };
        }
        buf.drain(..start);
    }
    seen
}

/// The redis crate's way: its codec decodes each line into a `Value`, then a `String`.
#[inline(never)]
fn read_with_crate(wire: &[u8], parse: bool) -> usize {
    let mut codec = ValueCodec::default();
    let mut buf = BytesMut::with_capacity(2 * CHUNK);
    let mut seen = 0;
    for chunk in wire.chunks(CHUNK) {
        buf.extend_from_slice(chunk);
        while let Ok(Some(value)) = codec.decode(&mut buf) {
            let Ok(line) = String::from_redis_value(value) else { continue };
            seen += if parse {
                usize::from(parse_line(line.as_bytes()).is_ok())
            } else {
                line.len() & 1
            };
        }
    }
    seen
}

fn bench(c: &mut Criterion, wire: &[u8]) {
    assert_eq!(read_raw(wire, true), LINES);
    assert_eq!(read_with_crate(wire, true), LINES);
    let mut g = c.benchmark_group("monitor_stream");
    g.throughput(Throughput::Elements(LINES as u64));
    g.sample_size(20);
    g.bench_function("raw: split lines", |b| b.iter(|| read_raw(wire, false)));
    g.bench_function("redis crate: ValueCodec lines", |b| b.iter(|| read_with_crate(wire, false)));
    g.bench_function("raw: split + parse_line", |b| b.iter(|| read_raw(wire, true)));
    g.bench_function("redis crate: ValueCodec + parse_line", |b| {
        b.iter(|| read_with_crate(wire, true))
    });
    g.finish();
}

fn main() {
    let wire = wire();
    match std::env::var("MONITOR_STREAM_ONCE").as_deref() {
        Ok("raw") => println!("{}", read_raw(&wire, true)),
        Ok("crate") => println!("{}", read_with_crate(&wire, true)),
        Ok(_) => println!("{}", wire.len()),
        Err(_) => {
            let mut c = Criterion::default().configure_from_args();
            bench(&mut c, &wire);
            c.final_summary();
        }
    }
}
