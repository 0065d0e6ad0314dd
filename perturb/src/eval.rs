/*!
Evaluating a schedule: the cache and the database walked in schedule order, every read judged
(DESIGN "Stale reads"), and the cause of a stale read named.

[`State`] is incremental — a unit is applied when the search appends it and undone when it
backtracks — so a class of schedules costs one step per unit, not one walk per schedule.
[`evaluate`] walks one whole schedule and keeps what a finding needs (the writer of each served
value; [`cause`] then reads the schedule around it).

The rules:
- `Set` replaces the key's value and expiry; `Del` makes it absent; `Expire` changes the expiry
  only if the key holds a value (not absent, not expired at the `Expire`'s own time); `Commit`
  sets the subject's DB value.
- A read is judged at its unit's own time: a value whose expiry is at or before it is absent.
  A miss is fine; an `Unknown` cache value, an `Unreconciled` one (the mapping could not decode
  or compare it) or an unknown DB value is not judged — unverifiable, as the analyzer has it,
  never a stale "unexplained" read; `Known(c)` is stale against `Known(d)` iff `c` does not
  agree with `d`, and always against an absent row.
*/

use crate::model::{CacheVal, Component, DbVal, Op, Us};
use crate::space::NONE;
use cachetape_analyzer::oracle::Cause;

/// What a key holds during a walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    /// The value.
    pub val: CacheVal,
    /// When it expires, µs.
    pub exp: Option<Us>,
    /// The unit whose op put the value there, or [`NONE`] (the initial cache).
    pub writer: u32,
}

#[derive(Clone, Copy, Debug)]
enum Undo {
    Cache(u16, Slot),
    Db(u16, DbVal),
}

/// A read's judgement in one schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Judged {
    /// Served nothing, or served what the DB holds.
    Fine,
    /// The cache or the DB state is unknown, or the value could not be compared.
    Unjudged,
    /// Served a value the DB does not hold.
    Stale,
}

/// The value a slot serves at time `t`.
#[inline]
pub(crate) fn served(slot: &Slot, t: Us) -> CacheVal {
    match slot.exp {
        Some(e) if e <= t => CacheVal::Absent,
        _ => slot.val,
    }
}

/// Judges serving `val` against DB value `db`.
#[inline]
pub(crate) fn judge(c: &Component, val: CacheVal, db: DbVal) -> Judged {
    match (val, db) {
        (CacheVal::Absent, _) => Judged::Fine,
        (CacheVal::Unknown | CacheVal::Unreconciled, _) | (_, DbVal::Unknown) => Judged::Unjudged,
        (CacheVal::Known(_), DbVal::Absent) => Judged::Stale,
        (CacheVal::Known(v), DbVal::Known(d)) => {
            if c.agrees(v, d) {
                Judged::Fine
            } else {
                Judged::Stale
            }
        }
    }
}

/// The cache and DB state along a schedule prefix, with an undo log.
pub(crate) struct State {
    cache: Vec<Slot>,
    db: Vec<DbVal>,
    undo: Vec<Undo>,
    /// Reads stale in the current prefix, in schedule order.
    pub stale: Vec<u32>,
    marks: Vec<(u32, u32)>,
}

impl State {
    /// The state before any unit of `c`.
    pub fn new(c: &Component) -> State {
        let keys = c.keys.len().max(max_key(c));
        let subjects = c.subjects.len().max(max_subject(c));
        let mut cache = vec![Slot { val: CacheVal::Absent, exp: None, writer: NONE }; keys];
        for (slot, &(val, exp)) in cache.iter_mut().zip(&c.initial_cache) {
            slot.val = val;
            slot.exp = exp;
        }
        let mut db = vec![DbVal::Unknown; subjects];
        for (d, &v) in db.iter_mut().zip(&c.initial_db) {
            *d = v;
        }
        State { cache, db, undo: Vec::new(), stale: Vec::new(), marks: Vec::new() }
    }

