//! Append-only files for frames carried on removable media.
//!
//! `PATH.in` flows towards the appliance and `PATH.out` away from it. Each side appends to
//! one and tails the other, polling its length; a file that shrinks was replaced (new
//! medium), so the reader starts it again from the beginning.

use std::ffi::OsString;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::task::JoinHandle;

use crate::{io_error, LinkError, LinkEvent, LinkOptions, Plumbing, Role, READ_CHUNK};

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = OsString::from(path.as_os_str());
    s.push(suffix);
    PathBuf::from(s)
}

/// `(tailed, appended)` files of a role.
pub(crate) fn files(path: &Path, role: Role) -> (PathBuf, PathBuf) {
    let (to_appliance, from_appliance) = (with_suffix(path, ".in"), with_suffix(path, ".out"));
    match role {
        Role::Appliance => (to_appliance, from_appliance),
        Role::Peer => (from_appliance, to_appliance),
    }
}

async fn append_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await
}

async fn append(path: &Path, bytes: &Bytes) -> std::io::Result<()> {
    let mut f = append_file(path).await?;
    f.write_all(bytes).await?;
    // The medium may be pulled right after: the frame must be on it, not in a cache.
    f.sync_data().await
}

/// Reads what was appended after `offset`, at most one chunk.
async fn read_new(path: &Path, offset: &mut u64, name: &str) -> std::io::Result<Option<Bytes>> {
    let len = tokio::fs::metadata(path).await?.len();
    if len < *offset {
        tracing::warn!(link = %name, path = %path.display(), "file shrank (new medium?); reading it from the start");
        *offset = 0;
    }
    if len == *offset {
        return Ok(None);
    }
    let mut f = File::open(path).await?;
    f.seek(SeekFrom::Start(*offset)).await?;
    let want = (len - *offset).min(READ_CHUNK as u64) as usize;
    let mut buf = vec![0u8; want];
    let n = f.read(&mut buf).await?;
    buf.truncate(n);
    *offset += n as u64;
    Ok((n > 0).then(|| Bytes::from(buf)))
}

/// Creates both files (so either side may start first) and runs the link in a task.
pub(crate) async fn run(
    path: &Path,
    role: Role,
    mut p: Plumbing,
    o: LinkOptions,
) -> Result<JoinHandle<()>, LinkError> {
    let (tailed, appended) = files(path, role);
    for f in [&tailed, &appended] {
        append_file(f)
            .await
            .map_err(|e| io_error(format!("creating {}", f.display()), e))?;
    }
    Ok(tokio::spawn(async move {
        if !p
            .up(format!("{} -> {}", appended.display(), tailed.display()))
            .await
        {
            return;
        }
        let mut offset = 0u64;
        let mut failing = false;
        let mut tick = tokio::time::interval(o.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => loop {
                    match read_new(&tailed, &mut offset, &p.name).await {
                        Ok(Some(b)) => {
                            failing = false;
                            if p.events.send(LinkEvent::Data(b)).await.is_err() {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            // A medium being swapped: keep polling, say so once.
                            if !failing {
                                tracing::warn!(link = %p.name, path = %tailed.display(), error = %e, "cannot read");
                                failing = true;
                            }
                            break;
                        }
                    }
                },
                w = p.writes.recv() => {
                    let Some(bytes) = w else { return };
                    if let Err(e) = append(&appended, &bytes).await {
                        tracing::error!(link = %p.name, path = %appended.display(), error = %e, "append failed; bytes lost");
                    }
                }
            }
        }
    }))
}
