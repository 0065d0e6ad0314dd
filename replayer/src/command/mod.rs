/*!
The commands the store models: the [`Command`] enum — with a [`Command::Unknown`] variant, so an
unmodelled command is data, not a crash — and, for each, Redis's name and arity.

What else is known about a command lives beside it, one fact per file: `name` finds the command
a name means, `semantics` says what it does to its keys. Running it is
[`Store::call`](crate::Store::call)'s (`dispatch.rs`).
*/

mod name;
pub(crate) mod semantics;

use crate::reply::Reply;

macro_rules! command_table {
    ($( $variant:ident $upper:literal $lower:literal $arity:literal; )*) => {
        /// A command the store knows by name. Anything else is [`Command::Unknown`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)]
        pub enum Command {
            $( $variant, )*
            /// Not modelled: counted by name, its keys become unknown.
            Unknown,
        }

        impl Command {
            /// Every modelled command.
            pub const ALL: &'static [Command] = &[ $( Command::$variant, )* ];

            /// The name as Redis spells it in MONITOR and its documentation (`SET`,
            /// `HGETALL`); `UNKNOWN` for [`Command::Unknown`].
            #[inline]
            pub const fn upper_name_str(self) -> &'static str {
                match self {
                    $( Command::$variant => $upper, )*
                    Command::Unknown => "UNKNOWN",
                }
            }

            /// Redis's (lower-case) name, as its error messages spell it; `unknown` for
            /// [`Command::Unknown`].
            #[inline]
            pub fn name(self) -> &'static str {
                match self {
                    $( Command::$variant => $lower, )*
                    Command::Unknown => "unknown",
                }
            }

            /// Redis's arity: exact argument count when positive, minimum when negative.
            #[inline]
            pub fn arity(self) -> i32 {
                match self {
                    $( Command::$variant => $arity, )*
                    Command::Unknown => -1,
                }
            }
        }
    };
}

