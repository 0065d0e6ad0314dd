/*!
What a replay did and what it could not know: the [`ReplayReport`] (counts, unmodelled commands
by name, keys and databases left unknown, notes where the replay disagrees with the trace) and
the running [`Counts`] it is made from.
*/

use std::collections::BTreeMap;

use cachetape_base::FxHashMap;
use cachetape_tape::{ArgvRef, SourceId, commands};

/// What a replay counted so far, for its [`ReplayReport`].
#[derive(Default)]
pub(super) struct Counts {
    pub events: u64,
    pub commands: u64,
    pub script_calls: u64,
    pub unknown_replies: u64,
    pub unmodelled: FxHashMap<String, u64>,
    pub snapshots: u64,
    pub gaps: u64,
    pub evictions: u64,
    pub notes: Vec<String>,
    pub more_notes: u64,
}

impl Counts {
    /// Keeps a note (the first 50; the rest are counted).
    pub fn note(&mut self, text: String) {
        if self.notes.len() < 50 {
            self.notes.push(text);
        } else {
            self.more_notes += 1;
        }
    }

    /// Counts a command the store does not model, by Redis's name for it.
    pub fn unmodelled(&mut self, argv: &ArgvRef<'_>) {
        let name = match commands::lookup_ref(argv) {
            Some(spec) => spec.name.replace('|', " "),
            None => String::from_utf8_lossy(argv.name()).to_ascii_lowercase(),
        };
        *self.unmodelled.entry(name).or_insert(0) += 1;
    }
}

/// A key left unknown at the end of a replay.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnknownKey {
    /// The Redis source (node).
    pub source: SourceId,
    /// Database index.
    pub db: u32,
    /// The key.
    pub key: Vec<u8>,
}

/// What a replay did and what it could not know.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplayReport {
    /// Events applied.
    pub events: u64,
    /// Redis command lines replayed (a script's `[lua]` lines are counted in `script_calls`).
    pub commands: u64,
    /// Commands run by scripts.
    pub script_calls: u64,
    /// Commands whose reply the store could not compute.
    pub unknown_replies: u64,
    /// Commands the store does not model, by name, sorted.
    pub unmodelled: BTreeMap<String, u64>,
    /// Keys unknown at the end (written by unmodelled commands and not overwritten since).
    pub unknown_keys: Vec<UnknownKey>,
    /// Databases whose keys all became unknown (a gap, or a command that may touch any key).
    pub unknown_databases: Vec<(SourceId, u32)>,
    /// Writes the store did not materialise because they would have passed its bound
    /// ([`MAX_PADDING`](crate::MAX_PADDING) bytes of SETRANGE zero fill): their keys became
    /// unknown.
    pub unmaterialised: u64,
    /// Snapshot events applied.
    pub snapshots: u64,
    /// Gaps in a Redis source.
    pub gaps: u64,
    /// Keys reported evicted (made unknown).
    pub evictions: u64,
    /// Where the replay disagrees with itself or the trace (first 50).
    pub notes: Vec<String>,
    /// Notes beyond the first 50.
    pub more_notes: u64,
}
