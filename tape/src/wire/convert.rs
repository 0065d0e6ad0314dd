/*!
Conversions between the event model and its wire forms: SQL values and row images, a snapshot's
stored value, a row operation, and (decoding) a whole event body read through serde. Interning
is not done here: the encoder and the cursor own the frame's string table and pass names in.
*/

use super::schema::{RawBytes, WireBodyIn, WireCell, WireStored, WireValue};
use crate::argv::Argv;
use crate::event::*;
use crate::value::*;

/// A SQL value as written.
pub(super) fn wire_value(v: &Value) -> WireValue<'_> {
    match v {
        Value::Null => WireValue::Null,
        Value::Int(v) => WireValue::Int(*v),
        Value::UInt(v) => WireValue::UInt(*v),
        Value::Float(v) => WireValue::Float(*v),
        Value::Double(v) => WireValue::Double(*v),
        Value::Decimal(v) => WireValue::Decimal(v),
        Value::Bytes(v) => WireValue::Bytes(RawBytes(v)),
        Value::DateTime(d) => {
            WireValue::DateTime(d.year, d.month, d.day, d.hour, d.minute, d.second, d.micros)
        }
        Value::Timestamp(v) => WireValue::Timestamp(*v),
        Value::Time(v) => WireValue::Time(*v),
        Value::Json(v) => WireValue::Json(v),
    }
}

/// A SQL value as read.
pub(super) fn value_of(v: &WireValue<'_>) -> Value {
    match v {
        WireValue::Null => Value::Null,
        WireValue::Int(v) => Value::Int(*v),
        WireValue::UInt(v) => Value::UInt(*v),
        WireValue::Float(v) => Value::Float(*v),
        WireValue::Double(v) => Value::Double(*v),
        WireValue::Decimal(v) => Value::Decimal(v.to_string()),
        WireValue::Bytes(v) => Value::Bytes(v.0.to_vec()),
        WireValue::DateTime(year, month, day, hour, minute, second, micros) => {
            Value::DateTime(DateTime {
                year: *year,
                month: *month,
                day: *day,
                hour: *hour,
                minute: *minute,
                second: *second,
                micros: *micros,
            })
        }
        WireValue::Timestamp(v) => Value::Timestamp(*v),
        WireValue::Time(v) => Value::Time(*v),
        WireValue::Json(v) => Value::Json(v.to_string()),
    }
}

/// A row operation as written: 0 insert, 1 update, 2 delete.
pub(super) fn wire_op(op: RowOp) -> u8 {
    match op {
        RowOp::Insert => 0,
        RowOp::Update => 1,
        RowOp::Delete => 2,
    }
}

/// A row operation as read.
fn op_of(op: u8) -> Result<RowOp, String> {
    match op {
        0 => Ok(RowOp::Insert),
        1 => Ok(RowOp::Update),
        2 => Ok(RowOp::Delete),
        op => Err(format!("unknown row operation {op}")),
    }
}

/// A snapshot's value as written.
pub(super) fn wire_stored(v: &StoredValue) -> WireStored<'_> {
    match v {
        StoredValue::Missing => WireStored::Missing,
        StoredValue::String(v) => WireStored::String(RawBytes(v)),
        StoredValue::Hash(kv) => {
            WireStored::Hash(kv.iter().map(|(k, v)| (RawBytes(&k[..]), RawBytes(&v[..]))).collect())
        }
        StoredValue::List(l) => WireStored::List(l.iter().map(|v| RawBytes(&v[..])).collect()),
        StoredValue::Set(l) => WireStored::Set(l.iter().map(|v| RawBytes(&v[..])).collect()),
        StoredValue::SortedSet(l) => {
            WireStored::SortedSet(l.iter().map(|(m, s)| (RawBytes(&m[..]), *s)).collect())
        }
        StoredValue::Other(t) => WireStored::Other(t),
    }
}

