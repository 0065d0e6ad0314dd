/*!
Output formats of `analyze`, behind one trait: each format turns a [`Report`] into one document.
One file per format (text, JSON, HTML); the command picks one.
*/

mod html;
mod json;
mod text;

pub use html::HtmlReport;
pub use json::JsonReport;
pub use text::TextReport;

use cachetape_analyzer::Report;

/// Renders an analysis report.
pub trait ReportFormat {
    /// The whole document for `report` of the trace named `trace`.
    fn render(&self, report: &Report, trace: &str) -> String;
}
