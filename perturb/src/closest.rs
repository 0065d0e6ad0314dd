/*!
The schedule of a class closest to the recorded order.

Every schedule of one equivalence class orders each dependent pair of units the same way: the
class is the set of linear extensions of that order `Q`. Its linearizations differ in how many
pairs they invert relative to the recorded order and in the largest time shift an inversion
needs (`t(moved) − t(past)`, the window the reordering needs). For a finding we want, per class:
- the fewest inversions, and among the linearizations with that many the lexicographically least
  (by recorded index) — the schedule reported;
- the smallest largest shift (the class's contribution to the race margin), which another
  linearization may achieve.

**Exact** for components of at most 64 units: a dynamic program over the downsets of `Q` (placing
unit `u` after the set `S` inverts `u` with every earlier-recorded unit not in `S`), bounded to
[`STATE_LIMIT`] downsets. Beyond either bound it is a **heuristic**: the class's lexicographically
least schedule (the one the search visits), whose inversions and largest shift are upper bounds.
The greedy choice alone is not minimal (`Q = {3 < 0, 3 < 1}`: greedy gives `2 3 0 1` with 4
inversions, `3 0 1 2` has 3), hence the program.
*/

use crate::model::Us;
use crate::space::Space;

/// Downsets explored per class at most before falling back to the heuristic.
pub(crate) const STATE_LIMIT: usize = 4096;

const TABLE: usize = 2 * STATE_LIMIT;
const EMPTY: u64 = u64::MAX;

/// The closest linearization of one class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Closest {
    /// Fewest inverted pairs.
    pub inversions: u32,
    /// Smallest largest shift over inverted pairs (`Us::MIN` when some linearization inverts
    /// nothing).
    pub bottleneck: Us,
    /// Both figures exact (else upper bounds from the visited schedule).
    pub exact: bool,
}

/// Reusable tables of the dynamic program.
pub(crate) struct Solver {
    keys: Vec<u64>,
    vals: Vec<(u32, Us)>,
    used: Vec<u32>,
    count: usize,
    overflow: bool,
    qpred: Vec<u64>,
    below: Vec<u64>,
    t: Vec<Us>,
    full: u64,
}

impl Default for Solver {
    fn default() -> Self {
        Solver {
            keys: vec![EMPTY; TABLE],
            vals: vec![(0, 0); TABLE],
            used: Vec::new(),
            count: 0,
            overflow: false,
            qpred: Vec::new(),
            below: Vec::new(),
            t: Vec::new(),
            full: 0,
        }
    }
}

