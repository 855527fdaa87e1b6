//! One Ethernet port between its RGMII pins and the core's GMII side, in the core clock.

use rust_hdl::prelude::*;

use super::{FrameCdc, RgmiiRx, RgmiiTx, RX_DELAY_PS};

/// An RGMII port: receive pins through [`RgmiiRx`] and [`FrameCdc`] to GMII `rx_data`/
/// `rx_dv` on the core `clock`; GMII `tx_data`/`tx_en` through [`RgmiiTx`] to the transmit
/// pins. Field names are the Verilog port names.
///
/// Status, all in the core clock domain: `running` (both sides of the FIFO out of reset),
/// `link_gbit` (the PHY's in-band status says link up at 1000 Mbit/s, taken through two
/// flip-flops), and one-clock pulses `dropped` (a frame found the FIFO full) and `errored`
/// (a frame the PHY flagged with a receive error).
#[derive(LogicBlock)]
pub struct RgmiiPort {
    pub rxc: Signal<In, Clock>,
    pub rx_ctl: Signal<In, Bit>,
    pub rxd: Signal<In, Bits<4>>,
    pub txc: Signal<Out, Bit>,
    pub tx_ctl: Signal<Out, Bit>,
    pub txd: Signal<Out, Bits<4>>,
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub rx_data: Signal<Out, Bits<8>>,
    pub rx_dv: Signal<Out, Bit>,
    pub tx_data: Signal<In, Bits<8>>,
    pub tx_en: Signal<In, Bit>,
    pub running: Signal<Out, Bit>,
    pub link_gbit: Signal<Out, Bit>,
    pub dropped: Signal<Out, Bit>,
    pub errored: Signal<Out, Bit>,
    rx: RgmiiRx,
    cdc: FrameCdc,
    tx: RgmiiTx,
    link0: DFF<Bit>,
    link1: DFF<Bit>,
    gbit: Constant<Bits<2>>,
}

impl Default for RgmiiPort {
    fn default() -> Self {
        RgmiiPort {
            rxc: Default::default(),
            rx_ctl: Default::default(),
            rxd: Default::default(),
            txc: Default::default(),
            tx_ctl: Default::default(),
            txd: Default::default(),
            clock: Default::default(),
            reset: Default::default(),
            rx_data: Default::default(),
            rx_dv: Default::default(),
            tx_data: Default::default(),
            tx_en: Default::default(),
            running: Default::default(),
            link_gbit: Default::default(),
            dropped: Default::default(),
            errored: Default::default(),
            rx: RgmiiRx::new(RX_DELAY_PS),
            cdc: Default::default(),
            tx: Default::default(),
            link0: Default::default(),
            link1: Default::default(),
            gbit: Constant::new(2u8.to_bits()),
        }
    }
}

impl Logic for RgmiiPort {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, link0, link1);
        self.rx.rxc.next = self.rxc.val();
        self.rx.rx_ctl.next = self.rx_ctl.val();
        self.rx.rxd.next = self.rxd.val();

        self.cdc.w_clock.next = self.rxc.val();
        self.cdc.w_data.next = self.rx.data.val();
        self.cdc.w_dv.next = self.rx.dv.val();
        self.cdc.w_er.next = self.rx.er.val();
        self.cdc.clock.next = self.clock.val();
        self.cdc.reset.next = self.reset.val();
        self.rx_data.next = self.cdc.data.val();
        self.rx_dv.next = self.cdc.dv.val();
        self.running.next = self.cdc.running.val();
        self.dropped.next = self.cdc.dropped.val();
        self.errored.next = self.cdc.errored.val();

        // A level that changes rarely: two flip-flops are enough.
        self.link0.d.next = self.rx.link_up.val() & (self.rx.speed.val() == self.gbit.val());
        self.link1.d.next = self.link0.q.val();
        self.link_gbit.next = self.link1.q.val();

        self.tx.clock.next = self.clock.val();
        self.tx.data.next = self.tx_data.val();
        self.tx.en.next = self.tx_en.val();
        self.tx.er.next = false;
        self.txc.next = self.tx.txc.val();
        self.tx_ctl.next = self.tx.tx_ctl.val();
        self.txd.next = self.tx.txd.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgmii_port_checks_and_validates() {
        let mut uut = RgmiiPort::default();
        uut.rxc.connect();
        uut.rx_ctl.connect();
        uut.rxd.connect();
        uut.clock.connect();
        uut.reset.connect();
        uut.tx_data.connect();
        uut.tx_en.connect();
        uut.connect_all();
        check_all(&uut).unwrap();
        yosys_validate(
            "cg_rgmii_port",
            &(generate_verilog(&uut) + crate::ecp5::BLACKBOXES),
        )
        .unwrap();
    }
}
