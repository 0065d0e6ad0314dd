/*!
A trace and a mapping → independent [`Component`]s for the explorer, with what the report needs
to tell their stories (lane names, each unit's command text and events, values for people).

One pass over the trace in trace order ([`Extractor::push`], like [`cachetape_analyzer::Analysis::push`]; the
caller reads the file), built from the analyzer's parts rather than inside the optimized
analysis: the [`Replayer`] runs every Redis command and is asked, after each command that may
write, what a mapped key holds; [`DbState`] rebuilds row versions from row changes and commits;
the [`Timeline`] places every event on the recorder's clock; [`ValueTable`] interns projections.

**Units.** One per Redis command touching a mapped key (a client's MULTI…EXEC block and an
EVAL/EVALSHA/FCALL with its `[lua]` lines are one unit each), one per Commit that changed a
mapped row's projection (with its transaction's row changes), one per Snapshot of a mapped key
(a `Set` on the node's probe lane), and one per mapped key a Redis gap or an eviction made
unknown (also on the probe lane). A unit's time is its first executed command's (a MULTI
block's first queued command: MONITOR shows queued commands at EXEC time). A commit unit's
`seq` is its Commit event's (as the analyzer's chains name commits); its row changes are listed
in [`UnitInfo::events`].

**Ops.** Reads of mapped keys by the commands the analyzer judges (GET, GETEX, GETDEL, GETSET,
MGET, HGET, HMGET, HGETALL; field reads are taken as reads of the whole value) → [`Op::Read`];
DEL, UNLINK, GETDEL → [`Op::Del`]; EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (absolute expiry from
the arguments on the node's virtual clock; a time already past deletes), PERSIST, GETEX with
options → [`Op::Expire`]; every other write → [`Op::Set`] of what the store holds afterwards
(projected and interned; a value the rule cannot reconcile → [`CacheVal::Unreconciled`]; a key
the store cannot know → [`CacheVal::Unknown`]). Writes whose result depends on the previous value
(APPEND, INCR…, SET NX/XX, SETNX, a partial HSET, HDEL, RENAME…) are given as their recorded
result and make the component [`Component::approximate`]. Such a conditional write that left the
value as it was becomes no op (or an `Expire` when only the TTL changed).

**Components.** Union-find over keys and rows ("subjects"): a key is tied to the row its rule
maps it to, a unit to every key and row it touches. Each such group is then cut at its **quiet
gaps**: where every unit before the cut is more than W before every unit after it, every
schedule runs the part before entirely before the part after, so the parts are explored apart
(a key's whole history is one group, and would be one enormous search). A part starts from the
state the recorded order leaves (what each key holds and which write put it there, what each
row holds) — exact when the last writes of every key before the cut cannot change places with a
different outcome. When they can (a SETEX and a DEL racing just before a quiet gap), the racing
writes, everything not only a read after the earliest of them, and the last commit before them
are **carried** into the next part (their reads are judged in their own part), so that part
sees every outcome of the race; at most [`MAX_CARRIED`] units are carried (beyond, the recorded
outcome is taken and a note says so). A value already stale at the cut is carried the same way
— the write that cached it, and its row's commits from the last one before that write (with
what the row held before them) — so that a later read of it is told as the stale set or late
invalidation it is, with its age, not as a value matching nothing. A part with nothing carried
into it that commits nothing, and whose read keys only ever hold values agreeing with their rows
(or rows the trace never shows), is clean in every order: it is counted
([`Extraction::quiet`]) and not built. Parts without a judged read are dropped (nothing in them
can be stale). Keys start [`CacheVal::Absent`], as the replayer's store does, or
[`CacheVal::Unknown`] when a gap of their node came before their first command; rows start at
[`Versions::initial`](cachetape_analyzer::dbstate::Versions::initial).

**Hard orders** ([`Component::before`]):
- value causality: a `Set` of a value gets an edge from the latest commit (in trace order,
  before the write) whose row value agrees with it; none when only the initial value agrees or
  nothing does. At most [`CAUSALITY_SCAN`] versions back are searched.
- orders other parts of the trace force. With each lane's times in its order, a chain of program
  orders and window orders from `a` to `b` implies `t(a) + W < t(b)`: the window already keeps
  them. What it does not imply is a chain through value causality elsewhere: commit `a`, a later
  commit `x` of the same binlog (maybe of another row), a write `y` of `x`'s value on lane L,
  and `b` after `y` on L: `a` must precede `b` although they may be close in time. Each client
  unit carries, per binlog, the latest commit its lane's writes so far took their values from;
  a commit `a` gets an edge to every unit `b` of its component within W whose lane had taken a
  value of `a` or a later commit. **Approximation:** chains with several causality hops
  (`y` on L, a window to lane M, a write on M of a value…) whose time span stays within W are not
  derived, and pairs are looked for among each unit's [`FORCED_NEIGHBOURS`] nearest units in
  time only; so the explorer may try an order the real system could not produce (a possible
  stale read that is not possible), never miss one.
*/

use std::collections::HashMap;

use cachetape_replayer::{Command, KeyState, ReplayOptions, Replayer, Value as RValue};
use cachetape_tape::{Event, EventBody, Header, Micros, Name, SourceId, SourceKind, StoredValue};

use crate::model::{CacheVal, Component, DbVal, Lane, Op, ReadInfo, Unit, Us};
use cachetape_analyzer::dbstate::{DbState, RowValue, SubjectId};
use cachetape_analyzer::mapping::{KeyPart, Mapping, MappingError, ValueId, ValueTable};
use cachetape_analyzer::timeline::{Timeline, TimelineOptions};

/// How far back value causality looks for the commit that produced a written value.
pub const CAUSALITY_SCAN: usize = 64;
/// Units carried from earlier parts of a component into a later one at most.
pub const MAX_CARRIED: usize = 64;
/// Units (nearest in time) each unit is checked against for orders forced elsewhere.
pub const FORCED_NEIGHBOURS: usize = 64;

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
    /// Times the units carried into a later part were cut to [`MAX_CARRIED`].
    pub carry_cut: u64,
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

/// What a key holds, with global value ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GVal {
    Absent,
    Known(ValueId),
    Unreconciled,
    Unknown,
}

#[derive(Clone, Copy, Debug)]
enum GOp {
    Read { key: u32, seq: u64 },
    Set { key: u32, value: GVal, expires_at: Option<Us> },
    Expire { key: u32, expires_at: Option<Us> },
    Del { key: u32 },
    Commit { subject: SubjectId, value: RowValue },
}

struct KeyInfo {
    name: Vec<u8>,
    source: SourceId,
    db: u32,
    rule: u16,
    subject: SubjectId,
    node: u32,
    initial: GVal,
    /// What the extraction last saw it hold (value, expiry on the node's clock in ms).
    last: (GVal, Option<i64>),
    /// A conditional write of it had no effect (and is no unit).
    conditional: bool,
}

struct RawUnit {
    seq: u64,
    last_seq: u64,
    anchor: u64,
    t: Us,
    lane: Lane,
    ops: Vec<GOp>,
    events: Vec<u64>,
    /// Its text, when told at once (blocks, scripts, snapshots…); empty: told from `command`
    /// and the ops when a component needs it.
    what: String,
    /// A single command's name.
    command: Option<Command>,
    approximate: bool,
    /// Global units that must precede it (value causality).
    after: Vec<u32>,
    /// A commit's DB source and position in that source's binlog.
    binlog: Option<(u16, u64)>,
    /// A client's unit: per DB source, the latest binlog position of a commit that a write on
    /// its lane, up to and including it, took its value from.
    caus: (u32, u32),
}

/// What keys and rows hold where a component is cut (global ids; absent: their initial state).
#[derive(Default)]
struct Boundary {
    cache: HashMap<u32, (GVal, Option<Us>)>,
    db: HashMap<SubjectId, RowValue>,
    /// The unit that wrote each key's value.
    origin: HashMap<u32, u32>,
}

