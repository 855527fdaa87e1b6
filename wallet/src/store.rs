//! The durable store: one SQLite file in WAL mode.
//!
//! | table | holds | may change |
//! |---|---|---|
//! | `meta` | schema version, KDF salt and cost, a passphrase check value | never after `init` |
//! | `clients` | each client's HMAC secret (sealed) and last accepted counter | counter only grows |
//! | `keys` | each key's owner, x-only public key and sealed secret key | append only (triggers) |
//! | `payments` | the ledger: signed, held and denied payments | a held row is decided once |
//! | `audit` | the hash-chained audit log | append only (triggers) |
//! | `operators` | each operator's name and credential MAC | append only (triggers) |
//! | `approvals` | each operator's approve or deny of a held payment | append only (triggers) |
//! | `restores` | each restore of a backup and the counter floor it set | append only (triggers) |
//!
//! Every request runs in one `BEGIN IMMEDIATE` transaction ([`Store::begin`]) that is
//! committed before the response is released; `synchronous = FULL` makes a commit survive
//! power loss as well as a killed process. The triggers stop accidental or careless SQL; a
//! deliberate attacker with the file can drop them, which is why the sealed values are bound
//! to their rows and the audit chain is keyed (see [`crate::vault`]).
//!
//! SQLite integers are signed 64-bit: counters and references (u64 on the wire) are stored
//! with their top bit flipped, a mapping that keeps their order, so SQL compares them right.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bitcoin::key::{Keypair, XOnlyPublicKey};
use bitcoin::secp256k1::SecretKey;
use coldgate_spec::auth::Secret;
use coldgate_spec::Payment;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use zeroize::Zeroizing;

use crate::policy::{Usage, Window, WINDOW_SECS};
use crate::vault::{random, KdfParams, Vault, VaultError, SALT_LEN};

/// Seconds since the Unix epoch.
pub type Timestamp = i64;

const SCHEMA_VERSION: i64 = 2;
const CHECK_AAD: &[u8] = b"coldgate-wallet/v1/passphrase-check";
const CHECK_PLAIN: &[u8] = b"coldgate-wallet";
/// How long a writer waits for another (the serving wallet and the operator CLI share the file).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;
CREATE TABLE clients (
    client_id INTEGER PRIMARY KEY,
    secret BLOB NOT NULL,
    last_counter INTEGER NOT NULL,
    created INTEGER NOT NULL
) STRICT;
CREATE TABLE keys (
    key_id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(client_id),
    pubkey BLOB NOT NULL UNIQUE,
    secret BLOB NOT NULL,
    created INTEGER NOT NULL
) STRICT;
CREATE INDEX keys_by_client ON keys(client_id);
CREATE TABLE payments (
    client_id INTEGER NOT NULL REFERENCES clients(client_id),
    reference INTEGER NOT NULL,
    key_id INTEGER NOT NULL REFERENCES keys(key_id),
    txid BLOB NOT NULL,
    vout INTEGER NOT NULL,
    input_amount INTEGER NOT NULL,
    destination BLOB NOT NULL,
    amount INTEGER NOT NULL,
    change INTEGER NOT NULL,
    fee INTEGER NOT NULL,
    created INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('signed', 'held', 'denied')),
    signature BLOB,
    decided INTEGER,
    PRIMARY KEY (client_id, reference)
) STRICT;
CREATE INDEX payments_by_time ON payments(created);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    prev BLOB NOT NULL,
    mac BLOB NOT NULL
) STRICT;
CREATE TRIGGER meta_fixed_u BEFORE UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'meta is fixed'); END;
CREATE TRIGGER meta_fixed_d BEFORE DELETE ON meta BEGIN SELECT RAISE(ABORT, 'meta is fixed'); END;
CREATE TRIGGER clients_kept BEFORE DELETE ON clients BEGIN SELECT RAISE(ABORT, 'clients are never deleted'); END;
CREATE TRIGGER clients_counter_grows BEFORE UPDATE ON clients
    WHEN NEW.client_id != OLD.client_id OR NEW.secret != OLD.secret OR NEW.created != OLD.created
        OR NEW.last_counter <= OLD.last_counter
    BEGIN SELECT RAISE(ABORT, 'only a client''s counter changes, and only upwards'); END;
