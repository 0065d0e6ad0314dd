/*!
The fake store: sixteen databases of keys on a virtual clock, with Redis's lazy expiry, WATCH
bookkeeping and the record of what is *unknown*.

Shaped like mini-redis's `db.rs` — a map from key to [`Entry`] `{ value, expires_at }` — with
`now` always passed in (milliseconds of the trace's virtual clock). Like Redis, an expired key
stays in the map until a command touches it; [`Store::lookup`] then deletes it, exactly where
Redis's `expireIfNeeded` would (which matters for WATCH). Nothing here reads the wall clock.

A key is **unknown** when a command the store does not model may have changed it, or a gap in
the trace hid what happened to it. Unknown keys are kept apart (they have no value), a database
can be wholly unknown (every key not explicitly known since is unknown), and commands that
depend on an unknown key answer [`Reply::Unknown`](crate::Reply::Unknown) instead of guessing.

Each database's map is a [`KeyMap`](crate::keymap) — one probe per lookup, short keys and short
strings inline — because replay is bound by cache misses on random keys. Cloning a store copies
its maps; long values share their bytes.
*/

use crate::bounds::Bounds;
use crate::keymap::{Found, KeyMap};
use crate::prefetch::Prefetch;
use crate::reply::Bytes;
use crate::reply::Reply;
use crate::value::{Entry, Members, Millis, StringValue, Value};
use cachetape_base::FxHashSet;

/// Argument `i`, or empty when the command has fewer (arity is checked before commands run).
#[inline]
pub(crate) fn arg<'a>(a: &cachetape_tape::ArgvRef<'a>, i: usize) -> &'a [u8] {
    a.get(i).unwrap_or_default()
}

/// `HDEL`, `SREM`, `ZREM key member [member ...]`: removes the members present, deletes the key
/// once it is empty, and answers how many were removed. `pick` gives the collection when the
/// key holds the command's type.
pub(crate) fn remove_members(
    st: &mut Store,
    cx: &Cx,
    a: &cachetape_tape::ArgvRef<'_>,
    pick: fn(&mut Value) -> Option<&mut dyn Members>,
) -> Reply {
    let key = arg(a, 1);
    let members = match st.lookup_mut(cx, key) {
        None => return Reply::Integer(0),
        Some(entry) => match pick(&mut entry.value) {
            Some(members) => members,
            None => return Reply::wrong_type(),
        },
    };
    let mut deleted = 0;
    for m in a.iter().skip(2) {
        if members.remove_member(m) {
            deleted += 1;
            if members.is_drained() {
                break;
            }
        }
    }
    if members.is_drained() {
        st.delete(cx.db, key);
    }
    if deleted > 0 {
        st.signal(cx.db, key);
    }
    Reply::Integer(deleted)
}

/// Identifies a client connection within one store (WATCH state is per client).
pub type ClientId = u32;

/// The state of one key as the store sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyState<'a> {
    /// The key does not exist (or has expired).
    Missing,
    /// The store cannot say: an unmodelled command or a gap may have changed it.
    Unknown,
    /// The key exists.
    Present(&'a Entry),
}

/// One database.
#[derive(Clone, Debug, Default)]
pub struct Db {
    pub(crate) keys: KeyMap,
    /// Keys whose state is unknown.
    pub(crate) unknown: FxHashSet<Bytes>,
    /// Every key not in `keys` and not in `known` is unknown.
    pub(crate) all_unknown: bool,
    /// With `all_unknown`: keys known to be missing.
    pub(crate) known: FxHashSet<Bytes>,
}

impl Db {
    fn clear(&mut self) {
        self.keys.clear();
        self.unknown.clear();
        self.known.clear();
        self.all_unknown = false;
    }

    pub(crate) fn is_unknown(&self, key: &[u8]) -> bool {
        self.unknown.contains(key)
            || (self.all_unknown && !self.keys.contains_key(key) && !self.known.contains(key))
    }
}

/// A key watched by a client (Redis's `watchedKey`).
#[derive(Clone, Debug)]
pub(crate) struct Watch {
    pub client: ClientId,
    pub db: usize,
    pub key: Bytes,
    /// The key was already logically expired when watched.
    pub expired: bool,
}

