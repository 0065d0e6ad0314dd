/*!
The report model: what an analysis found, as plain data for the CLI's formats (text, JSON, HTML)
to render. Everything is sorted (keys worst first, then by name; findings by key rank, then
sequence number); nothing depends on hash-map order or the wall clock.
*/

use cachetape_tape::Micros;

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
    /// True when no read was stale (definitely or possibly).
    pub fn is_clean(&self) -> bool {
        self.summary.stale_definite == 0 && self.summary.stale_possible == 0
    }
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
    /// Things the reader should know (unmodelled commands, gaps, late events).
    pub notes: Vec<String>,
}

impl Summary {
    /// Hits that could be judged, over all hits (1 when there were none).
    pub fn share_verifiable(&self) -> f64 {
        if self.hits == 0 { 1.0 } else { (self.hits - self.unverifiable) as f64 / self.hits as f64 }
    }
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
