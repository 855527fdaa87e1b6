//! Frame-atomic merge of two frame streams onto one output.

use rust_hdl::prelude::*;

/// Merges stream `a` and stream `b` onto `out` one whole frame at a time (a frame ends with
/// the byte that has `last` set). Once a source has shown a byte on `out` it keeps the output
/// until its last byte leaves, so the output data never changes under a waiting valid and two
/// frames never interleave. When both are waiting, they take turns. The choice is made in the
/// same clock the previous frame ends, so frames leave back to back.
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
    locked: DFF<Bit>,
    locked_b: DFF<Bit>,
    prefer_b: DFF<Bit>,
    sel_b: Signal<Local, Bit>,
    last: Signal<Local, Bit>,
}

impl Logic for FrameMerge {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, locked, locked_b, prefer_b);
        if self.locked.q.val() {
            self.sel_b.next = self.locked_b.q.val();
        } else if self.prefer_b.q.val() {
            self.sel_b.next = self.b_valid.val() | !self.a_valid.val();
        } else {
            self.sel_b.next = self.b_valid.val() & !self.a_valid.val();
        }
        self.out_data.next = self.a_data.val();
        self.out_valid.next = self.a_valid.val();
        self.last.next = self.a_last.val();
        if self.sel_b.val() {
            self.out_data.next = self.b_data.val();
            self.out_valid.next = self.b_valid.val();
            self.last.next = self.b_last.val();
        }
        self.a_ready.next = !self.sel_b.val() & self.out_ready.val();
        self.b_ready.next = self.sel_b.val() & self.out_ready.val();
        if self.out_valid.val() {
            self.locked.d.next = true;
            self.locked_b.d.next = self.sel_b.val();
            if self.out_ready.val() & self.last.val() {
                self.locked.d.next = false;
                self.prefer_b.d.next = !self.sel_b.val();
            }
        }
        if self.reset.val() {
            self.locked.d.next = false;
            self.locked_b.d.next = false;
            self.prefer_b.d.next = false;
        }
    }
}
