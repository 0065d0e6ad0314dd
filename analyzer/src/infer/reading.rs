/*!
Readings: how one way of reading a family's values (a [`View`]) sees one sampled write — the
whole value's canonical form (for a `column` rule) and its fields (for a `json` or `hash` rule),
each in the canonical form [`crate::normalize`] gives the row's columns.

- [`View::Plain`] reads the bytes as they are, as inference always has: the whole value as text,
  a JSON object's top-level fields, a hash's fields.
- [`View::Auto`] reads them as a rule with the default `decode = "auto"` projects them: values
  that announce a format or a compression are decoded, the rest are text or JSON. Fields one level
  down are offered too, as dotted paths (`value.status`), for envelopes no decoder unwraps.
- [`View::Codec`] decodes every value with one codec, for formats without a signature
  (MessagePack) or envelopes inside JSON (Keyv, Jackson type hints).

Outside the plain view a field may match its column loosely (`customerId` ↔ `customer_id`,
`Status` ↔ `status`): serializers of other languages name fields their own way.
*/

use serde_json::Value;

use crate::decode::{self, Codec, Decoded, Limits};
use crate::normalize;

/// A sampled write.
pub(super) enum Sample {
    /// A string value (SET and friends).
    Text(Vec<u8>),
    /// A hash's fields (HSET).
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
}

/// A way of reading a family's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum View {
    /// The bytes as they are (the inference of plain text and JSON).
    Plain,
    /// As `decode = "auto"` projects them, with nested fields.
    Auto,
    /// Every value through one codec, with nested fields.
    Codec(Codec),
}

/// One field of a value.
pub(super) struct Field {
    /// Its path in the mapping (`status`, `value.status`).
    pub path: String,
    /// The name a column must have to be its column (the path's last part).
    pub name: String,
    /// True when the name may match a column loosely (case and `_` ignored).
    pub loose: bool,
    /// Its canonical value.
    pub value: Vec<u8>,
}

/// A sampled write as a view reads it.
#[derive(Default)]
pub(super) struct Reading {
    /// The whole value's canonical form, for a `column` rule.
    pub whole: Option<Vec<u8>>,
    /// The fields, when the value is an object or a hash.
    pub fields: Option<Vec<Field>>,
    /// True when the value is a Redis hash.
    pub hash: bool,
    /// What the value was read as (`pickle`, `json`, `pickle (zlib)`), for the evidence.
    pub label: String,
    /// The codec that read it ([`Codec::Raw`] for text, [`Codec::Json`] for JSON).
    pub codec: Codec,
}

/// The canonical form of text.
pub(super) fn canon_text(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    normalize::text(b, &mut out);
    out
}

fn canon_json(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    normalize::json(v, &mut out);
    out
}

/// `sample` as `view` reads it; `None` when the view cannot read it (a value no decoder of the
/// view reads; a hash outside the plain view, unless it is a .NET `IDistributedCache` entry,
/// whose `data` field the view reads as a string value).
pub(super) fn read(sample: &Sample, view: View) -> Option<Reading> {
    match (sample, view) {
        (Sample::Text(v), View::Plain) => Some(plain_text(v)),
        (Sample::Hash(pairs), View::Plain) => Some(Reading {
            whole: None,
            fields: Some(
                pairs
                    .iter()
                    .map(|(f, v)| {
                        let name = String::from_utf8_lossy(f).into_owned();
                        Field { path: name.clone(), name, loose: false, value: canon_text(v) }
                    })
                    .collect(),
            ),
            hash: true,
            label: "hash".into(),
            codec: Codec::Raw,
        }),
        // A .NET `IDistributedCache` entry: its `data` field is the value.
        (Sample::Hash(pairs), view) => {
            let (_, data) = pairs.iter().rev().find(|(f, _)| f == DOTNET_DATA)?;
            let mut r = read_text(data, view)?;
            r.label = format!("{} in a .NET IDistributedCache hash", r.label);
            Some(r)
        }
        (Sample::Text(v), view) => read_text(v, view),
    }
}

/// The hash field holding a .NET `IDistributedCache` entry's payload.
const DOTNET_DATA: &[u8] = b"data";

