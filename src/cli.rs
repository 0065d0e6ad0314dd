/*!
Defines cachetape's command line: clap structs that mirror the flags one to one. Each subcommand
module in `src/cmd/` turns its struct into the library's own types; library crates never see
clap.
*/

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Record production cache traffic (Redis MONITOR + MySQL/MariaDB binlog), replay it on a virtual
/// clock, and name every read that was served stale.
#[derive(Debug, Parser)]
#[command(name = "cachetape", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Turn MONITOR captures (`redis-cli monitor > FILE`) and binlog files into a trace.
    Import(ImportArgs),
    /// Summarize a trace: sources, time span, counts, top commands, keys, clients, tables, gaps.
    Info(InfoArgs),
    /// List a trace's events: readable, as MONITOR lines, or as JSON lines.
    Cat(CatArgs),
    /// Record live: Redis MONITOR of every --redis node and the --mysql binlog into one trace.
    Record(RecordArgs),
    /// Judge every read of a mapped key as recorded: fresh or stale, why, and for how long.
    Analyze(AnalyzeArgs),
    /// Work with key→row mappings: `map --infer TRACE` proposes one from the trace.
    Map(MapArgs),
    /// Run a real cache-aside shop on private Redis and MariaDB and record it (with an incident).
    Demo(DemoArgs),
    /// Cut a trace to the events one finding needs, verified by analyzing the result.
    Shrink(ShrinkArgs),
    /// Explore every order the trace could have taken within a window (`--perturb 5ms`) and
    /// explain each read some order serves stale.
    Replay(ReplayArgs),
}

/// `cachetape import`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  cachetape import --monitor cache1.txt --node cache-1 \
    --monitor cache2.txt --node cache-2 --binlog binlog.000042 --schema shop.sql -o incident.bin")]
pub struct ImportArgs {
    /// A MONITOR capture of one Redis node (repeatable).
    #[arg(long = "monitor", value_name = "FILE")]
    pub monitors: Vec<PathBuf>,
    /// Node name for the --monitor just before it (default: `redis`, or the file's stem when
    /// there are several captures).
    #[arg(long = "node", value_name = "NAME")]
    pub nodes: Vec<String>,
    /// A MySQL/MariaDB binlog file (repeatable, oldest first).
    #[arg(long = "binlog", value_name = "FILE")]
    pub binlogs: Vec<PathBuf>,
    /// SQL file whose CREATE TABLE statements name the binlog's columns (`mysqldump --no-data`).
    #[arg(long, value_name = "DDL.sql")]
    pub schema: Option<PathBuf>,
    /// The trace to write.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// zstd compression level of the trace (1–19): higher is smaller and slower.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=19))]
    pub level: i32,
}

/// `cachetape info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The trace.
    pub trace: PathBuf,
    /// How many of each top list to show.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// Replay the trace on the fake Redis and show the reply each command got.
    #[arg(long)]
    pub replies: bool,
    /// Skip damaged frames (and a second trace after the first) instead of stopping.
    #[arg(long)]
    pub salvage: bool,
}

/// How `cat` prints events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CatFormat {
    /// One readable line per event.
    Text,
    /// Redis events exactly as MONITOR lines (other events are left out).
    Monitor,
    /// One JSON object per line.
    Json,
}

