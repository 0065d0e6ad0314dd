/*!
`cachetape shrink TRACE --finding N -o SMALL`: cuts a trace to the events one finding needs
([`cachetape::shrink`]), writes them with the tape writer (the header kept, credentials stripped,
the events' sequence numbers kept), then reads the written file back and analyzes it to prove the
finding is still there. `-o` never overwrites the trace or its mapping, and the small trace goes
into place only when whole; `--salvage` shrinks what is recoverable of a damaged trace (the small
trace's header says what was skipped).

Each candidate is checked in process by re-running the as-recorded analysis — or, with
`--perturb W`, the perturbation search with the same window and seed on the candidate's events
(`cachetape::Replay::from_events`) — and the same key, cause, served and DB value and verdict must
appear. Exit codes: 0 when the small trace reproduces the
finding, 2 on any error (no such finding, the read-back check failing).
*/

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use cachetape::replay::{PerturbedRead, Replay};
use cachetape::shrink::{
    Perturbation, Target, analysis_test, analyze_events, perturbation_test, shrink,
};
use cachetape_analyzer::report::StaleRead;
use cachetape_analyzer::{AnalysisOptions, Mapping, TimelineOptions};
use cachetape_tape::output::{OutputFile, write_file};
use cachetape_tape::{Event, Header, ReadReport, Reader, Writer, WriterOptions, format_duration};

use super::mapping::{load_mapping, mapping_file};
use super::read::{refuse_trace_and_mapping, warn_incomplete};
use super::{bytes, thousands};
use crate::cli::ShrinkArgs;
use crate::units::parse_duration_us;

/// Writes one line to stdout; a closed pipe (`| head`) is an error, which `main` treats as
/// success, instead of a panic.
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}

/// `#2003` or `2003`.
fn finding_number(text: &str) -> anyhow::Result<u64> {
    text.trim().trim_start_matches('#').parse().with_context(|| {
        format!("--finding {text}: give the number analyze prints before a stale read, like 2003")
    })
}

/// A stale read of the as-recorded analysis in one line.
fn describe(f: &StaleRead) -> String {
    format!(
        "#{} {} read by {}: served {}, db {} ({} {})",
        f.seq, f.key, f.client, f.served, f.db, f.verdict, f.cause
    )
}

/// A finding of the search in one line, with its margin.
fn describe_perturbed(r: &PerturbedRead) -> String {
    let margin = if r.margin_us == 0 {
        "stale as recorded".to_string()
    } else {
        format!("stale from ±{}", format_duration(r.margin_us))
    };
    let f = &r.read;
    format!(
        "#{} {} read by {}: served {}, db {} ({} {}; {margin})",
        f.seq, f.key, f.client, f.served, f.db, f.verdict, f.cause
    )
}

/// Every event of the trace, in order (damaged frames skipped in `salvage` mode), and what the
/// read left out.
pub fn read_all(path: &Path, salvage: bool) -> anyhow::Result<(Header, Vec<Event>, ReadReport)> {
    let mut reader = Reader::open(path)?.salvage(salvage);
    let header = reader.header().clone();
    let mut events = Vec::new();
    for event in &mut reader {
        events.push(event.with_context(|| format!("reading {}", path.display()))?);
    }
    Ok((header, events, reader.report().clone()))
}

/// How the trace and every candidate are checked: the as-recorded analysis, or the
/// perturbation search.
enum Check {
    Recorded,
    Perturbed(Perturbation),
}

/// What the checks share.
struct Checker<'a> {
    check: &'a Check,
    salvage: bool,
    mapping: &'a Mapping,
    origin: &'a str,
    options: &'a AnalysisOptions,
}

impl Checker<'_> {
    /// Every finding of the trace file at `path`, as (seq, described, target).
    fn findings(&self, path: &Path) -> anyhow::Result<Vec<(u64, String, Target)>> {
        match self.check {
            Check::Recorded => {
                let (header, events, _) = read_all(path, self.salvage)?;
                let report = analyze_events(&header, self.mapping, self.options, &events)
                    .with_context(|| format!("analyzing {}", path.display()))?;
                Ok(report.findings.iter().map(|f| (f.seq, describe(f), Target::of(f))).collect())
            }
            Check::Perturbed(perturbation) => {
                let replay = Replay::open(path)?
                    .salvage(self.salvage)
                    .mapping(self.mapping.clone(), self.origin);
                let report = perturbation
                    .configure(replay)
                    .run()
                    .with_context(|| format!("replaying {}", path.display()))?;
                Ok(report
                    .stale_reads()
                    .iter()
                    .map(|r| (r.read.seq, describe_perturbed(r), Target::of(&r.read)))
                    .collect())
            }
        }
    }
}

/// Refuses an `-o` that is the trace or the mapping read, or whose mapping beside it (`.toml`)
/// would be the output itself.
fn refuse_outputs(args: &ShrinkArgs) -> anyhow::Result<()> {
    let map_file = mapping_file(&args.trace, args.map.as_deref());
    refuse_trace_and_mapping("-o", &args.output, &args.trace, map_file.as_ref())?;
    if args.output.with_extension("toml") == args.output {
        bail!(
            "-o {}: shrink writes the small trace's mapping beside it with `.toml`, the same \
             name; give the trace another extension (like .bin)",
            args.output.display()
        );
    }
    Ok(())
}

