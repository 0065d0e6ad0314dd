/*!
A minimal RESP2 client over a plain socket: the MONITOR connection's.

MONITOR is read raw, in large chunks split at `\n` and parsed where they lie (`redis_tap.rs`);
this client only logs that connection in and sends `MONITOR`, handing over the socket and the
bytes already read past `+OK` (`monitor_conn.rs`). The recorder's other Redis connections go
through the `redis` crate (`redis_client.rs`). MONITOR stays raw because it is the recorder's
hot path: the crate would decode every line into a `Value` and a `String` first, several times
the cost of splitting the chunk in place (ARCHITECTURE.md, "Decisions";
`benches/monitor_stream.rs` measures both).
*/

use std::fmt;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub use super::redis_url::RedisUrl;

/// One RESP2 reply.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `+OK`.
    Status(Vec<u8>),
    /// `-ERR …`.
    Error(String),
    /// `:42`.
    Int(i64),
    /// `$…` (`None`: the null bulk).
    Bulk(Option<Vec<u8>>),
    /// `*…` (`None`: the null array).
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The bytes of a status or bulk reply.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Status(b) | Reply::Bulk(Some(b)) => Some(b),
            _ => None,
        }
    }

    /// The text of a status or bulk reply (lossy).
    pub fn text(&self) -> Option<String> {
        self.bytes().map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// An integer reply, or a bulk holding an integer.
    pub fn int(&self) -> Option<i64> {
        match self {
            Reply::Int(n) => Some(*n),
            _ => self.text()?.trim().parse().ok(),
        }
    }

    /// The elements of an array reply.
    pub fn array(&self) -> Option<&[Reply]> {
        match self {
            Reply::Array(Some(items)) => Some(items),
            _ => None,
        }
    }
}

/// Parses one reply from the start of `buf`: `Ok(None)` when more bytes are needed, else the
/// reply and the bytes it used.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    let Some(nl) = memchr::memchr(b'\n', buf) else { return Ok(None) };
    let line = &buf[..nl];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let after = nl + 1;
    let Some((&kind, body)) = line.split_first() else {
        return Err("an empty line where a reply should start".into());
    };
    let int = || -> Result<i64, String> {
        std::str::from_utf8(body)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("`{}` is not a number", String::from_utf8_lossy(body)))
    };
    match kind {
        b'+' => Ok(Some((Reply::Status(body.to_vec()), after))),
        b'-' => Ok(Some((Reply::Error(String::from_utf8_lossy(body).into_owned()), after))),
        b':' => Ok(Some((Reply::Int(int()?), after))),
        b'$' => {
            let n = int()?;
            if n < 0 {
                return Ok(Some((Reply::Bulk(None), after)));
            }
            // Redis caps bulk strings at proto-max-bulk-len (512 MiB by default).
            let end = usize::try_from(n)
                .ok()
                .filter(|&n| n <= 1 << 32)
                .and_then(|n| after.checked_add(n))
                .ok_or_else(|| format!("bulk length {n} is impossible"))?;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            Ok(Some((Reply::Bulk(Some(buf[after..end].to_vec())), end + 2)))
        }
        b'*' => {
            let n = int()?;
            if n < 0 {
                return Ok(Some((Reply::Array(None), after)));
            }
            let mut items = Vec::with_capacity((n as usize).min(1024));
            let mut at = after;
            for _ in 0..n {
                match parse_reply(&buf[at..])? {
                    Some((item, used)) => {
                        items.push(item);
                        at += used;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Reply::Array(Some(items)), at)))
        }
        other => Err(format!("unexpected reply type byte {other:#04x}")),
    }
}

/// Encodes a command as a RESP array of bulk strings.
pub fn encode(args: &[&[u8]], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Why talking to Redis failed, worded for the terminal by the caller.
#[derive(Debug)]
pub enum RespError {
    /// Could not connect, or the connection broke.
    Io(std::io::Error),
    /// No answer in time.
    Timeout,
    /// The bytes are not RESP.
    Protocol(String),
}

impl fmt::Display for RespError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RespError::Io(e) => write!(f, "{e}"),
            RespError::Timeout => f.write_str("no answer within 10 s"),
            RespError::Protocol(p) => write!(f, "not a Redis reply ({p})"),
        }
    }
}

/// One connection speaking RESP2.
pub struct RespConn {
    /// The socket.
    pub stream: TcpStream,
    /// Bytes read but not yet parsed.
    pub buf: Vec<u8>,
    out: Vec<u8>,
}

/// How long connecting and each request may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

impl RespConn {
    /// Connects (no login).
    pub async fn connect(url: &RedisUrl) -> Result<RespConn, RespError> {
        let connect = TcpStream::connect((url.host.as_str(), url.port));
        let stream = tokio::time::timeout(TIMEOUT, connect)
            .await
            .map_err(|_| RespError::Timeout)?
            .map_err(RespError::Io)?;
        let _ = stream.set_nodelay(true);
        Ok(RespConn::from_stream(stream))
    }

    /// Speaks RESP2 on a socket already connected (no login).
    pub fn from_stream(stream: TcpStream) -> RespConn {
        RespConn { stream, buf: Vec::with_capacity(64 << 10), out: Vec::new() }
    }

    /// Sends one command and reads its reply.
    pub async fn call(&mut self, args: &[&[u8]]) -> Result<Reply, RespError> {
        self.send(args).await?;
        self.read_reply().await
    }

    /// Sends one command without reading the reply.
    pub async fn send(&mut self, args: &[&[u8]]) -> Result<(), RespError> {
        self.out.clear();
        encode(args, &mut self.out);
        tokio::time::timeout(TIMEOUT, self.stream.write_all(&self.out))
            .await
            .map_err(|_| RespError::Timeout)?
            .map_err(RespError::Io)
    }

    /// Reads one reply, waiting at most [`TIMEOUT`].
    pub async fn read_reply(&mut self) -> Result<Reply, RespError> {
        tokio::time::timeout(TIMEOUT, self.read_reply_no_timeout())
            .await
            .map_err(|_| RespError::Timeout)?
    }

    /// Reads one reply, however long it takes (pub/sub messages).
    pub async fn read_reply_no_timeout(&mut self) -> Result<Reply, RespError> {
        loop {
            if let Some((reply, used)) = parse_reply(&self.buf).map_err(RespError::Protocol)? {
                self.buf.drain(..used);
                return Ok(reply);
            }
            let n = self.stream.read_buf(&mut self.buf).await.map_err(RespError::Io)?;
            if n == 0 {
                return Err(RespError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        let (r, n) = parse_reply(b"*3\r\n$1\r\na\r\n:5\r\n*-1\r\nrest").unwrap().unwrap();
        assert_eq!(n, 20);
        assert_eq!(
            r,
            Reply::Array(Some(vec![
                Reply::Bulk(Some(b"a".to_vec())),
                Reply::Int(5),
                Reply::Array(None)
            ]))
        );
        assert_eq!(parse_reply(b"$5\r\nab").unwrap(), None);
        assert_eq!(
            parse_reply(b"-NOPERM no\r\n").unwrap().unwrap().0,
            Reply::Error("NOPERM no".into())
        );
        assert!(parse_reply(b"?x\r\n").is_err());
        assert!(parse_reply(b"$9223372036854775807\r\n").is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = parse_reply(&bytes);
        }
    }
}
