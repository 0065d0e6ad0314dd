//! The explorer on hand-built components: the design's two races, sampling, the worker pool,
//! schedule ids, components over 64 units, causes and ages. `brute_force` checks it against
//! every permutation of small random components.

use std::collections::BTreeSet;

use cachetape_analyzer::oracle::Cause;
use cachetape_base::Rng;

use super::*;
use crate::closest::Solver;
use crate::id::{parse_schedule_id, schedule_id};
use crate::model::{CacheVal, DbVal, Lane, Move, Op, ReadInfo, Unit};
use crate::pool::explore_all;
use crate::space::Mode;
use brute_force::{positions, random_component, ref_conflict, ref_eval};

#[path = "brute_force_tests.rs"]
mod brute_force;

const MS: Us = 1000;

// ---------------------------------------------------------------------------------------------
// Building components by hand.

/// A component of `keys` keys, key `k` mapped to subject `k`, values `0..values` on both sides,
/// cached value `c` agreeing with DB value `d` iff `c == d`; DB initially `Known(0)`, cache
/// empty.
fn component(keys: usize, values: u32) -> Component {
    let v = values as usize;
    Component {
        units: Vec::new(),
        before: Vec::new(),
        keys: (0..keys).map(|k| format!("k{k}")).collect(),
        initial_cache: vec![(CacheVal::Absent, None); keys],
        subjects: (0..keys).map(|k| format!("row {k}")).collect(),
        initial_db: vec![DbVal::Known(0); keys],
        cache_values: values,
        db_values: values,
        agree: (0..v * v).map(|i| i / v == i % v).collect(),
        reads: Vec::new(),
        approximate: false,
    }
}

fn read(key: u16) -> Op {
    Op::Read { key, subject: key, read: u32::MAX }
}

fn set(key: u16, v: u32) -> Op {
    Op::Set { key, value: CacheVal::Known(v), expires_at: None }
}

fn commit(subject: u16, v: u32) -> Op {
    Op::Commit { subject, value: DbVal::Known(v) }
}

/// Appends a unit; its reads get the next read ids.
fn unit(c: &mut Component, t_us: Us, lane: Lane, mut ops: Vec<Op>) -> u32 {
    let u = c.units.len() as u32;
    for op in &mut ops {
        if let Op::Read { read, .. } = op {
            *read = c.reads.len() as u32;
            c.reads.push(ReadInfo { unit: u, seq: u as u64 * 10 + 1 });
        }
    }
    c.units.push(Unit { seq: u as u64 * 10, last_seq: u as u64 * 10, t_us, lane, ops });
    u
}

fn options(window_us: Us) -> ExploreOptions {
    ExploreOptions { window_us, budget: 100_000, seed: 1, jobs: 1 }
}

/// `explore`, also returning every schedule it evaluated; checks that the general path (the one
/// of components over 64 units) finds the same.
fn run(c: &Component, window_us: Us, budget: u64, seed: u64) -> (Outcome, Vec<Vec<u32>>) {
    let space = Space::new(c, window_us);
    let search = |mut search: Search| {
        let coverage = match search.exhaustive(budget) {
            Some(schedules) => Coverage::Exhaustive { schedules },
            None => {
                search.forget();
                search.sample(budget, component_seed(seed, 0))
            }
        };
        (Outcome { coverage, found: search.findings() }, search.leaves)
    };
    let (outcome, leaves) = search(Search::new(&space));
    assert_eq!(outcome, explore(c, 0, &ExploreOptions { window_us, budget, seed, jobs: 1 }));
    let (general, general_leaves) = search(Search::general(&space));
    if let Coverage::Exhaustive { .. } = outcome.coverage {
        // Same classes (visited in another order), same findings, except for components over
        // 64 units, where the closest schedule is a heuristic.
        assert_eq!(general, outcome);
        let (mut a, mut b) = (leaves.clone(), general_leaves);
        a.sort();
        b.sort();
        assert_eq!(a, b);
    } else {
        assert!(matches!(general.coverage, Coverage::Sampled { .. }));
    }
    (outcome, leaves)
}

// ---------------------------------------------------------------------------------------------
// The design's two races, late invalidation and stale set, and the window's and value
// causality's orders.

