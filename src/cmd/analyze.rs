/*!
`cachetape analyze TRACE`: judges every read of a mapped key as recorded (no perturbation) and
prints the report — text or JSON on stdout, optionally an HTML page.

The mapping is `--map FILE`, else the trace's name with `.toml` beside it, else inferred from the
trace (one extra pass; stderr says so). `--html` costs a second analysis pass that keeps the
whole timeline of the flagged keys. Exit codes: 0 clean, 1 stale reads found, 2 error; with
`--expect`, 0 when the expectation holds, 1 when not.
*/

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use cachetape::report::{HtmlReport, JsonReport, ReportFormat, TextReport};
use cachetape_analyzer::{
    Analysis, AnalysisOptions, FeedError, Mapping, Report, TimelineOptions, feed,
};
use cachetape_tape::Reader;

use super::mapping::load_mapping;
use crate::cli::{AnalyzeArgs, Expectation, ReportFormat as Format};
use crate::units::parse_duration_us;

/// Flagged keys the HTML page shows at most.
const HTML_KEYS: usize = 20;

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let (mapping, origin) = load_mapping(&args.trace, args.map.as_deref())?;
    let db_lag_us = parse_duration_us(&args.db_lag).context("--db-lag")?;
    let mut ages_us = Vec::new();
    for a in args.ages.split(',').filter(|a| !a.trim().is_empty()) {
        ages_us.push(parse_duration_us(a).context("--ages")?);
    }
    let options = AnalysisOptions {
        timeline: TimelineOptions { db_lag_us },
        ages_us,
        mapping_origin: origin,
        ..AnalysisOptions::default()
    };
    let mut report = analyze(&args.trace, &mapping, options.clone())?;
    let name = args.trace.display().to_string();
    if let Some(html) = &args.html {
        let keys: Vec<String> = report.keys.iter().take(HTML_KEYS).map(|k| k.key.clone()).collect();
        if !keys.is_empty() {
            let detailed =
                analyze(&args.trace, &mapping, AnalysisOptions { detail_keys: keys, ..options })?;
            report.timelines = detailed.timelines;
        }
        let page = HtmlReport.render(&report, &name);
        std::fs::write(html, page).with_context(|| format!("cannot write {}", html.display()))?;
    }
    let out = match args.format {
        Format::Text => TextReport.render(&report, &name),
        Format::Json => JsonReport.render(&report, &name),
    };
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    let stale = !report.is_clean();
    Ok(exit_code(stale, args.expect, || {
        report.summary.stale_definite + report.summary.stale_possible
    }))
}

/// The exit code of `analyze` and `replay`: 1 when stale reads were found, 0 when clean; with
/// `--expect`, 0 when the expectation holds and 1 (saying why on stderr) when it does not.
/// `count` gives the number of stale reads for that message.
pub(super) fn exit_code(
    stale: bool,
    expect: Option<Expectation>,
    count: impl Fn() -> u64,
) -> ExitCode {
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

/// One analysis pass over the trace.
pub fn analyze(path: &Path, mapping: &Mapping, options: AnalysisOptions) -> anyhow::Result<Report> {
    let mut reader = Reader::open(path)?;
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
    let mut report = analysis.finish().with_context(|| format!("analyzing {}", path.display()))?;
    if !lost.is_complete() {
        report.summary.notes.push(format!("the trace is incomplete: {lost}"));
    }
    Ok(report)
}
