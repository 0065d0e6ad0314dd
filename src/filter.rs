/*!
Which events `cat` shows: by key glob, client, source and time. An event passes when it meets
every filter given; filters that do not apply to an event's kind exclude it (a `--client` filter
shows only Redis events).
*/

use cachetape_tape::{Event, EventBody, Header, KeyPattern, commands};

use crate::units::TimePoint;

/// The filters of one `cat`.
#[derive(Debug, Default)]
pub struct EventFilter {
    /// Key globs: an event passes when it touches a key matching any of them.
    pub keys: Vec<KeyPattern>,
    /// Client globs: a Redis event passes when its client matches any of them.
    pub clients: Vec<KeyPattern>,
    /// Source names: an event passes when its source is one of them.
    pub sources: Vec<String>,
    /// Earliest time (receive time).
    pub from: Option<TimePoint>,
    /// Latest time (receive time).
    pub to: Option<TimePoint>,
}

impl EventFilter {
    /// True when `e` passes every filter; `first_us` is the trace's first event time.
    pub fn accepts(&self, header: &Header, e: &Event, first_us: i64) -> bool {
        if let Some(from) = self.from
            && e.recv_us < from.resolve(first_us)
        {
            return false;
        }
        if let Some(to) = self.to
            && e.recv_us > to.resolve(first_us)
        {
            return false;
        }
        if !self.sources.is_empty() {
            let name = header.source(e.source).map_or("", |s| s.name.as_str());
            if !self.sources.iter().any(|s| s == name) {
                return false;
            }
        }
        if !self.clients.is_empty() {
            let EventBody::Redis(c) = &e.body else { return false };
            if !self.clients.iter().any(|p| p.matches(c.client.as_bytes())) {
                return false;
            }
        }
        if !self.keys.is_empty() && !self.touches_matching_key(e) {
            return false;
        }
        true
    }

    fn touches_matching_key(&self, e: &Event) -> bool {
        let hit = |key: &[u8]| self.keys.iter().any(|p| p.matches(key));
        match &e.body {
            EventBody::Redis(c) => std::iter::once(&c.argv)
                .chain(c.script.iter().map(|s| &s.argv))
                .any(|argv| commands::keys(argv).iter(argv).any(hit)),
            EventBody::Snapshot(s) => hit(&s.key),
            EventBody::Keyspace(k) => hit(&k.key),
            _ => false,
        }
    }
}
