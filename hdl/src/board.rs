//! The Alchitry Cu board top `coldgate_board`: two UARTs around the lane-pair core.
//!
//! ```text
//!  FTDI (USB) ── untrusted_rx/tx ── u_in/u_out ─┐          ┌─ t_out/t_in ── trusted_rx/tx ── header
//!                                               coldgate_pair
//!  status_tx (header) <── counter snapshots ────┘          └── leds
//! ```
//!
//! Ports and pins (iCE40-HX8K, cb132; Alchitry Cu schematic / the vendor's constraint file):
//!
//! | port | pin | |
//! |---|---|---|
//! | `clock` | P7 | 100 MHz oscillator |
//! | `rst_n` | P8 | reset button, active low |
//! | `untrusted_rx` | P14 | FTDI channel, into the FPGA |
//! | `untrusted_tx` | M9 | FTDI channel, out of the FPGA |
//! | `trusted_rx` | M1 | header bank A pin 2, into the FPGA |
//! | `trusted_tx` | L1 | header bank A pin 3, out of the FPGA |
//! | `status_tx` | J1 | header bank A pin 5, counter snapshots (output only) |
//! | `leds[7:0]` | J11 K11 K12 K14 L12 L14 M12 N14 | on-board LEDs |
//!
//! * Both data UARTs are 8N1 at the same rate, `CLOCK_HZ / baud` clocks per bit.
//! * Received bytes wait for their lane in a 512-byte FIFO ([`ByteFifo`]). A lane holds its
//!   input while all of its slots wait for the far side's UART, or while a NOTICE is still
//!   being sent at this side's UART pace; the FIFO keeps the frames behind it. The lines have
//!   no flow control, so a byte that finds the FIFO full is discarded (the lane sees line
//!   noise, which its hunting handles); only a sender that outpaces the NOTICEs its own
//!   frames cause gets there.
//! * `tick` pulses every `CLOCK_HZ / RATE_REFILL_HZ` clocks: the token-bucket refill.
//! * `status_tx` sends, over and over, a snapshot of all counters: the two bytes
//!   [`STATUS_SYNC`], then the request lane's counters and the response lane's, each 32-bit
//!   little-endian, in `harness::COUNTER_NAMES` order. It has no input, so it cannot change
//!   what the lanes do.
//! * LEDs: 0 lights for a moment when a frame passes, 1 when a frame is dropped, 2 while the
//!   request lane refuses input, 3 the same for the response lane, 4..7 the low bits of the
//!   request lane's passed counter.

use coldgate_spec::config;
use rust_hdl::prelude::*;
use rust_hdl_bsp_alchitry_cu::pins;

use crate::fifo::ByteFifo;
use crate::pair::ColdgatePair;
use crate::uart::{UartRx, UartTx};

/// First two bytes of every status snapshot.
pub const STATUS_SYNC: [u8; 2] = [0xC5, 0x7A];
/// Counters in a status snapshot (both lanes).
pub const STATUS_COUNTERS: usize = 2 * crate::harness::COUNTERS;
/// Bytes in a status snapshot.
pub const STATUS_LEN: usize = STATUS_SYNC.len() + 4 * STATUS_COUNTERS;
const STATUS_BITS: usize = 32 * STATUS_COUNTERS;
/// Clocks between refill ticks.
pub const TICK_PERIOD: u32 = config::CLOCK_HZ / config::RATE_REFILL_HZ;
const TICK_BITS: usize = (u32::BITS - TICK_PERIOD.leading_zeros()) as usize;
/// Clocks an activity LED stays lit (about 84 ms at 100 MHz).
const STRETCH_BITS: usize = 23;

/// Why a baud rate cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BaudError {
    #[error("baud rate {baud} needs {divisor} clocks per bit; the UART needs {min} to {max}")]
    Divisor {
        baud: u32,
        divisor: u64,
        min: u32,
        max: u32,
    },
    #[error("baud rate {baud} is off by {error_ppm} ppm at {clock_hz} Hz (limit {limit_ppm} ppm)")]
    Inexact {
        baud: u32,
        clock_hz: u32,
        error_ppm: u64,
        limit_ppm: u64,
    },
}