/// SET v0 (fresh), commit v1 at 0, DEL at 4 ms, GET at 6 ms by another client.
fn late_invalidation() -> Component {
    let mut c = component(1, 2);
    unit(&mut c, -2 * MS, Lane::Client(0), vec![set(0, 0)]);
    unit(&mut c, 0, Lane::Db(0), vec![commit(0, 1)]);
    unit(&mut c, 4 * MS, Lane::Client(1), vec![Op::Del { key: 0 }]);
    unit(&mut c, 6 * MS, Lane::Client(2), vec![read(0)]);
    c
}

#[test]
fn late_invalidation_is_clean_at_zero_and_found_at_five_ms() {
    let c = late_invalidation();
    let clean = explore(&c, 0, &options(0));
    assert_eq!(clean, Outcome { coverage: Coverage::Exhaustive { schedules: 1 }, found: vec![] });
    let out = explore(&c, 0, &options(5 * MS));
    assert_eq!(out.coverage, Coverage::Exhaustive { schedules: 2 });
    assert_eq!(out.found.len(), 1);
    let f = &out.found[0];
    assert_eq!(f.cause, Cause::LateInvalidation);
    assert_eq!(f.margin_us, 2 * MS);
    assert_eq!(f.schedule, vec![0, 1, 3, 2]);
    assert_eq!(f.moves, vec![Move { moved: 3, past: 2, shift_us: 2 * MS }]);
    assert_eq!((f.served, f.db), (CacheVal::Known(0), DbVal::Known(1)));
    assert_eq!(f.age_us, 6 * MS);
    assert_eq!(f.chain, vec![0, 1, 2]);
    assert!(!f.as_recorded);
    // Just below the margin the race is out of reach, at the margin it is in.
    assert!(explore(&c, 0, &options(2 * MS - 1)).found.is_empty());
    assert_eq!(explore(&c, 0, &options(2 * MS)).found.len(), 1);
}

/// Reader GET miss at −1 ms, commit v1 at 0, the reader's SET of the old v0 at 3 ms, the
/// writer's DEL at 4 ms, another reader's GET at 6 ms: clean as recorded (the DEL clears it).
fn stale_set() -> Component {
    let mut c = component(1, 2);
    unit(&mut c, -MS, Lane::Client(0), vec![read(0)]);
    unit(&mut c, 0, Lane::Db(0), vec![commit(0, 1)]);
    unit(&mut c, 3 * MS, Lane::Client(0), vec![set(0, 0)]);
    unit(&mut c, 4 * MS, Lane::Client(1), vec![Op::Del { key: 0 }]);
    unit(&mut c, 6 * MS, Lane::Client(2), vec![read(0)]);
    c
}

#[test]
fn stale_set_is_clean_as_recorded_and_found_at_five_ms() {
    let c = stale_set();
    assert!(explore(&c, 0, &options(0)).found.is_empty());
    let out = explore(&c, 0, &options(5 * MS));
    assert_eq!(out.found.len(), 1);
    let f = &out.found[0];
    assert_eq!(f.read, 1);
    assert_eq!(f.cause, Cause::StaleSet);
    assert!(!f.as_recorded);
    // Two single swaps do it (GET before DEL, or DEL before SET); the least is reported, and
    // the margin is the smaller shift (DEL 1 ms ahead of the SET).
    assert_eq!(f.schedule, vec![0, 1, 2, 4, 3]);
    assert_eq!(f.moves.len(), 1);
    assert_eq!(f.margin_us, MS);
    assert_eq!(f.chain, vec![2, 1, 3]);
    assert_eq!(f.age_us, 6 * MS);
}

#[test]
fn units_further_apart_than_the_window_have_one_schedule() {
    let mut c = component(1, 2);
    unit(&mut c, 0, Lane::Client(0), vec![read(0)]);
    unit(&mut c, 10 * MS, Lane::Client(1), vec![set(0, 0)]);
    unit(&mut c, 20 * MS, Lane::Db(0), vec![commit(0, 1)]);
    unit(&mut c, 30 * MS, Lane::Client(2), vec![read(0)]);
    unit(&mut c, 40 * MS, Lane::Client(1), vec![Op::Del { key: 0 }]);
    unit(&mut c, 50 * MS, Lane::Client(2), vec![read(0)]);
    let out = explore(&c, 0, &options(5 * MS));
    assert_eq!(out.coverage, Coverage::Exhaustive { schedules: 1 });
    // The read at 30 ms is stale as recorded (missing invalidation until the DEL).
    assert_eq!(out.found.len(), 1);
    assert!(out.found[0].as_recorded && out.found[0].moves.is_empty());
    assert_eq!(out.found[0].cause, Cause::LateInvalidation);
    let mut clean = c.clone();
    clean.units[2].t_us = 35 * MS; // the commit after the read: nothing stale
    clean.units.swap(2, 3);
    clean.reads[1].unit = 2;
    let out = explore(&clean, 0, &options(4 * MS));
    assert_eq!(out, Outcome { coverage: Coverage::Exhaustive { schedules: 1 }, found: vec![] });
}

