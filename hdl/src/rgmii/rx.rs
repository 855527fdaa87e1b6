//! RGMII receive: DDR nibbles to GMII bytes, in the PHY's receive clock domain.

use rust_hdl::prelude::*;

use crate::ecp5::DdrIn;

/// RGMII receiver. On each rising edge of `rxc` the PHY puts data bits 3:0 and RX_DV on the
/// pins, on the falling edge bits 7:4 and RX_DV xor RX_ER (RGMII 2.0). Outputs are registers
/// clocked by `rxc`, two clocks after the pins.
///
/// Between frames (RX_DV and RX_ER both low) the PHY may send its link state on the data
/// pins (RGMII in-band status): `link_up` and `speed` (0: 10, 1: 100, 2: 1000 Mbit/s) keep
/// the last one seen.
#[derive(LogicBlock)]
pub struct RgmiiRx {
    pub rxc: Signal<In, Clock>,
    pub rx_ctl: Signal<In, Bit>,
    pub rxd: Signal<In, Bits<4>>,
    pub data: Signal<Out, Bits<8>>,
    pub dv: Signal<Out, Bit>,
    pub er: Signal<Out, Bit>,
    pub link_up: Signal<Out, Bit>,
    pub speed: Signal<Out, Bits<2>>,
    /// Bit 4 is RX_CTL, bits 3:0 RXD.
    ddr: DdrIn<5>,
    data_q: DFF<Bits<8>>,
    dv_q: DFF<Bit>,
    er_q: DFF<Bit>,
    link_q: DFF<Bit>,
    speed_q: DFF<Bits<2>>,
}

impl RgmiiRx {
    /// A receiver that delays its pins by `delay_ps` before sampling them.
    pub fn new(delay_ps: u32) -> RgmiiRx {
        RgmiiRx {
            rxc: Default::default(),
            rx_ctl: Default::default(),
            rxd: Default::default(),
            data: Default::default(),
            dv: Default::default(),
            er: Default::default(),
            link_up: Default::default(),
            speed: Default::default(),
            ddr: DdrIn::new(delay_ps),
            data_q: Default::default(),
            dv_q: Default::default(),
            er_q: Default::default(),
            link_q: Default::default(),
            speed_q: Default::default(),
        }
    }
}

impl Logic for RgmiiRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, rxc, data_q, dv_q, er_q, link_q, speed_q);
        self.ddr.clock.next = self.rxc.val();
        self.ddr.pins.next =
            bit_cast::<5, 4>(self.rxd.val()) | (bit_cast::<5, 1>(self.rx_ctl.val().into()) << 4);
        self.data_q.d.next = bit_cast::<8, 4>(self.ddr.rise.val().get_bits::<4>(0))
            | (bit_cast::<8, 4>(self.ddr.fall.val().get_bits::<4>(0)) << 4);
        self.dv_q.d.next = self.ddr.rise.val().get_bit(4);
        self.er_q.d.next = self.ddr.rise.val().get_bit(4) ^ self.ddr.fall.val().get_bit(4);
        if !self.ddr.rise.val().get_bit(4) & !self.ddr.fall.val().get_bit(4) {
            self.link_q.d.next = self.ddr.rise.val().get_bit(0);
            self.speed_q.d.next = self.ddr.rise.val().get_bits::<2>(1);
        }
        self.data.next = self.data_q.q.val();
        self.dv.next = self.dv_q.q.val();
        self.er.next = self.er_q.q.val();
        self.link_up.next = self.link_q.q.val();
        self.speed.next = self.speed_q.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgmii_rx_checks_and_validates() {
        let mut uut = RgmiiRx::new(super::super::RX_DELAY_PS);
        uut.rxc.connect();
        uut.rx_ctl.connect();
        uut.rxd.connect();
        uut.connect_all();
        check_all(&uut).unwrap();
        yosys_validate(
            "cg_rgmii_rx",
            &(generate_verilog(&uut) + crate::ecp5::BLACKBOXES),
        )
        .unwrap();
    }
}
