//! The Colorlight 5A-75B top `coldgate_colorlight` (board revision 7.0): the Ethernet core
//! [`ColdgateEth`] between the board's two gigabit ports.
//!
//! ```text
//!  25 MHz osc ─ EHXPLLL ─ 125 MHz core clock ─┬─ reset sequencer ─ phy_rst_n (both PHYs)
//!                                             │
//!  jack 1 (PHY U) ═ RGMII ═ RgmiiPort u ═ GMII ═ ColdgateEth ═ GMII ═ RgmiiPort t ═ RGMII ═ jack 2 (PHY T)
//!                                             │
//!                                    status ──┴─ led_n
//! ```
//!
//! * Board: LFE5U-25F-6BG256C, two Broadcom B50612D PHYs on RGMII sharing one reset line and
//!   one MDIO bus, a 25 MHz oscillator, one user LED, one button. Pins are in [`PINS`], from
//!   the board's published reverse engineering (LiteX's `colorlight_5a_75b` platform for
//!   revision 7.0, and chubby75's pinout); the LPF is generated from that table alone.
//! * Clocks: the core and both transmitters run on the PLL's 125 MHz
//!   ([`coldgate_spec::eth::GMII_HZ`]); each receiver runs on its PHY's RXC and hands whole
//!   frames over through [`crate::rgmii::FrameCdc`].
//! * Reset: after configuration and after every press of the button, once the PLL has
//!   locked: both PHYs are held in reset for [`BoardTiming::phy_reset_ms`], then the logic
//!   stays in reset for [`BoardTiming::settle_ms`] more so that both PHYs' receive clocks are
//!   running when the receive FIFOs leave reset (their reset handshake needs them).
//! * MDIO is not used: the B50612D comes out of reset (its strap defaults) advertising
//!   10/100/1000 with its RGMII transmit delay on, which is what this design needs; nothing
//!   has to be written. MDC and MDIO are left unconnected. A link that negotiates 10 or 100
//!   Mbit/s carries garbage at this design's 125 MHz RGMII timing; the Ethernet layer drops
//!   it (preamble, FCS) and the LED shows the link is not at 1000.
//! * Status: `status_tx` sends every counter over and over ([`super::status`], 3 Mbaud 8N1,
//!   [`status_counter_names`] order), on HUB75 connector J1 pin 1 (through the board's 5 V
//!   buffer). It has no input: nothing on it can change what the lanes do.
//! * LED (active low): dark in reset; lit while both ports run with a gigabit link (the
//!   PHYs' RGMII in-band status); blinking slowly (about 1 Hz) while either does not; each
//!   dropped frame (any Ethernet or lane drop reason, a receive error or a full receive FIFO)
//!   turns it off for about 67 ms.

use coldgate_spec::config::RATE_REFILL_HZ;
use coldgate_spec::eth::GMII_HZ;
use rust_hdl::prelude::*;

use super::status::{StatusUart, COUNTER_BITS};
use crate::ecp5::Pll;
use crate::eth::top::ColdgateEth;
use crate::rgmii::RgmiiPort;

/// Module name of the top.
pub const MODULE: &str = "coldgate_colorlight";
/// The board's oscillator, MHz.
pub const OSC_MHZ: u32 = 25;
/// The core clock, MHz (one GMII byte per clock).
pub const CORE_MHZ: u32 = GMII_HZ / 1_000_000;
const _: () = assert!(CORE_MHZ * 1_000_000 == GMII_HZ);
/// Device and package for nextpnr.
pub const DEVICE: &str = "LFE5U-25F-6BG256C";
/// The board revision whose pins [`PINS`] holds.
pub const REVISION: &str = "7.0";

const SEQ_BITS: usize = 22;
const TICK_PERIOD: u32 = GMII_HZ / RATE_REFILL_HZ;
const TICK_BITS: usize = (u32::BITS - TICK_PERIOD.leading_zeros()) as usize;
/// Clocks the LED stays off after a drop: 2^23 at 125 MHz, about 67 ms.
const FLASH_BITS: usize = 23;
/// Bits of the free-running counter that blinks the LED: its top bit (26, written as a
/// literal in the kernel) flips every 2^26 clocks, about 0.54 s.
const BLINK_BITS: usize = 27;

