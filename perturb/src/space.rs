/*!
The schedule space of one component: which orders of its units are allowed, and which units
commute.

An order is allowed when it keeps (DESIGN "Perturbation"):
1. program order per lane (units of one [`Lane`] keep their recorded order);
2. the component's explicit `before` edges;
3. the window: if `t(a) + W < t(b)`, `a` stays before `b` — for every pair, whatever their
   recorded order (timeline times need not be monotone across lanes).

If these constraints contradict each other (a cycle: the window as written inverts an order that
a lane or a `before` edge fixes, which misaligned clocks can cause), the space falls back, in
this order, to window pairs that agree with the recorded order only, then also to `before` edges
that agree with it; the recorded order is then always allowed. [`Space::mode`] says which.

Two units are *dependent* when they conflict (an op of each touches the same key and one of them
writes it; one reads a key mapped to a subject the other commits; both commit one subject) or
when the constraints order them. Schedules that differ only by swapping adjacent independent
units are equivalent (they serve every read the same value against the same DB value); the
explorer visits one schedule per equivalence class: the lexicographically least (by recorded
index) of its class, recognized prefix by prefix with [`Space::normal_form_allows`] (the
Anisimov–Knuth characterization: a word is the least of its class iff it has no factor `b·y·a`
with `a < b` and `a` independent of `b` and of every letter of `y`).
*/

use crate::model::{Component, Lane, Op, Us};

/// No such unit.
pub(crate) const NONE: u32 = u32::MAX;

/// Components up to this many units keep a dense dependence matrix (`n²` bits: 2 MiB at most);
/// larger ones compute conflicts from each unit's footprint on demand.
const DENSE_LIMIT: usize = 4096;

/// Which constraints a space keeps (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Every constraint as written.
    Strict,
    /// Window pairs only where they agree with the recorded order.
    ForwardWindow,
    /// Window pairs and `before` edges only where they agree with the recorded order.
    Forward,
}

/// What one unit touches, for conflicts (sorted, deduplicated).
#[derive(Clone, Debug, Default)]
struct Footprint {
    read_keys: Vec<u16>,
    read_subjects: Vec<u16>,
    written_keys: Vec<u16>,
    committed: Vec<u16>,
}

impl Footprint {
    fn of(ops: &[Op]) -> Footprint {
        let mut f = Footprint::default();
        for op in ops {
            match *op {
                Op::Read { key, subject, .. } => {
                    f.read_keys.push(key);
                    f.read_subjects.push(subject);
                }
                Op::Set { key, .. } | Op::Expire { key, .. } | Op::Del { key } => {
                    f.written_keys.push(key)
                }
                Op::Commit { subject, .. } => f.committed.push(subject),
            }
        }
        for v in [&mut f.read_keys, &mut f.read_subjects, &mut f.written_keys, &mut f.committed] {
            v.sort_unstable();
            v.dedup();
        }
        f
    }

    fn conflicts(&self, other: &Footprint) -> bool {
        meet(&self.written_keys, &other.written_keys)
            || meet(&self.written_keys, &other.read_keys)
            || meet(&self.read_keys, &other.written_keys)
            || meet(&self.read_subjects, &other.committed)
            || meet(&self.committed, &other.read_subjects)
            || meet(&self.committed, &other.committed)
    }
}

