/*!
A trace and a mapping → independent [`Component`](crate::model::Component)s for the explorer, with what the report needs
to tell their stories (lane names, each unit's command text and events, values for people).

One pass over the trace in trace order ([`Extractor::push`], like
[`cachetape_analyzer::Analysis::push`]; the caller reads the file), built from the analyzer's
parts rather than inside the optimized analysis: the [`Replayer`] runs every Redis command and is
asked, after each command that may write, what a mapped key holds; [`DbState`] rebuilds row
versions from row changes and commits; the [`Timeline`] places every event on the recorder's
clock; [`ValueTable`] interns projections. Then [`Extractor::finish`] cuts the units into
components.

- `events`: each event → units (commands, MULTI blocks, scripts, commits, snapshots, gaps,
  evictions); `ops`: one command → its ops, from what the store holds after it;
- `keys`: ids for mapped keys, rows and client lanes on first sight; `union_find` ties a key to
  its row and a unit to everything it touches;
- `causality`: value causality and the orders other lanes force (the hard `before` edges);
- `partition`: the union-find's groups cut at quiet gaps, what is carried across a cut, quiet
  parts; `component`: one part → a component and its [`ComponentInfo`];
- `text`: units and values in words; `unit`: the units of the whole trace before the cut;
  `extraction`: the result.
*/

use std::collections::HashMap;

use cachetape_analyzer::dbstate::{DbState, SubjectId};
use cachetape_analyzer::mapping::{Mapping, MappingError, ValueTable};
use cachetape_analyzer::timeline::{Timeline, TimelineOptions};
use cachetape_replayer::{ReplayOptions, Replayer};
use cachetape_tape::{Capture, Event, EventBody, Header, Micros, Name, SourceKind};

use crate::model::{Lane, Us};

mod causality;
mod component;
mod events;
mod extraction;
mod keys;
mod ops;
mod partition;
#[cfg(test)]
mod tests;
mod text;
mod union_find;
mod unit;

pub use causality::{CAUSALITY_SCAN, FORCED_NEIGHBOURS};
pub use extraction::{ComponentInfo, Extraction, UnitInfo};

use causality::LateSources;
use union_find::UnionFind;
use unit::{Block, KeyInfo, RawUnit};

/// Units carried from earlier parts of a component into a later one at most.
pub const MAX_CARRIED: usize = 64;

/// How to extract.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExtractOptions {
    /// Placement of events on the timeline.
    pub timeline: TimelineOptions,
    /// The window W the components will be explored under (for orders forced elsewhere), µs.
    pub window_us: Us,
}

/// Extraction failed.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The mapping does not fit the trace.
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

/// Extracts the components of `events` (a whole trace, in order) under `mapping`.
pub fn extract<'e>(
    header: &Header,
    events: impl IntoIterator<Item = &'e Event>,
    mapping: &Mapping,
    options: ExtractOptions,
) -> Result<Extraction, ExtractError> {
    let mut x = Extractor::new(header, mapping.clone(), options);
    for e in events {
        x.push(e)?;
    }
    Ok(x.finish())
}

/// The streaming extraction: [`Extractor::push`] each event in trace order, then
/// [`Extractor::finish`].
pub struct Extractor {
    mapping: Mapping,
    options: ExtractOptions,
    timeline: Timeline,
    replayer: Replayer,
    db: DbState,
    values: ValueTable,
    source_names: Vec<String>,
    redis_sources: Vec<bool>,
    /// `source | db | key` → key id (`u32::MAX`: no rule maps it).
    key_index: HashMap<Vec<u8>, u32>,
    keys: Vec<KeyInfo>,
    key_buf: Vec<u8>,
    /// Keys and subjects are its nodes.
    nodes: UnionFind,
    subject_node: Vec<u32>,
    subject_names: Vec<String>,
    clients: HashMap<(u16, Name), u32>,
    client_names: Vec<String>,
    /// Per client lane: what [`RawUnit::caus`] is so far (a range of `caus`).
    lanes: HashMap<Lane, (u32, u32)>,
    /// The lanes' successive (DB source, binlog position) lists.
    caus: Vec<(u16, u64)>,
    /// Commits seen per source.
    binlog_pos: Vec<u64>,
    blocks: HashMap<(u16, Name), Block>,
    /// Open transactions: their row events and the subjects they touch.
    txns: HashMap<(u16, u64), (Vec<u64>, Vec<SubjectId>)>,
    units: Vec<RawUnit>,
    /// Commit seq → its unit.
    commit_units: HashMap<u64, u32>,
    /// Writes of a value no version of their row recorded so far agrees with, waiting (up to
    /// [`LATE_BINLOG_US`](cachetape_analyzer::oracle::LATE_BINLOG_US)) for a late commit that
    /// produced it.
    late_sources: LateSources,
    last_server_us: Vec<Micros>,
    gap_before: Vec<bool>,
    db_gaps: u64,
    /// Names of database sources imported from binlog files (commit times in whole seconds).
    imported_dbs: Vec<String>,
    holes: Vec<u8>,
    proj: Vec<u8>,
}

