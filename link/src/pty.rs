//! A pseudo-terminal pair the appliance creates; converters open its slave with `serial:`.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use tokio::task::JoinHandle;

use crate::stream::{End, Stall};
use crate::{io_error, threads, LinkError, LinkOptions, Plumbing};

/// The master side as the reader thread uses it: a read waits at most
/// [`threads::READ_TIMEOUT`], then fails with `TimedOut` so the thread can check whether it is
/// still wanted.
struct PolledMaster(File);

impl Read for PolledMaster {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut fds = [PollFd::new(self.0.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(threads::READ_TIMEOUT).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(0) => Err(io::ErrorKind::TimedOut.into()),
            Ok(_) => self.0.read(buf),
            Err(e) => Err(e.into()),
        }
    }
}

/// Creates the pair, puts it in raw mode and serves the master in a task.
pub(crate) fn serve(
    mut p: Plumbing,
    o: LinkOptions,
) -> Result<(PathBuf, JoinHandle<()>), LinkError> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let path = PathBuf::from(ptsname_r(&master)?);
    // Holding the slave open keeps the master readable while no converter has it open
    // (Linux reports EIO on a master whose last slave closed), so converters can come and go.
    let slave: File = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(OFlag::O_NOCTTY.bits())
        .open(&path)
        .map_err(|e| io_error(format!("opening pty slave {}", path.display()), e))?;
    // Raw: no echo, no line editing, no CR/LF translation; frames are binary.
    let mut t = tcgetattr(&slave)?;
    cfmakeraw(&mut t);
    tcsetattr(&slave, SetArg::TCSANOW, &t)?;
    if let Some(file) = &o.pty_path_file {
        std::fs::write(file, format!("{}\n", path.display()))
            .map_err(|e| io_error(format!("writing the pty path to {}", file.display()), e))?;
    }
    tracing::info!(link = %p.name, slave = %path.display(), "pty ready: open the slave with serial:{}", path.display());
    let master = OwnedFd::from(master);
    let for_writer = File::from(
        master
            .try_clone()
            .map_err(|e| io_error("duplicating the pty master", e))?,
    );
    let master = PolledMaster(File::from(master));
    let peer = path.display().to_string();
    let task = tokio::spawn(async move {
        let _slave = slave;
        if !p.up(peer).await {
            return;
        }
        // A pty has no connection to lose: the session ends only on a master error.
        let end =
            threads::session(master, for_writer, &mut p, o.write_timeout, Stall::Discard).await;
        if let End::Lost(reason) = end {
            p.down(reason).await;
        }
    });
    Ok((path, task))
}
