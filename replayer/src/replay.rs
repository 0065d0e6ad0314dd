/*!
Replay of a trace in recorded order: [`Replayer`] turns events into [`Step`]s — each Redis
command with the reply the fake store computed and, on request, the store's view of the keys it
touched afterwards — and keeps the counts that make the [`ReplayReport`].

One fake store per Redis source (node) of the trace. Each command runs at its MONITOR timestamp
(`server_us`), which is the virtual clock; Snapshot events set initial state (their time is the
node's last MONITOR time, since the probe's own command sits at that position of the stream);
a Gap on a Redis source makes every key of that node unknown; an `evicted` keyspace notice makes
its key unknown (notices arrive on another connection, so their position is approximate; an
`expired` notice needs nothing: the virtual clock expires keys itself).

Transactions follow MONITOR's order (see [`crate::transactions`]): between a client's MULTI and
its EXEC, that client's lines are the queued commands executing at EXEC time; each is applied
once, on arrival, with the time of the first of them (Redis freezes the clock for EXEC); the
client was sent `+QUEUED` for each ([`Step::queued`]) and EXEC's reply is the array of their
results. Scripts apply their `[lua]` lines ([`crate::scripts`]).
*/

use std::collections::BTreeMap;
use std::fmt;

use cachetape_tape::commands;
use cachetape_tape::{
    ArgvRef, Event, EventBody, EventRef, Header, Micros, Name, RedisCommand, SourceId, SourceKind,
    StoredValue,
};

use crate::command::{Command, Effect};
use crate::prefetch::Prefetch;
use crate::reply::{Bytes, Reply, ReplyRef};
use crate::scripts;
use crate::store::{ClientId, KeyState, Store};
use crate::value::{Entry, HashValue, Millis, SetValue, StringValue, Value, ZSetValue};
use cachetape_base::FxHashMap;

/// How to replay.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// Record the store's view of each command's keys after it ([`Step::keys`]). Costs a
    /// key lookup and a value clone per key; off for pure reply computation.
    pub key_views: bool,
    /// Databases per node (Redis's `databases`, 16 by default).
    pub databases: usize,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions { key_views: false, databases: 16 }
    }
}

/// What the store held for a key after a command.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyView {
    /// Absent (or expired).
    Missing,
    /// Unknown: an unmodelled command or a gap may have changed it.
    Unknown,
    /// Present.
    Present {
        /// The value.
        value: Value,
        /// Expiry, ms since the epoch.
        expires_at: Option<Millis>,
    },
}

/// A key and what the store held for it.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyAfter {
    /// Database index.
    pub db: u32,
    /// The key.
    pub key: Bytes,
    /// Its state after the command.
    pub view: KeyView,
}

/// One command a script ran (a `[lua]` line) and its result.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptStep {
    /// The command.
    pub command: Command,
    /// What it returned to the script.
    pub reply: Reply,
    /// Its keys after it (with [`ReplayOptions::key_views`]).
    pub keys: Vec<KeyAfter>,
}

/// One replayed Redis command.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The event's sequence number.
    pub seq: u64,
    /// The command, or [`Command::Unknown`] when not modelled.
    pub command: Command,
    /// What executing it produced. For a queued command that is its result inside EXEC's
    /// array; for a script, [`Reply::Unknown`] (its return value is not recorded).
    pub reply: Reply,
    /// True when the command was sent inside MULTI: on the wire the client got `+QUEUED`, and
    /// [`Step::reply`] reached it inside EXEC's reply.
    pub queued: bool,
    /// For a script: what each of its calls returned.
    pub script: Vec<ScriptStep>,
    /// The store's view of the command's keys after it (with [`ReplayOptions::key_views`]).
    pub keys: Vec<KeyAfter>,
}

impl Step {
    /// The reply the client received for this line: `+QUEUED` for a queued command.
    pub fn client_reply(&self) -> &Reply {
        if self.queued { &Reply::QUEUED } else { &self.reply }
    }
}

