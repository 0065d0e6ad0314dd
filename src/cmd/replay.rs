/*!
`cachetape replay --perturb W TRACE`: a thin layer over the library's [`Replay`] — the
as-recorded analysis and every order within ±W, explored per independent component, each read
some order serves stale told with its story, schedule id and margin. `--schedule ID` replays one
such order through the full analyzer and prints that analysis instead. `--salvage` skips damaged
frames (and a second trace after the first) instead of stopping, saying what was skipped on
stderr and in the report's notes; `--html` never overwrites the trace or the mapping.

Exit codes: 0 clean, 1 stale reads found (as recorded or in some order), 2 error, 3
inconclusive (no stale read found, but too little of the trace could be judged to call it clean:
`--min-verifiable`, as `analyze` has it); with `--expect`, 0 when the expectation holds, 1 when
not, and 3 whenever the verdict is inconclusive. A progress bar goes to stderr when it is a
terminal and the exploration takes more than a moment.
*/

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use cachetape::replay::{Replay, ReplayReport};
use cachetape::report::{HtmlReport, JsonReport, ReportFormat, TextReport};
use cachetape_analyzer::{AnalysisOptions, Mapping, TimelineOptions};
use cachetape_tape::output::write_file;

use super::analyze::{analyze, exit_code, parse_share, warn_unjudged};
use super::mapping::{load_mapping, mapping_file};
use super::read::refuse_trace_and_mapping;
use crate::cli::{ReplayArgs, ReportFormat as Format};
use crate::units::parse_duration_us;

/// Flagged keys the HTML page shows timelines of at most.
const HTML_KEYS: usize = 20;
/// The progress bar appears once the exploration has run this long.
const PROGRESS_AFTER: Duration = Duration::from_millis(500);
/// … and is redrawn at most this often.
const REDRAW: Duration = Duration::from_millis(100);

pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let window_us = match args.perturb.trim() {
        "0" => 0,
        w => parse_duration_us(w).context("--perturb")?,
    };
    anyhow::ensure!(window_us >= 0, "--perturb {}: the window cannot be negative", args.perturb);
    let db_lag_us =
        args.db_lag.as_deref().map(parse_duration_us).transpose().context("--db-lag")?;
    let min_verifiable = parse_share(&args.min_verifiable).context("--min-verifiable")?;
    if let Some(html) = &args.html {
        let map_file = mapping_file(&args.trace, args.map.as_deref());
        refuse_trace_and_mapping("--html", html, &args.trace, map_file.as_ref())?;
    }
    let (mapping, origin) = load_mapping(&args.trace, args.map.as_deref(), args.salvage)?;
    let mut replay = Replay::open(&args.trace)?
        .salvage(args.salvage)
        .mapping(mapping.clone(), origin.clone())
        .perturb(Duration::from_micros(window_us as u64))
        .seed(args.seed)
        .budget(args.budget)
        .min_verifiable(min_verifiable);
    if let Some(us) = db_lag_us {
        anyhow::ensure!(us >= 0, "--db-lag {us}us: a lag cannot be negative");
        replay = replay.db_lag(Duration::from_micros(us as u64));
    }
    if let Some(jobs) = args.jobs {
        replay = replay.jobs(jobs);
    }
    let name = args.trace.display().to_string();
    if let Some(id) = &args.schedule {
        let replayed = replay.replay_schedule(id)?;
        let out = match args.format {
            Format::Text => TextReport.render(&replayed, &name),
            Format::Json => JsonReport.render(&replayed, &name),
        };
        print(&out)?;
        let (report, s) = (&replayed.report, &replayed.report.summary);
        return Ok(exit_code(report.verdict(), s, args.expect, || {
            s.stale_definite + s.stale_possible
        }));
    }
    if std::io::stderr().is_terminal() {
        let started = Instant::now();
        // When the bar was last drawn: redrawn at most every REDRAW, and at the end.
        let drawn: Mutex<Option<Instant>> = Mutex::new(None);
        replay = replay.progress(move |done, total| {
            if started.elapsed() < PROGRESS_AFTER {
                return;
            }
            let mut drawn = drawn.lock().unwrap_or_else(|e| e.into_inner());
            if done < total && drawn.is_some_and(|at| at.elapsed() < REDRAW) {
                return;
            }
            *drawn = Some(Instant::now());
            let width = 30;
            let filled = (done * width).checked_div(total).unwrap_or(width);
            eprint!(
                "\r  exploring [{}{}] {done}/{total} components",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
            if done == total {
                eprint!("\r{}\r", " ".repeat(width + 40));
            }
        });
    }
    let report = replay.run()?;
    if let Some(unread) = &report.unread {
        eprintln!("warning: {name}: {unread}");
    }
    if let Some(html) = &args.html {
        write_file(html, html_page(&report, &args, &mapping, &origin, &name)?)?;
    }
    let out = match args.format {
        Format::Text => TextReport.render(&report, &name),
        Format::Json => JsonReport.render(&report, &name),
    };
    print(&out)?;
    let s = &report.recorded.summary;
    warn_unjudged(report.verdict(), s);
    Ok(exit_code(report.verdict(), s, args.expect, || report.stale_reads().len() as u64))
}

/// Writes `out` to stdout; a closed pipe is an error, which `main` treats as success.
fn print(out: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// The page: the recorded order's analysis with the flagged keys' timelines (a second analysis
/// pass that keeps them), and the perturbation's verdict and findings.
fn html_page(
    report: &ReplayReport,
    args: &ReplayArgs,
    mapping: &Mapping,
    origin: &str,
    name: &str,
) -> anyhow::Result<String> {
    let mut report = report.clone();
    let recorded = &mut report.recorded;
    let keys: Vec<String> = recorded.keys.iter().take(HTML_KEYS).map(|k| k.key.clone()).collect();
    if !keys.is_empty() {
        let options = AnalysisOptions {
            timeline: TimelineOptions { db_lag_us: recorded.summary.db_lag_us },
            db_lag_source: recorded.summary.db_lag_source,
            mapping_origin: origin.to_string(),
            detail_keys: keys,
            min_verifiable: recorded.summary.min_verifiable,
            ..AnalysisOptions::default()
        };
        recorded.timelines = analyze(&args.trace, mapping, options, args.salvage)?.0.timelines;
    }
    Ok(HtmlReport.render(&report, name))
}
