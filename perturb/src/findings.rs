/*!
Each stale read's reported schedule: the fewest-inversion schedule the search kept for it, made
plain as moves (which unit ran ahead of which, by how much), with the cause, age and chain
computed on that schedule itself (a `Set` and a `Commit` commute for what a read is served, but
not for the cause, so the schedule matters).

Where the search was not exact (sampled, or over 64 units), a read's schedule comes from
whatever class served it stale and may invert pairs that do not matter to it. It is then
*repaired*: keep only the orders that decide the read (the write of the served value before it,
the last commit of its row before it, every other write and commit before those or after the
read — first on the side its recorded position suggests, trying the writes and commits near the
read as anchors), take the least schedule under them, and keep it if it still serves the read
stale with fewer inversions. Such findings are good, not proven minimal; their margins are upper
bounds.
*/

use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use crate::closest::measure;
use crate::eval::{self, Judged, ReadOutcome, Walked};
use crate::model::{Found, Move, Us};
use crate::space::{self, Space};

/// Units the repairs of one component's schedules may walk in all (see [`repair_all`]).
const REPAIR_STEPS: u64 = 1 << 26;

/// A read's reported schedule and margin.
pub(crate) type Pick = (Rc<[u32]>, Us);

/// The findings of a component's search: per read index, the schedule kept for it and its
/// margin (`None`: never stale); `exact` when every class was seen and every closest schedule
/// is exact (exhaustive, at most 64 units), else the schedules are repaired first.
pub(crate) fn report(space: &Space, mut chosen: Vec<Option<Pick>>, exact: bool) -> Vec<Found> {
    let c = space.c;
    let n = space.n;
    let recorded: Vec<u32> = (0..n as u32).collect();
    let stale_as_recorded: HashSet<u32> = eval::evaluate(c, &recorded)
        .into_iter()
        .filter(|r| r.judged == Judged::Stale)
        .map(|r| r.read)
        .collect();
    // Where the search was not exact (sampled, or over 64 units), a read's schedule may
    // carry inversions that do not matter to it: repair it first.
    if !exact {
        repair_all(space, &mut chosen);
    }
    // Each distinct reported schedule walked and indexed once.
    let mut walked: BTreeMap<&[u32], (Vec<ReadOutcome>, Walked)> = BTreeMap::new();
    let mut found = Vec::new();
    for (read, pick) in chosen.iter().enumerate() {
        let Some((schedule, margin)) = pick else { continue };
        let (outcomes, index) = walked.entry(&schedule[..]).or_insert_with(|| {
            let mut outcomes = eval::evaluate(c, schedule);
            outcomes.sort_by_key(|o| o.read);
            (outcomes, Walked::new(c, schedule))
        });
        let Ok(at) = outcomes.binary_search_by_key(&(read as u32), |o| o.read) else {
            continue;
        };
        let outcome = &outcomes[at];
        if outcome.judged != Judged::Stale {
            debug_assert!(false, "read {read} not stale in its reported schedule");
            continue;
        }
        let explained = eval::cause(c, index, outcome);
        found.push(Found {
            read: read as u32,
            cause: explained.cause,
            served: outcome.served,
            db: outcome.db,
            age_us: explained.age_us,
            chain: explained.chain,
            moves: moves(&space.t, schedule),
            schedule: schedule.to_vec(),
            margin_us: (*margin).max(0),
            as_recorded: stale_as_recorded.contains(&(read as u32)),
        });
    }
    found
}

/// Replaces each read's schedule by a closer one that serves it alike, when there is one.
fn repair_all(space: &Space, chosen: &mut [Option<Pick>]) {
    let c = space.c;
    let mut outcomes: BTreeMap<*const u32, (Vec<ReadOutcome>, u32)> = BTreeMap::new();
    // A repair walks the component a few times: bound the total (reads past the bound keep
    // the schedule the search found).
    let mut steps = 0u64;
    for (read, pick) in chosen.iter_mut().enumerate() {
        let Some((schedule, margin)) = pick else { continue };
        if steps > REPAIR_STEPS {
            break;
        }
        let (list, found_inv) = outcomes.entry(schedule.as_ptr()).or_insert_with(|| {
            let mut o = eval::evaluate(c, schedule);
            o.sort_by_key(|o| o.read);
            (o, measure(&space.t, schedule).0)
        });
        let found_inv = *found_inv;
        let Ok(at) = list.binary_search_by_key(&(read as u32), |o| o.read) else { continue };
        let outcome = list[at];
        let repaired = repair(space, schedule, &outcome, &mut steps);
        let stale = eval::evaluate(c, &repaired)
            .iter()
            .any(|o| o.read == read as u32 && o.judged == Judged::Stale);
        let (inv, shift) = measure(&space.t, &repaired);
        if stale && (inv, &repaired[..]) < (found_inv, &schedule[..]) {
            *schedule = Rc::from(repaired);
            *margin = (*margin).min(shift);
        }
    }
}

