/*!
The report model: what an analysis found, as plain data for the CLI's formats (text, JSON, HTML)
to render. Everything is sorted (keys worst first, then by name; findings by key rank, then
sequence number); nothing depends on hash-map order or the wall clock.
*/

use cachetape_tape::Micros;

use crate::lag::DbLagSource;
use crate::oracle::{Cause, Verdict};
use crate::timeline::ClockSummary;

/// A whole analysis.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Trace-level figures.
    pub summary: Summary,
    /// Keys with stale reads or exposure, worst first.
    pub keys: Vec<KeyReport>,
    /// Every stale read, in key order (as `keys`), then by sequence number.
    pub findings: Vec<StaleRead>,
    /// Timelines of the keys asked for in detail (for the HTML page).
    pub timelines: Vec<KeyTimeline>,
}

impl Report {
    /// The verdict: `stale` when some read was stale (definitely or possibly), else
    /// `inconclusive` when the trace could not be judged well enough to call it clean
    /// ([`Summary::inconclusive`] says why), else `clean`.
    pub fn verdict(&self) -> TraceVerdict {
        if self.has_stale() {
            TraceVerdict::Stale
        } else if !self.summary.inconclusive.is_empty() {
            TraceVerdict::Inconclusive
        } else {
            TraceVerdict::Clean
        }
    }

    /// True when the verdict is `clean`: no read was stale, and enough of the trace was judged
    /// to say so. A trace that could not be judged is never clean.
    pub fn is_clean(&self) -> bool {
        self.verdict() == TraceVerdict::Clean
    }

    /// True when some read was stale (definitely or possibly), whatever the coverage.
    pub fn has_stale(&self) -> bool {
        self.summary.stale_definite > 0 || self.summary.stale_possible > 0
    }
}

/// What a whole analysis concludes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TraceVerdict {
    /// No read was stale, and enough hits were judged to say so.
    Clean,
    /// Some read was stale (its evidence stands whatever the coverage).
    Stale,
    /// No read was found stale, but too little of the trace could be judged to call it clean.
    Inconclusive,
}

impl TraceVerdict {
    /// `clean`, `stale` or `inconclusive`.
    pub fn name(self) -> &'static str {
        match self {
            TraceVerdict::Clean => "clean",
            TraceVerdict::Stale => "stale",
            TraceVerdict::Inconclusive => "inconclusive",
        }
    }
}

impl std::fmt::Display for TraceVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a hit is unverifiable when the database source was not observed at its time.
pub const DB_GAP: &str = "database not observed then (gap)";

/// True when `reason` (an unverifiable hit's) says the trace has no database evidence for the
/// read's row at its time — the row never changed in the trace, or the database source had a
/// gap. Such hits are a figure of their own ([`Summary::no_db_evidence`]) and do not count
/// against [`Summary::share_verifiable`]: their values were read and could be compared, the
/// trace just does not say what the database held.
pub fn is_no_db_evidence(reason: &str) -> bool {
    reason == crate::oracle::ROW_UNKNOWN || reason == DB_GAP
}

