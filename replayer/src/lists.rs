/*!
List commands: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP (with count), LRANGE, LLEN, LINDEX
(Redis 7.0's `t_list.c`).
*/

use std::collections::VecDeque;

use cachetape_tape::ArgvRef;

use crate::number::{arg_i64, arg_positive};
use crate::reply::{Bytes, Reply};
use crate::store::{Cx, Store, arg};
use crate::value::{Entry, Value};

fn list_for_read<'a>(
    st: &'a mut Store,
    cx: &Cx,
    key: &[u8],
) -> Result<Option<&'a VecDeque<Bytes>>, Reply> {
    match st.lookup(cx, key) {
        None => Ok(None),
        Some(Entry { value: Value::List(l), .. }) => Ok(Some(l)),
        Some(_) => Err(Reply::wrong_type()),
    }
}

/// `LPUSH key element [element ...]`, `RPUSH …`, `LPUSHX …`, `RPUSHX …`
pub(crate) fn push(
    st: &mut Store,
    cx: &Cx,
    a: &ArgvRef<'_>,
    head: bool,
    only_existing: bool,
) -> Reply {
    let key = arg(a, 1);
    match st.lookup(cx, key) {
        Some(Entry { value: Value::List(_), .. }) => {}
        Some(_) => return Reply::wrong_type(),
        None if only_existing => return Reply::Integer(0),
        None => st.put(cx.db, key, Entry::new(Value::List(VecDeque::new()))),
    }
    let Some(Entry { value: Value::List(l), .. }) = st.dbs[cx.db].keys.get_mut(key) else {
        return Reply::wrong_type();
    };
    for e in a.iter().skip(2) {
        if head {
            l.push_front(Bytes::from(e));
        } else {
            l.push_back(Bytes::from(e));
        }
    }
    let len = l.len() as i64;
    st.signal(cx.db, key);
    Reply::Integer(len)
}

/// `LPOP key [count]`, `RPOP key [count]`
pub(crate) fn pop(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>, head: bool) -> Reply {
    if a.len() > 3 {
        let name = if head { "lpop" } else { "rpop" };
        return Reply::err_owned(format!("ERR wrong number of arguments for '{name}' command"));
    }
    let count = if a.len() == 3 {
        match arg_positive(arg(a, 2)) {
            Ok(c) => Some(c),
            Err(e) => return e,
        }
    } else {
        None
    };
    let key = arg(a, 1);
    let l = match st.lookup_mut(cx, key) {
        None => return if count.is_some() { Reply::NilArray } else { Reply::Nil },
        Some(Entry { value: Value::List(l), .. }) => l,
        Some(_) => return Reply::wrong_type(),
    };
    let reply = match count {
        Some(0) => return Reply::Array(Vec::new()),
        None => {
            let v = if head { l.pop_front() } else { l.pop_back() };
            Reply::Bulk(v.unwrap_or_else(|| Bytes::from(&b""[..])))
        }
        Some(n) => {
            let n = (n as usize).min(l.len());
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let v = if head { l.pop_front() } else { l.pop_back() };
                out.extend(v.map(Reply::Bulk));
            }
            Reply::Array(out)
        }
    };
    if l.is_empty() {
        st.delete(cx.db, key);
    }
    st.signal(cx.db, key);
    reply
}

/// `LRANGE key start stop`
pub(crate) fn lrange(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let (mut start, mut end) = match (arg_i64(arg(a, 2)), arg_i64(arg(a, 3))) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let l = match list_for_read(st, cx, arg(a, 1)) {
        Err(e) => return e,
        Ok(None) => return Reply::Array(Vec::new()),
        Ok(Some(l)) => l,
    };
    let len = l.len() as i64;
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    if start > end || start >= len {
        return Reply::Array(Vec::new());
    }
    end = end.min(len - 1);
    Reply::Array(l.range(start as usize..=end as usize).map(|v| Reply::Bulk(v.clone())).collect())
}

/// `LLEN key`
pub(crate) fn llen(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match list_for_read(st, cx, arg(a, 1)) {
        Err(e) => e,
        Ok(l) => Reply::Integer(l.map_or(0, |l| l.len() as i64)),
    }
}

/// `LINDEX key index`
pub(crate) fn lindex(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let l = match list_for_read(st, cx, arg(a, 1)) {
        Err(e) => return e,
        Ok(None) => return Reply::Nil,
        Ok(Some(l)) => l,
    };
    let index = match arg_i64(arg(a, 2)) {
        Ok(i) => i,
        Err(e) => return e,
    };
    let i = if index < 0 { l.len() as i64 + index } else { index };
    if i < 0 {
        return Reply::Nil;
    }
    l.get(i as usize).map_or(Reply::Nil, |v| Reply::Bulk(v.clone()))
}
