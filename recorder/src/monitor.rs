/*!
Redis MONITOR lines: the parser, its exact inverse, and a reader for whole captures.

A MONITOR line as Redis (≥ 6.2.4) writes it, after the command ran:

```text
[+]1795666525.369271 [0 127.0.0.1:35434] "set" "a" "x\"] [0 lua] \"y"
```

`+` only on the raw RESP stream (`redis-cli monitor` drops it), seconds and exactly six digits of
microseconds, `[db client]` where the client is `ip:port`, `[v6]:port`, `unix:<socket path>` or
`lua`, then every argument quoted with Redis's `sdscatrepr`: `\\`, `\"`, `\n`, `\r`, `\t`, `\a`,
`\b`, printable ASCII as is, every other byte as `\xhh`. [`parse_line`] undoes exactly that and
[`write_line`] redoes it, so parsing and writing back any line Redis produced gives the same bytes.

[`MonitorReader`] reads a capture (`redis-cli monitor > file`, or the recorder's stream): lines
that are not MONITOR lines (`OK`, warnings, blank lines, shell noise) are skipped, counted and
kept with their line numbers, never fatal; `[db lua]` lines are attached to the EVAL, EVALSHA or
FCALL before them as [`ScriptCall`]s.
*/

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead};
use std::sync::Arc;

use cachetape_tape::{Argv, Micros, Name, RedisCommand, ScriptCall};

/// One parsed MONITOR line, borrowing its client name from the input.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorLine<'a> {
    /// Server time in µs since the epoch.
    pub server_us: Micros,
    /// db index.
    pub db: u32,
    /// The client as written: `127.0.0.1:6000`, `[::1]:6000`, `unix:/run/redis.sock`, `lua`.
    pub client: &'a str,
    /// The unescaped arguments.
    pub argv: Argv,
}

impl MonitorLine<'_> {
    /// True for the `[db lua]` lines of commands run by a script.
    pub fn is_script_call(&self) -> bool {
        self.client == "lua"
    }
}

/// Why a line is not a MONITOR line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineError {
    /// Empty (or whitespace only).
    Blank,
    /// Does not start with `seconds.micro`.
    NoTimestamp,
    /// `[db client]` missing or malformed.
    BadClient,
    /// No argument after the client.
    NoArguments,
    /// An argument's closing quote is missing (a line cut short).
    Unterminated,
    /// A backslash escape Redis never writes, at this byte offset.
    BadEscape(usize),
    /// Something other than a space and a quote between arguments, at this byte offset.
    Garbage(usize),
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::Blank => f.write_str("blank line"),
            LineError::NoTimestamp => {
                f.write_str("does not start with a seconds.microseconds time")
            }
            LineError::BadClient => f.write_str("no [db client] after the time"),
            LineError::NoArguments => f.write_str("no command after the client"),
            LineError::Unterminated => f.write_str("an argument's closing quote is missing"),
            LineError::BadEscape(at) => write!(f, "unknown escape at byte {at}"),
            LineError::Garbage(at) => write!(f, "unexpected text at byte {at}"),
        }
    }
}

impl std::error::Error for LineError {}

/// Parses one MONITOR line (with or without its trailing `\n` / `\r\n`).
pub fn parse_line(line: &[u8]) -> Result<MonitorLine<'_>, LineError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(LineError::Blank);
    }
    let mut at = usize::from(line.first() == Some(&b'+'));

    // seconds '.' 6 digits ' '
    let secs_start = at;
    while at < line.len() && line[at].is_ascii_digit() {
        at += 1;
    }
    let secs_len = at - secs_start;
    if secs_len == 0 || secs_len > 12 || line.get(at) != Some(&b'.') {
        return Err(LineError::NoTimestamp);
    }
    let secs = digits(&line[secs_start..at]);
    at += 1;
    let micro = line.get(at..at + 6).ok_or(LineError::NoTimestamp)?;
    if !micro.iter().all(u8::is_ascii_digit) || line.get(at + 6) != Some(&b' ') {
        return Err(LineError::NoTimestamp);
    }
    let server_us = secs * 1_000_000 + digits(micro);
    at += 7;

    // '[' db ' ' client '] '
    if line.get(at) != Some(&b'[') {
        return Err(LineError::BadClient);
    }
    at += 1;
    let db_start = at;
    while at < line.len() && line[at].is_ascii_digit() {
        at += 1;
    }
    if at == db_start || at - db_start > 9 || line.get(at) != Some(&b' ') {
        return Err(LineError::BadClient);
    }
    let db = digits(&line[db_start..at]) as u32;
    at += 1;
    let close = memchr::memmem::find(&line[at..], b"] \"").ok_or(LineError::BadClient)?;
    let client = std::str::from_utf8(&line[at..at + close]).map_err(|_| LineError::BadClient)?;
    if !valid_client(client) {
        return Err(LineError::BadClient);
    }
    at += close + 2;

    // "arg" (' ' "arg")*
    let mut argv = Argv::with_capacity(4, line.len() - at);
    loop {
        if line.get(at) != Some(&b'"') {
            return Err(if at >= line.len() {
                LineError::NoArguments
            } else {
                LineError::Garbage(at)
            });
        }
        at = parse_arg(line, at + 1, &mut argv)?;
        match line.get(at) {
            None => break,
            Some(b' ') if line.get(at + 1) == Some(&b'"') => at += 1,
            Some(_) => return Err(LineError::Garbage(at)),
        }
    }
    Ok(MonitorLine { server_us, db, client, argv })
}

