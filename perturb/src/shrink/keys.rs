/*!
Shrinking's first stage: the events the target's key and row need — Redis commands (and script
calls) touching the key, with the MULTI/EXEC around them; row changes of the row the key maps to
and their commits; snapshots and keyspace notices of the key; every clock probe and gap (the
timeline and the "nothing is known here" marks); and commands that touch every key (FLUSHALL,
FLUSHDB, SWAPDB).
*/

use std::collections::{BTreeMap, BTreeSet};

use cachetape_analyzer::Mapping;
use cachetape_tape::{Event, EventBody, SourceId, commands};

use super::target::Target;

/// Commands that change every key of a db (or all dbs): kept whatever their arguments.
fn touches_everything(argv: &cachetape_tape::Argv) -> bool {
    argv.is("FLUSHALL") || argv.is("FLUSHDB") || argv.is("SWAPDB")
}

/// Which events the target's key and row need (stage 1).
pub(super) fn relevant(
    names: &[String],
    mapping: &Mapping,
    target: &Target,
    events: &[Event],
) -> Vec<bool> {
    let key = target.key.as_bytes();
    let node_of = |s: SourceId| names.get(s.0 as usize).map_or("", String::as_str);
    // The rule and row the key maps to.
    let mut holes = Vec::new();
    let rule = mapping.find(&target.node, target.redis_db, key, &mut holes);
    let mut row_id = Vec::new();
    if let Some(r) = rule {
        mapping.rules[r].row_id_from_key(&holes, &mut row_id);
    }
    let mut keep = vec![false; events.len()];
    let mut txns: BTreeSet<(SourceId, u64)> = BTreeSet::new();
    // Open MULTI per (source, client): its position and whether a kept command is inside.
    let mut multi: BTreeMap<(SourceId, String), (usize, bool)> = BTreeMap::new();
    let mut image_id = Vec::new();
    for (i, e) in events.iter().enumerate() {
        keep[i] = match &e.body {
            // Clocks, gaps and the measured database lag hold for every key.
            EventBody::ClockProbe(_) | EventBody::Gap(_) | EventBody::Heartbeat(_) => true,
            EventBody::Snapshot(s) => s.key == key && node_of(e.source) == target.node,
            EventBody::Keyspace(k) => k.key == key && node_of(e.source) == target.node,
            EventBody::Redis(c) => {
                let block = (e.source, c.client.to_string());
                let touches = node_of(e.source) == target.node
                    && std::iter::once(&c.argv).chain(c.script.iter().map(|s| &s.argv)).any(
                        |argv| {
                            touches_everything(argv)
                                || commands::keys(argv).iter(argv).any(|k| k == key)
                        },
                    );
                if c.argv.is("MULTI") {
                    multi.insert(block, (i, false));
                    false
                } else if c.argv.is("EXEC") || c.argv.is("DISCARD") {
                    match multi.remove(&block) {
                        Some((start, true)) => {
                            keep[start] = true;
                            true
                        }
                        _ => false,
                    }
                } else {
                    if touches && let Some(open) = multi.get_mut(&block) {
                        open.1 = true;
                    }
                    touches
                }
            }
            EventBody::Row(r) => match rule {
                Some(rule) => {
                    let rule = &mapping.rules[rule];
                    let same = |image: &Option<cachetape_tape::RowImage>, out: &mut Vec<u8>| {
                        image
                            .as_ref()
                            .is_some_and(|im| rule.row_id_from_image(im, out) && *out == row_id)
                    };
                    let hit = *r.table == *rule.table
                        && (same(&r.before, &mut image_id) || same(&r.after, &mut image_id));
                    if hit {
                        txns.insert((e.source, r.txn));
                    }
                    hit
                }
                None => false,
            },
            EventBody::Commit(c) => txns.contains(&(e.source, c.txn)),
        };
    }
    keep
}
