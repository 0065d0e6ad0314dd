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
since the epoch; Rails reads an entry past it as a miss. [`Decoded::format`] names the layout.
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
    let (doc, expires_s, format) = match bytes {
        [0x00, 0x11, ..] => coder(bytes, limits)?,
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
            (fields.remove("value").unwrap_or(Value::Null), expires, "rails 6.1 entry")
        }
        _ => return Err(DecodeError("not a Rails cache entry")),
    };
    Ok(Decoded {
        doc,
        expires_ms: expires_s.and_then(millis),
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

/// The 7.1 coder's layout (see the module doc).
fn coder(bytes: &[u8], limits: &Limits) -> Result<(Value, Option<f64>, &'static str), DecodeError> {
    let short = DecodeError("a Rails 7.1 cache entry ends inside its header");
    let head = bytes.get(..CODER_HEADER).ok_or(short)?;
    let ty = head[2];
    let expires_at = f64::from_le_bytes(head[3..11].try_into().map_err(|_| short)?);
    let version_len = i32::from_le_bytes(head[11..15].try_into().map_err(|_| short)?);
    let skip = usize::try_from(version_len.max(0)).map_err(|_| short)?;
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
    Ok((doc, expires, format))
}

#[cfg(test)]
mod tests;