#[test]
fn value_causality_keeps_a_set_after_its_commit() {
    // Commit v1, then a reader SETs v1 (it read the new row); another client reads.
    let mut c = component(1, 2);
    unit(&mut c, 0, Lane::Db(0), vec![commit(0, 1)]);
    unit(&mut c, MS, Lane::Client(0), vec![set(0, 1)]);
    unit(&mut c, MS + MS / 2, Lane::Client(1), vec![read(0)]);
    // Without the edge, SET v1 and the read may run before the commit: served v1 against v0.
    let (loose, _) = run(&c, 5 * MS, 1000, 1);
    assert_eq!(loose.found.len(), 1);
    assert_eq!(loose.found[0].cause, Cause::Unexplained);
    c.before.push((0, 1));
    let (out, leaves) = run(&c, 5 * MS, 1000, 1);
    assert!(out.found.is_empty());
    assert!(!leaves.is_empty());
    for l in &leaves {
        let pos = positions(l);
        assert!(pos[0] < pos[1], "SET before its commit in {l:?}");
    }
    // Also under sampling.
    let (out, leaves) = run(&c, 5 * MS, 1, 3);
    assert!(matches!(out.coverage, Coverage::Sampled { .. }));
    assert!(leaves.iter().all(|l| positions(l)[0] < positions(l)[1]));
}

// ---------------------------------------------------------------------------------------------
// Sampling and the pool.

/// Five writers SET values of one key at about the same time, two readers read it, a commit
/// changes the row: every order of the SETs is its own class, the reads commute with each other.
fn crowded() -> Component {
    let mut c = component(1, 6);
    for i in 0..7u32 {
        let ops = if i % 3 == 2 { vec![read(0)] } else { vec![set(0, 1 + i % 5)] };
        unit(&mut c, i as Us * 100, Lane::Client(i), ops);
    }
    c.units.push(Unit {
        seq: 99,
        last_seq: 99,
        t_us: 250,
        lane: Lane::Db(0),
        ops: vec![commit(0, 1)],
    });
    c
}

#[test]
fn too_many_classes_are_sampled_with_a_plausible_estimate() {
    let c = crowded();
    let exact = match explore(&c, 0, &options(5 * MS)).coverage {
        Coverage::Exhaustive { schedules } => schedules,
        other => panic!("{other:?}"),
    };
    assert!(exact > 2000, "{exact}");
    let small = ExploreOptions { window_us: 5 * MS, budget: 500, seed: 7, jobs: 1 };
    let (out, leaves) = run(&c, 5 * MS, 500, 7);
    let Coverage::Sampled { tried, about } = out.coverage else { panic!("{:?}", out.coverage) };
    assert!(tried <= 500 && tried > 100, "{tried}");
    assert_eq!(leaves.len() as u64, tried);
    assert!(about > exact / 3 && about < exact * 3, "about {about}, exactly {exact}");
    // Distinct classes only.
    let space = Space::new(&c, 5 * MS);
    let mut seen = BTreeSet::new();
    for l in &leaves {
        assert_eq!(space.violation(l), None);
        let sig: Vec<bool> = (0..c.units.len())
            .flat_map(|a| (a + 1..c.units.len()).map(move |b| (a, b)))
            .filter(|&(a, b)| ref_conflict(&c, a, b))
            .map(|(a, b)| positions(l)[a] < positions(l)[b])
            .collect();
        assert!(seen.insert(sig), "two equivalent schedules sampled");
    }
    // Stale reads are found in the sample; same seed, same result; another seed, another sample.
    assert!(!out.found.is_empty());
    assert_eq!(explore(&c, 0, &small), out);
    let (_, other) = run(&c, 5 * MS, 500, 8);
    assert_ne!(other, leaves);
}

