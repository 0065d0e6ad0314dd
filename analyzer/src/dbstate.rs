/*!
The database side: the versions of every mapped row over the timeline, from the binlog's row
changes and their commits.

A *subject* is one row as one rule sees it (the rule's projection of that row): a key maps to a
subject, and the oracle compares the key's cached value with the subject's versions. A subject's
history is its value before the trace's first change of it (the before image of that change,
or "absent" when the first change inserted it) and one [`Version`] per commit that changed its
projection. A row the trace never changed is *unknown*: nothing in the trace says what it held,
so reads of it are unverifiable, never fresh.

Changes wait for their transaction's Commit (whose time is the version's time); a transaction
with several changes of one row yields one version, its last after image.
*/

use std::collections::HashMap;

use cachetape_base::FxBuild;
use cachetape_tape::{Commit, Micros, RowChange, RowOp, SourceId};

use crate::keyindex::Interner;
use crate::mapping::{Mapping, MappingError, ValueId, ValueTable};
use crate::timeline::Stamp;

/// What a row held, under one rule's projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RowValue {
    /// The projection, interned.
    Known(ValueId),
    /// No such row.
    Absent,
    /// Not known.
    Unknown,
}

/// One committed change of a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    /// What the row holds from this commit on.
    pub value: RowValue,
    /// When the commit happened.
    pub stamp: Stamp,
    /// The Commit event's sequence number.
    pub seq: u64,
}

/// A subject's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versions {
    /// Its value before the first version ([`RowValue::Unknown`] until a change shows it).
    pub initial: RowValue,
    /// Changes in commit (binlog) order.
    pub changes: Vec<Version>,
}

impl Default for Versions {
    fn default() -> Self {
        Versions { initial: RowValue::Unknown, changes: Vec::new() }
    }
}

impl Versions {
    /// True when nothing is known about the row.
    pub fn is_unknown(&self) -> bool {
        self.initial == RowValue::Unknown && self.changes.is_empty()
    }

    /// The value of version `i`: 0 is the initial value, `i` the `i`-th change's.
    pub fn value(&self, i: usize) -> RowValue {
        if i == 0 { self.initial } else { self.changes[i - 1].value }
    }

    /// The number of versions, the initial one included.
    pub fn len(&self) -> usize {
        self.changes.len() + 1
    }

    /// Never empty: there is always the initial version.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// When version `i` began (`None` for the initial one: before the trace).
    pub fn began(&self, i: usize) -> Option<&Version> {
        if i == 0 { None } else { self.changes.get(i - 1) }
    }

    /// The latest value of the row.
    pub fn current(&self) -> RowValue {
        self.changes.last().map_or(self.initial, |v| v.value)
    }

    /// The version in effect at `t` by best-estimate times.
    pub fn at(&self, t: Micros) -> usize {
        self.changes.partition_point(|v| v.stamp.t <= t)
    }
}

/// Index of a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubjectId(pub u32);

/// One subject: its rule and history.
#[derive(Debug, Default)]
pub struct Subject {
    /// Rule index.
    pub rule: u16,
    /// The history.
    pub versions: Versions,
}

struct PendingChange {
    subject: SubjectId,
    before: RowValue,
    after: RowValue,
}

/// What the analysis' hot path needs of a subject's history without reading it: 32 bytes per
/// subject in an array of their own (the history lives on the heap, one cache miss further).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tail {
    /// Changes so far.
    pub n: u32,
    /// The latest value ([`Tail::UNKNOWN`], [`Tail::ABSENT`] or a [`ValueId`]).
    current: u32,
    /// The latest `lo`, `hi` and `t` of any change's stamp (`Micros::MIN` without changes).
    pub max_lo: Micros,
    pub max_hi: Micros,
    pub max_t: Micros,
}

impl Tail {
    const UNKNOWN: u32 = u32::MAX;
    const ABSENT: u32 = u32::MAX - 1;

    const NEW: Tail = Tail {
        n: 0,
        current: Tail::UNKNOWN,
        max_lo: Micros::MIN,
        max_hi: Micros::MIN,
        max_t: Micros::MIN,
    };

    /// [`Versions::current`].
    #[inline]
    pub fn current(&self) -> RowValue {
        match self.current {
            Tail::UNKNOWN => RowValue::Unknown,
            Tail::ABSENT => RowValue::Absent,
            id => RowValue::Known(ValueId(id)),
        }
    }

    /// [`Versions::is_unknown`].
    #[inline]
    pub fn is_unknown(&self) -> bool {
        self.n == 0 && self.current == Tail::UNKNOWN
    }

    /// `prev` after `v` took one more change (or a new initial value).
    fn of_update(prev: Tail, v: &Versions) -> Tail {
        let mut t = prev;
        t.n = v.changes.len() as u32;
        t.current = Tail::encode(v.current());
        if let Some(c) = v.changes.last() {
            t.max_lo = t.max_lo.max(c.stamp.lo);
            t.max_hi = t.max_hi.max(c.stamp.hi);
            t.max_t = t.max_t.max(c.stamp.t);
        }
        debug_assert_eq!(t, Tail::of(v));
        t
    }

