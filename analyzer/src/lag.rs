/*!
How long before its receipt a live-recorded database commit may have happened (the database
lag, [`TimelineOptions::db_lag_us`](crate::TimelineOptions::db_lag_us)), and where that bound
comes from ([`DbLagSource`]): given (`--db-lag`), measured by the recorder's heartbeat
(`record --heartbeat`: [`HeartbeatLag`] reads the trace's [`Heartbeat`] events), or assumed
(the 5 ms default).

A heartbeat bounds the lag of its own commit from above: the recorder sent the write at
`sent_us` and received its commit at the event's `recv_us`, both on the recorder's clock, and the
commit happened between the two. The worst of those bounds over the trace is the lag its commits
are given. It is a measurement, not a guarantee: a commit much larger than a heartbeat, or a
stall between two heartbeats, may have taken longer — value causality (`oracle.rs`) still
places a commit before a cached copy of its value, whatever the lag.
*/

use cachetape_tape::{Capture, Event, EventBody, Header, Micros, SourceKind};

use crate::timeline::DEFAULT_DB_LAG_US;

/// Where the database lag bound comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DbLagSource {
    /// The default, for want of anything better.
    #[default]
    Assumed,
    /// Given by the user (`--db-lag`).
    Given,
    /// Measured by the recorder's heartbeat: the worst of `samples` commit→receipt bounds.
    Measured {
        /// Heartbeats seen.
        samples: u64,
        /// The worst bound among them.
        worst_us: Micros,
    },
}

impl DbLagSource {
    /// `assumed`, `given` or `heartbeat`.
    pub fn name(self) -> &'static str {
        match self {
            DbLagSource::Assumed => "assumed",
            DbLagSource::Given => "given",
            DbLagSource::Measured { .. } => "heartbeat",
        }
    }

    /// In words, for the report: `measured by heartbeat: worst 1.2ms over 37 samples`.
    pub fn describe(self) -> String {
        match self {
            DbLagSource::Assumed => {
                "assumed (the --db-lag default; the trace has no heartbeat)".to_string()
            }
            DbLagSource::Given => "given (--db-lag)".to_string(),
            DbLagSource::Measured { samples, worst_us } => format!(
                "measured by heartbeat: worst {} over {samples} sample{}",
                cachetape_tape::format_duration(worst_us),
                if samples == 1 { "" } else { "s" }
            ),
        }
    }
}

/// What a trace's heartbeats measured: feed it the events ([`HeartbeatLag::push`]), then
/// [`HeartbeatLag::resolve`] the lag to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeartbeatLag {
    /// Heartbeats seen.
    pub samples: u64,
    /// The worst commit→receipt bound among them (µs).
    pub worst_us: Micros,
}

impl HeartbeatLag {
    /// True when a trace with `header` may hold heartbeats (it has a live-recorded database):
    /// only then is a pass over its events worth making.
    pub fn may_have_heartbeats(header: &Header) -> bool {
        header.sources.iter().any(|s| {
            matches!(s.kind, SourceKind::MariaDb | SourceKind::MySql)
                && matches!(s.capture, Capture::Live)
        })
    }

    /// Takes one event of the trace (anything but a heartbeat is ignored).
    pub fn push(&mut self, event: &Event) {
        if let EventBody::Heartbeat(h) = &event.body {
            self.samples += 1;
            self.worst_us = self.worst_us.max(h.lag_us(event.recv_us));
        }
    }

    /// The lag to use and where it comes from: `given` when the user gave one, else the worst
    /// measured bound when the trace had heartbeats, else [`DEFAULT_DB_LAG_US`].
    pub fn resolve(&self, given: Option<Micros>) -> (Micros, DbLagSource) {
        match given {
            Some(us) => (us, DbLagSource::Given),
            None if self.samples > 0 => (
                self.worst_us,
                DbLagSource::Measured { samples: self.samples, worst_us: self.worst_us },
            ),
            None => (DEFAULT_DB_LAG_US, DbLagSource::Assumed),
        }
    }
}

#[cfg(test)]
mod tests {
    use cachetape_tape::{Heartbeat, SourceId};

    use super::*;

    fn beat(recv_us: Micros, sent_us: Micros) -> Event {
        Event {
            seq: 0,
            source: SourceId(1),
            recv_us,
            body: EventBody::Heartbeat(Heartbeat { table: "cachetape.heartbeat".into(), sent_us }),
        }
    }

    #[test]
    fn the_worst_heartbeat_is_the_lag_unless_one_is_given() {
        let mut lag = HeartbeatLag::default();
        assert_eq!(lag.resolve(None), (DEFAULT_DB_LAG_US, DbLagSource::Assumed));
        for (recv, sent) in [(1_000_400, 1_000_000), (2_001_200, 2_000_000), (3_000_300, 3_000_000)]
        {
            lag.push(&beat(recv, sent));
        }
        let measured = DbLagSource::Measured { samples: 3, worst_us: 1_200 };
        assert_eq!(lag.resolve(None), (1_200, measured));
        assert_eq!(measured.describe(), "measured by heartbeat: worst 1.2ms over 3 samples");
        assert_eq!(lag.resolve(Some(7_000)), (7_000, DbLagSource::Given));
    }

    #[test]
    fn only_live_databases_have_heartbeats() {
        let live = cachetape_testkit::trace::cache_and_db(0);
        assert!(HeartbeatLag::may_have_heartbeats(&live));
        let redis = cachetape_testkit::trace::redis_only(0, "cache", "cache:1");
        assert!(!HeartbeatLag::may_have_heartbeats(&redis));
    }
}
