/*!
Normalization: one canonical form for a value, whether it came out of the cache (text, a JSON
field, a hash field) or out of the database (a typed column value of the binlog).

Two values compare equal when their canonical forms are byte-equal. The rules, the same on both
sides so that equality stays symmetric:
- **numbers**: integers, DECIMAL text, FLOAT/DOUBLE (shortest round-trip rendering), JSON numbers
  and text that reads as a decimal number all become one decimal text without leading or trailing
  zeros (`9.990`, `9.99` and the DECIMAL `9.99` are equal; `1e3` equals `1000`);
- **booleans**: JSON `true`/`false` and the texts `true`/`false` are the numbers 1 and 0 (MySQL's
  BOOLEAN is a TINYINT);
- **NULL**: SQL NULL and JSON `null`;
- **dates and times**: DATE, DATETIME and TIMESTAMP columns and ISO-8601 texts (`2026-11-26`,
  `2026-11-26T04:15:25Z`, `2026-11-26 04:15:25.120+01:00`, `2026-07-01T12:00[Europe/Paris]`)
  become `YYYY-MM-DD[ HH:MM:SS[.f]]` in UTC (a named zone's offset from the time-zone database
  bundled into the binary, [`crate::zone`]; a zone-less DATETIME is taken as UTC; midnight drops its time; a day past its month's end
  runs on into the next month; the calendar is `jiff`'s, years -9999 to 9999, and a value beyond
  them keeps its own text);
- **JSON**: objects and arrays (JSON columns, nested fields, cached JSON text) become compact JSON
  with sorted keys and every scalar normalized as above;
- everything else is its bytes.

The one thing this cannot reconcile is a different *rendering* of the same fact (epoch seconds
against a DATETIME, a currency symbol, another encoding): those compare unequal, and the oracle
calls such reads "unexplained", never silently stale.
*/

mod dates;

use cachetape_tape::Value;
use dates::{civil, datetime, render_datetime, render_time, time_of_day};

/// Tags of the canonical forms (the first byte).
const NULL: u8 = b'0';
const NUMBER: u8 = b'n';
const TEXT: u8 = b's';
const DATE: u8 = b'd';
const TIME: u8 = b't';
const JSON: u8 = b'j';

/// The canonical form of a text value (a cached string, a hash field, a VARCHAR column).
pub fn text(bytes: &[u8], out: &mut Vec<u8>) {
    if let Ok(s) = std::str::from_utf8(bytes) {
        let t = s.trim();
        let mark = out.len();
        out.push(NUMBER);
        if decimal_into(t, out) {
            return;
        }
        out.truncate(mark);
        if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
            out.push(NUMBER);
            out.push(if t.len() == 4 { b'1' } else { b'0' });
            return;
        }
        if let Some(d) = datetime(t) {
            out.push(DATE);
            out.extend_from_slice(d.as_bytes());
            return;
        }
        if let Some(d) = time_of_day(t) {
            out.push(TIME);
            out.extend_from_slice(d.as_bytes());
            return;
        }
        let bracketed =
            (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'));
        if bracketed && let Ok(v) = serde_json::from_str::<serde_json::Value>(t) {
            json(&v, out);
            return;
        }
    }
    out.push(TEXT);
    out.extend_from_slice(bytes);
}

/// The canonical form of a parsed JSON value (a field of a cached JSON document).
pub fn json(v: &serde_json::Value, out: &mut Vec<u8>) {
    match v {
        serde_json::Value::Null => out.push(NULL),
        serde_json::Value::Bool(b) => {
            out.push(NUMBER);
            out.push(if *b { b'1' } else { b'0' });
        }
        serde_json::Value::Number(n) => {
            out.push(NUMBER);
            number(n, out);
        }
        serde_json::Value::String(s) => text(s.as_bytes(), out),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
            out.push(JSON);
            compact_json(v, out);
        }
    }
}

/// Compact JSON with sorted keys and normalized scalars (strings keep their text, numbers
/// their canonical decimal form).
fn compact_json(v: &serde_json::Value, out: &mut Vec<u8>) {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(serde_json::Value::String(k.clone()).to_string().as_bytes());
                out.push(b':');
                compact_json(&map[k], out);
            }
            out.push(b'}');
        }
        serde_json::Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                compact_json(item, out);
            }
            out.push(b']');
        }
        serde_json::Value::Number(n) => number(n, out),
        serde_json::Value::Bool(b) => out.push(if *b { b'1' } else { b'0' }),
        other => out.extend_from_slice(other.to_string().as_bytes()),
    }
}

