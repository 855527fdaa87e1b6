//! What a person sees of a key and types as a destination: bech32m P2TR addresses, `tr(KEY)`
//! descriptors, networks.
//!
//! A coldgate key is the *internal* key of a BIP-86 output: coins go to its tweaked output key,
//! which only the address (or the descriptor) shows. Funding `OP_1 <internal key>` would send
//! coins to a key nobody can sign for, so the internal key is never offered as a destination.
//!
//! A destination is taken from an address of the configured network and must be P2TR (witness
//! version 1, a 32-byte program that is a point): the frame carries that program, the output
//! key, unchanged.

use bitcoin::address::{Address, AddressType, NetworkUnchecked};
use bitcoin::key::{TweakedPublicKey, XOnlyPublicKey};
use bitcoin::Network;

use crate::secp;

/// Why text is not a destination this wallet pays.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("{text:?} is not a Bitcoin address: {problem}")]
    Syntax { text: String, problem: String },
    #[error("{text:?} is an address for another network; this client is on {network}")]
    WrongNetwork { text: String, network: String },
    #[error("{text:?} is a {kind} address; coldgate pays P2TR (bech32m, bc1p/tb1p/bcrt1p) addresses only")]
    NotTaproot { text: String, kind: String },
    #[error(
        "{text:?} has a witness program that is not a point on secp256k1: nobody could spend it"
    )]
    NotAPoint { text: String },
    #[error("network {0:?}: expected mainnet, testnet, signet or regtest")]
    Network(String),
}

/// A network by the names people use: `mainnet` (or `bitcoin`, `main`), `testnet` (`test`),
/// `testnet4`, `signet`, `regtest`.
pub fn parse_network(s: &str) -> Result<Network, AddressError> {
    Ok(match s {
        "mainnet" | "bitcoin" | "main" => Network::Bitcoin,
        "testnet" | "test" | "testnet3" => Network::Testnet,
        "testnet4" => Network::Testnet4,
        "signet" => Network::Signet,
        "regtest" => Network::Regtest,
        other => return Err(AddressError::Network(other.to_string())),
    })
}

/// The name [`parse_network`] reads back (`mainnet` for Bitcoin).
pub fn network_name(n: Network) -> &'static str {
    match n {
        Network::Bitcoin => "mainnet",
        Network::Testnet => "testnet",
        Network::Testnet4 => "testnet4",
        Network::Signet => "signet",
        Network::Regtest => "regtest",
    }
}

/// The key's own address: BIP-86 P2TR of the internal key, no script tree.
pub fn key_address(internal: &XOnlyPublicKey, network: Network) -> Address {
    Address::p2tr(secp(), *internal, None, network)
}

/// The address of a destination output key (as carried in a frame: already tweaked).
pub fn destination_address(output_key: &[u8; 32], network: Network) -> Option<Address> {
    let key = XOnlyPublicKey::from_slice(output_key).ok()?;
    Some(Address::p2tr_tweaked(
        TweakedPublicKey::dangerous_assume_tweaked(key),
        network,
    ))
}

/// The frame's destination (the P2TR output key) from an address of `network`.
pub fn parse_destination(text: &str, network: Network) -> Result<[u8; 32], AddressError> {
    let unchecked: Address<NetworkUnchecked> =
        text.parse()
            .map_err(|e: bitcoin::address::ParseError| AddressError::Syntax {
                text: text.to_string(),
                problem: e.to_string(),
            })?;
    let address = unchecked
        .require_network(network)
        .map_err(|_| AddressError::WrongNetwork {
            text: text.to_string(),
            network: network_name(network).to_string(),
        })?;
    match address.address_type() {
        Some(AddressType::P2tr) => {}
        other => {
            return Err(AddressError::NotTaproot {
                text: text.to_string(),
                kind: other.map_or("non-standard".to_string(), |k| k.to_string()),
            })
        }
    }
    let program = address
        .witness_program()
        .ok_or_else(|| AddressError::NotAPoint {
            text: text.to_string(),
        })?;
    let bytes: [u8; 32] =
        program
            .program()
            .as_bytes()
            .try_into()
            .map_err(|_| AddressError::NotAPoint {
                text: text.to_string(),
            })?;
    XOnlyPublicKey::from_slice(&bytes).map_err(|_| AddressError::NotAPoint {
        text: text.to_string(),
    })?;
    Ok(bytes)
}

/// The key's output descriptor with its checksum, e.g. `tr(<internal key hex>)#dh4fyxrd`,
/// ready for a watch-only wallet's `importdescriptors`. It names the internal key: `tr()`
/// applies the same BIP-86 tweak as [`key_address`].
pub fn descriptor(internal: &XOnlyPublicKey) -> String {
    with_checksum(&format!("tr({})", internal))
}

