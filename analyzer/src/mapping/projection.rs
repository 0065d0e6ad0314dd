/*!
Projections: a cached value (a string, JSON, a hash's fields) or a row image onto a rule's
columns, each column in canonical form ([`crate::normalize`]), as one tuple ([`super::tuple`]);
and a row's identity, from a key's placeholders or from a row image. A JSON document or hash that
lacks some mapped fields projects to a *partial* tuple; one with none of them cannot be
reconciled.

.NET `IDistributedCache` over Redis (Microsoft.Extensions.Caching.StackExchangeRedis'
`RedisCache`) keeps an entry as a hash: `data` (the payload bytes, as the app handed them to
`Set`/`SetString`, usually JSON), `absexp` (the absolute expiration, in ticks: 100 ns since
0001-01-01, read by the library as UTC) and `sldexp` (the sliding window, in ticks), each
`-1` when unset. Up to .NET 8 a Lua script writes them (`HSET`, or `HMSET` before Redis 4,
then `EXPIRE`); from .NET 9 an `HSET` and an `EXPIRE` in one batch; the fields are the same.

The key's Redis TTL is set to min(absolute − now, sliding) in whole seconds and, on each
read of an entry with a sliding window, re-armed (an `EXPIRE` the trace shows, capped by
`absexp`): the store's own expiry tracking follows both. `absexp` is also reported as the
framework's expiry ([`Projected::expires_ms`]); the library itself never compares it with
the clock (it relies on the TTL, which never outlives it), so it only changes a judgement
when the TTL was lost (a `PERSIST`, a copy without TTL). `sldexp` cannot be judged from the
value alone (when the entry lapses depends on the reads) and is not used.
*/

use cachetape_tape::RowImage;

use super::jsonfields;
use super::pattern;
use super::rule::{Rule, ValueShape};
use super::tuple::{push_fields, push_part, push_part_with};
use crate::decode::{self, Codec, Decoded, Limits, keyv};
use crate::normalize;
use serde_json::Value;

/// What a projection learned besides the tuple.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Projected {
    /// The framework's own expiry inside the value (ms since the epoch), after which the
    /// framework treats the entry as a miss.
    pub expires_ms: Option<i64>,
}

impl Rule {
    /// The row identity (canonical key column values) from the key's placeholder values.
    pub fn row_id_from_key(&self, holes: &[&[u8]], out: &mut Vec<u8>) {
        out.clear();
        for (_, placeholder) in &self.row {
            let i = pattern::placeholder_position(&self.parts, placeholder).unwrap_or(0);
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

    /// The projection of a cached string value, decoded as the rule's `decode` says
    /// ([`crate::decode`]); `Err` says why it cannot be reconciled.
    pub fn project_string(
        &self,
        bytes: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Projected, &'static str> {
        out.clear();
        // A Keyv envelope under `auto`: its inner value, whatever the shape; failing that (a
        // rule that names `value.…` paths), the envelope as plain JSON, with its expiry.
        let mut envelope_expiry = None;
        if self.decode == Codec::Auto && keyv::looks_like(bytes) {
            if let Ok(decoded) = keyv::decode(bytes, &Limits::default()) {
                if let Ok(p) = self.project_doc(&decoded, out) {
                    return Ok(p);
                }
                envelope_expiry = decoded.expires_ms;
            }
            out.clear();
        }
        let plain = match self.decode {
            Codec::Auto => !decode::needs_decoding(bytes),
            Codec::Raw => true,
            Codec::Json => matches!(self.value, ValueShape::Json(_)),
            _ => false,
        };
        let r = match &self.value {
            ValueShape::Column(_) if plain => {
                push_part_with(out, |o| normalize::text(bytes, o));
                Ok(Projected::default())
            }
            ValueShape::Json(pairs) if plain && !pairs.iter().any(|(f, _)| f.contains('.')) => {
                match project_json_fields(pairs, bytes, out) {
                    // A document without the mapped fields may be an envelope around them.
                    Err(why) if self.decode == Codec::Auto => {
                        self.project_decoded(bytes, out).map_err(|_| why)
                    }
                    r => r.map(|()| Projected::default()),
                }
            }
            ValueShape::Json(pairs) if plain => project_json_value(pairs, bytes, out),
            ValueShape::Hash(_) => Err("the cached value is a string, the mapping expects a hash"),
            _ => self.project_decoded(bytes, out),
        };
        r.map(|p| Projected { expires_ms: p.expires_ms.or(envelope_expiry) })
    }

    /// The projection of a value through its decoder.
    fn project_decoded(&self, bytes: &[u8], out: &mut Vec<u8>) -> Result<Projected, &'static str> {
        out.clear();
        let decoded = decode::decode(bytes, self.decode, &Limits::default()).map_err(|e| e.0)?;
        self.project_doc(&decoded, out)
    }

    /// The projection of a decoded value. Under a JSON shape, a decoded string that holds a
    /// JSON object (an app that cached `JSON.stringify(doc)` or `json.dumps(doc)` through a
    /// framework that wraps strings) is that object.
    fn project_doc(&self, decoded: &Decoded, out: &mut Vec<u8>) -> Result<Projected, &'static str> {
        out.clear();
        let projected = Projected { expires_ms: decoded.expires_ms };
        match &self.value {
            ValueShape::Column(_) => {
                match &decoded.doc {
                    Value::String(s) => push_part_with(out, |o| normalize::text(s.as_bytes(), o)),
                    doc => push_part_with(out, |o| normalize::json(doc, o)),
                }
                Ok(projected)
            }
            ValueShape::Json(pairs) => {
                let inner = match &decoded.doc {
                    Value::String(s) if s.trim_start().starts_with('{') => {
                        serde_json::from_str::<Value>(s).ok()
                    }
                    _ => None,
                };
                let Some(obj) = inner.as_ref().unwrap_or(&decoded.doc).as_object() else {
                    return Err(match decoded.codec {
                        Codec::Raw => "the cached value is not JSON nor any format a decoder reads",
                        _ => "the decoded value is not an object",
                    });
                };
                let found = pairs.iter().map(|(field, _)| lookup_json(obj, field));
                if push_fields(out, found, normalize::json) {
                    Ok(projected)
                } else {
                    Err("the decoded value has none of the mapped fields")
                }
            }
            ValueShape::Hash(_) => Err("the cached value is a string, the mapping expects a hash"),
        }
    }

