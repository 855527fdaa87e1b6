//! CRC-32 (spec's `checksum`) one byte per clock, as logic.

use coldgate_spec::checksum;
use rust_hdl::prelude::*;

/// The CRC register after one byte: spec's `checksum::update_register` as eight unrolled
/// reflected steps (combinational; the caller holds the register).
#[derive(LogicBlock)]
pub struct CrcByte {
    pub state: Signal<In, Bits<32>>,
    pub data: Signal<In, Bits<8>>,
    pub out: Signal<Out, Bits<32>>,
    poly: Constant<Bits<32>>,
    s0: Signal<Local, Bits<32>>,
    s1: Signal<Local, Bits<32>>,
    s2: Signal<Local, Bits<32>>,
    s3: Signal<Local, Bits<32>>,
    s4: Signal<Local, Bits<32>>,
    s5: Signal<Local, Bits<32>>,
    s6: Signal<Local, Bits<32>>,
    s7: Signal<Local, Bits<32>>,
}

impl Default for CrcByte {
    fn default() -> Self {
        CrcByte {
            state: Default::default(),
            data: Default::default(),
            out: Default::default(),
            poly: Constant::new(checksum::POLY_REFLECTED.to_bits()),
            s0: Default::default(),
            s1: Default::default(),
            s2: Default::default(),
            s3: Default::default(),
            s4: Default::default(),
            s5: Default::default(),
            s6: Default::default(),
            s7: Default::default(),
        }
    }
}

impl Logic for CrcByte {
    #[hdl_gen]
    fn update(&mut self) {
        self.s0.next = self.state.val() ^ bit_cast::<32, 8>(self.data.val());
        self.s1.next = self.s0.val() >> 1;
        if self.s0.val().get_bit(0) {
            self.s1.next = (self.s0.val() >> 1) ^ self.poly.val();
        }
        self.s2.next = self.s1.val() >> 1;
        if self.s1.val().get_bit(0) {
            self.s2.next = (self.s1.val() >> 1) ^ self.poly.val();
        }
        self.s3.next = self.s2.val() >> 1;
        if self.s2.val().get_bit(0) {
            self.s3.next = (self.s2.val() >> 1) ^ self.poly.val();
        }
        self.s4.next = self.s3.val() >> 1;
        if self.s3.val().get_bit(0) {
            self.s4.next = (self.s3.val() >> 1) ^ self.poly.val();
        }
        self.s5.next = self.s4.val() >> 1;
        if self.s4.val().get_bit(0) {
            self.s5.next = (self.s4.val() >> 1) ^ self.poly.val();
        }
        self.s6.next = self.s5.val() >> 1;
        if self.s5.val().get_bit(0) {
            self.s6.next = (self.s5.val() >> 1) ^ self.poly.val();
        }
        self.s7.next = self.s6.val() >> 1;
        if self.s6.val().get_bit(0) {
            self.s7.next = (self.s6.val() >> 1) ^ self.poly.val();
        }
        self.out.next = self.s7.val() >> 1;
        if self.s7.val().get_bit(0) {
            self.out.next = (self.s7.val() >> 1) ^ self.poly.val();
        }
    }
}
