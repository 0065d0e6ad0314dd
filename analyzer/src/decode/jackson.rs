/*!
Spring Data Redis's `GenericJackson2JsonRedisSerializer` JSON: Jackson with default typing for
everything but primitives, their boxes, enums and final `java.*` classes (Spring's own
`TypeResolverBuilder`), type ids as class names in an `"@class"` property of each object, and
as a two-element array around every other typed value (`["java.util.ArrayList", [...]]`,
`["java.math.BigDecimal", 9.90]`, `["java.lang.Long", 5]`, `["java.util.Date", 1764130525120]`).

The document is the JSON with the hints taken out: `"@class"` properties dropped, wrappers
replaced by the value they wrap; `BigDecimal` and `BigInteger` wrappers as decimal text (read
through an `f64`, so past 15–17 significant digits the text is the nearest double's), `Date`,
`Timestamp` and `Calendar` wrappers (epoch milliseconds, Jackson's default) as ISO-8601 UTC text,
and Spring's cached-null marker (`{"@class":"org.springframework.cache.support.NullValue"}`) as
`null`.

A wrapper is recognised by its shape: two elements, the first a class name, the second not a
string (no type Jackson wraps writes itself as a string, except a few such as `TimeZone`); a
`String[]` field whose two elements look like that would be misread. `java.time` values need
Jackson's JSR-310 module, which the serializer does not register: they are not handled. A
serializer configured with another type property than `"@class"` is not recognised.

[`looks_like`] reads only the first bytes (the hint Jackson writes first), so plain JSON costs
nothing here; [`decode`] fails at once on JSON without hints, before any parsing.
*/

use serde_json::{Map, Value};

use super::{Codec, DecodeError, Decoded, Limits};

const NULL_VALUE: &str = "org.springframework.cache.support.NullValue";

/// True when the value starts as Jackson's typed JSON does: an object whose first property is
/// `"@class"`, or an array whose first element is a class name and whose second is not a
/// string.
pub fn looks_like(bytes: &[u8]) -> bool {
    let rest = skip_ws(bytes);
    if let Some(rest) = rest.strip_prefix(b"{") {
        return skip_ws(rest).starts_with(b"\"@class\"");
    }
    let Some(rest) = rest.strip_prefix(b"[") else { return false };
    let Some(rest) = skip_ws(rest).strip_prefix(b"\"") else { return false };
    let n = rest.iter().take_while(|&&c| c != b'"').count();
    let after = skip_ws(rest.get(n + 1..).unwrap_or_default());
    // A wrapper's value is never a string.
    class_name(&rest[..n])
        && after.strip_prefix(b",").is_some_and(|v| !skip_ws(v).starts_with(b"\""))
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// A Java class name as Jackson writes type ids: `java.util.ArrayList`, `Java$Order`,
/// `[Ljava.lang.Object;`.
fn class_name(s: &[u8]) -> bool {
    let Some(&first) = s.first() else { return false };
    (first.is_ascii_alphabetic() || first == b'[' || first == b'_')
        && s.iter().all(|&c| c.is_ascii_alphanumeric() || b"._$[;".contains(&c))
        && s.iter().any(|&c| c == b'.' || c == b'$' || c == b'[')
}

/// Decodes typed Jackson JSON; refuses JSON without type hints (see [`decode_any`]).
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    if !looks_like(bytes) {
        return Err(DecodeError("the value has no Jackson type hints"));
    }
    let (doc, hints) = unwrap_text(bytes, limits)?;
    if hints == 0 {
        return Err(DecodeError("the value has no Jackson type hints"));
    }
    Ok(decoded(doc))
}

/// Decodes JSON a Jackson rule names: typed as [`decode`] reads it, or plain as it is (values
/// Jackson writes without hints, such as a `String`, an `Integer` or a `Boolean`).
pub fn decode_any(bytes: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    let (doc, _) = unwrap_text(bytes, limits)?;
    Ok(decoded(doc))
}

fn decoded(doc: Value) -> Decoded {
    Decoded {
        doc,
        expires_ms: None,
        version: None,
        format: "jackson",
        compression: None,
        codec: Codec::Jackson,
    }
}

fn unwrap_text(bytes: &[u8], limits: &Limits) -> Result<(Value, usize), DecodeError> {
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError("the JSON value is larger than the decoder's limit"));
    }
    // serde_json refuses nesting past 128 itself.
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|_| DecodeError("the cached value is not JSON"))?;
    let mut hints = 0;
    let doc = unwrap(doc, 0, limits.max_depth, &mut hints)?;
    Ok((doc, hints))
}

