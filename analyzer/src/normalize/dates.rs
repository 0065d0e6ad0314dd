/*!
Dates and times in canonical UTC form: ISO-8601 texts (with an offset or a named zone), and the
calendar arithmetic and rendering DATE, DATETIME, TIMESTAMP and TIME columns share.
*/

/// An ISO-8601 date or date-time text in canonical UTC form. A date-time may end with a zone
/// annotation (`2026-07-01T12:00+02:00[Europe/Paris]`, as Java's `ZonedDateTime` writes it):
/// after an offset it is ignored (the offset says the instant); without one the offset is the
/// zone's at that wall-clock time ([`crate::zone`]; a time the zone has twice or skips takes the
/// offset in force before the transition), and a zone the database does not know leaves the text
/// as it is.
pub(super) fn datetime(s: &str) -> Option<String> {
    let (s, zone) = match s.strip_suffix(']').and_then(|r| r.split_once('[')) {
        Some((body, name)) if body.len() > 10 => (body, Some(name)),
        Some(_) => return None,
        None => (s, None),
    };
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = 0i64;
    let mut micros = 0u32;
    let mut offset = None;
    let mut i = 10;
    if i < b.len() {
        if b[i] != b'T' && b[i] != b' ' {
            return None;
        }
        i += 1;
        let (h, m) = (num(i..i + 2)?, num(i + 3..i + 5)?);
        if b.get(i + 2) != Some(&b':') {
            return None;
        }
        i += 5;
        let mut sec = 0;
        if b.get(i) == Some(&b':') {
            sec = num(i + 1..i + 3)?;
            i += 3;
            if b.get(i) == Some(&b'.') {
                let start = i + 1;
                i = start;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let frac = &s[start..i];
                if frac.is_empty() {
                    return None;
                }
                let mut six = frac.chars().take(6).collect::<String>();
                while six.len() < 6 {
                    six.push('0');
                }
                micros = six.parse().ok()?;
            }
        }
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        secs = h * 3600 + m * 60 + sec;
        match b.get(i) {
            None => {}
            Some(b'Z') | Some(b'z') if i + 1 == b.len() => offset = Some(0),
            Some(&sign @ (b'+' | b'-')) => {
                let rest = &s[i + 1..];
                let (oh, om) = match rest.len() {
                    5 if rest.as_bytes()[2] == b':' => (num(i + 1..i + 3)?, num(i + 4..i + 6)?),
                    4 => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                    2 => (num(i + 1..i + 3)?, 0),
                    _ => return None,
                };
                offset = Some((oh * 3600 + om * 60) * if sign == b'+' { 1 } else { -1 });
            }
            _ => return None,
        }
    }
    let offset = match (offset, zone) {
        (Some(o), _) => o,
        (None, None) => 0,
        (None, Some(name)) => {
            let local = civil(year, month, day, secs)?;
            i64::from(crate::zone::offset_at(name, local, crate::zone::Fold::Before)?)
        }
    };
    let when = civil(year, month, day, secs - offset)?;
    let mut out = Vec::new();
    render_datetime(when, micros, &mut out);
    String::from_utf8(out).ok()
}

/// `HH:MM:SS[.f]` (possibly negative, hours beyond 24) in canonical form.
pub(super) fn time_of_day(s: &str) -> Option<String> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut parts = body.splitn(3, ':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m_txt = parts.next()?;
    let s_txt = parts.next()?;
    if m_txt.len() != 2 || !m_txt.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let m: i64 = m_txt.parse().ok()?;
    let (sec_txt, frac) = s_txt.split_once('.').unwrap_or((s_txt, ""));
    if sec_txt.len() != 2 || !sec_txt.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|c| c.is_ascii_digit()) || frac.len() > 6 {
        return None;
    }
    let sec: i64 = sec_txt.parse().ok()?;
    let mut six = frac.to_string();
    while six.len() < 6 {
        six.push('0');
    }
    let micros: i64 = six.parse().ok()?;
    let us = ((h * 3600 + m * 60 + sec) * 1_000_000 + micros) * if negative { -1 } else { 1 };
    Some(render_time(us))
}

pub(super) fn render_time(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let a = us.unsigned_abs();
    let secs = a / 1_000_000;
    let micros = a % 1_000_000;
    let mut out = format!("{sign}{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if micros != 0 {
        out.push_str(format!(".{micros:06}").trim_end_matches('0'));
    }
    out
}

/// The civil date-time `secs` seconds (maybe negative, maybe past midnight) into day `day` of
/// `month` of `year`; a day past the month's end runs on into the next month. `None` for a month
/// outside 1–12 or a result outside the calendar's years (-9999 to 9999).
pub(super) fn civil(year: i64, month: i64, day: i64, secs: i64) -> Option<jiff::civil::DateTime> {
    let first = jiff::civil::Date::new(year.try_into().ok()?, month.try_into().ok()?, 1).ok()?;
    let into = jiff::SignedDuration::from_secs((day - 1).checked_mul(86_400)?.checked_add(secs)?);
    first.to_datetime(jiff::civil::Time::midnight()).checked_add(into).ok()
}

/// `YYYY-MM-DD[ HH:MM:SS[.f]]`: the time only when not midnight, the fraction (`micros`) only
/// when not zero, without trailing zeros.
pub(super) fn render_datetime(t: jiff::civil::DateTime, micros: u32, out: &mut Vec<u8>) {
    let mut s = format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day());
    if t.hour() != 0 || t.minute() != 0 || t.second() != 0 || micros != 0 {
        s.push_str(&format!(" {:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()));
        if micros != 0 {
            s.push_str(format!(".{micros:06}").trim_end_matches('0'));
        }
    }
    out.extend_from_slice(s.as_bytes());
}
