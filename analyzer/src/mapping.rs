/*!
The key→row mapping: which cache keys hold which database rows, and how a cached value is
compared with the row.

A mapping file is TOML, one `[[rule]]` per key family:

```toml
[[rule]]
key = "order:{id}"          # a key pattern; each {name} is one key segment (no ':' inside)
table = "shop.orders"       # schema.table
# row = { id = "{id}" }     # the row's key columns (default: one column per placeholder name)
json = ["id", "status", "total"]   # the value is JSON; these fields equal the same columns
# json = { state = "status" }      # …or fields named differently from their columns
# column = "status"                # the value is one column
# hash = ["status", "total"]       # the value is a Redis hash; fields ↔ columns
# node = "cache-1"                 # only keys of this Redis source (default: every node)
# redis_db = 0                     # only keys of this db index (default: every db)
```

Values are compared in normalized form ([`crate::normalize`]): a projection is the tuple of a
rule's columns, each canonical, interned in a [`ValueTable`] so that the oracle compares numbers
([`ValueId`]s), never bytes. A JSON document or hash that lacks some mapped fields projects to a
*partial* tuple, compared on the fields it has; one with none of them cannot be reconciled.
*/

use std::fmt;

use cachetape_tape::RowImage;

use crate::keyindex::Interner;
use crate::normalize;

/// A parsed mapping: rules in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping {
    /// The rules; the first that matches a key wins.
    pub rules: Vec<Rule>,
}

/// How a cached value relates to its row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueShape {
    /// The value is one column's value.
    Column(String),
    /// The value is a JSON object: (field, column) pairs.
    Json(Vec<(String, String)>),
    /// The value is a Redis hash: (field, column) pairs.
    Hash(Vec<(String, String)>),
}

/// One piece of a key pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPart {
    /// Literal bytes.
    Literal(Vec<u8>),
    /// A `{name}` placeholder: one non-empty segment without `:`.
    Placeholder(String),
}

/// One `[[rule]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The key pattern as written (`order:{id}`).
    pub key: String,
    /// The pattern, parsed.
    pub parts: Vec<KeyPart>,
    /// `schema.table`.
    pub table: String,
    /// The row's key columns and the placeholder each is read from.
    pub row: Vec<(String, String)>,
    /// How the value maps to columns.
    pub value: ValueShape,
    /// Only keys of this Redis source (node name).
    pub node: Option<String>,
    /// Only keys of this db index.
    pub redis_db: Option<u32>,
}

/// A mapping problem, worded for the person who wrote the file.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// Not TOML.
    #[error("the mapping is not valid TOML: {0}")]
    Toml(String),
    /// A rule is malformed.
    #[error("{rule}: {message}")]
    Rule {
        /// `rule 2 (order:{id})`.
        rule: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A rule names a table the trace never shows.
    #[error(
        "{rule} names table `{table}`, which no row change in the trace touches (tables in the \
         trace: {seen}); fix the name, or drop the rule if that table truly did not change while \
         recording"
    )]
    UnknownTable {
        /// The rule.
        rule: String,
        /// The table it names.
        table: String,
        /// Tables the trace has, comma-separated.
        seen: String,
    },
    /// A rule names a column its table does not have.
    #[error(
        "{rule} names column `{column}`, which table `{table}` does not have (its columns: {columns})"
    )]
    UnknownColumn {
        /// The rule.
        rule: String,
        /// The column it names.
        column: String,
        /// The table.
        table: String,
        /// The table's columns, comma-separated.
        columns: String,
    },
}

impl Rule {
    /// `rule 2 (order:{id})`, for messages.
    pub fn label(&self, index: usize) -> String {
        format!("rule {} ({})", index + 1, self.key)
    }

    /// The columns a projection holds, in order.
    pub fn columns(&self) -> Vec<&str> {
        match &self.value {
            ValueShape::Column(c) => vec![c.as_str()],
            ValueShape::Json(pairs) | ValueShape::Hash(pairs) => {
                pairs.iter().map(|(_, c)| c.as_str()).collect()
            }
        }
    }

    /// The fields (JSON or hash) of the projection, in column order; the column itself for a
    /// column rule.
    pub fn fields(&self) -> Vec<&str> {
        match &self.value {
            ValueShape::Column(c) => vec![c.as_str()],
            ValueShape::Json(pairs) | ValueShape::Hash(pairs) => {
                pairs.iter().map(|(f, _)| f.as_str()).collect()
            }
        }
    }

