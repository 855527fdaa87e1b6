//! Ethernet receive at GMII level: checks a burst, holds its payload until the FCS has passed,
//! then streams it to the lane.

use std::collections::BTreeMap;

use coldgate_spec::eth::{self, EthDrop, EthPort, RX_SLOTS};
use coldgate_spec::{checksum, FRAME_LEN};
use rust_hdl::prelude::*;

use super::{LEN_BITS, SLOT_OFFSET_BITS};
use crate::crc::CrcByte;
use crate::lane::COUNTER_BITS;

/// Slot-index bits of the receive store.
pub const RX_SLOT_BITS: usize = RX_SLOTS.trailing_zeros() as usize;
const _: () = assert!(RX_SLOTS.is_power_of_two() && RX_SLOTS >= 2);
/// Receive store address: a slot index and an offset.
pub const RX_ADDR_BITS: usize = RX_SLOT_BITS + SLOT_OFFSET_BITS;
/// Bits of the slots' first payload bytes (`EthRx::first`).
const FIRST_BITS: usize = 8 * RX_SLOTS;
/// Width of the waiting-slot count (0..=RX_SLOTS).
pub const RX_COUNT_BITS: usize = RX_SLOT_BITS + 1;
// The one-hot counter enable has a bit per counter.
const _: () = assert!(EthDrop::ALL.len() < 16);
// `n_pay` and `n_first` are the comparisons for `n + 1`: the header is not empty, and a
// saturated count is past the payload.
const _: () = assert!(eth::HEADER_LEN >= 1 && eth::field::PAYLOAD.end <= eth::MAX_FRAME + 1);

/// Receiver states, as the values of `state` (constants rather than a `LogicState` enum: the
/// enum's localparams land unused in the register's module and fail the lint).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum RxState {
    /// Between bursts.
    Idle = 0,
    /// In the preamble, before the SFD.
    Preamble = 1,
    /// After the SFD: the MAC frame.
    Data = 2,
    /// The preamble was wrong: wait for the burst to end.
    Bad = 3,
}

/// Two bytes between the receive store and the lane: the lane's input comparators then start
/// from registers rather than from the block RAM's output, and `room` (a register) is all
/// the reader sees of the lane's ready. Moves one byte per clock while the lane takes them.
#[derive(LogicBlock, Default)]
pub struct ByteSkid {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Push `in_data` (only while `room`).
    pub push: Signal<In, Bit>,
    pub in_data: Signal<In, Bits<8>>,
    pub room: Signal<Out, Bit>,
    pub out_data: Signal<Out, Bits<8>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    q0_valid: DFF<Bit>,
    q0_data: DFF<Bits<8>>,
    q1_valid: DFF<Bit>,
    q1_data: DFF<Bits<8>>,
}

impl Logic for ByteSkid {
    #[hdl_gen]
    fn update(&mut self) {
        self.out_data.next = self.q0_data.q.val();
        self.out_valid.next = self.q0_valid.q.val();
        self.room.next = !self.q1_valid.q.val();
        dff_setup!(self, clock, q0_valid, q0_data, q1_valid, q1_data);
        if self.q0_valid.q.val() & self.out_ready.val() {
            self.q0_valid.d.next = self.q1_valid.q.val();
            self.q0_data.d.next = self.q1_data.q.val();
            self.q1_valid.d.next = false;
            if self.push.val() {
                if self.q1_valid.q.val() {
                    self.q1_valid.d.next = true;
                    self.q1_data.d.next = self.in_data.val();
                } else {
                    self.q0_valid.d.next = true;
                    self.q0_data.d.next = self.in_data.val();
                }
            }
        } else if self.push.val() {
            if self.q0_valid.q.val() {
                self.q1_valid.d.next = true;
                self.q1_data.d.next = self.in_data.val();
            } else {
                self.q0_valid.d.next = true;
                self.q0_data.d.next = self.in_data.val();
            }
        }
        if self.reset.val() {
            self.q0_valid.d.next = false;
            self.q1_valid.d.next = false;
        }
    }
}