/// A JSON number's canonical decimal (an integer is its own).
fn number(n: &serde_json::Number, out: &mut Vec<u8>) {
    use std::io::Write;
    if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else {
        let s = n.to_string();
        if !decimal_into(&s, out) {
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// The canonical form of a database column value.
pub fn column(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(NULL),
        Value::Int(i) => {
            use std::io::Write;
            out.push(NUMBER);
            let _ = write!(out, "{i}");
        }
        Value::UInt(u) => {
            use std::io::Write;
            out.push(NUMBER);
            let _ = write!(out, "{u}");
        }
        Value::Float(f) => float(f64::from(*f), &f.to_string(), out),
        Value::Double(d) => float(*d, &d.to_string(), out),
        Value::Decimal(s) => {
            let mark = out.len();
            out.push(NUMBER);
            if !decimal_into(s, out) {
                out.truncate(mark);
                out.push(TEXT);
                out.extend_from_slice(s.as_bytes());
            }
        }
        Value::Bytes(b) => text(b, out),
        Value::DateTime(dt) => {
            out.push(DATE);
            let secs = i64::from(dt.hour) * 3600 + i64::from(dt.minute) * 60 + i64::from(dt.second);
            let when = (dt.month != 0 && dt.day != 0)
                .then(|| civil(i64::from(dt.year), i64::from(dt.month), i64::from(dt.day), secs))
                .flatten();
            match when {
                Some(when) => render_datetime(when, dt.micros, out),
                // A zero date has no calendar day (nor has a date beyond the calendar's years):
                // keep its own text.
                None => out.extend_from_slice(dt.to_string().as_bytes()),
            }
        }
        Value::Timestamp(us) => match civil(1970, 1, 1, us.div_euclid(1_000_000)) {
            Some(when) => {
                out.push(DATE);
                render_datetime(when, us.rem_euclid(1_000_000) as u32, out);
            }
            // Beyond the calendar's years: its number.
            None => {
                use std::io::Write;
                out.push(TEXT);
                let _ = write!(out, "{us}");
            }
        },
        Value::Time(us) => {
            out.push(TIME);
            out.extend_from_slice(render_time(*us).as_bytes());
        }
        Value::Json(s) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(v) => json(&v, out),
            Err(_) => {
                out.push(TEXT);
                out.extend_from_slice(s.as_bytes());
            }
        },
    }
}

fn float(x: f64, shortest: &str, out: &mut Vec<u8>) {
    if x.is_finite() {
        out.push(NUMBER);
        out.extend_from_slice(decimal(shortest).unwrap_or_else(|| shortest.to_string()).as_bytes());
    } else {
        out.push(TEXT);
        out.extend_from_slice(shortest.as_bytes());
    }
}

/// A canonical form as a person reads it: `PAID`, `9.99`, `NULL`, `2026-11-26 04:15:25`.
pub fn display(canonical: &[u8]) -> String {
    let mut out = String::new();
    display_into(canonical, &mut out);
    out
}

/// [`display`], appended to `out`.
pub fn display_into(canonical: &[u8], out: &mut String) {
    match canonical.split_first() {
        Some((&NULL, _)) => out.push_str("NULL"),
        Some((_, rest)) => out.push_str(&String::from_utf8_lossy(rest)),
        None => {}
    }
}

/// `s` as a canonical decimal number, if it is one: optional sign, digits with an optional
/// fraction, optional exponent. `None` for anything else (and for absurd exponents).
pub fn decimal(s: &str) -> Option<String> {
    let mut out = Vec::new();
    let fast = decimal_into(s, &mut out).then(|| String::from_utf8(out).expect("ASCII"));
    debug_assert_eq!(fast, decimal_by_copy(s));
    fast
}

/// [`decimal`] appended to `out`, without allocating; false (and nothing appended) when `s` is
/// not a decimal number.
fn decimal_into(s: &str, out: &mut Vec<u8>) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let negative = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &b[int_start..i];
    let mut frac_digits: &[u8] = b"";
    if i < b.len() && b[i] == b'.' {
        let f = i + 1;
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &b[f..i];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return false;
    }
    let mut exp: i64 = 0;
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        match s[i + 1..].parse() {
            Ok(e) if (-400..=400).contains(&e) => exp = e,
            _ => return false,
        }
        i = b.len();
    }
    if i != b.len() {
        return false;
    }
    // The digits (integer part then fraction) and where the decimal point sits in them.
    let n = int_digits.len() + frac_digits.len();
    let digit = |k: usize| {
        if k < int_digits.len() { int_digits[k] } else { frac_digits[k - int_digits.len()] }
    };
    let mut point = int_digits.len() as i64 + exp;
    // Strip leading zeros (moving the point) and trailing zeros of the fraction.
    let lead = (0..n).take_while(|&k| digit(k) == b'0').count();
    point -= lead as i64;
    if lead == n {
        out.push(b'0');
        return true;
    }
    let mut end = n;
    while (end - lead) as i64 > point.max(0) && digit(end - 1) == b'0' {
        end -= 1;
    }
    let len = end - lead;
    if negative {
        out.push(b'-');
    }
    if point <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-point) as usize));
        out.extend((lead..end).map(digit));
    } else if point as usize >= len {
        out.extend((lead..end).map(digit));
        out.extend(std::iter::repeat_n(b'0', point as usize - len));
    } else {
        let p = lead + point as usize;
        out.extend((lead..p).map(digit));
        out.push(b'.');
        out.extend((p..end).map(digit));
    }
    true
}