/// Status UART rate: 3 Mbaud (42 clocks a bit at 125 MHz, 0.8% off: within a UART's
/// tolerance).
pub const STATUS_BAUD: u32 = 3_000_000;
const STATUS_DIVISOR: u16 = ((GMII_HZ + STATUS_BAUD / 2) / STATUS_BAUD) as u16;

/// The status snapshot's counters, in order: each lane's (`harness::COUNTER_NAMES`), each
/// Ethernet port's (`coldgate_spec::eth::COUNTER_NAMES`), then each receive FIFO's frames
/// dropped for lack of room and for a receive error.
pub fn status_counter_names() -> Vec<String> {
    let mut v = vec![];
    for lane in ["req", "resp"] {
        for n in crate::harness::COUNTER_NAMES {
            v.push(format!("{lane}_{n}"));
        }
    }
    for port in ["u", "t"] {
        for n in coldgate_spec::eth::COUNTER_NAMES {
            v.push(format!("{port}_eth_{n}"));
        }
    }
    for port in ["u", "t"] {
        v.push(format!("{port}_fifo_dropped"));
        v.push(format!("{port}_fifo_errored"));
    }
    assert_eq!(v.len(), super::status::STATUS_COUNTERS);
    v
}

/// How long the reset sequencer holds the PHYs and then the logic, in core clocks, and the
/// status UART's clocks per bit. Simulations shorten them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoardTiming {
    pub phy_reset_clocks: u32,
    pub settle_clocks: u32,
    pub status_divisor: u16,
}

impl BoardTiming {
    /// On the board: PHYs 10 ms in reset, then 5 ms for them to start their clocks.
    pub const BOARD: BoardTiming = BoardTiming {
        phy_reset_clocks: 10 * (GMII_HZ / 1_000),
        settle_clocks: 5 * (GMII_HZ / 1_000),
        status_divisor: STATUS_DIVISOR,
    };

    pub fn phy_reset_ms(&self) -> f64 {
        f64::from(self.phy_reset_clocks) * 1e3 / f64::from(GMII_HZ)
    }

    pub fn settle_ms(&self) -> f64 {
        f64::from(self.settle_clocks) * 1e3 / f64::from(GMII_HZ)
    }
}

const _: () = assert!(
    (BoardTiming::BOARD.phy_reset_clocks as u64 + BoardTiming::BOARD.settle_clocks as u64)
        < (1u64 << SEQ_BITS)
);

/// What a pin is for: direction and electrical settings in the LPF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinKind {
    /// An input; `pull_up` for the button.
    Input { pull_up: bool },
    /// A clock input of `mhz`.
    Clock { mhz: u32 },
    /// An output; `fast` slew for the RGMII transmit lines.
    Output { fast: bool },
}

/// One FPGA pin of the top: port name (with bit index for a bus), ball, kind, and what it is
/// on the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pin {
    pub port: &'static str,
    pub bit: Option<u8>,
    pub site: &'static str,
    pub kind: PinKind,
    pub what: &'static str,
}

const fn pin(port: &'static str, site: &'static str, kind: PinKind, what: &'static str) -> Pin {
    Pin {
        port,
        bit: None,
        site,
        kind,
        what,
    }
}

const fn bus(port: &'static str, bit: u8, site: &'static str, kind: PinKind) -> Pin {
    Pin {
        port,
        bit: Some(bit),
        site,
        kind,
        what: "",
    }
}

const IN: PinKind = PinKind::Input { pull_up: false };
const OUT: PinKind = PinKind::Output { fast: false };
const TX: PinKind = PinKind::Output { fast: true };
const RXC: PinKind = PinKind::Clock { mhz: CORE_MHZ };

