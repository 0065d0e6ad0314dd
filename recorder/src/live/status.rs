/*!
What the person at the terminal sees: the live status line while recording and the
[`RecordSummary`] at the end.

The status line (stderr, only when it is a terminal, redrawn once a second by `indicatif`) shows
events per second per source, bytes written, lag (how far behind the source's own clock the last
event was received) and drops. The summary gives the duration, events per source, bytes and
compression ratio, drops, gaps, each source's clock offset with its uncertainty, and the
smallest `--perturb` window that covers the cross-source clock uncertainty.

Clock estimates: each [`ClockProbe`] gives an offset (remote − local midpoint) known to ±RTT/2.
A source's estimate is its best probe (smallest round trip); its uncertainty is that probe's
half round trip plus half the spread of all its probes' offsets (drift and jitter during the
recording). Two events of different sources can be misordered by at most the sum of their
sources' uncertainties, so the window that covers every pair is the sum of the two largest.
*/

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cachetape_tape::{ClockProbe, Footer, Micros, SourceId, SourceKind, format_duration};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;

use super::tap::SourceStats;
use super::{StopReason, now_us};

/// Counters the writer thread publishes.
#[derive(Debug, Default)]
pub(crate) struct WriterStats {
    pub events: AtomicU64,
    pub bytes: AtomicU64,
}

/// Every clock probe written, by source.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClockLog {
    probes: Vec<(SourceId, ClockProbe)>,
}

impl ClockLog {
    pub fn add(&mut self, source: SourceId, probe: ClockProbe) {
        self.probes.push((source, probe));
    }

    fn estimate(&self, source: SourceId) -> Option<ClockEstimate> {
        let probes: Vec<&ClockProbe> =
            self.probes.iter().filter(|(s, _)| *s == source).map(|(_, p)| p).collect();
        let best = probes.iter().min_by_key(|p| p.uncertainty_us())?;
        let offsets = probes.iter().map(|p| p.offset_us());
        let spread = offsets.clone().max().unwrap_or(0) - offsets.min().unwrap_or(0);
        Some(ClockEstimate {
            probes: probes.len(),
            offset_us: best.offset_us(),
            uncertainty_us: best.uncertainty_us() + (spread + 1) / 2,
        })
    }
}

/// What the writer thread wrote.
#[derive(Clone, Debug)]
pub(crate) struct Written {
    pub footer: Footer,
    pub over_limit: u64,
    pub per_source: Vec<u64>,
    pub bytes: u64,
    pub raw_bytes: u64,
}

/// A source's clock against the recorder's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockEstimate {
    /// Clock probes taken.
    pub probes: usize,
    /// Source clock − recorder clock (µs), from the best probe.
    pub offset_us: Micros,
    /// How far off that may be (µs).
    pub uncertainty_us: Micros,
}

/// One source's part of the summary.
#[derive(Clone, Debug)]
pub struct SourceSummary {
    /// Its name in the trace.
    pub name: String,
    /// Redis, MySQL or MariaDB.
    pub kind: SourceKind,
    /// Events written.
    pub events: u64,
    /// Events dropped because the queue was full.
    pub dropped: u64,
    /// Gaps (reconnects, drops).
    pub gaps: u64,
    /// Its clock, when probed.
    pub clock: Option<ClockEstimate>,
}

/// What a recording did, printed at the end.
#[derive(Clone, Debug)]
pub struct RecordSummary {
    /// The trace.
    pub output: PathBuf,
    /// How long it recorded.
    pub duration: Duration,
    /// Why it stopped.
    pub stop_reason: Option<StopReason>,
    /// Per source.
    pub sources: Vec<SourceSummary>,
    /// Events written.
    pub events: u64,
    /// Frames written.
    pub frames: u64,
    /// Size of the trace file.
    pub bytes: u64,
    /// The frames' size before compression.
    pub raw_bytes: u64,
    /// Events dropped (queue full), all sources.
    pub dropped: u64,
    /// Gaps, all sources.
    pub gaps: u64,
    /// Events that arrived after `--max-events` was reached (not written, not drops).
    pub over_limit: u64,
    /// The smallest `--perturb` window covering the cross-source clock uncertainty (µs); `None`
    /// with fewer than two probed sources.
    pub perturb_window_us: Option<Micros>,
    /// Warnings collected while recording.
    pub warnings: Vec<String>,
    /// The exit code of the `-- COMMAND`, when one ran.
    pub command_exit: Option<i32>,
}

pub(crate) struct SummaryInput<'a> {
    pub output: PathBuf,
    pub elapsed: Duration,
    pub reason: Option<StopReason>,
    pub sources: Vec<(SourceId, String, SourceKind)>,
    pub stats: &'a [Arc<SourceStats>],
    pub written: Written,
    pub clocks: ClockLog,
    pub warnings: Vec<String>,
    pub command_exit: Option<i32>,
}

