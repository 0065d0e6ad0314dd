/*!
Ruby values with no JSON form of their own, turned into the texts [`crate::normalize`] reads as
SQL values: big integers and `BigDecimal`s as decimal text, `Time`, `Date` and `DateTime` as
ISO-8601 UTC text. Shared by the Marshal reader and the Rails MessagePack extensions.
*/

use std::fmt::Write as _;

/// The most bytes of a big integer's magnitude turned into decimal text (the conversion is
/// quadratic in it).
pub(crate) const MAX_BIG_BYTES: usize = 1024;

/// The decimal text of a magnitude given as little-endian bytes, negative when `neg`; `None`
/// past [`MAX_BIG_BYTES`].
pub(crate) fn big_decimal_text(neg: bool, le: &[u8]) -> Option<String> {
    if le.len() > MAX_BIG_BYTES {
        return None;
    }
    // Base 10^9 limbs, least significant first, built by feeding the bytes from the top.
    let mut limbs: Vec<u32> = Vec::new();
    for &byte in le.iter().rev() {
        let mut carry = u64::from(byte);
        for limb in limbs.iter_mut() {
            let v = u64::from(*limb) * 256 + carry;
            *limb = (v % 1_000_000_000) as u32;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
    }
    let mut out = String::new();
    match limbs.split_last() {
        None => out.push('0'),
        Some((top, rest)) => {
            if neg {
                out.push('-');
            }
            let _ = write!(out, "{top}");
            for limb in rest.iter().rev() {
                let _ = write!(out, "{limb:09}");
            }
        }
    }
    Some(out)
}

/// The most zeros a decimal text is padded with before it stays in exponent form.
const MAX_PAD: i64 = 400;

/// A `BigDecimal#_dump` text (`"27:0.999e1"`, `"-0.5e-2"`, `"NaN"`) as plain decimal text
/// (`"9.99"`); `NaN` and the infinities keep their names. `None` when it is not one.
pub(crate) fn bigdecimal_text(dump: &str) -> Option<String> {
    let s = match dump.split_once(':') {
        Some((prec, rest)) if prec.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => dump,
    };
    match s {
        "NaN" | "Infinity" | "+Infinity" | "-Infinity" => return Some(s.to_string()),
        _ => {}
    }
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // All digits, and the point after `point` of them.
    let digits: String = format!("{int}{frac}");
    let point = (int.len() as i64).checked_add(exp)?;
    let lead = digits.bytes().take_while(|&b| b == b'0').count();
    let digits = &digits[lead..];
    let point = point - lead as i64;
    let digits = digits.trim_end_matches('0');
    if digits.is_empty() {
        return Some("0".to_string());
    }
    let sign = if neg { "-" } else { "" };
    let n = digits.len() as i64;
    Some(if point >= n {
        if point - n > MAX_PAD {
            return Some(format!("{sign}0.{digits}e{point}"));
        }
        format!("{sign}{digits}{}", "0".repeat((point - n) as usize))
    } else if point > 0 {
        let (a, b) = digits.split_at(point as usize);
        format!("{sign}{a}.{b}")
    } else {
        if -point > MAX_PAD {
            return Some(format!("{sign}0.{digits}e{point}"));
        }
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    })
}

/// The civil date (year, month 1–12, day) of a Julian day number.
pub(crate) fn civil_from_jd(jd: i64) -> (i64, u32, u32) {
    // Days since 1970-01-01, then the civil-from-days algorithm (proleptic Gregorian).
    let z = jd - 2_440_588 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Seconds since the epoch and nanoseconds as ISO-8601 UTC text
/// (`2024-05-01T12:30:15.25Z`); `None` out of the representable range.
pub(crate) fn iso_from_unix(secs: i64, nanos: u32) -> Option<String> {
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let jd = days.checked_add(2_440_588)?;
    if jd.abs() > 1 << 40 {
        return None;
    }
    let (y, mo, d) = civil_from_jd(jd);
    Some(iso(y, mo, d, (tod / 3600) as u32, (tod / 60 % 60) as u32, (tod % 60) as u32, nanos))
}

/// An ISO-8601 UTC date-time text from its fields; the fraction only when not zero.
pub(crate) fn iso(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> String {
    let mut out = String::with_capacity(32);
    let _ = write!(out, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if nanos > 0 {
        let frac = format!("{:09}", nanos.min(999_999_999));
        let _ = write!(out, ".{}", frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// An ISO-8601 date text.
pub(crate) fn iso_date(jd: i64) -> String {
    let (y, m, d) = civil_from_jd(jd);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The fields `Time#_dump` packs (UTC), from its 8 bytes, before the `nano_*`/`year` ivars.
pub(crate) struct TimeFields {
    /// Year (from the packed 16 bits; a `year` ivar overrides it).
    pub year: i64,
    /// Month, 1–12.
    pub mon: u32,
    /// Day of the month.
    pub mday: u32,
    /// Hour.
    pub hour: u32,
    /// Minute.
    pub min: u32,
    /// Second.
    pub sec: u32,
    /// Microseconds.
    pub usec: u32,
}

/// The fields of a `Time#_dump`, or seconds and microseconds of the pre-1.9 form.
pub(crate) enum TimeDump {
    /// The packed UTC fields.
    Fields(TimeFields),
    /// The old form: seconds since the epoch and microseconds.
    Unix(i64, u32),
}

/// Reads `Time#_dump`'s 8 bytes; `None` when they are not a date.
pub(crate) fn time_dump(b: &[u8]) -> Option<TimeDump> {
    let p = u32::from_le_bytes(b.get(0..4)?.try_into().ok()?);
    let s = u32::from_le_bytes(b.get(4..8)?.try_into().ok()?);
    if p & (1 << 31) == 0 {
        return Some(TimeDump::Unix(i64::from(p), s));
    }
    let f = TimeFields {
        year: i64::from((p >> 14) & 0xffff) + 1900,
        mon: ((p >> 10) & 0xf) + 1,
        mday: (p >> 5) & 0x1f,
        hour: p & 0x1f,
        min: (s >> 26) & 0x3f,
        sec: (s >> 20) & 0x3f,
        usec: s & 0xfffff,
    };
    let ok = f.mon <= 12
        && (1..=31).contains(&f.mday)
        && f.hour < 24
        && f.min < 60
        && f.sec < 61
        && f.usec < 1_000_000;
    ok.then_some(TimeDump::Fields(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_integers_in_decimal() {
        assert_eq!(big_decimal_text(false, &[]).unwrap(), "0");
        assert_eq!(
            big_decimal_text(true, &[1, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap(),
            "-18446744073709551617"
        );
        assert_eq!(
            big_decimal_text(false, &[0, 0, 0, 0, 0, 0, 0, 0x80]).unwrap(),
            "9223372036854775808"
        );
        assert!(big_decimal_text(false, &[1; MAX_BIG_BYTES + 1]).is_none());
    }

    #[test]
    fn bigdecimal_dumps_in_plain_decimal() {
        assert_eq!(bigdecimal_text("27:0.999e1").unwrap(), "9.99");
        assert_eq!(bigdecimal_text("18:-0.5e-2").unwrap(), "-0.005");
        assert_eq!(bigdecimal_text("9:0.12e5").unwrap(), "12000");
        assert_eq!(bigdecimal_text("9:0.0").unwrap(), "0");
        assert_eq!(bigdecimal_text("9:NaN").unwrap(), "NaN");
        assert_eq!(bigdecimal_text("9:0.1e999999").unwrap(), "0.1e999999");
        assert!(bigdecimal_text("9:abc").is_none());
        assert!(bigdecimal_text("9:0.1e99999999999999999999").is_none());
    }

    #[test]
    fn dates_from_julian_days() {
        assert_eq!(iso_date(2_440_588), "1970-01-01");
        assert_eq!(iso_date(2_460_432), "2024-05-01");
        assert_eq!(iso_from_unix(1_714_566_615, 250_000_000).unwrap(), "2024-05-01T12:30:15.25Z");
        assert_eq!(iso_from_unix(-1, 0).unwrap(), "1969-12-31T23:59:59Z");
    }
}
