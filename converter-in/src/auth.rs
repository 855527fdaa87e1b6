//! Optional HTTP Basic authentication, as bitcoind does it: a `.cookie` file written at start
//! (`__cookie__:PASSWORD`, readable by the service's user only) and/or `rpcauth` lines
//! (`USER:SALT$HASH`, HASH = hex HMAC-SHA256 keyed with SALT over the password), so that no
//! password is stored in the config.
//!
//! This only keeps strangers off the converter: the HMAC tag on every frame stays the real
//! authentication, and converter-in holds no secret of the client's.

use std::path::Path;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The user name of the cookie credential (bitcoind's).
pub const COOKIE_USER: &str = "__cookie__";

/// Why authentication could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("rpcauth {0:?}: expected USER:SALT$HEXHASH")]
    Malformed(String),
    #[error("writing the cookie file {path}: {source}")]
    Cookie {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no random numbers: {0}")]
    Random(String),
}

struct Credential {
    user: String,
    salt: String,
    hash: [u8; 32],
}

/// The accepted credentials.
#[derive(Default)]
pub struct Auth {
    credentials: Vec<Credential>,
}

fn hmac(salt: &str, password: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(salt.as_bytes()).expect("HMAC takes any key");
    mac.update(password.as_bytes());
    mac
}

fn random_hex(n: usize) -> Result<String, AuthError> {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(hex::encode(b))
}

/// A new `rpcauth` line for `user` and the password it accepts.
pub fn rpcauth_line(user: &str) -> Result<(String, String), AuthError> {
    let salt = random_hex(16)?;
    let password = random_hex(32)?;
    let hash = hex::encode(hmac(&salt, &password).finalize().into_bytes());
    Ok((format!("{user}:{salt}${hash}"), password))
}

impl Auth {
    /// True when no credential is configured (authentication off).
    pub fn is_empty(&self) -> bool {
        self.credentials.is_empty()
    }

    /// Adds an `rpcauth` line.
    pub fn add_rpcauth(&mut self, line: &str) -> Result<(), AuthError> {
        let bad = || AuthError::Malformed(line.to_string());
        let (user, rest) = line.split_once(':').ok_or_else(bad)?;
        let (salt, hash) = rest.split_once('$').ok_or_else(bad)?;
        let mut h = [0u8; 32];
        hex::decode_to_slice(hash, &mut h).map_err(|_| bad())?;
        if user.is_empty() || salt.is_empty() {
            return Err(bad());
        }
        self.credentials.push(Credential {
            user: user.to_string(),
            salt: salt.to_string(),
            hash: h,
        });
        Ok(())
    }

    /// Writes a fresh cookie file (mode 0600, replaced whole) and accepts its password.
    pub fn add_cookie(&mut self, path: &Path) -> Result<(), AuthError> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let password = random_hex(32)?;
        let fail = |source| AuthError::Cookie {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(fail)?;
        f.write_all(format!("{COOKIE_USER}:{password}").as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(fail)?;
        std::fs::rename(&tmp, path).map_err(fail)?;
        let salt = random_hex(16)?;
        let hash = hmac(&salt, &password).finalize().into_bytes().into();
        self.credentials.push(Credential {
            user: COOKIE_USER.to_string(),
            salt,
            hash,
        });
        Ok(())
    }

    /// Checks an `Authorization` header value (`Basic BASE64(USER:PASSWORD)`).
    pub fn check(&self, header: Option<&[u8]>) -> bool {
        let Some(h) = header else { return false };
        let Some(b64) = h.strip_prefix(b"Basic ") else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(b64.trim_ascii()) else {
            return false;
        };
        let Ok(text) = std::str::from_utf8(&decoded) else {
            return false;
        };
        let Some((user, password)) = text.split_once(':') else {
            return false;
        };
        // Every credential of the user is tried, each in constant time.
        self.credentials
            .iter()
            .filter(|c| c.user == user)
            .any(|c| hmac(&c.salt, password).verify_slice(&c.hash).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> Vec<u8> {
        let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {b}").into_bytes()
    }

    #[test]
    fn rpcauth_lines_accept_their_password_only() {
        let (line, password) = rpcauth_line("alice").expect("random");
        let mut auth = Auth::default();
        auth.add_rpcauth(&line).expect("valid line");
        assert!(auth.check(Some(&basic("alice", &password))));
        assert!(!auth.check(Some(&basic("alice", "wrong"))));
        assert!(!auth.check(Some(&basic("bob", &password))));
        assert!(!auth.check(None));
        assert!(!auth.check(Some(b"Bearer x")));
        assert!(!auth.check(Some(b"Basic !!!")));
    }

    #[test]
    fn bitcoind_rpcauth_vector() {
        // HMAC-SHA256(key "salt", "password"), the format share/rpcauth/rpcauth.py prints.
        let hash = hex::encode(hmac("salt", "password").finalize().into_bytes());
        let mut auth = Auth::default();
        auth.add_rpcauth(&format!("u:salt${hash}")).expect("valid");
        assert!(auth.check(Some(&basic("u", "password"))));
        assert!(auth.add_rpcauth("u:salt").is_err());
        assert!(auth.add_rpcauth("u:salt$zz").is_err());
        assert!(auth.add_rpcauth(":salt$00").is_err());
    }

    #[test]
    fn cookie_file_is_private_and_works() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("coldgate-cookie-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join(".cookie");
        let mut auth = Auth::default();
        auth.add_cookie(&path).expect("cookie");
        let text = std::fs::read_to_string(&path).expect("read");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (user, password) = text.split_once(':').expect("user:password");
        assert_eq!(user, COOKIE_USER);
        assert!(auth.check(Some(&basic(user, password))));
        assert!(!auth.check(Some(&basic(user, "0"))));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