/// The fewest clocks per bit the receiver samples reliably at.
pub const MIN_DIVISOR: u32 = 4;
/// A UART tolerates a few percent between the two ends; this side takes at most 2%.
pub const MAX_BAUD_ERROR_PPM: u64 = 20_000;

/// Clocks per bit for `baud` at the board clock.
pub fn divisor(baud: u32) -> Result<u16, BaudError> {
    let clock = u64::from(config::CLOCK_HZ);
    let max = u32::from(u16::MAX);
    if baud == 0 {
        return Err(BaudError::Divisor {
            baud,
            divisor: u64::MAX,
            min: MIN_DIVISOR,
            max,
        });
    }
    let b = u64::from(baud);
    let d = (clock + b / 2) / b;
    if d < u64::from(MIN_DIVISOR) || d > u64::from(max) {
        return Err(BaudError::Divisor {
            baud,
            divisor: d,
            min: MIN_DIVISOR,
            max,
        });
    }
    let actual = clock / d;
    let error_ppm = actual.abs_diff(b) * 1_000_000 / b;
    if error_ppm > MAX_BAUD_ERROR_PPM {
        return Err(BaudError::Inexact {
            baud,
            clock_hz: config::CLOCK_HZ,
            error_ppm,
            limit_ppm: MAX_BAUD_ERROR_PPM,
        });
    }
    Ok(d as u16)
}

/// The board top. Field names are its Verilog port names.
#[derive(LogicBlock)]
pub struct ColdgateBoard {
    pub clock: Signal<In, Clock>,
    pub rst_n: Signal<In, Bit>,
    pub untrusted_rx: Signal<In, Bit>,
    pub untrusted_tx: Signal<Out, Bit>,
    pub trusted_rx: Signal<In, Bit>,
    pub trusted_tx: Signal<Out, Bit>,
    pub status_tx: Signal<Out, Bit>,
    pub leds: Signal<Out, Bits<8>>,
    core: ColdgatePair,
    u_rx: UartRx,
    u_tx: UartTx,
    t_rx: UartRx,
    t_tx: UartTx,
    s_tx: UartTx,
    rst_sync0: DFF<Bit>,
    rst_sync1: DFF<Bit>,
    /// What each UART received, waiting for its lane.
    u_fifo: ByteFifo,
    t_fifo: ByteFifo,
    tick_timer: DFF<Bits<TICK_BITS>>,
    tick: DFF<Bit>,
    last_pass: DFF<Bits<2>>,
    last_drop: DFF<Bits<12>>,
    pass_led: DFF<Bits<STRETCH_BITS>>,
    drop_led: DFF<Bits<STRETCH_BITS>>,
    status_sync: DFF<Bits<2>>,
    status_counter: DFF<Bits<4>>,
    status_byte_index: DFF<Bits<2>>,
    status_word: DFF<Bits<32>>,
    status_data: DFF<Bits<8>>,
    status_ok: DFF<Bit>,
    tick_period_m1: Constant<Bits<TICK_BITS>>,
    status_last: Constant<Bits<4>>,
    sync0: Constant<Bits<8>>,
    sync1: Constant<Bits<8>>,
    stretch: Constant<Bits<STRETCH_BITS>>,
    reset: Signal<Local, Bit>,
    snapshot: Signal<Local, Bits<STATUS_BITS>>,
    drops: Signal<Local, Bits<12>>,
    status_byte: Signal<Local, Bits<8>>,
    u_held: Signal<Local, Bit>,
    t_held: Signal<Local, Bit>,
}

