/*!
Exploring a component's schedules: every equivalence class once, exhaustively when the classes
fit the budget, else a seeded sample; the stale reads found, each with the schedule closest to
the recorded order that serves it stale and its race margin (`pool` explores many components on
worker threads).

The search (`Space` holds the rules) walks a tree whose nodes are schedule prefixes in
lexicographic normal form: a unit is appended only if it is ready (lane order, `before` edges,
window) and the prefix stays the least of its class. Every leaf is one class, visited exactly
once: no two evaluated schedules differ only by commuting units. The cache and DB state follow
the walk incrementally (`State`), so a read is judged once per prefix, not once per schedule.

At a leaf that serves some read stale, `Solver` finds the class's linearization with the fewest
inversions from the recorded order and the class's smallest largest shift (exact up to 64
units; see `closest`). Per read the explorer keeps the fewest-inversion schedule over all
classes (ties: the lexicographically least) and the least shift: the margin; `findings` turns
them into [`Found`]s (cause, age and chain computed on the reported schedule itself).

If the classes exceed the budget, the exhaustive attempt stops after `budget + 1` leaves and the
explorer samples instead: random walks down the same tree (uniform among the allowed children),
the first walk the lexicographically least schedule (the recorded order whenever it is allowed).
A walk that dead-ends (on long components almost every one does: the chance compounds over the
units) is replaced by a random order of the constraints alone, reduced to the least schedule of
its class. Duplicates are recognized by a 128-bit fingerprint of the normal form and not
counted; at most `budget` distinct classes are evaluated, in at most `4 × budget` attempts and a
bounded number of steps. `about` is Knuth's estimator of the number of leaves (the mean over the
random walks of the product of the branching factors, 0 for a dead end), or, when fewer than one
walk in ten completes, Knuth's estimate of the number of orders — an upper bound; it saturates at
`u64::MAX`. The seed of a component is derived from `options.seed` and its index only, so nothing
depends on `jobs`.

Where the search is not exact (sampled, or over 64 units), `findings` repairs each read's
schedule before it is reported.
*/

use std::collections::HashSet;
use std::rc::Rc;

use cachetape_base::{Rng, mix64};

use crate::closest::Solver;
use crate::eval::State;
use crate::findings;
use crate::model::{Component, Coverage, Found, Outcome, Us};
use crate::space::{Masks, Space};

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

/// Prefixes (tree nodes) the exhaustive attempt visits at most per allowed leaf before it gives
/// up and samples: dead ends are rare, this only bounds pathological components.
const NODES_PER_LEAF: u64 = 64;

/// The sampling of one component stops after `max(64 × budget, SAMPLE_STEPS)` steps (units
/// appended): a walk costs a step per unit, so large components sample fewer classes than the
/// budget rather than run for minutes.
const SAMPLE_STEPS: u64 = 1 << 22;

/// Explores one component (`index` is its position in the trace's list, for seeding).
pub fn explore(component: &Component, index: u32, options: &ExploreOptions) -> Outcome {
    let space = Space::new(component, options.window_us);
    let budget = options.budget.max(1);
    let mut search = Search::new(&space);
    let coverage = match search.exhaustive(budget) {
        Some(schedules) => Coverage::Exhaustive { schedules },
        None => {
            search.forget();
            search.sample(budget, component_seed(options.seed, index))
        }
    };
    Outcome { coverage, found: search.findings() }
}

/// Why `schedule` is not an allowed order of `component`'s units under window `window_us`, or
/// `Ok` if it is (the constraints as [`explore`] applies them, fallbacks included).
pub fn check_schedule(
    component: &Component,
    window_us: Us,
    schedule: &[u32],
) -> Result<(), String> {
    Space::new(component, window_us).violation(schedule).map_or(Ok(()), Err)
}

fn component_seed(seed: u64, index: u32) -> u64 {
    mix64(seed ^ mix64(0x6361_6368_6574_6170 ^ index as u64))
}

/// The best schedule found for one read.
struct Best {
    inversions: u32,
    /// Shared by every read the same leaf improved (components can be large).
    schedule: Rc<[u32]>,
}