/// The reference implementation of [`decimal`] (debug builds check the fast one against it).
#[cfg_attr(not(debug_assertions), allow(dead_code))]
fn decimal_by_copy(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut i = 0;
    let negative = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &s[int_start..i];
    let mut frac_digits = "";
    if i < b.len() && b[i] == b'.' {
        let f = i + 1;
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &s[f..i];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    let mut exp: i64 = 0;
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let rest = &s[i + 1..];
        exp = rest.parse().ok()?;
        if !(-400..=400).contains(&exp) {
            return None;
        }
        i = b.len();
    }
    if i != b.len() {
        return None;
    }
    // All digits, and where the decimal point sits in them.
    let mut digits: Vec<u8> = Vec::with_capacity(int_digits.len() + frac_digits.len());
    digits.extend_from_slice(int_digits.as_bytes());
    digits.extend_from_slice(frac_digits.as_bytes());
    let mut point = int_digits.len() as i64 + exp;
    // Strip leading zeros (moving the point) and trailing zeros of the fraction.
    let lead = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..lead);
    point -= lead as i64;
    if digits.is_empty() {
        return Some("0".to_string());
    }
    while digits.len() as i64 > point.max(0) && digits.last() == Some(&b'0') {
        digits.pop();
    }
    let mut out = String::with_capacity(digits.len() + 4);
    if negative {
        out.push('-');
    }
    if point <= 0 {
        out.push_str("0.");
        for _ in 0..-point {
            out.push('0');
        }
        out.push_str(std::str::from_utf8(&digits).ok()?);
    } else if point as usize >= digits.len() {
        out.push_str(std::str::from_utf8(&digits).ok()?);
        for _ in 0..point as usize - digits.len() {
            out.push('0');
        }
    } else {
        let (a, f) = digits.split_at(point as usize);
        out.push_str(std::str::from_utf8(a).ok()?);
        out.push('.');
        out.push_str(std::str::from_utf8(f).ok()?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachetape_tape::DateTime;

    fn t(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        text(s.as_bytes(), &mut out);
        out
    }

    fn c(v: Value) -> Vec<u8> {
        let mut out = Vec::new();
        column(&v, &mut out);
        out
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(decimal("9.990").as_deref(), Some("9.99"));
        assert_eq!(decimal("-0.0").as_deref(), Some("0"));
        assert_eq!(decimal("007").as_deref(), Some("7"));
        assert_eq!(decimal("1e3").as_deref(), Some("1000"));
        assert_eq!(decimal("1.5E-2").as_deref(), Some("0.015"));
        assert_eq!(decimal(".5").as_deref(), Some("0.5"));
        assert_eq!(decimal("12a"), None);
        // The allocation-free reading against the reference, on every short text of these.
        let alphabet = b"+-0.15eE9";
        let mut text = Vec::new();
        for len in 0..=6u32 {
            for mut k in 0..alphabet.len().pow(len) {
                text.clear();
                for _ in 0..len {
                    text.push(alphabet[k % alphabet.len()]);
                    k /= alphabet.len();
                }
                let s = std::str::from_utf8(&text).unwrap();
                let mut out = Vec::new();
                let fast = decimal_into(s, &mut out).then(|| String::from_utf8(out).unwrap());
                assert_eq!(fast, decimal_by_copy(s), "{s}");
            }
        }
        assert_eq!(decimal(""), None);
        assert_eq!(t("9.99"), c(Value::Decimal("9.990".into())));
        assert_eq!(t("0.1"), c(Value::Float(0.1)));
        assert_eq!(t("0.1"), c(Value::Double(0.1)));
        assert_eq!(t("42"), c(Value::Int(42)));
        assert_ne!(t("42"), c(Value::Int(43)));
    }

    #[test]
    fn booleans_null_and_json() {
        let mut out = Vec::new();
        json(&serde_json::json!(true), &mut out);
        assert_eq!(out, c(Value::Int(1)));
        let mut null = Vec::new();
        json(&serde_json::Value::Null, &mut null);
        assert_eq!(null, c(Value::Null));
        assert_eq!(
            t(r#"{"b": 1.50, "a": [1, "x"]}"#),
            c(Value::Json(r#"{"a":[1,"x"],"b":1.5}"#.into()))
        );
    }

    #[test]
    fn dates_in_utc() {
        let dt = |h, mi, s, micros| {
            Value::DateTime(DateTime {
                year: 2026,
                month: 11,
                day: 26,
                hour: h,
                minute: mi,
                second: s,
                micros,
            })
        };
        assert_eq!(t("2026-11-26T04:15:25Z"), c(dt(4, 15, 25, 0)));
        assert_eq!(t("2026-11-26 04:15:25.120"), c(dt(4, 15, 25, 120_000)));
        assert_eq!(t("2026-11-26T05:15:25+01:00"), c(dt(4, 15, 25, 0)));
        assert_eq!(t("2026-11-26"), c(dt(0, 0, 0, 0)));
        assert_eq!(t("2026-11-26 04:15:25"), c(Value::Timestamp(1_795_666_525_000_000)));
        assert_eq!(t("-12:30:00"), c(Value::Time(-45_000_000_000)));
        assert_eq!(display(&t("2026-11-26T04:15:25Z")), "2026-11-26 04:15:25");
    }

    #[test]
    fn dates_in_a_named_zone_are_the_instant_they_name() {
        let utc = |s: &str| display(&t(s));
        // Java's ZonedDateTime: the offset says the instant, the zone is ignored.
        assert_eq!(utc("2026-11-26T05:15:25.120+01:00[Europe/Paris]"), "2026-11-26 04:15:25.12");
        assert_eq!(utc("2026-07-01T12:00+02:00[Europe/Paris]"), "2026-07-01 10:00:00");
        // No offset: the zone's at that wall-clock time, summer and winter.
        assert_eq!(utc("2026-07-01T12:00:00[Europe/Paris]"), "2026-07-01 10:00:00");
        assert_eq!(utc("2026-11-26T05:15:25[Europe/Paris]"), "2026-11-26 04:15:25");
        assert_eq!(utc("2026-11-26T04:15:25[America/New_York]"), "2026-11-26 09:15:25");
        // Twice that night: the first (before the clocks go back).
        assert_eq!(utc("2026-10-25T02:30:00[Europe/Paris]"), "2026-10-25 00:30:00");
        // A zone the database does not know, or a date with only a zone: text, never a guess.
        assert_eq!(t("2026-07-01T12:00:00[Mars/Olympus]")[0], TEXT);
        assert_eq!(t("2026-07-01[Europe/Paris]")[0], TEXT);
    }

    #[test]
    fn dates_across_month_year_and_epoch_ends() {
        let text_cases = [
            ("1969-12-31T23:59:59Z", "1969-12-31 23:59:59"),
            ("2000-02-29T12:00:00+05:30", "2000-02-29 06:30:00"),
            ("1900-03-01 00:00:00", "1900-03-01"),
            // A day past the month's end runs on into the next month.
            ("2026-02-30", "2026-03-02"),
            ("2024-02-30T23:59:60Z", "2024-03-02"),
            ("2026-04-31T00:00:00.5-0130", "2026-05-01 01:30:00.5"),
            ("2026-01-01T00:30:00+01:00", "2025-12-31 23:30:00"),
            ("2026-12-31T23:30:00-01:00", "2027-01-01 00:30:00"),
            ("0000-01-01T00:30:00+01:00", "-001-12-31 23:30:00"),
            ("1999-12-31T23:59:59.999999+00", "1999-12-31 23:59:59.999999"),
        ];
        for (text, canonical) in text_cases {
            assert_eq!(display(&t(text)), canonical, "{text}");
        }
        let dt = |year, month, day, second, micros| {
            c(Value::DateTime(DateTime { year, month, day, hour: 0, minute: 0, second, micros }))
        };
        assert_eq!(display(&dt(1900, 2, 29, 1, 0)), "1900-03-01 00:00:01");
        assert_eq!(display(&dt(2024, 2, 29, 0, 0)), "2024-02-29");
        assert_eq!(display(&dt(0, 1, 1, 0, 0)), "0000-01-01");
        assert_eq!(display(&dt(2026, 5, 0, 0, 0)), "2026-05-00 00:00:00");
        let stamp = |us| display(&c(Value::Timestamp(us)));
        assert_eq!(stamp(-1), "1969-12-31 23:59:59.999999");
        assert_eq!(stamp(-62_135_596_800_000_000), "0001-01-01");
        assert_eq!(stamp(951_782_400_000_000), "2000-02-29");
        assert_eq!(stamp(253_402_300_799_999_999), "9999-12-31 23:59:59.999999");
    }

    #[test]
    fn text_stays_text() {
        assert_eq!(display(&t("PAID")), "PAID");
        assert_ne!(t("PAID"), t("paid"));
        assert_eq!(display(&c(Value::Null)), "NULL");
    }
}
