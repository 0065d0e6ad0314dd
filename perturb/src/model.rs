/*!
What the exploration sees of a trace: independent components of units, each unit a command,
a MULTI/EXEC block, a script or a commit, reduced to its effects on the component's keys and
rows. The extraction (`extract`) builds components from a trace and a mapping; the explorer
(`explore`) searches their schedules. Both sides agree on these types only.

Ids are component-local and dense: keys `0..keys.len()`, subjects (mapped rows)
`0..subjects.len()`, cached values `0..cache_values`, DB values `0..db_values`. Whether a cached
value agrees with a DB value is [`Component::agrees`] (projections may be partial, so this is
not plain equality).
*/

use cachetape_analyzer::oracle::Cause;

/// Microseconds on the one timeline (the recorder's clock).
pub type Us = i64;

/// Who issued a unit: units of one lane keep their recorded order in every schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lane {
    /// A Redis client connection (an index into the extraction's client names, global across
    /// components).
    Client(u32),
    /// The binlog of one database source: commit order is kept.
    Db(u32),
    /// The recorder's own probes (snapshots): kept in place relative to this lane only.
    Probe(u32),
}

/// What a key holds in the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CacheVal {
    /// Nothing (a read misses).
    Absent,
    /// A projected value, component-local id.
    Known(u32),
    /// A value the mapping cannot decode or compare with the row: reads of it are not judged
    /// (unverifiable, as the analyzer has them).
    Unreconciled,
    /// The replay cannot know (unmodelled command, gap): reads are not judged.
    Unknown,
}

/// What a row holds in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DbVal {
    /// A projection, component-local id.
    Known(u32),
    /// No such row.
    Absent,
    /// Not known (never changed in the trace, never probed): reads are unverifiable.
    Unknown,
}

/// One effect of a unit, in the unit's order (fields as each variant's doc says).
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A read of `key` (mapped to row `subject`) that the oracle judges; `read` indexes
    /// [`Component::reads`].
    Read { key: u16, subject: u16, read: u32 },
    /// `key` now holds `value`, expiring at `expires_at` (virtual time, µs) or never. The value
    /// does not depend on what the key held before (SET, SETEX, a whole HSET, GETDEL…); writes
    /// that do (APPEND, INCR, partial HSET) are given as their recorded result and make the
    /// component [`Component::approximate`].
    Set { key: u16, value: CacheVal, expires_at: Option<Us> },
    /// `key`'s TTL changes if it holds a value (EXPIRE, PEXPIRE, PERSIST with `None`).
    Expire { key: u16, expires_at: Option<Us> },
    /// `key` is removed (DEL, UNLINK, GETDEL's delete, FLUSHDB of its db).
    Del { key: u16 },
    /// The database row `subject` now holds `value` (the unit is a Commit).
    Commit { subject: u16, value: DbVal },
}

impl Op {
    /// The key this op touches, if any.
    pub fn key(&self) -> Option<u16> {
        match *self {
            Op::Read { key, .. }
            | Op::Set { key, .. }
            | Op::Expire { key, .. }
            | Op::Del { key } => Some(key),
            Op::Commit { .. } => None,
        }
    }
}

/// A unit: moves as a whole in a schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Trace seq of its first event (stories, chains, schedule replay).
    pub seq: u64,
    /// Trace seq of its last event (EXEC, the last `[lua]` line, the Commit).
    pub last_seq: u64,
    /// Its time on the timeline; also the virtual time its expiries are judged at.
    pub t_us: Us,
    /// Who issued it.
    pub lane: Lane,
    /// Its effects, in order.
    pub ops: Vec<Op>,
}

/// A read the oracle judges, for findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadInfo {
    /// The unit holding it.
    pub unit: u32,
    /// The trace seq of the read command itself (inside a block: the command, not the MULTI).
    pub seq: u64,
}

/// An independent part of the trace: its units in recorded order and what ties them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Component {
    /// Units in recorded order (schedules are permutations of `0..units.len()`).
    pub units: Vec<Unit>,
    /// Extra hard constraints `(a, b)`: unit `a` precedes unit `b` in every schedule. Holds value
    /// causality (the commit that produced a written value precedes the write) and orders that
    /// other components force (transitively, through program order elsewhere). Program order per
    /// lane and the window are not listed: the explorer derives them from `lane` and `t_us`.
    pub before: Vec<(u32, u32)>,
    /// Key names (component-local id → the key, lossy UTF-8 for people).
    pub keys: Vec<String>,
    /// What each key holds before the component's first unit.
    pub initial_cache: Vec<(CacheVal, Option<Us>)>,
    /// Row names (`shop.orders id=42`), component-local subject id → name.
    pub subjects: Vec<String>,
    /// What each subject holds before its first commit in the trace.
    pub initial_db: Vec<DbVal>,
    /// Number of distinct cached values.
    pub cache_values: u32,
    /// Number of distinct DB values.
    pub db_values: u32,
    /// `agree[c * db_values + d]`: cached value `c` agrees with DB value `d`.
    pub agree: Vec<bool>,
    /// Reads judged, by [`Op::Read::read`].
    pub reads: Vec<ReadInfo>,
    /// Some write was given as its recorded result though it depends on the prior value.
    pub approximate: bool,
}

impl Component {
    /// Cached value `c` agrees with DB value `d`.
    #[inline]
    pub fn agrees(&self, c: u32, d: u32) -> bool {
        self.agree[(c * self.db_values + d) as usize]
    }
}

/// How much of a component's schedule space was explored.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Every distinct schedule (up to commuting events) was evaluated: this many.
    Exhaustive { schedules: u64 },
    /// `tried` distinct schedules sampled of about `about` (an estimate).
    Sampled { tried: u64, about: u64 },
}

/// One inverted pair of the minimal reordering: `moved` (recorded later) runs before `past`
/// (recorded earlier); `shift_us` = `t(moved) - t(past)`, the window it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    /// Unit recorded later, scheduled earlier.
    pub moved: u32,
    /// Unit recorded earlier, scheduled later.
    pub past: u32,
    /// The window this inversion needs, µs.
    pub shift_us: Us,
}

/// A read that some schedule within the window serves stale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The read, by [`Component::reads`] index.
    pub read: u32,
    /// Why, in the schedule with the fewest inversions that makes it stale.
    pub cause: Cause,
    /// The cached value served (never `Absent`/`Unknown`).
    pub served: CacheVal,
    /// The DB value at that point in that schedule.
    pub db: DbVal,
    /// Time since the DB version the served value matches was superseded, µs (0 if unexplained
    /// or if the reordering puts the read before that commit's recorded time).
    pub age_us: Us,
    /// The units behind it: the write that put the served value there, the commit that
    /// superseded it, the invalidation that came after the read (if any).
    pub chain: Vec<u32>,
    /// The fewest inverted pairs from the recorded order that make it stale.
    pub moves: Vec<Move>,
    /// That schedule: a permutation of the component's units.
    pub schedule: Vec<u32>,
    /// The smallest window (µs) at which any schedule makes this read stale (0: stale as recorded).
    pub margin_us: Us,
    /// Stale in the recorded order already, every unit at its point time (commits at their
    /// receipt). Not the report's as-recorded verdict: `Replay` takes that from the analyzer,
    /// which places each event inside its uncertainty.
    pub as_recorded: bool,
}

/// What exploring one component found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// How much of the space was seen.
    pub coverage: Coverage,
    /// Every read some schedule serves stale, by read index.
    pub found: Vec<Found>,
}
