/*!
Differential test (a): generated command sequences run on a real redis-server and on the fake
store must get byte-identical RESP replies.

Two connections share a small key space (so types collide and WATCH sees the other client's
writes); expiry is set only at absolute times far in the past or future (or relative times that
are not positive, which delete at once), so the server's clock cannot change a reply. Two things
are compared loosely, and only those: SMEMBERS of a set Redis keeps in a hash table (its order
comes from a randomly seeded dict: compared as sorted), and TTL / PTTL of a key expiring in 2100
(the server's clock moved on between the two runs: within 5 s). DBSIZE is not generated:
Redis counts expired keys until its background cycle reclaims them.

`cargo test -p cachetape-replayer` runs 2,000 cases; the `--ignored` variant runs 50,000.
*/

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::{SystemTime, UNIX_EPOCH};

use cachetape_replayer::{Client, Reply, Store};
use cachetape_tape::Argv;
use cachetape_testkit::{RedisServer, read_resp, resp_command};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::resp;

const PAST_MS: &str = "1000";
const FUTURE_MS: &str = "4102444800000";
const PAST_S: &str = "1";
const FUTURE_S: &str = "4102444800";

fn key() -> impl Strategy<Value = String> {
    prop_oneof![Just("k1"), Just("k2"), Just("k3"), Just("{k}4")].prop_map(String::from)
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(""),
        Just("0"),
        Just("1"),
        Just("-7"),
        Just("10"),
        Just("3.5"),
        Just("abc"),
        Just("007"),
        Just("1e3"),
        Just("9223372036854775807"),
        Just("x y\r\n"),
        Just("-0"),
    ]
    .prop_map(String::from)
}

fn int_arg() -> impl Strategy<Value = String> {
    prop_oneof![
        (-3i64..5).prop_map(|i| i.to_string()),
        Just("9223372036854775807".to_string()),
        Just("-9223372036854775808".to_string()),
        Just("x".to_string()),
        Just("1.5".to_string()),
    ]
}

fn float_arg() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0.1"),
        Just("-2.5"),
        Just("3"),
        Just("1e2"),
        Just("abc"),
        Just("inf"),
        Just("1.23456789012345678"),
        Just("-0.1"),
        Just("5.0e3"),
    ]
    .prop_map(String::from)
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![Just("f1"), Just("f2"), Just("f3")].prop_map(String::from)
}

fn member() -> impl Strategy<Value = String> {
    prop_oneof![Just("1"), Just("2"), Just("10"), Just("-3"), Just("a"), Just("b")]
        .prop_map(String::from)
}

fn score() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1"),
        Just("2.5"),
        Just("-1"),
        Just("0"),
        Just("inf"),
        Just("-inf"),
        Just("1e3"),
        Just("0.1"),
        Just("x"),
    ]
    .prop_map(String::from)
}

fn score_bound() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("-inf"),
        Just("+inf"),
        Just("(1"),
        Just("2.5"),
        Just("0"),
        Just("(0"),
        Just("x")
    ]
    .prop_map(String::from)
}

fn lex_bound() -> impl Strategy<Value = String> {
    prop_oneof![Just("-"), Just("+"), Just("[a"), Just("(a"), Just("[b"), Just("(1"), Just("x")]
        .prop_map(String::from)
}

fn abs_time() -> impl Strategy<Value = (&'static str, &'static str)> {
    // (seconds, milliseconds) forms of one instant.
    prop_oneof![Just((PAST_S, PAST_MS)), Just((FUTURE_S, FUTURE_MS))]
}

fn rel_time() -> impl Strategy<Value = String> {
    prop_oneof![Just("0"), Just("-5"), Just("-1000"), Just("abc")].prop_map(String::from)
}

fn expire_flags() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![Just("NX"), Just("XX"), Just("GT"), Just("LT"), Just("bogus")]
            .prop_map(String::from),
        0..2,
    )
}