/// `cachetape cat`.
#[derive(Debug, Args)]
pub struct CatArgs {
    /// The trace.
    pub trace: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CatFormat::Text)]
    pub format: CatFormat,
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Only events touching a key matching this glob (`order:*`); repeatable.
    #[arg(long = "key", value_name = "PATTERN")]
    pub keys: Vec<String>,
    /// Only Redis events of this client (`10.0.0.7:51234`, globs allowed); repeatable.
    #[arg(long = "client", value_name = "ADDR")]
    pub clients: Vec<String>,
    /// Only events of this source (node or database name); repeatable.
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// Only events at or after this time: `2026-11-26 04:15:25.3`, `1795666525.369271`
    /// (epoch seconds) or `+1.5s` (after the first event).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// Only events at or before this time (same forms as --from).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub to: Option<String>,
    /// Only the event with this sequence number, or those of a range `A..B` (both included).
    #[arg(long, value_name = "N|A..B", conflicts_with = "around")]
    pub seq: Option<String>,
    /// The events around the one with this sequence number (a finding's `seq`): --context
    /// events before and after it, among those the other filters let through.
    #[arg(long, value_name = "N")]
    pub around: Option<u64>,
    /// How many events --around shows each side.
    #[arg(long, default_value_t = 10, value_name = "K", requires = "around")]
    pub context: usize,
    /// Replay the trace on the fake Redis and show the reply each command got.
    #[arg(long)]
    pub replies: bool,
    /// Skip damaged frames (and a second trace after the first) instead of stopping.
    #[arg(long)]
    pub salvage: bool,
}

/// What `record --redact` hides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RedactMode {
    /// Nothing.
    None,
    /// Every value argument (and row values), as keyed hashes; keys, names, TTLs kept.
    Values,
    /// Keys too, keeping their `prefix:` structure and `{id}` parts.
    #[value(name = "keys,values", alias = "values,keys")]
    KeysValues,
}

/// `cachetape record`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  cachetape record --redis redis://cache-1:6379 --mysql \
    mysql://recorder:PASSWORD@db:3306 -o incident.bin --duration 5m\n  cachetape record --redis \
    redis://127.0.0.1:6379 -o suite.bin -- cargo test\n  cachetape record --redis \
    redis://cache-1:6379 --mysql mysql://recorder@db:3306 -o x.bin --dry-run")]
pub struct RecordArgs {
    /// A Redis node to MONITOR: `redis://[user:password@]host:port` (repeatable; each is its own
    /// node).
    #[arg(long = "redis", value_name = "URL")]
    pub redis: Vec<String>,
    /// The MySQL/MariaDB server whose binlog to follow: `mysql://user:password@host:port`.
    #[arg(long, value_name = "URL")]
    pub mysql: Option<String>,
    /// The trace to write.
    #[arg(short, long, value_name = "FILE", required_unless_present = "dry_run")]
    pub output: Option<PathBuf>,
    /// Stop after this long (`30s`, `5m`).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Stop after this many events.
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
    /// Probe the value and TTL of keys matching this glob on first sight (Snapshot events);
    /// repeatable.
    #[arg(long = "keys", value_name = "PATTERN")]
    pub keys: Vec<String>,
    /// Also SCAN for keys matching --keys at the start and probe them.
    #[arg(long, requires = "keys")]
    pub snapshot: bool,
    /// Only row changes of these tables (`db.table`, globs allowed); repeatable.
    #[arg(long = "tables", value_name = "DB.TABLE")]
    pub tables: Vec<String>,
    /// Replica server id for the binlog connection; must differ from every other replica
    /// (default: random, in 2^30..2^31).
    #[arg(long, value_name = "N")]
    pub server_id: Option<u32>,
    /// Record expired/evicted keyspace notifications (the server must have them enabled).
    #[arg(long)]
    pub notifications: bool,
    /// Turn keyspace notifications on (`CONFIG SET notify-keyspace-events`) if they are off.
    #[arg(long, requires = "notifications")]
    pub enable_notifications: bool,
    /// Replace values (`values`) or keys and values (`keys,values`) with keyed hashes.
    #[arg(long, value_enum, default_value_t = RedactMode::None, value_name = "WHAT")]
    pub redact: RedactMode,
    /// Check every source and print what is wrong with it; record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// zstd level of the trace (1–19).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=19))]
    pub level: i32,
    /// Time between clock probes.
    #[arg(long, default_value = "1s", value_name = "DURATION")]
    pub probe_interval: String,
    /// Snapshot probes per second and node at most.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub snapshot_rate: u32,
    /// Measure the binlog's delivery lag: write the recorder's clock into a row of this table
    /// every 100 ms (needs INSERT and UPDATE on it) and record when each write comes back
    /// through the binlog; `analyze` and `replay` then use the worst lag seen.
    #[arg(long, value_name = "DB.TABLE", requires = "mysql")]
    pub heartbeat: Option<String>,
    /// Create the --heartbeat table when it is missing (needs CREATE on it).
    #[arg(long, requires = "heartbeat")]
    pub heartbeat_create: bool,
    /// No status line even on a terminal.
    #[arg(short, long)]
    pub quiet: bool,
    /// A command to run while recording; recording stops when it exits, and its exit code is
    /// returned.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// How `analyze` prints its report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people: worst keys first, each stale read with its story.
    Text,
    /// One JSON document: `{"summary": {...}, "findings": [...], "keys": [...]}`.
    Json,
}

