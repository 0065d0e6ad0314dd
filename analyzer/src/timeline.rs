/*!
One timeline across sources: every event's time on the recorder's clock, with the interval it
may really have happened in.

Order within a source is exact; across sources the clocks are aligned with the clock probes:
- a **Redis** command happened at its MONITOR time (`server_us`, the node's clock) minus the
  node's offset, give or take the offset's uncertainty (half the best probe's round trip plus half
  the spread of the offsets seen), and never after the recorder received it;
- a **database** commit on MariaDB carries only whole seconds, so a live recording places it at
  the recorder's receive time; it happened at most [`TimelineOptions::db_lag_us`] before that
  (binlog delivery), and within its header second (on the DB's clock, when probes know it).
  MySQL 8 gives the commit's µs: that is used, aligned like a Redis time. An imported binlog has
  only the header second: the commit is somewhere in that second.

The clock estimate is the one known so far in the trace (probes come at the start, every second
and at the stop), so the timeline is a pure function of the events before each one.
*/

use cachetape_tape::{Capture, ClockProbe, Header, Micros, SourceId, SourceKind};

/// When something happened: best estimate `t`, certainly within `lo..=hi` (µs since the epoch,
/// recorder clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// Best estimate.
    pub t: Micros,
    /// Earliest it can have been.
    pub lo: Micros,
    /// Latest it can have been.
    pub hi: Micros,
}

impl Stamp {
    /// An exactly known time.
    pub fn at(t: Micros) -> Stamp {
        Stamp { t, lo: t, hi: t }
    }

    /// Half the width of the interval.
    pub fn uncertainty(&self) -> Micros {
        (self.hi - self.lo + 1) / 2
    }
}

/// How to place events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimelineOptions {
    /// How long before its receipt a live-recorded database commit may have happened.
    pub db_lag_us: Micros,
}

/// The default [`TimelineOptions::db_lag_us`]: 5 ms.
pub const DEFAULT_DB_LAG_US: Micros = 5_000;

impl Default for TimelineOptions {
    fn default() -> Self {
        TimelineOptions { db_lag_us: DEFAULT_DB_LAG_US }
    }
}

#[derive(Clone, Debug, Default)]
struct SourceClock {
    kind: Option<SourceKind>,
    imported: bool,
    probes: u32,
    /// Offset of the best probe so far and its uncertainty.
    best: Option<(Micros, Micros)>,
    min_offset: Micros,
    max_offset: Micros,
}

impl SourceClock {
    /// (offset, uncertainty) so far; (0, 0) before any probe.
    fn estimate(&self) -> (Micros, Micros) {
        match self.best {
            Some((offset, unc)) => (offset, unc + (self.max_offset - self.min_offset + 1) / 2),
            None => (0, 0),
        }
    }
}

/// A source's clock as the report tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockSummary {
    /// The source's name.
    pub source: String,
    /// `redis`, `mysql` or `mariadb`.
    pub kind: String,
    /// Probes seen.
    pub probes: u32,
    /// Source clock − recorder clock (µs).
    pub offset_us: Micros,
    /// How far off that may be (µs).
    pub uncertainty_us: Micros,
}

/// The clocks of a trace's sources.
#[derive(Clone, Debug)]
pub struct Timeline {
    options: TimelineOptions,
    sources: Vec<SourceClock>,
    names: Vec<String>,
}

impl Timeline {
    /// A timeline for a trace with `header`.
    pub fn new(header: &Header, options: TimelineOptions) -> Timeline {
        let sources = header
            .sources
            .iter()
            .map(|s| SourceClock {
                kind: Some(s.kind),
                imported: matches!(s.capture, Capture::Imported { .. }),
                ..SourceClock::default()
            })
            .collect();
        let names = header.sources.iter().map(|s| s.name.clone()).collect();
        Timeline { options, sources, names }
    }

    /// The options in force.
    pub fn options(&self) -> TimelineOptions {
        self.options
    }

    fn clock(&mut self, source: SourceId) -> &mut SourceClock {
        let i = source.0 as usize;
        if self.sources.len() <= i {
            self.sources.resize_with(i + 1, SourceClock::default);
        }
        &mut self.sources[i]
    }

