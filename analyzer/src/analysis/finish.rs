/*!
The end of an analysis ([`Judge::finish`]): every value still cached ends (by its TTL, or with
the trace), everything left in the queue is judged, what still waits for a row that never
changed is counted, and the [`Report`] is built — keys worst first, findings and exposure in
trace order, the detailed keys' timelines, the summary, its coverage (`coverage.rs`: what could
not be judged, and whether the verdict is `inconclusive`) and its notes.
*/

use std::collections::HashMap;

use cachetape_replayer::ReplayReport;
use cachetape_tape::Micros;

use super::coverage::Families;
use super::detail::timeline_of;
use super::observations::NO_CLIENT;
use super::options::AnalysisError;
use super::readlog::{ReadLog, Said};
use super::settle::cause_index;
use super::state::{Judge, KeyAcc, ParkedWhat, VACANT};
use crate::mapping::{MappingError, Rule, ValueShape};
use crate::oracle::{self, End, Mark, ROW_UNKNOWN};
use crate::report::{KeyReport, Report, Summary};
use crate::timeline::Stamp;

impl Judge {
    /// Ends the analysis: closes what is still cached, judges everything left, and builds the
    /// report (`replay` says what the replay could not model).
    pub(crate) fn finish(
        mut self,
        replay: &ReplayReport,
        families: &Families,
    ) -> Result<(Report, ReadLog), AnalysisError> {
        // Rules whose table never appeared.
        if !self.db.tables_seen.is_empty() {
            for (i, rule) in self.mapping.rules.iter().enumerate() {
                if !self.db.tables_seen.contains(&rule.table) {
                    return Err(MappingError::UnknownTable {
                        rule: rule.label(i),
                        table: rule.table.clone(),
                        seen: self.db.tables_seen.iter().cloned().collect::<Vec<_>>().join(", "),
                    }
                    .into());
                }
            }
        }
        let end_t = self.last_t;
        for k in 0..self.keys.len() as u32 {
            let kt = &self.keys[k as usize];
            if !kt.is_live() {
                continue;
            }
            let expires = self.slots[kt.live as usize].episode.expires_us;
            match expires {
                Some(e) if e <= end_t => {
                    let mark =
                        Mark { seq: None, stamp: Stamp::at(e), client: NO_CLIENT, what: "expired" };
                    self.end_live(k, End::Expiry, mark);
                }
                _ => {
                    let ttl_left_us = expires.map(|e| e - end_t);
                    let mark =
                        Mark { seq: None, stamp: Stamp::at(end_t), client: NO_CLIENT, what: "end" };
                    self.end_live(k, End::EndOfTrace { ttl_left_us }, mark);
                }
            }
        }
        self.drain(Micros::MAX);
        // What still waits: every item not released (in arena order, no list to walk).
        let mut never = 0;
        for p in std::mem::take(&mut self.parked) {
            match p.what {
                _ if p.key == VACANT => {}
                ParkedWhat::Read(r) => {
                    never += 1;
                    self.note_unverifiable(p.key, ROW_UNKNOWN);
                    self.log_obs(p.key, &r, Said::unverifiable(ROW_UNKNOWN, Some(r.served)));
                }
                ParkedWhat::Episode { .. } => self.unsettled_exposure += 1,
            }
        }
        if never > 0 {
            *self.unverifiable.entry(ROW_UNKNOWN).or_insert(0) += never;
        }
        let report = self.report(replay, families);
        Ok((report, self.take_read_log()))
    }

    /// What the summary notes: everything the analysis could not see or check.
    fn notes(&self, replay: &ReplayReport) -> Vec<String> {
        let mut notes = Vec::new();
        if !replay.unmodelled.is_empty() {
            let list: Vec<String> =
                replay.unmodelled.iter().map(|(n, c)| format!("{n} ×{c}")).collect();
            notes.push(format!(
                "commands the fake Redis does not model (their keys became unknown): {}",
                list.join(", ")
            ));
        }
        if replay.unmaterialised > 0 {
            notes.push(unmaterialised_note(replay.unmaterialised));
        }
        if replay.gaps > 0 {
            notes.push(format!(
                "{} gap(s) in a Redis source: keys were unknown after each",
                replay.gaps
            ));
        }
        if !self.db_gaps.is_empty() {
            notes.push(format!(
                "{} gap(s) in the database source: reads then are unverifiable",
                self.db_gaps.len()
            ));
        }
        if self.late_commits > 0 {
            notes.push(format!(
                "{} commit(s) arrived in the trace more than {} after reads they may precede; \
                 verdicts near them may be wrong",
                self.late_commits,
                cachetape_tape::format_duration(self.options.reorder_slack_us)
            ));
        }
        if self.db.open_transactions() > 0 {
            notes.push(format!(
                "{} transaction(s) had row changes but no commit in the trace: ignored",
                self.db.open_transactions()
            ));
        }
        let subjects_unknown = self
            .keys
            .iter()
            .filter(|k| self.db.subjects[k.subject.0 as usize].versions.is_unknown())
            .count();
        if subjects_unknown > 0 {
            notes.push(format!(
                "{subjects_unknown} mapped key(s) map to rows the trace never changed: their reads \
                 are unverifiable"
            ));
        }
        if self.unsettled_exposure > 0 {
            notes.push(format!(
                "{} cached value(s) could not be checked for exposure (row unknown)",
                self.unsettled_exposure
            ));
        }
        notes
    }