fn v(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn set_options() -> impl Strategy<Value = Vec<String>> {
    let opt = prop_oneof![
        Just(v(&["NX"])),
        Just(v(&["XX"])),
        Just(v(&["GET"])),
        Just(v(&["KEEPTTL"])),
        abs_time().prop_map(|(s, _)| v(&["EXAT", s])),
        abs_time().prop_map(|(_, ms)| v(&["PXAT", ms])),
        rel_time().prop_map(|t| vec!["EX".into(), t]),
        rel_time().prop_map(|t| vec!["PX".into(), t]),
        Just(v(&["EX"])),
    ];
    prop::collection::vec(opt, 0..3).prop_map(|v| v.concat())
}

fn getex_options() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        Just(vec![]),
        Just(v(&["PERSIST"])),
        abs_time().prop_map(|(s, _)| v(&["EXAT", s])),
        abs_time().prop_map(|(_, ms)| v(&["PXAT", ms])),
        rel_time().prop_map(|t| vec!["EX".into(), t]),
        Just(v(&["NX"])),
    ]
}

fn command() -> impl Strategy<Value = Vec<String>> {
    let strings = prop_oneof![
        key().prop_map(|k| vec!["GET".into(), k]),
        (key(), value(), set_options())
            .prop_map(|(k, v, o)| [vec!["SET".into(), k, v], o].concat()),
        (key(), rel_time(), value()).prop_map(|(k, t, v)| vec!["SETEX".into(), k, t, v]),
        (key(), rel_time(), value()).prop_map(|(k, t, v)| vec!["PSETEX".into(), k, t, v]),
        (key(), value()).prop_map(|(k, v)| vec!["SETNX".into(), k, v]),
        (key(), value()).prop_map(|(k, v)| vec!["GETSET".into(), k, v]),
        key().prop_map(|k| vec!["GETDEL".into(), k]),
        (key(), getex_options()).prop_map(|(k, o)| [vec!["GETEX".into(), k], o].concat()),
        (key(), key()).prop_map(|(a, b)| vec!["MGET".into(), a, b]),
        (key(), value(), key(), value()).prop_map(|(a, x, b, y)| vec!["MSET".into(), a, x, b, y]),
        (key(), value(), key(), value()).prop_map(|(a, x, b, y)| vec!["MSETNX".into(), a, x, b, y]),
        (prop_oneof![Just("INCR"), Just("DECR")], key()).prop_map(|(c, k)| vec![c.into(), k]),
        (prop_oneof![Just("INCRBY"), Just("DECRBY")], key(), int_arg()).prop_map(|(c, k, n)| vec![
            c.into(),
            k,
            n
        ]),
        (key(), float_arg()).prop_map(|(k, f)| vec!["INCRBYFLOAT".into(), k, f]),
        (key(), value()).prop_map(|(k, v)| vec!["APPEND".into(), k, v]),
        key().prop_map(|k| vec!["STRLEN".into(), k]),
        (key(), int_arg(), int_arg()).prop_map(|(k, a, b)| vec!["GETRANGE".into(), k, a, b]),
        (key(), int_arg(), value()).prop_map(|(k, o, v)| vec!["SETRANGE".into(), k, o, v]),
    ];
    let keyspace = prop_oneof![
        (prop_oneof![Just("DEL"), Just("UNLINK"), Just("EXISTS"), Just("TOUCH")], key(), key())
            .prop_map(|(c, a, b)| vec![c.into(), a, b]),
        key().prop_map(|k| vec!["TYPE".into(), k]),
        (prop_oneof![Just("EXPIRE"), Just("PEXPIRE")], key(), rel_time(), expire_flags())
            .prop_map(|(c, k, t, f)| [vec![c.into(), k, t], f].concat()),
        (key(), abs_time(), expire_flags()).prop_map(|(k, (s, _), f)| [
            vec!["EXPIREAT".into(), k, s.into()],
            f
        ]
        .concat()),
        (key(), abs_time(), expire_flags()).prop_map(|(k, (_, ms), f)| [
            vec!["PEXPIREAT".into(), k, ms.into()],
            f
        ]
        .concat()),
        key().prop_map(|k| vec!["PERSIST".into(), k]),
        (prop_oneof![Just("TTL"), Just("PTTL"), Just("EXPIRETIME"), Just("PEXPIRETIME")], key())
            .prop_map(|(c, k)| vec![c.into(), k]),
        (prop_oneof![Just("RENAME"), Just("RENAMENX")], key(), key()).prop_map(|(c, a, b)| vec![
            c.into(),
            a,
            b
        ]),
        (
            key(),
            key(),
            prop::option::of(Just("REPLACE")),
            prop::option::of(prop_oneof![Just("0"), Just("1"), Just("99")])
        )
            .prop_map(|(a, b, r, d)| {
                let mut c = vec!["COPY".into(), a, b];
                c.extend(r.map(String::from));
                if let Some(d) = d {
                    c.extend(["DB".into(), d.into()]);
                }
                c
            }),
        prop_oneof![Just("0"), Just("1"), Just("16"), Just("x")]
            .prop_map(|d| vec!["SELECT".into(), d.into()]),
        Just(v(&["SWAPDB", "0", "1"])),
        Just(v(&["SWAPDB", "0", "x"])),
        Just(v(&["FLUSHDB"])),
        Just(v(&["PING"])),
        value().prop_map(|x| vec!["ECHO".into(), x]),
    ];
    let hashes = prop_oneof![
        (key(), field(), value(), prop::option::of((field(), value()))).prop_map(
            |(k, f, x, more)| {
                let mut c = vec!["HSET".into(), k, f, x];
                if let Some((f, x)) = more {
                    c.extend([f, x]);
                }
                c
            }
        ),
        (key(), field(), value()).prop_map(|(k, f, x)| vec!["HMSET".into(), k, f, x]),
        (key(), field(), value()).prop_map(|(k, f, x)| vec!["HSETNX".into(), k, f, x]),
        (key(), field()).prop_map(|(k, f)| vec!["HGET".into(), k, f]),
        (key(), field(), field()).prop_map(|(k, f, g)| vec!["HMGET".into(), k, f, g]),
        (prop_oneof![Just("HGETALL"), Just("HKEYS"), Just("HVALS"), Just("HLEN")], key())
            .prop_map(|(c, k)| vec![c.into(), k]),
        (key(), field(), field()).prop_map(|(k, f, g)| vec!["HDEL".into(), k, f, g]),
        (prop_oneof![Just("HEXISTS"), Just("HSTRLEN")], key(), field()).prop_map(|(c, k, f)| vec![
            c.into(),
            k,
            f
        ]),
        (key(), field(), int_arg()).prop_map(|(k, f, n)| vec!["HINCRBY".into(), k, f, n]),
        (key(), field(), float_arg()).prop_map(|(k, f, x)| vec!["HINCRBYFLOAT".into(), k, f, x]),
    ];
    let sets = prop_oneof![
        (key(), prop::collection::vec(member(), 1..4)).prop_map(|(k, m)| [
            vec!["SADD".into(), k],
            m
        ]
        .concat()),
        (key(), prop::collection::vec(member(), 1..3)).prop_map(|(k, m)| [
            vec!["SREM".into(), k],
            m
        ]
        .concat()),
        (prop_oneof![Just("SMEMBERS"), Just("SCARD")], key()).prop_map(|(c, k)| vec![c.into(), k]),
        (key(), member()).prop_map(|(k, m)| vec!["SISMEMBER".into(), k, m]),
        (key(), member(), member()).prop_map(|(k, m, n)| vec!["SMISMEMBER".into(), k, m, n]),
    ];
    let lists = prop_oneof![
        (
            prop_oneof![Just("LPUSH"), Just("RPUSH"), Just("LPUSHX"), Just("RPUSHX")],
            key(),
            prop::collection::vec(value(), 1..3)
        )
            .prop_map(|(c, k, v)| [vec![c.into(), k], v].concat()),
        (prop_oneof![Just("LPOP"), Just("RPOP")], key(), prop::option::of(int_arg()))
            .prop_map(|(c, k, n)| [vec![c.into(), k], n.into_iter().collect()].concat()),
        (key(), int_arg(), int_arg()).prop_map(|(k, a, b)| vec!["LRANGE".into(), k, a, b]),
        key().prop_map(|k| vec!["LLEN".into(), k]),
        (key(), int_arg()).prop_map(|(k, i)| vec!["LINDEX".into(), k, i]),
    ];
    let zsets = prop_oneof![
        (
            key(),
            prop::collection::vec(
                prop_oneof![
                    Just("NX"),
                    Just("XX"),
                    Just("GT"),
                    Just("LT"),
                    Just("CH"),
                    Just("INCR")
                ],
                0..2
            ),
            prop::collection::vec((score(), member()), 1..3)
        )
            .prop_map(|(k, f, sm)| {
                let mut c = vec!["ZADD".into(), k];
                c.extend(f.into_iter().map(String::from));
                for (s, m) in sm {
                    c.extend([s, m]);
                }
                c
            }),
        (key(), score(), member()).prop_map(|(k, s, m)| vec!["ZINCRBY".into(), k, s, m]),
        (key(), member(), member()).prop_map(|(k, m, n)| vec!["ZREM".into(), k, m, n]),
        (key(), member()).prop_map(|(k, m)| vec!["ZSCORE".into(), k, m]),
        key().prop_map(|k| vec!["ZCARD".into(), k]),
        (key(), int_arg(), int_arg(), any::<bool>(), any::<bool>()).prop_map(
            |(k, a, b, rev, ws)| {
                let mut c = vec!["ZRANGE".into(), k, a, b];
                if rev {
                    c.push("REV".into())
                }
                if ws {
                    c.push("WITHSCORES".into())
                }
                c
            }
        ),
        (
            key(),
            score_bound(),
            score_bound(),
            any::<bool>(),
            any::<bool>(),
            prop::option::of((int_arg(), int_arg()))
        )
            .prop_map(|(k, a, b, rev, ws, lim)| {
                let mut c = vec!["ZRANGE".into(), k, a, b, "BYSCORE".into()];
                if rev {
                    c.push("REV".into())
                }
                if ws {
                    c.push("WITHSCORES".into())
                }
                if let Some((o, n)) = lim {
                    c.extend(["LIMIT".into(), o, n])
                }
                c
            }),
        (key(), lex_bound(), lex_bound(), any::<bool>(), prop::option::of((int_arg(), int_arg())))
            .prop_map(|(k, a, b, rev, lim)| {
                let mut c = vec!["ZRANGE".into(), k, a, b, "BYLEX".into()];
                if rev {
                    c.push("REV".into())
                }
                if let Some((o, n)) = lim {
                    c.extend(["LIMIT".into(), o, n])
                }
                c
            }),
    ];
    let tx = prop_oneof![
        Just(v(&["MULTI"])),
        Just(v(&["EXEC"])),
        Just(v(&["DISCARD"])),
        (key(), prop::option::of(key())).prop_map(|(a, b)| [
            vec!["WATCH".into(), a],
            b.into_iter().collect()
        ]
        .concat()),
        Just(v(&["UNWATCH"])),
        // Rejected while queueing: EXEC then answers EXECABORT.
        Just(v(&["GET"])),
        Just(v(&["SET", "k1"])),
    ];
    prop_oneof![6 => strings, 5 => keyspace, 3 => hashes, 2 => sets, 2 => lists, 3 => zsets, 2 => tx]
}