/// Every pin of `coldgate_colorlight` on the 5A-75B revision 7.0. Port U is the PHY LiteX
/// calls `eth 0` (the jack next to the 5 V power connector), port T `eth 1`.
pub const PINS: &[Pin] = &[
    pin(
        "clk25",
        "P6",
        PinKind::Clock { mhz: OSC_MHZ },
        "25 MHz oscillator",
    ),
    pin(
        "rst_n",
        "M13",
        PinKind::Input { pull_up: true },
        "button, low when pressed",
    ),
    pin("led_n", "P11", OUT, "user LED, active low"),
    pin("phy_rst_n", "P5", OUT, "reset of both PHYs, active low"),
    pin(
        "status_tx",
        "F3",
        OUT,
        "counter snapshots, 3 Mbaud: HUB75 J1 pin 1 (5 V buffer)",
    ),
    pin("u_rxc", "M1", RXC, "PHY U receive clock"),
    pin("u_rx_ctl", "N6", IN, "PHY U RX_CTL"),
    bus("u_rxd", 0, "N1", IN),
    bus("u_rxd", 1, "M5", IN),
    bus("u_rxd", 2, "N5", IN),
    bus("u_rxd", 3, "M6", IN),
    pin("u_txc", "M2", TX, "PHY U transmit clock"),
    pin("u_tx_ctl", "M3", TX, "PHY U TX_CTL"),
    bus("u_txd", 0, "L1", TX),
    bus("u_txd", 1, "L3", TX),
    bus("u_txd", 2, "P2", TX),
    bus("u_txd", 3, "L4", TX),
    pin("t_rxc", "M16", RXC, "PHY T receive clock"),
    pin("t_rx_ctl", "L15", IN, "PHY T RX_CTL"),
    bus("t_rxd", 0, "P13", IN),
    bus("t_rxd", 1, "N13", IN),
    bus("t_rxd", 2, "P14", IN),
    bus("t_rxd", 3, "M15", IN),
    pin("t_txc", "M12", TX, "PHY T transmit clock"),
    pin("t_tx_ctl", "R15", TX, "PHY T TX_CTL"),
    bus("t_txd", 0, "T14", TX),
    bus("t_txd", 1, "R12", TX),
    bus("t_txd", 2, "R13", TX),
    bus("t_txd", 3, "R14", TX),
];

/// The pin constraints (LPF) for nextpnr-ecp5, from [`PINS`] alone. `core_target_mhz`, if
/// given, asks nextpnr to place the core clock for that rate rather than the PLL's own
/// 125 MHz (a margin target; the PLL still makes 125 MHz).
pub fn lpf(core_target_mhz: Option<u32>) -> String {
    let mut out = format!(
        "# coldgate_colorlight on the Colorlight 5A-75B rev {REVISION} ({DEVICE}); generated by\n\
         # coldgate-hdl from coldgate_hdl::boards::colorlight::PINS.\n\
         BLOCK RESETPATHS;\nBLOCK ASYNCPATHS;\n"
    );
    for p in PINS {
        let name = match p.bit {
            Some(b) => format!("{}[{b}]", p.port),
            None => p.port.to_string(),
        };
        let extra = match p.kind {
            PinKind::Input { pull_up: true } => " PULLMODE=UP",
            PinKind::Output { fast: true } => " SLEWRATE=FAST",
            _ => "",
        };
        let what = if p.what.is_empty() {
            String::new()
        } else {
            format!(" # {}", p.what)
        };
        out += &format!("LOCATE COMP \"{name}\" SITE \"{}\";{what}\n", p.site);
        out += &format!("IOBUF PORT \"{name}\" IO_TYPE=LVCMOS33{extra};\n");
        if let PinKind::Clock { mhz } = p.kind {
            out += &format!("FREQUENCY PORT \"{name}\" {mhz} MHZ;\n");
        }
    }
    if let Some(mhz) = core_target_mhz {
        out += &format!("FREQUENCY NET \"{CORE_CLOCK_NET}\" {mhz} MHZ;\n");
    }
    out
}

/// Name of the core clock net in the synthesised top (the PLL's output, the top's local
/// signal `clock`).
pub const CORE_CLOCK_NET: &str = "clock";

