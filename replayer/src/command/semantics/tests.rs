//! Holds [`Command`]'s classification to Redis's command table, for every modelled command.

use cachetape_tape::Argv;
use cachetape_tape::commands::{self, CommandSpec, cmd, key};

use super::super::Command;

fn spec(c: Command) -> &'static CommandSpec {
    commands::lookup(&Argv::from_parts([c.name()])).unwrap_or_else(|| panic!("{}", c.name()))
}

/// Arguments that put a key wherever `c`'s key specs look for one.
fn sample(c: Command) -> Argv {
    let name = c.upper_name_str();
    if c.is_script() {
        Argv::from_parts([name, "body", "2", "k1", "k2", "arg"])
    } else {
        Argv::from_parts([name, "k1", "k2", "k3", "k4", "k5"])
    }
}

/// Every key spec's flags say the key is only read.
fn keys_read_only(s: &CommandSpec) -> bool {
    s.keys.iter().all(|k| k.flags & key::RO != 0)
}

/// The key-spec flags Redis reports for this SET (`setGetKeys`: its key is read with GET).
fn set_key_flags(argv: &Argv) -> u16 {
    let get = argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"GET"));
    if get { key::RW | key::ACCESS | key::UPDATE } else { key::OW | key::UPDATE }
}

/// What Redis's table says of a blind write: every key is overwritten (`OW`, not an `INSERT`
/// that happens only if the key is absent) or removed (`RM`). SET's flags vary with its
/// options, and its NX / XX / KEEPTTL make the outcome depend on the key as well.
fn blind_by_table(c: Command, argv: &Argv) -> bool {
    let overwritten = |f: u16| (f & key::OW != 0 && f & key::INSERT == 0) || f & key::RM != 0;
    if c == Command::Set {
        let conditional = argv
            .iter()
            .skip(3)
            .any(|a| [&b"NX"[..], b"XX", b"KEEPTTL"].iter().any(|o| a.eq_ignore_ascii_case(o)));
        return !conditional && overwritten(set_key_flags(argv));
    }
    let s = spec(c);
    !s.keys.is_empty() && s.keys.iter().all(|k| overwritten(k.flags))
}

