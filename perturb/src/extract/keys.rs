/*!
Ids on first sight: a mapped key (with the row its rule maps it to, tied to it in the union-find),
a row ("subject") and a client lane.
*/

use cachetape_analyzer::dbstate::SubjectId;
use cachetape_tape::{Name, SourceId};

use super::Extractor;
use super::text::subject_name;
use super::unit::{GOp, GVal, KeyInfo};
use crate::model::Lane;

impl Extractor {
    /// The key id of a mapped key (created on first sight), `None` when no rule maps it.
    pub(super) fn key(&mut self, source: SourceId, db: u32, key: &[u8]) -> Option<u32> {
        self.key_buf.clear();
        self.key_buf.extend_from_slice(&source.0.to_le_bytes());
        self.key_buf.extend_from_slice(&db.to_le_bytes());
        self.key_buf.extend_from_slice(key);
        if let Some(&k) = self.key_index.get(&self.key_buf[..]) {
            return (k != u32::MAX).then_some(k);
        }
        let node_name = self.source_names.get(source.0 as usize).map_or("", String::as_str);
        let mut holes = Vec::new();
        let Some(rule) = self.mapping.find(node_name, db, key, &mut holes) else {
            self.key_index.insert(self.key_buf.clone(), u32::MAX);
            return None;
        };
        let r = &self.mapping.rules[rule];
        r.row_id_from_key(&holes, &mut self.holes);
        let subject = self.db.subject(rule as u16, &self.holes);
        let name = subject_name(r, &holes);
        let k = self.keys.len() as u32;
        let node = self.nodes.node();
        let s_node = self.subject_node(subject, Some(name));
        self.nodes.union(node, s_node);
        let initial = if self.gap_before.get(source.0 as usize).copied().unwrap_or(false) {
            GVal::Unknown
        } else {
            GVal::Absent
        };
        self.keys.push(KeyInfo {
            name: key.to_vec(),
            source,
            db,
            rule: rule as u16,
            subject,
            node,
            initial,
            last: (initial, None),
            conditional: false,
        });
        self.key_index.insert(self.key_buf.clone(), k);
        Some(k)
    }

    /// The union-find node of row `s` (created on first sight), named `name` or, when no key
    /// named it, after its table.
    pub(super) fn subject_node(&mut self, s: SubjectId, name: Option<String>) -> u32 {
        let i = s.0 as usize;
        if self.subject_node.len() <= i {
            self.subject_node.resize(i + 1, u32::MAX);
            self.subject_names.resize(i + 1, String::new());
        }
        if let Some(name) = name {
            self.subject_names[i] = name;
        } else if self.subject_names[i].is_empty() {
            let rule = self.db.subjects[i].rule as usize;
            self.subject_names[i] = format!("{} (a row)", self.mapping.rules[rule].table);
        }
        if self.subject_node[i] == u32::MAX {
            self.subject_node[i] = self.nodes.node();
        }
        self.subject_node[i]
    }

    /// The union-find node of what `op` touches: its key's, or its row's.
    pub(super) fn op_node(&mut self, op: GOp) -> u32 {
        match op {
            GOp::Read { key, .. }
            | GOp::Set { key, .. }
            | GOp::Expire { key, .. }
            | GOp::Del { key } => self.keys[key as usize].node,
            GOp::Commit { subject, .. } => self.subject_node(subject, None),
        }
    }

    /// The lane of client `name` of Redis source `source`.
    pub(super) fn client(&mut self, source: SourceId, name: &Name) -> Lane {
        let next = self.client_names.len() as u32;
        let id = *self.clients.entry((source.0, name.clone())).or_insert(next);
        if id == next {
            self.client_names.push(name.to_string());
        }
        Lane::Client(id)
    }
}
