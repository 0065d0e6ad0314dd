/*!
The stale-read oracle: is a cache hit fresh, stale for certain, stale for some placement of the
events inside their uncertainty, or unverifiable — and if stale, why, since when, and which events
made it so.

Everything here is a pure function of small values: one key's [`Episode`] (a cached value from
the write that put it there to what ended it), the [`Versions`] of the row it maps to, a read's
[`Stamp`] and the interned projections. A perturbation explorer can call it on millions of
reordered schedules of one key's events: give every event a point stamp in schedule order and
the answers are exact for that schedule.

The rules (DESIGN, "Stale reads"):
- The versions the DB can have held at a read are those whose commit may precede the read and
  whose successor's commit may follow it. Value causality narrows them: a cached value that is DB
  version *j* was read from the DB after *j* committed, so every read of it sees version *j* or
  later — also when *j*'s binlog event arrived after the write, later than the allowed lag (a
  loaded server), up to [`LATE_BINLOG_US`].
- A value equal to several versions (a status that returns to `PENDING`) may have been read from
  any of them that the timeline allows: the episode's *basis* is every agreeing version that
  may have been in the database during the fill's read window — after the miss it followed
  (the earlier of its client's latest miss and the start of the key's absence) and before the
  write — plus the first agreeing
  version recorded up to [`LATE_BINLOG_US`] after the write. A read is judged under every one of
  these explanations: fresh only when all make it fresh.
- **fresh** when every candidate version agrees with the served value under every explanation,
  **stale-definite** when none does under any, **stale-possible** otherwise, **unverifiable**
  when the row is unknown.
- Age: time since the version the served value matches was superseded.
- Cause: **stale set** when the write landed after that supersession; otherwise **late
  invalidation** when a DEL or overwrite ended the value, **missing invalidation** when only
  expiry (or the end of the trace) did; **unexplained** when the value matches no version the
  trace saw.
*/

use std::fmt;

use cachetape_tape::Micros;

use crate::dbstate::{RowValue, Versions};
use crate::mapping::{ValueId, ValueTable};
use crate::timeline::Stamp;

/// A read's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// The served value agrees with the DB for every placement.
    Fresh,
    /// It disagrees for every placement.
    StaleDefinite,
    /// It disagrees for some placements.
    StalePossible,
    /// The DB state (or the cache state) is unknown.
    Unverifiable,
}

impl Verdict {
    /// `fresh`, `stale-definite`, `stale-possible`, `unverifiable`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Fresh => "fresh",
            Verdict::StaleDefinite => "stale-definite",
            Verdict::StalePossible => "stale-possible",
            Verdict::Unverifiable => "unverifiable",
        }
    }

    /// True for both stale verdicts.
    pub fn is_stale(self) -> bool {
        matches!(self, Verdict::StaleDefinite | Verdict::StalePossible)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a stale read was stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// The cached value was written after the DB had already moved on.
    StaleSet,
    /// Fresh when written; a commit superseded it and the DEL or overwrite came after the read.
    LateInvalidation,
    /// No invalidation followed the commit: only expiry (or nothing) ended it.
    MissingInvalidation,
    /// The value matches no DB version the trace saw.
    Unexplained,
}

impl Cause {
    /// Every cause, in report order.
    pub const ALL: [Cause; 4] =
        [Cause::StaleSet, Cause::LateInvalidation, Cause::MissingInvalidation, Cause::Unexplained];

