//! The end-to-end authentication tag: HMAC-SHA256 over every byte before the tag.
//!
//! The secret is shared by one client and the wallet only. Converters and the verifier never
//! hold it, so they can drop a frame but cannot forge or alter one.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::field::TAG;

/// A client's shared secret.
pub type Secret = [u8; 32];
/// A frame's tag.
pub type Tag = [u8; 32];

fn mac(secret: &Secret, frame: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&frame[..TAG.start]);
    mac
}

/// The tag of a frame (only bytes before the tag are read; `frame` must reach the tag).
pub fn tag(secret: &Secret, frame: &[u8]) -> Tag {
    mac(secret, frame).finalize().into_bytes().into()
}

/// Checks a whole frame's tag in constant time. False for short input.
pub fn verify(secret: &Secret, frame: &[u8]) -> bool {
    if frame.len() < TAG.end {
        return false;
    }
    mac(secret, frame).verify_slice(&frame[TAG]).is_ok()
}
