/*!
Integration tests of the replayer, as one binary: differential tests against a real
redis-server (`differential`: generated command sequences; `recorded`: a multi-client workload
captured with MONITOR), replay semantics on hand-written traces (`replay`), and the RESP helpers
they share (`resp`).
*/

mod differential;
mod recorded;
mod replay;
mod resp;
