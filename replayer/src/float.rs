/*!
Redis's floating-point arithmetic, bit for bit: `strtod`/`strtold` parsing, x87 `long double`
addition, and the `%.17g` / `%.17Lf` renderings Redis replies with.

INCRBYFLOAT and HINCRBYFLOAT compute in the C `long double` of the server (on x86-64 Linux the
80-bit x87 format: 64-bit mantissa) and print the result with `%.17Lf` minus trailing zeros;
sorted-set scores are `double`s printed with `%.17g`. Rust has no 80-bit float, so this module
carries a small exact implementation: numbers are parsed into big integers, rounded once
(half to even) to the target precision, added exactly and rounded once, and printed from the
exact binary value — which is what glibc does. It is not on any hot path.
*/

use std::cmp::Ordering;

/// An arbitrary-precision unsigned integer (little-endian 32-bit limbs), just enough for exact
/// conversions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bits(&self) -> u64 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as u64 - 1) * 32 + (32 - top.leading_zeros() as u64),
        }
    }

    fn bit(&self, i: u64) -> bool {
        let limb = (i / 32) as usize;
        limb < self.0.len() && (self.0[limb] >> (i % 32)) & 1 == 1
    }

    /// True when any of the lowest `n` bits is set.
    fn any_below(&self, n: u64) -> bool {
        let full = (n / 32) as usize;
        if self.0.iter().take(full).any(|&l| l != 0) {
            return true;
        }
        let rem = n % 32;
        rem > 0 && full < self.0.len() && self.0[full] & ((1u32 << rem) - 1) != 0
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let v = *limb as u64 * m as u64 + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn add_small(&mut self, a: u32) {
        let mut carry = a as u64;
        for limb in &mut self.0 {
            if carry == 0 {
                return;
            }
            let v = *limb as u64 + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn shl(&self, n: u64) -> Big {
        if self.is_zero() {
            return Big::default();
        }
        let limbs = (n / 32) as usize;
        let bits = (n % 32) as u32;
        let mut out = vec![0u32; limbs];
        out.reserve(self.0.len() + 1);
        let mut carry = 0u32;
        for &l in &self.0 {
            if bits == 0 {
                out.push(l);
            } else {
                out.push((l << bits) | carry);
                carry = l >> (32 - bits);
            }
        }
        if carry > 0 {
            out.push(carry);
        }
        Big(out)
    }

    fn shr(&self, n: u64) -> Big {
        let limbs = (n / 32) as usize;
        if limbs >= self.0.len() {
            return Big::default();
        }
        let bits = (n % 32) as u32;
        let src = &self.0[limbs..];
        let mut out = Vec::with_capacity(src.len());
        for i in 0..src.len() {
            let lo = src[i] as u64;
            let hi = src.get(i + 1).copied().unwrap_or(0) as u64;
            out.push((((hi << 32) | lo) >> bits) as u32);
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn low_u64(&self) -> u64 {
        self.0.first().copied().unwrap_or(0) as u64
            | (self.0.get(1).copied().unwrap_or(0) as u64) << 32
    }

    fn add(&self, o: &Big) -> Big {
        let n = self.0.len().max(o.0.len());
        let mut out = Vec::with_capacity(n + 1);
        let mut carry = 0u64;
        for i in 0..n {
            let v = self.0.get(i).copied().unwrap_or(0) as u64
                + o.0.get(i).copied().unwrap_or(0) as u64
                + carry;
            out.push(v as u32);
            carry = v >> 32;
        }
        if carry > 0 {
            out.push(carry as u32);
        }
        Big(out)
    }

    /// `self - o`; requires `self >= o`.
    fn sub(&self, o: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let mut v = self.0[i] as i64 - o.0.get(i).copied().unwrap_or(0) as i64 - borrow;
            borrow = 0;
            if v < 0 {
                v += 1 << 32;
                borrow = 1;
            }
            out.push(v as u32);
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn cmp(&self, o: &Big) -> Ordering {
        self.0.len().cmp(&o.0.len()).then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }

    fn pow10(n: u64) -> Big {
        let mut b = Big::from_u64(1);
        let mut left = n;
        while left > 0 {
            let step = left.min(9);
            b.mul_small(10u32.pow(step as u32));
            left -= step;
        }
        b
    }

    /// `(self / d, self % d)` by binary long division.
    fn divmod(&self, d: &Big) -> (Big, Big) {
        let mut q = Big(vec![0; self.0.len()]);
        let mut r = Big::default();
        for i in (0..self.bits()).rev() {
            r = r.shl(1);
            if self.bit(i) {
                r.add_small(1);
            }
            if r.cmp(d) != Ordering::Less {
                r = r.sub(d);
                q.0[(i / 32) as usize] |= 1 << (i % 32);
            }
        }
        q.trim();
        (q, r)
    }

    fn divmod_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let v = (rem << 32) | *limb as u64;
            *limb = (v / d as u64) as u32;
            rem = v % d as u64;
        }
        self.trim();
        rem as u32
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.divmod_small(1_000_000_000));
        }
        let mut s = chunks.pop().unwrap().to_string();
        for c in chunks.iter().rev() {
            s.push_str(&format!("{c:09}"));
        }
        s
    }
}

/// A binary floating-point format.
#[derive(Clone, Copy)]
struct Format {
    /// Mantissa bits, the leading one included.
    prec: u64,
    /// Smallest exponent of a normal number (value = 1.x · 2^e).
    emin: i64,
    /// Largest exponent.
    emax: i64,
}

const X87: Format = Format { prec: 64, emin: -16382, emax: 16383 };
const DOUBLE: Format = Format { prec: 53, emin: -1022, emax: 1023 };

/// A finite or infinite value of some binary format: `(-1)^neg · mant · 2^exp`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Soft {
    Finite { neg: bool, mant: u64, exp: i64 },
    Inf { neg: bool },
}

