/*!
What the store holds for a key: [`Entry`] (a [`Value`] and its expiry) and the five Redis types.

Each type keeps the order real Redis 7.0 would reply in where that order is deterministic: a hash
in listpack encoding (≤ 128 fields, fields and values ≤ 64 bytes) replies in insertion order, a
set of integers in intset encoding (≤ 512 members) in numeric order, a list in list order, a
sorted set by (score, member). Where Redis's order depends on its randomly seeded dict (a hash or
set that outgrew its compact encoding), the store answers in byte order and says nothing stronger.
The encodings are tracked exactly like Redis converts them (never back), so which case applies is
known. A string shorter than [`StringValue::INLINE`] bytes is kept inline — no allocation, and
no second cache miss when a command reaches it — and longer ones share their bytes ([`Bytes`]).
*/

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::fmt;
use std::ops::Deref;

use crate::number::parse_i64;
use crate::reply::Bytes;
use cachetape_base::{FxHashMap, FxHashSet};

/// Milliseconds since the Unix epoch (Redis's expiry resolution).
pub type Millis = i64;

/// A key's value and expiry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// When the key expires (ms since the epoch); `None` for no expiry.
    pub expires_at: Option<Millis>,
}

impl Entry {
    /// A value without expiry.
    pub fn new(value: Value) -> Entry {
        Entry { value, expires_at: None }
    }

    /// Redis's `keyIsExpired`: expired when `now > expires_at`.
    #[inline]
    pub fn is_expired(&self, now: Millis) -> bool {
        matches!(self.expires_at, Some(t) if now > t)
    }
}

/// A Redis value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string.
    String(StringValue),
    /// A hash.
    Hash(HashValue),
    /// A list, head first.
    List(VecDeque<Bytes>),
    /// A set.
    Set(SetValue),
    /// A sorted set.
    ZSet(ZSetValue),
}

impl Value {
    /// The name TYPE answers with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }
}

/// A string value's bytes: inline up to [`StringValue::INLINE`] bytes, shared beyond (or owned
/// with room to grow, once APPEND or SETRANGE has edited a long string).
///
/// Reads go through `Deref<Target = [u8]>`; [`StringValue::to_bytes`] gives the shared bytes a
/// [`Reply::Bulk`](crate::Reply::Bulk) holds.
#[derive(Clone)]
pub struct StringValue(Repr);

/// Where a [`StringValue`]'s bytes are: in the entry itself, or shared.
#[derive(Clone)]
enum Repr {
    Inline {
        len: u8,
        bytes: [u8; StringValue::INLINE],
    },
    Shared(Bytes),
    /// A long string APPEND or SETRANGE edited: owned, with spare capacity, so a loop of
    /// APPENDs grows it in amortised constant time per byte instead of copying it each time.
    Owned(Vec<u8>),
}

impl StringValue {
    /// Strings up to this many bytes are stored inline (most cached values: counters, flags,
    /// ids, small JSON).
    pub const INLINE: usize = 46;

    /// A string with these bytes.
    #[inline]
    pub fn new(bytes: &[u8]) -> StringValue {
        if bytes.len() <= Self::INLINE {
            let mut inline = [0; Self::INLINE];
            copy_short(&mut inline, bytes);
            StringValue(Repr::Inline { len: bytes.len() as u8, bytes: inline })
        } else {
            StringValue(Repr::Shared(Bytes::from(bytes)))
        }
    }

    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..*len as usize],
            Repr::Shared(b) => b,
            Repr::Owned(v) => v,
        }
    }

    /// True when the bytes are shared (longer than [`StringValue::INLINE`]).
    #[inline]
    pub(crate) fn is_shared(&self) -> bool {
        matches!(self.0, Repr::Shared(_))
    }

    /// The bytes as shared bytes (a reference-count bump for shared bytes, a copy else).
    #[inline]
    pub fn to_bytes(&self) -> Bytes {
        match &self.0 {
            Repr::Inline { len, bytes } => Bytes::from(&bytes[..*len as usize]),
            Repr::Shared(b) => b.clone(),
            Repr::Owned(v) => Bytes::from(&v[..]),
        }
    }

    /// Edits the bytes as a vector: a shared string is copied once and then owned, so further
    /// APPENDs and SETRANGEs on it cost the bytes they write, not a copy of the whole string.
    pub(crate) fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        let empty = Repr::Inline { len: 0, bytes: [0; Self::INLINE] };
        let mut v = match std::mem::replace(&mut self.0, empty) {
            Repr::Inline { len, bytes } => bytes[..len as usize].to_vec(),
            Repr::Shared(b) => b.to_vec(),
            Repr::Owned(v) => v,
        };
        let r = f(&mut v);
        *self = if v.len() <= Self::INLINE {
            StringValue::new(&v)
        } else {
            StringValue(Repr::Owned(v))
        };
        r
    }

    /// Replaces the bytes, in place when both fit inline.
    #[inline]
    pub(crate) fn set(&mut self, new: &[u8]) {
        match &mut self.0 {
            Repr::Inline { len, bytes } if new.len() <= Self::INLINE => {
                copy_short(bytes, new);
                *len = new.len() as u8;
            }
            _ => *self = StringValue::new(new),
        }
    }
}

