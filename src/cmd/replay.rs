/*!
`cachetape replay --perturb W TRACE`: a thin layer over the library's [`Replay`] — the
as-recorded analysis and every order within ±W, explored per independent component, each read
some order serves stale told with its story, schedule id and margin. `--schedule ID` replays one
such order through the full analyzer and prints that analysis instead.

Exit codes: 0 clean, 1 stale reads found (as recorded or in some order), 2 error; with
`--expect`, 0 when the expectation holds, 1 when not. A progress bar goes to stderr when it is a
terminal and the exploration takes more than a moment.
*/

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use cachetape::replay::{Replay, ReplayReport};
use cachetape_analyzer::{AnalysisOptions, TimelineOptions};
use cachetape_tape::{format_duration, format_time};

use super::analyze::exit_code;
use crate::cli::{ReplayArgs, ReportFormat as Format};
use crate::report::{HtmlReport, JsonReport, ReportFormat, TextReport};
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
    let db_lag_us = parse_duration_us(&args.db_lag).context("--db-lag")?;
    let (mapping, origin) = super::analyze::load_mapping(&args.trace, args.map.as_deref())?;
    let mut replay = Replay::open(&args.trace)?
        .mapping(mapping.clone(), origin.clone())
        .perturb(Duration::from_micros(window_us as u64))
        .seed(args.seed)
        .budget(args.budget)
        .db_lag(Duration::from_micros(db_lag_us.max(0) as u64));
    if let Some(jobs) = args.jobs {
        replay = replay.jobs(jobs);
    }
    let name = args.trace.display().to_string();
    if let Some(id) = &args.schedule {
        let replayed = replay.replay_schedule(id)?;
        let mut out = String::new();
        if args.format == Format::Text {
            let _ = writeln!(
                out,
                "schedule {} of component {} ({}), replayed through the analyzer with commits \
                 placed exactly where it puts them:",
                replayed.id,
                replayed.component,
                replayed.keys.join(", ")
            );
            for (i, s) in replayed.steps.iter().enumerate() {
                let _ = writeln!(out, "  {:>3}. {s}", i + 1);
            }
            let _ = writeln!(out);
            out.push_str(&TextReport.render(&replayed.report, &name));
        } else {
            out = JsonReport.render(&replayed.report, &name);
        }
        print(&out)?;
        return Ok(exit_code(!replayed.report.is_clean(), args.expect, || {
            let s = &replayed.report.summary;
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
    if let Some(html) = &args.html {
        let page = html_page(&report, &args, &mapping, &origin, db_lag_us, &name)?;
        std::fs::write(html, page).with_context(|| format!("cannot write {}", html.display()))?;
    }
    let out = match args.format {
        Format::Text => report.to_string(),
        Format::Json => report.to_json(),
    };
    print(&out)?;
    Ok(exit_code(!report.is_clean(), args.expect, || report.findings.len() as u64))
}

fn print(out: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The analyzer's page for the recorded order (with the flagged keys' timelines), then a
/// section with the perturbation's verdict and a table of its findings.
fn html_page(
    report: &ReplayReport,
    args: &ReplayArgs,
    mapping: &cachetape_analyzer::Mapping,
    origin: &str,
    db_lag_us: i64,
    name: &str,
) -> anyhow::Result<String> {
    let mut recorded = report.recorded.clone();
    let keys: Vec<String> = recorded.keys.iter().take(HTML_KEYS).map(|k| k.key.clone()).collect();
    if !keys.is_empty() {
        let options = AnalysisOptions {
            timeline: TimelineOptions { db_lag_us },
            mapping_origin: origin.to_string(),
            detail_keys: keys,
            ..AnalysisOptions::default()
        };
        recorded.timelines = super::analyze::analyze(&args.trace, mapping, options)?.timelines;
    }
    let page = HtmlReport.render(&recorded, name);
    let mut section = String::new();
    let _ = writeln!(
        section,
        r#"<section class="perturbation"><h2>Perturbation ±{}</h2>"#,
        esc(&cachetape::replay::format_window(report.window_us))
    );
    let class = if report.is_clean() { "clean" } else { "stale" };
    let _ = writeln!(
        section,
        r#"<p class="verdict {class}">{}: {} component(s), {} schedule(s) evaluated.</p>"#,
        esc(&report.verdict()),
        report.components.len(),
        report.schedules()
    );
    if !report.findings.is_empty() {
        section.push_str(
            "<table class=\"findings\"><tr><th>read</th><th>key</th><th>client</th>\
             <th>served</th><th>db</th><th>verdict</th><th>cause</th><th>margin</th>\
             <th>how</th><th>schedule</th></tr>\n",
        );
        for f in &report.findings {
            let _ = writeln!(
                section,
                "<tr><td>#{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                f.seq,
                esc(&format_time(f.t_us)),
                esc(&f.key),
                esc(&f.client),
                esc(&f.served),
                esc(&f.db),
                f.verdict,
                f.cause,
                esc(&format_duration(f.margin_us)),
                esc(&f.story.join("; ")),
                esc(&f.schedule)
            );
        }
        section.push_str("</table>\n");
    }
    section.push_str("</section>\n");
    let at = page.rfind("</body>").unwrap_or(page.len());
    Ok(format!("{}{section}{}", &page[..at], &page[at..]))
}