/// What `--expect` asserts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Expectation {
    /// Exit 0 only if some read was stale.
    Stale,
    /// Exit 0 only if no read was stale.
    Clean,
}

/// `cachetape analyze`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 no stale reads, 1 stale reads found, 2 error, 3 inconclusive \
    (no stale read found, but too little of the trace could be judged: see --min-verifiable); \
    with --expect, 0 when the expectation holds and 1 when it does not (3 when inconclusive).\
    \n\nExamples:\n  cachetape analyze \
    incident.bin\n  cachetape analyze incident.bin --map shop.toml --format json\n  cachetape \
    analyze incident.bin --html incident.html --expect clean"
)]
pub struct AnalyzeArgs {
    /// The trace.
    pub trace: PathBuf,
    /// The key→row mapping (default: the trace's name with `.toml`, beside it; without one the
    /// mapping is inferred from the trace).
    #[arg(long = "map", value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Also write a self-contained HTML page with a timeline of each flagged key.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also write every judged read (hit of a mapped key) as JSON lines — seq, key, node,
    /// client, time, verdict, cause, served and DB values, reason — to check verdicts against an
    /// application's own log.
    #[arg(long, value_name = "FILE")]
    pub reads: Option<PathBuf>,
    /// For CI: exit 0 when the trace is stale (or clean) as expected, 1 when not.
    #[arg(long, value_enum, value_name = "stale|clean")]
    pub expect: Option<Expectation>,
    /// How long before its receipt a live-recorded database commit may have happened (default:
    /// the worst lag the trace's heartbeats measured, `record --heartbeat`; without them 5ms).
    #[arg(long, value_name = "DURATION")]
    pub db_lag: Option<String>,
    /// Ages for the "fresh within" figures, comma-separated.
    #[arg(long, default_value = "0ms,10ms,1s,5m", value_name = "LIST")]
    pub ages: String,
    /// The least share of hits of mapped keys whose value must be decoded and compared with the
    /// mapping for the trace to be called clean (`90%` or `0.9`); below it the verdict is
    /// inconclusive (exit code 3).
    #[arg(long, default_value = "90%", value_name = "SHARE")]
    pub min_verifiable: String,
    /// Read what is recoverable: skip damaged frames (and a second trace after the first)
    /// instead of stopping; what was skipped is said on stderr and in the report.
    #[arg(long)]
    pub salvage: bool,
}

/// `cachetape map`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  cachetape map --infer incident.bin > incident.toml")]
pub struct MapArgs {
    /// The trace.
    pub trace: PathBuf,
    /// Propose a mapping from the trace alone, with the evidence for each rule, as TOML.
    #[arg(long, required = true)]
    pub infer: bool,
    /// Write the TOML here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Read what is recoverable: skip damaged frames (and a second trace after the first)
    /// instead of stopping; what was skipped is said on stderr.
    #[arg(long)]
    pub salvage: bool,
}

/// The writers' invalidation protocol in `demo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DemoMode {
    /// UPDATE (commit), then DEL.
    DeleteAfterWrite,
    /// DEL, then UPDATE.
    DeleteBeforeWrite,
    /// DEL, UPDATE, wait --delay, DEL again.
    DoubleDelete,
    /// UPDATE only: cached values live out their --ttl.
    TtlOnly,
}

