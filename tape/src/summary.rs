/*!
What a trace holds, tallied in one pass: the figures `cachetape info` prints.

Every ranking is sorted by count (descending) and then by name, so the output never depends on
hash-map order.
*/

use std::collections::{BTreeMap, HashMap};

use crate::commands;
use crate::event::{Event, EventBody, EventKind, Gap, Micros, SourceId};
use crate::value::Name;

/// Tallies of a trace.
#[derive(Debug, Default)]
pub struct Summary {
    /// Events seen.
    pub events: u64,
    /// Events by kind, indexed by [`EventKind::index`].
    pub by_kind: [u64; EventKind::ALL.len()],
    /// Receive time of the earliest event.
    pub first_us: Option<Micros>,
    /// Receive time of the latest event.
    pub last_us: Option<Micros>,
    /// Per source: events and time span.
    pub sources: BTreeMap<SourceId, SourceTally>,
    /// Redis commands by upper-cased name (script calls included).
    pub commands: HashMap<Vec<u8>, u64>,
    /// Keys by how many commands touched them.
    pub keys: HashMap<Vec<u8>, u64>,
    /// Redis clients by command count.
    pub clients: HashMap<Name, u64>,
    /// Row changes per table: inserts, updates, deletes.
    pub tables: HashMap<Name, [u64; 3]>,
    /// Redis commands per db index.
    pub dbs: BTreeMap<u32, u64>,
    /// Commands run by scripts (`[db lua]` lines).
    pub script_calls: u64,
    /// Commands whose keys could not all be located (unknown to the command table).
    pub commands_with_unknown_keys: u64,
    /// Gaps, in trace order.
    pub gaps: Vec<(SourceId, Gap)>,
}

/// Per-source tallies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceTally {
    /// Events.
    pub events: u64,
    /// Earliest receive time.
    pub first_us: Micros,
    /// Latest receive time.
    pub last_us: Micros,
}

impl Summary {
    /// Adds one event to the tallies.
    pub fn add(&mut self, e: &Event) {
        self.events += 1;
        self.by_kind[e.kind().index()] += 1;
        self.first_us = Some(self.first_us.map_or(e.recv_us, |t| t.min(e.recv_us)));
        self.last_us = Some(self.last_us.map_or(e.recv_us, |t| t.max(e.recv_us)));
        let src = self.sources.entry(e.source).or_insert(SourceTally {
            events: 0,
            first_us: e.recv_us,
            last_us: e.recv_us,
        });
        src.events += 1;
        src.first_us = src.first_us.min(e.recv_us);
        src.last_us = src.last_us.max(e.recv_us);
        match &e.body {
            EventBody::Redis(c) => {
                *self.clients.entry(c.client.clone()).or_default() += 1;
                *self.dbs.entry(c.db).or_default() += 1;
                self.add_command(&c.argv);
                for s in &c.script {
                    self.script_calls += 1;
                    self.add_command(&s.argv);
                }
            }
            EventBody::Row(r) => {
                self.tables.entry(r.table.clone()).or_default()[r.op as usize] += 1;
            }
            EventBody::Gap(g) => self.gaps.push((e.source, g.clone())),
            _ => {}
        }
    }

    fn add_command(&mut self, argv: &crate::Argv) {
        let name = argv.name().to_ascii_uppercase();
        *self.commands.entry(name).or_default() += 1;
        let keys = commands::keys(argv);
        if keys.incomplete {
            self.commands_with_unknown_keys += 1;
        }
        for key in keys.iter(argv) {
            match self.keys.get_mut(key) {
                Some(n) => *n += 1,
                None => {
                    self.keys.insert(key.to_vec(), 1);
                }
            }
        }
    }

    /// Events of `kind`.
    pub fn count(&self, kind: EventKind) -> u64 {
        self.by_kind[kind.index()]
    }

    /// The `n` most used commands.
    pub fn top_commands(&self, n: usize) -> Vec<(&[u8], u64)> {
        top(self.commands.iter().map(|(k, v)| (k.as_slice(), *v)), n)
    }

    /// The `n` most touched keys.
    pub fn top_keys(&self, n: usize) -> Vec<(&[u8], u64)> {
        top(self.keys.iter().map(|(k, v)| (k.as_slice(), *v)), n)
    }

    /// The `n` busiest clients.
    pub fn top_clients(&self, n: usize) -> Vec<(&str, u64)> {
        top(self.clients.iter().map(|(k, v)| (&**k, *v)), n)
    }

    /// Tables by total row changes, with inserts, updates and deletes.
    pub fn tables(&self) -> Vec<(&str, [u64; 3])> {
        let mut t: Vec<(&str, [u64; 3])> = self.tables.iter().map(|(k, v)| (&**k, *v)).collect();
        t.sort_by(|a, b| b.1.iter().sum::<u64>().cmp(&a.1.iter().sum()).then(a.0.cmp(b.0)));
        t
    }

    /// True when some client connected through a unix socket: MONITOR shows every such client
    /// with the same name, so they cannot be told apart.
    pub fn has_unix_clients(&self) -> bool {
        self.clients.keys().any(|c| c.starts_with("unix:"))
    }
}

fn top<K: Ord + Copy>(items: impl Iterator<Item = (K, u64)>, n: usize) -> Vec<(K, u64)> {
    let mut v: Vec<(K, u64)> = items.collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}