/// A connection to the server, pipelining.
struct Conn {
    out: TcpStream,
    input: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_nodelay(true).unwrap();
        Conn { out: s.try_clone().unwrap(), input: BufReader::new(s) }
    }

    fn run(&mut self, cmds: &[&Vec<String>]) -> Vec<Vec<u8>> {
        let mut buf = Vec::new();
        for c in cmds {
            let args: Vec<&[u8]> = c.iter().map(|s| s.as_bytes()).collect();
            buf.extend(resp_command(&args));
        }
        self.out.write_all(&buf).unwrap();
        cmds.iter()
            .map(|_| {
                let mut r = Vec::new();
                read_resp(&mut self.input, &mut r);
                r
            })
            .collect()
    }
}

fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as i64
}

/// Normalizes what may legitimately differ: see the module doc.
fn comparable(cmd: &[String], model: &Reply, server: &Reply) -> bool {
    let name = cmd[0].to_ascii_uppercase();
    match name.as_str() {
        "SMEMBERS" => resp::sorted(model) == resp::sorted(server),
        "TTL" | "PTTL" => match (model, server) {
            (Reply::Integer(a), Reply::Integer(b)) if *a > 0 && *b > 0 => {
                (a - b).abs() <= if name == "TTL" { 5 } else { 5_000 }
            }
            _ => model == server,
        },
        _ => model == server,
    }
}