#[test]
fn outcomes_do_not_depend_on_jobs() {
    let mut rng = Rng::new(42);
    let mut components: Vec<Component> = (0..40).map(|_| random_component(&mut rng, 7)).collect();
    components.push(crowded());
    components.push(late_invalidation());
    components.insert(5, crowded());
    let options = ExploreOptions { window_us: 5 * MS, budget: 300, seed: 11, jobs: 1 };
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let progress = |done: usize, total: usize| {
        assert!(done <= total);
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };
    let one = explore_all(&components, &options, &progress);
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), components.len());
    let two = explore_all(&components, &ExploreOptions { jobs: 2, ..options }, &progress);
    let three = explore_all(&components, &ExploreOptions { jobs: 3, ..options }, &|_, _| {});
    assert_eq!(one, two);
    assert_eq!(one, three);
    assert!(one.iter().any(|o| matches!(o.coverage, Coverage::Sampled { .. })));
    assert!(one.iter().any(|o| !o.found.is_empty()));
    for (i, (o, c)) in one.iter().zip(&components).enumerate() {
        assert_eq!(o, &explore(c, i as u32, &options));
    }
}

#[test]
fn schedules_check_and_round_trip_through_ids() {
    let c = stale_set();
    let out = explore(&c, 0, &options(5 * MS));
    let f = &out.found[0];
    let id = schedule_id(4, &f.schedule);
    assert_eq!(id, "c4-n5-3.1");
    assert_eq!(parse_schedule_id(&id), Ok((4, f.schedule.clone())));
    assert_eq!(check_schedule(&c, 5 * MS, &f.schedule), Ok(()));
    let err = check_schedule(&c, 5 * MS, &[0, 1, 2, 4]).unwrap_err();
    assert!(err.contains("4 units, the component 5"), "{err}");
    let err = check_schedule(&c, 5 * MS, &[2, 0, 1, 3, 4]).unwrap_err();
    assert!(err.contains("unit 0, its connection's previous one"), "{err}");
    let err = check_schedule(&c, 5 * MS, &[0, 1, 2, 4, 3]).map(|_| ());
    assert_eq!(err, Ok(()));
    let err = check_schedule(&c, MS, &[0, 1, 2, 4, 3]).unwrap_err();
    assert!(err.contains("more than the window earlier"), "{err}");
}

#[test]
fn cyclic_constraints_fall_back_to_the_recorded_order() {
    // A DB clock 10 ms ahead: the window as written puts the commit after a read recorded later
    // on a lane whose predecessor must follow the commit (a `before` edge): a cycle.
    let mut c = component(1, 2);
    unit(&mut c, 10 * MS, Lane::Db(0), vec![commit(0, 1)]);
    unit(&mut c, 0, Lane::Client(0), vec![set(0, 1)]);
    unit(&mut c, MS, Lane::Client(0), vec![read(0)]);
    c.before.push((0, 1));
    let space = Space::new(&c, 0);
    assert_eq!(space.mode, Mode::ForwardWindow);
    let out = explore(&c, 0, &options(0));
    assert_eq!(out.coverage, Coverage::Exhaustive { schedules: 1 });
    assert!(out.found.is_empty());
}

#[test]
fn closest_linearization_beats_greedy() {
    // Units 0, 1 depend on 3 only; 2 is free: greedy gives 2 3 0 1 (4 inversions), the class
    // holds 3 0 1 2 (3).
    let mut c = component(4, 2);
    unit(&mut c, 0, Lane::Client(0), vec![read(0)]);
    unit(&mut c, 0, Lane::Client(1), vec![read(1)]);
    unit(&mut c, 0, Lane::Client(2), vec![read(2)]);
    unit(&mut c, 0, Lane::Client(3), vec![set(0, 1), set(1, 1)]);
    let space = Space::new(&c, MS);
    let mut out = Vec::new();
    let got = Solver::default().solve(&space, &[2, 3, 0, 1], &mut out);
    assert_eq!((got.inversions, out, got.exact), (3, vec![3, 0, 1, 2], true));
}

/// `k` late-invalidation races on one key, 20 ms apart (`4k` units): SET of the row's value, a
/// commit changing it, the DEL 4 ms later, a GET `get_ms` after the SET.
fn races(k: u32, get_ms: impl Fn(u32) -> Us) -> Component {
    let mut c = component(1, k + 1);
    for i in 0..k {
        let base = i as Us * 20 * MS;
        unit(&mut c, base, Lane::Client(0), vec![set(0, i)]);
        unit(&mut c, base + 2 * MS, Lane::Db(0), vec![commit(0, i + 1)]);
        unit(&mut c, base + 6 * MS, Lane::Client(1), vec![Op::Del { key: 0 }]);
        unit(&mut c, base + get_ms(i), Lane::Client(2), vec![read(0)]);
    }
    c
}

