/*!
The reports for people: `analyze`'s (`analyze.rs`: the verdict, the flagged keys worst first with
their stale reads and stories, the figures) and `replay`'s (`replay.rs`: the as-recorded part, the
exploration, each read some order serves stale with its story, and one schedule replayed).
*/

mod analyze;
mod replay;

use cachetape_tape::format_duration;

/// The human report.
pub struct TextReport;

/// A share as a percentage: `45.7%`, `100%`.
fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p == 100.0 || p == 0.0 { format!("{p:.0}%") } else { format!("{p:.1}%") }
}

/// A stale read's age, or `unknown` when its value matches no version.
fn age(us: Option<i64>) -> String {
    us.map_or_else(|| "unknown".to_string(), format_duration)
}
