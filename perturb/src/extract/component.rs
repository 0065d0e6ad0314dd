/*!
One part of a group → a [`Component`] for the explorer, with its [`ComponentInfo`]: keys, rows
and values renumbered densely in order of first appearance, the initial cache and DB state from
where the part starts, each unit's ops (a carried unit's reads left out: they are judged in their
own part), the `before` edges that fall inside the part, and which cached value agrees with
which DB value.

Keys start [`CacheVal::Absent`], as the replayer's store does, or [`CacheVal::Unknown`] when a
gap of their node came before their first command; rows start at
[`Versions::initial`](cachetape_analyzer::dbstate::Versions::initial), unless an earlier part
left them otherwise.
*/

use std::collections::HashMap;

use cachetape_analyzer::dbstate::{RowValue, SubjectId};
use cachetape_analyzer::mapping::ValueId;

use super::unit::{Boundary, GOp, GVal};
use super::{ComponentInfo, Extractor, UnitInfo};
use crate::model::{CacheVal, Component, DbVal, Lane, Op, ReadInfo, Unit, Us};

impl Extractor {
    /// One component of `members` (global units, in trace order); the first `carried` of them
    /// come from earlier parts (their reads are judged there, not here); `start` is what keys
    /// and rows hold before the first.
    pub(super) fn component(
        &self,
        members: &[u32],
        carried: usize,
        start: &Boundary,
    ) -> (Component, ComponentInfo) {
        let mut local_unit: HashMap<u32, u32> = HashMap::new();
        for (i, &u) in members.iter().enumerate() {
            local_unit.insert(u, i as u32);
        }
        let mut key_ids: HashMap<u32, u16> = HashMap::new();
        let mut keys: Vec<u32> = Vec::new();
        let mut subj_ids: HashMap<SubjectId, u16> = HashMap::new();
        let mut subjects: Vec<SubjectId> = Vec::new();
        let mut cache_ids: HashMap<ValueId, u32> = HashMap::new();
        let mut cache_vals: Vec<(ValueId, u16)> = Vec::new();
        let mut db_ids: HashMap<ValueId, u32> = HashMap::new();
        let mut db_vals: Vec<(ValueId, u16)> = Vec::new();
        let mut key_of = |k: u32, keys: &mut Vec<u32>| -> u16 {
            *key_ids.entry(k).or_insert_with(|| {
                keys.push(k);
                (keys.len() - 1) as u16
            })
        };
        let mut subj_of = |s: SubjectId, subjects: &mut Vec<SubjectId>| -> u16 {
            *subj_ids.entry(s).or_insert_with(|| {
                subjects.push(s);
                (subjects.len() - 1) as u16
            })
        };
        // Keys and subjects in order of first appearance; each key's subject too.
        for &u in members {
            for op in &self.units[u as usize].ops {
                match *op {
                    GOp::Read { key, .. }
                    | GOp::Set { key, .. }
                    | GOp::Expire { key, .. }
                    | GOp::Del { key } => {
                        key_of(key, &mut keys);
                        subj_of(self.keys[key as usize].subject, &mut subjects);
                    }
                    GOp::Commit { subject, .. } => {
                        subj_of(subject, &mut subjects);
                    }
                }
            }
        }
        let mut cache_of = |v: GVal, rule: u16, cache_vals: &mut Vec<(ValueId, u16)>| -> CacheVal {
            match v {
                GVal::Absent => CacheVal::Absent,
                GVal::Unknown => CacheVal::Unknown,
                GVal::Unreconciled => CacheVal::Unreconciled,
                GVal::Known(id) => CacheVal::Known(*cache_ids.entry(id).or_insert_with(|| {
                    cache_vals.push((id, rule));
                    (cache_vals.len() - 1) as u32
                })),
            }
        };
        let mut db_of = |v: RowValue, rule: u16, db_vals: &mut Vec<(ValueId, u16)>| -> DbVal {
            match v {
                RowValue::Absent => DbVal::Absent,
                RowValue::Unknown => DbVal::Unknown,
                RowValue::Known(id) => DbVal::Known(*db_ids.entry(id).or_insert_with(|| {
                    db_vals.push((id, rule));
                    (db_vals.len() - 1) as u32
                })),
            }
        };
        let initial_cache: Vec<(CacheVal, Option<Us>)> = keys
            .iter()
            .map(|&k| {
                let ki = &self.keys[k as usize];
                let (v, e) = start.cache.get(&k).copied().unwrap_or((ki.initial, None));
                (cache_of(v, ki.rule, &mut cache_vals), e)
            })
            .collect();
        let initial_db: Vec<DbVal> = subjects
            .iter()
            .map(|&s| {
                let sub = &self.db.subjects[s.0 as usize];
                let v = start.db.get(&s).copied().unwrap_or(sub.versions.initial);
                db_of(v, sub.rule, &mut db_vals)
            })
            .collect();
        let mut units = Vec::with_capacity(members.len());
        let mut infos = Vec::with_capacity(members.len());
        let mut reads = Vec::new();
        let mut before = Vec::new();
        let mut approximate = false;
        for (i, &u) in members.iter().enumerate() {
            let raw = &self.units[u as usize];
            approximate |= raw.approximate;
            approximate |= raw.ops.iter().any(|op| match *op {
                GOp::Read { key, .. }
                | GOp::Set { key, .. }
                | GOp::Expire { key, .. }
                | GOp::Del { key } => self.keys[key as usize].conditional,
                GOp::Commit { .. } => false,
            });
            let mut ops = Vec::with_capacity(raw.ops.len());
            for op in &raw.ops {
                if i < carried && matches!(op, GOp::Read { .. }) {
                    continue;
                }
                ops.push(match *op {
                    GOp::Read { key, seq } => {
                        let subject = subj_ids[&self.keys[key as usize].subject];
                        reads.push(ReadInfo { unit: i as u32, seq });
                        Op::Read { key: key_ids[&key], subject, read: (reads.len() - 1) as u32 }
                    }
                    GOp::Set { key, value, expires_at } => {
                        let rule = self.keys[key as usize].rule;
                        Op::Set {
                            key: key_ids[&key],
                            value: cache_of(value, rule, &mut cache_vals),
                            expires_at,
                        }
                    }
                    GOp::Expire { key, expires_at } => {
                        Op::Expire { key: key_ids[&key], expires_at }
                    }
                    GOp::Del { key } => Op::Del { key: key_ids[&key] },
                    GOp::Commit { subject, value } => {
                        let rule = self.db.subjects[subject.0 as usize].rule;
                        Op::Commit {
                            subject: subj_ids[&subject],
                            value: db_of(value, rule, &mut db_vals),
                        }
                    }
                });
            }
            for a in &raw.after {
                if let Some(&la) = local_unit.get(a) {
                    before.push((la, i as u32));
                }
            }
            units.push(Unit {
                seq: raw.seq,
                last_seq: raw.last_seq,
                t_us: raw.t,
                lane: raw.lane,
                ops,
            });
            let what = self.unit_text(raw);
            let events = if raw.events.is_empty() { vec![raw.seq] } else { raw.events.clone() };
            infos.push(UnitInfo { what, events, anchor: raw.anchor });
        }
        self.forced_orders(members, &units, &mut before);
        before.sort_unstable();
        before.dedup();
        let (cn, dn) = (cache_vals.len() as u32, db_vals.len() as u32);
        let mut agree = vec![false; (cn * dn) as usize];
        for (c, &(cv, _)) in cache_vals.iter().enumerate() {
            for (d, &(dv, _)) in db_vals.iter().enumerate() {
                agree[c * dn as usize + d] = self.values.agrees(cv, dv);
            }
        }
        let component = Component {
            units,
            before,
            keys: keys.iter().map(|&k| self.key_name(k)).collect(),
            initial_cache,
            subjects: subjects
                .iter()
                .map(|&s| {
                    let name = self.subject_names.get(s.0 as usize).cloned().unwrap_or_default();
                    if name.is_empty() { format!("row #{}", s.0) } else { name }
                })
                .collect(),
            initial_db,
            cache_values: cn,
            db_values: dn,
            agree,
            reads,
            approximate,
        };
        let info = ComponentInfo {
            units: infos,
            cache_values: cache_vals
                .iter()
                .map(|&(v, rule)| self.values.display(v, &self.mapping.rules[rule as usize]))
                .collect(),
            db_values: db_vals
                .iter()
                .map(|&(v, rule)| self.values.display(v, &self.mapping.rules[rule as usize]))
                .collect(),
            initial_writes: keys
                .iter()
                .map(|k| {
                    let u = *start.origin.get(k)?;
                    let raw = &self.units[u as usize];
                    let lane = match raw.lane {
                        Lane::Client(c) => self.client_names[c as usize].clone(),
                        Lane::Db(s) | Lane::Probe(s) => {
                            self.source_names.get(s as usize).cloned().unwrap_or_default()
                        }
                    };
                    Some((raw.seq, raw.t, format!("{} from {lane}", self.unit_text(raw))))
                })
                .collect(),
            key_nodes: keys
                .iter()
                .map(|&k| {
                    let ki = &self.keys[k as usize];
                    (
                        self.source_names.get(ki.source.0 as usize).cloned().unwrap_or_default(),
                        ki.db,
                    )
                })
                .collect(),
        };
        (component, info)
    }
}
