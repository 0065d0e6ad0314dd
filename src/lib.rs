/*!
The cachetape library facade: the crates behind the `cachetape` binary, re-exported for
regression tests and tools that read traces, and the reports' renderers.

- [`tape`]: events and the trace file format;
- [`replayer`]: the fake Redis on a virtual clock;
- [`analyzer`]: stale-read analysis;
- [`perturb`]: the perturbation search as a library — [`replay`], the regression API ([`Replay`]
  a trace under perturbation, assert on its report), and [`shrink`], cutting a trace down to the
  events one finding needs (`cachetape shrink`);
- [`report`]: the reports as text, JSON and HTML, as the CLI prints them;
- `recorder` (with the `recorder` feature, on by default): MONITOR parsing, binlog reading,
  import.

The binary needs the default `cli` feature. A regression test depends on the library alone,
without the CLI's dependencies (clap, tokio, mysql_async, the demo):
`cachetape = { version = "…", default-features = false }`.

```
use std::time::Duration;

use cachetape::report::{ReportFormat, TextReport};

let trace = "traces/incident.bin";
let report = cachetape::Replay::open(trace)?.perturb(Duration::from_millis(5)).seed(1).run()?;
let text = TextReport.render(&report, trace); // what `cachetape replay --perturb 5ms` prints
assert!(!report.is_clean(), "{text}");
assert!(report.stale_reads().iter().any(|r| r.read.key == "order:42"), "{text}");
# Ok::<(), cachetape::ReplayError>(())
```
*/
#![deny(missing_docs)]

pub mod report;

pub use cachetape_analyzer as analyzer;
pub use cachetape_perturb as perturb;
#[cfg(feature = "recorder")]
pub use cachetape_recorder as recorder;
pub use cachetape_replayer as replayer;
pub use cachetape_tape as tape;

pub use cachetape_perturb::{PerturbedRead, Replay, ReplayError, ReplayReport, replay, shrink};
