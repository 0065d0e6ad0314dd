/*!
Components: the groups of the union-find over keys and rows, each cut at its **quiet gaps**.

Where every unit before a cut is more than W before every unit after it, every schedule runs the
part before entirely before the part after, so the parts are explored apart (a key's whole
history is one group, and would be one enormous search). A part starts from the state the
recorded order leaves (what each key holds and which write put it there, what each row holds) —
exact when the last writes of every key before the cut cannot change places with a different
outcome. When they can (a SETEX and a DEL racing just before a quiet gap), the racing writes,
everything not only a read after the earliest of them, and the last commit before them are
**carried** into the next part (their reads are judged in their own part), so that part sees
every outcome of the race; at most [`MAX_CARRIED`] units are carried (beyond, the recorded
outcome is taken and a note says so). A value already stale at the cut is carried the same way
— the write that cached it, and its row's commits from the last one before that write (with
what the row held before them) — so that a later read of it is told as the stale set or late
invalidation it is, with its age, not as a value matching nothing. A part with nothing carried
into it that commits nothing, and whose read keys only ever hold values agreeing with their rows
(or rows the trace never shows), is clean in every order: it is counted
([`Extraction::quiet`]) and not built. Parts without a judged read are dropped (nothing in them
can be stale).
*/

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use cachetape_analyzer::dbstate::{RowValue, SubjectId};

use super::unit::{Boundary, GOp, GVal};
use super::{ComponentInfo, Extraction, Extractor, MAX_CARRIED};
use crate::model::{Component, Us};

/// What a unit leaves a key holding — its value and expiry — or `None` when that depends on what
/// the key held (an expiry change) or the unit does not write it.
type Effect = Option<(GVal, Option<Us>)>;

/// Units with more ops than this have their effects indexed by key on first need.
const FEW_OPS: usize = 8;

/// Each many-op unit's effect per key, computed in one pass over its ops on first need: a
/// 50,000-key MSET is read once, not once for each of its keys.
#[derive(Default)]
struct Effects(HashMap<u32, HashMap<u32, Effect>>);

/// A component built, with the anchor of its first own unit (for trace order).
pub(super) type Built = (u64, Component, ComponentInfo);

/// The walk over one group's segments: what the next part starts from and carries.
#[derive(Default)]
struct Walk {
    /// The state before `members[carry_from]`, where the carried units begin.
    start: Boundary,
    /// The state after the segments walked.
    end: Boundary,
    /// Where the units carried into the next part begin.
    carry_from: usize,
    /// Each key's writes (positions in the members).
    writes: HashMap<u32, Vec<usize>>,
    /// Each row's commits (positions).
    commits: HashMap<SubjectId, Vec<usize>>,
    /// Commits from before `carry_from` that a stale value's story needs, and what their rows
    /// held before them.
    pinned: Vec<usize>,
    pinned_db: HashMap<SubjectId, RowValue>,
}

impl Extractor {
    /// The groups of units the union-find tied together, each in unit order, the groups in
    /// order of their first unit.
    pub(super) fn groups(&mut self) -> Vec<Vec<u32>> {
        let mut groups: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut order: Vec<u32> = Vec::new();
        for u in 0..self.units.len() as u32 {
            // Also names the rows no key mapped: the commits' texts need every name.
            let node = self.op_node(self.units[u as usize].ops[0]);
            let root = self.nodes.find(node);
            let g = groups.entry(root).or_default();
            if g.is_empty() {
                order.push(root);
            }
            g.push(u);
        }
        order.into_iter().map(|root| groups.remove(&root).unwrap_or_default()).collect()
    }

