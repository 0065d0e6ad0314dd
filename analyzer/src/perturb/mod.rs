/*!
Perturbation (DESIGN "Perturbation"): every order of the trace the network could have produced
within a window, searched for reads served stale.

- [`model`]: what the search sees — components of units and their effects;
- [`extract`]: a trace and a mapping → components;
- [`explore`](mod@explore): schedules of one component, exhaustive or sampled, judged; the worker pool;
  `space` (allowed orders, dependence), `eval` (cache and DB along a schedule, causes),
  `closest` (the linearization of a class closest to the recorded order) and `id` (schedule
  ids) are its parts.
*/

mod closest;
mod eval;
pub mod explore;
pub mod extract;
mod id;
pub mod model;
mod space;

pub use explore::{
    ExploreOptions, check_schedule, explore, explore_all, parse_schedule_id, schedule_id,
};
pub use model::{
    CacheVal, Component, Coverage, DbVal, Found, Lane, Move, Op, Outcome, ReadInfo, Unit, Us,
};
