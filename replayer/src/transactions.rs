/*!
Transactions: WATCH and UNWATCH, which the store runs itself; MULTI, EXEC and DISCARD belong to
whoever knows when commands arrive, and that differs:

- **Live** ([`Store::execute`](crate::Store::execute) with a [`Client`](crate::Client),
  `connection.rs`): commands arrive as a client sends them. Inside MULTI they are queued
  (`+QUEUED`; a wrong arity or unknown command flags the transaction so EXEC answers
  `-EXECABORT`) and EXEC runs them, unless a watched key was touched or expired since WATCH (then
  EXEC answers the nil array). This is what the differential test drives against a real server.
- **Recorded** ([`crate::Replayer`]): MONITOR writes a transaction's commands when EXEC runs
  them, each on its own line and before the EXEC line. The replayer applies each of those lines
  once, as it arrives, and gives EXEC the array of their results; an EXEC with no lines before it
  was aborted (nil array when the model agrees a watched key changed) or empty.

The WATCH bookkeeping itself (which client watches what, who must abort) is the store's
(`store.rs`), since every write signals it.
*/

use cachetape_tape::ArgvRef;

use crate::reply::Reply;
use crate::store::{Cx, Store};

/// `WATCH key [key ...]` (the caller has checked it is not inside MULTI).
pub(crate) fn watch(st: &mut Store, cx: &Cx, a: &ArgvRef<'_>) -> Reply {
    if st.is_dirty(cx.client) {
        return Reply::OK;
    }
    for key in a.iter().skip(1) {
        st.watch(cx.client, cx.db, key, cx.now);
    }
    Reply::OK
}

/// `UNWATCH`.
pub(crate) fn unwatch(st: &mut Store, cx: &Cx) -> Reply {
    st.unwatch_all(cx.client);
    st.clear_dirty(cx.client);
    Reply::OK
}
