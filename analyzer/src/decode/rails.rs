/*!
Rails `ActiveSupport::Cache` entries as `RedisCacheStore` writes them, in every layout Rails has
used, told apart by their first bytes:

- **6.1** (and 7.0/7.1 with `cache_format_version = 6.1`): `Marshal.dump` of an
  `ActiveSupport::Cache::Entry` — `@value`, `@version`, `@created_at` and `@expires_in` in float
  seconds (7.x writes `@created_at = 0.0` and the absolute expiry in `@expires_in`), the value
  `Marshal`ed and zlib-deflated when `@compressed`;
- **7.0** (`cache_format_version = 7.0`): a mark byte (`00` plain, `01` zlib-deflated) then
  `Marshal.dump([value, expires_at, version])`, trailing nils left out;
- **7.1 coder** (`cache_format_version = 7.1`, 7.2): `00 11`, a type byte (`01` an object for
  the serializer, `02`/`03`/`04` a UTF-8, binary or US-ASCII string as it is; `0x80` set when
  zlib-deflated), `expires_at` as a little-endian float64 (`-1.0` for none), the version's
  length as a little-endian int32 (`-1` for none), the version, then the payload — `Marshal`
  (`04 08`) or `ActiveSupport::MessagePack` (`CC 80`, see [`msgpack`]).

[`Decoded::expires_ms`] is the entry's expiry (`created_at + expires_in`, or `expires_at`), in ms
since the epoch; Rails reads an entry past it as a miss. [`Decoded::version`] is the entry's
version (`write(key, value, version: …)`, or a record's `cache_version` when the key is a record:
`Rails.cache.fetch(order) { … }`); Rails reads an entry whose version differs from the one the
reader asks for as a miss too (`Entry#mismatched?`: both present and unequal). The version the
reader asks for is not in the GET; for a record it is [`cache_version`] of its `updated_at` as the
reader loaded it. [`Decoded::format`] names the layout.
*/

mod msgpack;

use serde_json::Value;

use super::{Codec, DecodeError, Decoded, Limits, marshal};

/// The 7.1 coder's header: signature, type, expires_at, version length.
const CODER_HEADER: usize = 2 + 1 + 8 + 4;
/// The start of a Marshal'd `ActiveSupport::Cache::Entry` (class name of 27 bytes).
const ENTRY_61: &[u8] = b"\x04\x08o: ActiveSupport::Cache::Entry";

/// True when the first bytes announce this format.
pub fn looks_like(bytes: &[u8]) -> bool {
    match bytes {
        [0x00, 0x11, t, ..] => bytes.len() >= CODER_HEADER && matches!(t & 0x7f, 1..=4),
        [0xcc, 0x80, _, ..] => true,
        [0x00, 0x04, 0x08, ..] => true,
        [0x01, cmf, flg, ..] => zlib_header(*cmf, *flg),
        _ => bytes.starts_with(ENTRY_61),
    }
}

/// A zlib header: deflate, and a check value that makes the first two bytes a multiple of 31.
fn zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0f == 8 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

/// Decodes one value.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    let mut version = None;
    let (doc, expires_s, format) = match bytes {
        [0x00, 0x11, ..] => {
            let (doc, expires, v, format) = coder(bytes, limits)?;
            version = v;
            (doc, expires, format)
        }
        [0xcc, 0x80, ..] => (msgpack::read(bytes, limits)?, None, "rails message pack"),
        [mark @ (0x00 | 0x01), rest @ ..] => {
            let inflated;
            let dumped = if *mark == 0x01 {
                inflated = marshal::inflate(rest, limits.max_bytes)?;
                &inflated[..]
            } else {
                rest
            };
            let (doc, _) = marshal::read(dumped, limits)?;
            let Value::Array(mut members) = doc else {
                return Err(DecodeError("a Rails 7.0 entry is not [value, expires_at, version]"));
            };
            let expires = members.get(1).and_then(Value::as_f64);
            version = members.get(2).and_then(version_text);
            let value = if members.is_empty() { Value::Null } else { members.swap_remove(0) };
            (value, expires, "rails 7.0 entry")
        }
        _ if bytes.starts_with(ENTRY_61) => {
            let (doc, class) = marshal::read(bytes, limits)?;
            let Value::Object(mut fields) = doc else {
                return Err(DecodeError("a Rails cache entry is not an object"));
            };
            if class.as_deref() != Some("ActiveSupport::Cache::Entry") {
                return Err(DecodeError("not an ActiveSupport::Cache::Entry"));
            }
            let created = fields.get("created_at").and_then(Value::as_f64).unwrap_or(0.0);
            let expires = fields.get("expires_in").and_then(Value::as_f64).map(|e| created + e);
            version = fields.get("version").and_then(version_text);
            (fields.remove("value").unwrap_or(Value::Null), expires, "rails 6.1 entry")
        }
        _ => return Err(DecodeError("not a Rails cache entry")),
    };
    Ok(Decoded {
        doc,
        expires_ms: expires_s.and_then(millis),
        version,
        format,
        compression: None,
        codec: Codec::Rails,
    })
}