    /// Matches `key` and returns the placeholder values in pattern order.
    pub fn match_key<'k>(&self, key: &'k [u8], holes: &mut Vec<&'k [u8]>) -> bool {
        holes.clear();
        let mut rest = key;
        let mut i = 0;
        while i < self.parts.len() {
            match &self.parts[i] {
                KeyPart::Literal(lit) => {
                    if !rest.starts_with(lit) {
                        return false;
                    }
                    rest = &rest[lit.len()..];
                }
                KeyPart::Placeholder(_) => {
                    let end = match self.parts.get(i + 1) {
                        Some(KeyPart::Literal(lit)) => match find(rest, lit) {
                            Some(at) => at,
                            None => return false,
                        },
                        _ => rest.len(),
                    };
                    let seg = &rest[..end];
                    if seg.is_empty() || seg.contains(&b':') {
                        return false;
                    }
                    holes.push(seg);
                    rest = &rest[end..];
                }
            }
            i += 1;
        }
        rest.is_empty()
    }

    /// Checks the rule's columns against a table's columns.
    pub fn check_columns(&self, index: usize, columns: &[&str]) -> Result<(), MappingError> {
        let wanted = self.row.iter().map(|(c, _)| c.as_str()).chain(self.columns());
        for c in wanted {
            if !columns.contains(&c) {
                return Err(MappingError::UnknownColumn {
                    rule: self.label(index),
                    column: c.to_string(),
                    table: self.table.clone(),
                    columns: columns.join(", "),
                });
            }
        }
        Ok(())
    }

    /// The row identity (canonical key column values) from the key's placeholder values.
    pub fn row_id_from_key(&self, holes: &[&[u8]], out: &mut Vec<u8>) {
        out.clear();
        for (_, placeholder) in &self.row {
            let i = self.placeholder_index(placeholder).unwrap_or(0);
            push_part_with(out, |o| normalize::text(holes.get(i).copied().unwrap_or_default(), o));
        }
    }

    /// The row identity from a row image; `None` when the image lacks a key column.
    pub fn row_id_from_image(&self, image: &RowImage, out: &mut Vec<u8>) -> bool {
        out.clear();
        for (column, _) in &self.row {
            let Some(v) = image.get(column) else { return false };
            push_part_with(out, |o| normalize::column(v, o));
        }
        true
    }

    fn placeholder_index(&self, name: &str) -> Option<usize> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                KeyPart::Placeholder(n) => Some(n.as_str()),
                KeyPart::Literal(_) => None,
            })
            .position(|n| n == name)
    }

    /// The projection of a row image onto the rule's columns.
    pub fn project_row(&self, image: &RowImage, out: &mut Vec<u8>) {
        out.clear();
        let mut project = |c: &str| match image.get(c) {
            Some(v) => push_part_with(out, |o| normalize::column(v, o)),
            None => push_part(out, None),
        };
        match &self.value {
            ValueShape::Column(c) => project(c),
            ValueShape::Json(pairs) | ValueShape::Hash(pairs) => {
                pairs.iter().for_each(|(_, c)| project(c))
            }
        }
    }

    /// The projection of a cached string value; `Err` says why it cannot be reconciled.
    pub fn project_string(&self, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
        out.clear();
        match &self.value {
            ValueShape::Column(_) => {
                push_part_with(out, |o| normalize::text(bytes, o));
                Ok(())
            }
            ValueShape::Json(pairs) if !pairs.iter().any(|(f, _)| f.contains('.')) => {
                project_json_fields(pairs, bytes, out)
            }
            ValueShape::Json(pairs) => project_json_value(pairs, bytes, out),
            ValueShape::Hash(_) => Err("the cached value is a string, the mapping expects a hash"),
        }
    }

    /// The projection of (some of) a cached hash's fields; `Err` says why it cannot be
    /// reconciled.
    pub fn project_hash<'a>(
        &self,
        get: impl Fn(&[u8]) -> Option<&'a [u8]>,
        out: &mut Vec<u8>,
    ) -> Result<(), &'static str> {
        out.clear();
        let ValueShape::Hash(pairs) = &self.value else {
            return Err("the cached value is a hash, the mapping expects a string");
        };
        let mut any = false;
        let mut canon = Vec::new();
        for (field, _) in pairs {
            match get(field.as_bytes()) {
                Some(v) => {
                    canon.clear();
                    normalize::text(v, &mut canon);
                    push_part(out, Some(&canon));
                    any = true;
                }
                None => push_part(out, None),
            }
        }
        if any { Ok(()) } else { Err("the cached hash has none of the mapped fields") }
    }
}

