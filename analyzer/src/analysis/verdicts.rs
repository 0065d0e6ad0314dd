/*!
A read's verdict ([`Judge::judge`]): the oracle's judgement of the served value against the
row's versions, counted by verdict and by age; a stale read waits in its episode for the
episode's end, when its cause is known. The common cases are decided from the row's [`Tail`]
alone, without reading its history (held to the oracle by debug assertions).
*/

use super::readlog::Said;
use super::state::{Judge, ReadObs};
use crate::dbstate::{RowValue, Tail, Versions};
use crate::mapping::{ValueId, ValueTable};
use crate::oracle::{self, Basis, CACHE_UNKNOWN, Cached, Episode, Judgement, ROW_UNKNOWN, Verdict};
use crate::report::{DB_GAP, TimelineMark};
use crate::timeline::Stamp;

impl Judge {
    fn in_db_gap(&self, stamp: Stamp) -> bool {
        self.db_gaps.iter().any(|&(from, to)| from <= stamp.hi && to >= stamp.lo)
    }

    /// Judges `read` of key `key`, whose row's history is known.
    pub(super) fn judge(&mut self, key: u32, read: ReadObs) {
        if self.in_db_gap(read.stamp) {
            self.count_unverifiable(DB_GAP);
            self.note_unverifiable(key, DB_GAP);
            self.log_obs(key, &read, Said::unverifiable(DB_GAP, Some(read.served)));
            return;
        }
        let slot = match self.slots.get_mut(read.slot as usize) {
            Some(slot) if slot.key == key && slot.no == read.no => slot,
            _ => {
                self.count_unverifiable(CACHE_UNKNOWN);
                self.log_obs(key, &read, Said::unverifiable(CACHE_UNKNOWN, Some(read.served)));
                return;
            }
        };
        let subject = slot.subject.0 as usize;
        let (tail, versions) = (&self.db.tails[subject], &self.db.subjects[subject].versions);
        let basis = episode_basis(&mut slot.episode, tail, versions, &self.values);
        let j = judge_fast(tail, versions, basis, read.stamp, read.served, &self.values);
        let db_value = versions.value(j.db_version);
        let age = match j.verdict {
            Verdict::Fresh => Some(0),
            Verdict::StaleDefinite | Verdict::StalePossible => j.age_us,
            Verdict::Unverifiable => None,
        };
        if j.verdict != Verdict::Unverifiable
            && let Some(age) = age
        {
            for (i, &limit) in self.options.ages_us.iter().enumerate() {
                if age <= limit {
                    self.within[i] += 1;
                }
            }
        }
        if slot.detail
            && let Some(d) = self.keys[key as usize].detail.as_deref_mut()
        {
            let mark = TimelineMark {
                t_us: read.stamp.t,
                lane: read.client as usize,
                kind: "read",
                seq: Some(read.seq),
                verdict: Some(j.verdict),
                label: format!("GET: {}", j.verdict),
            };
            d.mark(mark, read.client);
        }
        match j.verdict {
            Verdict::Fresh => {
                self.fresh += 1;
                self.note_judged(key);
                let said = Said {
                    verdict: Verdict::Fresh,
                    cause: None,
                    age_us: None,
                    served: Some(read.served),
                    db: Some(db_value),
                    reason: None,
                };
                self.log_obs(key, &read, said);
            }
            Verdict::Unverifiable => {
                let reason = j.reason.unwrap_or(ROW_UNKNOWN);
                self.count_unverifiable(reason);
                self.note_unverifiable(key, reason);
                self.log_obs(key, &read, Said::unverifiable(reason, Some(read.served)));
            }
            Verdict::StaleDefinite | Verdict::StalePossible => {
                self.note_judged(key);
                let slot = &mut self.slots[read.slot as usize];
                if j.verdict == Verdict::StaleDefinite {
                    self.stale_definite += 1;
                } else {
                    self.stale_possible += 1;
                }
                slot.stale.push((read, j));
            }
        }
    }
}

/// `db` agrees with `served` (the oracle's rule).
#[inline]
fn agrees(values: &ValueTable, served: ValueId, db: RowValue) -> bool {
    match db {
        RowValue::Known(d) => values.agrees(served, d),
        RowValue::Absent | RowValue::Unknown => false,
    }
}

/// [`Episode::basis`], without reading the row's history when its [`Tail`] settles it: when
/// every change may precede the write (so none is late), every version but the latest was
/// superseded before the fill's read window, and the latest value agrees with the cached one,
/// the basis is the latest version alone.
pub(super) fn episode_basis(
    episode: &mut Episode,
    tail: &Tail,
    versions: &Versions,
    values: &ValueTable,
) -> Option<Basis> {
    if episode.basis.is_none()
        && let Cached::Value(v) = episode.value
        && tail.max_lo <= episode.start.stamp.hi
        && (tail.n == 0 || tail.max_hi < episode.fill_from)
        && agrees(values, v, tail.current())
    {
        let b = Some(Basis::one(tail.n as usize));
        debug_assert_eq!(episode.clone().basis(versions, values), b);
        episode.basis = Some(b);
    }
    episode.basis(versions, values)
}

/// [`oracle::judge_read`], without reading the row's history for the common fresh read: when
/// every change surely precedes the read, the only candidate is the latest version; if it agrees
/// with the served value the read is fresh.
#[inline]
fn judge_fast(
    tail: &Tail,
    versions: &Versions,
    basis: Option<Basis>,
    read: Stamp,
    served: ValueId,
    values: &ValueTable,
) -> Judgement {
    if tail.max_hi <= read.lo
        && tail.max_lo <= read.hi
        && matches!(tail.current(), RowValue::Known(d) if values.agrees(served, d))
    {
        let j = Judgement {
            verdict: Verdict::Fresh,
            reason: None,
            db_version: tail.n as usize,
            matched: None,
            age_us: None,
        };
        debug_assert_eq!(j, oracle::judge_read(versions, basis, read, served, values));
        return j;
    }
    oracle::judge_read(versions, basis, read, served, values)
}
