//! A `redis-cli monitor` capture from a real redis-server, full of the oddities real traffic has,
//! imported and printed back: `cat --format monitor` must give the capture's MONITOR
//! lines byte for byte, and `cat --json` the exact bytes of every argument.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use cachetape_testkit::{RedisServer, read_resp, require, resp_command};
use serde_json::Value;

use crate::util::{cachetape, import_monitor};

/// One connection that sends commands and waits for each reply.
struct Conn<S: Read + Write> {
    stream: BufReader<S>,
}

impl<S: Read + Write> Conn<S> {
    fn send(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.stream.get_mut().write_all(&resp_command(args)).unwrap();
        let mut reply = Vec::new();
        read_resp(&mut self.stream, &mut reply);
        reply
    }
}

fn wait_for(path: &std::path::Path, needle: &str) {
    let start = Instant::now();
    while !std::fs::read_to_string(path).unwrap_or_default().contains(needle) {
        assert!(start.elapsed() < Duration::from_secs(10), "`{needle}` never reached the capture");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn import_then_cat_reproduces_a_real_capture_byte_for_byte() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("capture.txt");
    let mut monitor = Command::new(require("redis-cli", "redis-tools"))
        .args(["-p", &redis.port.to_string(), "monitor"])
        .stdout(std::fs::File::create(&capture).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until MONITOR is attached: its first line is `OK`.
    let start = Instant::now();
    while std::fs::read_to_string(&capture).unwrap_or_default().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(10), "redis-cli monitor never said OK");
        std::thread::sleep(Duration::from_millis(10));
    }

    // Every argv sent, in order (all from this thread, each waiting for its reply).
    let mut sent: Vec<Vec<Vec<u8>>> = Vec::new();
    let big: Vec<u8> = (0..5 * 1024).map(|i| (i % 251) as u8).collect();
    let mut tcp =
        Conn { stream: BufReader::new(TcpStream::connect(("127.0.0.1", redis.port)).unwrap()) };
    let mut cmds: Vec<Vec<&[u8]>> = vec![
        vec![b"SET", b"bin:\x00\xff", b"\x00\x01\x7f\x80\xfe\xff"],
        vec![b"SET", b"quotes", b"say \"hi\" and 'bye' \\ back\\slash"],
        vec![b"SET", b"tricky", b"\"] [0 lua] \""],
        vec![b"SET", b"", b""],
        vec![b"SET", b"controls", b"\n\r\t\x07\x08 end"],
        vec![b"SET", b"big", &big],
        vec![b"SET", "utf8:ключ".as_bytes(), "значение ✓".as_bytes()],
        vec![b"GET", b"bin:\x00\xff"],
        vec![b"AUTH", b"not-the-password"],
        vec![b"AUTH", b"someone", b"secret"],
        vec![b"MULTI"],
        vec![b"SET", b"tx", b"1"],
        vec![b"INCR", b"tx"],
        vec![b"EXEC"],
        vec![b"EVAL", b"redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])", b"1", b"lua:key", b"\xff\"x\""],
        vec![b"SCRIPT", b"LOAD", b"return redis.call('incr', KEYS[1])"],
        vec![b"FUNCTION", b"LOAD", b"#!lua name=lib\nredis.register_function('f', function(k, a) return redis.call('get', k[1]) end)"],
        vec![b"FCALL", b"f", b"1", b"tricky"],
        vec![b"SELECT", b"5"],
        vec![b"SET", b"in-db-5", b"v"],
        vec![b"SELECT", b"0"],
    ];
    let sha = {
        let reply = tcp.send(&[b"SCRIPT", b"LOAD", b"return redis.call('incr', KEYS[1])"]);
        sent.push(vec![
            b"SCRIPT".to_vec(),
            b"LOAD".to_vec(),
            b"return redis.call('incr', KEYS[1])".to_vec(),
        ]);
        String::from_utf8_lossy(&reply).lines().nth(1).unwrap().to_string()
    };
    cmds.push(vec![b"EVALSHA", sha.as_bytes(), b"1", b"counter"]);
    for cmd in &cmds {
        tcp.send(cmd);
        sent.push(cmd.iter().map(|a| a.to_vec()).collect());
    }
    if redis.ipv6 {
        let mut v6 =
            Conn { stream: BufReader::new(TcpStream::connect(("::1", redis.port)).unwrap()) };
        v6.send(&[b"SET", b"v6", b"hello from ::1"]);
        sent.push(vec![b"SET".to_vec(), b"v6".to_vec(), b"hello from ::1".to_vec()]);
    }
    let mut unix = Conn { stream: BufReader::new(UnixStream::connect(&redis.socket).unwrap()) };
    unix.send(&[b"GET", b"quotes"]);
    sent.push(vec![b"GET".to_vec(), b"quotes".to_vec()]);
    tcp.send(&[b"ECHO", b"capture-complete"]);
    sent.push(vec![b"ECHO".to_vec(), b"capture-complete".to_vec()]);
    wait_for(&capture, "capture-complete");
    monitor.kill().unwrap();
    monitor.wait().unwrap();

    // The capture, as a user would have it, plus some shell noise.
    let mut text = std::fs::read(&capture).unwrap();
    text.extend_from_slice(b"^C\nError: Server closed the connection\n");
    std::fs::write(&capture, &text).unwrap();
    let monitor_lines: Vec<u8> = text
        .split_inclusive(|&b| b == b'\n')
        .filter(|l| cachetape_recorder::monitor::parse_line(l).is_ok())
        .flatten()
        .copied()
        .collect();
    let as_text = String::from_utf8_lossy(&monitor_lines);
    for needle in
        ["[0 lua]", "[5 127.0.0.1:", "\"(redacted)\"", "[0 unix:", "\\x00\\xff", "\"\" \"\""]
    {
        assert!(as_text.contains(needle), "capture lacks {needle}:\n{as_text}");
    }
    if redis.ipv6 {
        assert!(as_text.contains("[0 [::1]:"), "capture lacks the IPv6 client");
    }

    let trace = dir.path().join("trace.bin");
    let report = import_monitor(&capture, &trace);
    assert!(report.contains("skipped 3 lines: 1 blank or `OK`, 2 not MONITOR lines"), "{report}");
    assert!(
        report.contains(&format!("line {}: ", text.split(|&b| b == b'\n').count() - 2)),
        "{report}"
    );

    let out = cachetape().args(["cat", "--format", "monitor"]).arg(&trace).output().unwrap();
    assert!(out.status.success());
    assert!(out.stdout == monitor_lines, "cat --format monitor differs from the capture");

    // --json gives back every argument's exact bytes, script calls included.
    let out = cachetape().args(["cat", "--json"]).arg(&trace).output().unwrap();
    assert!(out.status.success());
    let decode = |v: &Value| -> Vec<u8> {
        match v {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Object(o) => base64::engine::general_purpose::STANDARD
                .decode(o["base64"].as_str().unwrap())
                .unwrap(),
            other => panic!("argument is neither a string nor base64: {other}"),
        }
    };
    let mut seen: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut script_calls = 0;
    for line in out.stdout.lines() {
        let obj: Value = serde_json::from_str(&line.unwrap()).unwrap();
        assert_eq!(obj["kind"], "redis");
        if obj["client"] == "lua" {
            panic!("a lua line was not attached to its script: {obj}");
        }
        seen.push(obj["args"].as_array().unwrap().iter().map(decode).collect());
        for call in obj["script"].as_array().into_iter().flatten() {
            script_calls += 1;
            let args: Vec<Vec<u8>> = call["args"].as_array().unwrap().iter().map(decode).collect();
            assert!(
                args[0].eq_ignore_ascii_case(b"set")
                    || args[0].eq_ignore_ascii_case(b"get")
                    || args[0].eq_ignore_ascii_case(b"incr"),
                "unexpected script call {args:?}"
            );
        }
    }
    assert_eq!(script_calls, 4, "EVAL runs set+get, FCALL get, EVALSHA incr");
    // AUTH arguments are redacted by Redis itself; everything else must come back exactly.
    let expected: Vec<Vec<Vec<u8>>> = sent
        .iter()
        .map(|argv| {
            if argv[0] == b"AUTH" {
                let mut a = vec![b"auth".to_vec()];
                a.extend(argv[1..].iter().map(|_| b"(redacted)".to_vec()));
                a
            } else {
                argv.clone()
            }
        })
        .collect();
    let norm = |v: &Vec<Vec<Vec<u8>>>| -> Vec<Vec<Vec<u8>>> {
        v.iter()
            .map(|a| {
                let mut a = a.clone();
                a[0] = a[0].to_ascii_uppercase();
                a
            })
            .collect()
    };
    assert_eq!(norm(&seen), norm(&expected));
}
