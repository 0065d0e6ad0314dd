/*!
Which events `cat --seq` and `cat --around` show: events by sequence number, and the window of
events around one (the neighbourhood of a finding). The window counts the events that pass
`cat`'s other filters, so `--around 812 --key order:42` shows the events of `order:42` before and
after event 812.
*/

use std::collections::VecDeque;

use anyhow::{Context, bail};

/// Sequence numbers `--seq` accepts: `N` or `A..B` (both ends included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqRange {
    /// The first.
    pub from: u64,
    /// The last.
    pub to: u64,
}

impl SeqRange {
    /// Parses `N` or `A..B`.
    pub fn parse(s: &str) -> anyhow::Result<SeqRange> {
        let t = s.trim();
        let number = |n: &str| -> anyhow::Result<u64> {
            n.trim().parse().with_context(|| {
                format!("`{s}` is not a sequence number or range: write 812 or 800..820")
            })
        };
        let (from, to) = match t.split_once("..") {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(t)?, number(t)?),
        };
        if from > to {
            bail!("the range `{s}` is empty: write the smaller number first (800..820)");
        }
        Ok(SeqRange { from, to })
    }

    /// True when `seq` is in the range.
    pub fn contains(&self, seq: u64) -> bool {
        (self.from..=self.to).contains(&seq)
    }
}

/// The window of `context` events before and after the event numbered `center`, among the
/// events offered to it; an item is what the caller prints for one event.
pub struct Around<T> {
    center: u64,
    context: usize,
    /// The last `context` events offered before the center.
    before: VecDeque<T>,
    /// Events still to show after the center, once it was found.
    after_left: Option<usize>,
}

impl<T> Around<T> {
    /// The window around event `center`, `context` events each side.
    pub fn new(center: u64, context: usize) -> Around<T> {
        Around { center, context, before: VecDeque::new(), after_left: None }
    }

    /// Offers the next event (numbered `seq`): returns the items to print now, in order.
    pub fn offer(&mut self, seq: u64, item: T) -> Vec<T> {
        match &mut self.after_left {
            None if seq == self.center => {
                self.after_left = Some(self.context);
                let mut out: Vec<T> = self.before.drain(..).collect();
                out.push(item);
                out
            }
            None => {
                if self.context > 0 {
                    if self.before.len() == self.context {
                        self.before.pop_front();
                    }
                    self.before.push_back(item);
                }
                Vec::new()
            }
            Some(0) => Vec::new(),
            Some(left) => {
                *left -= 1;
                vec![item]
            }
        }
    }

    /// True once the center was found and everything after it shown.
    pub fn is_done(&self) -> bool {
        self.after_left == Some(0)
    }

    /// True once the center was found.
    pub fn found(&self) -> bool {
        self.after_left.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_bad_ones_are_named() {
        assert_eq!(SeqRange::parse("812").unwrap(), SeqRange { from: 812, to: 812 });
        assert_eq!(SeqRange::parse(" 800..820 ").unwrap(), SeqRange { from: 800, to: 820 });
        let e = SeqRange::parse("820..800").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = SeqRange::parse("x").unwrap_err().to_string();
        assert!(e.contains("`x` is not a sequence number"), "{e}");
    }

    #[test]
    fn the_window_holds_context_each_side() {
        let mut w = Around::new(5, 2);
        let mut shown = Vec::new();
        for seq in 0..20u64 {
            shown.extend(w.offer(seq, seq));
        }
        assert_eq!(shown, vec![3, 4, 5, 6, 7]);
        assert!(w.is_done());
        // The center near the start: fewer events before it.
        let mut w = Around::new(1, 3);
        let shown: Vec<u64> = (0..10u64).flat_map(|s| w.offer(s, s)).collect();
        assert_eq!(shown, vec![0, 1, 2, 3, 4]);
        // A center never offered shows nothing.
        let mut w = Around::new(50, 3);
        assert!((0..10u64).all(|s| w.offer(s, s).is_empty()));
        assert!(!w.found());
    }
}
