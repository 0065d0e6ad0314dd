/*!
The replaying front: [`Observer`] replays each event on the fake store
([`cachetape_replayer::Replayer`], no key views) and writes down what the judge needs of it
([`Observations`]): which mapped keys a command read and what the replies said, and what the
store held of each mapped key the command (or its script's calls) may have written, right after
it. It owns the analysis' only key and client ids (`interning.rs`).

Nothing here depends on what the judge computes, so the crate's `feed` can run the observer on a
thread of its own, a batch ahead of the judge. A batch is observed with read-ahead: the store's
memory for the commands a few events on and the key table's buckets are loaded while the events
before are replayed, so the cache misses of a large key space overlap.
*/

use cachetape_replayer::{
    Command, KeyState, KeyView, Prefetch, ReplayOptions, ReplayReport, Replayer, Reply, ReplyRef,
    Store,
};
use cachetape_tape::{Argv, Event, EventBody, Header, RedisCommand, SourceId};

use super::coverage::Families;
use super::interning::{Clients, MappedKeys};
use super::observations::{
    Kind, NO_CLIENT, NO_KEY, Observations, Observed, ObservedRead, ObservedWrite, ReadReply,
    WHOLE_VALUE,
};
use crate::mapping::Mapping;

/// The replayer and what it lets the analysis see.
pub(crate) struct Observer {
    replayer: Replayer,
    keys: MappedKeys,
    clients: Clients,
    /// Each event's first argument hashed as a key, for the batch being observed.
    hashes: Vec<Option<u64>>,
    /// The commands of the current script's calls.
    calls: Vec<Command>,
    /// The key families written that no rule maps.
    families: Families,
}

impl Observer {
    /// An observer of a trace with `header`, under `mapping`; `nodes` names each source.
    pub(crate) fn new(header: &Header, mapping: Mapping, nodes: Vec<String>) -> Observer {
        Observer {
            // No key views: the store is asked about mapped keys only after commands that may
            // write.
            replayer: Replayer::new(header, ReplayOptions::default()),
            keys: MappedKeys::new(mapping, nodes),
            clients: Clients::default(),
            hashes: Vec::new(),
            calls: Vec::new(),
            families: Families::default(),
        }
    }

    /// What the replay did (unmodelled commands, gaps).
    pub(crate) fn replay_report(&self) -> ReplayReport {
        self.replayer.report()
    }

    /// The key families written that no rule maps.
    pub(crate) fn families(&self) -> &Families {
        &self.families
    }

    /// Replays `events`, in order, appending one record each to `out`.
    pub(crate) fn observe_all(&mut self, events: &[Event], out: &mut Observations) {
        // Each command's first key hashed once, while the decoder's bytes are warm.
        self.hashes.clear();
        self.hashes.extend(events.iter().map(first_key_hash));
        for (i, event) in events.iter().enumerate() {
            // The store's memory for the commands ahead, in steps (see `Prefetch`).
            if let Some(e) = events.get(i + 3) {
                self.replayer.prefetch(e, Prefetch::Control);
            }
            if let Some(e) = events.get(i + 2) {
                self.replayer.prefetch(e, Prefetch::Bucket);
            }
            if let Some(e) = events.get(i + 1) {
                self.replayer.prefetch(e, Prefetch::Value);
            }
            if let Some(&Some(h)) = self.hashes.get(i + 6) {
                self.keys.prefetch(h, false);
            }
            if let Some(&Some(h)) = self.hashes.get(i + 3) {
                self.keys.prefetch(h, true);
            }
            self.observe(event, self.hashes[i], out);
        }
    }

