/*!
The streaming analysis: events in, one [`Report`] out.

[`Analysis::push`] takes the trace's events in trace order. An analysis is two halves:

- the **replaying front** (`observer.rs`): Redis commands run on the fake store
  ([`cachetape_replayer::Replayer`]) in each node's order, and the front writes down, per event,
  which mapped keys a command read and what the replies said, and what the store held of each
  mapped key it may have written (`observations.rs`); it owns the only key and client ids
  (`interning.rs`);
- the **judging back** (`state.rs`): what a mapped key held after each command cuts its life into
  episodes (a value from its write to what ended it, `episodes.rs`); each hit of a mapped key is a
  read of the current episode's value (`reads.rs`). Row changes and commits build each row's
  versions (`ingest.rs`).

The front needs nothing the back computes, so the crate's `feed` runs it on a thread of its own.

Reads are judged once nothing that could change their verdict can still arrive (`pending.rs`): the
trace is in arrival order, so once the recorder had received events `reorder slack` past a read's
latest possible time (plus the DB lag), every commit that may precede it is in. Fresh and
unverifiable reads are then only counted (`verdicts.rs`); stale ones wait in their episode until it
ends, when their cause (which depends on what ended the value), their chain and the episode's
exposure are known (`settle.rs`). Memory therefore holds: one small record per mapped key, the
versions of changed rows, the interned values, the reads of the last moments, and the stale reads
of live episodes. Reads of a row that has not changed yet wait for its first change (whose before
image says what the row held); if it never changes they are unverifiable. `finish.rs` builds the
report; `detail.rs` keeps the whole story of the keys the options name; `readlog.rs` the record of
every judged read, when the options ask for one.
*/

mod coverage;
mod detail;
mod episodes;
mod finish;
mod ingest;
mod interning;
pub(crate) mod observations;
pub(crate) mod observer;
mod options;
mod pending;
mod readlog;
mod reads;
mod settle;
pub(crate) mod state;
#[cfg(test)]
mod tests;
mod verdicts;

use cachetape_tape::{Event, Header};

pub use options::{AnalysisError, AnalysisOptions, DEFAULT_MIN_VERIFIABLE};
pub use readlog::{JudgedRead, ReadLog};

use crate::mapping::Mapping;
use crate::report::Report;
use observations::{BATCH, Observations};
use observer::Observer;
use state::Judge;

/// A streaming analysis of one trace.
pub struct Analysis {
    observer: Observer,
    judge: Judge,
    /// What the observer saw of the events being pushed.
    observations: Observations,
}

impl Analysis {
    /// An analysis of a trace with `header`, under `mapping`.
    pub fn new(header: &Header, mapping: Mapping, options: AnalysisOptions) -> Analysis {
        let judge = Judge::new(header, mapping.clone(), options);
        let observer = Observer::new(header, mapping, judge.source_names().to_vec());
        Analysis { observer, judge, observations: Observations::default() }
    }

    /// Takes the next event of the trace.
    pub fn push(&mut self, event: &Event) -> Result<(), AnalysisError> {
        self.push_all(std::slice::from_ref(event))
    }

    /// Takes the next events of the trace, in order: the same as [`Analysis::push`] for each,
    /// faster — a batch at a time, each half reading ahead in it. Stops at the first error.
    pub fn push_all(&mut self, events: &[Event]) -> Result<(), AnalysisError> {
        for batch in events.chunks(BATCH) {
            self.observations.clear();
            self.observer.observe_all(batch, &mut self.observations);
            self.judge.push_all(batch, &self.observations)?;
        }
        Ok(())
    }

    /// The two halves, for the crate's `feed` to run on two threads.
    pub(crate) fn halves(&mut self) -> (&mut Observer, &mut Judge) {
        (&mut self.observer, &mut self.judge)
    }

    /// Ends the analysis: closes what is still cached, judges everything left, and builds the
    /// report.
    pub fn finish(self) -> Result<Report, AnalysisError> {
        self.finish_with_reads().map(|(report, _)| report)
    }

    /// [`Analysis::finish`], with the log of every judged read (empty unless
    /// [`AnalysisOptions::log_reads`] was set).
    pub fn finish_with_reads(self) -> Result<(Report, ReadLog), AnalysisError> {
        self.judge.finish(&self.observer.replay_report(), self.observer.families())
    }
}
