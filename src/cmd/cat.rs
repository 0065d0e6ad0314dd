/*!
`cachetape cat`: streams a trace's events through a filter and an output format. A trace that
ends early still prints every recovered event, then says on stderr what was lost. `--seq` keeps
events by sequence number; `--around N` shows the window of events around event N (`around.rs`),
which is always shown itself, and stops reading once the window is complete (unless `--replies`
needs the whole replay for its summary).
*/

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use cachetape_replayer::{ReplayOptions, Replayer};
use cachetape_tape::{KeyPattern, Reader};

use crate::around::{Around, SeqRange};
use crate::cli::{CatArgs, CatFormat};
use crate::filter::EventFilter;
use crate::format::{EventFormat, JsonFormat, MonitorFormat, TextFormat};
use crate::units::parse_time;

pub fn run(args: CatArgs) -> anyhow::Result<ExitCode> {
    let filter = EventFilter {
        keys: args.keys.iter().map(KeyPattern::new).collect(),
        clients: args.clients.iter().map(KeyPattern::new).collect(),
        sources: args.sources.clone(),
        from: args.from.as_deref().map(parse_time).transpose().context("--from")?,
        to: args.to.as_deref().map(parse_time).transpose().context("--to")?,
    };
    let seq = args.seq.as_deref().map(SeqRange::parse).transpose().context("--seq")?;
    let mut around = args.around.map(|center| Around::new(center, args.context));
    let format = if args.json { CatFormat::Json } else { args.format };
    let mut text = TextFormat::default();
    let mut monitor = MonitorFormat::default();
    let mut json = JsonFormat;
    let sink: &mut dyn EventFormat = match format {
        CatFormat::Text => &mut text,
        CatFormat::Monitor => &mut monitor,
        CatFormat::Json => &mut json,
    };

    let mut reader = Reader::open(&args.trace)?.salvage(args.salvage);
    let header = reader.header().clone();
    // Replies need the whole trace replayed in order, filtered-out events included.
    let mut replayer = args.replies.then(|| Replayer::new(&header, ReplayOptions::default()));
    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();
    let mut buf = Vec::with_capacity(1 << 16);
    let mut first_us = None;
    let mut failure = None;
    let mut seqs: Option<(u64, u64)> = None;
    let (mut stopped_early, mut any_in_range) = (false, false);
    for event in &mut reader {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let first = *first_us.get_or_insert(event.recv_us);
        seqs = Some(
            seqs.map_or((event.seq, event.seq), |(lo, hi)| (lo.min(event.seq), hi.max(event.seq))),
        );
        let step = replayer.as_mut().and_then(|r| r.apply(&event));
        if let Some(s) = seq {
            if !s.contains(event.seq) {
                continue;
            }
            any_in_range = true;
        }
        let shown = match &mut around {
            Some(w) if w.is_done() => {
                if replayer.is_none() {
                    stopped_early = true;
                    break;
                }
                continue;
            }
            Some(w) => {
                if !filter.accepts(&header, &event, first) && Some(event.seq) != args.around {
                    continue;
                }
                w.offer(event.seq, (event, step))
            }
            None if filter.accepts(&header, &event, first) => vec![(event, step)],
            None => continue,
        };
        for (event, step) in &shown {
            sink.write_event(&mut buf, &header, event, step.as_ref());
        }
        if buf.len() >= 1 << 16 {
            stdout.write_all(&buf)?;
            buf.clear();
        }
    }
    stdout.write_all(&buf)?;
    stdout.flush()?;
    let report = reader.report();
    if let Some(err) = failure {
        return Err(anyhow::Error::new(err));
    }
    let numbered = || {
        seqs.map_or_else(
            || "it has no events".to_string(),
            |(lo, hi)| format!("its events are numbered {lo} to {hi}"),
        )
    };
    if let Some(w) = &around
        && !w.found()
    {
        let center = args.around.unwrap_or_default();
        anyhow::bail!(
            "no event of {} has sequence number {center} ({})",
            args.trace.display(),
            numbered()
        );
    }
    if let Some(s) = seq
        && !any_in_range
    {
        eprintln!(
            "note: no event of {} has a sequence number in {}..{} ({})",
            args.trace.display(),
            s.from,
            s.to,
            numbered()
        );
    }
    if !report.is_complete() && !stopped_early {
        eprintln!("warning: {}: {report}", args.trace.display());
    }
    if let Some(replayer) = &replayer {
        let report = replayer.report();
        let summary = crate::format::replay_summary(&report);
        if !summary.is_empty() {
            eprintln!("replay: {}", summary.trim_end().replace('\n', "\nreplay: "));
        }
    }
    if monitor.left_out > 0 {
        eprintln!(
            "note: {} events that are not Redis commands have no MONITOR form and were left out",
            monitor.left_out
        );
    }
    Ok(ExitCode::SUCCESS)
}
