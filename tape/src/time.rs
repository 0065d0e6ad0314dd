/*!
Human renderings of trace times: UTC timestamps (the calendar is jiff's) and durations, without a
time-zone database and without reading the clock.
*/

use jiff::Timestamp;
use jiff::tz::Offset;

use crate::event::Micros;

/// `µs since the epoch` → `2026-11-26 04:13:24.123456Z` (UTC, proleptic Gregorian), for every
/// µs value: years past 9999 in full (`10000-01-01 …`), years before 1 as `0000`, `-001`, ….
pub fn format_time(us: Micros) -> String {
    // jiff's calendar spans the years -9999..=9999, a Micros ±292,000 years. The Gregorian
    // calendar repeats every 400 years (146,097 days), so the time is placed in its 400-year
    // cycle counted from the epoch (a date in 1970..2370), converted there, and its year moved
    // back by the whole cycles.
    const CYCLE_US: i64 = 146_097 * 86_400 * 1_000_000;
    let (cycles, in_cycle) = (us.div_euclid(CYCLE_US), us.rem_euclid(CYCLE_US));
    let t = Timestamp::from_microsecond(in_cycle).expect("400 years after 1970 are in range");
    let dt = Offset::UTC.to_datetime(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}Z",
        i64::from(dt.year()) + 400 * cycles,
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.subsec_nanosecond() / 1_000
    )
}

/// A duration in µs, in the largest unit that keeps it readable: `850us`, `3.1ms`, `4.2s`,
/// `4m 12s`, `2h 03m`.
pub fn format_duration(us: Micros) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let us = us.unsigned_abs();
    let body = if us < 1_000 {
        format!("{us}us")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else if us < 60_000_000 {
        format!("{:.1}s", us as f64 / 1e6)
    } else if us < 3_600_000_000 {
        format!("{}m {:02}s", us / 60_000_000, us / 1_000_000 % 60)
    } else {
        format!("{}h {:02}m", us / 3_600_000_000, us / 60_000_000 % 60)
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render_in_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00.000000Z");
        assert_eq!(format_time(1_795_666_525_369_271), "2026-11-26 04:15:25.369271Z");
        assert_eq!(format_time(951_782_400_000_000), "2000-02-29 00:00:00.000000Z");
        assert_eq!(format_time(-1), "1969-12-31 23:59:59.999999Z");
    }

    #[test]
    fn every_micros_value_renders_beyond_the_years_1_to_9999_too() {
        assert_eq!(format_time(253_402_300_799_999_999), "9999-12-31 23:59:59.999999Z");
        assert_eq!(format_time(253_402_300_800_000_000), "10000-01-01 00:00:00.000000Z");
        assert_eq!(format_time(-62_135_596_800_000_000), "0001-01-01 00:00:00.000000Z");
        assert_eq!(format_time(-62_135_596_800_000_001), "0000-12-31 23:59:59.999999Z");
        assert_eq!(format_time(-377_705_116_800_000_001), "-10000-12-31 23:59:59.999999Z");
        assert_eq!(format_time(i64::MAX), "294247-01-10 04:00:54.775807Z");
        assert_eq!(format_time(i64::MIN), "-290308-12-21 19:59:05.224192Z");
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(format_duration(850), "850us");
        assert_eq!(format_duration(3_100), "3.1ms");
        assert_eq!(format_duration(4_200_000), "4.2s");
        assert_eq!(format_duration(252_000_000), "4m 12s");
        assert_eq!(format_duration(-2_000), "-2.0ms");
    }
}
