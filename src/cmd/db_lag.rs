/*!
The database lag `analyze` and `shrink` place live-recorded commits with: `--db-lag` when given,
else the worst commit→receipt lag the trace's heartbeats measured (`record --heartbeat`; a pass
over the trace, made only when it has a live-recorded database), else the 5 ms default — and
where it came from, which the report states. (`replay` resolves it the same way, in the
library's `Replay`.)
*/

use std::path::Path;

use anyhow::Context;
use cachetape_analyzer::{DbLagSource, HeartbeatLag};
use cachetape_tape::{Event, EventBody, EventRef, Gap, Micros, Reader, SourceId};

use crate::units::parse_duration_us;

/// The lag for `trace` and its source; `given` is `--db-lag`; `salvage` skips damaged frames (and
/// a second trace) as the command's own pass does.
pub fn resolve(
    trace: &Path,
    given: Option<&str>,
    salvage: bool,
) -> anyhow::Result<(Micros, DbLagSource)> {
    let given = given.map(parse_duration_us).transpose().context("--db-lag")?;
    if let Some(us) = given {
        anyhow::ensure!(us >= 0, "--db-lag {us}us: a lag cannot be negative");
    }
    let mut measured = HeartbeatLag::default();
    if given.is_none() {
        let mut reader = Reader::open(trace)?.salvage(salvage);
        if HeartbeatLag::may_have_heartbeats(reader.header()) {
            // Decoded into by every event that is not a plain Redis command.
            let mut scratch = Event {
                seq: 0,
                source: SourceId(0),
                recv_us: 0,
                body: EventBody::Gap(Gap { from_us: 0, to_us: 0, reason: String::new() }),
            };
            while let Some(event) = reader.next_ref(&mut scratch)? {
                if let EventRef::Owned(e) = event {
                    measured.push(e);
                }
            }
        }
    }
    Ok(measured.resolve(given))
}
