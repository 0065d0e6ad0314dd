/*!
The trace's units before they are cut into components: what a key holds (global value ids), a
unit's ops on global keys and rows, what the extraction keeps per key, per unit and per open
MULTI block, and what keys and rows hold where a component is cut.
*/

use std::collections::HashMap;

use cachetape_analyzer::dbstate::{RowValue, SubjectId};
use cachetape_analyzer::mapping::ValueId;
use cachetape_replayer::Command;
use cachetape_tape::SourceId;

use crate::model::{Lane, Us};

/// What a key holds, with global value ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum GVal {
    /// Nothing.
    Absent,
    /// A projection, interned in the extraction's value table.
    Known(ValueId),
    /// A value the mapping cannot reconcile with the row.
    Unreconciled,
    /// The replay cannot know.
    Unknown,
}

/// One effect of a unit on a global key or row.
#[derive(Clone, Copy, Debug)]
pub(super) enum GOp {
    /// A judged read of `key` by the event `seq`.
    Read { key: u32, seq: u64 },
    /// `key` holds `value` afterwards, until `expires_at`.
    Set { key: u32, value: GVal, expires_at: Option<Us> },
    /// `key` keeps its value, with a new expiry.
    Expire { key: u32, expires_at: Option<Us> },
    /// `key` is deleted.
    Del { key: u32 },
    /// The row `subject` holds `value` after the commit.
    Commit { subject: SubjectId, value: RowValue },
}

impl GOp {
    /// The key it touches; `None` for a commit.
    pub(super) fn key(self) -> Option<u32> {
        match self {
            GOp::Read { key, .. }
            | GOp::Set { key, .. }
            | GOp::Expire { key, .. }
            | GOp::Del { key } => Some(key),
            GOp::Commit { .. } => None,
        }
    }
}

/// A mapped key, as the extraction knows it.
pub(super) struct KeyInfo {
    pub(super) name: Vec<u8>,
    pub(super) source: SourceId,
    pub(super) db: u32,
    pub(super) rule: u16,
    /// The row its rule maps it to.
    pub(super) subject: SubjectId,
    /// Its union-find node.
    pub(super) node: u32,
    /// What it holds before its first command: absent, or unknown after a gap of its node.
    pub(super) initial: GVal,
    /// What the extraction last saw it hold (value, expiry on the node's clock in ms).
    pub(super) last: (GVal, Option<i64>),
    /// A conditional write of it had no effect (and is no unit).
    pub(super) conditional: bool,
}

/// A unit of the whole trace, before it is cut into components.
pub(super) struct RawUnit {
    pub(super) seq: u64,
    pub(super) last_seq: u64,
    pub(super) anchor: u64,
    pub(super) t: Us,
    pub(super) lane: Lane,
    pub(super) ops: Vec<GOp>,
    pub(super) events: Vec<u64>,
    /// Its text, when told at once (blocks, scripts, snapshots…); empty: told from `command`
    /// and the ops when a component needs it.
    pub(super) what: String,
    /// A single command's name.
    pub(super) command: Option<Command>,
    pub(super) approximate: bool,
    /// Global units that must precede it (value causality).
    pub(super) after: Vec<u32>,
    /// A commit's DB source and position in that source's binlog.
    pub(super) binlog: Option<(u16, u64)>,
    /// A client's unit: per DB source, the latest binlog position of a commit that a write on
    /// its lane, up to and including it, took its value from.
    pub(super) caus: (u32, u32),
}

impl RawUnit {
    /// A unit of `ops` on `lane` at `t`, made of the event `seq` alone, told as `what`.
    pub(super) fn single(seq: u64, t: Us, lane: Lane, ops: Vec<GOp>, what: String) -> RawUnit {
        RawUnit {
            seq,
            last_seq: seq,
            anchor: seq,
            t,
            lane,
            ops,
            events: Vec::new(),
            what,
            command: None,
            approximate: false,
            after: Vec::new(),
            binlog: None,
            caus: (0, 0),
        }
    }

    /// True when one of its ops is a read.
    pub(super) fn reads(&self) -> bool {
        self.ops.iter().any(|o| matches!(o, GOp::Read { .. }))
    }
}

/// What keys and rows hold where a component is cut (global ids; absent: their initial state).
#[derive(Clone, Default)]
pub(super) struct Boundary {
    pub(super) cache: HashMap<u32, (GVal, Option<Us>)>,
    pub(super) db: HashMap<SubjectId, RowValue>,
    /// The unit that wrote each key's value.
    pub(super) origin: HashMap<u32, u32>,
}

/// A client's open MULTI block.
pub(super) struct Block {
    pub(super) events: Vec<u64>,
    pub(super) ops: Vec<GOp>,
    pub(super) whats: Vec<String>,
    pub(super) approximate: bool,
    /// The first queued command: (seq, time).
    pub(super) anchor: Option<(u64, Us)>,
}
