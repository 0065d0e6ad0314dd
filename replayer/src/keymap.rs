/*!
The store's key table: a SwissTable-style open-addressing map whose buckets hold a key — inline
when short — beside its [`Entry`].

Built for replay's access pattern, one command after another on keys spread over the whole data
set, where the cost is cache misses rather than instructions. A lookup reads one control byte per
bucket (a 7-bit tag of the hash, eight buckets compared at once as a `u64`: the control bytes are
a bucket count's worth of bytes, small enough to stay cached) and then touches the one bucket whose
tag matches, where the key compares and the entry sits. `std`'s map with `Arc<[u8]>` keys cost
one more miss per command on the key's own allocation and an allocation per new key, and Redis's
"expire if due, then access" pattern took two probes where [`KeyMap::find`] plus the bucket it
returns take one.

Probing, tags and deletion follow hashbrown's design (triangular probing over groups of eight,
tombstones only where a probe sequence may have run past the bucket). The hash has no seed, so
everything is deterministic; iteration is in bucket order, which depends only on the sequence of
operations, and callers sort where order would show.
*/

use std::fmt;

use cachetape_base::{InlineKey as Key, prefetch};

use crate::prefetch::Prefetch;
use crate::value::{Entry, Value};

#[derive(Clone)]
struct Bucket {
    key: Key,
    entry: Entry,
}

/// Where [`KeyMap::find`] found a key. Valid until the map is next changed by an insertion or
/// removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    /// The bucket: pass to [`KeyMap::entry`] / [`KeyMap::entry_mut`].
    pub id: usize,
}

/// Control bytes: `EMPTY`, `DELETED` (a tombstone) or, for a full bucket, the hash's top 7 bits.
const EMPTY: u8 = 0xff;
const DELETED: u8 = 0x80;
/// Buckets whose control bytes are compared at once.
const GROUP: usize = 8;
const LSB: u64 = 0x0101_0101_0101_0101;
const MSB: u64 = 0x8080_8080_8080_8080;

/// A group of eight control bytes, as one word.
#[derive(Clone, Copy)]
struct Group(u64);

impl Group {
    /// Bytes equal to `tag` (high bit of each such byte set). May also flag a full byte next
    /// to a match; keys are compared anyway.
    #[inline]
    fn matching(self, tag: u8) -> u64 {
        let x = self.0 ^ (LSB * tag as u64);
        x.wrapping_sub(LSB) & !x & MSB
    }

    /// `EMPTY` bytes (the only ones with both top bits set).
    #[inline]
    fn empty(self) -> u64 {
        self.0 & (self.0 << 1) & MSB
    }

    /// `EMPTY` or `DELETED` bytes.
    #[inline]
    fn empty_or_deleted(self) -> u64 {
        self.0 & MSB
    }
}

/// A map from key bytes to [`Entry`].
#[derive(Clone, Default)]
pub(crate) struct KeyMap {
    /// One control byte per bucket, then the first `GROUP` again (so a group read at any bucket
    /// stays in bounds). Empty when no bucket has been allocated yet.
    ctrl: Vec<u8>,
    buckets: Vec<Option<Bucket>>,
    /// Keys present.
    len: usize,
    /// Insertions into `EMPTY` buckets left before the table must grow or be rebuilt.
    growth_left: usize,
}

const K0: u64 = 0xa076_1d64_78bd_642f;
const K1: u64 = 0xe703_7ed1_a0b4_28db;
const K2: u64 = 0x8ebc_6af0_9c88_c6e3;

/// The high and low halves of the 128-bit product, folded together: every output bit depends on
/// every input bit.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let p = (a as u128).wrapping_mul(b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline]
fn word(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[inline]
fn half(b: &[u8], at: usize) -> u64 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")) as u64
}

/// A fixed (unseeded) hash in the manner of wyhash: up to 16 bytes cost one 64×64→128 multiply.
#[inline]
fn hash(key: &[u8]) -> u64 {
    key_hash(0, key)
}