/// Trace-level figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Events read.
    pub events: u64,
    /// Redis commands replayed.
    pub redis_commands: u64,
    /// Row changes and commits seen.
    pub row_changes: u64,
    /// Commits seen.
    pub commits: u64,
    /// Time of the first and last event (µs since the epoch).
    pub first_us: Micros,
    /// Time of the last event.
    pub last_us: Micros,
    /// Where the mapping came from (`incident.toml`, `inferred from the trace`).
    pub mapping_origin: String,
    /// The rules, as `key → table (shape)`.
    pub rules: Vec<String>,
    /// Reads of mapped keys.
    pub reads: u64,
    /// Of which hits.
    pub hits: u64,
    /// Of which misses.
    pub misses: u64,
    /// Hits judged fresh.
    pub fresh: u64,
    /// Hits stale for every placement.
    pub stale_definite: u64,
    /// Hits stale for some placement.
    pub stale_possible: u64,
    /// Hits that could not be judged.
    pub unverifiable: u64,
    /// Unverifiable hits by reason, sorted by reason.
    pub unverifiable_by_reason: Vec<(String, u64)>,
    /// Of the unverifiable hits, those of rows the trace has no database evidence for (see
    /// [`is_no_db_evidence`]).
    pub no_db_evidence: u64,
    /// Of the unverifiable hits, those whose value could not be decoded or compared with the
    /// mapping, or whose cache state the replay could not know: `unverifiable` minus
    /// `no_db_evidence`. These count against [`Summary::share_verifiable`].
    pub uncomparable: u64,
    /// The least share of hits of mapped keys that must be decoded and compared for the trace
    /// to be called clean (`--min-verifiable`, 0.9 by default).
    pub min_verifiable: f64,
    /// Why the trace could not be judged well enough to be called clean (sentences); empty when
    /// it could. See [`Report::verdict`].
    pub inconclusive: Vec<String>,
    /// Key families written in the trace (SET and friends) that no rule matches, the most
    /// written first (at most [`FAMILIES_LISTED`]).
    pub unmapped_families: Vec<FamilyCount>,
    /// The unmapped families written beyond that list: how many families, and their writes
    /// together (families past the analysis' bound are counted in the writes only).
    pub unmapped_rest: (u64, u64),
    /// Rules some of whose written values could not be decoded or compared with the mapping,
    /// the most such values first (at most [`FAMILIES_LISTED`]).
    pub undecodable_families: Vec<UndecodableFamily>,
    /// Stale reads by cause, in [`Cause::ALL`] order.
    pub stale_by_cause: Vec<(Cause, u64)>,
    /// For each age limit: the share of verifiable hits at most that stale (fresh counts as 0).
    pub fresh_within: Vec<(Micros, f64)>,
    /// Keys with stale reads or exposure.
    pub keys_flagged: u64,
    /// Exposure intervals over all keys.
    pub exposure_intervals: u64,
    /// Their total length.
    pub exposure_total_us: Micros,
    /// The longest one: key and length.
    pub longest_exposure: Option<(String, Micros)>,
    /// Each source's clock.
    pub clocks: Vec<ClockSummary>,
    /// How long before its receipt a DB commit may have happened.
    pub db_lag_us: Micros,
    /// Where that bound comes from.
    pub db_lag_source: DbLagSource,
    /// Things the reader should know (unmodelled commands, gaps, late events).
    pub notes: Vec<String>,
}

impl Summary {
    /// Hits judged fresh or stale.
    pub fn judged(&self) -> u64 {
        self.fresh + self.stale_definite + self.stale_possible
    }

    /// The share of hits of mapped keys whose value could be decoded and compared with the
    /// mapping (hits of rows without database evidence count as compared): the figure
    /// `--min-verifiable` bounds. `None` when there were no hits — never "100%" of nothing.
    pub fn share_verifiable(&self) -> Option<f64> {
        (self.hits > 0)
            .then(|| (self.hits - self.uncomparable.min(self.hits)) as f64 / self.hits as f64)
    }

    /// The share of hits of mapped keys judged fresh or stale; `None` when there were no hits.
    pub fn share_judged(&self) -> Option<f64> {
        (self.hits > 0).then(|| self.judged().min(self.hits) as f64 / self.hits as f64)
    }
}

/// Families listed in the report at most (by kind); the rest are summed.
pub const FAMILIES_LISTED: usize = 10;

/// A key family written in the trace that no rule matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyCount {
    /// The family as `map --infer` groups keys: `session:{…}` (the last `:`-separated part
    /// replaced), or the key itself when it has no such part.
    pub family: String,
    /// Values written to its keys (SET and friends).
    pub writes: u64,
    /// The first key of it the trace wrote (lossy UTF-8, cut to 120 bytes).
    pub sample_key: String,
}

