//! Received frames from a PHY's clock into the core's: a store-and-forward FIFO with Gray
//! pointers.
//!
//! Why store and forward: the PHY's receive clock is its link partner's transmit clock
//! (100 ppm) and the core clock comes from the board's oscillator (another 100 ppm at most),
//! so byte for byte one side runs slightly faster. A byte FIFO read as soon as it holds
//! something would, with the reader faster, run dry in the middle of a frame and cut it in
//! two on the GMII side. Here the reader starts a frame only once its last byte is in, then
//! reads it one byte per core clock without a hole; the writer's extra or missing fraction
//! of a byte per frame is absorbed between frames. The reader leaves [`OUT_GAP`] idle clocks
//! after each frame, fewer than the 8 byte times a receive gap can shrink to (IEEE 802.3
//! 4.4.2), so it always finishes a frame before the writer can finish the next: over a frame
//! of 190 wire bytes that is a margin of about 2%, against the 0.02% the clocks can differ.
//!
//! How it crosses: the writer publishes, Gray coded, the pointer just past its last complete
//! frame (the *commit* pointer); the reader publishes its read pointer the same way. Each
//! side takes the other's through two flip-flops; a Gray pointer changes one bit at a time,
//! so a sample mid-change is either the old or the new value, both safe (the writer sees
//! less room, the reader fewer frames). Nothing else crosses but a reset handshake and a
//! toggle per dropped frame.
//!
//! A frame in which the PHY flags a receive error (RX_ER with RX_DV) is dropped whole here
//! and counted on `errored`: the core's GMII side has no error line, and a frame the PHY
//! could not decode is not checked further.
//!
//! Limits: a frame longer than [`MAX_FRAME`] bytes (preamble included; every legal Ethernet
//! frame is far shorter) is cut there and handed over that long, so the Ethernet layer still
//! sees, and counts, a giant. A frame that finds the FIFO full is dropped whole (the writer
//! winds its pointer back to the last commit) and counted on `dropped`: store and forward
//! never hands over part of a frame. With the reader faster than the writer the FIFO holds
//! at most one frame being written and one being read, so this happens only with a partner
//! far outside the Ethernet clock tolerance.

use rust_hdl::prelude::*;

/// Address bits of the FIFO: 2048 entries of a byte and a last-byte bit, one ECP5 block RAM
/// (2048 x 9).
pub const ADDR_BITS: usize = 11;
const PTR_BITS: usize = ADDR_BITS + 1;
const ENTRY_BITS: usize = 9;
/// Entries in the FIFO.
pub const DEPTH: u32 = 1 << ADDR_BITS;
/// Longest frame handed over whole, bytes on GMII (preamble and SFD included). Leaves the
/// reader's synchronisation latency and its gap as room beside one whole frame.
pub const MAX_FRAME: u32 = DEPTH - 64;
/// Idle clocks the reader leaves between frames on its GMII side.
pub const OUT_GAP: u32 = 4;
const GAP_BITS: usize = 3;
const _: () = assert!(OUT_GAP >= 2 && OUT_GAP < 8 && (OUT_GAP as usize) < (1 << GAP_BITS) + 2);
// A cut frame is still longer than the longest the Ethernet layer accepts (preamble and SFD
// included), so the layer still counts it a giant.
const _: () = assert!(
    MAX_FRAME as usize > coldgate_spec::eth::MAX_FRAME + coldgate_spec::eth::PREAMBLE_LEN + 1
);

