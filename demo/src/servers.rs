/*!
Private `redis-server` and `mariadbd` instances for the demo, started from the binaries on PATH.

Each instance lives in a temporary directory of its own and listens on a free loopback port; the
machine's own Redis (6379) and MariaDB (3306) are never touched. MariaDB gets its binlog on in ROW
format (what the recorder needs). An instance is killed and its directory removed when it is
dropped, and the kernel kills it if the demo process dies first (`PR_SET_PDEATHSIG`), so an
interrupted demo leaves no servers behind.

A missing binary is a [`DemoError::MissingBinary`] naming the Debian/Ubuntu package to install.
*/

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::DemoError;

/// Finds `binary` on PATH (and in `/usr/sbin`, `/sbin`, where Debian puts `mariadbd`).
pub fn find_binary(binary: &'static str, package: &'static str) -> Result<PathBuf, DemoError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(binary))
        .find(|p| p.is_file())
        .ok_or(DemoError::MissingBinary { binary, package })
}

/// A loopback port that was free a moment ago.
fn free_port() -> Result<u16, DemoError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| DemoError::Server {
        what: "a free loopback port".into(),
        detail: e.to_string(),
    })?;
    Ok(listener
        .local_addr()
        .map_err(|e| DemoError::Server {
            what: "a free loopback port".into(),
            detail: e.to_string(),
        })?
        .port())
}

/// A server process in its temporary directory; killed on drop.
struct Process {
    child: Child,
    // Dropped after the child is killed (field order): removes the directory.
    _dir: tempfile::TempDir,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `command` so that the kernel kills it when this process dies.
fn spawn(mut command: Command) -> std::io::Result<Child> {
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: prctl is async-signal-safe; the closure allocates nothing.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    command.spawn()
}

/// The last lines of a server's log, for an error message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(12).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// Starts `command(port)` on a free port until `ready(port)`; tries a few ports in case one is
/// taken between choosing and binding it.
fn start(
    what: &str,
    log: &Path,
    timeout: Duration,
    command: impl Fn(u16) -> Command,
    ready: impl Fn(u16) -> bool,
) -> Result<(u16, Child), DemoError> {
    for _attempt in 0..5 {
        let port = free_port()?;
        let mut child = spawn(command(port))
            .map_err(|e| DemoError::Server { what: what.into(), detail: e.to_string() })?;
        let started = Instant::now();
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break; // exited: most likely the port was taken; try another
            }
            if ready(port) {
                return Ok((port, child));
            }
            if started.elapsed() > timeout {
                let _ = child.kill();
                let _ = child.wait();
                return Err(DemoError::Server {
                    what: what.into(),
                    detail: format!(
                        "not ready after {} s; its log ends with:\n{}",
                        timeout.as_secs(),
                        log_tail(log)
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Err(DemoError::Server {
        what: what.into(),
        detail: format!(
            "exited at start on 5 ports in a row; its log ends with:\n{}",
            log_tail(log)
        ),
    })
}

/// A private redis-server: no persistence, loopback only.
pub struct PrivateRedis {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    _process: Process,
}

impl PrivateRedis {
    /// Starts one (a fraction of a second).
    pub fn start() -> Result<PrivateRedis, DemoError> {
        let bin = find_binary("redis-server", "redis-server")?;
        let dir = temp_dir("cachetape-demo-redis-")?;
        let log = dir.path().join("redis.log");
        let path = dir.path().to_path_buf();
        let (port, child) = start(
            "redis-server",
            &log,
            Duration::from_secs(10),
            |port| {
                let mut cmd = Command::new(&bin);
                cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                    .args(["--save", "", "--appendonly", "no"])
                    .arg("--dir")
                    .arg(&path)
                    .arg("--logfile")
                    .arg(&log);
                cmd
            },
            ping_redis,
        )?;
        Ok(PrivateRedis { port, _process: Process { child, _dir: dir } })
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

fn temp_dir(prefix: &str) -> Result<tempfile::TempDir, DemoError> {
    tempfile::Builder::new().prefix(prefix).tempdir().map_err(|e| DemoError::Server {
        what: "a temporary directory".into(),
        detail: e.to_string(),
    })
}

fn ping_redis(port: u16) -> bool {
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    if conn.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    BufReader::new(conn).read_line(&mut line).is_ok() && line.starts_with("+PONG")
}

/// A private mariadbd: binlog on in ROW format with full row images, root without a password,
/// loopback only.
pub struct PrivateMariaDb {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    _process: Process,
}

impl PrivateMariaDb {
    /// Installs a data directory and starts the server (about 3 s).
    pub fn start() -> Result<PrivateMariaDb, DemoError> {
        let install = find_binary("mariadb-install-db", "mariadb-server")?;
        let bin = find_binary("mariadbd", "mariadb-server")?;
        let dir = temp_dir("cachetape-demo-mariadb-")?;
        let data = dir.path().join("data");
        // A private tmpdir: mariadbd clears `#sql*` files from its tmpdir at start, which would
        // break another instance being installed in a shared /tmp at the same moment.
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).map_err(|e| DemoError::Server {
            what: "MariaDB's directory".into(),
            detail: e.to_string(),
        })?;
        let out = Command::new(&install)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .args(["--user=root", "--auth-root-authentication-method=normal"])
            .output()
            .map_err(|e| DemoError::Server {
                what: "mariadb-install-db".into(),
                detail: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(DemoError::Server {
                what: "mariadb-install-db".into(),
                detail: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            });
        }
        let log = dir.path().join("error.log");
        let root = dir.path().to_path_buf();
        let (port, child) = start(
            "mariadbd",
            &log,
            Duration::from_secs(60),
            |port| {
                let mut cmd = Command::new(&bin);
                cmd.arg("--no-defaults")
                    .arg(format!("--datadir={}", data.display()))
                    .arg(format!("--tmpdir={}", tmp.display()))
                    .args(["--user=root", "--bind-address=127.0.0.1", "--server-id=1"])
                    .arg(format!("--port={port}"))
                    .arg(format!("--socket={}", root.join("mysqld.sock").display()))
                    .arg(format!("--log-error={}", log.display()))
                    .arg(format!("--pid-file={}", root.join("mysqld.pid").display()))
                    .arg(format!("--log-bin={}", data.join("binlog").display()))
                    .args(["--binlog-format=ROW", "--binlog-row-image=FULL"])
                    .args(["--innodb-buffer-pool-size=32M"]);
                cmd
            },
            mariadb_ready,
        )?;
        Ok(PrivateMariaDb { port, _process: Process { child, _dir: dir } })
    }

    /// `mysql://root@127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }
}

/// True once the server sends its handshake (protocol 10) on a new connection.
fn mariadb_ready(port: u16) -> bool {
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    let mut head = [0u8; 5];
    std::io::Read::read_exact(&mut conn, &mut head).is_ok() && head[4] == 10
}
