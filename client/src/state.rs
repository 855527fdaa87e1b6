//! The client's local state: its counter, the public keys it was given, and its held payments.
//!
//! The counter must never repeat, across runs and crashes: the wallet refuses any counter not
//! above the last one it saw, so a repeated counter would make the client unusable (and a
//! reused counter is what a replay looks like). [`State::reserve_counter`] therefore writes
//! the *next* counter to disk (temporary file, fsync, rename, fsync of the directory) before it
//! hands the current one out. Counters never fall behind the clock in microseconds: a fresh
//! state starts there, and each counter is at least the current time, so even a lost state
//! file gives counters above the old ones (unless the clock went back), and a wallet restored
//! from a backup (which refuses counters below the time of the restore) accepts the next one.
//!
//! The file is held under an exclusive lock (`flock`) while a [`State`] is open: two processes
//! sharing a state file would hand out the same counter.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use coldgate_spec::codec::Payment;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

/// Why the state could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is in use by another coldgate client process")]
    Locked { path: PathBuf },
    #[error("{path}: not a coldgate client state file: {problem}")]
    Corrupt { path: PathBuf, problem: String },
    #[error("{path} belongs to client {found}, not {wanted}")]
    OtherClient {
        path: PathBuf,
        found: u32,
        wanted: u32,
    },
    #[error("the counter is exhausted")]
    CounterExhausted,
}

/// A payment as kept while the wallet holds it (hex for the byte strings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldPayment {
    pub key_id: u32,
    pub txid: String,
    pub vout: u32,
    pub input_amount: u64,
    pub destination: String,
    pub amount: u64,
    pub change: u64,
}

impl HeldPayment {
    pub fn from_payment(p: &Payment) -> HeldPayment {
        HeldPayment {
            key_id: p.key_id,
            txid: hex::encode(p.txid),
            vout: p.vout,
            input_amount: p.input_amount,
            destination: hex::encode(p.destination),
            amount: p.amount,
            change: p.change,
        }
    }

    pub fn to_payment(&self) -> Option<Payment> {
        let mut txid = [0u8; 32];
        let mut destination = [0u8; 32];
        hex::decode_to_slice(&self.txid, &mut txid).ok()?;
        hex::decode_to_slice(&self.destination, &mut destination).ok()?;
        Some(Payment {
            key_id: self.key_id,
            txid,
            vout: self.vout,
            input_amount: self.input_amount,
            destination,
            amount: self.amount,
            change: self.change,
        })
    }
}

/// What the file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateData {
    pub client_id: u32,
    /// The next counter to hand out; every counter below it may have been used.
    pub next_counter: u64,
    /// Public keys the wallet gave this client, by key id (x-only, hex).
    #[serde(default)]
    pub keys: BTreeMap<u32, String>,
    /// Payments whose outcome is not known yet, by reference: held for an operator, or sent
    /// and not answered (a lost answer is recovered with PAYMENT_STATUS or by re-sending).
    #[serde(default)]
    pub held: BTreeMap<u64, HeldPayment>,
}

/// The open, locked state.
pub struct State {
    path: PathBuf,
    data: StateData,
    _lock: Flock<File>,
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StateError {
    let path = path.to_owned();
    move |source| StateError::Io { what, path, source }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros().min(u64::MAX as u128 / 2) as u64)
        .unwrap_or(1)
        .max(1)
}