/// One port's receiver.
///
/// The GMII pins are registered first. A burst's MAC frame is checked as it arrives: the
/// header against a ROM of the expected bytes (one mismatch flag per field), the byte count
/// (saturating above the largest frame), the CRC register. The payload bytes are written
/// into the free receive slot at their offset. On the clock after the burst ends, the
/// verdict follows `coldgate_spec::eth::golden` (runt, giant, FCS, destination, source,
/// EtherType, length, in that order): its tests are registered on that clock (`v_*`) and
/// the verdict taken from them on the next; an accepted payload commits its slot, anything
/// else leaves the slot to be overwritten. Only committed slots are read out, so the lane never
/// sees a byte of a frame whose FCS is bad.
///
/// Whether a slot is free is decided at the SFD: a frame that starts while all
/// [`RX_SLOTS`] slots wait for the lane writes nothing and, if it would have been accepted,
/// is counted as [`EthDrop::Overrun`].
///
/// The reader streams committed slots one byte per clock into a two-byte queue
/// ([`ByteSkid`]) whenever it has room; the lane reads the queue's registers. The byte at the
/// read position is a register, `rd_q`, loaded on each push from the block RAM, whose
/// address is the *next* read position plus one (the ECP5 flow moves `rd_q` into the block
/// RAM's output register); a slot's first byte, which that leaves out, is kept in `first`
/// as it is written.
#[derive(LogicBlock)]
pub struct EthRx {
    pub clock: Signal<In, Clock>,
    /// Synchronous, active high: idle, no slot waiting, counters zero.
    pub reset: Signal<In, Bit>,
    /// GMII receive: a byte on `rxd` on each clock with `rx_dv` high.
    pub rx_dv: Signal<In, Bit>,
    pub rxd: Signal<In, Bits<8>>,
    /// Accepted payloads, back to back, towards the lane.
    pub out_data: Signal<Out, Bits<8>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    /// Counters, wrapping, in `coldgate_spec::eth::COUNTER_NAMES` order (without `sent`).
    pub count_accepted: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_bad_preamble: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_runt: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_giant: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_bad_fcs: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_not_for_us: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_foreign_source: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_foreign_ethertype: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_bad_length: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_overrun: Signal<Out, Bits<COUNTER_BITS>>,

    header: ROM<Bits<8>, 4>,
    out_q: ByteSkid,
    store: RAM<Bits<8>, RX_ADDR_BITS>,
    crc_byte: CrcByte,

