/*!
`cachetape analyze TRACE`: judges every read of a mapped key as recorded (no perturbation) and
prints the report — text or JSON on stdout, optionally an HTML page.

The mapping is `--map FILE`, else the trace's name with `.toml` beside it, else inferred from the
trace (one extra pass; stderr says so). `--salvage` skips damaged frames (and a second trace
after the first) instead of stopping; stderr and the report's notes say what was skipped. `--html`
never overwrites the trace or the mapping, and goes into place only when whole. `--html` costs a
second analysis pass that keeps the whole timeline of the flagged keys. `--reads FILE` writes every
judged read as JSON lines (`report/reads.rs`), through a temporary file, never over an input. Exit
codes: 0 clean, 1 stale reads found, 2 error, 3 inconclusive (no stale read found, but too little
of the trace could be judged to call it clean: `--min-verifiable`); with `--expect`, 0 when the
expectation holds, 1 when not — and 3 whenever
the verdict is inconclusive, which no expectation accepts. Key families nothing judged (written
but matched by no rule, or with values the rule could not read) and why a verdict is
inconclusive are also said on stderr.
*/

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use cachetape::report::{HtmlReport, JsonReport, ReportFormat, TextReport, write_reads};
use cachetape_analyzer::analysis::ReadLog;
use cachetape_analyzer::{
    Analysis, AnalysisOptions, FeedError, Mapping, Report, Summary, TimelineOptions, TraceVerdict,
    feed,
};
use cachetape_tape::output::write_file;
use cachetape_tape::{ReadReport, Reader};

use super::mapping::{load_mapping, mapping_file};
use super::output::write_output;
use super::read::{refuse_trace_and_mapping, warn_incomplete};
use crate::cli::{AnalyzeArgs, Expectation, ReportFormat as Format};
use crate::units::parse_duration_us;

/// Flagged keys the HTML page shows at most.
const HTML_KEYS: usize = 20;

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    if let Some(html) = &args.html {
        let map_file = mapping_file(&args.trace, args.map.as_deref());
        refuse_trace_and_mapping("--html", html, &args.trace, map_file.as_ref())?;
    }
    let (mapping, origin) = load_mapping(&args.trace, args.map.as_deref(), args.salvage)?;
    let (db_lag_us, db_lag_source) =
        super::db_lag::resolve(&args.trace, args.db_lag.as_deref(), args.salvage)?;
    let mut ages_us = Vec::new();
    for a in args.ages.split(',').filter(|a| !a.trim().is_empty()) {
        ages_us.push(parse_duration_us(a).context("--ages")?);
    }
    let min_verifiable = parse_share(&args.min_verifiable).context("--min-verifiable")?;
    let options = AnalysisOptions {
        timeline: TimelineOptions { db_lag_us },
        db_lag_source,
        ages_us,
        mapping_origin: origin,
        min_verifiable,
        ..AnalysisOptions::default()
    };
    let (mut report, reads, read) = analyze_with_reads(
        &args.trace,
        &mapping,
        AnalysisOptions { log_reads: args.reads.is_some(), ..options.clone() },
        args.salvage,
    )?;
    warn_incomplete(&args.trace, &read);
    if let Some(path) = &args.reads {
        let mut inputs = vec![args.trace.as_path()];
        let beside = args.trace.with_extension("toml");
        inputs.push(args.map.as_deref().unwrap_or(&beside));
        if let Some(html) = &args.html {
            inputs.push(html);
        }
        write_output(path, "the reads file", &inputs, |out| write_reads(&reads, out))?;
    }
    let name = args.trace.display().to_string();
    if let Some(html) = &args.html {
        let keys: Vec<String> = report.keys.iter().take(HTML_KEYS).map(|k| k.key.clone()).collect();
        if !keys.is_empty() {
            let options = AnalysisOptions { detail_keys: keys, ..options };
            let (detailed, _) = analyze(&args.trace, &mapping, options, args.salvage)?;
            report.timelines = detailed.timelines;
        }
        write_file(html, HtmlReport.render(&report, &name))?;
    }
    let out = match args.format {
        Format::Text => TextReport.render(&report, &name),
        Format::Json => JsonReport.render(&report, &name),
    };
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    warn_unjudged(report.verdict(), &report.summary);
    Ok(exit_code(report.verdict(), &report.summary, args.expect, || {
        report.summary.stale_definite + report.summary.stale_possible
    }))
}

/// `90%`, `0.9` or `95.5%` → a share in 0..=1.
pub(super) fn parse_share(s: &str) -> anyhow::Result<f64> {
    let t = s.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (t, 1.0),
    };
    let x: f64 = num
        .parse()
        .with_context(|| format!("`{s}` is not a share: write a percentage like 90% or 0.9"))?;
    let share = x / scale;
    anyhow::ensure!(
        (0.0..=1.0).contains(&share),
        "`{s}` is not a share between 0% and 100% (write 90% or 0.9)"
    );
    Ok(share)
}

