/*!
Hand-made traces for tests and benchmarks, written through [`cachetape_tape::Writer`].

A [`TraceBuilder`] appends events in the order it is called, each with the writer's next
sequence number, so a test reads as the trace it builds:

```
use cachetape_testkit::trace::{TraceBuilder, cache_and_db, image, text};
use cachetape_tape::Value;

const T0: i64 = 1_795_666_525_000_000;
let mut t = TraceBuilder::in_memory(&cache_and_db(T0));
t.monitor_delay(100)
    .redis(0, "10.0.0.9:40000", ["GET", "order:42"])
    .update(
        10_000,
        "shop.orders",
        image([("id", Value::Int(42)), ("status", text("CANCELLED"))]),
        image([("id", Value::Int(42)), ("status", text("PAID"))]),
    )
    .redis(11_000, "10.0.0.7:51234", ["DEL", "order:42"]);
assert_eq!(t.events().len(), 4);
```

Times (`at`) are microseconds after the trace's creation time ([`Header::created_us`]). A Redis
command carries `at` as its MONITOR timestamp and is received [`TraceBuilder::monitor_delay`]
later; binlog events (row changes, commits) and the other kinds are received at `at`. Row changes
join the open transaction (a new one is opened, numbered from 1, when none is); [`commit`] closes
it. Redis commands go to the first Redis source of the header, binlog events to its first
database source; [`TraceBuilder::event`] appends anything else.

Any failure to write panics: this is test code, and the message says what failed.

[`commit`]: TraceBuilder::commit
*/

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use cachetape_tape::{
    Argv, Capture, Cell, ClockProbe, Commit, Event, EventBody, Gap, Header, Micros, Name, Reader,
    RedisCommand, RowChange, RowImage, RowOp, ScriptCall, Snapshot, Source, SourceId, SourceKind,
    StoredValue, Value, Writer, WriterOptions,
};

/// A header with one Redis node `cache` (`cache:1`) and one MariaDB `db` (`db:1`), both recorded
/// live, created at `created_us`: the shape of most hand-made traces.
pub fn cache_and_db(created_us: Micros) -> Header {
    let mut header = Header::new(created_us);
    header.add_source(source("cache", SourceKind::Redis, "cache:1"));
    header.add_source(source("db", SourceKind::MariaDb, "db:1"));
    header
}

/// A header with one Redis node `name` at `address`, recorded live, created at `created_us`.
pub fn redis_only(created_us: Micros, name: &str, address: &str) -> Header {
    let mut header = Header::new(created_us);
    header.add_source(source(name, SourceKind::Redis, address));
    header
}

/// A live-recorded source without a version.
pub fn source(name: &str, kind: SourceKind, address: &str) -> Source {
    Source {
        name: name.into(),
        kind,
        address: address.into(),
        version: None,
        capture: Capture::Live,
    }
}

/// A row image from `(column, value)` pairs, in order.
pub fn image<'a>(cells: impl IntoIterator<Item = (&'a str, Value)>) -> RowImage {
    RowImage {
        cells: cells
            .into_iter()
            .map(|(column, value)| Cell { column: column.into(), value })
            .collect(),
    }
}

/// A CHAR/VARCHAR column's value.
pub fn text(s: &str) -> Value {
    Value::Bytes(s.as_bytes().to_vec())
}

/// Builds a trace event by event (see the module documentation).
pub struct TraceBuilder<W: Write> {
    writer: Option<Writer<W>>,
    origin: Micros,
    monitor_delay: Micros,
    cache: SourceId,
    db: SourceId,
    xids: bool,
    last_txn: u64,
    open_txn: Option<u64>,
}

impl TraceBuilder<BufWriter<File>> {
    /// A trace written to the file at `path` (created or replaced).
    pub fn create(path: impl AsRef<Path>, header: &Header) -> Self {
        let path = path.as_ref();
        let writer = Writer::create(path, header, WriterOptions::default())
            .unwrap_or_else(|e| panic!("cannot create the trace {}: {e}", path.display()));
        TraceBuilder::with_writer(writer, header)
    }
}