CREATE TRIGGER keys_append_only_u BEFORE UPDATE ON keys BEGIN SELECT RAISE(ABORT, 'the key store is append-only'); END;
CREATE TRIGGER keys_append_only_d BEFORE DELETE ON keys BEGIN SELECT RAISE(ABORT, 'the key store is append-only'); END;
CREATE TRIGGER payments_decided_once BEFORE UPDATE ON payments WHEN OLD.status != 'held'
    BEGIN SELECT RAISE(ABORT, 'only a held payment is decided'); END;
CREATE TRIGGER payments_kept BEFORE DELETE ON payments BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

/// What schema 2 adds to schema 1: operators and their approvals, restores, and the index that
/// finds a re-sent payment.
const SCHEMA_V2: &str = "
CREATE TABLE operators (
    name TEXT PRIMARY KEY,
    credential BLOB NOT NULL,
    created INTEGER NOT NULL
) STRICT;
CREATE TABLE approvals (
    client_id INTEGER NOT NULL,
    reference INTEGER NOT NULL,
    operator TEXT NOT NULL REFERENCES operators(name),
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),
    at INTEGER NOT NULL,
    PRIMARY KEY (client_id, reference, operator),
    FOREIGN KEY (client_id, reference) REFERENCES payments(client_id, reference)
) STRICT;
CREATE TABLE restores (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    counter_floor INTEGER NOT NULL,
    source TEXT NOT NULL
) STRICT;
CREATE INDEX payments_by_outpoint ON payments(client_id, key_id, txid, vout);
CREATE TRIGGER operators_kept_u BEFORE UPDATE ON operators BEGIN SELECT RAISE(ABORT, 'operators are never changed'); END;
CREATE TRIGGER operators_kept_d BEFORE DELETE ON operators BEGIN SELECT RAISE(ABORT, 'operators are never removed'); END;
CREATE TRIGGER approvals_kept_u BEFORE UPDATE ON approvals BEGIN SELECT RAISE(ABORT, 'approvals are append-only'); END;
CREATE TRIGGER approvals_kept_d BEFORE DELETE ON approvals BEGIN SELECT RAISE(ABORT, 'approvals are append-only'); END;
CREATE TRIGGER restores_kept_u BEFORE UPDATE ON restores BEGIN SELECT RAISE(ABORT, 'restores are append-only'); END;
CREATE TRIGGER restores_kept_d BEFORE DELETE ON restores BEGIN SELECT RAISE(ABORT, 'restores are append-only'); END;
";

/// Schema 1 to 2: the additions, and the version row (meta is fixed by a trigger, which is
/// lifted for this one update inside the same transaction).
const MIGRATE_1_TO_2: &str = "
DROP TRIGGER meta_fixed_u;
UPDATE meta SET value = X'0000000000000002' WHERE name = 'schema';
CREATE TRIGGER meta_fixed_u BEFORE UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'meta is fixed'); END;
";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("{0} already exists; a store is created only once")]
    Exists(PathBuf),
    #[error("{path} is not a coldgate wallet store: {problem}")]
    NotAStore { path: PathBuf, problem: String },
    #[error("wrong passphrase for this store")]
    WrongPassphrase,
    #[error("client {0} already exists")]
    ClientExists(u32),
    #[error("store content is inconsistent: {0}")]
    Corrupt(String),
    #[error("no held payment {reference} of client {client_id}")]
    NotHeld { client_id: u32, reference: u64 },
    #[error("operator {0:?} already exists")]
    OperatorExists(String),
    #[error("operator {0:?}: unknown operator or wrong credential")]
    BadOperator(String),
    #[error("operator {operator:?} already decided payment {reference} of client {client_id}")]
    AlreadyDecided {
        operator: String,
        client_id: u32,
        reference: u64,
    },
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// Why the store cannot take writes, when that is the trouble (disk full, read-only file
    /// or file system, I/O error): the wallet then refuses to sign and says this.
    pub fn unwritable(&self) -> Option<&'static str> {
        use rusqlite::ErrorCode::*;
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => match e.code {
                DiskFull => Some("the disk is full"),
                ReadOnly => Some("the store is read-only"),
                SystemIoFailure => Some("I/O error writing the store"),
                CannotOpen => Some("the store cannot be opened for writing"),
                DatabaseBusy | DatabaseLocked => Some("the store is locked by another writer"),
                _ => None,
            },
            StoreError::Io(_) => Some("I/O error"),
            _ => None,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Where a payment stands in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    Signed,
    Held,
    Denied,
}

