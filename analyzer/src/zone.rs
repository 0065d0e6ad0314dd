/*!
Named time zones (`Europe/Paris`): the offset from UTC a zone had at a local wall-clock time.

Python's `ZoneInfo`, PHP's `DateTimeZone('Europe/Paris')` and ISO texts with a zone annotation
(`2026-07-01T12:00:00[Europe/Paris]`) give a wall-clock time and a zone name, not an offset; the
offset comes from the IANA time-zone database. cachetape uses the copy `jiff` bundles into the
binary (its `tzdb-bundle-always` feature), never the machine's `/usr/share/zoneinfo`, so a value
normalizes to the same instant on every machine; a zone the bundled database does not know is
left as it is (it compares as text, never as a wrong instant).

A wall-clock time a zone skips (clocks going forward) or has twice (clocks going back) is
resolved as Python resolves it: `fold = 0` takes the offset in force before the transition,
`fold = 1` the one after.
*/

use jiff::tz::{AmbiguousOffset, TimeZone};

/// Which side of a transition an ambiguous or skipped wall-clock time is taken on (Python's
/// `datetime.fold`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fold {
    /// The offset in force before the transition (`fold = 0`, the default).
    Before,
    /// The offset in force after it (`fold = 1`).
    After,
}

/// The offset east of UTC, in seconds, that zone `name` had at wall-clock time `local`; `None`
/// for a name the bundled database does not know.
pub fn offset_at(name: &str, local: jiff::civil::DateTime, fold: Fold) -> Option<i32> {
    let tz = TimeZone::get(name).ok()?;
    let offset = match (tz.to_ambiguous_timestamp(local).offset(), fold) {
        (AmbiguousOffset::Unambiguous { offset }, _) => offset,
        (
            AmbiguousOffset::Gap { before, .. } | AmbiguousOffset::Fold { before, .. },
            Fold::Before,
        ) => before,
        (AmbiguousOffset::Gap { after, .. } | AmbiguousOffset::Fold { after, .. }, Fold::After) => {
            after
        }
    };
    Some(offset.seconds())
}

/// An offset as ISO-8601 writes it: `+HH:MM`, or `+HH:MM:SS` when it has seconds (an old local
/// mean time).
pub fn render_offset(secs: i64) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let mut s = format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60);
    if !a.is_multiple_of(60) {
        s.push_str(&format!(":{:02}", a % 60));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_zone_has_its_offsets_summer_and_winter() {
        let paris = |m, h| offset_at("Europe/Paris", date(2026, m, 1).at(h, 0, 0, 0), Fold::Before);
        assert_eq!(paris(7, 12), Some(7200));
        assert_eq!(paris(11, 12), Some(3600));
        let kathmandu = offset_at("Asia/Kathmandu", date(2026, 1, 1).at(0, 0, 0, 0), Fold::Before);
        assert_eq!(kathmandu, Some(5 * 3600 + 45 * 60));
        assert_eq!(
            offset_at("America/Nowhere", date(2026, 1, 1).at(0, 0, 0, 0), Fold::Before),
            None
        );
    }

    #[test]
    fn a_repeated_or_skipped_wall_time_takes_the_side_fold_says() {
        // 2026-10-25 03:00 CEST → 02:00 CET: 02:30 happens twice.
        let back = date(2026, 10, 25).at(2, 30, 0, 0);
        assert_eq!(offset_at("Europe/Paris", back, Fold::Before), Some(7200));
        assert_eq!(offset_at("Europe/Paris", back, Fold::After), Some(3600));
        // 2026-03-29 02:00 CET → 03:00 CEST: 02:30 never happens.
        let forward = date(2026, 3, 29).at(2, 30, 0, 0);
        assert_eq!(offset_at("Europe/Paris", forward, Fold::Before), Some(3600));
        assert_eq!(offset_at("Europe/Paris", forward, Fold::After), Some(7200));
    }

    #[test]
    fn offsets_render_as_iso_writes_them() {
        assert_eq!(render_offset(7200), "+02:00");
        assert_eq!(render_offset(-(5 * 3600 + 30 * 60)), "-05:30");
        assert_eq!(render_offset(561), "+00:09:21");
        assert_eq!(render_offset(0), "+00:00");
    }
}
