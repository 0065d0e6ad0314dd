/*!
How much of a trace could be judged, and what could not: the figures behind the `inconclusive`
verdict (DESIGN "Stale reads": a trace that could not be judged is never clean).

Two halves, like the analysis:
- the replaying front counts the **key families written that no rule matches** ([`Families`]):
  every SET-like write of an unmapped key adds one to its family — the key's shape as
  `map --infer` groups keys ([`crate::infer::shape_of`]: `session:{…}`), or the key itself when
  it has no id part. Families are interned (one entry per family, its first key as the sample,
  no per-key data), at most [`MAX_FAMILIES`] of them; writes of families past the bound are
  counted together. Unmapped keys are the common case in a real trace, so this is one hash of
  the key's prefix and one probe per unmapped write.
- the judging back keeps per rule ([`RuleCoverage`]) the hits judged, the hits of rows without
  database evidence, the values written and those the rule could not read (the first of them
  kept: key, reason, first bytes).

At the end ([`Judge::coverage`]) the summary gets the split of unverifiable hits (no database
evidence / could not be compared), the families listed (bounded, sorted), and the reasons, if
any, the verdict is `inconclusive`: nothing was judged; fewer than `min_verifiable` of the hits
of mapped keys could be decoded and compared; or a rule had hits of which none was judged, most
of them for want of a comparable value.
*/

use std::collections::HashMap;

use cachetape_base::FxBuild;
use cachetape_replayer::{Command, Value as RValue};

use super::state::Judge;
use crate::report::{FAMILIES_LISTED, FamilyCount, Summary, UndecodableFamily, is_no_db_evidence};

/// Unmapped families interned at most; writes of others are counted together.
pub(crate) const MAX_FAMILIES: usize = 4_096;
/// Bytes of a sample key kept.
const SAMPLE_BYTES: usize = 120;

/// One unmapped family.
struct Family {
    /// The key's prefix up to its last `:` (its id part replaced), or the whole key.
    name: Box<[u8]>,
    /// `name` is a prefix (shown with `{…}` after it).
    prefix: bool,
    writes: u64,
    sample: Box<[u8]>,
}

/// The key families written in the trace that no rule matches (the replaying front's).
#[derive(Default)]
pub(crate) struct Families {
    index: HashMap<Box<[u8]>, u32, FxBuild>,
    list: Vec<Family>,
    /// Writes of families past [`MAX_FAMILIES`].
    other_writes: u64,
}

impl Families {
    /// True for the commands whose writes make a family "written": those storing a value from
    /// their arguments (SET and friends, the hash setters).
    #[inline]
    pub(crate) fn counts(command: Command) -> bool {
        matches!(
            command,
            Command::Set
                | Command::SetNx
                | Command::SetEx
                | Command::PSetEx
                | Command::GetSet
                | Command::MSet
                | Command::MSetNx
                | Command::HSet
                | Command::HSetNx
                | Command::HMSet
        )
    }

    /// A write of unmapped `key`.
    #[inline]
    pub(crate) fn note(&mut self, key: &[u8]) {
        let (name, prefix) = match crate::infer::shape_of(key) {
            Some((p, _)) => (p, true),
            None => (key, false),
        };
        if let Some(&i) = self.index.get(name) {
            self.list[i as usize].writes += 1;
        } else {
            self.add(name, prefix, key);
        }
    }

    #[inline(never)]
    fn add(&mut self, name: &[u8], prefix: bool, key: &[u8]) {
        if self.list.len() >= MAX_FAMILIES {
            self.other_writes += 1;
            return;
        }
        let name: Box<[u8]> = name[..name.len().min(SAMPLE_BYTES)].into();
        let sample = key[..key.len().min(SAMPLE_BYTES)].into();
        self.index.insert(name.clone(), self.list.len() as u32);
        self.list.push(Family { name, prefix, writes: 1, sample });
    }