impl Extractor {
    /// An extraction of a trace with `header` under `mapping`.
    pub fn new(header: &Header, mapping: Mapping, options: ExtractOptions) -> Extractor {
        let n = header.sources.len();
        Extractor {
            mapping,
            options,
            timeline: Timeline::new(header, options.timeline),
            replayer: Replayer::new(header, ReplayOptions::default()),
            db: DbState::default(),
            values: ValueTable::default(),
            source_names: header.sources.iter().map(|s| s.name.clone()).collect(),
            redis_sources: header.sources.iter().map(|s| s.kind == SourceKind::Redis).collect(),
            imported_dbs: header
                .sources
                .iter()
                .filter(|s| {
                    s.kind != SourceKind::Redis && matches!(s.capture, Capture::Imported { .. })
                })
                .map(|s| s.name.clone())
                .collect(),
            key_index: HashMap::new(),
            keys: Vec::new(),
            key_buf: Vec::new(),
            nodes: UnionFind::default(),
            subject_node: Vec::new(),
            subject_names: Vec::new(),
            clients: HashMap::new(),
            client_names: Vec::new(),
            lanes: HashMap::new(),
            caus: Vec::new(),
            binlog_pos: vec![0; n],
            blocks: HashMap::new(),
            txns: HashMap::new(),
            units: Vec::new(),
            commit_units: HashMap::new(),
            late_sources: LateSources::default(),
            last_server_us: vec![Micros::MIN; n],
            gap_before: vec![false; n],
            db_gaps: 0,
            holes: Vec::new(),
            proj: Vec::new(),
        }
    }

    /// Takes the next event of the trace.
    pub fn push(&mut self, event: &Event) -> Result<(), ExtractError> {
        let si = event.source.0 as usize;
        if self.last_server_us.len() <= si {
            self.last_server_us.resize(si + 1, Micros::MIN);
            self.gap_before.resize(si + 1, false);
            self.binlog_pos.resize(si + 1, 0);
        }
        if !matches!(event.body, EventBody::Redis(_)) {
            // Snapshots, gaps and evictions change the store.
            self.replayer.apply(event);
        }
        match &event.body {
            EventBody::Redis(rc) => self.redis_command(event, rc),
            EventBody::Row(change) => self.row_change(event.source, event.seq, change)?,
            EventBody::Commit(commit) => self.commit(event, commit),
            EventBody::ClockProbe(p) => self.timeline.probe(event.source, p),
            EventBody::Snapshot(s) => self.snapshot(event, s),
            EventBody::Gap(g) => self.gap(event, g),
            EventBody::Keyspace(n) => self.keyspace(event, n),
            // The lag it bounds is in the options (measured before the extraction).
            EventBody::Heartbeat(_) => {}
        }
        Ok(())
    }

    /// The components.
    pub fn finish(mut self) -> Extraction {
        let mut out = Extraction {
            clients: self.client_names.clone(),
            sources: self.source_names.clone(),
            units: self.units.len() as u64,
            ..Extraction::default()
        };
        let mut built = Vec::new();
        for members in self.groups() {
            self.cut(members, &mut out, &mut built);
        }
        built.sort_by_key(|c| c.0);
        for (_, c, info) in built {
            out.components.push(c);
            out.info.push(info);
        }
        self.notes(&mut out);
        out
    }

    /// What the reader should know about the model of this trace.
    fn notes(&self, out: &mut Extraction) {
        if out.carry_cut > 0 {
            out.notes.push(format!(
                "{} time where a key's last writes raced, more than {MAX_CARRIED} units passed \
                 before its next read: those reads were explored from the recorded outcome of \
                 the race only",
                out.carry_cut
            ));
        }
        if !self.imported_dbs.is_empty() && out.units > 0 {
            out.notes.push(format!(
                "{} was imported from binlog files, whose commits carry whole seconds only: each \
                 commit is placed at the start of its second, so the window orders it against \
                 Redis commands only that coarsely; record live for millisecond races",
                self.imported_dbs.join(", ")
            ));
        }
        if self.db_gaps > 0 {
            out.notes.push(format!(
                "the database was not observed for {} stretch(es) (gaps): the perturbation \
                 assumes no commit of a mapped row happened in them",
                self.db_gaps
            ));
        }
        if self.db.open_transactions() > 0 {
            out.notes.push(format!(
                "{} transaction(s) had no Commit by the end of the trace: left out",
                self.db.open_transactions()
            ));
        }
    }
}