/// The board top. Field names are its Verilog port names.
#[derive(LogicBlock)]
pub struct ColorlightTop {
    pub clk25: Signal<In, Clock>,
    pub rst_n: Signal<In, Bit>,
    pub led_n: Signal<Out, Bit>,
    pub phy_rst_n: Signal<Out, Bit>,
    pub status_tx: Signal<Out, Bit>,
    pub u_rxc: Signal<In, Clock>,
    pub u_rx_ctl: Signal<In, Bit>,
    pub u_rxd: Signal<In, Bits<4>>,
    pub u_txc: Signal<Out, Bit>,
    pub u_tx_ctl: Signal<Out, Bit>,
    pub u_txd: Signal<Out, Bits<4>>,
    pub t_rxc: Signal<In, Clock>,
    pub t_rx_ctl: Signal<In, Bit>,
    pub t_rxd: Signal<In, Bits<4>>,
    pub t_txc: Signal<Out, Bit>,
    pub t_tx_ctl: Signal<Out, Bit>,
    pub t_txd: Signal<Out, Bits<4>>,
    pll: Pll,
    core: ColdgateEth,
    u_port: RgmiiPort,
    t_port: RgmiiPort,
    status: StatusUart,
    /// Frames each receive FIFO dropped: no room, and receive errors.
    u_fifo_dropped: DFF<Bits<32>>,
    u_fifo_errored: DFF<Bits<32>>,
    t_fifo_dropped: DFF<Bits<32>>,
    t_fifo_errored: DFF<Bits<32>>,
    lock0: DFF<Bit>,
    lock1: DFF<Bit>,
    button0: DFF<Bit>,
    button1: DFF<Bit>,
    /// Clocks since lock or the last press, saturating at the end of the sequence.
    seq: DFF<Bits<SEQ_BITS>>,
    phy_out_of_reset: DFF<Bit>,
    logic_reset: DFF<Bit>,
    /// The reset of each RGMII port, through a register of its own (the second after the
    /// first: yosys merges flip-flops with the same input): the ports sit at opposite
    /// edges of the chip, and a reset net from one flip-flop to both missed the core clock.
    /// The ports leave reset a clock or two after the core, which then sees them idle
    /// until their FIFOs' reset handshakes finish.
    u_port_reset: DFF<Bit>,
    t_port_reset: DFF<Bit>,
    tick_timer: DFF<Bits<TICK_BITS>>,
    tick: DFF<Bit>,
    drop_parity: DFF<Bit>,
    /// The parity of the lanes' and of the ports' drop counters' low bits, each registered
    /// where it is computed (the counters are spread over the chip): the LED's flash then
    /// starts from registers.
    lane_parity: DFF<Bit>,
    eth_parity: DFF<Bit>,
    flash: DFF<Bits<FLASH_BITS>>,
    /// A drop or a port's event on the last clock: starts the flash on this one (the
    /// events come from all over the chip; the flash counter's load from a register).
    flash_go: DFF<Bit>,
    blink: DFF<Bits<BLINK_BITS>>,
    led: DFF<Bit>,
    phy_release: Constant<Bits<SEQ_BITS>>,
    logic_release: Constant<Bits<SEQ_BITS>>,
    tick_period_m1: Constant<Bits<TICK_BITS>>,
    flash_len: Constant<Bits<FLASH_BITS>>,
    clock: Signal<Local, Clock>,
    parity: Signal<Local, Bit>,
    healthy: Signal<Local, Bit>,
    counters: Signal<Local, Bits<COUNTER_BITS>>,
}

