/*!
One Redis command → its ops on mapped keys, from what the replayer's store holds after it.

Reads of mapped keys by the commands the analyzer judges ([`Command::is_judged_read`]; field
reads are taken as reads of the whole value) → `Read`; DEL, UNLINK, GETDEL → `Del`; EXPIRE,
PEXPIRE, EXPIREAT, PEXPIREAT (absolute expiry from the arguments on the node's virtual clock; a
time already past deletes), PERSIST, GETEX with options → `Expire`; every other write of a key
([`Command::for_written_keys`]) → `Set` of what the store holds afterwards (projected and
interned; a value the rule cannot reconcile → unreconciled; a key the store cannot know →
unknown). Writes whose result depends on the previous value (anything that does not
[`Command::overwrites`] its key: APPEND, INCR…, SET NX/XX, SETNX, a partial HSET, HDEL, RENAME…)
are given as their recorded result and make the component approximate. Such a conditional write
that left the value as it was becomes no op (or an `Expire` when only the TTL changed).

A framework's own expiry inside a value (a Keyv `expires`, a .NET `absexp`:
[`cachetape_analyzer::mapping::Projected::expires_ms`]) bounds the value's expiry like a TTL:
every `Set` and `Expire` carries the earlier of the two (on the node's clock), so a read after
it finds the key absent in every schedule, as the app does.
*/

use std::borrow::Cow;

use cachetape_analyzer::mapping::{Rule, ValueTable};
use cachetape_replayer::{Command, KeyState, Step, Store, Value as RValue};
use cachetape_tape::{Argv, Event, Micros, RedisCommand, SourceId};

use super::Extractor;
use super::text::short_list;
use super::unit::{GOp, GVal};
use crate::model::Us;

/// What one command does to mapped keys.
#[derive(Default)]
pub(super) struct Effects {
    /// Its reads, then what it left in the keys it may write, then its script's calls.
    pub(super) ops: Vec<GOp>,
    /// Its text per command, when asked for (blocks, scripts, unknown commands).
    pub(super) whats: Vec<String>,
    /// Its result depends on what the keys held.
    pub(super) approximate: bool,
}

impl Extractor {
    /// The ops of one command (its reads, then what it left in the keys it may write, then its
    /// script's calls), and, when `tell`, its text per command.
    pub(super) fn command_ops(
        &mut self,
        event: &Event,
        rc: &RedisCommand,
        step: &Step,
        tell: bool,
    ) -> Effects {
        let mut out = Effects::default();
        let source = event.source;
        let command = step.command;
        let is_read = command.is_judged_read();
        let name = command_name(command, &rc.argv);
        if is_read && !step.reply.is_error() {
            let keys: Vec<&[u8]> = match command {
                Command::MGet => rc.argv.iter().skip(1).collect(),
                _ => rc.argv.get(1).into_iter().collect(),
            };
            let mut read_keys = Vec::new();
            for key in keys {
                if let Some(k) = self.key(source, rc.db, key) {
                    out.ops.push(GOp::Read { key: k, seq: event.seq });
                    if tell {
                        read_keys.push(self.key_name(k));
                    }
                }
            }
            if tell && !read_keys.is_empty() && command.is_read_only() {
                out.whats.push(format!("{name} {}", short_list(&read_keys)));
            }
        }
        if !command.is_read_only() && !command.is_script() {
            let before = out.ops.len();
            self.write_ops(source, rc.db, rc.server_us, command, &rc.argv, &mut out);
            if tell && (out.ops.len() > before || (is_read && !out.ops.is_empty())) {
                out.whats.push(self.describe(&name, &out.ops[..], before, is_read));
            }
        }
        if command.is_script() {
            for (s, call) in step.script.iter().zip(&rc.script) {
                if s.command.is_read_only() {
                    continue;
                }
                let before = out.ops.len();
                self.write_ops(source, call.db, rc.server_us, s.command, &call.argv, &mut out);
                if out.ops.len() > before {
                    let name = command_name(s.command, &call.argv);
                    out.whats.push(self.describe(&name, &out.ops[..], before, false));
                }
            }
        }
        out
    }

