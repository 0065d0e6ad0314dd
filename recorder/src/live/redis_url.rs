/*!
[`RedisUrl`]: where a Redis node is and how to log in, from `redis://[user:password@]host:port[/db]`.

TLS (`rediss://`) and unix sockets are refused with what to use instead: over a socket MONITOR
shows every client as the same `unix:` address, so the recorder could not tell its own commands
apart. The [`Display`](std::fmt::Display) and `Debug` forms never show the password.
*/

use std::fmt;

/// Where a Redis node is and how to log in.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// ACL user name, when given.
    pub user: Option<String>,
    /// Password, when given (never printed).
    pub password: Option<String>,
    /// The db index in the URL path (the recorder watches every db; this only names the node).
    pub db: u32,
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redis://{}", self.host_port())
    }
}

impl RedisUrl {
    /// Parses `redis://[user:password@]host[:port][/db]`; the error says what to write instead.
    pub fn parse(url: &str) -> Result<RedisUrl, String> {
        let rest = if let Some(rest) = url.strip_prefix("redis://") {
            rest
        } else if url.starts_with("rediss://") {
            return Err("TLS (rediss://) is not supported yet: record through a plain \
                        redis:// port, or a local TLS tunnel (stunnel) to the node"
                .into());
        } else if url.starts_with("unix:") || url.starts_with("redis+unix:") || url.starts_with('/')
        {
            return Err(
                "unix sockets are not supported: over a socket MONITOR shows every client \
                        as the same `unix:` address, so the recorder could not tell its own probe \
                        commands apart. Use redis://HOST:PORT"
                    .into(),
            );
        } else if !url.contains("://") {
            url
        } else {
            return Err("not a redis:// URL: write redis://[user:password@]host:port".into());
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((user, pass)) => {
                    ((!user.is_empty()).then(|| percent_decode(user)), Some(percent_decode(pass)))
                }
                None => (None, Some(percent_decode(u))),
            },
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, p) = v6.split_once(']').ok_or("an IPv6 address needs its closing `]`")?;
            (h.to_string(), p.strip_prefix(':').unwrap_or(""))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p),
                None => (hostport.to_string(), ""),
            }
        };
        if host.is_empty() {
            return Err("no host: write redis://host:port".into());
        }
        let port = if port.is_empty() {
            6379
        } else {
            port.parse().map_err(|_| format!("`{port}` is not a port number"))?
        };
        let path = tail.split(['?', '#']).next().unwrap_or("").trim_matches('/');
        let db = if path.is_empty() {
            0
        } else {
            path.parse().map_err(|_| format!("`/{path}` is not a db index"))?
        };
        Ok(RedisUrl { host, port, user, password, db })
    }

    /// `host:port` (`[v6]:port`), the node's default name.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("x"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = RedisUrl::parse("redis://alice:p%40ss@10.0.0.7:6380/2").unwrap();
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("p@ss"));
        assert_eq!((u.host.as_str(), u.port, u.db), ("10.0.0.7", 6380, 2));
        assert_eq!(u.to_string(), "redis://10.0.0.7:6380");
        let u = RedisUrl::parse("redis://:secret@[::1]:7000").unwrap();
        assert_eq!((u.user.as_deref(), u.password.as_deref()), (None, Some("secret")));
        assert_eq!(u.host_port(), "[::1]:7000");
        assert_eq!(RedisUrl::parse("localhost").unwrap().port, 6379);
        assert!(RedisUrl::parse("unix:///tmp/r.sock").unwrap_err().contains("unix"));
        assert!(RedisUrl::parse("redis://h:x").is_err());
        assert!(!format!("{:?}", RedisUrl::parse("redis://:pw@h:1").unwrap()).contains("pw"));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_urls_never_panic(url in ".{0,40}") {
            let _ = RedisUrl::parse(&url);
            let _ = RedisUrl::parse(&format!("redis://{url}"));
        }
    }
}
