/*!
String commands: GET, SET, SETEX, PSETEX, SETNX, GETSET, GETDEL, GETEX, MGET, MSET, MSETNX,
INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT, APPEND, STRLEN, GETRANGE, SETRANGE.

Each follows Redis 7.0's `t_string.c` step by step — argument checks, lookups (which expire a
due key), type checks and expiry validation happen in the same order, so the first error Redis
would report is the one reported here.
*/

use cachetape_tape::ArgvRef;

use crate::float::LongDouble;
use crate::number::{arg_i64, i64_bytes, parse_i64};
use crate::reply::{Bytes, Reply, ReplyRef};
use crate::store::{Cx, Store, arg};
use crate::value::{Entry, Millis, StringValue, Value};

/// Redis's `proto-max-bulk-len` default (512 MiB).
const MAX_STRING: i64 = 512 * 1024 * 1024;

/// What a read of a string key found.
enum Str<'a> {
    Missing,
    Found(&'a StringValue),
    WrongType,
}

fn read_str<'a>(st: &'a mut Store, cx: &Cx, key: &[u8]) -> Str<'a> {
    match st.lookup(cx, key) {
        None => Str::Missing,
        Some(Entry { value: Value::String(s), .. }) => Str::Found(s),
        Some(_) => Str::WrongType,
    }
}

/// `getGenericCommand`: the GET reply, or `Err` for a wrong type.
fn get_generic(st: &mut Store, cx: &Cx, key: &[u8]) -> Result<Reply, Reply> {
    match read_str(st, cx, key) {
        Str::Missing => Ok(Reply::Nil),
        Str::Found(s) => Ok(Reply::Bulk(s.to_bytes())),
        Str::WrongType => Err(Reply::wrong_type()),
    }
}

/// `GET key`
pub(crate) fn get(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match st.lookup(cx, arg(a, 1)) {
        None => Reply::Nil,
        Some(Entry { value: Value::String(s), .. }) => Reply::Bulk(s.to_bytes()),
        Some(_) => Reply::wrong_type(),
    }
}

/// `GET key` with the value borrowed from the store instead of copied into the reply.
#[inline(always)]
pub(crate) fn get_ref<'a>(st: &'a mut Store, cx: &Cx, a: &ArgvRef<'_>) -> ReplyRef<'a> {
    match st.lookup(cx, arg(a, 1)) {
        None => ReplyRef::Owned(Reply::Nil),
        Some(Entry { value: Value::String(s), .. }) => ReplyRef::Bulk(s.as_bytes()),
        Some(_) => ReplyRef::Owned(Reply::wrong_type()),
    }
}

/// Options of SET and GETEX.
#[derive(Clone, Copy, Default)]
struct SetOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// EX, PX, EXAT or PXAT and its argument.
    expire: Option<(ExpireUnit, &'a [u8])>,
}

/// Which expiry option a SET or GETEX was given: relative or absolute, seconds or milliseconds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireUnit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// An option word upper-cased into a number, with its length in the top byte; 0 for a word
/// longer than any option.
#[inline]
fn option_word(opt: &[u8]) -> u64 {
    if opt.len() > 7 {
        return 0;
    }
    let mut w = (opt.len() as u64) << 56;
    for (i, &b) in opt.iter().enumerate() {
        w |= (b.to_ascii_uppercase() as u64) << (8 * i);
    }
    w
}

const fn option_const(name: &[u8]) -> u64 {
    let mut w = (name.len() as u64) << 56;
    let mut i = 0;
    while i < name.len() {
        w |= (name[i] as u64) << (8 * i);
        i += 1;
    }
    w
}

const NX: u64 = option_const(b"NX");
const XX: u64 = option_const(b"XX");
const GET: u64 = option_const(b"GET");
const KEEPTTL: u64 = option_const(b"KEEPTTL");
const PERSIST: u64 = option_const(b"PERSIST");
const EX: u64 = option_const(b"EX");
const PX: u64 = option_const(b"PX");
const EXAT: u64 = option_const(b"EXAT");
const PXAT: u64 = option_const(b"PXAT");

