/*!
What replaying one Redis command yields: a [`Step`] (owned) or a [`StepRef`] (borrowed from the
replayer until the next event) — the command, the reply the store computed, and on request the
store's view of the command's keys after it ([`KeyAfter`]).
*/

use cachetape_tape::{ArgvRef, Micros, commands};

use crate::command::Command;
use crate::reply::{Bytes, Reply, ReplyRef};
use crate::store::{KeyState, Store};
use crate::value::{Millis, Value};

/// What the store held for a key after a command.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyView {
    /// Absent (or expired).
    Missing,
    /// Unknown: an unmodelled command or a gap may have changed it.
    Unknown,
    /// Present.
    Present {
        /// The value.
        value: Value,
        /// Expiry, ms since the epoch.
        expires_at: Option<Millis>,
    },
}

/// A key and what the store held for it.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyAfter {
    /// Database index.
    pub db: u32,
    /// The key.
    pub key: Bytes,
    /// Its state after the command.
    pub view: KeyView,
}

/// One command a script ran (a `[lua]` line) and its result.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptStep {
    /// The command.
    pub command: Command,
    /// What it returned to the script.
    pub reply: Reply,
    /// Its keys after it (with [`ReplayOptions::key_views`](crate::ReplayOptions::key_views)).
    pub keys: Vec<KeyAfter>,
}

/// One replayed Redis command.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The event's sequence number.
    pub seq: u64,
    /// The command, or [`Command::Unknown`] when not modelled.
    pub command: Command,
    /// What executing it produced. For a queued command that is its result inside EXEC's
    /// array; for a script, [`Reply::Unknown`] (its return value is not recorded).
    pub reply: Reply,
    /// True when the command was sent inside MULTI: on the wire the client got `+QUEUED`, and
    /// [`Step::reply`] reached it inside EXEC's reply.
    pub queued: bool,
    /// For a script: what each of its calls returned.
    pub script: Vec<ScriptStep>,
    /// The store's view of the command's keys after it (with [`ReplayOptions::key_views`](crate::ReplayOptions::key_views)).
    pub keys: Vec<KeyAfter>,
}

impl Step {
    /// The reply the client received for this line: `+QUEUED` for a queued command.
    pub fn client_reply(&self) -> &Reply {
        if self.queued { &Reply::QUEUED } else { &self.reply }
    }
}

/// One replayed Redis command, borrowed from the [`Replayer`](crate::Replayer) that computed it
/// ([`Replayer::apply_ref`](crate::Replayer::apply_ref)): the same fields as [`Step`], valid until the next event.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRef<'a> {
    /// The event's sequence number.
    pub seq: u64,
    /// The command, or [`Command::Unknown`] when not modelled.
    pub command: Command,
    /// What executing it produced ([`Step::reply`]).
    pub reply: ReplyRef<'a>,
    /// Sent inside MULTI ([`Step::queued`]).
    pub queued: bool,
    /// For a script: what each of its calls returned.
    pub script: &'a [ScriptStep],
    /// The store's view of the command's keys after it (with [`ReplayOptions::key_views`](crate::ReplayOptions::key_views)).
    pub keys: &'a [KeyAfter],
}

impl StepRef<'_> {
    /// The owned [`Step`] (a bulk reply's bytes are copied).
    pub fn to_step(&self) -> Step {
        Step {
            seq: self.seq,
            command: self.command,
            reply: self.reply.clone().into_reply(),
            queued: self.queued,
            script: self.script.to_vec(),
            keys: self.keys.to_vec(),
        }
    }
}

/// The store's view of `argv`'s keys in `db` at `now_us`.
pub(super) fn views(store: &Store, db: u32, argv: &ArgvRef<'_>, now_us: Micros) -> Vec<KeyAfter> {
    let keys = commands::keys_ref(argv);
    let now = now_us.div_euclid(1000);
    let mut out: Vec<KeyAfter> = Vec::with_capacity(keys.positions.len());
    for k in keys.iter_ref(argv) {
        if out.iter().any(|o| &o.key[..] == k) {
            continue;
        }
        let view = match store.key(db, k, now) {
            KeyState::Missing => KeyView::Missing,
            KeyState::Unknown => KeyView::Unknown,
            KeyState::Present(e) => {
                KeyView::Present { value: e.value.clone(), expires_at: e.expires_at }
            }
        };
        out.push(KeyAfter { db, key: Bytes::from(k), view });
    }
    out
}