#[test]
fn components_over_64_units_are_explored_and_explained() {
    // One race within reach (GET 2 ms after the DEL), nineteen out of reach.
    let c = races(20, |i| if i == 7 { 8 * MS } else { 13 * MS });
    let (out, leaves) = run(&c, 5 * MS, 1000, 1);
    assert_eq!(out.coverage, Coverage::Exhaustive { schedules: 2 });
    assert_eq!(leaves.len(), 2);
    assert_eq!(out.found.len(), 1);
    let f = &out.found[0];
    assert_eq!((f.read, f.cause, f.margin_us), (7, Cause::LateInvalidation, 2 * MS));
    assert_eq!(f.moves, vec![Move { moved: 31, past: 30, shift_us: 2 * MS }]);

    // Every race within reach: 2^20 classes, sampled; each read's schedule repaired down to
    // its own swap.
    let c = races(20, |_| 8 * MS);
    let (out, leaves) = run(&c, 5 * MS, 300, 5);
    let Coverage::Sampled { tried, about } = out.coverage else { panic!("{:?}", out.coverage) };
    assert_eq!(tried as usize, leaves.len());
    assert!(tried <= 300 && about > 100_000, "{tried} of about {about}");
    assert_eq!(out.found.len(), 20);
    for f in &out.found {
        let r = f.read;
        assert_eq!((f.cause, f.margin_us), (Cause::LateInvalidation, 2 * MS), "read {r}");
        assert_eq!(f.moves, vec![Move { moved: 4 * r + 3, past: 4 * r + 2, shift_us: 2 * MS }]);
        assert_eq!(check_schedule(&c, 5 * MS, &f.schedule), Ok(()));
        let o = ref_eval(&c, &f.schedule).into_iter().find(|o| o.0 == r).unwrap();
        assert!(o.3);
    }
}

#[test]
fn long_components_sample_through_random_orders() {
    // 50 cache-aside rounds 3 ms apart on one key under a 5 ms window: random walks of the
    // normal-form tree dead-end, random orders of the constraints do not.
    let mut c = component(1, 51);
    for i in 0..50u32 {
        let base = i as Us * 3 * MS;
        unit(&mut c, base, Lane::Client(0), vec![set(0, i)]);
        unit(&mut c, base + 700, Lane::Db(0), vec![commit(0, i + 1)]);
        unit(&mut c, base + 1900, Lane::Client(1), vec![Op::Del { key: 0 }]);
        unit(&mut c, base + 2600, Lane::Client(2), vec![read(0)]);
    }
    let (out, leaves) = run(&c, 5 * MS, 100, 3);
    let Coverage::Sampled { tried, about } = out.coverage else { panic!("{:?}", out.coverage) };
    assert!(tried > 90 && tried <= 100 && about > 1_000_000, "{tried} of about {about}");
    let space = Space::new(&c, 5 * MS);
    for l in &leaves {
        assert_eq!(space.violation(l), None);
    }
    // Every round's GET can overtake its DEL; each is told as that one swap (repaired).
    assert_eq!(out.found.len(), 50);
    for f in &out.found {
        let r = f.read;
        assert_eq!(f.moves, vec![Move { moved: 4 * r + 3, past: 4 * r + 2, shift_us: 700 }]);
        assert_eq!((f.cause, f.margin_us), (Cause::LateInvalidation, 700));
    }
}

