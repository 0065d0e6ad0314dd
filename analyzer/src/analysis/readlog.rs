/*!
The log of every judged read ([`ReadLog`]), kept when [`AnalysisOptions::log_reads`] asks for it
(`analyze --reads FILE`), so that each verdict can be checked against an application's own log.

Every hit of a mapped key gets one record, whatever its verdict: fresh, stale (definite or
possible, with the cause known once its episode has ended), or unverifiable (with the reason).
Misses are not judged and are not logged; nor is a hit the framework takes for a miss (its own
expiry inside the value is past).

While the analysis runs a record is small and holds ids only (key, client, interned values):
about 100 bytes per hit. The values are rendered for people one record at a time when the log is
read ([`ReadLog::iter`]), in sequence-number order (then by key), so the log's order depends on
nothing but the trace.

[`AnalysisOptions::log_reads`]: super::AnalysisOptions::log_reads
*/

use cachetape_tape::{Micros, Name};

use super::state::{Judge, ReadObs};
use crate::dbstate::RowValue;
use crate::mapping::{Mapping, ValueId, ValueTable};
use crate::oracle::{Cause, Verdict};
use crate::timeline::Stamp;

/// One judged read, as ids (rendered by [`ReadLog::iter`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct Logged {
    seq: u64,
    stamp: Stamp,
    key: u32,
    client: u32,
    verdict: Verdict,
    cause: Option<Cause>,
    age_us: Option<Micros>,
    served: Option<ValueId>,
    db: Option<RowValue>,
    reason: Option<&'static str>,
}

/// What a verdict said of one read, beyond its identity: the record's tail.
#[derive(Clone, Copy, Debug)]
pub(super) struct Said {
    /// The verdict.
    pub verdict: Verdict,
    /// A stale read's cause.
    pub cause: Option<Cause>,
    /// A stale read's age.
    pub age_us: Option<Micros>,
    /// The served value, when it could be projected.
    pub served: Option<ValueId>,
    /// What the database held then (best estimate), when the row's history is known.
    pub db: Option<RowValue>,
    /// Why an unverifiable read could not be judged.
    pub reason: Option<&'static str>,
}

impl Logged {
    /// The record of `said` about a read of key `key` by event `seq` of `client` at `stamp`.
    pub(super) fn new(key: u32, seq: u64, stamp: Stamp, client: u32, said: Said) -> Logged {
        Logged {
            seq,
            stamp,
            key,
            client,
            verdict: said.verdict,
            cause: said.cause,
            age_us: said.age_us,
            served: said.served,
            db: said.db,
            reason: said.reason,
        }
    }
}

impl Said {
    /// An unverifiable read, for `reason`, whose served value is `served` (if projected).
    pub(super) fn unverifiable(reason: &'static str, served: Option<ValueId>) -> Said {
        Said {
            verdict: Verdict::Unverifiable,
            cause: None,
            age_us: None,
            served,
            db: None,
            reason: Some(reason),
        }
    }
}

impl Judge {
    /// Logs the verdict on a read of key `key` by event `seq` of `client` at `stamp`, when the
    /// options keep a read log.
    #[inline]
    pub(super) fn log_read(&mut self, key: u32, seq: u64, stamp: Stamp, client: u32, said: Said) {
        if let Some(log) = self.read_log.as_mut() {
            log.push(Logged::new(key, seq, stamp, client, said));
        }
    }

    /// [`Judge::log_read`] for a pending read.
    #[inline]
    pub(super) fn log_obs(&mut self, key: u32, read: &ReadObs, said: Said) {
        self.log_read(key, read.seq, read.stamp, read.client, said);
    }

    /// The read log, once the report is built (it takes the judge's interned values).
    pub(super) fn take_read_log(&mut self) -> ReadLog {
        let mut records = self.read_log.take().unwrap_or_default();
        let keys: Vec<LogKey> = self
            .keys
            .iter()
            .map(|k| LogKey {
                name: String::from_utf8_lossy(k.name.as_bytes()).into_owned(),
                node: self.timeline.name(k.source).to_string(),
                redis_db: k.db,
                rule: k.rule,
            })
            .collect();
        records.sort_by(|a, b| {
            a.seq
                .cmp(&b.seq)
                .then_with(|| keys[a.key as usize].name.cmp(&keys[b.key as usize].name))
        });
        ReadLog {
            records,
            keys,
            clients: self.client_names.clone(),
            values: std::mem::take(&mut self.values),
            mapping: self.mapping.clone(),
        }
    }
}

/// A logged key's identity.
#[derive(Debug)]
struct LogKey {
    name: String,
    node: String,
    redis_db: u32,
    rule: u16,
}

/// Every judged read of an analysis, in sequence-number order (then by key); empty unless
/// [`AnalysisOptions::log_reads`](super::AnalysisOptions::log_reads) was set.
#[derive(Default)]
pub struct ReadLog {
    records: Vec<Logged>,
    keys: Vec<LogKey>,
    clients: Vec<Name>,
    values: ValueTable,
    mapping: Mapping,
}

impl std::fmt::Debug for ReadLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadLog").field("reads", &self.records.len()).finish()
    }
}

/// One judged read, for people and tools (`analyze --reads`).
#[derive(Clone, Debug, PartialEq)]
pub struct JudgedRead<'a> {
    /// The read's event.
    pub seq: u64,
    /// The key read (lossy UTF-8).
    pub key: &'a str,
    /// Its Redis node.
    pub node: &'a str,
    /// Its Redis db index.
    pub redis_db: u32,
    /// The client that read it (`ip:port`), `?` when the trace did not name one.
    pub client: &'a str,
    /// When (µs since the epoch, best estimate on the recorder's clock).
    pub t_us: Micros,
    /// ± this much.
    pub uncertainty_us: Micros,
    /// The verdict.
    pub verdict: Verdict,
    /// A stale read's cause.
    pub cause: Option<Cause>,
    /// A stale read's age: time since the served value was superseded (`None` when it matches no
    /// version).
    pub age_us: Option<Micros>,
    /// What the cache served, projected onto the rule's columns (`None` when it could not be).
    pub served: Option<String>,
    /// What the database held then, best estimate (`(no row)` when there was none; `None` when
    /// the row's history is unknown).
    pub db: Option<String>,
    /// Why an unverifiable read could not be judged.
    pub reason: Option<&'static str>,
}

impl ReadLog {
    /// How many reads it holds.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The reads, in sequence-number order (then by key), rendered one at a time.
    pub fn iter(&self) -> impl Iterator<Item = JudgedRead<'_>> + '_ {
        self.records.iter().map(|r| {
            let k = &self.keys[r.key as usize];
            let rule = &self.mapping.rules[k.rule as usize];
            JudgedRead {
                seq: r.seq,
                key: &k.name,
                node: &k.node,
                redis_db: k.redis_db,
                client: self.clients.get(r.client as usize).map_or("?", |c| c),
                t_us: r.stamp.t,
                uncertainty_us: r.stamp.uncertainty(),
                verdict: r.verdict,
                cause: r.cause,
                age_us: r.age_us,
                served: r.served.map(|v| self.values.display(v, rule)),
                db: match r.db {
                    Some(RowValue::Known(v)) => Some(self.values.display(v, rule)),
                    Some(RowValue::Absent) => Some("(no row)".to_string()),
                    Some(RowValue::Unknown) | None => None,
                },
                reason: r.reason,
            }
        })
    }
}
