/*!
[`RecordConfig`]: everything `cachetape record` was asked to do, in the library's own terms (the
CLI builds it from its flags), with the defaults of `cachetape record`.
*/

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use cachetape_tape::{KeyPattern, Micros, Redaction};

use super::now_us;

/// Everything `cachetape record` was asked to do, in the library's own terms.
#[derive(Clone, Debug)]
pub struct RecordConfig {
    /// Redis nodes: `redis://[user:password@]host:port[/db]`, one source each.
    pub redis: Vec<String>,
    /// The MySQL/MariaDB server whose binlog to follow: `mysql://user:password@host:port`.
    pub mysql: Option<String>,
    /// The trace to write.
    pub output: PathBuf,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after this many events.
    pub max_events: Option<u64>,
    /// Keys whose initial state is probed (Snapshot events) on first sight.
    pub keys: Vec<KeyPattern>,
    /// Also SCAN for keys matching [`RecordConfig::keys`] at the start and probe them.
    pub snapshot: bool,
    /// Only row changes of these tables (`db.table`, globs allowed); empty: every table.
    pub tables: Vec<KeyPattern>,
    /// The server id the recorder registers with as a replica (must be unique among replicas).
    pub server_id: u32,
    /// Record expired/evicted keyspace notifications when the server has them enabled.
    pub notifications: bool,
    /// Turn keyspace notifications on (`CONFIG SET notify-keyspace-events`) when they are off.
    pub enable_notifications: bool,
    /// Replace values (and keys) with keyed hashes.
    pub redaction: Redaction,
    /// zstd level of the trace.
    pub level: i32,
    /// A command to run while recording; recording stops when it exits.
    pub command: Vec<OsString>,
    /// Print a live status line on stderr (only on a terminal).
    pub status_line: bool,
    /// Time between clock probes.
    pub probe_interval: Duration,
    /// Snapshot probes per second and node at most.
    pub snapshot_rate: u32,
    /// Capacity of the channel between the taps and the writer, in batches.
    pub channel_batches: usize,
    /// The creation time written into the trace header (µs since the epoch).
    pub created_us: Micros,
    /// Measure the database lag with a heartbeat (`--heartbeat DB.TABLE`).
    pub heartbeat: Option<HeartbeatConfig>,
}

/// `record --heartbeat DB.TABLE`: the recorder's own connection writes its clock into a row of
/// the table every [`HEARTBEAT_INTERVAL`], and the binlog tap turns each such write into a
/// [`Heartbeat`](cachetape_tape::Heartbeat) event (`heartbeat.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatConfig {
    /// The database (schema) of the table.
    pub db: String,
    /// The table.
    pub table: String,
    /// Create the table when it is missing (`--heartbeat-create`); otherwise a missing table is
    /// a preflight problem naming the `CREATE TABLE` to run.
    pub create: bool,
}

/// Time between two heartbeat writes.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);

impl HeartbeatConfig {
    /// `db.table` → a heartbeat config; an unqualified or empty name is an error saying what to
    /// write.
    pub fn parse(name: &str, create: bool) -> Result<HeartbeatConfig, String> {
        let valid = |s: &str| {
            !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        };
        match name.split_once('.') {
            Some((db, table)) if valid(db) && valid(table) => {
                Ok(HeartbeatConfig { db: db.to_string(), table: table.to_string(), create })
            }
            _ => Err(format!(
                "--heartbeat `{name}`: name the table as DB.TABLE (letters, digits, _ and $), \
                 e.g. --heartbeat cachetape.heartbeat"
            )),
        }
    }

    /// `db.table`, as row changes name it.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.db, self.table)
    }

    /// The statement that creates the table.
    pub fn create_table(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS `{}`.`{}` (id INT UNSIGNED NOT NULL PRIMARY KEY, \
             ts DATETIME(6) NOT NULL, sent_us BIGINT NOT NULL)",
            self.db, self.table
        )
    }
}

impl RecordConfig {
    /// A config writing `output` with the defaults of `cachetape record`.
    pub fn new(output: impl Into<PathBuf>) -> RecordConfig {
        RecordConfig {
            redis: Vec::new(),
            mysql: None,
            output: output.into(),
            duration: None,
            max_events: None,
            keys: Vec::new(),
            snapshot: false,
            tables: Vec::new(),
            server_id: default_server_id(),
            notifications: false,
            enable_notifications: false,
            redaction: Redaction::None,
            level: 3,
            command: Vec::new(),
            status_line: false,
            probe_interval: Duration::from_secs(1),
            snapshot_rate: 200,
            channel_batches: 1024,
            created_us: now_us(),
            heartbeat: None,
        }
    }
}

/// A replica server id unlikely to collide with real replicas or another recorder: random, in
/// 2³⁰..2³¹. (Two replicas with one id kick each other off the server, MariaDB error 4052.)
pub fn default_server_id() -> u32 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        let t = now_us() as u64 ^ u64::from(std::process::id()).rotate_left(32);
        bytes = (t as u32 ^ (t >> 32) as u32).to_le_bytes();
    }
    0x4000_0000 | (u32::from_le_bytes(bytes) & 0x3fff_ffff)
}
