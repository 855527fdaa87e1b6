//! 8N1 UART transmitter and receiver, one bit every `divisor` clocks.

use rust_hdl::prelude::*;

/// Width of the bit-period counter: divisors up to 65535 clocks per bit.
pub const DIVISOR_BITS: usize = 16;

/// Sends `data` when `valid` and `ready` are both high: start bit, eight data bits least
/// significant first, stop bit. `tx` idles high.
#[derive(LogicBlock)]
pub struct UartTx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub data: Signal<In, Bits<8>>,
    pub valid: Signal<In, Bit>,
    pub ready: Signal<Out, Bit>,
    pub tx: Signal<Out, Bit>,
    busy: DFF<Bit>,
    frame: DFF<Bits<10>>,
    bits_left: DFF<Bits<4>>,
    timer: DFF<Bits<DIVISOR_BITS>>,
    divisor_m1: Constant<Bits<DIVISOR_BITS>>,
    frame_bits: Constant<Bits<4>>,
}

impl UartTx {
    /// `divisor` clocks per bit (at least 2).
    pub fn new(divisor: u16) -> UartTx {
        UartTx {
            clock: Default::default(),
            reset: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            ready: Default::default(),
            tx: Default::default(),
            busy: Default::default(),
            frame: Default::default(),
            bits_left: Default::default(),
            timer: Default::default(),
            divisor_m1: Constant::new((divisor.max(2) - 1).to_bits()),
            frame_bits: Constant::new(10u32.to_bits()),
        }
    }
}

impl Logic for UartTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, busy, frame, bits_left, timer);
        self.ready.next = !self.busy.q.val();
        self.tx.next = true;
        if self.busy.q.val() {
            self.tx.next = self.frame.q.val().get_bit(0);
            if self.timer.q.val().any() {
                self.timer.d.next = self.timer.q.val() - 1;
            } else {
                self.timer.d.next = self.divisor_m1.val();
                self.frame.d.next = (self.frame.q.val() >> 1) | 0x200;
                self.bits_left.d.next = self.bits_left.q.val() - 1;
                if self.bits_left.q.val() == 1 {
                    self.busy.d.next = false;
                }
            }
        } else if self.valid.val() {
            self.busy.d.next = true;
            // Stop bit, data, start bit (shifted out from bit 0).
            self.frame.d.next = (bit_cast::<10, 8>(self.data.val()) << 1) | 0x200;
            self.bits_left.d.next = self.frame_bits.val();
            self.timer.d.next = self.divisor_m1.val();
        }
        if self.reset.val() {
            self.busy.d.next = false;
            self.frame.d.next = 0.into();
            self.bits_left.d.next = 0.into();
            self.timer.d.next = 0.into();
        }
    }
}

/// Receives 8N1 bytes on `rx` (asynchronous; synchronised here). `valid` is high for one
/// clock with `data` when a byte with a good stop bit has arrived; a byte with a bad stop bit
/// (a framing error) is not delivered.
#[derive(LogicBlock)]
pub struct UartRx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub rx: Signal<In, Bit>,
    pub data: Signal<Out, Bits<8>>,
    pub valid: Signal<Out, Bit>,
    sync0: DFF<Bit>,
    sync1: DFF<Bit>,
    busy: DFF<Bit>,
    shift: DFF<Bits<9>>,
    bits_left: DFF<Bits<4>>,
    timer: DFF<Bits<DIVISOR_BITS>>,
    out: DFF<Bits<8>>,
    strobe: DFF<Bit>,
    line: Signal<Local, Bit>,
    divisor_m1: Constant<Bits<DIVISOR_BITS>>,
    half_m1: Constant<Bits<DIVISOR_BITS>>,
    frame_bits: Constant<Bits<4>>,
}

impl UartRx {
    /// `divisor` clocks per bit (at least 4, so the start bit is sampled near its middle).
    pub fn new(divisor: u16) -> UartRx {
        let divisor = divisor.max(4);
        UartRx {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            sync0: Default::default(),
            sync1: Default::default(),
            busy: Default::default(),
            shift: Default::default(),
            bits_left: Default::default(),
            timer: Default::default(),
            out: Default::default(),
            strobe: Default::default(),
            line: Default::default(),
            divisor_m1: Constant::new((divisor - 1).to_bits()),
            half_m1: Constant::new((divisor / 2 - 1).to_bits()),
            frame_bits: Constant::new(10u32.to_bits()),
        }
    }
}

impl Logic for UartRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, sync0, sync1, busy, shift, bits_left, timer, out, strobe);
        // The line idles high; the synchroniser starts high so reset is not a start bit.
        self.sync0.d.next = !self.rx.val();
        self.sync1.d.next = self.sync0.q.val();
        self.strobe.d.next = false;
        // The line level in a signal of its own: Verilog would widen before inverting in a cast.
        self.line.next = !self.sync1.q.val();
        if self.busy.q.val() {
            if self.timer.q.val().any() {
                self.timer.d.next = self.timer.q.val() - 1;
            } else {
                self.timer.d.next = self.divisor_m1.val();
                // Sample in the middle of the bit: start, eight data bits, stop.
                self.shift.d.next =
                    (self.shift.q.val() >> 1) | (bit_cast::<9, 1>(self.line.val().into()) << 8);
                self.bits_left.d.next = self.bits_left.q.val() - 1;
                if self.bits_left.q.val() == self.frame_bits.val() {
                    // A start bit that is high again by its middle was a glitch.
                    if !self.sync1.q.val() {
                        self.busy.d.next = false;
                    }
                }
                if self.bits_left.q.val() == 1 {
                    self.busy.d.next = false;
                    if !self.sync1.q.val() {
                        self.out.d.next = self.shift.q.val().get_bits::<8>(1);
                        self.strobe.d.next = true;
                    }
                }
            }
        } else if self.sync1.q.val() {
            self.busy.d.next = true;
            self.timer.d.next = self.half_m1.val();
            self.bits_left.d.next = self.frame_bits.val();
        }
        self.data.next = self.out.q.val();
        self.valid.next = self.strobe.q.val();
        if self.reset.val() {
            self.busy.d.next = false;
            self.strobe.d.next = false;
            self.bits_left.d.next = 0.into();
            self.timer.d.next = 0.into();
        }
    }
}