/// A client's open MULTI block.
struct Block {
    events: Vec<u64>,
    ops: Vec<GOp>,
    whats: Vec<String>,
    approximate: bool,
    anchor: Option<(u64, Us)>,
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
    /// Union-find parents; keys and subjects are nodes.
    parent: Vec<u32>,
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
                    s.kind != SourceKind::Redis
                        && matches!(s.capture, cachetape_tape::Capture::Imported { .. })
                })
                .map(|s| s.name.clone())
                .collect(),
            key_index: HashMap::new(),
            keys: Vec::new(),
            key_buf: Vec::new(),
            parent: Vec::new(),
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
            last_server_us: vec![Micros::MIN; n],
            gap_before: vec![false; n],
            db_gaps: 0,
            holes: Vec::new(),
            proj: Vec::new(),
        }
    }

    /// Takes the next event of the trace.
    pub fn push(&mut self, event: &Event) -> Result<(), ExtractError> {
        let source = event.source;
        let si = source.0 as usize;
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
            EventBody::Redis(rc) => {
                let t = self.timeline.redis(source, rc.server_us, event.recv_us).t;
                self.last_server_us[si] = rc.server_us;
                let step = self.replayer.apply(event);
                let Some(step) = step else { return Ok(()) };
                let lane = self.client(source, &rc.client);
                let bkey = (source.0, rc.client.clone());
                let in_block = self.blocks.contains_key(&bkey);
                if step.command == Command::Multi && !in_block {
                    self.blocks.insert(
                        bkey,
                        Block {
                            events: vec![event.seq],
                            ops: Vec::new(),
                            whats: Vec::new(),
                            approximate: false,
                            anchor: None,
                        },
                    );
                    return Ok(());
                }
                let mut ops = Vec::new();
                let mut whats = Vec::new();
                let mut approximate = false;
                let tell = in_block || step.command.is_script() || step.command == Command::Unknown;
                self.command_ops(event, rc, &step, tell, &mut ops, &mut whats, &mut approximate);
                if in_block {
                    let block = self.blocks.get_mut(&bkey).expect("checked");
                    block.events.push(event.seq);
                    let ends = matches!(step.command, Command::Exec | Command::Discard);
                    if !ends && block.anchor.is_none() {
                        block.anchor = Some((event.seq, t));
                    }
                    block.ops.extend(ops);
                    block.whats.extend(whats);
                    block.approximate |= approximate;
                    if ends {
                        let block = self.blocks.remove(&bkey).expect("checked");
                        if !block.ops.is_empty() {
                            let (anchor, t0) = block.anchor.unwrap_or((event.seq, t));
                            let what = format!("MULTI/EXEC ({})", block.whats.join("; "));
                            self.unit(RawUnit {
                                seq: block.events[0],
                                last_seq: event.seq,
                                anchor,
                                t: t0,
                                lane,
                                ops: block.ops,
                                events: block.events,
                                what,
                                command: None,
                                approximate: block.approximate,
                                after: Vec::new(),
                                binlog: None,
                                caus: (0, 0),
                            });
                        }
                    }
                    return Ok(());
                }
                if !ops.is_empty() {
                    let (what, command) = if step.command.is_script() {
                        (format!("{} ({})", upper_name(&rc.argv), whats.join("; ")), None)
                    } else if step.command == Command::Unknown {
                        (whats.join("; "), None)
                    } else {
                        (String::new(), Some(step.command))
                    };
                    self.unit(RawUnit {
                        seq: event.seq,
                        last_seq: event.seq,
                        anchor: event.seq,
                        t,
                        lane,
                        ops,
                        events: Vec::new(),
                        what,
                        command,
                        approximate,
                        after: Vec::new(),
                        binlog: None,
                        caus: (0, 0),
                    });
                }
            }
            EventBody::Row(change) => {
                self.db.row(source, change, &self.mapping, &mut self.values)?;
                let entry = self.txns.entry((source.0, change.txn)).or_default();
                entry.0.push(event.seq);
                for (i, rule) in self.mapping.rules.iter().enumerate() {
                    if rule.table != *change.table {
                        continue;
                    }
                    for image in
                        [change.before.as_ref(), change.after.as_ref()].into_iter().flatten()
                    {
                        if rule.row_id_from_image(image, &mut self.holes) {
                            let s = self.db.subject(i as u16, &self.holes);
                            if !entry.1.contains(&s) {
                                entry.1.push(s);
                            }
                        }
                    }
                }
            }
            EventBody::Commit(commit) => {
                let stamp = self.timeline.commit(
                    source,
                    event.recv_us,
                    commit.header_secs,
                    commit.commit_us,
                );
                let lane = Lane::Db(u32::from(source.0));
                self.binlog_pos[si] += 1;
                let pos = self.binlog_pos[si];
                let mut newly = Vec::new();
                self.db.commit(source, commit, event.seq, stamp, &mut newly);
                let Some((mut rows, mut subjects)) = self.txns.remove(&(source.0, commit.txn))
                else {
                    return Ok(());
                };
                subjects.sort_unstable();
                let mut ops = Vec::new();
                for s in subjects {
                    let v = &self.db.subjects[s.0 as usize].versions;
                    let Some(last) = v.changes.last().filter(|c| c.seq == event.seq) else {
                        continue;
                    };
                    ops.push(GOp::Commit { subject: s, value: last.value });
                }
                if ops.is_empty() {
                    return Ok(());
                }
                rows.push(event.seq);
                let u = self.unit(RawUnit {
                    // The Commit's own seq, as the analyzer's chains name commits.
                    seq: event.seq,
                    last_seq: event.seq,
                    anchor: event.seq,
                    t: stamp.t,
                    lane,
                    ops,
                    events: rows,
                    // Told at the end, when the rows have their keys' names.
                    what: String::new(),
                    command: None,
                    approximate: false,
                    after: Vec::new(),
                    binlog: Some((source.0, pos)),
                    caus: (0, 0),
                });
                self.commit_units.insert(event.seq, u);
            }
            EventBody::ClockProbe(p) => self.timeline.probe(source, p),
            EventBody::Snapshot(s) => {
                let server = self.last_server_us[si];
                let server = if server == Micros::MIN { event.recv_us } else { server };
                let t = self.timeline.redis(source, server, event.recv_us.max(server)).t;
                let Some(k) = self.key(source, s.db, &s.key) else { return Ok(()) };
                let now_ms = server.div_euclid(1000);
                let op = match &s.value {
                    StoredValue::Missing => GOp::Del { key: k },
                    value => {
                        let rule = &self.mapping.rules[self.keys[k as usize].rule as usize];
                        let r = match value {
                            StoredValue::String(b) => rule.project_string(b, &mut self.proj),
                            StoredValue::Hash(pairs) => rule.project_hash(
                                |f| pairs.iter().find(|(x, _)| x == f).map(|(_, v)| &v[..]),
                                &mut self.proj,
                            ),
                            _ => Err("the cached value is a list, set or sorted set"),
                        };
                        let value = match r {
                            Ok(()) => GVal::Known(self.values.intern(&self.proj)),
                            Err(_) => GVal::Unreconciled,
                        };
                        let expires_ms = (s.pttl_ms >= 0).then(|| now_ms + s.pttl_ms);
                        self.keys[k as usize].last = (value, expires_ms);
                        let expires_at = expires_ms.map(|e| self.virtual_us(source, e));
                        GOp::Set { key: k, value, expires_at }
                    }
                };
                if matches!(op, GOp::Del { .. }) {
                    self.keys[k as usize].last = (GVal::Absent, None);
                }
                let what = format!("snapshot of {}", self.key_name(k));
                self.probe_unit(event.seq, t, source, op, what);
            }
            EventBody::Gap(g) => {
                if self.redis_sources.get(si).copied().unwrap_or(false) {
                    self.gap_before[si] = true;
                    let t = g.from_us;
                    for k in 0..self.keys.len() as u32 {
                        if self.keys[k as usize].source == source {
                            self.keys[k as usize].last = (GVal::Unknown, None);
                            let op = GOp::Set { key: k, value: GVal::Unknown, expires_at: None };
                            let what = format!("gap in {} ({})", self.source_names[si], g.reason);
                            self.probe_unit(event.seq, t, source, op, what);
                        }
                    }
                } else {
                    self.db_gaps += 1;
                }
            }
            EventBody::Keyspace(n) => {
                if &*n.event == "evicted"
                    && let Some(k) = self.key(source, n.db, &n.key)
                {
                    self.keys[k as usize].last = (GVal::Unknown, None);
                    let op = GOp::Set { key: k, value: GVal::Unknown, expires_at: None };
                    let what = format!("eviction of {}", self.key_name(k));
                    self.probe_unit(event.seq, event.recv_us, source, op, what);
                }
            }
        }
        Ok(())
    }

    /// The ops of one command (its reads, then what it left in the keys it may write, then its
    /// script's calls), and its text per key.
    #[allow(clippy::too_many_arguments)]
    fn command_ops(
        &mut self,
        event: &Event,
        rc: &cachetape_tape::RedisCommand,
        step: &cachetape_replayer::Step,
        tell: bool,
        ops: &mut Vec<GOp>,
        whats: &mut Vec<String>,
        approximate: &mut bool,
    ) {
        let source = event.source;
        let command = step.command;
        let is_read = command.is_judged_read();
        let name = upper_name(&rc.argv);
        if is_read && !step.reply.is_error() {
            let keys: Vec<&[u8]> = match command {
                Command::MGet => rc.argv.iter().skip(1).collect(),
                _ => rc.argv.get(1).into_iter().collect(),
            };
            let mut read_keys = Vec::new();
            for key in keys {
                if let Some(k) = self.key(source, rc.db, key) {
                    ops.push(GOp::Read { key: k, seq: event.seq });
                    if tell {
                        read_keys.push(self.key_name(k));
                    }
                }
            }
            if tell && !read_keys.is_empty() && command.is_read_only() {
                whats.push(format!("{name} {}", short_list(&read_keys)));
            }
        }
        if !command.is_read_only() && !command.is_script() {
            let before = ops.len();
            self.write_ops(source, rc.db, rc.server_us, command, &rc.argv, ops, approximate);
            if tell && (ops.len() > before || (is_read && !ops.is_empty())) {
                whats.push(self.describe(&name, &ops[..], before, is_read));
            }
        }
        if command.is_script() {
            for (s, call) in step.script.iter().zip(&rc.script) {
                if s.command.is_read_only() {
                    continue;
                }
                let before = ops.len();
                self.write_ops(
                    source,
                    call.db,
                    rc.server_us,
                    s.command,
                    &call.argv,
                    ops,
                    approximate,
                );
                if ops.len() > before {
                    whats.push(self.describe(&upper_name(&call.argv), &ops[..], before, false));
                }
            }
        }
    }

    /// `DEL order:42`, `SETEX order:42 → CANCELLED`, `GETDEL order:42`.
    fn describe(&self, name: &str, ops: &[GOp], from: usize, with_read: bool) -> String {
        let mut keys = Vec::new();
        let mut value = None;
        let start = if with_read { 0 } else { from };
        for op in &ops[start..] {
            let k = match *op {
                GOp::Read { key, .. } | GOp::Expire { key, .. } | GOp::Del { key } => key,
                GOp::Set { key, value: v, .. } => {
                    value = Some((key, v));
                    key
                }
                GOp::Commit { .. } => continue,
            };
            let n = self.key_name(k);
            if !keys.contains(&n) {
                keys.push(n);
            }
        }
        let mut out = format!("{name} {}", short_list(&keys));
        if let Some((k, v)) = value
            && keys.len() == 1
        {
            out.push_str(" → ");
            out.push_str(&self.cache_display(k, v));
        }
        out
    }

    /// What `command` left in each mapped key it may write.
    #[allow(clippy::too_many_arguments)]
    fn write_ops(
        &mut self,
        source: SourceId,
        db: u32,
        server_us: Micros,
        command: Command,
        argv: &cachetape_tape::Argv,
        ops: &mut Vec<GOp>,
        approximate: &mut bool,
    ) {
        let now_ms = server_us.div_euclid(1000);
        let mut written: Vec<&[u8]> = Vec::new();
        command.for_written_keys(argv, |key| written.push(key));
        for key in written {
            let Some(k) = self.key(source, db, key) else { continue };
            let state = match self.replayer.store(source).map(|s| s.key(db, key, now_ms)) {
                Some(KeyState::Present(e)) => {
                    let rule = &self.mapping.rules[self.keys[k as usize].rule as usize];
                    Some((project(rule, &e.value, &mut self.values, &mut self.proj), e.expires_at))
                }
                Some(KeyState::Unknown) => Some((GVal::Unknown, None)),
                Some(KeyState::Missing) | None => None,
            };
            let op = match command {
                Command::Del | Command::Unlink | Command::GetDel => match state {
                    Some((GVal::Unknown, _)) => {
                        GOp::Set { key: k, value: GVal::Unknown, expires_at: None }
                    }
                    _ => GOp::Del { key: k },
                },
                Command::Expire
                | Command::PExpire
                | Command::ExpireAt
                | Command::PExpireAt
                | Command::Persist
                | Command::GetEx => {
                    match expiry_of(command, argv, now_ms) {
                        Some(Expiry::At { ms, conditional }) => {
                            *approximate |= conditional;
                            if ms <= now_ms {
                                GOp::Del { key: k }
                            } else {
                                GOp::Expire {
                                    key: k,
                                    expires_at: Some(self.virtual_us(source, ms)),
                                }
                            }
                        }
                        Some(Expiry::Persist) => GOp::Expire { key: k, expires_at: None },
                        Some(Expiry::Del) => GOp::Del { key: k },
                        // GETEX without options, or arguments the store refused: no change.
                        None => continue,
                    }
                }
                _ => {
                    let partial_hash = matches!(command, Command::HSet | Command::HMSet)
                        && !whole_hash(argv, &state, self.replayer.store(source), db, key, now_ms);
                    let unconditional = command.overwrites(argv) && !partial_hash;
                    match state {
                        None => {
                            if !unconditional {
                                *approximate = true;
                            }
                            GOp::Del { key: k }
                        }
                        Some((value, expires_ms)) => {
                            if !unconditional {
                                let last = self.keys[k as usize].last;
                                if last.0 == value && value != GVal::Unknown {
                                    *approximate = true;
                                    if last.1 == expires_ms {
                                        // No effect here, maybe one in another order: the
                                        // key's component is approximate.
                                        self.keys[k as usize].conditional = true;
                                        continue;
                                    }
                                    self.keys[k as usize].last = (value, expires_ms);
                                    let expires_at = expires_ms.map(|e| self.virtual_us(source, e));
                                    ops.push(GOp::Expire { key: k, expires_at });
                                    continue;
                                }
                                if value != GVal::Unknown {
                                    *approximate = true;
                                }
                            }
                            let expires_at = expires_ms.map(|e| self.virtual_us(source, e));
                            GOp::Set { key: k, value, expires_at }
                        }
                    }
                }
            };
            self.keys[k as usize].last = match (&op, state) {
                (GOp::Del { .. }, _) | (_, None) => (GVal::Absent, None),
                (_, Some(s)) => s,
            };
            ops.push(op);
        }
    }

    /// A time on `source`'s virtual clock (ms) on the timeline.
    fn virtual_us(&self, source: SourceId, ms: i64) -> Us {
        self.timeline.on_source_clock(source, ms.saturating_mul(1000)).t
    }

    fn client(&mut self, source: SourceId, name: &Name) -> Lane {
        let next = self.client_names.len() as u32;
        let id = *self.clients.entry((source.0, name.clone())).or_insert(next);
        if id == next {
            self.client_names.push(name.to_string());
        }
        Lane::Client(id)
    }

    fn probe_unit(&mut self, seq: u64, t: Us, source: SourceId, op: GOp, what: String) {
        self.unit(RawUnit {
            seq,
            last_seq: seq,
            anchor: seq,
            t,
            lane: Lane::Probe(u32::from(source.0)),
            ops: vec![op],
            events: Vec::new(),
            what,
            command: None,
            approximate: false,
            after: Vec::new(),
            binlog: None,
            caus: (0, 0),
        });
    }

    /// Adds a unit: ties its keys and rows together and finds the commits its writes' values
    /// come from.
    fn unit(&mut self, mut unit: RawUnit) -> u32 {
        let id = self.units.len() as u32;
        let mut first = None;
        for op in &unit.ops {
            let node = match *op {
                GOp::Read { key, .. }
                | GOp::Set { key, .. }
                | GOp::Expire { key, .. }
                | GOp::Del { key } => self.keys[key as usize].node,
                GOp::Commit { subject, .. } => self.subject_node(subject, None),
            };
            match first {
                None => first = Some(node),
                Some(f) => self.union(f, node),
            }
            if let GOp::Set { key, value: GVal::Known(c), .. } = *op {
                let s = self.keys[key as usize].subject;
                let versions = &self.db.subjects[s.0 as usize].versions;
                let agreeing =
                    versions.changes.iter().rev().take(CAUSALITY_SCAN).find(
                        |v| matches!(v.value, RowValue::Known(d) if self.values.agrees(c, d)),
                    );
                if let Some(v) = agreeing
                    && let Some(&cu) = self.commit_units.get(&v.seq)
                    && !unit.after.contains(&cu)
                {
                    unit.after.push(cu);
                }
            }
        }
        if let Lane::Client(_) = unit.lane {
            let (start, len) = self.lanes.get(&unit.lane).copied().unwrap_or((0, 0));
            let mut current: Vec<(u16, u64)> =
                self.caus[start as usize..(start + len) as usize].to_vec();
            let mut changed = false;
            for &a in &unit.after {
                if let Some((src, pos)) = self.units[a as usize].binlog {
                    match current.iter_mut().find(|c| c.0 == src) {
                        Some(c) if c.1 >= pos => {}
                        Some(c) => {
                            c.1 = pos;
                            changed = true;
                        }
                        None => {
                            current.push((src, pos));
                            changed = true;
                        }
                    }
                }
            }
            if changed {
                let at = (self.caus.len() as u32, current.len() as u32);
                self.caus.extend(current);
                self.lanes.insert(unit.lane, at);
            }
            unit.caus = self.lanes.get(&unit.lane).copied().unwrap_or((0, 0));
        }
        self.units.push(unit);
        id
    }

    /// A unit for people: `DEL order:42`, `SETEX order:42 → CANCELLED`, `COMMIT shop.orders
    /// id=42 → PAID`, a block's or script's commands.
    fn unit_text(&self, raw: &RawUnit) -> String {
        if !raw.what.is_empty() {
            return raw.what.clone();
        }
        if let Some(command) = raw.command {
            return self.describe(command.upper_name_str(), &raw.ops, 0, true);
        }
        let rows: Vec<String> = raw
            .ops
            .iter()
            .filter_map(|op| match *op {
                GOp::Commit { subject, value } => Some(format!(
                    "{} → {}",
                    self.subject_names[subject.0 as usize],
                    self.row_display(value, self.db.subjects[subject.0 as usize].rule)
                )),
                _ => None,
            })
            .collect();
        format!("COMMIT {}", rows.join(", "))
    }

    fn key_name(&self, k: u32) -> String {
        String::from_utf8_lossy(&self.keys[k as usize].name).into_owned()
    }

    fn cache_display(&self, k: u32, v: GVal) -> String {
        match v {
            GVal::Absent => "(nothing)".into(),
            GVal::Known(id) => {
                let rule = &self.mapping.rules[self.keys[k as usize].rule as usize];
                self.values.display(id, rule)
            }
            GVal::Unreconciled => "(a value the mapping cannot compare)".into(),
            GVal::Unknown => "(unknown)".into(),
        }
    }

    fn row_display(&self, v: RowValue, rule: u16) -> String {
        match v {
            RowValue::Known(id) => self.values.display(id, &self.mapping.rules[rule as usize]),
            RowValue::Absent => "(no row)".into(),
            RowValue::Unknown => "(unknown)".into(),
        }
    }

    /// The key id of a mapped key (created on first sight), `None` when no rule maps it.
    fn key(&mut self, source: SourceId, db: u32, key: &[u8]) -> Option<u32> {
        self.key_buf.clear();
        self.key_buf.extend_from_slice(&source.0.to_le_bytes());
        self.key_buf.extend_from_slice(&db.to_le_bytes());
        self.key_buf.extend_from_slice(key);
        if let Some(&k) = self.key_index.get(&self.key_buf[..]) {
            return (k != u32::MAX).then_some(k);
        }
        let node_name = self.source_names.get(source.0 as usize).map_or("", String::as_str);
        let mut holes = Vec::new();
        let Some(rule) = self.mapping.find(node_name, db, key, &mut holes) else {
            self.key_index.insert(self.key_buf.clone(), u32::MAX);
            return None;
        };
        let r = &self.mapping.rules[rule];
        r.row_id_from_key(&holes, &mut self.holes);
        let subject = self.db.subject(rule as u16, &self.holes);
        let name = subject_name(r, &holes);
        let k = self.keys.len() as u32;
        let node = self.new_node();
        let s_node = self.subject_node(subject, Some(name));
        self.union(node, s_node);
        let initial = if self.gap_before.get(source.0 as usize).copied().unwrap_or(false) {
            GVal::Unknown
        } else {
            GVal::Absent
        };
        self.keys.push(KeyInfo {
            name: key.to_vec(),
            source,
            db,
            rule: rule as u16,
            subject,
            node,
            initial,
            last: (initial, None),
            conditional: false,
        });
        self.key_index.insert(self.key_buf.clone(), k);
        Some(k)
    }

    fn new_node(&mut self) -> u32 {
        let n = self.parent.len() as u32;
        self.parent.push(n);
        n
    }

    fn subject_node(&mut self, s: SubjectId, name: Option<String>) -> u32 {
        let i = s.0 as usize;
        if self.subject_node.len() <= i {
            self.subject_node.resize(i + 1, u32::MAX);
            self.subject_names.resize(i + 1, String::new());
        }
        if let Some(name) = name {
            self.subject_names[i] = name;
        } else if self.subject_names[i].is_empty() {
            let rule = self.db.subjects[i].rule as usize;
            self.subject_names[i] = format!("{} (a row)", self.mapping.rules[rule].table);
        }
        if self.subject_node[i] == u32::MAX {
            self.subject_node[i] = self.new_node();
        }
        self.subject_node[i]
    }

    fn find(&mut self, mut n: u32) -> u32 {
        while self.parent[n as usize] != n {
            let p = self.parent[n as usize];
            self.parent[n as usize] = self.parent[p as usize];
            n = p;
        }
        n
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller root wins: deterministic, whatever the order of the calls.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }

    /// The components.
    pub fn finish(mut self) -> Extraction {
        // Every unit's commit names must exist even for rows no key mapped.
        let mut groups: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut order: Vec<u32> = Vec::new();
        for u in 0..self.units.len() as u32 {
            let node = match self.units[u as usize].ops[0] {
                GOp::Read { key, .. }
                | GOp::Set { key, .. }
                | GOp::Expire { key, .. }
                | GOp::Del { key } => self.keys[key as usize].node,
                GOp::Commit { subject, .. } => self.subject_node(subject, None),
            };
            let root = self.find(node);
            let g = groups.entry(root).or_default();
            if g.is_empty() {
                order.push(root);
            }
            g.push(u);
        }
        let mut out = Extraction {
            clients: self.client_names.clone(),
            sources: self.source_names.clone(),
            units: self.units.len() as u64,
            ..Extraction::default()
        };
        let mut comps: Vec<(u64, Component, ComponentInfo)> = Vec::new();
        for root in order {
            let mut members = groups.remove(&root).unwrap_or_default();
            let has_read = members
                .iter()
                .any(|&u| self.units[u as usize].ops.iter().any(|o| matches!(o, GOp::Read { .. })));
            if !has_read {
                out.dropped += 1;
                continue;
            }
            members.sort_by_key(|&u| (self.units[u as usize].anchor, u));
            // The state before `members[carry_from]`, where the carried units begin.
            let mut start = Boundary::default();
            let mut end = Boundary::default();
            let mut carry_from = 0;
            let mut writes: HashMap<u32, Vec<usize>> = HashMap::new();
            let position: HashMap<u32, usize> =
                members.iter().enumerate().map(|(i, &u)| (u, i)).collect();
            // Each row's commits (positions), and commits from before `carry_from` that a
            // stale value's story needs, with what their rows held before them.
            let mut commits: HashMap<SubjectId, Vec<usize>> = HashMap::new();
            let mut pinned: Vec<usize> = Vec::new();
            let mut pinned_db: HashMap<SubjectId, RowValue> = HashMap::new();
            for segment in self.segments(&members) {
                let reads = |u: u32| {
                    self.units[u as usize].ops.iter().any(|o| matches!(o, GOp::Read { .. }))
                };
                let only_reads = |u: u32| {
                    self.units[u as usize].ops.iter().all(|o| matches!(o, GOp::Read { .. }))
                };
                if members[segment.clone()].iter().any(|&u| reads(u)) {
                    let mut part: Vec<u32> = pinned.iter().map(|&i| members[i]).collect();
                    part.extend(
                        members[carry_from..segment.start]
                            .iter()
                            .copied()
                            .filter(|&u| !only_reads(u)),
                    );
                    let carried = part.len();
                    part.extend_from_slice(&members[segment.clone()]);
                    let mut from = Boundary {
                        cache: start.cache.clone(),
                        db: start.db.clone(),
                        origin: start.origin.clone(),
                    };
                    from.db.extend(pinned_db.iter().map(|(&s, &v)| (s, v)));
                    if carried == 0 && self.quiet(&part, &from) {
                        out.quiet += 1;
                    } else {
                        let (c, info) = self.component(&part, carried, &from);
                        let anchor = self.units[members[segment.start] as usize].anchor;
                        comps.push((anchor, c, info));
                    }
                } else {
                    out.dropped += 1;
                }
                for i in segment.clone() {
                    for op in &self.units[members[i] as usize].ops {
                        match *op {
                            GOp::Set { key, .. } | GOp::Del { key } | GOp::Expire { key, .. } => {
                                let list = writes.entry(key).or_default();
                                if list.last() != Some(&i) {
                                    list.push(i);
                                }
                            }
                            GOp::Commit { subject, .. } => {
                                let list = commits.entry(subject).or_default();
                                if list.last() != Some(&i) {
                                    list.push(i);
                                }
                            }
                            GOp::Read { .. } => {}
                        }
                    }
                }
                let mut next = segment.end;
                for list in writes.values() {
                    if let Some(first) = self.unsettled_from(&members, list) {
                        next = next.min(first);
                    }
                }
                // A value already stale when the part ends: carry the write that cached it
                // (and, below, the commit before it), so that the next part can tell how it
                // came to be stale (a stale set, a late or missing invalidation).
                self.advance(&members[segment.clone()], &mut end);
                let mut stale_rows: Vec<(SubjectId, usize)> = Vec::new();
                for (&key, &(value, _)) in &end.cache {
                    let GVal::Known(c) = value else { continue };
                    let subject = self.keys[key as usize].subject;
                    let db =
                        end.db.get(&subject).copied().unwrap_or_else(|| {
                            self.db.subjects[subject.0 as usize].versions.initial
                        });
                    let stale = match db {
                        RowValue::Known(d) => !self.values.agrees(c, d),
                        RowValue::Absent => true,
                        RowValue::Unknown => false,
                    };
                    if stale && let Some(p) = end.origin.get(&key).and_then(|u| position.get(u)) {
                        next = next.min(*p);
                        stale_rows.push((subject, *p));
                    }
                }
                stale_rows.sort_unstable();
                if next < segment.end {
                    // And the last commit before the race: what a value written in it may
                    // have been superseded by (its cause and age need it).
                    let commit = (carry_from..next).rev().find(|&i| {
                        self.units[members[i] as usize]
                            .ops
                            .iter()
                            .any(|o| matches!(o, GOp::Commit { .. }))
                    });
                    if let Some(i) = commit {
                        next = i;
                    }
                }
                if segment.end - next > MAX_CARRIED {
                    out.carry_cut += 1;
                    next = segment.end - MAX_CARRIED;
                }
                let next = next.max(carry_from);
                // The commits of a stale value's row from the last one before its write, when
                // they come before what is carried: pinned, with what the row held before them.
                let mut pins: Vec<usize> = Vec::new();
                let mut pins_db: HashMap<SubjectId, RowValue> = HashMap::new();
                for &(subject, write) in &stale_rows {
                    let list = commits.get(&subject).map_or(&[][..], Vec::as_slice);
                    let Some(q) = list.iter().rev().find(|&&i| i < write).copied() else {
                        continue;
                    };
                    if q >= next {
                        continue;
                    }
                    let from: Vec<usize> =
                        list.iter().copied().filter(|&i| i >= q && i < next).collect();
                    if from.len() > MAX_CARRIED {
                        out.carry_cut += 1;
                        continue;
                    }
                    let seq = self.units[members[q] as usize].seq;
                    let versions = &self.db.subjects[subject.0 as usize].versions;
                    if let Some(v) = versions.changes.iter().position(|c| c.seq == seq) {
                        pins_db.insert(subject, versions.value(v));
                        pins.extend(from);
                    }
                }
                pins.sort_unstable();
                pins.dedup();
                pinned = pins;
                pinned_db = pins_db;
                self.advance(&members[carry_from..next], &mut start);
                carry_from = next;
            }
        }
        comps.sort_by_key(|c| c.0);
        for (_, c, info) in comps {
            out.components.push(c);
            out.info.push(info);
        }
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
        out
    }

    /// One component of `members` (global units, in trace order).
    /// One component of `members` (global units, in trace order); the first `carried` of them
    /// come from earlier parts (their reads are judged there, not here); `start` is what keys
    /// and rows hold before the first.
    fn component(
        &mut self,
        members: &[u32],
        carried: usize,
        start: &Boundary,
    ) -> (Component, ComponentInfo) {
        let mut local_unit: HashMap<u32, u32> = HashMap::new();
        for (i, &u) in members.iter().enumerate() {
            local_unit.insert(u, i as u32);
        }
        let mut key_ids: HashMap<u32, u16> = HashMap::new();
        let mut keys: Vec<u32> = Vec::new();
        let mut subj_ids: HashMap<SubjectId, u16> = HashMap::new();
        let mut subjects: Vec<SubjectId> = Vec::new();
        let mut cache_ids: HashMap<ValueId, u32> = HashMap::new();
        let mut cache_vals: Vec<(ValueId, u16)> = Vec::new();
        let mut db_ids: HashMap<ValueId, u32> = HashMap::new();
        let mut db_vals: Vec<(ValueId, u16)> = Vec::new();
        let mut key_of = |k: u32, keys: &mut Vec<u32>| -> u16 {
            *key_ids.entry(k).or_insert_with(|| {
                keys.push(k);
                (keys.len() - 1) as u16
            })
        };
        let mut subj_of = |s: SubjectId, subjects: &mut Vec<SubjectId>| -> u16 {
            *subj_ids.entry(s).or_insert_with(|| {
                subjects.push(s);
                (subjects.len() - 1) as u16
            })
        };
        // Keys and subjects in order of first appearance; each key's subject too.
        for &u in members {
            for op in &self.units[u as usize].ops {
                match *op {
                    GOp::Read { key, .. }
                    | GOp::Set { key, .. }
                    | GOp::Expire { key, .. }
                    | GOp::Del { key } => {
                        key_of(key, &mut keys);
                        subj_of(self.keys[key as usize].subject, &mut subjects);
                    }
                    GOp::Commit { subject, .. } => {
                        subj_of(subject, &mut subjects);
                    }
                }
            }
        }
        let mut cache_of = |v: GVal, rule: u16, cache_vals: &mut Vec<(ValueId, u16)>| -> CacheVal {
            match v {
                GVal::Absent => CacheVal::Absent,
                GVal::Unknown => CacheVal::Unknown,
                GVal::Unreconciled => CacheVal::Unreconciled,
                GVal::Known(id) => CacheVal::Known(*cache_ids.entry(id).or_insert_with(|| {
                    cache_vals.push((id, rule));
                    (cache_vals.len() - 1) as u32
                })),
            }
        };
        let mut db_of = |v: RowValue, rule: u16, db_vals: &mut Vec<(ValueId, u16)>| -> DbVal {
            match v {
                RowValue::Absent => DbVal::Absent,
                RowValue::Unknown => DbVal::Unknown,
                RowValue::Known(id) => DbVal::Known(*db_ids.entry(id).or_insert_with(|| {
                    db_vals.push((id, rule));
                    (db_vals.len() - 1) as u32
                })),
            }
        };
        let initial_cache: Vec<(CacheVal, Option<Us>)> = keys
            .iter()
            .map(|&k| {
                let ki = &self.keys[k as usize];
                let (v, e) = start.cache.get(&k).copied().unwrap_or((ki.initial, None));
                (cache_of(v, ki.rule, &mut cache_vals), e)
            })
            .collect();
        let initial_db: Vec<DbVal> = subjects
            .iter()
            .map(|&s| {
                let sub = &self.db.subjects[s.0 as usize];
                let v = start.db.get(&s).copied().unwrap_or(sub.versions.initial);
                db_of(v, sub.rule, &mut db_vals)
            })
            .collect();
        let mut units = Vec::with_capacity(members.len());
        let mut infos = Vec::with_capacity(members.len());
        let mut reads = Vec::new();
        let mut before = Vec::new();
        let mut approximate = false;
        for (i, &u) in members.iter().enumerate() {
            let raw = &self.units[u as usize];
            approximate |= raw.approximate;
            approximate |= raw.ops.iter().any(|op| match *op {
                GOp::Read { key, .. }
                | GOp::Set { key, .. }
                | GOp::Expire { key, .. }
                | GOp::Del { key } => self.keys[key as usize].conditional,
                GOp::Commit { .. } => false,
            });
            let mut ops = Vec::with_capacity(raw.ops.len());
            for op in &raw.ops {
                if i < carried && matches!(op, GOp::Read { .. }) {
                    continue;
                }
                ops.push(match *op {
                    GOp::Read { key, seq } => {
                        let subject = subj_ids[&self.keys[key as usize].subject];
                        reads.push(ReadInfo { unit: i as u32, seq });
                        Op::Read { key: key_ids[&key], subject, read: (reads.len() - 1) as u32 }
                    }
                    GOp::Set { key, value, expires_at } => {
                        let rule = self.keys[key as usize].rule;
                        Op::Set {
                            key: key_ids[&key],
                            value: cache_of(value, rule, &mut cache_vals),
                            expires_at,
                        }
                    }
                    GOp::Expire { key, expires_at } => {
                        Op::Expire { key: key_ids[&key], expires_at }
                    }
                    GOp::Del { key } => Op::Del { key: key_ids[&key] },
                    GOp::Commit { subject, value } => {
                        let rule = self.db.subjects[subject.0 as usize].rule;
                        Op::Commit {
                            subject: subj_ids[&subject],
                            value: db_of(value, rule, &mut db_vals),
                        }
                    }
                });
            }
            for a in &raw.after {
                if let Some(&la) = local_unit.get(a) {
                    before.push((la, i as u32));
                }
            }
            units.push(Unit {
                seq: raw.seq,
                last_seq: raw.last_seq,
                t_us: raw.t,
                lane: raw.lane,
                ops,
            });
            let what = self.unit_text(raw);
            let events = if raw.events.is_empty() { vec![raw.seq] } else { raw.events.clone() };
            infos.push(UnitInfo { what, events, anchor: raw.anchor });
        }
        self.forced_orders(members, &units, &mut before);
        before.sort_unstable();
        before.dedup();
        let (cn, dn) = (cache_vals.len() as u32, db_vals.len() as u32);
        let mut agree = vec![false; (cn * dn) as usize];
        for (c, &(cv, _)) in cache_vals.iter().enumerate() {
            for (d, &(dv, _)) in db_vals.iter().enumerate() {
                agree[c * dn as usize + d] = self.values.agrees(cv, dv);
            }
        }
        let component = Component {
            units,
            before,
            keys: keys.iter().map(|&k| self.key_name(k)).collect(),
            initial_cache,
            subjects: subjects
                .iter()
                .map(|&s| {
                    let name = self.subject_names.get(s.0 as usize).cloned().unwrap_or_default();
                    if name.is_empty() { format!("row #{}", s.0) } else { name }
                })
                .collect(),
            initial_db,
            cache_values: cn,
            db_values: dn,
            agree,
            reads,
            approximate,
        };
        let info = ComponentInfo {
            units: infos,
            cache_values: cache_vals
                .iter()
                .map(|&(v, rule)| self.values.display(v, &self.mapping.rules[rule as usize]))
                .collect(),
            db_values: db_vals
                .iter()
                .map(|&(v, rule)| self.values.display(v, &self.mapping.rules[rule as usize]))
                .collect(),
            initial_writes: keys
                .iter()
                .map(|k| {
                    let u = *start.origin.get(k)?;
                    let raw = &self.units[u as usize];
                    let lane = match raw.lane {
                        Lane::Client(c) => self.client_names[c as usize].clone(),
                        Lane::Db(s) | Lane::Probe(s) => {
                            self.source_names.get(s as usize).cloned().unwrap_or_default()
                        }
                    };
                    Some((raw.seq, raw.t, format!("{} from {lane}", self.unit_text(raw))))
                })
                .collect(),
            key_nodes: keys
                .iter()
                .map(|&k| {
                    let ki = &self.keys[k as usize];
                    (
                        self.source_names.get(ki.source.0 as usize).cloned().unwrap_or_default(),
                        ki.db,
                    )
                })
                .collect(),
        };
        (component, info)
    }

    /// True when no order of `part` (nothing carried into it) can serve a read stale: it commits
    /// nothing, and every value its read keys hold or are given agrees with their rows (or the
    /// rows are unknown: the reads are unverifiable). Such parts are not explored.
    fn quiet(&self, part: &[u32], from: &Boundary) -> bool {
        let mut read_keys: Vec<u32> = Vec::new();
        for &u in part {
            for op in &self.units[u as usize].ops {
                match *op {
                    GOp::Commit { .. } => return false,
                    GOp::Read { key, .. } if !read_keys.contains(&key) => read_keys.push(key),
                    _ => {}
                }
            }
        }
        let agrees = |key: u32, v: GVal| {
            let subject = self.keys[key as usize].subject;
            let db = from
                .db
                .get(&subject)
                .copied()
                .unwrap_or_else(|| self.db.subjects[subject.0 as usize].versions.initial);
            match (v, db) {
                (_, RowValue::Unknown) | (GVal::Absent | GVal::Unknown, _) => true,
                (GVal::Known(c), RowValue::Known(d)) => self.values.agrees(c, d),
                (GVal::Known(_), RowValue::Absent) | (GVal::Unreconciled, _) => false,
            }
        };
        read_keys.iter().all(|&k| {
            let initial = from.cache.get(&k).map_or(self.keys[k as usize].initial, |c| c.0);
            agrees(k, initial)
                && part.iter().all(|&u| {
                    self.units[u as usize].ops.iter().all(|op| match *op {
                        GOp::Set { key, value, .. } if key == k => agrees(k, value),
                        _ => true,
                    })
                })
        })
    }

    /// Cuts a component's units (in trace order) at quiet gaps: every unit before the cut
    /// precedes every unit after it in every schedule (`t(a) + W < t(b)` for all such pairs).
    fn segments(&self, members: &[u32]) -> Vec<std::ops::Range<usize>> {
        let w = self.options.window_us;
        let n = members.len();
        let t = |i: usize| self.units[members[i] as usize].t;
        let mut suffix_min = vec![Us::MAX; n + 1];
        for i in (0..n).rev() {
            suffix_min[i] = suffix_min[i + 1].min(t(i));
        }
        let mut out = Vec::new();
        let (mut start, mut max_t) = (0, Us::MIN);
        for (j, &after) in suffix_min.iter().enumerate().take(n).skip(1) {
            max_t = max_t.max(t(j - 1));
            if max_t.saturating_add(w) < after {
                out.push(start..j);
                start = j;
            }
        }
        out.push(start..n);
        out
    }

    /// For one key's writes so far (positions in `members`, in trace order): the position of
    /// the earliest write that may come last in some schedule, when those that may come last do
    /// not all leave the same value (expiries within W); `None` when the key's state after
    /// them is the same in every schedule. Writes more than 2W before the recorded last one are
    /// not looked at.
    fn unsettled_from(&self, members: &[u32], writes: &[usize]) -> Option<usize> {
        let w = self.options.window_us;
        let unit = |i: usize| &self.units[members[i] as usize];
        let last_t = writes.iter().map(|&i| unit(i).t).max()?;
        let recent: Vec<usize> = writes
            .iter()
            .rev()
            .copied()
            .take_while(|&i| unit(i).t.saturating_add(2 * w) >= last_t)
            .collect();
        let forced = |a: usize, b: usize| {
            let (ua, ub) = (unit(a), unit(b));
            (ua.lane == ub.lane && a < b)
                || ua.t.saturating_add(w) < ub.t
                || ub.after.contains(&members[a])
        };
        let candidates: Vec<usize> = recent
            .iter()
            .copied()
            .filter(|&a| !recent.iter().any(|&b| b != a && forced(a, b)))
            .collect();
        let effect = |i: usize| {
            let mut e = None;
            for op in &unit(i).ops {
                match *op {
                    GOp::Set { value, expires_at, .. } => e = Some((value, expires_at)),
                    GOp::Del { .. } => e = Some((GVal::Absent, None)),
                    // Depends on what the key held.
                    GOp::Expire { .. } => e = None,
                    _ => {}
                }
            }
            e
        };
        let first = effect(*candidates.first()?);
        let same = first.is_some()
            && candidates.iter().all(|&c| match (effect(c), first) {
                (Some((v, x)), Some((value, expires))) => {
                    v == value
                        && match (x, expires) {
                            (None, None) => true,
                            (Some(a), Some(b)) => (a - b).abs() <= w,
                            _ => false,
                        }
                }
                _ => false,
            });
        if same { None } else { candidates.iter().copied().min() }
    }

    /// The state after `part` (in trace order) from `state`.
    fn advance(&self, part: &[u32], state: &mut Boundary) {
        for &u in part {
            for op in &self.units[u as usize].ops {
                match *op {
                    GOp::Set { key, value, expires_at } => {
                        state.cache.insert(key, (value, expires_at));
                        state.origin.insert(key, u);
                    }
                    GOp::Del { key } => {
                        state.cache.insert(key, (GVal::Absent, None));
                        state.origin.remove(&key);
                    }
                    GOp::Expire { key, expires_at } => {
                        let initial = self.keys[key as usize].initial;
                        let entry = state.cache.entry(key).or_insert((initial, None));
                        if !matches!(entry.0, GVal::Absent) {
                            entry.1 = expires_at;
                        }
                    }
                    GOp::Commit { subject, value } => {
                        state.db.insert(subject, value);
                    }
                    GOp::Read { .. } => {}
                }
            }
        }
    }

    /// Orders other lanes force between units of one component (see the module doc).
    fn forced_orders(&self, members: &[u32], units: &[Unit], before: &mut Vec<(u32, u32)>) {
        let w = self.options.window_us;
        let mut by_time: Vec<u32> = (0..units.len() as u32).collect();
        by_time.sort_by_key(|&i| (units[i as usize].t_us, i));
        for (p, &i) in by_time.iter().enumerate() {
            let ti = units[i as usize].t_us;
            for &j in by_time[p + 1..].iter().take(FORCED_NEIGHBOURS) {
                let tj = units[j as usize].t_us;
                if tj.saturating_sub(ti) > w {
                    break;
                }
                let (a, b) = if i < j { (i, j) } else { (j, i) };
                let (ua, ub) = (&units[a as usize], &units[b as usize]);
                if ua.lane == ub.lane
                    || matches!(ua.lane, Lane::Probe(_))
                    || matches!(ub.lane, Lane::Probe(_))
                {
                    continue;
                }
                let ra = &self.units[members[a as usize] as usize];
                let rb = &self.units[members[b as usize] as usize];
                if let Some((src, pos)) = ra.binlog
                    && self.caus[rb.caus.0 as usize..(rb.caus.0 + rb.caus.1) as usize]
                        .iter()
                        .any(|&(s, p)| s == src && p >= pos)
                {
                    before.push((a, b));
                }
            }
        }
    }
}

