/*!
`strtod` / `strtold` in the C locale: decimal and hexadecimal numbers, `inf` and `nan`, parsed
exactly ([`Parsed`]) and then rounded once to the target format ([`to_soft`]) — what glibc does.
*/

use super::big::{Big, mul};
use super::soft::{Format, Range, Soft, round};

/// A number as `strtod` reads it, before rounding.
pub(super) enum Parsed {
    Nan,
    Inf(bool),
    /// `(-1)^neg · digits · base^exp` with base 10 or 2.
    Finite {
        neg: bool,
        digits: Big,
        exp: i64,
        binary: bool,
    },
}

/// Parses the whole of `s` the way `strtod` does in the C locale, requiring every byte to be
/// consumed (`skip_space`: allow leading whitespace, which `strtod` skips).
pub(super) fn parse(s: &[u8], skip_space: bool) -> Option<Parsed> {
    let mut i = 0;
    if skip_space {
        while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
            i += 1;
        }
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let rest = &s[i..];
    let lower: Vec<u8> = rest.iter().map(u8::to_ascii_lowercase).collect();
    if lower == b"inf" || lower == b"infinity" {
        return Some(Parsed::Inf(neg));
    }
    if lower.starts_with(b"nan") {
        let tail = &lower[3..];
        let ok = tail.is_empty()
            || (tail.first() == Some(&b'(')
                && tail.last() == Some(&b')')
                && tail[1..tail.len() - 1].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_'));
        return ok.then_some(Parsed::Nan);
    }
    if lower.len() > 2
        && lower.starts_with(b"0x")
        && (lower[2].is_ascii_hexdigit() || lower[2] == b'.')
    {
        return parse_hex(neg, &lower[2..]);
    }
    let mut digits = Big::default();
    let mut any = false;
    let mut exp: i64 = 0;
    let mut j = 0;
    let mut seen_dot = false;
    while j < rest.len() {
        let c = rest[j];
        if c.is_ascii_digit() {
            any = true;
            if !(digits.is_zero() && c == b'0') {
                digits.mul_small(10);
                digits.add_small((c - b'0') as u32);
                if seen_dot {
                    exp -= 1;
                }
            } else if seen_dot {
                exp -= 1;
            }
        } else if c == b'.' && !seen_dot {
            seen_dot = true;
        } else {
            break;
        }
        j += 1;
    }
    if !any {
        return None;
    }
    if j < rest.len() {
        if rest[j] != b'e' && rest[j] != b'E' {
            return None;
        }
        exp = exp.saturating_add(parse_exponent(&rest[j + 1..])?);
    }
    Some(Parsed::Finite { neg, digits, exp, binary: false })
}

fn parse_exponent(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        v = v.saturating_mul(10).saturating_add((d - b'0') as i64);
    }
    Some(if neg { -v } else { v })
}

fn parse_hex(neg: bool, s: &[u8]) -> Option<Parsed> {
    let mut digits = Big::default();
    let mut exp: i64 = 0;
    let mut any = false;
    let mut seen_dot = false;
    let mut j = 0;
    while j < s.len() {
        let c = s[j];
        if let Some(v) = (c as char).to_digit(16) {
            any = true;
            digits.mul_small(16);
            digits.add_small(v);
            if seen_dot {
                exp -= 4;
            }
        } else if c == b'.' && !seen_dot {
            seen_dot = true;
        } else {
            break;
        }
        j += 1;
    }
    if !any {
        return None;
    }
    if j < s.len() {
        if s[j] != b'p' {
            return None;
        }
        exp = exp.saturating_add(parse_exponent(&s[j + 1..])?);
    }
    Some(Parsed::Finite { neg, digits, exp, binary: true })
}

/// Rounds a parsed number to `fmt`; `Err` when it overflows or underflows to zero (what
/// `strtod` reports with ERANGE and Redis rejects).
pub(super) fn to_soft(p: Parsed, fmt: Format) -> Option<Result<Soft, Range>> {
    match p {
        Parsed::Nan => None,
        Parsed::Inf(neg) => Some(Ok(Soft::Inf { neg })),
        Parsed::Finite { neg, digits, exp, binary } => {
            if digits.is_zero() {
                return Some(Ok(Soft::Finite { neg, mant: 0, exp: 0 }));
            }
            let len = digits.bits() as i64;
            if binary {
                if exp + len > 20_000 {
                    return Some(Err(Range::Overflow));
                }
                if exp + len < -20_000 {
                    return Some(Err(Range::Underflow));
                }
                return Some(round(neg, &digits, exp, false, fmt));
            }
            // Decimal: 10^exp. Bound the work for absurd exponents first.
            let mag = len as f64 * std::f64::consts::LOG10_2 + exp as f64;
            if mag > 5_000.0 {
                return Some(Err(Range::Overflow));
            }
            if mag < -5_000.0 {
                return Some(Err(Range::Underflow));
            }
            if exp >= 0 {
                let n = mul(&digits, &Big::pow10(exp as u64));
                Some(round(neg, &n, 0, false, fmt))
            } else {
                let p = Big::pow10((-exp) as u64);
                let k = (fmt.prec as i64 + 3 + p.bits() as i64 - len).max(0) as u64;
                let (q, r) = digits.shl(k).divmod(&p);
                Some(round(neg, &q, -(k as i64), !r.is_zero(), fmt))
            }
        }
    }
}
