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

/// `scheme://user:password@host/…` → `scheme://host/…`, and `user:password@host` → `host`;
/// anything without an `@` keeps its text. Passwords given as query parameters (`?password=…`)
/// are dropped as well.
///
/// The credentials end at the *last* `@`, so a password holding an unencoded `/`, `?`, `#` or
/// `@` is dropped whole rather than split into a host and a path: on an address this cannot make
/// sense of, it removes too much, never too little.
pub fn strip_credentials(address: &str) -> String {
    let (scheme, rest) = split_scheme(address);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let kept: Vec<&str> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|kv| {
            let k = kv.split('=').next().unwrap_or("").to_ascii_lowercase();
            !matches!(k.as_str(), "password" | "pass" | "pwd" | "user" | "username")
        })
        .collect();
    let query = if kept.is_empty() { String::new() } else { format!("?{}", kept.join("&")) };
    format!("{scheme}{path}{query}")
}

/// The address with its password replaced by `***` (the user name kept), for messages that
/// must show what was typed: `redis://alice:***@host:6379`, `:***@host:6379`. Query parameters
/// holding a password are masked too; a lone `user@` is kept only in a `mysql://` URL (elsewhere
/// it may be the password). Like [`strip_credentials`], the credentials end at the last
/// `@`.
pub fn mask_password(address: &str) -> String {
    let (scheme, rest) = split_scheme(address);
    let (userinfo, rest) = match rest.rsplit_once('@') {
        Some((userinfo, host)) => (Some(userinfo), host),
        None => (None, rest),
    };
    let mut out = String::from(scheme);
    if let Some(userinfo) = userinfo {
        match userinfo.split_once(':') {
            Some((user, _)) => out.push_str(&format!("{user}:***@")),
            // A lone `user@` is a MySQL user name; in a Redis URL (and any other) it may be
            // the password.
            None if scheme.starts_with("mysql") => out.push_str(&format!("{userinfo}@")),
            None => out.push_str("***@"),
        }
    }
    match rest.split_once('?') {
        Some((path, query)) => {
            let masked: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _))
                        if matches!(
                            k.to_ascii_lowercase().as_str(),
                            "password" | "pass" | "pwd"
                        ) =>
                    {
                        format!("{k}=***")
                    }
                    _ => kv.to_string(),
                })
                .collect();
            out.push_str(&format!("{path}?{}", masked.join("&")));
        }
        None => out.push_str(rest),
    }
    out
}

/// `("redis://", "rest")`, or `("", address)` when there is no scheme.
fn split_scheme(address: &str) -> (&str, &str) {
    match address.find("://") {
        Some(i)
            if address[..i].bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
        {
            address.split_at(i + 3)
        }
        _ => ("", address),
    }
}

#[cfg(test)]
mod tests {
    use super::{mask_password, strip_credentials};

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
        // A password with characters a URL reserves is dropped whole.
        for pw in ["pa/ss", "pa?ss", "pa#ss", "pa@ss", "p/a?s#s@"] {
            for (url, host) in [
                (format!("redis://:{pw}@h:6379/0"), "redis://h:6379/0"),
                (format!("redis://bob:{pw}@h:6379"), "redis://h:6379"),
                (format!("mysql://root:{pw}@db:3306/shop"), "mysql://db:3306/shop"),
                (format!(":{pw}@h:6379"), "h:6379"),
            ] {
                assert_eq!(strip_credentials(&url), host, "{url}");
                let masked = mask_password(&url);
                assert!(!masked.contains("ss"), "{url} → {masked}");
                assert!(masked.contains(":***@"), "{url} → {masked}");
            }
        }
        assert_eq!(mask_password("redis://alice:pw@h:1"), "redis://alice:***@h:1");
        assert_eq!(
            mask_password("redis://h:1/?password=pw&db=2"),
            "redis://h:1/?password=***&db=2"
        );
        assert_eq!(mask_password("localhost:6379"), "localhost:6379");
    }
}
