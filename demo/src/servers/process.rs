/*!
A server process in a temporary directory of its own: spawning it so that it dies with this
process, waiting until it answers on a free port, and killing it (and removing its directory) when
it is dropped or, for an instance kept until exit, when this process exits.

Children are spawned by one keeper thread that lives as long as the process and asks the kernel to
kill them when it dies (`PR_SET_PDEATHSIG`, which follows the spawning *thread*: a test thread or a
short-lived worker would take its servers with it). An `atexit` hook kills what is still running
at a normal exit and removes the directories of instances kept until then.
*/

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use crate::DemoError;

/// A loopback port that was free a moment ago.
pub fn free_port() -> Result<u16, DemoError> {
    let error = |e: std::io::Error| DemoError::Server {
        what: "a free loopback port".into(),
        detail: e.to_string(),
    };
    let listener = TcpListener::bind("127.0.0.1:0").map_err(error)?;
    Ok(listener.local_addr().map_err(error)?.port())
}

/// A temporary directory named `prefix…`.
pub(crate) fn temp_dir(prefix: &str) -> Result<tempfile::TempDir, DemoError> {
    tempfile::Builder::new().prefix(prefix).tempdir().map_err(|e| DemoError::Server {
        what: "a temporary directory".into(),
        detail: e.to_string(),
    })
}

/// A request to the keeper thread.
struct Spawn {
    command: Command,
    reply: mpsc::Sender<std::io::Result<Child>>,
}

/// Children (and, for instances kept until exit, their directories) to clean up at exit.
static RUNNING: Mutex<Vec<(u32, Option<PathBuf>)>> = Mutex::new(Vec::new());

extern "C" fn clean_up_at_exit() {
    let Ok(running) = RUNNING.lock() else { return };
    for (pid, dir) in running.iter() {
        // SAFETY: plain system calls on a child of this process.
        unsafe {
            libc::kill(*pid as i32, libc::SIGKILL);
            let mut status = 0;
            libc::waitpid(*pid as i32, &mut status, 0);
        }
        if let Some(dir) = dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Spawns `command` from the keeper thread, so that the kernel kills the child when this process
/// dies (however it dies).
pub fn spawn_daemon(command: Command) -> std::io::Result<Child> {
    static KEEPER: OnceLock<Mutex<mpsc::Sender<Spawn>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        // SAFETY: registers a plain function; it only takes a lock and makes system calls.
        unsafe { libc::atexit(clean_up_at_exit) };
        let (tx, rx) = mpsc::channel::<Spawn>();
        std::thread::Builder::new()
            .name("server-keeper".into())
            .spawn(move || {
                for mut job in rx {
                    // SAFETY: prctl is async-signal-safe; the closure allocates nothing.
                    unsafe {
                        job.command.pre_exec(|| {
                            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                            Ok(())
                        });
                    }
                    let _ = job.reply.send(job.command.spawn());
                }
                // The sender lives in a static, so the loop above ends only if it is poisoned:
                // the thread must still outlive every child it spawned.
                loop {
                    std::thread::park();
                }
            })
            .expect("start the server keeper thread");
        Mutex::new(tx)
    });
    let (reply, rx) = mpsc::channel();
    let sent = keeper
        .lock()
        .map_err(|_| std::io::Error::other("the server keeper thread panicked"))?
        .send(Spawn { command, reply });
    sent.map_err(|_| std::io::Error::other("the server keeper thread is gone"))?;
    rx.recv().map_err(|_| std::io::Error::other("the server keeper thread did not answer"))?
}

fn register(pid: u32, dir: Option<PathBuf>) {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner()).push((pid, dir));
}

fn unregister(pid: u32) {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner()).retain(|(p, _)| *p != pid);
}

/// The last lines of a server's log, for an error message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(20).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// A server process and the temporary directory it lives in; killed (and the directory removed)
/// on drop, or at process exit once [`Process::keep_until_exit`] was called.
pub(crate) struct Process {
    child: Mutex<Child>,
    dir: Option<tempfile::TempDir>,
}

impl Process {
    /// Starts `command(port)` on a free port until `ready(port)`; five ports are tried, in case
    /// one is taken between choosing and binding it. `log` is the server's log, quoted when it
    /// does not start.
    pub(crate) fn start(
        what: &str,
        log: &Path,
        dir: tempfile::TempDir,
        timeout: Duration,
        command: impl Fn(u16) -> Command,
        ready: impl Fn(u16) -> bool,
    ) -> Result<(u16, Process), DemoError> {
        for _attempt in 0..5 {
            let port = free_port()?;
            let mut cmd = command(port);
            cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            let mut child = spawn_daemon(cmd)
                .map_err(|e| DemoError::Server { what: what.into(), detail: e.to_string() })?;
            let started = Instant::now();
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: most likely the port was taken; try another
                }
                if ready(port) {
                    register(child.id(), None);
                    return Ok((port, Process { child: Mutex::new(child), dir: Some(dir) }));
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

    /// Keeps the directory until the process exits (for instances that are never dropped).
    pub(crate) fn keep_until_exit(&mut self) {
        if let Some(dir) = self.dir.take() {
            let pid = self.pid();
            unregister(pid);
            register(pid, Some(dir.keep()));
        }
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        unregister(child.id());
        let _ = child.kill();
        let _ = child.wait();
        // `dir` is dropped after this: the directory goes once the server is dead.
    }
}
