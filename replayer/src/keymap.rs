/*!
The store's key table: an open-addressing hash index over a slab of slots, each slot holding a
key — inline when short — beside its [`Entry`].

Built for replay's access pattern, one command after another on keys spread over the whole data
set, where the cost is cache misses rather than instructions. A command probes the index (8 bytes
per position, at most half full: small enough to stay cached) and then touches one slot, where the
key bytes compare and the entry sits. `std`'s map with `Arc<[u8]>` keys cost one more miss per
command on the key's own allocation, an allocation per new key, and Redis's "expire if due, then
access" pattern took two probes where [`KeyMap::find`] plus the slot id take one.

The index uses linear probing with backward-shift deletion (no tombstones); the hash has no seed,
so everything is deterministic. Iteration follows the slab (slots are reused last-freed first),
which depends only on the sequence of operations; callers sort where order would show.
*/

use std::fmt;

use crate::value::Entry;

/// Keys up to this many bytes live in the slot itself.
const INLINE: usize = 22;

/// A key's bytes: inline when short (no allocation, no pointer to chase), else on the heap.
#[derive(Clone)]
enum Key {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Key {
    #[inline]
    fn new(key: &[u8]) -> Key {
        if key.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..key.len()].copy_from_slice(key);
            Key::Inline { len: key.len() as u8, bytes }
        } else {
            Key::Heap(key.into())
        }
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..*len as usize],
            Key::Heap(b) => b,
        }
    }
}

#[derive(Clone)]
struct Slot {
    key: Key,
    entry: Entry,
}

/// Where [`KeyMap::find`] found a key: its index position and its slot. Valid until the map is
/// next changed by an insertion or removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pos: usize,
    /// The slot: pass to [`KeyMap::entry`] / [`KeyMap::entry_mut`].
    pub id: usize,
}

/// A map from key bytes to [`Entry`].
#[derive(Clone, Default)]
pub(crate) struct KeyMap {
    /// `0` for an empty position, else the hash's high 32 bits over `slot id + 1`. A power of
    /// two long (or empty), at most half full.
    index: Vec<u64>,
    /// `64 - log2(index.len())`: a hash's home position is `hash >> shift`.
    shift: u32,
    slots: Vec<Option<Slot>>,
    /// Empty slots, reused last-freed first.
    free: Vec<u32>,
    len: usize,
}

const K1: u64 = 0x9e37_79b9_7f4a_7c15;
const K2: u64 = 0xd6e8_feb8_6659_fd93;

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

/// A fixed (unseeded) hash with well-mixed high bits, which pick the position.
#[inline]
fn hash(key: &[u8]) -> u64 {
    let n = key.len();
    let mut h = K2 ^ n as u64;
    if n >= 8 {
        let mut at = 0;
        while at + 8 <= n {
            h = fold(h ^ word(key, at), K1);
            at += 8;
        }
        if at < n {
            h = fold(h ^ word(key, n - 8), K1);
        }
    } else if n >= 4 {
        h = fold(h ^ (half(key, 0) << 32 | half(key, n - 4)), K1);
    } else if n > 0 {
        let w = (key[0] as u64) << 16 | (key[n / 2] as u64) << 8 | key[n - 1] as u64;
        h = fold(h ^ w, K1);
    }
    fold(h, K2)
}

impl KeyMap {
    /// Where `key` is, if present.
    #[inline]
    pub fn find(&self, key: &[u8]) -> Option<Found> {
        if self.len == 0 {
            return None;
        }
        let h = hash(key);
        let mask = self.index.len() - 1;
        let mut pos = (h >> self.shift) as usize;
        loop {
            let s = self.index[pos];
            if s == 0 {
                return None;
            }
            if s >> 32 == h >> 32 {
                let id = (s as u32 - 1) as usize;
                if let Some(slot) = &self.slots[id]
                    && slot.key.as_bytes() == key
                {
                    return Some(Found { pos, id });
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    /// The entry in slot `id` (from [`KeyMap::find`]).
    #[inline]
    pub fn entry(&self, id: usize) -> &Entry {
        &self.slots[id].as_ref().expect("a live slot").entry
    }

    /// The entry in slot `id` (from [`KeyMap::find`]), for writing.
    #[inline]
    pub fn entry_mut(&mut self, id: usize) -> &mut Entry {
        &mut self.slots[id].as_mut().expect("a live slot").entry
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

    /// Adds `key` (which must be absent); returns its slot id.
    pub fn insert_new(&mut self, key: &[u8], entry: Entry) -> usize {
        if (self.len + 1) * 2 > self.index.len() {
            self.grow();
        }
        let slot = Some(Slot { key: Key::new(key), entry });
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = slot;
                id as usize
            }
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        };
        self.place(hash(key), id);
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
        let slot = self.slots[f.id].take().expect("a live slot");
        self.free.push(f.id as u32);
        self.len -= 1;
        // Backward-shift deletion: pull later members of the cluster into the hole when the
        // hole lies between their home and where they sit.
        let mask = self.index.len() - 1;
        let mut hole = f.pos;
        let mut q = (hole + 1) & mask;
        loop {
            let s = self.index[q];
            if s == 0 {
                break;
            }
            let home = (s >> self.shift) as usize;
            if q.wrapping_sub(home) & mask >= q.wrapping_sub(hole) & mask {
                self.index[hole] = s;
                hole = q;
            }
            q = (q + 1) & mask;
        }
        self.index[hole] = 0;
        slot.entry
    }

    /// Removes `key`; its entry, if it was present.
    #[inline]
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.find(key).map(|f| self.remove_found(f))
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        if self.slots.is_empty() {
            return;
        }
        self.index.fill(0);
        self.slots.clear();
        self.free.clear();
        self.len = 0;
    }

    /// Keys and entries, in slab order (not meaningful: sort before showing).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.slots.iter().flatten().map(|s| (s.key.as_bytes(), &s.entry))
    }

    /// Entries, in slab order.
    pub fn values(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().flatten().map(|s| &s.entry)
    }

    fn place(&mut self, h: u64, id: usize) {
        let mask = self.index.len() - 1;
        let mut pos = (h >> self.shift) as usize;
        while self.index[pos] != 0 {
            pos = (pos + 1) & mask;
        }
        self.index[pos] = (h >> 32 << 32) | (id as u64 + 1);
    }

    fn grow(&mut self) {
        let cap = (self.index.len() * 2).max(16);
        assert!(cap <= 1 << 32, "more than 2^31 keys in one database");
        self.index = vec![0; cap];
        self.shift = 64 - cap.trailing_zeros();
        for id in 0..self.slots.len() {
            if let Some(slot) = &self.slots[id] {
                let h = hash(slot.key.as_bytes());
                self.place(h, id);
            }
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
        // Keys that differ in one digit land all over the table (the high bits differ).
        let homes: std::collections::HashSet<u64> =
            (0..1000).map(|i| hash(format!("order:{i}").as_bytes()) >> 54).collect();
        assert!(homes.len() > 600, "{}", homes.len());
        assert_ne!(hash(b""), hash(b"\0"));
        assert_ne!(hash(b"abcdefgh"), hash(b"abcdefgh\0"));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(Vec<u8>, i64),
        Remove(Vec<u8>),
        Clear,
    }

    fn key() -> impl Strategy<Value = Vec<u8>> {
        // Few distinct keys (collisions, reuse), short and long (inline and heap).
        prop_oneof![
            (0u8..40).prop_map(|i| vec![b'k', i]),
            (0u8..10).prop_map(|i| vec![i; 30]),
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