fn read_text(v: &[u8], view: View) -> Option<Reading> {
    match view {
        View::Plain => Some(plain_text(v)),
        View::Auto if !decode::needs_decoding(v) => Some(raw_nested(v)),
        View::Auto => decode::decode(v, Codec::Auto, &Limits::default()).ok().map(|d| decoded(&d)),
        View::Codec(c) => decode::decode(v, c, &Limits::default()).ok().map(|d| decoded(&d)),
    }
}

/// The plain reading: the text, and a JSON object's top-level fields.
fn plain_text(v: &[u8]) -> Reading {
    let fields = serde_json::from_slice::<Value>(v).ok().and_then(|doc| {
        Some(
            doc.as_object()?
                .iter()
                .map(|(k, v)| Field {
                    path: k.clone(),
                    name: k.clone(),
                    loose: false,
                    value: canon_json(v),
                })
                .collect(),
        )
    });
    Reading {
        whole: Some(canon_text(v)),
        fields,
        hash: false,
        label: "text".into(),
        codec: Codec::Raw,
    }
}

/// The text, and a JSON object's fields down to one level of nesting (names matched loosely:
/// .NET writes `Status` for `status`).
fn raw_nested(v: &[u8]) -> Reading {
    let doc = serde_json::from_slice::<Value>(v).ok();
    let fields = doc.as_ref().and_then(|d| fields_of(d, true));
    let (label, codec) = if doc.is_some() { ("json", Codec::Json) } else { ("text", Codec::Raw) };
    Reading { whole: Some(canon_text(v)), fields, hash: false, label: label.into(), codec }
}

/// A decoded value: the document, and its fields down to one level of nesting.
fn decoded(d: &Decoded) -> Reading {
    let whole = match &d.doc {
        Value::String(s) => canon_text(s.as_bytes()),
        doc => canon_json(doc),
    };
    let label = match d.compression {
        Some(layer) => format!("{} ({})", d.format, layer.name()),
        None => d.format.to_string(),
    };
    // A string holding a JSON object (an app caching `json.dumps(doc)` through a framework
    // that wraps strings) offers that object's fields.
    let inner = match &d.doc {
        Value::String(s) if s.trim_start().starts_with('{') => serde_json::from_str(s).ok(),
        _ => None,
    };
    Reading {
        whole: Some(whole),
        fields: fields_of(inner.as_ref().unwrap_or(&d.doc), true),
        hash: false,
        label,
        codec: d.codec,
    }
}

/// An object's fields, and the fields of its object-valued fields as `outer.inner`; `loose`
/// when their names may match columns loosely.
fn fields_of(doc: &Value, loose: bool) -> Option<Vec<Field>> {
    let obj = doc.as_object()?;
    let mut out = Vec::new();
    for (k, v) in obj {
        out.push(Field { path: k.clone(), name: k.clone(), loose, value: canon_json(v) });
    }
    for (k, v) in obj {
        if let Some(inner) = v.as_object() {
            for (k2, v2) in inner {
                out.push(Field {
                    path: format!("{k}.{k2}"),
                    name: k2.clone(),
                    loose,
                    value: canon_json(v2),
                });
            }
        }
    }
    Some(out)
}

/// True when `field` names `column`, exactly or (for a loose field) ignoring case and `_`.
pub(super) fn names(field: &Field, column: &str) -> bool {
    field.name == column || (field.loose && loosely(&field.name) == loosely(column))
}

fn loosely(name: &str) -> String {
    name.chars().filter(|c| *c != '_').map(|c| c.to_ascii_lowercase()).collect()
}

/// True when `c` reads `sample` differently from its plain reading (so it is worth a view).
pub(super) fn codec_differs(sample: &Sample, c: Codec) -> bool {
    let Sample::Text(v) = sample else { return false };
    let Ok(d) = decode::decode(v, c, &Limits::default()) else { return false };
    let raw = match serde_json::from_slice::<Value>(v) {
        Ok(doc) => doc,
        Err(_) => Value::String(String::from_utf8_lossy(v).into_owned()),
    };
    d.doc != raw
}