#[test]
fn causes_ages_chains_and_expiry() {
    let one = |c: &Component| {
        let out = explore(c, 0, &options(0));
        assert_eq!(out.coverage, Coverage::Exhaustive { schedules: 1 });
        out.found
    };
    // Fresh SET, a commit, no invalidation: missing invalidation, aged from the commit.
    let mut c = component(1, 3);
    unit(&mut c, 0, Lane::Client(0), vec![set(0, 0)]);
    unit(&mut c, 10 * MS, Lane::Db(0), vec![commit(0, 1)]);
    unit(&mut c, 25 * MS, Lane::Client(1), vec![read(0)]);
    let f = &one(&c)[0];
    assert_eq!(
        (f.cause, f.age_us, &f.chain[..]),
        (Cause::MissingInvalidation, 15 * MS, &[0, 1][..])
    );
    assert!(f.as_recorded && f.moves.is_empty() && f.margin_us == 0);
    // The row deleted: stale against an absent row.
    c.units[1].ops = vec![Op::Commit { subject: 0, value: DbVal::Absent }];
    let f = &one(&c)[0];
    assert_eq!((f.cause, f.db), (Cause::MissingInvalidation, DbVal::Absent));
    // An overwrite with another stale value after the read: late invalidation by that SET.
    let mut d = c.clone();
    d.units[1].ops = vec![commit(0, 1)];
    unit(&mut d, 30 * MS, Lane::Client(0), vec![set(0, 2)]);
    let f = &one(&d)[0];
    assert_eq!((f.cause, &f.chain[..]), (Cause::LateInvalidation, &[0, 1, 3][..]));
    // A value matching no version: unexplained, age 0, the write alone in the chain.
    let mut e = d.clone();
    e.units[0].ops = vec![set(0, 2)];
    let f = &one(&e)[0];
    assert_eq!((f.cause, f.age_us, &f.chain[..]), (Cause::Unexplained, 0, &[0][..]));
    // An unreconciled value (the mapping cannot compare it) is not judged, as the analyzer has
    // it (unverifiable), nor is an unknown one.
    e.units[0].ops = vec![Op::Set { key: 0, value: CacheVal::Unreconciled, expires_at: None }];
    assert!(one(&e).is_empty());
    e.units[0].ops = vec![Op::Set { key: 0, value: CacheVal::Unknown, expires_at: None }];
    assert!(one(&e).is_empty());
    // The DB unknown: not judged.
    let mut u = c.clone();
    u.units[1].ops = vec![Op::Commit { subject: 0, value: DbVal::Unknown }];
    assert!(one(&u).is_empty());
    // The initial cache: no write in the chain, never a stale set.
    let mut i = component(1, 2);
    i.initial_cache[0] = (CacheVal::Known(0), None);
    unit(&mut i, 0, Lane::Db(0), vec![commit(0, 1)]);
    unit(&mut i, MS, Lane::Client(0), vec![read(0)]);
    let f = &one(&i)[0];
    assert_eq!((f.cause, &f.chain[..], f.age_us), (Cause::MissingInvalidation, &[0][..], MS));
    // Expiry at the read's own time: expired at or before it is a miss; EXPIRE moves it, but
    // only while the key holds a value.
    let mut x = component(1, 2);
    unit(
        &mut x,
        0,
        Lane::Client(0),
        vec![Op::Set { key: 0, value: CacheVal::Known(0), expires_at: Some(20 * MS) }],
    );
    unit(&mut x, 10 * MS, Lane::Db(0), vec![commit(0, 1)]);
    unit(&mut x, 20 * MS, Lane::Client(1), vec![read(0)]);
    assert!(one(&x).is_empty());
    let mut y = x.clone();
    y.units.insert(
        2,
        Unit {
            seq: 99,
            last_seq: 99,
            t_us: 15 * MS,
            lane: Lane::Client(2),
            ops: vec![Op::Expire { key: 0, expires_at: Some(40 * MS) }],
        },
    );
    y.reads[0].unit = 3;
    assert_eq!(one(&y).len(), 1);
    // The EXPIRE itself at the expiry: nothing left to extend (in either order of the two
    // units at 20 ms).
    y.units[2].t_us = 20 * MS;
    assert!(explore(&y, 0, &options(0)).found.is_empty());
}

#[test]
fn before_edges_against_the_recorded_order_are_dropped_when_cyclic() {
    // Unit 1 follows unit 0 on one connection, but an edge says 1 before 0: no order keeps
    // both; the edge against the recorded order goes.
    let mut c = component(1, 2);
    unit(&mut c, 0, Lane::Client(0), vec![set(0, 0)]);
    unit(&mut c, MS, Lane::Client(0), vec![read(0)]);
    unit(&mut c, MS, Lane::Db(0), vec![commit(0, 1)]);
    c.before.push((1, 0));
    let space = Space::new(&c, 5 * MS);
    assert_eq!(space.mode, Mode::Forward);
    assert_eq!(space.violation(&[0, 1, 2]), None);
    let out = explore(&c, 0, &options(5 * MS));
    // The commit may land before the read: stale (missing invalidation), by one swap.
    assert_eq!(out.coverage, Coverage::Exhaustive { schedules: 2 });
    assert_eq!(out.found.len(), 1);
    assert_eq!(out.found[0].schedule, vec![0, 2, 1]);
    assert_eq!(out.found[0].cause, Cause::MissingInvalidation);
}