/// A snapshot's value as read.
fn stored_of(v: &WireStored<'_>) -> StoredValue {
    match v {
        WireStored::Missing => StoredValue::Missing,
        WireStored::String(v) => StoredValue::String(v.0.to_vec()),
        WireStored::Hash(kv) => {
            StoredValue::Hash(kv.iter().map(|(k, v)| (k.0.to_vec(), v.0.to_vec())).collect())
        }
        WireStored::List(l) => StoredValue::List(l.iter().map(|v| v.0.to_vec()).collect()),
        WireStored::Set(l) => StoredValue::Set(l.iter().map(|v| v.0.to_vec()).collect()),
        WireStored::SortedSet(l) => {
            StoredValue::SortedSet(l.iter().map(|(m, s)| (m.0.to_vec(), *s)).collect())
        }
        WireStored::Other(t) => StoredValue::Other(t.to_string()),
    }
}

/// A row image as read, its column names resolved by `name`.
fn image_of(
    cells: &[WireCell<'_>],
    name: &mut impl FnMut(u32) -> Result<Name, String>,
) -> Result<RowImage, String> {
    let mut out = Vec::with_capacity(cells.len());
    for c in cells {
        out.push(Cell { column: name(c.column)?, value: value_of(&c.value) });
    }
    Ok(RowImage { cells: out })
}

/// An event body read through serde, its times resolved against the event's receive time `recv`,
/// its interned strings by `name` (as shared names) and `bytes` (as raw bytes: command names).
/// The cursor reads Redis commands by hand into reused buffers; this builds them afresh, for the
/// test that holds the two ways equal.
pub(super) fn body_of<'r>(
    body: &WireBodyIn<'_>,
    recv: Micros,
    name: &mut impl FnMut(u32) -> Result<Name, String>,
    bytes: impl Fn(u32) -> Result<&'r [u8], String>,
) -> Result<EventBody, String> {
    let argv_of = |name: &[u8], args: &[RawBytes<'_>]| {
        let mut argv = Argv::new();
        argv.push(name);
        for a in args {
            argv.push(a.0);
        }
        argv
    };
    Ok(match body {
        &WireBodyIn::Redis { db, client, server_delta, name: command, ref args, ref script } => {
            let client = name(client)?;
            let server_us = recv.wrapping_add(server_delta);
            let argv = argv_of(bytes(command)?, args);
            let mut calls = Vec::with_capacity(script.len());
            for s in script {
                let call_us = server_us.wrapping_add(s.server_delta);
                calls.push(ScriptCall {
                    db: s.db,
                    server_us: call_us,
                    argv: argv_of(bytes(s.name)?, &s.args),
                });
            }
            EventBody::Redis(RedisCommand { db, client, server_us, argv, script: calls })
        }
        WireBodyIn::Row(r) => {
            let before = r.before.as_deref().map(|c| image_of(c, name)).transpose()?;
            let after = r.after.as_deref().map(|c| image_of(c, name)).transpose()?;
            EventBody::Row(RowChange {
                table: name(r.table)?,
                op: op_of(r.op)?,
                before,
                after,
                txn: r.txn,
                header_secs: r.header_secs,
            })
        }
        WireBodyIn::Commit(c) => EventBody::Commit(Commit {
            txn: c.txn,
            header_secs: c.header_secs,
            commit_us: c.commit_delta.map(|d| recv.wrapping_add(d)),
            gtid: c.gtid.map(str::to_string),
            xid: c.xid,
        }),
        &WireBodyIn::ClockProbe { send_delta, remote_delta, recv_delta } => {
            EventBody::ClockProbe(ClockProbe {
                local_send_us: recv.wrapping_add(send_delta),
                remote_us: recv.wrapping_add(remote_delta),
                local_recv_us: recv.wrapping_add(recv_delta),
            })
        }
        WireBodyIn::Snapshot(s) => EventBody::Snapshot(Snapshot {
            db: s.db,
            key: s.key.0.to_vec(),
            value: stored_of(&s.value),
            pttl_ms: s.pttl_ms,
        }),
        &WireBodyIn::Gap { from_delta, to_delta, reason } => EventBody::Gap(Gap {
            from_us: recv.wrapping_add(from_delta),
            to_us: recv.wrapping_add(to_delta),
            reason: reason.to_string(),
        }),
        &WireBodyIn::Keyspace { db, key, event } => {
            EventBody::Keyspace(KeyspaceNotice { db, key: key.0.to_vec(), event: name(event)? })
        }
        &WireBodyIn::Heartbeat { table, sent_delta } => EventBody::Heartbeat(Heartbeat {
            table: name(table)?,
            sent_us: recv.wrapping_add(sent_delta),
        }),
    })
}