/// `v` without its type hints; `hints` counts those taken out.
fn unwrap(
    v: Value,
    depth: usize,
    max_depth: usize,
    hints: &mut usize,
) -> Result<Value, DecodeError> {
    if depth > max_depth {
        return Err(DecodeError("the JSON value is nested deeper than the decoder's limit"));
    }
    match v {
        Value::Object(mut m) => {
            if let Some(Value::String(class)) = m.get("@class") {
                *hints += 1;
                if class == NULL_VALUE && m.len() == 1 {
                    return Ok(Value::Null);
                }
                m.shift_remove("@class");
            }
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                out.insert(k, unwrap(v, depth + 1, max_depth, hints)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => {
            let wrapper = matches!(&items[..], [Value::String(c), v] if class_name(c.as_bytes()) && !v.is_string());
            if wrapper {
                *hints += 1;
                let mut it = items.into_iter();
                let (Some(Value::String(class)), Some(payload)) = (it.next(), it.next()) else {
                    return Ok(Value::Null);
                };
                return typed(&class, payload, depth, max_depth, hints);
            }
            let mut out = Vec::with_capacity(items.len());
            for v in items {
                out.push(unwrap(v, depth + 1, max_depth, hints)?);
            }
            Ok(Value::Array(out))
        }
        v => Ok(v),
    }
}

/// The value a wrapper holds, in the document's form for its class.
fn typed(
    class: &str,
    payload: Value,
    depth: usize,
    max_depth: usize,
    hints: &mut usize,
) -> Result<Value, DecodeError> {
    match (class, &payload) {
        ("java.math.BigDecimal" | "java.math.BigInteger", Value::Number(n)) => {
            let text = n.to_string();
            Ok(Value::String(crate::normalize::decimal(&text).unwrap_or(text)))
        }
        (
            "java.util.Date"
            | "java.sql.Timestamp"
            | "java.sql.Date"
            | "java.util.GregorianCalendar"
            | "java.util.Calendar",
            Value::Number(n),
        ) if n.as_i64().is_some() => {
            let ms = n.as_i64().unwrap_or_default();
            let iso =
                super::jdk::instant(ms.div_euclid(1000), ms.rem_euclid(1000) as u32 * 1_000_000);
            Ok(iso.map_or(payload, Value::String))
        }
        _ => unwrap(payload, depth + 1, max_depth, hints),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{self, fixture_check as fixtures};
    use crate::mapping::Mapping;

    #[test]
    fn fixtures_from_spring_jackson_decode_to_their_documents() {
        let n = fixtures::check_dir("jackson", |b| decode_any(b, &Limits::default()));
        assert!(n >= 15, "{n} fixtures");
        // Auto reads the typed ones the same (a root `String`, `Integer`, … has no hints:
        // plain JSON text).
        let typed = fixtures::load("jackson").into_iter().filter(|(_, b, _)| looks_like(b));
        for (name, bytes, _) in typed {
            let auto = decode::decode(&bytes, Codec::Auto, &Limits::default()).unwrap();
            assert_eq!(auto.codec, Codec::Jackson, "{name}");
            let any = decode_any(&bytes, &Limits::default()).map(|d| d.doc);
            assert_eq!(Ok(auto.doc), any, "{name}");
        }
    }

    #[test]
    fn hinted_fixtures_are_detected_and_plain_json_is_refused_at_once() {
        for (name, bytes, _) in fixtures::load("jackson") {
            let hinted = bytes.windows(7).any(|w| w == b"\"@class")
                || bytes.starts_with(b"[\"java")
                || bytes.starts_with(b"[\"[");
            assert_eq!(looks_like(&bytes), hinted, "{name}");
            assert_eq!(decode(&bytes, &Limits::default()).is_ok(), hinted, "{name}");
            if hinted {
                assert_eq!(decode::detect(&bytes), Some(Codec::Jackson), "{name}");
                assert!(decode::needs_decoding(&bytes), "{name}");
            }
        }
        assert!(!looks_like(br#"{"id":1,"@class":"x.Y"}"#));
        assert!(!decode::needs_decoding(br#"{"id":1,"status":"PAID"}"#));
        assert!(!looks_like(br#"["a","b"]"#));
    }

    #[test]
    fn damaged_fixtures_never_panic() {
        fixtures::mutilate("jackson", |b| {
            let _ = decode(b, &Limits::default());
            let _ = decode_any(b, &Limits::default());
        });
    }

    #[test]
    fn json_rules_read_typed_fields_through_the_decoder() {
        let rule = |decode: &str| {
            let text = format!(
                "[[rule]]\nkey = \"o:{{id}}\"\ntable = \"s.o\"\n{decode}json = [\"id\", \"total\", \"createdAt\", \"lines\"]\n"
            );
            Mapping::parse(&text).unwrap().rules.remove(0)
        };
        let order = fixtures::load("jackson").into_iter().find(|(n, _, _)| n == "order").unwrap();
        let (mut fast, mut full) = (Vec::new(), Vec::new());
        rule("").project_string(&order.1, &mut fast).unwrap();
        rule("decode = \"jackson\"\n").project_string(&order.1, &mut full).unwrap();
        assert_eq!(fast, full);
        let mut plain = Vec::new();
        let doc = serde_json::to_vec(&order.2).unwrap();
        rule("").project_string(&doc, &mut plain).unwrap();
        assert_eq!(fast, plain, "the typed document projects as its plain document does");
    }
}
