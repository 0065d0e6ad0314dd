/*!
What a [`Command`] does to its keys, and the one place that says it: which commands are the reads
the stale-read oracle judges, which never change a key, which keys a command may write, which
overwrite a key whatever it held, and which leave their keys in a state that does not depend on
what the keys held. The store's unknown-key rules, the stale-read oracle and the perturbation
engine ask these methods; nobody else keeps a list of commands. The tests hold every answer, for
every modelled command, to Redis's command table (its command flags and key specs).
*/

use cachetape_base::FxHashSet;
use cachetape_tape::commands::{self, key};
use cachetape_tape::{Argv, ArgvRef};

use super::Command;

/// A command's arguments, owned ([`Argv`]) or borrowed ([`ArgvRef`]): what the methods that
/// look at a command's keys or options accept.
pub trait Arguments<'a>: Copy {
    /// The arguments, borrowed.
    fn args(self) -> ArgvRef<'a>;
}

impl<'a> Arguments<'a> for &'a Argv {
    #[inline]
    fn args(self) -> ArgvRef<'a> {
        self.view()
    }
}

impl<'a> Arguments<'a> for ArgvRef<'a> {
    #[inline]
    fn args(self) -> ArgvRef<'a> {
        self
    }
}

impl<'a> Arguments<'a> for &ArgvRef<'a> {
    #[inline]
    fn args(self) -> ArgvRef<'a> {
        *self
    }
}

impl Command {
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

    /// True when the command never changes a key. In Redis's command table that is a command
    /// without the `write` flag whose keys are all read-only (`RO` key specs): the reads, the
    /// connection and transaction commands (EXEC changes nothing itself: MONITOR writes the
    /// commands it runs as lines of their own), SELECT, and the `_RO` scripts. The store need
    /// not be asked what such a command's keys hold after it. False for [`Command::Unknown`],
    /// which may change anything.
    #[inline]
    pub fn is_read_only(self) -> bool {
        matches!(
            self,
            Command::Get
                | Command::MGet
                | Command::StrLen
                | Command::GetRange
                | Command::Exists
                | Command::Touch
                | Command::Type
                | Command::Ttl
                | Command::PTtl
                | Command::ExpireTime
                | Command::PExpireTime
                | Command::Select
                | Command::DbSize
                | Command::Ping
                | Command::Echo
                | Command::HGet
                | Command::HMGet
                | Command::HGetAll
                | Command::HExists
                | Command::HLen
                | Command::HStrLen
                | Command::HKeys
                | Command::HVals
                | Command::SMembers
                | Command::SIsMember
                | Command::SMIsMember
                | Command::SCard
                | Command::LRange
                | Command::LLen
                | Command::LIndex
                | Command::ZRange
                | Command::ZScore
                | Command::ZCard
                | Command::Multi
                | Command::Exec
                | Command::Discard
                | Command::Watch
                | Command::Unwatch
                | Command::EvalRo
                | Command::EvalShaRo
                | Command::FCallRo
        )
    }

    /// True when the command stores values taken from its arguments whatever its key held:
    /// SET without NX/XX, SETEX, PSETEX, MSET, GETSET, HSET, HMSET. Writing the value the key
    /// already holds is then a new write — a fresh cached value, not a no-op — and that is how
    /// the stale-read oracle and the perturbation engine count it.
    ///
    /// What the key holds afterwards may still depend on what it held (HSET keeps the other
    /// fields, `SET … KEEPTTL` the TTL, `SET … GET` fails on a hash): that is
    /// [`Command::is_blind_write`]'s question.
    pub fn overwrites<'a>(self, argv: impl Arguments<'a>) -> bool {
        match self {
            Command::Set => !has_option(argv.args(), &[b"NX", b"XX"]),
            Command::SetEx
            | Command::PSetEx
            | Command::MSet
            | Command::GetSet
            | Command::HSet
            | Command::HMSet => true,
            _ => false,
        }
    }

    /// True when the state the command leaves its keys in — value and TTL, or absence — follows
    /// from its arguments alone, whatever the keys held, provided it succeeds: SET without
    /// NX/XX/GET/KEEPTTL, SETEX, PSETEX, MSET, DEL, UNLINK. In Redis's command table, each of
    /// its key specs overwrites (`OW`, not `INSERT`) or removes (`RM`); SET's depend on its
    /// options. After one, a key the store had lost track of is known again. Its reply may
    /// still depend on what was there (DEL's count).
    pub fn is_blind_write<'a>(self, argv: impl Arguments<'a>) -> bool {
        match self {
            Command::Set => !has_option(argv.args(), &[b"NX", b"XX", b"GET", b"KEEPTTL"]),
            Command::SetEx | Command::PSetEx | Command::MSet | Command::Del | Command::Unlink => {
                true
            }
            _ => false,
        }
    }

    /// Calls `f` with each key the command may write — the keys of its key specs that are not
    /// read-only (`RO`): COPY's destination, not its source — once each (`DEL k k`), in
    /// key-spec order. None for a read-only command; for [`Command::Unknown`], what Redis's key
    /// specs say of the command `argv` names.
    #[inline]
    pub fn for_written_keys<'a>(self, argv: impl Arguments<'a>, mut f: impl FnMut(&'a [u8])) {
        let argv = argv.args();
        let spec;
        let positions = match write_key_positions(self, &argv) {
            Some(range) => KeyPositions::Range(range),
            None => {
                spec = commands::keys_ref(&argv);
                KeyPositions::Spec(&spec.positions)
            }
        };
        // Up to a few keys, a repeat is looked for among the earlier ones; past them, in a set
        // of the keys seen, so a 100,000-key DEL costs 100,000 lookups, not 5·10⁹ comparisons.
        const LINEAR: usize = 8;
        let mut seen: FxHashSet<&'a [u8]> = FxHashSet::default();
        let mut filled = false;
        for (n, i) in positions.iter().enumerate() {
            let Some(key) = argv.get(i) else { continue };
            let repeated = if n < LINEAR {
                positions.iter().take(n).any(|j| argv.get(j) == Some(key))
            } else {
                if !filled {
                    seen.extend(positions.iter().take(n).filter_map(|j| argv.get(j)));
                    filled = true;
                }
                !seen.insert(key)
            };
            if !repeated {
                f(key);
            }
        }
    }

    /// The keys the command may write ([`Command::for_written_keys`]), once each, in key-spec
    /// order.
    pub fn written_keys<'a>(self, argv: impl Arguments<'a>) -> Vec<&'a [u8]> {
        let mut keys = Vec::new();
        self.for_written_keys(argv, |k| keys.push(k));
        keys
    }
}

/// True when an argument after `SET key value` is one of `options` (any case).
fn has_option(argv: ArgvRef<'_>, options: &[&[u8]]) -> bool {
    argv.iter().skip(3).any(|a| options.iter().any(|o| a.eq_ignore_ascii_case(o)))
}

/// Where a command's written keys are: a range of arguments, or Redis's key specs (whose
/// read-only keys are skipped).
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
        range.chain(spec.iter().filter(|&&(_, flags)| flags & key::RO == 0).map(|&(i, _)| i))
    }
}

/// The key arguments of the commonest writes, as Redis's key specs place them (the first
/// argument; every argument of DEL and UNLINK), without searching the command table; `None`
/// for other commands.
fn write_key_positions(command: Command, argv: &ArgvRef<'_>) -> Option<std::ops::Range<usize>> {
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
        commands::keys_ref(argv).positions.iter().map(|&(i, _)| i).collect::<Vec<_>>(),
        "{command:?}"
    );
    Some(range)
}

#[cfg(test)]
mod tests;