/// Says on stderr what nothing judged: the key families written but matched by no rule, those
/// with values the rule could not read, and why the verdict is inconclusive.
pub(super) fn warn_unjudged(verdict: TraceVerdict, s: &Summary) {
    for f in &s.unmapped_families {
        eprintln!(
            "note: key family {} is written ({} write(s), e.g. {}) but matches no rule of the \
             mapping: its reads are not judged",
            f.family,
            super::thousands(f.writes),
            f.sample_key
        );
    }
    let (families, writes) = s.unmapped_rest;
    if writes > 0 {
        eprintln!(
            "note: … and {} more written key famil{} ({} write(s)) match no rule",
            super::thousands(families),
            if families == 1 { "y" } else { "ies" },
            super::thousands(writes)
        );
    }
    for f in &s.undecodable_families {
        let head =
            if f.head.is_empty() { String::new() } else { format!("; first bytes {}", f.head) };
        eprintln!(
            "note: {} of {} value(s) written to keys {} could not be read ({}{head}; e.g. {}): \
             a `decode = \"…\"` in its rule may read them",
            super::thousands(f.unreadable),
            super::thousands(f.writes),
            f.family,
            f.reason,
            f.sample_key
        );
    }
    if verdict == TraceVerdict::Inconclusive {
        for why in &s.inconclusive {
            eprintln!("inconclusive: {why}");
        }
    }
}

/// The exit code of `analyze` and `replay`: 1 when stale reads were found, 0 when clean, 3 when
/// inconclusive; with `--expect`, 0 when the expectation holds and 1 (saying why on stderr) when
/// it does not — except that an inconclusive verdict is 3 whatever is expected (saying why).
/// `count` gives the number of stale reads for the message.
pub(super) fn exit_code(
    verdict: TraceVerdict,
    summary: &Summary,
    expect: Option<Expectation>,
    count: impl Fn() -> u64,
) -> ExitCode {
    if verdict == TraceVerdict::Inconclusive {
        let why = summary.inconclusive.first().map_or("", String::as_str);
        match expect {
            Some(Expectation::Clean) => {
                eprintln!("expected a clean trace, but the verdict is inconclusive: {why}")
            }
            Some(Expectation::Stale) => {
                eprintln!(
                    "expected stale reads, found none; and the verdict is inconclusive: {why}"
                )
            }
            None => {}
        }
        return ExitCode::from(3);
    }
    let stale = verdict == TraceVerdict::Stale;
    let code = match expect {
        None => u8::from(stale),
        Some(Expectation::Stale) => {
            if !stale {
                eprintln!("expected stale reads, found none");
            }
            u8::from(!stale)
        }
        Some(Expectation::Clean) => {
            if stale {
                eprintln!("expected a clean trace, found {} stale read(s)", count());
            }
            u8::from(stale)
        }
    };
    ExitCode::from(code)
}

/// One analysis pass over the trace (skipping damaged frames in `salvage` mode), and what the
/// read left out; the report's notes say it too.
pub fn analyze(
    path: &Path,
    mapping: &Mapping,
    options: AnalysisOptions,
    salvage: bool,
) -> anyhow::Result<(Report, ReadReport)> {
    analyze_with_reads(path, mapping, options, salvage).map(|(report, _, read)| (report, read))
}

/// One analysis pass over the trace, with its log of judged reads (empty unless
/// `options.log_reads`) and what the read left out.
fn analyze_with_reads(
    path: &Path,
    mapping: &Mapping,
    options: AnalysisOptions,
    salvage: bool,
) -> anyhow::Result<(Report, ReadLog, ReadReport)> {
    let mut reader = Reader::open(path)?.salvage(salvage);
    let mut analysis = Analysis::new(reader.header(), mapping.clone(), options);
    // The trace decodes on a thread of its own, a batch ahead of the analysis.
    match feed(&mut analysis, |event| reader.next_event_into(event)) {
        Ok(()) => {}
        Err(FeedError::Decode(e)) => return Err(e.into()),
        Err(FeedError::Analysis(e)) => {
            return Err(e).with_context(|| format!("analyzing {}", path.display()));
        }
    }
    let lost = reader.report().clone();
    let (mut report, reads) =
        analysis.finish_with_reads().with_context(|| format!("analyzing {}", path.display()))?;
    if !lost.is_complete() {
        report.summary.notes.push(format!("not all of the trace file was read: {lost}"));
    }
    Ok((report, reads, lost))
}
