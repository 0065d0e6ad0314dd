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

Nearly every command runs straight on its node's store; a command inside MULTI…EXEC, a
transaction command or a script goes through the node's connection state (`node.rs`), which
follows MONITOR's order of transactions. The other files: `step.rs` (what a command yields),
`snapshot.rs` (initial state), `report.rs` (the counts and the report).
*/

mod node;
mod report;
mod snapshot;
mod step;

pub use report::{ReplayReport, UnknownKey};
pub use step::{KeyAfter, KeyView, ScriptStep, Step, StepRef};

use cachetape_tape::{
    ArgvRef, Event, EventBody, EventRef, Header, Micros, RedisCommand, SourceId, SourceKind,
};

use crate::command::Command;
use crate::dispatch::Effect;
use crate::prefetch::Prefetch;
use crate::reply::{Reply, ReplyRef};
use crate::store::Store;
use node::Node;
use report::Counts;
use snapshot::apply_snapshot;
use step::views;

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
        self.nodes[i].get_or_insert_with(|| Node::new(databases))
    }

    /// A hint that `event` will be applied soon: starts loading the store's memory for its first
    /// key (the command's first argument) up to `step`, so that a caller reading ahead can
    /// overlap the cache misses of a large key space with the work on the events before. Call it
    /// with [`Prefetch::Control`], then [`Prefetch::Bucket`], then [`Prefetch::Value`], about an
    /// event apart. Computes nothing and changes nothing; costs a hash and a read of what the
    /// step before loaded (for `Control`, the first control bytes of the key's lookup).
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

    /// [`Replayer::apply_ref`] for an event lent by
    /// [`Reader::next_ref`](cachetape_tape::Reader::next_ref): a Redis command is replayed straight from the
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

    fn account(&mut self, effect: Effect, reply: &Reply, argv: &ArgvRef<'_>) {
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
        let node = self.node(event.source);
        let (step, effect, note) = node.connection_step(event.seq, rc, command, key_views);
        if let Some(note) = note {
            self.counts.note(note);
        }
        self.counts.script_calls += step.script.len() as u64;
        for call in &rc.script {
            if Command::of(&call.argv) == Command::Unknown {
                self.counts.unmodelled(&call.argv.view());
            }
        }
        self.account(effect, &step.reply, &rc.argv.view());
        step
    }

    /// The report so far (complete once every event has been applied).
    pub fn report(&self) -> ReplayReport {
        let c = &self.counts;
        let mut unknown_keys = Vec::new();
        let mut unknown_databases = Vec::new();
        let mut unmaterialised = 0;
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            unmaterialised += node.store.bounds().unmaterialised();
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
            unmaterialised,
            snapshots: c.snapshots,
            gaps: c.gaps,
            evictions: c.evictions,
            notes: c.notes.clone(),
            more_notes: c.more_notes,
        }
    }
}