impl ColdgateBoard {
    /// The board top at `baud` on both data UARTs and the status UART.
    pub fn new(baud: u32) -> Result<ColdgateBoard, BaudError> {
        let d = divisor(baud)?;
        let mut b = ColdgateBoard {
            clock: pins::clock(),
            rst_n: Default::default(),
            untrusted_rx: Default::default(),
            untrusted_tx: Default::default(),
            trusted_rx: Default::default(),
            trusted_tx: Default::default(),
            status_tx: Default::default(),
            leds: pins::leds(),
            core: ColdgatePair::new(),
            u_rx: UartRx::new(d),
            u_tx: UartTx::new(d),
            t_rx: UartRx::new(d),
            t_tx: UartTx::new(d),
            s_tx: UartTx::new(d),
            rst_sync0: Default::default(),
            rst_sync1: Default::default(),
            u_fifo: Default::default(),
            t_fifo: Default::default(),
            tick_timer: Default::default(),
            tick: Default::default(),
            last_pass: Default::default(),
            last_drop: Default::default(),
            pass_led: Default::default(),
            drop_led: Default::default(),
            status_sync: Default::default(),
            status_counter: Default::default(),
            status_byte_index: Default::default(),
            status_word: Default::default(),
            status_data: Default::default(),
            status_ok: Default::default(),
            tick_period_m1: Constant::new((TICK_PERIOD - 1).to_bits()),
            status_last: Constant::new((STATUS_COUNTERS - 1).to_bits()),
            sync0: Constant::new(STATUS_SYNC[0].to_bits()),
            sync1: Constant::new(STATUS_SYNC[1].to_bits()),
            stretch: Constant::new(((1u32 << STRETCH_BITS) - 1).to_bits()),
            reset: Default::default(),
            snapshot: Default::default(),
            drops: Default::default(),
            status_byte: Default::default(),
            u_held: Default::default(),
            t_held: Default::default(),
        };
        for (sig, pin) in [
            (&mut b.rst_n, "P8"),
            (&mut b.untrusted_rx, "P14"),
            (&mut b.trusted_rx, pins::map_alchitry_pin_to_cu_pad("A2")),
        ] {
            sig.add_location(0, pin);
            sig.connect();
        }
        for (sig, pin) in [
            (&mut b.untrusted_tx, "M9"),
            (&mut b.trusted_tx, pins::map_alchitry_pin_to_cu_pad("A3")),
            (&mut b.status_tx, pins::map_alchitry_pin_to_cu_pad("A5")),
        ] {
            sig.add_location(0, pin);
        }
        Ok(b)
    }
}

