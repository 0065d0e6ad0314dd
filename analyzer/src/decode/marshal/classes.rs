/*!
The Ruby classes the Marshal reader knows by name: ActiveRecord models and their attribute
sets, `ActiveSupport::Cache::Entry` (its compressed value inflated), `BigDecimal`, `Time`,
`Date`/`DateTime`, `ActiveSupport::TimeWithZone`, and Rails 7.1's compact record dump.
*/

use std::ops::Range;

use serde_json::{Map, Value};

use super::values::{self, bigdecimal_text, iso, iso_date, iso_from_unix};
use super::{Converter, Id, Ivars, Node, inflate, read};
use crate::decode::{DecodeError, Limits};

impl Converter<'_, '_> {
    pub(super) fn object(&mut self, class: &str, ivars: &Ivars) -> Result<Value, DecodeError> {
        // An ActiveRecord model: its attributes are its document.
        if let (Some(attrs), Some(_)) =
            (self.ivar(ivars, "@attributes"), self.ivar(ivars, "@new_record"))
        {
            return self.doc(attrs);
        }
        match class {
            "ActiveModel::LazyAttributeSet" | "ActiveModel::AttributeSet" => {
                let mut out = match self.ivar(ivars, "@values").map(|v| self.doc(v)).transpose()? {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                if let Some(Value::Object(attrs)) =
                    self.ivar(ivars, "@attributes").map(|a| self.doc(a)).transpose()?
                {
                    out.extend(attrs);
                }
                return Ok(Value::Object(out));
            }
            "ActiveSupport::Cache::Entry" if self.ivar(ivars, "@compressed").is_some() => {
                let mut out = self.fields(
                    &ivars.iter().filter(|(k, _)| self.p.sym(*k) != "@value").copied().collect(),
                )?;
                out.remove("compressed");
                let value = match self.ivar(ivars, "@value").map(|v| &self.p.nodes[v]) {
                    Some(Node::Str { bytes, .. }) => self.nested(&self.p.b[bytes.clone()])?,
                    _ => return Err(DecodeError("a compressed cache entry holds no string")),
                };
                out.insert("value".to_string(), value);
                return Ok(Value::Object(out));
            }
            _ => {}
        }
        if class.starts_with("ActiveModel::Attribute") {
            let v =
                self.ivar(ivars, "@value").or_else(|| self.ivar(ivars, "@value_before_type_cast"));
            return v.map_or(Ok(Value::Null), |v| self.doc(v));
        }
        Ok(Value::Object(self.fields(ivars)?))
    }

    /// A zlib-deflated Marshal stream inside this one, read within what is left of the limits.
    fn nested(&mut self, deflated: &[u8]) -> Result<Value, DecodeError> {
        let inner = inflate(deflated, self.budget)?;
        self.charge(inner.len())?;
        let limits = Limits {
            max_bytes: self.budget,
            max_depth: self.limits.max_depth.saturating_sub(self.depth),
        };
        let (doc, _) = read(&inner, &limits)?;
        Ok(doc)
    }

    pub(super) fn user_def(
        &mut self,
        class: &str,
        data: &Range<usize>,
        ivars: &Ivars,
    ) -> Result<Value, DecodeError> {
        let bytes = &self.p.b[data.clone()];
        match class {
            "BigDecimal" => {
                let text = std::str::from_utf8(bytes)
                    .ok()
                    .and_then(bigdecimal_text)
                    .ok_or(DecodeError("a BigDecimal dump is not a number"))?;
                self.charge(text.len())?;
                Ok(Value::String(text))
            }
            "Time" => {
                let text =
                    self.time(bytes, ivars).ok_or(DecodeError("a Time dump is not a date"))?;
                self.charge(text.len())?;
                Ok(Value::String(text))
            }
            _ => Ok(Value::String(self.text(data)?)),
        }
    }

    fn int(&self, id: Option<Id>) -> Option<i64> {
        match self.p.nodes.get(id?)? {
            Node::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// `Time#_dump` with its `nano_num`/`nano_den`/`submicro`/`year` ivars, as ISO-8601 UTC.
    fn time(&self, bytes: &[u8], ivars: &Ivars) -> Option<String> {
        let f = match values::time_dump(bytes)? {
            values::TimeDump::Unix(secs, usec) => {
                return iso_from_unix(secs, usec.min(999_999) * 1000);
            }
            values::TimeDump::Fields(f) => f,
        };
        let mut nanos = f.usec * 1000;
        if let (Some(n), Some(d)) =
            (self.int(self.ivar(ivars, "nano_num")), self.int(self.ivar(ivars, "nano_den")))
        {
            if d > 0 && n >= 0 {
                nanos += u32::try_from(n / d).ok().filter(|&x| x < 1000)?;
            }
        } else if let Some(Node::Str { bytes, .. }) =
            self.ivar(ivars, "submicro").map(|s| &self.p.nodes[s])
        {
            // Two BCD digits of hundreds and tens of nanoseconds, then one of units.
            let d = &self.p.b[bytes.clone()];
            if let Some(&b0) = d.first() {
                nanos += u32::from(b0 >> 4) * 100 + u32::from(b0 & 0xf) * 10;
            }
            if let Some(&b1) = d.get(1) {
                nanos += u32::from(b1 >> 4);
            }
        }
        let year = self.int(self.ivar(ivars, "year")).unwrap_or(f.year);
        Some(iso(year, f.mon, f.mday, f.hour, f.min, f.sec, nanos.min(999_999_999)))
    }

    pub(super) fn user_marshal(&mut self, class: &str, data: Id) -> Result<Value, DecodeError> {
        let items: &[Id] = match &self.p.nodes[data] {
            Node::Array(items) => items,
            _ => &[],
        };
        match class {
            // [types, values, additional_types, default_attributes, delegate_hash]
            "ActiveModel::LazyAttributeHash" if items.len() >= 5 => {
                let (values, delegate) = (items[1], items[4]);
                let mut out = match self.doc(values)? {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                if let Value::Object(attrs) = self.doc(delegate)? {
                    out.extend(attrs);
                }
                Ok(Value::Object(out))
            }
            "ActiveSupport::TimeWithZone" if !items.is_empty() => self.doc(items[0]),
            // [nth, jd, df, sf, of, sg]: the day and seconds are UTC.
            "Date" | "DateTime" if items.len() >= 4 => {
                let jd = self.int(Some(items[1])).ok_or(DecodeError("a Date dump has no day"))?;
                let df = self.int(Some(items[2])).unwrap_or(0);
                let sf = self.int(Some(items[3])).unwrap_or(0);
                if self.int(Some(items[0])) != Some(0) || jd.abs() > 1 << 40 {
                    return Err(DecodeError("a Date is out of range"));
                }
                let text = if class == "Date" {
                    iso_date(jd)
                } else {
                    let secs = (jd - 2_440_588) * 86_400 + df.clamp(0, 86_399);
                    iso_from_unix(secs, u32::try_from(sf).unwrap_or(0).min(999_999_999))
                        .ok_or(DecodeError("a Date is out of range"))?
                };
                self.charge(text.len())?;
                Ok(Value::String(text))
            }
            _ => {
                // The Rails 7.1 compact ActiveRecord dump: [attributes, new_record, associations?].
                let compact_record = items.len() >= 2
                    && matches!(self.p.nodes[items[0]], Node::Hash(_))
                    && matches!(self.p.nodes[items[1]], Node::Bool(_));
                if compact_record {
                    return self.doc(items[0]);
                }
                self.doc(data)
            }
        }
    }
}
