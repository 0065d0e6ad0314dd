/*!
Episodes: what the store held of a mapped key after each write (or what a snapshot found) cuts
the key's life into [`crate::oracle::Episode`]s, from the write that put a value there to what
ended it (a DEL, an overwrite, the TTL, the state becoming unknown, the end of the trace). An
unchanged value whose TTL alone changed stays one episode. An ended episode waits in the queue
to be settled ([`Pending::Settle`]); a live one sits in the slot arena, where reads find it.

A framework's own expiry inside the value (a Keyv `expires`, a .NET `absexp`:
[`crate::mapping::Projected::expires_ms`]) ends the episode like a TTL would: the episode's
expiry is the earlier of the two, and a read or write that finds the framework's expiry past
ends the episode there ([`End::Expiry`]), though the store still holds the value.
*/

use std::hash::Hasher;

use cachetape_base::FxHasher;
use cachetape_replayer::{KeyView, Value as RValue};
use cachetape_tape::{Micros, SourceId, StoredValue};

use super::observations::{NO_CLIENT, ObservedWrite};
use super::state::{Judge, NO_SLOT, Now, Pending, Slot};
use crate::oracle::{Cached, End, Episode, Mark, Origin};
use crate::report::TimelineMark;
use crate::timeline::Stamp;

impl Judge {
    /// What write `w` by event `seq` of client `c` left in its key, at `stamp` (`now_ms` on the
    /// node's clock).
    pub(super) fn write(
        &mut self,
        w: &ObservedWrite,
        source: SourceId,
        seq: u64,
        c: u32,
        stamp: Stamp,
        now_ms: i64,
    ) {
        let k = w.key;
        let what = w.command.upper_name_str();
        match &w.view {
            KeyView::Missing => {
                let kt = &mut self.keys[k as usize];
                if kt.now == Now::Missing
                    && let Some(d) = kt.detail.as_deref_mut()
                {
                    // Nothing to delete: still on the client's lane.
                    let label = format!("{what} (nothing to delete)");
                    d.mark(
                        TimelineMark {
                            t_us: stamp.t,
                            lane: c as usize,
                            kind: "del",
                            seq: Some(seq),
                            verdict: None,
                            label,
                        },
                        c,
                    );
                }
                if let Now::Present { expires_ms, app_expires_ms, .. } = self.keys[k as usize].now {
                    match lapse(expires_ms, app_expires_ms) {
                        Some(e) if e <= now_ms => self.expire(k, e),
                        _ => {
                            let mark = Mark { seq: Some(seq), stamp, client: c, what };
                            self.end_live(k, End::Del, mark);
                        }
                    }
                }
                self.keys[k as usize].now = Now::Missing;
            }
            KeyView::Unknown => {
                if self.keys[k as usize].now != Now::Unknown {
                    self.set_unknown(k, stamp, Some(seq));
                }
            }
            KeyView::Present { value, expires_at } => {
                let hash = value_hash(value);
                let old = self.keys[k as usize].now;
                if let Now::Present { hash: h, expires_ms, app_expires_ms } = old
                    && h == hash
                    && !w.unconditional
                {
                    if expires_ms != *expires_at {
                        // Only the TTL changed (EXPIRE, PERSIST, GETEX).
                        self.app_expired(k, now_ms);
                        let now = Now::Present { hash, expires_ms: *expires_at, app_expires_ms };
                        self.keys[k as usize].now = now;
                        let exp = lapse(*expires_at, app_expires_ms)
                            .map(|e| self.timeline.on_source_clock(source, e * 1000).t);
                        let live = self.keys[k as usize].live;
                        debug_assert!(
                            live != NO_SLOT || app_expires_ms.is_some_and(|e| e <= now_ms),
                            "a present value is a live episode until the framework's expiry"
                        );
                        if let Some(slot) = self.slots.get_mut(live as usize) {
                            slot.episode.expires_us = exp;
                        }
                    }
                    return;
                }
                let mark = Mark { seq: Some(seq), stamp, client: c, what };
                if let Now::Present { expires_ms, app_expires_ms, .. } = old {
                    match lapse(expires_ms, app_expires_ms) {
                        Some(e) if e <= now_ms => self.expire(k, e),
                        _ => self.end_live(k, End::Overwrite, mark),
                    }
                }
                let (cached, app_expires_ms) = self.project_view(k, value);
                let expires_us = lapse(*expires_at, app_expires_ms)
                    .map(|e| self.timeline.on_source_clock(source, e * 1000).t);
                self.start(k, cached, Origin::Write, mark, expires_us);
                let now = Now::Present { hash, expires_ms: *expires_at, app_expires_ms };
                self.keys[k as usize].now = now;
            }
        }
    }

