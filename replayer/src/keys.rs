/*!
Key-space commands: DEL, UNLINK, EXISTS, TOUCH, TYPE, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT
(with NX / XX / GT / LT), PERSIST, TTL, PTTL, EXPIRETIME, PEXPIRETIME, RENAME, RENAMENX, COPY;
database commands: SELECT, SWAPDB, FLUSHDB, FLUSHALL, DBSIZE; and PING.

Expiry follows Redis's `expire.c`: times are absolute milliseconds, a key is expired when
`now > expires_at`, and setting an expiry at or before `now` deletes the key at once.
*/

use cachetape_tape::ArgvRef;

use crate::number::{arg_i32, arg_i64};
use crate::reply::Reply;
use crate::store::{Cx, Store, arg};
use crate::value::Entry;

/// `DEL key [key ...]`, `UNLINK key [key ...]`
pub(crate) fn del(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let mut n = 0;
    // (Indexing: `iter().skip(n)` walks the first n arguments too.)
    for j in 1..a.len() {
        let key = arg(a, j);
        // One probe: an expired key is deleted (and signalled) as `expireIfNeeded` would, but
        // not counted.
        let keys = &mut st.dbs[cx.db].keys;
        let Some(found) = keys.find(key) else { continue };
        let expired = keys.entry(found.id).is_expired(cx.now);
        keys.remove_found(found);
        st.signal(cx.db, key);
        n += i64::from(!expired);
    }
    Reply::Integer(n)
}

/// `EXISTS key [key ...]`, `TOUCH key [key ...]`
pub(crate) fn exists(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let mut n = 0;
    for j in 1..a.len() {
        if st.lookup(cx, arg(a, j)).is_some() {
            n += 1;
        }
    }
    Reply::Integer(n)
}

/// `TYPE key`
pub(crate) fn type_(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    Reply::Status(st.lookup(cx, arg(a, 1)).map_or("none", |e| e.value.type_name()))
}

/// `EXPIRE key seconds [NX | XX | GT | LT]`, `PEXPIRE key milliseconds […]`,
/// `EXPIREAT key unix-time-seconds […]`, `PEXPIREAT key unix-time-milliseconds […]`
pub(crate) fn expire(
    st: &mut Store,
    cx: &Cx,
    a: &ArgvRef<'_>,
    relative: bool,
    seconds: bool,
) -> Reply {
    let name = match (relative, seconds) {
        (true, true) => "expire",
        (true, false) => "pexpire",
        (false, true) => "expireat",
        (false, false) => "pexpireat",
    };
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for j in 3..a.len() {
        let opt = arg(a, j);
        if opt.eq_ignore_ascii_case(b"nx") {
            nx = true;
        } else if opt.eq_ignore_ascii_case(b"xx") {
            xx = true;
        } else if opt.eq_ignore_ascii_case(b"gt") {
            gt = true;
        } else if opt.eq_ignore_ascii_case(b"lt") {
            lt = true;
        } else {
            let shown = opt.split(|&b| b == 0).next().unwrap_or_default();
            return Reply::err_owned(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(shown)
            ));
        }
    }
    if nx && (xx || gt || lt) {
        return Reply::err("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return Reply::err("ERR GT and LT options at the same time are not compatible");
    }
    let mut when = match arg_i64(arg(a, 2)) {
        Ok(w) => w,
        Err(e) => return e,
    };
    let invalid = || Reply::err_owned(format!("ERR invalid expire time in '{name}' command"));
    if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return invalid();
        }
        when *= 1000;
    }
    let base = if relative { cx.now } else { 0 };
    if when > i64::MAX - base {
        return invalid();
    }
    when += base;
    let key = arg(a, 1);
    let Some(found) = st.find_live(cx.db, cx.now, key) else { return Reply::Integer(0) };
    let current = st.dbs[cx.db].keys.entry(found.id).expires_at;
    if (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c))
        || (lt && current.is_some_and(|c| when >= c))
    {
        return Reply::Integer(0);
    }
    if when <= cx.now {
        st.dbs[cx.db].keys.remove_found(found);
    } else {
        st.dbs[cx.db].keys.entry_mut(found.id).expires_at = Some(when);
    }
    st.signal(cx.db, key);
    Reply::Integer(1)
}

/// `PERSIST key`
pub(crate) fn persist(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let key = arg(a, 1);
    match st.lookup_mut(cx, key).and_then(|e| e.expires_at.take()) {
        Some(_) => {
            st.signal(cx.db, key);
            Reply::Integer(1)
        }
        None => Reply::Integer(0),
    }
}

/// `TTL key`, `PTTL key`, `EXPIRETIME key`, `PEXPIRETIME key`
pub(crate) fn ttl(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>, millis: bool, absolute: bool) -> Reply {
    let Some(entry) = st.lookup(cx, arg(a, 1)) else { return Reply::Integer(-2) };
    let Some(at) = entry.expires_at else { return Reply::Integer(-1) };
    let ttl = if absolute { at } else { at - cx.now }.max(0);
    Reply::Integer(if millis { ttl } else { (ttl + 500) / 1000 })
}

