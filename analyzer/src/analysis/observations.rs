/*!
[`Observations`]: what the replaying front (`observer.rs`) saw of a batch of
events, handed to the judging back (`state.rs`).

One [`Observed`] record per event. A Redis command's record carries everything the judge needs
of it — its times, its client, the reads of mapped keys with what their replies said, and the
mapped keys it may have written with what the store held of them right after — so the judge
never reads the command itself (written on another core, each of its parts would be a cache
miss). Other events (row changes, commits, probes, gaps, snapshots' values) the judge reads from
the event.

Keys and clients appear as small ids the front assigns in order of first sight. The first record
that names a key introduces it ([`NewKey`]: its node, db, bytes, rule and row), so the judge
creates the key's track exactly where it first meets it; new clients' names come with the batch.
*/

use std::ops::Range;

use cachetape_base::InlineKey;
use cachetape_replayer::{Command, KeyView, Reply};
use cachetape_tape::{Micros, Name, SourceId};

/// Events per batch.
pub(crate) const BATCH: usize = 256;
/// No mapped key.
pub(crate) const NO_KEY: u32 = u32::MAX;
/// No client.
pub(crate) const NO_CLIENT: u32 = u32::MAX;
/// A read of a whole value (not of some fields).
pub(crate) const WHOLE_VALUE: u32 = u32::MAX;

/// What kind of event a record stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A Redis command: its reads and writes are the record's.
    Command,
    /// A snapshot of the record's key ([`NO_KEY`] when unmapped); its value is in the event.
    Snapshot,
    /// A notice that the record's key was evicted.
    Evicted,
    /// Anything else: the judge reads the event.
    Other,
}

/// One event as the judge needs it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Observed {
    /// The event's sequence number.
    pub seq: u64,
    /// When the recorder received it.
    pub recv_us: Micros,
    /// A Redis command's MONITOR time.
    pub server_us: Micros,
    /// Its source.
    pub source: SourceId,
    /// What it is.
    pub kind: Kind,
    /// The command's client, when it named a mapped key ([`NO_CLIENT`] otherwise).
    pub client: u32,
    /// The first mapped key it names ([`NO_KEY`] when none): a snapshot's or an eviction's key,
    /// and for a command the key to start loading ahead.
    pub key: u32,
    /// Where its reads, writes and introduced keys end in [`Observations`]' lists (they start
    /// where the previous record's end).
    pub reads_end: u32,
    /// See `reads_end`.
    pub writes_end: u32,
    /// See `reads_end`.
    pub new_keys_end: u32,
}

/// What a read's reply says, as far as the judge cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadReply {
    /// A value.
    Hit,
    /// Nil.
    Miss,
    /// The store could not say.
    Unknown,
    /// An error: not a read.
    Error,
}

impl ReadReply {
    /// The class of a single key's reply (not an array).
    pub(crate) fn of(reply: &Reply) -> ReadReply {
        match reply {
            Reply::Error(_) => ReadReply::Error,
            Reply::Nil | Reply::NilArray => ReadReply::Miss,
            Reply::Unknown => ReadReply::Unknown,
            Reply::Array(items)
                if items.is_empty() || items.iter().all(|i| matches!(i, Reply::Nil)) =>
            {
                ReadReply::Miss
            }
            _ => ReadReply::Hit,
        }
    }
}

/// A read of a mapped key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ObservedRead {
    /// The key.
    pub key: u32,
    /// What the reply said.
    pub reply: ReadReply,
    /// For a read of some fields (HGET, HMGET), what they project to: an index into
    /// [`Observations::field_reads`]; [`WHOLE_VALUE`] for a read of the whole value.
    pub fields: u32,
}

/// What a command (or one of its script's calls) that may write left in a mapped key.
#[derive(Clone, Debug)]
pub(crate) struct ObservedWrite {
    /// The key.
    pub key: u32,
    /// The command.
    pub command: Command,
    /// It replaces the value whatever was there ([`Command::overwrites`]).
    pub unconditional: bool,
    /// What the store held of the key right after.
    pub view: KeyView,
}

/// A mapped key named for the first time.
#[derive(Clone)]
pub(crate) struct NewKey {
    /// Its node.
    pub source: SourceId,
    /// Its db.
    pub db: u32,
    /// The rule that maps it.
    pub rule: u16,
    /// Its bytes.
    pub name: InlineKey,
    /// The rule's placeholders' segments of the key (`start..end` in the key), in
    /// [`Observations::holes`].
    pub holes: Range<usize>,
}

/// What the front saw of a batch of events: one [`Observed`] per event, in order, and the lists
/// their ranges point into.
#[derive(Default)]
pub(crate) struct Observations {
    /// One per event.
    pub records: Vec<Observed>,
    /// Reads of mapped keys.
    pub reads: Vec<ObservedRead>,
    /// Writes of mapped keys.
    pub writes: Vec<ObservedWrite>,
    /// Projections of field reads (ranges of `bytes`), or why the fields cannot be reconciled.
    pub field_reads: Vec<Result<Range<usize>, &'static str>>,
    /// Keys named for the first time.
    pub new_keys: Vec<NewKey>,
    /// The placeholders' segments of the new keys.
    pub holes: Vec<Range<u32>>,
    /// Names of the clients seen for the first time, in id order.
    pub new_clients: Vec<Name>,
    /// Field projections, one after the other.
    pub bytes: Vec<u8>,
}

impl Observations {
    /// Empties every list, keeping their memory.
    pub(crate) fn clear(&mut self) {
        self.records.clear();
        self.reads.clear();
        self.writes.clear();
        self.field_reads.clear();
        self.new_keys.clear();
        self.holes.clear();
        self.new_clients.clear();
        self.bytes.clear();
    }

    /// The placeholders' segments of new key `new`.
    pub(crate) fn holes<'k>(&self, new: &'k NewKey) -> Vec<&'k [u8]> {
        let name = new.name.as_bytes();
        let holes = &self.holes[new.holes.clone()];
        holes.iter().map(|h| &name[h.start as usize..h.end as usize]).collect()
    }

    /// The projection of field read `i`, or why it cannot be reconciled.
    pub(crate) fn field_read(&self, i: u32) -> Result<&[u8], &'static str> {
        self.field_reads[i as usize].clone().map(|r| &self.bytes[r])
    }
}