/// What a store value projects to under `rule`.
fn project(
    rule: &cachetape_analyzer::mapping::Rule,
    value: &RValue,
    values: &mut ValueTable,
    proj: &mut Vec<u8>,
) -> GVal {
    let r = match value {
        RValue::String(s) => rule.project_string(s.as_bytes(), proj),
        RValue::Hash(h) => rule.project_hash(|f| h.get(f).map(|b| &b[..]), proj),
        _ => Err("the cached value is a list, set or sorted set"),
    };
    match r {
        Ok(()) => GVal::Known(values.intern(proj)),
        Err(_) => GVal::Unreconciled,
    }
}

/// A command's name as Redis prints it.
fn upper_name(argv: &cachetape_tape::Argv) -> String {
    String::from_utf8_lossy(argv.name()).to_ascii_uppercase()
}

/// `a`, `a b c`, `a b c … (+4)`.
fn short_list(items: &[String]) -> String {
    if items.len() <= 3 {
        items.join(" ")
    } else {
        format!("{} … (+{})", items[..3].join(" "), items.len() - 3)
    }
}

/// `shop.orders id=42` from a rule and the key's placeholder values.
fn subject_name(rule: &cachetape_analyzer::mapping::Rule, holes: &[&[u8]]) -> String {
    let names: Vec<&str> = rule
        .parts
        .iter()
        .filter_map(|p| match p {
            KeyPart::Placeholder(n) => Some(n.as_str()),
            KeyPart::Literal(_) => None,
        })
        .collect();
    let mut out = rule.table.clone();
    for (column, placeholder) in &rule.row {
        let value = names
            .iter()
            .position(|n| n == placeholder)
            .and_then(|i| holes.get(i))
            .map_or_else(|| "?".into(), |h| String::from_utf8_lossy(h).into_owned());
        out.push_str(&format!(" {column}={value}"));
    }
    out
}

