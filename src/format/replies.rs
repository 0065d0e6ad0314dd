/*!
The summary `cat --replies` prints on stderr after the events: what the fake Redis replayed and
what it could not know (unmodelled commands, unknown keys and databases, notes).
*/

use std::fmt::Write;

use cachetape_replayer::ReplayReport;

/// `report` in lines of text (empty lines omitted), as `cat --replies` prints it.
pub fn replay_summary(report: &ReplayReport) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let o = &mut out;
    let _ = writeln!(
        o,
        "replayed {} Redis commands ({} run by scripts) from {} events",
        report.commands, report.script_calls, report.events
    );
    let _ = writeln!(o, "replies unknown: {}", report.unknown_replies);
    if report.unmodelled.is_empty() {
        let _ = writeln!(o, "unmodelled commands: none");
    } else {
        let list: Vec<String> =
            report.unmodelled.iter().map(|(n, c)| format!("{n} ×{c}")).collect();
        let _ = writeln!(o, "unmodelled commands: {}", list.join(", "));
    }
    if !report.unknown_keys.is_empty() {
        let shown: Vec<String> = report
            .unknown_keys
            .iter()
            .take(20)
            .map(|k| String::from_utf8_lossy(&k.key).into_owned())
            .collect();
        let more = report.unknown_keys.len().saturating_sub(20);
        let _ = write!(o, "unknown keys ({}): {}", report.unknown_keys.len(), shown.join(", "));
        if more > 0 {
            let _ = write!(o, " and {more} more");
        }
        let _ = writeln!(o);
    }
    if report.unmaterialised > 0 {
        let _ = writeln!(
            o,
            "not materialised: {} write(s) would have grown a value past the fake Redis's bound \
             ({} MiB of SETRANGE zero fill); their keys became unknown",
            report.unmaterialised,
            cachetape_replayer::MAX_PADDING >> 20
        );
    }
    for (source, db) in &report.unknown_databases {
        let _ = writeln!(o, "every key of db {db} on source {} is unknown", source.0);
    }
    if report.snapshots > 0 || report.gaps > 0 || report.evictions > 0 {
        let _ = writeln!(
            o,
            "snapshots: {}, gaps: {}, evictions: {}",
            report.snapshots, report.gaps, report.evictions
        );
    }
    for n in &report.notes {
        let _ = writeln!(o, "note: {n}");
    }
    if report.more_notes > 0 {
        let _ = writeln!(o, "note: … and {} more", report.more_notes);
    }
    out
}
