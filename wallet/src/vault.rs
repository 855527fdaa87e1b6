//! Secrets at rest: keys derived from the operator's passphrase, AEAD sealing, the audit MAC.
//!
//! argon2id turns the passphrase and the store's random salt into a master key; HKDF-SHA256
//! splits it into an AEAD key (ChaCha20-Poly1305, random 96-bit nonce per sealed value) and an
//! audit key (HMAC-SHA256 chain over the audit log). Every sealed value is bound by its
//! associated data to the row it lives in, so ciphertexts cannot be moved between rows or
//! clients without failing to open.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;
/// Length of the store's KDF salt.
pub const SALT_LEN: usize = 16;

/// argon2id cost. Stored in the store at `init`, so opening always uses the parameters the
/// store was created with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Memory in KiB (default 64 MiB, RFC 9106's second recommended option).
    pub memory_kib: u32,
    /// Passes over memory (default 3).
    pub iterations: u32,
    /// Lanes (default 1).
    pub parallelism: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("argon2 parameters: {0}")]
    Kdf(String),
    #[error("the OS random source failed: {0}")]
    Random(String),
    #[error("a sealed value did not open (wrong passphrase, or the store was altered)")]
    Open,
    #[error("sealing failed")]
    Seal,
}

/// Fills an array from the OS's randomness.
pub fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| VaultError::Random(e.to_string()))?;
    Ok(b)
}

/// The keys derived from the passphrase. Zeroed on drop.
pub struct Vault {
    aead: Zeroizing<[u8; 32]>,
    audit: Zeroizing<[u8; 32]>,
    operator: Zeroizing<[u8; 32]>,
}

impl Vault {
    pub fn derive(
        passphrase: &[u8],
        salt: &[u8; SALT_LEN],
        params: &KdfParams,
    ) -> Result<Vault, VaultError> {
        let p = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(32),
        )
        .map_err(|e| VaultError::Kdf(e.to_string()))?;
        let mut master = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
            .hash_password_into(passphrase, salt, &mut master[..])
            .map_err(|e| VaultError::Kdf(e.to_string()))?;
        let hk = Hkdf::<Sha256>::new(None, &master[..]);
        let mut aead = Zeroizing::new([0u8; 32]);
        let mut audit = Zeroizing::new([0u8; 32]);
        let mut operator = Zeroizing::new([0u8; 32]);
        // 32-byte outputs are far below HKDF-SHA256's limit, so expand cannot fail.
        hk.expand(b"coldgate-wallet/v1/aead", &mut aead[..])
            .map_err(|_| VaultError::Kdf("hkdf".into()))?;
        hk.expand(b"coldgate-wallet/v1/audit", &mut audit[..])
            .map_err(|_| VaultError::Kdf("hkdf".into()))?;
        hk.expand(b"coldgate-wallet/v1/operator", &mut operator[..])
            .map_err(|_| VaultError::Kdf("hkdf".into()))?;
        Ok(Vault {
            aead,
            audit,
            operator,
        })
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.aead[..]))
    }

    /// `nonce || ciphertext || tag`, bound to `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let nonce: [u8; NONCE_LEN] = random()?;
        let ct = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| VaultError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if sealed.len() < NONCE_LEN {
            return Err(VaultError::Open);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Open)
    }

    /// Opens a sealed value that must be exactly `N` bytes.
    pub fn open_array<const N: usize>(
        &self,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<[u8; N]>, VaultError> {
        let plain = self.open(aad, sealed)?;
        let arr: [u8; N] = plain[..].try_into().map_err(|_| VaultError::Open)?;
        Ok(Zeroizing::new(arr))
    }

    /// What the store keeps of an operator's credential: a MAC under a passphrase-derived key
    /// over the name and the 32-byte random credential, so the store file alone neither holds
    /// the credential nor lets anyone test guesses against it.
    pub fn operator_mac(&self, name: &str, credential: &[u8; 32]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.operator[..])
            .expect("HMAC takes any key length");
        mac.update(&(name.len() as u64).to_be_bytes());
        mac.update(name.as_bytes());
        mac.update(credential);
        mac.finalize().into_bytes().into()
    }

    /// Compares an operator's credential with its stored MAC in constant time.
    pub fn operator_matches(&self, name: &str, credential: &[u8; 32], stored: &[u8]) -> bool {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.operator[..])
            .expect("HMAC takes any key length");
        mac.update(&(name.len() as u64).to_be_bytes());
        mac.update(name.as_bytes());
        mac.update(credential);
        mac.verify_slice(stored).is_ok()
    }

    /// The audit chain's link: a MAC over the previous link and this entry, so an edit, an
    /// insertion or a removal inside the chain shows, and nobody without the passphrase can
    /// rebuild the chain after one.
    pub fn audit_mac(&self, prev: &[u8; 32], seq: i64, at: i64, event: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.audit[..])
            .expect("HMAC takes any key length");
        mac.update(prev);
        mac.update(&seq.to_be_bytes());
        mac.update(&at.to_be_bytes());
        mac.update(event.as_bytes());
        mac.finalize().into_bytes().into()
    }
}
