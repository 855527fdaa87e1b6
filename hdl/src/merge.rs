//! Frame-atomic merge of two frame streams onto one output.

use rust_hdl::prelude::*;

/// Merges stream `a` and stream `b` onto `out` one whole frame at a time (a frame ends with
/// the byte that has `last` set).
///
/// The grant (`sel_b`) is a register, so the sources' ready and the output's valid and data
/// are one level of logic from registers (the sources' own output queues): the merge adds
/// nothing to a lane's critical paths. The grant holds while a frame is under way, so the
/// output never changes under a waiting valid and two frames never interleave. It moves to
/// the other source when a frame ends and the other source is waiting (so they take turns),
/// or when the granted source has nothing to send and the other has, which costs one idle
/// clock only on an output that was idle anyway: a source that keeps sending frames back to
/// back keeps the output at one byte per clock.
#[derive(LogicBlock, Default)]
pub struct FrameMerge {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub a_data: Signal<In, Bits<8>>,
    pub a_valid: Signal<In, Bit>,
    pub a_last: Signal<In, Bit>,
    pub a_ready: Signal<Out, Bit>,
    pub b_data: Signal<In, Bits<8>>,
    pub b_valid: Signal<In, Bit>,
    pub b_last: Signal<In, Bit>,
    pub b_ready: Signal<Out, Bit>,
    pub out_data: Signal<Out, Bits<8>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    /// A frame is under way on the granted source.
    locked: DFF<Bit>,
    /// The grant: `b` when high.
    sel_b: DFF<Bit>,
    valid: Signal<Local, Bit>,
    last: Signal<Local, Bit>,
    other_valid: Signal<Local, Bit>,
    xfer: Signal<Local, Bit>,
}

impl Logic for FrameMerge {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, locked, sel_b);
        self.out_data.next = self.a_data.val();
        self.valid.next = self.a_valid.val();
        self.last.next = self.a_last.val();
        self.other_valid.next = self.b_valid.val();
        if self.sel_b.q.val() {
            self.out_data.next = self.b_data.val();
            self.valid.next = self.b_valid.val();
            self.last.next = self.b_last.val();
            self.other_valid.next = self.a_valid.val();
        }
        self.out_valid.next = self.valid.val();
        self.a_ready.next = !self.sel_b.q.val() & self.out_ready.val();
        self.b_ready.next = self.sel_b.q.val() & self.out_ready.val();
        self.xfer.next = self.valid.val() & self.out_ready.val();
        if self.xfer.val() {
            self.locked.d.next = !self.last.val();
        }
        if self.other_valid.val()
            & ((self.xfer.val() & self.last.val()) | (!self.valid.val() & !self.locked.q.val()))
        {
            self.sel_b.d.next = !self.sel_b.q.val();
        }
        if self.reset.val() {
            self.locked.d.next = false;
            self.sel_b.d.next = false;
        }
    }
}