    /// Applies unit `u` of `c`, judging its reads (stale ones are pushed on `stale`).
    #[inline]
    pub fn push(&mut self, c: &Component, u: u32) {
        self.marks.push((self.undo.len() as u32, self.stale.len() as u32));
        let unit = &c.units[u as usize];
        let t = unit.t_us;
        for op in &unit.ops {
            match *op {
                Op::Read { key, subject, read } => {
                    let val = served(&self.cache[key as usize], t);
                    if judge(c, val, self.db[subject as usize]) == Judged::Stale {
                        self.stale.push(read);
                    }
                }
                Op::Set { key, value, expires_at } => {
                    let slot = &mut self.cache[key as usize];
                    self.undo.push(Undo::Cache(key, *slot));
                    *slot = Slot { val: value, exp: expires_at, writer: u };
                }
                Op::Del { key } => {
                    let slot = &mut self.cache[key as usize];
                    self.undo.push(Undo::Cache(key, *slot));
                    *slot = Slot { val: CacheVal::Absent, exp: None, writer: u };
                }
                Op::Expire { key, expires_at } => {
                    let slot = &mut self.cache[key as usize];
                    if served(slot, t) != CacheVal::Absent {
                        self.undo.push(Undo::Cache(key, *slot));
                        slot.exp = expires_at;
                    }
                }
                Op::Commit { subject, value } => {
                    let d = &mut self.db[subject as usize];
                    self.undo.push(Undo::Db(subject, *d));
                    *d = value;
                }
            }
        }
    }

    /// Undoes the last [`State::push`].
    #[inline]
    pub fn pop(&mut self) {
        let Some((undo, stale)) = self.marks.pop() else { return };
        while self.undo.len() > undo as usize {
            match self.undo.pop() {
                Some(Undo::Cache(k, s)) => self.cache[k as usize] = s,
                Some(Undo::Db(s, v)) => self.db[s as usize] = v,
                None => break,
            }
        }
        self.stale.truncate(stale as usize);
    }
}

fn max_key(c: &Component) -> usize {
    c.units
        .iter()
        .flat_map(|u| &u.ops)
        .filter_map(|op| op.key())
        .map(|k| k as usize + 1)
        .max()
        .unwrap_or(0)
}

