//! A byte FIFO in block RAM, for a UART receiver in front of a lane.

use rust_hdl::prelude::*;

/// Address bits of [`ByteFifo`]: 512 bytes, one iCE40 4-kbit block RAM. A lane holds its
/// input while its NOTICE leaves at the UART's pace, which can wait behind one frame of the
/// other lane on the same UART: about two frames' time, during which the sender goes on
/// sending. 512 bytes covers that with room to spare.
pub const FIFO_BITS: usize = 9;
const PTR_BITS: usize = FIFO_BITS + 1;

/// A first-word-fall-through FIFO: `write` stores `data_in` unless the FIFO is full, in
/// which case the byte is discarded (the line has no flow control; only a sender that
/// outpaces the NOTICEs its own frames cause gets there). The head leaves on `out_*` with a
/// valid/ready handshake.
///
/// The block RAM reads one clock after its address and returns the old byte when a
/// location is read and written on the same clock, so a byte counts as readable only from
/// the clock after the one that wrote it (`wr_prev`).
#[derive(LogicBlock)]
pub struct ByteFifo {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub write: Signal<In, Bit>,
    pub data_in: Signal<In, Bits<8>>,
    pub out_data: Signal<Out, Bits<8>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    ring: RAM<Bits<8>, FIFO_BITS>,
    /// Read and write pointers with one wrap bit, so full and empty differ.
    wr: DFF<Bits<PTR_BITS>>,
    rd: DFF<Bits<PTR_BITS>>,
    wr_prev: DFF<Bits<PTR_BITS>>,
    /// `wr ^ rd` when full: only the wrap bit differs.
    full_mark: Constant<Bits<PTR_BITS>>,
    full: Signal<Local, Bit>,
    valid: Signal<Local, Bit>,
    rd_next: Signal<Local, Bits<PTR_BITS>>,
}

impl Default for ByteFifo {
    fn default() -> Self {
        ByteFifo {
            clock: Default::default(),
            reset: Default::default(),
            write: Default::default(),
            data_in: Default::default(),
            out_data: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            ring: Default::default(),
            wr: Default::default(),
            rd: Default::default(),
            wr_prev: Default::default(),
            full_mark: Constant::new((1u32 << FIFO_BITS).to_bits()),
            full: Default::default(),
            valid: Default::default(),
            rd_next: Default::default(),
        }
    }
}

impl Logic for ByteFifo {
    #[hdl_gen]
    fn update(&mut self) {
        // The outputs first, before anything that reads `out_ready`: they depend on
        // registers only, and Verilator splits this block at statements, so a consumer whose
        // ready depends on `out_valid` is not taken for a combinational loop.
        self.out_valid.next = self.rd.q.val() != self.wr_prev.q.val();
        self.out_data.next = self.ring.read_data.val();
        dff_setup!(self, clock, wr, rd, wr_prev);
        self.ring.read_clock.next = self.clock.val();
        self.ring.write_clock.next = self.clock.val();
        self.full.next = (self.wr.q.val() ^ self.rd.q.val()) == self.full_mark.val();
        self.ring.write_address.next = self.wr.q.val().get_bits::<FIFO_BITS>(0);
        self.ring.write_data.next = self.data_in.val();
        self.ring.write_enable.next = self.write.val() & !self.full.val();
        if self.write.val() & !self.full.val() {
            self.wr.d.next = self.wr.q.val() + 1;
        }
        self.wr_prev.d.next = self.wr.q.val();
        self.valid.next = self.rd.q.val() != self.wr_prev.q.val();
        self.rd_next.next = self.rd.q.val()
            + bit_cast::<PTR_BITS, 1>((self.valid.val() & self.out_ready.val()).into());
        self.rd.d.next = self.rd_next.val();
        self.ring.read_address.next = self.rd_next.val().get_bits::<FIFO_BITS>(0);
        if self.reset.val() {
            self.wr.d.next = 0.into();
            self.rd.d.next = 0.into();
            self.wr_prev.d.next = 0.into();
        }
    }
}
