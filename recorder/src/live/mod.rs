/*!
The live recorder: `cachetape record`.

[`record`] taps every Redis node named in a [`RecordConfig`] (MONITOR, plus a probe connection
of the recorder's own) and, optionally, one MySQL/MariaDB server's binlog, and writes what they
say into one trace, on the recorder's clock:

```text
 redis_tap (one per node) ──┐  batches of events   ┌──────────────┐
 binlog_tap ────────────────┼── bounded channel ──>│ writer thread │──> tape::Writer ──> FILE
 probes (clocks, snapshots) ┘  (full: drop, count) └──────────────┘
```

Reader tasks run on a small tokio runtime; one plain thread owns the
[`Writer`](cachetape_tape::Writer) and calls [`Writer::tick`](cachetape_tape::Writer::tick) at
least every 100 ms, so a frame closes within a second even when nothing happens, and a recorder
killed at any moment loses at most about one second. If the channel is ever full, the tap drops
the events, counts them and writes a [`Gap`](cachetape_tape::Gap) saying how many once there is
room again: never silently.

Files, one concern each:
- starting and stopping: `config.rs` ([`RecordConfig`]), `recording.rs` ([`Recording`],
  [`record`], the stop conditions), `tap.rs` (what the taps share: the channel, drops and gaps,
  the counters), `writer.rs` (the writer thread);
- checks: [`preflight`] (every check, each failure one [`Problem`] with the fix; also
  `record --dry-run`), `problem.rs`;
- Redis: [`redis_tap`] (MONITOR lines → events), [`probes`] (clock and snapshot probes, the stop
  barrier), `notifications.rs` (keyspace notifications), [`redis_client`] (the control
  connections, through the `redis` crate), `monitor_conn.rs` and [`resp`] (the MONITOR connection,
  raw RESP), `redis_url.rs` ([`RedisUrl`]);
- the database: [`binlog_tap`] (the binlog stream → events), `mysql_client.rs` (connecting, the
  binlog position), `heartbeat.rs` (`--heartbeat`: the recorder's own writes that measure the
  binlog's delivery lag);
- [`redact`] (keyed hashing of values and keys), [`status`] (the live status line and the
  end-of-recording [`RecordSummary`]).

Stopping: after `--duration`, `--max-events`, SIGINT/SIGTERM, or when the `-- COMMAND` exits.
Each tap then takes a final clock probe and reads up to a barrier — on Redis the probe
connection's barrier `ECHO` in the MONITOR stream, on the database the position
`SHOW MASTER STATUS` gives at the stop — so everything the servers did before the stop is in the
trace.
*/

pub mod binlog_tap;
mod config;
mod heartbeat;
mod monitor_conn;
mod mysql_client;
mod notifications;
pub mod preflight;
pub mod probes;
mod problem;
mod recording;
pub mod redact;
pub mod redis_client;
pub mod redis_tap;
mod redis_url;
pub mod resp;
pub mod status;
mod tap;
mod writer;

pub use config::{HEARTBEAT_INTERVAL, HeartbeatConfig, RecordConfig, default_server_id};
pub use preflight::{PreflightReport, Problem};
pub use recording::{Recording, record};
pub use redis_url::RedisUrl;
pub use status::{RecordSummary, SourceSummary};

/// Why recording could not start or went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Nothing to record.
    #[error("nothing to record: give at least one --redis URL or a --mysql URL")]
    NoSources,
    /// A URL could not be understood.
    #[error("{url}: {problem}")]
    BadUrl {
        /// The URL, without credentials.
        url: String,
        /// What is wrong and what to write instead.
        problem: String,
    },
    /// Preflight checks failed; each problem names its fix.
    #[error("{}", preflight::format_problems(.0))]
    Preflight(Vec<Problem>),
    /// The trace file could not be written.
    #[error(transparent)]
    Trace(#[from] cachetape_tape::Error),
    /// The command to run could not be started.
    #[error("cannot run `{command}`: {source}")]
    Command {
        /// The command.
        command: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The async runtime or a thread could not be started.
    #[error("cannot start the recorder's threads: {0}")]
    Runtime(std::io::Error),
}

/// Microseconds since the epoch, now, on the recorder's clock.
pub use cachetape_tape::now_us;

/// Why recording stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// `--duration` elapsed.
    Duration,
    /// `--max-events` reached.
    MaxEvents,
    /// SIGINT or SIGTERM.
    Signal(&'static str),
    /// The `-- COMMAND` exited.
    CommandExited,
    /// Every tap ended on its own (lost for good).
    TapsEnded,
    /// [`Recording::stop`] was called.
    Requested,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Duration => f.write_str("--duration elapsed"),
            StopReason::MaxEvents => f.write_str("--max-events reached"),
            StopReason::Signal(s) => write!(f, "{s} received"),
            StopReason::CommandExited => f.write_str("the command exited"),
            StopReason::TapsEnded => f.write_str("every source ended"),
            StopReason::Requested => f.write_str("stop requested"),
        }
    }
}

/// Checks every source and says what is wrong, without recording (`record --dry-run`).
pub fn dry_run(config: &RecordConfig) -> Result<PreflightReport, RecordError> {
    let runtime = runtime()?;
    runtime.block_on(preflight::check_all(config, false))
}

fn runtime() -> Result<tokio::runtime::Runtime, RecordError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("cachetape-tap")
        .enable_all()
        .build()
        .map_err(RecordError::Runtime)
}