    /// Cuts one group at its quiet gaps and builds its parts into `built`.
    pub(super) fn cut(&self, mut members: Vec<u32>, out: &mut Extraction, built: &mut Vec<Built>) {
        if !members.iter().any(|&u| self.units[u as usize].reads()) {
            out.dropped += 1;
            return;
        }
        members.sort_by_key(|&u| (self.units[u as usize].anchor, u));
        let position: HashMap<u32, usize> =
            members.iter().enumerate().map(|(i, &u)| (u, i)).collect();
        let mut walk = Walk::default();
        let mut effects = Effects::default();
        for segment in self.segments(&members) {
            if members[segment.clone()].iter().any(|&u| self.units[u as usize].reads()) {
                built.extend(self.part(&members, segment.clone(), &walk, out));
            } else {
                out.dropped += 1;
            }
            self.record(&members, segment.clone(), &mut walk);
            let mut next = segment.end;
            for (&key, list) in &walk.writes {
                if let Some(first) = self.unsettled_from(&members, key, list, &mut effects) {
                    next = next.min(first);
                }
            }
            // A value already stale when the part ends: carry the write that cached it (and,
            // below, the commit before it), so that the next part can tell how it came to be
            // stale (a stale set, a late or missing invalidation).
            self.advance(&members[segment.clone()], &mut walk.end);
            let stale_rows = self.stale_values(&walk.end, &position);
            for &(_, p) in &stale_rows {
                next = next.min(p);
            }
            if next < segment.end {
                // And the last commit before the race: what a value written in it may have been
                // superseded by (its cause and age need it).
                let commit = (walk.carry_from..next).rev().find(|&i| {
                    self.units[members[i] as usize]
                        .ops
                        .iter()
                        .any(|o| matches!(o, GOp::Commit { .. }))
                });
                if let Some(i) = commit {
                    next = i;
                }
            }
            if segment.end - next > MAX_CARRIED {
                out.carry_cut += 1;
                next = segment.end - MAX_CARRIED;
            }
            let next = next.max(walk.carry_from);
            self.pin(&members, &stale_rows, next, &mut walk, out);
            self.advance(&members[walk.carry_from..next], &mut walk.start);
            walk.carry_from = next;
        }
    }

    /// The part of `members[segment]`, with what is carried into it, built — or `None` when it
    /// is quiet (counted).
    fn part(
        &self,
        members: &[u32],
        segment: Range<usize>,
        walk: &Walk,
        out: &mut Extraction,
    ) -> Option<Built> {
        let only_reads =
            |u: u32| self.units[u as usize].ops.iter().all(|o| matches!(o, GOp::Read { .. }));
        let mut part: Vec<u32> = walk.pinned.iter().map(|&i| members[i]).collect();
        part.extend(
            members[walk.carry_from..segment.start].iter().copied().filter(|&u| !only_reads(u)),
        );
        let carried = part.len();
        part.extend_from_slice(&members[segment.clone()]);
        let mut from = walk.start.clone();
        from.db.extend(walk.pinned_db.iter().map(|(&s, &v)| (s, v)));
        if carried == 0 && self.quiet(&part, &from) {
            out.quiet += 1;
            return None;
        }
        let (c, info) = self.component(&part, carried, &from);
        let anchor = self.units[members[segment.start] as usize].anchor;
        Some((anchor, c, info))
    }