    /// The GMII pins, registered. Not reset: the receiver leaves reset a clock after the
    /// core does (`ColdgateEth`'s reset register), and the byte the PHY sends on that clock
    /// (the first the golden model sees) is then still here for it.
    dv_r: DFF<Bit>,
    d_r: DFF<Bits<8>>,
    state: DFF<Bits<2>>,
    /// MAC frame bytes so far, saturating at `MAX_FRAME + 1`.
    n: DFF<Bits<LEN_BITS>>,
    /// The byte at `n` is a payload byte / the payload's first: `n`'s comparisons made a
    /// clock ahead, as `n` is loaded, so the store's write enable comes from registers
    /// rather than through carry chains.
    n_pay: DFF<Bit>,
    n_first: DFF<Bit>,
    crc: DFF<Bits<32>>,
    dst_bad: DFF<Bit>,
    src_bad: DFF<Bit>,
    type_bad: DFF<Bit>,
    /// The header byte of the last clock did not match (and was in the destination, in the
    /// source), set a clock before the field's flag.
    h_miss: DFF<Bit>,
    h_dst: DFF<Bit>,
    h_src: DFF<Bit>,
    /// A slot was free when this frame's SFD arrived.
    room: DFF<Bit>,
    wslot: DFF<Bits<RX_SLOT_BITS>>,
    rslot: DFF<Bits<RX_SLOT_BITS>>,
    /// Committed slots not yet read out.
    count: DFF<Bits<RX_COUNT_BITS>>,
    roff: DFF<Bits<SLOT_OFFSET_BITS>>,
    r_active: DFF<Bit>,
    /// The store's output, registered on each push (no reset, no other input): the byte at
    /// `{rslot, roff}` unless `r_first`.
    rd_q: DFF<Bits<8>>,
    /// The read position is a slot's first byte: it comes from `first`.
    r_first: DFF<Bit>,
    /// The read position is a slot's last byte.
    r_last: DFF<Bit>,
    /// Each slot's first payload byte, slot 0 in the low bits.
    first: DFF<Bits<FIRST_BITS>>,
    /// The verdict's tests, registered on the clock after a burst (`v_end`); the verdict
    /// follows on the next.
    v_end: DFF<Bit>,
    v_runt: DFF<Bit>,
    v_giant: DFF<Bit>,
    v_fcs_bad: DFF<Bit>,
    v_dst_bad: DFF<Bit>,
    v_src_bad: DFF<Bit>,
    v_type_bad: DFF<Bit>,
    v_len_bad: DFF<Bit>,
    v_room: DFF<Bit>,
    /// The counter that counts next clock, one-hot by counter index (0 = accepted), so each
    /// counter's enable is a register.
    inc: DFF<Bits<16>>,
    c_accepted: DFF<Bits<COUNTER_BITS>>,
    c_bad_preamble: DFF<Bits<COUNTER_BITS>>,
    c_runt: DFF<Bits<COUNTER_BITS>>,
    c_giant: DFF<Bits<COUNTER_BITS>>,
    c_bad_fcs: DFF<Bits<COUNTER_BITS>>,
    c_not_for_us: DFF<Bits<COUNTER_BITS>>,
    c_foreign_source: DFF<Bits<COUNTER_BITS>>,
    c_foreign_ethertype: DFF<Bits<COUNTER_BITS>>,
    c_bad_length: DFF<Bits<COUNTER_BITS>>,
    c_overrun: DFF<Bits<COUNTER_BITS>>,

    // Parameters, all from coldgate-spec.
    st_idle: Constant<Bits<2>>,
    st_preamble: Constant<Bits<2>>,
    st_data: Constant<Bits<2>>,
    st_bad: Constant<Bits<2>>,
    header_len8: Constant<Bits<SLOT_OFFSET_BITS>>,
    preamble: Constant<Bits<8>>,
    sfd: Constant<Bits<8>>,
    min_frame: Constant<Bits<LEN_BITS>>,
    max_frame: Constant<Bits<LEN_BITS>>,
    saturated: Constant<Bits<LEN_BITS>>,
    frame_len: Constant<Bits<LEN_BITS>>,
    dst_end: Constant<Bits<LEN_BITS>>,
    src_end: Constant<Bits<LEN_BITS>>,
    header_len: Constant<Bits<LEN_BITS>>,
    /// `HEADER_LEN - 1` and `PAYLOAD.end - 1`: `n` one byte before (see `n_pay`).
    header_last: Constant<Bits<LEN_BITS>>,
    payload_last: Constant<Bits<LEN_BITS>>,
    penult: Constant<Bits<SLOT_OFFSET_BITS>>,
    slots: Constant<Bits<RX_COUNT_BITS>>,
    crc_init: Constant<Bits<32>>,
    residue: Constant<Bits<32>>,
    byte_ones: Constant<Bits<8>>,
    /// One-hot counter bits.
    i_accepted: Constant<Bits<16>>,
    i_bad_preamble: Constant<Bits<16>>,
    i_runt: Constant<Bits<16>>,
    i_giant: Constant<Bits<16>>,
    i_bad_fcs: Constant<Bits<16>>,
    i_not_for_us: Constant<Bits<16>>,
    i_foreign_source: Constant<Bits<16>>,
    i_foreign_ethertype: Constant<Bits<16>>,
    i_bad_length: Constant<Bits<16>>,
    i_overrun: Constant<Bits<16>>,