/// The store's key hash, also for callers that index keys of their own (the analyzer): a fixed
/// (unseeded, deterministic) hash of `key`, with `salt` mixed in (e.g. a node and db) so equal
/// bytes in different namespaces hash apart.
#[inline]
pub fn key_hash(salt: u64, key: &[u8]) -> u64 {
    let n = key.len();
    let mut seed = K0 ^ n as u64 ^ salt;
    let (a, b) = if n > 16 {
        let mut at = 0;
        while n - at > 16 {
            seed = fold(word(key, at) ^ K1, word(key, at + 8) ^ seed);
            at += 16;
        }
        (word(key, n - 16), word(key, n - 8))
    } else if n >= 8 {
        (word(key, 0), word(key, n - 8))
    } else if n >= 4 {
        (half(key, 0), half(key, n - 4))
    } else if n > 0 {
        ((key[0] as u64) << 16 | (key[n / 2] as u64) << 8 | key[n - 1] as u64, 0)
    } else {
        (0, 0)
    };
    fold(a ^ K1, b ^ seed ^ K2)
}

/// The control byte of a full bucket: the hash's top 7 bits.
#[inline]
fn tag(h: u64) -> u8 {
    (h >> 57) as u8
}

/// Buckets a table of `buckets` may fill (7/8, as hashbrown).
fn capacity(buckets: usize) -> usize {
    buckets / 8 * 7
}

impl KeyMap {
    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    #[inline]
    fn group(&self, at: usize) -> Group {
        Group(u64::from_le_bytes(self.ctrl[at..at + GROUP].try_into().expect("8 bytes")))
    }

    fn set_ctrl(&mut self, i: usize, c: u8) {
        self.ctrl[i] = c;
        // The mirror of the first GROUP bytes (for other buckets this writes `i` again).
        let mirror = (i.wrapping_sub(GROUP) & self.mask()) + GROUP;
        self.ctrl[mirror] = c;
    }

    /// Where `key` is, if present.
    #[inline]
    pub fn find(&self, key: &[u8]) -> Option<Found> {
        if self.len == 0 {
            return None;
        }
        let h = hash(key);
        let t = tag(h);
        let mask = self.mask();
        let mut pos = h as usize & mask;
        let mut stride = 0;
        loop {
            let g = self.group(pos);
            let mut m = g.matching(t);
            while m != 0 {
                let id = (pos + m.trailing_zeros() as usize / 8) & mask;
                if let Some(b) = &self.buckets[id]
                    && b.key.is(key)
                {
                    return Some(Found { id });
                }
                m &= m - 1;
            }
            if g.empty() != 0 {
                return None;
            }
            stride += GROUP;
            pos = (pos + stride) & mask;
        }
    }

    /// The entry in bucket `id` (from [`KeyMap::find`]).
    #[inline]
    pub fn entry(&self, id: usize) -> &Entry {
        &self.buckets[id].as_ref().expect("a full bucket").entry
    }

    /// The entry in bucket `id` (from [`KeyMap::find`]), for writing.
    #[inline]
    pub fn entry_mut(&mut self, id: usize) -> &mut Entry {
        &mut self.buckets[id].as_mut().expect("a full bucket").entry
    }

