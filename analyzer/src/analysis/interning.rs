/*!
The analysis' ids for keys and clients: [`MappedKeys`] gives every mapped key (node, db, bytes) a
dense id, [`Clients`] every client name, each in order of first sight. Both live with the
replaying front (`observer.rs`), which looks every key and client up once, where
the command's bytes are still in the cache; the judge only ever sees the ids, introduced to it
through [`Observations`].

Keys no rule maps get no id ([`NO_KEY`]), so they cost no memory. Entries are never removed.
*/

use std::collections::HashMap;
use std::sync::Arc;

use cachetape_base::{FxBuild, InlineKey};
use cachetape_tape::{Name, SourceId};

use super::observations::{NO_KEY, NewKey, Observations};
use crate::keyindex::{self, KeyIndex};
use crate::mapping::Mapping;

/// One mapped key.
struct MappedKey {
    source: SourceId,
    db: u32,
    rule: u16,
    name: InlineKey,
}

/// Mapped keys (node, db, bytes) → dense ids.
pub(crate) struct MappedKeys {
    mapping: Mapping,
    /// Each source's name, as the mapping's node patterns see it.
    nodes: Vec<String>,
    index: KeyIndex,
    keys: Vec<MappedKey>,
}

impl MappedKeys {
    /// No keys yet, under `mapping`; `nodes` names each source.
    pub(crate) fn new(mapping: Mapping, nodes: Vec<String>) -> MappedKeys {
        MappedKeys { mapping, nodes, index: KeyIndex::default(), keys: Vec::new() }
    }

    /// The mapping.
    pub(crate) fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// The hash a lookup of `key` (on `source`, `db`) starts from.
    #[inline]
    pub(crate) fn hash(source: SourceId, db: u32, key: &[u8]) -> u64 {
        keyindex::hash(source.0, db, key)
    }

    /// Starts loading the index bucket of a key hashed `h` or, once that is cached (`near`), the
    /// entry it names.
    #[inline]
    pub(crate) fn prefetch(&self, h: u64, near: bool) {
        if !near {
            self.index.prefetch(h);
        } else if let Some(id) = self.index.candidate(h)
            && let Some(entry) = self.keys.get(id as usize)
        {
            cachetape_base::prefetch(entry);
        }
    }

    /// The id of a key seen before (hashed `h`), if any.
    #[inline]
    pub(crate) fn find(&self, h: u64, source: SourceId, db: u32, key: &[u8]) -> Option<u32> {
        let keys = &self.keys;
        self.index.find(h, |id| {
            let k = &keys[id as usize];
            k.name.as_bytes() == key && k.source == source && k.db == db
        })
    }

    /// The id of `key` (hashed `h`), given on first sight and introduced in `out`; [`NO_KEY`]
    /// when no rule maps it.
    #[inline]
    pub(crate) fn intern(
        &mut self,
        h: u64,
        source: SourceId,
        db: u32,
        key: &[u8],
        out: &mut Observations,
    ) -> u32 {
        match self.find(h, source, db, key) {
            Some(id) => id,
            None => self.add(h, source, db, key, out),
        }
    }

    #[inline(never)]
    fn add(
        &mut self,
        h: u64,
        source: SourceId,
        db: u32,
        key: &[u8],
        out: &mut Observations,
    ) -> u32 {
        let node = self.nodes.get(source.0 as usize).map_or("?", String::as_str);
        let mut holes = Vec::new();
        let Some(rule) = self.mapping.find(node, db, key, &mut holes) else { return NO_KEY };
        let start = out.holes.len();
        let at = key.as_ptr() as usize;
        out.holes.extend(holes.iter().map(|h| {
            let from = (h.as_ptr() as usize - at) as u32;
            from..from + h.len() as u32
        }));
        let name = InlineKey::new(key);
        let holes = start..out.holes.len();
        out.new_keys.push(NewKey { source, db, rule: rule as u16, name: name.clone(), holes });
        let id = self.keys.len() as u32;
        self.keys.push(MappedKey { source, db, rule: rule as u16, name });
        self.index.insert(h, id);
        id
    }

    /// The rule that maps key `id`.
    pub(crate) fn rule(&self, id: u32) -> u16 {
        self.keys[id as usize].rule
    }
}

/// The client cache has 2^this entries.
const CLIENT_CACHE_BITS: u32 = 8;

/// Client names → dense ids.
pub(crate) struct Clients {
    ids: HashMap<Name, u32, FxBuild>,
    /// Recent names by address. The reader shares one `Arc` per name within a frame, so most
    /// lookups are one pointer compare; the cached clone keeps the address from being reused by
    /// another name.
    cache: Vec<Option<(Name, u32)>>,
}

impl Default for Clients {
    fn default() -> Self {
        Clients { ids: HashMap::default(), cache: vec![None; 1 << CLIENT_CACHE_BITS] }
    }
}

impl Clients {
    /// The id of client `name`; a new client's name is added to `new`.
    #[inline]
    pub(crate) fn id(&mut self, name: &Name, new: &mut Vec<Name>) -> u32 {
        let at = (Arc::as_ptr(name) as *const u8 as usize).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let i = at >> (usize::BITS - CLIENT_CACHE_BITS);
        if let Some((n, c)) = &self.cache[i]
            && Arc::ptr_eq(n, name)
        {
            return *c;
        }
        let next = self.ids.len() as u32;
        let c = *self.ids.entry(name.clone()).or_insert_with(|| {
            new.push(name.clone());
            next
        });
        self.cache[i] = Some((name.clone(), c));
        c
    }
}
