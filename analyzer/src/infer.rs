/*!
`map --infer`: a mapping proposed from the trace alone, with the evidence for each rule.

Keys written by SET-like commands are grouped by shape (`order:42` → `order:{…}`, the last
`:`-separated segment being the row id). Row images of every table (before and after, so every
version the trace saw) are kept, up to a bound. A shape maps to a table when its ids name rows of
that table by some column (the key column: the one naming the most rows) and its written values
equal those rows: the whole value equals one column, or the value is a JSON object (or a hash)
whose fields equal the same-named columns. The best-explained table wins; fields that disagree
with their column in more than a tenth of the writes are left out. Every choice is reported with
its counts, so a person can check it before trusting it.
*/

use std::collections::{BTreeMap, HashMap};

use cachetape_base::FxBuild;
use cachetape_replayer::Command;
use cachetape_tape::{Argv, Event, EventBody, RowImage};

use crate::mapping::{KeyPart, Mapping, Rule, ValueShape};
use crate::normalize;

/// Written values kept per key shape.
const SAMPLES_PER_SHAPE: usize = 2_000;
/// Row images kept per table.
const ROWS_PER_TABLE: usize = 50_000;

enum Sample {
    Text(Vec<u8>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
}

#[derive(Default)]
struct Shape {
    writes: u64,
    samples: Vec<(Vec<u8>, Sample)>,
}

#[derive(Default)]
struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<Vec<u8>>>,
    images: u64,
}

/// Collects evidence for a mapping while events stream by.
#[derive(Default)]
pub struct Inference {
    shapes: BTreeMap<Vec<u8>, Shape>,
    tables: BTreeMap<String, Table>,
}

/// A proposed mapping and why.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InferredMapping {
    /// The rules.
    pub mapping: Mapping,
    /// For each rule, the evidence (one line).
    pub evidence: Vec<String>,
    /// Key shapes written in the trace that no table explains.
    pub unmapped: Vec<String>,
}

impl InferredMapping {
    /// The mapping as TOML, each rule preceded by its evidence as comments.
    pub fn to_toml(&self, trace: &str) -> String {
        let mut out = format!("# Mapping inferred by `cachetape map --infer` from {trace}.\n");
        out.push_str("# Check each rule's evidence before trusting it; edit freely.\n\n");
        for (rule, why) in self.mapping.rules.iter().zip(&self.evidence) {
            out.push_str(&format!("# {why}\n"));
            out.push_str(&rule.to_toml());
            out.push('\n');
        }
        for u in &self.unmapped {
            out.push_str(&format!("# not mapped: {u}\n"));
        }
        out
    }
}

/// A key's shape: its prefix up to its last `:` and the id after it (`order:42` → `order:`,
/// `42`); `None` when either is empty. The analysis' key families group keys the same way.
pub(crate) fn shape_of(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = key.iter().rposition(|&b| b == b':')?;
    let (prefix, id) = (&key[..=at], &key[at + 1..]);
    (!id.is_empty() && !prefix.is_empty()).then_some((prefix, id))
}

fn canon_text(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    normalize::text(b, &mut out);
    out
}

impl Inference {
    /// Takes the next event.
    pub fn push(&mut self, event: &Event) {
        match &event.body {
            EventBody::Redis(rc) => {
                self.command(&rc.argv);
                for call in &rc.script {
                    self.command(&call.argv);
                }
            }
            EventBody::Row(change) => {
                let t = self.tables.entry(change.table.to_string()).or_default();
                for image in [&change.before, &change.after].into_iter().flatten() {
                    t.images += 1;
                    if t.columns.is_empty() {
                        t.columns = image.cells.iter().map(|c| c.column.to_string()).collect();
                    }
                    if t.rows.len() < ROWS_PER_TABLE {
                        t.rows.push(row_cells(&t.columns, image));
                    }
                }
            }
            _ => {}
        }
    }

