//! Starting the gateway's processes and always stopping them.
//!
//! Each process writes stdout and stderr to its own files in a log directory; the files are
//! read back for readiness lines (`... listening on ADDR`) and, by the demo, for the hop-by-hop
//! trace. [`Procs`] stops every process it started when it is dropped: SIGTERM, a grace
//! period, then SIGKILL; so an error, a panic or Ctrl-C in the caller never leaves one behind.
//! Each child also asks the kernel for SIGKILL when its supervisor dies (`PR_SET_PDEATHSIG`),
//! so not even a SIGKILL of the supervisor leaves one running.

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long a process gets to exit after SIGTERM.
const GRACE: Duration = Duration::from_secs(3);

/// One started process.
pub struct Proc {
    pub name: String,
    child: Child,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

/// The processes started so far.
pub struct Procs {
    dir: PathBuf,
    running: Vec<Proc>,
}

/// Makes the child get SIGKILL when this process dies, however it dies: [`Procs`]' drop
/// covers errors, panics and signals we catch, but not a SIGKILL of the supervisor itself
/// (`kill -9` of `coldgate demo`), after which children would otherwise run on as orphans.
///
/// Linux sends the signal when the *thread* that forked exits; children are spawned from the
/// runtime's worker threads (or the main thread), which live as long as the supervisor.
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt as _;
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs in the forked child before exec. It makes two system calls
    // (prctl, getppid), both async-signal-safe, and allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            // The supervisor may have died between fork and prctl: then go now.
            if nix::unistd::getppid() != parent {
                return Err(nix::errno::Errno::ESRCH.into());
            }
            Ok(())
        });
    }
}

/// The directory of the running executable: `cargo build --release` puts every coldgate binary
/// there (target/release), so siblings are found next to it.
pub fn own_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the running executable")?;
    exe.parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("{} has no directory", exe.display()))
}

/// A sibling binary, or an error that says how to build it.
pub fn binary(dir: &Path, name: &str) -> Result<PathBuf> {
    let p = dir.join(name);
    if p.is_file() {
        Ok(p)
    } else {
        bail!(
            "{} not found: build every coldgate binary first with `cargo build --release` \
             (the demo looks for them next to its own executable)",
            p.display()
        )
    }
}

/// True when `program` is on the PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

impl Procs {
    pub fn new(log_dir: &Path) -> Result<Procs> {
        std::fs::create_dir_all(log_dir)
            .with_context(|| format!("creating {}", log_dir.display()))?;
        Ok(Procs {
            dir: log_dir.to_path_buf(),
            running: Vec::new(),
        })
    }