    /// `stale-set`, `late-invalidation`, `missing-invalidation`, `unexplained`.
    pub fn name(self) -> &'static str {
        match self {
            Cause::StaleSet => "stale-set",
            Cause::LateInvalidation => "late-invalidation",
            Cause::MissingInvalidation => "missing-invalidation",
            Cause::Unexplained => "unexplained",
        }
    }

    /// In words, for the human report.
    pub fn words(self) -> &'static str {
        match self {
            Cause::StaleSet => "stale set",
            Cause::LateInvalidation => "late invalidation",
            Cause::MissingInvalidation => "missing invalidation",
            Cause::Unexplained => "unexplained value",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a key held in the cache during an episode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cached {
    /// A value, projected.
    Value(ValueId),
    /// A value the mapping cannot reconcile with the row, and why.
    Unreconciled(&'static str),
    /// The replay cannot know (unmodelled command, gap, eviction).
    Unknown,
}

/// How a value came into the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A command wrote it.
    Write,
    /// The recorder found it there (a snapshot probe): when it was written is not known.
    Snapshot,
}

/// What ended an episode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// A DEL (UNLINK, GETDEL) removed the key.
    Del,
    /// Another write replaced the value.
    Overwrite,
    /// The TTL ran out.
    Expiry,
    /// The trace ended with the value still cached, with this much TTL left (`None`: no TTL).
    EndOfTrace {
        /// TTL left at the end, µs.
        ttl_left_us: Option<Micros>,
    },
    /// The cache state became unknown (unmodelled command, gap, eviction).
    Unknown,
}

impl End {
    /// `del`, `overwrite`, `expiry`, `end-of-trace`, `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            End::Del => "del",
            End::Overwrite => "overwrite",
            End::Expiry => "expiry",
            End::EndOfTrace { .. } => "end-of-trace",
            End::Unknown => "unknown",
        }
    }

    /// True for a DEL or an overwrite: an invalidation someone sent.
    pub fn is_invalidation(self) -> bool {
        matches!(self, End::Del | End::Overwrite)
    }
}

/// One event of a key's story: a sequence number (when it was an event), when, who, what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// The event's sequence number (`None` for an expiry or the end of the trace).
    pub seq: Option<u64>,
    /// When.
    pub stamp: Stamp,
    /// The client (index into the analysis' client names; `u32::MAX` for none).
    pub client: u32,
    /// The command name (`SETEX`, `DEL`), or what happened (`expired`).
    pub what: &'static str,
}

/// A cached value's life: from the write that put it there to what ended it.
#[derive(Clone, Debug, PartialEq)]
pub struct Episode {
    /// The value.
    pub value: Cached,
    /// How it got there.
    pub origin: Origin,
    /// The write (or snapshot).
    pub start: Mark,
    /// Its expiry then, on the timeline (µs), if it had one.
    pub expires_us: Option<Micros>,
    /// The earliest the value can have been read from the database (µs, the `lo` of a stamp):
    /// a fill follows a miss, so the earlier of its client's latest miss of the key and the
    /// start of the key's absence (when its previous episode ended; for an overwrite, that
    /// episode's own bound); [`Micros::MIN`] when nothing bounds it (no miss of the writing
    /// client, a key not seen cached before, a snapshot, a cache state that was unknown).
    pub fill_from: Micros,
    /// What ended it, once something did.
    pub end: Option<(End, Mark)>,
    /// The versions its value may have been read from (value causality), once computed.
    pub basis: Option<Option<Basis>>,
}

/// The versions a cached value may have been read from (value causality): every version in
/// `first..=last` that agrees with it may be its source, and both ends do. `first == last`
/// unless the value equals several versions the timeline cannot tell apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Basis {
    /// The earliest possible source.
    pub first: usize,
    /// The latest possible source (after the read's candidates only when its binlog event came
    /// later than the lag allows).
    pub last: usize,
}

impl Basis {
    /// One source.
    pub fn one(i: usize) -> Basis {
        Basis { first: i, last: i }
    }
}

