/*!
One Redis node of a replay: its fake store and, per client connection, what MONITOR's order of
transactions needs.

Between a client's MULTI and its EXEC, MONITOR writes that client's queued commands as they
execute at EXEC time, each on its own line and before the EXEC line (see `transactions.rs`). So
each is applied once, on arrival, with the time of the first of them (Redis freezes the clock
for EXEC); the client was sent `+QUEUED` for each ([`Step::queued`]) and EXEC's reply is the
array of their results. Scripts apply their `[lua]` lines (`scripts.rs`).
*/

use cachetape_base::FxHashMap;
use cachetape_tape::{Micros, Name, RedisCommand};

use super::step::{ScriptStep, Step, views};
use crate::command::Command;
use crate::dispatch::Effect;
use crate::reply::Reply;
use crate::scripts;
use crate::store::{ClientId, Store};

/// One client connection of a node.
#[derive(Default)]
struct ClientState {
    id: ClientId,
    /// Between MULTI and EXEC: results of the queued commands seen so far.
    multi: Option<Multi>,
}

/// A transaction between MULTI and EXEC.
#[derive(Default)]
struct Multi {
    results: Vec<Reply>,
    /// The time all queued commands run at (the first one's).
    exec_us: Option<Micros>,
}

/// One Redis node (source) of the trace.
pub(super) struct Node {
    /// The node's fake store.
    pub store: Store,
    clients: FxHashMap<Name, ClientState>,
    next_id: ClientId,
    /// Clients between MULTI and EXEC.
    pub in_multi: usize,
    /// The time of the node's last command.
    pub last_us: Option<Micros>,
}

impl Node {
    /// A node whose store has `databases` databases.
    pub(super) fn new(databases: usize) -> Node {
        Node {
            store: Store::with_databases(databases),
            clients: FxHashMap::default(),
            next_id: 1,
            in_multi: 0,
            last_us: None,
        }
    }

    /// Applies a command inside a transaction, a transaction command or a script, as
    /// `rc.client` sent it: its step, how the store handled it, and a note when the replay
    /// disagrees with the trace.
    pub(super) fn connection_step(
        &mut self,
        seq: u64,
        rc: &RedisCommand,
        command: Command,
        key_views: bool,
    ) -> (Step, Effect, Option<String>) {
        let mut step = Step {
            seq,
            command,
            reply: Reply::Unknown,
            queued: false,
            script: Vec::new(),
            keys: Vec::new(),
        };
        let node = self;
        if !node.clients.contains_key(&rc.client) {
            let id = node.next_id;
            node.next_id += 1;
            node.clients.insert(rc.client.clone(), ClientState { id, multi: None });
        }
        let client = node.clients.get_mut(&rc.client).expect("inserted above");
        let id = client.id;
        let now_ms = rc.server_us.div_euclid(1000);
        let mut note = None;
        let mut effect = Effect::Modelled;

        let in_multi = client.multi.is_some();
        if in_multi
            && !matches!(
                command,
                Command::Multi | Command::Exec | Command::Discard | Command::Watch
            )
        {
            // A queued command, executing now as part of EXEC.
            let multi = client.multi.as_mut().expect("in multi");
            let first = multi.exec_us.is_none();
            let now_us = *multi.exec_us.get_or_insert(rc.server_us);
            if first {
                if node.store.is_dirty(id) || node.store.watched_key_expired(id, now_ms) {
                    note = Some(format!(
                        "event {seq}: the transaction of {} ran although, in the replay, a key it \
                         watched had changed",
                        rc.client
                    ));
                }
                node.store.unwatch_all(id);
                node.store.clear_dirty(id);
            }
            let (reply, e, script) = run(&mut node.store, command, id, rc, now_us, key_views);
            effect = e;
            step.script = script;
            let client = node.clients.get_mut(&rc.client).expect("present");
            client.multi.as_mut().expect("in multi").results.push(reply.clone());
            step.reply = reply;
            step.queued = true;
        } else {
            step.reply = match command {
                Command::Multi => {
                    if in_multi {
                        Reply::err("ERR MULTI calls can not be nested")
                    } else {
                        client.multi = Some(Multi::default());
                        node.in_multi += 1;
                        Reply::OK
                    }
                }
                Command::Exec => match client.multi.take() {
                    None => Reply::err("ERR EXEC without MULTI"),
                    Some(multi) => {
                        node.in_multi -= 1;
                        let reply = if multi.exec_us.is_some() {
                            Reply::Array(multi.results)
                        } else if node.store.is_dirty(id)
                            || node.store.watched_key_expired(id, now_ms)
                        {
                            Reply::NilArray
                        } else {
                            // Empty, or refused with EXECABORT: MONITOR cannot tell them apart.
                            Reply::Array(Vec::new())
                        };
                        node.store.unwatch_all(id);
                        node.store.clear_dirty(id);
                        reply
                    }
                },
                Command::Discard => match client.multi.take() {
                    None => Reply::err("ERR DISCARD without MULTI"),
                    Some(_) => {
                        node.in_multi -= 1;
                        node.store.unwatch_all(id);
                        node.store.clear_dirty(id);
                        Reply::OK
                    }
                },
                Command::Watch if in_multi => Reply::err("ERR WATCH inside MULTI is not allowed"),
                _ => {
                    let (reply, e, script) =
                        run(&mut node.store, command, id, rc, rc.server_us, key_views);
                    effect = e;
                    step.script = script;
                    reply
                }
            };
        }
        if key_views && !command.is_script() {
            step.keys = views(&node.store, rc.db, &rc.argv.view(), rc.server_us);
        }
        (step, effect, note)
    }
}

/// Runs one command (a script: its recorded calls) for the slow path.
fn run(
    store: &mut Store,
    command: Command,
    client: ClientId,
    rc: &RedisCommand,
    now_us: Micros,
    key_views: bool,
) -> (Reply, Effect, Vec<ScriptStep>) {
    if command.is_script() {
        let mut steps = Vec::with_capacity(rc.script.len());
        scripts::apply(store, client, &rc.script, now_us, |_, out| {
            steps.push(ScriptStep { command: out.command, reply: out.reply, keys: Vec::new() });
        });
        // The script is atomic: its calls' keys are viewed once it has finished.
        if key_views {
            for (s, call) in steps.iter_mut().zip(&rc.script) {
                s.keys = views(store, call.db, &call.argv.view(), now_us);
            }
        }
        return (Reply::Unknown, Effect::Modelled, steps);
    }
    let mut db = rc.db;
    let (reply, effect) = store.call_command(command, client, &mut db, &rc.argv.view(), now_us);
    (reply, effect, Vec::new())
}
