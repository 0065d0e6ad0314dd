/*!
A finding of the search told in words: which key and client, what was served and what the
database held (as the mapping projects them), the chain of units behind it, and each inversion
of the recorded order it needs (`DEL order:42 from … lands 3.1ms later, after GET order:42 from
…`).
*/

use crate::extract::{ComponentInfo, Extraction};
use crate::{CacheVal, Component, DbVal, Found, Lane, Op, schedule_id};
use cachetape_analyzer::report::Link;
use cachetape_analyzer::{Cause, StaleRead, Verdict};
use cachetape_tape::format_duration;

use super::report::{MoveStory, PerturbedRead};

/// Finding `f` of component `index` (`c`, with `info` beside it) of extraction `x`, in words.
pub(crate) fn perturbed_read(
    x: &Extraction,
    index: u32,
    c: &Component,
    info: &ComponentInfo,
    f: &Found,
) -> PerturbedRead {
    let read = &c.reads[f.read as usize];
    let unit = &c.units[read.unit as usize];
    let key = unit
        .ops
        .iter()
        .find_map(|op| match *op {
            Op::Read { key, read: r, .. } if r == f.read => Some(key),
            _ => None,
        })
        .unwrap_or(0);
    let (node, redis_db) = info.key_nodes.get(key as usize).cloned().unwrap_or_default();
    let describe = |u: u32| -> String {
        let unit = &c.units[u as usize];
        let on = if matches!(unit.lane, Lane::Db(_)) { "in" } else { "from" };
        format!("{} {on} {}", info.units[u as usize].what, x.lane_name(unit.lane))
    };
    let moves: Vec<MoveStory> = f
        .moves
        .iter()
        .map(|m| {
            let (past, moved) = (describe(m.past), describe(m.moved));
            let story = if m.shift_us > 0 {
                format!("{past} lands {} later, after {moved}", format_duration(m.shift_us))
            } else {
                format!(
                    "{past} lands after {moved} (their clocks put them {} apart)",
                    format_duration(-m.shift_us)
                )
            };
            MoveStory {
                moved: c.units[m.moved as usize].seq,
                past: c.units[m.past as usize].seq,
                shift_us: m.shift_us,
                story,
            }
        })
        .collect();
    PerturbedRead {
        read: StaleRead {
            key: c.keys.get(key as usize).cloned().unwrap_or_default(),
            node,
            redis_db,
            client: x.lane_name(unit.lane),
            seq: read.seq,
            t_us: unit.t_us,
            uncertainty_us: 0,
            served: served(info, f.served),
            db: db(info, f.db),
            // Replaced by the analyzer's as-recorded verdict (`run.rs`); until then, the
            // engine's: stale at the recorded points.
            verdict: if f.as_recorded { Verdict::StaleDefinite } else { Verdict::StalePossible },
            cause: f.cause,
            age_us: (f.cause != Cause::Unexplained).then_some(f.age_us),
            chain: chain(c, info, key, f, &describe),
        },
        story: moves.iter().map(|m| m.story.clone()).collect(),
        moves,
        schedule: schedule_id(index, &f.schedule),
        margin_us: f.margin_us,
        component: index,
        approximate: c.approximate,
    }
}

/// The units behind the finding: the write of the served value, the commit that superseded it,
/// the invalidation that came too late.
fn chain(
    c: &Component,
    info: &ComponentInfo,
    key: u16,
    f: &Found,
    describe: &dyn Fn(u32) -> String,
) -> Vec<Link> {
    let mut chain = Vec::new();
    for &u in &f.chain {
        let unit = &c.units[u as usize];
        let writes_served = unit.ops.iter().any(
            |op| matches!(*op, Op::Set { key: k, value, .. } if k == key && value == f.served),
        );
        let role = if matches!(unit.lane, Lane::Db(_)) {
            "superseded-by"
        } else if writes_served && chain.is_empty() {
            "write"
        } else {
            "invalidation"
        };
        chain.push(Link { role, seq: Some(unit.seq), t_us: unit.t_us, what: describe(u) });
    }
    if chain.first().is_none_or(|l| l.role != "write")
        && let Some(Some((seq, t_us, what))) = info.initial_writes.get(key as usize)
    {
        // The value was written in an earlier part of the trace, which every order keeps
        // before this one.
        chain.insert(0, Link { role: "write", seq: Some(*seq), t_us: *t_us, what: what.clone() });
    }
    chain
}

/// What the cache served, for people.
fn served(info: &ComponentInfo, value: CacheVal) -> String {
    match value {
        CacheVal::Known(v) => info.cache_values.get(v as usize).cloned().unwrap_or_default(),
        CacheVal::Unreconciled => "(a value the mapping cannot compare)".into(),
        CacheVal::Absent => "(nothing)".into(),
        CacheVal::Unknown => "(unknown)".into(),
    }
}

/// What the database held, for people.
fn db(info: &ComponentInfo, value: DbVal) -> String {
    match value {
        DbVal::Known(v) => info.db_values.get(v as usize).cloned().unwrap_or_default(),
        DbVal::Absent => "(no row)".into(),
        DbVal::Unknown => "(unknown)".into(),
    }
}
