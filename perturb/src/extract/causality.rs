/*!
Hard orders ([`Component::before`](crate::model::Component::before)):

- value causality: a `Set` of a value gets an edge from the commit (in trace order, before the
  write) whose row value agrees with it — the earliest such when several do (a status that
  returns to an earlier value may have been read before the later commits: the analyzer judges
  under every such source) —; none when the initial value agrees too. At most
  [`CAUSALITY_SCAN`] versions back are searched. When no version recorded so far agrees, the
  first commit recorded up to [`LATE_BINLOG_US`] after the write that produces the value is its
  source, as the analyzer takes it (a binlog event that late is a stalled stream, not a
  coincidence of values): its edge points back in recorded order, so every schedule puts that
  commit before the write.
- orders other parts of the trace force. With each lane's times in its order, a chain of program
  orders and window orders from `a` to `b` implies `t(a) + W < t(b)`: the window already keeps
  them. What it does not imply is a chain through value causality elsewhere: commit `a`, a later
  commit `x` of the same binlog (maybe of another row), a write `y` of `x`'s value on lane L,
  and `b` after `y` on L: `a` must precede `b` although they may be close in time. Each client
  unit carries, per binlog, the latest commit its lane's writes so far took their values from;
  a commit `a` gets an edge to every unit `b` of its component within W whose lane had taken a
  value of `a` or a later commit. **Approximation:** chains with several causality hops
  (`y` on L, a window to lane M, a write on M of a value…) whose time span stays within W are not
  derived, and pairs are looked for among each unit's [`FORCED_NEIGHBOURS`] nearest units in
  time only; so the explorer may try an order the real system could not produce (a possible
  stale read that is not possible), never miss one.
*/

use std::collections::HashMap;

use cachetape_analyzer::dbstate::{RowValue, SubjectId};
use cachetape_analyzer::mapping::ValueId;
use cachetape_analyzer::oracle::LATE_BINLOG_US;

use super::Extractor;
use super::unit::{GOp, GVal};
use crate::model::{Lane, Unit, Us};

/// How far back value causality looks for the commit that produced a written value.
pub const CAUSALITY_SCAN: usize = 64;
/// Units (nearest in time) each unit is checked against for orders forced elsewhere.
pub const FORCED_NEIGHBOURS: usize = 64;

/// A write of unit `unit` at `t` of `value`, which no version of its row recorded before it
/// agrees with: the commit that produced it may still arrive.
struct LateSource {
    unit: u32,
    t: Us,
    value: ValueId,
}

/// The writes waiting for a late commit, per row, in trace order. Those older than
/// [`LATE_BINLOG_US`] are dropped at the next commit of their row, and every row's at a sweep once
/// per [`LATE_BINLOG_US`] of trace time, so the waiting stays bounded by that window.
#[derive(Default)]
pub(super) struct LateSources {
    by_subject: HashMap<SubjectId, Vec<LateSource>>,
    sweep_at: Us,
}

impl Extractor {
    /// Adds to `after` (repeats and all) the commit unit whose value `op` (of unit `unit`, at `t`) writes, if it is
    /// a `Set` of a value some recent commit of its row produced; if no version of the row agrees
    /// yet, waits for a late commit that produces it.
    pub(super) fn value_source(&mut self, unit: u32, t: Us, op: GOp, after: &mut Vec<u32>) {
        let GOp::Set { key, value: GVal::Known(c), .. } = op else { return };
        let s = self.keys[key as usize].subject;
        let versions = &self.db.subjects[s.0 as usize].versions;
        let agrees = |v: RowValue| matches!(v, RowValue::Known(d) if self.values.agrees(c, d));
        // A value equal to several versions (a status back to PENDING) may come from any of
        // them: the write follows the earliest, as the analyzer's explanations allow.
        let mut scanned = versions.changes.iter().rev().take(CAUSALITY_SCAN);
        let agreeing = scanned.rfind(|v| agrees(v.value));
        if agreeing.is_some()
            && versions.changes.len() <= CAUSALITY_SCAN
            && agrees(versions.initial)
        {
            return;
        }
        if let Some(v) = agreeing {
            // Repeats are removed once the unit's ops are all in (`Extractor::unit`).
            if let Some(&cu) = self.commit_units.get(&v.seq) {
                after.push(cu);
            }
            return;
        }
        if agrees(versions.initial) {
            return;
        }
        let late = &mut self.late_sources;
        if t >= late.sweep_at {
            late.by_subject.retain(|_, ws| {
                ws.retain(|w| w.t + LATE_BINLOG_US >= t);
                !ws.is_empty()
            });
            late.sweep_at = t + LATE_BINLOG_US;
        }
        late.by_subject.entry(s).or_default().push(LateSource { unit, t, value: c });
    }

