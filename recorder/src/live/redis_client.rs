/*!
The recorder's control connections to a Redis node, through the `redis` crate: the probe
connection (`TIME`, the snapshot `EVAL`, `SCAN`, the stop barrier's `ECHO`), the preflight
checks, and the keyspace-notification listener (`PSUBSCRIBE`).

Connecting opens the TCP socket here and hands it to the crate, so the socket's local address —
the client address MONITOR prints for every command of the connection — is registered among the
recorder's own ([`OwnConnections`]) before the first byte is sent; `CLIENT INFO`'s `addr=`
confirms it as the server sees it (`learn_own_address`). The crate is asked to send nothing of
its own (RESP2, no `CLIENT SETINFO`, no `SELECT`), and logging in is the recorder's own `AUTH`,
so the server's error reply (`WRONGPASS`, "no password configured", …) reaches the [`Problem`]
that names the fix; every later command's error keeps its code ([`RedisError::code`], e.g.
`NOPERM`).
*/

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::{MultiplexedConnection, PubSub};
use redis::{AsyncConnectionConfig, ErrorKind, RedisConnectionInfo, RedisError};
use tokio::net::TcpStream;

use super::problem::Problem;
use super::redis_url::RedisUrl;

/// How long connecting and each request may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The keyspace events the notification listener subscribes to.
pub const KEYEVENT_PATTERNS: [&str; 2] = ["__keyevent@*__:expired", "__keyevent@*__:evicted"];

/// The addresses of the recorder's own connections to one node, as MONITOR names clients.
#[derive(Debug, Default)]
pub struct OwnConnections {
    addrs: Mutex<Vec<String>>,
    generation: AtomicU64,
}