impl Episode {
    /// The versions the value may have been read from: every agreeing version that may have
    /// been the database's value inside the fill's read window — committed (`lo`) no later than
    /// the write's `hi`, and superseded (`hi`) no earlier than [`Episode::fill_from`] — and the
    /// first agreeing version recorded at most [`LATE_BINLOG_US`] after the write (value
    /// causality: the value was read from the DB after that commit, whose binlog event arrived
    /// later than the allowed lag). `None` when none does (or the value is not a value).
    ///
    /// The scan down from the write stops at the first version superseded before the window:
    /// commits are in binlog order, so the earlier ones were too.
    pub fn basis(&mut self, versions: &Versions, values: &ValueTable) -> Option<Basis> {
        if let Some(b) = self.basis {
            return b;
        }
        let b = match self.value {
            Cached::Value(v) => {
                let write = self.start.stamp.hi;
                let until = versions.changes.partition_point(|c| c.stamp.lo <= write);
                let late =
                    versions.changes.partition_point(|c| c.stamp.lo <= write + LATE_BINLOG_US);
                let (mut first, mut last) = (None, None);
                for i in (0..=until).rev() {
                    if versions.began(i + 1).is_some_and(|end| end.stamp.hi < self.fill_from) {
                        break;
                    }
                    if agrees(values, v, versions.value(i)) {
                        last = last.or(Some(i));
                        first = Some(i);
                    }
                }
                let late = (until + 1..=late).find(|&i| agrees(values, v, versions.value(i)));
                match (first, last.max(late)) {
                    (Some(first), Some(last)) => Some(Basis { first, last }),
                    (None, Some(j)) => Some(Basis::one(j)),
                    _ => None,
                }
            }
            _ => None,
        };
        self.basis = Some(b);
        b
    }
}

/// How long after a cache write a commit whose value the write holds may be recorded and still
/// be taken as its source ([`Episode::basis`]): a binlog event that late means a stalled stream,
/// not a coincidence of values.
pub const LATE_BINLOG_US: Micros = 1_000_000;

fn agrees(values: &ValueTable, served: ValueId, db: RowValue) -> bool {
    match db {
        RowValue::Known(d) => values.agrees(served, d),
        RowValue::Absent | RowValue::Unknown => false,
    }
}

/// The versions the DB may have held at `read`: indexes `a..=b` (0 is the initial value).
pub fn candidates(versions: &Versions, read: Stamp) -> (usize, usize) {
    let a = versions.changes.partition_point(|c| c.stamp.hi <= read.lo);
    let b = versions.changes.partition_point(|c| c.stamp.lo <= read.hi);
    (a.min(b), b)
}

/// Why a read could not be judged.
pub const ROW_UNKNOWN: &str = "row never changed in the trace";
/// The cache state was unknown.
pub const CACHE_UNKNOWN: &str = "cache state unknown";

/// The oracle's answer for one read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// Why it is unverifiable.
    pub reason: Option<&'static str>,
    /// The version the DB most likely held (best-estimate times), within the candidates; for a
    /// stale read whose best estimate agrees with the served value (a `stale-possible` read
    /// inside the commit's uncertainty), the candidate nearest to it that disagrees — the DB
    /// value the verdict is about, so a report never shows "served X, db X, stale".
    pub db_version: usize,
    /// The latest version the served value agrees with, up to the last candidate.
    pub matched: Option<usize>,
    /// Time since the matched version was superseded (stale reads).
    pub age_us: Option<Micros>,
}

