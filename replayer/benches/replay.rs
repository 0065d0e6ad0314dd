/*!
As-recorded replay throughput: a 1M-command GET/SET/DEL/EXPIRE trace, decoded from the trace file
and replayed on one thread, against real redis-server executing the same commands through
`redis-cli --pipe`, both measured in the same run and printed as a table.

    cargo bench -p cachetape-replayer --bench replay [-- COMMANDS]      (or bench/replay.sh)

To profile one part alone, `-- COMMANDS --only replay|event|owned|decode|decode-owned|store [--runs
N]` runs just that part N times (default 10) and prints each time, e.g. under `perf record -g`.
`--keys K` changes the key space (default 20,000; with a few hundred keys the store runs from L1/L2
cache, which separates instruction costs from cache misses).

The trace: 1,000,000 commands (45% GET, 30% SET — a third with EX —, 15% DEL, 10% EXPIRE) over
20,000 `order:N` keys, 40-byte values, 64 clients, one command per µs of server time, written with
the tape crate's default writer options. Each figure is the best of five rounds (`--rounds N`); a
round measures every row once, redis included, so that a busy spell on a shared machine slows a
round's rows alike. The replay rows read each Redis command borrowed from its decompressed frame
(`Reader::next_ref`) and replay it through `Replayer::apply_borrowed` (each step borrowed, a GET's
value not copied out of the store); "store only" replays already-decoded events through
`Replayer::apply_ref`. The last two rows are the same replay decoding every event into a reused
owned `Event` (`Reader::next_event_into` + `Replayer::apply_ref`: what a caller that keeps events
pays) and through `Replayer::apply`, an owned `Step` per command.
*/

use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::process::{Command as Process, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cachetape_base::Rng;
use cachetape_replayer::{ReplayOptions, Replayer, Reply, ReplyRef};
use cachetape_tape::Reader;
use cachetape_testkit::trace::{TraceBuilder, redis_only};

fn workload(n: usize, keys: u64) -> Vec<Vec<Vec<u8>>> {
    let mut rng = Rng::new(0x5eed);
    (0..n)
        .map(|i| {
            let key = format!("order:{}", rng.next_u64() % keys).into_bytes();
            let r = rng.next_u64() % 100;
            match r {
                0..=44 => vec![b"GET".to_vec(), key],
                45..=74 => {
                    let value = format!(
                        "{{\"id\":{i},\"status\":\"PAID\",\"v\":{:08}}}",
                        rng.next_u64() % 100_000_000
                    );
                    let mut v = vec![b"SET".to_vec(), key, value.into_bytes()];
                    if r < 55 {
                        v.extend([b"EX".to_vec(), b"300".to_vec()]);
                    }
                    v
                }
                75..=89 => vec![b"DEL".to_vec(), key],
                _ => vec![b"EXPIRE".to_vec(), key, b"60".to_vec()],
            }
        })
        .collect()
}

/// Writes `commands` as a trace of one Redis node (`cache-1`, 7.0.15), one command per µs from
/// the trace's creation, from 64 clients in turn, each received 50 µs after its MONITOR
/// timestamp; returns the file's size.
fn write_trace(path: &std::path::Path, commands: &[Vec<Vec<u8>>]) -> u64 {
    let mut header = redis_only(1_795_000_000_000_000, "cache-1", "redis://127.0.0.1:6379");
    header.sources[0].version = Some("7.0.15".into());
    let clients: Vec<Arc<str>> =
        (0..64).map(|i| Arc::from(format!("10.0.0.{}:{}", i % 8, 40_000 + i))).collect();
    let mut t = TraceBuilder::create(path, &header);
    t.monitor_delay(50);
    for (i, argv) in commands.iter().enumerate() {
        t.redis(i as i64, clients[i % clients.len()].clone(), argv);
    }
    t.finish();
    std::fs::metadata(path).unwrap().len()
}

/// What the replies of a replay add up to: every path must give the same, and folding each reply
/// into it is what keeps the replies computed and used (rather than `black_box`, which forces
/// every step through memory).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    commands: u64,
    nils: u64,
    bulk_bytes: u64,
    integers: i64,
}

impl Tally {
    #[inline(always)]
    fn add(&mut self, reply: &ReplyRef<'_>) {
        self.commands += 1;
        match reply {
            ReplyRef::Bulk(b) => self.bulk_bytes += b.len() as u64,
            ReplyRef::Owned(r) => self.add_owned(r),
        }
    }

