//! Fixtures shared by the perturbation engine's unit tests.

use cachetape_tape::{Capture, Header, Micros, Source, SourceKind};

/// A trace header created at `t0` with two sources: 0 `cache` (Redis) and 1 `db` (MariaDB).
pub(crate) fn cache_and_db_header(t0: Micros) -> Header {
    let mut h = Header::new(t0);
    for (name, kind) in [("cache", SourceKind::Redis), ("db", SourceKind::MariaDb)] {
        h.add_source(Source {
            name: name.into(),
            kind,
            address: String::new(),
            version: None,
            capture: Capture::Live,
        });
    }
    h
}
