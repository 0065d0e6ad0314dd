/*!
The shape of Redis's command table: a [`CommandSpec`] per command and subcommand (arity, [`cmd`]
flags, key specs), and a [`KeySpec`] per group of keys — where its search [`Begin`]s, how it
[`Find`]s the keys from there, and its [`key`] flags — as Redis's `COMMAND` reply names them.
The generated table (`table.rs`) is written in these types.
*/

/// Command flags, as Redis's COMMAND reply names them.
#[allow(missing_docs)]
pub mod cmd {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const ASKING: u32 = 1 << 11;
    pub const FAST: u32 = 1 << 12;
    pub const NO_AUTH: u32 = 1 << 13;
    pub const MAY_REPLICATE: u32 = 1 << 14;
    pub const SENTINEL: u32 = 1 << 15;
    pub const ONLY_SENTINEL: u32 = 1 << 16;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;
    pub const PROTECTED: u32 = 1 << 18;
    pub const MODULE: u32 = 1 << 19;
    pub const MOVABLEKEYS: u32 = 1 << 20;
    pub const NO_MULTI: u32 = 1 << 21;
    pub const NO_ASYNC_LOADING: u32 = 1 << 22;
    pub const ALLOW_BUSY: u32 = 1 << 23;
    pub const TOUCHES_ARBITRARY_KEYS: u32 = 1 << 24;
}

/// Key-spec flags, as Redis's COMMAND reply names them (`RO`: read only, `RW`: read and
/// write, `OW`: overwrite, `RM`: remove; `access`, `update`, `insert`, `delete` say how).
#[allow(missing_docs)]
pub mod key {
    pub const RO: u16 = 1 << 0;
    pub const RW: u16 = 1 << 1;
    pub const OW: u16 = 1 << 2;
    pub const RM: u16 = 1 << 3;
    pub const ACCESS: u16 = 1 << 4;
    pub const UPDATE: u16 = 1 << 5;
    pub const INSERT: u16 = 1 << 6;
    pub const DELETE: u16 = 1 << 7;
    pub const NOT_KEY: u16 = 1 << 8;
    pub const INCOMPLETE: u16 = 1 << 9;
    pub const VARIABLE_FLAGS: u16 = 1 << 10;
}

/// One command or subcommand of Redis's command table.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower-case name; subcommands as `container|sub` (`object|encoding`).
    pub name: &'static str,
    /// Arity: exact argument count when positive, minimum (`-n`) when negative.
    pub arity: i32,
    /// [`cmd`] flags.
    pub flags: u32,
    /// Key specs: where the keys are.
    pub keys: &'static [KeySpec],
}

impl CommandSpec {
    /// True when the command has flag `flag` (a [`cmd`] constant).
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
}

/// Where one group of keys starts and how to find them (Redis key specs).
#[derive(Debug)]
pub struct KeySpec {
    /// Where the search begins.
    pub begin: Begin,
    /// How keys are found from there.
    pub find: Find,
    /// [`key`] flags.
    pub flags: u16,
}

/// Start of a key-spec search.
#[derive(Debug)]
pub enum Begin {
    /// At this argument index.
    Index(i32),
    /// After this keyword, searched from `startfrom` (negative: from the end, backwards).
    Keyword(&'static str, i32),
    /// Redis cannot say (the command needs special code).
    Unknown,
}

/// How keys are found from the start.
#[derive(Debug)]
pub enum Find {
    /// A range: `last` relative to the start (negative: from the end), every `step`th argument;
    /// with `limit` > 1 and `last` = -1, only 1/limit of the remaining arguments.
    Range {
        /// Last key, relative.
        last: i32,
        /// Step between keys.
        step: i32,
        /// Divisor of the remaining arguments.
        limit: i32,
    },
    /// The argument `numkeys_at` after the start holds the key count; keys start `first` after it.
    Keynum {
        /// Offset of the count.
        numkeys_at: i32,
        /// Offset of the first key, from the start.
        first: i32,
        /// Step between keys.
        step: i32,
    },
    /// Redis cannot say.
    Unknown,
}
