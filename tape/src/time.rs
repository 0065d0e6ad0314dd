/*!
Human renderings of trace times: UTC timestamps and durations, without a time-zone database and
without reading the clock.
*/

use crate::event::Micros;

/// `µs since the epoch` → `2026-11-26 04:13:24.123456Z` (UTC, proleptic Gregorian).
pub fn format_time(us: Micros) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), for any day count (Hinnant's civil calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
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
    fn durations_pick_a_readable_unit() {
        assert_eq!(format_duration(850), "850us");
        assert_eq!(format_duration(3_100), "3.1ms");
        assert_eq!(format_duration(4_200_000), "4.2s");
        assert_eq!(format_duration(252_000_000), "4m 12s");
        assert_eq!(format_duration(-2_000), "-2.0ms");
    }
}
