/*!
The commands the store models: the [`Command`] enum (with an [`Command::Unknown`] variant, so an
unmodelled command is data, not a crash), Redis's arity for each, and [`Store::call`], which
checks arity, routes around unknown keys and dispatches to the command family's file.

Dependence on unknown keys is decided here, once for every command: when a command touches a key
whose state is unknown, its reply is [`Reply::Unknown`] and, if it writes, its keys stay unknown
— except for blind overwrites (SET without conditions, SETEX, PSETEX, MSET, DEL, UNLINK), whose
result does not depend on what was there, so their keys become known again.
*/

use cachetape_tape::commands::{self, cmd};
use cachetape_tape::{Argv, ArgvRef};

use crate::reply::{Reply, ReplyRef};
use crate::store::{ClientId, Cx, Store};
use crate::{hashes, keys, lists, sets, strings, zsets};

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

            /// The command named `name` (any case).
            #[inline]
            pub fn parse(name: &[u8]) -> Command {
                if name.len() > MAX_NAME {
                    return Command::Unknown;
                }
                Command::by_code(name_code_fast(name))
            }

            /// The command whose [`name_code`] is `code`.
            #[inline]
            fn by_code(code: u128) -> Command {
                let mut i = name_slot(code);
                loop {
                    let (c, command) = NAMES[i];
                    // Empty slots hold code 0 and `Unknown` (no name has code 0 but "").
                    if c == code || c == 0 {
                        return command;
                    }
                    i = (i + 1) % NAMES.len();
                }
            }

            /// Redis's upper-case name.
            pub(crate) const fn upper_name(self) -> &'static [u8] {
                match self {
                    $( Command::$variant => $upper, )*
                    Command::Unknown => b"",
                }
            }

            /// Redis's (lower-case) name, as its error messages spell it.
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
    Get b"GET" "get" 2;
    Set b"SET" "set" -3;
    SetEx b"SETEX" "setex" 4;
    PSetEx b"PSETEX" "psetex" 4;
    SetNx b"SETNX" "setnx" 3;
    GetSet b"GETSET" "getset" 3;
    GetDel b"GETDEL" "getdel" 2;
    GetEx b"GETEX" "getex" -2;
    MGet b"MGET" "mget" -2;
    MSet b"MSET" "mset" -3;
    MSetNx b"MSETNX" "msetnx" -3;
    Incr b"INCR" "incr" 2;
    Decr b"DECR" "decr" 2;
    IncrBy b"INCRBY" "incrby" 3;
    DecrBy b"DECRBY" "decrby" 3;
    IncrByFloat b"INCRBYFLOAT" "incrbyfloat" 3;
    Append b"APPEND" "append" 3;
    StrLen b"STRLEN" "strlen" 2;
    GetRange b"GETRANGE" "getrange" 4;
    SetRange b"SETRANGE" "setrange" 4;
    // keys.rs
    Del b"DEL" "del" -2;
    Unlink b"UNLINK" "unlink" -2;
    Exists b"EXISTS" "exists" -2;
    Touch b"TOUCH" "touch" -2;
    Type b"TYPE" "type" 2;
    Expire b"EXPIRE" "expire" -3;
    PExpire b"PEXPIRE" "pexpire" -3;
    ExpireAt b"EXPIREAT" "expireat" -3;
    PExpireAt b"PEXPIREAT" "pexpireat" -3;
    Persist b"PERSIST" "persist" 2;
    Ttl b"TTL" "ttl" 2;
    PTtl b"PTTL" "pttl" 2;
    ExpireTime b"EXPIRETIME" "expiretime" 2;
    PExpireTime b"PEXPIRETIME" "pexpiretime" 2;
    Rename b"RENAME" "rename" 3;
    RenameNx b"RENAMENX" "renamenx" 3;
    Copy b"COPY" "copy" -3;
    Select b"SELECT" "select" 2;
    SwapDb b"SWAPDB" "swapdb" 3;
    FlushDb b"FLUSHDB" "flushdb" -1;
    FlushAll b"FLUSHALL" "flushall" -1;
    DbSize b"DBSIZE" "dbsize" 1;
    Ping b"PING" "ping" -1;
    Echo b"ECHO" "echo" 2;
    // hashes.rs
    HSet b"HSET" "hset" -4;
    HMSet b"HMSET" "hmset" -4;
    HSetNx b"HSETNX" "hsetnx" 4;
    HGet b"HGET" "hget" 3;
    HMGet b"HMGET" "hmget" -3;
    HGetAll b"HGETALL" "hgetall" 2;
    HDel b"HDEL" "hdel" -3;
    HExists b"HEXISTS" "hexists" 3;
    HLen b"HLEN" "hlen" 2;
    HStrLen b"HSTRLEN" "hstrlen" 3;
    HKeys b"HKEYS" "hkeys" 2;
    HVals b"HVALS" "hvals" 2;
    HIncrBy b"HINCRBY" "hincrby" 4;
    HIncrByFloat b"HINCRBYFLOAT" "hincrbyfloat" 4;
    // sets.rs
    SAdd b"SADD" "sadd" -3;
    SRem b"SREM" "srem" -3;
    SMembers b"SMEMBERS" "smembers" 2;
    SIsMember b"SISMEMBER" "sismember" 3;
    SMIsMember b"SMISMEMBER" "smismember" -3;
    SCard b"SCARD" "scard" 2;
    // lists.rs
    LPush b"LPUSH" "lpush" -3;
    RPush b"RPUSH" "rpush" -3;
    LPushX b"LPUSHX" "lpushx" -3;
    RPushX b"RPUSHX" "rpushx" -3;
    LPop b"LPOP" "lpop" -2;
    RPop b"RPOP" "rpop" -2;
    LRange b"LRANGE" "lrange" 4;
    LLen b"LLEN" "llen" 2;
    LIndex b"LINDEX" "lindex" 3;
    // zsets.rs
    ZAdd b"ZADD" "zadd" -4;
    ZIncrBy b"ZINCRBY" "zincrby" 4;
    ZRem b"ZREM" "zrem" -3;
    ZRange b"ZRANGE" "zrange" -4;
    ZScore b"ZSCORE" "zscore" 3;
    ZCard b"ZCARD" "zcard" 2;
    // transactions.rs
    Multi b"MULTI" "multi" 1;
    Exec b"EXEC" "exec" 1;
    Discard b"DISCARD" "discard" 1;
    Watch b"WATCH" "watch" -2;
    Unwatch b"UNWATCH" "unwatch" 1;
    // scripts.rs
    Eval b"EVAL" "eval" -3;
    EvalRo b"EVAL_RO" "eval_ro" -3;
    EvalSha b"EVALSHA" "evalsha" -3;
    EvalShaRo b"EVALSHA_RO" "evalsha_ro" -3;
    FCall b"FCALL" "fcall" -3;
    FCallRo b"FCALL_RO" "fcall_ro" -3;
}