fn digits(d: &[u8]) -> i64 {
    d.iter().fold(0i64, |n, c| n * 10 + i64::from(c - b'0'))
}

fn valid_client(c: &str) -> bool {
    if c == "lua" || (c.starts_with("unix:") && c.len() > 5) {
        return true;
    }
    let Some((host, port)) = c.rsplit_once(':') else { return false };
    let port_ok = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    let host_ok = if let Some(v6) = host.strip_prefix('[') {
        v6.strip_suffix(']').is_some_and(|v6| !v6.is_empty())
    } else {
        !host.is_empty() && !host.contains([' ', '[', ']', '"'])
    };
    port_ok && host_ok
}

/// Unescapes one quoted argument starting after its opening quote; returns the offset after its
/// closing quote.
fn parse_arg(line: &[u8], mut at: usize, argv: &mut Argv) -> Result<usize, LineError> {
    let mut w = argv.arg_writer();
    loop {
        let rest = &line[at..];
        let Some(k) = memchr::memchr2(b'"', b'\\', rest) else {
            return Err(LineError::Unterminated);
        };
        w.extend(&rest[..k]);
        at += k;
        if line[at] == b'"' {
            return Ok(at + 1);
        }
        let esc = *line.get(at + 1).ok_or(LineError::Unterminated)?;
        let byte = match esc {
            b'\\' | b'"' => esc,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'a' => 0x07,
            b'b' => 0x08,
            b'x' => {
                let hex = line.get(at + 2..at + 4).ok_or(LineError::Unterminated)?;
                let (Some(hi), Some(lo)) = (hex_val(hex[0]), hex_val(hex[1])) else {
                    return Err(LineError::BadEscape(at));
                };
                w.push(hi << 4 | lo);
                at += 4;
                continue;
            }
            _ => return Err(LineError::BadEscape(at)),
        };
        w.push(byte);
        at += 2;
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Appends `arg` quoted the way Redis's `sdscatrepr` quotes it.
pub fn write_repr(out: &mut Vec<u8>, arg: &[u8]) {
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in arg.iter().enumerate() {
        let plain = (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\';
        if plain {
            continue;
        }
        out.extend_from_slice(&arg[start..i]);
        start = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 15) as usize],
                ]);
            }
        }
    }
    out.extend_from_slice(&arg[start..]);
    out.push(b'"');
}

/// Appends one MONITOR line as `redis-cli monitor` prints it (no `+`), with a trailing `\n`.
pub fn write_line(out: &mut Vec<u8>, server_us: Micros, db: u32, client: &str, argv: &Argv) {
    use std::io::Write;
    let secs = server_us.div_euclid(1_000_000);
    let micros = server_us.rem_euclid(1_000_000);
    let _ = write!(out, "{secs}.{micros:06} [{db} {client}] ");
    for (i, arg) in argv.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write_repr(out, arg);
    }
    out.push(b'\n');
}

/// Appends a command and its script calls as the MONITOR lines they came from.
pub fn write_command(out: &mut Vec<u8>, c: &RedisCommand) {
    write_line(out, c.server_us, c.db, &c.client, &c.argv);
    for s in &c.script {
        write_line(out, s.server_us, s.db, "lua", &s.argv);
    }
}

/// A line [`MonitorReader`] skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedLine {
    /// 1-based line number.
    pub line: u64,
    /// Why it was skipped.
    pub reason: LineError,
    /// The start of the line (at most 120 bytes, lossily decoded).
    pub text: String,
}