/// The frontier of a search over at most 64 units, as bit masks (bit `u` = unit `u`).
struct Small {
    masks: Masks,
    /// Units scheduled.
    done: u64,
    /// Per depth: the units a normal form may not append now (each is independent of every
    /// unit after the last one it depends on, and one of those is recorded later) — a sleep set.
    blocked: Vec<u64>,
    /// Per scheduled unit: the units the class order puts before it (transitively).
    closure: Vec<u64>,
    /// Per depth: (inversions, largest shift) every schedule of the class of any completion of
    /// the prefix must have — lower bounds that spare the exact program most leaves.
    bound: Vec<(u32, Us)>,
}

/// One component's search.
struct Search<'s, 'c> {
    space: &'s Space<'c>,
    small: Option<Small>,
    scheduled: Vec<bool>,
    prefix: Vec<u32>,
    lo: usize,
    lo_stack: Vec<usize>,
    state: State,
    cand: Vec<u32>,
    /// Scratch of the general path: the ready units and which a normal form allows now.
    ready: Vec<u32>,
    allowed: Vec<bool>,
    solver: Solver,
    closest: Vec<u32>,
    best: Vec<Option<Best>>,
    /// Per read: the least largest shift of a stale schedule (`Us::MAX`: none yet).
    margin: Vec<Us>,
    /// Distinct classes evaluated.
    evaluated: u64,
    /// Every class seen and every closest schedule exact (exhaustive, at most 64 units).
    exact: bool,
    /// Every schedule evaluated, for tests.
    #[cfg(test)]
    leaves: Vec<Vec<u32>>,
}

impl<'s, 'c> Search<'s, 'c> {
    /// The search without the bit-mask frontier (the path of components over 64 units).
    #[cfg(test)]
    fn general(space: &'s Space<'c>) -> Self {
        Search { small: None, ..Search::new(space) }
    }