    /// The projection of (some of) a cached hash's fields; `Err` says why it cannot be
    /// reconciled. Under a `json` or `column` shape, a hash with a `data` field is a .NET
    /// `IDistributedCache` entry: its payload is projected as a string
    /// value would be, and its `absexp` is the framework's expiry (see the module doc).
    pub fn project_hash<'a>(
        &self,
        get: impl Fn(&[u8]) -> Option<&'a [u8]>,
        out: &mut Vec<u8>,
    ) -> Result<Projected, &'static str> {
        out.clear();
        let ValueShape::Hash(pairs) = &self.value else {
            let Some(data) = get(DOTNET_DATA) else {
                return Err("the cached value is a hash, the mapping expects a string");
            };
            let projected = self.project_string(data, out)?;
            let absexp = get(DOTNET_ABSEXP).and_then(dotnet_ticks_ms);
            let expires_ms = match (projected.expires_ms, absexp) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            return Ok(Projected { expires_ms });
        };
        let found = pairs.iter().map(|(field, _)| get(field.as_bytes()));
        if push_fields(out, found, normalize::text) {
            Ok(Projected::default())
        } else {
            Err("the cached hash has none of the mapped fields")
        }
    }
}

/// The hash field of a .NET `IDistributedCache` entry's payload.
const DOTNET_DATA: &[u8] = b"data";
/// The hash field of its absolute expiration, in ticks.
const DOTNET_ABSEXP: &[u8] = b"absexp";
/// `DateTime(1970, 1, 1).Ticks`.
const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// .NET ticks (decimal text) as ms since the Unix epoch; `None` for `-1` (unset) or text that
/// is not a tick count.
fn dotnet_ticks_ms(text: &[u8]) -> Option<i64> {
    let ticks: i64 = std::str::from_utf8(text).ok()?.trim().parse().ok()?;
    if ticks < 0 {
        return None;
    }
    Some(ticks.checked_sub(UNIX_EPOCH_TICKS)?.div_euclid(10_000))
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
    if push_fields(out, fields.found.iter().map(Option::as_ref), normalize::json) {
        Ok(())
    } else {
        Err("the cached JSON has none of the mapped fields")
    }
}

/// A JSON document's projection through the whole parsed document (`a.b` reaches into nested
/// objects).
fn project_json_value(
    pairs: &[(String, String)],
    bytes: &[u8],
    out: &mut Vec<u8>,
) -> Result<Projected, &'static str> {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Err("the cached value is not JSON");
    };
    let Some(obj) = doc.as_object() else {
        return Err("the cached value is not a JSON object");
    };
    let found = pairs.iter().map(|(field, _)| lookup_json(obj, field));
    if push_fields(out, found, normalize::json) {
        Ok(Projected::default())
    } else {
        Err("the cached JSON has none of the mapped fields")
    }
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

#[cfg(test)]
#[path = "projection_framework_tests.rs"]
mod framework_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{Mapping, ValueTable};
    use cachetape_tape::{Cell, Value};

    fn rule(text: &str) -> Rule {
        Mapping::parse(text).unwrap().rules.remove(0)
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
            let full = project_json_value(&pairs, doc, &mut b).map(|_| ());
            assert_eq!(fast, full, "{}", String::from_utf8_lossy(doc));
            if fast.is_ok() {
                assert_eq!(a, b, "{}", String::from_utf8_lossy(doc));
            }
        }
    }
}
