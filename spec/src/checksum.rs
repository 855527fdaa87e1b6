//! The frame trailer: CRC-32/ISO-HDLC, named by its catalog parameters.
//!
//! width=32 poly=0x04c11db7 init=0xffffffff refin=true refout=true xorout=0xffffffff
//! check=0xcbf43926 residue=0xdebb20e3

use crc::{Crc, CRC_32_ISO_HDLC};

/// The catalog entry, re-exported so every crate names the same algorithm.
pub const ALGORITHM: &crc::Algorithm<u32> = &CRC_32_ISO_HDLC;
/// The CRC engine.
pub const CRC32: Crc<u32> = Crc::<u32>::new(ALGORITHM);
/// CRC of the ASCII string "123456789".
pub const CHECK: u32 = 0xcbf4_3926;
/// Register value (before xorout) after a message followed by its own CRC, little-endian.
/// Logic compares its register with this constant instead of storing the CRC.
pub const RESIDUE: u32 = 0xdebb_20e3;
/// Initial register value.
pub const INIT: u32 = 0xffff_ffff;
/// The polynomial, reflected, as the byte-serial update uses it.
pub const POLY_REFLECTED: u32 = 0xedb8_8320;

/// CRC of `data`.
pub fn checksum(data: &[u8]) -> u32 {
    CRC32.checksum(data)
}

/// One byte through the raw (reflected, not xored) register: what logic does each clock.
pub fn update_register(mut reg: u32, byte: u8) -> u32 {
    reg ^= byte as u32;
    for _ in 0..8 {
        reg = if reg & 1 == 1 {
            (reg >> 1) ^ POLY_REFLECTED
        } else {
            reg >> 1
        };
    }
    reg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_values() {
        assert_eq!(checksum(b"123456789"), CHECK);
        assert_eq!(ALGORITHM.check, CHECK);
        assert_eq!(ALGORITHM.residue, RESIDUE);
        assert_eq!(ALGORITHM.init, INIT);
    }

    #[test]
    fn register_matches_crate_and_residue() {
        let data = b"123456789";
        let reg = data.iter().fold(INIT, |r, &b| update_register(r, b));
        assert_eq!(reg ^ ALGORITHM.xorout, CHECK);
        let mut framed = data.to_vec();
        framed.extend_from_slice(&CHECK.to_le_bytes());
        let reg = framed.iter().fold(INIT, |r, &b| update_register(r, b));
        assert_eq!(reg, RESIDUE);
    }
}