/// Judges one read of `served` at `read`, given the episode's basis (value causality): under
/// each possible source the candidates are those not before it; the verdict holds over all.
pub fn judge_read(
    versions: &Versions,
    basis: Option<Basis>,
    read: Stamp,
    served: ValueId,
    values: &ValueTable,
) -> Judgement {
    let unverifiable = |reason| Judgement {
        verdict: Verdict::Unverifiable,
        reason: Some(reason),
        db_version: 0,
        matched: None,
        age_us: None,
    };
    if versions.is_unknown() {
        return unverifiable(ROW_UNKNOWN);
    }
    let (mut a, mut b) = candidates(versions, read);
    // The latest source lies past the candidates (its binlog event came late): read from it,
    // the value is fresh — one more explanation that agrees.
    let mut late_source = false;
    if let Some(s) = basis {
        a = a.max(s.first);
        b = b.max(a);
        late_source = s.last > b;
    }
    let (mut eq, mut ne, mut unknown) = (usize::from(late_source), 0, 0);
    for i in a..=b {
        match versions.value(i) {
            RowValue::Unknown => unknown += 1,
            v if agrees(values, served, v) => eq += 1,
            _ => ne += 1,
        }
    }
    let verdict = if ne == 0 && unknown == 0 {
        Verdict::Fresh
    } else if ne == 0 {
        return unverifiable(ROW_UNKNOWN);
    } else if eq == 0 && unknown == 0 {
        Verdict::StaleDefinite
    } else {
        Verdict::StalePossible
    };
    let mut db_version = versions.at(read.t).clamp(a, b);
    if verdict.is_stale() && agrees(values, served, versions.value(db_version)) {
        let disagrees = |&i: &usize| match versions.value(i) {
            RowValue::Unknown => false,
            v => !agrees(values, served, v),
        };
        if let Some(i) = (a..=b).filter(disagrees).min_by_key(|&i| i.abs_diff(db_version)) {
            db_version = i;
        }
    }
    let (matched, age_us) = if verdict.is_stale() {
        // The version served, as the stale explanation has it: the latest agreeing one before
        // the disagreeing DB value reported (a value equal to a later version too was read
        // before that one was superseded).
        let agreeing = |&i: &usize| agrees(values, served, versions.value(i));
        let matched = (0..db_version).rev().find(agreeing).or_else(|| (0..=b).rev().find(agreeing));
        let age = matched.map(|j| match versions.began(j + 1) {
            Some(next) => (read.t - next.stamp.t).max(0),
            None => 0,
        });
        (matched, age)
    } else {
        (None, None)
    };
    Judgement { verdict, reason: None, db_version, matched, age_us }
}

/// The cause of a stale read judged `j` in `episode`.
pub fn cause(episode: &Episode, versions: &Versions, j: &Judgement) -> Cause {
    let Some(m) = j.matched else { return Cause::Unexplained };
    if let Some(next) = versions.began(m + 1)
        && episode.origin == Origin::Write
        && episode.start.stamp.t > next.stamp.t
    {
        return Cause::StaleSet;
    }
    match episode.end {
        Some((end, _)) if end.is_invalidation() => Cause::LateInvalidation,
        _ => Cause::MissingInvalidation,
    }
}

/// One link of a stale read's chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The write that put the value in the cache.
    Write,
    /// The snapshot that found it there.
    Snapshot,
    /// The commit that superseded the value.
    Superseded,
    /// The invalidation that came after the read.
    Invalidation,
    /// The expiry that ended the value.
    Expiry,
    /// The trace ended with the value still cached.
    EndOfTrace,
    /// A version the value may have been read from, when it equals several the timeline
    /// cannot tell apart.
    Source,
}

impl Role {
    /// `write`, `snapshot`, `superseded-by`, `invalidation`, `expiry`, `end-of-trace`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Write => "write",
            Role::Snapshot => "snapshot",
            Role::Superseded => "superseded-by",
            Role::Invalidation => "invalidation",
            Role::Expiry => "expiry",
            Role::EndOfTrace => "end-of-trace",
            Role::Source => "could-be-from",
        }
    }
}

/// Possible sources listed in a chain at most.
pub const SOURCES_LISTED: usize = 4;