/// A JSON document's projection, keeping only the mapped top-level fields while it is parsed
/// (no field name has a `.`); the same result as [`project_json_value`].
fn project_json_fields(
    pairs: &[(String, String)],
    bytes: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), &'static str> {
    let mut fields = jsonfields::Fields::new(pairs);
    if fields.parse(bytes).is_err() {
        return Err("the cached value is not JSON");
    }
    if !fields.object {
        return Err("the cached value is not a JSON object");
    }
    let mut any = false;
    let mut canon = Vec::new();
    for found in &fields.found {
        match found {
            Some(v) => {
                canon.clear();
                normalize::json(v, &mut canon);
                push_part(out, Some(&canon));
                any = true;
            }
            None => push_part(out, None),
        }
    }
    if any { Ok(()) } else { Err("the cached JSON has none of the mapped fields") }
}

/// A JSON document's projection through the whole parsed document (`a.b` reaches into nested
/// objects).
fn project_json_value(
    pairs: &[(String, String)],
    bytes: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), &'static str> {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Err("the cached value is not JSON");
    };
    let Some(obj) = doc.as_object() else {
        return Err("the cached value is not a JSON object");
    };
    let mut any = false;
    let mut canon = Vec::new();
    for (field, _) in pairs {
        match lookup_json(obj, field) {
            Some(v) => {
                canon.clear();
                normalize::json(v, &mut canon);
                push_part(out, Some(&canon));
                any = true;
            }
            None => push_part(out, None),
        }
    }
    if any { Ok(()) } else { Err("the cached JSON has none of the mapped fields") }
}

fn lookup_json<'a>(
    obj: &'a serde_json::Map<String, serde_json::Value>,
    field: &str,
) -> Option<&'a serde_json::Value> {
    if let Some(v) = obj.get(field) {
        return Some(v);
    }
    // `a.b` reaches into nested objects.
    let (head, rest) = field.split_once('.')?;
    lookup_json(obj.get(head)?.as_object()?, rest)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Appends one present tuple element whose bytes `write` appends.
#[inline]
fn push_part_with(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    out.push(1);
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    write(out);
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

/// Appends one tuple element: absent (`0`), or present (`1`, length, bytes).
fn push_part(out: &mut Vec<u8>, part: Option<&[u8]>) {
    match part {
        None => out.push(0),
        Some(bytes) => {
            out.push(1);
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        }
    }
}

/// Iterates a tuple's elements.
fn parts(mut tuple: &[u8]) -> impl Iterator<Item = Option<&[u8]>> {
    std::iter::from_fn(move || {
        let (&tag, rest) = tuple.split_first()?;
        if tag == 0 {
            tuple = rest;
            return Some(None);
        }
        let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let (part, after) = rest.get(4..)?.split_at(len.min(rest.len() - 4));
        tuple = after;
        Some(Some(part))
    })
}

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

impl Mapping {
    /// Parses a mapping file's text.
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            MappingError::Toml(e.to_string().trim_end().replace('\n', " "))
        })?;
        let mut rules = Vec::new();
        for (k, _) in doc.iter() {
            if k != "rule" {
                return Err(MappingError::Toml(format!(
                    "unknown top-level entry `{k}`: a mapping has only [[rule]] tables"
                )));
            }
        }
        let Some(list) = doc.get("rule") else { return Ok(Mapping { rules }) };
        let Some(list) = list.as_array() else {
            return Err(MappingError::Toml("`rule` must be written [[rule]]".into()));
        };
        for (i, item) in list.iter().enumerate() {
            let Some(t) = item.as_table() else {
                return Err(MappingError::Toml(format!("rule {} is not a table", i + 1)));
            };
            rules.push(parse_rule(i, t)?);
        }
        Ok(Mapping { rules })
    }

    /// The mapping as TOML (what `map --infer` prints, without its comments).
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        for r in &self.rules {
            out.push_str(&r.to_toml());
            out.push('\n');
        }
        out
    }

    /// Index of the first rule matching `key` of `node`/`db`, with the placeholder values.
    pub fn find<'k>(
        &self,
        node: &str,
        db: u32,
        key: &'k [u8],
        holes: &mut Vec<&'k [u8]>,
    ) -> Option<usize> {
        self.rules.iter().position(|r| {
            r.node.as_deref().is_none_or(|n| n == node)
                && r.redis_db.is_none_or(|d| d == db)
                && r.match_key(key, holes)
        })
    }
}

