/*!
`map --infer`: a mapping proposed from the trace alone, with the evidence for each rule.

Keys written by SET-like commands are grouped by shape (`order:42` → `order:{…}`, the segment
after the last `:` or `/` being the row id; see [`shape`] for the framework key shapes this
covers). Row images of every table (before and after, so every version the trace saw) are kept,
up to a bound, and so are the first writes of each shape. A shape maps to a table when its ids
name rows of that table by some column (the key column: the one naming the most rows) and its
written values equal those rows: the whole value equals one column, or the value is an object
(JSON, a hash, or anything a decoder reads) whose fields equal the same-named columns. The
best-explained table wins; fields that disagree with their column in more than a tenth of the
writes are left out. Every choice is reported with its counts, so a person can check it before
trusting it.

Values are read in turn as they are (plain text and JSON, as inference always has), then as
`decode = "auto"` reads them (formats announced by their first bytes, compression, and fields one
level down as dotted paths), then through each other codec ([`crate::decode::Codec::ALL`]) that
reads most of the first writes differently from their plain text. A later reading replaces an
earlier one only when it explains more writes, or as many with more fields, or with fewer dotted
paths (a decoder that unwraps an envelope beats a path into it). The later readings are only tried
when the plain one leaves writes unexplained, needs a dotted path, or the values announce a
format, so plain JSON families cost what they always did.

**The decoder written into the rule.** A rule read through a decoder says so: `decode = "pickle"`
(or `keyv`, `msgpack`, …) whenever the values are not plain text or JSON, even when `auto` would
detect the format — the file then documents what the values are, and the projection skips
detection. The exceptions: a family whose values `auto` reads through *different* decoders (say
Flask-Caching's pickles beside its integers stored as digits) keeps `auto` when naming one decoder
would lose writes, and compressed JSON keeps `auto` (it is JSON). The evidence of a rule read
through a decoder is counted through the mapping's own projection of that very rule: "797 writes
seen, 797 of 797 sampled decode as pickle, 790 name a row …, 790 of those equal a version of that
row".
*/

mod candidate;
mod reading;
mod shape;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use cachetape_replayer::Command;
use cachetape_tape::{Argv, Event, EventBody, RowImage};

use crate::decode::{self, Codec, Limits};
use crate::mapping::{KeyPart, Mapping, Rule, ValueShape};
use crate::normalize;
use candidate::{Candidate, ColumnIndex, best_for_table, key_column, verify};
use reading::{Reading, Sample, View, canon_text, codec_differs, read};
use shape::placeholder;
pub(crate) use shape::shape_of;

/// Written values kept per key shape (the first ones: deterministic).
const SAMPLES_PER_SHAPE: usize = 2_000;
/// Row images kept per table.
const ROWS_PER_TABLE: usize = 50_000;
/// Writes a codec is first tried on, before it reads the whole sample.
const CODEC_PROBE: usize = 32;

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
            let family = Family::new(&self.tables, &indexes, prefix, shape);
            match family.choose() {
                Some(choice)
                    if choice.cand.explained > 0
                        && choice.cand.explained * 2 >= choice.cand.with_rows =>
                {
                    let (rule, evidence) = family.rule(choice);
                    out.evidence.push(evidence);
                    out.mapping.rules.push(rule);
                }
                _ => out.unmapped.push(family.unmapped()),
            }
        }
        out
    }
}

/// A reading's explanation of a family, and what a rule needs to say it.
struct Choice {
    cand: Candidate,
    view: View,
    /// The rule's `decode`.
    codec: Codec,
    /// The readings behind it (none for the plain view), for the evidence.
    readings: Vec<Option<Reading>>,
}

/// One key family while its rule is chosen.
struct Family<'a> {
    tables: &'a BTreeMap<String, Table>,
    indexes: &'a BTreeMap<&'a str, Vec<ColumnIndex<'a>>>,
    prefix: &'a [u8],
    shape: &'a Shape,
    /// The sampled ids, canonical.
    ids: Vec<Vec<u8>>,
    /// Per table (in name order), the key column the ids name, if any.
    keys: Vec<Option<usize>>,
}

