/*!
What the store refuses to materialise: the bound that keeps a tiny trace from making it allocate
without limit.

Almost every byte the store holds came from the trace itself (a SET's value, an APPEND's tail,
a pushed member), so its memory follows the trace's size. The one exception is `SETRANGE` past a
string's end, which fills the distance with zero bytes: `SETRANGE k 536870000 x` is 29 bytes of
trace and 512 MiB of value. The store allows [`MAX_PADDING`] bytes of such zero fill over its
whole life; a `SETRANGE` that would go beyond it still answers exactly what Redis answers (the
new length, which needs no bytes to compute), but its key becomes *unknown* instead of being
allocated, and it is counted ([`Bounds::unmaterialised`]) so reports can say so.
*/

/// Zero bytes `SETRANGE` may add past strings' ends over a store's life (16 MiB).
pub const MAX_PADDING: u64 = 16 << 20;

/// A store's running account against [`MAX_PADDING`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bounds {
    /// Zero bytes added so far.
    padding: u64,
    /// Writes not materialised because they would have exceeded the bound (their keys became
    /// unknown).
    unmaterialised: u64,
}

impl Bounds {
    /// Accounts `zeros` more bytes of zero fill: true when they fit the bound (and are now
    /// counted), false when the write must not be materialised (counted as such).
    pub(crate) fn admit_padding(&mut self, zeros: u64) -> bool {
        if zeros == 0 {
            return true;
        }
        match self.padding.checked_add(zeros) {
            Some(total) if total <= MAX_PADDING => {
                self.padding = total;
                true
            }
            _ => {
                self.unmaterialised += 1;
                false
            }
        }
    }

    /// Writes whose value the store did not materialise (their keys became unknown).
    pub fn unmaterialised(&self) -> u64 {
        self.unmaterialised
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_admitted_up_to_the_bound_and_refused_past_it() {
        let mut b = Bounds::default();
        assert!(b.admit_padding(0));
        assert!(b.admit_padding(MAX_PADDING - 10));
        assert!(!b.admit_padding(11));
        assert!(b.admit_padding(10));
        assert!(!b.admit_padding(1));
        assert!(!b.admit_padding(u64::MAX));
        assert_eq!(b.unmaterialised(), 3);
    }
}
