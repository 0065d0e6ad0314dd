/*!
`--redact values` and `--redact keys,values`: customer data replaced by keyed hashes.

One keyed hash (HMAC-SHA-256 under a random 32-byte key drawn per trace and never stored,
truncated to 64 bits, written `~` + 16 hex digits) replaces every piece of customer data, so
equal values stay equal — within a trace and across sources — and nothing can be recovered or
confirmed by guessing without the key, which died with the recorder.

What is a value is per-command knowledge ([`value_positions`]): `SET k v`'s `v`, `HSET h f v`'s
`v` (field names are schema, not data), `ZADD`'s members (scores are kept, like TTLs, counts and
other numbers that steer the command), `XADD`'s field values, the `ARGV` of scripts and functions
(the script text is code and is kept), `PUBLISH`'s message. Commands with no value arguments
(`GET`, `DEL`, `EXPIRE k 10`, `INCRBY k 5`, …) keep every argument. A command the table does not
know has every argument hashed that is not a key: conservative.

A value that is a JSON object or array is redacted *structurally*: object keys (field names) are
kept and every leaf string or number is hashed as its text (`{"id":42,"status":"PAID"}` →
`{"id":"~…","status":"~…"}`), so a cached JSON document still compares field by field with the
row it was built from.

Row images are customer data too: every column value is hashed as the text a cache would hold
(`42`, `9.99`, `PAID`, `2026-11-26 04:15:25`), JSON columns structurally, NULL kept — so a cached
string and the column it came from compare equal after redaction. Primary-key columns are kept
under `--redact values` (keys are kept there, and `order:42` must still find row `id = 42`);
under `--redact keys,values` keys are hashed segment by segment (`order:42` → `order:~…`,
`cart:{42}` → `cart:{~…}`: the first segment is kept when it is a plain word, every later segment
and every hash tag is hashed) and primary-key columns with the same hash, so `{id}` parts still
match their rows. See ARCHITECTURE.md for the limits.
*/

use cachetape_tape::commands;
use cachetape_tape::{
    Argv, Cell, KeyspaceNotice, Redaction, RedisCommand, RowChange, RowImage, Snapshot,
    StoredValue, Value,
};
use sha2::{Digest, Sha256};

/// Replaces values (and keys) with keyed hashes.
pub struct Redactor {
    mode: Redaction,
    key: [u8; 32],
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor").field("mode", &self.mode).finish_non_exhaustive()
    }
}

impl Redactor {
    /// A redactor with a fresh random key (from the operating system).
    pub fn new(mode: Redaction) -> Redactor {
        let mut key = [0u8; 32];
        if getrandom::fill(&mut key).is_err() {
            // No OS randomness: fall back to time and addresses. Still never stored.
            let seed =
                format!("{:?}{:p}{}", std::time::SystemTime::now(), &key, std::process::id());
            key.copy_from_slice(&Sha256::digest(seed.as_bytes()));
        }
        Redactor { mode, key }
    }

    /// A redactor with a given key (tests).
    pub fn with_key(mode: Redaction, key: [u8; 32]) -> Redactor {
        Redactor { mode, key }
    }

    /// The mode.
    pub fn mode(&self) -> Redaction {
        self.mode
    }

    fn keys_too(&self) -> bool {
        self.mode == Redaction::KeysAndValues
    }

    /// `~` and 16 hex digits: the keyed hash of `data`.
    pub fn hash(&self, data: &[u8]) -> Vec<u8> {
        const BLOCK: usize = 64;
        let mut k = [0u8; BLOCK];
        k[..32].copy_from_slice(&self.key);
        let mut inner = Sha256::new();
        inner.update(k.map(|b| b ^ 0x36));
        inner.update(data);
        let inner = inner.finalize();
        let mut outer = Sha256::new();
        outer.update(k.map(|b| b ^ 0x5c));
        outer.update(inner);
        let mac = outer.finalize();
        let mut out = Vec::with_capacity(17);
        out.push(b'~');
        for b in &mac[..8] {
            out.extend_from_slice(format!("{b:02x}").as_bytes());
        }
        out
    }

    /// A value: JSON objects and arrays structurally, anything else whole. Empty stays empty.
    pub fn value(&self, data: &[u8]) -> Vec<u8> {
        if data.is_empty() {
            return Vec::new();
        }
        let first = data.iter().find(|b| !b.is_ascii_whitespace());
        if matches!(first, Some(b'{') | Some(b'['))
            && let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(data)
        {
            self.json(&mut json);
            if let Ok(text) = serde_json::to_vec(&json) {
                return text;
            }
        }
        self.hash(data)
    }