impl<'a> Family<'a> {
    fn new(
        tables: &'a BTreeMap<String, Table>,
        indexes: &'a BTreeMap<&'a str, Vec<ColumnIndex<'a>>>,
        prefix: &'a [u8],
        shape: &'a Shape,
    ) -> Self {
        let ids: Vec<Vec<u8>> = shape.samples.iter().map(|(id, _)| canon_text(id)).collect();
        let keys =
            tables.iter().map(|(name, t)| key_column(t, &indexes[name.as_str()], &ids)).collect();
        Family { tables, indexes, prefix, shape, ids, keys }
    }

    fn prefix_text(&self) -> String {
        String::from_utf8_lossy(self.prefix).into_owned()
    }

    /// The best table's explanation of `readings`.
    fn best(&self, readings: &[Option<Reading>]) -> Option<(Candidate, &'a str)> {
        let mut best: Option<(Candidate, &str)> = None;
        for ((name, t), key) in self.tables.iter().zip(&self.keys) {
            let Some(key_col) = *key else { continue };
            let index = &self.indexes[name.as_str()];
            if let Some(c) = best_for_table(name, t, index, key_col, &self.ids, readings)
                && best.as_ref().is_none_or(|b| c.explained > b.0.explained)
            {
                best = Some((c, name.as_str()));
            }
        }
        best
    }

    /// The best explanation of the family over every reading worth trying.
    fn choose(&self) -> Option<Choice> {
        let plain: Vec<Option<Reading>> =
            self.shape.samples.iter().map(|(_, s)| read(s, View::Plain)).collect();
        let mut best = self.best(&plain).map(|(cand, _)| Choice {
            cand,
            view: View::Plain,
            codec: Codec::Auto,
            readings: Vec::new(),
        });
        if self.keys.iter().all(Option::is_none) {
            return best;
        }
        let announced = self
            .shape
            .samples
            .iter()
            .any(|(_, s)| matches!(s, Sample::Text(v) if decode::needs_decoding(v)));
        if announced || best.as_ref().is_none_or(|b| !b.cand.perfect()) {
            best = better(best, self.decoded(View::Auto));
        }
        if best.as_ref().is_none_or(|b| !b.cand.perfect()) {
            for c in Codec::ALL {
                if matches!(c, Codec::Auto | Codec::Raw | Codec::Json) || !self.worth(c) {
                    continue;
                }
                best = better(best, self.decoded(View::Codec(c)));
            }
        }
        best
    }

    /// True when `c` reads most of the first text writes, differently from their plain text.
    fn worth(&self, c: Codec) -> bool {
        let probe: Vec<&Sample> = self
            .shape
            .samples
            .iter()
            .map(|(_, s)| s)
            .filter(|s| matches!(s, Sample::Text(_)))
            .take(CODEC_PROBE)
            .collect();
        let differ = probe.iter().filter(|s| codec_differs(s, c)).count();
        differ > 0 && differ * 2 >= probe.len()
    }

    /// The explanation through a decoding view, counted through the rule's own projection.
    fn decoded(&self, view: View) -> Option<Choice> {
        let readings: Vec<Option<Reading>> =
            self.shape.samples.iter().map(|(_, s)| read(s, view)).collect();
        let (cand, table) = self.best(&readings)?;
        // The decoders a rule could name: the view's codec, or the one `auto` used for every
        // value it decoded (else `auto` itself).
        let codecs = match view {
            View::Codec(c) => vec![c],
            _ => {
                let mut used: Vec<Codec> = readings
                    .iter()
                    .flatten()
                    .map(|r| r.codec)
                    .filter(|c| !matches!(c, Codec::Raw | Codec::Json))
                    .collect();
                used.sort();
                used.dedup();
                match used[..] {
                    [one] => vec![one, Codec::Auto],
                    _ => vec![Codec::Auto],
                }
            }
        };
        let t = &self.tables[table];
        let index = &self.indexes[table];
        let mut choice: Option<Choice> = None;
        for codec in codecs {
            let rule = self.make_rule(&cand, codec);
            let explained = verify(&rule, t, index, &self.ids, &self.shape.samples);
            if choice.as_ref().is_none_or(|c| explained > c.cand.explained) {
                let cand = Candidate {
                    table: cand.table.clone(),
                    key_column: cand.key_column.clone(),
                    value: cand.value.clone(),
                    with_rows: cand.with_rows,
                    explained,
                    dropped: cand.dropped.clone(),
                };
                choice = Some(Choice { cand, view, codec, readings: Vec::new() });
            }
        }
        choice.map(|c| Choice { readings, ..c })
    }

