/*!
Units and values in words, for the stories: `DEL order:42`, `SETEX order:42 → CANCELLED`,
`COMMIT shop.orders id=42 → PAID`, a block's or a script's commands; a row as
`shop.orders id=42`.
*/

use cachetape_analyzer::dbstate::RowValue;
use cachetape_analyzer::mapping::{KeyPart, Rule};

use std::collections::HashSet;

use super::Extractor;
use super::unit::{GOp, GVal, RawUnit};

impl Extractor {
    /// `DEL order:42`, `SETEX order:42 → CANCELLED`, `GETDEL order:42`: `name` and the keys of
    /// `ops[from..]` (of all `ops` when `with_read`), with the value when one key is set.
    pub(super) fn describe(&self, name: &str, ops: &[GOp], from: usize, with_read: bool) -> String {
        // The first three names and how many in all: a set of ids, not a scan of the names,
        // for a command of 100,000 keys.
        let mut seen: HashSet<u32> = HashSet::new();
        let mut names: Vec<String> = Vec::new();
        let mut value = None;
        let start = if with_read { 0 } else { from };
        for op in &ops[start..] {
            if let GOp::Set { key, value: v, .. } = *op {
                value = Some((key, v));
            }
            let Some(k) = op.key() else { continue };
            if !seen.insert(k) || names.len() == 3 {
                continue;
            }
            let n = self.key_name(k);
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let mut out = format!("{name} {}", counted_list(&names, seen.len()));
        if let Some((k, v)) = value
            && seen.len() == 1
        {
            out.push_str(" → ");
            out.push_str(&self.cache_display(k, v));
        }
        out
    }

    /// A unit for people: `DEL order:42`, `SETEX order:42 → CANCELLED`, `COMMIT shop.orders
    /// id=42 → PAID`, a block's or script's commands.
    pub(super) fn unit_text(&self, raw: &RawUnit) -> String {
        if !raw.what.is_empty() {
            return raw.what.clone();
        }
        if let Some(command) = raw.command {
            return self.describe(command.upper_name_str(), &raw.ops, 0, true);
        }
        let rows: Vec<String> = raw
            .ops
            .iter()
            .filter_map(|op| match *op {
                GOp::Commit { subject, value } => Some(format!(
                    "{} → {}",
                    self.subject_names[subject.0 as usize],
                    self.row_display(value, self.db.subjects[subject.0 as usize].rule)
                )),
                _ => None,
            })
            .collect();
        format!("COMMIT {}", rows.join(", "))
    }

    /// The key `k`'s name.
    pub(super) fn key_name(&self, k: u32) -> String {
        String::from_utf8_lossy(&self.keys[k as usize].name).into_owned()
    }

    /// What key `k` holds, for people.
    pub(super) fn cache_display(&self, k: u32, v: GVal) -> String {
        match v {
            GVal::Absent => "(nothing)".into(),
            GVal::Known(id) => {
                let rule = &self.mapping.rules[self.keys[k as usize].rule as usize];
                self.values.display(id, rule)
            }
            GVal::Unreconciled => "(a value the mapping cannot compare)".into(),
            GVal::Unknown => "(unknown)".into(),
        }
    }

    /// What a row of `rule` holds, for people.
    fn row_display(&self, v: RowValue, rule: u16) -> String {
        match v {
            RowValue::Known(id) => self.values.display(id, &self.mapping.rules[rule as usize]),
            RowValue::Absent => "(no row)".into(),
            RowValue::Unknown => "(unknown)".into(),
        }
    }
}

/// [`short_list`] of `total` items of which `first` are the first (up to three).
fn counted_list(first: &[String], total: usize) -> String {
    if total <= 3 { first.join(" ") } else { format!("{} … (+{})", first.join(" "), total - 3) }
}

/// `a`, `a b c`, `a b c … (+4)`.
pub(super) fn short_list(items: &[String]) -> String {
    if items.len() <= 3 {
        items.join(" ")
    } else {
        format!("{} … (+{})", items[..3].join(" "), items.len() - 3)
    }
}

/// `shop.orders id=42` from a rule and the key's placeholder values.
pub(super) fn subject_name(rule: &Rule, holes: &[&[u8]]) -> String {
    let names: Vec<&str> = rule
        .parts
        .iter()
        .filter_map(|p| match p {
            KeyPart::Placeholder(n) => Some(n.as_str()),
            KeyPart::Literal(_) => None,
        })
        .collect();
    let mut out = rule.table.clone();
    for (column, placeholder) in &rule.row {
        let value = names
            .iter()
            .position(|n| n == placeholder)
            .and_then(|i| holes.get(i))
            .map_or_else(|| "?".into(), |h| String::from_utf8_lossy(h).into_owned());
        out.push_str(&format!(" {column}={value}"));
    }
    out
}