/// A rule some of whose written values could not be decoded or compared with the mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndecodableFamily {
    /// The rule's key pattern (`order:{id}`).
    pub family: String,
    /// Values written to its keys that could not be read.
    pub unreadable: u64,
    /// Values written to its keys in all.
    pub writes: u64,
    /// The first such key.
    pub sample_key: String,
    /// Why its value could not be read.
    pub reason: String,
    /// Its first bytes in hex and the closest guess at its format
    /// ([`crate::decode::describe_undecodable`]); empty for a hash.
    pub head: String,
}

/// One key that had stale reads or exposure.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyReport {
    /// The key (lossy UTF-8).
    pub key: String,
    /// Its Redis node.
    pub node: String,
    /// Its db index.
    pub db: u32,
    /// The rule that maps it (`order:{id} → shop.orders`).
    pub rule: String,
    /// Reads of it.
    pub reads: u64,
    /// Hits.
    pub hits: u64,
    /// Stale reads, definite.
    pub stale_definite: u64,
    /// Stale reads, possible.
    pub stale_possible: u64,
    /// Intervals in which the cache disagreed with the DB.
    pub exposure: Vec<ExposureReport>,
    /// Their total length.
    pub exposed_us: Micros,
}

/// One exposure interval, ready to print.
#[derive(Clone, Debug, PartialEq)]
pub struct ExposureReport {
    /// From (µs since the epoch).
    pub from_us: Micros,
    /// To.
    pub to_us: Micros,
    /// What the cache held.
    pub cached: String,
    /// `write` or `commit`.
    pub started_by: &'static str,
    /// The event that started it.
    pub start_seq: Option<u64>,
    /// `del`, `overwrite`, `expiry`, `end-of-trace`, `unknown`, `db-agreed`.
    pub ended_by: &'static str,
    /// The event that ended it, if one did.
    pub end_seq: Option<u64>,
    /// TTL left when the trace ended (`end-of-trace` only).
    pub ttl_left_us: Option<Micros>,
}

/// One link of a stale read's chain.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// `write`, `snapshot`, `superseded-by`, `invalidation`, `expiry`, `end-of-trace`.
    pub role: &'static str,
    /// The event, when it was one.
    pub seq: Option<u64>,
    /// When (µs since the epoch, best estimate).
    pub t_us: Micros,
    /// What happened, in words.
    pub what: String,
}

/// A stale read.
#[derive(Clone, Debug, PartialEq)]
pub struct StaleRead {
    /// The key.
    pub key: String,
    /// Its node.
    pub node: String,
    /// Its Redis db index.
    pub redis_db: u32,
    /// The client that read it.
    pub client: String,
    /// The read's sequence number.
    pub seq: u64,
    /// When (µs since the epoch, best estimate).
    pub t_us: Micros,
    /// ± this much.
    pub uncertainty_us: Micros,
    /// What the cache served (projected).
    pub served: String,
    /// What the DB held then (best estimate).
    pub db: String,
    /// Definite or possible.
    pub verdict: Verdict,
    /// Why.
    pub cause: Cause,
    /// Time since the served value was superseded (`None` when it matches no version).
    pub age_us: Option<Micros>,
    /// The events behind it.
    pub chain: Vec<Link>,
}

/// A flagged key's timeline, for the HTML page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyTimeline {
    /// The key.
    pub key: String,
    /// Lanes: the clients that touched the key, sorted; the DB lane comes after them.
    pub lanes: Vec<String>,
    /// Marks on the lanes, by time.
    pub marks: Vec<TimelineMark>,
    /// What the cache held over time: (from, to, value).
    pub cached: Vec<(Micros, Micros, String)>,
    /// What the DB held over time.
    pub db: Vec<(Micros, Micros, String)>,
    /// Windows in which the cache disagreed with the DB.
    pub stale: Vec<(Micros, Micros)>,
}

/// One event on a timeline lane.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineMark {
    /// When.
    pub t_us: Micros,
    /// Lane index (`lanes.len()` is the DB lane).
    pub lane: usize,
    /// `read`, `write`, `del`, `commit`.
    pub kind: &'static str,
    /// The event's sequence number.
    pub seq: Option<u64>,
    /// A read's verdict.
    pub verdict: Option<Verdict>,
    /// Text for the tooltip.
    pub label: String,
}