    /// Notes the writes and commits of `members[segment]` in `walk`.
    fn record(&self, members: &[u32], segment: Range<usize>, walk: &mut Walk) {
        for i in segment {
            for op in &self.units[members[i] as usize].ops {
                let list = match *op {
                    GOp::Set { key, .. } | GOp::Del { key } | GOp::Expire { key, .. } => {
                        walk.writes.entry(key).or_default()
                    }
                    GOp::Commit { subject, .. } => walk.commits.entry(subject).or_default(),
                    GOp::Read { .. } => continue,
                };
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
    }

    /// The keys holding a value their row no longer agrees with in `end`: their rows and the
    /// positions of the writes that cached them, sorted.
    fn stale_values(
        &self,
        end: &Boundary,
        position: &HashMap<u32, usize>,
    ) -> Vec<(SubjectId, usize)> {
        let mut stale_rows = Vec::new();
        for (&key, &(value, _)) in &end.cache {
            let GVal::Known(c) = value else { continue };
            let subject = self.keys[key as usize].subject;
            let db = end
                .db
                .get(&subject)
                .copied()
                .unwrap_or_else(|| self.db.subjects[subject.0 as usize].versions.initial);
            let stale = match db {
                RowValue::Known(d) => !self.values.agrees(c, d),
                RowValue::Absent => true,
                RowValue::Unknown => false,
            };
            if stale && let Some(p) = end.origin.get(&key).and_then(|u| position.get(u)) {
                stale_rows.push((subject, *p));
            }
        }
        stale_rows.sort_unstable();
        stale_rows
    }

    /// Pins the commits of a stale value's row from the last one before its write, when they
    /// come before what is carried (`next`), with what the row held before them.
    fn pin(
        &self,
        members: &[u32],
        stale_rows: &[(SubjectId, usize)],
        next: usize,
        walk: &mut Walk,
        out: &mut Extraction,
    ) {
        let mut pins: Vec<usize> = Vec::new();
        let mut pins_db: HashMap<SubjectId, RowValue> = HashMap::new();
        for &(subject, write) in stale_rows {
            let list = walk.commits.get(&subject).map_or(&[][..], Vec::as_slice);
            let Some(q) = list.iter().rev().find(|&&i| i < write).copied() else { continue };
            if q >= next {
                continue;
            }
            let from: Vec<usize> = list.iter().copied().filter(|&i| i >= q && i < next).collect();
            // A pinned transaction replays every row it wrote. When it also wrote a row that a
            // later commit before `next` changed again, replaying it would roll that row back
            // (a multi-row setup transaction, then single-row updates): the part starts from
            // the state at its start instead, and the stale value's story goes without it.
            let rolls_back = from.iter().any(|&i| {
                self.units[members[i] as usize].ops.iter().any(|o| match *o {
                    GOp::Commit { subject: other, .. } if other != subject => {
                        walk.commits.get(&other).is_some_and(|l| {
                            l.iter().any(|&j| j > i && j < next && !from.contains(&j))
                        })
                    }
                    _ => false,
                })
            });
            if rolls_back {
                out.pin_rollbacks += 1;
                continue;
            }
            if from.len() > MAX_CARRIED {
                out.carry_cut += 1;
                continue;
            }
            let seq = self.units[members[q] as usize].seq;
            let versions = &self.db.subjects[subject.0 as usize].versions;
            if let Some(v) = versions.changes.iter().position(|c| c.seq == seq) {
                pins_db.insert(subject, versions.value(v));
                pins.extend(from);
            }
        }
        pins.sort_unstable();
        pins.dedup();
        walk.pinned = pins;
        walk.pinned_db = pins_db;
    }

    /// True when no order of `part` (nothing carried into it) can serve a read stale: it commits
    /// nothing, and every value its read keys hold or are given agrees with their rows (or the
    /// rows are unknown: the reads are unverifiable). Such parts are not explored.
    fn quiet(&self, part: &[u32], from: &Boundary) -> bool {
        let agrees = |key: u32, v: GVal| {
            let subject = self.keys[key as usize].subject;
            let db = from
                .db
                .get(&subject)
                .copied()
                .unwrap_or_else(|| self.db.subjects[subject.0 as usize].versions.initial);
            match (v, db) {
                (_, RowValue::Unknown) | (GVal::Absent | GVal::Unknown, _) => true,
                (GVal::Known(c), RowValue::Known(d)) => self.values.agrees(c, d),
                (GVal::Known(_), RowValue::Absent) | (GVal::Unreconciled, _) => false,
            }
        };
        // One pass over the ops: the keys read, and the keys given a value their row disagrees
        // with (sets, not a scan per read key: a part can read and write 100,000 keys).
        let mut read_keys: Vec<u32> = Vec::new();
        let mut seen: HashSet<u32> = HashSet::new();
        let mut disagrees: HashSet<u32> = HashSet::new();
        for &u in part {
            for op in &self.units[u as usize].ops {
                match *op {
                    GOp::Commit { .. } => return false,
                    GOp::Read { key, .. } if seen.insert(key) => read_keys.push(key),
                    GOp::Set { key, value, .. } if !agrees(key, value) => {
                        disagrees.insert(key);
                    }
                    _ => {}
                }
            }
        }
        read_keys.iter().all(|&k| {
            let initial = from.cache.get(&k).map_or(self.keys[k as usize].initial, |c| c.0);
            agrees(k, initial) && !disagrees.contains(&k)
        })
    }

    /// Cuts a component's units (in trace order) at quiet gaps: every unit before the cut
    /// precedes every unit after it in every schedule (`t(a) + W < t(b)` for all such pairs).
    fn segments(&self, members: &[u32]) -> Vec<Range<usize>> {
        let w = self.options.window_us;
        let n = members.len();
        let t = |i: usize| self.units[members[i] as usize].t;
        let mut suffix_min = vec![Us::MAX; n + 1];
        for i in (0..n).rev() {
            suffix_min[i] = suffix_min[i + 1].min(t(i));
        }
        let mut out = Vec::new();
        let (mut start, mut max_t) = (0, Us::MIN);
        for (j, &after) in suffix_min.iter().enumerate().take(n).skip(1) {
            max_t = max_t.max(t(j - 1));
            if max_t.saturating_add(w) < after {
                out.push(start..j);
                start = j;
            }
        }
        out.push(start..n);
        out
    }

    /// For one key's writes so far (positions in `members`, in trace order): the position of
    /// the earliest write that may come last in some schedule, when those that may come last do
    /// not all leave the same value (expiries within W); `None` when the key's state after
    /// them is the same in every schedule. Writes more than 2W before the recorded last one are
    /// not looked at.
    fn unsettled_from(
        &self,
        members: &[u32],
        key: u32,
        writes: &[usize],
        effects: &mut Effects,
    ) -> Option<usize> {
        let w = self.options.window_us;
        let unit = |i: usize| &self.units[members[i] as usize];
        let last_t = writes.iter().map(|&i| unit(i).t).max()?;
        let recent: Vec<usize> = writes
            .iter()
            .rev()
            .copied()
            .take_while(|&i| unit(i).t.saturating_add(2 * w) >= last_t)
            .collect();
        let forced = |a: usize, b: usize| {
            let (ua, ub) = (unit(a), unit(b));
            (ua.lane == ub.lane && a < b)
                || ua.t.saturating_add(w) < ub.t
                || ub.after.contains(&members[a])
        };
        let candidates: Vec<usize> = recent
            .iter()
            .copied()
            .filter(|&a| !recent.iter().any(|&b| b != a && forced(a, b)))
            .collect();
        let mut effect = |i: usize| self.effect(members[i], key, effects);
        let first = effect(*candidates.first()?);
        let same = first.is_some()
            && candidates.iter().all(|&c| match (effect(c), first) {
                (Some((v, x)), Some((value, expires))) => {
                    v == value
                        && match (x, expires) {
                            (None, None) => true,
                            (Some(a), Some(b)) => (a - b).abs() <= w,
                            _ => false,
                        }
                }
                _ => false,
            });
        if same { None } else { candidates.iter().copied().min() }
    }

    /// What `unit` leaves `key` holding (its last write of it decides).
    fn effect(&self, unit: u32, key: u32, effects: &mut Effects) -> Effect {
        let ops = &self.units[unit as usize].ops;
        let fold = |ops: &mut dyn Iterator<Item = &GOp>| {
            let mut e = None;
            for op in ops {
                match *op {
                    GOp::Set { value, expires_at, .. } => e = Some((value, expires_at)),
                    GOp::Del { .. } => e = Some((GVal::Absent, None)),
                    // Depends on what the key held.
                    GOp::Expire { .. } => e = None,
                    GOp::Read { .. } | GOp::Commit { .. } => {}
                }
            }
            e
        };
        if ops.len() <= FEW_OPS {
            return fold(&mut ops.iter().filter(|op| op.key() == Some(key)));
        }
        let index = effects.0.entry(unit).or_insert_with(|| {
            let mut by_key: HashMap<u32, Effect> = HashMap::new();
            for op in ops {
                if let Some(k) = op.key()
                    && !matches!(op, GOp::Read { .. })
                {
                    // The last write of the key decides, as in `fold`.
                    by_key.insert(k, fold(&mut std::iter::once(op)));
                }
            }
            by_key
        });
        index.get(&key).copied().flatten()
    }

    /// The state after `part` (in trace order) from `state`.
    fn advance(&self, part: &[u32], state: &mut Boundary) {
        for &u in part {
            for op in &self.units[u as usize].ops {
                match *op {
                    GOp::Set { key, value, expires_at } => {
                        state.cache.insert(key, (value, expires_at));
                        state.origin.insert(key, u);
                    }
                    GOp::Del { key } => {
                        state.cache.insert(key, (GVal::Absent, None));
                        state.origin.remove(&key);
                    }
                    GOp::Expire { key, expires_at } => {
                        let initial = self.keys[key as usize].initial;
                        let entry = state.cache.entry(key).or_insert((initial, None));
                        if !matches!(entry.0, GVal::Absent) {
                            entry.1 = expires_at;
                        }
                    }
                    GOp::Commit { subject, value } => {
                        state.db.insert(subject, value);
                    }
                    GOp::Read { .. } => {}
                }
            }
        }
    }
}