/// The chain behind a stale read: the write, the versions its value may have come from when
/// there are several (each a [`Role::Source`] mark: the commit that made it, or for the row's
/// value before the trace's first change, that change with no sequence number), the commit that
/// superseded the value, and what ended it (or that nothing did), in that order.
pub fn chain(
    episode: &Episode,
    versions: &Versions,
    values: &ValueTable,
    j: &Judgement,
) -> Vec<(Role, Mark)> {
    let mut out = Vec::with_capacity(3);
    let origin = if episode.origin == Origin::Snapshot { Role::Snapshot } else { Role::Write };
    out.push((origin, episode.start));
    if let (Some(Some(b)), Cached::Value(v)) = (episode.basis, episode.value)
        && b.first != b.last
    {
        let sources = (b.first..=b.last).filter(|&i| agrees(values, v, versions.value(i)));
        for i in sources.take(SOURCES_LISTED) {
            let mark = match versions.began(i) {
                Some(c) => {
                    Mark { seq: Some(c.seq), stamp: c.stamp, client: u32::MAX, what: "COMMIT" }
                }
                None => {
                    let first = versions.began(1).map_or(episode.start.stamp, |c| c.stamp);
                    Mark { seq: None, stamp: first, client: u32::MAX, what: "before the trace" }
                }
            };
            out.push((Role::Source, mark));
        }
    }
    if let Some(next) = j.matched.and_then(|m| versions.began(m + 1)) {
        out.push((
            Role::Superseded,
            Mark { seq: Some(next.seq), stamp: next.stamp, client: u32::MAX, what: "COMMIT" },
        ));
    }
    if let Some((end, mark)) = episode.end {
        let role = match end {
            End::Del | End::Overwrite => Role::Invalidation,
            End::Expiry => Role::Expiry,
            End::EndOfTrace { .. } | End::Unknown => Role::EndOfTrace,
        };
        out.push((role, mark));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbstate::Version;

    fn setup() -> (ValueTable, ValueId, ValueId) {
        let mut t = ValueTable::default();
        let old = t.intern(b"\x01\x09\x00\x00\x00sCANCELLE");
        let new = t.intern(b"\x01\x05\x00\x00\x00sPAID");
        (t, old, new)
    }

    fn versions(old: ValueId, new: ValueId, commit: Stamp) -> Versions {
        Versions {
            initial: RowValue::Known(old),
            changes: vec![Version { value: RowValue::Known(new), stamp: commit, seq: 10 }],
        }
    }

    #[test]
    fn verdicts_follow_the_uncertainty() {
        let (t, old, new) = setup();
        let v = versions(old, new, Stamp { t: 1_000, lo: 900, hi: 1_000 });
        let zero = Some(Basis::one(0));
        assert_eq!(judge_read(&v, zero, Stamp::at(500), old, &t).verdict, Verdict::Fresh);
        let possible = judge_read(&v, zero, Stamp::at(950), old, &t);
        assert_eq!(possible.verdict, Verdict::StalePossible);
        // The best estimate (before the commit) agrees with what was served: the DB value
        // reported is the one that makes the read stale, not the one that agrees.
        assert_eq!(possible.db_version, 1);
        let j = judge_read(&v, zero, Stamp::at(3_000), old, &t);
        assert_eq!(j.verdict, Verdict::StaleDefinite);
        assert_eq!(j.age_us, Some(2_000));
        assert_eq!(j.matched, Some(0));
        // Value causality: a value read from version 1 is never judged against version 0.
        let one = Some(Basis::one(1));
        assert_eq!(judge_read(&v, one, Stamp::at(950), new, &t).verdict, Verdict::Fresh);
        let unknown = Versions::default();
        assert_eq!(
            judge_read(&unknown, None, Stamp::at(1), old, &t).verdict,
            Verdict::Unverifiable
        );
    }

    #[test]
    fn causes() {
        let (t, old, new) = setup();
        let v = versions(old, new, Stamp::at(1_000));
        let mark = |us: Micros, what| Mark { seq: Some(1), stamp: Stamp::at(us), client: 0, what };
        let mut ep = Episode {
            value: Cached::Value(old),
            origin: Origin::Write,
            start: mark(1_200, "SETEX"),
            expires_us: None,
            fill_from: Micros::MIN,
            end: Some((End::Expiry, mark(9_000, "expired"))),
            basis: None,
        };
        let basis = ep.basis(&v, &t);
        assert_eq!(basis, Some(Basis::one(0)));
        let j = judge_read(&v, basis, Stamp::at(2_000), old, &t);
        assert_eq!(cause(&ep, &v, &j), Cause::StaleSet);
        ep.start = mark(500, "SETEX");
        assert_eq!(cause(&ep, &v, &j), Cause::MissingInvalidation);
        ep.end = Some((End::Del, mark(3_000, "DEL")));
        assert_eq!(cause(&ep, &v, &j), Cause::LateInvalidation);
        let roles: Vec<Role> = chain(&ep, &v, &t, &j).iter().map(|(r, _)| *r).collect();
        assert_eq!(roles, vec![Role::Write, Role::Superseded, Role::Invalidation]);
    }

    /// PENDING, REFUNDED at 1000, PENDING again at 1300 (binlog receipt; it may have been up
    /// to 200 µs earlier); a reader writes PENDING at 1200 and it is read at 1250.
    fn aba(fill_from: Micros) -> (ValueTable, Versions, Episode, ValueId) {
        let (mut t, pending, _) = setup();
        let refunded = t.intern(b"\x01\x08\x00\x00\x00sREFUNDED");
        let v = Versions {
            initial: RowValue::Known(pending),
            changes: vec![
                Version { value: RowValue::Known(refunded), stamp: Stamp::at(1_000), seq: 10 },
                Version {
                    value: RowValue::Known(pending),
                    stamp: Stamp { t: 1_300, lo: 1_100, hi: 1_300 },
                    seq: 20,
                },
            ],
        };
        let ep = Episode {
            value: Cached::Value(pending),
            origin: Origin::Write,
            start: Mark { seq: Some(15), stamp: Stamp::at(1_200), client: 0, what: "SETEX" },
            expires_us: None,
            fill_from,
            end: Some((
                End::Del,
                Mark { seq: Some(30), stamp: Stamp::at(5_000), client: 1, what: "DEL" },
            )),
            basis: None,
        };
        (t, v, ep, pending)
    }

    #[test]
    fn a_value_equal_to_two_versions_is_judged_under_both() {
        // The key was last emptied at 100: the fill may have read PENDING before the REFUNDED
        // commit, or the later PENDING — the read at 1250 is stale under the first.
        let (t, v, mut ep, pending) = aba(100);
        let basis = ep.basis(&v, &t);
        assert_eq!(basis, Some(Basis { first: 0, last: 2 }));
        let j = judge_read(&v, basis, Stamp::at(1_250), pending, &t);
        assert_eq!(j.verdict, Verdict::StalePossible);
        assert_eq!((j.db_version, j.matched, j.age_us), (1, Some(0), Some(250)));
        assert_eq!(cause(&ep, &v, &j), Cause::StaleSet);
        let roles: Vec<(Role, Option<u64>)> =
            chain(&ep, &v, &t, &j).iter().map(|(r, m)| (*r, m.seq)).collect();
        assert_eq!(
            roles,
            vec![
                (Role::Write, Some(15)),
                (Role::Source, None),
                (Role::Source, Some(20)),
                (Role::Superseded, Some(10)),
                (Role::Invalidation, Some(30)),
            ]
        );
        // Once the later PENDING surely committed, every explanation agrees.
        assert_eq!(judge_read(&v, basis, Stamp::at(1_400), pending, &t).verdict, Verdict::Fresh);
        // The later PENDING recorded only past the lag (a late binlog) is still a source: the
        // read is possible, not definite.
        let mut late = v.clone();
        late.changes[1].stamp = Stamp { t: 9_000, lo: 8_000, hi: 9_000 };
        let mut ep2 = ep.clone();
        ep2.basis = None;
        let basis = ep2.basis(&late, &t);
        assert_eq!(basis, Some(Basis { first: 0, last: 2 }));
        let j = judge_read(&late, basis, Stamp::at(1_250), pending, &t);
        assert_eq!(j.verdict, Verdict::StalePossible);
    }

    #[test]
    fn an_old_equal_version_outside_the_fill_window_is_no_source() {
        // The key was last emptied at 1100, after the REFUNDED commit: the fill read the DB
        // after it, so only the later PENDING explains the value.
        let (t, v, mut ep, pending) = aba(1_100);
        let basis = ep.basis(&v, &t);
        assert_eq!(basis, Some(Basis::one(2)));
        assert_eq!(judge_read(&v, basis, Stamp::at(1_250), pending, &t).verdict, Verdict::Fresh);
        let j = judge_read(&v, basis, Stamp::at(1_250), pending, &t);
        assert_eq!(chain(&ep, &v, &t, &j).len(), 2);
    }
}
