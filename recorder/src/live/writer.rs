/*!
The writer thread: one plain thread owns the trace's [`Writer`], appends the taps' batches in
arrival order, and calls [`Writer::tick`] at least every 100 ms, so a frame closes within a second
even when nothing happens. It keeps draining after a write error (the taps never block) and
reports the error at the end.
*/

use std::sync::atomic::Ordering;
use std::time::Duration;

use cachetape_tape::{EventBody, Writer};
use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::RecordError;
use super::status;
use super::tap::Batch;

/// The writer thread: appends batches in arrival order, ticks at least every 100 ms, and closes
/// the trace when every tap has hung up.
pub(crate) fn write_loop<W: std::io::Write>(
    mut writer: Writer<W>,
    output: &std::path::Path,
    rx: Receiver<Batch>,
    max_events: Option<u64>,
    stats: &status::WriterStats,
    clocks: &std::sync::Mutex<status::ClockLog>,
    on_max: impl Fn(),
) -> Result<status::Written, RecordError> {
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
    writer.close_frame()?;
    let raw_bytes = writer.raw_bytes();
    let (_, footer) = writer.finish()?;
    let bytes = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    Ok(status::Written { footer, over_limit, per_source, bytes, raw_bytes })
}