fn check_case(
    port: u16,
    conns: &mut [Conn; 2],
    ops: &[(usize, Vec<String>)],
) -> Result<(), TestCaseError> {
    // Reset both connections and the data set.
    for c in conns.iter_mut() {
        c.run(&[&v(&["DISCARD"]), &v(&["UNWATCH"]), &v(&["SELECT", "0"])]);
    }
    conns[0].run(&[&v(&["FLUSHALL"])]);
    let _ = port;
    let mut store = Store::new();
    let mut clients = [Client::new(1), Client::new(2)];
    let now = now_us();
    // Consecutive commands of one connection are pipelined together.
    let mut i = 0;
    while i < ops.len() {
        let who = ops[i].0;
        let mut j = i;
        while j < ops.len() && ops[j].0 == who {
            j += 1;
        }
        let batch: Vec<&Vec<String>> = ops[i..j].iter().map(|(_, c)| c).collect();
        let replies = conns[who].run(&batch);
        // Queued commands, for normalizing EXEC's array.
        for (cmd, raw) in batch.iter().zip(replies) {
            let argv = Argv::from_parts(cmd.iter());
            let was_queueing = clients[who].in_multi();
            let model = store.execute(&mut clients[who], &argv, now);
            let (server, _) = resp::parse(&raw);
            let _ = was_queueing;
            let same = comparable(cmd, &model, &server) || exec_equivalent(cmd, &model, &server);
            prop_assert!(
                same,
                "client {} command {:?}\n model: {}\nserver: {}\n(whole case: {:?})",
                who,
                cmd,
                model,
                server,
                ops
            );
            if !matches!(cmd[0].to_ascii_uppercase().as_str(), "SMEMBERS" | "TTL" | "PTTL" | "EXEC")
            {
                prop_assert_eq!(
                    model.to_resp().expect("a known reply"),
                    raw,
                    "RESP bytes of {:?}",
                    cmd
                );
            }
        }
        i = j;
    }
    Ok(())
}