impl State {
    /// Opens (or creates) the state of `client_id` at `path` and locks it.
    pub fn open(path: &Path, client_id: u32) -> Result<State, StateError> {
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(path))
            .map_err(io("opening the lock", path))?;
        let lock = Flock::lock(lock_file, FlockArg::LockExclusiveNonblock).map_err(|_| {
            StateError::Locked {
                path: path.to_owned(),
            }
        })?;
        let data = match std::fs::read(path) {
            Ok(bytes) => {
                let data: StateData =
                    serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt {
                        path: path.to_owned(),
                        problem: e.to_string(),
                    })?;
                if data.client_id != client_id {
                    return Err(StateError::OtherClient {
                        path: path.to_owned(),
                        found: data.client_id,
                        wanted: client_id,
                    });
                }
                if data.next_counter == 0 {
                    return Err(StateError::Corrupt {
                        path: path.to_owned(),
                        problem: "next_counter is 0".into(),
                    });
                }
                data
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => StateData {
                client_id,
                next_counter: now_micros(),
                keys: BTreeMap::new(),
                held: BTreeMap::new(),
            },
            Err(e) => return Err(io("reading", path)(e)),
        };
        let state = State {
            path: path.to_owned(),
            data,
            _lock: lock,
        };
        state.save()?;
        Ok(state)
    }

    pub fn data(&self) -> &StateData {
        &self.data
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A counter never handed out before, durably, and not below the clock in microseconds.
    pub fn reserve_counter(&mut self) -> Result<u64, StateError> {
        let old = self.data.next_counter;
        let c = old.max(now_micros());
        let next = c.checked_add(1).ok_or(StateError::CounterExhausted)?;
        self.data.next_counter = next;
        if let Err(e) = self.save() {
            self.data.next_counter = old;
            return Err(e);
        }
        Ok(c)
    }

    pub fn remember_key(&mut self, key_id: u32, key: &[u8; 32]) -> Result<(), StateError> {
        self.data.keys.insert(key_id, hex::encode(key));
        self.save()
    }

    pub fn key(&self, key_id: u32) -> Option<[u8; 32]> {
        let mut k = [0u8; 32];
        hex::decode_to_slice(self.data.keys.get(&key_id)?, &mut k).ok()?;
        Some(k)
    }

    pub fn remember_held(&mut self, reference: u64, p: &Payment) -> Result<(), StateError> {
        self.data
            .held
            .insert(reference, HeldPayment::from_payment(p));
        self.save()
    }

    pub fn held(&self, reference: u64) -> Option<Payment> {
        self.data.held.get(&reference)?.to_payment()
    }

    pub fn forget_held(&mut self, reference: u64) -> Result<(), StateError> {
        if self.data.held.remove(&reference).is_some() {
            self.save()?;
        }
        Ok(())
    }

    /// Write to a temporary file, fsync, rename over the state, fsync the directory: a crash
    /// leaves either the old or the new state, never a torn one.
    fn save(&self) -> Result<(), StateError> {
        let path = &self.path;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let text = serde_json::to_vec_pretty(&self.data).map_err(|e| StateError::Corrupt {
            path: path.clone(),
            problem: e.to_string(),
        })?;
        let mut f = File::create(&tmp).map_err(io("creating", &tmp))?;
        f.write_all(&text).map_err(io("writing", &tmp))?;
        f.sync_all().map_err(io("syncing", &tmp))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io("renaming over", path))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io("syncing the directory of", path))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldgate_spec::vectors::sample_payment;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("coldgate-state-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("dir");
        d
    }

    #[test]
    fn counters_never_repeat_across_reopenings() {
        let d = scratch("reopen");
        let path = d.join("state.json");
        let mut seen = Vec::new();
        for _ in 0..3 {
            let mut s = State::open(&path, 4).expect("open");
            for _ in 0..5 {
                seen.push(s.reserve_counter().expect("counter"));
            }
        }
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn counters_never_fall_behind_the_clock() {
        // A state whose counter lags (e.g. restored from an old copy): the next counter jumps
        // to the clock, so a wallet restored with a clock floor accepts it.
        let d = scratch("clock");
        let path = d.join("state.json");
        std::fs::write(&path, br#"{"client_id": 4, "next_counter": 17}"#).expect("write");
        let before = now_micros();
        let mut s = State::open(&path, 4).expect("open");
        let c = s.reserve_counter().expect("counter");
        assert!(c >= before, "{c} < {before}");
        assert!(s.reserve_counter().expect("counter") > c);
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn a_state_is_locked_while_open_and_bound_to_its_client() {
        let d = scratch("lock");
        let path = d.join("state.json");
        let s = State::open(&path, 4).expect("open");
        assert!(matches!(
            State::open(&path, 4),
            Err(StateError::Locked { .. })
        ));
        drop(s);
        assert!(matches!(
            State::open(&path, 5),
            Err(StateError::OtherClient {
                found: 4,
                wanted: 5,
                ..
            })
        ));
        std::fs::write(&path, b"{\"client_id\": 4}").expect("write");
        assert!(matches!(
            State::open(&path, 4),
            Err(StateError::Corrupt { .. })
        ));
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn keys_and_held_payments_survive_a_reopen() {
        let d = scratch("keep");
        let path = d.join("state.json");
        let p = sample_payment();
        {
            let mut s = State::open(&path, 4).expect("open");
            s.remember_key(3, &[9; 32]).expect("key");
            s.remember_held(77, &p).expect("held");
        }
        let mut s = State::open(&path, 4).expect("open");
        assert_eq!(s.key(3), Some([9; 32]));
        assert_eq!(s.held(77), Some(p));
        s.forget_held(77).expect("forget");
        assert_eq!(s.held(77), None);
        let _ = std::fs::remove_dir_all(d);
    }
}
