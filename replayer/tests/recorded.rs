/*!
Differential test (b): a recorded workload. Eight clients run mixed cache traffic (short TTLs
that expire mid-run, transactions, WATCH races, scripts) against a real redis-server, each
logging every reply it received; `redis-cli monitor` captures the run; the capture becomes a
trace file; the trace is replayed; every reply the replay computes must equal the logged one.

Clients are matched to MONITOR lines by their local `ip:port`. A transaction aborted by WATCH
leaves no lines for its queued commands (the client got `+QUEUED` for them; MONITOR never shows
them), so those log entries are skipped. A script's own return value is not recorded by MONITOR:
its reply is unknown and is counted, not compared.

Expiry is exercised by construction, not by luck: besides the random mix (whose reads race
their keys' TTLs as the machine's pace decides), every client regularly sets a key of its own
with a 5 ms TTL, waits past it and reads it back. Its log shows that read missed — the server
expired the key whatever the load — and the replay must have found the key expired too.

Expiry happens on the server's clock when the command *starts*; the replay uses the MONITOR
timestamp, written when the command has finished. Commands run one at a time, so a command
started no earlier than the MONITOR line before it: its start lies between the previous line's
timestamp and its own. A command that sets a TTL gives the key an expiry that the replay places
later than the server did by up to that same spread. Inside EXEC and scripts Redis reads its
clock once for all their commands, which the per-line timestamps do not show either. So a
command on a key whose expiry falls within these bounds, or within [`STRADDLE_SLACK_US`] of it
(a read, a PEXPIRE), may find the key present on the server and expired in the replay, or the
other way round (seen in CI on a loaded 2-core machine). The test counts those differences
("expiry straddles") and fails on any other, and on more than a handful of straddles.
*/

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use cachetape_recorder::monitor::MonitorReader;
use cachetape_replayer::{Command, KeyView, ReplayOptions, Reply, replay_file};
use cachetape_tape::{Capture, EventBody, Header, Source, SourceKind, Writer, WriterOptions};
use cachetape_testkit::{RedisServer, read_resp, resp_command};

use crate::resp;
use cachetape_base::Rng;

/// A replayed line: its arguments, the reply the client got, whether it ran a script, and whether
/// one of its keys' expiry lies within the timing bounds of the module doc (an expiry straddle).
type Replayed = (Vec<Vec<u8>>, Reply, bool, Option<bool>);

/// How far from its key's expiry a command's difference still counts as a straddle even outside
/// the bounds of the module doc: inside EXEC and scripts Redis reads its clock once for every
/// command, which the per-line MONITOR timestamps do not show.
const STRADDLE_SLACK_US: i64 = 20_000;

/// One logged request and the raw reply the client read.
struct Logged {
    argv: Vec<Vec<u8>>,
    reply: Vec<u8>,
    /// The read of an expiry probe: its key's TTL had certainly run out (see the module doc).
    expiry_probe: bool,
}

/// An expiry probe every this many commands of a client.
const PROBE_EVERY: usize = 200;
/// The probe key's TTL; the client waits longer than this before reading it back.
const PROBE_TTL_MS: u64 = 5;