/// `cachetape demo`.
#[derive(Debug, Args)]
#[command(after_help = "Starts private redis-server and mariadbd instances (temporary directory, \
    free loopback port, binlog on) unless --redis/--mysql are given; never touches the machine's \
    own 6379/3306.\n\nExamples:\n  cachetape demo -o incident.bin\n  cachetape demo --mode \
    double-delete --delay 200ms --stall-probability 0.2 -o dd.bin\n  cachetape demo --no-incident \
    --turns 100ms -o clean.bin")]
pub struct DemoArgs {
    /// The trace to write (the mapping goes beside it, with `.toml`).
    #[arg(short, long, value_name = "FILE", default_value = "demo.bin")]
    pub output: PathBuf,
    /// How writers invalidate the cache.
    #[arg(long, value_enum, default_value_t = DemoMode::DeleteAfterWrite)]
    pub mode: DemoMode,
    /// Time between the commit and the second DEL (double-delete).
    #[arg(long, default_value = "100ms", value_name = "DURATION")]
    pub delay: String,
    /// Reader tasks.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub readers: usize,
    /// Writer tasks.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub writers: usize,
    /// Orders in the table (ids 1..=N).
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub orders: u32,
    /// How long the traffic runs.
    #[arg(long, default_value = "3s", value_name = "DURATION")]
    pub duration: String,
    /// Stop after this many reads and writes in all (before --duration if reached first).
    #[arg(long, value_name = "N")]
    pub operations: Option<u64>,
    /// Pause between one reader's operations.
    #[arg(long, default_value = "5ms", value_name = "DURATION")]
    pub think: String,
    /// Pause between one writer's operations.
    #[arg(long, default_value = "40ms", value_name = "DURATION")]
    pub write_think: String,
    /// Share of misses after which a reader stalls between its SELECT and its SETEX (0–1).
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub stall_probability: f64,
    /// How long such a stall lasts.
    #[arg(long, default_value = "50ms", value_name = "DURATION")]
    pub stall: String,
    /// TTL of cached values (whole seconds).
    #[arg(long, default_value = "300s", value_name = "DURATION")]
    pub ttl: String,
    /// Script the stale set on order:42 (the default in delete-after-write mode without --turns).
    #[arg(long, overrides_with = "no_incident")]
    pub incident: bool,
    /// No scripted incident.
    #[arg(long, overrides_with = "incident")]
    pub no_incident: bool,
    /// How long the incident's reader stays stalled after the writer's commit and DEL.
    #[arg(long, default_value = "25ms", value_name = "DURATION")]
    pub incident_stall: String,
    /// Readers and writers take turns, this long apart: no read comes near a write.
    #[arg(long, value_name = "PAUSE")]
    pub turns: Option<String>,
    /// Seed of the shop's random choices (orders, statuses, stalls).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub seed: u64,
    /// Use this Redis (an empty db) instead of a private one: `redis://host:port/15`.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// Use this MySQL/MariaDB (binlog on, ROW) instead of a private one.
    #[arg(long, value_name = "URL")]
    pub mysql: Option<String>,
    /// The database the orders table goes in.
    #[arg(long, default_value = "shop", value_name = "NAME")]
    pub database: String,
    /// Time between the recorder's clock probes.
    #[arg(long, default_value = "250ms", value_name = "DURATION")]
    pub probe_interval: String,
    /// zstd level of the trace (1–19).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=19))]
    pub level: i32,
}