    byte_in: Signal<Local, Bit>,
    burst_end: Signal<Local, Bit>,
    /// This clock's byte is the SFD.
    sfd_now: Signal<Local, Bit>,
    commit: Signal<Local, Bit>,
    pop: Signal<Local, Bit>,
    free: Signal<Local, Bit>,
    next_roff: Signal<Local, Bits<SLOT_OFFSET_BITS>>,
    next_rslot: Signal<Local, Bits<RX_SLOT_BITS>>,
    next_count: Signal<Local, Bits<RX_COUNT_BITS>>,
    woff: Signal<Local, Bits<SLOT_OFFSET_BITS>>,
    /// The store's read offset: the next read position's plus one.
    read_off: Signal<Local, Bits<SLOT_OFFSET_BITS>>,
    /// `wslot` and `rslot` times eight, as shift amounts into `first`.
    wshift: Signal<Local, Bits<FIRST_BITS>>,
    rshift: Signal<Local, Bits<FIRST_BITS>>,
    first_byte: Signal<Local, Bits<8>>,
}

fn one_hot(i: usize) -> Constant<Bits<16>> {
    Constant::new((1u32 << i).to_bits())
}

impl EthRx {
    /// The receiver of `port`, expecting its MACs from `coldgate_spec::eth`.
    pub fn new(port: EthPort) -> EthRx {
        let header: BTreeMap<Bits<4>, Bits<8>> = super::rx_header(port)
            .into_iter()
            .enumerate()
            .map(|(i, b)| (i.to_bits(), b.to_bits()))
            .collect();
        let len = |n: usize| Constant::new(n.to_bits());
        EthRx {
            clock: Default::default(),
            reset: Default::default(),
            rx_dv: Default::default(),
            rxd: Default::default(),
            out_data: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            count_accepted: Default::default(),
            count_bad_preamble: Default::default(),
            count_runt: Default::default(),
            count_giant: Default::default(),
            count_bad_fcs: Default::default(),
            count_not_for_us: Default::default(),
            count_foreign_source: Default::default(),
            count_foreign_ethertype: Default::default(),
            count_bad_length: Default::default(),
            count_overrun: Default::default(),
            header: ROM::new(header),
            out_q: Default::default(),
            store: Default::default(),
            crc_byte: Default::default(),
            dv_r: Default::default(),
            d_r: Default::default(),
            state: Default::default(),
            n: Default::default(),
            n_pay: Default::default(),
            n_first: Default::default(),
            crc: Default::default(),
            dst_bad: Default::default(),
            src_bad: Default::default(),
            type_bad: Default::default(),
            h_miss: Default::default(),
            h_dst: Default::default(),
            h_src: Default::default(),
            room: Default::default(),
            wslot: Default::default(),
            rslot: Default::default(),
            count: Default::default(),
            roff: Default::default(),
            r_active: Default::default(),
            rd_q: Default::default(),
            r_first: Default::default(),
            r_last: Default::default(),
            first: Default::default(),
            v_end: Default::default(),
            v_runt: Default::default(),
            v_giant: Default::default(),
            v_fcs_bad: Default::default(),
            v_dst_bad: Default::default(),
            v_src_bad: Default::default(),
            v_type_bad: Default::default(),
            v_len_bad: Default::default(),
            v_room: Default::default(),
            inc: Default::default(),
            c_accepted: Default::default(),
            c_bad_preamble: Default::default(),
            c_runt: Default::default(),
            c_giant: Default::default(),
            c_bad_fcs: Default::default(),
            c_not_for_us: Default::default(),
            c_foreign_source: Default::default(),
            c_foreign_ethertype: Default::default(),
            c_bad_length: Default::default(),
            c_overrun: Default::default(),
            st_idle: Constant::new((RxState::Idle as u32).to_bits()),
            st_preamble: Constant::new((RxState::Preamble as u32).to_bits()),
            st_data: Constant::new((RxState::Data as u32).to_bits()),
            st_bad: Constant::new((RxState::Bad as u32).to_bits()),
            header_len8: Constant::new(eth::HEADER_LEN.to_bits()),
            preamble: Constant::new(eth::PREAMBLE_BYTE.to_bits()),
            sfd: Constant::new(eth::SFD.to_bits()),
            min_frame: len(eth::MIN_FRAME),
            max_frame: len(eth::MAX_FRAME),
            saturated: len(eth::MAX_FRAME + 1),
            frame_len: len(eth::MAC_FRAME_LEN),
            dst_end: len(eth::field::DST.end),
            src_end: len(eth::field::SRC.end),
            header_len: len(eth::HEADER_LEN),
            header_last: len(eth::HEADER_LEN - 1),
            payload_last: len(eth::field::PAYLOAD.end - 1),
            penult: Constant::new((FRAME_LEN - 2).to_bits()),
            slots: Constant::new(RX_SLOTS.to_bits()),
            crc_init: Constant::new(checksum::INIT.to_bits()),
            residue: Constant::new(checksum::RESIDUE.to_bits()),
            byte_ones: Constant::new(0xFFu32.to_bits()),
            i_accepted: one_hot(0),
            i_bad_preamble: one_hot(EthDrop::BadPreamble as usize),
            i_runt: one_hot(EthDrop::Runt as usize),
            i_giant: one_hot(EthDrop::Giant as usize),
            i_bad_fcs: one_hot(EthDrop::BadFcs as usize),
            i_not_for_us: one_hot(EthDrop::NotForUs as usize),
            i_foreign_source: one_hot(EthDrop::ForeignSource as usize),
            i_foreign_ethertype: one_hot(EthDrop::ForeignEthertype as usize),
            i_bad_length: one_hot(EthDrop::BadLength as usize),
            i_overrun: one_hot(EthDrop::Overrun as usize),
            byte_in: Default::default(),
            burst_end: Default::default(),
            sfd_now: Default::default(),
            commit: Default::default(),
            pop: Default::default(),
            free: Default::default(),
            next_roff: Default::default(),
            next_rslot: Default::default(),
            next_count: Default::default(),
            woff: Default::default(),
            read_off: Default::default(),
            wshift: Default::default(),
            rshift: Default::default(),
            first_byte: Default::default(),
        }
    }
}