    /// The families, the most written first (ties by name), at most [`FAMILIES_LISTED`]; and
    /// the rest: (families, writes).
    fn listing(&self) -> (Vec<FamilyCount>, (u64, u64)) {
        let mut all: Vec<&Family> = self.list.iter().collect();
        all.sort_by(|a, b| b.writes.cmp(&a.writes).then(a.name.cmp(&b.name)));
        let listed = all
            .iter()
            .take(FAMILIES_LISTED)
            .map(|f| {
                let mut family = String::from_utf8_lossy(&f.name).into_owned();
                if f.prefix {
                    family.push_str("{…}");
                }
                let sample_key = String::from_utf8_lossy(&f.sample).into_owned();
                FamilyCount { family, writes: f.writes, sample_key }
            })
            .collect();
        let rest = all.get(FAMILIES_LISTED..).unwrap_or(&[]);
        let rest =
            (rest.len() as u64, rest.iter().map(|f| f.writes).sum::<u64>() + self.other_writes);
        (listed, rest)
    }
}

/// What one rule's keys showed of the trace's coverage (the judging back's).
#[derive(Clone, Debug, Default)]
pub(crate) struct RuleCoverage {
    /// Hits judged fresh or stale.
    pub judged: u64,
    /// Hits unverifiable for want of database evidence.
    pub no_db: u64,
    /// Values written to its keys, projected.
    pub writes: u64,
    /// Of which the rule could not read.
    pub unreadable: u64,
    /// The first of those: key id, why, first bytes described.
    pub first_unreadable: Option<(u32, &'static str, String)>,
}

impl Judge {
    /// Value `value` was written to mapped key `k`; `failed` says why the rule could not read
    /// it, if it could not.
    #[inline]
    pub(super) fn note_value(&mut self, k: u32, value: &RValue, failed: Option<&'static str>) {
        let rule = self.keys[k as usize].rule as usize;
        let Some(c) = self.coverage.get_mut(rule) else { return };
        c.writes += 1;
        if let Some(why) = failed {
            c.unreadable += 1;
            if c.first_unreadable.is_none() {
                let head = match value {
                    RValue::String(s) => crate::decode::describe_undecodable(s.as_bytes()),
                    _ => String::new(),
                };
                c.first_unreadable = Some((k, why, head));
            }
        }
    }

    /// A hit of key `k` was judged fresh or stale.
    #[inline]
    pub(super) fn note_judged(&mut self, k: u32) {
        let rule = self.keys[k as usize].rule as usize;
        if let Some(c) = self.coverage.get_mut(rule) {
            c.judged += 1;
        }
    }

    /// A hit of key `k` was unverifiable for `reason`.
    #[inline]
    pub(super) fn note_unverifiable(&mut self, k: u32, reason: &'static str) {
        if is_no_db_evidence(reason) {
            let rule = self.keys[k as usize].rule as usize;
            if let Some(c) = self.coverage.get_mut(rule) {
                c.no_db += 1;
            }
        }
    }

    /// Fills the summary's coverage: the split of unverifiable hits, the families listed and
    /// why the verdict is inconclusive, if it is. `families` are the front's.
    pub(super) fn coverage(&self, families: &Families, s: &mut Summary) {
        s.no_db_evidence = s
            .unverifiable_by_reason
            .iter()
            .filter(|(r, _)| is_no_db_evidence(r))
            .map(|(_, n)| n)
            .sum();
        s.uncomparable = s.unverifiable - s.no_db_evidence;
        s.min_verifiable = self.options.min_verifiable;
        (s.unmapped_families, s.unmapped_rest) = families.listing();

        let mut hits = vec![0u64; self.mapping.rules.len()];
        for k in &self.keys {
            if let Some(h) = hits.get_mut(k.rule as usize) {
                *h += k.hits;
            }
        }
        let mut undecodable: Vec<UndecodableFamily> = Vec::new();
        for (rule, c) in self.mapping.rules.iter().zip(&self.coverage) {
            if let Some((k, why, head)) = &c.first_unreadable {
                let key = self.keys[*k as usize].name.as_bytes();
                undecodable.push(UndecodableFamily {
                    family: rule.key.clone(),
                    unreadable: c.unreadable,
                    writes: c.writes,
                    sample_key: String::from_utf8_lossy(&key[..key.len().min(SAMPLE_BYTES)])
                        .into_owned(),
                    reason: why.to_string(),
                    head: head.clone(),
                });
            }
        }
        undecodable.sort_by(|a, b| b.unreadable.cmp(&a.unreadable).then(a.family.cmp(&b.family)));
        undecodable.truncate(FAMILIES_LISTED);
        s.undecodable_families = undecodable;

        s.inconclusive = self.inconclusive(s, &hits);
    }

