/*!
The JSON documents, their schemas documented in the README; keys keep a fixed order.
- `analyze --format json` (and `replay --schedule ID --format json`, the analysis of the
  reordered trace): `{"summary": {...}, "findings": [...], "keys": [...]}`;
- `replay --format json`: `{"summary": {...}, "findings": [...], "recorded": [...]}`, where a
  finding is written as `analyze` writes a stale read plus what the search adds.
*/

use cachetape_analyzer::report::{Link, StaleRead};
use cachetape_analyzer::{DbLagSource, Report, Summary};
use cachetape_perturb::Coverage;
use cachetape_perturb::ReplayReport;
use cachetape_perturb::replay::{PerturbedRead, ScheduleReplay};
use serde_json::{Map, Value, json};

use super::ReportFormat;

/// The JSON report.
pub struct JsonReport;

impl ReportFormat<Report> for JsonReport {
    fn render(&self, report: &Report, trace: &str) -> String {
        let s = &report.summary;
        let by_cause: serde_json::Map<String, Value> =
            s.stale_by_cause.iter().map(|(c, n)| (c.name().to_string(), json!(n))).collect();
        let by_reason: serde_json::Map<String, Value> =
            s.unverifiable_by_reason.iter().map(|(r, n)| (r.clone(), json!(n))).collect();
        let summary = json!({
            "trace": trace,
            "verdict": report.verdict().name(),
            "inconclusive": s.inconclusive,
            "events": s.events,
            "redis_commands": s.redis_commands,
            "row_changes": s.row_changes,
            "commits": s.commits,
            "first_us": s.first_us,
            "last_us": s.last_us,
            "mapping": { "origin": s.mapping_origin, "rules": s.rules },
            "reads": s.reads,
            "hits": s.hits,
            "misses": s.misses,
            "fresh": s.fresh,
            "stale_definite": s.stale_definite,
            "stale_possible": s.stale_possible,
            "unverifiable": s.unverifiable,
            "unverifiable_by_reason": by_reason,
            "judged": s.judged(),
            "no_db_evidence": s.no_db_evidence,
            "uncomparable": s.uncomparable,
            "share_verifiable": s.share_verifiable().map(round4),
            "share_judged": s.share_judged().map(round4),
            "min_verifiable": s.min_verifiable,
            "unmapped_families": unmapped_families(s),
            "unmapped_rest": { "families": s.unmapped_rest.0, "writes": s.unmapped_rest.1 },
            "undecodable_families": undecodable_families(s),
            "stale_by_cause": by_cause,
            "fresh_within": s.fresh_within.iter()
                .map(|(a, share)| json!({"age_us": a, "share": round4(*share)}))
                .collect::<Vec<_>>(),
            "keys_flagged": s.keys_flagged,
            "exposure": {
                "intervals": s.exposure_intervals,
                "total_us": s.exposure_total_us,
                "longest_us": s.longest_exposure.as_ref().map(|(_, l)| *l),
                "longest_key": s.longest_exposure.as_ref().map(|(k, _)| k.clone()),
            },
            "clocks": s.clocks.iter().map(|c| json!({
                "source": c.source, "kind": c.kind, "probes": c.probes,
                "offset_us": c.offset_us, "uncertainty_us": c.uncertainty_us,
            })).collect::<Vec<_>>(),
            "db_lag_us": s.db_lag_us,
            "db_lag": db_lag(s),
            "notes": s.notes,
        });
        let findings: Vec<Value> =
            report.findings.iter().map(|f| stale_read(f, Uncertainty::Written).into()).collect();
        let keys: Vec<Value> = report
            .keys
            .iter()
            .map(|k| {
                json!({
                    "key": k.key,
                    "node": k.node,
                    "redis_db": k.db,
                    "rule": k.rule,
                    "reads": k.reads,
                    "hits": k.hits,
                    "stale_definite": k.stale_definite,
                    "stale_possible": k.stale_possible,
                    "exposed_us": k.exposed_us,
                    "exposure": k.exposure.iter().map(|e| json!({
                        "from_us": e.from_us,
                        "to_us": e.to_us,
                        "duration_us": e.to_us - e.from_us,
                        "cached": e.cached,
                        "started_by": e.started_by,
                        "start_seq": e.start_seq,
                        "ended_by": e.ended_by,
                        "end_seq": e.end_seq,
                        "ttl_left_us": e.ttl_left_us,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        document(json!({ "summary": summary, "findings": findings, "keys": keys }))
    }
}

impl ReportFormat<ScheduleReplay> for JsonReport {
    fn render(&self, replayed: &ScheduleReplay, trace: &str) -> String {
        JsonReport.render(&replayed.report, trace)
    }
}

impl ReportFormat<ReplayReport> for JsonReport {
    fn render(&self, report: &ReplayReport, trace: &str) -> String {
        let (exhaustive, sampled) = report.by_coverage();
        let sampled: Vec<Value> = sampled
            .iter()
            .filter_map(|c| match c.coverage {
                Coverage::Sampled { tried, about } => Some(json!({
                    "component": c.index, "keys": c.keys, "units": c.units,
                    "tried": tried, "about": about,
                })),
                Coverage::Exhaustive { .. } => None,
            })
            .collect();
        let r = &report.recorded.summary;
        let summary = json!({
            "trace": trace,
            "window_us": report.window_us,
            "seed": report.seed,
            "budget": report.budget,
            "verdict": report.verdict().name(),
            "verdict_text": report.verdict_text(),
            "inconclusive": r.inconclusive,
            "exhaustive": report.is_exhaustive(),
            "components": report.components.len(),
            "components_exhaustive": exhaustive.len() as u64,
            "components_sampled": sampled.len(),
            "components_quiet": report.quiet,
            "schedules": report.schedules(),
            "sampled": sampled,
            "stale_reads": report.findings.len(),
            "stale_as_recorded": report.stale_as_recorded(),
            "stale_possible_as_recorded": report.possibly_stale_as_recorded(),
            "mapping": { "origin": r.mapping_origin, "rules": r.rules },
            "recorded": {
                "verdict": report.recorded.verdict().name(),
                "reads": r.reads,
                "hits": r.hits,
                "stale_definite": r.stale_definite,
                "stale_possible": r.stale_possible,
                "unverifiable": r.unverifiable,
                "unverifiable_by_reason": r.unverifiable_by_reason.iter()
                    .map(|(reason, n)| (reason.clone(), json!(n)))
                    .collect::<Map<String, Value>>(),
                "judged": r.judged(),
                "no_db_evidence": r.no_db_evidence,
                "uncomparable": r.uncomparable,
                "share_verifiable": r.share_verifiable().map(round4),
                "min_verifiable": r.min_verifiable,
                "unmapped_families": unmapped_families(r),
                "unmapped_rest": { "families": r.unmapped_rest.0, "writes": r.unmapped_rest.1 },
                "undecodable_families": undecodable_families(r),
                "exposure_total_us": r.exposure_total_us,
                "longest_exposure_us": r.longest_exposure.as_ref().map(|(_, l)| *l),
                "longest_exposure_key": r.longest_exposure.as_ref().map(|(k, _)| k.clone()),
            },
            "notes": report.notes.iter().chain(&r.notes).collect::<Vec<_>>(),
        });
        let findings: Vec<Value> = report.findings.iter().map(perturbed_read).collect();
        let recorded: Vec<Value> = report
            .recorded
            .findings
            .iter()
            .map(|f| stale_read(f, Uncertainty::Written).into())
            .collect();
        document(json!({ "summary": summary, "findings": findings, "recorded": recorded }))
    }
}

/// Whether a stale read's `uncertainty_us` is written: the as-recorded analysis places a read
/// in an interval; a finding of the search is at a point, and `replay`'s schema leaves it out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Uncertainty {
    Written,
    Omitted,
}

/// A stale read as both `analyze` and `replay` write it: `key`, `node`, `redis_db`, `client`,
/// `seq`, `t_us`, (`uncertainty_us`), `served`, `db`, `verdict`, `cause`, `age_us`, `chain`.
fn stale_read(f: &StaleRead, uncertainty: Uncertainty) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("key".into(), json!(f.key));
    out.insert("node".into(), json!(f.node));
    out.insert("redis_db".into(), json!(f.redis_db));
    out.insert("client".into(), json!(f.client));
    out.insert("seq".into(), json!(f.seq));
    out.insert("t_us".into(), json!(f.t_us));
    if uncertainty == Uncertainty::Written {
        out.insert("uncertainty_us".into(), json!(f.uncertainty_us));
    }
    out.insert("served".into(), json!(f.served));
    out.insert("db".into(), json!(f.db));
    out.insert("verdict".into(), json!(f.verdict.name()));
    out.insert("cause".into(), json!(f.cause.name()));
    out.insert("age_us".into(), json!(f.age_us));
    out.insert("chain".into(), f.chain.iter().map(link).collect());
    out
}

/// A finding of the search: its stale read, then `schedule`, `margin_us`, `moves`,
/// `component`, `approximate`.
fn perturbed_read(f: &PerturbedRead) -> Value {
    let mut out = stale_read(&f.read, Uncertainty::Omitted);
    out.insert("schedule".into(), json!(f.schedule));
    out.insert("margin_us".into(), json!(f.margin_us));
    let moves = f.moves.iter().map(
        |m| json!({ "moved": m.moved, "past": m.past, "shift_us": m.shift_us, "story": m.story }),
    );
    out.insert("moves".into(), moves.collect());
    out.insert("component".into(), json!(f.component));
    out.insert("approximate".into(), json!(f.approximate));
    out.into()
}

/// The written key families no rule matches: `family`, `writes`, `sample_key`.
fn unmapped_families(s: &Summary) -> Vec<Value> {
    let one = |f: &cachetape_analyzer::report::FamilyCount| json!({ "family": f.family, "writes": f.writes, "sample_key": f.sample_key });
    s.unmapped_families.iter().map(one).collect()
}

/// The rules with values they could not read: `family`, `unreadable`, `writes`, `sample_key`,
/// `reason`, `head` (first bytes in hex and the closest guess).
fn undecodable_families(s: &Summary) -> Vec<Value> {
    let one = |f: &cachetape_analyzer::report::UndecodableFamily| {
        json!({
            "family": f.family, "unreadable": f.unreadable, "writes": f.writes,
            "sample_key": f.sample_key, "reason": f.reason, "head": f.head,
        })
    };
    s.undecodable_families.iter().map(one).collect()
}

/// One link of a chain.
fn link(l: &Link) -> Value {
    json!({ "role": l.role, "seq": l.seq, "t_us": l.t_us, "what": l.what })
}

/// The document, pretty-printed, with a final newline.
fn document(doc: Value) -> String {
    let mut out = serde_json::to_string_pretty(&doc).expect("JSON values serialize");
    out.push('\n');
    out
}

/// Where the database lag bound came from: `{"source": "heartbeat", "samples": 37,
/// "worst_us": 1200}`, or `{"source": "given"}` / `{"source": "assumed"}`.
fn db_lag(s: &Summary) -> Value {
    match s.db_lag_source {
        DbLagSource::Measured { samples, worst_us } => {
            json!({ "source": "heartbeat", "samples": samples, "worst_us": worst_us })
        }
        other => json!({ "source": other.name() }),
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
