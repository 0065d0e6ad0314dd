//! The explorer against brute force: every permutation of small random components, the rules
//! re-stated as plainly as possible, and every exact claim (classes, closest schedules, margins,
//! findings) checked against them.

use std::collections::{BTreeMap, BTreeSet};

use cachetape_base::Rng;

use super::*;
use crate::closest::Solver;
use crate::model::{CacheVal, DbVal, Lane, Op};
use crate::space::Mode;

fn permutations(n: usize) -> Vec<Vec<u32>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, (n - 1) as u32);
            out.push(q);
        }
    }
    out.sort();
    out
}

pub(super) fn positions(perm: &[u32]) -> Vec<usize> {
    let mut pos = vec![0; perm.len()];
    for (p, &u) in perm.iter().enumerate() {
        pos[u as usize] = p;
    }
    pos
}

/// `perm` keeps the constraints `mode` keeps: lanes always; window pairs and `before` edges as
/// written, or only those agreeing with the recorded order.
fn ref_allowed(c: &Component, w: Us, mode: Mode, perm: &[u32]) -> bool {
    let pos = positions(perm);
    let n = c.units.len();
    for a in 0..n {
        for b in 0..n {
            let (ua, ub) = (&c.units[a], &c.units[b]);
            if a < b && ua.lane == ub.lane && pos[a] > pos[b] {
                return false;
            }
            let window_kept = mode == Mode::Strict || a < b;
            if window_kept && ua.t_us + w < ub.t_us && pos[a] > pos[b] {
                return false;
            }
        }
    }
    c.before
        .iter()
        .filter(|&&(a, b)| mode != Mode::Forward || a < b)
        .all(|&(a, b)| pos[a as usize] < pos[b as usize])
}

fn writes_key(op: &Op) -> Option<u16> {
    match *op {
        Op::Set { key, .. } | Op::Del { key } | Op::Expire { key, .. } => Some(key),
        _ => None,
    }
}

pub(super) fn ref_conflict(c: &Component, a: usize, b: usize) -> bool {
    let one_way = |x: &Unit, y: &Unit| {
        x.ops.iter().any(|p| {
            y.ops.iter().any(|q| {
                let key_clash = writes_key(p).is_some() && p.key().is_some() && p.key() == q.key();
                let read_commit = matches!((p, q), (Op::Read { subject: s, .. }, Op::Commit { subject: t, .. }) if s == t);
                let commit_commit = matches!((p, q), (Op::Commit { subject: s, .. }, Op::Commit { subject: t, .. }) if s == t);
                key_clash || read_commit || commit_commit
            })
        })
    };
    one_way(&c.units[a], &c.units[b]) || one_way(&c.units[b], &c.units[a])
}

/// (read, served, db, stale).
pub(super) type RefRead = (u32, CacheVal, DbVal, bool);

/// ((fewest inversions, least such schedule), least largest shift).
type Closest = ((u32, Vec<u32>), Us);

/// Every read as `perm` serves it.
pub(super) fn ref_eval(c: &Component, perm: &[u32]) -> Vec<RefRead> {
    let mut cache: Vec<(CacheVal, Option<Us>)> = c.initial_cache.clone();
    let mut db: Vec<DbVal> = c.initial_db.clone();
    let mut out = Vec::new();
    for &u in perm {
        let unit = &c.units[u as usize];
        let live = |e: (CacheVal, Option<Us>)| match e.1 {
            Some(x) if x <= unit.t_us => CacheVal::Absent,
            _ => e.0,
        };
        for op in &unit.ops {
            match *op {
                Op::Read { key, subject, read } => {
                    let v = live(cache[key as usize]);
                    let d = db[subject as usize];
                    let stale = match (v, d) {
                        (CacheVal::Absent | CacheVal::Unknown | CacheVal::Unreconciled, _)
                        | (_, DbVal::Unknown) => false,
                        (CacheVal::Known(_), DbVal::Absent) => true,
                        (CacheVal::Known(x), DbVal::Known(y)) => !c.agrees(x, y),
                    };
                    out.push((read, v, d, stale));
                }
                Op::Set { key, value, expires_at } => cache[key as usize] = (value, expires_at),
                Op::Del { key } => cache[key as usize] = (CacheVal::Absent, None),
                Op::Expire { key, expires_at } => {
                    if live(cache[key as usize]) != CacheVal::Absent {
                        cache[key as usize].1 = expires_at;
                    }
                }
                Op::Commit { subject, value } => db[subject as usize] = value,
            }
        }
    }
    out
}

