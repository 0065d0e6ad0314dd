/*!
Exploring one component's schedules (skeleton: the signatures `extract` and the CLI build on;
the search itself is being written).
*/

use super::model::{Component, Coverage, Outcome, Us};

/// How to explore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExploreOptions {
    /// The window W, µs: `t(a) + W < t(b)` keeps a before b.
    pub window_us: Us,
    /// Distinct schedules per component at most; beyond, sampling.
    pub budget: u64,
    /// Seed of the sampling (each component's own stream derives from it and its index).
    pub seed: u64,
    /// Worker threads.
    pub jobs: usize,
}

/// Explores one component (`index` is its position in the trace's list, for seeding).
pub fn explore(component: &Component, index: u32, options: &ExploreOptions) -> Outcome {
    let _ = (component, index, options);
    Outcome { coverage: Coverage::Exhaustive { schedules: 1 }, found: Vec::new() }
}

/// Explores every component on `options.jobs` workers; outcomes in component order, identical
/// for any number of jobs. `progress(done, total)` is called as components finish.
pub fn explore_all(
    components: &[Component],
    options: &ExploreOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<Outcome> {
    let _ = progress;
    components.iter().enumerate().map(|(i, c)| explore(c, i as u32, options)).collect()
}

/// The id that replays a component's schedule exactly.
pub fn schedule_id(component: u32, schedule: &[u32]) -> String {
    let _ = (component, schedule);
    String::new()
}

/// The component and schedule an id names, or why it is not one.
pub fn parse_schedule_id(id: &str) -> Result<(u32, Vec<u32>), String> {
    Err(format!("schedule id {id:?}: not implemented yet"))
}