/// One replayed Redis command, borrowed from the [`Replayer`] that computed it
/// ([`Replayer::apply_ref`]): the same fields as [`Step`], valid until the next event.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRef<'a> {
    /// The event's sequence number.
    pub seq: u64,
    /// The command, or [`Command::Unknown`] when not modelled.
    pub command: Command,
    /// What executing it produced ([`Step::reply`]).
    pub reply: ReplyRef<'a>,
    /// Sent inside MULTI ([`Step::queued`]).
    pub queued: bool,
    /// For a script: what each of its calls returned.
    pub script: &'a [ScriptStep],
    /// The store's view of the command's keys after it (with [`ReplayOptions::key_views`]).
    pub keys: &'a [KeyAfter],
}

impl StepRef<'_> {
    /// The owned [`Step`] (a bulk reply's bytes are copied).
    pub fn to_step(&self) -> Step {
        Step {
            seq: self.seq,
            command: self.command,
            reply: self.reply.clone().into_reply(),
            queued: self.queued,
            script: self.script.to_vec(),
            keys: self.keys.to_vec(),
        }
    }
}

#[derive(Default)]
struct ClientState {
    id: ClientId,
    /// Between MULTI and EXEC: results of the queued commands seen so far.
    multi: Option<Multi>,
}

#[derive(Default)]
struct Multi {
    results: Vec<Reply>,
    /// The time all queued commands run at (the first one's).
    exec_us: Option<Micros>,
}

struct Node {
    store: Store,
    clients: FxHashMap<Name, ClientState>,
    next_id: ClientId,
    in_multi: usize,
    last_us: Option<Micros>,
}

/// Replays events in order, one fake store per Redis node.
pub struct Replayer {
    options: ReplayOptions,
    nodes: Vec<Option<Node>>,
    redis_sources: Vec<bool>,
    counts: Counts,
    /// The last step [`Replayer::apply_ref`] computed the owned way (transactions, scripts, key
    /// views, a node's first command), lent out until the next event.
    lent: Option<Step>,
}

#[derive(Default)]
struct Counts {
    events: u64,
    commands: u64,
    script_calls: u64,
    unknown_replies: u64,
    unmodelled: FxHashMap<String, u64>,
    snapshots: u64,
    gaps: u64,
    evictions: u64,
    notes: Vec<String>,
    more_notes: u64,
}

impl Counts {
    fn note(&mut self, text: String) {
        if self.notes.len() < 50 {
            self.notes.push(text);
        } else {
            self.more_notes += 1;
        }
    }

    fn unmodelled(&mut self, argv: &cachetape_tape::ArgvRef<'_>) {
        let name = match commands::lookup_ref(argv) {
            Some(spec) => spec.name.replace('|', " "),
            None => String::from_utf8_lossy(argv.name()).to_ascii_lowercase(),
        };
        *self.unmodelled.entry(name).or_insert(0) += 1;
    }
}

impl Replayer {
    /// A replayer for a trace with this header.
    pub fn new(header: &Header, options: ReplayOptions) -> Replayer {
        let redis_sources = header.sources.iter().map(|s| s.kind == SourceKind::Redis).collect();
        Replayer {
            options,
            nodes: Vec::new(),
            redis_sources,
            counts: Counts::default(),
            lent: None,
        }
    }

    /// The store of Redis source `source`, once it has seen an event.
    pub fn store(&self, source: SourceId) -> Option<&Store> {
        self.nodes.get(source.0 as usize)?.as_ref().map(|n| &n.store)
    }

    fn node(&mut self, source: SourceId) -> &mut Node {
        let i = source.0 as usize;
        if self.nodes.len() <= i {
            self.nodes.resize_with(i + 1, || None);
        }
        let databases = self.options.databases;
        self.nodes[i].get_or_insert_with(|| Node {
            store: Store::with_databases(databases),
            clients: FxHashMap::default(),
            next_id: 1,
            in_multi: 0,
            last_us: None,
        })
    }

