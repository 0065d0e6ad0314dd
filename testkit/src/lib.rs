/*!
Private `redis-server` and `mariadbd` instances for integration tests.

Each instance lives in its own temporary directory, listens on a free loopback port (and a unix
socket inside that directory) and is started from the binaries on PATH; a missing binary fails
the test with the package to install. Nothing here touches the machine's own Redis (6379) or
MariaDB (3306).

Instances are children of a keeper thread that lives as long as the test process and ask the
kernel to kill them when it dies (`PR_SET_PDEATHSIG`), so a crashed or interrupted test run leaves
no servers behind; a normal exit kills them and removes their directories. [`RedisServer::shared`]
and [`MariaDb::shared`] give one instance per test binary, as starting MariaDB costs about a
second.
*/
#![deny(missing_docs)]

pub mod cache_aside;
pub mod synthetic;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Panics with an install hint unless `binary` is on PATH.
pub fn require(binary: &str, package: &str) -> PathBuf {
    find_on_path(binary).unwrap_or_else(|| {
        panic!(
            "`{binary}` is not on PATH: these tests start a private instance of it. Install the \
             Debian/Ubuntu package `{package}` (`apt-get install {package}`), or run `.ci/run`, \
             which installs it."
        )
    })
}

fn find_on_path(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(binary))
        .find(|p| p.is_file())
}

/// A loopback TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port").local_addr().unwrap().port()
}

struct Spawn {
    command: Command,
    reply: mpsc::Sender<std::io::Result<Child>>,
}

/// Children and directories to clean up when the test process exits.
static CLEANUP: Mutex<Vec<(u32, Option<PathBuf>)>> = Mutex::new(Vec::new());