    fn report(&mut self, replay: &ReplayReport, families: &Families) -> Report {
        let notes = self.notes(replay);

        // Keys, worst first.
        let mut flagged: Vec<(u32, KeyAcc)> = self.accs.drain().collect();
        flagged.sort_by(|(ka, a), (kb, b)| {
            let na = &self.keys[*ka as usize];
            let nb = &self.keys[*kb as usize];
            b.stale_definite
                .cmp(&a.stale_definite)
                .then(b.stale_possible.cmp(&a.stale_possible))
                .then(b.exposed_us.cmp(&a.exposed_us))
                .then(na.name.as_bytes().cmp(nb.name.as_bytes()))
                .then(na.source.cmp(&nb.source))
                .then(na.db.cmp(&nb.db))
        });
        let mut keys = Vec::new();
        let mut findings = Vec::new();
        let mut exposure_intervals = 0;
        let mut exposure_total_us = 0;
        let mut longest: Option<(String, Micros)> = None;
        for (k, mut acc) in flagged {
            let kt = &self.keys[k as usize];
            let rule = &self.mapping.rules[kt.rule as usize];
            acc.findings.sort_by_key(|f| f.seq);
            acc.exposure.sort_by_key(|e| (e.from_us, e.to_us));
            let name = String::from_utf8_lossy(kt.name.as_bytes()).into_owned();
            for e in &acc.exposure {
                exposure_intervals += 1;
                exposure_total_us += e.to_us - e.from_us;
                if longest.as_ref().is_none_or(|(_, l)| e.to_us - e.from_us > *l) {
                    longest = Some((name.clone(), e.to_us - e.from_us));
                }
            }
            keys.push(KeyReport {
                key: name,
                node: self.timeline.name(kt.source).to_string(),
                db: kt.db,
                rule: rule_summary(rule),
                reads: kt.reads,
                hits: kt.hits,
                stale_definite: acc.stale_definite,
                stale_possible: acc.stale_possible,
                exposure: acc.exposure,
                exposed_us: acc.exposed_us,
            });
            findings.extend(acc.findings);
        }

        let mut timelines = Vec::new();
        for kt in &mut self.keys {
            let Some(d) = kt.detail.take() else { continue };
            let versions = &self.db.subjects[kt.subject.0 as usize].versions;
            let rule = &self.mapping.rules[kt.rule as usize];
            let key = String::from_utf8_lossy(kt.name.as_bytes()).into_owned();
            let (values, clients) = (&self.values, &self.client_names);
            timelines.push(timeline_of(key, *d, versions, rule, values, clients, self.last_t));
        }
        timelines.sort_by(|a, b| a.key.cmp(&b.key));
        // The first key report of each name, found once (not a scan per timeline).
        let mut first: HashMap<&str, &KeyReport> = HashMap::new();
        for k in &keys {
            first.entry(&k.key).or_insert(k);
        }
        for t in &mut timelines {
            if let Some(k) = first.get(&*t.key) {
                t.stale = k.exposure.iter().map(|e| (e.from_us, e.to_us)).collect();
            }
        }

        let verifiable = self.fresh + self.stale_definite + self.stale_possible;
        let mut unverifiable_by_reason: Vec<(String, u64)> =
            self.unverifiable.iter().map(|(r, c)| (r.to_string(), *c)).collect();
        unverifiable_by_reason.sort();
        let unverifiable = unverifiable_by_reason.iter().map(|(_, c)| c).sum();
        let mut summary = Summary {
            events: self.events,
            redis_commands: self.redis_commands,
            row_changes: self.db.row_changes,
            commits: self.db.commits,
            first_us: self.first_us.unwrap_or(0),
            last_us: if self.last_t == Micros::MIN { 0 } else { self.last_t },
            mapping_origin: self.options.mapping_origin.clone(),
            rules: self.mapping.rules.iter().map(rule_summary).collect(),
            reads: self.reads,
            hits: self.hits,
            misses: self.misses,
            fresh: self.fresh,
            stale_definite: self.stale_definite,
            stale_possible: self.stale_possible,
            unverifiable,
            unverifiable_by_reason,
            stale_by_cause: oracle::Cause::ALL
                .iter()
                .map(|&c| (c, self.by_cause[cause_index(c)]))
                .collect(),
            fresh_within: self
                .options
                .ages_us
                .iter()
                .zip(&self.within)
                .map(|(&a, &n)| {
                    (a, if verifiable == 0 { 1.0 } else { n as f64 / verifiable as f64 })
                })
                .collect(),
            keys_flagged: keys.len() as u64,
            exposure_intervals,
            exposure_total_us,
            longest_exposure: longest,
            clocks: self.timeline.summary(),
            db_lag_us: self.options.timeline.db_lag_us,
            db_lag_source: self.options.db_lag_source,
            notes,
            ..Summary::default()
        };
        self.coverage(families, &mut summary);
        Report { summary, keys, findings, timelines }
    }
}

/// A rule in one line, for the report: `order:{id} → shop.orders where id = {id} (JSON status)`.
fn rule_summary(rule: &Rule) -> String {
    let shape = match &rule.value {
        ValueShape::Column(c) => format!("column {c}"),
        ValueShape::Json(p) => {
            format!("JSON {}", p.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(", "))
        }
        ValueShape::Hash(p) => {
            format!("hash {}", p.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(", "))
        }
    };
    let row: Vec<String> = rule.row.iter().map(|(c, p)| format!("{c} = {{{p}}}")).collect();
    format!("{} → {} where {} ({shape})", rule.key, rule.table, row.join(" and "))
}

/// The note for writes the fake Redis did not materialise (`cachetape_replayer::Bounds`).
fn unmaterialised_note(writes: u64) -> String {
    format!(
        "{writes} write(s) would have grown a value past the fake Redis's bound ({} MiB of \
         SETRANGE zero fill): not allocated, their keys became unknown",
        cachetape_replayer::MAX_PADDING >> 20
    )
}
