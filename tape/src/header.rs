/*!
The trace header (what was recorded, from where, how) and footer (what the writer counted).

Both are small serde structs encoded with postcard, stored uncompressed at the start and the end of
the file; see [`crate::wire`] for the layout around them. Source addresses never carry
credentials: the writer strips them before the header touches the disk.
*/

use serde::{Deserialize, Serialize};

use crate::event::{EventKind, Micros};

/// What a trace holds and where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// When the trace was created (µs since the epoch).
    pub created_us: Micros,
    /// The program that wrote it, e.g. `cachetape 0.1.0`.
    pub tool: String,
    /// Every source whose events appear in the trace; events name them by index.
    pub sources: Vec<Source>,
    /// Whether keys or values were replaced by keyed hashes while recording.
    pub redaction: Redaction,
    /// Free-form remarks for the reader of `info` (how it was imported, what was skipped).
    pub notes: Vec<String>,
}

impl Header {
    /// A header with no sources, created at `created_us`.
    pub fn new(created_us: Micros) -> Header {
        Header {
            created_us,
            tool: concat!("cachetape ", env!("CARGO_PKG_VERSION")).to_string(),
            sources: Vec::new(),
            redaction: Redaction::None,
            notes: Vec::new(),
        }
    }

    /// Adds a source and returns its id.
    pub fn add_source(&mut self, source: Source) -> crate::SourceId {
        let id = u16::try_from(self.sources.len()).expect("more than 65535 sources");
        self.sources.push(source);
        crate::SourceId(id)
    }

    /// The source with id `id`, if the header has it.
    pub fn source(&self, id: crate::SourceId) -> Option<&Source> {
        self.sources.get(id.0 as usize)
    }
}

/// One Redis node or database server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The name events are shown under (`cache-1`, `db`): the Redis "node".
    pub name: String,
    /// What kind of server it is.
    pub kind: SourceKind,
    /// Where it was reached (`redis://10.0.0.7:6379`) or read from (a file path); never with a
    /// password.
    pub address: String,
    /// The server's version string, when known.
    pub version: Option<String>,
    /// Whether it was recorded live or imported from files.
    pub capture: Capture,
}

/// The kind of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceKind {
    /// A Redis (or Redis-compatible) node, observed through MONITOR.
    Redis,
    /// A MySQL server, observed through its binlog.
    MySql,
    /// A MariaDB server, observed through its binlog.
    MariaDb,
}

impl SourceKind {
    /// `redis`, `mysql` or `mariadb`.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Redis => "redis",
            SourceKind::MySql => "mysql",
            SourceKind::MariaDb => "mariadb",
        }
    }
}

/// How a source's events were obtained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Capture {
    /// Recorded live by `cachetape record`.
    Live,
    /// Imported by `cachetape import` from files (MONITOR captures or binlog files); receive
    /// times are then the source's own timestamps.
    Imported {
        /// The files, in the order they were read.
        files: Vec<String>,
    },
}

/// Redaction applied while recording.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Redaction {
    /// Nothing redacted.
    #[default]
    None,
    /// Every value argument replaced by a keyed hash; keys and numbers kept.
    Values,
    /// Keys and values replaced by keyed hashes, keeping `prefix:` structure.
    KeysAndValues,
}

impl Redaction {
    /// `none`, `values` or `keys,values`.
    pub fn name(self) -> &'static str {
        match self {
            Redaction::None => "none",
            Redaction::Values => "values",
            Redaction::KeysAndValues => "keys,values",
        }
    }
}

/// Counts the writer kept, written when the trace is closed cleanly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Footer {
    /// Events written.
    pub events: u64,
    /// Frames written.
    pub frames: u64,
    /// Events by kind, indexed by [`EventKind::index`].
    pub by_kind: Vec<u64>,
    /// Receive time of the first event (µs since the epoch), 0 when empty.
    pub first_us: Micros,
    /// Receive time of the last event (µs since the epoch), 0 when empty.
    pub last_us: Micros,
    /// Events the recorder had to drop (its queue was full); each drop also left a Gap event.
    pub dropped: u64,
}

impl Footer {
    /// Events of `kind` written.
    pub fn count(&self, kind: EventKind) -> u64 {
        self.by_kind.get(kind.index()).copied().unwrap_or(0)
    }
}

/// `scheme://user:password@host/…` → `scheme://host/…`; anything else is returned unchanged.
/// Passwords given as query parameters (`?password=…`) are dropped as well.
pub fn strip_credentials(address: &str) -> String {
    let (scheme, rest) = match address.split_once("://") {
        Some(parts) => parts,
        None => return address.to_string(),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|kv| {
                    let k = kv.split('=').next().unwrap_or("").to_ascii_lowercase();
                    !matches!(k.as_str(), "password" | "pass" | "pwd" | "user" | "username")
                })
                .collect();
            if kept.is_empty() { path.to_string() } else { format!("{path}?{}", kept.join("&")) }
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{host}{tail}")
}

#[cfg(test)]
mod tests {
    use super::strip_credentials;

    #[test]
    fn credentials_are_stripped_from_urls() {
        assert_eq!(strip_credentials("redis://:s3cret@10.0.0.7:6379/0"), "redis://10.0.0.7:6379/0");
        assert_eq!(strip_credentials("mysql://root:pw@db:3306/shop"), "mysql://db:3306/shop");
        assert_eq!(strip_credentials("mysql://u:p@ss@db"), "mysql://db");
        assert_eq!(
            strip_credentials("redis://host:1/?password=x&timeout=3"),
            "redis://host:1/?timeout=3"
        );
        assert_eq!(strip_credentials("/var/log/capture.txt"), "/var/log/capture.txt");
    }
}
