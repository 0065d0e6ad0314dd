//! Running the binary under hard resource limits: a hostile trace must fail fast (killed by the
//! kernel at the limit) rather than take the machine, so the tests that feed one run it with
//! `setrlimit` applied in the child before `exec`.

use std::ffi::OsStr;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Output};

/// What a run may use: address space (bytes) and CPU time (seconds).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `RLIMIT_AS`: an allocation past it fails (Rust aborts), so the run cannot grow past it.
    pub address_space: u64,
    /// `RLIMIT_CPU`: the kernel stops the run with SIGXCPU (then SIGKILL) past it.
    pub cpu_seconds: u64,
}

/// The outcome of a bounded run.
pub struct Bounded {
    /// What the process printed and how it ended.
    pub output: Output,
    /// The command line, for messages.
    pub what: String,
}

impl Bounded {
    /// Stdout as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Stderr as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The exit code; panics, naming the limit, when a signal ended the run (an abort at the
    /// address-space limit, or SIGXCPU/SIGKILL at the CPU limit).
    pub fn code(&self) -> i32 {
        match (self.output.status.code(), self.output.status.signal()) {
            (Some(code), _) => code,
            (None, sig) => panic!(
                "`{}` was killed by signal {sig:?} (SIGABRT: out of address space; SIGXCPU or \
                 SIGKILL: out of CPU time)\nstderr: {}",
                self.what,
                self.stderr()
            ),
        }
    }
}

/// Runs the test's `cachetape` binary with `args` under `limits`.
pub fn run<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>, limits: Limits) -> Bounded {
    let bin = assert_cmd::cargo::cargo_bin("cachetape");
    let mut cmd = Command::new(&bin);
    let mut what = String::from("cachetape");
    for a in args {
        what.push(' ');
        what.push_str(&a.as_ref().to_string_lossy());
        cmd.arg(a);
    }
    apply(&mut cmd, limits);
    let output = cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    Bounded { output, what }
}

/// Sets `limits` in the child between `fork` and `exec`.
fn apply(cmd: &mut Command, limits: Limits) {
    let set = move || -> std::io::Result<()> {
        for (resource, value) in
            [(libc::RLIMIT_AS, limits.address_space), (libc::RLIMIT_CPU, limits.cpu_seconds)]
        {
            let lim = libc::rlimit { rlim_cur: value, rlim_max: value };
            // SAFETY: setrlimit only reads `lim`; it is async-signal-safe, as pre_exec requires.
            if unsafe { libc::setrlimit(resource, &lim) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    };
    // SAFETY: the closure calls only setrlimit (async-signal-safe) and allocates nothing.
    unsafe {
        cmd.pre_exec(set);
    }
}
