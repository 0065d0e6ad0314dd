/*!
Redis's integer conversions: `string2ll` (the strict parser every "is it an integer" check uses)
and the argument parsers built on it, with their exact error replies.
*/

use crate::reply::Reply;

/// Redis's `string2ll`: canonical decimal only (no `+`, no leading zeros, no `-0`, no spaces),
/// at most 20 bytes, within `i64`.
#[inline]
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' { (true, &s[1..]) } else { (false, s) };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// `getLongLongFromObjectOrReply` with the default message.
#[inline]
pub fn arg_i64(s: &[u8]) -> Result<i64, Reply> {
    parse_i64(s).ok_or_else(Reply::not_integer)
}

/// `getIntFromObjectOrReply`: an `i32`, else "value is out of range, value must between …", or
/// `msg` when given.
pub fn arg_i32(s: &[u8], msg: Option<&'static str>) -> Result<i32, Reply> {
    let err = |default: Reply| msg.map_or(default, Reply::err);
    let v = parse_i64(s).ok_or_else(|| err(Reply::not_integer()))?;
    i32::try_from(v).map_err(|_| {
        err(Reply::err_owned(format!(
            "ERR value is out of range, value must between {} and {}",
            i32::MIN,
            i32::MAX
        )))
    })
}

/// `getPositiveLongFromObjectOrReply`.
pub fn arg_positive(s: &[u8]) -> Result<i64, Reply> {
    // The message is passed down to the integer parse too, so it covers both failures.
    match parse_i64(s) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(Reply::err("ERR value is out of range, must be positive")),
    }
}

/// Decimal bytes of an integer (Redis's `ll2string`).
pub fn i64_bytes(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string2ll_is_strict() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in
            [&b""[..], b"-", b"-0", b"+1", b"01", b" 1", b"1 ", b"9223372036854775808", b"1.0"]
        {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