/// `parseExtendedStringArgumentsOrReply`. An option whose condition fails is a syntax error,
/// as in Redis (no other option has its name).
fn parse_options<'a>(a: &ArgvRef<'a>, set: bool) -> Result<SetOptions<'a>, Reply> {
    let mut o = SetOptions::default();
    let mut j = if set { 3 } else { 2 };
    let argc = a.len();
    while j < argc {
        let next = a.get(j + 1);
        let has_expire = o.expire.is_some();
        let unit = match option_word(arg(a, j)) {
            NX if !o.xx && set => {
                o.nx = true;
                None
            }
            XX if !o.nx && set => {
                o.xx = true;
                None
            }
            GET if set => {
                o.get = true;
                None
            }
            KEEPTTL if !o.persist && !has_expire && set => {
                o.keepttl = true;
                None
            }
            PERSIST if !set && !has_expire && !o.keepttl => {
                o.persist = true;
                None
            }
            EX if next.is_some() => Some(ExpireUnit::Ex),
            PX if next.is_some() => Some(ExpireUnit::Px),
            EXAT if next.is_some() => Some(ExpireUnit::ExAt),
            PXAT if next.is_some() => Some(ExpireUnit::PxAt),
            _ => return Err(Reply::syntax()),
        };
        if let (Some(unit), Some(next)) = (unit, next) {
            // Each may appear again only as itself (the later one wins), never with another.
            let ok = !o.keepttl && !o.persist && o.expire.is_none_or(|(u, _)| u == unit);
            if !ok {
                return Err(Reply::syntax());
            }
            o.expire = Some((unit, next));
            j += 1;
        }
        j += 1;
    }
    Ok(o)
}

/// `getExpireMillisecondsOrReply`: the absolute expiry in ms.
fn expire_at(unit: ExpireUnit, raw: &[u8], now: Millis, command: &str) -> Result<Millis, Reply> {
    let invalid = || Reply::err_owned(format!("ERR invalid expire time in '{command}' command"));
    let mut ms = arg_i64(raw)?;
    let seconds = matches!(unit, ExpireUnit::Ex | ExpireUnit::ExAt);
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(invalid());
    }
    if seconds {
        ms *= 1000;
    }
    if matches!(unit, ExpireUnit::Ex | ExpireUnit::Px) {
        ms = ms.wrapping_add(now);
    }
    if ms <= 0 {
        return Err(invalid());
    }
    Ok(ms)
}

/// `SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | KEEPTTL]`
pub(crate) fn set(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    // What caches send nearly always, `SET key value` and `SET key value EX|PX n`, without the
    // general option parsing: the same steps `set_generic` takes for these options.
    let unit = match a.len() {
        3 => None,
        5 => match option_word(arg(a, 3)) {
            EX => Some(ExpireUnit::Ex),
            PX => Some(ExpireUnit::Px),
            _ => return set_with_options(st, cx, a),
        },
        _ => return set_with_options(st, cx, a),
    };
    let when = match unit.map(|unit| expire_at(unit, arg(a, 4), cx.now, "set")) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => return e,
        None => None,
    };
    let key = arg(a, 1);
    let found = st.find_live(cx.db, cx.now, key);
    st.put_string(cx.db, found, key, arg(a, 2), when);
    st.signal(cx.db, key);
    Reply::OK
}

/// `SET` with any other options.
#[inline(never)]
fn set_with_options(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let o = match parse_options(a, true) {
        Ok(o) => o,
        Err(e) => return e,
    };
    set_generic(st, cx, arg(a, 1), arg(a, 2), o, "set", Reply::OK, Reply::Nil)
}

#[allow(clippy::too_many_arguments)]
fn set_generic(
    st: &mut Store,
    cx: &Cx,
    key: &[u8],
    value: &[u8],
    o: SetOptions<'_>,
    command: &str,
    ok: Reply,
    abort: Reply,
) -> Reply {
    let when = match o.expire {
        Some((unit, raw)) => match expire_at(unit, raw, cx.now, command) {
            Ok(t) => Some(t),
            Err(e) => return e,
        },
        None => None,
    };
    let old = if o.get {
        match get_generic(st, cx, key) {
            Ok(r) => Some(r),
            Err(e) => return e,
        }
    } else {
        None
    };
    let found = st.find_live(cx.db, cx.now, key);
    if (o.nx && found.is_some()) || (o.xx && found.is_none()) {
        return old.unwrap_or(abort);
    }
    let keep = match found {
        Some(f) if o.keepttl => st.dbs[cx.db].keys.entry(f.id).expires_at,
        _ => None,
    };
    st.put_string(cx.db, found, key, value, when.or(keep));
    st.signal(cx.db, key);
    old.unwrap_or(ok)
}

/// `SETEX key seconds value`, `PSETEX key milliseconds value`
pub(crate) fn setex(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>, millis: bool) -> Reply {
    let unit = if millis { ExpireUnit::Px } else { ExpireUnit::Ex };
    let o = SetOptions { expire: Some((unit, arg(a, 2))), ..SetOptions::default() };
    let name = if millis { "psetex" } else { "setex" };
    set_generic(st, cx, arg(a, 1), arg(a, 3), o, name, Reply::OK, Reply::Nil)
}

