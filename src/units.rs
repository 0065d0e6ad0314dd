/*!
Human units on the command line: durations (`5ms`, `500us`, `1.5s`, `2m`) and points in time
(`2026-11-26 04:15:25.3`, epoch seconds `1795666525.369271`, `+1.5s` after the first event).
All times are UTC; nothing here reads the clock.
*/

use anyhow::{Context, bail};
use jiff::civil::DateTime;
use jiff::tz::Offset;

/// Parses a duration into microseconds: a number (fractions allowed) and a unit `us`/`µs`, `ms`,
/// `s`, `m`, `h`.
pub fn parse_duration_us(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .with_context(|| format!("`{s}` is not a duration: write a number and a unit, like 5ms"))?;
    let scale = match unit.trim() {
        "us" | "µs" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" | "min" => 60e6,
        "h" => 3600e6,
        "" => bail!("`{s}` has no unit: write 5ms, 500us, 2s, 1m or 1h"),
        other => bail!("unknown unit `{other}` in `{s}`: use us, ms, s, m or h"),
    };
    Ok((value * scale).round() as i64)
}

/// A point in time from the command line, possibly relative to the first event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePoint {
    /// µs since the epoch.
    Absolute(i64),
    /// µs after the first event.
    AfterStart(i64),
}

impl TimePoint {
    /// Resolves against the first event's time.
    pub fn resolve(self, first_us: i64) -> i64 {
        match self {
            TimePoint::Absolute(t) => t,
            TimePoint::AfterStart(d) => first_us + d,
        }
    }
}

/// Parses `+DURATION`, epoch seconds with up to 6 decimals, or `YYYY-MM-DD[ T]HH:MM[:SS[.f]][Z]`.
pub fn parse_time(s: &str) -> anyhow::Result<TimePoint> {
    let s = s.trim();
    if let Some(rel) = s.strip_prefix('+') {
        return Ok(TimePoint::AfterStart(parse_duration_us(rel)?));
    }
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
        return Ok(TimePoint::Absolute(secs.parse::<i64>()? * 1_000_000 + micros(frac)?));
    }
    parse_datetime(s).map(TimePoint::Absolute).with_context(|| {
        format!(
            "`{s}` is not a time: use `2026-11-26 04:15:25.3` (UTC), epoch seconds like \
             `1795666525.369271`, or `+1.5s` after the first event"
        )
    })
}

fn micros(frac: &str) -> anyhow::Result<i64> {
    if frac.len() > 6 || !frac.chars().all(|c| c.is_ascii_digit()) {
        bail!("at most 6 decimal digits");
    }
    Ok(format!("{frac:0<6}").parse()?)
}

/// `YYYY-MM-DD[ T]HH:MM[:SS[.f]]`, or a date alone (midnight), as UTC; a trailing `Z` says so
/// again. jiff parses it (ISO 8601 as Temporal reads it) and checks the date exists.
fn parse_datetime(s: &str) -> anyhow::Result<i64> {
    let civil: DateTime = s.strip_suffix('Z').unwrap_or(s).parse()?;
    Ok(Offset::UTC.to_timestamp(civil)?.as_microsecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_us("5ms").unwrap(), 5_000);
        assert_eq!(parse_duration_us("500us").unwrap(), 500);
        assert_eq!(parse_duration_us("1.5s").unwrap(), 1_500_000);
        assert_eq!(parse_duration_us("2m").unwrap(), 120_000_000);
        assert!(parse_duration_us("5").unwrap_err().to_string().contains("no unit"));
        assert!(parse_duration_us("5 parsecs").is_err());
    }

    #[test]
    fn times() {
        let t = 1_795_666_525_369_271;
        assert_eq!(parse_time("1795666525.369271").unwrap(), TimePoint::Absolute(t));
        assert_eq!(parse_time("2026-11-26 04:15:25.369271").unwrap(), TimePoint::Absolute(t));
        assert_eq!(parse_time("2026-11-26T04:15:25.369271Z").unwrap(), TimePoint::Absolute(t));
        assert_eq!(parse_time("+1.5s").unwrap().resolve(10), 1_500_010);
        assert_eq!(
            cachetape_tape::format_time(match parse_time("2000-02-29 12:00").unwrap() {
                TimePoint::Absolute(t) => t,
                _ => unreachable!(),
            }),
            "2000-02-29 12:00:00.000000Z"
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn a_date_alone_is_midnight_and_dates_that_do_not_exist_are_refused() {
        let midnight = 1_795_651_200_000_000;
        assert_eq!(parse_time("2026-11-26").unwrap(), TimePoint::Absolute(midnight));
        assert_eq!(
            parse_time("2026-11-26 00:01").unwrap(),
            TimePoint::Absolute(midnight + 60e6 as i64)
        );
        let err = format!("{:#}", parse_time("2026-02-30 12:00").unwrap_err());
        assert!(err.contains("is not a time") && err.contains("day"), "{err}");
    }
}