    /// Learns from a clock probe of `source`.
    pub fn probe(&mut self, source: SourceId, probe: &ClockProbe) {
        let c = self.clock(source);
        let (offset, unc) = (probe.offset_us(), probe.uncertainty_us());
        if c.probes == 0 {
            c.min_offset = offset;
            c.max_offset = offset;
        }
        c.probes += 1;
        c.min_offset = c.min_offset.min(offset);
        c.max_offset = c.max_offset.max(offset);
        if c.best.is_none_or(|(_, u)| unc < u) {
            c.best = Some((offset, unc));
        }
    }

    /// When a Redis command with MONITOR time `server_us`, received at `recv_us`, happened.
    #[inline]
    pub fn redis(&self, source: SourceId, server_us: Micros, recv_us: Micros) -> Stamp {
        let (offset, unc) =
            self.sources.get(source.0 as usize).map_or((0, 0), SourceClock::estimate);
        let t = server_us - offset;
        let lo = t - unc;
        let hi = (t + unc).min(recv_us.max(lo));
        Stamp { t: t.min(hi), lo, hi }
    }

    /// A time on `source`'s own clock (an expiry in Redis's virtual time) on the timeline.
    pub fn on_source_clock(&self, source: SourceId, source_us: Micros) -> Stamp {
        let (offset, unc) =
            self.sources.get(source.0 as usize).map_or((0, 0), SourceClock::estimate);
        let t = source_us - offset;
        Stamp { t, lo: t - unc, hi: t + unc }
    }

    /// When a database commit received at `recv_us` happened.
    pub fn commit(
        &self,
        source: SourceId,
        recv_us: Micros,
        header_secs: u32,
        commit_us: Option<Micros>,
    ) -> Stamp {
        let clock = self.sources.get(source.0 as usize).cloned().unwrap_or_default();
        let (offset, unc) = clock.estimate();
        if let Some(c) = commit_us {
            let t = c - offset;
            return Stamp { t, lo: t - unc, hi: (t + unc).max(t) };
        }
        let second = i64::from(header_secs) * 1_000_000;
        if clock.imported {
            // Only the header's second is known.
            return Stamp { t: second, lo: second, hi: second + 999_999 };
        }
        let hi = recv_us;
        let mut lo = recv_us - self.options.db_lag_us;
        if clock.probes > 0 && header_secs > 0 {
            // Within the header's second, on the DB's clock.
            let first = second - offset - unc;
            let last = second + 999_999 - offset + unc;
            if first <= hi && last >= lo {
                lo = lo.max(first);
            }
        }
        Stamp { t: hi, lo: lo.min(hi), hi }
    }

    /// Every source's clock estimate, in header order.
    pub fn summary(&self) -> Vec<ClockSummary> {
        self.sources
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (offset_us, uncertainty_us) = c.estimate();
                ClockSummary {
                    source: self.names.get(i).cloned().unwrap_or_else(|| format!("#{i}")),
                    kind: c.kind.map_or("?", SourceKind::name).to_string(),
                    probes: c.probes,
                    offset_us,
                    uncertainty_us,
                }
            })
            .collect()
    }

    /// True when `source` is a Redis node.
    pub fn is_redis(&self, source: SourceId) -> bool {
        self.sources.get(source.0 as usize).and_then(|c| c.kind) == Some(SourceKind::Redis)
    }

    /// The name of `source`.
    pub fn name(&self, source: SourceId) -> &str {
        self.names.get(source.0 as usize).map_or("?", String::as_str)
    }

    /// Every source's name, by [`SourceId`].
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        cachetape_testkit::trace::cache_and_db(0)
    }

    #[test]
    fn redis_times_shift_by_the_probed_offset() {
        let mut tl = Timeline::new(&header(), TimelineOptions::default());
        tl.probe(
            SourceId(0),
            &ClockProbe { local_send_us: 1_000, remote_us: 1_600, local_recv_us: 1_200 },
        );
        // offset 500 ± 100
        let s = tl.redis(SourceId(0), 10_500, 20_000);
        assert_eq!(s, Stamp { t: 10_000, lo: 9_900, hi: 10_100 });
        // Never after it was received.
        let s = tl.redis(SourceId(0), 10_500, 10_050);
        assert_eq!(s.hi, 10_050);
    }

    #[test]
    fn live_commits_lie_before_their_receipt() {
        let tl = Timeline::new(&header(), TimelineOptions { db_lag_us: 5_000 });
        let s = tl.commit(SourceId(1), 1_000_000_000, 1_000, None);
        assert_eq!(s, Stamp { t: 1_000_000_000, lo: 999_995_000, hi: 1_000_000_000 });
    }
}
