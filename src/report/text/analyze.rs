/*!
`analyze` for people: the verdict first, then the flagged keys worst first — each with how long
the cache disagreed with the database and why, each stale read in one line, and the story behind
it (the write, the commit that superseded the value, what ended it) — then the figures.
*/

use std::collections::HashMap;
use std::fmt::Write;

use cachetape_analyzer::report::{KeyReport, StaleRead};
use cachetape_analyzer::{Cause, Report, Summary, TraceVerdict};
use cachetape_tape::{format_duration, format_time};

use cachetape_perturb::replay::thousands;

use super::{TextReport, age, pct};
use crate::report::ReportFormat;

/// `+2.1ms` / `-300us` from `base` to `t`.
fn offset(t: i64, base: i64) -> String {
    let d = t - base;
    if d >= 0 { format!("+{}", format_duration(d)) } else { format_duration(d) }
}

/// One line of headline for a key: how long, and the main cause in words.
fn headline(k: &KeyReport, findings: &[&StaleRead]) -> String {
    let longest = k.exposure.iter().map(|e| e.to_us - e.from_us).max();
    let mut causes: Vec<(Cause, usize)> = Vec::new();
    for f in findings {
        match causes.iter_mut().find(|(c, _)| *c == f.cause) {
            Some((_, n)) => *n += 1,
            None => causes.push((f.cause, 1)),
        }
    }
    causes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if findings.is_empty() {
        return match longest {
            Some(l) => format!(
                "the cache disagreed with the database for {} (no read saw it)",
                format_duration(l)
            ),
            None => "no stale read".to_string(),
        };
    }
    let mut out = match longest {
        Some(l) => format!("stale for {}", format_duration(l)),
        None => "stale".to_string(),
    };
    if let Some((cause, _)) = causes.first() {
        let _ = write!(out, ": {}", cause.words());
        if let Some(f) = findings.iter().find(|f| f.cause == *cause) {
            let write = f.chain.iter().find(|l| l.role == "write");
            let commit = f.chain.iter().find(|l| l.role == "superseded-by");
            match (cause, write, commit) {
                (Cause::StaleSet, Some(w), Some(c)) => {
                    let _ = write!(
                        out,
                        " ({} landed {} after the commit",
                        w.what.split(" from ").next().unwrap_or(&w.what),
                        format_duration(w.t_us - c.t_us)
                    );
                    if let Some(e) = k.exposure.iter().find(|e| e.started_by == "write") {
                        let _ = write!(out, "; ended by {}", e.ended_by);
                    }
                    out.push(')');
                }
                (Cause::LateInvalidation, _, Some(c)) => {
                    if let Some(inv) = f.chain.iter().find(|l| l.role == "invalidation") {
                        let _ = write!(
                            out,
                            " ({} came {} after the commit)",
                            inv.what.split(" from ").next().unwrap_or(&inv.what),
                            format_duration(inv.t_us - c.t_us)
                        );
                    }
                }
                (Cause::MissingInvalidation, _, Some(_)) => {
                    out.push_str(" (no DEL followed the commit)");
                }
                _ => {}
            }
        }
    }
    out
}

impl ReportFormat<Report> for TextReport {
    fn render(&self, report: &Report, trace: &str) -> String {
        let mut out = String::new();
        verdict(&mut out, report, trace);
        // Each key's findings, grouped in one pass (report order kept within a key): looking
        // them up per key made the page O(keys × findings).
        let mut by_key: HashMap<(&str, &str, u32), Vec<&StaleRead>> = HashMap::new();
        for f in &report.findings {
            by_key.entry((&f.node, &f.key, f.redis_db)).or_default().push(f);
        }
        for k in &report.keys {
            let findings = by_key.get(&(&*k.node, &*k.key, k.db)).map_or(&[][..], Vec::as_slice);
            key_section(&mut out, k, findings);
        }
        families(&mut out, &report.summary);
        figures(&mut out, &report.summary);
        out
    }
}