/// The lexicographically least allowed schedule that keeps, from `schedule`, only the
/// orders that decide what `read` is served and judged against: the unit that wrote the
/// served value before the read, every other write of the key before that unit or after
/// the read as in `schedule` (an `Expire` between them stays between them); likewise the
/// last commit of the row before the read and the other commits of the row.
///
/// Each other write (commit) goes first on the side its recorded position suggests (after
/// the read if recorded after the anchor, else before the anchor); if that admits no
/// schedule serving the read stale, on the side `schedule` put it.
fn repair(space: &Space, schedule: &[u32], read: &ReadOutcome, steps: &mut u64) -> Vec<u32> {
    use crate::model::Op;
    let c = space.c;
    let r = read.unit;
    let at_read = schedule.iter().position(|&u| u == r).unwrap_or(0);
    let writes_key = |u: u32| {
        c.units[u as usize]
            .ops
            .iter()
            .any(|op| matches!(*op, Op::Set { key, .. } if key == read.key))
    };
    let commits_row = |u: u32| {
        c.units[u as usize]
            .ops
            .iter()
            .any(|op| matches!(*op, Op::Commit { subject, .. } if subject == read.subject))
    };
    // The anchors the found schedule has, then the other writes and commits near the read.
    let found_writer = (read.writer != space::NONE).then_some(read.writer);
    let found_commit = schedule[..at_read].iter().rev().copied().find(|&u| commits_row(u));
    let mut writers = vec![found_writer];
    let mut commits = vec![found_commit];
    for &u in space.around(r) {
        if u != r && writes_key(u) && Some(u) != found_writer {
            writers.push(Some(u));
        }
        if u != r && commits_row(u) && Some(u) != found_commit {
            commits.push(Some(u));
        }
    }
    let mut best: Option<(u32, Vec<u32>)> = None;
    for &w in &writers {
        for &k in &commits {
            for recorded_sides in [true, false] {
                *steps += 3 * space.n as u64;
                if *steps > REPAIR_STEPS && best.is_some() {
                    break;
                }
                let Some(s) = repair_with(space, schedule, read, w, k, recorded_sides) else {
                    continue;
                };
                let stale = eval::evaluate(c, &s)
                    .iter()
                    .any(|o| o.read == read.read && o.judged == Judged::Stale);
                if !stale {
                    continue;
                }
                let inv = measure(&space.t, &s).0;
                if best.as_ref().is_none_or(|(bi, bs)| (inv, &s) < (*bi, bs)) {
                    best = Some((inv, s));
                }
            }
        }
    }
    best.map_or_else(|| schedule.to_vec(), |(_, s)| s)
}

fn repair_with(
    space: &Space,
    schedule: &[u32],
    read: &ReadOutcome,
    writer: Option<u32>,
    last_commit: Option<u32>,
    recorded_sides: bool,
) -> Option<Vec<u32>> {
    use crate::model::Op;
    let c = space.c;
    let n = space.n;
    let mut pos = vec![0u32; n];
    for (p, &u) in schedule.iter().enumerate() {
        pos[u as usize] = p as u32;
    }
    let r = read.unit;
    let at = |u: u32| pos[u as usize];
    let mut extra: Vec<Vec<u32>> = vec![Vec::new(); n];
    for anchor in [writer, last_commit].into_iter().flatten() {
        if anchor != r {
            extra[r as usize].push(anchor);
        }
    }
    for &u in schedule {
        if u == r {
            continue;
        }
        let ops = &c.units[u as usize].ops;
        let writes = ops.iter().any(|op| match *op {
            Op::Set { key, .. } | Op::Del { key } => key == read.key,
            _ => false,
        });
        let expires = ops.iter().any(|op| matches!(*op, Op::Expire { key, .. } if key == read.key));
        let commits = ops
            .iter()
            .any(|op| matches!(*op, Op::Commit { subject, .. } if subject == read.subject));
        for (touches, anchor) in [(writes || expires, writer), (commits, last_commit)] {
            if !touches || Some(u) == anchor {
                continue;
            }
            // Which side of the (anchor, read) pair `u` goes: after the read, before the
            // anchor, or (None) between them.
            let after = if recorded_sides {
                Some(anchor.is_none_or(|a| u > a))
            } else if at(u) > at(r) {
                Some(true)
            } else if anchor.is_some_and(|a| at(u) < at(a)) {
                Some(false)
            } else {
                None
            };
            match (after, anchor) {
                (Some(true), _) => extra[u as usize].push(r),
                (Some(false), Some(a)) => extra[a as usize].push(u),
                (Some(false), None) => return None,
                (None, _) => {
                    // Only an Expire of the served value may sit between the two.
                    if writes || commits {
                        return None;
                    }
                    if let Some(a) = anchor {
                        extra[u as usize].push(a);
                    }
                    extra[r as usize].push(u);
                }
            }
        }
    }
    let mut scheduled = vec![false; n];
    let mut out = Vec::with_capacity(n);
    let mut ready = Vec::new();
    let mut lo = 0;
    while out.len() < n {
        lo = space.advance(&scheduled, lo);
        ready.clear();
        space.ready(&scheduled, lo, &mut ready);
        let next = ready
            .iter()
            .copied()
            .filter(|&u| extra[u as usize].iter().all(|&p| scheduled[p as usize]))
            .min();
        // None: the chosen sides contradict the constraints.
        let u = next?;
        scheduled[u as usize] = true;
        out.push(u);
    }
    Some(out)
}

/// Every inverted pair of `schedule`, by the moved unit's position, then the passed unit's.
pub(crate) fn moves(t: &[Us], schedule: &[u32]) -> Vec<Move> {
    let n = schedule.len();
    let mut tree = vec![0u32; n + 1];
    let mut out = Vec::new();
    for (p, &u) in schedule.iter().enumerate() {
        let ui = u as usize;
        let (mut i, mut placed_below) = (ui, 0u32);
        while i > 0 {
            placed_below += tree[i];
            i &= i - 1;
        }
        let mut jump = ui as u32 - placed_below.min(ui as u32);
        // The units it passes are the `jump` earlier-recorded units scheduled after it.
        let mut q = p + 1;
        while jump > 0 && q < n {
            let v = schedule[q];
            if v < u {
                out.push(Move { moved: u, past: v, shift_us: t[ui].saturating_sub(t[v as usize]) });
                jump -= 1;
            }
            q += 1;
        }
        let mut i = ui + 1;
        while i <= n {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    out
}