command_table! {
    // strings.rs
    Get "GET" "get" 2;
    Set "SET" "set" -3;
    SetEx "SETEX" "setex" 4;
    PSetEx "PSETEX" "psetex" 4;
    SetNx "SETNX" "setnx" 3;
    GetSet "GETSET" "getset" 3;
    GetDel "GETDEL" "getdel" 2;
    GetEx "GETEX" "getex" -2;
    MGet "MGET" "mget" -2;
    MSet "MSET" "mset" -3;
    MSetNx "MSETNX" "msetnx" -3;
    Incr "INCR" "incr" 2;
    Decr "DECR" "decr" 2;
    IncrBy "INCRBY" "incrby" 3;
    DecrBy "DECRBY" "decrby" 3;
    IncrByFloat "INCRBYFLOAT" "incrbyfloat" 3;
    Append "APPEND" "append" 3;
    StrLen "STRLEN" "strlen" 2;
    GetRange "GETRANGE" "getrange" 4;
    SetRange "SETRANGE" "setrange" 4;
    // keys.rs
    Del "DEL" "del" -2;
    Unlink "UNLINK" "unlink" -2;
    Exists "EXISTS" "exists" -2;
    Touch "TOUCH" "touch" -2;
    Type "TYPE" "type" 2;
    Expire "EXPIRE" "expire" -3;
    PExpire "PEXPIRE" "pexpire" -3;
    ExpireAt "EXPIREAT" "expireat" -3;
    PExpireAt "PEXPIREAT" "pexpireat" -3;
    Persist "PERSIST" "persist" 2;
    Ttl "TTL" "ttl" 2;
    PTtl "PTTL" "pttl" 2;
    ExpireTime "EXPIRETIME" "expiretime" 2;
    PExpireTime "PEXPIRETIME" "pexpiretime" 2;
    Rename "RENAME" "rename" 3;
    RenameNx "RENAMENX" "renamenx" 3;
    Copy "COPY" "copy" -3;
    Select "SELECT" "select" 2;
    SwapDb "SWAPDB" "swapdb" 3;
    FlushDb "FLUSHDB" "flushdb" -1;
    FlushAll "FLUSHALL" "flushall" -1;
    DbSize "DBSIZE" "dbsize" 1;
    Ping "PING" "ping" -1;
    Echo "ECHO" "echo" 2;
    // hashes.rs
    HSet "HSET" "hset" -4;
    HMSet "HMSET" "hmset" -4;
    HSetNx "HSETNX" "hsetnx" 4;
    HGet "HGET" "hget" 3;
    HMGet "HMGET" "hmget" -3;
    HGetAll "HGETALL" "hgetall" 2;
    HDel "HDEL" "hdel" -3;
    HExists "HEXISTS" "hexists" 3;
    HLen "HLEN" "hlen" 2;
    HStrLen "HSTRLEN" "hstrlen" 3;
    HKeys "HKEYS" "hkeys" 2;
    HVals "HVALS" "hvals" 2;
    HIncrBy "HINCRBY" "hincrby" 4;
    HIncrByFloat "HINCRBYFLOAT" "hincrbyfloat" 4;
    // sets.rs
    SAdd "SADD" "sadd" -3;
    SRem "SREM" "srem" -3;
    SMembers "SMEMBERS" "smembers" 2;
    SIsMember "SISMEMBER" "sismember" 3;
    SMIsMember "SMISMEMBER" "smismember" -3;
    SCard "SCARD" "scard" 2;
    // lists.rs
    LPush "LPUSH" "lpush" -3;
    RPush "RPUSH" "rpush" -3;
    LPushX "LPUSHX" "lpushx" -3;
    RPushX "RPUSHX" "rpushx" -3;
    LPop "LPOP" "lpop" -2;
    RPop "RPOP" "rpop" -2;
    LRange "LRANGE" "lrange" 4;
    LLen "LLEN" "llen" 2;
    LIndex "LINDEX" "lindex" 3;
    // zsets.rs
    ZAdd "ZADD" "zadd" -4;
    ZIncrBy "ZINCRBY" "zincrby" 4;
    ZRem "ZREM" "zrem" -3;
    ZRange "ZRANGE" "zrange" -4;
    ZScore "ZSCORE" "zscore" 3;
    ZCard "ZCARD" "zcard" 2;
    // transactions.rs
    Multi "MULTI" "multi" 1;
    Exec "EXEC" "exec" 1;
    Discard "DISCARD" "discard" 1;
    Watch "WATCH" "watch" -2;
    Unwatch "UNWATCH" "unwatch" 1;
    // scripts.rs
    Eval "EVAL" "eval" -3;
    EvalRo "EVAL_RO" "eval_ro" -3;
    EvalSha "EVALSHA" "evalsha" -3;
    EvalShaRo "EVALSHA_RO" "evalsha_ro" -3;
    FCall "FCALL" "fcall" -3;
    FCallRo "FCALL_RO" "fcall_ro" -3;
}

impl Command {
    /// True when `argc` arguments satisfy the arity.
    #[inline]
    pub fn arity_ok(self, argc: usize) -> bool {
        let a = self.arity();
        if a > 0 { argc == a as usize } else { argc >= (-a) as usize }
    }

    /// True for EVAL, EVALSHA, FCALL and their read-only variants: their effects arrive as the
    /// script's own `[lua]` lines.
    #[inline]
    pub fn is_script(self) -> bool {
        matches!(
            self,
            Command::Eval
                | Command::EvalRo
                | Command::EvalSha
                | Command::EvalShaRo
                | Command::FCall
                | Command::FCallRo
        )
    }

    /// True for MULTI, EXEC, DISCARD, WATCH and UNWATCH, which act on the connection.
    #[inline]
    pub fn is_transaction(self) -> bool {
        matches!(
            self,
            Command::Multi | Command::Exec | Command::Discard | Command::Watch | Command::Unwatch
        )
    }

    /// The error Redis gives when the arity is wrong.
    pub fn arity_error(self) -> Reply {
        Reply::err_owned(format!("ERR wrong number of arguments for '{}' command", self.name()))
    }
}

#[cfg(test)]
mod tests {
    use cachetape_tape::{Argv, commands};

    use super::*;

    #[test]
    fn arities_match_redis_command_table() {
        for &c in Command::ALL {
            let spec = commands::lookup(&Argv::from_parts([c.name()]))
                .unwrap_or_else(|| panic!("{}", c.name()));
            assert_eq!(c.arity(), spec.arity, "{}", c.name());
        }
    }

    #[test]
    fn names_are_redis_s_in_both_cases() {
        for &c in Command::ALL {
            assert_eq!(c.upper_name_str().to_ascii_lowercase(), c.name());
        }
        assert_eq!(Command::Unknown.upper_name_str(), "UNKNOWN");
    }
}
