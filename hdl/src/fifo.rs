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
/// valid/ready handshake, from registers.
///
/// The read side moves at most one byte every three clocks (check, fetch, settle), so that
/// every path is a register and a few levels of logic: the block RAM's output and the
/// pointer compare are slow on the iCE40, and the lane's comparators come right after the
/// head. A UART brings a byte every eighty clocks at the fastest, so the FIFO still drains
/// over twenty times faster than it fills. The block RAM reads one clock after its address
/// and returns the old byte when a location is read and written on the same clock; a byte
/// is fetched only two clocks after the one that wrote it (`avail` is a register).
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
    /// The ring held a byte at `rd` on the last clock (stale for one clock after `rd` moves,
    /// see `settle`).
    avail: DFF<Bit>,
    /// The block RAM is reading `rd` for the head.
    fetching: DFF<Bit>,
    /// `rd` moved on the last clock, so `avail` is not about it yet.
    settle: DFF<Bit>,
    head_valid: DFF<Bit>,
    head: DFF<Bits<8>>,
    /// `wr ^ rd` when full: only the wrap bit differs.
    full_mark: Constant<Bits<PTR_BITS>>,
    full: Signal<Local, Bit>,
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
            avail: Default::default(),
            fetching: Default::default(),
            settle: Default::default(),
            head_valid: Default::default(),
            head: Default::default(),
            full_mark: Constant::new((1u32 << FIFO_BITS).to_bits()),
            full: Default::default(),
        }
    }
}

impl Logic for ByteFifo {
    #[hdl_gen]
    fn update(&mut self) {
        // The outputs first, before anything that reads `out_ready`: they are registers, and
        // Verilator splits this block at statements, so a consumer whose ready depends on
        // `out_valid` is not taken for a combinational loop.
        self.out_valid.next = self.head_valid.q.val();
        self.out_data.next = self.head.q.val();
        dff_setup!(self, clock, wr, rd, avail, fetching, settle, head_valid, head);
        self.ring.read_clock.next = self.clock.val();
        self.ring.write_clock.next = self.clock.val();
        // Write side.
        self.full.next = (self.wr.q.val() ^ self.rd.q.val()) == self.full_mark.val();
        self.ring.write_address.next = self.wr.q.val().get_bits::<FIFO_BITS>(0);
        self.ring.write_data.next = self.data_in.val();
        self.ring.write_enable.next = self.write.val() & !self.full.val();
        self.wr.d.next =
            self.wr.q.val() + bit_cast::<PTR_BITS, 1>((self.write.val() & !self.full.val()).into());
        // Read side: check, fetch, settle.
        self.ring.read_address.next = self.rd.q.val().get_bits::<FIFO_BITS>(0);
        self.avail.d.next = self.rd.q.val() != self.wr.q.val();
        self.fetching.d.next = self.avail.q.val()
            & !self.settle.q.val()
            & !self.fetching.q.val()
            & !self.head_valid.q.val();
        self.settle.d.next = self.fetching.q.val();
        self.rd.d.next = self.rd.q.val() + bit_cast::<PTR_BITS, 1>(self.fetching.q.val().into());
        self.head_valid.d.next =
            self.fetching.q.val() | (self.head_valid.q.val() & !self.out_ready.val());
        if self.fetching.q.val() {
            self.head.d.next = self.ring.read_data.val();
        }
        if self.reset.val() {
            self.wr.d.next = 0.into();
            self.rd.d.next = 0.into();
            self.avail.d.next = false;
            self.fetching.d.next = false;
            self.settle.d.next = false;
            self.head_valid.d.next = false;
        }
    }
}