pub(crate) fn summarize(input: SummaryInput<'_>) -> RecordSummary {
    let sources: Vec<SourceSummary> = input
        .sources
        .iter()
        .zip(input.stats)
        .map(|((id, name, kind), stats)| SourceSummary {
            name: name.clone(),
            kind: *kind,
            events: input.written.per_source.get(id.0 as usize).copied().unwrap_or(0),
            dropped: stats.dropped.load(Ordering::Relaxed),
            gaps: stats.gaps.load(Ordering::Relaxed),
            clock: input.clocks.estimate(*id),
        })
        .collect();
    let mut uncertainties: Vec<Micros> =
        sources.iter().filter_map(|s| s.clock.map(|c| c.uncertainty_us)).collect();
    uncertainties.sort_unstable_by(|a, b| b.cmp(a));
    let perturb_window_us = (uncertainties.len() >= 2).then(|| {
        let w = uncertainties[0] + uncertainties[1];
        // Round up to 100 µs: nobody types --perturb 1873us.
        (w + 99) / 100 * 100
    });
    RecordSummary {
        output: input.output,
        duration: input.elapsed,
        stop_reason: input.reason,
        events: input.written.footer.events,
        frames: input.written.footer.frames,
        bytes: input.written.bytes,
        raw_bytes: input.written.raw_bytes,
        dropped: sources.iter().map(|s| s.dropped).sum(),
        gaps: sources.iter().map(|s| s.gaps).sum(),
        over_limit: input.written.over_limit,
        sources,
        perturb_window_us,
        warnings: input.warnings,
        command_exit: input.command_exit,
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn human_bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

fn signed_us(us: Micros) -> String {
    let sign = if us < 0 { "-" } else { "+" };
    format!("{sign}{}", format_duration(us.abs()))
}

impl fmt::Display for RecordSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.duration.as_secs_f64();
        writeln!(
            f,
            "recorded {:.1}s into {}{}",
            secs,
            self.output.display(),
            self.stop_reason.as_ref().map(|r| format!(" (stopped: {r})")).unwrap_or_default()
        )?;
        for s in &self.sources {
            write!(
                f,
                "  {} ({}): {} events ({:.0}/s)",
                s.name,
                s.kind.name(),
                thousands(s.events),
                s.events as f64 / secs.max(1e-3)
            )?;
            if let Some(c) = s.clock {
                write!(
                    f,
                    ", clock {} ± {} ({} probes)",
                    signed_us(c.offset_us),
                    format_duration(c.uncertainty_us),
                    c.probes
                )?;
            }
            if s.dropped > 0 {
                write!(f, ", {} DROPPED", thousands(s.dropped))?;
            }
            if s.gaps > 0 {
                write!(f, ", {} gap(s)", s.gaps)?;
            }
            writeln!(f)?;
        }
        let ratio = if self.bytes > 0 { self.raw_bytes as f64 / self.bytes as f64 } else { 0.0 };
        writeln!(
            f,
            "  {} events in {} frames, {} on disk ({} before compression, ×{:.1})",
            thousands(self.events),
            self.frames,
            human_bytes(self.bytes),
            human_bytes(self.raw_bytes),
            ratio
        )?;
        if self.dropped > 0 {
            writeln!(
                f,
                "  WARNING: {} events were DROPPED because the writer could not keep up; the \
                 trace marks each stretch with a Gap",
                thousands(self.dropped)
            )?;
        } else {
            writeln!(f, "  drops: none")?;
        }
        writeln!(f, "  gaps: {}", self.gaps)?;
        if self.over_limit > 0 {
            writeln!(
                f,
                "  {} events after --max-events were not written",
                thousands(self.over_limit)
            )?;
        }
        match self.perturb_window_us {
            Some(w) => writeln!(
                f,
                "  cross-source clock uncertainty: replay with --perturb {} or more to cover it",
                format_duration(w)
            )?,
            None => writeln!(f, "  cross-source clock uncertainty: none (fewer than two sources)")?,
        }
        if let Some(code) = self.command_exit {
            writeln!(f, "  command exited with {code}")?;
        }
        Ok(())
    }
}

/// Shows one status line on stderr, updated every second, until stopped; then clears it. The
/// line is drawn by `indicatif`, which shows nothing when stderr is not a terminal and cuts the
/// line at the terminal's width.
pub(crate) async fn status_line(
    names: Vec<String>,
    stats: Vec<Arc<SourceStats>>,
    writer: Arc<WriterStats>,
    mut stop: watch::Receiver<bool>,
) {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{wide_msg}") {
        bar.set_style(style);
    }
    let mut last: Vec<u64> = vec![0; stats.len()];
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        let now = now_us();
        let mut parts = Vec::new();
        for (i, s) in stats.iter().enumerate() {
            let events = s.events.load(Ordering::Relaxed);
            let rate = events - last[i];
            last[i] = events;
            let server = s.last_server_us.load(Ordering::Relaxed) as Micros;
            let lag = if server > 0 {
                format!(" lag {}", format_duration((now - server).max(0)))
            } else {
                String::new()
            };
            let dropped = s.dropped.load(Ordering::Relaxed);
            let drops = if dropped > 0 { format!(" DROPPED {dropped}") } else { String::new() };
            parts.push(format!("{}: {rate}/s{lag}{drops}", names[i]));
        }
        bar.set_message(format!(
            "{} | {} events, {}",
            parts.join(" | "),
            thousands(writer.events.load(Ordering::Relaxed)),
            human_bytes(writer.bytes.load(Ordering::Relaxed))
        ));
    }
    bar.finish_and_clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(send: Micros, remote: Micros, recv: Micros) -> ClockProbe {
        ClockProbe { local_send_us: send, remote_us: remote, local_recv_us: recv }
    }

    #[test]
    fn window_is_the_sum_of_the_two_largest_uncertainties() {
        let mut log = ClockLog::default();
        log.add(SourceId(0), probe(1000, 1600, 1200)); // offset +500, ±100
        log.add(SourceId(0), probe(2000, 2500, 2000 + 1000)); // ±500: not the best
        log.add(SourceId(1), probe(1000, 1000, 1400)); // offset -200, ±200
        let a = log.estimate(SourceId(0)).unwrap();
        assert_eq!((a.probes, a.offset_us), (2, 500));
        // best ±100, plus half the spread of offsets (500 and 0) = 250.
        assert_eq!(a.uncertainty_us, 100 + 250);
        let b = log.estimate(SourceId(1)).unwrap();
        assert_eq!((b.offset_us, b.uncertainty_us), (-200, 200));
        assert_eq!(log.estimate(SourceId(2)), None);
    }
}
