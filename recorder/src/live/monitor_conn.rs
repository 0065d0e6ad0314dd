/*!
Opening a node's MONITOR stream: a socket of its own (its address registered among the
recorder's own first), `AUTH` when the URL has a password, `MONITOR`, and its `+OK`, over the
raw RESP client ([`RespConn`]). The tap then reads the socket itself; the preflight check opens
the stream the same way and closes it at once, so it tests exactly what recording will do.
*/

use super::problem::Problem;
use super::redis_client::{OwnConnections, auth_refused, lost, open_socket};
use super::redis_url::RedisUrl;
use super::resp::{Reply, RespConn};

/// Why MONITOR could not be started.
#[derive(Debug)]
pub(crate) enum MonitorError {
    /// Connecting or logging in failed (the problem names the fix).
    Login(Problem),
    /// The server answered `MONITOR` with this error line (`NOPERM …`, `ERR unknown command`).
    Refused(String),
    /// The server answered `MONITOR` with something other than `+OK`.
    Unexpected(Reply),
    /// The connection failed while sending `MONITOR` or waiting for its answer.
    Lost(String),
}

/// Connects, logs in and starts MONITOR; the returned connection's socket carries the MONITOR
/// lines (its buffer holds those already read past `+OK`).
pub(crate) async fn open(
    url: &RedisUrl,
    own: Option<&OwnConnections>,
) -> Result<RespConn, MonitorError> {
    let stream = open_socket(url, own).await.map_err(MonitorError::Login)?;
    let mut conn = RespConn::from_stream(stream);
    if let Some(password) = &url.password {
        let mut args: Vec<&[u8]> = vec![b"AUTH"];
        if let Some(user) = &url.user {
            args.push(user.as_bytes());
        }
        args.push(password.as_bytes());
        match conn.call(&args).await {
            Ok(Reply::Error(e)) => return Err(MonitorError::Login(auth_refused(url, &e))),
            Ok(_) => {}
            Err(e) => return Err(MonitorError::Login(lost(&url.to_string(), "logging in", e))),
        }
    }
    match conn.call(&[b"MONITOR"]).await {
        Ok(Reply::Status(_)) => Ok(conn),
        Ok(Reply::Error(e)) => Err(MonitorError::Refused(e)),
        Ok(other) => Err(MonitorError::Unexpected(other)),
        Err(e) => Err(MonitorError::Lost(e.to_string())),
    }
}
