/*!
cachetape-perturb: every order of a trace the network could have produced within a window,
searched for reads served stale (DESIGN "Perturbation") — as a library, without the command line.

The engine:
- [`model`]: what the search sees — components of units and their effects;
- [`extract`]: a trace and a mapping → components, with what tells their stories;
- [`explore`](mod@explore): schedules of one component, exhaustive or sampled, judged; with
  [`pool`] (many components on worker threads), `space` (allowed orders, dependence), `eval`
  (cache and DB along a schedule, causes), `closest` (the linearization of a class closest to the
  recorded order), `findings` (each stale read's reported schedule, repaired where the search was
  not exact) and `id` (schedule ids) as its parts.

Its users:
- [`replay`]: the regression API — [`Replay`] a trace (a file, or events in memory) as recorded
  and under perturbation, and get a [`ReplayReport`]: plain data a test asserts on, which the
  `cachetape` binary renders as text, JSON or HTML;
- [`shrink`]: cutting a trace down to the events one finding needs (`cachetape shrink`).

Architecture invariant: no I/O but reading the trace and mapping files a [`Replay`] is given,
no clock, no command line. The engine's outcomes are a pure function of the components, the
window, the budget and the seed (the number of jobs changes nothing but the time); a report is a
pure function of the trace, the mapping, the window, the seed and the budget.
*/
#![deny(missing_docs)]

mod closest;
mod eval;
pub mod explore;
pub mod extract;
mod findings;
mod id;
pub mod model;
pub mod pool;
pub mod replay;
pub mod shrink;
mod space;

pub use explore::{ExploreOptions, check_schedule, explore};
pub use id::{parse_schedule_id, schedule_id};
pub use model::{
    CacheVal, Component, Coverage, DbVal, Found, Lane, Move, Op, Outcome, ReadInfo, Unit, Us,
};
pub use pool::explore_all;
pub use replay::{PerturbedRead, Replay, ReplayError, ReplayReport};