impl PaymentStatus {
    pub fn name(self) -> &'static str {
        match self {
            PaymentStatus::Signed => "signed",
            PaymentStatus::Held => "held",
            PaymentStatus::Denied => "denied",
        }
    }
    fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "signed" => PaymentStatus::Signed,
            "held" => PaymentStatus::Held,
            "denied" => PaymentStatus::Denied,
            _ => return None,
        })
    }
}

/// One ledger row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRecord {
    pub client_id: u32,
    /// The SIGN_PAYMENT request's counter.
    pub reference: u64,
    pub payment: Payment,
    pub fee: u64,
    pub created: Timestamp,
    pub status: PaymentStatus,
    pub signature: Option<[u8; 64]>,
}

/// A key's public record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    pub key_id: u32,
    pub client_id: u32,
    pub pubkey: XOnlyPublicKey,
}

/// What `audit verify` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: u64,
    /// The last link: record it elsewhere to detect a truncated log later.
    pub head: [u8; 32],
}

/// Where the audit chain breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at seq {seq}: {problem}")]
pub struct AuditBreak {
    pub seq: i64,
    pub problem: String,
}

/// An open store with its passphrase-derived keys.
pub struct Store {
    conn: Connection,
    vault: Vault,
}

const SIGN_BIT: u64 = 1 << 63;
fn to_sql(v: u64) -> i64 {
    (v ^ SIGN_BIT) as i64
}
fn from_sql(v: i64) -> u64 {
    (v as u64) ^ SIGN_BIT
}
fn amount_sql(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("amount {v} beyond i64")))
}
fn blob<const N: usize>(v: Vec<u8>, what: &str) -> Result<[u8; N]> {
    v.try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what} is not {N} bytes")))
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "journal mode is {mode}, not wal"
        )));
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    Ok(())
}

fn open_existing(path: &Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(StoreError::NotAStore {
            path: path.to_owned(),
            problem: "no such file (run `coldgate-wallet init` first)".into(),
        });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    Ok(conn)
}

fn meta(conn: &Connection, name: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?)
}

