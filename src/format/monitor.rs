/*!
`cat --format monitor`: Redis events exactly as `redis-cli monitor` printed them (script calls as
`[db lua]` lines after their EVAL), so importing a capture and printing it back gives the capture's
MONITOR lines byte for byte. Other events have no MONITOR form and are left out (counted).
*/

use cachetape_recorder::monitor::write_command;
use cachetape_replayer::Step;
use cachetape_tape::{Event, EventBody, Header};

use super::EventFormat;

/// MONITOR lines.
#[derive(Default)]
pub struct MonitorFormat {
    /// Events left out because they are not Redis commands.
    pub left_out: u64,
}

impl EventFormat for MonitorFormat {
    fn write_event(
        &mut self,
        out: &mut Vec<u8>,
        _header: &Header,
        event: &Event,
        _: Option<&Step>,
    ) {
        match &event.body {
            EventBody::Redis(c) => write_command(out, c),
            _ => self.left_out += 1,
        }
    }
}