/// `cachetape shrink`.
#[derive(Debug, Args)]
#[command(after_help = "The finding number is the `#N` analyze and replay print for each stale \
    read (the read's position in the trace; `seq` in --format json), not replay's list number. \
    The result keeps the \
    events' numbers, so the read is #N in the small trace too.\n\nExample:\n  cachetape shrink \
    incident.bin --finding 2003 -o order42.bin")]
pub struct ShrinkArgs {
    /// The trace.
    pub trace: PathBuf,
    /// The finding to keep: the `#N` analyze prints before the stale read.
    #[arg(long, value_name = "N")]
    pub finding: String,
    /// The small trace to write (its mapping goes beside it, with `.toml`, unless one is there).
    #[arg(short, long, value_name = "SMALL")]
    pub output: PathBuf,
    /// The key→row mapping (default: the trace's name with `.toml`, beside it; else inferred).
    #[arg(long = "map", value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// How long before its receipt a live-recorded database commit may have happened (default:
    /// the worst lag the trace's heartbeats measured, `record --heartbeat`; without them 5ms).
    #[arg(long, value_name = "DURATION")]
    pub db_lag: Option<String>,
    /// At most this many candidate analyses in the delta-debugging stage.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub max_tests: usize,
    /// Shrink a finding of `replay --perturb W` (a read stale only in some order within ±W):
    /// each candidate is searched again with the same window and seed.
    #[arg(long, value_name = "W")]
    pub perturb: Option<String>,
    /// The perturbation search's seed (with --perturb; as given to replay).
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Read what is recoverable: skip damaged frames (and a second trace after the first)
    /// instead of stopping; what was skipped is said on stderr and in the small trace's header notes.
    #[arg(long)]
    pub salvage: bool,
}

/// `cachetape replay`.
#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 no stale read in any order explored, 1 stale reads \
    found (as recorded or in some order), 2 error, 3 inconclusive (no stale read found, but too \
    little of the trace could be judged: see --min-verifiable); with --expect, 0 when the \
    expectation holds and 1 when it does not (3 when inconclusive).\n\nExamples:\n  cachetape replay --perturb 5ms incident.bin\n  \
    cachetape replay --perturb 5ms incident.bin --format json --jobs 2\n  cachetape replay \
    --perturb 5ms incident.bin --schedule c0-2.1.0.3\n  cachetape replay --perturb 5ms \
    clean.bin --expect clean")]
pub struct ReplayArgs {
    /// The trace.
    pub trace: PathBuf,
    /// The window: events further apart than this keep their order, closer ones may swap
    /// (`5ms`, `500us`; `0` = as recorded).
    #[arg(long, default_value = "0", value_name = "DURATION")]
    pub perturb: String,
    /// The key→row mapping (default: the trace's name with `.toml`, beside it; else inferred).
    #[arg(long = "map", value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Seed of the sampling of components too large to explore exhaustively.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Distinct schedules per component at most; beyond, a seeded sample of this many.
    #[arg(long, default_value_t = cachetape::replay::DEFAULT_BUDGET, value_name = "N")]
    pub budget: u64,
    /// Worker threads (default: every core); the output is the same for any number.
    #[arg(long, value_name = "J")]
    pub jobs: Option<usize>,
    /// Replay one schedule (an id a finding printed) through the full analyzer and print its
    /// analysis.
    #[arg(long, value_name = "ID")]
    pub schedule: Option<String>,
    /// For CI: exit 0 when the trace is stale (or clean) as expected, 1 when not.
    #[arg(long, value_enum, value_name = "stale|clean")]
    pub expect: Option<Expectation>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Also write an HTML page: the as-recorded timelines and a table of the findings.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// How long before its receipt a live-recorded database commit may have happened (default:
    /// the worst lag the trace's heartbeats measured, `record --heartbeat`; without them 5ms).
    #[arg(long, value_name = "DURATION")]
    pub db_lag: Option<String>,
    /// The least share of hits of mapped keys whose value must be decoded and compared with the
    /// mapping for the trace to be called clean (`90%` or `0.9`); below it the verdict is
    /// inconclusive (exit code 3).
    #[arg(long, default_value = "90%", value_name = "SHARE")]
    pub min_verifiable: String,
    /// Read what is recoverable: skip damaged frames (and a second trace after the first)
    /// instead of stopping; what was skipped is said on stderr and in the report.
    #[arg(long)]
    pub salvage: bool,
}
