//! Ethernet transmit at GMII level: whole frames from the lane pair, each sent with the
//! port's preamble, header and a fresh FCS, then the gap.

use std::collections::BTreeMap;

use coldgate_spec::eth::{self, EthPort};
use coldgate_spec::{checksum, FRAME_LEN};
use rust_hdl::prelude::*;

use super::SLOT_OFFSET_BITS;
use crate::crc::CrcByte;
use crate::lane::COUNTER_BITS;

/// Transmit store address: one slot bit and an offset (two slots).
pub const TX_ADDR_BITS: usize = 1 + SLOT_OFFSET_BITS;
/// Width of a position in the frame's schedule (preamble to the end of the gap).
pub const TPOS_BITS: usize = 8;
const _: () = assert!(eth::WIRE_BYTES <= 1 << TPOS_BITS);
/// Preamble, SFD and header: the prefix ROM's bytes.
const PREFIX_LEN: usize = eth::PREAMBLE_LEN + 1 + eth::HEADER_LEN;
const _: () = assert!(PREFIX_LEN <= 32);

/// One port's transmitter.
///
/// Frames from the lane pair (each exactly `FRAME_LEN` bytes, whole) are stored in one of two
/// slots before they are sent: a frame goes out on GMII without a pause once it starts, and
/// the pair's output may pause (its merge switches sources between frames). While one slot
/// is sent (`WIRE_BYTES` clocks) the other fills (at least `FRAME_LEN` clocks), so back to
/// back frames leave at line rate.
///
/// A frame is a schedule of `WIRE_BYTES` clocks counted by `tpos`: the prefix (preamble,
/// SFD, destination = peer, source = own MAC, EtherType) from a ROM, the payload from the
/// slot (the block RAM read two clocks ahead, its output registered), the FCS (complemented
/// CRC register, little endian; the CRC runs over header and payload), then `MIN_GAP` clocks
/// with `tx_en` low. After the gap the next waiting frame starts at once.
///
/// Sending is two stages, so that no path runs from the schedule's comparators through the
/// byte choice into the CRC: the first decodes `tpos` into the byte (prefix or payload) and
/// what the second stage does with it (`s_*` registers); the second runs the CRC over that
/// registered byte, or shifts the CRC register out as the FCS, and drives the GMII output
/// registers. The output is two clocks behind `tpos`.
#[derive(LogicBlock)]
pub struct EthTx {
    pub clock: Signal<In, Clock>,
    /// Synchronous, active high: both slots empty, idle, counter zero.
    pub reset: Signal<In, Bit>,
    /// Whole frames from the lane pair.
    pub in_data: Signal<In, Bits<8>>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    /// GMII transmit.
    pub tx_en: Signal<Out, Bit>,
    pub txd: Signal<Out, Bits<8>>,
    /// Frames sent, wrapping.
    pub count_sent: Signal<Out, Bits<COUNTER_BITS>>,

    prefix: ROM<Bits<8>, 5>,
    store: RAM<Bits<8>, TX_ADDR_BITS>,
    crc_byte: CrcByte,

    wslot: DFF<Bit>,
    woff: DFF<Bits<SLOT_OFFSET_BITS>>,
    rslot: DFF<Bit>,
    /// Stored frames not yet sent (0..=2).
    count: DFF<Bits<2>>,
    active: DFF<Bit>,
    tpos: DFF<Bits<TPOS_BITS>>,
    crc: DFF<Bits<32>>,
    /// The block RAM's output, registered: the payload byte of this clock (read two clocks
    /// ahead), so no path runs from the RAM through the byte mux into the CRC.
    rd_q: DFF<Bits<8>>,
    /// First send stage, for the clock after: the byte (prefix or payload), and whether it
    /// starts the CRC (preamble and SFD), goes through it (header and payload), or is an
    /// FCS byte (the CRC register's low byte, complemented, then shifted out).
    s_byte: DFF<Bits<8>>,
    s_en: DFF<Bit>,
    s_init: DFF<Bit>,
    s_crc: DFF<Bit>,
    s_fcs: DFF<Bit>,
    tx_en_r: DFF<Bit>,
    txd_r: DFF<Bits<8>>,
    c_sent: DFF<Bits<COUNTER_BITS>>,

