/*!
What reading a trace found: [`ReadReport`] counts what was recovered and lists what was lost — a
file that ends early ([`Truncation`]), frames skipped as damaged in salvage mode ([`Damage`]), a second trace after the
footer —
with what their block heads say they held ([`LostFrame`]). Its `Display` is the sentence `info`
and `cat` print.
*/

use std::fmt;

use crate::event::Micros;
use crate::header::Footer;
use crate::time::format_time;

/// What reading a trace found: how much was recovered and how much was lost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadReport {
    /// Frames decoded.
    pub frames: u64,
    /// Events decoded.
    pub events: u64,
    /// Bytes consumed so far.
    pub bytes: u64,
    /// The footer, when the trace was closed cleanly and read to its end.
    pub footer: Option<Footer>,
    /// Set when the file ends early.
    pub truncated: Option<Truncation>,
    /// Frames skipped as damaged (salvage mode only).
    pub skipped: Vec<Damage>,
    /// Bytes found after the footer, ignored.
    pub trailing_bytes: u64,
    /// Where a second trace starts after the footer (read in salvage mode only, and not read:
    /// its bytes are the `trailing_bytes`).
    pub appended_trace: Option<u64>,
}

/// How a trace ended early.
#[derive(Clone, Debug, PartialEq)]
pub struct Truncation {
    /// Offset where the incomplete block starts (the file length when it ends between blocks).
    pub offset: u64,
    /// Bytes of the incomplete block that were present.
    pub partial_bytes: u64,
    /// Head of the incomplete frame, when all 40 bytes of it survived: how many events it held
    /// and their time span.
    pub lost_frame: Option<LostFrame>,
}

/// What a lost or damaged frame held, according to its block head.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LostFrame {
    /// Events in it.
    pub events: u32,
    /// Receive time of its first event.
    pub first_us: Micros,
    /// Receive time of its last event.
    pub last_us: Micros,
}

/// A damaged frame skipped in salvage mode.
#[derive(Clone, Debug, PartialEq)]
pub struct Damage {
    /// Offset of the damaged block.
    pub offset: u64,
    /// Bytes skipped.
    pub bytes: u64,
    /// What was wrong.
    pub reason: String,
    /// What it held, when its head was intact.
    pub lost_frame: Option<LostFrame>,
}

impl ReadReport {
    /// True when the whole file was read: footer present, nothing lost or skipped, nothing after
    /// the footer.
    pub fn is_complete(&self) -> bool {
        self.footer.is_some()
            && self.truncated.is_none()
            && self.skipped.is_empty()
            && self.trailing_bytes == 0
    }

    /// Events known to be lost (from the heads of lost or skipped frames; a lost head hides
    /// its count).
    pub fn known_lost_events(&self) -> u64 {
        let lost = self.truncated.as_ref().and_then(|t| t.lost_frame).map_or(0, |f| f.events);
        lost as u64
            + self.skipped.iter().filter_map(|d| d.lost_frame).map(|f| f.events as u64).sum::<u64>()
    }
}

impl fmt::Display for ReadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} events recovered from {} frames", self.events, self.frames)?;
        if let Some(footer) = &self.footer {
            if footer.events == self.events && self.skipped.is_empty() {
                write!(f, "; complete (the footer counts {} events)", footer.events)?;
            } else {
                write!(f, "; the footer counts {} events", footer.events)?;
            }
        }
        if let Some(t) = &self.truncated {
            write!(f, "; the trace ends early at byte {} (no footer", t.offset)?;
            match (t.partial_bytes, t.lost_frame) {
                (0, _) => {
                    write!(f, ", but no frame was cut: the writer was stopped between frames")?
                }
                (n, Some(lost)) => write!(
                    f,
                    ", an incomplete frame of {n} bytes: {} events lost, received {} to {}",
                    lost.events,
                    format_time(lost.first_us),
                    format_time(lost.last_us)
                )?,
                (n, None) => write!(f, ", {n} bytes of an incomplete frame: its events are lost")?,
            }
            write!(f, ")")?;
        }
        for d in &self.skipped {
            write!(f, "; skipped {} damaged bytes at offset {} ({}", d.bytes, d.offset, d.reason)?;
            if let Some(lost) = d.lost_frame {
                write!(f, ", {} events lost", lost.events)?;
            }
            write!(f, ")")?;
        }
        match self.appended_trace {
            Some(at) => write!(
                f,
                "; a second trace of {} bytes follows from byte {at}, not read (split the file \
                 to read it: `tail -c +{} FILE`)",
                self.trailing_bytes,
                at + 1
            )?,
            None if self.trailing_bytes > 0 => {
                write!(f, "; {} bytes after the footer ignored", self.trailing_bytes)?
            }
            None => {}
        }
        Ok(())
    }
}