    /// What `command` left in each mapped key it may write.
    fn write_ops(
        &mut self,
        source: SourceId,
        db: u32,
        server_us: Micros,
        command: Command,
        argv: &Argv,
        out: &mut Effects,
    ) {
        let now_ms = server_us.div_euclid(1000);
        let mut written: Vec<&[u8]> = Vec::new();
        command.for_written_keys(argv, |key| written.push(key));
        for key in written {
            let Some(k) = self.key(source, db, key) else { continue };
            // The framework's expiry inside the value the key holds afterwards.
            let mut app_ms = None;
            let state = match self.replayer.store(source).map(|s| s.key(db, key, now_ms)) {
                Some(KeyState::Present(e)) => {
                    let rule = &self.mapping.rules[self.keys[k as usize].rule as usize];
                    let (value, app) = project(rule, &e.value, &mut self.values, &mut self.proj);
                    app_ms = app;
                    Some((value, lapse(e.expires_at, app)))
                }
                Some(KeyState::Unknown) => Some((GVal::Unknown, None)),
                Some(KeyState::Missing) | None => None,
            };
            let op = match command {
                Command::Del | Command::Unlink | Command::GetDel => match state {
                    Some((GVal::Unknown, _)) => {
                        GOp::Set { key: k, value: GVal::Unknown, expires_at: None }
                    }
                    _ => GOp::Del { key: k },
                },
                Command::Expire
                | Command::PExpire
                | Command::ExpireAt
                | Command::PExpireAt
                | Command::Persist
                | Command::GetEx => match expiry_of(command, argv, now_ms) {
                    Some(Expiry::At { ms, conditional }) => {
                        out.approximate |= conditional;
                        if ms <= now_ms {
                            GOp::Del { key: k }
                        } else {
                            let ms = lapse(Some(ms), app_ms).unwrap_or(ms);
                            GOp::Expire { key: k, expires_at: Some(self.virtual_us(source, ms)) }
                        }
                    }
                    Some(Expiry::Persist) => GOp::Expire {
                        key: k,
                        expires_at: app_ms.map(|e| self.virtual_us(source, e)),
                    },
                    Some(Expiry::Del) => GOp::Del { key: k },
                    // GETEX without options, or arguments the store refused: no change.
                    None => continue,
                },
                _ => {
                    let partial_hash = matches!(command, Command::HSet | Command::HMSet)
                        && !whole_hash(argv, &state, self.replayer.store(source), db, key, now_ms);
                    let unconditional = command.overwrites(argv) && !partial_hash;
                    match state {
                        None => {
                            if !unconditional {
                                out.approximate = true;
                            }
                            GOp::Del { key: k }
                        }
                        Some((value, expires_ms)) => {
                            if !unconditional {
                                let last = self.keys[k as usize].last;
                                if last.0 == value && value != GVal::Unknown {
                                    out.approximate = true;
                                    if last.1 == expires_ms {
                                        // No effect here, maybe one in another order: the
                                        // key's component is approximate.
                                        self.keys[k as usize].conditional = true;
                                        continue;
                                    }
                                    self.keys[k as usize].last = (value, expires_ms);
                                    let expires_at = expires_ms.map(|e| self.virtual_us(source, e));
                                    out.ops.push(GOp::Expire { key: k, expires_at });
                                    continue;
                                }
                                if value != GVal::Unknown {
                                    out.approximate = true;
                                }
                            }
                            let expires_at = expires_ms.map(|e| self.virtual_us(source, e));
                            GOp::Set { key: k, value, expires_at }
                        }
                    }
                }
            };
            self.keys[k as usize].last = match (&op, state) {
                (GOp::Del { .. }, _) | (_, None) => (GVal::Absent, None),
                (_, Some(s)) => s,
            };
            out.ops.push(op);
        }
    }

    /// A time on `source`'s virtual clock (ms) on the timeline.
    pub(super) fn virtual_us(&self, source: SourceId, ms: i64) -> Us {
        self.timeline.on_source_clock(source, ms.saturating_mul(1000)).t
    }
}

