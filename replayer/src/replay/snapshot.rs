/*!
Initial state from the trace: a Snapshot event (a key's value and PTTL, read by the recorder's
own connection) sets the key in the node's store, at the position in the stream where the
probe's command ran.
*/

use cachetape_tape::StoredValue;

use crate::reply::Bytes;
use crate::store::Store;
use crate::value::{Entry, HashValue, Millis, SetValue, StringValue, Value, ZSetValue};

/// Sets `key` in `db` to a snapshot's `value` with `pttl_ms` left (Redis's PTTL: -1 no expiry,
/// -2 missing) at `now`; a value of a type the snapshot does not carry makes the key unknown.
pub(super) fn apply_snapshot(
    store: &mut Store,
    db: u32,
    key: &[u8],
    value: &StoredValue,
    pttl_ms: i64,
    now: Millis,
) {
    if db as usize >= store.databases() {
        return;
    }
    let value = match value {
        StoredValue::Missing => {
            store.remove_key(db, key);
            return;
        }
        StoredValue::Other(_) => {
            store.mark_unknown(db, key);
            return;
        }
        _ if pttl_ms == -2 => {
            store.remove_key(db, key);
            return;
        }
        StoredValue::String(s) => Value::String(StringValue::new(s)),
        StoredValue::Hash(pairs) => {
            let mut h = HashValue::default();
            h.try_conversion(pairs.iter().flat_map(|(f, v)| [&f[..], &v[..]]));
            for (f, v) in pairs {
                h.set(f, Bytes::from(&v[..]));
            }
            Value::Hash(h)
        }
        StoredValue::List(items) => {
            Value::List(items.iter().map(|v| Bytes::from(&v[..])).collect())
        }
        StoredValue::Set(members) => {
            let mut s = members.first().map_or_else(SetValue::default, |m| SetValue::for_first(m));
            for m in members {
                s.insert(m);
            }
            Value::Set(s)
        }
        StoredValue::SortedSet(items) => {
            let mut z = ZSetValue::default();
            for (m, score) in items {
                z.set(m, *score);
            }
            Value::ZSet(z)
        }
    };
    let expires_at = (pttl_ms >= 0).then(|| now + pttl_ms);
    store.set_entry(db, key, Entry { value, expires_at });
}
