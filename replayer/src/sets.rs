/*!
Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD (Redis 7.0's `t_set.c`).
*/

use cachetape_tape::ArgvRef;

use crate::reply::Reply;
use crate::store::{Cx, Store, arg};
use crate::value::{Entry, SetValue, Value};

fn set_for_read<'a>(st: &'a mut Store, cx: &Cx, key: &[u8]) -> Result<Option<&'a SetValue>, Reply> {
    match st.lookup(cx, key) {
        None => Ok(None),
        Some(Entry { value: Value::Set(s), .. }) => Ok(Some(s)),
        Some(_) => Err(Reply::wrong_type()),
    }
}

/// `SADD key member [member ...]`
pub(crate) fn sadd(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    let key = arg(a, 1);
    if st.lookup(cx, key).is_none() {
        st.put(cx.db, key, Entry::new(Value::Set(SetValue::for_first(arg(a, 2)))));
    }
    let Some(Entry { value: Value::Set(s), .. }) = st.dbs[cx.db].keys.get_mut(key) else {
        return Reply::wrong_type();
    };
    let added = a.iter().skip(2).filter(|m| s.insert(m)).count() as i64;
    if added > 0 {
        st.signal(cx.db, key);
    }
    Reply::Integer(added)
}

/// `SREM key member [member ...]`
pub(crate) fn srem(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    crate::store::remove_members(st, cx, a, |v| match v {
        Value::Set(s) => Some(s),
        _ => None,
    })
}

/// `SMEMBERS key` — numeric order for an intset (as Redis); byte order otherwise (Redis's own
/// order then depends on its randomly seeded dict).
pub(crate) fn smembers(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match set_for_read(st, cx, arg(a, 1)) {
        Err(e) => e,
        Ok(None) => Reply::Array(Vec::new()),
        Ok(Some(s)) => Reply::Array(s.members().into_iter().map(Reply::Bulk).collect()),
    }
}

/// `SISMEMBER key member`
pub(crate) fn sismember(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match set_for_read(st, cx, arg(a, 1)) {
        Err(e) => e,
        Ok(s) => Reply::Integer(s.is_some_and(|s| s.contains(arg(a, 2))) as i64),
    }
}

/// `SMISMEMBER key member [member ...]`
pub(crate) fn smismember(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match set_for_read(st, cx, arg(a, 1)) {
        Err(e) => e,
        Ok(s) => Reply::Array(
            a.iter()
                .skip(2)
                .map(|m| Reply::Integer(s.is_some_and(|s| s.contains(m)) as i64))
                .collect(),
        ),
    }
}

/// `SCARD key`
pub(crate) fn scard(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    match set_for_read(st, cx, arg(a, 1)) {
        Err(e) => e,
        Ok(s) => Reply::Integer(s.map_or(0, |s| s.len() as i64)),
    }
}