/// EXEC's array may hold SMEMBERS / TTL replies: compare its elements leniently, the rest
/// exactly.
fn exec_equivalent(cmd: &[String], model: &Reply, server: &Reply) -> bool {
    if !cmd[0].eq_ignore_ascii_case("EXEC") {
        return false;
    }
    match (model, server) {
        (Reply::Array(a), Reply::Array(b)) if a.len() == b.len() => a.iter().zip(b).all(|(x, y)| {
            x == y
                || resp::sorted(x) == resp::sorted(y)
                || matches!((x, y), (Reply::Integer(p), Reply::Integer(q)) if *p > 0 && *q > 0 && (p - q).abs() <= 5_000)
        }),
        _ => false,
    }
}

fn ops() -> impl Strategy<Value = Vec<(usize, Vec<String>)>> {
    prop::collection::vec((prop_oneof![4 => Just(0usize), 1 => Just(1usize)], command()), 1..40)
}

fn run_cases(cases: u32) {
    // Deeply nested strategies need more stack than a test thread has in debug builds.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || run_cases_here(cases))
        .unwrap()
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

fn run_cases_here(cases: u32) {
    let server = RedisServer::start();
    let conns = std::cell::RefCell::new([Conn::open(server.port), Conn::open(server.port)]);
    let mut runner =
        TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&ops(), |ops| check_case(server.port, &mut conns.borrow_mut(), &ops));
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn generated_sequences_reply_byte_identically_to_redis() {
    run_cases(2_000);
}

#[test]
#[ignore = "long run: cargo test -p cachetape-replayer -- --ignored"]
fn generated_sequences_reply_byte_identically_to_redis_long() {
    run_cases(50_000);
}
