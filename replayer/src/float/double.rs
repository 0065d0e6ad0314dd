/*!
Redis's `double`s (sorted-set scores): parsed like `strtod` (strictly, or leniently as a range
bound) and printed like `%.17g`.
*/

use super::soft::{DOUBLE, Range, soft_to_f64};
use super::strtod::{Parsed, parse, to_soft};

/// Redis's `string2d` (scores, ZADD): the whole string must be a `strtod` number, no leading
/// space, not NaN, not out of range.
pub fn parse_double(s: &[u8]) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    soft_to_f64(to_soft(parse(s, false)?, DOUBLE)?.ok()?)
}

/// `strtod` requiring full consumption but, unlike [`parse_double`], skipping leading space,
/// accepting the empty string as 0 and out-of-range values (as ±∞ or 0): what ZRANGEBYSCORE's
/// range parser accepts. `None` for NaN or trailing garbage.
pub fn parse_double_lenient(s: &[u8]) -> Option<f64> {
    if s.iter().all(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')) {
        return Some(0.0);
    }
    let p = parse(s, true)?;
    let neg = matches!(p, Parsed::Finite { neg: true, .. });
    match to_soft(p, DOUBLE)? {
        Ok(v) => soft_to_f64(v),
        Err(Range::Overflow) => Some(if neg { f64::NEG_INFINITY } else { f64::INFINITY }),
        Err(Range::Underflow) => Some(if neg { -0.0 } else { 0.0 }),
    }
}

/// Redis's reply form of a double (`addReplyDouble`, RESP2): `%.17g`, `inf` / `-inf`.
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // 17 significant digits, correctly rounded, then %g's choice of style.
    let e = format!("{:.16e}", d);
    let (mantissa, exp) = e.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    let neg = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if (-4..17).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            out.push_str(&digits[..int_len]);
            let frac = digits[int_len..].trim_end_matches('0');
            if !frac.is_empty() {
                out.push('.');
                out.push_str(frac);
            }
        } else {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(digits.trim_end_matches('0'));
        }
    } else {
        out.push_str(&digits[..1]);
        let frac = digits[1..].trim_end_matches('0');
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    }
    out
}
