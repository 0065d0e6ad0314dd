/*!
`analyze --format json`: one document, `{"summary": {...}, "findings": [...], "keys": [...]}`.
The schema is documented in the README ("analyze --format json"); keys keep a fixed order.
*/

use cachetape_analyzer::Report;
use serde_json::{Value, json};

use super::ReportFormat;

/// The JSON report.
pub struct JsonReport;

impl ReportFormat for JsonReport {
    fn render(&self, report: &Report, trace: &str) -> String {
        let s = &report.summary;
        let by_cause: serde_json::Map<String, Value> =
            s.stale_by_cause.iter().map(|(c, n)| (c.name().to_string(), json!(n))).collect();
        let by_reason: serde_json::Map<String, Value> =
            s.unverifiable_by_reason.iter().map(|(r, n)| (r.clone(), json!(n))).collect();
        let summary = json!({
            "trace": trace,
            "verdict": if report.is_clean() { "clean" } else { "stale" },
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
            "share_verifiable": round4(s.share_verifiable()),
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
            "notes": s.notes,
        });
        let findings: Vec<Value> = report
            .findings
            .iter()
            .map(|f| {
                json!({
                    "key": f.key,
                    "node": f.node,
                    "redis_db": f.redis_db,
                    "client": f.client,
                    "seq": f.seq,
                    "t_us": f.t_us,
                    "uncertainty_us": f.uncertainty_us,
                    "served": f.served,
                    "db": f.db,
                    "verdict": f.verdict.name(),
                    "cause": f.cause.name(),
                    "age_us": f.age_us,
                    "chain": f.chain.iter().map(|l| json!({
                        "role": l.role, "seq": l.seq, "t_us": l.t_us, "what": l.what,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
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
        let doc = json!({ "summary": summary, "findings": findings, "keys": keys });
        let mut out = serde_json::to_string_pretty(&doc).expect("JSON values serialize");
        out.push('\n');
        out
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
