/*!
Value decoders: what web frameworks put in Redis, turned into one document model the mapping's
projections read ([`Decoded::doc`], a `serde_json::Value`).

A rule names its decoder (`decode = "pickle"`); the default, [`Codec::Auto`], detects the format
from the value's first bytes ([`detect`]). Compression around any format (zlib, gzip, xz, lz4
frame, zstd) is peeled first, whatever the codec ([`compress`]).

The document model: objects, arrays, strings, booleans, null and numbers as JSON has them. A value
JSON cannot hold exactly is a string in the form [`crate::normalize`] reads as the same SQL value:
`decimal.Decimal`/`BigDecimal`/big integers as decimal text, dates and times as ISO-8601 text,
UUIDs in their hyphenated form, byte strings as their UTF-8 text (lossy). An object instance
(a Django model, an ActiveRecord, a PHP or Java object) is the object of its fields.

A framework's own expiry inside the value (Rails `expires_at`, Keyv `expires`, .NET `absexp`) is
[`Decoded::expires_ms`]: the framework treats the entry as a miss from then on.

Every decoder is bounded: no input makes it allocate more than [`Limits::max_bytes`] nor recurse
deeper than [`Limits::max_depth`], and none executes anything the value names (a pickle's
globals are looked up in a fixed table, never imported).
*/

pub mod compress;
#[cfg(test)]
mod fixture_check;
pub mod jackson;
pub mod jdk;
pub mod keyv;
pub mod marshal;
pub mod msgpack;
pub mod php;
pub mod pickle;
pub mod rails;

use serde_json::Value;

/// The decoder a rule names (`decode = "…"` in the mapping).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Codec {
    /// Detect the format from the value's first bytes (the default).
    #[default]
    Auto,
    /// The bytes as they are (text).
    Raw,
    /// JSON text (a Keyv envelope or Jackson type hints are not unwrapped).
    Json,
    /// Python pickle, protocols 2–5 (Django, django-redis, Flask-Caching).
    Pickle,
    /// Rails `ActiveSupport::Cache` entries (7.1 coder, 6.1/7.0 Marshal entries, MessagePack).
    Rails,
    /// Ruby Marshal 4.8.
    Marshal,
    /// PHP `serialize()` (Laravel).
    Php,
    /// Java serialization (`AC ED 00 05`).
    Jdk,
    /// Spring's `GenericJackson2JsonRedisSerializer` JSON (`@class`, typed wrappers).
    Jackson,
    /// MessagePack (django-redis, go-redis/cache).
    Msgpack,
    /// Keyv / cache-manager ≥ 6 envelope (`{"value": …, "expires": …}`).
    Keyv,
}

impl Codec {
    /// Every codec, in the order `map --infer` tries them.
    pub const ALL: [Codec; 11] = [
        Codec::Auto,
        Codec::Raw,
        Codec::Json,
        Codec::Pickle,
        Codec::Rails,
        Codec::Marshal,
        Codec::Php,
        Codec::Jdk,
        Codec::Jackson,
        Codec::Msgpack,
        Codec::Keyv,
    ];

    /// The name a mapping writes (`decode = "pickle"`).
    pub fn name(self) -> &'static str {
        match self {
            Codec::Auto => "auto",
            Codec::Raw => "raw",
            Codec::Json => "json",
            Codec::Pickle => "pickle",
            Codec::Rails => "rails",
            Codec::Marshal => "marshal",
            Codec::Php => "php",
            Codec::Jdk => "jdk",
            Codec::Jackson => "jackson",
            Codec::Msgpack => "msgpack",
            Codec::Keyv => "keyv",
        }
    }

    /// The codec a mapping's `decode = "…"` names.
    pub fn from_name(name: &str) -> Option<Codec> {
        Codec::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Bounds every decoder keeps, whatever its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes a decompression may produce, and the most a decoder may allocate for
    /// one document (strings, arrays and objects together, roughly).
    pub max_bytes: usize,
    /// The deepest nesting of arrays, objects and compression layers.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 16 << 20, max_depth: 128 }
    }
}

/// A decoded cached value.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// The value as a document (see the module doc for how non-JSON values appear).
    pub doc: Value,
    /// The framework's own expiry inside the value, ms since the epoch.
    pub expires_ms: Option<i64>,
    /// The entry's own version, when the framework keeps one beside the value (a Rails cache
    /// entry's `version`: see [`rails::cache_version`]).
    pub version: Option<String>,
    /// What the payload was, for messages and inference (`"pickle"`, `"keyv envelope"`).
    pub format: &'static str,
    /// The compression peeled before the payload was read.
    pub compression: Option<compress::Layer>,
    /// The codec that read the payload ([`Codec::Raw`] when no format was recognised).
    pub codec: Codec,
}

/// Why a value could not be decoded: a fixed text, fit for a per-read reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub &'static str);