/// Why a rounding did not give a finite nonzero-or-exact value.
#[derive(Debug, PartialEq)]
enum Range {
    Overflow,
    Underflow,
}

/// Rounds the exact value `n · 2^e` (plus a sticky "a little more") to `fmt`, half to even.
fn round(neg: bool, n: &Big, e: i64, sticky: bool, fmt: Format) -> Result<Soft, Range> {
    if n.is_zero() {
        return Ok(Soft::Finite { neg, mant: 0, exp: 0 });
    }
    let len = n.bits() as i64;
    let top = len - 1 + e;
    let mut prec = fmt.prec as i64;
    if top < fmt.emin {
        prec -= fmt.emin - top;
        if prec < 0 {
            return Err(Range::Underflow);
        }
    }
    let drop = len - prec;
    let (mut q, mut exp): (u128, i64) = if drop <= 0 {
        (n.shl((-drop) as u64).low_u64() as u128, e + drop)
    } else {
        let d = drop as u64;
        let mut q = n.shr(d).low_u64() as u128;
        let half = n.bit(d - 1);
        let lower = n.any_below(d - 1) || sticky;
        if half && (lower || q & 1 == 1) {
            q += 1;
        }
        (q, e + drop)
    };
    if q == 0 {
        return Err(Range::Underflow);
    }
    if q >> fmt.prec != 0 {
        q >>= 1;
        exp += 1;
    }
    let q = q as u64;
    let top = 63 - q.leading_zeros() as i64 + exp;
    if top > fmt.emax {
        return Err(Range::Overflow);
    }
    Ok(Soft::Finite { neg, mant: q, exp })
}