    /// The entry of `key`.
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.find(key).map(|f| self.entry(f.id))
    }

    /// The entry of `key`, for writing.
    #[inline]
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.find(key).map(|f| self.entry_mut(f.id))
    }

    /// True when `key` is present.
    #[inline]
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.find(key).is_some()
    }

    /// Starts loading the bucket a lookup of `key` would compare first (reading the control
    /// bytes, which are small enough to stay cached, to find it).
    #[inline(always)]
    pub fn prefetch_bucket(&self, key: &[u8]) {
        if self.len == 0 {
            return;
        }
        self.prefetch_bucket_of(hash(key));
    }

    /// [`KeyMap::prefetch_bucket`] for the key whose hash is `h` (the table not empty).
    #[inline(always)]
    fn prefetch_bucket_of(&self, h: u64) {
        let mask = self.mask();
        let pos = h as usize & mask;
        let m = self.group(pos).matching(tag(h));
        let id = (pos + m.trailing_zeros() as usize / 8) & mask;
        let bucket: *const Option<Bucket> = self.buckets.as_ptr().wrapping_add(id);
        prefetch(bucket);
        prefetch(bucket.wrapping_byte_add(size_of::<Option<Bucket>>() - 1));
    }

    /// Starts loading what a lookup of `key` reads at `step` (see [`Prefetch`]).
    #[inline]
    pub fn prefetch(&self, key: &[u8], step: Prefetch) {
        if self.len == 0 {
            return;
        }
        let h = hash(key);
        let pos = h as usize & self.mask();
        match step {
            Prefetch::Control => prefetch(&self.ctrl[pos]),
            Prefetch::Bucket => self.prefetch_bucket_of(h),
            Prefetch::Value => {
                if let Some(Entry { value: Value::String(s), .. }) = self.get(key)
                    && s.is_shared()
                {
                    // The reference counts sit just before the bytes.
                    let bytes = s.as_bytes().as_ptr();
                    prefetch(bytes.wrapping_sub(2 * size_of::<usize>()));
                    prefetch(bytes);
                }
            }
        }
    }

    /// The first `EMPTY` or `DELETED` bucket on `h`'s probe sequence.
    fn free_bucket(&self, h: u64) -> usize {
        let mask = self.mask();
        let mut pos = h as usize & mask;
        let mut stride = 0;
        loop {
            let m = self.group(pos).empty_or_deleted();
            if m != 0 {
                return (pos + m.trailing_zeros() as usize / 8) & mask;
            }
            stride += GROUP;
            pos = (pos + stride) & mask;
        }
    }

    /// Puts `bucket` into the empty bucket `id` without reading what was there: an assignment
    /// would first load the old value to drop it, a cache miss on a line we only write. The
    /// control byte said the bucket is empty, and forgetting a `None` leaks nothing.
    #[inline]
    fn fill(&mut self, id: usize, bucket: Bucket) {
        debug_assert!(self.buckets[id].is_none());
        std::mem::forget(self.buckets[id].replace(bucket));
    }

    /// Adds `key` (which must be absent); returns its bucket.
    pub fn insert_new(&mut self, key: &[u8], entry: Entry) -> usize {
        let h = hash(key);
        let mut id = if self.buckets.is_empty() { 0 } else { self.free_bucket(h) };
        if self.buckets.is_empty() || (self.ctrl[id] == EMPTY && self.growth_left == 0) {
            self.rebuild();
            id = self.free_bucket(h);
        }
        if self.ctrl[id] == EMPTY {
            self.growth_left -= 1;
        }
        self.set_ctrl(id, tag(h));
        self.fill(id, Bucket { key: Key::new(key), entry });
        self.len += 1;
        id
    }

    /// Sets `key` to `entry`; the previous entry, if any.
    pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        match self.find(key) {
            Some(f) => Some(std::mem::replace(self.entry_mut(f.id), entry)),
            None => {
                self.insert_new(key, entry);
                None
            }
        }
    }

    /// Removes the key [`KeyMap::find`] found; returns its entry.
    pub fn remove_found(&mut self, f: Found) -> Entry {
        let id = f.id;
        let bucket = self.buckets[id].take().expect("a full bucket");
        self.len -= 1;
        // A probe stops at the first group holding an EMPTY byte. If every group that contains
        // this bucket has another EMPTY, no probe ever ran past it and it can be EMPTY again;
        // otherwise it must stay a tombstone.
        let before = self.group(id.wrapping_sub(GROUP) & self.mask()).empty();
        let after = self.group(id).empty();
        let run = before.leading_zeros() as usize / 8 + after.trailing_zeros() as usize / 8;
        if run >= GROUP {
            self.set_ctrl(id, DELETED);
        } else {
            self.set_ctrl(id, EMPTY);
            self.growth_left += 1;
        }
        bucket.entry
    }

    /// Removes `key`; its entry, if it was present.
    #[inline]
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.find(key).map(|f| self.remove_found(f))
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        if self.len == 0 && self.growth_left == capacity(self.buckets.len()) {
            return;
        }
        self.ctrl.fill(EMPTY);
        self.buckets.iter_mut().for_each(|b| *b = None);
        self.len = 0;
        self.growth_left = capacity(self.buckets.len());
    }

    /// Keys and entries, in bucket order (not meaningful: sort before showing).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.buckets.iter().flatten().map(|b| (b.key.as_bytes(), &b.entry))
    }

    /// Entries, in bucket order.
    pub fn values(&self) -> impl Iterator<Item = &Entry> {
        self.buckets.iter().flatten().map(|b| &b.entry)
    }

    /// Moves every key into a fresh table: twice as many buckets when more than half the
    /// capacity is in use, else as many (clearing the tombstones).
    fn rebuild(&mut self) {
        let old = self.buckets.len();
        let buckets = if old == 0 {
            16
        } else if self.len + 1 > capacity(old) / 2 {
            old * 2
        } else {
            old
        };
        let moved = std::mem::replace(&mut self.buckets, (0..buckets).map(|_| None).collect());
        self.ctrl = vec![EMPTY; buckets + GROUP];
        self.growth_left = capacity(buckets);
        for b in moved.into_iter().flatten() {
            let h = hash(b.key.as_bytes());
            let id = self.free_bucket(h);
            self.set_ctrl(id, tag(h));
            self.fill(id, b);
            self.growth_left -= 1;
        }
    }
}