/// Two sorted slices share an element.
fn meet(a: &[u16], b: &[u16]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// The space of a component of at most 64 units as bit masks (bit `u` = unit `u`).
pub(crate) struct Masks {
    /// Per unit: the units the constraints put directly before it (lane, `before`, window).
    pub pred: Vec<u64>,
    /// Per unit: the units dependent on it ([`Space::dependent`], symmetric).
    pub dep: Vec<u64>,
    /// Per unit: the units recorded before it.
    pub below: Vec<u64>,
    /// Per unit: the units the constraints put after it (transitively).
    pub succ: Vec<u64>,
}

/// The allowed orders of one component's units and their dependence.
pub(crate) struct Space<'a> {
    /// The component.
    pub c: &'a Component,
    /// Number of units.
    pub n: usize,
    /// Each unit's time.
    pub t: Vec<Us>,
    /// The window, µs.
    pub window: Us,
    /// Which constraints are kept.
    pub mode: Mode,
    lane: Vec<Lane>,
    /// The previous unit of the same lane, or [`NONE`].
    lane_pred: Vec<u32>,
    /// `before` predecessors of unit `u`: `preds[pred_start[u]..pred_start[u + 1]]`.
    pred_start: Vec<u32>,
    preds: Vec<u32>,
    /// Units sorted by (time, index).
    by_t: Vec<u32>,
    /// Dense conflict ∪ `before` relation (symmetric), `words` u64 per unit; empty when large.
    dense: Vec<u64>,
    words: usize,
    /// Footprints, for large components.
    footprints: Vec<Footprint>,
}

