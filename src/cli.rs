/*!
Defines cachetape's command line: clap structs that mirror the flags one to one. Each subcommand
module in [`crate::cmd`] turns its struct into the library's own types; library crates never see
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
    /// Skip damaged frames instead of stopping at the first one.
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
    /// Replay the trace on the fake Redis and show the reply each command got.
    #[arg(long)]
    pub replies: bool,
    /// Skip damaged frames instead of stopping at the first one.
    #[arg(long)]
    pub salvage: bool,
}