/// A number as `strtod` reads it, before rounding.
enum Parsed {
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
fn parse(s: &[u8], skip_space: bool) -> Option<Parsed> {
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
fn to_soft(p: Parsed, fmt: Format) -> Option<Result<Soft, Range>> {
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

fn mul(a: &Big, b: &Big) -> Big {
    let mut out = vec![0u32; a.0.len() + b.0.len()];
    for (i, &x) in a.0.iter().enumerate() {
        let mut carry = 0u64;
        for (j, &y) in b.0.iter().enumerate() {
            let v = out[i + j] as u64 + x as u64 * y as u64 + carry;
            out[i + j] = v as u32;
            carry = v >> 32;
        }
        let mut k = i + b.0.len();
        while carry > 0 {
            let v = out[k] as u64 + carry;
            out[k] = v as u32;
            carry = v >> 32;
            k += 1;
        }
    }
    let mut b = Big(out);
    b.trim();
    b
}

/// An x87 80-bit `long double`, as INCRBYFLOAT computes with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LongDouble(Soft);

impl LongDouble {
    /// Redis's `string2ld`: the whole string must be a number, no leading space, not NaN, and
    /// not out of range. `None` when Redis would say "not a valid float".
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= 5 * 1024 {
            return None;
        }
        match to_soft(parse(s, false)?, X87)? {
            Ok(v) => Some(LongDouble(v)),
            Err(_) => None,
        }
    }

    /// The exact value of an integer.
    pub fn from_i64(v: i64) -> LongDouble {
        let neg = v < 0;
        LongDouble(Soft::Finite { neg, mant: v.unsigned_abs(), exp: 0 })
    }

    /// True for ±infinity (there is no NaN: a NaN result is reported as `None` by `add`).
    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Soft::Inf { .. })
    }

    /// `self + o` rounded to nearest even; `None` for NaN (∞ − ∞). An overflow gives ±∞.
    pub fn plus(self, o: LongDouble) -> Option<LongDouble> {
        match (self.0, o.0) {
            (Soft::Inf { neg: a }, Soft::Inf { neg: b }) => {
                if a == b {
                    Some(self)
                } else {
                    None
                }
            }
            (Soft::Inf { .. }, _) => Some(self),
            (_, Soft::Inf { .. }) => Some(o),
            (
                Soft::Finite { neg: na, mant: ma, exp: ea },
                Soft::Finite { neg: nb, mant: mb, exp: eb },
            ) => {
                if ma == 0 && mb == 0 {
                    return Some(LongDouble(Soft::Finite { neg: na && nb, mant: 0, exp: 0 }));
                }
                if ma == 0 {
                    return Some(o);
                }
                if mb == 0 {
                    return Some(self);
                }
                let e = ea.min(eb);
                let a = Big::from_u64(ma).shl((ea - e) as u64);
                let b = Big::from_u64(mb).shl((eb - e) as u64);
                let (neg, n) = if na == nb {
                    (na, a.add(&b))
                } else {
                    match a.cmp(&b) {
                        Ordering::Equal => {
                            return Some(LongDouble(Soft::Finite { neg: false, mant: 0, exp: 0 }));
                        }
                        Ordering::Greater => (na, a.sub(&b)),
                        Ordering::Less => (nb, b.sub(&a)),
                    }
                };
                match round(neg, &n, e, false, X87) {
                    Ok(v) => Some(LongDouble(v)),
                    Err(Range::Overflow) => Some(LongDouble(Soft::Inf { neg })),
                    Err(Range::Underflow) => {
                        Some(LongDouble(Soft::Finite { neg, mant: 0, exp: 0 }))
                    }
                }
            }
        }
    }

    /// Redis's `ld2string(…, LD_STR_HUMAN)`: `%.17Lf`, trailing zeros (and a bare dot) removed,
    /// `-0` written `0`; infinities as `inf` / `-inf`.
    pub fn to_human(self) -> String {
        let (neg, mant, exp) = match self.0 {
            Soft::Inf { neg } => return if neg { "-inf".into() } else { "inf".into() },
            Soft::Finite { neg, mant, exp } => (neg, mant, exp),
        };
        // q = round_half_even(mant · 2^exp · 10^17)
        let mut n = Big::from_u64(mant);
        n = mul(&n, &Big::pow10(17));
        let q = if exp >= 0 {
            n.shl(exp as u64)
        } else {
            let d = (-exp) as u64;
            let mut q = n.shr(d);
            let half = d >= 1 && n.bit(d - 1);
            let lower = d >= 1 && n.any_below(d - 1);
            if half && (lower || q.bit(0)) {
                q.add_small(1);
            }
            q
        };
        let mut digits = q.to_decimal();
        while digits.len() < 18 {
            digits.insert(0, '0');
        }
        let point = digits.len() - 17;
        let mut s = String::with_capacity(digits.len() + 2);
        if neg {
            s.push('-');
        }
        s.push_str(&digits[..point]);
        let frac = digits[point..].trim_end_matches('0');
        if !frac.is_empty() {
            s.push('.');
            s.push_str(frac);
        }
        if s == "-0" {
            s = "0".into();
        }
        s
    }
}

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

