/*!
Which arguments of a Redis command are keys, and what the command does to them.

The table (`table.rs`, in the types of `spec.rs`) is generated from a real Redis server's
`COMMAND` reply by `tape/tools/gen-command-table.py`, so key positions follow Redis's own key
specs — including commands whose keys move (`EVAL … numkeys`, `XREAD … STREAMS`,
`ZUNIONSTORE`). This module looks commands up in it and locates their keys. The recorder uses it
to redact keys, `info` and `cat --key` to find them, the replayer to mark the keys of commands it
does not model as unknown.
*/

mod spec;
#[rustfmt::skip]
mod table;

pub use spec::{Begin, CommandSpec, Find, KeySpec, cmd, key};
use table::COMMANDS;

use crate::argv::{Argv, ArgvRef};

/// The table entry for a command (and its subcommand, for containers like `OBJECT ENCODING`).
pub fn lookup(argv: &Argv) -> Option<&'static CommandSpec> {
    lookup_ref(&argv.view())
}

/// [`lookup`] for borrowed arguments.
pub fn lookup_ref(argv: &ArgvRef<'_>) -> Option<&'static CommandSpec> {
    let name = argv.get(0)?;
    if let Some(sub) = argv.get(1) {
        let mut buf = [0u8; 96];
        if name.len() + 1 + sub.len() <= buf.len() {
            let n = name.len();
            buf[..n].copy_from_slice(name);
            buf[n] = b'|';
            buf[n + 1..n + 1 + sub.len()].copy_from_slice(sub);
            if let Some(spec) = find(&buf[..n + 1 + sub.len()]) {
                return Some(spec);
            }
        }
    }
    find(name)
}

fn find(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut lower = [0u8; 96];
    if name.len() > lower.len() {
        return None;
    }
    for (l, c) in lower.iter_mut().zip(name) {
        *l = c.to_ascii_lowercase();
    }
    let name = &lower[..name.len()];
    COMMANDS.binary_search_by(|c| c.name.as_bytes().cmp(name)).ok().map(|i| &COMMANDS[i])
}

/// The keys of one command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Keys {
    /// Argument index and [`key`] flags of every key, in key-spec order.
    pub positions: Vec<(usize, u16)>,
    /// True when some keys could not be located (unknown command, or a spec Redis itself cannot
    /// resolve, like `SORT … STORE`): treat every key the command may touch as unknown.
    pub incomplete: bool,
}

impl Keys {
    /// The key arguments themselves.
    pub fn iter<'a>(&'a self, argv: &'a Argv) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.positions.iter().filter_map(|&(i, _)| argv.get(i))
    }

    /// [`Keys::iter`] for borrowed arguments.
    pub fn iter_ref<'a>(&'a self, argv: &ArgvRef<'a>) -> impl Iterator<Item = &'a [u8]> + 'a {
        let argv = *argv;
        self.positions.iter().filter_map(move |&(i, _)| argv.get(i))
    }
}

/// Locates the keys of `argv` using Redis's key specs.
pub fn keys(argv: &Argv) -> Keys {
    keys_ref(&argv.view())
}

/// [`keys`] for borrowed arguments.
pub fn keys_ref(argv: &ArgvRef<'_>) -> Keys {
    let Some(spec) = lookup_ref(argv) else {
        return Keys { positions: Vec::new(), incomplete: true };
    };
    let mut out = Keys::default();
    let argc = argv.len() as i64;
    for ks in spec.keys {
        if ks.flags & key::NOT_KEY != 0 {
            continue;
        }
        if ks.flags & key::INCOMPLETE != 0 {
            out.incomplete = true;
        }
        let first = match ks.begin {
            Begin::Index(i) => i as i64,
            Begin::Keyword(word, startfrom) => {
                let found = if startfrom >= 0 {
                    (startfrom as i64..argc - 1).find(|&i| is_word(argv, i, word))
                } else {
                    (1..=argc + startfrom as i64).rev().find(|&i| is_word(argv, i, word))
                };
                match found {
                    Some(i) => i + 1,
                    None => continue,
                }
            }
            Begin::Unknown => {
                out.incomplete = true;
                continue;
            }
        };
        if first < 1 || first >= argc {
            continue;
        }
        let (first, last, step) = match ks.find {
            Find::Range { last, step, limit } => {
                let last = if last >= 0 {
                    first + last as i64
                } else if limit <= 1 {
                    argc + last as i64
                } else {
                    first + ((argc - first) / limit as i64 + last as i64)
                };
                (first, last, step as i64)
            }
            Find::Keynum { numkeys_at, first: fk, step } => {
                let Some(n) = argv.get((first + numkeys_at as i64) as usize) else { continue };
                let Some(n) = std::str::from_utf8(n).ok().and_then(|s| s.parse::<i64>().ok())
                else {
                    continue;
                };
                if n < 0 {
                    continue;
                }
                let first = first + fk as i64;
                (first, first + n - 1, step as i64)
            }
            Find::Unknown => {
                out.incomplete = true;
                continue;
            }
        };
        if last >= argc || last < first || step < 1 {
            continue;
        }
        let mut i = first;
        while i <= last {
            out.positions.push((i as usize, ks.flags));
            i += step;
        }
    }
    out
}

fn is_word(argv: &ArgvRef<'_>, i: i64, word: &str) -> bool {
    argv.get(i as usize).is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_args(parts: &[&str]) -> Vec<String> {
        let argv = Argv::from_parts(parts);
        let k = keys(&argv);
        k.iter(&argv).map(|k| String::from_utf8_lossy(k).into_owned()).collect()
    }

    #[test]
    fn fixed_position_commands() {
        assert_eq!(key_args(&["GET", "order:1"]), ["order:1"]);
        assert_eq!(key_args(&["set", "k", "v", "EX", "10"]), ["k"]);
        assert_eq!(key_args(&["MSET", "a", "1", "b", "2"]), ["a", "b"]);
        assert_eq!(key_args(&["DEL", "a", "b", "c"]), ["a", "b", "c"]);
        assert_eq!(key_args(&["HSET", "h", "f", "v"]), ["h"]);
        assert_eq!(key_args(&["PING"]), Vec::<String>::new());
    }

    #[test]
    fn movable_keys_follow_key_specs() {
        assert_eq!(key_args(&["EVAL", "return 1", "2", "a", "b", "x"]), ["a", "b"]);
        assert_eq!(key_args(&["EVAL", "return 1", "0"]), Vec::<String>::new());
        assert_eq!(key_args(&["FCALL", "f", "1", "a", "x"]), ["a"]);
        assert_eq!(
            key_args(&["XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"]),
            ["s1", "s2"]
        );
        assert_eq!(key_args(&["ZUNIONSTORE", "d", "2", "a", "b"]), ["d", "a", "b"]);
        assert_eq!(key_args(&["OBJECT", "ENCODING", "k"]), ["k"]);
    }

    #[test]
    fn unknown_and_unresolvable_commands_are_incomplete() {
        assert!(keys(&Argv::from_parts(["NOSUCHCMD", "k"])).incomplete);
        assert!(keys(&Argv::from_parts(["SORT", "k", "STORE", "d"])).incomplete);
        assert!(!keys(&Argv::from_parts(["GET", "k"])).incomplete);
        assert!(lookup(&Argv::from_parts(["get"])).unwrap().has(cmd::READONLY));
    }

    #[test]
    fn garbage_never_panics() {
        for parts in
            [&["EVAL"][..], &["EVAL", "x", "-1"], &["EVAL", "x", "99", "k"], &["XREAD", "STREAMS"]]
        {
            let _ = keys(&Argv::from_parts(parts));
        }
    }
}