    /// What `value` projects to under key `k`'s rule, and the framework's expiry inside it.
    fn project_view(&mut self, k: u32, value: &RValue) -> (Cached, Option<i64>) {
        let rule = &self.mapping.rules[self.keys[k as usize].rule as usize];
        let r = match value {
            RValue::String(s) => rule.project_string(s.as_bytes(), &mut self.proj),
            RValue::Hash(h) => rule.project_hash(|f| h.get(f).map(|b| &b[..]), &mut self.proj),
            _ => Err("the cached value is a list, set or sorted set"),
        };
        self.note_value(k, value, r.err());
        match r {
            Ok(p) => (Cached::Value(self.values.intern(&self.proj)), p.expires_ms),
            Err(why) => (Cached::Unreconciled(why), None),
        }
    }

    /// What snapshot `s` (event `seq`, at `stamp`: `server_us` on the node's clock) found in
    /// key `k`.
    pub(super) fn snapshot(
        &mut self,
        k: u32,
        source: SourceId,
        seq: u64,
        s: &cachetape_tape::Snapshot,
        server_us: Micros,
        stamp: Stamp,
    ) {
        let mark = Mark { seq: Some(seq), stamp, client: NO_CLIENT, what: "snapshot" };
        let now_ms = server_us.div_euclid(1000);
        if let Now::Present { expires_ms, app_expires_ms, .. } = self.keys[k as usize].now {
            match lapse(expires_ms, app_expires_ms) {
                Some(e) if e <= now_ms => self.expire(k, e),
                _ => self.end_live(k, End::Overwrite, mark),
            }
        }
        let rule = &self.mapping.rules[self.keys[k as usize].rule as usize];
        let (cached, hash) = match &s.value {
            StoredValue::Missing => {
                self.keys[k as usize].now = Now::Missing;
                return;
            }
            StoredValue::String(b) => {
                let mut h = FxHasher::default();
                h.write(b);
                (rule.project_string(b, &mut self.proj), h.finish())
            }
            StoredValue::Hash(pairs) => {
                let get = |f: &[u8]| pairs.iter().find(|(x, _)| x == f).map(|(_, v)| &v[..]);
                let r = rule.project_hash(get, &mut self.proj);
                // Not the store's hash: the next view will start a new episode only if the
                // value really changed, which a snapshot cannot tell; accept one spurious split.
                (r, 0)
            }
            _ => (Err("the cached value is a list, set or sorted set"), 0),
        };
        let (cached, app_expires_ms) = match cached {
            Ok(p) => (Cached::Value(self.values.intern(&self.proj)), p.expires_ms),
            Err(why) => (Cached::Unreconciled(why), None),
        };
        let expires_ms = (s.pttl_ms >= 0).then(|| now_ms + s.pttl_ms);
        let expires_us = lapse(expires_ms, app_expires_ms)
            .map(|e| self.timeline.on_source_clock(source, e * 1000).t);
        self.start(k, cached, Origin::Snapshot, mark, expires_us);
        self.keys[k as usize].now = Now::Present { hash, expires_ms, app_expires_ms };
    }