    fn encode(v: RowValue) -> u32 {
        match v {
            RowValue::Unknown => Tail::UNKNOWN,
            RowValue::Absent => Tail::ABSENT,
            RowValue::Known(id) => {
                debug_assert!(id.0 < Tail::ABSENT);
                id.0
            }
        }
    }

    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    fn of(v: &Versions) -> Tail {
        let mut t = Tail::NEW;
        t.n = v.changes.len() as u32;
        t.current = Tail::encode(v.current());
        for c in &v.changes {
            t.max_lo = t.max_lo.max(c.stamp.lo);
            t.max_hi = t.max_hi.max(c.stamp.hi);
            t.max_t = t.max_t.max(c.stamp.t);
        }
        t
    }
}

/// Every subject's history.
#[derive(Default)]
pub struct DbState {
    /// Rule (2 bytes) and row identity → [`SubjectId`].
    index: Interner,
    index_key: Vec<u8>,
    /// The subjects, by [`SubjectId`].
    pub subjects: Vec<Subject>,
    /// Their [`Tail`]s, by [`SubjectId`].
    pub(crate) tails: Vec<Tail>,
    open: HashMap<(SourceId, u64), Vec<PendingChange>, FxBuild>,
    /// Rules whose columns were checked against a row image of their table.
    checked_rules: Vec<bool>,
    /// Every table a row change touched.
    pub tables_seen: std::collections::BTreeSet<String>,
    /// Row changes seen / commits with mapped changes.
    pub row_changes: u64,
    /// Commits seen.
    pub commits: u64,
    buf: Vec<u8>,
    proj: Vec<u8>,
}

impl DbState {
    /// The subject for `rule`'s row with identity `row_id`, created unknown.
    pub fn subject(&mut self, rule: u16, row_id: &[u8]) -> SubjectId {
        self.index_key.clear();
        self.index_key.extend_from_slice(&rule.to_le_bytes());
        self.index_key.extend_from_slice(row_id);
        let (id, new) = self.index.intern(&self.index_key);
        if new {
            debug_assert_eq!(id as usize, self.subjects.len());
            self.subjects.push(Subject { rule, ..Subject::default() });
            self.tails.push(Tail::NEW);
        }
        SubjectId(id)
    }

    /// Takes a row change (held until its commit).
    pub fn row(
        &mut self,
        source: SourceId,
        change: &RowChange,
        mapping: &Mapping,
        values: &mut ValueTable,
    ) -> Result<(), MappingError> {
        self.row_changes += 1;
        if !self.tables_seen.contains(&*change.table) {
            self.tables_seen.insert(change.table.to_string());
        }
        for (i, rule) in mapping.rules.iter().enumerate() {
            if rule.table != *change.table {
                continue;
            }
            if self.checked_rules.len() <= i {
                self.checked_rules.resize(mapping.rules.len(), false);
            }
            if !self.checked_rules[i] {
                let image = change.after.as_ref().or(change.before.as_ref());
                if let Some(image) = image {
                    let cols: Vec<&str> = image.cells.iter().map(|c| &*c.column).collect();
                    rule.check_columns(i, &cols)?;
                    self.checked_rules[i] = true;
                }
            }
            let mut side = |image: Option<&cachetape_tape::RowImage>,
                            state: &mut Self|
             -> Option<(SubjectId, RowValue)> {
                let image = image?;
                if !rule.row_id_from_image(image, &mut state.buf) {
                    return None;
                }
                let buf = std::mem::take(&mut state.buf);
                let subject = state.subject(i as u16, &buf);
                state.buf = buf;
                rule.project_row(image, &mut state.proj);
                Some((subject, RowValue::Known(values.intern(&state.proj))))
            };
            let before =
                if change.op == RowOp::Insert { None } else { side(change.before.as_ref(), self) };
            let after =
                if change.op == RowOp::Delete { None } else { side(change.after.as_ref(), self) };
            let pending = self.open.entry((source, change.txn)).or_default();
            match (before, after) {
                (Some((a, bv)), Some((b, av))) if a == b => {
                    pending.push(PendingChange { subject: a, before: bv, after: av })
                }
                (before, after) => {
                    if let Some((s, bv)) = before {
                        pending.push(PendingChange {
                            subject: s,
                            before: bv,
                            after: RowValue::Absent,
                        });
                    }
                    if let Some((s, av)) = after {
                        pending.push(PendingChange {
                            subject: s,
                            before: RowValue::Absent,
                            after: av,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Applies a transaction's changes at its commit; returns the subjects that just became
    /// known (their first change).
    pub fn commit(
        &mut self,
        source: SourceId,
        commit: &Commit,
        seq: u64,
        stamp: Stamp,
        newly_known: &mut Vec<SubjectId>,
    ) {
        self.commits += 1;
        let Some(changes) = self.open.remove(&(source, commit.txn)) else { return };
        for c in changes {
            let s = &mut self.subjects[c.subject.0 as usize];
            let v = &mut s.versions;
            if v.is_unknown() {
                v.initial = c.before;
                newly_known.push(c.subject);
            }
            if v.current() != c.after {
                match v.changes.last_mut() {
                    // Several changes of one row in one transaction: one version.
                    Some(last) if last.seq == seq => last.value = c.after,
                    _ => v.changes.push(Version { value: c.after, stamp, seq }),
                }
            }
            self.tails[c.subject.0 as usize] = Tail::of_update(self.tails[c.subject.0 as usize], v);
        }
    }

    /// The number of transactions still waiting for their commit.
    pub fn open_transactions(&self) -> usize {
        self.open.len()
    }
}
