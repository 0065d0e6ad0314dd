/*!
The events of a trace, as DESIGN defines them.

Every [`Event`] carries a sequence number (its position in the trace), the [`SourceId`] it came
from, and the recorder's receive time in microseconds since the Unix epoch. Source timestamps
(the MONITOR line's time, the binlog header's seconds, a MySQL 8 commit timestamp) are kept beside
it, never thrown away: aligning sources onto one timeline is the analyzer's job, and it needs both.
*/

use crate::argv::Argv;
use crate::value::{Name, RowImage, StoredValue};

/// Microseconds since the Unix epoch (or a duration in microseconds).
pub type Micros = i64;

/// Index of a source in the trace header's source list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(pub u16);

/// One event of a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Position in the trace; strictly increasing, usually consecutive.
    pub seq: u64,
    /// Where it came from (an index into [`Header::sources`](crate::Header::sources)).
    pub source: SourceId,
    /// When the recorder received it (µs since the epoch). Imported events use the source's own
    /// timestamp here, since no recorder saw them.
    pub recv_us: Micros,
    /// What happened.
    pub body: EventBody,
}

impl Event {
    /// The kind of this event, as `cat --json` names it.
    pub fn kind(&self) -> EventKind {
        self.body.kind()
    }
}

/// What an event says happened.
#[derive(Clone, Debug, PartialEq)]
pub enum EventBody {
    /// A command as Redis MONITOR reported it.
    Redis(RedisCommand),
    /// A row changed in the database (binlog row event).
    Row(RowChange),
    /// A database transaction committed.
    Commit(Commit),
    /// A clock probe: a round trip to a source to align its clock with the recorder's.
    ClockProbe(ClockProbe),
    /// The value and TTL of a key, read by the recorder's own connection.
    Snapshot(Snapshot),
    /// A source was lost between two times: nothing is known about what happened then.
    Gap(Gap),
    /// A keyspace notification (a key expired or was evicted).
    Keyspace(KeyspaceNotice),
    /// The recorder's own heartbeat write, seen coming back through the binlog
    /// (`record --heartbeat`; format version 2).
    Heartbeat(Heartbeat),
}

impl EventBody {
    /// The kind of this event.
    pub fn kind(&self) -> EventKind {
        match self {
            EventBody::Redis(_) => EventKind::Redis,
            EventBody::Row(_) => EventKind::Row,
            EventBody::Commit(_) => EventKind::Commit,
            EventBody::ClockProbe(_) => EventKind::Probe,
            EventBody::Snapshot(_) => EventKind::Snapshot,
            EventBody::Gap(_) => EventKind::Gap,
            EventBody::Keyspace(_) => EventKind::Keyspace,
            EventBody::Heartbeat(_) => EventKind::Heartbeat,
        }
    }
}

/// The kinds of events, in the order reports list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// [`RedisCommand`].
    Redis,
    /// [`RowChange`].
    Row,
    /// [`Commit`].
    Commit,
    /// [`ClockProbe`].
    Probe,
    /// [`Snapshot`].
    Snapshot,
    /// [`Gap`].
    Gap,
    /// [`KeyspaceNotice`].
    Keyspace,
    /// [`Heartbeat`].
    Heartbeat,
}

impl EventKind {
    /// Every kind, in report order.
    pub const ALL: [EventKind; 8] = [
        EventKind::Redis,
        EventKind::Row,
        EventKind::Commit,
        EventKind::Probe,
        EventKind::Snapshot,
        EventKind::Gap,
        EventKind::Keyspace,
        EventKind::Heartbeat,
    ];

    /// The short name used by `cat --json` (`redis`, `row`, `commit`, `probe`, …).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Redis => "redis",
            EventKind::Row => "row",
            EventKind::Commit => "commit",
            EventKind::Probe => "probe",
            EventKind::Snapshot => "snapshot",
            EventKind::Gap => "gap",
            EventKind::Keyspace => "keyspace",
            EventKind::Heartbeat => "heartbeat",
        }
    }

    /// Position in [`EventKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A Redis command as one MONITOR line reported it.
#[derive(Clone, Debug, PartialEq)]
pub struct RedisCommand {
    /// The db index the command ran in (`[3 …]`).
    pub db: u32,
    /// The client as MONITOR names it: `ip:port`, `[v6]:port`, `unix:<path>` (every unix-socket
    /// client looks the same) or `lua`.
    pub client: Name,
    /// The server's timestamp from the MONITOR line (µs since the epoch).
    pub server_us: Micros,
    /// The arguments, command name first, as raw bytes.
    pub argv: Argv,
    /// The `[db lua]` lines that followed this EVAL/EVALSHA/FCALL: the commands the script ran,
    /// in order. Empty for every other command.
    pub script: Vec<ScriptCall>,
}

/// One command run by a script (a `[db lua]` MONITOR line).
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptCall {
    /// The db index.
    pub db: u32,
    /// The server's timestamp from the MONITOR line (µs since the epoch).
    pub server_us: Micros,
    /// The arguments, command name first.
    pub argv: Argv,
}

