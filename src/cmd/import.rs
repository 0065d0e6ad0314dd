/*!
`cachetape import`: pairs each `--node` with the `--monitor` before it, runs the importer and
prints what was imported and what was skipped.
*/

use std::process::ExitCode;

use anyhow::{Context, bail};
use cachetape_recorder::import::{ImportPlan, MonitorInput, import};
use clap::ArgMatches;

use super::{bytes, now_us, thousands};
use crate::cli::ImportArgs;

pub fn run(args: ImportArgs, matches: &ArgMatches) -> anyhow::Result<ExitCode> {
    let monitors = pair_nodes(&args, matches)?;
    let plan = ImportPlan {
        monitors,
        binlogs: args.binlogs.clone(),
        schema: args.schema.clone(),
        output: args.output.clone(),
        created_us: now_us(),
        level: args.level,
    };
    let summary =
        import(&plan).with_context(|| format!("import into {} failed", args.output.display()))?;
    for (input, report) in &summary.monitors {
        println!(
            "{}: node {}: {} commands ({} script calls attached) from {} lines",
            input.path.display(),
            input.node,
            thousands(report.commands),
            thousands(report.script_calls),
            thousands(report.lines)
        );
        if report.orphan_script_calls > 0 {
            println!(
                "  {} [lua] lines had no EVAL/EVALSHA/FCALL before them (capture started \
                 mid-script?): kept as commands of client `lua`",
                report.orphan_script_calls
            );
        }
        let expected = report.skipped - report.skipped_noise;
        if report.skipped > 0 {
            println!(
                "  skipped {} lines: {} blank or `OK`, {} not MONITOR lines",
                thousands(report.skipped),
                thousands(expected),
                thousands(report.skipped_noise)
            );
        }
        for s in &report.skipped_lines {
            println!("    line {}: {}: {}", s.line, s.reason, s.text);
        }
        if report.skipped_noise > report.skipped_lines.len() as u64 {
            println!("    … and {} more", report.skipped_noise - report.skipped_lines.len() as u64);
        }
    }
    for report in &summary.binlogs {
        println!("{report}");
        for note in report.notes() {
            println!("  note: {note}");
        }
    }
    println!(
        "wrote {}: {} events, {} ({} before compression)",
        args.output.display(),
        thousands(summary.events),
        bytes(summary.bytes),
        bytes(summary.raw_bytes)
    );
    if !summary.errors.is_empty() {
        for e in &summary.errors {
            eprintln!("error: {e}");
        }
        eprintln!(
            "error: {} input(s) stopped early; every event read before the error is in {}",
            summary.errors.len(),
            args.output.display()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// Each `--node` names the `--monitor` given just before it; captures without one are called
/// `redis` (a single capture) or after their file's stem.
fn pair_nodes(args: &ImportArgs, matches: &ArgMatches) -> anyhow::Result<Vec<MonitorInput>> {
    let monitor_at: Vec<usize> = matches.indices_of("monitors").map_or(vec![], Iterator::collect);
    let node_at: Vec<usize> = matches.indices_of("nodes").map_or(vec![], Iterator::collect);
    let mut names: Vec<Option<String>> = vec![None; args.monitors.len()];
    for (node, &at) in args.nodes.iter().zip(&node_at) {
        let Some(m) = monitor_at.iter().rposition(|&m| m < at) else {
            bail!("--node {node} must follow the --monitor FILE it names");
        };
        if names[m].replace(node.clone()).is_some() {
            bail!("--monitor {} has two --node names", args.monitors[m].display());
        }
    }
    Ok(args
        .monitors
        .iter()
        .zip(names)
        .map(|(path, name)| {
            let node = name.unwrap_or_else(|| {
                if args.monitors.len() == 1 {
                    "redis".to_string()
                } else {
                    path.file_stem().map_or("redis".into(), |s| s.to_string_lossy().into_owned())
                }
            });
            MonitorInput { path: path.clone(), node }
        })
        .collect())
}