    /// Why the trace cannot be called clean, given the summary's figures and each rule's hits.
    fn inconclusive(&self, s: &Summary, hits: &[u64]) -> Vec<String> {
        let mut why = Vec::new();
        let min = s.min_verifiable;
        let pct = |x: f64| {
            let p = x * 100.0;
            if p == p.round() { format!("{p:.0}%") } else { format!("{p:.1}%") }
        };
        if s.judged() == 0 {
            why.push(if self.mapping.rules.is_empty() {
                "the mapping has no rule, so no read was judged".to_string()
            } else if s.events == 0 {
                "the trace has no events, so no read was judged".to_string()
            } else if self.keys.is_empty() {
                "no key in the trace matches a rule of the mapping (check each rule's key \
                 pattern, node and db), so no read was judged"
                    .to_string()
            } else if s.hits == 0 {
                let writes: u64 = self.coverage.iter().map(|c| c.writes).sum();
                let mut why = format!(
                    "no read of a mapped key hit a value ({} read(s)), so none was judged",
                    s.reads
                );
                if writes > 0 && s.reads > 0 {
                    why.push_str(&format!(
                        "; the mapped keys were written {writes} time(s): if a cache tier in front of \
                         Redis (an in-process memory store, such as cache-manager's first store) \
                         served the reads, they never reached Redis, and no trace of Redis shows \
                         them"
                    ));
                }
                why
            } else if s.uncomparable == 0 {
                format!(
                    "none of the {} hit(s) of mapped keys was judged: the trace has no database \
                     evidence for their rows",
                    s.hits
                )
            } else {
                format!(
                    "none of the {} hit(s) of mapped keys was judged: {} could not be decoded or \
                     compared with the mapping, {} are of rows the trace has no database \
                     evidence for",
                    s.hits, s.uncomparable, s.no_db_evidence
                )
            });
            return why;
        }
        if let Some(share) = s.share_verifiable()
            && share < min
        {
            why.push(format!(
                "only {} of the {} hit(s) of mapped keys could be decoded and compared with the \
                 mapping ({} could not), under the {} required (--min-verifiable)",
                pct(share),
                s.hits,
                s.uncomparable,
                pct(min)
            ));
        }
        for ((rule, c), &h) in self.mapping.rules.iter().zip(&self.coverage).zip(hits) {
            let uncomparable = h.saturating_sub(c.judged + c.no_db);
            let comparable = (h - uncomparable) as f64 / h.max(1) as f64;
            if h > 0 && c.judged == 0 && uncomparable > 0 && comparable < min {
                let reason = match &c.first_unreadable {
                    Some((_, r, _)) => format!(" (its values: {r})"),
                    None => String::new(),
                };
                why.push(format!(
                    "no hit of keys {} was judged: {uncomparable} of its {h} hit(s) could not be \
                     decoded or compared with the mapping{reason}",
                    rule.key
                ));
            }
        }
        why
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_grouped_as_inference_groups_keys_bounded_and_sorted() {
        let mut f = Families::default();
        for i in 0..5 {
            f.note(format!("session:{i}").as_bytes());
        }
        f.note(b"counter");
        f.note(b"counter");
        f.note(b":1:views:9");
        // Far more families than are kept: the rest are counted, not stored.
        for i in 0..MAX_FAMILIES + 10 {
            f.note(format!("k{i}").as_bytes());
        }
        assert_eq!(f.list.len(), MAX_FAMILIES);
        let (listed, (families, writes)) = f.listing();
        assert_eq!(listed.len(), FAMILIES_LISTED);
        assert_eq!(listed[0].family, "session:{…}");
        assert_eq!((listed[0].writes, listed[0].sample_key.as_str()), (5, "session:0"));
        assert_eq!((listed[1].family.as_str(), listed[1].writes), ("counter", 2));
        // Ties by name, bytewise.
        assert_eq!(listed[2].family, ":1:views:{…}");
        assert_eq!(listed[3].family, "k0");
        let all = 5 + 2 + 1 + (MAX_FAMILIES + 10) as u64;
        assert_eq!(listed.iter().map(|l| l.writes).sum::<u64>() + writes, all);
        assert_eq!(families as usize, MAX_FAMILIES - FAMILIES_LISTED);
    }
}
