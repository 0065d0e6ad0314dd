/*!
A table's best explanation of a key family's sampled writes under one view: the key column (the
one naming the most sampled ids), then the whole value as one column, or the value's fields as
the same-named columns (a field that disagrees with its column in more than a tenth of the writes
is left out; when several paths name one column, the one agreeing most is kept). And the check of
a proposed rule through the mapping's own projection ([`verify`]), which gives the evidence of
every rule read through a decoder.
*/

use std::collections::{BTreeMap, HashMap};

use cachetape_base::FxBuild;

use super::Table;
use super::reading::{Reading, Sample, names};
use crate::mapping::{Rule, ValueShape, tuple};

/// One column's canonical values → the sampled rows holding them.
pub(super) type ColumnIndex<'a> = HashMap<&'a [u8], Vec<usize>, FxBuild>;

/// A table's explanation of a family.
pub(super) struct Candidate {
    /// `schema.table`.
    pub table: String,
    /// The column the key's segment names.
    pub key_column: String,
    /// How the value relates to the row.
    pub value: ValueShape,
    /// Sampled writes whose id names a row of the table.
    pub with_rows: usize,
    /// Of those, the writes that equal a version of their row.
    pub explained: usize,
    /// Fields left out because they often differ from their column.
    pub dropped: Vec<String>,
}

impl Candidate {
    /// How good an explanation is, to compare views: more writes explained, then more fields,
    /// then fewer dotted paths (a decoder that unwraps an envelope beats a path into it).
    pub fn score(&self) -> (usize, usize, std::cmp::Reverse<usize>) {
        let (fields, dotted) = match &self.value {
            ValueShape::Column(_) => (1, 0),
            ValueShape::Json(p) | ValueShape::Hash(p) => {
                (p.len(), p.iter().filter(|(f, _)| f.contains('.')).count())
            }
        };
        (self.explained, fields, std::cmp::Reverse(dotted))
    }

    /// True when another reading could not do better: every write naming a row equals a version
    /// of it, through top-level fields, none left out.
    pub fn perfect(&self) -> bool {
        self.explained == self.with_rows && self.score().2.0 == 0 && self.dropped.is_empty()
    }
}

