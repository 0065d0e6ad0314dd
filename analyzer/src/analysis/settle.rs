/*!
Settling an ended episode ([`Judge::settle`]): once its end is judged, the episode's exposure
(the intervals in which the database disagreed) and the cause and chain of each of its stale
reads are known; a key with either is flagged, and what the report will say of it accumulates in
its [`KeyAcc`]. The episode's slot is then free.
*/

use super::readlog::{Logged, Said};
use super::state::{Judge, KeyAcc, VACANT};
use super::verdicts::episode_basis;
use crate::dbstate::RowValue;
use crate::exposure::{Exposure, ExposureEnd, ExposureStart, exposures};
use crate::oracle::{self, Cached, End, Verdict};
use crate::report::{ExposureReport, Link, StaleRead};

impl Judge {
    /// Settles episode `no` of key `key`, in slot `id`.
    pub(super) fn settle(&mut self, key: u32, id: u32, no: u32) {
        let slot = match self.slots.get_mut(id as usize) {
            Some(slot) if slot.key == key && slot.no == no => slot,
            _ => return,
        };
        let subject = slot.subject.0 as usize;
        let (tail, versions) = (&self.db.tails[subject], &self.db.subjects[subject].versions);
        let mut found: Vec<Exposure> = Vec::new();
        if tail.is_unknown() {
            self.unsettled_exposure += 1;
        } else {
            episode_basis(&mut slot.episode, tail, versions, &self.values);
            exposures(&mut slot.episode, versions, &self.values, &mut found);
        }
        if slot.stale.is_empty() && found.is_empty() {
            slot.key = VACANT;
            self.free_slots.push(id);
            return;
        }
        let stale = std::mem::take(&mut slot.stale);
        let episode = slot.episode.clone();
        slot.key = VACANT;
        self.free_slots.push(id);
        let versions = &self.db.subjects[subject].versions;
        let kt = &self.keys[key as usize];
        let (source, db, rule_ix) = (kt.source, kt.db, kt.rule as usize);
        let rule = &self.mapping.rules[rule_ix];
        let key_name = String::from_utf8_lossy(kt.name.as_bytes()).into_owned();
        let node = self.timeline.name(source).to_string();
        let client_name =
            |c: u32| self.client_names.get(c as usize).map_or("?".to_string(), |n| n.to_string());
        let cached = match episode.value {
            Cached::Value(v) => self.values.display(v, rule),
            Cached::Unreconciled(why) => format!("(not comparable: {why})"),
            Cached::Unknown => "?".into(),
        };
        let row_value = |v: RowValue| match v {
            RowValue::Known(id) => self.values.display(id, rule),
            RowValue::Absent => "(no row)".to_string(),
            RowValue::Unknown => "?".to_string(),
        };
        let acc: &mut KeyAcc = self.accs.entry(key).or_default();
        for e in &found {
            let (started_by, start_seq) = match e.start {
                ExposureStart::Write(m) => ("write", m.seq),
                ExposureStart::Commit { seq } => ("commit", Some(seq)),
            };
            let (end_seq, ttl_left_us) = match e.end {
                ExposureEnd::Cache(End::EndOfTrace { ttl_left_us }, m) => (m.seq, ttl_left_us),
                ExposureEnd::Cache(_, m) => (m.seq, None),
                ExposureEnd::DbAgreed { seq } => (Some(seq), None),
            };
            acc.exposed_us += e.duration_us();
            acc.exposure.push(ExposureReport {
                from_us: e.from_us,
                to_us: e.to_us,
                cached: cached.clone(),
                started_by,
                start_seq,
                ended_by: e.end.name(),
                end_seq,
                ttl_left_us,
            });
        }
        for (read, j) in &stale {
            let cause = oracle::cause(&episode, versions, j);
            self.by_cause[cause_index(cause)] += 1;
            if j.verdict == Verdict::StaleDefinite {
                acc.stale_definite += 1;
            } else {
                acc.stale_possible += 1;
            }
            let chain = oracle::chain(&episode, versions, &self.values, j)
                .into_iter()
                .map(|(role, m)| {
                    let what = match role {
                        oracle::Role::Write => {
                            format!("{} {key_name} from {}", m.what, client_name(m.client))
                        }
                        oracle::Role::Snapshot => "found in the cache by a snapshot".to_string(),
                        oracle::Role::Superseded => {
                            let i = j.matched.map_or(0, |m| m + 1);
                            format!("commit: the row became {}", row_value(versions.value(i)))
                        }
                        oracle::Role::Invalidation => {
                            format!("{} {key_name} from {}", m.what, client_name(m.client))
                        }
                        oracle::Role::Expiry => "the TTL ran out".to_string(),
                        oracle::Role::Source => {
                            let i = m.seq.map_or(0, |seq| {
                                versions
                                    .changes
                                    .iter()
                                    .position(|c| c.seq == seq)
                                    .map_or(0, |p| p + 1)
                            });
                            let value = row_value(versions.value(i));
                            if i == 0 {
                                format!("the row before the trace changed it: {value}")
                            } else {
                                format!("commit: the row became {value}")
                            }
                        }
                        oracle::Role::EndOfTrace => match episode.end {
                            Some((End::EndOfTrace { ttl_left_us: Some(t) }, _)) => format!(
                                "the trace ended with the value cached, {} TTL left",
                                cachetape_tape::format_duration(t)
                            ),
                            Some((End::Unknown, _)) => "the cache state became unknown".into(),
                            _ => "the trace ended with the value cached, no TTL".to_string(),
                        },
                    };
                    Link { role: role.name(), seq: m.seq, t_us: m.stamp.t, what }
                })
                .collect();
            if let Some(log) = self.read_log.as_mut() {
                let said = Said {
                    verdict: j.verdict,
                    cause: Some(cause),
                    age_us: j.age_us,
                    served: Some(read.served),
                    db: Some(versions.value(j.db_version)),
                    reason: None,
                };
                log.push(Logged::new(key, read.seq, read.stamp, read.client, said));
            }
            let served = self.values.display(read.served, rule);
            acc.findings.push(StaleRead {
                key: key_name.clone(),
                node: node.clone(),
                redis_db: db,
                client: client_name(read.client),
                seq: read.seq,
                t_us: read.stamp.t,
                uncertainty_us: read.stamp.uncertainty(),
                served,
                db: row_value(versions.value(j.db_version)),
                verdict: j.verdict,
                cause,
                age_us: j.age_us,
                chain,
            });
        }
    }
}

/// The index of cause `c` in [`oracle::Cause::ALL`] (the order of the report's counts).
pub(super) fn cause_index(c: oracle::Cause) -> usize {
    oracle::Cause::ALL.iter().position(|&x| x == c).unwrap_or(0)
}
