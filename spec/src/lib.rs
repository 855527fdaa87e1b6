//! coldgate's wire format: the single source of truth.
//!
//! * [`field`]: the field table (offsets, widths, rules) that everything else reads;
//! * [`codec`]: typed frames, encoded with `bytes` and decoded with `nom`;
//! * [`auth`]: the end-to-end HMAC tag shared by a client and the wallet;
//! * [`checksum`]: the CRC trailer, by its catalog parameters;
//! * [`golden`]: the software model of a verifier lane that the logic must match byte for byte;
//! * [`config`]: ceilings and parameters of the verifier;
//! * [`eth`]: the network appliance's Ethernet layer (EtherType, MACs, FCS) and its golden model;
//! * [`replay`]: both golden lanes over whole streams with ticks placed by byte or clock
//!   (`coldgate-spec golden`);
//! * [`doc`] and [`vectors`]: FRAME.md and the shared test vectors, generated from the table.

pub mod auth;
pub mod checksum;
pub mod codec;
pub mod config;
pub mod doc;
pub mod eth;
pub mod field;
pub mod golden;
pub mod json;
pub mod message;
pub mod replay;
pub mod vectors;

pub use codec::{Body, DecodeError, EncodeError, Frame, Notice, Payment, Wire};
pub use config::LaneConfig;
pub use field::{FRAME_LEN, MAGIC, NO_FIELD, VERSION};
pub use golden::{Counters, Lane, LanePair, Verdict};
pub use message::{DropReason, LaneId, MsgType, RejectReason};
