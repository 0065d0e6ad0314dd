/*!
Running one command on the store: [`Store::call`] and its variants check arity, route around
unknown keys and dispatch to the command family's file (`strings`, `keys`, `hashes`, `sets`,
`lists`, `zsets`, `transactions`).

Dependence on unknown keys is decided here, once for every command: when a command touches a key
whose state is unknown, its reply is [`Reply::Unknown`] and, if it writes, its keys stay unknown
— except for blind writes ([`Command::is_blind_write`]), whose result does not depend on what
was there, so their keys become known again.
*/

use cachetape_tape::commands::{self, cmd};
use cachetape_tape::{Argv, ArgvRef};

use crate::command::Command;
use crate::reply::{Reply, ReplyRef};
use crate::store::{ClientId, Cx, Store};
use crate::{hashes, keys, lists, sets, strings, transactions, zsets};

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
            Watch => transactions::watch(self, cx, a),
            Unwatch => transactions::unwatch(self, cx),
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
        // COPY … DB n writes into another database.
        let copy_into = (command == Copy).then(|| self.copy_destination(argv)).flatten();
        touched.extend(copy_into);
        if !touched.iter().any(|&(d, k)| self.is_unknown(d as usize, k)) {
            return None;
        }
        if command.is_blind_write(argv) {
            let reply = self.dispatch(command, cx, db, argv);
            if !reply.is_error() {
                for &(d, k) in &touched {
                    self.forget_unknown(d as usize, k);
                }
            }
            // Known keys again, but the reply counted what was there.
            return Some(if matches!(command, Del | Unlink) { Reply::Unknown } else { reply });
        }
        if !command.is_read_only() {
            command.for_written_keys(argv, |k| self.mark_unknown(cx.db as u32, k));
            if let Some((d, k)) = copy_into {
                self.mark_unknown(d, k);
            }
        }
        Some(Reply::Unknown)
    }

    /// `COPY source destination DB n`'s destination in database `n`, if it names one.
    fn copy_destination<'a>(&self, argv: &ArgvRef<'a>) -> Option<(u32, &'a [u8])> {
        let i = argv.iter().position(|a| a.eq_ignore_ascii_case(b"db"))?;
        let n = argv.get(i + 1).and_then(crate::number::parse_i64)?;
        let dst = argv.get(2)?;
        (n >= 0 && (n as usize) < self.dbs.len()).then_some((n as u32, dst))
    }

    /// A command the store does not model: its reply is unknown, and the keys it may write
    /// ([`Command::for_written_keys`], by Redis's key specs) become unknown — all of the
    /// database's when the key specs cannot locate them.
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
        Command::Unknown.for_written_keys(argv, |k| self.mark_unknown(cx.db as u32, k));
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