/// `SETNX key value`
pub(crate) fn setnx(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let o = SetOptions { nx: true, ..SetOptions::default() };
    set_generic(st, cx, arg(a, 1), arg(a, 2), o, "setnx", Reply::Integer(1), Reply::Integer(0))
}

/// `GETSET key value`
pub(crate) fn getset(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let key = arg(a, 1);
    let old = match get_generic(st, cx, key) {
        Ok(r) => r,
        Err(e) => return e,
    };
    st.put(cx.db, key, Entry::new(Value::String(StringValue::new(arg(a, 2)))));
    st.signal(cx.db, key);
    old
}

/// `GETDEL key`
pub(crate) fn getdel(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let key = arg(a, 1);
    let old = match get_generic(st, cx, key) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if st.delete(cx.db, key) {
        st.signal(cx.db, key);
    }
    old
}

/// `GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | PERSIST]`
pub(crate) fn getex(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let o = match parse_options(a, false) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let key = arg(a, 1);
    let value = match read_str(st, cx, key) {
        Str::Missing => return Reply::Nil,
        Str::WrongType => return Reply::wrong_type(),
        Str::Found(s) => s.to_bytes(),
    };
    let when = match o.expire {
        Some((unit, raw)) => match expire_at(unit, raw, cx.now, "getex") {
            Ok(t) => Some((unit, t)),
            Err(e) => return e,
        },
        None => None,
    };
    match when {
        Some((ExpireUnit::ExAt | ExpireUnit::PxAt, t)) if t <= cx.now => {
            st.delete(cx.db, key);
            st.signal(cx.db, key);
        }
        Some((_, t)) => {
            if let Some(e) = st.dbs[cx.db].keys.get_mut(key) {
                e.expires_at = Some(t);
            }
            st.signal(cx.db, key);
        }
        None if o.persist => {
            let had = st.dbs[cx.db].keys.get_mut(key).and_then(|e| e.expires_at.take()).is_some();
            if had {
                st.signal(cx.db, key);
            }
        }
        None => {}
    }
    Reply::Bulk(value)
}

/// `MGET key [key ...]`
pub(crate) fn mget(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let mut out = Vec::with_capacity(a.len() - 1);
    for j in 1..a.len() {
        out.push(match read_str(st, cx, arg(a, j)) {
            Str::Found(s) => Reply::Bulk(s.to_bytes()),
            _ => Reply::Nil,
        });
    }
    Reply::Array(out)
}

/// `MSET key value [key value ...]`, `MSETNX key value [key value ...]`
pub(crate) fn mset(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>, nx: bool) -> Reply {
    if a.len().is_multiple_of(2) {
        let name = if nx { "msetnx" } else { "mset" };
        return Reply::err_owned(format!("ERR wrong number of arguments for '{name}' command"));
    }
    if nx {
        for j in (1..a.len()).step_by(2) {
            if st.lookup(cx, arg(a, j)).is_some() {
                return Reply::Integer(0);
            }
        }
    }
    for j in (1..a.len()).step_by(2) {
        let key = arg(a, j);
        st.put(cx.db, key, Entry::new(Value::String(StringValue::new(arg(a, j + 1)))));
        st.signal(cx.db, key);
    }
    if nx { Reply::Integer(1) } else { Reply::OK }
}

/// Writes a new string value keeping the key's expiry (`dbOverwrite`) or adds it.
fn overwrite_keep_ttl(st: &mut Store, cx: &Cx, key: &[u8], value: StringValue) {
    match st.dbs[cx.db].keys.get_mut(key) {
        Some(e) => e.value = Value::String(value),
        None => st.put(cx.db, key, Entry::new(Value::String(value))),
    }
    st.signal(cx.db, key);
}

/// `INCR key`, `DECR key`, `INCRBY key increment`
pub(crate) fn incr_by(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>, by: Option<i64>) -> Reply {
    let by = match by {
        Some(b) => b,
        None => match arg_i64(arg(a, 2)) {
            Ok(b) => b,
            Err(e) => return e,
        },
    };
    incr_decr(st, cx, arg(a, 1), by)
}

/// `DECRBY key decrement`
pub(crate) fn decr_by(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match arg_i64(arg(a, 2)) {
        Ok(i64::MIN) => Reply::err("ERR decrement would overflow"),
        Ok(b) => incr_decr(st, cx, arg(a, 1), -b),
        Err(e) => e,
    }
}

fn incr_decr(st: &mut Store, cx: &Cx, key: &[u8], by: i64) -> Reply {
    let old = match read_str(st, cx, key) {
        Str::Missing => 0,
        Str::WrongType => return Reply::wrong_type(),
        Str::Found(s) => match parse_i64(s) {
            Some(v) => v,
            None => return Reply::not_integer(),
        },
    };
    let Some(new) = old.checked_add(by) else {
        return Reply::err("ERR increment or decrement would overflow");
    };
    overwrite_keep_ttl(st, cx, key, StringValue::new(&i64_bytes(new)));
    Reply::Integer(new)
}