/// The FIFO. Write side: `w_clock` (the PHY's RXC) with GMII `w_data`/`w_dv`/`w_er` from
/// [`super::RgmiiRx`]. Read side: `clock` (the core's) with GMII `data`/`dv`, frames with
/// `dv` high throughout and at least [`OUT_GAP`] idle clocks between them. `reset` (core
/// domain) empties both sides; `running` rises once both have left reset (it needs RXC to
/// run). `dropped` and `errored` pulse (core domain) for each frame dropped for lack of room
/// and for a receive error.
#[derive(LogicBlock)]
pub struct FrameCdc {
    pub w_clock: Signal<In, Clock>,
    pub w_data: Signal<In, Bits<8>>,
    pub w_dv: Signal<In, Bit>,
    pub w_er: Signal<In, Bit>,
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub data: Signal<Out, Bits<8>>,
    pub dv: Signal<Out, Bit>,
    pub running: Signal<Out, Bit>,
    pub dropped: Signal<Out, Bit>,
    pub errored: Signal<Out, Bit>,
    ring: RAM<Bits<ENTRY_BITS>, ADDR_BITS>,
    // Write side (w_clock).
    /// `reset` through two flip-flops.
    w_rst0: DFF<Bit>,
    w_rst1: DFF<Bit>,
    /// The byte before the current one: written once the current one says whether it was
    /// the last.
    pend_valid: DFF<Bit>,
    pend: DFF<Bits<8>>,
    wr: DFF<Bits<PTR_BITS>>,
    commit: DFF<Bits<PTR_BITS>>,
    commit_gray: DFF<Bits<PTR_BITS>>,
    /// Bytes of the current frame written so far.
    count: DFF<Bits<PTR_BITS>>,
    /// The rest of the current frame is ignored (cut or dropped).
    skipping: DFF<Bit>,
    drop_toggle: DFF<Bit>,
    error_toggle: DFF<Bit>,
    rd_gray0: DFF<Bits<PTR_BITS>>,
    rd_gray1: DFF<Bits<PTR_BITS>>,
    rd_seen: DFF<Bits<PTR_BITS>>,
    // Read side (clock).
    commit_gray0: DFF<Bits<PTR_BITS>>,
    commit_gray1: DFF<Bits<PTR_BITS>>,
    commit_seen: DFF<Bits<PTR_BITS>>,
    rd: DFF<Bits<PTR_BITS>>,
    rd_gray: DFF<Bits<PTR_BITS>>,
    /// The RAM shows, this clock, the entry read at `issued_addr`.
    issued: DFF<Bit>,
    issued_addr: DFF<Bits<PTR_BITS>>,
    reading: DFF<Bit>,
    gap: DFF<Bits<GAP_BITS>>,
    /// The RAM's output, registered: the block RAM's clock-to-out is slow, so nothing but a
    /// register takes it.
    data_q: DFF<Bits<8>>,
    last_q: DFF<Bit>,
    addr_q: DFF<Bits<PTR_BITS>>,
    dv_q: DFF<Bit>,
    ack0: DFF<Bit>,
    ack1: DFF<Bit>,
    ack_seen: DFF<Bit>,
    run: DFF<Bit>,
    drop0: DFF<Bit>,
    drop1: DFF<Bit>,
    drop2: DFF<Bit>,
    err0: DFF<Bit>,
    err1: DFF<Bit>,
    err2: DFF<Bit>,
    full_mark: Constant<Bits<PTR_BITS>>,
    cut_at: Constant<Bits<PTR_BITS>>,
    gap_reload: Constant<Bits<GAP_BITS>>,
    // Locals.
    /// At most two free entries on the last clock: with one write a clock, at least one is
    /// free now unless this says otherwise (a register: the pointer difference is slow).
    w_full: DFF<Bit>,
    w_last: Signal<Local, Bit>,
    w_write: Signal<Local, Bit>,
    w_error: Signal<Local, Bit>,
    rd_g1: Signal<Local, Bits<PTR_BITS>>,
    rd_g2: Signal<Local, Bits<PTR_BITS>>,
    rd_g4: Signal<Local, Bits<PTR_BITS>>,
    cm_g1: Signal<Local, Bits<PTR_BITS>>,
    cm_g2: Signal<Local, Bits<PTR_BITS>>,
    cm_g4: Signal<Local, Bits<PTR_BITS>>,
    r_rst: Signal<Local, Bit>,
    stop: Signal<Local, Bit>,
    start: Signal<Local, Bit>,
    more: Signal<Local, Bit>,
}

impl Default for FrameCdc {
    fn default() -> Self {
        FrameCdc {
            w_clock: Default::default(),
            w_data: Default::default(),
            w_dv: Default::default(),
            w_er: Default::default(),
            clock: Default::default(),
            reset: Default::default(),
            data: Default::default(),
            dv: Default::default(),
            running: Default::default(),
            dropped: Default::default(),
            errored: Default::default(),
            ring: Default::default(),
            w_rst0: Default::default(),
            w_rst1: Default::default(),
            pend_valid: Default::default(),
            pend: Default::default(),
            wr: Default::default(),
            commit: Default::default(),
            commit_gray: Default::default(),
            count: Default::default(),
            skipping: Default::default(),
            drop_toggle: Default::default(),
            error_toggle: Default::default(),
            rd_gray0: Default::default(),
            rd_gray1: Default::default(),
            rd_seen: Default::default(),
            commit_gray0: Default::default(),
            commit_gray1: Default::default(),
            commit_seen: Default::default(),
            rd: Default::default(),
            rd_gray: Default::default(),
            issued: Default::default(),
            issued_addr: Default::default(),
            reading: Default::default(),
            gap: Default::default(),
            data_q: Default::default(),
            last_q: Default::default(),
            addr_q: Default::default(),
            dv_q: Default::default(),
            ack0: Default::default(),
            ack1: Default::default(),
            ack_seen: Default::default(),
            run: Default::default(),
            drop0: Default::default(),
            drop1: Default::default(),
            drop2: Default::default(),
            err0: Default::default(),
            err1: Default::default(),
            err2: Default::default(),
            full_mark: Constant::new((DEPTH - 2).to_bits()),
            cut_at: Constant::new((MAX_FRAME - 1).to_bits()),
            // The reader starts again `gap_reload + 1` clocks after a last byte leaves and
            // its first byte leaves two clocks later: OUT_GAP idle clocks in between.
            gap_reload: Constant::new((OUT_GAP - 2).to_bits()),
            w_full: Default::default(),
            w_last: Default::default(),
            w_write: Default::default(),
            w_error: Default::default(),
            rd_g1: Default::default(),
            rd_g2: Default::default(),
            rd_g4: Default::default(),
            cm_g1: Default::default(),
            cm_g2: Default::default(),
            cm_g4: Default::default(),
            r_rst: Default::default(),
            stop: Default::default(),
            start: Default::default(),
            more: Default::default(),
        }
    }
}