/// What a [`MonitorReader`] read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonitorReport {
    /// Lines read.
    pub lines: u64,
    /// Commands produced (script calls not included).
    pub commands: u64,
    /// `[db lua]` lines attached to their script.
    pub script_calls: u64,
    /// `[db lua]` lines with no EVAL/EVALSHA/FCALL before them (the capture started mid-script):
    /// kept as commands of client `lua`.
    pub orphan_script_calls: u64,
    /// Lines skipped (blank lines and the `OK` that starts `redis-cli monitor` output included).
    pub skipped: u64,
    /// The first [`MonitorReport::SKIPPED_KEPT`] skipped lines that were not blank or `OK`.
    pub skipped_lines: Vec<SkippedLine>,
    /// Skipped lines that were not blank or `OK` (expected noise).
    pub skipped_noise: u64,
}

impl MonitorReport {
    /// How many skipped lines are kept with their text.
    pub const SKIPPED_KEPT: usize = 20;
}

/// Reads a MONITOR capture into [`RedisCommand`]s.
pub struct MonitorReader<R> {
    input: R,
    buf: Vec<u8>,
    clients: HashMap<Box<[u8]>, Name>,
    pending: Option<RedisCommand>,
    report: MonitorReport,
    done: bool,
}

impl<R: BufRead> MonitorReader<R> {
    /// Reads from `input`.
    pub fn new(input: R) -> Self {
        MonitorReader {
            input,
            buf: Vec::with_capacity(256),
            clients: HashMap::new(),
            pending: None,
            report: MonitorReport::default(),
            done: false,
        }
    }

    /// What has been read so far.
    pub fn report(&self) -> &MonitorReport {
        &self.report
    }

    /// The next command (with its script calls), `None` at the end of the input.
    pub fn next_command(&mut self) -> io::Result<Option<RedisCommand>> {
        while !self.done {
            self.buf.clear();
            let n = self.input.read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                self.done = true;
                break;
            }
            self.report.lines += 1;
            let line = match parse_line(&self.buf) {
                Ok(line) => line,
                Err(reason) => {
                    let trimmed = self.buf.trim_ascii();
                    self.report.skipped += 1;
                    let expected =
                        reason == LineError::Blank || trimmed == b"OK" || trimmed == b"+OK";
                    if !expected {
                        self.report.skipped_noise += 1;
                        if self.report.skipped_lines.len() < MonitorReport::SKIPPED_KEPT {
                            let text = &trimmed[..trimmed.len().min(120)];
                            self.report.skipped_lines.push(SkippedLine {
                                line: self.report.lines,
                                reason,
                                text: String::from_utf8_lossy(text).into_owned(),
                            });
                        }
                    }
                    continue;
                }
            };
            if line.is_script_call() {
                if let Some(p) = self.pending.as_mut().filter(|p| runs_script(&p.argv)) {
                    p.script.push(ScriptCall {
                        db: line.db,
                        server_us: line.server_us,
                        argv: line.argv,
                    });
                    self.report.script_calls += 1;
                    continue;
                }
                self.report.orphan_script_calls += 1;
            }
            let client = match self.clients.get(line.client.as_bytes()) {
                Some(name) => name.clone(),
                None => {
                    let name: Name = Arc::from(line.client);
                    self.clients.insert(line.client.as_bytes().into(), name.clone());
                    name
                }
            };
            let command = RedisCommand {
                db: line.db,
                client,
                server_us: line.server_us,
                argv: line.argv,
                script: Vec::new(),
            };
            self.report.commands += 1;
            if let Some(ready) = self.pending.replace(command) {
                return Ok(Some(ready));
            }
        }
        Ok(self.pending.take())
    }
}

impl<R: BufRead> Iterator for MonitorReader<R> {
    type Item = io::Result<RedisCommand>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_command().transpose()
    }
}

