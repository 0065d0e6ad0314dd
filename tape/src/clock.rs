/*!
Reading the clock, the one place the crate does: [`now_us`] is the system's time as traces keep
it (µs since the Unix epoch), for the recorder and the tools that stamp events; [`Clock`] is the
time source a [`crate::Writer`] ages its open frame by — the machine's monotonic clock unless the
caller (a test) gives it another.
*/

use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::event::Micros;

/// The system clock in µs since the Unix epoch; 0 when the clock is set before 1970.
pub fn now_us() -> Micros {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as Micros)
}

/// Where a [`crate::Writer`] reads the time to tell when its open frame is older than
/// [`crate::WriterOptions::max_frame_age`]: µs from any fixed origin, since only differences are
/// used. The default is [`Clock::monotonic`]: a wall clock stepped back would keep a frame open,
/// its events unwritten, for as long as the step. [`Clock::from_fn`] gives a test its own time.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Micros + Send + Sync>);

impl Clock {
    /// The machine's monotonic clock: µs since this `Clock` was made.
    pub fn monotonic() -> Clock {
        let origin = Instant::now();
        Clock(Arc::new(move || origin.elapsed().as_micros() as Micros))
    }

    /// A clock that reads the time from `now` (which should not go backwards).
    pub fn from_fn(now: impl Fn() -> Micros + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    /// The time now, in µs from the clock's origin.
    pub fn now_us(&self) -> Micros {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::monotonic()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_monotonic_clock_does_not_go_back_and_now_is_after_2020() {
        let clock = Clock::monotonic();
        let (a, b) = (clock.now_us(), clock.now_us());
        assert!(0 <= a && a <= b, "{a} then {b}");
        assert!(now_us() > 1_577_836_800_000_000);
    }
}
