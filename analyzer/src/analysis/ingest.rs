/*!
The judge takes observed events ([`Judge::push_all`]): each command's reads and writes of mapped
keys, row changes and commits (each row's versions), clock probes, snapshots, gaps and
evictions; every event moves the trace's clock, and what can no longer change is then judged
([`Judge::drain`]).
*/

use cachetape_base::prefetch;
use cachetape_tape::{Event, EventBody, Micros, SourceId};

use super::detail::Detail;
use super::observations::{Kind, NO_KEY, NewKey, Observations, Observed};
use super::options::AnalysisError;
use super::state::{Judge, KeyTrack, NO_SLOT, Now};
use crate::oracle::Cached;
use crate::timeline::Stamp;

impl Judge {
    /// Takes `events` with what the observer saw of them (`obs`, one record each), in trace
    /// order. Loads each key's track a few events before it is needed, and the events it reads
    /// (another core may have written them). Stops at the first error.
    pub(crate) fn push_all(
        &mut self,
        events: &[Event],
        obs: &Observations,
    ) -> Result<(), AnalysisError> {
        self.client_names.extend(obs.new_clients.iter().cloned());
        let (mut reads, mut writes, mut new_keys) = (0, 0, 0);
        for (i, o) in obs.records.iter().enumerate() {
            if let Some(ahead) = obs.records.get(i + 8)
                && ahead.kind != Kind::Command
            {
                prefetch(&events[i + 8]);
            }
            if let Some(ahead) = obs.records.get(i + 3)
                && let Some(kt) = self.keys.get(ahead.key as usize)
            {
                let at = kt as *const KeyTrack as *const u8;
                prefetch(at);
                prefetch(at.wrapping_add(64));
            }
            for new in &obs.new_keys[new_keys..o.new_keys_end as usize] {
                self.add_track(new, &obs.holes(new));
            }
            new_keys = o.new_keys_end as usize;
            self.note_event(o.recv_us);
            match o.kind {
                Kind::Command => {
                    let (r, w) = (reads..o.reads_end as usize, writes..o.writes_end as usize);
                    self.command(o, r, w, obs);
                }
                _ => self.other(&events[i], o)?,
            }
            reads = o.reads_end as usize;
            writes = o.writes_end as usize;
            self.drain(self.max_recv - self.options.reorder_slack_us);
        }
        Ok(())
    }

    /// The track of a key named for the first time; `holes` are its rule's placeholders'
    /// segments of it.
    fn add_track(&mut self, new: &NewKey, holes: &[&[u8]]) {
        let mut row_id = std::mem::take(&mut self.proj);
        self.mapping.rules[new.rule as usize].row_id_from_key(holes, &mut row_id);
        let subject = self.db.subject(new.rule, &row_id);
        self.proj = row_id;
        let name = new.name.as_bytes();
        let detail = (!self.options.detail_keys.is_empty()
            && self.options.detail_keys.iter().any(|d| *d == String::from_utf8_lossy(name)))
        .then(|| Box::new(Detail::default()));
        self.keys.push(KeyTrack {
            source: new.source,
            db: new.db,
            rule: new.rule,
            subject,
            live: NO_SLOT,
            live_value: Cached::Unknown,
            now: Now::Missing,
            fill_from: Micros::MIN,
            misses: Vec::new(),
            next_no: 0,
            reads: 0,
            hits: 0,
            detail,
            name: new.name.clone(),
        });
    }

    fn note_event(&mut self, recv_us: Micros) {
        self.events += 1;
        self.first_us.get_or_insert(recv_us);
        self.max_recv = self.max_recv.max(recv_us);
    }

    pub(super) fn note_time(&mut self, t: Micros) {
        self.last_t = self.last_t.max(t);
    }

    /// A Redis command: `reads` and `writes` are its ranges of `obs`' lists.
    #[inline]
    fn command(
        &mut self,
        o: &Observed,
        reads: std::ops::Range<usize>,
        writes: std::ops::Range<usize>,
        obs: &Observations,
    ) {
        self.redis_commands += 1;
        let stamp = self.timeline.redis(o.source, o.server_us, o.recv_us);
        self.note_time(stamp.t);
        let i = o.source.0 as usize;
        if self.last_server_us.len() <= i {
            self.last_server_us.resize(i + 1, Micros::MIN);
        }
        self.last_server_us[i] = o.server_us;
        let now_ms = o.server_us.div_euclid(1000);
        for r in &obs.reads[reads] {
            self.read(r, o.seq, stamp, now_ms, o.client, obs);
        }
        for w in &obs.writes[writes] {
            self.write(w, o.source, o.seq, o.client, stamp, now_ms);
        }
    }

    /// Any event but a Redis command.
    fn other(&mut self, event: &Event, o: &Observed) -> Result<(), AnalysisError> {
        match &event.body {
            EventBody::Redis(_) => {}
            EventBody::Row(change) => {
                self.db.row(event.source, change, &self.mapping, &mut self.values)?;
            }
            EventBody::Commit(commit) => {
                let stamp = self.timeline.commit(
                    event.source,
                    event.recv_us,
                    commit.header_secs,
                    commit.commit_us,
                );
                self.note_time(stamp.t);
                if stamp.lo <= self.judged_until {
                    self.late_commits += 1;
                }
                let mut newly = std::mem::take(&mut self.newly_known);
                self.db.commit(event.source, commit, event.seq, stamp, &mut newly);
                for &s in &newly {
                    self.row_became_known(s);
                }
                newly.clear();
                self.newly_known = newly;
            }
            EventBody::ClockProbe(p) => self.timeline.probe(event.source, p),
            EventBody::Snapshot(s) => {
                let server = self.last_server_us.get(event.source.0 as usize).copied();
                let server = server.filter(|&s| s != Micros::MIN).unwrap_or(event.recv_us);
                let stamp = self.timeline.redis(event.source, server, event.recv_us.max(server));
                if o.key != NO_KEY {
                    self.snapshot(o.key, event.source, event.seq, s, server, stamp);
                }
            }
            EventBody::Gap(g) => self.gap(event.source, g.from_us, g.to_us),
            EventBody::Keyspace(_) => {
                if o.kind == Kind::Evicted && o.key != NO_KEY {
                    self.set_unknown(o.key, Stamp::at(event.recv_us), Some(event.seq));
                }
            }
            // Measured before the analysis (`lag.rs`): the lag it bounds is in the options.
            EventBody::Heartbeat(_) => {}
        }
        Ok(())
    }

    /// A source was not observed from `from_us` to `to_us`: a Redis source's keys become
    /// unknown; the database's reads then are unverifiable.
    fn gap(&mut self, source: SourceId, from_us: Micros, to_us: Micros) {
        if self.timeline.is_redis(source) {
            let stamp = Stamp { t: from_us, lo: from_us, hi: to_us };
            for k in 0..self.keys.len() {
                if self.keys[k].source == source {
                    self.set_unknown(k as u32, stamp, None);
                }
            }
        } else {
            self.db_gaps.push((from_us, to_us));
        }
    }
}
