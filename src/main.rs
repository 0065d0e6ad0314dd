/*!
The `cachetape` binary: parses the command line and runs one subcommand.

Exit codes: 0 success, 1 reserved for "stale reads found" (analysis), 2 error. Errors print as
`error: …` with their causes; a closed pipe (`cachetape cat t.bin | head`) is success.
*/

mod around;
mod cli;
mod cmd;
mod filter;
mod format;
mod units;

use std::io;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let parsed = match cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match cmd::run(parsed, &matches) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}