/// The sampled row versions of `t` that `id` names by column `key_col`.
pub(super) fn rows_of<'i>(index: &'i [ColumnIndex<'_>], key_col: usize, id: &[u8]) -> &'i [usize] {
    index[key_col].get(id).map_or(&[][..], |v| &v[..])
}

/// The key column of `t` for `ids`: the one naming the most, `id` on a tie.
pub(super) fn key_column(t: &Table, index: &[ColumnIndex<'_>], ids: &[Vec<u8>]) -> Option<usize> {
    let mut key_col = None;
    let mut most = 0;
    for (c, ix) in index.iter().enumerate() {
        let n = ids.iter().filter(|id| ix.contains_key(&id[..])).count();
        let better = n > most
            || (n == most
                && n > 0
                && t.columns[c] == "id"
                && key_col.is_some_and(|k: usize| t.columns[k] != "id"));
        if better {
            most = n;
            key_col = Some(c);
        }
    }
    key_col
}

/// A value's fields that name columns: (column, path, canonical value).
type Named<'r> = Vec<(usize, &'r str, &'r [u8])>;

/// Per path: (writes agreeing with the column, writes having the field, the column).
type Agreement = BTreeMap<String, (usize, usize, usize)>;

/// The best explanation of the family by table `name` whose column `key_col` the ids name, from
/// the samples' `readings` (one per sample; `None` where the view cannot read it).
pub(super) fn best_for_table(
    name: &str,
    t: &Table,
    index: &[ColumnIndex<'_>],
    key_col: usize,
    ids: &[Vec<u8>],
    readings: &[Option<Reading>],
) -> Option<Candidate> {
    let rows_of = |id: &[u8]| rows_of(index, key_col, id);

    // 1. The whole value is one column.
    let mut by_column = vec![0usize; t.columns.len()];
    // 2./3. Fields ↔ same-named columns.
    let mut agreement: Agreement = BTreeMap::new();
    let mut doc_samples = 0usize;
    let mut kind_hash = 0usize;
    let mut docs: Vec<(usize, Named<'_>)> = Vec::new();
    for (s, reading) in readings.iter().enumerate() {
        let rows = rows_of(&ids[s]);
        let Some(reading) = reading else { continue };
        if rows.is_empty() {
            continue;
        }
        if let Some(whole) = &reading.whole {
            for (c, count) in by_column.iter_mut().enumerate() {
                if rows.iter().any(|&r| t.rows[r][c] == *whole) {
                    *count += 1;
                }
            }
        }
        if reading.hash {
            kind_hash += 1;
        }
        let Some(fields) = &reading.fields else { continue };
        let named: Named<'_> = fields
            .iter()
            .filter_map(|f| {
                let exact = t.columns.iter().position(|c| *c == f.name);
                let c = exact.or_else(|| t.columns.iter().position(|c| names(f, c)))?;
                Some((c, f.path.as_str(), &f.value[..]))
            })
            .collect();
        if named.is_empty() {
            continue;
        }
        doc_samples += 1;
        // The row version agreeing on the most fields decides which fields agree.
        let best_row = rows
            .iter()
            .max_by_key(|&&r| named.iter().filter(|(c, _, v)| t.rows[r][*c] == *v).count())
            .copied()
            .expect("rows is not empty");
        for (c, path, v) in &named {
            let e = agreement.entry(path.to_string()).or_insert((0, 0, *c));
            e.1 += 1;
            if t.rows[best_row][*c] == *v {
                e.0 += 1;
            }
        }
        docs.push((s, named));
    }
    let with_rows = ids.iter().filter(|id| !rows_of(id).is_empty()).count();
    let mut best: Option<Candidate> = None;
    if let Some((c, &n)) = by_column.iter().enumerate().max_by_key(|(c, n)| (**n, usize::MAX - c))
        && n > 0
    {
        best = Some(Candidate {
            table: name.to_string(),
            key_column: t.columns[key_col].clone(),
            value: ValueShape::Column(t.columns[c].clone()),
            with_rows,
            explained: n,
            dropped: Vec::new(),
        });
    }
    if doc_samples == 0 {
        return best;
    }
    let kept = |(agree, present, _): &(usize, usize, usize)| *agree * 10 >= *present * 9;
    // Per column, the kept path agreeing most (then the shallower, then the first by name).
    let mut chosen: Vec<Option<&str>> = vec![None; t.columns.len()];
    for (path, a) in agreement.iter().filter(|(_, a)| kept(a)) {
        let slot = &mut chosen[a.2];
        let better = slot.is_none_or(|old| {
            let o = &agreement[old];
            let depth = |p: &str| p.matches('.').count();
            (a.0, a.1, std::cmp::Reverse(depth(path))) > (o.0, o.1, std::cmp::Reverse(depth(old)))
        });
        if better {
            *slot = Some(path.as_str());
        }
    }
    // Left out: fields that often differ, unless a nested path whose column another path holds
    // (`customer.id` beside the order's own `id`).
    let dropped: Vec<String> = agreement
        .iter()
        .filter(|(p, a)| {
            let shadowed = p.contains('.') && chosen[a.2].is_some();
            !kept(a) && !shadowed
        })
        .map(|(p, _)| p.clone())
        .collect();
    // The table's column order; by field when a field is named otherwise than its column (a
    // mapping's `json = { field = "column" }` table reads back in that order).
    let mut pairs: Vec<(String, String)> = chosen
        .iter()
        .enumerate()
        .filter_map(|(c, p)| p.map(|p| (p.to_string(), t.columns[c].clone())))
        .collect();
    if pairs.is_empty() {
        return best;
    }
    if pairs.iter().any(|(f, c)| f != c) {
        pairs.sort();
    }
    let explained = docs
        .iter()
        .filter(|(sample, named)| {
            // Some version of the row agrees on every kept field the value has.
            rows_of(&ids[*sample]).iter().any(|&r| {
                named
                    .iter()
                    .filter(|(c, p, _)| chosen[*c] == Some(*p))
                    .all(|(c, _, v)| t.rows[r][*c] == *v)
            })
        })
        .count();
    let value =
        if kind_hash * 2 > doc_samples { ValueShape::Hash(pairs) } else { ValueShape::Json(pairs) };
    if best.as_ref().is_none_or(|b| explained > b.explained) {
        best = Some(Candidate {
            table: name.to_string(),
            key_column: t.columns[key_col].clone(),
            value,
            with_rows,
            explained,
            dropped,
        });
    }
    best
}

/// The sampled writes naming a row of `t` whose projection under `rule` (its decoder, its
/// fields) agrees with a version of that row, counted through the mapping's own projection.
pub(super) fn verify(
    rule: &Rule,
    t: &Table,
    index: &[ColumnIndex<'_>],
    ids: &[Vec<u8>],
    samples: &[(Vec<u8>, Sample)],
) -> usize {
    let Some(key_col) = t.columns.iter().position(|c| *c == rule.row[0].0) else { return 0 };
    let cols: Vec<Option<usize>> =
        rule.columns().iter().map(|c| t.columns.iter().position(|x| x == c)).collect();
    let (mut served, mut db) = (Vec::new(), Vec::new());
    let mut explained = 0;
    for (s, (_, sample)) in samples.iter().enumerate() {
        let rows = rows_of(index, key_col, &ids[s]);
        if rows.is_empty() {
            continue;
        }
        let projected = match sample {
            Sample::Text(v) => rule.project_string(v, &mut served),
            Sample::Hash(pairs) => rule.project_hash(
                |f| pairs.iter().find(|(k, _)| k == f).map(|(_, v)| &v[..]),
                &mut served,
            ),
        };
        if projected.is_err() {
            continue;
        }
        let agrees = rows.iter().any(|&r| {
            db.clear();
            for c in &cols {
                let cell = c.map(|c| &t.rows[r][c][..]).filter(|v| !v.is_empty());
                tuple::push_part(&mut db, cell);
            }
            tuple::parts(&served).zip(tuple::parts(&db)).all(|(a, b)| a.is_none() || a == b)
        });
        if agrees {
            explained += 1;
        }
    }
    explained
}
