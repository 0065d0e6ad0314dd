/*!
`replay` for people: the mapping, the as-recorded part (the analyzer's stale keys with their
exposure and first reads), the exploration (components and how each was covered), the verdict,
then each read some order serves stale with its story — the inversions it needs, the chain
behind it, its margin and the command that replays it — and the notes. Also one schedule
replayed (`--schedule ID`): its steps, then `analyze`'s report of the reordered trace.
*/

use std::fmt::Write;

use cachetape_analyzer::{KeyReport, TraceVerdict, Verdict};
use cachetape_perturb::Coverage;
use cachetape_perturb::ReplayReport;
use cachetape_perturb::replay::{
    ComponentSummary, PerturbedRead, ScheduleReplay, estimate, format_window, thousands,
};
use cachetape_tape::{format_duration, format_time};

use super::{TextReport, age};
use crate::report::ReportFormat;

/// Stale reads listed per key in the as-recorded part.
const RECORDED_READS: usize = 3;
/// Keys with stale reads listed in the as-recorded part (worst first).
const RECORDED_KEYS: usize = 10;
/// Components listed one by one at most; beyond, only counts and the sampled ones.
const LIST_COMPONENTS: usize = 10;

impl ReportFormat<ReplayReport> for TextReport {
    fn render(&self, report: &ReplayReport, trace: &str) -> String {
        let mut out = String::new();
        let w = format_window(report.window_us);
        let _ = writeln!(out, "cachetape replay --perturb {w} {trace}");
        let s = &report.recorded.summary;
        let _ = writeln!(out, "mapping: {}", s.mapping_origin);
        for rule in &s.rules {
            let _ = writeln!(out, "  {rule}");
        }
        let _ = writeln!(out);
        if report.verdict() == TraceVerdict::Inconclusive {
            super::analyze::inconclusive(&mut out, s);
            let _ = writeln!(out);
        }
        as_recorded(&mut out, report, trace);
        let _ = writeln!(out);
        exploration(&mut out, report);
        verdict(&mut out, report);
        findings(&mut out, report, trace);
        super::analyze::families(&mut out, s);
        for n in report.notes.iter().chain(&s.notes) {
            let _ = writeln!(out, "note: {n}");
        }
        out
    }
}

impl ReportFormat<ScheduleReplay> for TextReport {
    fn render(&self, replayed: &ScheduleReplay, trace: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "schedule {} of component {} ({}), replayed through the analyzer with commits placed \
             exactly where it puts them:",
            replayed.id,
            replayed.component,
            replayed.keys.join(", ")
        );
        for (i, s) in replayed.steps.iter().enumerate() {
            let _ = writeln!(out, "  {:>3}. {s}", i + 1);
        }
        let _ = writeln!(out);
        out.push_str(&TextReport.render(&replayed.report, trace));
        out
    }
}

/// The analyzer's findings for the recorded order: the verdict, the stale keys (worst first),
/// and how many other keys disagreed with the database unseen.
fn as_recorded(out: &mut String, report: &ReplayReport, trace: &str) {
    let r = &report.recorded;
    let s = &r.summary;
    if !r.has_stale() {
        let _ = writeln!(
            out,
            "as recorded: {} — no stale read among {} hits of mapped keys ({})",
            r.verdict(),
            thousands(s.hits),
            super::analyze::coverage(s)
        );
    } else {
        let _ = writeln!(
            out,
            "as recorded: STALE — {} read(s) stale for certain and {} possibly, of {} hits",
            thousands(s.stale_definite),
            thousands(s.stale_possible),
            thousands(s.hits)
        );
    }
    let stale_keys: Vec<&KeyReport> =
        r.keys.iter().filter(|k| k.stale_definite + k.stale_possible > 0).collect();
    for k in stale_keys.iter().take(RECORDED_KEYS) {
        stale_key(out, report, k, trace);
    }
    if stale_keys.len() > RECORDED_KEYS {
        let _ = writeln!(
            out,
            "  … and {} more key(s) with stale reads (`cachetape analyze {trace}` lists them all)",
            stale_keys.len() - RECORDED_KEYS
        );
    }
    let quiet: Vec<_> =
        r.keys.iter().filter(|k| k.stale_definite + k.stale_possible == 0).collect();
    if !quiet.is_empty() {
        let longest = quiet.iter().map(|k| k.exposed_us).max().unwrap_or(0);
        let _ = writeln!(
            out,
            "  {} other key(s) disagreed with the database for a while (at most {}) without a \
             read seeing it",
            quiet.len(),
            format_duration(longest)
        );
    }
    if s.unverifiable > 0 {
        let reasons: Vec<String> = s
            .unverifiable_by_reason
            .iter()
            .map(|(r, n)| format!("{r}: {}", thousands(*n)))
            .collect();
        let _ = writeln!(
            out,
            "  {} hit(s) unverifiable ({}); no order explored judges them either",
            thousands(s.unverifiable),
            reasons.join("; ")
        );
    }
}

