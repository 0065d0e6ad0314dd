/*!
What a command answered: [`Reply`], and its RESP2 encoding.

A reply is what real Redis would have sent on the wire, in Redis's own shapes: nil bulk (`$-1`),
nil array (`*-1`, an aborted EXEC), status (`+OK`), error (`-ERR …`, text exactly as Redis words
it), integer, bulk string and array. One more case exists because a replay can be blind:
[`Reply::Unknown`] — the store cannot say what Redis answered (the command is not modelled, or
it read a key whose state is unknown). It has no RESP form; [`Reply::write_resp`] refuses it.
*/

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Shared immutable bytes: keys, values and bulk replies (cloning is a reference-count bump).
pub type Bytes = Arc<[u8]>;

/// One reply, as Redis would have sent it.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// The nil bulk string (`$-1`): GET of a missing key.
    Nil,
    /// The nil array (`*-1`): an EXEC aborted by WATCH, LPOP key count on a missing key.
    NilArray,
    /// A status line (`+OK`, `+QUEUED`, `+string`).
    Status(&'static str),
    /// An error line, code included and without the leading `-` (`ERR syntax error`,
    /// `WRONGTYPE Operation against a key holding the wrong kind of value`).
    Error(Cow<'static, str>),
    /// An integer (`:1`).
    Integer(i64),
    /// A bulk string.
    Bulk(Bytes),
    /// An array of replies.
    Array(Vec<Reply>),
    /// The store cannot say what Redis answered: the command is not modelled, or it depends on
    /// a key whose state is unknown.
    Unknown,
}

/// The error every command gives for a key of the wrong type.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

impl Reply {
    /// `+OK`.
    pub const OK: Reply = Reply::Status("OK");
    /// `+QUEUED`, what a client gets for each command sent inside MULTI.
    pub const QUEUED: Reply = Reply::Status("QUEUED");

    /// An error with static text (`"ERR syntax error"`).
    pub fn err(text: &'static str) -> Reply {
        Reply::Error(Cow::Borrowed(text))
    }

    /// An error with formatted text; `\r` and `\n` become spaces, as Redis does.
    pub fn err_owned(text: String) -> Reply {
        let text = if text.contains(['\r', '\n']) { text.replace(['\r', '\n'], " ") } else { text };
        Reply::Error(Cow::Owned(text))
    }

    /// `-WRONGTYPE …`.
    pub fn wrong_type() -> Reply {
        Reply::err(WRONGTYPE)
    }

    /// `-ERR syntax error`.
    pub fn syntax() -> Reply {
        Reply::err("ERR syntax error")
    }

    /// `-ERR value is not an integer or out of range`.
    pub fn not_integer() -> Reply {
        Reply::err("ERR value is not an integer or out of range")
    }

    /// A bulk reply copying `bytes`.
    pub fn bulk(bytes: &[u8]) -> Reply {
        Reply::Bulk(Bytes::from(bytes))
    }

    /// True for error replies.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// True when the reply is, or contains, [`Reply::Unknown`].
    #[inline]
    pub fn is_unknown(&self) -> bool {
        match self {
            Reply::Unknown => true,
            Reply::Array(items) => items.iter().any(Reply::is_unknown),
            _ => false,
        }
    }

    /// The bytes of a bulk reply.
    pub fn as_bulk(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(b) => Some(b),
            _ => None,
        }
    }

    /// Appends the RESP2 encoding to `out`; `Err(())` (and nothing written for that element)
    /// when the reply is or contains [`Reply::Unknown`], which has no wire form.
    pub fn write_resp(&self, out: &mut Vec<u8>) -> Result<(), UnknownReply> {
        match self {
            Reply::Nil => out.extend_from_slice(b"$-1\r\n"),
            Reply::NilArray => out.extend_from_slice(b"*-1\r\n"),
            Reply::Status(s) => {
                out.push(b'+');
                out.extend_from_slice(s.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Error(e) => {
                out.push(b'-');
                out.extend_from_slice(e.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Integer(i) => {
                out.push(b':');
                out.extend_from_slice(i.to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Bulk(b) => {
                out.push(b'$');
                out.extend_from_slice(b.len().to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Reply::Array(items) => {
                out.push(b'*');
                out.extend_from_slice(items.len().to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
                for item in items {
                    item.write_resp(out)?;
                }
            }
            Reply::Unknown => return Err(UnknownReply),
        }
        Ok(())
    }

    /// The RESP2 encoding, or `None` for a reply that is or contains [`Reply::Unknown`].
    pub fn to_resp(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        self.write_resp(&mut out).ok().map(|()| out)
    }
}

/// A reply as [`Replayer::apply_ref`](crate::Replayer::apply_ref) gives it: a bulk string still
/// borrowed from the store (no copy, no allocation), or any reply by value.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplyRef<'a> {
    /// A bulk reply whose bytes are the store's value (valid until the next command).
    Bulk(&'a [u8]),
    /// Any other reply.
    Owned(Reply),
}

impl ReplyRef<'_> {
    /// True for the nil bulk reply (`$-1`).
    #[inline]
    pub fn is_nil(&self) -> bool {
        matches!(self, ReplyRef::Owned(Reply::Nil))
    }

    /// The bytes of a bulk reply.
    #[inline]
    pub fn as_bulk(&self) -> Option<&[u8]> {
        match self {
            ReplyRef::Bulk(b) => Some(b),
            ReplyRef::Owned(r) => r.as_bulk(),
        }
    }

    /// True when the reply is, or contains, [`Reply::Unknown`].
    #[inline]
    pub fn is_unknown(&self) -> bool {
        matches!(self, ReplyRef::Owned(r) if r.is_unknown())
    }

    /// The reply as an owned [`Reply`] (a bulk reply's bytes are copied).
    #[inline]
    pub fn into_reply(self) -> Reply {
        match self {
            ReplyRef::Bulk(b) => Reply::bulk(b),
            ReplyRef::Owned(r) => r,
        }
    }
}

/// A reply the store could not compute has no RESP form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the reply is unknown: the store could not compute it, so it has no RESP form")]
pub struct UnknownReply;

/// Renders like `redis-cli` does, on one line: `(nil)`, `"bytes"`, `(integer) 3`,
/// `(error) ERR …`, `1) "a" 2) "b"`; arrays in brackets.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Nil => f.write_str("(nil)"),
            Reply::NilArray => f.write_str("(nil array)"),
            Reply::Status(s) => f.write_str(s),
            Reply::Error(e) => write!(f, "(error) {e}"),
            Reply::Integer(i) => write!(f, "(integer) {i}"),
            Reply::Bulk(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Reply::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Reply::Unknown => f.write_str("(unknown)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_encoding() {
        let r = Reply::Array(vec![
            Reply::Nil,
            Reply::OK,
            Reply::Integer(-3),
            Reply::bulk(b"a\r\nb"),
            Reply::err("ERR x"),
            Reply::Array(vec![]),
            Reply::NilArray,
        ]);
        assert_eq!(
            r.to_resp().unwrap(),
            b"*7\r\n$-1\r\n+OK\r\n:-3\r\n$4\r\na\r\nb\r\n-ERR x\r\n*0\r\n*-1\r\n".to_vec()
        );
        assert_eq!(Reply::Array(vec![Reply::Unknown]).to_resp(), None);
    }

    #[test]
    fn borrowed_replies_become_the_owned_ones() {
        assert_eq!(ReplyRef::Bulk(b"v").into_reply(), Reply::bulk(b"v"));
        assert_eq!(ReplyRef::Bulk(b"v").as_bulk(), Some(&b"v"[..]));
        assert!(ReplyRef::Owned(Reply::Nil).is_nil());
        assert!(!ReplyRef::Bulk(b"").is_nil());
        assert!(ReplyRef::Owned(Reply::Array(vec![Reply::Unknown])).is_unknown());
        assert_eq!(ReplyRef::Owned(Reply::OK).into_reply(), Reply::OK);
    }

    #[test]
    fn formatted_errors_lose_newlines() {
        assert_eq!(Reply::err_owned("ERR a\r\nb".into()), Reply::err("ERR a  b"));
    }
}
