/*!
What waits: the FIFO of reads and ended episodes ([`Pending`]), judged or settled once the trace
has moved `reorder_slack` + `db_lag` past them — the trace is in arrival order, so by then every
commit that may precede them is in ([`Judge::drain`]). An item whose row has not changed yet is
parked on the row's subject until its first change (whose before image says what the row held),
then released key by key: its reads, then its episodes' ends.
*/

use cachetape_base::prefetch;
use cachetape_tape::Micros;

use super::state::{Judge, NO_PARKED, Parked, ParkedWhat, Pending, VACANT};
use crate::dbstate::SubjectId;

/// How many pending items ahead [`Judge::drain`] starts loading what they will read.
const PREFETCH_AHEAD: usize = 6;

impl Judge {
    /// Judges and settles everything whose outcome can no longer change before `watermark`.
    pub(super) fn drain(&mut self, watermark: Micros) {
        let lag = self.options.timeline.db_lag_us;
        while let Some(front) = self.pending.front() {
            let t = front.time();
            if watermark != Micros::MAX && t.saturating_add(lag) > watermark {
                break;
            }
            self.judged_until = self.judged_until.max(t);
            if let Some(ahead) = self.pending.get(PREFETCH_AHEAD) {
                self.prefetch(ahead);
            }
            match self.pending.pop_front().expect("front exists") {
                Pending::Read { key, subject, read } => {
                    if self.db.tails[subject.0 as usize].is_unknown() {
                        self.park(key, subject, ParkedWhat::Read(read));
                    } else {
                        self.judge(key, read);
                    }
                }
                Pending::Settle { key, slot, no, .. } => {
                    let s = self.slots[slot as usize].subject;
                    if self.db.tails[s.0 as usize].is_unknown() {
                        self.park(key, s, ParkedWhat::Episode { slot, no });
                    } else {
                        self.settle(key, slot, no);
                    }
                }
            }
        }
    }

    /// Starts loading what judging or settling `p` will read.
    #[inline]
    fn prefetch(&self, p: &Pending) {
        match p {
            Pending::Read { subject, read, .. } => {
                if let Some(t) = self.db.tails.get(subject.0 as usize) {
                    prefetch(t);
                }
                if let Some(slot) = self.slots.get(read.slot as usize) {
                    prefetch(&slot.key);
                    prefetch(&slot.episode.basis);
                }
            }
            Pending::Settle { slot, .. } => {
                if let Some(slot) = self.slots.get(*slot as usize) {
                    prefetch(&slot.key);
                    prefetch(&slot.episode.basis);
                    prefetch(&slot.episode.end);
                }
            }
        }
    }

    fn park(&mut self, key: u32, subject: SubjectId, what: ParkedWhat) {
        let s = subject.0 as usize;
        if self.parked_heads.len() <= s {
            self.parked_heads.resize(self.db.subjects.len().max(s + 1), NO_PARKED);
        }
        let item = Parked { key, next: self.parked_heads[s], what };
        self.parked_heads[s] = match self.free_parked.pop() {
            Some(i) => {
                self.parked[i as usize] = item;
                i
            }
            None => {
                self.parked.push(item);
                (self.parked.len() - 1) as u32
            }
        };
    }

    /// The items parked for subject `s`, oldest first; the list is emptied (the caller frees
    /// the items once it has read them).
    fn unpark(&mut self, s: SubjectId) -> Vec<u32> {
        let mut items = Vec::new();
        let Some(head) = self.parked_heads.get_mut(s.0 as usize) else { return items };
        let mut i = std::mem::replace(head, NO_PARKED);
        while i != NO_PARKED {
            items.push(i);
            i = self.parked[i as usize].next;
        }
        items.reverse();
        items
    }

    /// Subject `s`'s row changed for the first time: what waited for it is judged and settled.
    pub(super) fn row_became_known(&mut self, s: SubjectId) {
        let items = self.unpark(s);
        // Key by key in the order they first waited: its reads, then its episodes' ends.
        let mut keys: Vec<u32> = Vec::new();
        for &i in &items {
            let key = self.parked[i as usize].key;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        for key in keys {
            for &i in &items {
                if let Parked { key: k, what: ParkedWhat::Read(r), .. } = self.parked[i as usize]
                    && k == key
                {
                    self.judge(key, r);
                }
            }
            for &i in &items {
                if let Parked { key: k, what: ParkedWhat::Episode { slot, no }, .. } =
                    self.parked[i as usize]
                    && k == key
                {
                    self.settle(key, slot, no);
                }
            }
        }
        for &i in &items {
            self.parked[i as usize].key = VACANT;
        }
        self.free_parked.extend_from_slice(&items);
    }
}
