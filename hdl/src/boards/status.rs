//! The Colorlight board's counter output: every counter, over and over, on a UART pin.

use rust_hdl::prelude::*;

use crate::uart::UartTx;

/// First two bytes of every status snapshot (differs from the Alchitry board's, whose
/// snapshot holds fewer counters).
pub const STATUS_SYNC: [u8; 2] = [0xC5, 0x7B];
/// Counters in a snapshot: 7 per lane, 11 per Ethernet port, 2 per receive FIFO.
pub const STATUS_COUNTERS: usize = 2 * 7 + 2 * 11 + 2 * 2;
/// Bits of the counters' concatenation (counter 0 in the low bits).
pub const COUNTER_BITS: usize = 32 * STATUS_COUNTERS;
const SNAP_BITS: usize = COUNTER_BITS + 16;
/// Bytes in a snapshot.
pub const STATUS_LEN: usize = SNAP_BITS / 8;
const _: () = assert!(STATUS_LEN < 256);

/// Sends snapshots of `counters` back to back on `tx` (8N1, `divisor` clocks per bit): the
/// two bytes [`STATUS_SYNC`], then each 32-bit counter little-endian, counter 0 first. A
/// snapshot is taken whole in one clock into a shift register, so its counters are
/// consistent with each other. The block has no input from the network: it cannot change
/// what the lanes do.
#[derive(LogicBlock)]
pub struct StatusUart {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub counters: Signal<In, Bits<COUNTER_BITS>>,
    pub tx: Signal<Out, Bit>,
    uart: UartTx,
    shift: DFF<Bits<SNAP_BITS>>,
    left: DFF<Bits<8>>,
    /// `left` is not zero, as a register of its own: it selects the load of all of the shift
    /// register's bits, so it comes straight from a flip-flop rather than through a compare.
    sending: DFF<Bit>,
    /// The shift register moves on this clock: it loads a snapshot (not `sending`) or shifts
    /// out the byte the UART took on the last clock. A register, because it is the clock
    /// enable of every bit of a shift register spread across the chip among the counters
    /// it samples: the net then starts from one flip-flop, not from logic behind the UART.
    step: DFF<Bit>,
    sync: Constant<Bits<16>>,
    snap_len: Constant<Bits<8>>,
    one: Constant<Bits<8>>,
}

impl StatusUart {
    pub fn new(divisor: u16) -> StatusUart {
        StatusUart {
            clock: Default::default(),
            reset: Default::default(),
            counters: Default::default(),
            tx: Default::default(),
            uart: UartTx::new(divisor),
            shift: Default::default(),
            left: Default::default(),
            sending: Default::default(),
            step: Default::default(),
            sync: Constant::new(u16::from_le_bytes(STATUS_SYNC).to_bits()),
            snap_len: Constant::new((STATUS_LEN as u8).to_bits()),
            one: Constant::new(1u8.to_bits()),
        }
    }
}

impl Logic for StatusUart {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, shift, left, sending, step);
        self.uart.clock.next = self.clock.val();
        self.uart.reset.next = self.reset.val();
        self.uart.data.next = self.shift.q.val().get_bits::<8>(0);
        // Not while the byte it took is still being shifted out (the UART is busy with it
        // then anyway, so this costs no time on the line).
        self.uart.valid.next = self.sending.q.val() & !self.step.q.val();
        // The UART takes a byte: shift it out on the next clock; after the last byte, load
        // the next snapshot on the clock after that shift.
        self.step.d.next = (self.uart.ready.val() & self.sending.q.val() & !self.step.q.val())
            | (self.step.q.val() & self.sending.q.val() & (self.left.q.val() == self.one.val()));
        if self.step.q.val() {
            if self.sending.q.val() {
                self.shift.d.next = self.shift.q.val() >> 8;
                self.left.d.next = self.left.q.val() - 1;
                self.sending.d.next = self.left.q.val() != self.one.val();
            } else {
                self.shift.d.next = bit_cast::<SNAP_BITS, 16>(self.sync.val())
                    | (bit_cast::<SNAP_BITS, COUNTER_BITS>(self.counters.val()) << 16);
                self.left.d.next = self.snap_len.val();
                self.sending.d.next = true;
            }
        }
        self.tx.next = self.uart.tx.val();
        if self.reset.val() {
            self.left.d.next = 0.into();
            self.sending.d.next = false;
            self.step.d.next = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_uart_checks_and_validates() {
        let mut uut = StatusUart::new(42);
        uut.clock.connect();
        uut.reset.connect();
        uut.counters.connect();
        uut.connect_all();
        check_all(&uut).unwrap();
        yosys_validate("cg_colorlight_status", &generate_verilog(&uut)).unwrap();
    }
}