    fn command(&mut self, argv: &Argv) {
        let args: Vec<&[u8]> = argv.iter().collect();
        let text = |key: &[u8], value: &[u8], shapes: &mut BTreeMap<Vec<u8>, Shape>| {
            if let Some((prefix, id)) = shape_of(key) {
                let s = shapes.entry(prefix.to_vec()).or_default();
                s.writes += 1;
                if s.samples.len() < SAMPLES_PER_SHAPE {
                    s.samples.push((id.to_vec(), Sample::Text(value.to_vec())));
                }
            }
        };
        match Command::of(argv) {
            Command::Set | Command::SetNx | Command::GetSet if args.len() >= 3 => {
                text(args[1], args[2], &mut self.shapes)
            }
            Command::SetEx | Command::PSetEx if args.len() >= 4 => {
                text(args[1], args[3], &mut self.shapes)
            }
            Command::MSet | Command::MSetNx => {
                for pair in args[1..].chunks(2) {
                    if let [k, v] = pair {
                        text(k, v, &mut self.shapes);
                    }
                }
            }
            Command::HSet | Command::HMSet if args.len() >= 4 => {
                if let Some((prefix, id)) = shape_of(args[1]) {
                    let s = self.shapes.entry(prefix.to_vec()).or_default();
                    s.writes += 1;
                    if s.samples.len() < SAMPLES_PER_SHAPE {
                        let pairs = args[2..]
                            .chunks(2)
                            .filter_map(|p| match p {
                                [f, v] => Some((f.to_vec(), v.to_vec())),
                                _ => None,
                            })
                            .collect();
                        s.samples.push((id.to_vec(), Sample::Hash(pairs)));
                    }
                }
            }
            _ => {}
        }
    }

    /// The proposed mapping.
    pub fn finish(self) -> InferredMapping {
        let mut indexes: BTreeMap<&str, Vec<ColumnIndex<'_>>> = BTreeMap::new();
        for (name, t) in &self.tables {
            let mut per_col: Vec<ColumnIndex<'_>> = vec![HashMap::default(); t.columns.len()];
            for (r, row) in t.rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    if let Some(ix) = per_col.get_mut(c) {
                        ix.entry(&v[..]).or_default().push(r);
                    }
                }
            }
            indexes.insert(name, per_col);
        }
        let mut shapes: Vec<(&Vec<u8>, &Shape)> = self.shapes.iter().collect();
        shapes.sort_by(|a, b| b.1.writes.cmp(&a.1.writes).then(a.0.cmp(b.0)));
        let mut out = InferredMapping::default();
        for (prefix, shape) in shapes {
            let prefix_text = String::from_utf8_lossy(prefix).into_owned();
            let mut best: Option<Candidate> = None;
            for (name, t) in &self.tables {
                let index = &indexes[name.as_str()];
                if let Some(c) = best_for_table(name, t, index, shape)
                    && best.as_ref().is_none_or(|b| c.explained > b.explained)
                {
                    best = Some(c);
                }
            }
            match best {
                Some(c) if c.explained > 0 && c.explained * 2 >= c.with_rows => {
                    let placeholder: String = c
                        .key_column
                        .chars()
                        .map(|ch| if ch.is_ascii_alphanumeric() || ch == '_' { ch } else { '_' })
                        .collect();
                    let key = format!("{prefix_text}{{{placeholder}}}");
                    let what = match &c.value {
                        ValueShape::Column(col) => format!("column {col}"),
                        ValueShape::Json(p) => format!(
                            "a JSON rendering of the row (fields {})",
                            p.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                        ValueShape::Hash(p) => format!(
                            "a hash of the row's columns (fields {})",
                            p.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    };
                    out.evidence.push(format!(
                        "{key} → {} where {} = {{{placeholder}}}: {} writes seen, {} of {} sampled \
                         name a row of the table by {}, {} of those equal {what} of a version of \
                         that row{}",
                        c.table,
                        c.key_column,
                        shape.writes,
                        c.with_rows,
                        shape.samples.len(),
                        c.key_column,
                        c.explained,
                        if c.dropped.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " (fields left out, they often differ: {})",
                                c.dropped.join(", ")
                            )
                        }
                    ));
                    out.mapping.rules.push(Rule {
                        key: key.clone(),
                        parts: vec![
                            KeyPart::Literal(prefix.clone()),
                            KeyPart::Placeholder(placeholder.clone()),
                        ],
                        table: c.table.clone(),
                        row: vec![(c.key_column.clone(), placeholder)],
                        value: c.value,
                        node: None,
                        redis_db: None,
                        decode: crate::decode::Codec::Auto,
                    });
                }
                _ => out.unmapped.push(format!(
                    "{prefix_text}{{…}} ({} writes): no table's rows match its ids and values",
                    shape.writes
                )),
            }
        }
        out
    }
}

/// One column's canonical values → the sampled rows holding them.
type ColumnIndex<'a> = HashMap<&'a [u8], Vec<usize>, FxBuild>;

/// A value's fields that name columns: (column index, canonical value).
type NamedFields = Vec<(usize, Vec<u8>)>;

struct Candidate {
    table: String,
    key_column: String,
    value: ValueShape,
    with_rows: usize,
    explained: usize,
    dropped: Vec<String>,
}