/// The command, the mapping and the verdict.
fn verdict(out: &mut String, report: &Report, trace: &str) {
    let s = &report.summary;
    let _ = writeln!(out, "cachetape analyze {trace}");
    let _ = writeln!(out, "mapping: {}", s.mapping_origin);
    for r in &s.rules {
        let _ = writeln!(out, "  {r}");
    }
    let _ = writeln!(out);
    match report.verdict() {
        TraceVerdict::Clean => {
            let _ = writeln!(
                out,
                "CLEAN: no stale read among {} hits of mapped keys ({})",
                thousands(s.hits),
                coverage(s)
            );
        }
        TraceVerdict::Stale => {
            let _ = writeln!(
                out,
                "STALE: {} read(s) stale for certain and {} possibly, on {} key(s), of {} hits \
                 of mapped keys ({})",
                thousands(s.stale_definite),
                thousands(s.stale_possible),
                report.keys.iter().filter(|k| k.stale_definite + k.stale_possible > 0).count(),
                thousands(s.hits),
                coverage(s)
            );
            // The stale reads stand; the rest of the trace could not all be judged.
            for why in &s.inconclusive {
                let _ = writeln!(out, "  - and the rest was not all judged: {why}");
            }
        }
        TraceVerdict::Inconclusive => inconclusive(out, s),
    }
}

/// What the hits of mapped keys came to: `731 judged; 867 of rows the trace has no database
/// evidence for; 100% decoded and compared`.
pub(super) fn coverage(s: &Summary) -> String {
    let mut parts = vec![format!("{} judged", thousands(s.judged()))];
    if s.no_db_evidence > 0 {
        parts.push(format!(
            "{} of rows the trace has no database evidence for",
            thousands(s.no_db_evidence)
        ));
    }
    if s.uncomparable > 0 {
        parts.push(format!("{} could not be compared", thousands(s.uncomparable)));
    }
    if let Some(share) = s.share_verifiable() {
        parts.push(format!("{} decoded and compared", pct(share)));
    }
    parts.join("; ")
}

/// The `INCONCLUSIVE` line and why, one reason a line.
pub(super) fn inconclusive(out: &mut String, s: &Summary) {
    let _ = writeln!(
        out,
        "INCONCLUSIVE: no stale read found, but too little of the trace could be judged to call \
         it clean ({} hits of mapped keys: {})",
        thousands(s.hits),
        coverage(s)
    );
    for why in &s.inconclusive {
        let _ = writeln!(out, "  - {why}");
    }
}

/// The key families nothing judged: written but matched by no rule, and mapped but with
/// values the rule could not read. Nothing when there are none.
pub(super) fn families(out: &mut String, s: &Summary) {
    if s.unmapped_families.is_empty() && s.undecodable_families.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "key families not judged");
    if !s.unmapped_families.is_empty() {
        let _ = writeln!(out, "  written, but matched by no rule of the mapping:");
        for f in &s.unmapped_families {
            let _ = writeln!(
                out,
                "    {}  {} write(s), e.g. {}",
                f.family,
                thousands(f.writes),
                f.sample_key
            );
        }
        let (families, writes) = s.unmapped_rest;
        if writes > 0 {
            let _ = writeln!(
                out,
                "    … and {} more famil{}, {} write(s)",
                thousands(families),
                if families == 1 { "y" } else { "ies" },
                thousands(writes)
            );
        }
    }
    if !s.undecodable_families.is_empty() {
        let _ = writeln!(out, "  mapped, but with values the rule could not read:");
        for f in &s.undecodable_families {
            let head = if f.head.is_empty() { String::new() } else { format!(" — {}", f.head) };
            let _ = writeln!(
                out,
                "    {}  {} of {} value(s) written: {}{head}; e.g. {}",
                f.family,
                thousands(f.unreadable),
                thousands(f.writes),
                f.reason,
                f.sample_key
            );
        }
    }
}