/// `INCRBYFLOAT key increment`
pub(crate) fn incr_by_float(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let key = arg(a, 1);
    let not_float = || Reply::err("ERR value is not a valid float");
    let old = match read_str(st, cx, key) {
        Str::Missing => LongDouble::from_i64(0),
        Str::WrongType => return Reply::wrong_type(),
        Str::Found(s) => match LongDouble::parse(s) {
            Some(v) => v,
            None => return not_float(),
        },
    };
    let Some(by) = LongDouble::parse(arg(a, 2)) else { return not_float() };
    let new = match old.plus(by) {
        Some(v) if !v.is_infinite() => v,
        _ => return Reply::err("ERR increment would produce NaN or Infinity"),
    };
    let bytes = Bytes::from(new.to_human().into_bytes());
    overwrite_keep_ttl(st, cx, key, StringValue::new(&bytes));
    Reply::Bulk(bytes)
}

fn too_long() -> Reply {
    Reply::err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
}

/// `APPEND key value`: the string grows in place (no copy of what it held).
pub(crate) fn append(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let (key, tail) = (arg(a, 1), arg(a, 2));
    let len = match st.lookup_mut(cx, key) {
        None => {
            overwrite_keep_ttl(st, cx, key, StringValue::new(tail));
            return Reply::Integer(tail.len() as i64);
        }
        Some(Entry { value: Value::String(s), .. }) => {
            if s.len() as i64 + tail.len() as i64 > MAX_STRING {
                return too_long();
            }
            s.edit(|v| {
                v.extend_from_slice(tail);
                v.len()
            })
        }
        Some(_) => return Reply::wrong_type(),
    };
    st.signal(cx.db, key);
    Reply::Integer(len as i64)
}

/// `STRLEN key`
pub(crate) fn strlen(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match read_str(st, cx, arg(a, 1)) {
        Str::Missing => Reply::Integer(0),
        Str::WrongType => Reply::wrong_type(),
        Str::Found(s) => Reply::Integer(s.len() as i64),
    }
}

/// `GETRANGE key start end`
pub(crate) fn getrange(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let (mut start, mut end) = match (arg_i64(arg(a, 2)), arg_i64(arg(a, 3))) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let s = match read_str(st, cx, arg(a, 1)) {
        Str::Missing => return Reply::bulk(b""),
        Str::WrongType => return Reply::wrong_type(),
        Str::Found(s) => s,
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Reply::bulk(b"");
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return Reply::bulk(b"");
    }
    Reply::bulk(&s[start as usize..=end as usize])
}

/// `SETRANGE key offset value`: the string is written in place; zero fill past its end counts
/// against the store's bound (`bounds.rs`), beyond which the key becomes unknown instead of
/// allocated (the reply, the new length, is still Redis's).
pub(crate) fn setrange(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let (key, value) = (arg(a, 1), arg(a, 3));
    let offset = match arg_i64(arg(a, 2)) {
        Ok(o) => o,
        Err(e) => return e,
    };
    if offset < 0 {
        return Reply::err("ERR offset is out of range");
    }
    let old_len = match read_str(st, cx, key) {
        Str::Missing => None,
        Str::WrongType => return Reply::wrong_type(),
        Str::Found(s) => Some(s.len()),
    };
    if value.is_empty() {
        return Reply::Integer(old_len.unwrap_or(0) as i64);
    }
    if offset.saturating_add(value.len() as i64) > MAX_STRING {
        return too_long();
    }
    let (off, end) = (offset as usize, offset as usize + value.len());
    let new_len = end.max(old_len.unwrap_or(0));
    let zeros = off.saturating_sub(old_len.unwrap_or(0));
    if !st.bounds.admit_padding(zeros as u64) {
        st.signal(cx.db, key);
        st.mark_unknown(cx.db as u32, key);
        return Reply::Integer(new_len as i64);
    }
    let write = |v: &mut Vec<u8>| {
        if v.len() < end {
            v.resize(end, 0);
        }
        v[off..end].copy_from_slice(value);
    };
    match st.lookup_mut(cx, key) {
        Some(Entry { value: Value::String(s), .. }) => s.edit(write),
        _ => {
            let mut v = Vec::new();
            write(&mut v);
            overwrite_keep_ttl(st, cx, key, StringValue::from(v));
            return Reply::Integer(new_len as i64);
        }
    }
    st.signal(cx.db, key);
    Reply::Integer(new_len as i64)
}
