//! Frame-atomic merge of two frame streams onto one output.

use rust_hdl::prelude::*;

/// Merges stream `a` and stream `b` onto `out` one whole frame at a time (a frame ends with
/// the byte that has `last` set). Once a source has shown a byte on `out` it keeps the output
/// until its last byte leaves, so the output data never changes under a waiting valid and two
/// frames never interleave. When both are waiting, they take turns. The choice is made in the
/// same clock the previous frame ends, so frames leave back to back.
///
/// The output goes through a two-byte queue (`q0` the head, `q1` behind it): the sources see
/// a ready that depends only on registers, so `out_ready` never reaches into them, and the
/// queue still moves one byte per clock.
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
    q0_valid: DFF<Bit>,
    q0_data: DFF<Bits<8>>,
    q1_valid: DFF<Bit>,
    q1_data: DFF<Bits<8>>,
    locked: DFF<Bit>,
    locked_b: DFF<Bit>,
    prefer_b: DFF<Bit>,
    sel_b: Signal<Local, Bit>,
    last: Signal<Local, Bit>,
    valid: Signal<Local, Bit>,
    data: Signal<Local, Bits<8>>,
    room: Signal<Local, Bit>,
    xfer: Signal<Local, Bit>,
}

impl Logic for FrameMerge {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, q0_valid, q0_data, q1_valid, q1_data, locked, locked_b, prefer_b);
        if self.locked.q.val() {
            self.sel_b.next = self.locked_b.q.val();
        } else if self.prefer_b.q.val() {
            self.sel_b.next = self.b_valid.val() | !self.a_valid.val();
        } else {
            self.sel_b.next = self.b_valid.val() & !self.a_valid.val();
        }
        self.data.next = self.a_data.val();
        self.valid.next = self.a_valid.val();
        self.last.next = self.a_last.val();
        if self.sel_b.val() {
            self.data.next = self.b_data.val();
            self.valid.next = self.b_valid.val();
            self.last.next = self.b_last.val();
        }
        self.room.next = !self.q1_valid.q.val();
        self.a_ready.next = !self.sel_b.val() & self.room.val();
        self.b_ready.next = self.sel_b.val() & self.room.val();
        self.xfer.next = self.valid.val() & self.room.val();
        if self.valid.val() {
            self.locked.d.next = true;
            self.locked_b.d.next = self.sel_b.val();
            if self.xfer.val() & self.last.val() {
                self.locked.d.next = false;
                self.prefer_b.d.next = !self.sel_b.val();
            }
        }
        // Output queue.
        if self.q0_valid.q.val() & self.out_ready.val() {
            self.q0_valid.d.next = self.q1_valid.q.val();
            self.q0_data.d.next = self.q1_data.q.val();
            self.q1_valid.d.next = false;
            if self.xfer.val() {
                self.q0_valid.d.next = true;
                self.q0_data.d.next = self.data.val();
            }
        } else if self.xfer.val() {
            if self.q0_valid.q.val() {
                self.q1_valid.d.next = true;
                self.q1_data.d.next = self.data.val();
            } else {
                self.q0_valid.d.next = true;
                self.q0_data.d.next = self.data.val();
            }
        }
        self.out_data.next = self.q0_data.q.val();
        self.out_valid.next = self.q0_valid.q.val();
        if self.reset.val() {
            self.locked.d.next = false;
            self.locked_b.d.next = false;
            self.prefer_b.d.next = false;
            self.q0_valid.d.next = false;
            self.q1_valid.d.next = false;
        }
    }
}
