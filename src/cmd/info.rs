/*!
`cachetape info`: what a trace holds — sources, time span, counts by kind, top commands, keys,
clients, tables, gaps, and how much of the file could be read.
*/

use std::fmt::Write as _;
use std::process::ExitCode;

use cachetape_tape::summary::Summary;
use cachetape_tape::{Capture, EventKind, Reader, format_duration, format_time};

use super::{bytes, thousands};
use crate::cli::InfoArgs;

pub fn run(args: InfoArgs) -> anyhow::Result<ExitCode> {
    let mut reader = Reader::open(&args.trace)?.salvage(args.salvage);
    let header = reader.header().clone();
    let mut summary = Summary::default();
    let mut failure = None;
    for event in &mut reader {
        match event {
            Ok(e) => summary.add(&e),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let report = reader.report().clone();
    let size = std::fs::metadata(&args.trace).map(|m| m.len()).unwrap_or(0);

    let mut o = String::new();
    let _ = writeln!(
        o,
        "trace      {} ({}, format {}, written by {} at {})",
        args.trace.display(),
        bytes(size),
        reader.format_version(),
        header.tool,
        format_time(header.created_us)
    );
    let _ = writeln!(o, "redaction  {}", header.redaction.name());
    for (i, s) in header.sources.iter().enumerate() {
        let how = match &s.capture {
            Capture::Live => "recorded live".to_string(),
            Capture::Imported { files } => format!("imported from {}", files.join(", ")),
        };
        let tally = summary.sources.get(&cachetape_tape::SourceId(i as u16));
        let _ = writeln!(
            o,
            "{:10} {} ({}{}) {}: {} events",
            if i == 0 { "sources" } else { "" },
            s.name,
            s.kind.name(),
            s.version.as_deref().map(|v| format!(" {v}")).unwrap_or_default(),
            if matches!(s.capture, Capture::Live) { format!("{}, {how}", s.address) } else { how },
            thousands(tally.map_or(0, |t| t.events))
        );
    }
    match (summary.first_us, summary.last_us) {
        (Some(a), Some(b)) => {
            let _ = writeln!(
                o,
                "span       {} → {} ({})",
                format_time(a),
                format_time(b),
                format_duration(b - a)
            );
        }
        _ => {
            let _ = writeln!(o, "span       (no events)");
        }
    }
    let kinds: Vec<String> = EventKind::ALL
        .iter()
        .filter(|k| summary.count(**k) > 0)
        .map(|k| format!("{} {}", k.name(), thousands(summary.count(*k))))
        .collect();
    let _ = writeln!(o, "events     {} ({})", thousands(summary.events), kinds.join(", "));
    if summary.count(EventKind::Redis) > 0 {
        let top: Vec<String> = summary
            .top_commands(args.top)
            .iter()
            .map(|(c, n)| format!("{} {}", String::from_utf8_lossy(c), thousands(*n)))
            .collect();
        let _ = writeln!(o, "commands   {}", top.join(", "));
        if summary.script_calls > 0 {
            let _ = writeln!(
                o,
                "           {} of them run by scripts",
                thousands(summary.script_calls)
            );
        }
        if summary.commands_with_unknown_keys > 0 {
            let _ = writeln!(
                o,
                "           {} commands whose keys Redis's command table cannot locate",
                thousands(summary.commands_with_unknown_keys)
            );
        }
        let dbs: Vec<String> =
            summary.dbs.iter().map(|(db, n)| format!("db{db} {}", thousands(*n))).collect();
        let _ = writeln!(o, "dbs        {}", dbs.join(", "));
        let top: Vec<String> = summary
            .top_keys(args.top)
            .iter()
            .map(|(k, n)| {
                let mut key = Vec::new();
                crate::format::word(&mut key, k);
                format!("{} {}", String::from_utf8_lossy(&key), thousands(*n))
            })
            .collect();
        let _ = writeln!(
            o,
            "keys       {} distinct; top: {}",
            thousands(summary.keys.len() as u64),
            top.join(", ")
        );
        let top: Vec<String> = summary
            .top_clients(args.top)
            .iter()
            .map(|(c, n)| format!("{c} {}", thousands(*n)))
            .collect();
        let _ = writeln!(
            o,
            "clients    {} distinct; top: {}",
            thousands(summary.clients.len() as u64),
            top.join(", ")
        );
        if summary.has_unix_clients() {
            let _ = writeln!(
                o,
                "           note: MONITOR names every unix-socket client the same (`unix:<path>`), \
                 so they count as one client"
            );
        }
    }
    for (i, (table, ops)) in summary.tables().iter().enumerate() {
        let _ = writeln!(
            o,
            "{:10} {table}: {} inserts, {} updates, {} deletes",
            if i == 0 { "tables" } else { "" },
            thousands(ops[0]),
            thousands(ops[1]),
            thousands(ops[2])
        );
    }
    if summary.gaps.is_empty() {
        let _ = writeln!(o, "gaps       none");
    }
    for (i, (source, gap)) in summary.gaps.iter().enumerate() {
        let name = header.source(*source).map_or("?", |s| s.name.as_str());
        let _ = writeln!(
            o,
            "{:10} {name}: {} → {} ({}): {}",
            if i == 0 { "gaps" } else { "" },
            format_time(gap.from_us),
            format_time(gap.to_us),
            format_duration(gap.to_us - gap.from_us),
            gap.reason
        );
    }
    if let Some(footer) = &report.footer
        && footer.dropped > 0
    {
        let _ = writeln!(
            o,
            "dropped    {} events (the recorder's queue was full)",
            thousands(footer.dropped)
        );
    }
    let _ = writeln!(o, "read       {report}");
    for note in &header.notes {
        let _ = writeln!(o, "note       {note}");
    }
    print!("{o}");
    if let Some(err) = failure {
        return Err(anyhow::Error::new(err));
    }
    Ok(ExitCode::SUCCESS)
}
