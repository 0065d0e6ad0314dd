/*!
The analyzer's hash index: [`KeyIndex`] maps a key's hash to the ids stored under it (the
analysis' mapped keys, node, db and bytes, are looked up through it), and [`Interner`] builds
byte strings → dense ids on it (interned projections, row identities).

Every Redis command of a trace looks its key up here, and the keys are spread over the whole
data set, so the cost is cache misses, not instructions. A bucket is one `u64` (the hash's top 32
bits beside the id), the table stays at most half full, and the key itself is compared where the
caller keeps it (inline, [`InlineKey`](cachetape_base::InlineKey), in the entry the lookup is
about to touch anyway): one miss on the bucket, one on the entry, where a map of boxed keys would
add one on each key's allocation. Entries are never removed.

The hash has no seed, so everything is deterministic; nothing iterates the table.
*/

/// A fixed (unseeded) hash of a key on a node and db: the fake store's key hash with the node and
/// db mixed in.
#[inline]
pub(crate) fn hash(source: u16, db: u32, key: &[u8]) -> u64 {
    cachetape_replayer::key_hash(((source as u64) << 48) ^ ((db as u64) << 16), key)
}

/// Hash → id, open addressing with linear probing.
#[derive(Default)]
pub(crate) struct KeyIndex {
    /// `0` empty, else the hash's top 32 bits above `id + 1`.
    slots: Vec<u64>,
    len: usize,
}

impl KeyIndex {
    #[inline]
    fn home(&self, tag: u64) -> usize {
        tag as usize & (self.slots.len() - 1)
    }

    /// The id whose key `is` accepts among those stored under `h`.
    #[inline]
    pub(crate) fn find(&self, h: u64, mut is: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let tag = h >> 32;
        let mask = self.slots.len() - 1;
        let mut i = self.home(tag);
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if s >> 32 == tag {
                let id = (s as u32).wrapping_sub(1);
                if is(id) {
                    return Some(id);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Starts loading the bucket where a lookup of `h` begins.
    #[inline]
    pub(crate) fn prefetch(&self, h: u64) {
        if !self.slots.is_empty() {
            cachetape_base::prefetch(&self.slots[self.home(h >> 32)]);
        }
    }

    /// The first id stored under `h`'s tag, without comparing keys (a guess, for prefetching).
    #[inline]
    pub(crate) fn candidate(&self, h: u64) -> Option<u32> {
        self.find(h, |_| true)
    }

    /// Adds `id` under `h` (its key must not be present yet).
    pub(crate) fn insert(&mut self, h: u64, id: u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        self.put((h >> 32) << 32 | (id as u64 + 1));
        self.len += 1;
    }

    fn put(&mut self, slot: u64) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(slot >> 32);
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![0; n]);
        for s in old.into_iter().filter(|&s| s != 0) {
            self.put(s);
        }
    }
}

/// Byte strings → dense ids (0, 1, …), each stored once in one arena: a lookup allocates
/// nothing and compares against the arena (no pointer per entry to chase).
#[derive(Default)]
pub(crate) struct Interner {
    index: KeyIndex,
    bytes: Vec<u8>,
    /// Where each id's bytes end in `bytes` (they start where the previous id's end).
    ends: Vec<usize>,
}

impl Interner {
    /// The bytes of `id`.
    #[inline]
    pub(crate) fn get(&self, id: u32) -> &[u8] {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// The id of `b`, and whether it was new.
    #[inline]
    pub(crate) fn intern(&mut self, b: &[u8]) -> (u32, bool) {
        let h = hash(0, 0, b);
        if let Some(id) = self.index.find(h, |id| self.get(id) == b) {
            return (id, false);
        }
        let id = self.ends.len() as u32;
        self.bytes.extend_from_slice(b);
        self.ends.push(self.bytes.len());
        self.index.insert(h, id);
        (id, true)
    }

    /// Number of ids.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachetape_base::InlineKey;

    #[test]
    fn finds_what_was_inserted_and_nothing_else() {
        let keys: Vec<Vec<u8>> = (0..5_000)
            .map(|i| format!("order:{i}").into_bytes())
            .chain((0..50).map(|i| vec![b'x'; i]))
            .collect();
        let mut index = KeyIndex::default();
        for (i, k) in keys.iter().enumerate() {
            let h = hash(0, 0, k);
            assert_eq!(index.find(h, |id| keys[id as usize] == *k), None);
            index.insert(h, i as u32);
        }
        for (i, k) in keys.iter().enumerate() {
            let h = hash(0, 0, k);
            assert_eq!(index.find(h, |id| keys[id as usize] == *k), Some(i as u32));
            // Another db or node is another key.
            assert_eq!(index.find(hash(0, 1, k), |id| keys[id as usize] == *k), None);
            assert_eq!(index.find(hash(1, 0, k), |id| keys[id as usize] == *k), None);
        }
        assert_eq!(InlineKey::new(&keys[7]).as_bytes(), &keys[7][..]);
        assert_eq!(InlineKey::new(&[b'y'; 40]).as_bytes(), &[b'y'; 40][..]);
    }

    #[test]
    fn interned_bytes_keep_their_ids() {
        let mut t = Interner::default();
        let words: Vec<Vec<u8>> =
            (0..3_000).map(|i| format!("v{}", i % 1_000).into_bytes()).collect();
        for (i, w) in words.iter().enumerate() {
            let (id, new) = t.intern(w);
            assert_eq!((id as usize, new), (i % 1_000, i < 1_000));
            assert_eq!(t.get(id), &w[..]);
        }
        assert_eq!(t.intern(b"").0, 1_000);
        assert_eq!(t.get(1_000), b"");
        assert_eq!(t.len(), 1_001);
    }

    #[test]
    fn similar_keys_spread() {
        let homes: std::collections::HashSet<u64> =
            (0..1000).map(|i| hash(0, 0, format!("order:{i}").as_bytes()) >> 32 & 1023).collect();
        assert!(homes.len() > 600, "{}", homes.len());
    }
}
