/*!
The store's key table: a [`hashbrown::HashTable`] of buckets that hold a key — inline when short
([`InlineKey`](cachetape_base::InlineKey)) — beside its [`Entry`].

Built for replay's access pattern, one command after another on keys spread over the whole data
set, where the cost is cache misses rather than instructions: a lookup reads the table's control
bytes (a 7-bit tag per bucket; small enough to stay cached) and then the one bucket whose tag
matches, where the key compares and the entry sits — no further allocation to visit for a short
key. [`KeyMap::find`] returns the bucket, so Redis's "expire if due, then access" takes one probe.

The hash ([`key_hash`]) has no seed, so everything is deterministic; iteration is in bucket
order, which depends only on the sequence of operations, and callers sort where order would show.
*/

use std::fmt;

use cachetape_base::{InlineKey as Key, half, prefetch, word};
use hashbrown::HashTable;
use hashbrown::hash_table::Entry as Slot;

use crate::prefetch::Prefetch;
use crate::value::{Entry, Value};

/// A key and its entry: one bucket of the table.
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

/// A map from key bytes to [`Entry`].
#[derive(Clone, Default)]
pub(crate) struct KeyMap {
    table: HashTable<Bucket>,
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

/// The hash of a bucket's key, for the table's rehashing.
#[inline]
fn bucket_hash(b: &Bucket) -> u64 {
    hash(b.key.as_bytes())
}

impl KeyMap {
    /// Keys present.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Where `key` is, if present.
    #[inline]
    pub fn find(&self, key: &[u8]) -> Option<Found> {
        if self.table.is_empty() {
            return None;
        }
        self.table.find_bucket_index(hash(key), |b| b.key.is(key)).map(|id| Found { id })
    }

    /// The entry in bucket `id` (from [`KeyMap::find`]).
    #[inline]
    pub fn entry(&self, id: usize) -> &Entry {
        &self.table.get_bucket(id).expect("a full bucket").entry
    }

    /// The entry in bucket `id` (from [`KeyMap::find`]), for writing.
    #[inline]
    pub fn entry_mut(&mut self, id: usize) -> &mut Entry {
        &mut self.table.get_bucket_mut(id).expect("a full bucket").entry
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
        if self.table.is_empty() {
            return;
        }
        self.prefetch_bucket_of(hash(key));
    }

    /// [`KeyMap::prefetch_bucket`] for the key whose hash is `h` (the table not empty).
    #[inline(always)]
    fn prefetch_bucket_of(&self, h: u64) {
        let Some(id) = self.table.iter_hash_buckets(h).next() else { return };
        let Some(bucket) = self.table.get_bucket(id) else { return };
        let bucket: *const Bucket = bucket;
        prefetch(bucket);
        prefetch(bucket.wrapping_byte_add(size_of::<Bucket>() - 1));
    }

    /// Starts loading what a lookup of `key` reads at `step` (see [`Prefetch`]).
    #[inline]
    pub fn prefetch(&self, key: &[u8], step: Prefetch) {
        if self.table.is_empty() {
            return;
        }
        let h = hash(key);
        match step {
            // The table does not expose where its control bytes are: reading the first group
            // of them (the start of the probe) is the nearest thing to a prefetch.
            Prefetch::Control => {
                std::hint::black_box(self.table.iter_hash_buckets(h).next());
            }
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

    /// Adds `key` (which must be absent); returns its bucket.
    pub fn insert_new(&mut self, key: &[u8], entry: Entry) -> usize {
        let bucket = Bucket { key: Key::new(key), entry };
        self.table.insert_unique(hash(key), bucket, bucket_hash).bucket_index()
    }

    /// Sets `key` to `entry`; the previous entry, if any.
    pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        match self.table.entry(hash(key), |b| b.key.is(key), bucket_hash) {
            Slot::Occupied(mut o) => Some(std::mem::replace(&mut o.get_mut().entry, entry)),
            Slot::Vacant(v) => {
                v.insert(Bucket { key: Key::new(key), entry });
                None
            }
        }
    }

    /// Removes the key [`KeyMap::find`] found; returns its entry.
    pub fn remove_found(&mut self, f: Found) -> Entry {
        let Ok(slot) = self.table.get_bucket_entry(f.id) else { panic!("a full bucket") };
        slot.remove().0.entry
    }

    /// Removes `key`; its entry, if it was present.
    #[inline]
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.find(key).map(|f| self.remove_found(f))
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.table.clear();
    }

    /// Keys and entries, in bucket order (not meaningful: sort before showing).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.table.iter().map(|b| (b.key.as_bytes(), &b.entry))
    }

    /// Entries, in bucket order.
    pub fn values(&self) -> impl Iterator<Item = &Entry> {
        self.table.iter().map(|b| &b.entry)
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
        let tags: std::collections::HashSet<u64> = keys.iter().map(|&h| h >> 57).collect();
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
            assert_eq!(m.len(), model.len());
        }
        for (k, e) in &model {
            assert_eq!(m.get(k), Some(e));
        }
        assert_eq!(m.iter().count(), model.len());
    }

    /// One operation on the map and on its model.
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
                prop_assert_eq!(m.len(), model.len());
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
