/*!
cachetape-demo: a real cache-aside shop against real Redis and MariaDB, recorded while it runs.

[`run`] starts private `redis-server` and `mariadbd` instances from the binaries on PATH (or uses
the servers it is given), creates a `shop.orders` table, and runs reader and writer tasks over it
while the live recorder ([`cachetape_recorder::live::Recording`]) captures Redis MONITOR and the
binlog into a trace. Beside the trace it writes the key→row mapping (`TRACE.toml`) the analysis
needs.

- **Readers** `GET order:{id}`; on a miss they `SELECT id, status, total` from `shop.orders`,
  sometimes stall (a GC pause, a slow network: [`DemoConfig::stall_probability`]), then
  `SETEX order:{id} TTL {json}` with the row as JSON: `{"id":42,"status":"PAID","total":"12.50"}`.
- **Writers** update an order's status and total (autocommit) and invalidate its key as the
  [`Protocol`] says: delete after the write, before it, both (with a delay), or never (TTL only).
- **The scripted incident** ([`DemoConfig::incident`]): one reader misses `order:42`, reads
  `CANCELLED` from the database and stalls; while it stalls a writer commits `PAID` and runs the
  protocol's invalidation; only then does the reader's `SETEX` land, and the cache says
  `CANCELLED` while the database says `PAID` (DESIGN's "stale set"). The two tasks hand over
  through channels, not timing, so the race happens the same way on a loaded machine. The
  incident reader then reads `order:42` a few more times (each a stale hit) and the background
  readers, which leave order 42 alone until then, include it from then on.
- **Turns** ([`DemoConfig::turns`]): readers and writers take turns with a pause between them, so
  no read comes near a write of any order — the shape of the clean shipped trace.

Every random choice (which order, which status, whether to stall) comes from a generator seeded
with [`DemoConfig::seed`]; the interleaving of the tasks is the servers' and the scheduler's.

This crate does network I/O (the shop's own connections) and starts processes; it ships in the
`cachetape` binary as `cachetape demo`.
*/
#![deny(missing_docs)]

pub mod servers;
mod shop;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use shop::{IncidentLog, ShopCounts};

/// How writers invalidate the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `UPDATE` (commit), then `DEL`: the textbook cache-aside write.
    DeleteAfterWrite,
    /// `DEL`, then `UPDATE`: a reader can re-cache the old row before the commit.
    DeleteBeforeWrite,
    /// `DEL`, `UPDATE`, wait the delay, `DEL` again.
    DoubleDelete {
        /// Time between the commit and the second `DEL`.
        delay: Duration,
    },
    /// `UPDATE` only: cached values live out their TTL.
    TtlOnly,
}

impl Protocol {
    /// The name `--mode` uses: `delete-after-write`, `delete-before-write`, `double-delete`,
    /// `ttl-only`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::DeleteAfterWrite => "delete-after-write",
            Protocol::DeleteBeforeWrite => "delete-before-write",
            Protocol::DoubleDelete { .. } => "double-delete",
            Protocol::TtlOnly => "ttl-only",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::DoubleDelete { delay } => {
                write!(f, "double-delete (delay {} ms)", delay.as_millis())
            }
            other => f.write_str(other.name()),
        }
    }
}

/// The order the scripted incident poisons.
pub const INCIDENT_ORDER: u32 = 42;

/// What to run and where to record it.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    /// The trace to write; the mapping goes beside it (`.toml`).
    pub output: PathBuf,
    /// `redis://[user:password@]host:port[/db]` of a Redis to use instead of a private one.
    pub redis: Option<String>,
    /// `mysql://user:password@host:port` of a MySQL/MariaDB (binlog on, ROW) to use instead of a
    /// private one.
    pub mysql: Option<String>,
    /// The database holding the `orders` table.
    pub database: String,
    /// The invalidation protocol of the writers.
    pub protocol: Protocol,
    /// Reader tasks.
    pub readers: usize,
    /// Writer tasks.
    pub writers: usize,
    /// Orders in the table (ids 1..=orders).
    pub orders: u32,
    /// How long the background traffic runs (it also stops after `operations`).
    pub duration: Duration,
    /// Stop after this many reads and writes in all (background traffic), if given.
    pub operations: Option<u64>,
    /// Pause between one reader's operations.
    pub think: Duration,
    /// Pause between one writer's operations.
    pub write_think: Duration,
    /// Share of a reader's misses that stall between the SELECT and the SETEX (0..=1).
    pub stall_probability: f64,
    /// How long such a stall lasts.
    pub stall: Duration,
    /// TTL of cached values.
    pub ttl: Duration,
    /// Run the scripted incident on order 42.
    pub incident: bool,
    /// How long the incident's reader stays stalled after the writer's commit and invalidation.
    pub incident_stall: Duration,
    /// Readers and writers take turns, this long apart (`None`: they run together).
    pub turns: Option<Duration>,
    /// Seed of every random choice.
    pub seed: u64,
    /// zstd level of the trace.
    pub level: i32,
    /// Time between the recorder's clock probes.
    pub probe_interval: Duration,
    /// µs since the epoch, for the trace header (the caller reads the clock).
    pub created_us: i64,
}