impl<'a> Space<'a> {
    /// The space of `c` under window `window` µs, falling back as the module doc says when the
    /// constraints are cyclic.
    pub fn new(c: &'a Component, window: Us) -> Space<'a> {
        let window = window.max(0);
        for mode in [Mode::Strict, Mode::ForwardWindow] {
            let space = Space::with_mode(c, window, mode);
            if space.least_order().is_some() {
                return space;
            }
        }
        Space::with_mode(c, window, Mode::Forward)
    }

    /// The space keeping the constraints `mode` says.
    pub fn with_mode(c: &'a Component, window: Us, mode: Mode) -> Space<'a> {
        let n = c.units.len();
        let t: Vec<Us> = c.units.iter().map(|u| u.t_us).collect();
        let lane: Vec<Lane> = c.units.iter().map(|u| u.lane).collect();
        let mut lane_pred = vec![NONE; n];
        let mut last: std::collections::BTreeMap<Lane, u32> = Default::default();
        for (i, l) in lane.iter().enumerate() {
            if let Some(p) = last.insert(*l, i as u32) {
                lane_pred[i] = p;
            }
        }
        let mut edges: Vec<(u32, u32)> = c
            .before
            .iter()
            .copied()
            .filter(|&(a, b)| (a as usize) < n && (b as usize) < n && a != b)
            .filter(|&(a, b)| mode != Mode::Forward || a < b)
            .map(|(a, b)| (b, a))
            .collect();
        edges.sort_unstable();
        edges.dedup();
        let mut pred_start = Vec::with_capacity(n + 1);
        let mut preds = Vec::with_capacity(edges.len());
        let mut e = 0;
        for u in 0..n as u32 {
            pred_start.push(preds.len() as u32);
            while e < edges.len() && edges[e].0 == u {
                preds.push(edges[e].1);
                e += 1;
            }
        }
        pred_start.push(preds.len() as u32);
        let mut by_t: Vec<u32> = (0..n as u32).collect();
        by_t.sort_by_key(|&u| (t[u as usize], u));
        let footprints: Vec<Footprint> = c.units.iter().map(|u| Footprint::of(&u.ops)).collect();
        let mut space = Space {
            c,
            n,
            t,
            window,
            mode,
            lane,
            lane_pred,
            pred_start,
            preds,
            by_t,
            dense: Vec::new(),
            words: n.div_ceil(64).max(1),
            footprints,
        };
        if n <= DENSE_LIMIT {
            space.build_dense();
        }
        space
    }

    fn build_dense(&mut self) {
        let (n, words) = (self.n, self.words);
        let mut dense = vec![0u64; n * words];
        let mut set = |a: usize, b: usize| {
            dense[a * words + b / 64] |= 1 << (b % 64);
            dense[b * words + a / 64] |= 1 << (a % 64);
        };
        // Conflicts through keys and subjects: every writer of a key against every unit
        // touching it; every committer of a subject against every reader and committer of it.
        let keys = self.c.keys.len().max(self.footprints_max_key());
        let subjects = self.c.subjects.len().max(self.footprints_max_subject());
        let mut touching_key: Vec<Vec<u32>> = vec![Vec::new(); keys];
        let mut writing_key: Vec<Vec<u32>> = vec![Vec::new(); keys];
        let mut touching_subject: Vec<Vec<u32>> = vec![Vec::new(); subjects];
        let mut committing: Vec<Vec<u32>> = vec![Vec::new(); subjects];
        for (u, f) in self.footprints.iter().enumerate() {
            let u = u as u32;
            let mut touched: Vec<u16> =
                f.read_keys.iter().chain(&f.written_keys).copied().collect();
            touched.sort_unstable();
            touched.dedup();
            for k in touched {
                touching_key[k as usize].push(u);
            }
            for &k in &f.written_keys {
                writing_key[k as usize].push(u);
            }
            let mut subs: Vec<u16> = f.read_subjects.iter().chain(&f.committed).copied().collect();
            subs.sort_unstable();
            subs.dedup();
            for s in subs {
                touching_subject[s as usize].push(u);
            }
            for &s in &f.committed {
                committing[s as usize].push(u);
            }
        }
        for (w, t) in writing_key.iter().zip(&touching_key) {
            for &a in w {
                for &b in t {
                    if a != b {
                        set(a as usize, b as usize);
                    }
                }
            }
        }
        for (w, t) in committing.iter().zip(&touching_subject) {
            for &a in w {
                for &b in t {
                    if a != b {
                        set(a as usize, b as usize);
                    }
                }
            }
        }
        for u in 0..n {
            for &p in &self.preds[self.pred_start[u] as usize..self.pred_start[u + 1] as usize] {
                set(u, p as usize);
            }
        }
        self.dense = dense;
    }

    fn footprints_max_key(&self) -> usize {
        let max = |v: &Vec<u16>| v.last().map_or(0, |&k| k as usize + 1);
        self.footprints
            .iter()
            .map(|f| max(&f.read_keys).max(max(&f.written_keys)))
            .max()
            .unwrap_or(0)
    }

    fn footprints_max_subject(&self) -> usize {
        let max = |v: &Vec<u16>| v.last().map_or(0, |&k| k as usize + 1);
        self.footprints
            .iter()
            .map(|f| max(&f.read_subjects).max(max(&f.committed)))
            .max()
            .unwrap_or(0)
    }

    /// `c` must precede `a` because of the window (in this mode).
    #[inline]
    fn window_before(&self, c: u32, a: u32) -> bool {
        self.t[c as usize].saturating_add(self.window) < self.t[a as usize]
            && (self.mode == Mode::Strict || c < a)
    }

    /// Units `a` and `b` conflict, or a `before` edge joins them (either way).
    #[inline]
    fn conflict_or_edge(&self, a: u32, b: u32) -> bool {
        if !self.dense.is_empty() {
            let (a, b) = (a as usize, b as usize);
            return self.dense[a * self.words + b / 64] >> (b % 64) & 1 == 1;
        }
        self.footprints[a as usize].conflicts(&self.footprints[b as usize])
            || self.is_pred(a, b)
            || self.is_pred(b, a)
    }

    fn is_pred(&self, p: u32, u: u32) -> bool {
        let u = u as usize;
        self.preds[self.pred_start[u] as usize..self.pred_start[u + 1] as usize].contains(&p)
    }

    /// `a` and `c` are dependent, given that `c` is already scheduled and `a` is ready: they
    /// conflict, share a lane, or a constraint orders them. (Enough for normal forms: a unit
    /// before `a` by the transitive closure of the constraints is reached through a chain whose
    /// last link is one of these, scheduled after it.)
    #[inline]
    pub fn dependent(&self, a: u32, c: u32) -> bool {
        self.lane[a as usize] == self.lane[c as usize]
            || self.window_before(c, a)
            || self.window_before(a, c)
            || self.conflict_or_edge(a, c)
    }

    /// May `a` follow `prefix` in a normal form (the least schedule of its class)? `prefix` must
    /// be a normal form and `a` ready after it.
    #[inline]
    pub fn normal_form_allows(&self, prefix: &[u32], a: u32) -> bool {
        for &c in prefix.iter().rev() {
            if self.dependent(a, c) {
                return true;
            }
            if c > a {
                return false;
            }
        }
        true
    }

    /// Could some unscheduled unit other than `a` (about to be scheduled) still wake the
    /// sleeping ready unit `v` — be dependent on it without the constraints putting it after
    /// `v`? Conservative: units after `v` only through a chain of constraints count as wakers.
    pub fn may_wake(&self, scheduled: &[bool], lo: usize, v: u32, a: u32) -> bool {
        let horizon = self.t[v as usize].saturating_add(self.window);
        let strict = self.mode == Mode::Strict;
        for &w in &self.by_t[lo.min(self.n)..] {
            if strict && self.t[w as usize] > horizon {
                break;
            }
            if w == a || w == v || scheduled[w as usize] || self.window_before(v, w) {
                continue;
            }
            let lane_after = self.lane[w as usize] == self.lane[v as usize] && w > v;
            if !lane_after && !self.is_pred(v, w) && self.dependent(v, w) {
                return true;
            }
        }
        false
    }

    /// The units that may be unordered with `u` by the window (within `W` of it in time), in
    /// time order; every unit when the window is not kept as written.
    pub fn around(&self, u: u32) -> &[u32] {
        if self.mode != Mode::Strict {
            return &self.by_t;
        }
        let t = self.t[u as usize];
        let from =
            self.by_t.partition_point(|&v| self.t[v as usize] < t.saturating_sub(self.window));
        let to =
            self.by_t.partition_point(|&v| self.t[v as usize] <= t.saturating_add(self.window));
        &self.by_t[from..to]
    }

    /// The first unscheduled unit in time order at or after `lo`.
    #[inline]
    pub fn advance(&self, scheduled: &[bool], mut lo: usize) -> usize {
        while lo < self.n && scheduled[self.by_t[lo] as usize] {
            lo += 1;
        }
        lo
    }

    /// Appends to `out` every ready unit: unscheduled, its lane predecessor and `before`
    /// predecessors scheduled, no unscheduled unit that the window puts before it. `lo` is the
    /// first unscheduled unit in time order ([`Space::advance`]).
    pub fn ready(&self, scheduled: &[bool], lo: usize, out: &mut Vec<u32>) {
        if lo >= self.n {
            return;
        }
        let strict = self.mode == Mode::Strict;
        let horizon = self.t[self.by_t[lo] as usize].saturating_add(self.window);
        for k in lo..self.n {
            let u = self.by_t[k];
            if strict && self.t[u as usize] > horizon {
                break;
            }
            if self.is_ready(scheduled, lo, u) {
                out.push(u);
            }
        }
    }

    #[inline]
    fn is_ready(&self, scheduled: &[bool], lo: usize, u: u32) -> bool {
        let ui = u as usize;
        if scheduled[ui] {
            return false;
        }
        let lp = self.lane_pred[ui];
        if lp != NONE && !scheduled[lp as usize] {
            return false;
        }
        for &p in &self.preds[self.pred_start[ui] as usize..self.pred_start[ui + 1] as usize] {
            if !scheduled[p as usize] {
                return false;
            }
        }
        if self.mode != Mode::Strict {
            // Only earlier-recorded units hold `u` back; scan the ones the window puts before it.
            for &v in &self.by_t[lo..] {
                if self.t[v as usize].saturating_add(self.window) >= self.t[ui] {
                    break;
                }
                if v < u && !scheduled[v as usize] {
                    return false;
                }
            }
        }
        true
    }

    /// The lexicographically least allowed order (greedy: the smallest ready unit each step),
    /// or `None` if the constraints are cyclic.
    pub fn least_order(&self) -> Option<Vec<u32>> {
        let mut scheduled = vec![false; self.n];
        let mut order = Vec::with_capacity(self.n);
        let mut ready = Vec::new();
        let mut lo = 0;
        while order.len() < self.n {
            lo = self.advance(&scheduled, lo);
            ready.clear();
            self.ready(&scheduled, lo, &mut ready);
            let &u = ready.iter().min()?;
            scheduled[u as usize] = true;
            order.push(u);
        }
        Some(order)
    }

    /// Every unit's bit.
    #[inline]
    pub fn masks_full(&self) -> u64 {
        if self.n >= 64 { u64::MAX } else { (1u64 << self.n) - 1 }
    }

    /// The space as bit masks, for at most 64 units.
    pub fn masks(&self) -> Option<Masks> {
        if self.n > 64 {
            return None;
        }
        let n = self.n as u32;
        let mut pred = vec![0u64; self.n];
        let mut dep = vec![0u64; self.n];
        for u in 0..n {
            let ui = u as usize;
            if self.lane_pred[ui] != NONE {
                pred[ui] |= 1 << self.lane_pred[ui];
            }
            for &p in &self.preds[self.pred_start[ui] as usize..self.pred_start[ui + 1] as usize] {
                pred[ui] |= 1 << p;
            }
            for v in 0..n {
                if v != u && self.window_before(v, u) {
                    pred[ui] |= 1 << v;
                }
                if v != u && self.dependent(u, v) {
                    dep[ui] |= 1 << v;
                }
            }
        }
        let below = (0..n).map(|u| (1u64 << u) - 1).collect();
        // Transitive predecessors, in an allowed order (the space is acyclic).
        let order = self.least_order()?;
        let mut closed = vec![0u64; self.n];
        for &u in &order {
            let mut m = pred[u as usize];
            let mut all = m;
            while m != 0 {
                let p = m.trailing_zeros() as usize;
                m &= m - 1;
                all |= closed[p];
            }
            closed[u as usize] = all;
        }
        let mut succ = vec![0u64; self.n];
        for (v, &c) in closed.iter().enumerate() {
            let mut m = c;
            while m != 0 {
                let u = m.trailing_zeros() as usize;
                m &= m - 1;
                succ[u] |= 1 << v;
            }
        }
        Some(Masks { pred, dep, below, succ })
    }

    /// What keeps `schedule` from being an allowed order, or `None` if it is one.
    pub fn violation(&self, schedule: &[u32]) -> Option<String> {
        if schedule.len() != self.n {
            return Some(format!(
                "the schedule has {} units, the component {}",
                schedule.len(),
                self.n
            ));
        }
        let mut pos = vec![NONE; self.n];
        for (p, &u) in schedule.iter().enumerate() {
            if (u as usize) >= self.n {
                return Some(format!("unit {u} does not exist (the component has {})", self.n));
            }
            if pos[u as usize] != NONE {
                return Some(format!("unit {u} appears twice"));
            }
            pos[u as usize] = p as u32;
        }
        for u in 0..self.n {
            let lp = self.lane_pred[u];
            if lp != NONE && pos[lp as usize] > pos[u] {
                return Some(format!(
                    "unit {u} runs before unit {lp}, its connection's previous one"
                ));
            }
            for &p in &self.preds[self.pred_start[u] as usize..self.pred_start[u + 1] as usize] {
                if pos[p as usize] > pos[u] {
                    return Some(format!("unit {u} runs before unit {p}, which it depends on"));
                }
            }
        }
        // The window: in time order, the latest position among units more than W earlier.
        let mut latest: Option<u32> = None;
        let mut k = 0;
        for &b in &self.by_t {
            while k < self.n
                && self.t[self.by_t[k] as usize].saturating_add(self.window) < self.t[b as usize]
            {
                let a = self.by_t[k];
                if self.mode == Mode::Strict {
                    latest = Some(
                        latest.map_or(a, |l| if pos[a as usize] > pos[l as usize] { a } else { l }),
                    );
                }
                k += 1;
            }
            let offender = if self.mode == Mode::Strict {
                latest.filter(|&a| pos[a as usize] > pos[b as usize])
            } else {
                self.by_t[..k].iter().copied().find(|&a| a < b && pos[a as usize] > pos[b as usize])
            };
            if let Some(a) = offender {
                return Some(format!(
                    "unit {b} runs before unit {a}, more than the window earlier ({} µs apart)",
                    self.t[b as usize] - self.t[a as usize]
                ));
            }
        }
        None
    }
}
