/*!
Private `redis-server` and `mariadbd` instances, started from the binaries on PATH: the demo's
servers when it is given none, and (through `cachetape-testkit`) the integration tests'.

Each instance lives in a temporary directory of its own and listens on a free loopback port (and
a unix socket in that directory); the machine's own Redis (6379) and MariaDB (3306) are never
touched. MariaDB gets its binlog on in ROW format with full row images (what the recorder needs)
unless told otherwise. An instance is killed and its directory removed when it is dropped, and the
kernel kills it if this process dies first, so an interrupted run leaves no servers behind
([`process`] says how).

A missing binary is a [`DemoError::MissingBinary`] naming the Debian/Ubuntu package to install.
*/

mod mariadb;
pub mod process;
mod redis_server;

use std::path::PathBuf;

pub use mariadb::{MariaDbOptions, PrivateMariaDb};
pub use redis_server::PrivateRedis;

use crate::DemoError;

/// Finds `binary` on PATH (and in `/usr/sbin`, `/sbin`, where Debian puts `mariadbd`);
/// [`DemoError::MissingBinary`] names `package`, which has it.
pub fn find_binary(binary: &'static str, package: &'static str) -> Result<PathBuf, DemoError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(binary))
        .find(|p| p.is_file())
        .ok_or(DemoError::MissingBinary { binary, package })
}
