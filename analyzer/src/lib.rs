/*!
cachetape-analyzer: the key→row mapping, the stale-read oracle, causes, exposure and the report.

Given a trace's events (streamed, in trace order) and a [`Mapping`] of cache keys to database
rows, [`Analysis`] replays the Redis commands on the fake store, rebuilds every mapped row's
versions from the binlog, places both on one timeline with their uncertainty, and judges every
read of a mapped key: `fresh`, `stale-definite`, `stale-possible` or `unverifiable`, with the
cause of each stale read (stale set, late invalidation, missing invalidation, unexplained), its
age, the chain of events behind it, and the key's exposure — how long the cache disagreed with
the database, and what ended it. [`Inference`] proposes a mapping from the trace alone.

- [`mapping`]: the TOML mapping, key patterns, projections, interned values;
- [`normalize`]: canonical forms so `9.99` (DECIMAL) equals `9.990` (JSON);
- [`timeline`]: cross-source alignment from clock probes; [`lag`]: the database lag bound and
  where it comes from (given, measured by the recorder's heartbeat, or assumed);
- [`dbstate`]: row versions from row changes and commits;
- [`oracle`]: verdicts, causes, ages, chains — pure functions over one key's episode;
- [`exposure`]: intervals in which the cache disagreed with the DB;
- [`analysis`]: the streaming driver, a replaying front (the fake store and what it held of
  mapped keys) and a judging back (episodes, verdicts, exposure, the report); [`report`]: its
  result; [`feed`](mod@feed): decoding and the replaying front on a thread of their own;
- [`infer`]: `map --infer`.

Architecture invariant: the analyzer does no I/O and reads no clock. Its report is a pure
function of the events and the mapping, sorted wherever it is printed.

```no_run
use cachetape_analyzer::{Analysis, AnalysisOptions, Mapping};

let reader = cachetape_tape::Reader::open("incident.bin")?;
let mapping = Mapping::parse(&std::fs::read_to_string("incident.toml")?)?;
let mut analysis = Analysis::new(reader.header(), mapping, AnalysisOptions::default());
for event in reader {
    analysis.push(&event?)?;
}
let report = analysis.finish()?;
println!("{} stale reads", report.findings.len());
# Ok::<(), Box<dyn std::error::Error>>(())
```
*/
#![deny(missing_docs)]

pub mod analysis;
pub mod dbstate;
pub mod decode;
pub mod exposure;
pub mod feed;
pub mod infer;
mod keyindex;
pub mod lag;
pub mod mapping;
pub mod normalize;
pub mod oracle;
pub mod report;
pub mod timeline;
pub mod zone;

pub use analysis::{Analysis, AnalysisError, AnalysisOptions, DEFAULT_MIN_VERIFIABLE};
pub use feed::{FeedError, feed};
pub use infer::{Inference, InferredMapping};
pub use lag::{DbLagSource, HeartbeatLag};
pub use mapping::{Mapping, MappingError};
pub use oracle::{Cause, Verdict};
pub use report::{KeyReport, Report, StaleRead, Summary, TraceVerdict};
pub use timeline::{DEFAULT_DB_LAG_US, TimelineOptions};