fn run_client(port: u16, seed: u64, commands: usize) -> (String, Vec<Logged>) {
    let conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_nodelay(true).unwrap();
    let addr = conn.local_addr().unwrap().to_string();
    let mut out = conn.try_clone().unwrap();
    let mut input = BufReader::new(conn);
    let mut log = Vec::new();
    let mut rng = Rng::new(seed);
    let mut send = |argv: Vec<String>, log: &mut Vec<Logged>| {
        let args: Vec<&[u8]> = argv.iter().map(|s| s.as_bytes()).collect();
        out.write_all(&resp_command(&args)).unwrap();
        let mut reply = Vec::new();
        read_resp(&mut input, &mut reply);
        let argv = argv.into_iter().map(String::into_bytes).collect();
        log.push(Logged { argv, reply, expiry_probe: false });
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let mut sent = 0;
    let mut probes = 0;
    while sent < commands {
        if sent >= probes * PROBE_EVERY {
            // The reply comes after the server set the expiry; sleeping past the TTL from then
            // on puts the GET after it on the server's clock too, however slow the machine.
            let key = format!("probe:{seed}:{probes}");
            send(s(&["SET", &key, "v", "PX", &PROBE_TTL_MS.to_string()]), &mut log);
            std::thread::sleep(Duration::from_millis(PROBE_TTL_MS + 2));
            send(s(&["GET", &key]), &mut log);
            log.last_mut().expect("just logged").expiry_probe = true;
            probes += 1;
            sent += 2;
            continue;
        }
        let k = format!("order:{}", rng.below(12));
        let k2 = format!("order:{}", rng.below(12));
        let val = format!("v{}-{}", seed, rng.below(1000));
        let ttl = (5 + rng.below(60)).to_string();
        let before = log.len();
        match rng.below(100) {
            0..=34 => send(s(&["GET", &k]), &mut log),
            35..=49 => send(s(&["SET", &k, &val, "PX", &ttl]), &mut log),
            50..=53 => send(s(&["SET", &k, &val]), &mut log),
            54..=58 => send(s(&["DEL", &k]), &mut log),
            59..=61 => send(s(&["INCR", &format!("hits:{}", rng.below(3))]), &mut log),
            62..=64 => send(s(&["PEXPIRE", &k, &ttl]), &mut log),
            65..=67 => send(s(&["MGET", &k, &k2]), &mut log),
            68..=70 => send(s(&["EXISTS", &k]), &mut log),
            71..=72 => send(s(&["HSET", &format!("h:{}", rng.below(3)), "f", &val]), &mut log),
            73..=74 => send(s(&["HGETALL", &format!("h:{}", rng.below(3))]), &mut log),
            75..=76 => send(s(&["GETEX", &k, "PX", &ttl]), &mut log),
            77..=78 => send(s(&["SETNX", &k, &val]), &mut log),
            79..=80 => {
                send(s(&["MULTI"]), &mut log);
                send(s(&["SET", &k, &val, "PX", &ttl]), &mut log);
                send(s(&["GET", &k2]), &mut log);
                send(s(&["INCR", "hits:tx"]), &mut log);
                send(s(&["EXEC"]), &mut log);
            }
            81..=84 => {
                // Optimistic update: often aborted by another client's write or by expiry.
                send(s(&["WATCH", &k]), &mut log);
                send(s(&["GET", &k]), &mut log);
                send(s(&["MULTI"]), &mut log);
                send(s(&["SET", &k, &val, "PX", &ttl]), &mut log);
                send(s(&["EXEC"]), &mut log);
            }
            85..=86 => send(
                s(&[
                    "EVAL",
                    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return redis.call('GET', KEYS[2])",
                    "2",
                    &k,
                    &k2,
                    &val,
                    &ttl,
                ]),
                &mut log,
            ),
            87..=88 => send(s(&["SADD", "tags", &rng.below(20).to_string()]), &mut log),
            89 => send(s(&["SMEMBERS", "tags"]), &mut log),
            90..=91 => send(s(&["LPUSH", "recent", &val]), &mut log),
            92 => send(s(&["LRANGE", "recent", "0", "4"]), &mut log),
            93..=94 => send(
                s(&["ZADD", "board", &rng.below(50).to_string(), &format!("p{}", rng.below(10))]),
                &mut log,
            ),
            95 => send(s(&["ZRANGE", "board", "0", "-1", "WITHSCORES"]), &mut log),
            96 => send(s(&["TYPE", &k]), &mut log),
            97 => send(s(&["APPEND", &k, "x"]), &mut log),
            _ => send(s(&["GETDEL", &k]), &mut log),
        }
        sent += log.len() - before;
        if rng.below(15) == 0 {
            std::thread::sleep(Duration::from_millis(1 + rng.below(6)));
        }
    }
    (addr, log)
}

#[test]
fn recorded_workload_replays_every_reply_the_clients_saw() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let capture_path = dir.path().join("capture.txt");
    let capture = std::fs::File::create(&capture_path).unwrap();
    let mut monitor =
        server.cli().arg("monitor").stdout(capture).stderr(Stdio::null()).spawn().unwrap();
    // Wait until the monitor is attached: its own OK line appears.
    let attached = || std::fs::read_to_string(&capture_path).unwrap_or_default().starts_with("OK");
    for _ in 0..200 {
        if attached() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(attached(), "redis-cli monitor did not attach");

    let handles: Vec<_> = (0..8u64)
        .map(|seed| {
            let port = server.port;
            std::thread::spawn(move || run_client(port, seed + 1, 1_300))
        })
        .collect();
    let logs: HashMap<String, Vec<Logged>> =
        handles.into_iter().map(|h| h.join().unwrap()).collect();
    let total: usize = logs.values().map(Vec::len).sum();
    assert!(total >= 10_000, "only {total} commands");

    // A sentinel marks the end of the capture.
    server.command(&[b"ECHO", b"cachetape-end"]);
    for _ in 0..500 {
        if std::fs::read_to_string(&capture_path).unwrap().contains("cachetape-end") {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    monitor.kill().unwrap();
    monitor.wait().unwrap();

    // The capture becomes a trace file.
    let reader = MonitorReader::new(BufReader::new(std::fs::File::open(&capture_path).unwrap()));
    let mut header = Header::new(0);
    let source = header.add_source(Source {
        name: "redis".into(),
        kind: SourceKind::Redis,
        address: server.url(),
        version: None,
        capture: Capture::Imported { files: vec![capture_path.display().to_string()] },
    });
    let trace_path = dir.path().join("run.ctape");
    let mut writer = Writer::create(&trace_path, &header, WriterOptions::default()).unwrap();
    let mut lines = 0;
    for command in reader {
        let command = command.unwrap();
        let recv = command.server_us;
        writer.append(source, recv, EventBody::Redis(command)).unwrap();
        lines += 1;
    }
    writer.finish().unwrap();
    assert!(lines >= total - 2_000, "the capture holds {lines} commands for {total} sent");

    // Replay, grouping each client's steps.
    let mut replayed: HashMap<Arc<str>, Vec<Replayed>> = HashMap::new();
    // GET misses of keys whose last write gave them a TTL: the key expired in between.
    let mut last_write_had_ttl: HashMap<Vec<u8>, bool> = HashMap::new();
    let mut expired_misses = 0;
    // Per key: its expiry in the replay (µs) and how much later than the server's it may be.
    let mut expiry: HashMap<Vec<u8>, (i64, i64)> = HashMap::new();
    let mut previous_us = i64::MIN;
    let options = ReplayOptions { key_views: true, ..ReplayOptions::default() };
    let report = replay_file(&trace_path, options, |event, step| {
        let EventBody::Redis(c) = &event.body else { return };
        let key = c.argv.get(1).unwrap_or_default().to_vec();
        let now = c.server_us;
        // Before this command: is the key's expiry within what its timing cannot tell apart?
        // The nearest expiry among the command's keys, µs from the command (None: no TTL).
        let nearest = c
            .argv
            .iter()
            .skip(1)
            .filter_map(|k| expiry.get(k))
            .map(|&(at, late)| {
                // Replay expired, server alive at the start: possible when the start (no earlier
                // than the previous line) came before the expiry. Replay alive, server expired:
                // possible when the server's expiry (up to `late` earlier) was already past.
                let within = (at <= now && previous_us <= at) || (at > now && at - late <= now);
                (within, (at - now).abs())
            })
            .min_by_key(|&(within, distance)| (!within, distance));
        let straddle = nearest.map(|(within, distance)| within || distance <= STRADDLE_SLACK_US);
        let spread = now.saturating_sub(previous_us).max(0);
        let views = step.keys.iter().chain(step.script.iter().flat_map(|s| s.keys.iter()));
        for after in views {
            match &after.view {
                KeyView::Present { expires_at: Some(ms), .. } => {
                    let at = ms * 1_000;
                    let late = match expiry.get(after.key.as_ref()) {
                        Some(&(old, late)) if old == at => late,
                        _ => spread,
                    };
                    expiry.insert(after.key.to_vec(), (at, late));
                }
                _ => {
                    expiry.remove(after.key.as_ref());
                }
            }
        }
        previous_us = now;
        match step.command {
            Command::Set | Command::GetEx | Command::PExpire => {
                last_write_had_ttl
                    .insert(key, c.argv.len() > 3 || step.command == Command::PExpire);
            }
            Command::Del | Command::GetDel => {
                last_write_had_ttl.insert(key, false);
            }
            Command::Get
                if step.reply == Reply::Nil && last_write_had_ttl.get(&key) == Some(&true) =>
            {
                expired_misses += 1;
            }
            _ => {}
        }
        let argv: Vec<Vec<u8>> = c.argv.iter().map(<[u8]>::to_vec).collect();
        replayed.entry(c.client.clone()).or_default().push((
            argv,
            step.client_reply().clone(),
            step.command.is_script(),
            straddle,
        ));
    })
    .unwrap();
    assert!(
        report.unmodelled.keys().all(|n| n == "echo" || n.is_empty()),
        "{:?}",
        report.unmodelled
    );

    let (mut compared, mut scripts, mut gets, mut misses, mut mismatches) =
        (0usize, 0usize, 0usize, 0usize, Vec::new());
    let mut straddles = Vec::new();
    let (mut probes, mut probes_missed) = (0usize, 0usize);
    for (addr, log) in &logs {
        let steps = replayed.get(addr.as_str()).map(Vec::as_slice).unwrap_or_default();
        let mut s = 0;
        let mut i = 0;
        while i < log.len() {
            let entry = &log[i];
            if entry.reply == b"+QUEUED\r\n" && transaction_aborted(log, i) {
                i += 1;
                continue;
            }
            let Some((argv, reply, is_script, straddle)) = steps.get(s) else {
                panic!("{addr}: the capture ends before command {i} ({:?})", show(&entry.argv));
            };
            assert_eq!(
                argv, &entry.argv,
                "{addr}: MONITOR's line {s} is not the client's command {i}"
            );
            if *is_script {
                scripts += 1;
            } else {
                compared += 1;
                if Command::parse(&argv[0]) == Command::Get {
                    gets += 1;
                    misses += (entry.reply == b"$-1\r\n") as usize;
                }
                if entry.expiry_probe {
                    probes += 1;
                    probes_missed += (entry.reply == b"$-1\r\n") as usize;
                }
                let (logged, _) = resp::parse(&entry.reply);
                let same = if Command::parse(&argv[0]) == Command::SMembers {
                    resp::sorted(reply) == resp::sorted(&logged)
                } else {
                    reply.to_resp().as_deref() == Some(&entry.reply[..])
                };
                if !same {
                    let difference = format!(
                        "{addr} #{i} {:?}: replay {reply}, client saw {logged}",
                        show(&entry.argv)
                    );
                    if *straddle == Some(true) {
                        straddles.push(difference);
                    } else {
                        mismatches.push(difference);
                    }
                }
            }
            s += 1;
            i += 1;
        }
    }
    eprintln!(
        "recorded workload: {total} commands sent by 8 clients, {compared} replies compared \
         ({gets} GETs, {misses} of them misses, {expired_misses} of those after the key's TTL ran \
         out, {probes} of those expiry probes), {scripts} script replies unknown, {} differ, {} \
         expiry straddles{}",
        mismatches.len(),
        straddles.len(),
        straddles.iter().map(|d| format!("\n  straddle: {d}")).collect::<String>()
    );
    // A straddle needs a read within a millisecond or so of its key's expiry: a handful per run
    // at most. Many would mean expiry itself is off, which the bounds must not hide.
    assert!(straddles.len() <= 10, "{} expiry straddles: expiry looks wrong", straddles.len());
    assert!(
        mismatches.is_empty(),
        "{} replies differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(gets > 2_000);
    // What the clients saw: every probe's read missed, its key expired on the server. The replay
    // agreed on each of those replies (above), and counted them among its misses after a TTL.
    assert!(probes >= 8 * (1_300 / PROBE_EVERY), "only {probes} expiry probes ran");
    assert_eq!(probes_missed, probes, "a probe's key had not expired on the server");
    assert!(
        expired_misses >= probes,
        "the replay saw {expired_misses} GETs miss after their key's TTL ran out, fewer than the \
         {probes} expiry probes whose reads the clients saw miss"
    );
}

/// True when the queued command at `i` belongs to a transaction whose EXEC did not run it.
fn transaction_aborted(log: &[Logged], i: usize) -> bool {
    log[i..]
        .iter()
        .find(|e| e.argv[0].eq_ignore_ascii_case(b"EXEC"))
        .is_some_and(|e| e.reply == b"*-1\r\n" || e.reply.starts_with(b"-EXECABORT"))
}

fn show(argv: &[Vec<u8>]) -> Vec<String> {
    argv.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

#[allow(dead_code)]
fn lines_of(path: &std::path::Path) -> usize {
    BufReader::new(std::fs::File::open(path).unwrap()).lines().count()
}