    last_offset: Constant<Bits<SLOT_OFFSET_BITS>>,
    full: Constant<Bits<2>>,
    crc_init: Constant<Bits<32>>,
    /// Ones shifted into the CRC register as the FCS leaves.
    crc_fill: Constant<Bits<32>>,
    /// Schedule positions: CRC start (first header byte), payload start, FCS start and
    /// its bytes, end of the FCS, last clock of the gap.
    t_header: Constant<Bits<TPOS_BITS>>,
    t_payload: Constant<Bits<TPOS_BITS>>,
    t_read: Constant<Bits<TPOS_BITS>>,
    t_fcs: Constant<Bits<TPOS_BITS>>,
    t_fcs3: Constant<Bits<TPOS_BITS>>,
    t_end: Constant<Bits<TPOS_BITS>>,
    t_last: Constant<Bits<TPOS_BITS>>,

    push: Signal<Local, Bit>,
    commit: Signal<Local, Bit>,
    free: Signal<Local, Bit>,
    next_count: Signal<Local, Bits<2>>,
    roff: Signal<Local, Bits<TPOS_BITS>>,
}

impl EthTx {
    /// The transmitter of `port`, with its header from `coldgate_spec::eth`.
    pub fn new(port: EthPort) -> EthTx {
        let prefix: BTreeMap<Bits<5>, Bits<8>> = super::tx_prefix(port)
            .into_iter()
            .enumerate()
            .map(|(i, b)| (i.to_bits(), b.to_bits()))
            .collect();
        assert_eq!(prefix.len(), PREFIX_LEN);
        let t = |n: usize| Constant::new(n.to_bits());
        let fcs = PREFIX_LEN + FRAME_LEN;
        EthTx {
            clock: Default::default(),
            reset: Default::default(),
            in_data: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            tx_en: Default::default(),
            txd: Default::default(),
            count_sent: Default::default(),
            prefix: ROM::new(prefix),
            store: Default::default(),
            crc_byte: Default::default(),
            wslot: Default::default(),
            woff: Default::default(),
            rslot: Default::default(),
            count: Default::default(),
            active: Default::default(),
            tpos: Default::default(),
            crc: Default::default(),
            rd_q: Default::default(),
            s_byte: Default::default(),
            s_en: Default::default(),
            s_init: Default::default(),
            s_crc: Default::default(),
            s_fcs: Default::default(),
            tx_en_r: Default::default(),
            txd_r: Default::default(),
            c_sent: Default::default(),
            last_offset: Constant::new((FRAME_LEN - 1).to_bits()),
            full: Constant::new(2u32.to_bits()),
            crc_init: Constant::new(checksum::INIT.to_bits()),
            crc_fill: Constant::new(0xFF00_0000u32.to_bits()),
            t_header: t(eth::PREAMBLE_LEN + 1),
            t_payload: t(PREFIX_LEN),
            t_read: t(PREFIX_LEN - 2),
            t_fcs: t(fcs),
            t_fcs3: t(fcs + 3),
            t_end: t(fcs + eth::FCS_LEN),
            t_last: t(eth::WIRE_BYTES - 1),
            push: Default::default(),
            commit: Default::default(),
            free: Default::default(),
            next_count: Default::default(),
            roff: Default::default(),
        }
    }
}