/// The fake Redis data set.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) dbs: Vec<Db>,
    /// Every watched key, in the order WATCH added them.
    pub(crate) watches: Vec<Watch>,
    /// Clients whose transaction must abort (Redis's CLIENT_DIRTY_CAS).
    pub(crate) dirty: Vec<ClientId>,
    /// True once anything became unknown (cheap check on the hot path).
    pub(crate) any_unknown: bool,
    /// What the store has materialised against its bound (`bounds.rs`).
    pub(crate) bounds: Bounds,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

/// Where and when a command runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cx {
    pub db: usize,
    pub now: Millis,
    pub client: ClientId,
}

impl Store {
    /// A store with Redis's default sixteen databases.
    pub fn new() -> Store {
        Store::with_databases(16)
    }

    /// A store with `n` databases (Redis's `databases` setting).
    pub fn with_databases(n: usize) -> Store {
        Store {
            dbs: vec![Db::default(); n.max(1)],
            watches: Vec::new(),
            dirty: Vec::new(),
            any_unknown: false,
            bounds: Bounds::default(),
        }
    }

    /// Number of databases.
    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    /// What the store has materialised against its bound, and what it refused.
    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// The state of `key` in `db` at `now` (ms), without side effects: a key past its expiry is
    /// [`KeyState::Missing`] even though Redis may not have reclaimed it yet.
    pub fn key(&self, db: u32, key: &[u8], now: Millis) -> KeyState<'_> {
        let Some(d) = self.dbs.get(db as usize) else { return KeyState::Missing };
        if d.is_unknown(key) {
            return KeyState::Unknown;
        }
        match d.keys.get(key) {
            Some(e) if !e.is_expired(now) => KeyState::Present(e),
            _ => KeyState::Missing,
        }
    }

    /// Starts loading the bucket where `key` is looked up first in `db` (see
    /// [`Replayer::apply_borrowed`](crate::Replayer::apply_borrowed)'s read-ahead).
    #[inline(always)]
    pub(crate) fn prefetch_bucket(&self, db: u32, key: &[u8]) {
        if let Some(d) = self.dbs.get(db as usize) {
            d.keys.prefetch_bucket(key);
        }
    }

    /// Starts loading what looking `key` up in `db` reads at `step`: a hint, see [`Prefetch`].
    #[inline]
    pub fn prefetch(&self, db: u32, key: &[u8], step: Prefetch) {
        if let Some(d) = self.dbs.get(db as usize) {
            d.keys.prefetch(key, step);
        }
    }

    /// Live keys of `db` at `now`, sorted (unknown keys are not included).
    pub fn keys(&self, db: u32, now: Millis) -> Vec<(Bytes, &Entry)> {
        let Some(d) = self.dbs.get(db as usize) else { return Vec::new() };
        let mut v: Vec<(Bytes, &Entry)> = d
            .keys
            .iter()
            .filter(|(_, e)| !e.is_expired(now))
            .map(|(k, e)| (Bytes::from(k), e))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Sets `key` to `entry` (initial state from a snapshot, or a test's setup); the key becomes
    /// known.
    pub fn set_entry(&mut self, db: u32, key: &[u8], entry: Entry) {
        let db = db as usize;
        self.forget_unknown(db, key);
        self.put(db, key, entry);
    }

    /// Removes `key`; it becomes known to be missing.
    pub fn remove_key(&mut self, db: u32, key: &[u8]) {
        let db = db as usize;
        self.forget_unknown(db, key);
        self.dbs[db].keys.remove(key);
    }

    /// Marks `key` unknown (an unmodelled command may have changed it).
    pub fn mark_unknown(&mut self, db: u32, key: &[u8]) {
        let Some(d) = self.dbs.get_mut(db as usize) else { return };
        d.keys.remove(key);
        d.known.remove(key);
        if !d.unknown.contains(key) {
            d.unknown.insert(Bytes::from(key));
        }
        self.any_unknown = true;
    }

    /// Marks every key of `db` unknown.
    pub fn mark_db_unknown(&mut self, db: u32) {
        let Some(d) = self.dbs.get_mut(db as usize) else { return };
        d.clear();
        d.all_unknown = true;
        self.any_unknown = true;
    }

    /// Marks every key of every database unknown (a gap in the trace).
    pub fn mark_all_unknown(&mut self) {
        for db in 0..self.dbs.len() {
            self.mark_db_unknown(db as u32);
        }
    }

    /// The individually unknown keys, sorted by database then key.
    pub fn unknown_keys(&self) -> Vec<(u32, Bytes)> {
        let mut v: Vec<(u32, Bytes)> = self
            .dbs
            .iter()
            .enumerate()
            .flat_map(|(i, d)| d.unknown.iter().map(move |k| (i as u32, k.clone())))
            .collect();
        v.sort();
        v
    }

    /// Databases whose keys are all unknown (except those written since).
    pub fn unknown_databases(&self) -> Vec<u32> {
        self.dbs.iter().enumerate().filter(|(_, d)| d.all_unknown).map(|(i, _)| i as u32).collect()
    }

    pub(crate) fn forget_unknown(&mut self, db: usize, key: &[u8]) {
        if !self.any_unknown {
            return;
        }
        let d = &mut self.dbs[db];
        d.unknown.remove(key);
        if d.all_unknown && !d.known.contains(key) {
            d.known.insert(Bytes::from(key));
        }
    }

    /// True when `key` is unknown (checked only after `any_unknown`).
    #[inline]
    pub(crate) fn is_unknown(&self, db: usize, key: &[u8]) -> bool {
        self.any_unknown && self.dbs[db].is_unknown(key)
    }

    // -----------------------------------------------------------------------------------------
    // Lookups with Redis's lazy expiry.

    /// `lookupKey` with one probe: where the live `key` is, after deleting it (and signalling,
    /// as Redis's `expireIfNeeded` does) if it was due. The [`Found`] stays valid until the
    /// next insertion or removal in `db`.
    #[inline]
    pub(crate) fn find_live(&mut self, db: usize, now: Millis, key: &[u8]) -> Option<Found> {
        let keys = &mut self.dbs[db].keys;
        let found = keys.find(key)?;
        if keys.entry(found.id).is_expired(now) {
            keys.remove_found(found);
            self.signal(db, key);
            return None;
        }
        Some(found)
    }

    /// `lookupKey`: the live entry, expiring it first if due.
    #[inline]
    pub(crate) fn lookup(&mut self, cx: &Cx, key: &[u8]) -> Option<&Entry> {
        self.lookup_in(cx.db, cx.now, key)
    }

    /// `lookupKey` for writing.
    #[inline]
    pub(crate) fn lookup_mut(&mut self, cx: &Cx, key: &[u8]) -> Option<&mut Entry> {
        let found = self.find_live(cx.db, cx.now, key)?;
        Some(self.dbs[cx.db].keys.entry_mut(found.id))
    }

    /// `lookupKey` in another database.
    #[inline]
    pub(crate) fn lookup_in(&mut self, db: usize, now: Millis, key: &[u8]) -> Option<&Entry> {
        let found = self.find_live(db, now, key)?;
        Some(self.dbs[db].keys.entry(found.id))
    }

    /// Adds or overwrites `key` (no signal; callers signal as Redis does).
    #[inline]
    pub(crate) fn put(&mut self, db: usize, key: &[u8], entry: Entry) {
        self.dbs[db].keys.insert(key, entry);
    }

    /// Sets `key`, which `found` says where it is (`None`: absent), to the string `value` with
    /// expiry `expires_at` (no signal). Overwrites an inline string in place.
    #[inline]
    pub(crate) fn put_string(
        &mut self,
        db: usize,
        found: Option<Found>,
        key: &[u8],
        value: &[u8],
        expires_at: Option<Millis>,
    ) {
        let keys = &mut self.dbs[db].keys;
        let Some(found) = found else {
            keys.insert_new(
                key,
                Entry { value: Value::String(StringValue::new(value)), expires_at },
            );
            return;
        };
        let entry = keys.entry_mut(found.id);
        entry.expires_at = expires_at;
        match &mut entry.value {
            Value::String(s) => s.set(value),
            other => *other = Value::String(StringValue::new(value)),
        }
    }

    /// Physically deletes `key`; true if it was present.
    #[inline]
    pub(crate) fn delete(&mut self, db: usize, key: &[u8]) -> bool {
        self.dbs[db].keys.remove(key).is_some()
    }

    /// `keyIsExpired` without deleting.
    pub(crate) fn is_expired(&self, db: usize, key: &[u8], now: Millis) -> bool {
        self.dbs[db].keys.get(key).is_some_and(|e| e.is_expired(now))
    }

    // -----------------------------------------------------------------------------------------
    // WATCH bookkeeping (Redis's multi.c).

    /// `signalModifiedKey` → `touchWatchedKey`: clients watching `key` must abort their EXEC.
    #[inline]
    pub(crate) fn signal(&mut self, db: usize, key: &[u8]) {
        if self.watches.is_empty() {
            return;
        }
        self.touch_watched(db, key);
    }

    fn touch_watched(&mut self, db: usize, key: &[u8]) {
        let present = self.dbs[db].keys.contains_key(key);
        let mut dirtied = Vec::new();
        for w in self.watches.iter_mut().filter(|w| w.db == db && &w.key[..] == key) {
            if w.expired {
                if !present {
                    // Already expired key now deleted: logically no change.
                    w.expired = false;
                    continue;
                }
                // Redis 7.0 stops here (a `break` out of the clients loop).
                break;
            }
            dirtied.push(w.client);
        }
        for c in dirtied {
            self.mark_dirty(c);
            self.unwatch_all(c);
        }
    }

    /// `touchAllWatchedKeysInDb`: FLUSHDB / FLUSHALL (`replaced` = None) and SWAPDB.
    pub(crate) fn touch_all_watched_in_db(
        &mut self,
        emptied: usize,
        replaced: Option<usize>,
        now: Millis,
    ) {
        if self.watches.is_empty() {
            return;
        }
        let mut dirtied = Vec::new();
        for i in 0..self.watches.len() {
            let w = &self.watches[i];
            if w.db != emptied {
                continue;
            }
            let in_emptied = self.dbs[emptied].keys.contains_key(&w.key[..]);
            let in_replaced = replaced.is_some_and(|r| self.dbs[r].keys.contains_key(&w.key[..]));
            if !(in_emptied || in_replaced) {
                continue;
            }
            let replaced_expired = replaced.is_some_and(|r| self.is_expired(r, &w.key, now));
            let w = &mut self.watches[i];
            if w.expired {
                if replaced.is_none() || !in_replaced {
                    w.expired = false;
                    continue;
                } else if replaced_expired {
                    continue;
                }
            } else if !in_emptied && replaced_expired {
                w.expired = true;
                continue;
            }
            dirtied.push(w.client);
        }
        for c in dirtied {
            self.mark_dirty(c);
        }
    }

    pub(crate) fn mark_dirty(&mut self, client: ClientId) {
        if !self.dirty.contains(&client) {
            self.dirty.push(client);
        }
    }

    pub(crate) fn is_dirty(&self, client: ClientId) -> bool {
        self.dirty.contains(&client)
    }

    pub(crate) fn clear_dirty(&mut self, client: ClientId) {
        self.dirty.retain(|&c| c != client);
    }

    /// `watchForKey`.
    pub(crate) fn watch(&mut self, client: ClientId, db: usize, key: &[u8], now: Millis) {
        if self.watches.iter().any(|w| w.client == client && w.db == db && &w.key[..] == key) {
            return;
        }
        let expired = self.is_expired(db, key, now);
        self.watches.push(Watch { client, db, key: Bytes::from(key), expired });
    }

    /// `unwatchAllKeys`.
    pub(crate) fn unwatch_all(&mut self, client: ClientId) {
        self.watches.retain(|w| w.client != client);
    }

    /// `isWatchedKeyExpired`.
    pub(crate) fn watched_key_expired(&self, client: ClientId, now: Millis) -> bool {
        self.watches
            .iter()
            .filter(|w| w.client == client && !w.expired)
            .any(|w| self.is_expired(w.db, &w.key, now))
    }

    /// Empties one database (FLUSHDB) — its keys become known (missing).
    pub(crate) fn flush_db(&mut self, db: usize, now: Millis) {
        self.touch_all_watched_in_db(db, None, now);
        self.dbs[db].clear();
    }
}
