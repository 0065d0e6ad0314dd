/*!
RESP2 helpers for the differential tests: parse a server's reply into a [`Reply`] and normalize
replies whose order Redis leaves to its randomly seeded dict.
*/

use cachetape_replayer::{Bytes, Reply};

/// Parses one RESP2 reply from the front of `b`; returns it and the bytes consumed.
pub fn parse(b: &[u8]) -> (Reply, usize) {
    let line_end = b.windows(2).position(|w| w == b"\r\n").expect("a complete RESP line");
    let line = &b[1..line_end];
    let n = || -> i64 { std::str::from_utf8(line).unwrap().parse().unwrap() };
    let next = line_end + 2;
    match b[0] {
        b'+' => {
            let s: &'static str =
                Box::leak(String::from_utf8_lossy(line).into_owned().into_boxed_str());
            (Reply::Status(s), next)
        }
        b'-' => (Reply::err_owned(String::from_utf8_lossy(line).into_owned()), next),
        b':' => (Reply::Integer(n()), next),
        b'$' => {
            let len = n();
            if len < 0 {
                return (Reply::Nil, next);
            }
            let len = len as usize;
            (Reply::Bulk(Bytes::from(&b[next..next + len])), next + len + 2)
        }
        b'*' => {
            let len = n();
            if len < 0 {
                return (Reply::NilArray, next);
            }
            let mut items = Vec::new();
            let mut at = next;
            for _ in 0..len {
                let (item, used) = parse(&b[at..]);
                items.push(item);
                at += used;
            }
            (Reply::Array(items), at)
        }
        other => panic!("not RESP: {:?}", other as char),
    }
}

/// Sorts an array reply (SMEMBERS of a set Redis keeps in a hash table has no defined order).
pub fn sorted(r: &Reply) -> Reply {
    match r {
        Reply::Array(items) => {
            let mut v = items.clone();
            v.sort_by_key(|i| i.to_resp());
            Reply::Array(v)
        }
        other => other.clone(),
    }
}