impl Logic for FrameCdc {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            w_clock,
            w_rst0,
            w_rst1,
            pend_valid,
            pend,
            wr,
            commit,
            commit_gray,
            count,
            skipping,
            drop_toggle,
            error_toggle,
            rd_gray0,
            rd_gray1,
            rd_seen,
            w_full
        );
        dff_setup!(
            self,
            clock,
            commit_gray0,
            commit_gray1,
            commit_seen,
            rd,
            rd_gray,
            issued,
            issued_addr,
            reading,
            gap,
            data_q,
            last_q,
            addr_q,
            dv_q,
            ack0,
            ack1,
            ack_seen,
            run,
            drop0,
            drop1,
            drop2,
            err0,
            err1,
            err2
        );
        self.ring.write_clock.next = self.w_clock.val();
        self.ring.read_clock.next = self.clock.val();

        // ---- Write side (w_clock) ----
        self.w_rst0.d.next = self.reset.val();
        self.w_rst1.d.next = self.w_rst0.q.val();
        // The reader's pointer: through two flip-flops, then Gray to binary (prefix XOR).
        self.rd_gray0.d.next = self.rd_gray.q.val();
        self.rd_gray1.d.next = self.rd_gray0.q.val();
        self.rd_g1.next = self.rd_gray1.q.val() ^ (self.rd_gray1.q.val() >> 1);
        self.rd_g2.next = self.rd_g1.val() ^ (self.rd_g1.val() >> 2);
        self.rd_g4.next = self.rd_g2.val() ^ (self.rd_g2.val() >> 4);
        self.rd_seen.d.next = self.rd_g4.val() ^ (self.rd_g4.val() >> 8);

        self.w_full.d.next = (self.wr.q.val() - self.rd_seen.q.val()) >= self.full_mark.val();
        // The pending byte is a frame's last when the line went idle, or when it is the last
        // one a frame may have.
        self.w_last.next = !self.w_dv.val() | (self.count.q.val() == self.cut_at.val());
        self.w_write.next = self.pend_valid.q.val() & !self.w_full.q.val();
        self.ring.write_address.next = self.wr.q.val().get_bits::<ADDR_BITS>(0);
        self.ring.write_data.next = bit_cast::<ENTRY_BITS, 8>(self.pend.q.val())
            | (bit_cast::<ENTRY_BITS, 1>(self.w_last.val().into()) << 8);
        self.ring.write_enable.next = self.w_write.val();

        self.pend.d.next = self.w_data.val();
        self.pend_valid.d.next = self.w_dv.val() & !self.skipping.q.val();
        if !self.w_dv.val() {
            self.skipping.d.next = false;
        }
        if self.w_write.val() {
            self.wr.d.next = self.wr.q.val() + 1;
            self.count.d.next = self.count.q.val() + 1;
            if self.w_last.val() {
                self.commit.d.next = self.wr.q.val() + 1;
                self.count.d.next = 0.into();
                // Cut: the rest of this frame is not written.
                if self.w_dv.val() {
                    self.skipping.d.next = true;
                    self.pend_valid.d.next = false;
                }
            }
        }
        if self.pend_valid.q.val() & self.w_full.q.val() {
            // No room: drop the whole frame, back to the last commit.
            self.wr.d.next = self.commit.q.val();
            self.count.d.next = 0.into();
            self.drop_toggle.d.next = !self.drop_toggle.q.val();
            if self.w_dv.val() {
                self.skipping.d.next = true;
                self.pend_valid.d.next = false;
            }
        }
        // A receive error: drop the whole frame, back to the last commit (this wins over a
        // cut on the same clock: that giant is dropped as errored instead).
        self.w_error.next = self.w_dv.val() & self.w_er.val() & !self.skipping.q.val();
        if self.w_error.val() {
            self.wr.d.next = self.commit.q.val();
            self.commit.d.next = self.commit.q.val();
            self.count.d.next = 0.into();
            self.skipping.d.next = true;
            self.pend_valid.d.next = false;
            self.error_toggle.d.next = !self.error_toggle.q.val();
        }
        self.commit_gray.d.next = self.commit.q.val() ^ (self.commit.q.val() >> 1);
        if self.w_rst1.q.val() {
            self.pend_valid.d.next = false;
            self.wr.d.next = 0.into();
            self.commit.d.next = 0.into();
            self.commit_gray.d.next = 0.into();
            self.count.d.next = 0.into();
            self.skipping.d.next = false;
        }

        // ---- Read side (clock) ----
        // Reset handshake: the reader leaves reset only after it has seen the writer in reset
        // and out of it again, so the two pointers start from zero together.
        self.ack0.d.next = self.w_rst1.q.val();
        self.ack1.d.next = self.ack0.q.val();
        self.ack_seen.d.next = self.ack1.q.val() | (self.ack_seen.q.val() & !self.reset.val());
        self.run.d.next =
            !self.reset.val() & (self.run.q.val() | (self.ack_seen.q.val() & !self.ack1.q.val()));
        self.r_rst.next = self.reset.val() | !self.run.q.val();
        self.running.next = self.run.q.val();

        self.commit_gray0.d.next = self.commit_gray.q.val();
        self.commit_gray1.d.next = self.commit_gray0.q.val();
        self.cm_g1.next = self.commit_gray1.q.val() ^ (self.commit_gray1.q.val() >> 1);
        self.cm_g2.next = self.cm_g1.val() ^ (self.cm_g1.val() >> 2);
        self.cm_g4.next = self.cm_g2.val() ^ (self.cm_g2.val() >> 4);
        self.commit_seen.d.next = self.cm_g4.val() ^ (self.cm_g4.val() >> 8);

        // Reads run two clocks ahead of the output: address, RAM, register. A frame's last
        // entry is known only when it reaches the register, by which time two more reads
        // are under way: they are discarded and `rd` goes back to just after the last.
        self.stop.next = self.dv_q.q.val() & self.last_q.q.val();
        self.start.next = !self.reading.q.val()
            & !self.gap.q.val().any()
            & (self.rd.q.val() != self.commit_seen.q.val());
        self.more.next = self.reading.q.val() & !self.stop.val();
        self.ring.read_address.next = self.rd.q.val().get_bits::<ADDR_BITS>(0);
        self.issued.d.next = self.start.val() | self.more.val();
        self.issued_addr.d.next = self.rd.q.val();
        self.reading.d.next = self.start.val() | self.more.val();
        if self.start.val() | self.more.val() {
            self.rd.d.next = self.rd.q.val() + 1;
        }
        if self.gap.q.val().any() {
            self.gap.d.next = self.gap.q.val() - 1;
        }
        if self.stop.val() {
            self.rd.d.next = self.addr_q.q.val() + 1;
            self.gap.d.next = self.gap_reload.val();
        }
        self.rd_gray.d.next = self.rd.q.val() ^ (self.rd.q.val() >> 1);
        self.data_q.d.next = self.ring.read_data.val().get_bits::<8>(0);
        self.last_q.d.next = self.ring.read_data.val().get_bit(8);
        self.addr_q.d.next = self.issued_addr.q.val();
        self.dv_q.d.next = self.issued.q.val() & !self.stop.val();
        self.data.next = self.data_q.q.val();
        self.dv.next = self.dv_q.q.val();

        self.drop0.d.next = self.drop_toggle.q.val();
        self.drop1.d.next = self.drop0.q.val();
        self.drop2.d.next = self.drop1.q.val();
        self.dropped.next = self.drop1.q.val() ^ self.drop2.q.val();
        self.err0.d.next = self.error_toggle.q.val();
        self.err1.d.next = self.err0.q.val();
        self.err2.d.next = self.err1.q.val();
        self.errored.next = self.err1.q.val() ^ self.err2.q.val();
        if self.r_rst.val() {
            self.rd.d.next = 0.into();
            self.rd_gray.d.next = 0.into();
            self.issued.d.next = false;
            self.reading.d.next = false;
            self.gap.d.next = 0.into();
            self.dv_q.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_cdc_checks_and_validates() {
        let mut uut = FrameCdc::default();
        for s in [&mut uut.w_dv, &mut uut.w_er, &mut uut.reset] {
            s.connect();
        }
        uut.w_clock.connect();
        uut.w_data.connect();
        uut.clock.connect();
        uut.connect_all();
        check_all(&uut).unwrap();
        yosys_validate("cg_frame_cdc", &generate_verilog(&uut)).unwrap();
    }
}
