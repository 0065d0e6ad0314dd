/*!
The reports' output formats, behind one trait: each format turns a report — `analyze`'s
[`Report`](cachetape_analyzer::Report), `replay`'s [`ReplayReport`](cachetape_perturb::ReplayReport),
or one schedule replayed ([`ScheduleReplay`](cachetape_perturb::replay::ScheduleReplay)) — into one
document. One module per format (text, JSON, HTML); the command picks one. The libraries hand
over plain data; only this module knows how a report reads. `reads.rs` writes `analyze --reads`'s
JSON lines, one per judged read.
*/

mod html;
mod json;
mod reads;
mod text;

pub use html::HtmlReport;
pub use json::JsonReport;
pub use reads::write_reads;
pub use text::TextReport;

/// Renders a report of type `R`.
pub trait ReportFormat<R: ?Sized> {
    /// The whole document for `report` of the trace named `trace`.
    fn render(&self, report: &R, trace: &str) -> String;
}
