/*!
Perturbation (DESIGN "Perturbation"): every order of the trace the network could have produced
within a window, searched for reads served stale.

- [`model`]: what the search sees — components of units and their effects;
- [`extract`]: a trace and a mapping → components;
- [`explore`]: schedules of one component, exhaustive or sampled, judged; the worker pool.
*/

pub mod explore;
pub mod extract;
pub mod model;

pub use explore::{ExploreOptions, explore, explore_all, parse_schedule_id, schedule_id};
pub use model::{
    CacheVal, Component, Coverage, DbVal, Found, Lane, Move, Op, Outcome, ReadInfo, Unit, Us,
};