    /// Replays `event` and records it; `first` is its first argument's key hash.
    #[inline]
    fn observe(&mut self, event: &Event, first: Option<u64>, out: &mut Observations) {
        let mut record = Observed {
            seq: event.seq,
            recv_us: event.recv_us,
            server_us: 0,
            source: event.source,
            kind: Kind::Other,
            client: NO_CLIENT,
            key: NO_KEY,
            reads_end: 0,
            writes_end: 0,
            new_keys_end: 0,
        };
        let (reads, writes) = (out.reads.len(), out.writes.len());
        let source = event.source;
        match &event.body {
            EventBody::Redis(rc) => {
                record.kind = Kind::Command;
                record.server_us = rc.server_us;
                let Observer { replayer, keys, calls, families, .. } = self;
                // The key hash computed ahead is the first argument's, in the command's db.
                let hash = |key: &[u8]| match (first, rc.argv.get(1)) {
                    (Some(h), Some(arg)) if std::ptr::eq(key, arg) => h,
                    _ => MappedKeys::hash(source, rc.db, key),
                };
                let Some(step) = replayer.apply_ref(event) else { unreachable!("a command") };
                let command = step.command;
                if command.is_judged_read() && !is_error(&step.reply) {
                    read(keys, source, rc, command, &step.reply, hash, out);
                }
                calls.clear();
                calls.extend(step.script.iter().map(|s| s.command));
                // The store, now that the step is done with.
                let writes_key = !command.is_read_only();
                if writes_key || !calls.is_empty() {
                    let store = replayer.store(source);
                    let now_ms = rc.server_us.div_euclid(1000);
                    if writes_key {
                        let argv = &rc.argv;
                        written(
                            keys, families, store, source, command, rc.db, argv, now_ms, hash, out,
                        );
                    }
                    for (&c, call) in calls.iter().zip(&rc.script) {
                        if !c.is_read_only() {
                            let hashed = |key: &[u8]| MappedKeys::hash(source, call.db, key);
                            let argv = &call.argv;
                            written(
                                keys, families, store, source, c, call.db, argv, now_ms, hashed,
                                out,
                            );
                        }
                    }
                }
                if out.reads.len() > reads || out.writes.len() > writes {
                    record.client = self.clients.id(&rc.client, &mut out.new_clients);
                    record.key = match out.reads.get(reads) {
                        Some(r) => r.key,
                        None => out.writes[writes].key,
                    };
                }
            }
            // Anything else the replayer applies yields no step.
            EventBody::Snapshot(s) => {
                self.replayer.apply(event);
                record.kind = Kind::Snapshot;
                let h = MappedKeys::hash(source, s.db, &s.key);
                record.key = self.keys.intern(h, source, s.db, &s.key, out);
            }
            EventBody::Keyspace(k) if &*k.event == "evicted" => {
                self.replayer.apply(event);
                record.kind = Kind::Evicted;
                let h = MappedKeys::hash(source, k.db, &k.key);
                record.key = self.keys.find(h, source, k.db, &k.key).unwrap_or(NO_KEY);
            }
            _ => {
                self.replayer.apply(event);
            }
        }
        record.reads_end = out.reads.len() as u32;
        record.writes_end = out.writes.len() as u32;
        record.new_keys_end = out.new_keys.len() as u32;
        out.records.push(record);
    }
}

/// Records the reads of mapped keys of judged read `rc` (`command`), which replied `reply` (not an error):
/// each key of an MGET with its item of the reply, the fields of an HGET or HMGET projected.
#[inline]
fn read(
    keys: &mut MappedKeys,
    source: SourceId,
    rc: &RedisCommand,
    command: Command,
    reply: &ReplyRef<'_>,
    hash: impl Fn(&[u8]) -> u64,
    out: &mut Observations,
) {
    let mut read = |key: &[u8], class: ReadReply, out: &mut Observations| {
        let k = keys.intern(hash(key), source, rc.db, key, out);
        if k != NO_KEY {
            out.reads.push(ObservedRead { key: k, reply: class, fields: WHOLE_VALUE });
        }
        k
    };
    match command {
        Command::MGet => {
            for (i, key) in rc.argv.iter().skip(1).enumerate() {
                let class = match reply {
                    ReplyRef::Owned(Reply::Array(items)) => {
                        ReadReply::of(items.get(i).unwrap_or(&Reply::Unknown))
                    }
                    other => class(other),
                };
                read(key, class, out);
            }
        }
        Command::HGet | Command::HMGet => {
            let Some(key) = rc.argv.get(1) else { return };
            let class = class(reply);
            let k = read(key, class, out);
            // The fields a hit returned, projected (a miss returned none).
            if k != NO_KEY && matches!(class, ReadReply::Hit | ReadReply::Error) {
                let rule = &keys.mapping().rules[keys.rule(k) as usize];
                let fields = out.field_reads.len() as u32;
                project_fields(rule, &rc.argv, reply, out);
                out.reads.last_mut().expect("just read").fields = fields;
            }
        }
        _ => {
            if let Some(key) = rc.argv.get(1) {
                read(key, class(reply), out);
            }
        }
    }
}

