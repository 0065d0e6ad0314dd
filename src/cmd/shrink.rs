/*!
`cachetape shrink TRACE --finding N -o SMALL`: cuts a trace to the events one finding needs
([`cachetape::shrink`]), writes them with the tape writer (the header kept, credentials stripped,
the events' sequence numbers kept), then reads the written file back and analyzes it to prove the
finding is still there.

Each candidate is checked by re-running the as-recorded analysis in process: the same key, cause,
served and DB value and verdict must appear. Exit codes: 0 when the small trace reproduces the
finding, 2 on any error (no such finding, the read-back check failing).
*/

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use cachetape::shrink::{Target, analysis_test, analyze_events, shrink};
use cachetape_analyzer::report::StaleRead;
use cachetape_analyzer::{AnalysisOptions, TimelineOptions};
use cachetape_tape::{Event, Reader, Writer, WriterOptions};

use super::{bytes, thousands};
use crate::cli::ShrinkArgs;
use crate::units::parse_duration_us;

/// `#2003` or `2003`.
fn finding_number(text: &str) -> anyhow::Result<u64> {
    text.trim().trim_start_matches('#').parse().with_context(|| {
        format!("--finding {text}: give the number analyze prints before a stale read, like 2003")
    })
}

fn describe(f: &StaleRead) -> String {
    format!(
        "#{} {} read by {}: served {}, db {} ({} {})",
        f.seq, f.key, f.client, f.served, f.db, f.verdict, f.cause
    )
}

/// Every event of the trace, in order; stderr says what a damaged trace lost.
pub fn read_all(path: &Path) -> anyhow::Result<(cachetape_tape::Header, Vec<Event>)> {
    let mut reader = Reader::open(path)?;
    let header = reader.header().clone();
    let mut events = Vec::new();
    for event in &mut reader {
        events.push(event.with_context(|| format!("reading {}", path.display()))?);
    }
    let report = reader.report();
    if !report.is_complete() {
        eprintln!("note: {} is incomplete: {report}", path.display());
    }
    Ok((header, events))
}

pub fn run(args: ShrinkArgs) -> anyhow::Result<ExitCode> {
    let seq = finding_number(&args.finding)?;
    let (mapping, origin) = super::analyze::load_mapping(&args.trace, args.map.as_deref())?;
    let db_lag_us = parse_duration_us(&args.db_lag).context("--db-lag")?;
    let options = AnalysisOptions {
        timeline: TimelineOptions { db_lag_us },
        mapping_origin: origin,
        ..AnalysisOptions::default()
    };
    let name = args.trace.display().to_string();
    let (header, events) = read_all(&args.trace)?;
    let report = analyze_events(&header, &mapping, &options, &events)
        .with_context(|| format!("analyzing {name}"))?;
    let Some(finding) = report.findings.iter().find(|f| f.seq == seq) else {
        if report.findings.is_empty() {
            bail!("{name} has no stale read as recorded: there is no finding to shrink towards");
        }
        let list: Vec<String> = report
            .findings
            .iter()
            .take(8)
            .map(|f| format!("#{} ({}, {})", f.seq, f.key, f.cause))
            .collect();
        bail!(
            "{name} has no finding #{seq}; its findings are {}{} — `cachetape analyze {name}` \
             lists them all",
            list.join(", "),
            if report.findings.len() > 8 { ", …" } else { "" }
        );
    };
    let target = Target::of(finding);
    println!("finding    {}", describe(finding));
    let original = events.len();
    let mut test = analysis_test(&header, &mapping, &options, &target);
    let shrunk = shrink(&header, &mapping, &target, events, args.max_tests, &mut test)
        .with_context(|| format!("shrinking {name} towards finding #{seq}"))?;
    let mut before = original;
    for stage in &shrunk.stages {
        println!(
            "{:<10} {} → {} events ({} check{}){}",
            stage.name,
            thousands(before as u64),
            thousands(stage.events as u64),
            stage.tests,
            if stage.tests == 1 { "" } else { "s" },
            stage.note.as_ref().map_or(String::new(), |n| format!("; {n}"))
        );
        before = stage.events;
    }

    // Write, then prove it from the file.
    let mut writer = Writer::create(&args.output, &header, WriterOptions::default())
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    for e in &shrunk.events {
        writer.append_event(e)?;
    }
    writer.finish().with_context(|| format!("writing {}", args.output.display()))?;
    let out = args.output.display().to_string();
    let map_path = args.output.with_extension("toml");
    let map_note = if map_path.exists() {
        format!("{} already exists: left as it is", map_path.display())
    } else {
        std::fs::write(&map_path, mapping.to_toml())
            .with_context(|| format!("cannot write {}", map_path.display()))?;
        format!("mapping written to {}", map_path.display())
    };
    let (small_header, small_events) = read_all(&args.output)?;
    let check = analyze_events(&small_header, &mapping, &options, &small_events)
        .with_context(|| format!("analyzing the written {out}"))?;
    let Some(again) = target.find_in(&check.findings) else {
        bail!(
            "{out} was written but its analysis no longer shows the finding; this is a bug in \
             shrink — please report it with the original trace"
        );
    };
    let size = std::fs::metadata(&args.output).map(|m| m.len()).unwrap_or(0);
    println!(
        "wrote      {out}: {} of {} events ({:.2}%), {}; {map_note}",
        thousands(small_events.len() as u64),
        thousands(original as u64),
        100.0 * small_events.len() as f64 / original.max(1) as f64,
        bytes(size)
    );
    println!("verified   read back and analyzed: {}", describe(again));
    println!("next       cachetape analyze {out}");
    Ok(ExitCode::SUCCESS)
}
