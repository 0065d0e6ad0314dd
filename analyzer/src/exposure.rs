/*!
Exposure: the intervals in which the cache held a value the database disagreed with, whether or
not anyone read it, and what ended each. "Stale for 4 minutes" is this figure.

Computed per [`Episode`] against the row's [`Versions`] on best-estimate times: the episode's
life is cut at every commit inside it; the pieces where the DB's version disagrees with the
cached value are merged into intervals. An interval starts at the write (a stale set, or a value
the DB never held) or at the commit that superseded the value; it ends with the episode (DEL,
overwrite, expiry, end of trace with TTL left) or when a later commit brought the DB back to the
cached value.
*/

use cachetape_tape::Micros;

use crate::dbstate::{RowValue, Versions};
use crate::mapping::ValueTable;
use crate::oracle::{Cached, End, Episode, Mark};

/// What started an exposure interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExposureStart {
    /// The write put a value the DB had already left (or never held).
    Write(Mark),
    /// A commit changed the DB under the cached value.
    Commit {
        /// The commit's sequence number.
        seq: u64,
    },
}

/// What ended an exposure interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExposureEnd {
    /// The cached value's life ended.
    Cache(End, Mark),
    /// A commit made the DB agree with the cached value again.
    DbAgreed {
        /// The commit's sequence number.
        seq: u64,
    },
}

impl ExposureEnd {
    /// `del`, `overwrite`, `expiry`, `end-of-trace`, `unknown`, `db-agreed`.
    pub fn name(&self) -> &'static str {
        match self {
            ExposureEnd::Cache(end, _) => end.name(),
            ExposureEnd::DbAgreed { .. } => "db-agreed",
        }
    }
}

/// One interval in which the cache disagreed with the DB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exposure {
    /// From (µs, best estimate).
    pub from_us: Micros,
    /// To (µs, best estimate).
    pub to_us: Micros,
    /// What started it.
    pub start: ExposureStart,
    /// What ended it.
    pub end: ExposureEnd,
}

impl Exposure {
    /// Its length.
    pub fn duration_us(&self) -> Micros {
        self.to_us - self.from_us
    }
}

/// The exposure intervals of an ended episode. Nothing for an unknown row or cache state.
pub fn exposures(
    episode: &mut Episode,
    versions: &Versions,
    values: &ValueTable,
    out: &mut Vec<Exposure>,
) {
    let Some((end_kind, end_mark)) = episode.end else { return };
    if versions.is_unknown() {
        return;
    }
    let from = episode.start.stamp.t;
    let to = end_mark.stamp.t.max(from);
    let value = match episode.value {
        Cached::Value(v) => Some(v),
        Cached::Unreconciled(_) => return,
        Cached::Unknown => return,
    };
    let basis = episode.basis(versions, values);
    // Versions in effect over [from, to): start at the one in effect at `from` (not before the
    // basis), then each change before `to`.
    let mut i = versions.at(from);
    if let Some(b) = basis {
        i = i.max(b.first);
    }
    let mut seg_start = from;
    let mut open: Option<Exposure> = None;
    loop {
        let next = versions.began(i + 1);
        let seg_end = next.map_or(to, |n| n.stamp.t.clamp(seg_start, to));
        let disagrees = match (value, versions.value(i)) {
            (_, RowValue::Unknown) => None,
            (Some(v), RowValue::Known(d)) => Some(!values.agrees(v, d)),
            (_, _) => Some(true),
        };
        match disagrees {
            Some(true) => {
                if open.is_none() {
                    let start = if seg_start == from {
                        ExposureStart::Write(episode.start)
                    } else {
                        ExposureStart::Commit { seq: versions.began(i).map_or(0, |v| v.seq) }
                    };
                    open = Some(Exposure {
                        from_us: seg_start,
                        to_us: seg_end,
                        start,
                        end: ExposureEnd::Cache(end_kind, end_mark),
                    });
                }
            }
            Some(false) | None => {
                if let Some(mut e) = open.take() {
                    e.to_us = seg_start;
                    e.end = match (disagrees, versions.began(i)) {
                        (Some(false), Some(v)) => ExposureEnd::DbAgreed { seq: v.seq },
                        _ => ExposureEnd::Cache(End::Unknown, end_mark),
                    };
                    if e.to_us > e.from_us {
                        out.push(e);
                    }
                }
            }
        }
        if seg_end >= to || next.is_none() {
            break;
        }
        seg_start = seg_end;
        i += 1;
    }
    if let Some(mut e) = open {
        e.to_us = to;
        if e.to_us > e.from_us {
            out.push(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbstate::Version;
    use crate::oracle::Origin;
    use crate::timeline::Stamp;

    #[test]
    fn a_stale_set_is_exposed_until_its_expiry() {
        let mut t = ValueTable::default();
        let old = t.intern(b"\x01\x01\x00\x00\x00a");
        let new = t.intern(b"\x01\x01\x00\x00\x00b");
        let v = Versions {
            initial: RowValue::Known(old),
            changes: vec![Version { value: RowValue::Known(new), stamp: Stamp::at(1_000), seq: 7 }],
        };
        let mark = |us, what| Mark { seq: Some(9), stamp: Stamp::at(us), client: 0, what };
        let mut ep = Episode {
            value: Cached::Value(old),
            origin: Origin::Write,
            start: mark(1_500, "SETEX"),
            expires_us: Some(301_500),
            end: Some((End::Expiry, mark(301_500, "expired"))),
            fill_from: Micros::MIN,
            basis: None,
        };
        let mut out = Vec::new();
        exposures(&mut ep, &v, &t, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].from_us, out[0].to_us), (1_500, 301_500));
        assert!(matches!(out[0].start, ExposureStart::Write(_)));
        // Fresh when written, superseded at 1000, deleted at 1200.
        ep.start = mark(500, "SETEX");
        ep.end = Some((End::Del, mark(1_200, "DEL")));
        ep.basis = None;
        out.clear();
        exposures(&mut ep, &v, &t, &mut out);
        assert_eq!((out[0].from_us, out[0].to_us), (1_000, 1_200));
        assert_eq!(out[0].start, ExposureStart::Commit { seq: 7 });
        assert_eq!(out[0].end.name(), "del");
    }
}