/// Float seconds since the epoch as ms, as Ruby rounds them; `None` when not a time.
fn millis(secs: f64) -> Option<i64> {
    let ms = (secs * 1000.0).round();
    (ms.is_finite() && ms.abs() < 9.0e15).then_some(ms as i64)
}

/// An entry's version as Rails compares it (`to_param` of what was given: a string; `nil` is
/// none).
fn version_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The version Rails asks for when the cache key is a record, `Rails.cache.fetch(record)`:
/// ActiveRecord's `cache_version` (with `cache_versioning` on, as every Rails app since 5.2 has
/// it) is its `updated_at` in UTC as `%Y%m%d%H%M%S%6N` — `updated_at.utc.to_fs(:usec)`, or the
/// database's raw text with `- :.` removed and zeros appended to 20 digits, which is the same —
/// so the cached entry of a record whose row has since been updated is a miss. `None` for a value
/// that is not a date-time.
pub fn cache_version(updated_at: &cachetape_tape::Value) -> Option<String> {
    use cachetape_tape::Value as V;
    let (date, micros) = match updated_at {
        V::DateTime(d) => (
            jiff::civil::date(d.year as i16, d.month as i8, d.day as i8).at(
                d.hour as i8,
                d.minute as i8,
                d.second as i8,
                0,
            ),
            d.micros,
        ),
        V::Timestamp(us) => {
            let t = jiff::Timestamp::from_microsecond(*us).ok()?;
            (jiff::tz::TimeZone::UTC.to_datetime(t), us.rem_euclid(1_000_000) as u32)
        }
        _ => return None,
    };
    Some(format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}{:06}",
        date.year(),
        date.month(),
        date.day(),
        date.hour(),
        date.minute(),
        date.second(),
        micros
    ))
}

/// The 7.1 coder's layout (see the module doc): the document, `expires_at`, the version, the
/// format's name.
type Coded = (Value, Option<f64>, Option<String>, &'static str);

/// A 7.1 coder entry's version: its UTF-8 bytes, or (a version not in UTF-8, or one that itself
/// starts with Marshal's signature) the `Marshal.dump` of the string.
fn coder_version(v: &[u8], limits: &Limits) -> Result<Option<String>, DecodeError> {
    if v.starts_with(b"\x04\x08") {
        return Ok(version_text(&marshal::read(v, limits)?.0));
    }
    Ok(Some(String::from_utf8_lossy(v).into_owned()))
}

/// Reads a 7.1 coder entry.
fn coder(bytes: &[u8], limits: &Limits) -> Result<Coded, DecodeError> {
    let short = DecodeError("a Rails 7.1 cache entry ends inside its header");
    let head = bytes.get(..CODER_HEADER).ok_or(short)?;
    let ty = head[2];
    let expires_at = f64::from_le_bytes(head[3..11].try_into().map_err(|_| short)?);
    let version_len = i32::from_le_bytes(head[11..15].try_into().map_err(|_| short)?);
    let skip = usize::try_from(version_len.max(0)).map_err(|_| short)?;
    let version = (version_len >= 0)
        .then(|| bytes.get(CODER_HEADER..CODER_HEADER.saturating_add(skip)))
        .map(|v| v.ok_or(short))
        .transpose()?
        .map(|v| coder_version(v, limits))
        .transpose()?
        .flatten();
    let payload = bytes.get(CODER_HEADER.saturating_add(skip)..).ok_or(short)?;
    let inflated;
    let payload = if ty & 0x80 != 0 {
        inflated = marshal::inflate(payload, limits.max_bytes)?;
        &inflated[..]
    } else {
        payload
    };
    let expires = (expires_at >= 0.0).then_some(expires_at);
    let text = |p: &[u8]| {
        if p.len() > limits.max_bytes {
            return Err(DecodeError("a cached string is larger than the size limit"));
        }
        Ok(Value::String(String::from_utf8_lossy(p).into_owned()))
    };
    let (doc, format) = match ty & 0x7f {
        0x01 if payload.starts_with(&msgpack::SIGNATURE) => {
            (msgpack::read(payload, limits)?, "rails 7.1 coder, message pack")
        }
        0x01 => (marshal::read(payload, limits)?.0, "rails 7.1 coder, marshal"),
        0x02 => (text(payload)?, "rails 7.1 coder, utf-8 string"),
        0x03 => (text(payload)?, "rails 7.1 coder, binary string"),
        0x04 => (text(payload)?, "rails 7.1 coder, us-ascii string"),
        _ => return Err(DecodeError("an unknown Rails 7.1 cache entry type")),
    };
    Ok((doc, expires, version, format))
}

#[cfg(test)]
mod tests;