impl Store {
    /// Creates a new store at `path` (never over an existing file).
    pub fn init(path: &Path, passphrase: &[u8], kdf: &KdfParams, now: Timestamp) -> Result<Store> {
        if path.exists() {
            return Err(StoreError::Exists(path.to_owned()));
        }
        let salt: [u8; SALT_LEN] = random()?;
        let vault = Vault::derive(passphrase, &salt, kdf)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        restrict_permissions(path)?;
        configure(&conn)?;
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA)?;
        tx.execute_batch(SCHEMA_V2)?;
        let kdf_json = serde_json::to_vec(kdf).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for (name, value) in [
            ("schema", SCHEMA_VERSION.to_be_bytes().to_vec()),
            ("kdf_salt", salt.to_vec()),
            ("kdf_params", kdf_json),
            ("passphrase_check", vault.seal(CHECK_AAD, CHECK_PLAIN)?),
        ] {
            tx.execute(
                "INSERT INTO meta (name, value) VALUES (?1, ?2)",
                params![name, value],
            )?;
        }
        tx.commit()?;
        let mut store = Store { conn, vault };
        let t = store.begin()?;
        t.audit(now, &serde_json::json!({"event": "store_created"}))?;
        t.commit()?;
        Ok(store)
    }

    /// Opens an existing store; fails on a wrong passphrase.
    pub fn open(path: &Path, passphrase: &[u8]) -> Result<Store> {
        let conn = open_existing(path)?;
        let not_a_store = |problem: &str| StoreError::NotAStore {
            path: path.to_owned(),
            problem: problem.to_string(),
        };
        let has_meta: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
            [],
            |r| r.get(0),
        )?;
        if !has_meta {
            return Err(not_a_store("no meta table"));
        }
        let schema = meta(&conn, "schema")?.ok_or_else(|| not_a_store("no schema version"))?;
        let migrate = if schema == 1i64.to_be_bytes() {
            true
        } else if schema == SCHEMA_VERSION.to_be_bytes() {
            false
        } else {
            return Err(not_a_store("unsupported schema version"));
        };
        let salt: [u8; SALT_LEN] = meta(&conn, "kdf_salt")?
            .ok_or_else(|| not_a_store("no KDF salt"))?
            .try_into()
            .map_err(|_| not_a_store("KDF salt has the wrong length"))?;
        let kdf: KdfParams = serde_json::from_slice(
            &meta(&conn, "kdf_params")?.ok_or_else(|| not_a_store("no KDF parameters"))?,
        )
        .map_err(|e| not_a_store(&format!("KDF parameters: {e}")))?;
        let check =
            meta(&conn, "passphrase_check")?.ok_or_else(|| not_a_store("no check value"))?;
        let vault = Vault::derive(passphrase, &salt, &kdf)?;
        match vault.open(CHECK_AAD, &check) {
            Ok(p) if p[..] == *CHECK_PLAIN => {}
            _ => return Err(StoreError::WrongPassphrase),
        }
        let mut store = Store { conn, vault };
        if migrate {
            // Only after the passphrase proved right: a wrong one changes nothing.
            let tx = store
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(SCHEMA_V2)?;
            tx.execute_batch(MIGRATE_1_TO_2)?;
            tx.commit()?;
            let t = store.begin()?;
            t.audit(
                crate::server::now(),
                &serde_json::json!({"event": "schema_migrated", "from": 1, "to": SCHEMA_VERSION}),
            )?;
            t.commit()?;
        }
        Ok(store)
    }

    /// Proves the store takes writes now (an audit entry saying so): `serve` starts only on
    /// a store it can commit to, so it never answers requests it cannot record.
    pub fn probe_writable(&mut self, now: Timestamp, what: &str) -> Result<()> {
        let t = self.begin()?;
        t.audit(now, &serde_json::json!({"event": what}))?;
        t.commit()
    }

    /// Starts the one transaction of a request or an operator command. It takes the write
    /// lock at once, so the reads that decide (counter, usage) cannot go stale before commit.
    pub fn begin(&mut self) -> Result<Txn<'_>> {
        Ok(Txn {
            tx: self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?,
            vault: &self.vault,
        })
    }

    /// Checks every link of the audit chain.
    pub fn verify_audit(&self) -> Result<Result<AuditReport, AuditBreak>> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, at, event, prev, mac FROM audit ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        let mut prev = [0u8; 32];
        let mut expected_seq = 1i64;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let at: i64 = r.get(1)?;
            let event: String = r.get(2)?;
            let stored_prev: Vec<u8> = r.get(3)?;
            let mac: Vec<u8> = r.get(4)?;
            let broken = |problem: &str| {
                Ok(Err(AuditBreak {
                    seq,
                    problem: problem.to_string(),
                }))
            };
            if seq != expected_seq {
                return broken(&format!(
                    "expected seq {expected_seq} (an entry is missing)"
                ));
            }
            if stored_prev != prev {
                return broken("its prev is not the previous entry's link");
            }
            if mac != self.vault.audit_mac(&prev, seq, at, &event) {
                return broken("its link does not match its content (edited)");
            }
            prev = blob(mac, "audit link")?;
            expected_seq += 1;
        }
        Ok(Ok(AuditReport {
            entries: (expected_seq - 1) as u64,
            head: prev,
        }))
    }

    /// The ledger's held payments, oldest first.
    pub fn held(&self) -> Result<Vec<PaymentRecord>> {
        held(&self.conn)
    }
}

/// Held payments, read without the passphrase (nothing secret is involved).
pub fn held_without_passphrase(path: &Path) -> Result<Vec<PaymentRecord>> {
    held(&open_existing(path)?)
}

fn held(conn: &Connection) -> Result<Vec<PaymentRecord>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE status = 'held' ORDER BY created, client_id, reference"
    ))?;
    let rows = stmt.query_map([], payment_row)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r??);
    }
    Ok(out)
}

