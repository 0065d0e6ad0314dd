/*!
`cat --json`: one JSON object per event and line. Every object has `seq`, `kind` (`redis`, `row`,
`commit`, `probe`, `snapshot`, `gap`, `keyspace`), `t_us` (receive time, µs since the epoch) and
`source`; the rest depends on the kind (README, "cat --json"). Bytes are a JSON string when they
are valid UTF-8, else `{"base64": "…"}`, so every argument's exact bytes come back.
*/

use base64::Engine;
use cachetape_replayer::{Reply, Step};
use cachetape_tape::{Event, EventBody, Header, RowImage, StoredValue, Value};
use serde_json::{Map, Value as Json, json};

use super::{EventFormat, source_name};

/// JSON lines.
#[derive(Default)]
pub struct JsonFormat;

/// Bytes as a JSON string when valid UTF-8, else `{"base64": "…"}` (standard alphabet, padded).
pub fn bytes_json(b: &[u8]) -> Json {
    match std::str::from_utf8(b) {
        Ok(s) => Json::String(s.to_string()),
        Err(_) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) }),
    }
}

/// A reply computed by the fake Redis: `null` for nil, a string (or `{"base64": …}`) for bulk and
/// status replies, an integer, an array, `{"error": "…"}`, or `{"unknown": true}` when the fake
/// store cannot know what Redis answered (an unmodelled command or an unknown key).
pub fn reply_json(r: &Reply) -> Json {
    match r {
        Reply::Nil | Reply::NilArray => Json::Null,
        Reply::Status(s) => Json::String(s.to_string()),
        Reply::Error(e) => json!({ "error": e }),
        Reply::Integer(i) => json!(i),
        Reply::Bulk(b) => bytes_json(b),
        Reply::Array(items) => Json::Array(items.iter().map(reply_json).collect()),
        Reply::Unknown => json!({ "unknown": true }),
    }
}

fn args_json<'a>(args: impl Iterator<Item = &'a [u8]>) -> Json {
    Json::Array(args.map(bytes_json).collect())
}

/// A column value: numbers as numbers, DECIMAL as its exact text, times as text.
fn value_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Int(i) => json!(i),
        Value::UInt(u) => json!(u),
        Value::Float(f) => float_json(f64::from(*f)),
        Value::Double(f) => float_json(*f),
        Value::Decimal(d) => Json::String(d.clone()),
        Value::Bytes(b) => bytes_json(b),
        Value::DateTime(d) => Json::String(d.to_string()),
        Value::Timestamp(us) => Json::String(cachetape_tape::format_time(*us)),
        Value::Time(us) => Json::String(format_sql_time(*us)),
        Value::Json(text) => Json::String(text.clone()),
    }
}

fn float_json(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or_else(|| Json::String(f.to_string()), Json::Number)
}

