/*!
Perturbation throughput: schedule evaluations per second on a synthetic trace with many small
components, with one worker as the baseline, in the same run.

`bench/perturb.sh [COMPONENTS]` runs it; `cargo bench -p cachetape-perturb --bench perturb --
[COMPONENTS] [JOBS...]` prints one line per job count: `jobs components schedules found seconds`;
`-- hot [UNITS] [BUDGET]` explores one long component (the sampled path over 64 units).

The model: COMPONENTS (default 100,000) independent cache-aside races on one key each, built
directly as [`Component`]s (no trace, no extraction: this measures the search alone). Each has a
reader's GET miss and its SET of the row as it read it, a writer's commit and its DEL, and 2–5
GETs by other clients spread over 7 ms: 6–8 units, about 750 classes each on average, explored
under a 5 ms window with a budget of 10,000 (every component exhaustive). A schedule evaluation
is one distinct class of orders evaluated: `Coverage::Exhaustive { schedules }` summed (or
`tried` when sampled).
*/

use cachetape_base::Rng;
use std::time::Instant;

use cachetape_perturb::{
    CacheVal, Component, Coverage, DbVal, ExploreOptions, Lane, Op, ReadInfo, Unit, Us, explore_all,
};

/// One cache-aside race: values 0 (the row before) and 1 (after the writer's commit).
fn race(rng: &mut Rng, index: u32) -> Component {
    let mut units: Vec<Unit> = Vec::new();
    let mut reads = Vec::new();
    let t0: Us = index as Us * 20_000;
    let client = |k: u32| Lane::Client(index * 8 + k);
    let mut add = |t_us: Us, lane: Lane, op: Op, units: &mut Vec<Unit>| {
        let u = units.len() as u32;
        let op = match op {
            Op::Read { key, subject, .. } => {
                reads.push(ReadInfo { unit: u, seq: u as u64 });
                Op::Read { key, subject, read: reads.len() as u32 - 1 }
            }
            op => op,
        };
        units.push(Unit { seq: u as u64, last_seq: u as u64, t_us, lane, ops: vec![op] });
    };
    let get = Op::Read { key: 0, subject: 0, read: 0 };
    let reader_miss = t0 + rng.below(500) as Us;
    let commit = t0 + 300 + rng.below(1200) as Us;
    let reader_set = reader_miss + 1500 + rng.below(1000) as Us;
    let del = commit + 500 + rng.below(1500) as Us;
    let mut events: Vec<(Us, Lane, Op)> = vec![
        (reader_miss, client(0), get),
        (
            reader_set,
            client(0),
            Op::Set {
                key: 0,
                value: CacheVal::Known(0),
                expires_at: Some(reader_set + 300_000_000),
            },
        ),
        (commit, Lane::Db(0), Op::Commit { subject: 0, value: DbVal::Known(1) }),
        (del, client(1), Op::Del { key: 0 }),
    ];
    for k in 0..2 + rng.below(3) as u32 {
        events.push((t0 + rng.below(7000) as Us, client(2 + k), get));
    }
    events.sort_by_key(|e| e.0);
    for (t, lane, op) in events {
        add(t, lane, op, &mut units);
    }
    Component {
        units,
        before: Vec::new(),
        keys: vec![format!("order:{index}")],
        initial_cache: vec![(CacheVal::Absent, None)],
        subjects: vec![format!("shop.orders id={index}")],
        initial_db: vec![DbVal::Known(0)],
        cache_values: 2,
        db_values: 2,
        agree: vec![true, false, false, true],
        reads,
        approximate: false,
    }
}

/// One hot key: `units / 4` cache-aside rounds 3 ms apart (SET of the row, commit, DEL, GET),
/// one component — the general (over 64 units) path, sampled.
fn hot(units: u32) -> Component {
    let rounds = units / 4;
    let mut c = Component {
        units: Vec::new(),
        before: Vec::new(),
        keys: vec!["order:42".into()],
        initial_cache: vec![(CacheVal::Absent, None)],
        subjects: vec!["shop.orders id=42".into()],
        initial_db: vec![DbVal::Known(0)],
        cache_values: rounds + 1,
        db_values: rounds + 1,
        agree: (0..(rounds + 1) * (rounds + 1))
            .map(|i| i / (rounds + 1) == i % (rounds + 1))
            .collect(),
        reads: Vec::new(),
        approximate: false,
    };
    for i in 0..rounds {
        let base = i as Us * 3_000;
        let ops = [
            (
                base,
                Lane::Client(0),
                Op::Set { key: 0, value: CacheVal::Known(i), expires_at: None },
            ),
            (base + 700, Lane::Db(0), Op::Commit { subject: 0, value: DbVal::Known(i + 1) }),
            (base + 1_900, Lane::Client(1), Op::Del { key: 0 }),
            (base + 2_600, Lane::Client(2), Op::Read { key: 0, subject: 0, read: i }),
        ];
        for (t_us, lane, op) in ops {
            let u = c.units.len() as u32;
            if let Op::Read { .. } = op {
                c.reads.push(ReadInfo { unit: u, seq: u as u64 });
            }
            c.units.push(Unit { seq: u as u64, last_seq: u as u64, t_us, lane, ops: vec![op] });
        }
    }
    c
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.first().map(String::as_str) == Some("hot") {
        let units: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
        let budget: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
        let c = hot(units);
        let options = ExploreOptions { window_us: 5_000, budget, seed: 1, jobs: 1 };
        let start = Instant::now();
        let out = explore_all(std::slice::from_ref(&c), &options, &|_, _| {});
        let secs = start.elapsed().as_secs_f64();
        println!(
            "hot {} units: {:?}, {} stale, {secs:.3} s",
            c.units.len(),
            out[0].coverage,
            out[0].found.len()
        );
        return;
    }
    let n: u32 = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let mut jobs: Vec<usize> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
    if jobs.is_empty() {
        jobs = vec![1, 2];
    }
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    let components: Vec<Component> = (0..n).map(|i| race(&mut rng, i)).collect();
    for j in jobs {
        let options = ExploreOptions { window_us: 5_000, budget: 10_000, seed: 1, jobs: j };
        let start = Instant::now();
        let outcomes = explore_all(&components, &options, &|_, _| {});
        let secs = start.elapsed().as_secs_f64();
        let schedules: u64 = outcomes
            .iter()
            .map(|o| match o.coverage {
                Coverage::Exhaustive { schedules } => schedules,
                Coverage::Sampled { tried, .. } => tried,
            })
            .sum();
        let found: usize = outcomes.iter().map(|o| o.found.len()).sum();
        println!("{j} {n} {schedules} {found} {secs:.3}");
    }
}
