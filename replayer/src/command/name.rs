/*!
Which [`Command`] a name means: Redis's command names are case-insensitive, and parsing one is on
replay's hot path (once per command), so a name of up to fifteen bytes becomes a number — its
bytes upper-cased, eight at a time — which indexes a perfect-enough open-addressed table.
*/

use cachetape_tape::{Argv, ArgvRef};

use super::Command;

impl Command {
    /// The command named `name` (any case).
    #[inline]
    pub fn parse(name: &[u8]) -> Command {
        if name.len() > MAX_NAME {
            return Command::Unknown;
        }
        Command::by_code(name_code_fast(name))
    }

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
        let code = name_code(command.upper_name_str().as_bytes());
        let mut i = name_slot(code);
        while table[i].0 != 0 {
            i = (i + 1) % 256;
        }
        table[i] = (code, command);
        k += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use cachetape_tape::ArgvRef;

    use super::*;

    #[test]
    fn every_name_parses_to_its_command_and_nothing_else_does() {
        for &c in Command::ALL {
            assert_eq!(Command::parse(c.name().as_bytes()), c);
            assert_eq!(Command::parse(c.upper_name_str().as_bytes()), c);
            let mut with_nul = c.upper_name_str().as_bytes().to_vec();
            with_nul.push(0);
            assert_eq!(Command::parse(&with_nul), Command::Unknown, "{}", c.name());
            let shorter = &c.upper_name_str().as_bytes()[1..];
            let want =
                Command::ALL.iter().copied().find(|x| x.upper_name_str().as_bytes() == shorter);
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
        names.extend(Command::ALL.iter().map(|c| c.upper_name_str().as_bytes().to_vec()));
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
