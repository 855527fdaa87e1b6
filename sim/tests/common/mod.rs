//! Helpers shared by the integration tests.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::mpsc;

use coldgate_sim::{Backend, GoldenBackend, Side};

/// A pty pair: (master, slave kept open, slave path).
pub fn pty() -> (File, File, String) {
    let p = nix::pty::openpty(None, None).expect("openpty");
    let slave = File::from(p.slave);
    let path = std::fs::read_link(format!("/proc/self/fd/{}", slave.as_raw_fd()))
        .expect("slave path")
        .to_string_lossy()
        .into_owned();
    (File::from(p.master), slave, path)
}

/// Runs the golden lanes between two pty masters, as a board's logic between its UARTs.
pub fn fake_board(u_master: File, t_master: File) {
    let (tx, rx) = mpsc::channel::<(Side, Vec<u8>)>();
    let mut writers = [
        u_master.try_clone().expect("clone"),
        t_master.try_clone().expect("clone"),
    ];
    for (side, mut m) in [(Side::Untrusted, u_master), (Side::Trusted, t_master)] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok(n) = m.read(&mut buf) {
                if n == 0 || tx.send((side, buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        });
    }
    std::thread::spawn(move || {
        let mut lanes = GoldenBackend::new();
        while let Ok((side, bytes)) = rx.recv() {
            lanes.push(side, &bytes).expect("golden push");
            let out = lanes.advance().expect("golden advance");
            for side in Side::BOTH {
                if writers[side as usize].write_all(out.side(side)).is_err() {
                    return;
                }
            }
        }
    });
}