impl ColorlightTop {
    /// The top with the reset sequencer's `timing` ([`BoardTiming::BOARD`] on the board;
    /// simulations shorten it).
    pub fn new(timing: BoardTiming) -> ColorlightTop {
        let mut t = ColorlightTop {
            clk25: Default::default(),
            rst_n: Default::default(),
            led_n: Default::default(),
            phy_rst_n: Default::default(),
            status_tx: Default::default(),
            u_rxc: Default::default(),
            u_rx_ctl: Default::default(),
            u_rxd: Default::default(),
            u_txc: Default::default(),
            u_tx_ctl: Default::default(),
            u_txd: Default::default(),
            t_rxc: Default::default(),
            t_rx_ctl: Default::default(),
            t_rxd: Default::default(),
            t_txc: Default::default(),
            t_tx_ctl: Default::default(),
            t_txd: Default::default(),
            pll: Pll::new(OSC_MHZ, CORE_MHZ),
            core: ColdgateEth::new(),
            u_port: Default::default(),
            t_port: Default::default(),
            status: StatusUart::new(timing.status_divisor),
            u_fifo_dropped: Default::default(),
            u_fifo_errored: Default::default(),
            t_fifo_dropped: Default::default(),
            t_fifo_errored: Default::default(),
            lock0: Default::default(),
            lock1: Default::default(),
            button0: Default::default(),
            button1: Default::default(),
            seq: Default::default(),
            phy_out_of_reset: Default::default(),
            logic_reset: Default::default(),
            u_port_reset: Default::default(),
            t_port_reset: Default::default(),
            tick_timer: Default::default(),
            tick: Default::default(),
            drop_parity: Default::default(),
            lane_parity: Default::default(),
            eth_parity: Default::default(),
            flash: Default::default(),
            flash_go: Default::default(),
            blink: Default::default(),
            led: Default::default(),
            phy_release: Constant::new(timing.phy_reset_clocks.to_bits()),
            logic_release: Constant::new(
                (timing.phy_reset_clocks + timing.settle_clocks).to_bits(),
            ),
            tick_period_m1: Constant::new((TICK_PERIOD - 1).to_bits()),
            flash_len: Constant::new(((1u32 << FLASH_BITS) - 1).to_bits()),
            clock: Default::default(),
            parity: Default::default(),
            healthy: Default::default(),
            counters: Default::default(),
        };
        // Top-level inputs are driven from outside the design.
        t.clk25.connect();
        t.rst_n.connect();
        t.u_rxc.connect();
        t.u_rx_ctl.connect();
        t.u_rxd.connect();
        t.t_rxc.connect();
        t.t_rx_ctl.connect();
        t.t_rxd.connect();
        t
    }
}

