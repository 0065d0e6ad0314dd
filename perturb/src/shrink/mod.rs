/*!
Shrinking a trace to the events one finding needs (`cachetape shrink`).

A [`Target`] is a finding as the reports print it — key, cause, served and DB value, verdict. The
shrinker cuts the trace in three stages, each candidate checked by a test the caller gives: the
as-recorded analysis in process ([`analysis_test`]), or for a finding of the perturbation search
(`replay --perturb W`) the search on the candidate, replayed from memory ([`perturbation_test`]).

1. **keys** (`keys.rs`): only the finding's key and the row it maps to, plus every clock probe
   and gap and the commands that touch every key. If that alone does not reproduce the finding,
   the stage keeps everything.
2. **time range**: the longest prefix, then the longest suffix, of the remaining non-probe events
   that can go (binary search; each cut verified).
3. **delta debugging** (`ddmin.rs`, Zeller's ddmin) of what remains, probes included, over
   *units* that must stay whole: a transaction's row changes with its commit, a MULTI…EXEC block
   of one client.

Every stage's result reproduces the target (it was tested); the final result is 1-minimal with
respect to removing one unit. Events keep their sequence numbers, so the finding's read keeps its
`#seq`. Pure: no I/O, no clock; the test decides.
*/

mod check;
mod ddmin;
mod keys;
mod target;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use cachetape_analyzer::Mapping;
use cachetape_tape::{Event, EventBody, Header};

pub use check::{Perturbation, analysis_test, analyze_events, perturbation_test};
pub use target::Target;

use ddmin::{ddmin, units};
use keys::relevant;

/// One stage's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// `keys`, `time range`, `ddmin`.
    pub name: &'static str,
    /// Events after it.
    pub events: usize,
    /// Candidates tested in it.
    pub tests: usize,
    /// What it kept, when it had to keep more than it wanted.
    pub note: Option<String>,
}

/// A shrunk trace.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The events kept, in trace order with their sequence numbers.
    pub events: Vec<Event>,
    /// The stages, in order.
    pub stages: Vec<Stage>,
}

/// Why shrinking could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShrinkError {
    /// The whole trace does not reproduce the target under the test.
    #[error(
        "the whole trace does not reproduce the finding under this check, so there is nothing \
         to shrink towards; check the finding number and the mapping"
    )]
    NotReproduced,
}

/// Shrinks `events` (a whole trace, in order) to what `test` still accepts, keeping `target`'s
/// key and row. `max_tests` bounds the delta debugging (it stops early, still verified).
pub fn shrink(
    header: &Header,
    mapping: &Mapping,
    target: &Target,
    events: Vec<Event>,
    max_tests: usize,
    test: &mut dyn FnMut(&[Event]) -> bool,
) -> Result<Shrunk, ShrinkError> {
    if !test(&events) {
        return Err(ShrinkError::NotReproduced);
    }
    let mut stages = Vec::new();
    let names: Vec<String> = header.sources.iter().map(|s| s.name.clone()).collect();

    // 1. The key and its row.
    let keep = relevant(&names, mapping, target, &events);
    let candidate: Vec<Event> =
        events.iter().zip(&keep).filter(|(_, k)| **k).map(|(e, _)| e.clone()).collect();
    let mut current = if test(&candidate) {
        stages.push(Stage { name: "keys", events: candidate.len(), tests: 1, note: None });
        candidate
    } else {
        stages.push(Stage {
            name: "keys",
            events: events.len(),
            tests: 1,
            note: Some("the key and its row alone do not reproduce it: kept everything".into()),
        });
        events
    };

    // 2. The time range of the non-probe events.
    let mut tests = 0;
    let movable: Vec<usize> = (0..current.len()).filter(|&i| !is_probe(&current[i])).collect();
    let without = |current: &[Event], drop: &BTreeSet<usize>| -> Vec<Event> {
        current
            .iter()
            .enumerate()
            .filter(|(i, _)| !drop.contains(i))
            .map(|(_, e)| e.clone())
            .collect()
    };
    // Longest prefix of `movable` that can go.
    let (mut lo, mut hi) = (0usize, movable.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let drop: BTreeSet<usize> = movable[..mid].iter().copied().collect();
        tests += 1;
        if test(&without(&current, &drop)) { lo = mid } else { hi = mid - 1 }
    }
    let prefix = lo;
    let (mut lo, mut hi) = (0usize, movable.len() - prefix);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let drop: BTreeSet<usize> =
            movable[..prefix].iter().chain(&movable[movable.len() - mid..]).copied().collect();
        tests += 1;
        if test(&without(&current, &drop)) { lo = mid } else { hi = mid - 1 }
    }
    let drop: BTreeSet<usize> =
        movable[..prefix].iter().chain(&movable[movable.len() - lo..]).copied().collect();
    current = without(&current, &drop);
    stages.push(Stage { name: "time range", events: current.len(), tests, note: None });

    // 3. ddmin over units.
    let units = units(&current);
    let (kept, tests, exhausted) = ddmin(&current, units, max_tests, test);
    current = kept;
    stages.push(Stage {
        name: "ddmin",
        events: current.len(),
        tests,
        note: exhausted.then(|| format!("stopped after {max_tests} tests (--max-tests)")),
    });
    Ok(Shrunk { events: current, stages })
}

fn is_probe(e: &Event) -> bool {
    matches!(e.body, EventBody::ClockProbe(_))
}