    /// A hint that `event` will be applied soon: starts loading the store's memory for its first
    /// key (the command's first argument) up to `step`, so that a caller reading ahead can
    /// overlap the cache misses of a large key space with the work on the events before. Call it
    /// with [`Prefetch::Control`], then [`Prefetch::Bucket`], then [`Prefetch::Value`], about an
    /// event apart. Computes nothing and changes nothing; costs a hash and, from `Bucket` on, a
    /// read of what the step before loaded.
    #[inline]
    pub fn prefetch(&self, event: &Event, step: Prefetch) {
        let EventBody::Redis(rc) = &event.body else { return };
        let Some(key) = rc.argv.get(1) else { return };
        if let Some(Some(node)) = self.nodes.get(event.source.0 as usize) {
            node.store.prefetch(rc.db, key, step);
        }
    }

    /// Applies one event; a Redis command yields its [`Step`].
    pub fn apply(&mut self, event: &Event) -> Option<Step> {
        self.counts.events += 1;
        match &event.body {
            EventBody::Redis(rc) => Some(self.redis(event, rc)),
            EventBody::Snapshot(s) => {
                self.counts.snapshots += 1;
                let node = self.node(event.source);
                let now_ms = node.last_us.unwrap_or(event.recv_us).div_euclid(1000);
                apply_snapshot(&mut node.store, s.db, &s.key, &s.value, s.pttl_ms, now_ms);
                None
            }
            EventBody::Gap(g) => {
                if self.redis_sources.get(event.source.0 as usize).copied().unwrap_or(false) {
                    self.counts.gaps += 1;
                    self.node(event.source).store.mark_all_unknown();
                    self.counts.note(format!(
                        "event {}: the Redis source was not observed for a while ({}): every key \
                         is unknown from here until written again",
                        event.seq, g.reason
                    ));
                }
                None
            }
            EventBody::Keyspace(k) => {
                if &*k.event == "evicted" {
                    self.counts.evictions += 1;
                    self.node(event.source).store.mark_unknown(k.db, &k.key);
                }
                None
            }
            _ => None,
        }
    }