    fn json(&self, v: &mut serde_json::Value) {
        use serde_json::Value as J;
        match v {
            J::Null | J::Bool(_) => {}
            J::Number(n) => *v = J::String(self.hash_text(&n.to_string())),
            J::String(s) => *v = J::String(self.hash_text(s)),
            J::Array(items) => items.iter_mut().for_each(|i| self.json(i)),
            J::Object(map) => map.values_mut().for_each(|i| self.json(i)),
        }
    }

    fn hash_text(&self, s: &str) -> String {
        String::from_utf8(self.hash(s.as_bytes())).unwrap_or_default()
    }

    /// A key: unchanged under `--redact values`; under `keys,values` hashed segment by segment
    /// (split at `:`), keeping a leading plain-word segment and the braces of hash tags.
    pub fn key(&self, key: &[u8]) -> Vec<u8> {
        if !self.keys_too() {
            return key.to_vec();
        }
        let segments: Vec<&[u8]> = key.split(|&b| b == b':').collect();
        let mut out = Vec::with_capacity(key.len() + 16);
        for (i, seg) in segments.iter().enumerate() {
            if i > 0 {
                out.push(b':');
            }
            let plain_word = !seg.is_empty()
                && seg.iter().all(|b| b.is_ascii_alphabetic() || *b == b'_' || *b == b'-');
            if i == 0 && segments.len() > 1 && plain_word {
                out.extend_from_slice(seg);
            } else if seg.is_empty() {
            } else if seg.len() >= 2 && seg[0] == b'{' && seg[seg.len() - 1] == b'}' {
                out.push(b'{');
                out.extend_from_slice(&self.hash(&seg[1..seg.len() - 1]));
                out.push(b'}');
            } else {
                out.extend_from_slice(&self.hash(seg));
            }
        }
        out
    }

    /// Redacts a command and its script calls in place.
    pub fn command(&self, c: &mut RedisCommand) {
        if self.mode == Redaction::None {
            return;
        }
        c.argv = self.argv(&c.argv);
        for s in &mut c.script {
            s.argv = self.argv(&s.argv);
        }
    }

    /// A redacted copy of one command's arguments.
    pub fn argv(&self, argv: &Argv) -> Argv {
        if self.mode == Redaction::None || argv.len() < 2 {
            return argv.clone();
        }
        let keys = commands::keys(argv);
        let mut is_key = vec![false; argv.len()];
        for &(i, _) in &keys.positions {
            is_key[i] = true;
        }
        let values = value_positions(argv);
        let mut out = Argv::with_capacity(argv.len(), argv.byte_len() + 16 * argv.len());
        for (i, arg) in argv.iter().enumerate() {
            if i == 0 {
                out.push(arg);
            } else if is_key[i] {
                out.push(&self.key(arg));
            } else if match &values {
                Values::Known(v) => v.contains(&i),
                Values::AllButKeys => true,
            } || (self.keys_too() && keys.incomplete)
            {
                out.push(&self.value(arg));
            } else {
                out.push(arg);
            }
        }
        out
    }

    /// Redacts a snapshot in place: the key per mode, the value's data (hash fields and sorted
    /// set scores kept).
    pub fn snapshot(&self, s: &mut Snapshot) {
        if self.mode == Redaction::None {
            return;
        }
        s.key = self.key(&s.key);
        s.value = match std::mem::replace(&mut s.value, StoredValue::Missing) {
            StoredValue::String(v) => StoredValue::String(self.value(&v)),
            StoredValue::Hash(fields) => {
                StoredValue::Hash(fields.into_iter().map(|(f, v)| (f, self.value(&v))).collect())
            }
            StoredValue::List(items) => {
                StoredValue::List(items.iter().map(|v| self.value(v)).collect())
            }
            StoredValue::Set(items) => {
                StoredValue::Set(items.iter().map(|v| self.value(v)).collect())
            }
            StoredValue::SortedSet(items) => StoredValue::SortedSet(
                items.into_iter().map(|(m, s)| (self.value(&m), s)).collect(),
            ),
            other => other,
        };
    }

    /// Redacts a keyspace notice's key per mode.
    pub fn keyspace(&self, n: &mut KeyspaceNotice) {
        n.key = self.key(&n.key);
    }