impl TraceBuilder<Vec<u8>> {
    /// A trace kept in memory; [`TraceBuilder::finish`] returns its bytes, or
    /// [`TraceBuilder::events`] its events.
    pub fn in_memory(header: &Header) -> Self {
        TraceBuilder::new(Vec::new(), "the in-memory trace", header, WriterOptions::default())
    }

    /// Closes the trace and returns its events, read back from its bytes.
    pub fn events(&mut self) -> Vec<Event> {
        let bytes = self.finish();
        let reader = Reader::new(&bytes[..], "the in-memory trace")
            .unwrap_or_else(|e| panic!("cannot read back the in-memory trace: {e}"));
        reader.map(|e| e.expect("an event of the in-memory trace")).collect()
    }
}

impl<W: Write> TraceBuilder<W> {
    /// A trace written to `out` (named `name` in errors) with `options`.
    pub fn new(out: W, name: &str, header: &Header, options: WriterOptions) -> Self {
        let writer = Writer::new(out, name, header, options)
            .unwrap_or_else(|e| panic!("cannot start the trace {name}: {e}"));
        TraceBuilder::with_writer(writer, header)
    }

    fn with_writer(writer: Writer<W>, header: &Header) -> Self {
        let first = |want: fn(SourceKind) -> bool| {
            header
                .sources
                .iter()
                .position(|s| want(s.kind))
                .map_or(SourceId(0), |i| SourceId(i as u16))
        };
        TraceBuilder {
            writer: Some(writer),
            origin: header.created_us,
            monitor_delay: 0,
            cache: first(|k| k == SourceKind::Redis),
            db: first(|k| k != SourceKind::Redis),
            xids: true,
            last_txn: 0,
            open_txn: None,
        }
    }

    /// Redis commands are received this many µs after their MONITOR timestamp (0 unless set).
    pub fn monitor_delay(&mut self, us: Micros) -> &mut Self {
        self.monitor_delay = us;
        self
    }

    /// Whether commits carry an XID (their transaction's number), as InnoDB commits in a MariaDB
    /// binlog do; on unless turned off.
    pub fn xids(&mut self, on: bool) -> &mut Self {
        self.xids = on;
        self
    }

    /// Appends `body` from `source`, received at `recv_us` (absolute, µs since the epoch);
    /// returns its sequence number.
    pub fn event(&mut self, source: SourceId, recv_us: Micros, body: EventBody) -> u64 {
        self.writer
            .as_mut()
            .expect("the trace is already closed")
            .append(source, recv_us, body)
            .unwrap_or_else(|e| panic!("cannot append to the trace: {e}"))
    }

    /// The sequence number the next event gets.
    pub fn next_seq(&self) -> u64 {
        self.writer.as_ref().map_or(0, Writer::next_seq)
    }

    /// `args` sent by `client` in db 0, at `at`.
    pub fn redis<A: AsRef<[u8]>>(
        &mut self,
        at: Micros,
        client: impl Into<Name>,
        args: impl IntoIterator<Item = A>,
    ) -> &mut Self {
        self.redis_in(0, at, client, args)
    }

    /// `args` sent by `client` in db `db`, at `at`.
    pub fn redis_in<A: AsRef<[u8]>>(
        &mut self,
        db: u32,
        at: Micros,
        client: impl Into<Name>,
        args: impl IntoIterator<Item = A>,
    ) -> &mut Self {
        let server_us = self.origin + at;
        let command = RedisCommand {
            db,
            client: client.into(),
            server_us,
            argv: Argv::from_parts(args),
            script: Vec::new(),
        };
        self.command(command)
    }

    /// A script (`EVAL …`) sent by `client` in db 0 at `at`, followed by the `[0 lua]` lines of
    /// the commands it ran, all at the same time.
    pub fn script<A: AsRef<[u8]>>(
        &mut self,
        at: Micros,
        client: impl Into<Name>,
        args: impl IntoIterator<Item = A>,
        calls: &[&[&str]],
    ) -> &mut Self {
        let server_us = self.origin + at;
        let script = calls
            .iter()
            .map(|call| ScriptCall { db: 0, server_us, argv: Argv::from_parts(call.iter()) })
            .collect();
        let command = RedisCommand {
            db: 0,
            client: client.into(),
            server_us,
            argv: Argv::from_parts(args),
            script,
        };
        self.command(command)
    }

