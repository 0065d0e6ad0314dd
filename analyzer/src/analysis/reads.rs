/*!
Reads of mapped keys: a miss may show that the key's value expired; a hit reads the live
episode's value (or, for a field read, the fields the reply returned) and waits in the queue for
its verdict ([`Pending::Read`]). A hit the replay cannot explain (no live episode, an unknown
reply, a value the mapping cannot reconcile) is counted as unverifiable at once.

A hit of a value whose framework's own expiry is past (a Keyv `expires`, a .NET `absexp`) is
a miss for judging: the framework takes it for one (Keyv deletes the entry and the app reloads
it), so it is neither fresh nor stale ([`Judge::app_expired`]).
*/

use super::episodes::lapse;
use super::observations::{Observations, ObservedRead, ReadReply, WHOLE_VALUE};
use super::readlog::Said;
use super::state::{Judge, Now, Pending, ReadObs};
use crate::oracle::{CACHE_UNKNOWN, Cached};
use crate::timeline::Stamp;

impl Judge {
    /// Read `r` by event `seq` of client `client`, at `stamp` (`now_ms` on the node's clock).
    #[inline]
    pub(super) fn read(
        &mut self,
        r: &ObservedRead,
        seq: u64,
        stamp: Stamp,
        now_ms: i64,
        client: u32,
        obs: &Observations,
    ) {
        let k = r.key;
        self.reads += 1;
        self.keys[k as usize].reads += 1;
        let hit = match r.reply {
            ReadReply::Miss => false,
            ReadReply::Unknown => {
                self.hits += 1;
                self.keys[k as usize].hits += 1;
                self.count_unverifiable(CACHE_UNKNOWN);
                self.log_read(k, seq, stamp, client, Said::unverifiable(CACHE_UNKNOWN, None));
                return;
            }
            ReadReply::Hit | ReadReply::Error => true,
        };
        if !hit {
            self.misses += 1;
            self.keys[k as usize].missed(client, stamp.lo);
            if let Now::Present { expires_ms, app_expires_ms, .. } = self.keys[k as usize].now {
                match lapse(expires_ms, app_expires_ms) {
                    Some(e) if e <= now_ms => self.expire(k, e),
                    _ => self.keys[k as usize].now = Now::Missing,
                }
            }
            return;
        }
        if self.app_expired(k, now_ms) {
            self.misses += 1;
            self.keys[k as usize].missed(client, stamp.lo);
            return;
        }
        self.hits += 1;
        let kt = &mut self.keys[k as usize];
        kt.hits += 1;
        if !kt.is_live() {
            self.count_unverifiable(CACHE_UNKNOWN);
            self.log_read(k, seq, stamp, client, Said::unverifiable(CACHE_UNKNOWN, None));
            return;
        }
        let (slot, no, value) = (kt.live, kt.next_no - 1, kt.live_value);
        let subject = kt.subject;
        // The served value: the live episode's, or (a field read) the fields it returned.
        let served = if r.fields == WHOLE_VALUE {
            value
        } else {
            match obs.field_read(r.fields) {
                Ok(tuple) => Cached::Value(self.values.intern(tuple)),
                Err(why) => Cached::Unreconciled(why),
            }
        };
        match served {
            Cached::Value(v) => {
                let read = ReadObs { seq, stamp, client, served: v, slot, no };
                self.pending.push_back(Pending::Read { key: k, subject, read });
            }
            Cached::Unreconciled(why) => {
                self.count_unverifiable(why);
                self.log_read(k, seq, stamp, client, Said::unverifiable(why, None));
            }
            Cached::Unknown => {
                self.count_unverifiable(CACHE_UNKNOWN);
                self.log_read(k, seq, stamp, client, Said::unverifiable(CACHE_UNKNOWN, None));
            }
        }
    }
}

#[cfg(test)]
#[path = "app_expiry_tests.rs"]
mod tests;