/// What a row event did to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowOp {
    /// A new row (only an after image).
    Insert,
    /// A changed row (before and after images).
    Update,
    /// A removed row (only a before image).
    Delete,
}

impl RowOp {
    /// `insert`, `update` or `delete`.
    pub fn name(self) -> &'static str {
        match self {
            RowOp::Insert => "insert",
            RowOp::Update => "update",
            RowOp::Delete => "delete",
        }
    }
}

/// One row changed by a binlog row event.
#[derive(Clone, Debug, PartialEq)]
pub struct RowChange {
    /// `schema.table`.
    pub table: Name,
    /// Insert, update or delete.
    pub op: RowOp,
    /// The row before the change (updates and deletes).
    pub before: Option<RowImage>,
    /// The row after the change (inserts and updates).
    pub after: Option<RowImage>,
    /// The transaction this change belongs to (see [`Commit::txn`]).
    pub txn: u64,
    /// The binlog event header's timestamp: whole seconds since the epoch.
    pub header_secs: u32,
}

/// A committed database transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct Commit {
    /// Transaction number, unique within its source; the [`RowChange`]s with the same number
    /// (and source) belong to it and precede it in the trace.
    pub txn: u64,
    /// The binlog event header's timestamp: whole seconds since the epoch.
    pub header_secs: u32,
    /// The commit time in µs where the server gives one (MySQL 8 GTID events); MariaDB gives
    /// only `header_secs`.
    pub commit_us: Option<Micros>,
    /// The global transaction id as the server prints it (`0-1-42`, `uuid:42`), when known.
    pub gtid: Option<String>,
    /// The server's XID, when the transaction ended with one.
    pub xid: Option<u64>,
}

/// A round trip to a source: `TIME` on Redis, `SELECT NOW(6)` on SQL.
#[derive(Clone, Debug, PartialEq)]
pub struct ClockProbe {
    /// Recorder clock when the probe was sent (µs since the epoch).
    pub local_send_us: Micros,
    /// The source's clock as it answered (µs since the epoch).
    pub remote_us: Micros,
    /// Recorder clock when the answer arrived (µs since the epoch).
    pub local_recv_us: Micros,
}

impl ClockProbe {
    /// Estimated offset of the source's clock against the recorder's (remote − local midpoint).
    pub fn offset_us(&self) -> Micros {
        self.remote_us - (self.local_send_us + self.local_recv_us) / 2
    }

    /// Uncertainty of [`ClockProbe::offset_us`]: half the round trip.
    pub fn uncertainty_us(&self) -> Micros {
        let rtt = (self.local_recv_us - self.local_send_us).max(0);
        (rtt + 1) / 2
    }
}

/// The value and TTL of a key, read atomically by the recorder's own connection. Its position in
/// the trace is where the probe's command appeared in the MONITOR stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The db index.
    pub db: u32,
    /// The key.
    pub key: Vec<u8>,
    /// Its value ([`StoredValue::Missing`] when absent).
    pub value: StoredValue,
    /// PTTL in milliseconds: -1 without expiry, -2 when the key is missing.
    pub pttl_ms: i64,
}

/// A stretch of time in which a source was not observed.
#[derive(Clone, Debug, PartialEq)]
pub struct Gap {
    /// Last moment the source was known to be observed (µs since the epoch).
    pub from_us: Micros,
    /// First moment it was observed again (µs since the epoch).
    pub to_us: Micros,
    /// Why: `connection lost: …`, `channel full: 1234 events dropped`, ….
    pub reason: String,
}

/// A keyspace notification.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyspaceNotice {
    /// The db index.
    pub db: u32,
    /// The key.
    pub key: Vec<u8>,
    /// The event as Redis names it: `expired`, `evicted`, ….
    pub event: Name,
}

/// The recorder's own heartbeat (`record --heartbeat DB.TABLE`): every 100 ms its own database
/// connection writes its clock's time into a row of `table` (autocommit), and the binlog tap turns
/// the row's change, when its commit arrives, into this event. The event's source is the
/// database and its receive time is when the commit arrived; the commit happened after the
/// statement was sent, so `recv_us − sent_us` is an upper bound, measured on the recorder's own
/// clock, of how long before its receipt that commit happened: the evidence
/// `analyze` and `replay` use for the database lag when `--db-lag` is not given.
#[derive(Clone, Debug, PartialEq)]
pub struct Heartbeat {
    /// `db.table`, the heartbeat table.
    pub table: Name,
    /// When the recorder sent the write (µs since the epoch, recorder clock).
    pub sent_us: Micros,
}

impl Heartbeat {
    /// The commit→receipt lag this heartbeat bounds, given its event's receive time.
    pub fn lag_us(&self, recv_us: Micros) -> Micros {
        recv_us.saturating_sub(self.sent_us)
    }
}
