/*!
cachetape-replayer: a fake Redis on a virtual clock that recomputes what every command of a
trace answered.

MONITOR records commands, not replies. This crate re-executes a trace's Redis commands, in
recorded order, against an in-memory [`Store`] that follows Redis 7.0's semantics — exact error
texts, lazy expiry at the command's own timestamp, MULTI/EXEC and WATCH per connection, scripts
applied through their recorded `[lua]` lines — and yields each command's [`Reply`] and, on
request, the store's view of the keys it touched. Commands it does not model are counted by name
and their keys become *unknown*: reads of them answer [`Reply::Unknown`], never a guess.

- [`Store`]: the data set; [`Store::call`] runs one command, [`Store::execute`] runs one as a
  client connection would send it (MULTI queues, EXEC runs the queue).
- [`Command`]: the modelled commands, with [`Command::Unknown`] for the rest, and what each does
  to its keys; their implementations are one family per file (`strings`, `keys`, `hashes`,
  `sets`, `lists`, `zsets`, `transactions`, `scripts`).
- [`Replayer`]: events in, [`Step`]s out, and a [`ReplayReport`]; [`replay_file`] does it for a
  trace file. [`Replayer::apply_ref`] gives the same step borrowed ([`StepRef`]: a GET's value
  is not copied out of the store), for callers that look at a step and move on.

```no_run
use cachetape_replayer::{replay_file, ReplayOptions};

let report = replay_file("incident.ctape", ReplayOptions::default(), |event, step| {
    println!("#{} {} -> {}", event.seq, step.command.name(), step.client_reply());
})?;
println!("{} commands; not modelled: {:?}", report.commands, report.unmodelled);
# Ok::<(), cachetape_replayer::Error>(())
```

Architecture invariant: the replayer is pure and deterministic — no wall clock, no randomness,
no I/O beyond reading the trace it is given, no hash-map order in its output.
*/
#![deny(missing_docs)]

mod bounds;
mod command;
mod connection;
mod dispatch;
mod error;
pub mod float;
mod hashes;
mod keymap;
mod keys;
mod lists;
mod number;
mod prefetch;
mod replay;
mod reply;
mod scripts;
mod sets;
mod store;
mod strings;
mod transactions;
mod value;
mod zsets;

use std::path::Path;

pub use bounds::{Bounds, MAX_PADDING};
pub use command::Command;
pub use command::semantics::Arguments;
pub use connection::Client;
pub use dispatch::Effect;
pub use error::Error;
pub use keymap::key_hash;
pub use number::parse_i64;
pub use prefetch::Prefetch;
pub use replay::{
    KeyAfter, KeyView, ReplayOptions, ReplayReport, Replayer, ScriptStep, Step, StepRef, UnknownKey,
};
pub use reply::{Bytes, Reply, ReplyRef, UnknownReply, WRONGTYPE};
pub use store::{ClientId, KeyState, Store};
pub use value::{Entry, HashValue, Millis, SetValue, StringValue, Value, ZSetValue};

/// Replays the trace at `path` in recorded order, calling `on_step` with each Redis event and
/// its [`Step`]; returns the report. Reads the trace frame by frame (memory stays flat).
pub fn replay_file(
    path: impl AsRef<Path>,
    options: ReplayOptions,
    mut on_step: impl FnMut(&cachetape_tape::Event, &Step),
) -> Result<ReplayReport, Error> {
    let mut reader = cachetape_tape::Reader::open(path)?;
    let mut replayer = Replayer::new(reader.header(), options);
    let Some(mut event) = reader.next().transpose()? else { return Ok(replayer.report()) };
    loop {
        if let Some(step) = replayer.apply(&event) {
            on_step(&event, &step);
        }
        if !reader.next_event_into(&mut event)? {
            return Ok(replayer.report());
        }
    }
}

/// Replays `events` (of a trace with `header`) and returns every step with the report.
pub fn replay_events<'a>(
    header: &cachetape_tape::Header,
    events: impl IntoIterator<Item = &'a cachetape_tape::Event>,
    options: ReplayOptions,
) -> (Vec<Step>, ReplayReport) {
    let mut replayer = Replayer::new(header, options);
    let steps = events.into_iter().filter_map(|e| replayer.apply(e)).collect();
    (steps, replayer.report())
}
