/*!
One module per subcommand: each turns its clap struct into library calls and prints the result.
*/

mod analyze;
mod cat;
mod db_lag;
mod demo;
mod import;
mod info;
mod map;
mod mapping;
mod output;
mod read;
mod record;
mod replay;
mod shrink;

use std::process::ExitCode;

use clap::ArgMatches;

use crate::cli::{Cli, Command};

/// Runs the parsed command line; `matches` gives flag positions where they matter.
pub fn run(cli: Cli, matches: &ArgMatches) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Import(args) => {
            import::run(args, matches.subcommand_matches("import").expect("import matched"))
        }
        Command::Info(args) => info::run(args),
        Command::Cat(args) => cat::run(args),
        Command::Record(args) => record::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Map(args) => map::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Shrink(args) => shrink::run(args),
        Command::Replay(args) => replay::run(args),
    }
}

/// Microseconds since the epoch, now: only the CLI reads the wall clock (trace creation time).
pub use cachetape_tape::now_us;

pub use cachetape::replay::thousands;

/// `123456` → `120.6 KiB`.
pub fn bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.1} MiB", n as f64 / 1_048_576.0),
        _ => format!("{:.2} GiB", n as f64 / 1_073_741_824.0),
    }
}