/// The format the first bytes announce, or `None` (plain text, or a format without a
/// signature). Compression is reported as the codec of what it wraps only by [`decode`].
pub fn detect(bytes: &[u8]) -> Option<Codec> {
    let bytes = bytes.strip_prefix(b"!").filter(|b| pickle::looks_like(b)).unwrap_or(bytes);
    if pickle::looks_like(bytes) {
        Some(Codec::Pickle)
    } else if rails::looks_like(bytes) {
        Some(Codec::Rails)
    } else if marshal::looks_like(bytes) {
        Some(Codec::Marshal)
    } else if jdk::looks_like(bytes) {
        Some(Codec::Jdk)
    } else if php::looks_like(bytes) {
        Some(Codec::Php)
    } else if jackson::looks_like(bytes) {
        Some(Codec::Jackson)
    } else if msgpack::looks_like(bytes) {
        // Last: MessagePack has no signature, only first bytes no other format starts with.
        Some(Codec::Msgpack)
    } else {
        None
    }
}

/// True unless the value may need a decoder under [`Codec::Auto`]: it starts with a
/// compression's or a format's signature, or is JSON text (a Keyv envelope, Jackson hints).
/// Plain text and plain JSON skip decoding when this is false and the rule's fast path applies;
/// cheap (the first bytes only).
pub fn needs_decoding(bytes: &[u8]) -> bool {
    compress::looks_compressed(bytes) || detect(bytes).is_some()
}

/// Decodes `bytes` as `codec` says, within `limits`. With [`Codec::Auto`]: compression is
/// peeled, then the format is detected; JSON text is parsed (a Keyv envelope and Jackson type
/// hints unwrapped); anything else is its own text ([`Codec::Raw`]).
pub fn decode(bytes: &[u8], codec: Codec, limits: &Limits) -> Result<Decoded, DecodeError> {
    let (payload, layer) = compress::peel(bytes, limits)?;
    let bytes: &[u8] = &payload;
    let found = match codec {
        Codec::Auto => match detect(bytes) {
            Some(c) => decode_as(bytes, c, limits)?,
            None => auto_text(bytes, limits)?,
        },
        c => decode_as(bytes, c, limits)?,
    };
    Ok(Decoded { compression: layer, ..found })
}

/// Decodes text that announces no binary format: JSON (unwrapping envelopes) or raw text.
fn auto_text(bytes: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[')) {
        if let Ok(d) = keyv::decode(bytes, limits) {
            return Ok(d);
        }
        if let Ok(d) = jackson::decode(bytes, limits) {
            return Ok(d);
        }
        if let Ok(doc) = serde_json::from_slice::<Value>(bytes) {
            return Ok(Decoded {
                doc,
                expires_ms: None,
                version: None,
                format: "json",
                compression: None,
                codec: Codec::Json,
            });
        }
    }
    Ok(raw(bytes))
}

/// The bytes as text.
fn raw(bytes: &[u8]) -> Decoded {
    Decoded {
        doc: Value::String(String::from_utf8_lossy(bytes).into_owned()),
        expires_ms: None,
        version: None,
        format: "text",
        compression: None,
        codec: Codec::Raw,
    }
}

fn decode_as(bytes: &[u8], codec: Codec, limits: &Limits) -> Result<Decoded, DecodeError> {
    match codec {
        Codec::Auto => decode(bytes, Codec::Auto, limits),
        Codec::Raw => Ok(raw(bytes)),
        Codec::Json => serde_json::from_slice::<Value>(bytes)
            .map(|doc| Decoded {
                doc,
                expires_ms: None,
                version: None,
                format: "json",
                compression: None,
                codec: Codec::Json,
            })
            .map_err(|_| DecodeError("the cached value is not JSON")),
        Codec::Pickle => pickle::decode(bytes, limits),
        Codec::Rails => rails::decode(bytes, limits),
        Codec::Marshal => marshal::decode(bytes, limits),
        Codec::Php => php::decode(bytes, limits),
        Codec::Jdk => jdk::decode(bytes, limits),
        Codec::Jackson => jackson::decode_any(bytes, limits),
        Codec::Msgpack => msgpack::decode(bytes, limits),
        Codec::Keyv => keyv::decode(bytes, limits),
    }
}

/// How a language spells the floats JSON has no number for: NaN, +∞, −∞.
pub(crate) type NonFinite = [&'static str; 3];
/// JavaScript's, Java's and Python's `NaN`, `Infinity`, `-Infinity`.
pub(crate) const JS_NON_FINITE: NonFinite = ["NaN", "Infinity", "-Infinity"];
/// Ruby's `nan`, `inf`, `-inf`.
pub(crate) const RUBY_NON_FINITE: NonFinite = ["nan", "inf", "-inf"];

/// A float as a JSON number, or as its language's name (`names`) when JSON has none.
pub(crate) fn float(f: f64, names: NonFinite) -> Value {
    match serde_json::Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None if f.is_nan() => Value::String(names[0].into()),
        None if f > 0.0 => Value::String(names[1].into()),
        None => Value::String(names[2].into()),
    }
}

/// The first bytes of a value, in hex, and the closest guess at its format, for the report's
/// list of key families no decoder reads.
pub fn describe_undecodable(bytes: &[u8]) -> String {
    let head: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let guess = match detect(bytes) {
        Some(c) => format!("looks like {} but does not decode as it", c.name()),
        None => "no known format".to_string(),
    };
    format!("{} ({guess})", head.join(" "))
}
