/*!
The Keyv envelope: what Keyv (and so cache-manager ≥ 6, whose stores are Keyv instances) writes
through @keyv/redis: `{"value":…,"expires":ms}`, made by @keyv/serialize.

- `expires` is ms since the epoch (`Date.now() + ttl` on the app's clock), left out (Keyv 5) or
  `null` (Keyv 4) when there is no TTL. Keyv treats the entry as a miss, and deletes it, once
  `Date.now() > expires`; [`Decoded::expires_ms`] is `expires` itself (the 1 ms between "after"
  and "at or after" is far below what separates the app's clock from Redis').
- In the value, a string `":base64:<b64>"` is a Buffer (decoded, then read as UTF-8 text, lossy,
  as the document model has it), and any other string that starts with `:` carries one extra
  `:` in front (removed). Object keys are never escaped. A Date is its ISO-8601 text already
  (its `toJSON`). A BigInt cannot be stored by Keyv 5 (JSON.stringify throws); Keyv 6's own
  serializer writes it as `":bigint:<decimal>"`, decoded to its decimal text (how the document
  model holds big integers). Keyv 6 with its @keyv/redis writes the same envelope (and sets the
  key's Redis expiry to `expires` itself, `SET … PXAT`).
- A string value is a JSON string inside the envelope, so an app that stores
  `JSON.stringify(doc)` gets its document double-encoded: the decoded value is that string (the
  mapping's JSON projection parses such a string, see [`crate::mapping`]).

Every JSON text that reaches [`super::decode`] under `auto` is offered here first, so a text
that is not an envelope is refused from its first bytes ([`looks_like`]: the first key must be
`value` or `expires`); one that starts like an envelope is refused at its first other key.
*/

use serde::Deserialize;
use serde_json::{Number, Value};

use super::{Codec, DecodeError, Decoded, Limits};

const NOT_ENVELOPE: DecodeError = DecodeError("the cached value is not a Keyv envelope");
const TOO_BIG: DecodeError = DecodeError("the Keyv envelope is larger than the decoder's limit");
const TOO_DEEP: DecodeError =
    DecodeError("the Keyv envelope nests deeper than the decoder's limit");
const BAD_EXPIRES: DecodeError = DecodeError("the Keyv envelope's expires is not a time");

/// True when the first bytes announce a Keyv envelope: a JSON object whose first key is
/// `value` or `expires`. Cheap: no parse.
pub fn looks_like(bytes: &[u8]) -> bool {
    let rest = skip_ws(bytes);
    let Some(rest) = rest.strip_prefix(b"{") else { return false };
    let rest = skip_ws(rest);
    let Some(rest) = rest.strip_prefix(b"\"value\"").or_else(|| rest.strip_prefix(b"\"expires\""))
    else {
        return false;
    };
    skip_ws(rest).starts_with(b":")
}

/// Decodes one Keyv entry: its inner value as a document, and `expires`.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    if !looks_like(bytes) {
        return Err(NOT_ENVELOPE);
    }
    if bytes.len() > limits.max_bytes {
        return Err(TOO_BIG);
    }
    // The envelope is one level around the value.
    if json_depth(bytes) > limits.max_depth.saturating_add(1) {
        return Err(TOO_DEEP);
    }
    let envelope: Envelope = serde_json::from_slice(bytes).map_err(|_| NOT_ENVELOPE)?;
    let expires_ms = match envelope.expires {
        None => None,
        Some(n) => Some(ms_of(&n).ok_or(BAD_EXPIRES)?),
    };
    let mut budget = limits.max_bytes;
    let doc = unescape(envelope.value.unwrap_or(Value::Null), &mut budget)?;
    Ok(Decoded {
        doc,
        expires_ms,
        version: None,
        format: "keyv envelope",
        compression: None,
        codec: Codec::Keyv,
    })
}

/// The envelope, field by field: any other key, or a key twice, is not an envelope.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    expires: Option<Number>,
}

/// `expires` as whole ms: an integer, or a finite number (a fractional TTL) floored.
fn ms_of(n: &Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?.floor();
    // i64::MAX as f64 rounds up to 2^63, itself out of range.
    (f.is_finite() && f >= i64::MIN as f64 && f < i64::MAX as f64).then_some(f as i64)
}

/// The value with @keyv/serialize's string escapes undone; `budget` bounds the bytes the
/// decoded Buffers may grow to.
fn unescape(v: Value, budget: &mut usize) -> Result<Value, DecodeError> {
    Ok(match v {
        Value::String(s) => Value::String(unescape_str(s, budget)?),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|x| unescape(x, budget)).collect::<Result<_, _>>()?)
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, x)| Ok((k, unescape(x, budget)?)))
                .collect::<Result<_, DecodeError>>()?,
        ),
        other => other,
    })
}

fn unescape_str(s: String, budget: &mut usize) -> Result<String, DecodeError> {
    let Some(rest) = s.strip_prefix(':') else { return Ok(s) };
    if let Some(b64) = rest.strip_prefix("base64:")
        && let Some(bytes) = base64(b64.as_bytes())
    {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        *budget = budget.checked_sub(text.len()).ok_or(TOO_BIG)?;
        return Ok(text);
    }
    if let Some(digits) = rest.strip_prefix("bigint:")
        && is_integer(digits)
    {
        return Ok(digits.to_string());
    }
    Ok(rest.to_string())
}

/// A BigInt's decimal text: an optional `-` and digits.
fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Standard or URL-safe base64 (as Node's `Buffer.from(s, "base64")` reads both), padding and
/// whitespace ignored; `None` on any other character.
fn base64(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')).count();
    &b[n..]
}

/// The deepest nesting of arrays and objects in JSON text (strings skipped), without parsing.
fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
    for &c in bytes {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
#[path = "keyv_tests.rs"]
mod tests;
