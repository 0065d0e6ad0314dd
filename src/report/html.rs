/*!
`analyze --html FILE` and `replay --html FILE`: one self-contained page (inline CSS and SVG, no
script, no network) with the verdict, the figures, and a timeline per flagged key: one lane per
client that touched the key and one for the database, the cached value against the database's
value over time, and the windows in which they disagreed shaded. `replay`'s page is the
as-recorded analysis' page (the timelines are those its `recorded` report carries) with a
section for the perturbation: its verdict and a table of its findings.
*/

use std::collections::HashMap;
use std::fmt::Write;

use cachetape_analyzer::report::{KeyTimeline, StaleRead};
use cachetape_analyzer::{Report, Summary, TraceVerdict, Verdict};
use cachetape_perturb::ReplayReport;
use cachetape_perturb::replay::format_window;
use cachetape_tape::{format_duration, format_time};

use super::ReportFormat;

/// The HTML page.
pub struct HtmlReport;

/// `s` as HTML text or attribute value.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 170.0;
const LANE: f64 = 26.0;

fn timeline_svg(t: &KeyTimeline, out: &mut String) {
    let mut from = i64::MAX;
    let mut to = i64::MIN;
    for m in &t.marks {
        from = from.min(m.t_us);
        to = to.max(m.t_us);
    }
    for (a, b, _) in t.cached.iter().chain(&t.db) {
        from = from.min(*a);
        to = to.max(*b);
    }
    if from > to {
        return;
    }
    let span = ((to - from) as f64).max(1.0);
    let pad = span * 0.03;
    let x = |us: i64| {
        LEFT + (us as f64 - from as f64 + pad) / (span + 2.0 * pad) * (WIDTH - LEFT - 10.0)
    };
    let lanes = t.lanes.len() + 1;
    // Two value bars (cache, db) above the lanes.
    let bars = 2.0 * LANE;
    let height = bars + lanes as f64 * LANE + 30.0;
    let _ = writeln!(
        out,
        r#"<svg class="timeline" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">"#
    );
    for (a, b) in &t.stale {
        let _ = writeln!(
            out,
            r#"<rect class="stale" x="{:.1}" y="0" width="{:.1}" height="{:.1}"><title>cache disagreed with the DB for {}</title></rect>"#,
            x(*a),
            (x(*b) - x(*a)).max(1.0),
            height - 30.0,
            format_duration(b - a)
        );
    }
    for (row, (name, segments)) in [("cache", &t.cached), ("db", &t.db)].iter().enumerate() {
        let y = row as f64 * LANE + 4.0;
        let _ =
            writeln!(out, r#"<text class="label" x="4" y="{:.1}">{name} value</text>"#, y + 14.0);
        for (a, b, v) in segments.iter() {
            let w = (x(*b) - x(*a)).max(1.0);
            let _ = writeln!(
                out,
                r#"<g class="value {name}"><rect x="{:.1}" y="{y:.1}" width="{w:.1}" height="{:.1}"><title>{}</title></rect><text x="{:.1}" y="{:.1}">{}</text></g>"#,
                x(*a),
                LANE - 8.0,
                esc(v),
                x(*a) + 3.0,
                y + 13.0,
                esc(&v.chars().take((w / 7.0) as usize).collect::<String>())
            );
        }
    }
    for lane in 0..lanes {
        let y = bars + lane as f64 * LANE;
        let (name, class) = match t.lanes.get(lane) {
            Some(n) => (n.as_str(), "lane client"),
            None => ("database", "lane db"),
        };
        let _ = writeln!(
            out,
            r#"<g class="{class}" data-lane="{}"><line x1="{LEFT}" x2="{WIDTH}" y1="{:.1}" y2="{:.1}"/><text class="label" x="4" y="{:.1}">{}</text>"#,
            esc(name),
            y + LANE / 2.0,
            y + LANE / 2.0,
            y + LANE / 2.0 + 4.0,
            esc(name)
        );
        for m in t.marks.iter().filter(|m| m.lane == lane) {
            let class = match (m.kind, m.verdict) {
                ("read", Some(Verdict::StaleDefinite)) => "mark read stale-definite",
                ("read", Some(Verdict::StalePossible)) => "mark read stale-possible",
                ("read", Some(Verdict::Fresh)) => "mark read fresh",
                ("read", _) => "mark read unverifiable",
                ("write", _) => "mark write",
                ("del", _) => "mark del",
                _ => "mark commit",
            };
            let seq = m.seq.map_or(String::new(), |s| format!("#{s} "));
            let _ = writeln!(
                out,
                r#"<circle class="{class}" cx="{:.1}" cy="{:.1}" r="5"><title>{seq}{} {}</title></circle>"#,
                x(m.t_us),
                y + LANE / 2.0,
                esc(&format_time(m.t_us)),
                esc(&m.label)
            );
        }
        out.push_str("</g>\n");
    }
    let _ = writeln!(
        out,
        r#"<text class="axis" x="{LEFT}" y="{:.1}">{}</text><text class="axis" x="{WIDTH}" y="{:.1}" text-anchor="end">+{}</text>"#,
        height - 8.0,
        esc(&format_time(from)),
        height - 8.0,
        format_duration(to - from)
    );
    out.push_str("</svg>\n");
}

impl ReportFormat<Report> for HtmlReport {
    fn render(&self, report: &Report, trace: &str) -> String {
        let s = &report.summary;
        let mut out = String::new();
        let _ = writeln!(
            out,
            r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cachetape analyze {}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #222; }}
h1 {{ font-size: 1.3em; }} h2 {{ font-size: 1.1em; margin-top: 2em; }}
.verdict.stale {{ color: #b00020; }} .verdict.clean {{ color: #1b7f3b; }}
.verdict.inconclusive {{ color: #8a5a00; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 2px 10px 2px 0; text-align: left; }}
svg.timeline {{ border: 1px solid #ddd; background: #fff; }}
svg .stale {{ fill: #f8c9c9; opacity: 0.6; }}
svg .lane line {{ stroke: #ccc; }} svg .label, svg .axis {{ font-size: 11px; fill: #555; }}
svg .value rect {{ stroke: #fff; }} svg .value.cache rect {{ fill: #cfe3fb; }}
svg .value.db rect {{ fill: #d9f2d9; }} svg .value text {{ font-size: 11px; }}
svg .mark.write {{ fill: #1f5fbf; }} svg .mark.del {{ fill: #000; }} svg .mark.commit {{ fill: #1b7f3b; }}
svg .mark.fresh {{ fill: #9cc89c; }} svg .mark.stale-definite {{ fill: #b00020; }}
svg .mark.stale-possible {{ fill: #e68a00; }} svg .mark.unverifiable {{ fill: #aaa; }}
pre {{ background: #f6f6f6; padding: 0.5em; overflow-x: auto; }}
</style></head><body>"#,
            esc(trace)
        );
        let _ = writeln!(out, "<h1>cachetape analyze {}</h1>", esc(trace));
        match report.verdict() {
            TraceVerdict::Clean => {
                let _ = writeln!(
                    out,
                    r#"<p class="verdict clean">Clean: no stale read among {} hits.</p>"#,
                    s.hits
                );
            }
            TraceVerdict::Stale => {
                let _ = writeln!(
                    out,
                    r#"<p class="verdict stale">Stale: {} read(s) stale for certain, {} possibly, of {} hits.</p>"#,
                    s.stale_definite, s.stale_possible, s.hits
                );
            }
            TraceVerdict::Inconclusive => inconclusive(&mut out, s),
        }
        let _ = writeln!(out, "<p>Mapping: {}</p><ul>", esc(&s.mapping_origin));
        for r in &s.rules {
            let _ = writeln!(out, "<li>{}</li>", esc(r));
        }
        out.push_str("</ul>\n<table>\n");
        let rows: Vec<(&str, String)> = vec![
            ("reads of mapped keys", format!("{} ({} hits, {} misses)", s.reads, s.hits, s.misses)),
            ("fresh", s.fresh.to_string()),
            ("stale, definite", s.stale_definite.to_string()),
            ("stale, possible", s.stale_possible.to_string()),
            ("judged", s.judged().to_string()),
            ("unverifiable", s.unverifiable.to_string()),
            ("of rows without database evidence", s.no_db_evidence.to_string()),
            ("could not be compared", s.uncomparable.to_string()),
            (
                "decoded and compared",
                s.share_verifiable().map_or_else(
                    || "no hit of a mapped key".to_string(),
                    |x| {
                        let min = (s.min_verifiable * 1000.0).round() / 10.0;
                        format!("{:.1}% (at least {min}% required)", x * 100.0)
                    },
                ),
            ),
            (
                "exposure",
                format!(
                    "{} interval(s), {}",
                    s.exposure_intervals,
                    format_duration(s.exposure_total_us)
                ),
            ),
        ];
        for (k, v) in rows {
            let _ = writeln!(out, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
        }
        out.push_str("</table>\n");
        families(&mut out, s);
        // Each key's timeline and findings, found in one pass each (a scan per key made the
        // page O(keys × findings)); the first timeline of a key, findings in report order.
        let mut timelines: HashMap<&str, &KeyTimeline> = HashMap::new();
        for t in &report.timelines {
            timelines.entry(&t.key).or_insert(t);
        }
        let mut findings: HashMap<(&str, &str), Vec<&StaleRead>> = HashMap::new();
        for f in &report.findings {
            findings.entry((&f.key, &f.node)).or_default().push(f);
        }
        for k in &report.keys {
            let _ = writeln!(
                out,
                r#"<section class="key" data-key="{}"><h2>{} <small>({} db {})</small></h2>"#,
                esc(&k.key),
                esc(&k.key),
                esc(&k.node),
                k.db
            );
            let _ = writeln!(
                out,
                "<p>{} stale for certain, {} possibly; the cache disagreed with the database for {} in all.</p>",
                k.stale_definite,
                k.stale_possible,
                format_duration(k.exposed_us)
            );
            if let Some(t) = timelines.get(&*k.key) {
                timeline_svg(t, &mut out);
            }
            out.push_str("<pre>");
            for f in findings.get(&(&*k.key, &*k.node)).map_or(&[][..], Vec::as_slice) {
                let _ = writeln!(
                    out,
                    "#{} {} {} served {} db {} — {} {}",
                    f.seq,
                    esc(&format_time(f.t_us)),
                    esc(&f.client),
                    esc(&f.served),
                    esc(&f.db),
                    f.verdict,
                    f.cause
                );
            }
            out.push_str("</pre></section>\n");
        }
        out.push_str("</body></html>\n");
        out
    }
}

impl ReportFormat<ReplayReport> for HtmlReport {
    fn render(&self, report: &ReplayReport, trace: &str) -> String {
        let page = HtmlReport.render(&report.recorded, trace);
        let at = page.rfind("</body>").unwrap_or(page.len());
        format!("{}{}{}", &page[..at], perturbation_section(report), &page[at..])
    }
}

/// The inconclusive verdict and why.
fn inconclusive(out: &mut String, s: &Summary) {
    let _ = writeln!(
        out,
        r#"<p class="verdict inconclusive">Inconclusive: no stale read found, but too little of the trace could be judged to call it clean ({} hits of mapped keys, {} judged).</p><ul class="inconclusive">"#,
        s.hits,
        s.judged()
    );
    for why in &s.inconclusive {
        let _ = writeln!(out, "<li>{}</li>", esc(why));
    }
    out.push_str("</ul>\n");
}

/// The key families nothing judged: written but matched by no rule, and mapped but with values
/// the rule could not read.
fn families(out: &mut String, s: &Summary) {
    if s.unmapped_families.is_empty() && s.undecodable_families.is_empty() {
        return;
    }
    out.push_str("<section class=\"families\"><h2>Key families not judged</h2>\n");
    if !s.unmapped_families.is_empty() {
        out.push_str(
            "<table class=\"unmapped\"><tr><th>written, matched by no rule</th><th>writes</th>\
             <th>e.g.</th></tr>\n",
        );
        for f in &s.unmapped_families {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&f.family),
                f.writes,
                esc(&f.sample_key)
            );
        }
        let (families, writes) = s.unmapped_rest;
        if writes > 0 {
            let _ = writeln!(
                out,
                "<tr><td>… {families} more famil{}</td><td>{writes}</td><td></td></tr>",
                if families == 1 { "y" } else { "ies" }
            );
        }
        out.push_str("</table>\n");
    }
    if !s.undecodable_families.is_empty() {
        out.push_str(
            "<table class=\"undecodable\"><tr><th>mapped, values not read</th><th>values</th>\
             <th>why</th><th>first bytes</th><th>e.g.</th></tr>\n",
        );
        for f in &s.undecodable_families {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{} of {}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                esc(&f.family),
                f.unreadable,
                f.writes,
                esc(&f.reason),
                esc(&f.head),
                esc(&f.sample_key)
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</section>\n");
}

/// The perturbation's verdict and a table of its findings.
fn perturbation_section(report: &ReplayReport) -> String {
    let mut section = String::new();
    let _ = writeln!(
        section,
        r#"<section class="perturbation"><h2>Perturbation ±{}</h2>"#,
        esc(&format_window(report.window_us))
    );
    let class = report.verdict().name();
    let _ = writeln!(
        section,
        r#"<p class="verdict {class}">{}: {} component(s), {} schedule(s) evaluated.</p>"#,
        esc(&report.verdict_text()),
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
            let r = &f.read;
            let _ = writeln!(
                section,
                "<tr><td>#{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                r.seq,
                esc(&format_time(r.t_us)),
                esc(&r.key),
                esc(&r.client),
                esc(&r.served),
                esc(&r.db),
                r.verdict,
                r.cause,
                esc(&format_duration(f.margin_us)),
                esc(&f.story.join("; ")),
                esc(&f.schedule)
            );
        }
        section.push_str("</table>\n");
    }
    section.push_str("</section>\n");
    section
}
