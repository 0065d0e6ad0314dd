/*!
A private `mariadbd`: a fresh data directory (`mariadb-install-db`), root without a password,
loopback only plus a unix socket in its own directory, the binlog on in ROW format with full row
images unless [`MariaDbOptions`] say otherwise.
*/

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::find_binary;
use super::process::{Process, temp_dir};
use crate::DemoError;

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
    /// What the recorder needs: the binlog on, ROW format, full row images.
    fn default() -> Self {
        MariaDbOptions { binlog: true, binlog_format: "ROW", binlog_row_image: "FULL" }
    }
}

/// A private mariadbd; stopped (and its directory removed) on drop.
pub struct PrivateMariaDb {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// Its unix socket.
    pub socket: PathBuf,
    /// Its data directory (the binlog files are `binlog.000001`, … in it).
    pub dir: PathBuf,
    process: Process,
}

impl PrivateMariaDb {
    /// Installs a data directory and starts the server with the binlog on in ROW format (a few
    /// seconds).
    pub fn start() -> Result<PrivateMariaDb, DemoError> {
        PrivateMariaDb::start_with(&MariaDbOptions::default())
    }

    /// Installs a data directory and starts the server with `options`.
    pub fn start_with(options: &MariaDbOptions) -> Result<PrivateMariaDb, DemoError> {
        let install = find_binary("mariadb-install-db", "mariadb-server")?;
        let bin = find_binary("mariadbd", "mariadb-server")?;
        let tmp = temp_dir("cachetape-mariadb-")?;
        let root = tmp.path().to_path_buf();
        let data = root.join("data");
        // A private tmpdir: mariadbd clears `#sql*` files from its tmpdir at start, which would
        // break another instance being installed in a shared /tmp at the same moment.
        let tmpdir = root.join("tmp");
        let server_error =
            |what: &str, detail: String| DemoError::Server { what: what.into(), detail };
        std::fs::create_dir_all(&tmpdir)
            .map_err(|e| server_error("MariaDB's directory", e.to_string()))?;
        let out = Command::new(&install)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmpdir.display()))
            .args(["--user=root", "--auth-root-authentication-method=normal"])
            .output()
            .map_err(|e| server_error("mariadb-install-db", e.to_string()))?;
        if !out.status.success() {
            return Err(server_error(
                "mariadb-install-db",
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            ));
        }
        let socket = root.join("mysqld.sock");
        let log = root.join("error.log");
        let (port, process) = Process::start(
            "mariadbd",
            &log,
            tmp,
            Duration::from_secs(60),
            |port| {
                let mut cmd = Command::new(&bin);
                cmd.arg("--no-defaults")
                    .arg(format!("--datadir={}", data.display()))
                    .arg(format!("--tmpdir={}", tmpdir.display()))
                    .args(["--user=root", "--bind-address=127.0.0.1", "--server-id=1"])
                    .arg(format!("--port={port}"))
                    .arg(format!("--socket={}", socket.display()))
                    .arg(format!("--log-error={}", log.display()))
                    .arg(format!("--pid-file={}", root.join("mysqld.pid").display()))
                    .args(["--innodb-buffer-pool-size=32M", "--skip-name-resolve=0"]);
                if options.binlog {
                    cmd.arg(format!("--log-bin={}", data.join("binlog").display()))
                        .arg(format!("--binlog-format={}", options.binlog_format))
                        .arg(format!("--binlog-row-image={}", options.binlog_row_image));
                }
                cmd
            },
            sends_handshake,
        )?;
        Ok(PrivateMariaDb { port, socket, dir: data, process })
    }

    /// Keeps the server running until this process exits (for an instance shared through a
    /// static, which is never dropped); its directory is removed then.
    pub fn keep_until_exit(mut self) -> PrivateMariaDb {
        self.process.keep_until_exit();
        self
    }

    /// `mysql://root@127.0.0.1:PORT` (append a database name as the path).
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }

    /// The process id (to signal it).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}

/// True once the server sends its handshake (protocol 10) on a new connection: it accepts
/// connections only once it has started.
fn sends_handshake(port: u16) -> bool {
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    let mut head = [0u8; 5];
    std::io::Read::read_exact(&mut conn, &mut head).is_ok() && head[4] == 10
}