/// One key stale as recorded: its figures, its longest exposure intervals, its first reads.
fn stale_key(out: &mut String, report: &ReplayReport, k: &KeyReport, trace: &str) {
    let longest = k.exposure.iter().map(|e| e.to_us - e.from_us).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "  {} ({} db {}): {} stale for certain, {} possibly; the cache disagreed with the \
         database for {} in all (longest {})",
        k.key,
        k.node,
        k.db,
        k.stale_definite,
        k.stale_possible,
        format_duration(k.exposed_us),
        format_duration(longest)
    );
    if k.exposure.len() > RECORDED_READS {
        let _ = writeln!(
            out,
            "    {} exposure intervals; the longest {}:",
            k.exposure.len(),
            RECORDED_READS
        );
    }
    let mut longest: Vec<_> = k.exposure.iter().collect();
    longest.sort_by_key(|e| (std::cmp::Reverse(e.to_us - e.from_us), e.from_us));
    longest.truncate(RECORDED_READS);
    longest.sort_by_key(|e| e.from_us);
    for e in longest {
        let ttl =
            e.ttl_left_us.map_or(String::new(), |t| format!(", {} TTL left", format_duration(t)));
        let _ = writeln!(
            out,
            "    exposure from {} for {}: cache held {}; started by {}, ended by {}{ttl}",
            format_time(e.from_us),
            format_duration(e.to_us - e.from_us),
            e.cached,
            e.started_by,
            e.ended_by
        );
    }
    let reads: Vec<_> =
        report.recorded.findings.iter().filter(|x| x.key == k.key && x.node == k.node).collect();
    for x in reads.iter().take(RECORDED_READS) {
        let _ = writeln!(
            out,
            "    #{} {} {}  served {}, db {}  {} {} age {}",
            x.seq,
            format_time(x.t_us),
            x.client,
            x.served,
            x.db,
            x.verdict,
            x.cause,
            age(x.age_us)
        );
    }
    if reads.len() > RECORDED_READS {
        let _ = writeln!(
            out,
            "    … and {} more (`cachetape analyze {trace}` lists them all)",
            reads.len() - RECORDED_READS
        );
    }
}

/// The search: its settings and totals, then the components one by one (all of them when few,
/// else the sampled ones).
fn exploration(out: &mut String, report: &ReplayReport) {
    let (exhaustive, sampled) = report.by_coverage();
    let _ = writeln!(
        out,
        "perturbation ±{} (seed {}, budget {} per component): {} component(s) explored ({} \
         exhaustive, {} sampled), {} part(s) proven clean without a search; {} schedule(s)",
        format_window(report.window_us),
        report.seed,
        thousands(report.budget),
        thousands(report.components.len() as u64),
        thousands(exhaustive.len() as u64),
        thousands(sampled.len() as u64),
        thousands(report.quiet),
        thousands(report.schedules())
    );
    let listed: Vec<&ComponentSummary> = if report.components.len() <= LIST_COMPONENTS {
        report.components.iter().collect()
    } else {
        sampled
    };
    for c in listed {
        component(out, c);
    }
}

