/*!
cachetape-recorder: everything that reads the outside world into a trace.

- [`monitor`]: the MONITOR line parser (the exact inverse of Redis's `sdscatrepr` quoting) and its
  formatter, and a reader that turns a capture into [`RedisCommand`](cachetape_tape::RedisCommand)s
  with `[db lua]` lines attached to their script;
- [`schema`]: column names, types and keys from `CREATE TABLE` statements;
- [`binlog`]: MySQL/MariaDB binlog row events into row changes and commits;
- [`import`]: MONITOR captures and binlog files into one trace;
- [`live`]: the live recorder (`cachetape record`): MONITOR and binlog taps, clock and snapshot
  probes, preflight checks, redaction, one writer thread.

This is the only crate of the workspace that does network I/O.
*/
#![deny(missing_docs)]

pub mod binlog;
pub mod import;
pub mod live;
pub mod monitor;
pub mod schema;