/// Copies a live store to `out` with SQLite's online backup (the wallet may keep serving);
/// needs no passphrase, as everything secret stays sealed. Returns the pages copied.
pub fn backup(path: &Path, out: &Path) -> Result<i32> {
    if out.exists() {
        return Err(StoreError::Exists(out.to_owned()));
    }
    let src = open_existing(path)?;
    let mut dst = Connection::open(out)?;
    restrict_permissions(out)?;
    {
        use rusqlite::backup::{Backup, StepResult};
        let b = Backup::new(&src, &mut dst)?;
        // One step of all pages copies the file under one read snapshot: a consistent copy
        // even while the wallet commits (WAL readers do not block the writer). Busy only
        // happens while another connection checkpoints; retry for a bounded time.
        let mut done = false;
        for _ in 0..200 {
            match b.step(-1)? {
                StepResult::Done => {
                    done = true;
                    break;
                }
                StepResult::More | StepResult::Busy | StepResult::Locked => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        if !done {
            return Err(StoreError::Corrupt(
                "backup did not complete within 10 s".into(),
            ));
        }
    }
    let ok: String = dst.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if ok != "ok" {
        return Err(StoreError::Corrupt(format!("backup integrity check: {ok}")));
    }
    Ok(dst.query_row("PRAGMA page_count", [], |r| r.get(0))?)
}

/// Restores a backup: copies `backup` to `path` (which must not exist) and records, in the
/// copy, a counter floor that every client's next counter must exceed. Frames a client sent
/// after the backup was taken carry counters the copy never saw; the floor (by default the
/// wall clock in microseconds, the unit coldgate clients start their counters from and never
/// fall behind) refuses them all. Needs the passphrase (the audit entry is keyed).
pub fn restore(
    backup_path: &Path,
    path: &Path,
    passphrase: &[u8],
    counter_floor: u64,
    now: Timestamp,
) -> Result<Store> {
    // Check the backup before copying: right passphrase, a coldgate store.
    drop(Store::open(backup_path, passphrase)?);
    backup(backup_path, path)?;
    let mut store = Store::open(path, passphrase)?;
    let t = store.begin()?;
    t.tx.execute(
        "INSERT INTO restores (at, counter_floor, source) VALUES (?1, ?2, ?3)",
        params![
            now,
            to_sql(counter_floor),
            backup_path.display().to_string()
        ],
    )?;
    t.audit(
        now,
        &serde_json::json!({"event": "restored", "source": backup_path.display().to_string(),
                            "counter_floor": counter_floor}),
    )?;
    t.commit()?;
    Ok(store)
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}
#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) -> Result<()> {
    Ok(())
}

const PAYMENT_COLUMNS: &str = "client_id, reference, key_id, txid, vout, input_amount, destination, amount, change, fee, created, status, signature";

fn payment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<PaymentRecord>> {
    let status: String = r.get(11)?;
    let signature: Option<Vec<u8>> = r.get(12)?;
    let txid: Vec<u8> = r.get(3)?;
    let destination: Vec<u8> = r.get(6)?;
    let (client_id, reference, key_id): (u32, i64, u32) = (r.get(0)?, r.get(1)?, r.get(2)?);
    let (vout, input_amount, amount, change, fee, created): (u32, i64, i64, i64, i64, i64) = (
        r.get(4)?,
        r.get(5)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    );
    Ok((|| {
        let non_negative = |v: i64| {
            u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative amount {v}")))
        };
        Ok(PaymentRecord {
            client_id,
            reference: from_sql(reference),
            payment: Payment {
                key_id,
                txid: blob(txid, "txid")?,
                vout,
                input_amount: non_negative(input_amount)?,
                destination: blob(destination, "destination")?,
                amount: non_negative(amount)?,
                change: non_negative(change)?,
            },
            fee: non_negative(fee)?,
            created,
            status: PaymentStatus::from_name(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("payment status {status:?}")))?,
            signature: signature.map(|s| blob(s, "signature")).transpose()?,
        })
    })())
}

fn client_aad(client_id: u32) -> Vec<u8> {
    let mut aad = b"coldgate-wallet/v1/client-secret".to_vec();
    aad.extend_from_slice(&client_id.to_be_bytes());
    aad
}

fn key_aad(key_id: u32, client_id: u32, pubkey: &XOnlyPublicKey) -> Vec<u8> {
    let mut aad = b"coldgate-wallet/v1/key".to_vec();
    aad.extend_from_slice(&key_id.to_be_bytes());
    aad.extend_from_slice(&client_id.to_be_bytes());
    aad.extend_from_slice(&pubkey.serialize());
    aad
}

