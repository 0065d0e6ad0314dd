/*!
The mapping file: parsing its TOML ([`Mapping::parse`], every mistake named with its rule) and
writing it back ([`Mapping::to_toml`], what `map --infer` prints).
*/

use super::Mapping;
use super::error::MappingError;
use super::pattern::{KeyPart, parse_key_pattern};
use super::rule::{Rule, ValueShape};
use crate::decode::Codec;

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
        if self.decode != Codec::Auto {
            out.push_str(&format!("decode = {}\n", q(self.decode.name())));
        }
        out
    }
}

fn parse_rule(i: usize, t: &toml::Table) -> Result<Rule, MappingError> {
    let key = t.get("key").and_then(|v| v.as_str()).unwrap_or("");
    let label =
        if key.is_empty() { format!("rule {}", i + 1) } else { format!("rule {} ({key})", i + 1) };
    let err = |message: String| MappingError::Rule { rule: label.clone(), message };
    for k in t.keys() {
        if !["key", "table", "row", "column", "json", "hash", "node", "redis_db", "decode"]
            .contains(&k.as_str())
        {
            return Err(err(format!(
                "unknown setting `{k}` (a rule has key, table, row, column | json | hash, node, \
                 redis_db, decode)"
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
    let decode = match t.get("decode") {
        None => Codec::Auto,
        Some(v) => {
            let names: Vec<&str> = Codec::ALL.iter().map(|c| c.name()).collect();
            let named = v.as_str().and_then(Codec::from_name);
            named.ok_or_else(|| {
                err(format!("`decode` is one of {} (default auto)", names.join(", ")))
            })?
        }
    };
    Ok(Rule { key: key.to_string(), parts, table, row, value, node, redis_db, decode })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