    /// Redacts a row change's images: every column but the primary key's under `values`, every
    /// column under `keys,values`.
    pub fn row(&self, change: &mut RowChange, primary_key: &[String]) {
        if self.mode == Redaction::None {
            return;
        }
        for image in [&mut change.before, &mut change.after].into_iter().flatten() {
            self.image(image, primary_key);
        }
    }

    fn image(&self, image: &mut RowImage, primary_key: &[String]) {
        for Cell { column, value } in &mut image.cells {
            let is_pk = primary_key.iter().any(|k| k.eq_ignore_ascii_case(column));
            if is_pk && !self.keys_too() {
                continue;
            }
            *value = self.column_value(value);
        }
    }

    /// One column value, hashed as the text a cache would hold.
    pub fn column_value(&self, value: &Value) -> Value {
        let text = match value {
            Value::Null => return Value::Null,
            Value::Int(n) => n.to_string(),
            Value::UInt(n) => n.to_string(),
            Value::Float(x) => x.to_string(),
            Value::Double(x) => x.to_string(),
            Value::Decimal(d) => d.clone(),
            Value::Bytes(b) => return Value::Bytes(self.value(b)),
            Value::DateTime(dt) => dt.to_string(),
            Value::Timestamp(us) => cachetape_tape::format_time(*us),
            Value::Time(us) => us.to_string(),
            Value::Json(text) => {
                let redacted = self.value(text.as_bytes());
                return Value::Json(String::from_utf8_lossy(&redacted).into_owned());
            }
        };
        Value::Bytes(self.hash(text.as_bytes()))
    }
}

/// Which arguments of a command are values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Values {
    /// These argument indexes (possibly none).
    Known(Vec<usize>),
    /// The command is not in the table: every argument that is not a key.
    AllButKeys,
}