    /// Starts a process; `name` names its log files (and must be unique among running ones).
    pub fn spawn<I, S>(
        &mut self,
        name: &str,
        program: &Path,
        args: I,
        env: &[(&str, &OsStr)],
    ) -> Result<&Proc>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let stdout = self.dir.join(format!("{name}.out"));
        let stderr = self.dir.join(format!("{name}.log"));
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(
                File::create(&stdout).with_context(|| format!("creating {}", stdout.display()))?,
            )
            .stderr(
                File::create(&stderr).with_context(|| format!("creating {}", stderr.display()))?,
            )
            .env("NO_COLOR", "1")
            .env(
                "RUST_LOG",
                std::env::var("COLDGATE_DEMO_LOG").unwrap_or_else(|_| "info".into()),
            );
        for (k, v) in env {
            cmd.env(k, v);
        }
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        self.running.push(Proc {
            name: name.to_string(),
            child,
            stdout,
            stderr,
        });
        Ok(self.running.last().expect("just pushed"))
    }

    fn find(&mut self, name: &str) -> Result<&mut Proc> {
        self.running
            .iter_mut()
            .find(|p| p.name == name)
            .ok_or_else(|| anyhow!("no running process named {name}"))
    }

    /// Waits for a stdout line starting with `prefix` and returns the rest of it. Fails when
    /// the process exits first (its stderr tail is in the error) or `patience` runs out.
    pub async fn wait_line(
        &mut self,
        name: &str,
        prefix: &str,
        patience: Duration,
    ) -> Result<String> {
        self.wait_until(name, patience, "was not ready", |p| {
            let text = std::fs::read_to_string(&p.stdout).unwrap_or_default();
            text.lines()
                .find_map(|l| l.strip_prefix(prefix))
                .map(|rest| rest.trim().to_string())
        })
        .await
    }

    /// Waits until `file` exists and has content (written whole, by rename).
    pub async fn wait_file(
        &mut self,
        name: &str,
        file: &Path,
        patience: Duration,
    ) -> Result<String> {
        let what = format!("did not write {}", file.display());
        self.wait_until(name, patience, &what, |_| {
            std::fs::read_to_string(file)
                .ok()
                .filter(|text| !text.trim().is_empty())
        })
        .await
    }

    /// Polls `ready` until it gives a value; fails when process `name` exits first or
    /// `patience` runs out (`what` says what it failed to do), with its stderr tail.
    async fn wait_until(
        &mut self,
        name: &str,
        patience: Duration,
        what: &str,
        mut ready: impl FnMut(&Proc) -> Option<String>,
    ) -> Result<String> {
        let deadline = Instant::now() + patience;
        loop {
            let p = self.find(name)?;
            if let Some(value) = ready(p) {
                return Ok(value);
            }
            if let Some(status) = p.child.try_wait()? {
                bail!(
                    "{name} exited ({status}) before it was ready:\n{}",
                    tail(&p.stderr, 15)
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{name} {what} within {patience:?}:\n{}",
                    tail(&p.stderr, 15)
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Checks that every process is still running.
    pub fn check_alive(&mut self) -> Result<()> {
        for p in &mut self.running {
            if let Some(status) = p.child.try_wait()? {
                bail!(
                    "{} exited unexpectedly ({status}):\n{}",
                    p.name,
                    tail(&p.stderr, 15)
                );
            }
        }
        Ok(())
    }

    /// Name and process id of every running process.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.running
            .iter()
            .map(|p| (p.name.clone(), p.child.id()))
            .collect()
    }

    /// The stderr log of a process (running or stopped).
    pub fn log(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    /// Stops one process; its logs stay.
    pub fn stop(&mut self, name: &str) {
        if let Some(i) = self.running.iter().position(|p| p.name == name) {
            let mut p = self.running.remove(i);
            terminate(&mut p);
        }
    }

    /// Kills one process with SIGKILL (no chance to clean up, as in a crash) and reaps it;
    /// its logs stay until a process of the same name is started again.
    pub fn kill(&mut self, name: &str) -> Result<()> {
        let i = self
            .running
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| anyhow!("no running process named {name}"))?;
        let mut p = self.running.remove(i);
        p.child.kill().with_context(|| format!("killing {name}"))?;
        p.child.wait().with_context(|| format!("reaping {name}"))?;
        Ok(())
    }

    /// Stops every process, newest first.
    pub fn stop_all(&mut self) {
        while let Some(mut p) = self.running.pop() {
            terminate(&mut p);
        }
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        self.stop_all();
    }
}

fn terminate(p: &mut Proc) {
    if matches!(p.child.try_wait(), Ok(Some(_))) {
        return;
    }
    if let Ok(pid) = i32::try_from(p.child.id()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if matches!(p.child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    tracing::warn!(name = %p.name, "did not stop on SIGTERM; killing it");
    let _ = p.child.kill();
    let _ = p.child.wait();
}

/// The last `n` lines of a file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Reads the lines appended to a log since the last call.
pub struct LogTail {
    path: PathBuf,
    offset: usize,
}

impl LogTail {
    pub fn new(path: PathBuf) -> LogTail {
        LogTail { path, offset: 0 }
    }

    pub fn new_lines(&mut self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        // A file that shrank or changed under us is read again from its start.
        let fresh = match text.get(self.offset..) {
            Some(f) => f,
            None => {
                self.offset = 0;
                &text[..]
            }
        };
        // Only whole lines: a line being written now is read next time.
        let end = fresh.rfind('\n').map_or(0, |i| i + 1);
        self.offset += end;
        fresh[..end].lines().map(str::to_string).collect()
    }
}

/// Resolves on SIGINT (Ctrl-C), SIGTERM or SIGHUP with the signal's name, so that a program
/// supervising the gateway's processes can stop them (dropping its [`Procs`]) and say why.
pub async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let wait = |kind: SignalKind| async move {
        match signal(kind) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = wait(SignalKind::interrupt()) => "interrupted (SIGINT)",
        _ = wait(SignalKind::terminate()) => "terminated (SIGTERM)",
        _ = wait(SignalKind::hangup()) => "hung up (SIGHUP)",
    }
}