impl Logic for ColorlightTop {
    #[hdl_gen]
    fn update(&mut self) {
        self.pll.clock_in.next = self.clk25.val();
        self.clock.next = self.pll.clock_out.val();
        dff_setup!(
            self,
            clock,
            lock0,
            lock1,
            button0,
            button1,
            seq,
            phy_out_of_reset,
            logic_reset,
            u_port_reset,
            t_port_reset,
            tick_timer,
            tick,
            drop_parity,
            lane_parity,
            eth_parity,
            flash,
            flash_go,
            blink,
            led,
            u_fifo_dropped,
            u_fifo_errored,
            t_fifo_dropped,
            t_fifo_errored
        );

        // Reset sequence, counted on the core clock once the PLL has locked. Flip-flops
        // configure to zero, so the sequence runs after configuration; the button (taken
        // through two flip-flops) starts it again.
        self.lock0.d.next = self.pll.locked.val();
        self.lock1.d.next = self.lock0.q.val();
        self.button0.d.next = self.rst_n.val();
        self.button1.d.next = self.button0.q.val();
        if self.seq.q.val() != self.logic_release.val() {
            self.seq.d.next = self.seq.q.val() + 1;
        }
        if !self.lock1.q.val() | !self.button1.q.val() {
            self.seq.d.next = 0.into();
        }
        self.phy_out_of_reset.d.next = self.seq.q.val() >= self.phy_release.val();
        self.logic_reset.d.next = self.seq.q.val() != self.logic_release.val();
        self.phy_rst_n.next = self.phy_out_of_reset.q.val();

        // Token-bucket refill ticks for the request lane.
        self.tick.d.next = false;
        if self.tick_timer.q.val().any() {
            self.tick_timer.d.next = self.tick_timer.q.val() - 1;
        } else {
            self.tick_timer.d.next = self.tick_period_m1.val();
            self.tick.d.next = true;
        }

        // Ports and core.
        self.u_port.rxc.next = self.u_rxc.val();
        self.u_port.rx_ctl.next = self.u_rx_ctl.val();
        self.u_port.rxd.next = self.u_rxd.val();
        self.u_txc.next = self.u_port.txc.val();
        self.u_tx_ctl.next = self.u_port.tx_ctl.val();
        self.u_txd.next = self.u_port.txd.val();
        self.t_port.rxc.next = self.t_rxc.val();
        self.t_port.rx_ctl.next = self.t_rx_ctl.val();
        self.t_port.rxd.next = self.t_rxd.val();
        self.t_txc.next = self.t_port.txc.val();
        self.t_tx_ctl.next = self.t_port.tx_ctl.val();
        self.t_txd.next = self.t_port.txd.val();
        self.u_port.clock.next = self.clock.val();
        self.t_port.clock.next = self.clock.val();
        self.core.clock.next = self.clock.val();
        self.u_port_reset.d.next = self.logic_reset.q.val();
        self.t_port_reset.d.next = self.u_port_reset.q.val();
        self.u_port.reset.next = self.u_port_reset.q.val();
        self.t_port.reset.next = self.t_port_reset.q.val();
        self.core.reset.next = self.logic_reset.q.val();
        self.core.tick.next = self.tick.q.val();
        self.core.u_rxd.next = self.u_port.rx_data.val();
        self.core.u_rx_dv.next = self.u_port.rx_dv.val();
        self.u_port.tx_data.next = self.core.u_txd.val();
        self.u_port.tx_en.next = self.core.u_tx_en.val();
        self.core.t_rxd.next = self.t_port.rx_data.val();
        self.core.t_rx_dv.next = self.t_port.rx_dv.val();
        self.t_port.tx_data.next = self.core.t_txd.val();
        self.t_port.tx_en.next = self.core.t_tx_en.val();

        // LED. Every drop counter moves by one per drop, so the parity of their low bits
        // changes with each drop (two on the same clock cancel: this is a lamp, not a count).
        self.lane_parity.d.next = self.core.req_count_bad_const.val().get_bit(0)
            ^ self.core.req_count_not_in_set.val().get_bit(0)
            ^ self.core.req_count_out_of_range.val().get_bit(0)
            ^ self.core.req_count_reserved_nonzero.val().get_bit(0)
            ^ self.core.req_count_bad_crc.val().get_bit(0)
            ^ self.core.req_count_rate_limited.val().get_bit(0)
            ^ self.core.resp_count_bad_const.val().get_bit(0)
            ^ self.core.resp_count_not_in_set.val().get_bit(0)
            ^ self.core.resp_count_out_of_range.val().get_bit(0)
            ^ self.core.resp_count_reserved_nonzero.val().get_bit(0)
            ^ self.core.resp_count_bad_crc.val().get_bit(0)
            ^ self.core.resp_count_rate_limited.val().get_bit(0);
        self.eth_parity.d.next = self.core.u_eth_count_bad_preamble.val().get_bit(0)
            ^ self.core.u_eth_count_runt.val().get_bit(0)
            ^ self.core.u_eth_count_giant.val().get_bit(0)
            ^ self.core.u_eth_count_bad_fcs.val().get_bit(0)
            ^ self.core.u_eth_count_not_for_us.val().get_bit(0)
            ^ self.core.u_eth_count_foreign_source.val().get_bit(0)
            ^ self.core.u_eth_count_foreign_ethertype.val().get_bit(0)
            ^ self.core.u_eth_count_bad_length.val().get_bit(0)
            ^ self.core.u_eth_count_overrun.val().get_bit(0)
            ^ self.core.t_eth_count_bad_preamble.val().get_bit(0)
            ^ self.core.t_eth_count_runt.val().get_bit(0)
            ^ self.core.t_eth_count_giant.val().get_bit(0)
            ^ self.core.t_eth_count_bad_fcs.val().get_bit(0)
            ^ self.core.t_eth_count_not_for_us.val().get_bit(0)
            ^ self.core.t_eth_count_foreign_source.val().get_bit(0)
            ^ self.core.t_eth_count_foreign_ethertype.val().get_bit(0)
            ^ self.core.t_eth_count_bad_length.val().get_bit(0)
            ^ self.core.t_eth_count_overrun.val().get_bit(0);
        self.parity.next = self.lane_parity.q.val() ^ self.eth_parity.q.val();
        self.drop_parity.d.next = self.parity.val();
        if self.flash.q.val().any() {
            self.flash.d.next = self.flash.q.val() - 1;
        }
        self.flash_go.d.next = (self.drop_parity.q.val() != self.parity.val())
            | self.u_port.dropped.val()
            | self.u_port.errored.val()
            | self.t_port.dropped.val()
            | self.t_port.errored.val();
        if self.flash_go.q.val() {
            self.flash.d.next = self.flash_len.val();
        }
        self.blink.d.next = self.blink.q.val() + 1;
        self.healthy.next = self.u_port.running.val()
            & self.t_port.running.val()
            & self.u_port.link_gbit.val()
            & self.t_port.link_gbit.val();
        self.led.d.next = !self.logic_reset.q.val()
            & !self.flash.q.val().any()
            & (self.healthy.val() | self.blink.q.val().get_bit(26));
        self.led_n.next = !self.led.q.val();

        // Counter snapshots on the status pin, in the order of `status_counter_names`.
        if self.u_port.dropped.val() {
            self.u_fifo_dropped.d.next = self.u_fifo_dropped.q.val() + 1;
        }
        if self.u_port.errored.val() {
            self.u_fifo_errored.d.next = self.u_fifo_errored.q.val() + 1;
        }
        if self.t_port.dropped.val() {
            self.t_fifo_dropped.d.next = self.t_fifo_dropped.q.val() + 1;
        }
        if self.t_port.errored.val() {
            self.t_fifo_errored.d.next = self.t_fifo_errored.q.val() + 1;
        }
        if self.logic_reset.q.val() {
            self.u_fifo_dropped.d.next = 0.into();
            self.u_fifo_errored.d.next = 0.into();
            self.t_fifo_dropped.d.next = 0.into();
            self.t_fifo_errored.d.next = 0.into();
        }
        self.counters.next = bit_cast::<COUNTER_BITS, 32>(self.core.req_count_passed.val())
            | (bit_cast::<COUNTER_BITS, 32>(self.core.req_count_bad_const.val()) << 32)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.req_count_not_in_set.val()) << 64)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.req_count_out_of_range.val()) << 96)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.req_count_reserved_nonzero.val()) << 128)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.req_count_bad_crc.val()) << 160)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.req_count_rate_limited.val()) << 192)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.resp_count_passed.val()) << 224)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.resp_count_bad_const.val()) << 256)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.resp_count_not_in_set.val()) << 288)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.resp_count_out_of_range.val()) << 320)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.resp_count_reserved_nonzero.val()) << 352)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.resp_count_bad_crc.val()) << 384)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.resp_count_rate_limited.val()) << 416)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.u_eth_count_accepted.val()) << 448)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.u_eth_count_bad_preamble.val()) << 480)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.u_eth_count_runt.val()) << 512)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.u_eth_count_giant.val()) << 544)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.u_eth_count_bad_fcs.val()) << 576)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.u_eth_count_not_for_us.val()) << 608)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.u_eth_count_foreign_source.val()) << 640)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.u_eth_count_foreign_ethertype.val()) << 672)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.u_eth_count_bad_length.val()) << 704)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.u_eth_count_overrun.val()) << 736)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.u_eth_count_sent.val()) << 768)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.t_eth_count_accepted.val()) << 800)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.t_eth_count_bad_preamble.val()) << 832)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.t_eth_count_runt.val()) << 864)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.t_eth_count_giant.val()) << 896)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.t_eth_count_bad_fcs.val()) << 928)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.t_eth_count_not_for_us.val()) << 960)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.t_eth_count_foreign_source.val()) << 992)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.t_eth_count_foreign_ethertype.val()) << 1024)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.t_eth_count_bad_length.val()) << 1056)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.t_eth_count_overrun.val()) << 1088)
            | (bit_cast::<COUNTER_BITS, 32>(self.core.t_eth_count_sent.val()) << 1120)
            | (bit_cast::<COUNTER_BITS, 32>(self.u_fifo_dropped.q.val()) << 1152)
            | (bit_cast::<COUNTER_BITS, 32>(self.u_fifo_errored.q.val()) << 1184)
            | (bit_cast::<COUNTER_BITS, 32>(self.t_fifo_dropped.q.val()) << 1216)
            | (bit_cast::<COUNTER_BITS, 32>(self.t_fifo_errored.q.val()) << 1248);
        self.status.clock.next = self.clock.val();
        self.status.reset.next = self.logic_reset.q.val();
        self.status.counters.next = self.counters.val();
        self.status_tx.next = self.status.tx.val();
    }
}