    fn make_rule(&self, c: &Candidate, codec: Codec) -> Rule {
        let ph = placeholder(&c.key_column);
        Rule {
            key: format!("{}{{{ph}}}", self.prefix_text()),
            parts: vec![KeyPart::Literal(self.prefix.to_vec()), KeyPart::Placeholder(ph.clone())],
            table: c.table.clone(),
            row: vec![(c.key_column.clone(), ph)],
            value: c.value.clone(),
            node: None,
            redis_db: None,
            decode: codec,
        }
    }

    /// The rule of `choice` and its evidence.
    fn rule(&self, choice: Choice) -> (Rule, String) {
        let rule = self.make_rule(&choice.cand, choice.codec);
        let c = &choice.cand;
        let ph = placeholder(&c.key_column);
        let dropped = if c.dropped.is_empty() {
            String::new()
        } else {
            format!(" (fields left out, they often differ: {})", c.dropped.join(", "))
        };
        let fields = |p: &[(String, String)]| {
            p.iter()
                .map(|(f, col)| if f == col { f.clone() } else { format!("{f} → {col}") })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let evidence = if choice.view == View::Plain {
            let what = match &c.value {
                ValueShape::Column(col) => format!("column {col}"),
                ValueShape::Json(p) => {
                    format!("a JSON rendering of the row (fields {})", fields(p))
                }
                ValueShape::Hash(p) => {
                    format!("a hash of the row's columns (fields {})", fields(p))
                }
            };
            format!(
                "{} → {} where {} = {{{ph}}}: {} writes seen, {} of {} sampled name a row of the \
                 table by {}, {} of those equal {what} of a version of that row{dropped}",
                rule.key,
                c.table,
                c.key_column,
                self.shape.writes,
                c.with_rows,
                self.shape.samples.len(),
                c.key_column,
                c.explained,
            )
        } else {
            let what = match &c.value {
                ValueShape::Column(col) => format!("column {col} of"),
                ValueShape::Json(p) | ValueShape::Hash(p) => {
                    format!("the fields ({}) of", fields(p))
                }
            };
            format!(
                "{} → {} where {} = {{{ph}}}: {} writes seen, {} of {} sampled decode as {}, {} \
                 name a row of the table by {}, {} of those equal {what} a version of that \
                 row{dropped}",
                rule.key,
                c.table,
                c.key_column,
                self.shape.writes,
                choice.readings.iter().flatten().count(),
                self.shape.samples.len(),
                formats(&choice.readings),
                c.with_rows,
                c.key_column,
                c.explained,
            )
        };
        (rule, evidence)
    }

    /// Why the family is not mapped.
    fn unmapped(&self) -> String {
        let texts: Vec<&[u8]> = self
            .shape
            .samples
            .iter()
            .filter_map(|(_, s)| match s {
                Sample::Text(v) => Some(&v[..]),
                Sample::Hash(_) => None,
            })
            .collect();
        let unread: Vec<&[u8]> = texts
            .iter()
            .copied()
            .filter(|v| {
                decode::needs_decoding(v)
                    && decode::decode(v, Codec::Auto, &Limits::default()).is_err()
            })
            .collect();
        let head = format!("{}{{…}} ({} writes)", self.prefix_text(), self.shape.writes);
        match unread.first() {
            Some(first) if unread.len() * 2 > texts.len() => format!(
                "{head}: no decoder reads {} of {} sampled values, the first starting {}",
                unread.len(),
                texts.len(),
                decode::describe_undecodable(first)
            ),
            _ => format!("{head}: no table's rows match its ids and values"),
        }
    }
}

/// `new` when it explains the family better than `old`.
fn better(old: Option<Choice>, new: Option<Choice>) -> Option<Choice> {
    match (old, new) {
        (Some(o), Some(n)) if n.cand.score() > o.cand.score() => Some(n),
        (Some(o), _) => Some(o),
        (None, n) => n,
    }
}

/// What the readings were read as: `pickle`, or `pickle (790), text (7)`.
fn formats(readings: &[Option<Reading>]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in readings.iter().flatten() {
        *counts.entry(r.label.as_str()).or_default() += 1;
    }
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    match &counts[..] {
        [] => "nothing".into(),
        [(one, _)] => one.to_string(),
        many => many.iter().map(|(f, n)| format!("{f} ({n})")).collect::<Vec<_>>().join(", "),
    }
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