fn max_subject(c: &Component) -> usize {
    c.units
        .iter()
        .flat_map(|u| &u.ops)
        .filter_map(|op| match *op {
            Op::Read { subject, .. } | Op::Commit { subject, .. } => Some(subject as usize + 1),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// One read as a whole schedule served it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReadOutcome {
    /// The read ([`Op::Read::read`]).
    pub read: u32,
    /// Its unit.
    pub unit: u32,
    /// The key and subject.
    pub key: u16,
    /// The subject.
    pub subject: u16,
    /// What it was served (expiry applied).
    pub served: CacheVal,
    /// The DB value then.
    pub db: DbVal,
    /// Who wrote the served value ([`NONE`]: the initial cache).
    pub writer: u32,
    /// The judgement.
    pub judged: Judged,
}

/// Walks `schedule` (a permutation of `c`'s units) and returns every read's outcome, in
/// schedule order.
pub(crate) fn evaluate(c: &Component, schedule: &[u32]) -> Vec<ReadOutcome> {
    let mut state = State::new(c);
    let mut out = Vec::new();
    for &u in schedule {
        let unit = &c.units[u as usize];
        // A read sees the state the unit's earlier ops left.
        for (i, op) in unit.ops.iter().enumerate() {
            if let Op::Read { key, subject, read } = *op {
                let slot = state.cache[key as usize];
                let served = served(&slot, unit.t_us);
                let db = state.db[subject as usize];
                out.push(ReadOutcome {
                    read,
                    unit: u,
                    key,
                    subject,
                    served,
                    db,
                    writer: slot.writer,
                    judged: judge(c, served, db),
                });
            } else {
                apply_one(&mut state, c, u, i);
            }
        }
    }
    out
}

/// Applies op `i` of unit `u` (not a read) without recording undo information.
fn apply_one(state: &mut State, c: &Component, u: u32, i: usize) {
    let unit = &c.units[u as usize];
    match unit.ops[i] {
        Op::Read { .. } => {}
        Op::Set { key, value, expires_at } => {
            state.cache[key as usize] = Slot { val: value, exp: expires_at, writer: u }
        }
        Op::Del { key } => {
            state.cache[key as usize] = Slot { val: CacheVal::Absent, exp: None, writer: u }
        }
        Op::Expire { key, expires_at } => {
            let slot = &mut state.cache[key as usize];
            if served(slot, unit.t_us) != CacheVal::Absent {
                slot.exp = expires_at;
            }
        }
        Op::Commit { subject, value } => state.db[subject as usize] = value,
    }
}

/// Why a stale read was stale in one schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Explained {
    /// The cause.
    pub cause: Cause,
    /// Time since the matched DB version was superseded, µs (≥ 0; 0 when unexplained).
    pub age_us: Us,
    /// The write, the superseding commit, the invalidation after the read (those that exist).
    pub chain: Vec<u32>,
}

/// A schedule walked once, indexed for causes: each unit's position, each subject's commits and
/// each key's overwrites and deletes in schedule order.
pub(crate) struct Walked {
    pos: Vec<u32>,
    /// Per subject: (position, value, unit) of each commit.
    commits: Vec<Vec<(u32, DbVal, u32)>>,
    /// Per key: (position, value written — `Absent` for a delete, unit).
    writes: Vec<Vec<(u32, CacheVal, u32)>>,
}

impl Walked {
    /// Indexes `schedule` (a permutation of `c`'s units).
    pub fn new(c: &Component, schedule: &[u32]) -> Walked {
        let keys = c.keys.len().max(max_key(c));
        let subjects = c.subjects.len().max(max_subject(c));
        let mut w = Walked {
            pos: vec![0; schedule.len()],
            commits: vec![Vec::new(); subjects],
            writes: vec![Vec::new(); keys],
        };
        for (p, &u) in schedule.iter().enumerate() {
            w.pos[u as usize] = p as u32;
            for op in &c.units[u as usize].ops {
                match *op {
                    Op::Commit { subject, value } => {
                        w.commits[subject as usize].push((p as u32, value, u))
                    }
                    Op::Set { key, value, .. } => w.writes[key as usize].push((p as u32, value, u)),
                    Op::Del { key } => w.writes[key as usize].push((p as u32, CacheVal::Absent, u)),
                    _ => {}
                }
            }
        }
        w
    }
}

/// The cause of stale read `r` in `schedule` (DESIGN "Stale reads", made exact for one order):
///
/// Let `w` be the unit that wrote the served value (or the start, for the initial cache). The
/// DB version it matches is the last version of the subject before `w` (the initial value
/// included) that agrees with it. If that version was superseded (a later commit with a value
/// that does not agree) before `w`, the cause is a **stale set**; otherwise the value was fresh
/// when written, and the cause is a **late invalidation** if a `Del` or a `Set` of another value
/// reaches the key after the read, else a **missing invalidation**. A value that agrees with no
/// version before `w` is **unexplained** — including one that agrees only with a later commit
/// (written before the DB held it: no cause the design names; value causality edges normally
/// forbid such schedules). Age: the read's time minus the superseding commit's, at least 0.
pub(crate) fn cause(c: &Component, walked: &Walked, r: &ReadOutcome) -> Explained {
    let unexplained = |r: &ReadOutcome| Explained {
        cause: Cause::Unexplained,
        age_us: 0,
        chain: if r.writer == NONE { Vec::new() } else { vec![r.writer] },
    };
    let CacheVal::Known(value) = r.served else { return unexplained(r) };
    let read_pos = walked.pos[r.unit as usize] as i64;
    let write_pos = if r.writer == NONE { -1 } else { walked.pos[r.writer as usize] as i64 };
    let agrees = |v: DbVal| matches!(v, DbVal::Known(d) if c.agrees(value, d));
    let initial = c.initial_db.get(r.subject as usize).copied().unwrap_or(DbVal::Unknown);
    let commits = &walked.commits[r.subject as usize];
    // The matched version: the last agreeing one committed before the write (the initial value
    // counts as committed before everything); index into `commits`, or None for the initial.
    let before_write = commits.partition_point(|&(p, _, _)| (p as i64) < write_pos);
    let matched = match commits[..before_write].iter().rposition(|&(_, v, _)| agrees(v)) {
        Some(i) => Some(i),
        None if agrees(initial) => None,
        None => return unexplained(r),
    };
    let from = matched.map_or(0, |i| i + 1);
    let Some(&(sup_pos, _, sup_unit)) = commits[from..].iter().find(|&&(_, v, _)| !agrees(v))
    else {
        return unexplained(r);
    };
    let writes = &walked.writes[r.key as usize];
    let after_read = writes.partition_point(|&(p, _, _)| (p as i64) <= read_pos);
    let invalidation =
        writes[after_read..].iter().find(|&&(_, v, _)| v != r.served).map(|&(_, _, u)| u);
    let stale_set = r.writer != NONE && (sup_pos as i64) < write_pos;
    let cause = if stale_set {
        Cause::StaleSet
    } else if invalidation.is_some() {
        Cause::LateInvalidation
    } else {
        Cause::MissingInvalidation
    };
    let mut chain = Vec::with_capacity(3);
    if r.writer != NONE {
        chain.push(r.writer);
    }
    chain.push(sup_unit);
    if cause != Cause::MissingInvalidation
        && let Some(i) = invalidation
    {
        chain.push(i);
    }
    let t_read = c.units[r.unit as usize].t_us;
    let age_us = t_read.saturating_sub(c.units[sup_unit as usize].t_us).max(0);
    Explained { cause, age_us, chain }
}