impl Logic for EthRx {
    #[hdl_gen]
    fn update(&mut self) {
        // Outputs from registers first (see `fifo.rs` on Verilator's block splitting).
        self.out_valid.next = self.out_q.out_valid.val();
        self.out_data.next = self.out_q.out_data.val();
        dff_setup!(
            self,
            clock,
            dv_r,
            d_r,
            state,
            n,
            n_pay,
            n_first,
            crc,
            dst_bad,
            src_bad,
            type_bad,
            h_miss,
            h_dst,
            h_src,
            room,
            wslot,
            rslot,
            count,
            roff,
            r_active,
            rd_q,
            r_first,
            r_last,
            first,
            v_end,
            v_runt,
            v_giant,
            v_fcs_bad,
            v_dst_bad,
            v_src_bad,
            v_type_bad,
            v_len_bad,
            v_room,
            inc,
            c_accepted,
            c_bad_preamble,
            c_runt,
            c_giant,
            c_bad_fcs,
            c_not_for_us,
            c_foreign_source,
            c_foreign_ethertype,
            c_bad_length,
            c_overrun
        );
        self.store.read_clock.next = self.clock.val();
        self.store.write_clock.next = self.clock.val();
        self.dv_r.d.next = self.rx_dv.val();
        self.d_r.d.next = self.rxd.val();
        self.wshift.next = bit_cast::<FIRST_BITS, RX_SLOT_BITS>(self.wslot.q.val()) << 3;
        self.rshift.next = bit_cast::<FIRST_BITS, RX_SLOT_BITS>(self.rslot.q.val()) << 3;

        // Receive: the registered GMII byte.
        self.byte_in.next = self.dv_r.q.val();
        self.burst_end.next = false;
        self.sfd_now.next = false;
        self.commit.next = false;
        self.inc.d.next = 0.into();
        self.h_miss.d.next = false;
        self.crc_byte.state.next = self.crc.q.val();
        self.crc_byte.data.next = self.d_r.q.val();
        self.header.address.next = self.n.q.val().get_bits::<4>(0);
        // The payload offset, in slot-offset width (the low bits of `n - HEADER_LEN`).
        self.woff.next = self.n.q.val().get_bits::<SLOT_OFFSET_BITS>(0) - self.header_len8.val();
        // `<< 8` is SLOT_OFFSET_BITS (asserted in `eth/mod.rs`).
        self.store.write_address.next =
            (bit_cast::<RX_ADDR_BITS, RX_SLOT_BITS>(self.wslot.q.val()) << 8)
                | bit_cast::<RX_ADDR_BITS, SLOT_OFFSET_BITS>(self.woff.val());
        self.store.write_data.next = self.d_r.q.val();
        self.store.write_enable.next = false;
        if self.state.q.val() == self.st_idle.val() {
            if self.byte_in.val() {
                self.state.d.next = self.st_bad.val();
                if self.d_r.q.val() == self.preamble.val() {
                    self.state.d.next = self.st_preamble.val();
                }
                if self.d_r.q.val() == self.sfd.val() {
                    self.state.d.next = self.st_data.val();
                    self.sfd_now.next = true;
                }
            }
        } else if self.state.q.val() == self.st_preamble.val() {
            if self.byte_in.val() {
                if self.d_r.q.val() == self.sfd.val() {
                    self.state.d.next = self.st_data.val();
                    self.sfd_now.next = true;
                } else if self.d_r.q.val() != self.preamble.val() {
                    self.state.d.next = self.st_bad.val();
                }
            } else {
                self.state.d.next = self.st_idle.val();
                self.inc.d.next = self.i_bad_preamble.val();
            }
        } else if self.state.q.val() == self.st_bad.val() {
            if !self.byte_in.val() {
                self.state.d.next = self.st_idle.val();
                self.inc.d.next = self.i_bad_preamble.val();
            }
        } else if self.byte_in.val() {
            self.crc.d.next = self.crc_byte.out.val();
            if self.n.q.val() != self.saturated.val() {
                self.n.d.next = self.n.q.val() + 1;
            }
            // A header byte's comparison lands in its field's flag a clock later (`h_*`).
            self.h_miss.d.next = (self.n.q.val() < self.header_len.val())
                & (self.d_r.q.val() != self.header.data.val());
            self.h_dst.d.next = self.n.q.val() < self.dst_end.val();
            self.h_src.d.next = self.n.q.val() < self.src_end.val();
            // Whether the next byte (at `n + 1`) is a payload byte, the payload's first.
            // (Saturated, `n` stays past the payload, where both are false already.)
            self.n_pay.d.next = (self.n.q.val() >= self.header_last.val())
                & (self.n.q.val() < self.payload_last.val());
            self.n_first.d.next = self.n.q.val() == self.header_last.val();
            // Payload bytes only, and only into a free slot: a longer frame never
            // writes past its slot.
            self.store.write_enable.next = self.room.q.val() & self.n_pay.q.val();
            // A slot's first byte is also kept beside the store (see `first`).
            if self.room.q.val() & self.n_first.q.val() {
                self.first.d.next = (self.first.q.val()
                    & !(bit_cast::<FIRST_BITS, 8>(self.byte_ones.val()) << self.wshift.val()))
                    | (bit_cast::<FIRST_BITS, 8>(self.d_r.q.val()) << self.wshift.val());
            }
        } else {
            // Data, and the burst has ended.
            self.burst_end.next = true;
            self.state.d.next = self.st_idle.val();
        }
        // The header byte of the clock before: a mismatch marks its field. (Its frame's
        // verdict is at least a clock later: a burst that ends inside the header is a runt,
        // which the verdict tests first.)
        if self.h_miss.q.val() {
            if self.h_dst.q.val() {
                self.dst_bad.d.next = true;
            } else if self.h_src.q.val() {
                self.src_bad.d.next = true;
            } else {
                self.type_bad.d.next = true;
            }
        }
        // A new MAC frame: clear the per-frame state and claim a slot if there is one.
        if self.sfd_now.val() {
            self.n.d.next = 0.into();
            self.n_pay.d.next = false;
            self.n_first.d.next = false;
            self.crc.d.next = self.crc_init.val();
            self.dst_bad.d.next = false;
            self.src_bad.d.next = false;
            self.type_bad.d.next = false;
            self.room.d.next = self.count.q.val() != self.slots.val();
        }
        // The verdict's tests, on the clock after the burst; the verdict, in
        // `coldgate_spec::eth::golden`'s order, on the next (the next frame's SFD is at
        // least a preamble away).
        self.v_end.d.next = self.burst_end.val();
        self.v_runt.d.next = self.n.q.val() < self.min_frame.val();
        self.v_giant.d.next = self.n.q.val() > self.max_frame.val();
        self.v_fcs_bad.d.next = self.crc.q.val() != self.residue.val();
        self.v_dst_bad.d.next = self.dst_bad.q.val();
        self.v_src_bad.d.next = self.src_bad.q.val();
        self.v_type_bad.d.next = self.type_bad.q.val();
        self.v_len_bad.d.next = self.n.q.val() != self.frame_len.val();
        self.v_room.d.next = self.room.q.val();
        if self.v_end.q.val() {
            if self.v_runt.q.val() {
                self.inc.d.next = self.i_runt.val();
            } else if self.v_giant.q.val() {
                self.inc.d.next = self.i_giant.val();
            } else if self.v_fcs_bad.q.val() {
                self.inc.d.next = self.i_bad_fcs.val();
            } else if self.v_dst_bad.q.val() {
                self.inc.d.next = self.i_not_for_us.val();
            } else if self.v_src_bad.q.val() {
                self.inc.d.next = self.i_foreign_source.val();
            } else if self.v_type_bad.q.val() {
                self.inc.d.next = self.i_foreign_ethertype.val();
            } else if self.v_len_bad.q.val() {
                self.inc.d.next = self.i_bad_length.val();
            } else if !self.v_room.q.val() {
                self.inc.d.next = self.i_overrun.val();
            } else {
                self.inc.d.next = self.i_accepted.val();
                self.commit.next = true;
            }
        }

        // Reader: committed slots, one byte per clock.
        self.out_q.clock.next = self.clock.val();
        self.out_q.reset.next = self.reset.val();
        self.out_q.out_ready.next = self.out_ready.val();
        self.pop.next = self.r_active.q.val() & self.out_q.room.val();
        self.out_q.push.next = self.pop.val();
        self.first_byte.next = bit_cast::<8, FIRST_BITS>(self.first.q.val() >> self.rshift.val());
        self.out_q.in_data.next = self.rd_q.q.val();
        if self.r_first.q.val() {
            self.out_q.in_data.next = self.first_byte.val();
        }
        self.free.next = self.pop.val() & self.r_last.q.val();
        self.next_roff.next = self.roff.q.val();
        self.next_rslot.next = self.rslot.q.val();
        self.read_off.next = self.roff.q.val() + 1;
        if self.pop.val() {
            self.rd_q.d.next = self.store.read_data.val();
            self.next_roff.next = self.roff.q.val() + 1;
            self.read_off.next = self.roff.q.val() + 2;
            self.r_last.d.next = !self.r_last.q.val() & (self.roff.q.val() == self.penult.val());
        }
        if self.free.val() {
            self.next_roff.next = 0.into();
            self.next_rslot.next = self.rslot.q.val() + 1;
            self.read_off.next = 1.into();
        }
        self.roff.d.next = self.next_roff.val();
        self.rslot.d.next = self.next_rslot.val();
        // (`next_roff == 0`, from registers: after a slot's last byte, or still at offset 0.)
        self.r_first.d.next = self.free.val() | (self.r_first.q.val() & !self.pop.val());
        self.store.read_address.next =
            (bit_cast::<RX_ADDR_BITS, RX_SLOT_BITS>(self.next_rslot.val()) << 8)
                | bit_cast::<RX_ADDR_BITS, SLOT_OFFSET_BITS>(self.read_off.val());
        if self.commit.val() {
            self.wslot.d.next = self.wslot.q.val() + 1;
        }
        self.next_count.next = self.count.q.val();
        if self.commit.val() & !self.free.val() {
            self.next_count.next = self.count.q.val() + 1;
        }
        if !self.commit.val() & self.free.val() {
            self.next_count.next = self.count.q.val() - 1;
        }
        self.count.d.next = self.next_count.val();
        self.r_active.d.next = self.next_count.val().any();

        // Counters.
        if self.inc.q.val().get_bit(0) {
            self.c_accepted.d.next = self.c_accepted.q.val() + 1;
        }
        if self.inc.q.val().get_bit(1) {
            self.c_bad_preamble.d.next = self.c_bad_preamble.q.val() + 1;
        }
        if self.inc.q.val().get_bit(2) {
            self.c_runt.d.next = self.c_runt.q.val() + 1;
        }
        if self.inc.q.val().get_bit(3) {
            self.c_giant.d.next = self.c_giant.q.val() + 1;
        }
        if self.inc.q.val().get_bit(4) {
            self.c_bad_fcs.d.next = self.c_bad_fcs.q.val() + 1;
        }
        if self.inc.q.val().get_bit(5) {
            self.c_not_for_us.d.next = self.c_not_for_us.q.val() + 1;
        }
        if self.inc.q.val().get_bit(6) {
            self.c_foreign_source.d.next = self.c_foreign_source.q.val() + 1;
        }
        if self.inc.q.val().get_bit(7) {
            self.c_foreign_ethertype.d.next = self.c_foreign_ethertype.q.val() + 1;
        }
        if self.inc.q.val().get_bit(8) {
            self.c_bad_length.d.next = self.c_bad_length.q.val() + 1;
        }
        if self.inc.q.val().get_bit(9) {
            self.c_overrun.d.next = self.c_overrun.q.val() + 1;
        }
        self.count_accepted.next = self.c_accepted.q.val();
        self.count_bad_preamble.next = self.c_bad_preamble.q.val();
        self.count_runt.next = self.c_runt.q.val();
        self.count_giant.next = self.c_giant.q.val();
        self.count_bad_fcs.next = self.c_bad_fcs.q.val();
        self.count_not_for_us.next = self.c_not_for_us.q.val();
        self.count_foreign_source.next = self.c_foreign_source.q.val();
        self.count_foreign_ethertype.next = self.c_foreign_ethertype.q.val();
        self.count_bad_length.next = self.c_bad_length.q.val();
        self.count_overrun.next = self.c_overrun.q.val();

        if self.reset.val() {
            self.state.d.next = self.st_idle.val();
            self.wslot.d.next = 0.into();
            self.rslot.d.next = 0.into();
            self.count.d.next = 0.into();
            self.roff.d.next = 0.into();
            self.r_active.d.next = false;
            self.r_first.d.next = true;
            self.r_last.d.next = false;
            self.v_end.d.next = false;
            self.h_miss.d.next = false;
            self.inc.d.next = 0.into();
            self.c_accepted.d.next = 0.into();
            self.c_bad_preamble.d.next = 0.into();
            self.c_runt.d.next = 0.into();
            self.c_giant.d.next = 0.into();
            self.c_bad_fcs.d.next = 0.into();
            self.c_not_for_us.d.next = 0.into();
            self.c_foreign_source.d.next = 0.into();
            self.c_foreign_ethertype.d.next = 0.into();
            self.c_bad_length.d.next = 0.into();
            self.c_overrun.d.next = 0.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_skid_checks_and_validates() {
        let mut uut = ByteSkid::default();
        uut.clock.connect();
        uut.reset.connect();
        uut.push.connect();
        uut.in_data.connect();
        uut.out_ready.connect();
        uut.connect_all();
        check_all(&uut).unwrap();
        let name = format!("coldgate_eth_skid_{}", std::process::id());
        let r = yosys_validate(&name, &generate_verilog(&uut));
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(&name));
        r.unwrap();
    }

    #[test]
    fn eth_rx_checks_and_validates() {
        for port in EthPort::BOTH {
            let mut uut = EthRx::new(port);
            uut.clock.connect();
            uut.reset.connect();
            uut.rx_dv.connect();
            uut.rxd.connect();
            uut.out_ready.connect();
            uut.connect_all();
            check_all(&uut).unwrap();
            let name = format!("coldgate_eth_rx_{}_{}", port.name(), std::process::id());
            let r = yosys_validate(&name, &generate_verilog(&uut));
            let _ = std::fs::remove_dir_all(std::env::temp_dir().join(&name));
            r.unwrap();
        }
    }
}