impl OwnConnections {
    /// Adds an address (`127.0.0.1:5000`, `[::1]:5000`).
    pub fn add(&self, addr: String) {
        let mut a = self.addrs.lock().unwrap_or_else(|e| e.into_inner());
        if !a.contains(&addr) {
            a.push(addr);
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// A counter that changes whenever the set does.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The addresses now.
    pub fn list(&self) -> Vec<String> {
        self.addrs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Opens a TCP connection to the node; with `own`, its local address is registered first.
pub(crate) async fn open_socket(
    url: &RedisUrl,
    own: Option<&OwnConnections>,
) -> Result<TcpStream, Problem> {
    let connect = TcpStream::connect((url.host.as_str(), url.port));
    let stream = match tokio::time::timeout(TIMEOUT, connect).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(unreachable(url, e)),
        Err(_) => return Err(unreachable(url, "no answer within 10 s")),
    };
    let _ = stream.set_nodelay(true);
    if let Some(own) = own
        && let Ok(local) = stream.local_addr()
    {
        own.add(local.to_string());
    }
    Ok(stream)
}

/// Connects and logs in; problems name the fix. With `own`, the connection's address is
/// registered among the recorder's own before its first command.
pub(crate) async fn connect(
    url: &RedisUrl,
    own: Option<&OwnConnections>,
) -> Result<MultiplexedConnection, Problem> {
    let stream = open_socket(url, own).await?;
    let info = RedisConnectionInfo::default().set_skip_set_lib_name();
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(TIMEOUT))
        .set_response_timeout(Some(TIMEOUT));
    let (mut conn, driver) = MultiplexedConnection::new_with_config(&info, stream, config)
        .await
        .map_err(|e| unreachable(url, e))?;
    tokio::spawn(driver);
    if let Some(password) = &url.password {
        let mut auth = redis::cmd("AUTH");
        if let Some(user) = &url.user {
            auth.arg(user);
        }
        auth.arg(password);
        match auth.query_async::<()>(&mut conn).await {
            Ok(()) => {}
            Err(e) => match server_error(&e) {
                Some(reply) => return Err(auth_refused(url, &reply)),
                None => return Err(lost(&url.to_string(), "logging in", &e)),
            },
        }
    }
    Ok(conn)
}

/// Connects, logs in and registers the connection's address as the server sees it (the
/// probe connection: every command it sends is the recorder's own).
pub(crate) async fn connect_own(
    url: &RedisUrl,
    own: &OwnConnections,
) -> Result<MultiplexedConnection, Problem> {
    let mut conn = connect(url, Some(own)).await?;
    learn_own_address(&mut conn, own).await;
    Ok(conn)
}

/// Registers the connection's address as `CLIENT INFO` reports it among the recorder's own.
pub(crate) async fn learn_own_address(conn: &mut MultiplexedConnection, own: &OwnConnections) {
    let info = redis::cmd("CLIENT").arg("INFO").query_async::<String>(conn).await;
    if let Ok(info) = info
        && let Some(addr) = info.split_whitespace().find_map(|f| f.strip_prefix("addr="))
    {
        // IPv6 addresses come without brackets from older servers.
        if addr.matches(':').count() > 1 && !addr.starts_with('[') {
            if let Some((host, port)) = addr.rsplit_once(':') {
                own.add(format!("[{host}]:{port}"));
            }
        } else {
            own.add(addr.to_string());
        }
    }
}

/// Opens the keyspace-notification listener: a pub/sub connection (its address registered
/// first) subscribed to expired and evicted key events. The crate logs it in; the same
/// credentials have passed the probe connection's `AUTH` already.
pub(crate) async fn subscribe_keyevents(
    url: &RedisUrl,
    own: &OwnConnections,
) -> Result<PubSub, Problem> {
    let stream = open_socket(url, Some(own)).await?;
    let mut info = RedisConnectionInfo::default().set_skip_set_lib_name();
    if let Some(user) = &url.user {
        info = info.set_username(user);
    }
    if let Some(password) = &url.password {
        info = info.set_password(password);
    }
    let subscribe = async {
        let mut pubsub = PubSub::new(&info, stream).await?;
        pubsub.psubscribe(&KEYEVENT_PATTERNS).await?;
        Ok::<_, RedisError>(pubsub)
    };
    match tokio::time::timeout(TIMEOUT, subscribe).await {
        Ok(Ok(pubsub)) => Ok(pubsub),
        Ok(Err(e)) if e.kind() == ErrorKind::AuthenticationFailed => {
            Err(auth_refused(url, &e.to_string()))
        }
        Ok(Err(e)) => Err(lost(&url.to_string(), "subscribing to keyspace notifications", &e)),
        Err(_) => Err(unreachable(url, "no answer within 10 s")),
    }
}

/// The server's error reply as Redis wrote it (`NOPERM this user has no permissions…`), when
/// the error is one; `None` for a failed connection, a timeout or an unexpected reply.
pub(crate) fn server_error(e: &RedisError) -> Option<String> {
    let code = e.code()?;
    Some(match e.detail() {
        Some(detail) => format!("{code} {detail}"),
        None => code.to_string(),
    })
}

/// True when the server refused the command for lack of an ACL permission.
pub(crate) fn is_noperm(e: &RedisError) -> bool {
    e.code() == Some("NOPERM")
}

/// The node could not be reached.
pub(crate) fn unreachable(url: &RedisUrl, e: impl fmt::Display) -> Problem {
    Problem {
        source: url.to_string(),
        what: format!("cannot reach Redis at {}: {e}", url.host_port()),
        fix: "check the host and port, that redis-server runs there and that no firewall blocks \
              this machine"
            .into(),
    }
}

/// `AUTH` was refused with `reply` (the server's error line).
pub(crate) fn auth_refused(url: &RedisUrl, reply: &str) -> Problem {
    let user = url.user.as_deref().unwrap_or("default");
    let (what, fix) = if reply.contains("without any password configured") {
        (
            "the URL has a password but the server has none configured".to_string(),
            "drop the password from the URL (redis://host:port)".to_string(),
        )
    } else {
        (
            format!("Redis refused the password of user `{user}` ({})", first_word(reply)),
            "check the password in the URL (redis://USER:PASSWORD@host:port; percent-encode `@` \
             `:` `/` in it)"
                .to_string(),
        )
    };
    Problem { source: url.to_string(), what, fix }
}

/// The connection failed while `doing`.
pub(crate) fn lost(source: &str, doing: &str, e: impl fmt::Display) -> Problem {
    Problem {
        source: source.to_string(),
        what: format!("the connection failed while {doing}: {e}"),
        fix: "check that the node is up and reachable, then try again".into(),
    }
}

fn first_word(e: &str) -> &str {
    e.split_whitespace().next().unwrap_or(e)
}