/// Copies `src` (at most [`StringValue::INLINE`] bytes) to the front of `dst` by overlapping
/// fixed-size moves instead of a variable-length `memcpy` call.
#[inline]
fn copy_short(dst: &mut [u8; StringValue::INLINE], src: &[u8]) {
    let n = src.len();
    if n >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
        if n > 32 {
            dst[16..32].copy_from_slice(&src[16..32]);
        }
        dst[n - 16..n].copy_from_slice(&src[n - 16..]);
    } else if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..n].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..n].copy_from_slice(&src[n - 4..]);
    } else {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    }
}

impl Deref for StringValue {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<&[u8]> for StringValue {
    fn from(bytes: &[u8]) -> StringValue {
        StringValue::new(bytes)
    }
}

impl From<Vec<u8>> for StringValue {
    fn from(bytes: Vec<u8>) -> StringValue {
        if bytes.len() <= Self::INLINE {
            StringValue::new(&bytes)
        } else {
            StringValue(Repr::Shared(Bytes::from(bytes)))
        }
    }
}

impl From<Bytes> for StringValue {
    fn from(bytes: Bytes) -> StringValue {
        if bytes.len() <= Self::INLINE {
            StringValue::new(&bytes)
        } else {
            StringValue(Repr::Shared(bytes))
        }
    }
}

impl PartialEq for StringValue {
    fn eq(&self, other: &StringValue) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for StringValue {}

/// Shows the bytes as `[u8]` does (the same output as the shared bytes it replaced).
impl fmt::Debug for StringValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_bytes(), f)
    }
}

/// Redis's `hash-max-listpack-entries`.
pub const HASH_MAX_LISTPACK_ENTRIES: usize = 128;
/// Redis's `hash-max-listpack-value`.
pub const HASH_MAX_LISTPACK_VALUE: usize = 64;
/// Redis's `set-max-intset-entries`.
pub const SET_MAX_INTSET_ENTRIES: usize = 512;

/// A hash: listpack (insertion order, as Redis replies) or hash table (no meaningful order).
#[derive(Clone, Debug, PartialEq)]
pub enum HashValue {
    /// Small: fields in insertion order.
    Listpack(Vec<(Bytes, Bytes)>),
    /// Converted: Redis's order is its dict's, which is randomly seeded.
    Table(FxHashMap<Bytes, Bytes>),
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::Listpack(Vec::new())
    }
}

impl HashValue {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            HashValue::Listpack(v) => v.len(),
            HashValue::Table(m) => m.len(),
        }
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&Bytes> {
        match self {
            HashValue::Listpack(v) => v.iter().find(|(f, _)| &f[..] == field).map(|(_, v)| v),
            HashValue::Table(m) => m.get(field),
        }
    }

    /// Converts to a table when an argument is longer than the listpack limit (Redis's
    /// `hashTypeTryConversion`).
    pub(crate) fn try_conversion<'a>(&mut self, args: impl IntoIterator<Item = &'a [u8]>) {
        if matches!(self, HashValue::Listpack(_))
            && args.into_iter().any(|a| a.len() > HASH_MAX_LISTPACK_VALUE)
        {
            self.convert();
        }
    }

    fn convert(&mut self) {
        if let HashValue::Listpack(v) = self {
            let map = std::mem::take(v).into_iter().collect();
            *self = HashValue::Table(map);
        }
    }

    /// Sets `field`; true when it is new.
    pub fn set(&mut self, field: &[u8], value: Bytes) -> bool {
        let created = match self {
            HashValue::Listpack(v) => match v.iter_mut().find(|(f, _)| &f[..] == field) {
                Some(slot) => {
                    slot.1 = value;
                    false
                }
                None => {
                    v.push((Bytes::from(field), value));
                    true
                }
            },
            HashValue::Table(m) => match m.get_mut(field) {
                Some(slot) => {
                    *slot = value;
                    false
                }
                None => {
                    m.insert(Bytes::from(field), value);
                    true
                }
            },
        };
        if self.len() > HASH_MAX_LISTPACK_ENTRIES {
            self.convert();
        }
        created
    }

    /// Removes `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Listpack(v) => match v.iter().position(|(f, _)| &f[..] == field) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            HashValue::Table(m) => m.remove(field).is_some(),
        }
    }

    /// Fields and values in reply order (insertion order; byte order for a table).
    pub fn pairs(&self) -> Vec<(Bytes, Bytes)> {
        match self {
            HashValue::Listpack(v) => v.clone(),
            HashValue::Table(m) => {
                let mut v: Vec<(Bytes, Bytes)> =
                    m.iter().map(|(f, v)| (f.clone(), v.clone())).collect();
                v.sort();
                v
            }
        }
    }

    /// True when Redis's reply order is insertion order (listpack encoding).
    pub fn order_is_exact(&self) -> bool {
        matches!(self, HashValue::Listpack(_))
    }
}