/// A TIME value as MySQL prints it: `[-]HHH:MM:SS[.ffffff]`.
pub fn format_sql_time(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let us = us.unsigned_abs();
    let secs = us / 1_000_000;
    let frac = us % 1_000_000;
    let base = format!("{sign}{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac == 0 { base } else { format!("{base}.{frac:06}") }
}

fn image_json(img: &Option<RowImage>) -> Json {
    match img {
        None => Json::Null,
        Some(img) => Json::Object(
            img.cells.iter().map(|c| (c.column.to_string(), value_json(&c.value))).collect(),
        ),
    }
}

fn stored_json(v: &StoredValue) -> Json {
    match v {
        StoredValue::Missing => Json::Null,
        StoredValue::String(s) => bytes_json(s),
        StoredValue::Hash(kv) => json!({
            "hash": kv.iter().map(|(k, v)| json!([bytes_json(k), bytes_json(v)])).collect::<Vec<_>>()
        }),
        StoredValue::List(l) => {
            json!({ "list": l.iter().map(|v| bytes_json(v)).collect::<Vec<_>>() })
        }
        StoredValue::Set(l) => {
            json!({ "set": l.iter().map(|v| bytes_json(v)).collect::<Vec<_>>() })
        }
        StoredValue::SortedSet(l) => json!({
            "zset": l.iter().map(|(m, s)| json!([bytes_json(m), float_json(*s)])).collect::<Vec<_>>()
        }),
        StoredValue::Other(t) => json!({ "other": t }),
    }
}

impl JsonFormat {
    /// The JSON object for one event.
    pub fn event_json(header: &Header, e: &Event) -> Map<String, Json> {
        let mut o = Map::new();
        o.insert("seq".into(), json!(e.seq));
        o.insert("kind".into(), json!(e.kind().name()));
        o.insert("t_us".into(), json!(e.recv_us));
        o.insert("source".into(), json!(source_name(header, e)));
        match &e.body {
            EventBody::Redis(c) => {
                o.insert("node".into(), json!(source_name(header, e)));
                o.insert("db".into(), json!(c.db));
                o.insert("client".into(), json!(&*c.client));
                o.insert("server_us".into(), json!(c.server_us));
                o.insert("args".into(), args_json(c.argv.iter()));
                if !c.script.is_empty() {
                    let calls: Vec<Json> = c
                        .script
                        .iter()
                        .map(|s| {
                            json!({ "db": s.db, "server_us": s.server_us, "args": args_json(s.argv.iter()) })
                        })
                        .collect();
                    o.insert("script".into(), Json::Array(calls));
                }
            }
            EventBody::Row(r) => {
                o.insert("table".into(), json!(&*r.table));
                o.insert("op".into(), json!(r.op.name()));
                o.insert("before".into(), image_json(&r.before));
                o.insert("after".into(), image_json(&r.after));
                o.insert("txn".into(), json!(r.txn));
                o.insert("header_secs".into(), json!(r.header_secs));
            }
            EventBody::Commit(c) => {
                o.insert("txn".into(), json!(c.txn));
                o.insert("header_secs".into(), json!(c.header_secs));
                o.insert("commit_us".into(), json!(c.commit_us));
                o.insert("gtid".into(), json!(c.gtid));
                o.insert("xid".into(), json!(c.xid));
            }
            EventBody::ClockProbe(p) => {
                o.insert("local_send_us".into(), json!(p.local_send_us));
                o.insert("remote_us".into(), json!(p.remote_us));
                o.insert("local_recv_us".into(), json!(p.local_recv_us));
                o.insert("offset_us".into(), json!(p.offset_us()));
                o.insert("uncertainty_us".into(), json!(p.uncertainty_us()));
            }
            EventBody::Snapshot(s) => {
                o.insert("db".into(), json!(s.db));
                o.insert("key".into(), bytes_json(&s.key));
                o.insert("value".into(), stored_json(&s.value));
                o.insert("pttl_ms".into(), json!(s.pttl_ms));
            }
            EventBody::Gap(g) => {
                o.insert("from_us".into(), json!(g.from_us));
                o.insert("to_us".into(), json!(g.to_us));
                o.insert("reason".into(), json!(g.reason));
            }
            EventBody::Keyspace(k) => {
                o.insert("db".into(), json!(k.db));
                o.insert("key".into(), bytes_json(&k.key));
                o.insert("event".into(), json!(&*k.event));
            }
            EventBody::Heartbeat(h) => {
                o.insert("table".into(), json!(&*h.table));
                o.insert("sent_us".into(), json!(h.sent_us));
                o.insert("lag_us".into(), json!(h.lag_us(e.recv_us)));
            }
        }
        o
    }
}

impl EventFormat for JsonFormat {
    fn write_event(
        &mut self,
        out: &mut Vec<u8>,
        header: &Header,
        event: &Event,
        step: Option<&Step>,
    ) {
        let mut o = JsonFormat::event_json(header, event);
        if let Some(step) = step {
            o.insert("reply".into(), reply_json(&step.reply));
            if step.queued {
                o.insert("queued".into(), json!(true));
            }
            if let Some(Json::Array(calls)) = o.get_mut("script") {
                for (call, s) in calls.iter_mut().zip(&step.script) {
                    call["reply"] = reply_json(&s.reply);
                }
            }
        }
        serde_json::to_writer(&mut *out, &o).expect("writing JSON to a Vec cannot fail");
        out.push(b'\n');
    }
}
