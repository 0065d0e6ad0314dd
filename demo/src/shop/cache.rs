/*!
One task's Redis connection, through the `redis` crate as an application's would be: the
commands the shop sends (GET, SETEX, DEL; SCAN while setting up) and nothing else.

The connection is a [`redis::aio::MultiplexedConnection`] over a TCP stream the shop opens
itself, so that it knows the stream's local address: the client name MONITOR gives this task's
commands. Logging in (AUTH with the URL's user and password) and `SELECT` of the URL's db are the
crate's; it is told not to announce itself with `CLIENT SETINFO`, which would add commands of
the client library's own to the recorded traffic.
*/

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, AsyncTypedCommands, ConnectionAddr};

use super::state::Shop;
use crate::DemoError;

/// How long connecting and each command may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The parsed `--redis` URL (`redis://[user:password@]host[:port][/db]`, the scheme optional)
/// and its `redis://host:port` name for messages.
pub(super) fn parse_url(url: &str) -> Result<(redis::ConnectionInfo, String), String> {
    let full = if url.contains("://") { url.to_string() } else { format!("redis://{url}") };
    let info = redis::IntoConnectionInfo::into_connection_info(full.as_str())
        .map_err(|e| e.to_string())?;
    match info.addr() {
        ConnectionAddr::Tcp(host, port) => {
            let name = if host.contains(':') {
                format!("redis://[{host}]:{port}")
            } else {
                format!("redis://{host}:{port}")
            };
            Ok((info.clone(), name))
        }
        _ => Err("the demo talks to Redis over plain TCP: write redis://HOST:PORT".into()),
    }
}

/// One task's Redis connection.
pub(super) struct Cache {
    conn: MultiplexedConnection,
    /// This connection as MONITOR names it (`127.0.0.1:PORT`).
    pub(super) client: String,
}

impl Cache {
    /// Connects to the shop's Redis and logs in.
    pub(super) async fn connect(shop: &Shop) -> Result<Cache, DemoError> {
        let ConnectionAddr::Tcp(host, port) = shop.redis.addr() else {
            return Err(shop.redis_error("not a TCP address"));
        };
        let connect = tokio::net::TcpStream::connect((host.as_str(), *port));
        let stream = tokio::time::timeout(TIMEOUT, connect)
            .await
            .map_err(|_| shop.redis_error(format!("no connection after {} s", TIMEOUT.as_secs())))?
            .map_err(|e| shop.redis_error(e))?;
        let _ = stream.set_nodelay(true);
        let client = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let login = shop.redis.redis_settings().clone().set_skip_set_lib_name();
        let config = AsyncConnectionConfig::new().set_response_timeout(Some(TIMEOUT));
        let (conn, driver) = MultiplexedConnection::new_with_config(&login, stream, config)
            .await
            .map_err(|e| shop.redis_error(e))?;
        tokio::spawn(driver);
        Ok(Cache { conn, client })
    }

    /// `GET key`: the cached value, `None` on a miss.
    pub(super) async fn get(
        &mut self,
        shop: &Shop,
        key: &str,
    ) -> Result<Option<String>, DemoError> {
        self.conn.get(key).await.map_err(|e| shop.redis_error(format!("GET {key}: {e}")))
    }

    /// `SETEX key ttl value`, the TTL being the shop's.
    pub(super) async fn set_ex(
        &mut self,
        shop: &Shop,
        key: &str,
        value: &str,
    ) -> Result<(), DemoError> {
        let ttl = shop.ttl_secs();
        self.conn
            .set_ex(key, value, ttl)
            .await
            .map_err(|e| shop.redis_error(format!("SETEX {key}: {e}")))
    }

    /// `DEL key`.
    pub(super) async fn del(&mut self, shop: &Shop, key: &str) -> Result<(), DemoError> {
        self.conn.del(key).await.map_err(|e| shop.redis_error(format!("DEL {key}: {e}")))?;
        Ok(())
    }

    /// Every key in the connection's db (`SCAN … COUNT 1000`, so the server never blocks on it).
    pub(super) async fn keys(&mut self, shop: &Shop) -> Result<Vec<String>, DemoError> {
        let mut cursor = 0u64;
        let mut all = Vec::new();
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut self.conn)
                .await
                .map_err(|e| shop.redis_error(format!("SCAN: {e}")))?;
            all.extend(keys.iter().map(|k| String::from_utf8_lossy(k).into_owned()));
            if next == 0 {
                return Ok(all);
            }
            cursor = next;
        }
    }
}
