/*!
`cat` (default): one readable line per event.

```text
— 2026-11-26 (UTC) —
       0  04:15:25.369271  cache  127.0.0.1:35434 db0  SET order:42 "{\"status\":\"PAID\"}" EX 300
       1  04:15:25.000000  db     txn 7  UPDATE shop.orders  id=42 status: CANCELLED → PAID
       2  04:15:25.000000  db     COMMIT txn 7  gtid 0-1-42  xid 99
```

Arguments that are plain printable words are shown bare, anything else quoted the MONITOR way;
values longer than [`TextFormat::MAX_ARG`] bytes are cut with a note (`--format monitor` and
`--json` never cut).
*/

use std::io::Write;

use cachetape_recorder::monitor::write_repr;
use cachetape_replayer::{Reply, Step};
use cachetape_tape::{Event, EventBody, Header, RowImage, StoredValue, Value, format_duration};

use super::json::format_sql_time;
use super::{EventFormat, source_name};

/// Readable lines.
#[derive(Default)]
pub struct TextFormat {
    day: Option<i64>,
}

impl TextFormat {
    /// Longest argument shown whole.
    pub const MAX_ARG: usize = 200;
}

/// Appends `arg` bare when it is a plain printable word, else quoted the MONITOR way; cut at
/// [`TextFormat::MAX_ARG`] bytes.
pub fn word(out: &mut Vec<u8>, arg: &[u8]) {
    let bare = !arg.is_empty()
        && arg.iter().all(|&b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b'\'');
    if arg.len() > TextFormat::MAX_ARG {
        write_repr(out, &arg[..TextFormat::MAX_ARG]);
        let _ = write!(out, "…(+{} bytes)", arg.len() - TextFormat::MAX_ARG);
    } else if bare {
        out.extend_from_slice(arg);
    } else {
        write_repr(out, arg);
    }
}

fn words<'a>(out: &mut Vec<u8>, args: impl Iterator<Item = &'a [u8]>) {
    for (i, a) in args.enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        word(out, a);
    }
}

/// A reply as redis-cli would show it, on one line: `(nil)`, `OK`, `(integer) 3`, `(error) …`,
/// bulk strings like arguments, arrays in brackets.
fn reply(out: &mut Vec<u8>, r: &Reply) {
    match r {
        Reply::Nil | Reply::NilArray => out.extend_from_slice(b"(nil)"),
        Reply::Status(s) => out.extend_from_slice(s.as_bytes()),
        Reply::Error(e) => {
            let _ = write!(out, "(error) {e}");
        }
        Reply::Integer(i) => {
            let _ = write!(out, "(integer) {i}");
        }
        Reply::Bulk(b) => write_repr(out, &b[..b.len().min(TextFormat::MAX_ARG)]),
        Reply::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                reply(out, item);
            }
            out.push(b']');
        }
        Reply::Unknown => out.extend_from_slice(b"(unknown: not modelled, or an unknown key)"),
    }
}

fn value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"NULL"),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        Value::Float(f) => {
            let _ = write!(out, "{f}");
        }
        Value::Double(f) => {
            let _ = write!(out, "{f}");
        }
        Value::Decimal(d) => out.extend_from_slice(d.as_bytes()),
        Value::Bytes(b) => word(out, b),
        Value::DateTime(d) => {
            let _ = write!(out, "'{d}'");
        }
        Value::Timestamp(us) => {
            let _ = write!(out, "'{}'", cachetape_tape::format_time(*us));
        }
        Value::Time(us) => {
            let _ = write!(out, "'{}'", format_sql_time(*us));
        }
        Value::Json(j) => word(out, j.as_bytes()),
    }
}

fn cells(out: &mut Vec<u8>, img: &RowImage) {
    for (i, c) in img.cells.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        let _ = write!(out, "{}=", c.column);
        value(out, &c.value);
    }
}

/// `col=v` for unchanged columns, `col: old → new` for changed ones.
fn changes(out: &mut Vec<u8>, before: &RowImage, after: &RowImage) {
    for (i, c) in after.cells.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        match before.get(&c.column) {
            Some(old) if old != &c.value => {
                let _ = write!(out, "{}: ", c.column);
                value(out, old);
                out.extend_from_slice(" → ".as_bytes());
                value(out, &c.value);
            }
            _ => {
                let _ = write!(out, "{}=", c.column);
                value(out, &c.value);
            }
        }
    }
}

