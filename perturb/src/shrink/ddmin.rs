/*!
Shrinking's last stage: Zeller's delta debugging (ddmin) over *units* that must stay whole — a
transaction's row changes with its commit, a MULTI…EXEC block of one client, else one event. The
result is 1-minimal with respect to removing one unit, unless the test budget runs out first.
*/

use std::collections::BTreeMap;

use cachetape_tape::{Event, EventBody, SourceId};

/// Groups event indexes into units that stay whole: a transaction (row changes + commit), a
/// MULTI…EXEC block of one client, else one event.
pub(super) fn units(events: &[Event]) -> Vec<Vec<usize>> {
    let mut units: Vec<Vec<usize>> = Vec::new();
    let mut txn_unit: BTreeMap<(SourceId, u64), usize> = BTreeMap::new();
    let mut multi_unit: BTreeMap<(SourceId, String), usize> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        match &e.body {
            EventBody::Row(r) => {
                let u = *txn_unit.entry((e.source, r.txn)).or_insert_with(|| {
                    units.push(Vec::new());
                    units.len() - 1
                });
                units[u].push(i);
            }
            EventBody::Commit(c) => match txn_unit.remove(&(e.source, c.txn)) {
                Some(u) => units[u].push(i),
                None => units.push(vec![i]),
            },
            EventBody::Redis(c) => {
                let block = (e.source, c.client.to_string());
                if c.argv.is("MULTI") {
                    units.push(vec![i]);
                    multi_unit.insert(block, units.len() - 1);
                } else if let Some(&u) = multi_unit.get(&block) {
                    units[u].push(i);
                    if c.argv.is("EXEC") || c.argv.is("DISCARD") {
                        multi_unit.remove(&block);
                    }
                } else {
                    units.push(vec![i]);
                }
            }
            _ => units.push(vec![i]),
        }
    }
    units
}

/// Zeller's ddmin over `units` of `events`: returns the kept events, the tests run, and whether
/// the budget ran out.
pub(super) fn ddmin(
    events: &[Event],
    mut units: Vec<Vec<usize>>,
    max_tests: usize,
    test: &mut dyn FnMut(&[Event]) -> bool,
) -> (Vec<Event>, usize, bool) {
    let build = |units: &[Vec<usize>]| -> Vec<Event> {
        let mut idx: Vec<usize> = units.iter().flatten().copied().collect();
        idx.sort_unstable();
        idx.into_iter().map(|i| events[i].clone()).collect()
    };
    let mut tests = 0;
    let mut n = 2usize;
    while units.len() >= 2 {
        let chunk = units.len().div_ceil(n);
        let mut reduced = false;
        let mut start = 0;
        while start < units.len() {
            if tests >= max_tests {
                return (build(&units), tests, true);
            }
            let end = (start + chunk).min(units.len());
            let complement: Vec<Vec<usize>> =
                units[..start].iter().chain(&units[end..]).cloned().collect();
            tests += 1;
            if test(&build(&complement)) {
                units = complement;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
            start = end;
        }
        if !reduced {
            if n >= units.len() {
                break;
            }
            n = (n * 2).min(units.len());
        }
    }
    (build(&units), tests, false)
}
