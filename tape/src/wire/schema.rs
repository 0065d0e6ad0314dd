/*!
A frame's postcard schema: the structs postcard writes and reads field by field, in declaration
order. The encoding side borrows from events (`…Out`), the decoding side from the frame's raw
bytes (`…In`); kinds that look the same both ways share one struct. Field and variant order are
the wire format: the encoding and decoding twins must match exactly (`frames_round_trip` checks
every kind).

```text
WireFrame = { first_seq: u64, base_us: i64, strings: Vec<bytes>, events: Vec<WireEvent> }
WireEvent = { seq_gap: u64, source: u16, recv_delta: i64, body: WireBody }
```
*/

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::argv::Argv;

/// Borrowed bytes that serialize as serde bytes (postcard: varint length + bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct RawBytes<'a>(pub &'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawBytes<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawBytes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("borrowed bytes")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
                Ok(RawBytes(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(RawBytes(v.as_bytes()))
            }
        }
        d.deserialize_bytes(V)
    }
}

impl fmt::Debug for RawBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.0))
    }
}

/// Arguments 1.. of an argv, serialized as a sequence of bytes without copying.
pub(super) struct ArgsTail<'a>(pub &'a Argv);

impl Serialize for ArgsTail<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = self.0.len().saturating_sub(1);
        let mut seq = s.serialize_seq(Some(n))?;
        for arg in self.0.iter().skip(1) {
            seq.serialize_element(&RawBytes(arg))?;
        }
        seq.end()
    }
}

/// A row change (decoding side; the encoder writes the same fields as [`WireRowOut`]).
#[derive(Debug, Deserialize, Serialize)]
pub(super) struct WireRow<'a> {
    pub table: u32,
    /// 0 insert, 1 update, 2 delete.
    pub op: u8,
    pub txn: u64,
    pub header_secs: u32,
    #[serde(borrow)]
    pub before: Option<Vec<WireCell<'a>>>,
    #[serde(borrow)]
    pub after: Option<Vec<WireCell<'a>>>,
}

/// One column of a row image: the column's interned name and its value.
#[derive(Debug, Deserialize, Serialize)]
pub(super) struct WireCell<'a> {
    pub column: u32,
    #[serde(borrow)]
    pub value: WireValue<'a>,
}

/// A SQL value as written (`DateTime` as year, month, day, hour, minute, second, µs).
#[derive(Debug, Deserialize, Serialize)]
pub(super) enum WireValue<'a> {
    Null,
    Int(i64),
    UInt(u64),
    Float(f32),
    Double(f64),
    Decimal(&'a str),
    Bytes(#[serde(borrow)] RawBytes<'a>),
    DateTime(u16, u8, u8, u8, u8, u8, u32),
    Timestamp(i64),
    Time(i64),
    Json(&'a str),
}

/// A commit, both ways.
#[derive(Debug, Deserialize, Serialize)]
pub(super) struct WireCommit<'a> {
    pub txn: u64,
    pub header_secs: u32,
    /// `commit_us - recv_us`.
    pub commit_delta: Option<i64>,
    pub gtid: Option<&'a str>,
    pub xid: Option<u64>,
}

/// A snapshot of one key, both ways.
#[derive(Debug, Deserialize, Serialize)]
pub(super) struct WireSnapshot<'a> {
    pub db: u32,
    #[serde(borrow)]
    pub key: RawBytes<'a>,
    #[serde(borrow)]
    pub value: WireStored<'a>,
    pub pttl_ms: i64,
}

