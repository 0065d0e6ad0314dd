/*!
Binary floating point in software: a value of some [`Format`] (x87 `long double`, `double`) as
sign, 64-bit mantissa and exponent ([`Soft`]), and the one rounding — exact value in, nearest
value of the format out, half to even — that every conversion and addition ends with.
*/

use super::big::Big;

/// A binary floating-point format.
#[derive(Clone, Copy)]
pub(super) struct Format {
    /// Mantissa bits, the leading one included.
    pub prec: u64,
    /// Smallest exponent of a normal number (value = 1.x · 2^e).
    pub emin: i64,
    /// Largest exponent.
    pub emax: i64,
}

pub(super) const X87: Format = Format { prec: 64, emin: -16382, emax: 16383 };
pub(super) const DOUBLE: Format = Format { prec: 53, emin: -1022, emax: 1023 };

/// A finite or infinite value of some binary format: `(-1)^neg · mant · 2^exp`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Soft {
    Finite { neg: bool, mant: u64, exp: i64 },
    Inf { neg: bool },
}

/// Why a rounding did not give a finite nonzero-or-exact value.
#[derive(Debug, PartialEq)]
pub(super) enum Range {
    Overflow,
    Underflow,
}

/// Rounds the exact value `n · 2^e` (plus a sticky "a little more") to `fmt`, half to even.
pub(super) fn round(neg: bool, n: &Big, e: i64, sticky: bool, fmt: Format) -> Result<Soft, Range> {
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

pub(super) fn soft_to_f64(v: Soft) -> Option<f64> {
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