impl EventFormat for TextFormat {
    fn write_event(&mut self, out: &mut Vec<u8>, header: &Header, e: &Event, step: Option<&Step>) {
        let day = e.recv_us.div_euclid(86_400_000_000);
        if self.day != Some(day) {
            self.day = Some(day);
            let date = cachetape_tape::format_time(e.recv_us);
            let _ = writeln!(out, "— {} (UTC) —", &date[..10]);
        }
        let time = cachetape_tape::format_time(e.recv_us);
        let _ = write!(out, "{:>8}  {}  {}  ", e.seq, &time[11..26], source_name(header, e));
        match &e.body {
            EventBody::Redis(c) => {
                let _ = write!(out, "{} db{}  ", c.client, c.db);
                words(out, c.argv.iter());
                if let Some(step) = step {
                    out.extend_from_slice(if step.queued {
                        " ⇒ (in EXEC) ".as_bytes()
                    } else {
                        " ⇒ ".as_bytes()
                    });
                    reply(out, &step.reply);
                }
                for (i, s) in c.script.iter().enumerate() {
                    let _ = write!(out, "\n{:>8}  {:15}  ↳ lua db{}  ", "", "", s.db);
                    words(out, s.argv.iter());
                    if let Some(call) = step.and_then(|st| st.script.get(i)) {
                        out.extend_from_slice(" ⇒ ".as_bytes());
                        reply(out, &call.reply);
                    }
                }
            }
            EventBody::Row(r) => {
                let _ = write!(out, "txn {}  {} {}  ", r.txn, r.op.name().to_uppercase(), r.table);
                match (&r.before, &r.after) {
                    (Some(b), Some(a)) => changes(out, b, a),
                    (None, Some(img)) | (Some(img), None) => cells(out, img),
                    (None, None) => {}
                }
            }
            EventBody::Commit(c) => {
                let _ = write!(out, "COMMIT txn {}", c.txn);
                if let Some(g) = &c.gtid {
                    let _ = write!(out, "  gtid {g}");
                }
                if let Some(x) = c.xid {
                    let _ = write!(out, "  xid {x}");
                }
                match c.commit_us {
                    Some(t) => {
                        let _ =
                            write!(out, "  committed {}", &cachetape_tape::format_time(t)[11..26]);
                    }
                    None => {
                        let _ = write!(out, "  (server time {}s)", c.header_secs);
                    }
                }
            }
            EventBody::ClockProbe(p) => {
                let _ = write!(
                    out,
                    "CLOCK offset {} ±{}  (sent {}, remote {}, received {})",
                    format_duration(p.offset_us()),
                    format_duration(p.uncertainty_us()),
                    &cachetape_tape::format_time(p.local_send_us)[11..26],
                    &cachetape_tape::format_time(p.remote_us)[11..26],
                    &cachetape_tape::format_time(p.local_recv_us)[11..26],
                );
            }
            EventBody::Snapshot(s) => {
                let _ = write!(out, "SNAPSHOT db{} ", s.db);
                word(out, &s.key);
                out.extend_from_slice(b" = ");
                match &s.value {
                    StoredValue::Missing => out.extend_from_slice(b"(missing)"),
                    StoredValue::String(v) => word(out, v),
                    StoredValue::Hash(kv) => {
                        out.extend_from_slice(b"hash {");
                        for (i, (k, v)) in kv.iter().enumerate() {
                            out.extend_from_slice(if i > 0 { b", " } else { b"" });
                            word(out, k);
                            out.extend_from_slice(b": ");
                            word(out, v);
                        }
                        out.push(b'}');
                    }
                    StoredValue::List(l) | StoredValue::Set(l) => {
                        let kind =
                            if matches!(s.value, StoredValue::List(_)) { "list" } else { "set" };
                        let _ = write!(out, "{kind} [");
                        words(out, l.iter().map(Vec::as_slice));
                        out.push(b']');
                    }
                    StoredValue::SortedSet(l) => {
                        out.extend_from_slice(b"zset [");
                        for (i, (m, score)) in l.iter().enumerate() {
                            out.extend_from_slice(if i > 0 { b", " } else { b"" });
                            word(out, m);
                            let _ = write!(out, " {score}");
                        }
                        out.push(b']');
                    }
                    StoredValue::Other(t) => {
                        let _ = write!(out, "({t}, not read)");
                    }
                }
                match s.pttl_ms {
                    -1 => out.extend_from_slice(b"  no expiry"),
                    -2 => {}
                    ms => {
                        let _ = write!(out, "  expires in {}", format_duration(ms * 1000));
                    }
                }
            }
            EventBody::Gap(g) => {
                let _ = write!(
                    out,
                    "GAP {} → {} ({}): {}",
                    &cachetape_tape::format_time(g.from_us)[11..26],
                    &cachetape_tape::format_time(g.to_us)[11..26],
                    format_duration(g.to_us - g.from_us),
                    g.reason
                );
            }
            EventBody::Keyspace(k) => {
                let _ = write!(out, "KEYSPACE db{} ", k.db);
                word(out, &k.key);
                let _ = write!(out, " {}", k.event);
            }
            EventBody::Heartbeat(h) => {
                let _ = write!(
                    out,
                    "HEARTBEAT {} sent {}: commit received {} later",
                    h.table,
                    &cachetape_tape::format_time(h.sent_us)[11..26],
                    format_duration(h.lag_us(e.recv_us))
                );
            }
        }
        out.push(b'\n');
    }
}
