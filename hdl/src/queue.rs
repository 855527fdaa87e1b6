//! A two-byte output queue that cuts a stream's ready path.

use rust_hdl::prelude::*;

/// A two-entry queue of bytes with their `last` flags (`q0` the head, `q1` behind it).
///
/// The producer pushes while `room` is high; `room` is a register (`q1` is empty), so the
/// consumer's `out_ready` never reaches into the producer's logic (in a lane, the store's
/// read address and the NOTICE generator), and the queue still moves one byte per clock.
#[derive(LogicBlock, Default)]
pub struct ByteQueue {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Push this byte (only while `room`).
    pub push: Signal<In, Bit>,
    pub in_data: Signal<In, Bits<8>>,
    pub in_last: Signal<In, Bit>,
    pub room: Signal<Out, Bit>,
    pub out_data: Signal<Out, Bits<8>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_last: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    q0_valid: DFF<Bit>,
    q0_data: DFF<Bits<8>>,
    q0_last: DFF<Bit>,
    q1_valid: DFF<Bit>,
    q1_data: DFF<Bits<8>>,
    q1_last: DFF<Bit>,
}

impl Logic for ByteQueue {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, q0_valid, q0_data, q0_last, q1_valid, q1_data, q1_last);
        self.room.next = !self.q1_valid.q.val();
        if self.q0_valid.q.val() & self.out_ready.val() {
            self.q0_valid.d.next = self.q1_valid.q.val();
            self.q0_data.d.next = self.q1_data.q.val();
            self.q0_last.d.next = self.q1_last.q.val();
            self.q1_valid.d.next = false;
            if self.push.val() {
                self.q0_valid.d.next = true;
                self.q0_data.d.next = self.in_data.val();
                self.q0_last.d.next = self.in_last.val();
            }
        } else if self.push.val() {
            if self.q0_valid.q.val() {
                self.q1_valid.d.next = true;
                self.q1_data.d.next = self.in_data.val();
                self.q1_last.d.next = self.in_last.val();
            } else {
                self.q0_valid.d.next = true;
                self.q0_data.d.next = self.in_data.val();
                self.q0_last.d.next = self.in_last.val();
            }
        }
        self.out_data.next = self.q0_data.q.val();
        self.out_valid.next = self.q0_valid.q.val();
        self.out_last.next = self.q0_last.q.val();
        if self.reset.val() {
            self.q0_valid.d.next = false;
            self.q1_valid.d.next = false;
        }
    }
}
