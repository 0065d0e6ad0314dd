/*!
Writing a frame: [`FrameEncoder`] appends events one at a time as postcard bytes, interning the
frame's repeated strings and storing sequence numbers and times as deltas, and
[`FrameEncoder::finish`] puts the frame's head (first sequence number, base time, string table,
event count) in front of them.
*/

use std::collections::HashMap;

use super::convert::{wire_op, wire_stored, wire_value};
use super::schema::{
    ArgsTail, RawBytes, WireBodyOut, WireCellOut, WireCommit, WireEventOut, WireRowOut,
    WireScriptOut, WireSnapshot,
};
use crate::event::*;
use crate::value::RowImage;

/// Builds one frame's raw (uncompressed) bytes event by event.
#[derive(Default)]
pub(crate) struct FrameEncoder {
    strings: Vec<Vec<u8>>,
    index: HashMap<Vec<u8>, u32>,
    events: Vec<u8>,
    count: u32,
    first_seq: u64,
    base_us: i64,
    prev_seq: u64,
    prev_us: i64,
    strings_len: usize,
}

/// A finished frame, before compression.
pub(crate) struct RawFrame {
    /// `postcard(WireFrame)`.
    pub raw: Vec<u8>,
    /// Events in it.
    pub events: u32,
    /// Receive time of its first event.
    pub first_us: Micros,
    /// Receive time of its last event.
    pub last_us: Micros,
}

impl FrameEncoder {
    /// True when no event is in the frame yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Approximate raw size so far.
    pub fn raw_len(&self) -> usize {
        self.events.len() + self.strings_len
    }

    /// Events in the frame so far.
    pub fn event_count(&self) -> u32 {
        self.count
    }

    /// The index of `s` in the frame's string table, added on first use.
    fn intern(&mut self, s: &[u8]) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_vec());
        self.index.insert(s.to_vec(), i);
        self.strings_len += s.len() + 2;
        i
    }

    /// Appends one event; `seq` must be greater than the previous event's.
    pub fn push(&mut self, e: &Event) {
        if self.count == 0 {
            self.first_seq = e.seq;
            self.base_us = e.recv_us;
            self.prev_seq = e.seq.wrapping_sub(1);
            self.prev_us = e.recv_us;
        }
        let body = self.wire_body(e);
        let wire = WireEventOut {
            seq_gap: e.seq.wrapping_sub(self.prev_seq).wrapping_sub(1),
            source: e.source.0,
            recv_delta: e.recv_us.wrapping_sub(self.prev_us),
            body,
        };
        self.events =
            postcard::to_extend(&wire, std::mem::take(&mut self.events)).expect("Vec never fails");
        self.prev_seq = e.seq;
        self.prev_us = e.recv_us;
        self.count += 1;
    }

    fn wire_body<'e>(&mut self, e: &'e Event) -> WireBodyOut<'e> {
        let recv = e.recv_us;
        match &e.body {
            EventBody::Redis(c) => WireBodyOut::Redis {
                db: c.db,
                client: self.intern(c.client.as_bytes()),
                server_delta: c.server_us.wrapping_sub(recv),
                name: self.intern(c.argv.name()),
                args: ArgsTail(&c.argv),
                script: c
                    .script
                    .iter()
                    .map(|s| WireScriptOut {
                        db: s.db,
                        server_delta: s.server_us.wrapping_sub(c.server_us),
                        name: self.intern(s.argv.name()),
                        args: ArgsTail(&s.argv),
                    })
                    .collect(),
            },
            EventBody::Row(r) => WireBodyOut::Row(WireRowOut {
                table: self.intern(r.table.as_bytes()),
                op: wire_op(r.op),
                txn: r.txn,
                header_secs: r.header_secs,
                before: r.before.as_ref().map(|img| self.wire_cells(img)),
                after: r.after.as_ref().map(|img| self.wire_cells(img)),
            }),
            EventBody::Commit(c) => WireBodyOut::Commit(WireCommit {
                txn: c.txn,
                header_secs: c.header_secs,
                commit_delta: c.commit_us.map(|t| t.wrapping_sub(recv)),
                gtid: c.gtid.as_deref(),
                xid: c.xid,
            }),
            EventBody::ClockProbe(p) => WireBodyOut::ClockProbe {
                send_delta: p.local_send_us.wrapping_sub(recv),
                remote_delta: p.remote_us.wrapping_sub(recv),
                recv_delta: p.local_recv_us.wrapping_sub(recv),
            },
            EventBody::Snapshot(s) => WireBodyOut::Snapshot(WireSnapshot {
                db: s.db,
                key: RawBytes(&s.key),
                value: wire_stored(&s.value),
                pttl_ms: s.pttl_ms,
            }),
            EventBody::Gap(g) => WireBodyOut::Gap {
                from_delta: g.from_us.wrapping_sub(recv),
                to_delta: g.to_us.wrapping_sub(recv),
                reason: &g.reason,
            },
            EventBody::Keyspace(k) => WireBodyOut::Keyspace {
                db: k.db,
                key: RawBytes(&k.key),
                event: self.intern(k.event.as_bytes()),
            },
            EventBody::Heartbeat(h) => WireBodyOut::Heartbeat {
                table: self.intern(h.table.as_bytes()),
                sent_delta: h.sent_us.wrapping_sub(recv),
            },
        }
    }

    fn wire_cells<'e>(&mut self, img: &'e RowImage) -> Vec<WireCellOut<'e>> {
        img.cells
            .iter()
            .map(|c| WireCellOut {
                column: self.intern(c.column.as_bytes()),
                value: wire_value(&c.value),
            })
            .collect()
    }

    /// Finishes the frame: `postcard(WireFrame)`, and resets the encoder.
    pub fn finish(&mut self) -> RawFrame {
        let mut raw = Vec::with_capacity(self.raw_len() + 32);
        raw = postcard::to_extend(&self.first_seq, raw).expect("Vec never fails");
        raw = postcard::to_extend(&self.base_us, raw).expect("Vec never fails");
        let strings: Vec<RawBytes<'_>> = self.strings.iter().map(|s| RawBytes(s)).collect();
        raw = postcard::to_extend(&strings, raw).expect("Vec never fails");
        raw = postcard::to_extend(&(self.count as usize), raw).expect("Vec never fails");
        raw.extend_from_slice(&self.events);
        let frame =
            RawFrame { raw, events: self.count, first_us: self.base_us, last_us: self.prev_us };
        self.strings.clear();
        self.index.clear();
        self.events.clear();
        self.strings_len = 0;
        self.count = 0;
        frame
    }
}