/// The value arguments of `argv`, by the command's own syntax.
pub fn value_positions(argv: &Argv) -> Values {
    let n = argv.len();
    let name = String::from_utf8_lossy(argv.name()).to_ascii_uppercase();
    let from = |start: usize, step: usize| Values::Known((start..n).step_by(step).collect());
    let at = |idx: &[usize]| Values::Known(idx.iter().copied().filter(|&i| i < n).collect());
    match name.as_str() {
        "SET" | "SETNX" | "GETSET" | "APPEND" | "SISMEMBER" | "ZSCORE" | "ZRANK" | "ZREVRANK"
        | "LPOS" | "PUBLISH" | "SPUBLISH" => at(&[2]),
        "ECHO" | "PING" => at(&[1]),
        "SETEX" | "PSETEX" | "SETRANGE" | "HSETNX" | "LSET" | "LREM" | "ZINCRBY" | "SMOVE"
        | "RESTORE" => at(&[3]),
        "LINSERT" => at(&[3, 4]),
        "LPUSH" | "RPUSH" | "LPUSHX" | "RPUSHX" | "SADD" | "SREM" | "SMISMEMBER" | "ZREM"
        | "ZMSCORE" | "PFADD" => from(2, 1),
        "MSET" | "MSETNX" => from(2, 2),
        "HSET" | "HMSET" => from(3, 2),
        "ZADD" => {
            let mut i = 2;
            while i < n {
                let a = argv.get(i).unwrap_or_default().to_ascii_uppercase();
                if matches!(&a[..], b"NX" | b"XX" | b"GT" | b"LT" | b"CH" | b"INCR") {
                    i += 1;
                } else {
                    break;
                }
            }
            from(i + 1, 2)
        }
        "XADD" => {
            let mut i = 2;
            while i < n {
                let a = argv.get(i).unwrap_or_default().to_ascii_uppercase();
                match &a[..] {
                    b"NOMKSTREAM" => i += 1,
                    b"MAXLEN" | b"MINID" => {
                        i += 1;
                        if matches!(argv.get(i), Some(b"=") | Some(b"~")) {
                            i += 1;
                        }
                        i += 1;
                    }
                    b"LIMIT" => i += 2,
                    _ => break,
                }
            }
            // `i` is the id; field value pairs follow.
            from(i + 2, 2)
        }
        "EVAL" | "EVALSHA" | "EVAL_RO" | "EVALSHA_RO" | "FCALL" | "FCALL_RO" => {
            let numkeys = argv
                .get(2)
                .and_then(|a| std::str::from_utf8(a).ok())
                .and_then(|s| s.parse::<usize>().ok());
            match numkeys {
                Some(k) => from(3 + k, 1),
                None => Values::AllButKeys,
            }
        }
        // Commands without value arguments: keys, numbers, options, cursors, patterns.
        "GET" | "GETEX" | "GETDEL" | "DEL" | "UNLINK" | "EXISTS" | "EXPIRE" | "PEXPIRE"
        | "EXPIREAT" | "PEXPIREAT" | "EXPIRETIME" | "PEXPIRETIME" | "PERSIST" | "TTL" | "PTTL"
        | "TYPE" | "TOUCH" | "INCR" | "DECR" | "INCRBY" | "DECRBY" | "INCRBYFLOAT" | "MGET"
        | "STRLEN" | "GETRANGE" | "GETBIT" | "SETBIT" | "BITCOUNT" | "HGET" | "HMGET"
        | "HGETALL" | "HDEL" | "HEXISTS" | "HKEYS" | "HVALS" | "HLEN" | "HINCRBY"
        | "HINCRBYFLOAT" | "HSTRLEN" | "HRANDFIELD" | "LRANGE" | "LLEN" | "LINDEX" | "LPOP"
        | "RPOP" | "LTRIM" | "RPOPLPUSH" | "LMOVE" | "BLPOP" | "BRPOP" | "BLMOVE" | "LMPOP"
        | "SMEMBERS" | "SCARD" | "SPOP" | "SRANDMEMBER" | "SINTER" | "SUNION" | "SDIFF"
        | "SINTERSTORE" | "SUNIONSTORE" | "SDIFFSTORE" | "SINTERCARD" | "ZRANGE"
        | "ZRANGEBYSCORE" | "ZREVRANGE" | "ZREVRANGEBYSCORE" | "ZRANGESTORE" | "ZCARD"
        | "ZCOUNT" | "ZREMRANGEBYSCORE" | "ZREMRANGEBYRANK" | "ZPOPMIN" | "ZPOPMAX"
        | "BZPOPMIN" | "BZPOPMAX" | "ZUNIONSTORE" | "ZINTERSTORE" | "ZUNION" | "ZINTER"
        | "ZDIFF" | "ZDIFFSTORE" | "ZRANDMEMBER" | "SCAN" | "SSCAN" | "HSCAN" | "ZSCAN"
        | "KEYS" | "RANDOMKEY" | "SELECT" | "SWAPDB" | "MULTI" | "EXEC" | "DISCARD" | "WATCH"
        | "UNWATCH" | "TIME" | "INFO" | "DBSIZE" | "FLUSHDB" | "FLUSHALL" | "CLIENT" | "CONFIG"
        | "COMMAND" | "AUTH" | "HELLO" | "QUIT" | "RESET" | "RENAME" | "RENAMENX" | "COPY"
        | "MOVE" | "OBJECT" | "MEMORY" | "DUMP" | "SCRIPT" | "FUNCTION" | "SUBSCRIBE"
        | "PSUBSCRIBE" | "UNSUBSCRIBE" | "PUNSUBSCRIBE" | "SSUBSCRIBE" | "PUBSUB" | "XRANGE"
        | "XREVRANGE" | "XREAD" | "XREADGROUP" | "XLEN" | "XDEL" | "XACK" | "XGROUP" | "XTRIM"
        | "XINFO" | "XPENDING" | "XCLAIM" | "XAUTOCLAIM" | "WAIT" | "READONLY" | "READWRITE"
        | "CLUSTER" | "ROLE" | "LASTSAVE" | "SLOWLOG" | "LATENCY" | "ACL" | "MONITOR"
        | "PFCOUNT" | "PFMERGE" | "SORT" | "SORT_RO" | "BITOP" | "BITPOS" | "OBJECT|ENCODING" => {
            Values::Known(Vec::new())
        }
        _ => Values::AllButKeys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachetape_tape::Name;

    fn r(mode: Redaction) -> Redactor {
        Redactor::with_key(mode, [7; 32])
    }

    fn args(a: &Argv) -> Vec<String> {
        a.iter().map(|x| String::from_utf8_lossy(x).into_owned()).collect()
    }

    #[test]
    fn values_are_hashed_keys_names_and_numbers_kept() {
        let red = r(Redaction::Values);
        let h = |s: &str| String::from_utf8(red.hash(s.as_bytes())).unwrap();
        let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
            (
                vec!["SET", "k", "PAID", "EX", "300"],
                vec!["SET".into(), "k".into(), h("PAID"), "EX".into(), "300".into()],
            ),
            (vec!["SETEX", "k", "10", "v"], vec!["SETEX".into(), "k".into(), "10".into(), h("v")]),
            (
                vec!["HSET", "h", "status", "PAID", "total", "9.99"],
                vec![
                    "HSET".into(),
                    "h".into(),
                    "status".into(),
                    h("PAID"),
                    "total".into(),
                    h("9.99"),
                ],
            ),
            (
                vec!["MSET", "a", "1", "b", "2"],
                vec!["MSET".into(), "a".into(), h("1"), "b".into(), h("2")],
            ),
            (
                vec!["ZADD", "z", "NX", "1.5", "alice"],
                vec!["ZADD".into(), "z".into(), "NX".into(), "1.5".into(), h("alice")],
            ),
            (
                vec!["XADD", "s", "MAXLEN", "~", "100", "*", "f", "v"],
                vec![
                    "XADD".into(),
                    "s".into(),
                    "MAXLEN".into(),
                    "~".into(),
                    "100".into(),
                    "*".into(),
                    "f".into(),
                    h("v"),
                ],
            ),
            (
                vec!["EVAL", "return 1", "1", "k", "secret"],
                vec!["EVAL".into(), "return 1".into(), "1".into(), "k".into(), h("secret")],
            ),
            (vec!["GET", "k"], vec!["GET".into(), "k".into()]),
            (vec!["EXPIRE", "k", "10"], vec!["EXPIRE".into(), "k".into(), "10".into()]),
            (
                vec!["LINSERT", "l", "BEFORE", "a", "b"],
                vec!["LINSERT".into(), "l".into(), "BEFORE".into(), h("a"), h("b")],
            ),
            (vec!["PUBLISH", "ch", "hello"], vec!["PUBLISH".into(), "ch".into(), h("hello")]),
            (vec!["NOSUCH", "x", "y"], vec!["NOSUCH".into(), h("x"), h("y")]),
        ];
        for (input, want) in cases {
            assert_eq!(args(&red.argv(&Argv::from_parts(&input))), want, "{input:?}");
        }
    }

    #[test]
    fn json_values_keep_their_structure() {
        let red = r(Redaction::Values);
        let out = red.value(br#"{"id":42,"status":"PAID","ok":true,"tags":["a"]}"#);
        let text = String::from_utf8(out).unwrap();
        let h = |s: &str| String::from_utf8(red.hash(s.as_bytes())).unwrap();
        assert_eq!(
            text,
            format!(
                r#"{{"id":"{}","status":"{}","ok":true,"tags":["{}"]}}"#,
                h("42"),
                h("PAID"),
                h("a")
            )
        );
        // The column a cached field came from hashes the same.
        assert_eq!(
            red.column_value(&Value::Bytes(b"PAID".to_vec())),
            Value::Bytes(h("PAID").into_bytes())
        );
        assert_eq!(red.column_value(&Value::Int(42)), Value::Bytes(h("42").into_bytes()));
        assert_eq!(
            red.column_value(&Value::Decimal("9.99".into())),
            Value::Bytes(h("9.99").into_bytes())
        );
    }

    #[test]
    fn keys_keep_prefix_and_match_row_ids() {
        let red = r(Redaction::KeysAndValues);
        let h = |s: &str| String::from_utf8(red.hash(s.as_bytes())).unwrap();
        assert_eq!(red.key(b"order:42"), format!("order:{}", h("42")).into_bytes());
        assert_eq!(red.key(b"cart:{42}"), format!("cart:{{{}}}", h("42")).into_bytes());
        assert_eq!(red.key(b"plain"), h("plain").into_bytes());
        let mut change = RowChange {
            table: Name::from("shop.orders"),
            op: cachetape_tape::RowOp::Insert,
            before: None,
            after: Some(RowImage {
                cells: vec![Cell { column: Name::from("id"), value: Value::Int(42) }],
            }),
            txn: 1,
            header_secs: 0,
        };
        red.row(&mut change, &["id".into()]);
        assert_eq!(change.after.unwrap().cells[0].value, Value::Bytes(h("42").into_bytes()));
        // Under values only, keys and primary keys stay.
        let red = r(Redaction::Values);
        assert_eq!(red.key(b"order:42"), b"order:42");
    }

    #[test]
    fn equal_values_stay_equal_and_keys_differ_per_trace() {
        let a = Redactor::new(Redaction::Values);
        let b = Redactor::new(Redaction::Values);
        assert_eq!(a.hash(b"x"), a.hash(b"x"));
        assert_ne!(a.hash(b"x"), b.hash(b"x"));
        assert_eq!(a.hash(b"x").len(), 17);
    }
}