fn row_cells(columns: &[String], image: &RowImage) -> Vec<Vec<u8>> {
    columns
        .iter()
        .map(|c| {
            let mut out = Vec::new();
            if let Some(v) = image.get(c) {
                normalize::column(v, &mut out);
            }
            out
        })
        .collect()
}

fn best_for_table(
    name: &str,
    t: &Table,
    index: &[ColumnIndex<'_>],
    shape: &Shape,
) -> Option<Candidate> {
    // The key column: the one naming the most sampled ids.
    let ids: Vec<Vec<u8>> = shape.samples.iter().map(|(id, _)| canon_text(id)).collect();
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
    let key_col = key_col?;
    let rows_of = |id: &[u8]| index[key_col].get(id).map_or(&[][..], |v| &v[..]);

    // 1. The whole value is one column.
    let mut by_column = vec![0usize; t.columns.len()];
    // 2./3. JSON or hash fields ↔ same-named columns.
    let mut field_agree: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut doc_samples = 0usize;
    let mut kind_hash = 0usize;
    // (sample, [(column, canonical field value)]) of every JSON or hash sample.
    let mut docs: Vec<(usize, NamedFields)> = Vec::new();
    for (s, (_, sample)) in shape.samples.iter().enumerate() {
        let rows = rows_of(&ids[s]);
        if rows.is_empty() {
            continue;
        }
        let fields: Option<Vec<(String, Vec<u8>)>> = match sample {
            Sample::Text(v) => {
                let canon = canon_text(v);
                for (c, count) in by_column.iter_mut().enumerate() {
                    if rows.iter().any(|&r| t.rows[r][c] == canon) {
                        *count += 1;
                    }
                }
                serde_json::from_slice::<serde_json::Value>(v).ok().and_then(|doc| {
                    let obj = doc.as_object()?;
                    Some(
                        obj.iter()
                            .map(|(k, v)| {
                                let mut out = Vec::new();
                                normalize::json(v, &mut out);
                                (k.clone(), out)
                            })
                            .collect(),
                    )
                })
            }
            Sample::Hash(pairs) => {
                kind_hash += 1;
                Some(
                    pairs
                        .iter()
                        .map(|(f, v)| (String::from_utf8_lossy(f).into_owned(), canon_text(v)))
                        .collect(),
                )
            }
        };
        if let Some(fields) = fields {
            let named: Vec<(usize, Vec<u8>)> = fields
                .into_iter()
                .filter_map(|(f, v)| t.columns.iter().position(|c| *c == f).map(|c| (c, v)))
                .collect();
            if named.is_empty() {
                continue;
            }
            doc_samples += 1;
            // The row version agreeing on the most fields decides which fields agree.
            let best_row = rows
                .iter()
                .max_by_key(|&&r| named.iter().filter(|(c, v)| t.rows[r][*c] == *v).count())
                .copied()
                .expect("rows is not empty");
            for (c, v) in &named {
                let e = field_agree.entry(t.columns[*c].clone()).or_default();
                e.1 += 1;
                if t.rows[best_row][*c] == *v {
                    e.0 += 1;
                }
            }
            docs.push((s, named));
        }
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
    if doc_samples > 0 {
        let keep: Vec<String> = field_agree
            .iter()
            .filter(|(_, (agree, present))| *agree * 10 >= *present * 9)
            .map(|(f, _)| f.clone())
            .collect();
        let dropped: Vec<String> =
            field_agree.keys().filter(|f| !keep.contains(f)).cloned().collect();
        // Keep the table's column order.
        let keep: Vec<String> = t.columns.iter().filter(|c| keep.contains(c)).cloned().collect();
        if !keep.is_empty() {
            let keep_ix: Vec<usize> =
                keep.iter().filter_map(|k| t.columns.iter().position(|c| c == k)).collect();
            let explained = docs
                .iter()
                .filter(|(sample, named)| {
                    // Some version of the row agrees on every kept field the value has.
                    rows_of(&ids[*sample]).iter().any(|&r| {
                        named
                            .iter()
                            .filter(|(c, _)| keep_ix.contains(c))
                            .all(|(c, v)| t.rows[r][*c] == *v)
                    })
                })
                .count();
            let pairs: Vec<(String, String)> =
                keep.iter().map(|k| (k.clone(), k.clone())).collect();
            let value = if kind_hash * 2 > doc_samples {
                ValueShape::Hash(pairs)
            } else {
                ValueShape::Json(pairs)
            };
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
        }
    }
    best
}