/// Verilog of the top, module [`MODULE`], and its LPF (with `core_target_mhz` as in [`lpf`]).
pub fn files(timing: BoardTiming, core_target_mhz: Option<u32>) -> (String, String) {
    let mut top = ColorlightTop::new(timing);
    top.connect_all();
    (crate::verilog::generate(&top, MODULE), lpf(core_target_mhz))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each port bit of the top has exactly one pin, and each pin a port bit.
    #[test]
    fn every_port_bit_has_one_pin() {
        let (v, _) = files(BoardTiming::BOARD, None);
        let top = &v[v.find(&format!("module {MODULE}(")).unwrap()..];
        let top = &top[..top.find("endmodule").unwrap()];
        let header = &top[..top.find(");").unwrap()];
        let mut ports = vec![];
        for decl in top.lines().filter(|l| {
            let l = l.trim_start();
            (l.starts_with("input ") || l.starts_with("output ")) && l.ends_with(';')
        }) {
            let words: Vec<&str> = decl
                .trim()
                .trim_end_matches(';')
                .split_whitespace()
                .collect();
            let name = *words.last().unwrap();
            if !header.contains(name) {
                continue;
            }
            let width = words.iter().find(|w| w.starts_with('[')).map_or(1, |w| {
                let hi: u8 = w[1..w.find(':').unwrap()].parse().unwrap();
                hi + 1
            });
            ports.push((name.to_string(), width));
        }
        let mut want: Vec<(String, Option<u8>)> = ports
            .iter()
            .flat_map(|(n, w)| {
                (0..*w).map(move |b| (n.clone(), if *w == 1 { None } else { Some(b) }))
            })
            .collect();
        let mut have: Vec<(String, Option<u8>)> =
            PINS.iter().map(|p| (p.port.to_string(), p.bit)).collect();
        want.sort();
        have.sort();
        assert_eq!(have, want);
        let mut sites: Vec<&str> = PINS.iter().map(|p| p.site).collect();
        sites.sort();
        sites.dedup();
        assert_eq!(sites.len(), PINS.len(), "a ball used twice");
    }

    #[test]
    fn lpf_locates_every_pin_and_constrains_the_clocks() {
        let l = lpf(Some(150));
        for p in PINS {
            assert!(l.contains(&format!("SITE \"{}\";", p.site)), "{p:?}");
        }
        assert!(l.contains("FREQUENCY PORT \"clk25\" 25 MHZ;"));
        assert!(l.contains("FREQUENCY PORT \"u_rxc\" 125 MHZ;"));
        assert!(l.contains("FREQUENCY PORT \"t_rxc\" 125 MHZ;"));
        assert!(l.contains(&format!("FREQUENCY NET \"{CORE_CLOCK_NET}\" 150 MHZ;")));
        assert_eq!(l.matches("SLEWRATE=FAST").count(), 12);
    }

    #[test]
    fn colorlight_top_checks_and_validates() {
        let mut top = ColorlightTop::new(BoardTiming::BOARD);
        top.connect_all();
        check_all(&top).unwrap();
        yosys_validate(
            "cg_colorlight_top",
            &(generate_verilog(&top) + crate::ecp5::BLACKBOXES),
        )
        .unwrap();
    }
}