/// One component: its keys, size and coverage.
fn component(out: &mut String, c: &ComponentSummary) {
    let how = match c.coverage {
        Coverage::Exhaustive { schedules } => {
            format!("exhaustive ({} schedules)", thousands(schedules))
        }
        Coverage::Sampled { tried, about } => {
            format!("sampled {} of about {}", thousands(tried), estimate(about))
        }
    };
    let keys = if c.keys.len() <= 3 {
        c.keys.join(", ")
    } else {
        format!("{} … (+{})", c.keys[..3].join(", "), c.keys.len() - 3)
    };
    let _ = writeln!(
        out,
        "  component {} ({keys}; {} units, {} reads): {how}{}",
        c.index,
        c.units,
        c.reads,
        if c.approximate { ", approximate" } else { "" }
    );
}

/// The verdict under the window.
fn verdict(out: &mut String, report: &ReplayReport) {
    if report.findings.is_empty() {
        let _ = writeln!(out, "verdict: {}", report.verdict_text());
    } else {
        let _ = writeln!(
            out,
            "verdict: STALE under ±{} — {} read(s) served stale in some order (as recorded: {} \
             stale for certain, {} possibly)",
            format_window(report.window_us),
            report.findings.len(),
            report.stale_as_recorded(),
            report.possibly_stale_as_recorded()
        );
    }
}

/// A story: the chain's events and the moves in words. Findings that tell the same story refer
/// to the first that told it.
type Story = (Vec<Option<u64>>, Vec<String>);

/// Every finding, numbered; each story told once.
fn findings(out: &mut String, report: &ReplayReport, trace: &str) {
    let w = format_window(report.window_us);
    // Stories told, and the number of the finding that told each.
    let mut told: Vec<(Story, usize)> = Vec::new();
    for (n, x) in report.findings.iter().enumerate() {
        let r = &x.read;
        let story: Story = (r.chain.iter().map(|l| l.seq).collect(), x.story.clone());
        if let Some(&(_, first)) = told.iter().find(|t| t.0 == story) {
            let _ = writeln!(
                out,
                "{}. {} read by {} (#{}): {} {}, age {} — the same story as {first}.",
                n + 1,
                r.key,
                r.client,
                r.seq,
                r.verdict,
                r.cause,
                age(r.age_us)
            );
            continue;
        }
        told.push((story, n + 1));
        finding(out, n + 1, x, trace, &w);
    }
}

/// Finding number `n` told in full: the read, the moves, the chain, the margin, the command that
/// replays it.
fn finding(out: &mut String, n: usize, x: &PerturbedRead, trace: &str, w: &str) {
    let r = &x.read;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{n}. {} read by {} (#{} at {})  {} {}",
        r.key,
        r.client,
        r.seq,
        format_time(r.t_us),
        r.verdict,
        r.cause
    );
    let _ = writeln!(out, "   served {}, db {}; age {}", r.served, r.db, age(r.age_us));
    if x.story.is_empty() {
        let _ = writeln!(out, "   as recorded: no reordering needed");
    }
    for s in &x.story {
        let _ = writeln!(out, "   {s}");
    }
    for l in &r.chain {
        let seq = l.seq.map_or_else(String::new, |s| format!("#{s}"));
        let _ = writeln!(out, "     {:<14} {seq:>7}  {}", l.role, l.what);
    }
    if x.margin_us == 0 && r.verdict == Verdict::StaleDefinite {
        let _ = writeln!(out, "   margin: stale as recorded (at any window)");
    } else if x.margin_us == 0 && !x.moves.is_empty() {
        let _ = writeln!(out, "   margin: 0 (the events inverted are recorded at the same time)");
    } else if x.margin_us == 0 {
        let _ = writeln!(
            out,
            "   margin: stale at the recorded times (at any window); as recorded only possibly, \
             since the clocks' and the binlog's uncertainty also allow an order where it is fresh"
        );
    } else {
        let m = format_duration(x.margin_us);
        let _ = writeln!(out, "   margin: clean below {m}, stale from {m}");
    }
    let _ = writeln!(
        out,
        "   replay it: cachetape replay {trace} --perturb {w} --schedule {}",
        x.schedule
    );
}