/// Longer names are no modelled command's.
const MAX_NAME: usize = 15;

/// A name of at most [`MAX_NAME`] bytes as a number: its first eight bytes upper-cased in the
/// low word; the rest upper-cased, then its length in the top byte, in the high word.
const fn name_code(name: &[u8]) -> u128 {
    let (mut lo, mut hi) = (0u64, (name.len() as u64) << 56);
    let mut i = 0;
    while i < name.len() {
        let b = name[i].to_ascii_uppercase() as u64;
        if i < 8 {
            lo |= b << (8 * i);
        } else {
            hi |= b << (8 * (i - 8));
        }
        i += 1;
    }
    (hi as u128) << 64 | lo as u128
}

/// [`name_code`] by whole words: overlapping little-endian reads, then ASCII upper-casing of
/// eight bytes at once.
#[inline]
fn name_code_fast(name: &[u8]) -> u128 {
    let n = name.len();
    debug_assert!(n <= MAX_NAME);
    let le8 = |at: usize| u64::from_le_bytes(name[at..at + 8].try_into().expect("8 bytes"));
    let le4 = |at: usize| u32::from_le_bytes(name[at..at + 4].try_into().expect("4")) as u64;
    let (lo, hi) = if n > 8 {
        (le8(0), le8(n - 8) >> (8 * (16 - n)))
    } else if n == 8 {
        (le8(0), 0)
    } else if n >= 4 {
        (le4(0) | le4(n - 4) << (8 * (n - 4)), 0)
    } else {
        let mut lo = 0;
        for (i, &b) in name.iter().enumerate() {
            lo |= (b as u64) << (8 * i);
        }
        (lo, 0)
    };
    ((upper8(hi) | (n as u64) << 56) as u128) << 64 | upper8(lo) as u128
}

