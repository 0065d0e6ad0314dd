/*!
Figures for people, shared by the report's verdict and the CLI's renderers: a window (`5ms`), a
count with thousands separators (`1,234,567`), a sampled component's estimated size.
*/

use cachetape_tape::{Micros, format_duration};

/// A window for people: `5ms`, `500us`, `1.5ms`, `0`.
pub fn format_window(us: Micros) -> String {
    match us {
        0 => "0".into(),
        _ if us % 1_000_000 == 0 => format!("{}s", us / 1_000_000),
        _ if us % 1_000 == 0 => format!("{}ms", us / 1_000),
        _ if us < 1_000 => format!("{us}us"),
        _ => format_duration(us),
    }
}

/// A sampled component's estimated class count for people: the explorer saturates at
/// `u64::MAX` when the estimate overflows, which is "more than 10^19", not a count.
pub fn estimate(n: u64) -> String {
    if n == u64::MAX { "more than 10^19".to_string() } else { thousands(n) }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{estimate, format_window, thousands};

    #[test]
    fn counts_read_with_thousands_and_a_saturated_estimate_is_not_a_count() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_816), "1,816");
        assert_eq!(thousands(72_933_943), "72,933,943");
        assert_eq!(estimate(12_345), "12,345");
        assert_eq!(estimate(u64::MAX), "more than 10^19");
    }

    #[test]
    fn windows_read_in_their_largest_whole_unit() {
        assert_eq!(format_window(0), "0");
        assert_eq!(format_window(5_000), "5ms");
        assert_eq!(format_window(2_000_000), "2s");
        assert_eq!(format_window(500), "500us");
    }
}
