/*!
What cachetape's integration tests and benchmarks share.

- **Private servers** ([`RedisServer`], [`MariaDb`]): `redis-server` and `mariadbd` instances
  started from the binaries on PATH by the demo's launcher ([`cachetape_demo::servers`]), each in
  its own temporary directory on a free loopback port (and a unix socket in that directory); a
  missing binary fails the test with the package to install. Nothing here touches the machine's
  own Redis (6379) or MariaDB (3306). Instances die with the test process, however it ends; a
  normal exit kills them and removes their directories. [`RedisServer::shared`] and
  [`MariaDb::shared`] give one instance per test binary, as starting MariaDB costs about a second.
- **Raw RESP** ([`resp_command`], [`read_resp`]) for tests that compare bytes.
- **Traces by hand** ([`trace::TraceBuilder`]): events written through the tape crate's writer,
  for the tests' small cases and the benchmarks' large synthetic traces.
- **Workloads**: a real cache-aside workload that logs what every read returned
  ([`cache_aside`]), and synthetic MONITOR text ([`synthetic`]).
*/
#![deny(missing_docs)]

pub mod cache_aside;
mod resp;
mod servers;
pub mod synthetic;
pub mod trace;

pub use resp::{read_resp, resp_command};
pub use servers::{MariaDb, MariaDbOptions, RedisServer, require};
