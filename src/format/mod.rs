/*!
Output formats of `cat`, behind one trait: each format turns one event into bytes. One file per
format; the command picks one and streams events through it. `replies` renders the replay
summary `cat --replies` ends with.
*/

mod json;
mod monitor;
mod replies;
mod text;

pub use json::JsonFormat;
pub use monitor::MonitorFormat;
pub use replies::replay_summary;
pub use text::{TextFormat, word};

use cachetape_replayer::Step;
use cachetape_tape::{Event, Header};

/// Renders events for `cat`.
pub trait EventFormat {
    /// Appends the rendering of `event` (zero or more whole lines) to `out`; `step` is what the
    /// fake Redis computed for it, with `cat --replies`.
    fn write_event(
        &mut self,
        out: &mut Vec<u8>,
        header: &Header,
        event: &Event,
        step: Option<&Step>,
    );
}

/// The name of an event's source, or `#N` when the header lacks it.
pub fn source_name(header: &Header, event: &Event) -> String {
    header.source(event.source).map_or_else(|| format!("#{}", event.source.0), |s| s.name.clone())
}
