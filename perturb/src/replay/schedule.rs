/*!
[`Replay::replay_schedule`]: one schedule of the search replayed through the full analyzer — the
cross-check of the engine against the real replayer. The schedule id is checked against the
component's constraints, the component's units are put in its order (each unit's events
together, at the positions the component's units held, timed in order), and the whole reordered
trace is analyzed with database commits placed exactly (no receipt lag).
*/

use std::collections::{HashMap, HashSet};

use crate::extract::{ComponentInfo, ExtractOptions, Extractor};
use crate::{Component, check_schedule, parse_schedule_id};
use cachetape_analyzer::{Analysis, AnalysisOptions, Report, TimelineOptions};
use cachetape_tape::{Event, EventBody, Micros};

use super::Replay;
use super::error::ReplayError;

/// One schedule replayed through the full analyzer.
#[derive(Clone, Debug)]
pub struct ScheduleReplay {
    /// The schedule id.
    pub id: String,
    /// Its component.
    pub component: u32,
    /// The component's keys.
    pub keys: Vec<String>,
    /// The component's units in the schedule's order, for people.
    pub steps: Vec<String>,
    /// The analysis of the reordered trace.
    pub report: Report,
}

impl Replay {
    /// Replays one schedule — a component's units in the order `id` gives (each unit's events
    /// kept together, placed where the component's units were and timed in that order) —
    /// through the full analyzer, with database commits placed exactly where the schedule puts
    /// them (no receipt lag).
    pub fn replay_schedule(&self, id: &str) -> Result<ScheduleReplay, ReplayError> {
        let (component, order) =
            parse_schedule_id(id).map_err(|reason| ReplayError::ScheduleId { reason })?;
        let (mapping, origin) = self.resolve_mapping()?;
        let header = self.source.header()?;
        let trace = self.source.name();
        let events = self.source.events()?;
        let timeline = TimelineOptions { db_lag_us: self.resolve_db_lag()?.0 };
        let extract_options = ExtractOptions { timeline, window_us: self.window_us };
        let mut extractor = Extractor::new(&header, mapping.clone(), extract_options);
        for e in events.iter() {
            extractor
                .push(e)
                .map_err(|source| ReplayError::Extraction { trace: trace.clone(), source })?;
        }
        let x = extractor.finish();
        let Some(c) = x.components.get(component as usize) else {
            return Err(ReplayError::NoSuchComponent {
                id: id.to_string(),
                component,
                components: x.components.len(),
            });
        };
        let info = &x.info[component as usize];
        self.check_order(id, component, c, &order)?;
        let reordered = reorder(&events, c, info, &order);
        let options = AnalysisOptions {
            timeline: TimelineOptions { db_lag_us: 0 },
            mapping_origin: origin,
            min_verifiable: self.min_verifiable,
            ..AnalysisOptions::default()
        };
        let analysis_error = |source| ReplayError::Analysis { trace: trace.clone(), source };
        let mut analysis = Analysis::new(&header, mapping, options);
        for e in &reordered {
            analysis.push(e).map_err(analysis_error)?;
        }
        let report = analysis.finish().map_err(analysis_error)?;
        let steps = order
            .iter()
            .map(|&u| {
                let unit = &c.units[u as usize];
                format!(
                    "#{} {} from {}",
                    unit.seq,
                    info.units[u as usize].what,
                    x.lane_name(unit.lane)
                )
            })
            .collect();
        Ok(ScheduleReplay { id: id.to_string(), component, keys: c.keys.clone(), steps, report })
    }

    /// `order` is a permutation of `c`'s units that the window and the constraints allow.
    fn check_order(
        &self,
        id: &str,
        component: u32,
        c: &Component,
        order: &[u32],
    ) -> Result<(), ReplayError> {
        let mut seen = vec![false; c.units.len()];
        for &u in order {
            if (u as usize) >= seen.len() || std::mem::replace(&mut seen[u as usize], true) {
                return Err(ReplayError::NotAnOrder {
                    id: id.to_string(),
                    component,
                    units: c.units.len(),
                });
            }
        }
        if order.len() != c.units.len() {
            return Err(ReplayError::WrongLength {
                id: id.to_string(),
                component,
                ordered: order.len(),
                units: c.units.len(),
            });
        }
        check_schedule(c, self.window_us, order).map_err(|why| ReplayError::NotAllowed {
            id: id.to_string(),
            window_us: self.window_us,
            why,
        })
    }
}

/// The events of the trace with `c`'s units in `order`: the i-th unit of the order takes the
/// place (in the trace) of the i-th of the component's units by position, with all its events
/// together, and the i-th smallest of their recorded times (strictly increasing), every event
/// of the unit shifted alike.
fn reorder(events: &[Event], c: &Component, info: &ComponentInfo, order: &[u32]) -> Vec<Event> {
    let pos = |seq: u64| events.binary_search_by_key(&seq, |e| e.seq).ok();
    let mut anchors: Vec<usize> = info.units.iter().filter_map(|u| pos(u.anchor)).collect();
    anchors.sort_unstable();
    let mut times: Vec<Micros> = c.units.iter().map(|u| u.t_us).collect();
    times.sort_unstable();
    let mut shift = vec![0; c.units.len()];
    let mut last = Micros::MIN;
    for (i, &u) in order.iter().enumerate() {
        let t = times[i].max(last.saturating_add(1));
        last = t;
        shift[u as usize] = t - c.units[u as usize].t_us;
    }
    let mut moved = HashSet::new();
    for u in &info.units {
        moved.extend(u.events.iter().copied());
    }
    let mut emit_at = HashMap::new();
    for (i, &p) in anchors.iter().enumerate() {
        emit_at.insert(p, order[i]);
    }
    let mut out = Vec::with_capacity(events.len());
    for (p, e) in events.iter().enumerate() {
        if let Some(&u) = emit_at.get(&p) {
            for &seq in &info.units[u as usize].events {
                if let Some(q) = pos(seq) {
                    out.push(shifted(&events[q], shift[u as usize]));
                }
            }
        } else if !moved.contains(&e.seq) {
            out.push(e.clone());
        }
    }
    out
}

/// `e` moved by `d` µs on every clock it carries.
fn shifted(e: &Event, d: Micros) -> Event {
    let mut e = e.clone();
    e.recv_us += d;
    let secs = |s: &mut u32| {
        *s = (i64::from(*s) * 1_000_000 + d).div_euclid(1_000_000).clamp(0, u32::MAX as i64) as u32
    };
    match &mut e.body {
        EventBody::Redis(rc) => {
            rc.server_us += d;
            for call in &mut rc.script {
                call.server_us += d;
            }
        }
        EventBody::Commit(c) => {
            if let Some(t) = &mut c.commit_us {
                *t += d;
            }
            secs(&mut c.header_secs);
        }
        EventBody::Row(r) => secs(&mut r.header_secs),
        _ => {}
    }
    e
}