/// The hash of an event's first argument as a key of its node and db (a command outside a
/// script).
#[inline]
fn first_key_hash(event: &Event) -> Option<u64> {
    let EventBody::Redis(rc) = &event.body else { return None };
    let key = rc.argv.get(1).filter(|_| rc.script.is_empty())?;
    Some(MappedKeys::hash(event.source, rc.db, key))
}

fn is_error(reply: &ReplyRef<'_>) -> bool {
    matches!(reply, ReplyRef::Owned(r) if r.is_error())
}

/// The class of a single key's reply.
#[inline]
fn class(reply: &ReplyRef<'_>) -> ReadReply {
    match reply {
        ReplyRef::Bulk(_) => ReadReply::Hit,
        ReplyRef::Owned(r) => ReadReply::of(r),
    }
}

/// Records what a field read (HGET/HMGET: the fields are the arguments after the key) returned,
/// projected under `rule`.
fn project_fields(
    rule: &crate::mapping::Rule,
    argv: &Argv,
    reply: &ReplyRef<'_>,
    out: &mut Observations,
) {
    let fields: Vec<&[u8]> = argv.iter().skip(2).collect();
    let returned: Vec<Option<&[u8]>> = match reply {
        ReplyRef::Bulk(b) => vec![Some(b)],
        ReplyRef::Owned(Reply::Bulk(b)) => vec![Some(&b[..])],
        ReplyRef::Owned(Reply::Array(items)) => items.iter().map(|i| i.as_bulk()).collect(),
        ReplyRef::Owned(_) => Vec::new(),
    };
    let get = |f: &[u8]| -> Option<&[u8]> {
        fields.iter().position(|x| *x == f).and_then(|i| returned.get(i).copied().flatten())
    };
    let mut proj = Vec::new();
    let projected = rule.project_hash(get, &mut proj).map(|_| {
        let start = out.bytes.len();
        out.bytes.extend_from_slice(&proj);
        start..out.bytes.len()
    });
    out.field_reads.push(projected);
}

/// Records what the store holds, after a command, of each mapped key it may have written; a
/// value written to an unmapped key counts for its family.
#[allow(clippy::too_many_arguments)]
#[inline]
fn written(
    keys: &mut MappedKeys,
    families: &mut Families,
    store: Option<&Store>,
    source: SourceId,
    command: Command,
    db: u32,
    argv: &Argv,
    now_ms: i64,
    hash: impl Fn(&[u8]) -> u64,
    out: &mut Observations,
) {
    let unconditional = command.overwrites(argv);
    command.for_written_keys(argv, |key| {
        let k = keys.intern(hash(key), source, db, key, out);
        if k == NO_KEY {
            if Families::counts(command) {
                families.note(key);
            }
            return;
        }
        let view = match store.map(|s| s.key(db, key, now_ms)) {
            Some(KeyState::Present(e)) => {
                KeyView::Present { value: e.value.clone(), expires_at: e.expires_at }
            }
            Some(KeyState::Unknown) => KeyView::Unknown,
            Some(KeyState::Missing) | None => KeyView::Missing,
        };
        out.writes.push(ObservedWrite { key: k, command, unconditional, view });
    });
}