impl Logic for EthTx {
    #[hdl_gen]
    fn update(&mut self) {
        self.tx_en.next = self.tx_en_r.q.val();
        self.txd.next = self.txd_r.q.val();
        self.count_sent.next = self.c_sent.q.val();
        self.in_ready.next = self.count.q.val() != self.full.val();
        dff_setup!(
            self, clock, wslot, woff, rslot, count, active, tpos, crc, rd_q, s_byte, s_en, s_init,
            s_crc, s_fcs, tx_en_r, txd_r, c_sent
        );
        self.rd_q.d.next = self.store.read_data.val();
        self.store.read_clock.next = self.clock.val();
        self.store.write_clock.next = self.clock.val();

        // Fill: one slot per frame, committed at its last byte.
        self.push.next = self.in_valid.val() & (self.count.q.val() != self.full.val());
        self.commit.next = self.push.val() & (self.woff.q.val() == self.last_offset.val());
        self.store.write_address.next = (bit_cast::<TX_ADDR_BITS, 1>(self.wslot.q.val().into())
            << 8)
            | bit_cast::<TX_ADDR_BITS, SLOT_OFFSET_BITS>(self.woff.q.val());
        self.store.write_data.next = self.in_data.val();
        self.store.write_enable.next = self.push.val();
        if self.push.val() {
            self.woff.d.next = self.woff.q.val() + 1;
        }
        if self.commit.val() {
            self.woff.d.next = 0.into();
            self.wslot.d.next = !self.wslot.q.val();
        }

        // Send: the byte at `tpos`.
        self.roff.next = self.tpos.q.val() - self.t_read.val();
        self.store.read_address.next = (bit_cast::<TX_ADDR_BITS, 1>(self.rslot.q.val().into())
            << 8)
            | bit_cast::<TX_ADDR_BITS, SLOT_OFFSET_BITS>(
                self.roff.val().get_bits::<SLOT_OFFSET_BITS>(0),
            );
        self.prefix.address.next = self.tpos.q.val().get_bits::<5>(0);
        // First stage: what the byte at `tpos` is.
        self.s_byte.d.next = self.rd_q.q.val();
        if self.tpos.q.val() < self.t_payload.val() {
            self.s_byte.d.next = self.prefix.data.val();
        }
        self.s_en.d.next = false;
        self.s_init.d.next = false;
        self.s_crc.d.next = false;
        self.s_fcs.d.next = false;
        self.free.next = false;
        if self.active.q.val() {
            self.s_en.d.next = self.tpos.q.val() < self.t_end.val();
            self.s_init.d.next = self.tpos.q.val() < self.t_header.val();
            self.s_crc.d.next =
                (self.tpos.q.val() >= self.t_header.val()) & (self.tpos.q.val() < self.t_fcs.val());
            self.s_fcs.d.next =
                (self.tpos.q.val() >= self.t_fcs.val()) & (self.tpos.q.val() < self.t_end.val());
            self.tpos.d.next = self.tpos.q.val() + 1;
            if self.tpos.q.val() == self.t_fcs3.val() {
                self.free.next = true;
                self.rslot.d.next = !self.rslot.q.val();
                self.c_sent.d.next = self.c_sent.q.val() + 1;
            }
        }
        // Second stage: the CRC over the registered byte, or the FCS out of the CRC register
        // (complemented, least significant byte first; ones refill it).
        self.crc_byte.state.next = self.crc.q.val();
        self.crc_byte.data.next = self.s_byte.q.val();
        self.tx_en_r.d.next = self.s_en.q.val();
        self.txd_r.d.next = self.s_byte.q.val();
        if self.s_init.q.val() {
            self.crc.d.next = self.crc_init.val();
        }
        if self.s_crc.q.val() {
            self.crc.d.next = self.crc_byte.out.val();
        }
        if self.s_fcs.q.val() {
            self.txd_r.d.next = !self.crc.q.val().get_bits::<8>(0);
            self.crc.d.next = (self.crc.q.val() >> 8) | self.crc_fill.val();
        }
        self.next_count.next = self.count.q.val();
        if self.commit.val() & !self.free.val() {
            self.next_count.next = self.count.q.val() + 1;
        }
        if !self.commit.val() & self.free.val() {
            self.next_count.next = self.count.q.val() - 1;
        }
        self.count.d.next = self.next_count.val();
        // After the gap, the next waiting frame starts at once; an idle port starts one as
        // soon as it is stored (its gap has passed already).
        if self.active.q.val() & (self.tpos.q.val() == self.t_last.val()) {
            self.tpos.d.next = 0.into();
            self.active.d.next = self.next_count.val().any();
        }
        if !self.active.q.val() & self.count.q.val().any() {
            self.tpos.d.next = 0.into();
            self.active.d.next = true;
        }

        if self.reset.val() {
            self.wslot.d.next = false;
            self.woff.d.next = 0.into();
            self.rslot.d.next = false;
            self.count.d.next = 0.into();
            self.active.d.next = false;
            self.tpos.d.next = 0.into();
            self.s_en.d.next = false;
            self.s_init.d.next = false;
            self.s_crc.d.next = false;
            self.s_fcs.d.next = false;
            self.tx_en_r.d.next = false;
            self.c_sent.d.next = 0.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eth_tx_checks_and_validates() {
        for port in EthPort::BOTH {
            let mut uut = EthTx::new(port);
            uut.clock.connect();
            uut.reset.connect();
            uut.in_data.connect();
            uut.in_valid.connect();
            uut.connect_all();
            check_all(&uut).unwrap();
            let name = format!("coldgate_eth_tx_{}_{}", port.name(), std::process::id());
            let r = yosys_validate(&name, &generate_verilog(&uut));
            let _ = std::fs::remove_dir_all(std::env::temp_dir().join(&name));
            r.unwrap();
        }
    }
}