fn soft_to_f64(v: Soft) -> Option<f64> {
    Some(match v {
        Soft::Inf { neg } => {
            if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        Soft::Finite { neg, mant, exp } => {
            let sign = if neg { 1u64 << 63 } else { 0 };
            if mant == 0 {
                return Some(f64::from_bits(sign));
            }
            let top = 63 - mant.leading_zeros() as i64 + exp;
            let bits = if top >= DOUBLE.emin {
                let shift = 52 - (63 - mant.leading_zeros() as i64);
                let m = if shift >= 0 { mant << shift } else { mant >> -shift };
                ((top + 1023) as u64) << 52 | (m & ((1u64 << 52) - 1))
            } else {
                let shift = exp + 1074;
                if shift >= 0 { mant << shift } else { mant >> -shift }
            };
            f64::from_bits(sign | bits)
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> String {
        LongDouble::parse(a.as_bytes())
            .unwrap()
            .plus(LongDouble::parse(b.as_bytes()).unwrap())
            .unwrap()
            .to_human()
    }

    #[test]
    fn long_double_matches_redis_incrbyfloat() {
        // Values checked against redis-server 7.0.15 on x86-64.
        assert_eq!(incr("10.5", "0.1"), "10.6");
        assert_eq!(incr("0", "0.1"), "0.1");
        assert_eq!(incr("3.0e3", "200"), "3200");
        assert_eq!(incr("5.0e3", "2.0e2"), "5200");
        assert_eq!(incr("1", "-1"), "0");
        assert_eq!(incr("-0.00000000000000000001", "0"), "0");
        assert_eq!(incr("0", "1e20"), "100000000000000000000");
        assert_eq!(incr("0", "0x10"), "16");
        assert!(LongDouble::parse(b" 1").is_none());
        assert!(LongDouble::parse(b"nan").is_none());
        assert!(LongDouble::parse(b"1e5000").is_none());
        assert!(LongDouble::parse(b"1e-5000").is_none());
        assert!(LongDouble::parse(b"1.").is_some());
        assert!(LongDouble::parse(b".").is_none());
        assert!(LongDouble::parse(b"1e").is_none());
    }

    #[test]
    fn doubles_format_like_printf_17g() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(0.1), "0.10000000000000001");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(123456.0), "123456");
        assert_eq!(format_double(1e16), "10000000000000000");
        assert_eq!(format_double(1e17), "1e+17");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(0.00001), "1.0000000000000001e-05");
        assert_eq!(format_double(-2.5), "-2.5");
        assert_eq!(format_double(f64::INFINITY), "inf");
    }

    #[test]
    fn doubles_parse_like_strtod() {
        for s in [
            "1.5",
            "0.1",
            "-3e-5",
            "1e308",
            "2.2250738585072014e-308",
            "4.9e-324",
            "123456789.123456789",
        ] {
            assert_eq!(parse_double(s.as_bytes()), s.parse::<f64>().ok(), "{s}");
        }
        assert_eq!(parse_double(b"0x1p3"), Some(8.0));
        assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double(b"1e309"), None);
        assert_eq!(parse_double(b"nan"), None);
        assert_eq!(parse_double(b""), None);
        assert_eq!(parse_double_lenient(b""), Some(0.0));
        assert_eq!(parse_double_lenient(b" 2"), Some(2.0));
    }
}