    /// Starts an episode of key `k`: `value`, put there by `start`.
    fn start(
        &mut self,
        k: u32,
        value: Cached,
        origin: Origin,
        start: Mark,
        expires_us: Option<Micros>,
    ) {
        let kt = &mut self.keys[k as usize];
        let no = kt.next_no;
        kt.next_no += 1;
        // A fill read the database after the miss it followed; nothing says when a value a
        // snapshot found was read.
        let fill_from =
            if origin == Origin::Write { kt.fill_window(start.client) } else { Micros::MIN };
        // A live episode not ended (the store lost the key behind the analysis' back, e.g. a
        // FLUSHDB) stays unsettled.
        let slot = Slot {
            key: k,
            no,
            subject: kt.subject,
            detail: kt.detail.is_some(),
            episode: Episode {
                value,
                origin,
                start,
                expires_us,
                fill_from,
                end: None,
                basis: None,
            },
            stale: Vec::new(),
        };
        let id = match self.free_slots.pop() {
            Some(id) => {
                self.slots[id as usize] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        kt.live = id;
        kt.live_value = value;
        if kt.detail.is_some() {
            let label = match value {
                Cached::Value(v) => self.values.display(v, &self.mapping.rules[kt.rule as usize]),
                _ => "(not comparable)".into(),
            };
            let d = kt.detail.as_deref_mut().expect("checked");
            d.cached.push((start.stamp.t, Micros::MAX, label.clone()));
            d.mark(
                TimelineMark {
                    t_us: start.stamp.t,
                    lane: start.client as usize,
                    kind: "write",
                    seq: start.seq,
                    verdict: None,
                    label: format!("{} → {label}", start.what),
                },
                start.client,
            );
        }
    }

    /// Ends key `k`'s live episode, if any: `end`, at `mark`.
    pub(super) fn end_live(&mut self, k: u32, end: End, mark: Mark) {
        let kt = &mut self.keys[k as usize];
        if !kt.is_live() {
            return;
        }
        let id = std::mem::replace(&mut kt.live, NO_SLOT);
        let slot = &mut self.slots[id as usize];
        slot.episode.end = Some((end, mark));
        // Where the read window of the next value's fill may begin: after this value ended (the
        // fill followed a miss); a write that overwrites needs no miss, so it may have read the
        // database as early as this value's own fill could.
        kt.fill_from = match end {
            End::Overwrite => slot.episode.fill_from,
            End::Unknown => Micros::MIN,
            _ => mark.stamp.lo,
        };
        let no = slot.no;
        if let Some(d) = kt.detail.as_deref_mut() {
            if let Some(last) = d.cached.last_mut() {
                last.1 = mark.stamp.t;
            }
            if end == End::Del {
                let m = TimelineMark {
                    t_us: mark.stamp.t,
                    lane: mark.client as usize,
                    kind: "del",
                    seq: mark.seq,
                    verdict: None,
                    label: mark.what.to_string(),
                };
                d.mark(m, mark.client);
            }
        }
        self.pending.push_back(Pending::Settle { key: k, slot: id, no, hi: mark.stamp.hi });
    }

    /// Key `k`'s value expired at `expires_ms` (on its node's clock).
    pub(super) fn expire(&mut self, k: u32, expires_ms: i64) {
        let source = self.keys[k as usize].source;
        let stamp = self.timeline.on_source_clock(source, expires_ms * 1000);
        let mark = Mark { seq: None, stamp, client: NO_CLIENT, what: "expired" };
        self.end_live(k, End::Expiry, mark);
        self.keys[k as usize].now = Now::Missing;
    }

    /// True when key `k` holds a value whose framework's own expiry is past at `now_ms` (on its
    /// node's clock; the framework's is the app's, taken as the same): the app takes a hit of it
    /// for a miss. Its live episode ends then, if it has not yet (the store still holds the
    /// value, so the key stays present).
    pub(super) fn app_expired(&mut self, k: u32, now_ms: i64) -> bool {
        let Now::Present { app_expires_ms: Some(e), .. } = self.keys[k as usize].now else {
            return false;
        };
        if e > now_ms {
            return false;
        }
        if self.keys[k as usize].is_live() {
            let source = self.keys[k as usize].source;
            let stamp = self.timeline.on_source_clock(source, e * 1000);
            let mark = Mark { seq: None, stamp, client: NO_CLIENT, what: "expired in the value" };
            self.end_live(k, End::Expiry, mark);
        }
        true
    }

    /// Key `k`'s state became unknown at `stamp` (event `seq`, if an event said so).
    pub(super) fn set_unknown(&mut self, k: u32, stamp: Stamp, seq: Option<u64>) {
        let mark = Mark { seq, stamp, client: NO_CLIENT, what: "unknown" };
        self.end_live(k, End::Unknown, mark);
        self.keys[k as usize].fill_from = Micros::MIN;
        self.keys[k as usize].now = Now::Unknown;
    }
}

/// When a value lapses: its Redis expiry or the framework's inside it, whichever comes first.
pub(super) fn lapse(expires_ms: Option<i64>, app_expires_ms: Option<i64>) -> Option<i64> {
    match (expires_ms, app_expires_ms) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A value's fingerprint: an unchanged value (same hash) whose TTL alone changed is one episode.
fn value_hash(v: &RValue) -> u64 {
    let mut h = FxHasher::default();
    match v {
        RValue::String(s) => {
            h.write_u8(1);
            h.write(s.as_bytes());
        }
        RValue::Hash(hash) => {
            h.write_u8(2);
            let mut pairs = hash.pairs();
            pairs.sort();
            for (f, v) in pairs {
                h.write(&f);
                h.write_u8(0xff);
                h.write(&v);
                h.write_u8(0xfe);
            }
        }
        other => {
            h.write_u8(3);
            h.write(format!("{other:?}").as_bytes());
        }
    }
    h.finish()
}