    #[inline(always)]
    fn add_owned(&mut self, reply: &Reply) {
        match reply {
            Reply::Nil => self.nils += 1,
            Reply::Bulk(b) => self.bulk_bytes += b.len() as u64,
            Reply::Integer(i) => self.integers = self.integers.wrapping_add(*i),
            _ => {}
        }
    }
}

/// Decodes the trace and replays every event, each Redis command borrowed from the decompressed
/// frame (`Reader::next_ref`) and its step borrowed from the replayer
/// (`Replayer::apply_borrowed`).
fn replay(path: &std::path::Path) -> Tally {
    let mut reader = Reader::open(path).unwrap();
    let mut replayer = Replayer::new(reader.header(), ReplayOptions::default());
    let mut tally = Tally::default();
    let mut scratch = reader.next().unwrap().unwrap();
    if let Some(step) = replayer.apply_ref(&scratch) {
        tally.add(&step.reply);
    }
    while let Some(e) = reader.next_ref(&mut scratch).unwrap() {
        if let Some(step) = replayer.apply_borrowed(e) {
            tally.add(&step.reply);
        }
    }
    tally
}

/// [`replay`] with each event decoded into a reused owned `Event` (`Reader::next_event_into`)
/// and its step borrowed (`Replayer::apply_ref`): replay for a caller that keeps the events.
fn replay_event(path: &std::path::Path) -> Tally {
    let mut reader = Reader::open(path).unwrap();
    let mut replayer = Replayer::new(reader.header(), ReplayOptions::default());
    let mut tally = Tally::default();
    let mut e = reader.next().unwrap().unwrap();
    loop {
        if let Some(step) = replayer.apply_ref(&e) {
            tally.add(&step.reply);
        }
        if !reader.next_event_into(&mut e).unwrap() {
            return tally;
        }
    }
}

/// [`replay`] with an owned `Step` per command (`Replayer::apply`, what `cat --replies` and the
/// analyzer use).
fn replay_owned(path: &std::path::Path) -> Tally {
    let mut reader = Reader::open(path).unwrap();
    let mut replayer = Replayer::new(reader.header(), ReplayOptions::default());
    let mut tally = Tally::default();
    let mut e = reader.next().unwrap().unwrap();
    loop {
        if let Some(step) = replayer.apply(&e) {
            tally.commands += 1;
            tally.add_owned(&step.reply);
        }
        if !reader.next_event_into(&mut e).unwrap() {
            return tally;
        }
    }
}

/// Decodes the trace without replaying, into a reused owned `Event`.
fn decode_only(path: &std::path::Path) -> u64 {
    let mut reader = Reader::open(path).unwrap();
    let mut e = reader.next().unwrap().unwrap();
    let mut n = 1;
    while reader.next_event_into(&mut e).unwrap() {
        black_box(&e);
        n += 1;
    }
    n
}

/// Decodes the trace without replaying, Redis commands borrowed from the frame
/// (`Reader::next_ref`, what the replay rows use).
fn decode_ref(path: &std::path::Path) -> u64 {
    let mut reader = Reader::open(path).unwrap();
    let mut scratch = reader.next().unwrap().unwrap();
    let mut n = 1;
    while let Some(e) = reader.next_ref(&mut scratch).unwrap() {
        black_box(&e);
        n += 1;
    }
    n
}

/// Replays already-decoded events (the store alone).
fn store_only(path: &std::path::Path) -> Duration {
    let reader = Reader::open(path).unwrap();
    let header = reader.header().clone();
    let events: Vec<_> = reader.map(Result::unwrap).collect();
    let mut replayer = Replayer::new(&header, ReplayOptions::default());
    let start = Instant::now();
    for e in &events {
        black_box(replayer.apply_ref(e));
    }
    start.elapsed()
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        let t = start.elapsed();
        if best.as_ref().is_none_or(|(b, _)| t < *b) {
            best = Some((t, out));
        }
    }
    best.unwrap()
}

/// Writes `commands` as RESP for `redis-cli --pipe`.
fn write_resp(commands: &[Vec<Vec<u8>>], resp: &std::path::Path) {
    let mut out = BufWriter::new(std::fs::File::create(resp).unwrap());
    for argv in commands {
        write!(out, "*{}\r\n", argv.len()).unwrap();
        for a in argv {
            write!(out, "${}\r\n", a.len()).unwrap();
            out.write_all(a).unwrap();
            out.write_all(b"\r\n").unwrap();
        }
    }
    out.flush().unwrap();
}