#[inline]
fn slot_of(s: u64) -> usize {
    (s.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize & (TABLE - 1)
}

impl Solver {
    /// The closest linearization of the class of `schedule` (the schedule the search visited);
    /// writes it into `out`.
    pub fn solve(&mut self, space: &Space, schedule: &[u32], out: &mut Vec<u32>) -> Closest {
        let n = schedule.len();
        out.clear();
        if n <= 64 && self.prepare(space, schedule) {
            let (inversions, bottleneck) = self.best(0);
            if !self.overflow {
                // Reconstruct: the least unit whose placement keeps the optimum.
                let mut s = 0u64;
                let mut left = inversions;
                while s != self.full {
                    let avail = self.full & !s;
                    let mut m = avail;
                    let mut placed = false;
                    while m != 0 {
                        let u = m.trailing_zeros() as usize;
                        m &= m - 1;
                        if self.qpred[u] & !s != 0 {
                            continue;
                        }
                        let add = (avail & self.below[u]).count_ones();
                        if add <= left && add + self.best(s | 1 << u).0 == left {
                            left -= add;
                            s |= 1 << u;
                            out.push(u as u32);
                            placed = true;
                            break;
                        }
                    }
                    if !placed || self.overflow {
                        break;
                    }
                }
                if out.len() == n && !self.overflow {
                    self.clear();
                    return Closest { inversions, bottleneck, exact: true };
                }
            }
            self.clear();
        }
        out.clear();
        out.extend_from_slice(schedule);
        let (inversions, bottleneck) = measure(&space.t, schedule);
        Closest { inversions, bottleneck, exact: false }
    }

    /// Fills `qpred` (the class order: dependent pairs as `schedule` orders them), `below` and
    /// `t`. False when the component is too large.
    fn prepare(&mut self, space: &Space, schedule: &[u32]) -> bool {
        let n = schedule.len();
        self.qpred.clear();
        self.qpred.resize(n, 0);
        self.below.clear();
        self.below.extend((0..n).map(|u| (1u64 << u) - 1));
        self.t.clear();
        self.t.extend_from_slice(&space.t);
        self.full = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        for (i, &a) in schedule.iter().enumerate() {
            let mut m = 0u64;
            for &c in &schedule[..i] {
                if space.dependent(a, c) {
                    m |= 1 << c;
                }
            }
            self.qpred[a as usize] = m;
        }
        self.overflow = false;
        true
    }

    fn clear(&mut self) {
        for &i in &self.used {
            self.keys[i as usize] = EMPTY;
        }
        self.used.clear();
        self.count = 0;
    }

    /// (fewest inversions, smallest largest shift) to place everything not in `s`.
    fn best(&mut self, s: u64) -> (u32, Us) {
        if s == self.full {
            return (0, Us::MIN);
        }
        let mut i = slot_of(s);
        loop {
            let k = self.keys[i];
            if k == s {
                return self.vals[i];
            }
            if k == EMPTY {
                break;
            }
            i = (i + 1) & (TABLE - 1);
        }
        if self.count >= STATE_LIMIT {
            self.overflow = true;
            return (0, Us::MIN);
        }
        let avail = self.full & !s;
        let mut m = avail;
        let (mut inv, mut bott) = (u32::MAX, Us::MAX);
        while m != 0 {
            let u = m.trailing_zeros() as usize;
            m &= m - 1;
            if self.qpred[u] & !s != 0 {
                continue;
            }
            let passed = avail & self.below[u];
            let add = passed.count_ones();
            let mut shift = Us::MIN;
            let mut p = passed;
            while p != 0 {
                let v = p.trailing_zeros() as usize;
                p &= p - 1;
                shift = shift.max(self.t[u].saturating_sub(self.t[v]));
            }
            let (ri, rb) = self.best(s | 1 << u);
            inv = inv.min(add.saturating_add(ri));
            bott = bott.min(shift.max(rb));
        }
        if self.overflow {
            return (0, Us::MIN);
        }
        // Re-probe: the recursion may have filled slots.
        let mut i = slot_of(s);
        while self.keys[i] != EMPTY {
            i = (i + 1) & (TABLE - 1);
        }
        self.keys[i] = s;
        self.vals[i] = (inv, bott);
        self.used.push(i as u32);
        self.count += 1;
        (inv, bott)
    }
}

/// Inversions of `schedule` relative to the recorded order and its largest shift
/// (`Us::MIN` if none), in `O(n log n)`.
pub(crate) fn measure(t: &[Us], schedule: &[u32]) -> (u32, Us) {
    let n = schedule.len();
    // Walk from the back: units already seen are scheduled after the current one. A seen unit
    // recorded earlier is an inversion; the largest shift takes the earliest time among them.
    let mut count = vec![0u32; n + 1];
    let mut min_t = vec![Us::MAX; n + 1];
    let mut inversions = 0u64;
    let mut bottleneck = Us::MIN;
    for &u in schedule.iter().rev() {
        let u = u as usize;
        // Prefix query over indices < u.
        let (mut i, mut c, mut m) = (u, 0u32, Us::MAX);
        while i > 0 {
            c += count[i];
            m = m.min(min_t[i]);
            i &= i - 1;
        }
        inversions += c as u64;
        if c > 0 {
            bottleneck = bottleneck.max(t[u].saturating_sub(m));
        }
        let mut i = u + 1;
        while i <= n {
            count[i] += 1;
            min_t[i] = min_t[i].min(t[u]);
            i += i & i.wrapping_neg();
        }
    }
    (inversions.min(u32::MAX as u64) as u32, bottleneck)
}
