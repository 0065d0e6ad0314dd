/*!
[`LongDouble`]: the x87 80-bit `long double` INCRBYFLOAT and HINCRBYFLOAT compute in — parsed
like `strtold`, added exactly and rounded once, printed like `%.17Lf`.
*/

use std::cmp::Ordering;

use super::big::{Big, mul};
use super::soft::{Range, Soft, X87, round};
use super::strtod::{parse, to_soft};

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