impl DemoConfig {
    /// The defaults: delete-after-write with the incident, 4 readers, 2 writers, 200 orders, 3 s.
    pub fn new(output: impl Into<PathBuf>) -> DemoConfig {
        DemoConfig {
            output: output.into(),
            redis: None,
            mysql: None,
            database: "shop".into(),
            protocol: Protocol::DeleteAfterWrite,
            readers: 4,
            writers: 2,
            orders: 200,
            duration: Duration::from_secs(3),
            operations: None,
            think: Duration::from_millis(5),
            write_think: Duration::from_millis(40),
            stall_probability: 0.0,
            stall: Duration::from_millis(50),
            ttl: Duration::from_secs(300),
            incident: true,
            incident_stall: Duration::from_millis(25),
            turns: None,
            seed: 1,
            level: 3,
            probe_interval: Duration::from_millis(250),
            created_us: 0,
        }
    }

    /// Checks the names and limits before anything starts.
    pub(crate) fn validate(&self) -> Result<(), DemoError> {
        let config = self;
        let db = &config.database;
        if db.is_empty() || !db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(DemoError::Config(format!(
                "--database `{db}`: use letters, digits and `_` only"
            )));
        }
        if config.orders == 0 {
            return Err(DemoError::Config("--orders must be at least 1".into()));
        }
        if config.incident && config.orders < INCIDENT_ORDER {
            return Err(DemoError::Config(format!(
                "the incident poisons order {INCIDENT_ORDER}: use --orders {INCIDENT_ORDER} or more, \
                 or --no-incident"
            )));
        }
        if config.incident && config.turns.is_some() {
            return Err(DemoError::Config(
                "--turns keeps readers and writers apart, the incident needs them together: use one \
                 of --turns and --incident"
                    .into(),
            ));
        }
        if config.readers == 0 && config.writers == 0 && !config.incident {
            return Err(DemoError::Config(
                "no readers, no writers, no incident: nothing to run".into(),
            ));
        }
        if !(0.0..=1.0).contains(&config.stall_probability) {
            return Err(DemoError::Config("--stall-probability is a share between 0 and 1".into()));
        }
        if config.mapping_path() == config.output {
            return Err(DemoError::Config(format!(
                "-o {}: the mapping goes beside the trace as {}, the same file; give the trace \
                 another extension (demo.bin)",
                config.output.display(),
                config.mapping_path().display()
            )));
        }
        if config.ttl < Duration::from_secs(1) {
            return Err(DemoError::Config(
                "--ttl must be at least 1s (SETEX takes seconds)".into(),
            ));
        }
        Ok(())
    }

    /// The mapping file written beside the trace.
    pub fn mapping_path(&self) -> PathBuf {
        self.output.with_extension("toml")
    }

    /// The mapping of `order:{id}` to the orders table, as TOML.
    pub fn mapping_toml(&self) -> String {
        format!(
            "# Written by `cachetape demo`: the shop caches each order row as JSON under order:{{id}}.\n\
             [[rule]]\nkey = \"order:{{id}}\"\ntable = \"{}.orders\"\njson = [\"id\", \"status\", \"total\"]\n",
            self.database
        )
    }
}

/// What the demo did and recorded.
#[derive(Debug)]
pub struct DemoSummary {
    /// The trace.
    pub trace: PathBuf,
    /// The mapping beside it.
    pub mapping: PathBuf,
    /// Its size in bytes.
    pub trace_bytes: u64,
    /// Events recorded.
    pub events: u64,
    /// What the shop did.
    pub counts: ShopCounts,
    /// The incident, when scripted.
    pub incident: Option<IncidentLog>,
    /// The recorder's summary (sources, clock offsets, the covering perturbation window).
    pub recording: cachetape_recorder::live::RecordSummary,
}

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// A server binary is not installed.
    #[error(
        "`{binary}` is not on PATH: the demo starts a private instance of it. Install the \
         Debian/Ubuntu package `{package}` (`sudo apt-get install {package}`), or point the demo \
         at a running server (--redis URL / --mysql URL)"
    )]
    MissingBinary {
        /// The binary looked for.
        binary: &'static str,
        /// The package that has it.
        package: &'static str,
    },
    /// A private server did not start.
    #[error("could not start {what}: {detail}")]
    Server {
        /// What was being started.
        what: String,
        /// Why it failed.
        detail: String,
    },
    /// A given URL or option is unusable.
    #[error("{0}")]
    Config(String),
    /// Talking to Redis failed.
    #[error("Redis at {url}: {detail}")]
    Redis {
        /// The node (without credentials).
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// Talking to the database failed.
    #[error("the database at {url}: {detail}")]
    Database {
        /// The server (without credentials).
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The recorder failed.
    #[error("recording failed: {0}")]
    Record(#[from] cachetape_recorder::live::RecordError),
    /// The scripted incident did not go as scripted.
    #[error("the scripted incident on order:42 went wrong: {0}")]
    Incident(String),
    /// Writing the mapping or reading back the trace failed.
    #[error("{what}: {detail}")]
    Output {
        /// Which file.
        what: String,
        /// Why.
        detail: String,
    },
}

/// Runs the shop and records it: starts (or connects to) the servers, creates the table, starts
/// the recorder, runs the traffic (and the incident), stops the recorder, writes the mapping.
/// `progress` hears each step in a sentence.
pub fn run(config: &DemoConfig, progress: &mut dyn FnMut(&str)) -> Result<DemoSummary, DemoError> {
    shop::run(config, progress)
}