/// One run of `redis-cli --pipe` with `resp` into a fresh private redis-server; `None` when
/// redis-cli cannot be run.
fn redis_pipe(resp: &std::path::Path) -> Option<Duration> {
    let server = cachetape_testkit::RedisServer::start();
    let start = Instant::now();
    let status = Process::new("redis-cli")
        .args(["-p", &server.port.to_string(), "--pipe"])
        .stdin(std::fs::File::open(resp).unwrap())
        .stdout(Stdio::null())
        .status()
        .ok()?;
    let t = start.elapsed();
    assert!(status.success());
    Some(t)
}

/// The value after `name` on the command line.
fn flag(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = (0..args.len())
        .filter(|&i| {
            i == 0 || !matches!(args[i - 1].as_str(), "--only" | "--runs" | "--keys" | "--rounds")
        })
        .find_map(|i| args[i].parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.ctape");
    let keys = flag("--keys").and_then(|k| k.parse().ok()).unwrap_or(20_000);
    let commands = workload(n, keys);
    let bytes = write_trace(&path, &commands);
    if let Some(part) = flag("--only") {
        let runs: usize = flag("--runs").and_then(|r| r.parse().ok()).unwrap_or(10);
        for _ in 0..runs {
            let t = match part.as_str() {
                "replay" => best_of(1, || replay(&path)).0,
                "owned" => best_of(1, || replay_owned(&path)).0,
                "event" => best_of(1, || replay_event(&path)).0,
                "decode" => best_of(1, || decode_ref(&path)).0,
                "decode-owned" => best_of(1, || decode_only(&path)).0,
                "store" => store_only(&path),
                other => panic!(
                    "--only {other}: expected replay, event, owned, decode, decode-owned or store"
                ),
            };
            println!("{part} {:.3} s {:.0}/s", t.as_secs_f64(), n as f64 / t.as_secs_f64());
        }
        return;
    }

    // Rounds, each measuring every row once, the best of each row kept: a busy spell on the
    // machine then slows all rows of a round alike instead of one row's every run.
    let rounds: usize = flag("--rounds").and_then(|r| r.parse().ok()).unwrap_or(5);
    let resp = dir.path().join("commands.resp");
    write_resp(&commands, &resp);
    let tally = replay(&path);
    assert_eq!(tally.commands as usize, n);
    let mut best = [Duration::MAX; 6];
    let mut redis_found = true;
    let keep = |best: &mut [Duration; 6], i: usize, t: Duration| best[i] = best[i].min(t);
    for _ in 0..rounds {
        let (t, got) = best_of(1, || replay(&path));
        assert_eq!(got, tally);
        keep(&mut best, 0, t);
        let (t, decoded) = best_of(1, || decode_ref(&path));
        assert_eq!(decoded as usize, n);
        keep(&mut best, 1, t);
        let (t, got) = best_of(1, || replay_event(&path));
        assert_eq!(got, tally);
        keep(&mut best, 3, t);
        let (t, got) = best_of(1, || replay_owned(&path));
        assert_eq!(got, tally);
        keep(&mut best, 4, t);
        // Last: it holds every event in memory at once, which leaves the allocator's heap
        // fragmented for whatever runs next.
        keep(&mut best, 2, store_only(&path));
        match redis_pipe(&resp) {
            Some(t) => keep(&mut best, 5, t),
            None => redis_found = false,
        }
    }
    let [t_replay, t_decode, t_store, t_event, t_owned, t_redis] = best;
    let t_redis = redis_found.then_some(t_redis);

    let rate = |t: Duration| n as f64 / t.as_secs_f64();
    println!(
        "as-recorded replay of {n} GET/SET/DEL/EXPIRE commands ({:.1} MB trace; replies: {} nil, {} bulk bytes, integers summing to {}), one thread, best of {rounds} rounds",
        bytes as f64 / 1e6,
        tally.nils,
        tally.bulk_bytes,
        tally.integers
    );
    println!("{:<46} {:>10} {:>14} {:>9}", "what", "seconds", "commands/s", "vs redis");
    let redis_rate = t_redis.map(rate);
    let row = |name: &str, t: Duration| {
        let vs = redis_rate.map_or("-".to_string(), |r| format!("{:.1}x", rate(t) / r));
        println!("{:<46} {:>10.3} {:>14.0} {:>9}", name, t.as_secs_f64(), rate(t), vs);
    };
    row("replay: decode trace file + fake store", t_replay);
    row("  of which: decode trace file only", t_decode);
    row("  of which: fake store only (decoded events)", t_store);
    row("replay, decoding into an owned Event", t_event);
    row("replay with an owned Step per command (apply)", t_owned);
    match t_redis {
        Some(t) => row("redis-server via redis-cli --pipe", t),
        None => println!("redis-server via redis-cli --pipe: redis-cli not found"),
    }
}
