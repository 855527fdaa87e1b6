//! RGMII transmit: GMII bytes to DDR nibbles and the transmit clock, from the core clock.

use rust_hdl::prelude::*;

use crate::ecp5::DdrOut;

/// RGMII transmitter. The GMII byte on `data` with `en` and `er` at a rising edge of `clock`
/// leaves on the pins during the clock after it: bits 3:0 and TX_EN while TXC is high, bits
/// 7:4 and TX_EN xor TX_ER while it is low. TXC is the core clock through the same kind of
/// DDR register, so clock and data leave edge-aligned and the PHY's own TX delay centres
/// them.
#[derive(LogicBlock, Default)]
pub struct RgmiiTx {
    pub clock: Signal<In, Clock>,
    pub data: Signal<In, Bits<8>>,
    pub en: Signal<In, Bit>,
    pub er: Signal<In, Bit>,
    pub txc: Signal<Out, Bit>,
    pub tx_ctl: Signal<Out, Bit>,
    pub txd: Signal<Out, Bits<4>>,
    /// Bit 5 is TXC, bit 4 TX_CTL, bits 3:0 TXD.
    ddr: DdrOut<6>,
}

impl Logic for RgmiiTx {
    #[hdl_gen]
    fn update(&mut self) {
        self.ddr.clock.next = self.clock.val();
        self.ddr.rise.next = bit_cast::<6, 4>(self.data.val().get_bits::<4>(0))
            | (bit_cast::<6, 1>(self.en.val().into()) << 4)
            | (bit_cast::<6, 1>(true.into()) << 5);
        self.ddr.fall.next = bit_cast::<6, 4>(self.data.val().get_bits::<4>(4))
            | (bit_cast::<6, 1>((self.en.val() ^ self.er.val()).into()) << 4);
        self.txd.next = self.ddr.pins.val().get_bits::<4>(0);
        self.tx_ctl.next = self.ddr.pins.val().get_bit(4);
        self.txc.next = self.ddr.pins.val().get_bit(5);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgmii_tx_checks_and_validates() {
        let mut uut = RgmiiTx::default();
        uut.clock.connect();
        uut.data.connect();
        uut.en.connect();
        uut.er.connect();
        uut.connect_all();
        check_all(&uut).unwrap();
        yosys_validate(
            "cg_rgmii_tx",
            &(generate_verilog(&uut) + crate::ecp5::BLACKBOXES),
        )
        .unwrap();
    }
}