    /// A Redis command as given, received [`TraceBuilder::monitor_delay`] after its MONITOR
    /// timestamp.
    pub fn command(&mut self, command: RedisCommand) -> &mut Self {
        let recv_us = command.server_us + self.monitor_delay;
        self.event(self.cache, recv_us, EventBody::Redis(command));
        self
    }

    /// A row change of `table` in the open transaction (opening one if none is), at `at`.
    pub fn row(
        &mut self,
        at: Micros,
        table: &str,
        op: RowOp,
        before: Option<RowImage>,
        after: Option<RowImage>,
    ) -> &mut Self {
        let txn = *self.open_txn.get_or_insert_with(|| {
            self.last_txn += 1;
            self.last_txn
        });
        let t = self.origin + at;
        let change =
            RowChange { table: table.into(), op, before, after, txn, header_secs: secs(t) };
        self.event(self.db, t, EventBody::Row(change));
        self
    }

    /// Commits the open transaction (an empty one if none is open) at `at`.
    pub fn commit(&mut self, at: Micros) -> &mut Self {
        let txn = match self.open_txn.take() {
            Some(txn) => txn,
            None => {
                self.last_txn += 1;
                self.last_txn
            }
        };
        let t = self.origin + at;
        let commit = Commit {
            txn,
            header_secs: secs(t),
            commit_us: None,
            gtid: None,
            xid: self.xids.then_some(txn),
        };
        self.event(self.db, t, EventBody::Commit(commit));
        self
    }

    /// An UPDATE of one row of `table` from `before` to `after`, committed, at `at`.
    pub fn update(
        &mut self,
        at: Micros,
        table: &str,
        before: RowImage,
        after: RowImage,
    ) -> &mut Self {
        self.row(at, table, RowOp::Update, Some(before), Some(after)).commit(at)
    }

    /// A clock probe of `source`: sent at `send`, the source's clock said `remote`, the reply
    /// came back (and the event was received) at `recv`.
    pub fn probe(
        &mut self,
        source: SourceId,
        send: Micros,
        remote: Micros,
        recv: Micros,
    ) -> &mut Self {
        let o = self.origin;
        let probe =
            ClockProbe { local_send_us: o + send, remote_us: o + remote, local_recv_us: o + recv };
        self.event(source, o + recv, EventBody::ClockProbe(probe));
        self
    }

    /// The recorder's snapshot of `key` in db `db` at `at`: its value and PTTL.
    pub fn snapshot(
        &mut self,
        at: Micros,
        db: u32,
        key: &[u8],
        value: StoredValue,
        pttl_ms: i64,
    ) -> &mut Self {
        let snapshot = Snapshot { db, key: key.to_vec(), value, pttl_ms };
        self.event(self.cache, self.origin + at, EventBody::Snapshot(snapshot));
        self
    }

    /// The Redis source was lost from `from` to `to`, noted at `at`.
    pub fn gap(&mut self, at: Micros, from: Micros, to: Micros, reason: &str) -> &mut Self {
        let o = self.origin;
        let gap = Gap { from_us: o + from, to_us: o + to, reason: reason.into() };
        self.event(self.cache, o + at, EventBody::Gap(gap));
        self
    }

    /// Closes the trace (its last frame and footer written) and returns the output: the file's
    /// buffered writer, or the bytes of an in-memory trace.
    pub fn finish(&mut self) -> W {
        let writer = self.writer.take().expect("the trace is already closed");
        writer.finish().unwrap_or_else(|e| panic!("cannot close the trace: {e}")).0
    }
}

/// The binlog header's whole seconds of `t`.
fn secs(t: Micros) -> u32 {
    (t / 1_000_000) as u32
}
