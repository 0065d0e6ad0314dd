/*!
The tests' private servers: the demo's launcher ([`cachetape_demo::servers`]) with what tests add
— a failure is a panic whose message says what to install, one instance can be shared by every
test of a test binary, and helpers to talk to an instance (`redis-cli`, raw RESP, the `mariadb`
client).
*/

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::ops::Deref;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use cachetape_demo::DemoError;
use cachetape_demo::servers::{PrivateMariaDb, PrivateRedis, find_binary};

pub use cachetape_demo::servers::MariaDbOptions;

use crate::resp::{read_resp, resp_command};

/// The script that installs every server and tool the tests need, then runs them.
const TEST_SCRIPT: &str = "scripts/test.sh";

/// The panic message for a missing `binary` of Debian/Ubuntu `package`.
fn missing(binary: &str, package: &str) -> String {
    format!(
        "`{binary}` is not on PATH: these tests start a private instance of it. Install the \
         Debian/Ubuntu package `{package}` (`apt-get install {package}`), or run \
         `{TEST_SCRIPT}`, which installs what is missing and runs the tests."
    )
}

/// The started server, or a panic saying why it did not start.
fn started<T>(result: Result<T, DemoError>) -> T {
    result.unwrap_or_else(|e| match e {
        DemoError::MissingBinary { binary, package } => panic!("{}", missing(binary, package)),
        e => panic!("{e}"),
    })
}

/// Panics with an install hint unless `binary` is on PATH (or in `/usr/sbin`, `/sbin`).
pub fn require(binary: &'static str, package: &'static str) -> PathBuf {
    started(find_binary(binary, package))
}

/// A private redis-server (see [`PrivateRedis`] for its fields: `port`, `socket`, `dir`, `ipv6`).
pub struct RedisServer(PrivateRedis);

impl Deref for RedisServer {
    type Target = PrivateRedis;

    fn deref(&self) -> &PrivateRedis {
        &self.0
    }
}

impl RedisServer {
    /// One instance shared by every test of this test binary, running until it exits. Tests
    /// sharing it must use keys (or db indexes) of their own.
    pub fn shared() -> &'static RedisServer {
        static SHARED: OnceLock<RedisServer> = OnceLock::new();
        SHARED.get_or_init(|| RedisServer(started(PrivateRedis::start()).keep_until_exit()))
    }

    /// A fresh instance owned by the caller, stopped on drop.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// A fresh instance with extra `redis-server` arguments (`["--requirepass", "x"]`).
    pub fn start_with(extra: &[&str]) -> RedisServer {
        RedisServer(started(PrivateRedis::start_with(extra)))
    }

    /// `redis-cli` pointed at this instance.
    pub fn cli(&self) -> Command {
        let mut cmd = Command::new(require("redis-cli", "redis-tools"));
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        cmd
    }

    /// Sends one command over a fresh connection and returns the raw RESP reply.
    pub fn command(&self, args: &[&[u8]]) -> Vec<u8> {
        let mut conn = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to redis");
        conn.write_all(&resp_command(args)).unwrap();
        let mut reader = BufReader::new(conn);
        let mut reply = Vec::new();
        read_resp(&mut reader, &mut reply);
        reply
    }
}

/// A private mariadbd, root with an empty password over TCP and its own socket (see
/// [`PrivateMariaDb`] for its fields: `port`, `socket`, `dir`, the data directory).
pub struct MariaDb(PrivateMariaDb);

impl Deref for MariaDb {
    type Target = PrivateMariaDb;

    fn deref(&self) -> &PrivateMariaDb {
        &self.0
    }
}

impl MariaDb {
    /// One binlog-enabled (ROW, FULL) instance shared by every test of this test binary, running
    /// until it exits. Tests sharing it must use databases of their own.
    pub fn shared() -> &'static MariaDb {
        static SHARED: OnceLock<MariaDb> = OnceLock::new();
        SHARED.get_or_init(|| MariaDb::start_with(MariaDbOptions::default()).keep_until_exit())
    }

    /// A fresh instance with `options`, stopped on drop.
    pub fn start_with(options: MariaDbOptions) -> MariaDb {
        // The tests talk to it through the client: say so now rather than at the first query.
        require("mariadb", "mariadb-client");
        MariaDb(started(PrivateMariaDb::start_with(&options)))
    }

    fn keep_until_exit(self) -> MariaDb {
        MariaDb(self.0.keep_until_exit())
    }

    /// The `mariadb` client pointed at this instance, batch mode, no headers.
    pub fn client(&self) -> Command {
        let mut cmd = Command::new(require("mariadb", "mariadb-client"));
        cmd.args(["--no-defaults", "-h", "127.0.0.1", "-u", "root", "--batch"])
            .arg("--skip-column-names")
            .arg(format!("-P{}", self.port));
        cmd
    }

    /// Runs SQL through the client; `Err` carries the client's error text.
    pub fn try_sql(&self, sql: &str) -> Result<String, String> {
        let out = self.client().arg("-e").arg(sql).output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Runs SQL through the client and returns its tab-separated output; panics on error.
    pub fn sql(&self, sql: &str) -> String {
        self.try_sql(sql).unwrap_or_else(|e| panic!("SQL failed: {e}\n{sql}"))
    }

    /// The binlog files written so far, oldest first.
    pub fn binlog_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with("binlog.") && n[7..].chars().all(|c| c.is_ascii_digit())
                })
            })
            .collect();
        files.sort();
        files
    }
}
