/*!
[`InlineKey`]: a Redis key's bytes, stored inline when short. Key tables (the fake store's, the
analyzer's) are bound by cache misses; a short key kept in the table's own slot costs no
allocation and no pointer to chase, and compares with a few word loads.
*/

/// Keys up to this many bytes are stored inline.
pub const INLINE: usize = 22;

/// A key's bytes: inline when at most [`INLINE`] bytes, else on the heap.
#[derive(Clone)]
pub enum InlineKey {
    /// A short key, in place.
    Inline {
        /// Its length.
        len: u8,
        /// Its bytes, zero-padded.
        bytes: [u8; INLINE],
    },
    /// A long key.
    Heap(Box<[u8]>),
}

impl InlineKey {
    /// The key `key`.
    #[inline]
    pub fn new(key: &[u8]) -> InlineKey {
        let n = key.len();
        if n > INLINE {
            return InlineKey::Heap(key.into());
        }
        let mut bytes = [0; INLINE];
        // Overlapping word copies instead of a variable-length `memcpy` call.
        if n >= 8 {
            bytes[..8].copy_from_slice(&key[..8]);
            if n > 16 {
                bytes[8..16].copy_from_slice(&key[8..16]);
            }
            bytes[n - 8..n].copy_from_slice(&key[n - 8..]);
        } else if n >= 4 {
            bytes[..4].copy_from_slice(&key[..4]);
            bytes[n - 4..n].copy_from_slice(&key[n - 4..]);
        } else {
            for (b, k) in bytes.iter_mut().zip(key) {
                *b = *k;
            }
        }
        InlineKey::Inline { len: n as u8, bytes }
    }

    /// The key's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            InlineKey::Inline { len, bytes } => &bytes[..*len as usize],
            InlineKey::Heap(b) => b,
        }
    }

    /// True when the key is `key`.
    #[inline]
    pub fn is(&self, key: &[u8]) -> bool {
        match self {
            InlineKey::Inline { len, bytes } => {
                *len as usize == key.len() && short_eq(&bytes[..key.len()], key)
            }
            InlineKey::Heap(b) => **b == *key,
        }
    }
}

impl std::fmt::Debug for InlineKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InlineKey({:?})", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// `a == b` for equally long slices of at most 24 bytes, by overlapping word compares.
#[inline]
fn short_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    debug_assert!(n == b.len() && n <= 24);
    if n >= 8 {
        word(a, 0) == word(b, 0)
            && word(a, n - 8) == word(b, n - 8)
            && (n <= 16 || word(a, 8) == word(b, 8))
    } else if n >= 4 {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        a == b
    }
}

/// The eight bytes of `b` at `at`, little-endian: short keys are compared and hashed a word at a
/// time.
#[inline]
pub fn word(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The four bytes of `b` at `at`, little-endian, as a `u64`.
#[inline]
pub fn half(b: &[u8], at: usize) -> u64 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")) as u64
}

#[cfg(test)]
mod tests {
    use super::{INLINE, InlineKey};

    #[test]
    fn every_length_round_trips_and_compares() {
        for n in 0..=40 {
            let key: Vec<u8> = (0..n as u8).map(|i| b'a' + i % 26).collect();
            let k = InlineKey::new(&key);
            assert_eq!(k.as_bytes(), &key[..]);
            assert!(k.is(&key));
            assert_eq!(matches!(k, InlineKey::Inline { .. }), n <= INLINE);
            if n > 0 {
                let mut other = key.clone();
                for i in 0..n {
                    other[i] ^= 1;
                    assert!(!k.is(&other), "length {n}, byte {i}");
                    other[i] ^= 1;
                }
                assert!(!k.is(&key[..n - 1]));
            }
        }
    }
}