impl fmt::Debug for KeyMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter().map(|(k, e)| (String::from_utf8_lossy(k), e))).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;
    use crate::value::Value;

    fn entry(n: i64) -> Entry {
        Entry { value: Value::String(b"v".as_slice().into()), expires_at: Some(n) }
    }

    #[test]
    fn hash_spreads_similar_keys() {
        // Keys that differ in one digit land all over the table (low bits pick the bucket, the
        // top 7 the tag).
        let keys: Vec<u64> = (0..1000).map(|i| hash(format!("order:{i}").as_bytes())).collect();
        let homes: std::collections::HashSet<u64> = keys.iter().map(|h| h & 1023).collect();
        let tags: std::collections::HashSet<u8> = keys.iter().map(|&h| tag(h)).collect();
        assert!(homes.len() > 600, "{}", homes.len());
        assert_eq!(tags.len(), 128);
        assert_ne!(hash(b""), hash(b"\0"));
        assert_ne!(hash(b"abcdefgh"), hash(b"abcdefgh\0"));
        assert_ne!(hash(&[1; 17]), hash(&[1; 18]));
    }

    #[test]
    fn keys_of_every_length_compare_by_their_bytes() {
        for n in 0..=40 {
            let a: Vec<u8> = (0..n as u8).collect();
            let k = Key::new(&a);
            assert_eq!(k.as_bytes(), &a[..]);
            assert!(k.is(&a));
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x40;
                assert!(!k.is(&b), "{n} {i}");
            }
            assert!(!k.is(&a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    #[test]
    fn churn_with_tombstones_and_rebuilds() {
        // Insert and delete across a key space larger than the table's first sizes, in an
        // order that leaves tombstones everywhere.
        let mut m = KeyMap::default();
        let mut model: HashMap<Vec<u8>, Entry> = HashMap::new();
        let mut rng = cachetape_base::Rng::new(0x2545_f491_4f6c_dd1d);
        for i in 0..60_000i64 {
            let x = rng.next_u64();
            let k = format!("key:{}", x % 3000).into_bytes();
            if x % 5 < 2 {
                assert_eq!(m.remove(&k), model.remove(&k));
            } else {
                assert_eq!(m.insert(&k, entry(i)), model.insert(k, entry(i)));
            }
            assert_eq!(m.len, model.len());
        }
        for (k, e) in &model {
            assert_eq!(m.get(k), Some(e));
        }
        assert_eq!(m.iter().count(), model.len());
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(Vec<u8>, i64),
        Remove(Vec<u8>),
        Clear,
    }

    fn key() -> impl Strategy<Value = Vec<u8>> {
        // Few distinct keys (collisions, reuse), of every length class (inline and heap).
        prop_oneof![
            (0u8..40).prop_map(|i| vec![b'k', i]),
            (0u8..10).prop_map(|i| vec![i; 30]),
            (0u8..10, 0usize..24).prop_map(|(i, n)| vec![i; n]),
            Just(Vec::new()),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            10 => (key(), any::<i64>()).prop_map(|(k, n)| Op::Insert(k, n)),
            6 => key().prop_map(Op::Remove),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_hash_map(ops in proptest::collection::vec(op(), 0..400)) {
            let mut m = KeyMap::default();
            let mut model: HashMap<Vec<u8>, Entry> = HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, n) => {
                        prop_assert_eq!(m.insert(&k, entry(n)), model.insert(k, entry(n)));
                    }
                    Op::Remove(k) => prop_assert_eq!(m.remove(&k), model.remove(&k)),
                    Op::Clear => {
                        m.clear();
                        model.clear();
                    }
                }
                prop_assert_eq!(m.len, model.len());
                for (k, e) in &model {
                    prop_assert_eq!(m.get(k), Some(e));
                }
                for i in 0u8..40 {
                    let k = vec![b'k', i];
                    prop_assert_eq!(m.get(&k), model.get(&k));
                }
                let mut seen: Vec<(Vec<u8>, Entry)> =
                    m.iter().map(|(k, e)| (k.to_vec(), e.clone())).collect();
                seen.sort_by(|a, b| a.0.cmp(&b.0));
                let mut want: Vec<(Vec<u8>, Entry)> = model.clone().into_iter().collect();
                want.sort_by(|a, b| a.0.cmp(&b.0));
                prop_assert_eq!(seen, want);
            }
        }
    }
}