/// The keys Redis's key specs give for `argv` whose spec is not read-only, once each.
fn written_by_table(argv: &Argv) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for &(i, flags) in &commands::keys(argv).positions {
        let k = argv.get(i).expect("a key position is an argument").to_vec();
        if flags & key::RO == 0 && !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

#[test]
fn read_only_is_what_redis_s_command_table_says_for_every_command() {
    for &c in Command::ALL {
        let s = spec(c);
        let by_table = !s.has(cmd::WRITE) && keys_read_only(s);
        assert_eq!(c.is_read_only(), by_table, "{}", c.name());
    }
    assert!(!Command::Unknown.is_read_only());
}

#[test]
fn written_keys_are_the_keys_redis_s_key_specs_do_not_mark_read_only() {
    for &c in Command::ALL {
        let argv = sample(c);
        let written: Vec<Vec<u8>> = c.written_keys(&argv).iter().map(|k| k.to_vec()).collect();
        assert_eq!(written, written_by_table(&argv), "{}", c.name());
        assert_eq!(c.written_keys(argv.view()), c.written_keys(&argv), "{}", c.name());
        if c.is_read_only() {
            assert!(written.is_empty(), "{}", c.name());
        }
    }
    let keys = |parts: &[&str]| -> Vec<String> {
        let argv = Argv::from_parts(parts);
        let c = Command::of(&argv);
        c.written_keys(&argv).iter().map(|k| String::from_utf8_lossy(k).into_owned()).collect()
    };
    let none: Vec<String> = Vec::new();
    assert_eq!(keys(&["DEL", "a", "b", "a"]), ["a", "b"]);
    assert_eq!(keys(&["MSET", "a", "1", "b", "2"]), ["a", "b"]);
    assert_eq!(keys(&["COPY", "src", "dst"]), ["dst"]);
    assert_eq!(keys(&["RENAME", "src", "dst"]), ["src", "dst"]);
    assert_eq!(keys(&["EVAL", "body", "2", "a", "b", "x"]), ["a", "b"]);
    assert_eq!(keys(&["EVAL_RO", "body", "1", "a"]), none);
    assert_eq!(keys(&["GET", "a"]), none);
    assert_eq!(keys(&["WATCH", "a"]), none);
    // Commands the store does not model, by Redis's key specs.
    assert_eq!(keys(&["SUNIONSTORE", "d", "a", "b"]), ["d"]);
    assert_eq!(keys(&["XADD", "s", "*", "f", "v"]), ["s"]);
    assert_eq!(keys(&["BITCOUNT", "a"]), none);
    assert_eq!(keys(&["NOSUCHCOMMAND", "a"]), none);
}

#[test]
fn written_keys_of_long_commands_are_each_key_once_in_order() {
    // Past the first few keys repeats are found through a set: the same answer as comparing
    // with every earlier key, for repeats before, across and after that point.
    let names: Vec<String> = (0..40).map(|i| format!("k{}", (i * 7) % 13)).collect();
    let mut first_seen: Vec<&str> = Vec::new();
    for n in &names {
        if !first_seen.contains(&n.as_str()) {
            first_seen.push(n);
        }
    }
    for command in ["DEL", "UNLINK"] {
        let argv =
            Argv::from_parts(std::iter::once(command).chain(names.iter().map(String::as_str)));
        let written: Vec<&[u8]> = Command::of(&argv).written_keys(&argv);
        let expected: Vec<&[u8]> = first_seen.iter().map(|k| k.as_bytes()).collect();
        assert_eq!(written, expected, "{command}");
    }
    let mset = Argv::from_parts(
        std::iter::once("MSET").chain(names.iter().flat_map(|k| [k.as_str(), "v"])),
    );
    let written: Vec<&[u8]> = Command::MSet.written_keys(&mset);
    assert_eq!(written, first_seen.iter().map(|k| k.as_bytes()).collect::<Vec<_>>());
}

#[test]
fn blind_writes_are_what_redis_s_key_specs_say_for_every_command() {
    for &c in Command::ALL {
        let argv = sample(c);
        assert_eq!(c.is_blind_write(&argv), blind_by_table(c, &argv), "{}", c.name());
    }
    assert!(!Command::Unknown.is_blind_write(&Argv::from_parts(["XADD", "s", "*", "f", "v"])));
}

#[test]
fn set_s_options_decide_both_facts() {
    // (arguments after `SET k v`, overwrites, blind write)
    let cases: &[(&[&str], bool, bool)] = &[
        (&[], true, true),
        (&["EX", "10"], true, true),
        (&["px", "10"], true, true),
        (&["EXAT", "1700000000"], true, true),
        (&["KEEPTTL"], true, false),
        (&["GET"], true, false),
        (&["EX", "10", "get"], true, false),
        (&["NX"], false, false),
        (&["xx", "EX", "10"], false, false),
    ];
    for &(options, overwrites, blind) in cases {
        let argv = Argv::from_parts(["SET", "k", "v"].iter().chain(options));
        assert_eq!(Command::Set.overwrites(&argv), overwrites, "{argv:?}");
        assert_eq!(Command::Set.is_blind_write(&argv), blind, "{argv:?}");
        assert_eq!(Command::Set.is_blind_write(&argv), blind_by_table(Command::Set, &argv));
    }
    // A value that reads like an option is a value.
    let argv = Argv::from_parts(["SET", "k", "NX"]);
    assert!(Command::Set.overwrites(&argv) && Command::Set.is_blind_write(&argv));
}

#[test]
fn overwrites_are_unconditional_updates_in_redis_s_command_table() {
    for &c in Command::ALL {
        let argv = sample(c);
        if !c.overwrites(&argv) {
            continue;
        }
        let s = spec(c);
        assert!(s.has(cmd::WRITE), "{}", c.name());
        for k in s.keys {
            assert!(k.flags & key::UPDATE != 0 && k.flags & key::INSERT == 0, "{}", c.name());
        }
    }
}

#[test]
fn a_blind_write_overwrites_or_deletes() {
    for &c in Command::ALL {
        let argv = sample(c);
        if c.is_blind_write(&argv) {
            let deletes = spec(c).keys.iter().all(|k| k.flags & key::RM != 0);
            assert!(c.overwrites(&argv) || deletes, "{}", c.name());
        }
    }
}

#[test]
fn judged_reads_return_their_key_s_value() {
    for &c in Command::ALL {
        if c.is_judged_read() {
            let s = spec(c);
            assert!(!s.keys.is_empty(), "{}", c.name());
            // ACCESS: the command returns (part of) the value stored at the key.
            assert!(s.keys.iter().all(|k| k.flags & key::ACCESS != 0), "{}", c.name());
        }
    }
}