/// `RENAME key newkey`, `RENAMENX key newkey`
pub(crate) fn rename(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>, nx: bool) -> Reply {
    let (src, dst) = (arg(a, 1), arg(a, 2));
    let Some(entry) = st.lookup(cx, src).cloned() else {
        return Reply::err("ERR no such key");
    };
    if src == dst {
        return if nx { Reply::Integer(0) } else { Reply::OK };
    }
    if st.lookup(cx, dst).is_some() {
        if nx {
            return Reply::Integer(0);
        }
        st.delete(cx.db, dst);
    }
    st.put(cx.db, dst, entry);
    st.delete(cx.db, src);
    st.signal(cx.db, src);
    st.signal(cx.db, dst);
    if nx { Reply::Integer(1) } else { Reply::OK }
}

/// `COPY source destination [DB destination-db] [REPLACE]`
pub(crate) fn copy(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let mut replace = false;
    let mut dst_db = cx.db;
    let mut j = 3;
    while j < a.len() {
        let opt = arg(a, j);
        if opt.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if opt.eq_ignore_ascii_case(b"db") && j + 1 < a.len() {
            let id = match arg_i32(arg(a, j + 1), None) {
                Ok(id) => id,
                Err(e) => return e,
            };
            if id < 0 || id as usize >= st.dbs.len() {
                return Reply::err("ERR DB index is out of range");
            }
            dst_db = id as usize;
            j += 1;
        } else {
            return Reply::syntax();
        }
        j += 1;
    }
    let (src, dst) = (arg(a, 1), arg(a, 2));
    if dst_db == cx.db && src == dst {
        return Reply::err("ERR source and destination objects are the same");
    }
    let Some(entry) = st.lookup(cx, src).cloned() else { return Reply::Integer(0) };
    if st.lookup_in(dst_db, cx.now, dst).is_some() {
        if !replace {
            return Reply::Integer(0);
        }
        st.delete(dst_db, dst);
    }
    st.forget_unknown(dst_db, dst);
    st.put(dst_db, dst, Entry { value: entry.value, expires_at: entry.expires_at });
    st.signal(dst_db, dst);
    Reply::Integer(1)
}

/// `SELECT index`
pub(crate) fn select(st: &mut Store, db: &mut u32, a: &ArgvRef<'_>) -> Reply {
    let id = match arg_i32(arg(a, 1), None) {
        Ok(id) => id,
        Err(e) => return e,
    };
    if id < 0 || id as usize >= st.dbs.len() {
        return Reply::err("ERR DB index is out of range");
    }
    *db = id as u32;
    Reply::OK
}

/// `SWAPDB index1 index2`
pub(crate) fn swapdb(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let id1 = match arg_i32(arg(a, 1), Some("ERR invalid first DB index")) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let id2 = match arg_i32(arg(a, 2), Some("ERR invalid second DB index")) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let n = st.dbs.len() as i32;
    if id1 < 0 || id1 >= n || id2 < 0 || id2 >= n {
        return Reply::err("ERR DB index is out of range");
    }
    let (id1, id2) = (id1 as usize, id2 as usize);
    if id1 != id2 {
        st.touch_all_watched_in_db(id1, Some(id2), cx.now);
        st.touch_all_watched_in_db(id2, Some(id1), cx.now);
        st.dbs.swap(id1, id2);
    }
    Reply::OK
}

fn flush_mode_ok(a: &ArgvRef<'_>) -> bool {
    a.len() == 1
        || (a.len() == 2
            && (arg(a, 1).eq_ignore_ascii_case(b"sync")
                || arg(a, 1).eq_ignore_ascii_case(b"async")))
}

/// `FLUSHDB [ASYNC | SYNC]`
pub(crate) fn flushdb(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    if !flush_mode_ok(a) {
        return Reply::syntax();
    }
    st.flush_db(cx.db, cx.now);
    Reply::OK
}

/// `FLUSHALL [ASYNC | SYNC]`
pub(crate) fn flushall(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    if !flush_mode_ok(a) {
        return Reply::syntax();
    }
    for db in 0..st.dbs.len() {
        st.flush_db(db, cx.now);
    }
    st.any_unknown = false;
    Reply::OK
}

/// `DBSIZE` — live keys. Redis counts keys it has not reclaimed yet, which its background
/// expiry removes within about a hundred milliseconds of their expiry; the store counts what
/// has not expired.
pub(crate) fn dbsize(st: &mut Store, cx: &Cx) -> Reply {
    let n = st.dbs[cx.db].keys.values().filter(|e| !e.is_expired(cx.now)).count();
    Reply::Integer(n as i64)
}

/// `PING [message]`
pub(crate) fn ping(a: &ArgvRef<'_>) -> Reply {
    match a.len() {
        1 => Reply::Status("PONG"),
        2 => Reply::bulk(arg(a, 1)),
        _ => Reply::err("ERR wrong number of arguments for 'ping' command"),
    }
}