/// One open transaction. Dropping it without [`Txn::commit`] rolls everything back.
pub struct Txn<'a> {
    tx: rusqlite::Transaction<'a>,
    vault: &'a Vault,
}

impl Txn<'_> {
    pub fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }

    /// Registers a client with its secret.
    pub fn add_client(&self, client_id: u32, secret: &Secret, now: Timestamp) -> Result<()> {
        let exists: bool = self.tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM clients WHERE client_id = ?1)",
            [client_id],
            |r| r.get(0),
        )?;
        if exists {
            return Err(StoreError::ClientExists(client_id));
        }
        let sealed = self.vault.seal(&client_aad(client_id), secret)?;
        self.tx.execute(
            "INSERT INTO clients (client_id, secret, last_counter, created) VALUES (?1, ?2, ?3, ?4)",
            params![client_id, sealed, to_sql(0), now],
        )?;
        self.audit(
            now,
            &serde_json::json!({"event": "client_added", "client_id": client_id}),
        )
    }

    /// A client's secret and last accepted counter, or `None` for an unknown client.
    pub(crate) fn client(&self, client_id: u32) -> Result<Option<(Zeroizing<Secret>, u64)>> {
        let row: Option<(Vec<u8>, i64)> = self
            .tx
            .query_row(
                "SELECT secret, last_counter FROM clients WHERE client_id = ?1",
                [client_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(sealed, counter)| {
            let secret = self
                .vault
                .open_array::<32>(&client_aad(client_id), &sealed)?;
            Ok((secret, from_sql(counter)))
        })
        .transpose()
    }

    /// The highest counter floor any restore set (0 when the store was never restored).
    pub(crate) fn counter_floor(&self) -> Result<u64> {
        let floor: Option<i64> =
            self.tx
                .query_row("SELECT MAX(counter_floor) FROM restores", [], |r| r.get(0))?;
        Ok(floor.map(from_sql).unwrap_or(0))
    }

    /// The ledger entry of this client for exactly this payment (same key, outpoint, amounts
    /// and destination), oldest first: a re-sent request whose answer was lost.
    pub(crate) fn find_payment(
        &self,
        client_id: u32,
        p: &Payment,
    ) -> Result<Option<PaymentRecord>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE client_id = ?1 AND key_id = ?2 \
             AND txid = ?3 AND vout = ?4 ORDER BY created, reference"
        ))?;
        let rows = stmt.query_map(
            params![client_id, p.key_id, p.txid.to_vec(), p.vout],
            payment_row,
        )?;
        for r in rows {
            let rec = r??;
            if rec.payment == *p {
                return Ok(Some(rec));
            }
        }
        Ok(None)
    }

    /// Registers an operator with the MAC of their credential.
    pub fn add_operator(&self, name: &str, credential: &[u8; 32], now: Timestamp) -> Result<()> {
        let exists: bool = self.tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM operators WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(StoreError::OperatorExists(name.to_string()));
        }
        self.tx.execute(
            "INSERT INTO operators (name, credential, created) VALUES (?1, ?2, ?3)",
            params![
                name,
                self.vault.operator_mac(name, credential).to_vec(),
                now
            ],
        )?;
        self.audit(
            now,
            &serde_json::json!({"event": "operator_added", "operator": name}),
        )
    }

    /// Checks an operator's credential (unknown name and wrong credential look alike).
    pub(crate) fn check_operator(&self, name: &str, credential: &[u8; 32]) -> Result<()> {
        let stored: Option<Vec<u8>> = self
            .tx
            .query_row(
                "SELECT credential FROM operators WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?;
        match stored {
            Some(s) if self.vault.operator_matches(name, credential, &s) => Ok(()),
            _ => Err(StoreError::BadOperator(name.to_string())),
        }
    }

    /// Records one operator's decision on a held payment; returns the distinct approvals so
    /// far. An operator decides a payment once.
    pub(crate) fn record_approval(
        &self,
        client_id: u32,
        reference: u64,
        operator: &str,
        approve: bool,
        now: Timestamp,
    ) -> Result<u64> {
        let done: bool = self.tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM approvals WHERE client_id = ?1 AND reference = ?2 AND operator = ?3)",
            params![client_id, to_sql(reference), operator],
            |r| r.get(0),
        )?;
        if done {
            return Err(StoreError::AlreadyDecided {
                operator: operator.to_string(),
                client_id,
                reference,
            });
        }
        self.tx.execute(
            "INSERT INTO approvals (client_id, reference, operator, decision, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                client_id,
                to_sql(reference),
                operator,
                if approve { "approve" } else { "deny" },
                now
            ],
        )?;
        Ok(self.tx.query_row(
            "SELECT COUNT(*) FROM approvals WHERE client_id = ?1 AND reference = ?2 AND decision = 'approve'",
            params![client_id, to_sql(reference)],
            |r| r.get(0),
        )?)
    }

    pub(crate) fn set_counter(&self, client_id: u32, counter: u64) -> Result<()> {
        self.tx.execute(
            "UPDATE clients SET last_counter = ?2 WHERE client_id = ?1",
            params![client_id, to_sql(counter)],
        )?;
        Ok(())
    }

    pub(crate) fn key(&self, key_id: u32) -> Result<Option<KeyRecord>> {
        let row: Option<(u32, Vec<u8>)> = self
            .tx
            .query_row(
                "SELECT client_id, pubkey FROM keys WHERE key_id = ?1",
                [key_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(client_id, pk)| {
            let pubkey = XOnlyPublicKey::from_slice(&pk)
                .map_err(|_| StoreError::Corrupt(format!("key {key_id}: public key")))?;
            Ok(KeyRecord {
                key_id,
                client_id,
                pubkey,
            })
        })
        .transpose()
    }

    pub(crate) fn key_count(&self, client_id: u32) -> Result<u64> {
        Ok(self.tx.query_row(
            "SELECT COUNT(*) FROM keys WHERE client_id = ?1",
            [client_id],
            |r| r.get(0),
        )?)
    }

    /// Creates a key for `client_id` from the OS's randomness. `None` when key ids ran out.
    pub(crate) fn new_key(&self, client_id: u32, now: Timestamp) -> Result<Option<KeyRecord>> {
        let next: i64 =
            self.tx
                .query_row("SELECT COALESCE(MAX(key_id), 0) + 1 FROM keys", [], |r| {
                    r.get(0)
                })?;
        let Ok(key_id) = u32::try_from(next) else {
            return Ok(None);
        };
        let secret_key = loop {
            let bytes = Zeroizing::new(random::<32>()?);
            // Fails only for zero or values above the group order: probability ~2^-128.
            if let Ok(sk) = SecretKey::from_slice(&bytes[..]) {
                break sk;
            }
        };
        let keypair = Keypair::from_secret_key(coldgate_tx::secp(), &secret_key);
        let pubkey = keypair.x_only_public_key().0;
        let secret_bytes = Zeroizing::new(secret_key.secret_bytes());
        let sealed = self
            .vault
            .seal(&key_aad(key_id, client_id, &pubkey), &secret_bytes[..])?;
        self.tx.execute(
            "INSERT INTO keys (key_id, client_id, pubkey, secret, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key_id, client_id, pubkey.serialize().to_vec(), sealed, now],
        )?;
        Ok(Some(KeyRecord {
            key_id,
            client_id,
            pubkey,
        }))
    }

    /// The key's secret, opened only to sign; checked against its stored public key.
    pub(crate) fn keypair(&self, key: &KeyRecord) -> Result<Keypair> {
        let sealed: Vec<u8> = self.tx.query_row(
            "SELECT secret FROM keys WHERE key_id = ?1",
            [key.key_id],
            |r| r.get(0),
        )?;
        let bytes = self
            .vault
            .open_array::<32>(&key_aad(key.key_id, key.client_id, &key.pubkey), &sealed)?;
        let sk = SecretKey::from_slice(&bytes[..])
            .map_err(|_| StoreError::Corrupt(format!("key {}: secret key", key.key_id)))?;
        let kp = Keypair::from_secret_key(coldgate_tx::secp(), &sk);
        if kp.x_only_public_key().0 != key.pubkey {
            return Err(StoreError::Corrupt(format!(
                "key {}: secret does not match public key",
                key.key_id
            )));
        }
        Ok(kp)
    }

    /// Signed and held payments inside the window ending at `now`, for the client and overall.
    pub(crate) fn window(&self, client_id: u32, now: Timestamp) -> Result<Window> {
        let since = now.saturating_sub(WINDOW_SECS);
        let usage = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<Usage> {
            let (count, amount): (i64, i64) =
                self.tx.query_row(sql, p, |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(Usage {
                count: count as u64,
                amount: u64::try_from(amount)
                    .map_err(|_| StoreError::Corrupt("negative amounts in the ledger".into()))?,
            })
        };
        const BASE: &str = "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM payments \
                            WHERE status IN ('signed', 'held') AND created > ?1";
        const EVER: &str = "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM payments \
                            WHERE status IN ('signed', 'held')";
        Ok(Window {
            client: usage(&format!("{BASE} AND client_id = ?2"), &[&since, &client_id])?,
            service: usage(BASE, &[&since])?,
            client_lifetime: usage(&format!("{EVER} AND client_id = ?1"), &[&client_id])?.amount,
            service_lifetime: usage(EVER, &[])?.amount,
        })
    }

    pub(crate) fn payment(&self, client_id: u32, reference: u64) -> Result<Option<PaymentRecord>> {
        self.tx
            .query_row(
                &format!(
                    "SELECT {PAYMENT_COLUMNS} FROM payments WHERE client_id = ?1 AND reference = ?2"
                ),
                params![client_id, to_sql(reference)],
                payment_row,
            )
            .optional()?
            .transpose()
    }

    pub(crate) fn insert_payment(&self, rec: &PaymentRecord) -> Result<()> {
        let p = &rec.payment;
        self.tx.execute(
            &format!(
                "INSERT INTO payments ({PAYMENT_COLUMNS}, decided) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ),
            params![
                rec.client_id,
                to_sql(rec.reference),
                p.key_id,
                p.txid.to_vec(),
                p.vout,
                amount_sql(p.input_amount)?,
                p.destination.to_vec(),
                amount_sql(p.amount)?,
                amount_sql(p.change)?,
                amount_sql(rec.fee)?,
                rec.created,
                rec.status.name(),
                rec.signature.map(|s| s.to_vec()),
                (rec.status != PaymentStatus::Held).then_some(rec.created),
            ],
        )?;
        Ok(())
    }

    /// Decides a held payment: `Signed` with its signature, or `Denied`.
    pub(crate) fn decide(
        &self,
        client_id: u32,
        reference: u64,
        status: PaymentStatus,
        signature: Option<[u8; 64]>,
        now: Timestamp,
    ) -> Result<()> {
        let n = self.tx.execute(
            "UPDATE payments SET status = ?3, signature = ?4, decided = ?5 \
             WHERE client_id = ?1 AND reference = ?2 AND status = 'held'",
            params![
                client_id,
                to_sql(reference),
                status.name(),
                signature.map(|s| s.to_vec()),
                now
            ],
        )?;
        if n != 1 {
            return Err(StoreError::NotHeld {
                client_id,
                reference,
            });
        }
        Ok(())
    }

    /// Appends an entry to the audit chain.
    pub(crate) fn audit(&self, at: Timestamp, event: &serde_json::Value) -> Result<()> {
        let last: Option<(i64, Vec<u8>)> = self
            .tx
            .query_row(
                "SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (seq, prev) = match last {
            Some((s, mac)) => (s + 1, blob::<32>(mac, "audit link")?),
            None => (1, [0u8; 32]),
        };
        let event = event.to_string();
        let mac = self.vault.audit_mac(&prev, seq, at, &event);
        self.tx.execute(
            "INSERT INTO audit (seq, at, event, prev, mac) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![seq, at, event, prev.to_vec(), mac.to_vec()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{from_sql, to_sql};
    use proptest::prelude::*;

    proptest! {
        /// The stored form of counters keeps their order, so the trigger's `<=` and any SQL
        /// comparison agree with the wire's u64 order, including above i64::MAX.
        #[test]
        fn counter_mapping_keeps_order(a in any::<u64>(), b in any::<u64>()) {
            prop_assert_eq!(from_sql(to_sql(a)), a);
            prop_assert_eq!(a.cmp(&b), to_sql(a).cmp(&to_sql(b)));
        }
    }

    #[test]
    fn counter_mapping_edges() {
        assert_eq!(to_sql(0), i64::MIN);
        assert_eq!(to_sql(u64::MAX), i64::MAX);
        assert!(to_sql(1 << 63) > to_sql((1 << 63) - 1));
    }
}