/// One flagged key: its headline, each stale read with the story behind it (told once per
/// chain), and its exposure intervals.
fn key_section(out: &mut String, k: &KeyReport, findings: &[&StaleRead]) {
    let _ = writeln!(out);
    let _ = writeln!(out, "{} ({} db {}) — {}", k.key, k.node, k.db, headline(k, findings));
    let _ = writeln!(
        out,
        "  {} read(s), {} hit(s): {} stale for certain, {} possibly",
        k.reads, k.hits, k.stale_definite, k.stale_possible
    );
    let mut told: Vec<Vec<Option<u64>>> = Vec::new();
    for f in findings {
        let _ = writeln!(
            out,
            "  #{} {} {}  served {}, db {}  {} {} age {}",
            f.seq,
            format_time(f.t_us),
            f.client,
            f.served,
            f.db,
            f.verdict,
            f.cause,
            age(f.age_us)
        );
        let chain_id: Vec<Option<u64>> = f.chain.iter().map(|l| l.seq).collect();
        if told.contains(&chain_id) {
            continue;
        }
        told.push(chain_id);
        for l in &f.chain {
            let seq = l.seq.map_or_else(|| "    ".to_string(), |s| format!("#{s}"));
            let _ = writeln!(
                out,
                "      {:<14} {seq:>6} {:>10}  {}",
                l.role,
                offset(l.t_us, f.t_us),
                l.what
            );
        }
    }
    for e in &k.exposure {
        let started = e.start_seq.map_or(String::new(), |s| format!(" #{s}"));
        let ended = e.end_seq.map_or(String::new(), |s| format!(" #{s}"));
        let ttl =
            e.ttl_left_us.map_or(String::new(), |t| format!(", {} TTL left", format_duration(t)));
        let _ = writeln!(
            out,
            "  exposure {} → {} ({}): cache held {}; started by {}{started}, ended by {}{ended}{ttl}",
            format_time(e.from_us),
            format_time(e.to_us),
            format_duration(e.to_us - e.from_us),
            e.cached,
            e.started_by,
            e.ended_by
        );
    }
}

/// The trace's figures and the notes.
fn figures(out: &mut String, s: &Summary) {
    let _ = writeln!(out);
    let _ = writeln!(out, "summary");
    let _ = writeln!(
        out,
        "  events {} ({} Redis commands, {} row changes, {} commits), {} → {}",
        thousands(s.events),
        thousands(s.redis_commands),
        thousands(s.row_changes),
        thousands(s.commits),
        format_time(s.first_us),
        format_time(s.last_us)
    );
    let _ = writeln!(
        out,
        "  reads of mapped keys {} ({} hits, {} misses)",
        thousands(s.reads),
        thousands(s.hits),
        thousands(s.misses)
    );
    let _ = writeln!(out, "  fresh {}", thousands(s.fresh));
    let causes: Vec<String> =
        s.stale_by_cause.iter().map(|(c, n)| format!("{} {}", c.name(), thousands(*n))).collect();
    let _ = writeln!(
        out,
        "  stale {} definite, {} possible ({})",
        thousands(s.stale_definite),
        thousands(s.stale_possible),
        causes.join(", ")
    );
    let reasons: Vec<String> =
        s.unverifiable_by_reason.iter().map(|(r, n)| format!("{r}: {}", thousands(*n))).collect();
    let _ = writeln!(
        out,
        "  unverifiable {}{}",
        thousands(s.unverifiable),
        if reasons.is_empty() { String::new() } else { format!(" ({})", reasons.join("; ")) }
    );
    match s.share_verifiable() {
        Some(share) => {
            let _ = writeln!(
                out,
                "  decoded and compared {} of hits (--min-verifiable {}%)",
                pct(share),
                (s.min_verifiable * 1000.0).round() / 10.0
            );
        }
        None => {
            let _ = writeln!(out, "  decoded and compared: no hit of a mapped key");
        }
    }
    let within: Vec<String> = s
        .fresh_within
        .iter()
        .map(|(a, share)| {
            let a = if *a == 0 { "0".to_string() } else { format_duration(*a) };
            format!("{a}: {}", pct(*share))
        })
        .collect();
    if s.judged() == 0 {
        let _ = writeln!(out, "  fresh within: no hit judged");
    } else {
        let _ = writeln!(out, "  fresh within {}", within.join(", "));
    }
    match &s.longest_exposure {
        Some((key, l)) => {
            let _ = writeln!(
                out,
                "  exposure {} interval(s), {} in all; longest {} on {key}",
                s.exposure_intervals,
                format_duration(s.exposure_total_us),
                format_duration(*l)
            );
        }
        None => {
            let _ = writeln!(out, "  exposure none");
        }
    }
    for c in &s.clocks {
        let _ = writeln!(
            out,
            "  clock {} ({}): offset {}us ± {}us from {} probe(s)",
            c.source, c.kind, c.offset_us, c.uncertainty_us, c.probes
        );
    }
    let _ = writeln!(
        out,
        "  database commits placed up to {} before their receipt: {}",
        format_duration(s.db_lag_us),
        s.db_lag_source.describe()
    );
    for n in &s.notes {
        let _ = writeln!(out, "note: {n}");
    }
}
