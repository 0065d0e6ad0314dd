/*!
The cachetape library facade: the crates behind the `cachetape` binary, re-exported for
regression tests and tools that read traces.

- [`tape`]: events and the trace file format;
- [`recorder`]: MONITOR parsing, binlog reading, import;
- [`replayer`]: the fake Redis on a virtual clock;
- [`analyzer`]: stale-read analysis;
- [`perturb`]: the perturbation engine — components, schedules, their exploration;
- [`shrink`]: cutting a trace down to the events one finding needs (`cachetape shrink`);
- [`replay`]: the regression API — [`Replay`] a trace under perturbation, assert on its report.
*/
#![deny(missing_docs)]

pub mod shrink;

pub use cachetape_analyzer as analyzer;
pub use cachetape_perturb as perturb;
pub use cachetape_recorder as recorder;
pub use cachetape_replayer as replayer;
pub use cachetape_tape as tape;

pub mod replay;

pub use replay::{PerturbedRead, Replay, ReplayError, ReplayReport};