/// True for the commands whose script calls MONITOR lists after them.
pub fn runs_script(argv: &Argv) -> bool {
    ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"].iter().any(|n| argv.is(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &MonitorLine<'_>) -> Vec<Vec<u8>> {
        line.argv.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn parses_every_client_form() {
        for (text, client) in [
            (&b"1795666525.369271 [0 127.0.0.1:35434] \"get\" \"a\""[..], "127.0.0.1:35434"),
            (b"1795666525.377828 [0 [::1]:52762] \"get\" \"a\"", "[::1]:52762"),
            (b"1795666525.381652 [0 unix:/tmp/rt/r.sock] \"get\" \"a\"", "unix:/tmp/rt/r.sock"),
            (b"+1795666525.373533 [0 lua] \"get\" \"a\"\r\n", "lua"),
        ] {
            let line = parse_line(text).unwrap();
            assert_eq!(line.client, client);
            assert_eq!(args(&line), [b"get".to_vec(), b"a".to_vec()]);
            assert_eq!(
                line.server_us,
                if client == "lua" { 1795666525373533 } else { line.server_us }
            );
        }
    }

    #[test]
    fn unescapes_sdscatrepr() {
        let line = parse_line(
            br#"1.000001 [12 1.2.3.4:5] "set" "" "ab\xff\\\t\n\r\a\b\x00\"" "x\"] [0 lua] \"y""#,
        )
        .unwrap();
        assert_eq!(line.db, 12);
        assert_eq!(line.server_us, 1_000_001);
        assert_eq!(
            args(&line),
            [
                b"set".to_vec(),
                b"".to_vec(),
                b"ab\xff\\\t\n\r\x07\x08\x00\"".to_vec(),
                b"x\"] [0 lua] \"y".to_vec()
            ]
        );
    }

    #[test]
    fn write_is_the_exact_inverse() {
        let text = b"1795666525.402209 [3 127.0.0.1:35490] \"set\" \"\" \"ab\\xff\\\\\\t\" \"(redacted)\"\n";
        let line = parse_line(text).unwrap();
        let mut out = Vec::new();
        write_line(&mut out, line.server_us, line.db, line.client, &line.argv);
        assert_eq!(out, text);
    }

    #[test]
    fn rejects_what_redis_never_writes() {
        assert_eq!(parse_line(b"OK"), Err(LineError::NoTimestamp));
        assert_eq!(parse_line(b"   "), Err(LineError::Blank));
        assert_eq!(parse_line(b"1.5 [0 a:1] \"x\""), Err(LineError::NoTimestamp));
        assert_eq!(parse_line(b"1.000005 [0 a:1] \"x"), Err(LineError::Unterminated));
        assert_eq!(parse_line(b"1.000005 [0 a:1] \"x\\q\""), Err(LineError::BadEscape(19)));
        assert_eq!(parse_line(b"1.000005 [0 a:1] \"x\"y"), Err(LineError::Garbage(20)));
        assert_eq!(parse_line(b"1.000005 [0 nope] \"x\""), Err(LineError::BadClient));
        assert_eq!(parse_line(b"1.000005 [x a:1] \"x\""), Err(LineError::BadClient));
    }

    #[test]
    fn reader_attaches_script_calls_and_reports_noise() {
        let capture = b"OK\n\
            1.000001 [0 1.1.1.1:1] \"eval\" \"redis.call('set','k','v')\" \"0\"\n\
            1.000002 [0 lua] \"set\" \"k\" \"v\"\n\
            Warning: something\n\
            1.000003 [0 1.1.1.1:1] \"get\" \"k\"\n\
            1.000004 [0 lua] \"get\" \"k\"\n";
        let mut r = MonitorReader::new(&capture[..]);
        let cmds: Vec<RedisCommand> = (&mut r).map(Result::unwrap).collect();
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0].script.len(), 1);
        assert_eq!(cmds[0].script[0].server_us, 1_000_002);
        assert!(cmds[1].script.is_empty());
        assert_eq!(&*cmds[2].client, "lua");
        let report = r.report();
        assert_eq!((report.lines, report.commands, report.skipped), (6, 3, 2));
        assert_eq!(
            (report.script_calls, report.orphan_script_calls, report.skipped_noise),
            (1, 1, 1)
        );
        assert_eq!(report.skipped_lines[0].line, 4);
        assert_eq!(report.skipped_lines[0].text, "Warning: something");
    }

    proptest::proptest! {
        #[test]
        fn any_argv_round_trips(
            parts in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..40), 1..6),
            db in 0u32..16,
            secs in 0i64..4_000_000_000,
            micros in 0i64..1_000_000,
        ) {
            let argv = Argv::from_parts(&parts);
            let mut out = Vec::new();
            write_line(&mut out, secs * 1_000_000 + micros, db, "[::1]:6379", &argv);
            let line = parse_line(&out).unwrap();
            proptest::prop_assert_eq!(line.argv, argv);
            proptest::prop_assert_eq!(line.db, db);
            proptest::prop_assert_eq!(line.server_us, secs * 1_000_000 + micros);
        }

        #[test]
        fn arbitrary_bytes_never_panic(line in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_line(&line);
        }
    }
}