/// A collection `HDEL`/`SREM`/`ZREM` remove members from.
pub(crate) trait Members {
    /// Removes `m`; true when it was there.
    fn remove_member(&mut self, m: &[u8]) -> bool;
    /// True when nothing is left (the key must then be deleted).
    fn is_drained(&self) -> bool;
}

impl Members for HashValue {
    fn remove_member(&mut self, m: &[u8]) -> bool {
        self.remove(m)
    }
    fn is_drained(&self) -> bool {
        self.is_empty()
    }
}

impl Members for SetValue {
    fn remove_member(&mut self, m: &[u8]) -> bool {
        self.remove(m)
    }
    fn is_drained(&self) -> bool {
        self.is_empty()
    }
}

impl Members for ZSetValue {
    fn remove_member(&mut self, m: &[u8]) -> bool {
        self.remove(m)
    }
    fn is_drained(&self) -> bool {
        self.is_empty()
    }
}

/// A set: intset (only integers, replied in numeric order) or hash table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SetValue {
    members: FxHashSet<Bytes>,
    intset: bool,
}

impl SetValue {
    /// An empty set with the encoding Redis picks for a first member (`setTypeCreate`).
    pub fn for_first(member: &[u8]) -> SetValue {
        SetValue { members: FxHashSet::default(), intset: parse_i64(member).is_some() }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Membership.
    pub fn contains(&self, m: &[u8]) -> bool {
        self.members.contains(m)
    }

    /// Adds; true when new.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        if self.members.contains(m) {
            return false;
        }
        if self.intset && parse_i64(m).is_none() {
            self.intset = false;
        }
        self.members.insert(Bytes::from(m));
        if self.intset && self.members.len() > SET_MAX_INTSET_ENTRIES {
            self.intset = false;
        }
        true
    }

    /// Removes; true when it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        self.members.remove(m)
    }

    /// Members in reply order: numeric for an intset (exact), else byte order.
    pub fn members(&self) -> Vec<Bytes> {
        let mut v: Vec<Bytes> = self.members.iter().cloned().collect();
        if self.intset {
            v.sort_by_key(|m| parse_i64(m).unwrap_or(0));
        } else {
            v.sort();
        }
        v
    }

    /// True when Redis's reply order is known (intset encoding).
    pub fn order_is_exact(&self) -> bool {
        self.intset
    }
}

/// A sorted set, kept ordered by (score, member) as Redis orders it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSetValue {
    items: Vec<(f64, Bytes)>,
}

fn zcmp(a: &(f64, Bytes), score: f64, member: &[u8]) -> Ordering {
    if a.0 < score {
        Ordering::Less
    } else if a.0 > score {
        Ordering::Greater
    } else {
        a.1[..].cmp(member)
    }
}

impl ZSetValue {
    /// Number of members.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.items.iter().find(|(_, m)| &m[..] == member).map(|(s, _)| *s)
    }

    /// Inserts or moves `member` to `score`.
    pub fn set(&mut self, member: &[u8], score: f64) {
        let bytes = match self.items.iter().position(|(_, m)| &m[..] == member) {
            Some(i) => self.items.remove(i).1,
            None => Bytes::from(member),
        };
        let at = self.items.partition_point(|a| zcmp(a, score, member) == Ordering::Less);
        self.items.insert(at, (score, bytes));
    }

    /// Removes; true when it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.items.iter().position(|(_, m)| &m[..] == member) {
            Some(i) => {
                self.items.remove(i);
                true
            }
            None => false,
        }
    }

    /// Members in order, with scores.
    pub fn items(&self) -> &[(f64, Bytes)] {
        &self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_inline_or_shared_are_the_same_bytes() {
        let short = vec![7u8; StringValue::INLINE];
        let long = vec![9u8; StringValue::INLINE + 1];
        for bytes in [&b""[..], b"v", &short, &long] {
            let from_slice = StringValue::new(bytes);
            let shared = StringValue::from(Bytes::from(bytes));
            let owned = StringValue::from(bytes.to_vec());
            assert_eq!(&*from_slice, bytes);
            assert_eq!(from_slice, shared);
            assert_eq!(from_slice, owned);
            assert_eq!(&from_slice.to_bytes()[..], bytes);
            assert_eq!(format!("{from_slice:?}"), format!("{:?}", Bytes::from(bytes)));
        }
        assert!(matches!(StringValue::new(&short).0, Repr::Inline { .. }));
        for n in 0..=StringValue::INLINE {
            let bytes: Vec<u8> = (1..=n as u8).collect();
            assert_eq!(&*StringValue::new(&bytes), &bytes[..]);
            let mut s = StringValue::new(&[0xff; StringValue::INLINE]);
            s.set(&bytes);
            assert_eq!(&*s, &bytes[..]);
        }
        assert!(matches!(StringValue::new(&long).0, Repr::Shared(_)));
        // Overwrites cross the boundary both ways.
        let mut s = StringValue::new(b"abc");
        s.set(&long);
        assert_eq!(&*s, &long[..]);
        s.set(b"xy");
        assert_eq!(&*s, b"xy");
        assert!(matches!(s.0, Repr::Inline { .. }));
        s.set(b"");
        assert!(s.is_empty());
    }
}