impl Rule {
    /// This rule as a `[[rule]]` table.
    pub fn to_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut out = String::from("[[rule]]\n");
        out.push_str(&format!("key = {}\n", q(&self.key)));
        out.push_str(&format!("table = {}\n", q(&self.table)));
        let default_row = self.row.iter().all(|(c, p)| c == p)
            && self.row.len()
                == self.parts.iter().filter(|p| matches!(p, KeyPart::Placeholder(_))).count();
        if !default_row {
            let cols: Vec<String> =
                self.row.iter().map(|(c, p)| format!("{c} = {}", q(&format!("{{{p}}}")))).collect();
            out.push_str(&format!("row = {{ {} }}\n", cols.join(", ")));
        }
        let pairs = |kind: &str, pairs: &[(String, String)]| {
            if pairs.iter().all(|(f, c)| f == c) {
                let names: Vec<String> = pairs.iter().map(|(f, _)| q(f)).collect();
                format!("{kind} = [{}]\n", names.join(", "))
            } else {
                let names: Vec<String> =
                    pairs.iter().map(|(f, c)| format!("{} = {}", q(f), q(c))).collect();
                format!("{kind} = {{ {} }}\n", names.join(", "))
            }
        };
        match &self.value {
            ValueShape::Column(c) => out.push_str(&format!("column = {}\n", q(c))),
            ValueShape::Json(p) => out.push_str(&pairs("json", p)),
            ValueShape::Hash(p) => out.push_str(&pairs("hash", p)),
        }
        if let Some(n) = &self.node {
            out.push_str(&format!("node = {}\n", q(n)));
        }
        if let Some(d) = self.redis_db {
            out.push_str(&format!("redis_db = {d}\n"));
        }
        out
    }
}

/// Parses a key pattern (`order:{id}`).
pub fn parse_key_pattern(pattern: &str) -> Result<Vec<KeyPart>, String> {
    let mut parts = Vec::new();
    let mut lit = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        lit.extend_from_slice(&rest.as_bytes()[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("`{pattern}` has a `{{` without its `}}`"));
        };
        let name = &after[..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`{{{name}}}` in `{pattern}` is not a placeholder: use letters, digits and _"
            ));
        }
        if matches!(parts.last(), Some(KeyPart::Placeholder(_))) && lit.is_empty() {
            return Err(format!(
                "`{pattern}` has two placeholders side by side: separate them (`{{a}}:{{b}}`)"
            ));
        }
        if !lit.is_empty() {
            parts.push(KeyPart::Literal(std::mem::take(&mut lit)));
        }
        parts.push(KeyPart::Placeholder(name.to_string()));
        rest = &after[close + 1..];
    }
    lit.extend_from_slice(rest.as_bytes());
    if !lit.is_empty() {
        parts.push(KeyPart::Literal(lit));
    }
    if !parts.iter().any(|p| matches!(p, KeyPart::Placeholder(_))) {
        return Err(format!(
            "`{pattern}` has no {{placeholder}}: name the part of the key that identifies the row, \
             like `order:{{id}}`"
        ));
    }
    Ok(parts)
}