    /// [`Replayer::apply`] without building an owned [`Step`]: the step is borrowed from the
    /// replayer, and a GET's value from the store, until the next event. The replay, the
    /// replies and the report are exactly those of [`Replayer::apply`]; the difference is what
    /// is copied (nothing, for a command outside transactions and scripts).
    #[inline]
    pub fn apply_ref(&mut self, event: &Event) -> Option<StepRef<'_>> {
        let i = event.source.0 as usize;
        if let EventBody::Redis(rc) = &event.body
            && !self.options.key_views
            && let Some(Some(node)) = self.nodes.get(i)
            && node.in_multi == 0
        {
            let command = Command::of(&rc.argv);
            if !command.is_transaction() && !command.is_script() {
                let argv = rc.argv.view();
                return Some(self.fast(i, event.seq, command, rc.db, &argv, rc.server_us));
            }
        }
        let step = self.apply(event)?;
        let step = self.lent.insert(step);
        Some(StepRef {
            seq: step.seq,
            command: step.command,
            reply: ReplyRef::Owned(step.reply.clone()),
            queued: step.queued,
            script: &step.script,
            keys: &step.keys,
        })
    }

    /// [`Replayer::apply_ref`] for an event lent by [`Reader::next_ref`]
    /// (`cachetape_tape::Reader::next_ref`): a Redis command is replayed straight from the
    /// decompressed frame, its arguments never copied. The replay, the replies and the report
    /// are exactly those of [`Replayer::apply`] on the same event.
    #[inline]
    pub fn apply_borrowed(&mut self, event: EventRef<'_>) -> Option<StepRef<'_>> {
        let rc = match event {
            EventRef::Owned(e) => return self.apply_ref(e),
            EventRef::Redis(rc) => rc,
        };
        let i = rc.source().0 as usize;
        if !self.options.key_views
            && let Some(Some(node)) = self.nodes.get(i)
            && node.in_multi == 0
        {
            let argv = rc.argv();
            let command = Command::of_ref(&argv);
            if !command.is_transaction() && !command.is_script() {
                // Start loading the next command's key while this one runs (a hint: a key in
                // another db or none at all only wastes the load).
                if let Some(key) = rc.next_key_hint() {
                    node.store.prefetch_bucket(rc.db(), key);
                }
                return Some(self.fast(i, rc.seq(), command, rc.db(), &argv, rc.server_us()));
            }
        }
        // Transactions, a node's first command, key views: the owned way.
        self.apply_ref(&event.to_event())
    }

    /// `Replayer::redis`'s fast path (a command outside transactions and scripts, on node `i`,
    /// which exists), with the reply left where it is.
    #[inline(always)]
    fn fast(
        &mut self,
        i: usize,
        seq: u64,
        command: Command,
        db: u32,
        argv: &ArgvRef<'_>,
        server_us: Micros,
    ) -> StepRef<'_> {
        let node = self.nodes[i].as_mut().expect("present: checked by the caller");
        self.counts.events += 1;
        self.counts.commands += 1;
        node.last_us = Some(server_us);
        let mut db = db;
        let (reply, effect) = node.store.call_command_ref(command, 0, &mut db, argv, server_us);
        if effect == Effect::Unmodelled {
            self.counts.unmodelled(argv);
        }
        if reply.is_unknown() {
            self.counts.unknown_replies += 1;
        }
        StepRef { seq, command, reply, queued: false, script: &[], keys: &[] }
    }

    fn redis(&mut self, event: &Event, rc: &RedisCommand) -> Step {
        let key_views = self.options.key_views;
        let command = Command::of(&rc.argv);
        self.counts.commands += 1;
        let node = self.node(event.source);
        node.last_us = Some(rc.server_us);
        if node.in_multi != 0 || command.is_transaction() || command.is_script() {
            return self.slow(event, rc, command);
        }
        // Outside transactions and scripts (nearly every command): no client state is needed.
        let mut db = rc.db;
        let (reply, effect) =
            node.store.call_command(command, 0, &mut db, &rc.argv.view(), rc.server_us);
        let keys = if key_views {
            views(&node.store, rc.db, &rc.argv.view(), rc.server_us)
        } else {
            Vec::new()
        };
        self.account(effect, &reply, &rc.argv.view());
        Step { seq: event.seq, command, reply, queued: false, script: Vec::new(), keys }
    }

    fn account(&mut self, effect: Effect, reply: &Reply, argv: &cachetape_tape::ArgvRef<'_>) {
        if effect == Effect::Unmodelled {
            self.counts.unmodelled(argv);
        }
        if reply.is_unknown() {
            self.counts.unknown_replies += 1;
        }
    }

    /// A command inside a transaction, a transaction command or a script.
    #[inline(never)]
    fn slow(&mut self, event: &Event, rc: &RedisCommand, command: Command) -> Step {
        let key_views = self.options.key_views;
        let mut step = Step {
            seq: event.seq,
            command,
            reply: Reply::Unknown,
            queued: false,
            script: Vec::new(),
            keys: Vec::new(),
        };
        let node = self.node(event.source);
        if !node.clients.contains_key(&rc.client) {
            let id = node.next_id;
            node.next_id += 1;
            node.clients.insert(rc.client.clone(), ClientState { id, multi: None });
        }
        let client = node.clients.get_mut(&rc.client).expect("inserted above");
        let id = client.id;
        let now_ms = rc.server_us.div_euclid(1000);
        let mut notes = Vec::new();
        let mut effect = Effect::Modelled;

        let in_multi = client.multi.is_some();
        if in_multi
            && !matches!(
                command,
                Command::Multi | Command::Exec | Command::Discard | Command::Watch
            )
        {
            // A queued command, executing now as part of EXEC.
            let multi = client.multi.as_mut().expect("in multi");
            let first = multi.exec_us.is_none();
            let now_us = *multi.exec_us.get_or_insert(rc.server_us);
            if first {
                if node.store.is_dirty(id) || node.store.watched_key_expired(id, now_ms) {
                    notes.push(format!(
                        "event {}: the transaction of {} ran although, in the replay, a key it \
                         watched had changed",
                        event.seq, rc.client
                    ));
                }
                node.store.unwatch_all(id);
                node.store.clear_dirty(id);
            }
            let (reply, e, script) = run(&mut node.store, command, id, rc, now_us, key_views);
            effect = e;
            step.script = script;
            let client = node.clients.get_mut(&rc.client).expect("present");
            client.multi.as_mut().expect("in multi").results.push(reply.clone());
            step.reply = reply;
            step.queued = true;
        } else {
            step.reply = match command {
                Command::Multi => {
                    if in_multi {
                        Reply::err("ERR MULTI calls can not be nested")
                    } else {
                        client.multi = Some(Multi::default());
                        node.in_multi += 1;
                        Reply::OK
                    }
                }
                Command::Exec => match client.multi.take() {
                    None => Reply::err("ERR EXEC without MULTI"),
                    Some(multi) => {
                        node.in_multi -= 1;
                        let reply = if multi.exec_us.is_some() {
                            Reply::Array(multi.results)
                        } else if node.store.is_dirty(id)
                            || node.store.watched_key_expired(id, now_ms)
                        {
                            Reply::NilArray
                        } else {
                            // Empty, or refused with EXECABORT: MONITOR cannot tell them apart.
                            Reply::Array(Vec::new())
                        };
                        node.store.unwatch_all(id);
                        node.store.clear_dirty(id);
                        reply
                    }
                },
                Command::Discard => match client.multi.take() {
                    None => Reply::err("ERR DISCARD without MULTI"),
                    Some(_) => {
                        node.in_multi -= 1;
                        node.store.unwatch_all(id);
                        node.store.clear_dirty(id);
                        Reply::OK
                    }
                },
                Command::Watch if in_multi => Reply::err("ERR WATCH inside MULTI is not allowed"),
                _ => {
                    let (reply, e, script) =
                        run(&mut node.store, command, id, rc, rc.server_us, key_views);
                    effect = e;
                    step.script = script;
                    reply
                }
            };
        }
        if key_views && !command.is_script() {
            step.keys = views(&node.store, rc.db, &rc.argv.view(), rc.server_us);
        }
        for n in notes {
            self.counts.note(n);
        }
        self.counts.script_calls += step.script.len() as u64;
        for call in &rc.script {
            if Command::of(&call.argv) == Command::Unknown {
                self.counts.unmodelled(&call.argv.view());
            }
        }
        let reply = step.reply.clone();
        self.account(effect, &reply, &rc.argv.view());
        step
    }

    /// The report so far (complete once every event has been applied).
    pub fn report(&self) -> ReplayReport {
        let c = &self.counts;
        let mut unknown_keys = Vec::new();
        let mut unknown_databases = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            for (db, key) in node.store.unknown_keys() {
                unknown_keys.push(UnknownKey { source: SourceId(i as u16), db, key: key.to_vec() });
            }
            for db in node.store.unknown_databases() {
                unknown_databases.push((SourceId(i as u16), db));
            }
        }
        ReplayReport {
            events: c.events,
            commands: c.commands,
            script_calls: c.script_calls,
            unknown_replies: c.unknown_replies,
            unmodelled: c.unmodelled.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            unknown_keys,
            unknown_databases,
            snapshots: c.snapshots,
            gaps: c.gaps,
            evictions: c.evictions,
            notes: c.notes.clone(),
            more_notes: c.more_notes,
        }
    }
}

