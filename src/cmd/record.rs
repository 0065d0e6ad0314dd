/*!
`cachetape record`: turns the flags into a [`RecordConfig`], runs the live recorder (or only its
checks, with `--dry-run`) and prints the summary on stderr — stdout belongs to the `-- COMMAND`.
The trace streams into `OUT.partial` and is renamed to `OUT` when closed: an older `OUT` is
never cut, and a recorder killed mid-way leaves `OUT.partial`, readable up to its last frame.

Exit codes: the command's own with `-- COMMAND`, else 0; 2 when the checks fail or recording
fails (with every problem and its fix printed).
*/

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use cachetape_recorder::live::{self, RecordConfig, RecordError};
use cachetape_tape::output::OutputFile;
use cachetape_tape::{Error as TapeError, KeyPattern, Redaction};

use super::now_us;
use crate::cli::{RecordArgs, RedactMode};
use crate::units::parse_duration_us;

pub fn run(args: RecordArgs) -> anyhow::Result<ExitCode> {
    let config = config(&args)?;
    if args.dry_run {
        let report = live::dry_run(&config)?;
        for line in &report.passed {
            println!("ok: {line}");
        }
        for note in &report.notes {
            println!("note: {note}");
        }
        if report.problems.is_empty() {
            println!("ready to record");
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("error: {}", live::preflight::format_problems(&report.problems));
        return Ok(ExitCode::from(2));
    }
    let output = config.output.display().to_string();
    let summary = match live::record(config) {
        Ok(summary) => summary,
        Err(e @ RecordError::Preflight(_)) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            let partial = OutputFile::partial_path(&args_output(&args));
            let earlier = matches!(e, RecordError::Trace(TapeError::PartialExists { .. }));
            if !earlier && partial.exists() {
                eprintln!(
                    "note: what was recorded before the error is in {} (a trace that ends early: \
                     `cachetape info {}`)",
                    partial.display(),
                    partial.display()
                );
            }
            return Err(e).with_context(|| format!("recording into {output} failed"));
        }
    };
    eprint!("{summary}");
    for w in &summary.warnings {
        eprintln!("  warning: {w}");
    }
    Ok(match summary.command_exit {
        Some(code) => ExitCode::from(code.clamp(0, 255) as u8),
        None => ExitCode::SUCCESS,
    })
}

/// The trace to write (`--dry-run` writes none).
fn args_output(args: &RecordArgs) -> std::path::PathBuf {
    args.output.clone().unwrap_or_else(|| "dry-run.bin".into())
}

fn config(args: &RecordArgs) -> anyhow::Result<RecordConfig> {
    if args.redis.is_empty() && args.mysql.is_none() {
        bail!("nothing to record: give at least one --redis URL or a --mysql URL");
    }
    let mut config = RecordConfig::new(args_output(args));
    config.redis = args.redis.clone();
    config.mysql = args.mysql.clone();
    config.duration = match &args.duration {
        Some(d) => Some(Duration::from_micros(parse_duration_us(d)?.max(0) as u64)),
        None => None,
    };
    config.max_events = args.max_events;
    config.keys = args.keys.iter().map(KeyPattern::new).collect();
    config.snapshot = args.snapshot;
    config.tables = args.tables.iter().map(KeyPattern::new).collect();
    if let Some(id) = args.server_id {
        config.server_id = id;
    }
    config.notifications = args.notifications;
    config.enable_notifications = args.enable_notifications;
    config.redaction = match args.redact {
        RedactMode::None => Redaction::None,
        RedactMode::Values => Redaction::Values,
        RedactMode::KeysValues => Redaction::KeysAndValues,
    };
    config.level = args.level;
    config.command = args.command.clone();
    config.status_line = !args.quiet && std::io::stderr().is_terminal();
    let interval = parse_duration_us(&args.probe_interval)?;
    if interval < 10_000 {
        bail!("--probe-interval {} is too short: use 10ms or more", args.probe_interval);
    }
    config.probe_interval = Duration::from_micros(interval as u64);
    config.snapshot_rate = args.snapshot_rate.max(1);
    if let Some(table) = &args.heartbeat {
        config.heartbeat = Some(
            cachetape_recorder::live::HeartbeatConfig::parse(table, args.heartbeat_create)
                .map_err(anyhow::Error::msg)?,
        );
    }
    config.created_us = now_us();
    Ok(config)
}