/// True when an HSET/HMSET set every field the hash holds after it (so its result does not
/// depend on what the key held).
fn whole_hash(
    argv: &cachetape_tape::Argv,
    state: &Option<(GVal, Option<i64>)>,
    store: Option<&cachetape_replayer::Store>,
    db: u32,
    key: &[u8],
    now_ms: i64,
) -> bool {
    if state.is_none() {
        return true;
    }
    let mut fields: Vec<&[u8]> = argv.iter().skip(2).step_by(2).collect();
    fields.sort_unstable();
    fields.dedup();
    match store.map(|s| s.key(db, key, now_ms)) {
        Some(KeyState::Present(e)) => match &e.value {
            RValue::Hash(h) => h.len() == fields.len(),
            _ => false,
        },
        _ => false,
    }
}

enum Expiry {
    At { ms: i64, conditional: bool },
    Persist,
    Del,
}

/// The absolute expiry (ms on the node's clock) an EXPIRE-family command or a GETEX sets.
fn expiry_of(command: Command, argv: &cachetape_tape::Argv, now_ms: i64) -> Option<Expiry> {
    let int = |i: usize| -> Option<i64> {
        std::str::from_utf8(argv.get(i)?).ok()?.trim().parse::<i64>().ok()
    };
    let conditional = argv.len() > 3;
    let at = |ms: i64| Some(Expiry::At { ms, conditional });
    match command {
        Command::Expire => at(now_ms.saturating_add(int(2)?.saturating_mul(1000))),
        Command::PExpire => at(now_ms.saturating_add(int(2)?)),
        Command::ExpireAt => at(int(2)?.saturating_mul(1000)),
        Command::PExpireAt => at(int(2)?),
        Command::Persist => Some(Expiry::Persist),
        Command::GetEx => {
            let opt = argv.get(2)?.to_ascii_uppercase();
            let ms = match &opt[..] {
                b"PERSIST" => return Some(Expiry::Persist),
                b"EX" => now_ms.saturating_add(int(3)?.saturating_mul(1000)),
                b"PX" => now_ms.saturating_add(int(3)?),
                b"EXAT" => int(3)?.saturating_mul(1000),
                b"PXAT" => int(3)?,
                _ => return None,
            };
            if ms <= now_ms {
                return Some(Expiry::Del);
            }
            Some(Expiry::At { ms, conditional: false })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachetape_tape::{Argv, Cell, Commit, RedisCommand, RowChange, RowImage, RowOp, Value};

    const T0: Micros = 1_795_666_525_000_000;
    const MS: Micros = 1_000;

    struct Trace {
        events: Vec<Event>,
        txn: u64,
    }

    fn header() -> Header {
        crate::testutil::cache_and_db_header(T0)
    }

    fn image(id: i64, status: &str) -> RowImage {
        RowImage {
            cells: vec![
                Cell { column: "id".into(), value: Value::Int(id) },
                Cell { column: "status".into(), value: Value::Bytes(status.as_bytes().to_vec()) },
            ],
        }
    }

    impl Trace {
        fn new() -> Trace {
            Trace { events: Vec::new(), txn: 0 }
        }

        fn push(&mut self, source: u16, recv_us: Micros, body: EventBody) {
            let seq = self.events.len() as u64;
            self.events.push(Event { seq, source: SourceId(source), recv_us, body });
        }

        fn redis(&mut self, ms: i64, client: &str, args: &[&str]) -> &mut Self {
            let t = T0 + ms * MS;
            let body = EventBody::Redis(RedisCommand {
                db: 0,
                client: client.into(),
                server_us: t,
                argv: Argv::from_parts(args.iter().map(|a| a.as_bytes())),
                script: Vec::new(),
            });
            self.push(0, t + 50, body);
            self
        }

        fn update(&mut self, ms: i64, id: i64, from: &str, to: &str) -> &mut Self {
            let t = T0 + ms * MS;
            self.txn += 1;
            let secs = (t / 1_000_000) as u32;
            let change = RowChange {
                table: "shop.orders".into(),
                op: RowOp::Update,
                before: Some(image(id, from)),
                after: Some(image(id, to)),
                txn: self.txn,
                header_secs: secs,
            };
            self.push(1, t, EventBody::Row(change));
            let commit =
                Commit { txn: self.txn, header_secs: secs, commit_us: None, gtid: None, xid: None };
            self.push(1, t, EventBody::Commit(commit));
            self
        }

        fn extract(&self, window_us: Us) -> Extraction {
            let mapping = Mapping::parse(
                "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\ncolumn = \"status\"\n",
            )
            .unwrap();
            let options = ExtractOptions { window_us, ..ExtractOptions::default() };
            extract(&header(), &self.events, &mapping, options).unwrap()
        }
    }

    const R: &str = "10.0.0.9:40000";
    const W: &str = "10.0.0.7:51234";

    #[test]
    fn a_stale_set_race_becomes_one_component_with_its_stories() {
        let mut t = Trace::new();
        t.redis(6, R, &["GET", "order:42"])
            .update(10, 42, "CANCELLED", "PAID")
            .redis(11, W, &["DEL", "order:42"])
            .redis(13, R, &["SETEX", "order:42", "300", "CANCELLED"])
            .redis(17, W, &["GET", "order:42"])
            .redis(17, W, &["GET", "cart:1"]);
        let x = t.extract(5 * MS);
        assert_eq!(x.components.len(), 1);
        let c = &x.components[0];
        let info = &x.info[0];
        let whats: Vec<&str> = info.units.iter().map(|u| u.what.as_str()).collect();
        assert_eq!(
            whats,
            [
                "GET order:42",
                "COMMIT shop.orders id=42 → PAID",
                "DEL order:42",
                "SETEX order:42 → CANCELLED",
                "GET order:42"
            ]
        );
        assert_eq!(c.keys, ["order:42"]);
        assert_eq!(c.subjects, ["shop.orders id=42"]);
        assert_eq!(c.initial_cache, [(CacheVal::Absent, None)]);
        assert_eq!(info.db_values, ["CANCELLED", "PAID"]);
        assert_eq!(c.initial_db, [DbVal::Known(0)]);
        assert_eq!(c.units[1].ops, [Op::Commit { subject: 0, value: DbVal::Known(1) }]);
        assert_eq!(c.units[1].lane, Lane::Db(1));
        assert_eq!(c.units[2].ops, [Op::Del { key: 0 }]);
        let Op::Set { value: CacheVal::Known(v), expires_at: Some(e), .. } = c.units[3].ops[0]
        else {
            panic!("{:?}", c.units[3].ops)
        };
        assert_eq!(info.cache_values[v as usize], "CANCELLED");
        assert_eq!(e, T0 + 13 * MS + 300_000_000);
        assert!(c.agrees(v, 0) && !c.agrees(v, 1));
        assert_eq!(c.reads.len(), 2);
        assert_eq!(c.reads[1], ReadInfo { unit: 4, seq: 5 });
        assert_eq!(c.units[4].t_us, T0 + 17 * MS);
        assert_eq!(x.lane_name(c.units[2].lane), W);
        assert_eq!(x.lane_name(c.units[1].lane), "db");
        assert_eq!(info.units[1].events, [1, 2]);
        // CANCELLED is the initial value: no commit produced it, no causality edge.
        assert!(c.before.is_empty(), "{:?}", c.before);
        assert!(!c.approximate);
    }

    #[test]
    fn a_write_of_a_committed_value_stays_after_its_commit() {
        let mut t = Trace::new();
        t.redis(0, R, &["GET", "order:7"])
            .update(1, 7, "NEW", "PAID")
            .redis(2, R, &["SET", "order:7", "PAID"])
            .update(3, 7, "PAID", "SHIPPED")
            .redis(4, W, &["DEL", "order:7"])
            .redis(5, R, &["GET", "order:7"]);
        let x = t.extract(5 * MS);
        let c = &x.components[0];
        // Units: GET, COMMIT PAID, SET PAID, COMMIT SHIPPED, DEL, GET.
        assert_eq!(c.units.len(), 6);
        assert!(c.before.contains(&(1, 2)), "{:?}", c.before);
        assert!(!c.before.iter().any(|&(a, b)| b == 2 && a == 3), "{:?}", c.before);
    }

    #[test]
    fn keys_tied_only_by_their_rows_and_blocks_form_components() {
        let mut t = Trace::new();
        t.redis(0, R, &["GET", "order:1"])
            .redis(1, R, &["GET", "order:2"])
            .redis(2, W, &["MULTI"])
            .redis(3, R, &["GET", "order:3"])
            .redis(4, W, &["DEL", "order:2"])
            .redis(4, W, &["DEL", "order:3"])
            .redis(4, W, &["EXEC"])
            .update(5, 3, "C", "D")
            .update(6, 1, "A", "B");
        let x = t.extract(10 * MS);
        // order:1 alone (with its row); order:2 and order:3 tied by the block.
        assert_eq!(x.components.len(), 2);
        assert_eq!(x.components[0].keys, ["order:1"]);
        assert_eq!(x.components[1].keys, ["order:2", "order:3"]);
        let block = &x.info[1].units.iter().find(|u| u.what.starts_with("MULTI")).unwrap();
        assert_eq!(block.events, [2, 4, 5, 6]);
        assert_eq!(block.anchor, 4);
        assert_eq!(block.what, "MULTI/EXEC (DEL order:2; DEL order:3)");
    }

    #[test]
    fn orders_forced_through_another_row_are_hard_constraints() {
        let mut t = Trace::new();
        // Commit of order 1 at 0, then of order 2 at 1 (binlog order); R caches order 2's new
        // value at 2 (so after that commit), then reads order:1 at 3: that read comes after the
        // commit of order 1 in every order, though they are 3 ms apart in a 5 ms window.
        t.redis(0, W, &["GET", "order:1"])
            .update(0, 1, "A", "B")
            .update(1, 2, "C", "D")
            .redis(2, R, &["SET", "order:2", "D"])
            .redis(3, R, &["GET", "order:1"]);
        let x = t.extract(5 * MS);
        let c = &x.components[0];
        assert_eq!(c.keys, ["order:1"]);
        // Units: W's GET, the commit, R's GET.
        assert_eq!(c.units.len(), 3);
        assert_eq!(c.before, [(1, 2)]);
        // Without that write, nothing is forced.
        let mut t = Trace::new();
        t.redis(0, W, &["GET", "order:1"]).update(0, 1, "A", "B").update(1, 2, "C", "D").redis(
            3,
            R,
            &["GET", "order:1"],
        );
        assert!(t.extract(5 * MS).components[0].before.is_empty());
    }

    #[test]
    fn quiet_gaps_cut_a_key_and_a_race_before_the_cut_is_carried() {
        let mut t = Trace::new();
        // Part 1: cached, read. Part 2 (10 ms later): commit, SETEX of the old value and DEL
        // racing. Part 3 (10 ms later): a read, whose value depends on that race.
        t.redis(0, R, &["SETEX", "order:1", "300", "A"])
            .redis(1, W, &["GET", "order:1"])
            .update(11, 1, "A", "B")
            .redis(12, R, &["SETEX", "order:1", "300", "A"])
            .redis(13, W, &["DEL", "order:1"])
            .redis(14, W, &["GET", "order:1"])
            .redis(24, W, &["GET", "order:1"]);
        let x = t.extract(5 * MS);
        // Part 1 commits nothing and caches what the row holds: provably clean, not explored.
        assert_eq!((x.components.len(), x.quiet), (2, 1));
        let whats =
            |i: usize| -> Vec<&str> { x.info[i].units.iter().map(|u| u.what.as_str()).collect() };
        assert_eq!(
            whats(0),
            ["COMMIT shop.orders id=1 → B", "SETEX order:1 → A", "DEL order:1", "GET order:1"]
        );
        // Part 2 starts from what part 1 left: A cached, by the first SETEX.
        let c1 = &x.components[0];
        assert!(matches!(c1.initial_cache[0].0, CacheVal::Known(_)));
        assert_eq!(x.info[0].initial_writes[0].as_ref().map(|w| w.0), Some(0));
        // Part 3 carries the race (and the commit before it), without their reads.
        assert_eq!(
            whats(1),
            ["COMMIT shop.orders id=1 → B", "SETEX order:1 → A", "DEL order:1", "GET order:1"]
        );
        let c2 = &x.components[1];
        assert_eq!(c2.reads.len(), 1);
        assert_eq!(c2.reads[0].seq, 7);
        // The carried GET at 14 ms (a read of part 2) is not here; part 3's GET is.
        assert_eq!(c2.units.len(), 4);
        assert_eq!(c2.units[3].seq, 7);
        assert_eq!(c2.initial_db, [DbVal::Known(0)]);
        // Once the last writes settle (one DEL), nothing is carried.
        let mut t = Trace::new();
        t.redis(0, R, &["SETEX", "order:1", "300", "A"])
            .update(11, 1, "A", "B")
            .redis(12, W, &["DEL", "order:1"])
            .redis(24, W, &["GET", "order:1"]);
        let x = t.extract(5 * MS);
        // The read's part starts with nothing cached and commits nothing: quiet.
        assert!(x.components.is_empty());
        assert_eq!(x.quiet, 1);
    }

    #[test]
    fn commands_become_the_ops_the_explorer_models() {
        let mut t = Trace::new();
        t.redis(0, R, &["SET", "order:1", "A", "EX", "10"])
            .redis(1, R, &["EXPIRE", "order:1", "20"])
            .redis(2, R, &["PERSIST", "order:1"])
            .redis(3, R, &["PEXPIRE", "order:1", "0"])
            .redis(4, R, &["MGET", "order:1", "cart:2", "order:2"])
            .redis(5, R, &["SET", "order:2", "B"])
            .redis(6, R, &["SET", "order:2", "C", "NX"])
            .redis(7, R, &["GETDEL", "order:2"])
            .redis(8, R, &["APPEND", "order:3", "x"])
            .redis(9, W, &["UNLINK", "order:3", "cart:9"])
            .update(9, 1, "A", "B")
            .update(9, 2, "B", "C")
            .update(9, 3, "x", "y")
            .redis(10, R, &["GET", "order:3"]);
        let x = t.extract(5 * MS);
        // MGET ties order:1 and order:2; APPEND and UNLINK are order:3's own.
        assert_eq!(x.components.len(), 2);
        let c = &x.components[0];
        assert_eq!(c.keys, ["order:1", "order:2"]);
        let ops: Vec<&[Op]> = c.units.iter().map(|u| &u.ops[..]).collect();
        let virt = |ms: i64| T0 + ms * MS;
        assert!(
            matches!(ops[0], [Op::Set { key: 0, value: CacheVal::Known(_), expires_at: Some(e) }] if *e == virt(10_000))
        );
        assert_eq!(ops[1], [Op::Expire { key: 0, expires_at: Some(virt(1 + 20_000)) }]);
        assert_eq!(ops[2], [Op::Expire { key: 0, expires_at: None }]);
        // An expiry already past deletes.
        assert_eq!(ops[3], [Op::Del { key: 0 }]);
        assert!(matches!(
            ops[4],
            [Op::Read { key: 0, subject: 0, read: 0 }, Op::Read { key: 1, subject: 1, read: 1 }]
        ));
        assert!(matches!(
            ops[5],
            [Op::Set { key: 1, value: CacheVal::Known(_), expires_at: None }]
        ));
        // SET NX on a present key changes nothing: no op, no unit; GETDEL reads then deletes.
        assert!(matches!(ops[6], [Op::Read { key: 1, .. }, Op::Del { key: 1 }]));
        assert!(c.approximate, "SET NX is conditional");
        assert_eq!(x.info[0].units[6].what, "GETDEL order:2");
        let c = &x.components[1];
        assert_eq!(c.keys, ["order:3"]);
        assert!(matches!(c.units[0].ops[..], [Op::Set { key: 0, value: CacheVal::Known(_), .. }]));
        assert!(c.approximate, "APPEND depends on the prior value");
        assert_eq!(c.units[1].ops, [Op::Del { key: 0 }]);
        assert_eq!(x.info[1].units[1].what, "UNLINK order:3");
        assert_eq!(x.info[1].units[1].events, [9]);
    }

    #[test]
    fn a_script_with_its_lua_lines_is_one_unit() {
        let mut t = Trace::new();
        t.redis(0, R, &["GET", "order:1"]);
        let at = T0 + MS;
        let call = |args: &[&str]| cachetape_tape::ScriptCall {
            db: 0,
            server_us: at,
            argv: Argv::from_parts(args.iter().map(|a| a.as_bytes())),
        };
        let body = EventBody::Redis(RedisCommand {
            db: 0,
            client: W.into(),
            server_us: at,
            argv: Argv::from_parts(
                [
                    "EVAL",
                    "redis.call('DEL', KEYS[1]) redis.call('SET', KEYS[2], 'B')",
                    "2",
                    "order:1",
                    "order:2",
                ]
                .iter()
                .map(|a| a.as_bytes()),
            ),
            script: vec![call(&["del", "order:1"]), call(&["set", "order:2", "B"])],
        });
        t.push(0, at + 50, body);
        t.redis(2, R, &["GET", "order:2"]).update(3, 1, "A", "B");
        let x = t.extract(5 * MS);
        assert_eq!(x.components.len(), 1);
        let c = &x.components[0];
        // The script ties order:1 and order:2 and moves as one unit with both effects.
        assert_eq!(c.keys, ["order:1", "order:2"]);
        let script = &c.units[1];
        assert!(matches!(script.ops[..], [Op::Del { key: 0 }, Op::Set { key: 1, .. }]));
        assert_eq!(x.info[0].units[1].what, "EVAL (DEL order:1; SET order:2 → B)");
        assert_eq!(x.info[0].units[1].events, [1]);
    }

    #[test]
    fn a_redis_gap_makes_the_keys_it_hid_unknown() {
        let mut t = Trace::new();
        t.redis(0, R, &["SET", "order:1", "A"]).update(1, 1, "A", "B");
        let gap = cachetape_tape::Gap {
            from_us: T0 + 2 * MS,
            to_us: T0 + 3 * MS,
            reason: "connection lost".into(),
        };
        t.push(0, T0 + 3 * MS, EventBody::Gap(gap));
        t.redis(4, R, &["GET", "order:1"]).redis(4, R, &["GET", "order:2"]).update(5, 2, "C", "D");
        let x = t.extract(10 * MS);
        let c = &x.components[0];
        assert_eq!(c.keys, ["order:1"]);
        // order:1 was known, then the gap: a unit on the probe lane makes it unknown.
        let gap = c.units.iter().find(|u| matches!(u.lane, Lane::Probe(0))).unwrap();
        assert_eq!(gap.ops, [Op::Set { key: 0, value: CacheVal::Unknown, expires_at: None }]);
        assert_eq!(x.lane_name(gap.lane), "the recorder's probe of cache");
        // order:2 is first seen after the gap: unknown from the start.
        let c = &x.components[1];
        assert_eq!(c.keys, ["order:2"]);
        assert_eq!(c.initial_cache, [(CacheVal::Unknown, None)]);
    }
}