    fn new(space: &'s Space<'c>) -> Self {
        let c = space.c;
        let reads = c
            .units
            .iter()
            .flat_map(|u| &u.ops)
            .filter_map(|op| match *op {
                crate::model::Op::Read { read, .. } => Some(read as usize + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0)
            .max(c.reads.len());
        let small = space.masks().map(|masks| Small {
            masks,
            done: 0,
            blocked: {
                let mut v = Vec::with_capacity(space.n + 1);
                v.push(0);
                v
            },
            closure: vec![0; space.n],
            bound: {
                let mut v = Vec::with_capacity(space.n + 1);
                v.push((0, Us::MIN));
                v
            },
        });
        Search {
            space,
            small,
            scheduled: vec![false; space.n],
            prefix: Vec::with_capacity(space.n),
            lo: 0,
            lo_stack: Vec::with_capacity(space.n),
            state: State::new(c),
            cand: Vec::new(),
            ready: Vec::new(),
            allowed: Vec::new(),
            solver: Solver::default(),
            closest: Vec::new(),
            best: (0..reads).map(|_| None).collect(),
            margin: vec![Us::MAX; reads],
            evaluated: 0,
            exact: true,
            #[cfg(test)]
            leaves: Vec::new(),
        }
    }

    #[inline]
    fn push(&mut self, u: u32) {
        self.prefix.push(u);
        if let Some(small) = &mut self.small {
            let m = &small.masks;
            let bit = 1u64 << u;
            let dep = m.dep[u as usize];
            let below = m.below[u as usize];
            let b = *small.blocked.last().unwrap_or(&0);
            small.blocked.push((b | below) & !dep);
            let mut before = small.done & dep;
            let mut closure = before;
            while before != 0 {
                let c = before.trailing_zeros() as usize;
                before &= before - 1;
                closure |= small.closure[c];
            }
            small.closure[u as usize] = closure;
            small.done |= bit;
            let (mut inv, mut shift) = *small.bound.last().unwrap_or(&(0, Us::MIN));
            let mut forced = closure & !below & !bit;
            if forced != 0 {
                inv += forced.count_ones();
                let t = &self.space.t;
                while forced != 0 {
                    let c = forced.trailing_zeros() as usize;
                    forced &= forced - 1;
                    shift = shift.max(t[c].saturating_sub(t[u as usize]));
                }
            }
            small.bound.push((inv, shift));
        } else {
            self.scheduled[u as usize] = true;
            self.lo_stack.push(self.lo);
            self.lo = self.space.advance(&self.scheduled, self.lo);
        }
        self.state.push(self.space.c, u);
    }

    #[inline]
    fn pop(&mut self) {
        if let Some(u) = self.prefix.pop() {
            if let Some(small) = &mut self.small {
                small.done &= !(1u64 << u);
                small.blocked.pop();
                small.bound.pop();
            } else {
                self.scheduled[u as usize] = false;
                self.lo = self.lo_stack.pop().unwrap_or(0);
            }
            self.state.pop();
        }
    }

    /// Appends to `cand` the units a normal form may append to the prefix.
    #[inline]
    fn children(&mut self) {
        if let Some(small) = &self.small {
            let full = self.space.masks_full();
            let blocked = *small.blocked.last().unwrap_or(&0);
            let masks = &small.masks;
            let mut m = full & !small.done & !blocked;
            while m != 0 {
                let u = m.trailing_zeros();
                m &= m - 1;
                if masks.pred[u as usize] & !small.done != 0 {
                    continue;
                }
                // Skip a dead end: a unit left asleep that nothing can wake (every unscheduled
                // unit dependent on it must come after it).
                let done = small.done | 1 << u;
                let mut asleep =
                    (blocked | masks.below[u as usize]) & !masks.dep[u as usize] & !done;
                let mut dead = false;
                while asleep != 0 {
                    let v = asleep.trailing_zeros() as usize;
                    asleep &= asleep - 1;
                    if masks.dep[v] & !done & !masks.succ[v] == 0 {
                        dead = true;
                        break;
                    }
                }
                if !dead {
                    self.cand.push(u);
                }
            }
        } else {
            let start = self.cand.len();
            self.space.ready(&self.scheduled, self.lo, &mut self.cand);
            self.ready.clear();
            self.ready.extend_from_slice(&self.cand[start..]);
            self.cand.truncate(start);
            self.allowed.clear();
            for &v in &self.ready {
                self.allowed.push(self.space.normal_form_allows(&self.prefix, v));
            }
            for (i, &a) in self.ready.iter().enumerate() {
                if !self.allowed[i] {
                    continue;
                }
                // Skip a dead end: a ready unit asleep after `a` that nothing left can wake.
                let dead = self.ready.iter().zip(&self.allowed).any(|(&v, &allowed_now)| {
                    let asleep = v != a && !self.space.dependent(v, a) && (a > v || !allowed_now);
                    asleep && !self.space.may_wake(&self.scheduled, self.lo, v, a)
                });
                if !dead {
                    self.cand.push(a);
                }
            }
        }
    }

    /// Forgets every finding (after an exhaustive attempt that overran the budget).
    fn forget(&mut self) {
        while !self.prefix.is_empty() {
            self.pop();
        }
        self.cand.clear();
        self.best.iter_mut().for_each(|b| *b = None);
        self.margin.iter_mut().for_each(|m| *m = Us::MAX);
        self.evaluated = 0;
        self.exact = true;
        #[cfg(test)]
        self.leaves.clear();
    }

    /// A complete schedule (the prefix) of a class not seen before: record its stale reads.
    fn leaf(&mut self) {
        #[cfg(test)]
        self.leaves.push(self.prefix.clone());
        if self.state.stale.is_empty() {
            return;
        }
        // Skip the exact program when no stale read can gain: its best has fewer inversions
        // than every schedule of this class, and its margin is no larger than the class's.
        let (inv, shift) =
            self.small.as_ref().and_then(|s| s.bound.last().copied()).unwrap_or((0, Us::MIN));
        if self.state.stale.iter().all(|&r| {
            let r = r as usize;
            matches!(&self.best[r], Some(b) if b.inversions < inv || b.inversions == 0)
                && self.margin[r] <= shift.max(0)
        }) {
            return;
        }
        let closest = self.solver.solve(self.space, &self.prefix, &mut self.closest);
        self.exact &= closest.exact;
        let mut shared: Option<Rc<[u32]>> = None;
        for &r in &self.state.stale {
            let r = r as usize;
            self.margin[r] = self.margin[r].min(closest.bottleneck);
            let better = match &self.best[r] {
                None => true,
                Some(b) => {
                    (closest.inversions, &self.closest[..]) < (b.inversions, &b.schedule[..])
                }
            };
            if better {
                let schedule = shared.get_or_insert_with(|| Rc::from(&self.closest[..])).clone();
                self.best[r] = Some(Best { inversions: closest.inversions, schedule });
            }
        }
    }

    /// Every class, if there are at most `budget`: their number.
    fn exhaustive(&mut self, budget: u64) -> Option<u64> {
        let n = self.space.n;
        let node_cap = budget.saturating_mul(NODES_PER_LEAF).saturating_add(1 << 20);
        let mut nodes = 0u64;
        // Frames: (first child, end of children, next child) in `cand`.
        let mut frames: Vec<(usize, usize, usize)> = Vec::with_capacity(n + 1);
        if n == 0 {
            self.evaluated = 1;
            return Some(1);
        }
        self.children();
        frames.push((0, self.cand.len(), 0));
        while let Some(frame) = frames.last_mut() {
            if frame.2 == frame.1 {
                self.cand.truncate(frame.0);
                frames.pop();
                if !frames.is_empty() {
                    self.pop();
                }
                continue;
            }
            let a = self.cand[frame.2];
            frame.2 += 1;
            self.push(a);
            if self.prefix.len() == n {
                self.evaluated += 1;
                if self.evaluated > budget {
                    return None;
                }
                self.leaf();
                self.pop();
                continue;
            }
            nodes += 1;
            if nodes > node_cap {
                return None;
            }
            let start = self.cand.len();
            self.children();
            frames.push((start, self.cand.len(), start));
        }
        Some(self.evaluated)
    }

    /// Seeded random walks: at most `budget` distinct classes.
    ///
    /// Each attempt walks the normal-form tree at random. Where that walk dead-ends (on long
    /// components nearly every walk does: the chance of a dead end compounds over the units),
    /// the attempt instead draws a random order of the constraints alone — which never dead-ends
    /// — and takes the least schedule of its class. `about` is Knuth's estimate over the
    /// normal-form walks, or, when fewer than one in ten of them completes, Knuth's estimate of
    /// the number of orders (an upper bound on the classes).
    fn sample(&mut self, budget: u64, seed: u64) -> Coverage {
        let n = self.space.n;
        let mut rng = Rng::new(seed);
        // The walk starts one draw into the stream: a seed keeps sampling the schedules it always
        // sampled, so stored findings of sampled components stay reproducible.
        rng.next_u64();
        self.exact = false;
        let mut seen: HashSet<(u64, u64)> = HashSet::new();
        let mut tried = 0u64;
        let (mut walks, mut completed, mut sum) = (0u64, 0u64, 0f64);
        let (mut orders, mut orders_sum) = (0u64, 0f64);
        let attempts = budget.saturating_mul(4).max(64);
        // Large components: walks cost a step per unit; bound the steps too.
        let max_steps = budget.saturating_mul(64).max(SAMPLE_STEPS);
        let mut steps = 0u64;
        for attempt in 0..attempts {
            if steps >= max_steps {
                break;
            }
            let mut estimate = 1f64;
            let mut dead = false;
            while self.prefix.len() < n {
                self.cand.clear();
                self.children();
                if self.cand.is_empty() {
                    dead = true;
                    break;
                }
                estimate *= self.cand.len() as f64;
                let pick = if attempt == 0 {
                    *self.cand.iter().min().expect("not empty")
                } else {
                    self.cand[rng.below_usize(self.cand.len())]
                };
                self.push(pick);
                steps += 1;
            }
            // The first walk is not random: it stays out of the estimate.
            if attempt > 0 {
                walks += 1;
                if !dead {
                    completed += 1;
                    sum += estimate;
                }
            }
            if dead {
                while !self.prefix.is_empty() {
                    self.pop();
                }
                let (order, estimate) = self.random_order(&mut rng);
                orders += 1;
                orders_sum += estimate;
                for u in self.least_of_class(&order) {
                    self.push(u);
                }
                steps += 2 * n as u64;
            }
            if self.prefix.len() == n && seen.insert(fingerprint(&self.prefix)) {
                tried += 1;
                self.evaluated += 1;
                self.leaf();
            }
            while !self.prefix.is_empty() {
                self.pop();
            }
            if tried >= budget {
                break;
            }
        }
        let about = if walks == 0 {
            tried
        } else if completed * 10 >= walks || orders == 0 {
            (sum / walks as f64).round() as u64
        } else {
            (orders_sum / orders as f64).round() as u64
        };
        Coverage::Sampled { tried, about: about.max(tried) }
    }

    /// A random order keeping the constraints (a random ready unit each step), and the product
    /// of the numbers of ready units along it.
    fn random_order(&self, rng: &mut Rng) -> (Vec<u32>, f64) {
        let n = self.space.n;
        let mut scheduled = vec![false; n];
        let mut order = Vec::with_capacity(n);
        let mut ready = Vec::new();
        let mut estimate = 1f64;
        let mut lo = 0;
        while order.len() < n {
            lo = self.space.advance(&scheduled, lo);
            ready.clear();
            self.space.ready(&scheduled, lo, &mut ready);
            if ready.is_empty() {
                break; // cannot happen: the space is acyclic
            }
            estimate *= ready.len() as f64;
            let u = ready[rng.below_usize(ready.len())];
            scheduled[u as usize] = true;
            order.push(u);
        }
        (order, estimate)
    }

    /// The least schedule of the class of `order`: the greedy smallest ready unit under the
    /// constraints and the order's orientation of every conflicting pair.
    fn least_of_class(&self, order: &[u32]) -> Vec<u32> {
        let n = self.space.n;
        if order.len() != n {
            return order.to_vec();
        }
        let mut pos = vec![0u32; n];
        for (p, &u) in order.iter().enumerate() {
            pos[u as usize] = p as u32;
        }
        let mut waiting = vec![0u32; n];
        let mut after: Vec<Vec<u32>> = vec![Vec::new(); n];
        for u in 0..n as u32 {
            for &v in self.space.around(u) {
                if v != u && pos[v as usize] < pos[u as usize] && self.space.dependent(u, v) {
                    waiting[u as usize] += 1;
                    after[v as usize].push(u);
                }
            }
        }
        let mut scheduled = vec![false; n];
        let mut out = Vec::with_capacity(n);
        let mut ready = Vec::new();
        let mut lo = 0;
        while out.len() < n {
            lo = self.space.advance(&scheduled, lo);
            ready.clear();
            self.space.ready(&scheduled, lo, &mut ready);
            let Some(u) = ready.iter().copied().filter(|&u| waiting[u as usize] == 0).min() else {
                return order.to_vec(); // cannot happen: `order` keeps every constraint
            };
            scheduled[u as usize] = true;
            out.push(u);
            for &w in &after[u as usize] {
                waiting[w as usize] -= 1;
            }
        }
        out
    }

    /// The findings, by read index.
    fn findings(&self) -> Vec<Found> {
        if self.best.iter().all(Option::is_none) {
            return Vec::new();
        }
        let chosen = self
            .best
            .iter()
            .zip(&self.margin)
            .map(|(best, &margin)| best.as_ref().map(|b| (b.schedule.clone(), margin)))
            .collect();
        findings::report(self.space, chosen, self.exact)
    }
}

/// Two independent 64-bit hashes of a schedule.
fn fingerprint(schedule: &[u32]) -> (u64, u64) {
    let (mut a, mut b) = (0x243F_6A88_85A3_08D3u64, 0x1319_8A2E_0370_7344u64);
    for &u in schedule {
        a = mix64(a ^ u as u64);
        b = mix64(b.rotate_left(17) ^ (u as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    }
    (a, b)
}

#[cfg(test)]
#[path = "explore_tests.rs"]
mod tests;
