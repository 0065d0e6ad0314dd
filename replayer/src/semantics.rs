/*!
What a [`Command`] does to its keys, for everyone who classifies commands: which commands are
the reads the stale-read oracle judges, which never change their keys, which overwrite whatever
their key held, and which keys a command may write. The analyzer and the perturbation engine ask
these methods; nobody else keeps a list of commands.
*/

use cachetape_tape::Argv;

use crate::command::Command;

impl Command {
    /// The name as Redis spells it in MONITOR and its documentation (`SET`, `HGETALL`);
    /// `UNKNOWN` for [`Command::Unknown`].
    pub fn upper_name_str(self) -> &'static str {
        match self {
            Command::Unknown => "UNKNOWN",
            // The table's names are ASCII.
            c => std::str::from_utf8(c.upper_name()).unwrap_or("UNKNOWN"),
        }
    }

    /// True for the reads the stale-read oracle judges: what they return is the cached value of
    /// a key (GET, GETEX, GETDEL, GETSET, MGET, HGET, HMGET, HGETALL).
    #[inline]
    pub fn is_judged_read(self) -> bool {
        matches!(
            self,
            Command::Get
                | Command::GetEx
                | Command::GetDel
                | Command::GetSet
                | Command::MGet
                | Command::HGet
                | Command::HMGet
                | Command::HGetAll
        )
    }

    /// True for commands that never change any key (reads, connection and transaction
    /// commands): the store need not be asked what their keys hold after them.
    #[inline]
    pub fn is_read_only(self) -> bool {
        matches!(
            self,
            Command::Get
                | Command::MGet
                | Command::HGet
                | Command::HMGet
                | Command::HGetAll
                | Command::Exists
                | Command::Ttl
                | Command::PTtl
                | Command::Type
                | Command::StrLen
                | Command::GetRange
                | Command::HExists
                | Command::HLen
                | Command::HKeys
                | Command::HVals
                | Command::HStrLen
                | Command::ExpireTime
                | Command::PExpireTime
                | Command::Ping
                | Command::Echo
                | Command::DbSize
                | Command::SMembers
                | Command::SIsMember
                | Command::SCard
                | Command::LRange
                | Command::LLen
                | Command::LIndex
                | Command::ZRange
                | Command::ZScore
                | Command::ZCard
                | Command::Multi
                | Command::Watch
                | Command::Unwatch
                | Command::Discard
                | Command::Exec
        )
    }

    /// True when the command writes its key whatever it held, so writing the same value again
    /// is a new write: SET without NX/XX, SETEX, PSETEX, MSET, GETSET, HSET, HMSET.
    pub fn overwrites(self, argv: &Argv) -> bool {
        match self {
            Command::Set => !argv
                .iter()
                .skip(3)
                .any(|a| a.eq_ignore_ascii_case(b"NX") || a.eq_ignore_ascii_case(b"XX")),
            Command::SetEx
            | Command::PSetEx
            | Command::MSet
            | Command::GetSet
            | Command::HSet
            | Command::HMSet => true,
            _ => false,
        }
    }

    /// Calls `f` with each key the command may write, once each (`DEL k k`), in key-spec order.
    #[inline]
    pub fn for_written_keys<'a>(self, argv: &'a Argv, mut f: impl FnMut(&'a [u8])) {
        let spec;
        let positions = match write_key_positions(self, argv) {
            Some(range) => KeyPositions::Range(range),
            None => {
                spec = cachetape_tape::commands::keys(argv);
                KeyPositions::Spec(&spec.positions)
            }
        };
        for (n, i) in positions.iter().enumerate() {
            let Some(key) = argv.get(i) else { continue };
            if positions.iter().take(n).any(|j| argv.get(j) == Some(key)) {
                continue;
            }
            f(key);
        }
    }

    /// The keys the command may write, once each, in key-spec order.
    pub fn written_keys(self, argv: &Argv) -> Vec<&[u8]> {
        let mut keys = Vec::new();
        self.for_written_keys(argv, |k| keys.push(k));
        keys
    }
}

/// Where a command's keys are: a range of arguments, or Redis's key specs.
enum KeyPositions<'a> {
    Range(std::ops::Range<usize>),
    Spec(&'a [(usize, u16)]),
}

impl KeyPositions<'_> {
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let (range, spec) = match self {
            KeyPositions::Range(r) => (r.clone(), &[][..]),
            KeyPositions::Spec(s) => (0..0, *s),
        };
        range.chain(spec.iter().map(|&(i, _)| i))
    }
}

/// The key arguments of the commonest writes, as Redis's key specs place them (the first
/// argument; every argument of DEL and UNLINK), without searching the command table; `None`
/// for other commands.
fn write_key_positions(command: Command, argv: &Argv) -> Option<std::ops::Range<usize>> {
    let n = argv.len();
    let range = match command {
        Command::Set
        | Command::SetEx
        | Command::PSetEx
        | Command::SetNx
        | Command::GetSet
        | Command::GetDel
        | Command::GetEx
        | Command::Append
        | Command::Incr
        | Command::IncrBy
        | Command::Decr
        | Command::DecrBy
        | Command::Expire
        | Command::PExpire
        | Command::Persist
        | Command::HSet
        | Command::HMSet
        | Command::HDel => 1..n.min(2),
        Command::Del | Command::Unlink => 1..n.max(1),
        _ => return None,
    };
    debug_assert_eq!(
        range.clone().collect::<Vec<_>>(),
        cachetape_tape::commands::keys(argv).positions.iter().map(|&(i, _)| i).collect::<Vec<_>>(),
        "{command:?}"
    );
    Some(range)
}