/// Runs one command (a script: its recorded calls) for the slow path.
fn run(
    store: &mut Store,
    command: Command,
    client: ClientId,
    rc: &RedisCommand,
    now_us: Micros,
    key_views: bool,
) -> (Reply, Effect, Vec<ScriptStep>) {
    if command.is_script() {
        let mut steps = Vec::with_capacity(rc.script.len());
        scripts::apply(store, client, &rc.script, now_us, |_, out| {
            steps.push(ScriptStep { command: out.command, reply: out.reply, keys: Vec::new() });
        });
        // The script is atomic: its calls' keys are viewed once it has finished.
        if key_views {
            for (s, call) in steps.iter_mut().zip(&rc.script) {
                s.keys = views(store, call.db, &call.argv.view(), now_us);
            }
        }
        return (Reply::Unknown, Effect::Modelled, steps);
    }
    let mut db = rc.db;
    let (reply, effect) = store.call_command(command, client, &mut db, &rc.argv.view(), now_us);
    (reply, effect, Vec::new())
}

/// The store's view of `argv`'s keys in `db` at `now_us`.
fn views(
    store: &Store,
    db: u32,
    argv: &cachetape_tape::ArgvRef<'_>,
    now_us: Micros,
) -> Vec<KeyAfter> {
    let keys = commands::keys_ref(argv);
    let now = now_us.div_euclid(1000);
    let mut out: Vec<KeyAfter> = Vec::with_capacity(keys.positions.len());
    for k in keys.iter_ref(argv) {
        if out.iter().any(|o| &o.key[..] == k) {
            continue;
        }
        let view = match store.key(db, k, now) {
            KeyState::Missing => KeyView::Missing,
            KeyState::Unknown => KeyView::Unknown,
            KeyState::Present(e) => {
                KeyView::Present { value: e.value.clone(), expires_at: e.expires_at }
            }
        };
        out.push(KeyAfter { db, key: Bytes::from(k), view });
    }
    out
}