pub fn run(args: ShrinkArgs) -> anyhow::Result<ExitCode> {
    let seq = finding_number(&args.finding)?;
    refuse_outputs(&args)?;
    let (mapping, origin) = load_mapping(&args.trace, args.map.as_deref(), args.salvage)?;
    let (db_lag_us, db_lag_source) =
        super::db_lag::resolve(&args.trace, args.db_lag.as_deref(), args.salvage)?;
    let options = AnalysisOptions {
        timeline: TimelineOptions { db_lag_us },
        db_lag_source,
        mapping_origin: origin.clone(),
        ..AnalysisOptions::default()
    };
    let check = match &args.perturb {
        None => Check::Recorded,
        Some(w) => {
            let us = parse_duration_us(w).context("--perturb")?;
            if us < 0 {
                bail!("--perturb {w}: a window cannot be negative");
            }
            Check::Perturbed(Perturbation {
                window: Duration::from_micros(us as u64),
                seed: args.seed,
                db_lag: Duration::from_micros(db_lag_us.max(0) as u64),
            })
        }
    };
    let name = args.trace.display().to_string();
    let (header, events, read) = read_all(&args.trace, args.salvage)?;
    warn_incomplete(&args.trace, &read);
    let checker = Checker {
        check: &check,
        salvage: args.salvage,
        mapping: &mapping,
        origin: &origin,
        options: &options,
    };
    let how = match &args.perturb {
        None => "as recorded".to_string(),
        Some(w) => format!("under --perturb {w} (seed {})", args.seed),
    };
    let findings = checker.findings(&args.trace)?;
    let Some((_, described, target)) = findings.iter().find(|(s, _, _)| *s == seq) else {
        if findings.is_empty() {
            bail!("{name} has no stale read {how}: there is no finding to shrink towards");
        }
        let list: Vec<String> = findings
            .iter()
            .take(8)
            .map(|(s, _, t)| format!("#{s} ({}, {})", t.key, t.cause))
            .collect();
        bail!(
            "{name} has no finding #{seq} {how}; its findings are {}{} — `cachetape {} {name}` \
             lists them all",
            list.join(", "),
            if findings.len() > 8 { ", …" } else { "" },
            match &args.perturb {
                None => "analyze".to_string(),
                Some(w) => format!("replay --perturb {w}"),
            }
        );
    };
    let target = target.clone();
    say!("finding    {described}");
    let original = events.len();
    let (mut recorded, mut perturbed);
    let test: &mut dyn FnMut(&[Event]) -> bool = match &check {
        Check::Recorded => {
            recorded = analysis_test(&header, &mapping, &options, &target);
            &mut recorded
        }
        Check::Perturbed(perturbation) => {
            perturbed = perturbation_test(&header, &mapping, *perturbation, &target);
            &mut perturbed
        }
    };
    let shrunk = shrink(&header, &mapping, &target, events, args.max_tests, test)
        .with_context(|| format!("shrinking {name} towards finding #{seq} {how}"))?;
    let mut before = original;
    for stage in &shrunk.stages {
        say!(
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

    // Write, then prove it from the file. The header is the original's (sources, redaction),
    // with a note saying where the events came from.
    let mut small_header = header.clone();
    small_header.notes.push(format!(
        "cut by `cachetape shrink` from {name} ({} events) to the {} events finding #{seq} \
         ({}, {}) needs {how}",
        thousands(original as u64),
        thousands(shrunk.events.len() as u64),
        target.key,
        target.cause
    ));
    if !read.is_complete() {
        small_header.notes.push(format!("not all of {name} was read: {read}"));
    }
    let out = OutputFile::create(&args.output)?;
    let mut writer = Writer::to_output(out, &small_header, WriterOptions::default())?;
    for e in &shrunk.events {
        writer.append_event(e)?;
    }
    writer.commit().with_context(|| format!("writing {}", args.output.display()))?;
    let out = args.output.display().to_string();
    let map_path = args.output.with_extension("toml");
    let map_note = if map_path.exists() {
        format!("{} already exists: left as it is", map_path.display())
    } else {
        write_file(&map_path, mapping.to_toml())?;
        format!("mapping written to {}", map_path.display())
    };
    let kept = read_all(&args.output, false)?.1.len();
    let again = checker.findings(&args.output)?;
    let Some((_, described, _)) = again.iter().find(|(_, _, t)| *t == target) else {
        bail!(
            "{out} was written but its check no longer shows the finding; this is a bug in \
             shrink — please report it with the original trace"
        );
    };
    let size = std::fs::metadata(&args.output).map(|m| m.len()).unwrap_or(0);
    say!(
        "wrote      {out}: {} of {} events ({:.2}%), {}; {map_note}",
        thousands(kept as u64),
        thousands(original as u64),
        100.0 * kept as f64 / original.max(1) as f64,
        bytes(size)
    );
    say!("verified   read back and checked {how}: {described}");
    match &args.perturb {
        None => say!("next       cachetape analyze {out}"),
        Some(w) => say!("next       cachetape replay --perturb {w} {out}"),
    }
    Ok(ExitCode::SUCCESS)
}