/// A descriptor with `#` and its BIP-380 checksum appended.
pub fn with_checksum(desc: &str) -> String {
    match checksum(desc) {
        Some(c) => format!("{desc}#{c}"),
        None => desc.to_string(),
    }
}

/// BIP-380's descriptor checksum: eight bech32 characters over the descriptor's characters
/// grouped by `INPUT_CHARSET`. `None` for a character outside that set. (The `bitcoin` crate
/// has no descriptors; this is the BIP's reference algorithm.)
pub fn checksum(desc: &str) -> Option<String> {
    const INPUT_CHARSET: &str = "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
    const CHECKSUM_CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    fn polymod(c: u64, val: u64) -> u64 {
        let c0 = c >> 35;
        let mut c = ((c & 0x7_ffff_ffff) << 5) ^ val;
        for (bit, gen) in [
            0xf5_dee5_1989,
            0xa9_fdca_3312,
            0x1b_ab10_e32d,
            0x37_06b1_677a,
            0x64_4d62_6ffd,
        ]
        .into_iter()
        .enumerate()
        {
            if c0 & (1 << bit) != 0 {
                c ^= gen;
            }
        }
        c
    }
    let (mut c, mut cls, mut clscount) = (1u64, 0u64, 0);
    for ch in desc.chars() {
        let pos = INPUT_CHARSET.find(ch)? as u64;
        c = polymod(c, pos & 31);
        cls = cls * 3 + (pos >> 5);
        clscount += 1;
        if clscount == 3 {
            c = polymod(c, cls);
            cls = 0;
            clscount = 0;
        }
    }
    if clscount > 0 {
        c = polymod(c, cls);
    }
    for _ in 0..8 {
        c = polymod(c, 0);
    }
    c ^= 1;
    Some(
        (0..8)
            .map(|j| CHECKSUM_CHARSET[((c >> (5 * (7 - j))) & 31) as usize] as char)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_the_published_vectors() {
        // BIP-380's example and BIP-386's first vector.
        assert_eq!(checksum("raw(deadbeef)").as_deref(), Some("89f8spxm"));
        assert_eq!(
            with_checksum("tr(a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd)"),
            "tr(a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd)#dh4fyxrd"
        );
        assert_eq!(
            checksum("addr(mkmZxiEcEd8ZqjQWVZuC6so5dFMKEFpN2j)").as_deref(),
            Some("02wpgw69")
        );
        assert_eq!(checksum("tr(\u{e9})"), None);
    }

    #[test]
    fn bip86_first_receive_address() {
        // BIP-86's test vector: m/86'/0'/0'/0/0.
        let internal: XOnlyPublicKey =
            "cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115"
                .parse()
                .unwrap();
        let a = key_address(&internal, Network::Bitcoin);
        assert_eq!(
            a.to_string(),
            "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"
        );
        assert_eq!(
            hex_of(&a.script_pubkey()),
            "5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c"
        );
        // The descriptor's script is the address's script.
        let dest = parse_destination(&a.to_string(), Network::Bitcoin).unwrap();
        assert_eq!(
            hex_of(&crate::key_script(&internal)),
            format!("5120{}", hex_str(&dest))
        );
    }

    #[test]
    fn destinations_must_be_taproot_of_this_network() {
        let mainnet = "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr";
        assert!(matches!(
            parse_destination(mainnet, Network::Regtest),
            Err(AddressError::WrongNetwork { .. })
        ));
        // BIP-173's P2WPKH example.
        let wpkh = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";
        let e = parse_destination(wpkh, Network::Bitcoin).unwrap_err();
        assert!(matches!(e, AddressError::NotTaproot { .. }), "{e}");
        assert!(e.to_string().contains("p2wpkh"), "{e}");
        assert!(matches!(
            parse_destination("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", Network::Bitcoin),
            Err(AddressError::NotTaproot { .. })
        ));
        assert!(matches!(
            parse_destination(&"ab".repeat(32), Network::Bitcoin),
            Err(AddressError::Syntax { .. })
        ));
        let regtest = destination_address(
            &parse_destination(mainnet, Network::Bitcoin).unwrap(),
            Network::Regtest,
        )
        .unwrap()
        .to_string();
        assert!(regtest.starts_with("bcrt1p"), "{regtest}");
        assert!(parse_destination(&regtest, Network::Regtest).is_ok());
        assert_eq!(parse_network("mainnet").unwrap(), Network::Bitcoin);
        assert!(parse_network("litecoin").is_err());
    }

    fn hex_str(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
    fn hex_of(s: &bitcoin::ScriptBuf) -> String {
        hex_str(s.as_bytes())
    }
}
