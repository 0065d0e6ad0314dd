/*!
Hash commands: HSET, HMSET, HSETNX, HGET, HMGET, HGETALL, HKEYS, HVALS, HDEL, HEXISTS, HLEN,
HSTRLEN, HINCRBY, HINCRBYFLOAT — Redis 7.0's `t_hash.c`, including its listpack-to-hashtable
conversion (which decides whether HGETALL's order is insertion order).
*/

use cachetape_tape::ArgvRef;

use crate::float::LongDouble;
use crate::number::{arg_i64, i64_bytes, parse_i64};
use crate::reply::{Bytes, Reply};
use crate::store::{Cx, Store, arg};
use crate::value::{Entry, HashValue, Value};

/// `hashTypeLookupWriteOrCreate`: the hash at `key`, created empty if missing.
fn hash_for_write<'a>(st: &'a mut Store, cx: &Cx, key: &[u8]) -> Result<&'a mut HashValue, Reply> {
    if st.lookup(cx, key).is_none() {
        st.put(cx.db, key, Entry::new(Value::Hash(HashValue::default())));
    }
    match st.dbs[cx.db].keys.get_mut(key) {
        Some(Entry { value: Value::Hash(h), .. }) => Ok(h),
        _ => Err(Reply::wrong_type()),
    }
}

/// A hash for reading: `Ok(None)` when missing.
fn hash_for_read<'a>(
    st: &'a mut Store,
    cx: &Cx,
    key: &[u8],
) -> Result<Option<&'a HashValue>, Reply> {
    match st.lookup(cx, key) {
        None => Ok(None),
        Some(Entry { value: Value::Hash(h), .. }) => Ok(Some(h)),
        Some(_) => Err(Reply::wrong_type()),
    }
}

/// `HSET key field value [field value ...]`, `HMSET key field value [field value ...]`
pub(crate) fn hset(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>, hmset: bool) -> Reply {
    if a.len() % 2 == 1 {
        let name = if hmset { "hmset" } else { "hset" };
        return Reply::err_owned(format!("ERR wrong number of arguments for '{name}' command"));
    }
    let key = arg(a, 1);
    let h = match hash_for_write(st, cx, key) {
        Ok(h) => h,
        Err(e) => return e,
    };
    h.try_conversion(a.iter().skip(2));
    let mut created = 0;
    for j in (2..a.len()).step_by(2) {
        created += h.set(arg(a, j), Bytes::from(arg(a, j + 1))) as i64;
    }
    st.signal(cx.db, key);
    if hmset { Reply::OK } else { Reply::Integer(created) }
}

/// `HSETNX key field value`
pub(crate) fn hsetnx(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let key = arg(a, 1);
    let h = match hash_for_write(st, cx, key) {
        Ok(h) => h,
        Err(e) => return e,
    };
    if h.get(arg(a, 2)).is_some() {
        return Reply::Integer(0);
    }
    h.try_conversion([arg(a, 2), arg(a, 3)]);
    h.set(arg(a, 2), Bytes::from(arg(a, 3)));
    st.signal(cx.db, key);
    Reply::Integer(1)
}

/// `HGET key field`
pub(crate) fn hget(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match hash_for_read(st, cx, arg(a, 1)) {
        Err(e) => e,
        Ok(None) => Reply::Nil,
        Ok(Some(h)) => h.get(arg(a, 2)).map_or(Reply::Nil, |v| Reply::Bulk(v.clone())),
    }
}

/// `HMGET key field [field ...]`
pub(crate) fn hmget(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let h = match hash_for_read(st, cx, arg(a, 1)) {
        Err(e) => return e,
        Ok(h) => h,
    };
    Reply::Array(
        a.iter()
            .skip(2)
            .map(|f| h.and_then(|h| h.get(f)).map_or(Reply::Nil, |v| Reply::Bulk(v.clone())))
            .collect(),
    )
}

/// `HGETALL key`, `HKEYS key`, `HVALS key`
pub(crate) fn hgetall(
    st: &mut Store,
    cx: &Cx,
    a: &ArgvRef<'_>,
    fields: bool,
    values: bool,
) -> Reply {
    match hash_for_read(st, cx, arg(a, 1)) {
        Err(e) => e,
        Ok(None) => Reply::Array(Vec::new()),
        Ok(Some(h)) => {
            let mut out = Vec::with_capacity(h.len() * (fields as usize + values as usize));
            for (f, v) in h.pairs() {
                if fields {
                    out.push(Reply::Bulk(f));
                }
                if values {
                    out.push(Reply::Bulk(v));
                }
            }
            Reply::Array(out)
        }
    }
}

/// `HDEL key field [field ...]`
pub(crate) fn hdel(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    crate::store::remove_members(st, cx, a, |v| match v {
        Value::Hash(h) => Some(h),
        _ => None,
    })
}

/// `HEXISTS key field`
pub(crate) fn hexists(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match hash_for_read(st, cx, arg(a, 1)) {
        Err(e) => e,
        Ok(h) => Reply::Integer(h.is_some_and(|h| h.get(arg(a, 2)).is_some()) as i64),
    }
}

/// `HLEN key`
pub(crate) fn hlen(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match hash_for_read(st, cx, arg(a, 1)) {
        Err(e) => e,
        Ok(h) => Reply::Integer(h.map_or(0, |h| h.len() as i64)),
    }
}

/// `HSTRLEN key field`
pub(crate) fn hstrlen(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match hash_for_read(st, cx, arg(a, 1)) {
        Err(e) => e,
        Ok(h) => Reply::Integer(h.and_then(|h| h.get(arg(a, 2))).map_or(0, |v| v.len() as i64)),
    }
}

/// `HINCRBY key field increment`
pub(crate) fn hincrby(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let by = match arg_i64(arg(a, 3)) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let key = arg(a, 1);
    let h = match hash_for_write(st, cx, key) {
        Ok(h) => h,
        Err(e) => return e,
    };
    let old = match h.get(arg(a, 2)) {
        None => 0,
        Some(v) => match parse_i64(v) {
            Some(v) => v,
            None => return Reply::err("ERR hash value is not an integer"),
        },
    };
    let Some(new) = old.checked_add(by) else {
        return Reply::err("ERR increment or decrement would overflow");
    };
    h.set(arg(a, 2), Bytes::from(i64_bytes(new)));
    st.signal(cx.db, key);
    Reply::Integer(new)
}

/// `HINCRBYFLOAT key field increment`
pub(crate) fn hincrbyfloat(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let Some(by) = LongDouble::parse(arg(a, 3)) else {
        return Reply::err("ERR value is not a valid float");
    };
    if by.is_infinite() {
        return Reply::err("ERR value is NaN or Infinity");
    }
    let key = arg(a, 1);
    let h = match hash_for_write(st, cx, key) {
        Ok(h) => h,
        Err(e) => return e,
    };
    let old = match h.get(arg(a, 2)) {
        None => LongDouble::from_i64(0),
        Some(v) => match LongDouble::parse(v) {
            Some(v) => v,
            None => return Reply::err("ERR hash value is not a float"),
        },
    };
    let new = match old.plus(by) {
        Some(v) if !v.is_infinite() => v,
        _ => return Reply::err("ERR increment would produce NaN or Infinity"),
    };
    let bytes = Bytes::from(new.to_human().into_bytes());
    h.set(arg(a, 2), bytes.clone());
    st.signal(cx.db, key);
    Reply::Bulk(bytes)
}
