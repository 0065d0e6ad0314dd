/*!
The writer thread: one plain thread owns the trace's [`Writer`], appends the taps' batches in
arrival order, and calls [`Writer::tick`] at least every 100 ms, so a frame closes within a second
even when nothing happens. It keeps draining after a write error (the taps never block) and
reports the error at the end.

The trace streams into `OUT.partial` ([`OutputFile::partial`]): a recorder killed at any moment
leaves there every frame closed so far, readable, and never touches an older `OUT`. Only
[`commit`], once every source has reached its barrier, writes the footer and renames it to `OUT`;
a recording that fails to start discards it.
*/

use std::sync::atomic::Ordering;
use std::time::Duration;

use std::io::BufWriter;

use cachetape_tape::output::OutputFile;
use cachetape_tape::{EventBody, Writer};
use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::RecordError;
use super::status;
use super::tap::Batch;

/// The trace being recorded.
pub(crate) type TraceWriter = Writer<BufWriter<OutputFile>>;

/// What the writer thread hands back when every tap has hung up: the trace, not yet closed.
pub(crate) struct Drained {
    writer: TraceWriter,
    over_limit: u64,
    per_source: Vec<u64>,
}

/// The writer thread: appends batches in arrival order, ticks at least every 100 ms, and returns
/// the open trace when every tap has hung up ([`commit`] closes it). On a write error the trace
/// is dropped unclosed: its `.partial` file keeps what was written.
pub(crate) fn write_loop(
    mut writer: TraceWriter,
    rx: Receiver<Batch>,
    max_events: Option<u64>,
    stats: &status::WriterStats,
    clocks: &std::sync::Mutex<status::ClockLog>,
    on_max: impl Fn(),
) -> Result<Drained, RecordError> {
    let mut appended: u64 = 0;
    let mut over_limit: u64 = 0;
    let mut per_source: Vec<u64> = Vec::new();
    let mut error: Option<cachetape_tape::Error> = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(batch) => {
                if error.is_some() {
                    continue; // keep draining so the taps never block; the error is reported
                }
                if batch.dropped > 0 {
                    writer.note_dropped(batch.dropped);
                }
                for (recv_us, body) in batch.events {
                    if max_events.is_some_and(|m| appended >= m) {
                        over_limit += 1;
                        continue;
                    }
                    if let EventBody::ClockProbe(p) = &body {
                        clocks
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .add(batch.source, p.clone());
                    }
                    if let Err(e) = writer.append(batch.source, recv_us, body) {
                        error = Some(e);
                        break;
                    }
                    appended += 1;
                    let i = batch.source.0 as usize;
                    if per_source.len() <= i {
                        per_source.resize(i + 1, 0);
                    }
                    per_source[i] += 1;
                    if max_events == Some(appended) {
                        on_max();
                    }
                }
                stats.events.store(appended, Ordering::Relaxed);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if error.is_none() {
            if let Err(e) = writer.tick() {
                error = Some(e);
            }
            stats.bytes.store(writer.bytes_written(), Ordering::Relaxed);
        }
    }
    if let Some(e) = error {
        return Err(e.into());
    }
    Ok(Drained { writer, over_limit, per_source })
}

/// Closes the trace (last frame, footer) and renames it from `.partial` to `output`.
pub(crate) fn commit(
    drained: Drained,
    output: &std::path::Path,
) -> Result<status::Written, RecordError> {
    let Drained { mut writer, over_limit, per_source } = drained;
    writer.close_frame()?;
    let raw_bytes = writer.raw_bytes();
    let footer = writer.commit()?;
    let bytes = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    Ok(status::Written { footer, over_limit, per_source, bytes, raw_bytes })
}

/// A recording that did not start: its `.partial` file holds no event worth keeping.
pub(crate) fn discard(drained: Drained) {
    let partial = drained.writer.output().get_ref().temp_path().to_path_buf();
    drop(drained);
    let _ = std::fs::remove_file(partial);
}