/// A snapshot's Redis value, both ways.
#[derive(Debug, Deserialize, Serialize)]
pub(super) enum WireStored<'a> {
    Missing,
    String(#[serde(borrow)] RawBytes<'a>),
    Hash(#[serde(borrow)] Vec<(RawBytes<'a>, RawBytes<'a>)>),
    List(#[serde(borrow)] Vec<RawBytes<'a>>),
    Set(#[serde(borrow)] Vec<RawBytes<'a>>),
    SortedSet(#[serde(borrow)] Vec<(RawBytes<'a>, f64)>),
    Other(&'a str),
}

// Encoding side: borrows from the events being written, no copies.

/// One event: its sequence number as the gap after the previous one's, its receive time as a
/// delta from the previous event's.
#[derive(Serialize)]
pub(super) struct WireEventOut<'a> {
    pub seq_gap: u64,
    pub source: u16,
    pub recv_delta: i64,
    pub body: WireBodyOut<'a>,
}

/// An event's body; its variant index is the event's kind (0 is a Redis command). Source times
/// are deltas from the receive time, strings indices into the frame's string table.
#[derive(Serialize)]
pub(super) enum WireBodyOut<'a> {
    Redis {
        db: u32,
        client: u32,
        server_delta: i64,
        name: u32,
        args: ArgsTail<'a>,
        script: Vec<WireScriptOut<'a>>,
    },
    Row(WireRowOut<'a>),
    Commit(WireCommit<'a>),
    ClockProbe {
        send_delta: i64,
        remote_delta: i64,
        recv_delta: i64,
    },
    Snapshot(WireSnapshot<'a>),
    Gap {
        from_delta: i64,
        to_delta: i64,
        reason: &'a str,
    },
    Keyspace {
        db: u32,
        key: RawBytes<'a>,
        event: u32,
    },
    Heartbeat {
        table: u32,
        sent_delta: i64,
    },
}

/// One `[lua]` call of a script; its time is a delta from the script's command.
#[derive(Serialize)]
pub(super) struct WireScriptOut<'a> {
    pub db: u32,
    pub server_delta: i64,
    pub name: u32,
    pub args: ArgsTail<'a>,
}

/// The encoding twin of [`WireRow`].
#[derive(Serialize)]
pub(super) struct WireRowOut<'a> {
    pub table: u32,
    pub op: u8,
    pub txn: u64,
    pub header_secs: u32,
    pub before: Option<Vec<WireCellOut<'a>>>,
    pub after: Option<Vec<WireCellOut<'a>>>,
}

/// The encoding twin of [`WireCell`].
#[derive(Serialize)]
pub(super) struct WireCellOut<'a> {
    pub column: u32,
    pub value: WireValue<'a>,
}

// Decoding side: borrows from the frame's raw bytes.

/// The fields of a frame before its events (`WireFrame` minus the event list's elements).
#[derive(Deserialize)]
pub(super) struct WireFrameHead<'a> {
    pub first_seq: u64,
    pub base_us: i64,
    #[serde(borrow)]
    pub strings: Vec<RawBytes<'a>>,
    pub events: usize,
}

/// Arguments as the serde path decodes them (inline, no allocation for up to five).
pub(super) type Args<'a> = SmallVec<[RawBytes<'a>; 5]>;

/// The decoding twin of [`WireBodyOut`]: every kind but Redis commands is read through it
/// (Redis commands are read by hand, `FrameCursor::decode_redis`; a test holds both to the same
/// result).
#[derive(Deserialize)]
pub(super) enum WireBodyIn<'a> {
    Redis {
        db: u32,
        client: u32,
        server_delta: i64,
        name: u32,
        #[serde(borrow)]
        args: Args<'a>,
        #[serde(borrow)]
        script: Vec<WireScriptIn<'a>>,
    },
    Row(#[serde(borrow)] WireRow<'a>),
    Commit(#[serde(borrow)] WireCommit<'a>),
    ClockProbe {
        send_delta: i64,
        remote_delta: i64,
        recv_delta: i64,
    },
    Snapshot(#[serde(borrow)] WireSnapshot<'a>),
    Gap {
        from_delta: i64,
        to_delta: i64,
        #[serde(borrow)]
        reason: &'a str,
    },
    Keyspace {
        db: u32,
        #[serde(borrow)]
        key: RawBytes<'a>,
        event: u32,
    },
    Heartbeat {
        table: u32,
        sent_delta: i64,
    },
}

/// The decoding twin of [`WireScriptOut`].
#[derive(Deserialize)]
pub(super) struct WireScriptIn<'a> {
    pub db: u32,
    pub server_delta: i64,
    pub name: u32,
    #[serde(borrow)]
    pub args: Args<'a>,
}