/// ASCII upper-casing of the eight bytes of `x` (other bytes unchanged).
#[inline]
fn upper8(x: u64) -> u64 {
    const LSB: u64 = 0x0101_0101_0101_0101;
    const MSB: u64 = 0x8080_8080_8080_8080;
    let low7 = x & !MSB;
    // Per byte, no carries: the top bit says "at least 'a'", resp. "beyond 'z'".
    let from_a = low7 + LSB * (0x80 - b'a' as u64);
    let past_z = low7 + LSB * (0x80 - b'z' as u64 - 1);
    let lower = from_a & !past_z & !x & MSB;
    x - (lower >> 2)
}

#[inline]
const fn name_slot(code: u128) -> usize {
    let x = (code as u64) ^ ((code >> 64) as u64).rotate_left(29);
    (x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize
}

/// Every modelled command by [`name_code`], open-addressed from [`name_slot`] (a lookup is a
/// multiply and, nearly always, one compare).
static NAMES: [(u128, Command); 256] = {
    let mut table = [(0u128, Command::Unknown); 256];
    let mut k = 0;
    while k < Command::ALL.len() {
        let command = Command::ALL[k];
        let code = name_code(command.upper_name());
        let mut i = name_slot(code);
        while table[i].0 != 0 {
            i = (i + 1) % 256;
        }
        table[i] = (code, command);
        k += 1;
    }
    table
};

impl Command {
    /// The command of `argv` (by its name).
    #[inline]
    pub fn of(argv: &Argv) -> Command {
        Command::parse(argv.name())
    }

    /// [`Command::of`] for borrowed arguments.
    #[inline]
    pub fn of_ref(argv: &ArgvRef<'_>) -> Command {
        match argv.name_word() {
            // A name of up to eight bytes read as one word (`name_code_fast` for such a name).
            Some((word, n)) => Command::by_code(((n as u128) << 120) | upper8(word) as u128),
            None => Command::parse(argv.name()),
        }
    }

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

/// What a command did beyond its reply, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Applied with the store's own semantics.
    Modelled,
    /// Not modelled; its keys (if it writes) became unknown.
    Unmodelled,
    /// Modelled, but it touched an unknown key, so its reply is unknown.
    DependsOnUnknown,
}

impl Store {
    /// Runs one command (outside any MULTI/EXEC or script logic: the caller handles those)
    /// in database `*db` at virtual time `now_us` (µs since the epoch), for `client`. SELECT
    /// changes `*db`.
    pub fn call(&mut self, client: ClientId, db: &mut u32, argv: &Argv, now_us: i64) -> Reply {
        self.call_command(Command::of(argv), client, db, &argv.view(), now_us).0
    }

    /// The context a command runs in: its db (clamped to the store's `dbs` databases), the
    /// virtual time in Redis's milliseconds, its client.
    #[inline(always)]
    fn cx(dbs: usize, db: u32, now_us: i64, client: ClientId) -> Cx {
        Cx { db: (db as usize).min(dbs - 1), now: now_us.div_euclid(1000), client }
    }

    /// [`Store::call`] with the command already parsed; also says how it was handled.
    #[inline]
    pub fn call_command(
        &mut self,
        command: Command,
        client: ClientId,
        db: &mut u32,
        argv: &ArgvRef<'_>,
        now_us: i64,
    ) -> (Reply, Effect) {
        let cx = Store::cx(self.dbs.len(), *db, now_us, client);
        if command == Command::Unknown || !command.arity_ok(argv.len()) || self.any_unknown {
            return self.call_rare(command, &cx, db, argv);
        }
        (self.dispatch(command, &cx, db, argv), Effect::Modelled)
    }

    /// [`Store::call_command`] with a GET's value borrowed from the store rather than copied
    /// into its reply: the same reply, without an allocation per hit. `GET key`, `SET key value
    /// [EX|PX n]`, `DEL key` and `EXPIRE key n` go straight to their implementation, the rest
    /// out of line through [`Store::call_command`].
    #[inline(always)]
    pub fn call_command_ref(
        &mut self,
        command: Command,
        client: ClientId,
        db: &mut u32,
        argv: &ArgvRef<'_>,
        now_us: i64,
    ) -> (ReplyRef<'_>, Effect) {
        if !self.any_unknown {
            let cx = || Store::cx(self.dbs.len(), *db, now_us, client);
            // The commands a cache sends most, in their common shapes, straight to their
            // implementation: what `call_command` does for them, without its checks (they are
            // known, and their arity holds) and dispatch.
            match (command, argv.len()) {
                (Command::Get, 2) => {
                    return (strings::get_ref(self, &cx(), argv), Effect::Modelled);
                }
                (Command::Set, 3 | 5) => {
                    let reply = strings::set(self, &cx(), argv);
                    return (ReplyRef::Owned(reply), Effect::Modelled);
                }
                (Command::Del, 2) => {
                    let reply = keys::del(self, &cx(), argv);
                    return (ReplyRef::Owned(reply), Effect::Modelled);
                }
                (Command::Expire, 3) => {
                    let reply = keys::expire(self, &cx(), argv, true, true);
                    return (ReplyRef::Owned(reply), Effect::Modelled);
                }
                _ => {}
            }
        }
        let (reply, effect) = self.call_command_outlined(command, client, db, argv, now_us);
        (ReplyRef::Owned(reply), effect)
    }

    /// [`Store::call_command`], out of line: [`Store::call_command_ref`] stays small enough to
    /// inline into the replay loop.
    #[inline(never)]
    fn call_command_outlined(
        &mut self,
        command: Command,
        client: ClientId,
        db: &mut u32,
        argv: &ArgvRef<'_>,
        now_us: i64,
    ) -> (Reply, Effect) {
        self.call_command(command, client, db, argv, now_us)
    }

    /// [`Store::call_command`] for an unmodelled command, a wrong arity, or a store with
    /// unknown keys.
    #[cold]
    #[inline(never)]
    fn call_rare(
        &mut self,
        command: Command,
        cx: &Cx,
        db: &mut u32,
        argv: &ArgvRef<'_>,
    ) -> (Reply, Effect) {
        if command == Command::Unknown {
            return (self.unmodelled(cx, argv), Effect::Unmodelled);
        }
        if !command.arity_ok(argv.len()) {
            return (command.arity_error(), Effect::Modelled);
        }
        if let Some(reply) = self.around_unknown(command, cx, db, argv) {
            return (reply, Effect::DependsOnUnknown);
        }
        (self.dispatch(command, cx, db, argv), Effect::Modelled)
    }

    fn dispatch(&mut self, command: Command, cx: &Cx, db: &mut u32, argv: &ArgvRef<'_>) -> Reply {
        use Command::*;
        let a = argv;
        match command {
            Get => strings::get(self, cx, a),
            Set => strings::set(self, cx, a),
            SetEx => strings::setex(self, cx, a, false),
            PSetEx => strings::setex(self, cx, a, true),
            SetNx => strings::setnx(self, cx, a),
            GetSet => strings::getset(self, cx, a),
            GetDel => strings::getdel(self, cx, a),
            GetEx => strings::getex(self, cx, a),
            MGet => strings::mget(self, cx, a),
            MSet => strings::mset(self, cx, a, false),
            MSetNx => strings::mset(self, cx, a, true),
            Incr => strings::incr_by(self, cx, a, Some(1)),
            Decr => strings::incr_by(self, cx, a, Some(-1)),
            IncrBy => strings::incr_by(self, cx, a, None),
            DecrBy => strings::decr_by(self, cx, a),
            IncrByFloat => strings::incr_by_float(self, cx, a),
            Append => strings::append(self, cx, a),
            StrLen => strings::strlen(self, cx, a),
            GetRange => strings::getrange(self, cx, a),
            SetRange => strings::setrange(self, cx, a),
            Del | Unlink => keys::del(self, cx, a),
            Exists => keys::exists(self, cx, a),
            Touch => keys::exists(self, cx, a),
            Type => keys::type_(self, cx, a),
            Expire => keys::expire(self, cx, a, true, true),
            PExpire => keys::expire(self, cx, a, true, false),
            ExpireAt => keys::expire(self, cx, a, false, true),
            PExpireAt => keys::expire(self, cx, a, false, false),
            Persist => keys::persist(self, cx, a),
            Ttl => keys::ttl(self, cx, a, false, false),
            PTtl => keys::ttl(self, cx, a, true, false),
            ExpireTime => keys::ttl(self, cx, a, false, true),
            PExpireTime => keys::ttl(self, cx, a, true, true),
            Rename => keys::rename(self, cx, a, false),
            RenameNx => keys::rename(self, cx, a, true),
            Copy => keys::copy(self, cx, a),
            Select => keys::select(self, db, a),
            SwapDb => keys::swapdb(self, cx, a),
            FlushDb => keys::flushdb(self, cx, a),
            FlushAll => keys::flushall(self, cx, a),
            DbSize => keys::dbsize(self, cx),
            Ping => keys::ping(a),
            Echo => Reply::bulk(a.get(1).unwrap_or_default()),
            HSet => hashes::hset(self, cx, a, false),
            HMSet => hashes::hset(self, cx, a, true),
            HSetNx => hashes::hsetnx(self, cx, a),
            HGet => hashes::hget(self, cx, a),
            HMGet => hashes::hmget(self, cx, a),
            HGetAll => hashes::hgetall(self, cx, a, true, true),
            HKeys => hashes::hgetall(self, cx, a, true, false),
            HVals => hashes::hgetall(self, cx, a, false, true),
            HDel => hashes::hdel(self, cx, a),
            HExists => hashes::hexists(self, cx, a),
            HLen => hashes::hlen(self, cx, a),
            HStrLen => hashes::hstrlen(self, cx, a),
            HIncrBy => hashes::hincrby(self, cx, a),
            HIncrByFloat => hashes::hincrbyfloat(self, cx, a),
            SAdd => sets::sadd(self, cx, a),
            SRem => sets::srem(self, cx, a),
            SMembers => sets::smembers(self, cx, a),
            SIsMember => sets::sismember(self, cx, a),
            SMIsMember => sets::smismember(self, cx, a),
            SCard => sets::scard(self, cx, a),
            LPush => lists::push(self, cx, a, true, false),
            RPush => lists::push(self, cx, a, false, false),
            LPushX => lists::push(self, cx, a, true, true),
            RPushX => lists::push(self, cx, a, false, true),
            LPop => lists::pop(self, cx, a, true),
            RPop => lists::pop(self, cx, a, false),
            LRange => lists::lrange(self, cx, a),
            LLen => lists::llen(self, cx, a),
            LIndex => lists::lindex(self, cx, a),
            ZAdd => zsets::zadd(self, cx, a, false),
            ZIncrBy => zsets::zadd(self, cx, a, true),
            ZRem => zsets::zrem(self, cx, a),
            ZRange => zsets::zrange(self, cx, a),
            ZScore => zsets::zscore(self, cx, a),
            ZCard => zsets::zcard(self, cx, a),
            Watch => crate::transactions::watch(self, cx, a),
            Unwatch => {
                self.unwatch_all(cx.client);
                self.clear_dirty(cx.client);
                Reply::OK
            }
            // Connection state and scripts are the caller's: reaching here means a caller ran
            // them out of context, and the store cannot say what they answered.
            Multi | Exec | Discard | Eval | EvalRo | EvalSha | EvalShaRo | FCall | FCallRo => {
                Reply::Unknown
            }
            Unknown => Reply::Unknown,
        }
    }

    /// A modelled command on a store with unknown keys: `Some(reply)` when it touched one.
    fn around_unknown(
        &mut self,
        command: Command,
        cx: &Cx,
        db: &mut u32,
        argv: &ArgvRef<'_>,
    ) -> Option<Reply> {
        use Command::*;
        let db_wide = matches!(command, DbSize);
        if db_wide {
            return (self.dbs[cx.db].all_unknown || !self.dbs[cx.db].unknown.is_empty())
                .then_some(Reply::Unknown);
        }
        if matches!(
            command,
            FlushDb | FlushAll | SwapDb | Select | Ping | Echo | Multi | Exec | Discard | Unwatch
        ) || command.is_script()
        {
            return None;
        }
        let keys = commands::keys_ref(argv);
        let mut touched: Vec<(u32, &[u8])> =
            keys.iter_ref(argv).map(|k| (cx.db as u32, k)).collect();
        if command == Copy {
            // COPY … DB n writes into another database.
            if let Some(i) = argv.iter().position(|a| a.eq_ignore_ascii_case(b"db"))
                && let Some(n) = argv.get(i + 1).and_then(crate::number::parse_i64)
                && n >= 0
                && (n as usize) < self.dbs.len()
                && let Some(dst) = argv.get(2)
            {
                touched.push((n as u32, dst));
            }
        }
        if !touched.iter().any(|&(d, k)| self.is_unknown(d as usize, k)) {
            return None;
        }
        let blind = match command {
            SetEx | PSetEx | MSet | Del | Unlink => true,
            Set => argv.iter().skip(3).all(|a| {
                !(a.eq_ignore_ascii_case(b"nx")
                    || a.eq_ignore_ascii_case(b"xx")
                    || a.eq_ignore_ascii_case(b"get")
                    || a.eq_ignore_ascii_case(b"keepttl"))
            }),
            _ => false,
        };
        if blind {
            let reply = self.dispatch(command, cx, db, argv);
            if !reply.is_error() {
                for &(d, k) in &touched {
                    self.forget_unknown(d as usize, k);
                }
            }
            return Some(if matches!(command, Del | Unlink) { Reply::Unknown } else { reply });
        }
        let writes = commands::lookup_ref(argv).is_none_or(|spec| !spec.has(cmd::READONLY));
        if writes {
            for (d, k) in touched {
                self.mark_unknown(d, k);
            }
        }
        Some(Reply::Unknown)
    }

    /// A command the store does not model: its reply is unknown, and the keys it may write
    /// become unknown (all of the database's when Redis's key specs cannot locate them).
    fn unmodelled(&mut self, cx: &Cx, argv: &ArgvRef<'_>) -> Reply {
        let Some(spec) = commands::lookup_ref(argv) else {
            // Not even Redis's table knows it (a module command?): it could touch anything.
            self.mark_all_unknown();
            return Reply::Unknown;
        };
        if spec.has(cmd::READONLY) {
            return Reply::Unknown;
        }
        let keys = commands::keys_ref(argv);
        let writes = spec.has(cmd::WRITE) || spec.has(cmd::TOUCHES_ARBITRARY_KEYS);
        if keys.incomplete && writes {
            self.mark_db_unknown(cx.db as u32);
            return Reply::Unknown;
        }
        if keys.positions.is_empty() {
            if writes {
                self.mark_db_unknown(cx.db as u32);
            }
            return Reply::Unknown;
        }
        for k in keys.iter_ref(argv) {
            self.mark_unknown(cx.db as u32, k);
        }
        if spec.name == "move"
            && let Some(n) = argv.get(2).and_then(crate::number::parse_i64)
            && n >= 0
            && let Some(k) = argv.get(1)
        {
            self.mark_unknown(n as u32, k);
        }
        Reply::Unknown
    }
}

#[cfg(test)]
mod tests {
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
    fn every_name_parses_to_its_command_and_nothing_else_does() {
        for &c in Command::ALL {
            assert_eq!(Command::parse(c.name().as_bytes()), c);
            assert_eq!(Command::parse(c.upper_name()), c);
            let mut with_nul = c.upper_name().to_vec();
            with_nul.push(0);
            assert_eq!(Command::parse(&with_nul), Command::Unknown, "{}", c.name());
            let shorter = &c.upper_name()[1..];
            let want = Command::ALL.iter().copied().find(|x| x.upper_name() == shorter);
            assert_eq!(Command::parse(shorter), want.unwrap_or(Command::Unknown), "{}", c.name());
        }
        assert_eq!(Command::parse(b""), Command::Unknown);
        assert_eq!(Command::parse(b"\0"), Command::Unknown);
        assert_eq!(Command::parse("gét".as_bytes()), Command::Unknown);
    }

    #[test]
    fn name_codes_by_words_equal_the_table_s() {
        let mut names: Vec<Vec<u8>> = Command::ALL.iter().map(|c| c.name().into()).collect();
        for n in 0..=MAX_NAME {
            for seed in 0..64u32 {
                // Every byte value, including the letters' neighbours and non-ASCII.
                names.push((0..n as u32).map(|i| (seed * 37 + i * 101) as u8).collect());
                names.push(
                    (0..n as u32)
                        .map(|i| b"@AZ[`az{\x7f\x80\xe1"[(seed + i) as usize % 11])
                        .collect(),
                );
            }
        }
        for name in names {
            assert_eq!(name_code_fast(&name), name_code(&name), "{name:?}");
        }
    }

    #[test]
    fn names_read_as_a_word_parse_as_their_bytes_do() {
        let mut names: Vec<Vec<u8>> = Command::ALL.iter().map(|c| c.name().into()).collect();
        names.extend(Command::ALL.iter().map(|c| c.upper_name().to_vec()));
        for n in 0..=10u32 {
            for seed in 0..64u32 {
                names.push((0..n).map(|i| (seed * 37 + i * 101) as u8).collect());
                names.push((0..n).map(|i| b"gEtSdLxaZ\0\xe1"[(seed + i) as usize % 11]).collect());
            }
        }
        for name in &names {
            // The name followed by other bytes (as in a frame), and at the end of its buffer.
            for tail in [&b"order:42\xff\xff\xff\xff\xff\xff\xff\xff"[..], b""] {
                let bytes = [&name[..], tail].concat();
                let spans = [(0, name.len() as u32), (name.len() as u32, bytes.len() as u32)];
                let argv = ArgvRef::new(&bytes, &spans).unwrap();
                assert_eq!(Command::of_ref(&argv), Command::parse(name), "{name:?} + {tail:?}");
                if name.len() <= 8 && bytes.len() >= 8 {
                    let (word, n) = argv.name_word().unwrap();
                    assert_eq!(n, name.len());
                    assert_eq!(word.to_le_bytes()[..n], name[..]);
                    assert!(word.to_le_bytes()[n..].iter().all(|&b| b == 0));
                } else {
                    assert_eq!(argv.name_word(), None);
                }
            }
        }
    }

    #[test]
    fn names_parse_in_any_case() {
        assert_eq!(Command::parse(b"get"), Command::Get);
        assert_eq!(Command::parse(b"HiNcRbYfLoAt"), Command::HIncrByFloat);
        assert_eq!(Command::parse(b"XADD"), Command::Unknown);
        assert_eq!(Command::parse(b"averyveryverylongname"), Command::Unknown);
    }
}