impl Logic for ColdgateBoard {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            rst_sync0,
            rst_sync1,
            tick_timer,
            tick,
            last_pass,
            last_drop,
            pass_led,
            drop_led,
            status_sync,
            status_counter,
            status_byte_index,
            status_word,
            status_data,
            status_ok
        );
        self.core.clock.next = self.clock.val();
        self.u_rx.clock.next = self.clock.val();
        self.u_tx.clock.next = self.clock.val();
        self.t_rx.clock.next = self.clock.val();
        self.t_tx.clock.next = self.clock.val();
        self.s_tx.clock.next = self.clock.val();

        // The button is asynchronous: synchronise it. Flip-flops configure to zero, so the
        // synchroniser reads "pressed" for its first clocks: every design here starts from a
        // reset after configuration, which the core needs.
        self.rst_sync0.d.next = self.rst_n.val();
        self.rst_sync1.d.next = self.rst_sync0.q.val();
        self.reset.next = !self.rst_sync1.q.val();
        self.core.reset.next = !self.rst_sync1.q.val();
        self.u_rx.reset.next = self.reset.val();
        self.u_tx.reset.next = self.reset.val();
        self.t_rx.reset.next = self.reset.val();
        self.t_tx.reset.next = self.reset.val();
        self.s_tx.reset.next = self.reset.val();

        // Refill ticks.
        self.tick.d.next = false;
        if self.tick_timer.q.val().any() {
            self.tick_timer.d.next = self.tick_timer.q.val() - 1;
        } else {
            self.tick_timer.d.next = self.tick_period_m1.val();
            self.tick.d.next = true;
        }
        self.core.tick.next = self.tick.q.val();

        // Untrusted side: FTDI UART <-> request lane in, u_out.
        self.u_rx.rx.next = self.untrusted_rx.val();
        self.u_fifo.clock.next = self.clock.val();
        self.u_fifo.reset.next = self.reset.val();
        self.u_fifo.write.next = self.u_rx.valid.val();
        self.u_fifo.data_in.next = self.u_rx.data.val();
        self.core.u_in_data.next = self.u_fifo.out_data.val();
        self.core.u_in_valid.next = self.u_fifo.out_valid.val();
        self.u_fifo.out_ready.next = self.core.u_in_ready.val();
        self.u_tx.data.next = self.core.u_out_data.val();
        self.u_tx.valid.next = self.core.u_out_valid.val();
        self.core.u_out_ready.next = self.u_tx.ready.val();
        self.untrusted_tx.next = self.u_tx.tx.val();

        // Trusted side: header UART <-> response lane in, t_out.
        self.t_rx.rx.next = self.trusted_rx.val();
        self.t_fifo.clock.next = self.clock.val();
        self.t_fifo.reset.next = self.reset.val();
        self.t_fifo.write.next = self.t_rx.valid.val();
        self.t_fifo.data_in.next = self.t_rx.data.val();
        self.core.t_in_data.next = self.t_fifo.out_data.val();
        self.core.t_in_valid.next = self.t_fifo.out_valid.val();
        self.t_fifo.out_ready.next = self.core.t_in_ready.val();
        self.t_tx.data.next = self.core.t_out_data.val();
        self.t_tx.valid.next = self.core.t_out_valid.val();
        self.core.t_out_ready.next = self.t_tx.ready.val();
        self.trusted_tx.next = self.t_tx.tx.val();

        // Counter snapshots on the status UART.
        self.snapshot.next = bit_cast::<STATUS_BITS, 32>(self.core.req_count_passed.val())
            | (bit_cast::<STATUS_BITS, 32>(self.core.req_count_bad_const.val()) << 32)
            | (bit_cast::<STATUS_BITS, 32>(self.core.req_count_not_in_set.val()) << 64)
            | (bit_cast::<STATUS_BITS, 32>(self.core.req_count_out_of_range.val()) << 96)
            | (bit_cast::<STATUS_BITS, 32>(self.core.req_count_reserved_nonzero.val()) << 128)
            | (bit_cast::<STATUS_BITS, 32>(self.core.req_count_bad_crc.val()) << 160)
            | (bit_cast::<STATUS_BITS, 32>(self.core.req_count_rate_limited.val()) << 192)
            | (bit_cast::<STATUS_BITS, 32>(self.core.resp_count_passed.val()) << 224)
            | (bit_cast::<STATUS_BITS, 32>(self.core.resp_count_bad_const.val()) << 256)
            | (bit_cast::<STATUS_BITS, 32>(self.core.resp_count_not_in_set.val()) << 288)
            | (bit_cast::<STATUS_BITS, 32>(self.core.resp_count_out_of_range.val()) << 320)
            | (bit_cast::<STATUS_BITS, 32>(self.core.resp_count_reserved_nonzero.val()) << 352)
            | (bit_cast::<STATUS_BITS, 32>(self.core.resp_count_bad_crc.val()) << 384)
            | (bit_cast::<STATUS_BITS, 32>(self.core.resp_count_rate_limited.val()) << 416);
        // (Offsets are widened before shifting: Verilog sizes a shift by its left operand.)
        // A snapshot is the two sync bytes (`status_sync` 0 and 1), then counter
        // `status_counter`, byte `status_byte_index`, for every counter. The choice is slow
        // (14 counters, then 4 bytes), so it runs through two registers; the UART is busy
        // for a whole character after each byte, so both have long caught up when it is
        // ready for the next (`status_ok` holds off only the clock right after a byte).
        self.status_word.d.next = self
            .snapshot
            .val()
            .get_bits::<32>((bit_cast::<16, 4>(self.status_counter.q.val()) << 5).index());
        self.status_byte.next = self
            .status_word
            .q
            .val()
            .get_bits::<8>((bit_cast::<16, 2>(self.status_byte_index.q.val()) << 3).index());
        if !self.status_sync.q.val().get_bit(1) {
            self.status_byte.next = self.sync0.val();
            if self.status_sync.q.val().get_bit(0) {
                self.status_byte.next = self.sync1.val();
            }
        }
        self.status_data.d.next = self.status_byte.val();
        self.status_ok.d.next = !self.s_tx.ready.val() | !self.status_ok.q.val();
        self.s_tx.data.next = self.status_data.q.val();
        self.s_tx.valid.next = self.status_ok.q.val();
        if self.s_tx.ready.val() & self.status_ok.q.val() {
            if self.status_sync.q.val().get_bit(1) {
                self.status_byte_index.d.next = self.status_byte_index.q.val() + 1;
                if self.status_byte_index.q.val().all() {
                    self.status_counter.d.next = self.status_counter.q.val() + 1;
                    if self.status_counter.q.val() == self.status_last.val() {
                        self.status_counter.d.next = 0.into();
                        self.status_sync.d.next = 0.into();
                    }
                }
            } else {
                self.status_sync.d.next = self.status_sync.q.val() + 1;
            }
        }
        self.status_tx.next = self.s_tx.tx.val();

        // LEDs: activity from the low bits of the counters.
        self.last_pass.d.next =
            bit_cast::<2, 1>(self.core.req_count_passed.val().get_bit(0).into())
                | (bit_cast::<2, 1>(self.core.resp_count_passed.val().get_bit(0).into()) << 1);
        self.drops.next = bit_cast::<12, 2>(self.core.req_count_bad_const.val().get_bits::<2>(0))
            | (bit_cast::<12, 2>(self.core.req_count_not_in_set.val().get_bits::<2>(0)) << 2)
            | (bit_cast::<12, 2>(self.core.req_count_out_of_range.val().get_bits::<2>(0)) << 4)
            | (bit_cast::<12, 2>(self.core.req_count_reserved_nonzero.val().get_bits::<2>(0)) << 6)
            | (bit_cast::<12, 2>(self.core.req_count_bad_crc.val().get_bits::<2>(0)) << 8)
            | (bit_cast::<12, 2>(self.core.req_count_rate_limited.val().get_bits::<2>(0)) << 10);
        self.last_drop.d.next = self.drops.val();
        if self.pass_led.q.val().any() {
            self.pass_led.d.next = self.pass_led.q.val() - 1;
        }
        if self.drop_led.q.val().any() {
            self.drop_led.d.next = self.drop_led.q.val() - 1;
        }
        if self.last_pass.q.val()
            != (bit_cast::<2, 1>(self.core.req_count_passed.val().get_bit(0).into())
                | (bit_cast::<2, 1>(self.core.resp_count_passed.val().get_bit(0).into()) << 1))
        {
            self.pass_led.d.next = self.stretch.val();
        }
        if self.last_drop.q.val() != self.drops.val() {
            self.drop_led.d.next = self.stretch.val();
        }
        // (Inverted in a signal of its own: Verilog would widen before inverting in a cast.)
        self.u_held.next = !self.core.u_in_ready.val();
        self.t_held.next = !self.core.t_in_ready.val();
        self.leds.next = bit_cast::<8, 1>(self.pass_led.q.val().any().into())
            | (bit_cast::<8, 1>(self.drop_led.q.val().any().into()) << 1)
            | (bit_cast::<8, 1>(self.u_held.val().into()) << 2)
            | (bit_cast::<8, 1>(self.t_held.val().into()) << 3)
            | (bit_cast::<8, 4>(self.core.req_count_passed.val().get_bits::<4>(0)) << 4);
        if self.reset.val() {
            self.status_sync.d.next = 0.into();
            self.status_counter.d.next = 0.into();
            self.status_byte_index.d.next = 0.into();
            self.pass_led.d.next = 0.into();
            self.status_ok.d.next = false;
            self.drop_led.d.next = 0.into();
        }
    }
}

/// Verilog of the board top, module `coldgate_board`, and its pin constraints (.pcf).
pub fn board_files(baud: u32) -> Result<(String, String), BaudError> {
    let mut uut = ColdgateBoard::new(baud)?;
    uut.connect_all();
    let verilog = crate::verilog::generate(&uut, crate::verilog::BOARD_MODULE);
    let pcf = format!(
        "# coldgate_board on the Alchitry Cu (iCE40-HX8K cb132); see coldgate_hdl::board.\n\
         # untrusted_*: FTDI UART; trusted_*: header bank A pins 2 and 3; status_tx: bank A pin 5.\n{}",
        rust_hdl::fpga::toolchains::icestorm::generate_pcf(&uut)
    );
    Ok((verilog, pcf))
}