fn parse_rule(i: usize, t: &toml::Table) -> Result<Rule, MappingError> {
    let key = t.get("key").and_then(|v| v.as_str()).unwrap_or("");
    let label =
        if key.is_empty() { format!("rule {}", i + 1) } else { format!("rule {} ({key})", i + 1) };
    let err = |message: String| MappingError::Rule { rule: label.clone(), message };
    for k in t.keys() {
        if !["key", "table", "row", "column", "json", "hash", "node", "redis_db"]
            .contains(&k.as_str())
        {
            return Err(err(format!(
                "unknown setting `{k}` (a rule has key, table, row, column | json | hash, node, \
                 redis_db)"
            )));
        }
    }
    if key.is_empty() {
        return Err(err("needs `key = \"prefix:{id}\"`".into()));
    }
    let parts = parse_key_pattern(key).map_err(err)?;
    let table = t
        .get("table")
        .and_then(|v| v.as_str())
        .ok_or_else(|| err("needs `table = \"schema.table\"`".into()))?
        .to_string();
    if !table.contains('.') {
        return Err(err(format!("table `{table}` needs its schema: write `schema.{table}`")));
    }
    let placeholders: Vec<String> = parts
        .iter()
        .filter_map(|p| match p {
            KeyPart::Placeholder(n) => Some(n.clone()),
            KeyPart::Literal(_) => None,
        })
        .collect();
    let row = match t.get("row") {
        None => placeholders.iter().map(|p| (p.clone(), p.clone())).collect(),
        Some(v) => {
            let Some(rt) = v.as_table() else {
                return Err(err("`row` must be a table: `row = { id = \"{id}\" }`".into()));
            };
            let mut row = Vec::new();
            for (col, tmpl) in rt {
                let Some(tmpl) = tmpl.as_str() else {
                    return Err(err(format!(
                        "row column `{col}` must be a string like \"{{id}}\""
                    )));
                };
                let name = tmpl.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
                match name {
                    Some(n) if placeholders.iter().any(|p| p == n) => {
                        row.push((col.clone(), n.to_string()))
                    }
                    _ => {
                        return Err(err(format!(
                            "row column `{col}` = \"{tmpl}\" must name one placeholder of the key \
                             ({})",
                            placeholders
                                .iter()
                                .map(|p| format!("{{{p}}}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                }
            }
            row
        }
    };
    let shapes: Vec<&str> =
        ["column", "json", "hash"].into_iter().filter(|k| t.contains_key(*k)).collect();
    if shapes.len() != 1 {
        return Err(err(
            "needs exactly one of `column = \"c\"`, `json = [\"f\", …]` or `hash = [\"f\", …]`"
                .into(),
        ));
    }
    let field_pairs = |kind: &str| -> Result<Vec<(String, String)>, MappingError> {
        let v = &t[kind];
        let pairs: Vec<(String, String)> = if let Some(list) = v.as_array() {
            list.iter()
                .map(|x| x.as_str().map(|s| (s.to_string(), s.to_string())))
                .collect::<Option<_>>()
                .ok_or_else(|| err(format!("`{kind}` lists field names as strings")))?
        } else if let Some(map) = v.as_table() {
            map.iter()
                .map(|(f, c)| c.as_str().map(|c| (f.clone(), c.to_string())))
                .collect::<Option<_>>()
                .ok_or_else(|| err(format!("`{kind}` maps each field to a column name")))?
        } else {
            return Err(err(format!("`{kind}` is a list of fields or a table of field = column")));
        };
        if pairs.is_empty() {
            return Err(err(format!("`{kind}` names no field")));
        }
        Ok(pairs)
    };
    let value = match shapes[0] {
        "column" => ValueShape::Column(
            t["column"]
                .as_str()
                .ok_or_else(|| err("`column` is a column name".into()))?
                .to_string(),
        ),
        "json" => ValueShape::Json(field_pairs("json")?),
        _ => ValueShape::Hash(field_pairs("hash")?),
    };
    let node = match t.get("node") {
        None => None,
        Some(v) => Some(v.as_str().ok_or_else(|| err("`node` is a node name".into()))?.to_string()),
    };
    let redis_db = match t.get("redis_db") {
        None => None,
        Some(v) => Some(
            v.as_integer()
                .and_then(|d| u32::try_from(d).ok())
                .ok_or_else(|| err("`redis_db` is a db index (0–15)".into()))?,
        ),
    };
    Ok(Rule { key: key.to_string(), parts, table, row, value, node, redis_db })
}

/// A cached JSON document's mapped fields without building the whole document.
mod jsonfields {
    use std::fmt;

    use serde::Deserialize;
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::Value;

    /// The top-level fields named by a rule's `json` pairs, parsed through the same
    /// `deserialize_any` calls `serde_json::Value` makes (so the same documents are accepted and
    /// refused, at any depth, with the same numbers), but keeping only those fields' values —
    /// the last of duplicates, as `Value`'s map does.
    pub(super) struct Fields<'p> {
        names: &'p [(String, String)],
        /// The value of each pair's field.
        pub found: Vec<Option<Value>>,
        /// The document is an object.
        pub object: bool,
    }

    impl<'p> Fields<'p> {
        pub fn new(names: &'p [(String, String)]) -> Fields<'p> {
            Fields { names, found: vec![None; names.len()], object: false }
        }

        /// Parses `bytes` as `serde_json::from_slice::<Value>` would.
        pub fn parse(&mut self, bytes: &[u8]) -> serde_json::Result<()> {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            de.deserialize_any(&mut *self)?;
            de.end()
        }
    }

    impl<'de> Visitor<'de> for &mut Fields<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            self.object = true;
            while let Some(key) = map.next_key_seed(Key)? {
                let wanted = self.names.iter().position(|(f, _)| *f == key);
                match wanted {
                    Some(first) => {
                        let v: Value = map.next_value()?;
                        for (i, (f, _)) in self.names.iter().enumerate().skip(first) {
                            if *f == key {
                                self.found[i] = Some(v.clone());
                            }
                        }
                    }
                    None => {
                        map.next_value::<Skip>()?;
                    }
                }
            }
            Ok(())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
            skip_seq(seq)
        }

        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }

        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }

        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }

        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }

        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }

        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
    }

    /// A map key, as the string `Value` would make of it.
    struct Key;

    impl<'de> DeserializeSeed<'de> for Key {
        type Value = KeyText<'de>;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<KeyText<'de>, D::Error> {
            d.deserialize_str(KeyVisitor)
        }
    }

    /// A key borrowed from the document, or copied when it had escapes.
    enum KeyText<'de> {
        Borrowed(&'de str),
        Owned(String),
    }

    impl PartialEq<KeyText<'_>> for String {
        fn eq(&self, k: &KeyText<'_>) -> bool {
            match k {
                KeyText::Borrowed(s) => self == s,
                KeyText::Owned(s) => self == s,
            }
        }
    }

    struct KeyVisitor;

    impl<'de> Visitor<'de> for KeyVisitor {
        type Value = KeyText<'de>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string key")
        }

        fn visit_borrowed_str<E>(self, s: &'de str) -> Result<KeyText<'de>, E> {
            Ok(KeyText::Borrowed(s))
        }

        fn visit_str<E>(self, s: &str) -> Result<KeyText<'de>, E> {
            Ok(KeyText::Owned(s.to_string()))
        }
    }

    /// Any value, parsed (through `deserialize_any`, as `Value` is) and dropped.
    struct Skip;

    impl<'de> Deserialize<'de> for Skip {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Skip, D::Error> {
            d.deserialize_any(SkipVisitor)
        }
    }

    fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(())
    }

    struct SkipVisitor;

    impl<'de> Visitor<'de> for SkipVisitor {
        type Value = Skip;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
            while map.next_key_seed(Key)?.is_some() {
                map.next_value::<Skip>()?;
            }
            Ok(Skip)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Skip, A::Error> {
            skip_seq(seq).map(|()| Skip)
        }

        fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
            Ok(Skip)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
            Ok(Skip)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
            Ok(Skip)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
            Ok(Skip)
        }

        fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
            Ok(Skip)
        }

        fn visit_unit<E>(self) -> Result<Skip, E> {
            Ok(Skip)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachetape_tape::{Cell, Value};

    fn rule(text: &str) -> Rule {
        Mapping::parse(text).unwrap().rules.remove(0)
    }

    #[test]
    fn parses_each_shape_and_matches_keys() {
        let r =
            rule("[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\njson = [\"status\"]\n");
        let mut holes = Vec::new();
        assert!(r.match_key(b"order:42", &mut holes));
        assert_eq!(holes, vec![&b"42"[..]]);
        assert!(!r.match_key(b"order:42:items", &mut holes));
        assert!(!r.match_key(b"order:", &mut holes));
        assert!(!r.match_key(b"user:1", &mut holes));
        assert_eq!(r.row, vec![("id".to_string(), "id".to_string())]);
        let r = rule(
            "[[rule]]\nkey = \"cart:{user}:{item}\"\ntable = \"shop.carts\"\nrow = { user_id = \"{user}\", item_id = \"{item}\" }\nhash = { qty = \"quantity\" }\n",
        );
        assert!(r.match_key(b"cart:7:99", &mut holes));
        assert_eq!(holes, vec![&b"7"[..], &b"99"[..]]);
        assert_eq!(r.columns(), vec!["quantity"]);
        let again = Mapping::parse(&Mapping { rules: vec![r.clone()] }.to_toml()).unwrap();
        assert_eq!(again.rules[0], r);
    }

    #[test]
    fn errors_name_the_rule() {
        let e =
            Mapping::parse("[[rule]]\nkey = \"order\"\ntable = \"shop.orders\"\ncolumn = \"s\"\n")
                .unwrap_err()
                .to_string();
        assert!(e.starts_with("rule 1 (order):"), "{e}");
        let e = Mapping::parse("[[rule]]\nkey = \"o:{id}\"\ntable = \"orders\"\ncolumn = \"s\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs its schema"), "{e}");
        let r = rule("[[rule]]\nkey = \"o:{id}\"\ntable = \"s.o\"\ncolumn = \"statu\"\n");
        let e = r.check_columns(0, &["id", "status"]).unwrap_err().to_string();
        assert_eq!(
            e,
            "rule 1 (o:{id}) names column `statu`, which table `s.o` does not have (its columns: id, status)"
        );
    }

    #[test]
    fn projections_compare_normalized() {
        let r =
            rule("[[rule]]\nkey = \"o:{id}\"\ntable = \"s.o\"\njson = [\"status\", \"total\"]\n");
        let image = RowImage {
            cells: vec![
                Cell { column: "id".into(), value: Value::Int(1) },
                Cell { column: "status".into(), value: Value::Bytes(b"PAID".to_vec()) },
                Cell { column: "total".into(), value: Value::Decimal("9.90".into()) },
            ],
        };
        let mut table = ValueTable::default();
        let mut buf = Vec::new();
        r.project_row(&image, &mut buf);
        let db = table.intern(&buf);
        r.project_string(br#"{"id":1,"status":"PAID","total":9.9}"#, &mut buf).unwrap();
        assert_eq!(table.intern(&buf), db);
        r.project_string(br#"{"status":"PAID"}"#, &mut buf).unwrap();
        let partial = table.intern(&buf);
        assert!(table.agrees(partial, db));
        r.project_string(br#"{"status":"NEW"}"#, &mut buf).unwrap();
        let other = table.intern(&buf);
        assert!(!table.agrees(other, db));
        assert_eq!(table.display(db, &r), "status=PAID total=9.9");
        assert!(r.project_string(b"PAID", &mut buf).is_err());
        assert!(r.project_string(br#"{"x":1}"#, &mut buf).is_err());
    }

    #[test]
    fn json_fields_parse_as_value_does() {
        let pairs: Vec<(String, String)> = ["id", "status", "total", "status"]
            .iter()
            .map(|f| (f.to_string(), f.to_string()))
            .collect();
        let deep = format!("{{\"id\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        let docs: Vec<&[u8]> = vec![
            br#"{"id":1,"status":"PAID","total":"9.90","customer":7}"#,
            br#" { "status" : "NEW" , "id" : -0.0 } "#,
            br#"{"id":1,"status":"A","status":"B"}"#,
            br#"{"id":1e400}"#,
            br#"{"x":1e400,"id":1}"#,
            br#"{"x":"\ud800","id":1}"#,
            br#"{"x":"a\nb","st\u0061tus":"PAID"}"#,
            br#"{"x":[1,{"y":[true,false,null]}],"total":{"b":1,"a":[2.50,"x"]}}"#,
            b"{\"x\":\"\xff\",\"id\":1}",
            b"{\"x\":\"a\x01b\",\"id\":1}",
            br#"{"id":01}"#,
            br#"{"id":1} x"#,
            br#"{"id":1,}"#,
            br#"{"id":18446744073709551616,"total":-9223372036854775809}"#,
            br#"{"id":12345678901234567890,"total":0.1}"#,
            br#"[1,2,{"id":1}]"#,
            br#""PAID""#,
            b"42",
            b"null",
            b"",
            br#"{}"#,
            br#"{"other":1}"#,
            deep.as_bytes(),
            br#"{"id":{"a":1}"#,
        ];
        for doc in docs {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let fast = project_json_fields(&pairs, doc, &mut a);
            let full = project_json_value(&pairs, doc, &mut b);
            assert_eq!(fast, full, "{}", String::from_utf8_lossy(doc));
            if fast.is_ok() {
                assert_eq!(a, b, "{}", String::from_utf8_lossy(doc));
            }
        }
    }
}