fn apply_snapshot(
    store: &mut Store,
    db: u32,
    key: &[u8],
    value: &StoredValue,
    pttl_ms: i64,
    now: Millis,
) {
    if db as usize >= store.databases() {
        return;
    }
    let value = match value {
        StoredValue::Missing => {
            store.remove_key(db, key);
            return;
        }
        StoredValue::Other(_) => {
            store.mark_unknown(db, key);
            return;
        }
        _ if pttl_ms == -2 => {
            store.remove_key(db, key);
            return;
        }
        StoredValue::String(s) => Value::String(StringValue::new(s)),
        StoredValue::Hash(pairs) => {
            let mut h = HashValue::default();
            h.try_conversion(pairs.iter().flat_map(|(f, v)| [&f[..], &v[..]]));
            for (f, v) in pairs {
                h.set(f, Bytes::from(&v[..]));
            }
            Value::Hash(h)
        }
        StoredValue::List(items) => {
            Value::List(items.iter().map(|v| Bytes::from(&v[..])).collect())
        }
        StoredValue::Set(members) => {
            let mut s = members.first().map_or_else(SetValue::default, |m| SetValue::for_first(m));
            for m in members {
                s.insert(m);
            }
            Value::Set(s)
        }
        StoredValue::SortedSet(items) => {
            let mut z = ZSetValue::default();
            for (m, score) in items {
                z.set(m, *score);
            }
            Value::ZSet(z)
        }
    };
    let expires_at = (pttl_ms >= 0).then(|| now + pttl_ms);
    store.set_entry(db, key, Entry { value, expires_at });
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

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "replayed {} Redis commands ({} run by scripts) from {} events",
            self.commands, self.script_calls, self.events
        )?;
        writeln!(f, "replies unknown: {}", self.unknown_replies)?;
        if self.unmodelled.is_empty() {
            writeln!(f, "unmodelled commands: none")?;
        } else {
            let list: Vec<String> =
                self.unmodelled.iter().map(|(n, c)| format!("{n} ×{c}")).collect();
            writeln!(f, "unmodelled commands: {}", list.join(", "))?;
        }
        if !self.unknown_keys.is_empty() {
            let shown: Vec<String> = self
                .unknown_keys
                .iter()
                .take(20)
                .map(|k| format!("{}", String::from_utf8_lossy(&k.key)))
                .collect();
            let more = self.unknown_keys.len().saturating_sub(20);
            write!(f, "unknown keys ({}): {}", self.unknown_keys.len(), shown.join(", "))?;
            if more > 0 {
                write!(f, " and {more} more")?;
            }
            writeln!(f)?;
        }
        for (source, db) in &self.unknown_databases {
            writeln!(f, "every key of db {db} on source {} is unknown", source.0)?;
        }
        if self.snapshots > 0 || self.gaps > 0 || self.evictions > 0 {
            writeln!(
                f,
                "snapshots: {}, gaps: {}, evictions: {}",
                self.snapshots, self.gaps, self.evictions
            )?;
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        if self.more_notes > 0 {
            writeln!(f, "note: … and {} more", self.more_notes)?;
        }
        Ok(())
    }
}
