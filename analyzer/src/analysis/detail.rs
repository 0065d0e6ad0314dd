/*!
A key's whole story, kept for the keys the options name (the HTML page draws it): [`Detail`]
collects its marks (writes, deletes, reads with their verdicts) and the values it held while the
analysis runs; [`timeline_of`] adds the row's commits and lays the clients out in lanes.
*/

use cachetape_tape::{Micros, Name};

use super::observations::NO_CLIENT;
use crate::dbstate::{RowValue, Versions};
use crate::mapping::{Rule, ValueTable};
use crate::report::{KeyTimeline, TimelineMark};

/// What a detailed key went through, so far.
#[derive(Default)]
pub(super) struct Detail {
    /// Marks; their lanes are client ids until [`timeline_of`] lays them out.
    pub marks: Vec<TimelineMark>,
    /// The values it held: from, to ([`Micros::MAX`] while it still holds), as shown.
    pub cached: Vec<(Micros, Micros, String)>,
    /// The clients of its marks.
    pub clients: Vec<u32>,
}

impl Detail {
    /// Adds `mark`, made by `client` (whose lane it is on; [`NO_CLIENT`] for none).
    pub(super) fn mark(&mut self, mark: TimelineMark, client: u32) {
        self.marks.push(mark);
        if client != NO_CLIENT && !self.clients.contains(&client) {
            self.clients.push(client);
        }
    }
}

/// The timeline of key `key`, whose story is `d`, against its row's `versions`; the trace ends
/// at `end_t`.
pub(super) fn timeline_of(
    key: String,
    d: Detail,
    versions: &Versions,
    rule: &Rule,
    values: &ValueTable,
    client_names: &[Name],
    end_t: Micros,
) -> KeyTimeline {
    let mut clients = d.clients.clone();
    clients.sort_by(|a, b| client_names[*a as usize].cmp(&client_names[*b as usize]));
    let lanes: Vec<String> =
        clients.iter().map(|c| client_names[*c as usize].to_string()).collect();
    let db_lane = lanes.len();
    let lane_of = |c: usize| clients.iter().position(|&x| x as usize == c).unwrap_or(db_lane);
    let mut marks: Vec<TimelineMark> = d
        .marks
        .into_iter()
        .map(|mut m| {
            m.lane = lane_of(m.lane);
            m
        })
        .collect();
    let show = |v: RowValue| match v {
        RowValue::Known(id) => values.display(id, rule),
        RowValue::Absent => "(no row)".to_string(),
        RowValue::Unknown => "?".to_string(),
    };
    let first = d.cached.first().map_or(end_t, |c| c.0);
    let mut db = Vec::new();
    for i in 0..versions.len() {
        let from = versions.began(i).map_or(first.min(end_t), |v| v.stamp.t);
        let to = versions.began(i + 1).map_or(end_t, |v| v.stamp.t);
        db.push((from, to, show(versions.value(i))));
        if let Some(v) = versions.began(i) {
            marks.push(TimelineMark {
                t_us: v.stamp.t,
                lane: db_lane,
                kind: "commit",
                seq: Some(v.seq),
                verdict: None,
                label: format!("COMMIT → {}", show(v.value)),
            });
        }
    }
    marks.sort_by_key(|m| (m.t_us, m.seq));
    let cached = d
        .cached
        .into_iter()
        .map(|(a, b, v)| (a, if b == Micros::MAX { end_t } else { b }, v))
        .collect();
    KeyTimeline { key, lanes, marks, cached, db, stale: Vec::new() }
}
