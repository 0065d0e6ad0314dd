/*!
Scripts: EVAL, EVALSHA, FCALL and their `_RO` variants.

The store does not run Lua. MONITOR writes the script's command line first, then one `[db lua]`
line per command the script ran (the tape attaches those to the script's event as
[`RedisCommand::script`](cachetape_tape::RedisCommand::script)). The script's effects are
those lines, applied here in order as one atomic unit at the script's time — Redis freezes the
clock for a script, so every call sees the EVAL's time — and never a second time. The script's
own return value is not in the trace: its reply is [`Reply::Unknown`], while each call's result
is kept (a GET inside a script is a read like any other).
*/

use cachetape_tape::ScriptCall;

use crate::command::Command;
use crate::reply::Reply;
use crate::store::{ClientId, Store};

/// The outcome of one script call.
pub(crate) struct CallOutcome {
    pub command: Command,
    pub reply: Reply,
}

/// Applies a script's recorded calls at `now_us`, as `client`.
pub(crate) fn apply(
    store: &mut Store,
    client: ClientId,
    calls: &[ScriptCall],
    now_us: i64,
    mut each: impl FnMut(&ScriptCall, CallOutcome),
) {
    for call in calls {
        let command = Command::of(&call.argv);
        let mut db = call.db;
        let reply = if command.is_script() || command.is_transaction() {
            // Redis refuses these inside a script; if a line claims one ran, nothing is known.
            Reply::Unknown
        } else {
            store.call_command(command, client, &mut db, &call.argv.view(), now_us).0
        };
        each(call, CallOutcome { command, reply });
    }
}
