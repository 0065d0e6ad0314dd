/*!
What the extraction produces: the components, and per component what the report needs to tell
their stories — each unit's text and events, values for people, each key's node and the write
whose value it holds at the start — with the counts and notes the reader should know.
*/

use crate::model::{Component, Lane, Us};

/// A unit for people and for replaying a schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitInfo {
    /// `DEL order:42`, `SETEX order:42 → CANCELLED`, `COMMIT shop.orders id=42 → PAID`.
    pub what: String,
    /// The trace events that move with the unit, in trace order (a MULTI block's MULTI, queued
    /// commands and EXEC; a commit's row changes and Commit).
    pub events: Vec<u64>,
    /// The event whose position the unit takes in the trace (its first executed command, or
    /// the Commit).
    pub anchor: u64,
}

/// What the report needs of a component besides the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentInfo {
    /// Per unit, by unit index.
    pub units: Vec<UnitInfo>,
    /// Cached values for people, by component-local id.
    pub cache_values: Vec<String>,
    /// DB values for people, by component-local id.
    pub db_values: Vec<String>,
    /// Per key: its Redis node and db index.
    pub key_nodes: Vec<(String, u32)>,
    /// Per key: the write (in an earlier part of the trace) whose value it holds at the start,
    /// as (seq, time, `SETEX order:42 → CANCELLED from 10.0.0.9:40000`).
    pub initial_writes: Vec<Option<(u64, Us, String)>>,
}

/// The components of a trace and what tells their stories.
#[derive(Clone, Debug, Default)]
pub struct Extraction {
    /// Independent components with at least one judged read, in trace order of their first
    /// unit.
    pub components: Vec<Component>,
    /// Per component, by the same index.
    pub info: Vec<ComponentInfo>,
    /// Client lane names (`10.0.0.7:51234`), by [`Lane::Client`] index.
    pub clients: Vec<String>,
    /// Source names, by source id ([`Lane::Db`] and [`Lane::Probe`] indices).
    pub sources: Vec<String>,
    /// Units found (in kept components and dropped ones).
    pub units: u64,
    /// Components (or parts cut at quiet gaps) dropped because no read of theirs is judged.
    pub dropped: u64,
    /// Times the units carried into a later part were cut to [`MAX_CARRIED`](super::MAX_CARRIED).
    pub carry_cut: u64,
    /// Stale values whose row's earlier commits were not pinned into the next part, because one
    /// of them is a transaction that also wrote a row changed again since (replaying it would
    /// roll that row back).
    pub pin_rollbacks: u64,
    /// Parts not explored because no order of theirs can serve a read stale (no commit, every
    /// value agrees with its row).
    pub quiet: u64,
    /// Things the reader should know about the model.
    pub notes: Vec<String>,
}

impl Extraction {
    /// The name of a lane: the client's address, the database's name, or the node's probe.
    pub fn lane_name(&self, lane: Lane) -> String {
        let source = |i: u32| self.sources.get(i as usize).cloned().unwrap_or_else(|| "?".into());
        match lane {
            Lane::Client(i) => self.clients.get(i as usize).cloned().unwrap_or_else(|| "?".into()),
            Lane::Db(i) => source(i),
            Lane::Probe(i) => format!("the recorder's probe of {}", source(i)),
        }
    }
}
