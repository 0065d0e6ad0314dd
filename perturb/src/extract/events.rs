/*!
Each event of the trace → units, in trace order.

One unit per Redis command touching a mapped key (a client's MULTI…EXEC block and an
EVAL/EVALSHA/FCALL with its `[lua]` lines are one unit each), one per Commit that changed a
mapped row's projection (with its transaction's row changes), one per Snapshot of a mapped key
(a `Set` on the node's probe lane, expiring at the earlier of its TTL and the framework's
expiry inside the value), and one per mapped key a Redis gap or an eviction made
unknown (also on the probe lane). A unit's time is its first executed command's (a MULTI
block's first queued command: MONITOR shows queued commands at EXEC time). A commit unit's
`seq` is its Commit event's (as the analyzer's chains name commits); its row changes are listed
in its [`UnitInfo::events`](super::UnitInfo::events).
*/

use std::collections::HashSet;

use cachetape_replayer::Command;
use cachetape_tape::{
    Commit, Event, Gap, KeyspaceNotice, Micros, Name, RedisCommand, RowChange, Snapshot, SourceId,
    StoredValue,
};

use super::ops::{Effects, lapse};
use super::unit::{Block, GOp, GVal, RawUnit};
use super::{ExtractError, Extractor};
use crate::model::{Lane, Us};

impl Extractor {
    /// A Redis command: a unit of its own, or part of its client's open MULTI block.
    pub(super) fn redis_command(&mut self, event: &Event, rc: &RedisCommand) {
        let source = event.source;
        let t = self.timeline.redis(source, rc.server_us, event.recv_us).t;
        self.last_server_us[source.0 as usize] = rc.server_us;
        let Some(step) = self.replayer.apply(event) else { return };
        let lane = self.client(source, &rc.client);
        let block = (source.0, rc.client.clone());
        let in_block = self.blocks.contains_key(&block);
        if step.command == Command::Multi && !in_block {
            let events = vec![event.seq];
            let opened = Block {
                events,
                ops: Vec::new(),
                whats: Vec::new(),
                approximate: false,
                anchor: None,
            };
            self.blocks.insert(block, opened);
            return;
        }
        let tell = in_block || step.command.is_script() || step.command == Command::Unknown;
        let effects = self.command_ops(event, rc, &step, tell);
        if in_block {
            self.block_command(block, event.seq, t, lane, step.command, effects);
        } else if !effects.ops.is_empty() {
            self.command_unit(event.seq, t, lane, step.command, effects);
        }
    }

    /// A command inside a MULTI block: queued, or, at EXEC or DISCARD, the block's unit.
    fn block_command(
        &mut self,
        key: (u16, Name),
        seq: u64,
        t: Us,
        lane: Lane,
        command: Command,
        effects: Effects,
    ) {
        let block = self.blocks.get_mut(&key).expect("the block is open");
        block.events.push(seq);
        let ends = matches!(command, Command::Exec | Command::Discard);
        if !ends && block.anchor.is_none() {
            block.anchor = Some((seq, t));
        }
        block.ops.extend(effects.ops);
        block.whats.extend(effects.whats);
        block.approximate |= effects.approximate;
        if !ends {
            return;
        }
        let block = self.blocks.remove(&key).expect("the block is open");
        if block.ops.is_empty() {
            return;
        }
        let (anchor, t0) = block.anchor.unwrap_or((seq, t));
        let what = format!("MULTI/EXEC ({})", block.whats.join("; "));
        self.unit(RawUnit {
            seq: block.events[0],
            anchor,
            events: block.events,
            approximate: block.approximate,
            ..RawUnit::single(seq, t0, lane, block.ops, what)
        });
    }

    /// A command outside a block that touched a mapped key: its unit. A script's and an unknown
    /// command's text is told now (from their calls and argv); a known command's when needed.
    fn command_unit(&mut self, seq: u64, t: Us, lane: Lane, command: Command, effects: Effects) {
        let (what, command) = if command.is_script() {
            (format!("{} ({})", command.upper_name_str(), effects.whats.join("; ")), None)
        } else if command == Command::Unknown {
            (effects.whats.join("; "), None)
        } else {
            (String::new(), Some(command))
        };
        self.unit(RawUnit {
            command,
            approximate: effects.approximate,
            ..RawUnit::single(seq, t, lane, effects.ops, what)
        });
    }

    /// A row change: held with its transaction until the Commit.
    pub(super) fn row_change(
        &mut self,
        source: SourceId,
        seq: u64,
        change: &RowChange,
    ) -> Result<(), ExtractError> {
        self.db.row(source, change, &self.mapping, &mut self.values)?;
        let entry = self.txns.entry((source.0, change.txn)).or_default();
        entry.0.push(seq);
        for (i, rule) in self.mapping.rules.iter().enumerate() {
            if rule.table != *change.table {
                continue;
            }
            for image in [change.before.as_ref(), change.after.as_ref()].into_iter().flatten() {
                if rule.row_id_from_image(image, &mut self.holes) {
                    let s = self.db.subject(i as u16, &self.holes);
                    if !entry.1.contains(&s) {
                        entry.1.push(s);
                    }
                }
            }
        }
        Ok(())
    }

