/*!
A private `redis-server`: no persistence, loopback only (127.0.0.1, and ::1 when the machine has
IPv6), plus a unix socket in its own directory.
*/

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::find_binary;
use super::process::{Process, temp_dir};
use crate::DemoError;

/// A private redis-server; stopped (and its directory removed) on drop.
pub struct PrivateRedis {
    /// Its TCP port on 127.0.0.1 (and ::1 when [`PrivateRedis::ipv6`]).
    pub port: u16,
    /// Its unix socket.
    pub socket: PathBuf,
    /// Its directory.
    pub dir: PathBuf,
    /// Whether it also listens on ::1.
    pub ipv6: bool,
    process: Process,
}

impl PrivateRedis {
    /// Starts one (a fraction of a second).
    pub fn start() -> Result<PrivateRedis, DemoError> {
        PrivateRedis::start_with(&[])
    }

    /// Starts one with extra `redis-server` arguments (`["--requirepass", "x"]`).
    pub fn start_with(extra: &[&str]) -> Result<PrivateRedis, DemoError> {
        let bin = find_binary("redis-server", "redis-server")?;
        let tmp = temp_dir("cachetape-redis-")?;
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
                    .arg("--unixsocket")
                    .arg(&socket)
                    .args(["--unixsocketperm", "700"])
                    .args(["--save", "", "--appendonly", "no"])
                    .arg("--dir")
                    .arg(&dir)
                    .arg("--logfile")
                    .arg(&log)
                    .args(extra);
                cmd
            },
            answers_ping,
        )?;
        Ok(PrivateRedis { port, socket, dir, ipv6, process })
    }

    /// Keeps the server running until this process exits (for an instance shared through a
    /// static, which is never dropped); its directory is removed then.
    pub fn keep_until_exit(mut self) -> PrivateRedis {
        self.process.keep_until_exit();
        self
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The process id (to signal it).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}

/// True once the server answers PING (a server started with `--requirepass` answers `-NOAUTH`:
/// it is up all the same).
fn answers_ping(port: u16) -> bool {
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    if conn.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    BufReader::new(conn).read_line(&mut line).is_ok()
        && (line.starts_with("+PONG") || line.starts_with("-NOAUTH"))
}