    /// A commit unit `commit` at `t` produced the current values of `subjects`: the writes of
    /// those rows waiting for it (at most [`LATE_BINLOG_US`] earlier) take it as their source.
    pub(super) fn late_value_sources(&mut self, commit: u32, t: Us, subjects: &[SubjectId]) {
        for &s in subjects {
            let Some(mut waiting) = self.late_sources.by_subject.remove(&s) else { continue };
            let versions = &self.db.subjects[s.0 as usize].versions;
            // The row's value before the trace's first change is known only once it changed.
            let agrees = |v: RowValue, w: &LateSource| matches!(v, RowValue::Known(d) if self.values.agrees(w.value, d));
            let units = &mut self.units;
            waiting.retain(|w| {
                if w.t + LATE_BINLOG_US < t {
                    return false;
                }
                if !agrees(versions.current(), w) || agrees(versions.initial, w) {
                    return true;
                }
                let after = &mut units[w.unit as usize].after;
                if !after.contains(&commit) {
                    after.push(commit);
                }
                false
            });
            if !waiting.is_empty() {
                self.late_sources.by_subject.insert(s, waiting);
            }
        }
    }

    /// A client unit on `lane` whose values come from the commits `after`: the lane's latest
    /// binlog position per DB source so far, as a range of `caus`.
    pub(super) fn lane_causality(&mut self, lane: Lane, after: &[u32]) -> (u32, u32) {
        let (start, len) = self.lanes.get(&lane).copied().unwrap_or((0, 0));
        let mut current: Vec<(u16, u64)> =
            self.caus[start as usize..(start + len) as usize].to_vec();
        let mut changed = false;
        for &a in after {
            if let Some((src, pos)) = self.units[a as usize].binlog {
                match current.iter_mut().find(|c| c.0 == src) {
                    Some(c) if c.1 >= pos => {}
                    Some(c) => {
                        c.1 = pos;
                        changed = true;
                    }
                    None => {
                        current.push((src, pos));
                        changed = true;
                    }
                }
            }
        }
        if changed {
            let at = (self.caus.len() as u32, current.len() as u32);
            self.caus.extend(current);
            self.lanes.insert(lane, at);
        }
        self.lanes.get(&lane).copied().unwrap_or((0, 0))
    }

    /// Orders other lanes force between units of one component (see the module doc).
    pub(super) fn forced_orders(
        &self,
        members: &[u32],
        units: &[Unit],
        before: &mut Vec<(u32, u32)>,
    ) {
        let w = self.options.window_us;
        let mut by_time: Vec<u32> = (0..units.len() as u32).collect();
        by_time.sort_by_key(|&i| (units[i as usize].t_us, i));
        for (p, &i) in by_time.iter().enumerate() {
            let ti = units[i as usize].t_us;
            for &j in by_time[p + 1..].iter().take(FORCED_NEIGHBOURS) {
                let tj = units[j as usize].t_us;
                if tj.saturating_sub(ti) > w {
                    break;
                }
                let (a, b) = if i < j { (i, j) } else { (j, i) };
                let (ua, ub) = (&units[a as usize], &units[b as usize]);
                if ua.lane == ub.lane
                    || matches!(ua.lane, Lane::Probe(_))
                    || matches!(ub.lane, Lane::Probe(_))
                {
                    continue;
                }
                let ra = &self.units[members[a as usize] as usize];
                let rb = &self.units[members[b as usize] as usize];
                if let Some((src, pos)) = ra.binlog
                    && self.caus[rb.caus.0 as usize..(rb.caus.0 + rb.caus.1) as usize]
                        .iter()
                        .any(|&(s, p)| s == src && p >= pos)
                {
                    before.push((a, b));
                }
            }
        }
    }
}