    /// A Commit: a unit on the database's lane when it changed a mapped row's projection.
    pub(super) fn commit(&mut self, event: &Event, commit: &Commit) {
        let source = event.source;
        let si = source.0 as usize;
        let stamp =
            self.timeline.commit(source, event.recv_us, commit.header_secs, commit.commit_us);
        self.binlog_pos[si] += 1;
        let pos = self.binlog_pos[si];
        let mut newly = Vec::new();
        self.db.commit(source, commit, event.seq, stamp, &mut newly);
        let Some((mut rows, mut subjects)) = self.txns.remove(&(source.0, commit.txn)) else {
            return;
        };
        subjects.sort_unstable();
        let mut ops = Vec::new();
        let mut changed = Vec::new();
        for s in subjects {
            let v = &self.db.subjects[s.0 as usize].versions;
            let Some(last) = v.changes.last().filter(|c| c.seq == event.seq) else { continue };
            ops.push(GOp::Commit { subject: s, value: last.value });
            changed.push(s);
        }
        if ops.is_empty() {
            return;
        }
        rows.push(event.seq);
        let lane = Lane::Db(u32::from(source.0));
        // The Commit's own seq, as the analyzer's chains name commits; its text is told at the
        // end, when the rows have their keys' names.
        let u = self.unit(RawUnit {
            events: rows,
            binlog: Some((source.0, pos)),
            ..RawUnit::single(event.seq, stamp.t, lane, ops, String::new())
        });
        self.commit_units.insert(event.seq, u);
        self.late_value_sources(u, stamp.t, &changed);
    }

    /// A snapshot of a mapped key: what it holds, on the node's probe lane.
    pub(super) fn snapshot(&mut self, event: &Event, s: &Snapshot) {
        let source = event.source;
        let server = self.last_server_us[source.0 as usize];
        let server = if server == Micros::MIN { event.recv_us } else { server };
        let t = self.timeline.redis(source, server, event.recv_us.max(server)).t;
        let Some(k) = self.key(source, s.db, &s.key) else { return };
        let op = match &s.value {
            StoredValue::Missing => {
                self.keys[k as usize].last = (GVal::Absent, None);
                GOp::Del { key: k }
            }
            value => {
                let now_ms = server.div_euclid(1000);
                let (value, app_ms) = self.snapshot_value(k, value);
                let expires_ms = lapse((s.pttl_ms >= 0).then(|| now_ms + s.pttl_ms), app_ms);
                self.keys[k as usize].last = (value, expires_ms);
                let expires_at = expires_ms.map(|e| self.virtual_us(source, e));
                GOp::Set { key: k, value, expires_at }
            }
        };
        let what = format!("snapshot of {}", self.key_name(k));
        self.probe_unit(event.seq, t, source, op, what);
    }

    /// What a snapshot's value of key `k` projects to, and the framework's expiry inside it.
    fn snapshot_value(&mut self, k: u32, value: &StoredValue) -> (GVal, Option<i64>) {
        let rule = &self.mapping.rules[self.keys[k as usize].rule as usize];
        let r = match value {
            StoredValue::String(b) => rule.project_string(b, &mut self.proj),
            StoredValue::Hash(pairs) => rule.project_hash(
                |f| pairs.iter().find(|(x, _)| x == f).map(|(_, v)| &v[..]),
                &mut self.proj,
            ),
            _ => Err("the cached value is a list, set or sorted set"),
        };
        match r {
            Ok(p) => (GVal::Known(self.values.intern(&self.proj)), p.expires_ms),
            Err(_) => (GVal::Unreconciled, None),
        }
    }

    /// A gap: on a Redis source, every mapped key of it becomes unknown (a unit each); on a
    /// database, counted for the notes.
    pub(super) fn gap(&mut self, event: &Event, g: &Gap) {
        let source = event.source;
        let si = source.0 as usize;
        if !self.redis_sources.get(si).copied().unwrap_or(false) {
            self.db_gaps += 1;
            return;
        }
        self.gap_before[si] = true;
        let t = g.from_us;
        for k in 0..self.keys.len() as u32 {
            if self.keys[k as usize].source == source {
                self.keys[k as usize].last = (GVal::Unknown, None);
                let op = GOp::Set { key: k, value: GVal::Unknown, expires_at: None };
                let what = format!("gap in {} ({})", self.source_names[si], g.reason);
                self.probe_unit(event.seq, t, source, op, what);
            }
        }
    }

    /// A keyspace notice: an evicted mapped key becomes unknown.
    pub(super) fn keyspace(&mut self, event: &Event, n: &KeyspaceNotice) {
        if &*n.event == "evicted"
            && let Some(k) = self.key(event.source, n.db, &n.key)
        {
            self.keys[k as usize].last = (GVal::Unknown, None);
            let op = GOp::Set { key: k, value: GVal::Unknown, expires_at: None };
            let what = format!("eviction of {}", self.key_name(k));
            self.probe_unit(event.seq, event.recv_us, event.source, op, what);
        }
    }

    /// A unit of one op on `source`'s probe lane.
    fn probe_unit(&mut self, seq: u64, t: Us, source: SourceId, op: GOp, what: String) {
        self.unit(RawUnit::single(seq, t, Lane::Probe(u32::from(source.0)), vec![op], what));
    }

    /// Adds a unit: ties its keys and rows together and finds the commits its writes' values
    /// come from.
    fn unit(&mut self, mut unit: RawUnit) -> u32 {
        let id = self.units.len() as u32;
        let mut first = None;
        for &op in &unit.ops {
            let node = self.op_node(op);
            match first {
                None => first = Some(node),
                Some(f) => self.nodes.union(f, node),
            }
            self.value_source(id, unit.t, op, &mut unit.after);
        }
        // Each commit once, in first-seen order (one set, not a scan per op: an MSET of 50,000
        // values each from its own commit).
        if unit.after.len() > 1 {
            let mut seen = HashSet::with_capacity(unit.after.len());
            unit.after.retain(|&c| seen.insert(c));
        }
        if let Lane::Client(_) = unit.lane {
            unit.caus = self.lane_causality(unit.lane, &unit.after);
        }
        self.units.push(unit);
        id
    }
}
