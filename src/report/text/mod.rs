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

/// A stale read's age, or `unknown` when its value matches no version.
fn age(us: Option<i64>) -> String {
    us.map_or_else(|| "unknown".to_string(), format_duration)
}
