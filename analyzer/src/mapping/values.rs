/*!
[`ValueTable`]: projections interned, so the oracle compares [`ValueId`]s, never bytes; a partial
projection agrees with a row's on the fields it has.
*/

use std::fmt;

use super::rule::{Rule, ValueShape};
use super::tuple::parts;
use crate::keyindex::Interner;
use crate::normalize;

/// A projected value, interned: equal projections have equal ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ValueId(pub u32);

/// The interner of projections.
#[derive(Default)]
pub struct ValueTable {
    tuples: Interner,
    /// Tuples lacking some field, by id.
    partial: Vec<bool>,
}

impl fmt::Debug for ValueTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ValueTable({} values)", self.tuples.len())
    }
}

impl ValueTable {
    /// The id of a tuple built by a projection.
    pub fn intern(&mut self, tuple: &[u8]) -> ValueId {
        let (id, new) = self.tuples.intern(tuple);
        if new {
            self.partial.push(parts(tuple).any(|p| p.is_none()));
        }
        ValueId(id)
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.tuples.len()
    }

    /// True when nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.tuples.len() == 0
    }

    /// True when `served` (a cached projection, maybe partial) agrees with `db` (a row's) on
    /// every field `served` has.
    #[inline]
    pub fn agrees(&self, served: ValueId, db: ValueId) -> bool {
        if served == db {
            return true;
        }
        if !self.partial[served.0 as usize] {
            return false;
        }
        let (s, d) = (self.tuples.get(served.0), self.tuples.get(db.0));
        parts(s).zip(parts(d)).all(|(a, b)| a.is_none() || a == b)
    }

    /// The value for people: `PAID` for one column, `status=PAID total=9.99` for several
    /// (fields the cached value lacks are left out).
    pub fn display(&self, id: ValueId, rule: &Rule) -> String {
        let tuple = self.tuples.get(id.0);
        let mut out = String::new();
        let pairs = match &rule.value {
            ValueShape::Column(_) => &[][..],
            ValueShape::Json(pairs) | ValueShape::Hash(pairs) => &pairs[..],
        };
        if pairs.len() <= 1 {
            if let Some(p) = parts(tuple).next().flatten() {
                normalize::display_into(p, &mut out);
            }
            return out;
        }
        for ((field, _), part) in pairs.iter().zip(parts(tuple)) {
            if let Some(p) = part {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(field);
                out.push('=');
                normalize::display_into(p, &mut out);
            }
        }
        out
    }
}