/// A command's name as Redis prints it. The command's own (`SET`) when the store knows it; an
/// unknown command has no name of its own, so its argv's is used, upper-cased as Redis would.
fn command_name(command: Command, argv: &Argv) -> Cow<'static, str> {
    match command {
        Command::Unknown => Cow::Owned(String::from_utf8_lossy(argv.name()).to_ascii_uppercase()),
        known => Cow::Borrowed(known.upper_name_str()),
    }
}

/// What a store value projects to under `rule`, and the framework's expiry inside it (ms).
pub(super) fn project(
    rule: &Rule,
    value: &RValue,
    values: &mut ValueTable,
    proj: &mut Vec<u8>,
) -> (GVal, Option<i64>) {
    let r = match value {
        RValue::String(s) => rule.project_string(s.as_bytes(), proj),
        RValue::Hash(h) => rule.project_hash(|f| h.get(f).map(|b| &b[..]), proj),
        _ => Err("the cached value is a list, set or sorted set"),
    };
    match r {
        Ok(p) => (GVal::Known(values.intern(proj)), p.expires_ms),
        Err(_) => (GVal::Unreconciled, None),
    }
}

/// When a value lapses (ms): its Redis expiry or the framework's inside it, whichever is first.
pub(super) fn lapse(expires_ms: Option<i64>, app_expires_ms: Option<i64>) -> Option<i64> {
    match (expires_ms, app_expires_ms) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// True when an HSET/HMSET set every field the hash holds after it (so its result does not
/// depend on what the key held).
fn whole_hash(
    argv: &Argv,
    state: &Option<(GVal, Option<i64>)>,
    store: Option<&Store>,
    db: u32,
    key: &[u8],
    now_ms: i64,
) -> bool {
    if state.is_none() {
        return true;
    }
    let mut fields: Vec<&[u8]> = argv.iter().skip(2).step_by(2).collect();
    fields.sort_unstable();
    fields.dedup();
    match store.map(|s| s.key(db, key, now_ms)) {
        Some(KeyState::Present(e)) => match &e.value {
            RValue::Hash(h) => h.len() == fields.len(),
            _ => false,
        },
        _ => false,
    }
}

/// What an EXPIRE-family command or a GETEX does to its key's expiry.
enum Expiry {
    /// Expires at `ms` on the node's clock; `conditional` when NX/XX/GT/LT may have refused it.
    At { ms: i64, conditional: bool },
    /// No expiry any more.
    Persist,
    /// Deleted (an expiry already past).
    Del,
}

/// The absolute expiry (ms on the node's clock) an EXPIRE-family command or a GETEX sets.
fn expiry_of(command: Command, argv: &Argv, now_ms: i64) -> Option<Expiry> {
    let int = |i: usize| -> Option<i64> {
        std::str::from_utf8(argv.get(i)?).ok()?.trim().parse::<i64>().ok()
    };
    let conditional = argv.len() > 3;
    let at = |ms: i64| Some(Expiry::At { ms, conditional });
    match command {
        Command::Expire => at(now_ms.saturating_add(int(2)?.saturating_mul(1000))),
        Command::PExpire => at(now_ms.saturating_add(int(2)?)),
        Command::ExpireAt => at(int(2)?.saturating_mul(1000)),
        Command::PExpireAt => at(int(2)?),
        Command::Persist => Some(Expiry::Persist),
        Command::GetEx => {
            let opt = argv.get(2)?.to_ascii_uppercase();
            let ms = match &opt[..] {
                b"PERSIST" => return Some(Expiry::Persist),
                b"EX" => now_ms.saturating_add(int(3)?.saturating_mul(1000)),
                b"PX" => now_ms.saturating_add(int(3)?),
                b"EXAT" => int(3)?.saturating_mul(1000),
                b"PXAT" => int(3)?,
                _ => return None,
            };
            if ms <= now_ms {
                return Some(Expiry::Del);
            }
            Some(Expiry::At { ms, conditional: false })
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "app_expiry_tests.rs"]
mod app_expiry_tests;