extern "C" fn cleanup_at_exit() {
    if let Ok(list) = CLEANUP.lock() {
        for (pid, dir) in list.iter() {
            unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
            let mut status = 0;
            unsafe { libc::waitpid(*pid as i32, &mut status, 0) };
            if let Some(dir) = dir {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// Spawns `command` from the keeper thread, so the child dies with the test process.
pub fn spawn_daemon(command: Command) -> std::io::Result<Child> {
    static KEEPER: OnceLock<Mutex<mpsc::Sender<Spawn>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        unsafe { libc::atexit(cleanup_at_exit) };
        let (tx, rx) = mpsc::channel::<Spawn>();
        std::thread::Builder::new()
            .name("testkit-keeper".into())
            .spawn(move || {
                for mut job in rx {
                    unsafe {
                        job.command.pre_exec(|| {
                            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                            Ok(())
                        });
                    }
                    let _ = job.reply.send(job.command.spawn());
                }
                // The sender lives in a static: this loop never ends while the process runs.
                loop {
                    std::thread::park();
                }
            })
            .expect("start the keeper thread");
        Mutex::new(tx)
    });
    let (reply, rx) = mpsc::channel();
    keeper.lock().unwrap().send(Spawn { command, reply }).expect("keeper thread is alive");
    rx.recv().expect("keeper thread replies")
}

fn register(pid: u32, dir: Option<PathBuf>) {
    CLEANUP.lock().unwrap().push((pid, dir));
}

fn unregister(pid: u32) {
    CLEANUP.lock().unwrap().retain(|(p, _)| *p != pid);
}

/// Panics saying `what` did not start, with the last lines of its log.
fn fail_with_log(what: &str, log: &Path) -> ! {
    let log = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(20).collect();
    panic!(
        "{what} did not start; last log lines:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
}

/// A server process and the temporary directory it lives in; killed (and the directory
/// removed) on drop, or at process exit once [`Process::leak_dir`] made it shared.
struct Process {
    child: Mutex<Child>,
    tmp: Option<tempfile::TempDir>,
}

impl Process {
    /// Starts `command(port)` on a free port until `ready(port)` (five ports are tried, in case
    /// one is taken between choosing and binding it).
    fn start(
        what: &str,
        log: &Path,
        tmp: tempfile::TempDir,
        timeout: Duration,
        command: impl Fn(u16) -> Command,
        ready: impl Fn(u16) -> bool,
    ) -> (u16, Process) {
        for _attempt in 0..5 {
            let port = free_port();
            let mut cmd = command(port);
            cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            let mut child =
                spawn_daemon(cmd).unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
            let start = Instant::now();
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: the port was taken? try another
                }
                if ready(port) {
                    register(child.id(), None);
                    return (port, Process { child: Mutex::new(child), tmp: Some(tmp) });
                }
                if start.elapsed() > timeout {
                    let _ = child.kill();
                    fail_with_log(what, log);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        fail_with_log(&format!("{what} (5 attempts)"), log)
    }

    /// Keeps the directory until process exit (for shared instances, never dropped).
    fn leak_dir(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let dir = tmp.keep();
            let pid = self.pid();
            unregister(pid);
            register(pid, Some(dir));
        }
    }

    fn pid(&self) -> u32 {
        self.child.lock().unwrap().id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap();
        unregister(child.id());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A private redis-server.
pub struct RedisServer {
    /// TCP port on 127.0.0.1 (and ::1 when the machine has IPv6).
    pub port: u16,
    /// Its unix socket.
    pub socket: PathBuf,
    /// Its directory.
    pub dir: PathBuf,
    /// Whether it also listens on ::1.
    pub ipv6: bool,
    process: Process,
}

impl RedisServer {
    /// One instance shared by every test of this test binary. Tests sharing it must use keys
    /// (or db indexes) of their own.
    pub fn shared() -> &'static RedisServer {
        static SHARED: OnceLock<RedisServer> = OnceLock::new();
        SHARED.get_or_init(|| RedisServer::start_with(&[]).leak_dir())
    }

    /// A fresh instance owned by the caller, stopped on drop.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// A fresh instance with extra `redis-server` arguments (`["--requirepass", "x"]`).
    pub fn start_with(extra: &[&str]) -> RedisServer {
        let bin = require("redis-server", "redis-server");
        let tmp = tempfile::Builder::new().prefix("cachetape-redis-").tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let socket = dir.join("redis.sock");
        let log = dir.join("redis.log");
        let ipv6 = TcpListener::bind("[::1]:0").is_ok();
        let (port, process) = Process::start(
            "redis-server",
            &log,
            tmp,
            Duration::from_secs(10),
            |port| {
                let mut cmd = Command::new(&bin);
                cmd.args(["--port", &port.to_string()])
                    .args(["--bind", if ipv6 { "127.0.0.1 ::1" } else { "127.0.0.1" }])
                    .args(["--unixsocket", socket.to_str().unwrap(), "--unixsocketperm", "700"])
                    .args(["--save", "", "--appendonly", "no"])
                    .args(["--dir", dir.to_str().unwrap(), "--logfile", log.to_str().unwrap()])
                    .args(extra);
                cmd
            },
            ping_redis,
        );
        RedisServer { port, socket, dir, ipv6, process }
    }

    fn leak_dir(mut self) -> RedisServer {
        self.process.leak_dir();
        self
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
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

    /// The process id (to signal it).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}

fn ping_redis(port: u16) -> bool {
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    if conn.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    // A server started with --requirepass answers -NOAUTH: it is up all the same.
    BufReader::new(conn).read_line(&mut line).is_ok()
        && (line.starts_with("+PONG") || line.starts_with("-NOAUTH"))
}

/// Encodes a command as a RESP array of bulk strings.
pub fn resp_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one complete RESP2 reply (raw bytes, nested arrays included) into `out`.
pub fn read_resp(r: &mut impl BufRead, out: &mut Vec<u8>) {
    let start = out.len();
    r.read_until(b'\n', out).expect("read a RESP line");
    let line = String::from_utf8_lossy(&out[start..]).trim_end().to_string();
    match line.as_bytes().first() {
        Some(b'$') => {
            let n: i64 = line[1..].parse().unwrap();
            if n >= 0 {
                let mut buf = vec![0u8; n as usize + 2];
                std::io::Read::read_exact(r, &mut buf).unwrap();
                out.extend_from_slice(&buf);
            }
        }
        Some(b'*') => {
            let n: i64 = line[1..].parse().unwrap();
            for _ in 0..n.max(0) {
                read_resp(r, out);
            }
        }
        _ => {}
    }
}

/// How to start a private MariaDB.
#[derive(Clone, Debug)]
pub struct MariaDbOptions {
    /// `--log-bin` on.
    pub binlog: bool,
    /// `--binlog-format` (ROW, STATEMENT, MIXED).
    pub binlog_format: &'static str,
    /// `--binlog-row-image` (FULL, MINIMAL, NOBLOB).
    pub binlog_row_image: &'static str,
}

impl Default for MariaDbOptions {
    fn default() -> Self {
        MariaDbOptions { binlog: true, binlog_format: "ROW", binlog_row_image: "FULL" }
    }
}

/// A private mariadbd (root with an empty password, over TCP and its own socket).
pub struct MariaDb {
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// Its unix socket.
    pub socket: PathBuf,
    /// Its data directory (the binlog files are `binlog.000001`, … in it).
    pub dir: PathBuf,
    process: Process,
}

impl MariaDb {
    /// One binlog-enabled (ROW, FULL) instance shared by every test of this test binary. Tests
    /// sharing it must use databases of their own.
    pub fn shared() -> &'static MariaDb {
        static SHARED: OnceLock<MariaDb> = OnceLock::new();
        SHARED.get_or_init(|| MariaDb::start_with(MariaDbOptions::default()).leak_dir())
    }

    /// A fresh instance with `options`, stopped on drop.
    pub fn start_with(options: MariaDbOptions) -> MariaDb {
        let install = require("mariadb-install-db", "mariadb-server");
        let bin = require("mariadbd", "mariadb-server");
        require("mariadb", "mariadb-client");
        let tmp = tempfile::Builder::new().prefix("cachetape-mariadb-").tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let data = dir.join("data");
        // A private tmpdir: mariadbd removes `#sql*` files from its tmpdir at start, which breaks
        // another instance being installed at the same moment in a shared /tmp.
        let tmpdir = dir.join("tmp");
        std::fs::create_dir_all(&tmpdir).unwrap();
        let out = Command::new(install)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmpdir.display()))
            .args(["--user=root", "--auth-root-authentication-method=normal"])
            .output()
            .expect("run mariadb-install-db");
        assert!(
            out.status.success(),
            "mariadb-install-db failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let socket = dir.join("mysqld.sock");
        let log = dir.join("error.log");
        let (port, process) = Process::start(
            "mariadbd",
            &log,
            tmp,
            Duration::from_secs(30),
            |port| {
                let mut cmd = Command::new(&bin);
                cmd.arg("--no-defaults")
                    .arg(format!("--datadir={}", data.display()))
                    .arg(format!("--tmpdir={}", tmpdir.display()))
                    .args(["--user=root", "--bind-address=127.0.0.1", "--server-id=1"])
                    .arg(format!("--port={port}"))
                    .arg(format!("--socket={}", socket.display()))
                    .arg(format!("--log-error={}", log.display()))
                    .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
                    .args(["--innodb-buffer-pool-size=32M", "--skip-name-resolve=0"]);
                if options.binlog {
                    cmd.arg(format!("--log-bin={}", data.join("binlog").display()))
                        .arg(format!("--binlog-format={}", options.binlog_format))
                        .arg(format!("--binlog-row-image={}", options.binlog_row_image));
                }
                cmd
            },
            |port| run_sql(port, "SELECT 1").is_ok(),
        );
        MariaDb { port, socket, dir: data, process }
    }

    fn leak_dir(mut self) -> MariaDb {
        self.process.leak_dir();
        self
    }

    /// `mysql://root@127.0.0.1:PORT` (append a database name as the path).
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }

    /// The `mariadb` client pointed at this instance, batch mode, no headers.
    pub fn client(&self) -> Command {
        mariadb_client(self.port)
    }

    /// Runs SQL through the client; `Err` carries the client's error text.
    pub fn try_sql(&self, sql: &str) -> Result<String, String> {
        run_sql(self.port, sql)
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

fn mariadb_client(port: u16) -> Command {
    let mut cmd = Command::new(require("mariadb", "mariadb-client"));
    cmd.args(["--no-defaults", "-h", "127.0.0.1", "-u", "root", "--batch", "--skip-column-names"])
        .arg(format!("-P{port}"));
    cmd
}

fn run_sql(port: u16, sql: &str) -> Result<String, String> {
    let out = mariadb_client(port).arg("-e").arg(sql).output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
