/*!
cachetape-perturb: the perturbation engine (DESIGN "Perturbation") — every order of a trace the
network could have produced within a window, searched for reads served stale.

- [`model`]: what the search sees — components of units and their effects;
- [`extract`]: a trace and a mapping → components, with what tells their stories;
- [`explore`](mod@explore): schedules of one component, exhaustive or sampled, judged; with
  [`pool`] (many components on worker threads), `space` (allowed orders, dependence), `eval`
  (cache and DB along a schedule, causes), `closest` (the linearization of a class closest to the
  recorded order), `findings` (each stale read's reported schedule, repaired where the search was
  not exact) and `id` (schedule ids) as its parts.

Architecture invariant: the engine does no I/O and reads no clock; its outcomes are a pure
function of the components, the window, the budget and the seed (the number of jobs changes
nothing but the time).
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
mod space;
#[cfg(test)]
mod testutil;

pub use explore::{ExploreOptions, check_schedule, explore};
pub use id::{parse_schedule_id, schedule_id};
pub use model::{
    CacheVal, Component, Coverage, DbVal, Found, Lane, Move, Op, Outcome, ReadInfo, Unit, Us,
};
pub use pool::explore_all;
