/*!
The worker pool: every component of a trace explored on `jobs` threads, the outcomes in
component order and identical for any number of jobs.
*/

use crate::explore::{ExploreOptions, explore};
use crate::model::{Component, Outcome};

/// Explores every component on `options.jobs` workers; outcomes in component order, identical
/// for any number of jobs. `progress(done, total)` is called as components finish.
///
/// Components are handed out largest first over a crossbeam channel; each worker sends back
/// `(index, outcome)` and the calling thread places the outcome at its index (and reports
/// progress), so the result does not depend on which worker explored what.
pub fn explore_all(
    components: &[Component],
    options: &ExploreOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<Outcome> {
    let total = components.len();
    let mut order: Vec<usize> = (0..total).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(components[i].units.len()), i));
    let jobs = options.jobs.clamp(1, total.max(1));
    if jobs == 1 {
        let mut out: Vec<Option<Outcome>> = vec![None; total];
        for (done, &i) in order.iter().enumerate() {
            out[i] = Some(explore(&components[i], i as u32, options));
            progress(done + 1, total);
        }
        return out.into_iter().map(|o| o.expect("every component explored")).collect();
    }
    let (work_tx, work_rx) = crossbeam_channel::unbounded::<usize>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<(usize, Outcome)>();
    for &i in &order {
        work_tx.send(i).expect("the receiver is alive");
    }
    drop(work_tx);
    let mut out: Vec<Option<Outcome>> = vec![None; total];
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let (work_rx, done_tx) = (work_rx.clone(), done_tx.clone());
            scope.spawn(move || {
                for i in work_rx {
                    let outcome = explore(&components[i], i as u32, options);
                    if done_tx.send((i, outcome)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        for (done, (i, outcome)) in done_rx.iter().enumerate() {
            out[i] = Some(outcome);
            progress(done + 1, total);
        }
    });
    out.into_iter().map(|o| o.expect("every component explored")).collect()
}