fn ref_inversions(perm: &[u32]) -> u32 {
    let mut n = 0;
    for i in 0..perm.len() {
        for j in i + 1..perm.len() {
            n += (perm[i] > perm[j]) as u32;
        }
    }
    n
}

/// Largest `t(moved) − t(past)` over inverted pairs (`Us::MIN` if none).
fn ref_shift(c: &Component, perm: &[u32]) -> Us {
    let mut m = Us::MIN;
    for i in 0..perm.len() {
        for j in i + 1..perm.len() {
            if perm[i] > perm[j] {
                m = m.max(c.units[perm[i] as usize].t_us - c.units[perm[j] as usize].t_us);
            }
        }
    }
    m
}

/// Test draws: a chance given in percent.
trait Draw {
    fn percent(&mut self, percent: u64) -> bool;
}

impl Draw for Rng {
    fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A small random component: 1–2 keys, up to 4 client lanes and a DB lane, reads, sets (some
/// with expiries), dels, expires, commits (some deleting the row), multi-op units, clock jitter
/// across lanes, now and then a `before` edge or an unknown / unreconciled value.
pub(super) fn random_component(rng: &mut Rng, max_units: u64) -> Component {
    let keys = 1 + rng.below(2) as usize;
    let mut c = component(keys, 3);
    if rng.percent(10) {
        c.initial_cache[0] = (CacheVal::Known(rng.below(3) as u32), None);
    }
    if rng.percent(10) {
        c.initial_db[keys - 1] = DbVal::Unknown;
    }
    let n = 2 + rng.below(max_units - 1);
    let mut lane_t: BTreeMap<Lane, Us> = BTreeMap::new();
    let mut now: Us = 0;
    // The row as recorded so far: cache-aside writers cache what the DB holds (or held).
    let mut row: Vec<Vec<u32>> = vec![vec![0]; keys];
    for _ in 0..n {
        now += rng.below(2 * MS as u64) as Us;
        let key = rng.below(keys as u64) as u16;
        let history = row[key as usize].clone();
        let value = |rng: &mut Rng| match rng.below(30) {
            0 => CacheVal::Unreconciled,
            1 => CacheVal::Unknown,
            2..=5 => CacheVal::Known(rng.below(3) as u32),
            _ => CacheVal::Known(
                history[history.len() - 1 - rng.below(2).min(history.len() as u64 - 1) as usize],
            ),
        };
        let (lane, ops) = match rng.below(9) {
            0 | 1 => {
                let v = rng.below(3) as u32;
                row[key as usize].push(v);
                (
                    Lane::Db(0),
                    vec![Op::Commit {
                        subject: key,
                        value: if rng.percent(10) { DbVal::Absent } else { DbVal::Known(v) },
                    }],
                )
            }
            2..=4 => (Lane::Client(rng.below(4) as u32), vec![read(key)]),
            5 | 6 => {
                let expires_at = rng.percent(25).then(|| now + rng.below(4 * MS as u64) as Us);
                (
                    Lane::Client(rng.below(4) as u32),
                    vec![Op::Set { key, value: value(rng), expires_at }],
                )
            }
            7 => (
                Lane::Client(rng.below(4) as u32),
                vec![if rng.percent(70) {
                    Op::Del { key }
                } else {
                    Op::Expire { key, expires_at: Some(now + rng.below(3 * MS as u64) as Us) }
                }],
            ),
            _ => (
                Lane::Client(rng.below(4) as u32),
                vec![Op::Set { key, value: value(rng), expires_at: None }, read(key)],
            ),
        };
        // Client clocks jitter; now and then the DB clock runs 2 ms early (times then go
        // backwards across lanes, and the window as written may contradict a lane).
        let jitter = match lane {
            Lane::Db(_) if rng.percent(10) => -2 * MS,
            Lane::Db(_) => 0,
            _ => rng.below(MS as u64) as Us,
        };
        let t = (now + jitter).max(lane_t.get(&lane).copied().unwrap_or(Us::MIN));
        lane_t.insert(lane, t);
        unit(&mut c, t, lane, ops);
    }
    if rng.percent(30) && n >= 2 {
        let a = rng.below(n - 1) as u32;
        let b = a + 1 + rng.below(n - 1 - a as u64) as u32;
        // Now and then against the recorded order (a constraint set that may be cyclic).
        c.before.push(if rng.percent(15) { (b, a) } else { (a, b) });
    }
    c
}

/// Brute force against the explorer on one component and window.
fn cross_check(c: &Component, w: Us, case: &str) {
    let n = c.units.len();
    // The first set of rules some order keeps (cyclic ones admit none) is the explorer's.
    let (mode, allowed) = [Mode::Strict, Mode::ForwardWindow, Mode::Forward]
        .into_iter()
        .map(|mode| {
            let allowed: Vec<Vec<u32>> =
                permutations(n).into_iter().filter(|p| ref_allowed(c, w, mode, p)).collect();
            (mode, allowed)
        })
        .find(|(_, allowed)| !allowed.is_empty())
        .expect("the recorded order keeps the forward rules");
    assert_eq!(Space::new(c, w).mode, mode, "{case}");
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .filter(|&(a, b)| ref_conflict(c, a, b))
        .collect();
    let signature = |perm: &[u32]| {
        let pos = positions(perm);
        pairs.iter().map(|&(a, b)| pos[a] < pos[b]).collect::<Vec<bool>>()
    };
    // Per class: (fewest inversions, least such schedule), least shift.
    let mut classes: BTreeMap<Vec<bool>, Closest> = BTreeMap::new();
    // Per read: (fewest inversions, least such schedule), margin.
    let mut stale: BTreeMap<u32, Closest> = BTreeMap::new();
    let mut outcomes_by_class: BTreeMap<Vec<bool>, Vec<RefRead>> = BTreeMap::new();
    for perm in &allowed {
        let key = (ref_inversions(perm), perm.clone());
        let shift = ref_shift(c, perm);
        let sig = signature(perm);
        let entry = classes.entry(sig.clone()).or_insert((key.clone(), shift));
        entry.0 = entry.0.clone().min(key.clone());
        entry.1 = entry.1.min(shift);
        let mut outcome = ref_eval(c, perm);
        outcome.sort_by_key(|o| o.0);
        // Equivalent schedules serve every read alike: the reduction is sound.
        let first = outcomes_by_class.entry(sig).or_insert_with(|| outcome.clone());
        assert_eq!(first, &outcome, "{case}: two orders of one class differ: {perm:?}");
        for (r, _, _, is_stale) in outcome {
            if is_stale {
                let e = stale.entry(r).or_insert((key.clone(), shift));
                e.0 = e.0.clone().min(key.clone());
                e.1 = e.1.min(shift);
            }
        }
    }
    let (outcome, leaves) = run(c, w, 1_000_000, 9);
    assert_eq!(
        outcome.coverage,
        Coverage::Exhaustive { schedules: classes.len() as u64 },
        "{case}"
    );
    // Every evaluated schedule is allowed, and no two are equivalent.
    let sigs: BTreeSet<Vec<bool>> = leaves.iter().map(|l| signature(l)).collect();
    assert_eq!(sigs.len(), leaves.len(), "{case}: two equivalent schedules evaluated");
    let space = Space::new(c, w);
    let mut solver = Solver::default();
    let mut closest = Vec::new();
    for leaf in &leaves {
        assert!(allowed.contains(leaf), "{case}: evaluated a forbidden schedule {leaf:?}");
        assert_eq!(space.violation(leaf), None, "{case}");
        // The closest linearization of the class is exactly the fewest-inversion one.
        let ((inv, best), shift) = &classes[&signature(leaf)];
        let got = solver.solve(&space, leaf, &mut closest);
        assert!(got.exact, "{case}");
        assert_eq!((got.inversions, &closest), (*inv, best), "{case}: class of {leaf:?}");
        assert_eq!(got.bottleneck, *shift, "{case}: class of {leaf:?}");
    }
    let recorded: Vec<u32> = (0..n as u32).collect();
    let as_recorded: BTreeSet<u32> =
        ref_eval(c, &recorded).into_iter().filter(|o| o.3).map(|o| o.0).collect();
    let found_reads: Vec<u32> = outcome.found.iter().map(|f| f.read).collect();
    assert_eq!(found_reads, stale.keys().copied().collect::<Vec<_>>(), "{case}");
    for f in &outcome.found {
        let ((inv, schedule), margin) = &stale[&f.read];
        assert_eq!(&f.schedule, schedule, "{case}: read {}", f.read);
        assert_eq!(f.moves.len() as u32, *inv, "{case}");
        assert_eq!(f.margin_us, (*margin).max(0), "{case}: read {}", f.read);
        assert_eq!(f.as_recorded, as_recorded.contains(&f.read), "{case}");
        let o = ref_eval(c, &f.schedule).into_iter().find(|o| o.0 == f.read).unwrap();
        assert_eq!((o.1, o.2, o.3), (f.served, f.db, true), "{case}");
        assert!(f.age_us >= 0);
        let pos = positions(&f.schedule);
        for m in &f.moves {
            assert!(m.moved > m.past && pos[m.moved as usize] < pos[m.past as usize]);
            assert_eq!(m.shift_us, c.units[m.moved as usize].t_us - c.units[m.past as usize].t_us);
        }
    }
    // Sampling half the classes: distinct allowed classes only; every finding a real stale
    // schedule, never better than the truth.
    if classes.len() >= 4 {
        let budget = classes.len() as u64 / 2;
        let (sampled, leaves) = run(c, w, budget, 17);
        let Coverage::Sampled { tried, about } = sampled.coverage else {
            panic!("{case}: {:?}", sampled.coverage)
        };
        assert!(tried <= budget && tried == leaves.len() as u64 && about >= tried, "{case}");
        let sigs: BTreeSet<Vec<bool>> = leaves.iter().map(|l| signature(l)).collect();
        assert_eq!(sigs.len(), leaves.len(), "{case}: two equivalent schedules sampled");
        assert!(leaves.iter().all(|l| allowed.contains(l)), "{case}");
        for f in &sampled.found {
            let ((inv, _), margin) = &stale[&f.read];
            assert!(allowed.contains(&f.schedule), "{case}");
            let o = ref_eval(c, &f.schedule).into_iter().find(|o| o.0 == f.read).unwrap();
            assert!(o.3, "{case}: read {} not stale in its schedule", f.read);
            assert_eq!(f.moves.len() as u32, ref_inversions(&f.schedule), "{case}");
            assert!(f.moves.len() as u32 >= *inv && f.margin_us >= (*margin).max(0), "{case}");
            assert_eq!(f.as_recorded, as_recorded.contains(&f.read), "{case}");
        }
    }
}

#[test]
fn brute_force_agrees_on_small_random_components() {
    let mut rng = Rng::new(0xC0FFEE);
    let mut stale_cases = 0;
    for case in 0..400 {
        let c = random_component(&mut rng, 7);
        let w = [0, MS, 3 * MS, 5 * MS, 5 * MS, 1_000_000][rng.below(6) as usize];
        cross_check(&c, w, &format!("case {case} (W={w}): {c:#?}"));
        stale_cases += (!explore(&c, 0, &options(w)).found.is_empty()) as u32;
    }
    // The cases exercise findings, not only clean components.
    assert!(stale_cases > 30, "{stale_cases}");
}
