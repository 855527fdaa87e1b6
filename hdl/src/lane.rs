//! One verifier lane: hunting, per-byte rules, CRC, token bucket, store and forward, NOTICEs.
//!
//! The behaviour is `coldgate_spec::golden::Lane`, byte for byte; this module is how logic
//! does it at one byte per clock.
//!
//! # Input stage (one byte per clock)
//!
//! `pos` is the offset of the next byte (0..4 while hunting for the magic). Each byte is
//! checked against two bounds held in registers, `lo <= byte <= hi`: an equality check has
//! equal bounds, a closed set its two ends, a range byte its limit bytes while the
//! most-significant-first comparison is still open, any byte `0..=255`. So the verdict on a
//! byte is two carry-chain comparisons and an OR.
//!
//! The bounds come from the rule ROM (block RAM) through two registers that move on each
//! accepted byte: `rules` (`RuleRead`), the block RAM's read (the rule of `pos + 2`), and `rule_q`
//! after it (the rule of `pos + 1`). When the byte at `pos` is accepted, `rule_q` is decoded
//! into the next bounds and takes `rules`' output, and the ROM reads the rule of `pos + 3` (of 2
//! after a frame's last byte), so the RAM reads three bytes ahead of the byte being checked.
//! Its address does not wait for the handshake (the accept is the read's enable), and
//! nothing but `rule_q` follows its output: the ECP5 flow moves that register into the block
//! RAM's own output register (see `flow_ecp5`), whose clock-to-out is a sixth of the RAM's. Hunting bytes use the magic as bounds instead, so a restart after a failing byte
//! (at offset 0, or 1 when the failing byte was `MAGIC[0]`) costs no cycle; by offset 3,
//! whose accept decodes the bounds of offset 4, the ROM pipeline has refilled. The message
//! type byte (offset 5) selects the ROM row from the body on; the header rows of all types
//! are the same (the generator asserts it).
//!
//! The CRC trailer is checked byte by byte: a frame's four CRC bytes make the register equal
//! the catalog residue exactly when they are the complemented register before them,
//! little-endian (the appended-CRC property of CRC-32/ISO-HDLC; the map from the four bytes
//! to the final register is a bijection, so the equivalence holds both ways). Comparing one
//! byte per clock keeps a 32-bit compare off the input path; the verdict still falls on the
//! last byte, as in the golden model.
//!
//! A failing byte's effect is deferred by one clock (`failed`): the state registers
//! (`pos`, `started`, the bounds, ...) are always written as if the byte passed, and on the
//! next byte the `cur_*` signals replace them with the hunting state the failure implies
//! (offset 0, or 1 when the failing byte was `MAGIC[0]`; the magic's bytes are pairwise
//! distinct, so that byte alone decides). The comparators' verdict then only reaches
//! `failed`, not the next-state logic of every register, which is what lets the lane run
//! at its clock rate (see `coldgate-hdl synth`). `failed` itself is not a register but a
//! choice between three, each loaded straight from its own check of the byte: the bounds
//! (`fail_rule`, two carry chains and one LUT), the hunting byte (`fail_hunt`), and whether
//! the byte was checked as hunting (`hunted`, the previous `failed`). The choice costs the
//! next clock one LUT on registers placed by the lane, instead of the comparators' clock
//! a multiplexer after carry chains that start from the input queue.
//!
//! # Verdict stage (one clock later)
//!
//! The byte that decides a frame sets `v_pass`, or the parts of a drop (a rule drop as
//! "failed" and "counts as a drop"; the reason and field as the rule's and "was the last
//! byte, did its CRC byte match"), resolved one clock later in `dropped`, `d_reason` and
//! `d_field`. Then a passed slot is committed, the pass counter counts and a drop starts
//! its NOTICE; the drop counters count one clock after that (`c_inc`). The token bucket
//! applies a clock's take and tick together one clock later, take first; the verdict itself
//! sees the previous clock's tick. Two verdicts are a frame apart, so this is exactly the
//! golden model's order: a tick between two bytes refills before the second byte's verdict,
//! and a tick on the deciding clock after it.
//!
//! # Store and forward
//!
//! The store holds `LANE_SLOTS` slots of 256 bytes in block RAM. Bytes are written at
//! `{write slot, offset}` as they arrive; a passed frame commits its slot, a dropped frame's
//! slot is simply reused. Offset 0 is never written: every slot holds `MAGIC[0]` there from
//! configuration, so a frame found by restarting on a failing byte (which is `MAGIC[0]`)
//! needs no write to an offset other than the one being received. The reader streams
//! committed slots at one byte per clock into a two-byte queue (`pass_q`). The byte it
//! pushes is a register, `rd_q` (which the ECP5 flow moves into the block RAM), loaded on each
//! push from the block RAM, whose address is the next read position plus one: `rd_q` always
//! holds the byte at the read position, except at a slot's offset 0, which is `MAGIC[0]`
//! (`r_first` picks the constant). The queue's room is a register, so the far side's ready
//! stops there.
//!
//! # NOTICE generator
//!
//! Two stages into its own queue (`notice_q`): the first walks the NOTICE template and picks
//! each byte (template constant, kept header byte, reason, field, flags); the second runs
//! the CRC over the bytes as they leave and replaces the four trailer bytes with it.
//!
//! Reset is needed after power-up (the board top applies it).
//!
//! `in_ready` is low only when every slot is committed, or when the lane is inside a frame
//! while the previous NOTICE is still being sent (the NOTICE reads the kept client id and
//! counter, which the next frame would overwrite). Hunting bytes are accepted meanwhile.

use coldgate_spec::field::{self, MAGIC, NO_FIELD};
use coldgate_spec::{checksum, config, DropReason, LaneConfig};
use rust_hdl::prelude::*;

use crate::crc::CrcByte;
use crate::queue::ByteQueue;
use crate::rules::{self, HDR_BITS, OFFSET_BITS, RULE_ADDR_BITS, TYPE_BITS};

/// Slot-index bits of the store.
pub const SLOT_BITS: usize = config::LANE_SLOTS.trailing_zeros() as usize;
const _: () = assert!(config::LANE_SLOTS.is_power_of_two() && config::LANE_SLOTS >= 2);
/// Store address width: a slot index and an offset.
pub const STORE_ADDR_BITS: usize = SLOT_BITS + OFFSET_BITS;
/// Width of the committed-slot count (0..=LANE_SLOTS).
pub const COUNT_BITS: usize = SLOT_BITS + 1;
/// Width of the token bucket (spent tokens, 0..=burst).
pub const TOKEN_BITS: usize = (u32::BITS - config::RATE_BURST.leading_zeros()) as usize;
const _: () = assert!(config::RATE_BURST > 0);
/// Counter width, from spec.
pub const COUNTER_BITS: usize = config::COUNTER_BITS as usize;
const _: () = assert!(COUNTER_BITS == 32);
// `c_inc` has a bit per reason code.
const _: () = {
    let mut i = 0;
    while i < DropReason::ALL.len() {
        assert!((DropReason::ALL[i] as u8) < 8);
        i += 1;
    }
};
// The NOTICE CRC register refills with ones (see `n_crc`).
const _: () = assert!(checksum::INIT == u32::MAX);

/// The rule ROM read as a block RAM with a clock enable: `data` is the word at the `address`
/// of the last clock with `enable` high. A block of its own so that the ROM's address comes
/// straight from a port: in the lane's one `always` block, a combinational ROM's address
/// and data would form a loop for Verilator's scheduler. yosys turns the ROM and the
/// register into one block RAM read port with an enable.
#[derive(LogicBlock)]
pub struct RuleRead {
    pub clock: Signal<In, Clock>,
    pub address: Signal<In, Bits<RULE_ADDR_BITS>>,
    pub enable: Signal<In, Bit>,
    pub data: Signal<Out, Bits<32>>,
    rom: ROM<Bits<32>, RULE_ADDR_BITS>,
    lat: DFF<Bits<32>>,
}

impl RuleRead {
    /// The rule ROM of `lane`, from spec's field table.
    pub fn new(lane: coldgate_spec::LaneId) -> RuleRead {
        RuleRead {
            clock: Default::default(),
            address: Default::default(),
            enable: Default::default(),
            data: Default::default(),
            rom: ROM::new(rules::rule_rom(lane)),
            lat: Default::default(),
        }
    }
}

impl Logic for RuleRead {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, lat);
        self.rom.address.next = self.address.val();
        self.data.next = self.lat.q.val();
        if self.enable.val() {
            self.lat.d.next = self.rom.data.val();
        }
    }
}

/// One lane. Ports are AXI-Stream style: a byte moves when valid and ready are both high.
#[derive(LogicBlock)]
pub struct LaneCore {
    pub clock: Signal<In, Clock>,
    /// Synchronous, active high: back to hunting, store empty, counters zero, no NOTICE.
    pub reset: Signal<In, Bit>,
    /// One-cycle token-bucket refill pulse (ignored on a lane without rate limit).
    pub tick: Signal<In, Bit>,
    pub in_data: Signal<In, Bits<8>>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    /// Frames that passed, whole and back to back, towards the far side.
    pub pass_data: Signal<Out, Bits<8>>,
    pub pass_valid: Signal<Out, Bit>,
    pub pass_last: Signal<Out, Bit>,
    pub pass_ready: Signal<In, Bit>,
    /// NOTICE frames, towards the side the dropped frames came from.
    pub notice_data: Signal<Out, Bits<8>>,
    pub notice_valid: Signal<Out, Bit>,
    pub notice_last: Signal<Out, Bit>,
    pub notice_ready: Signal<In, Bit>,
    /// Counters, wrapping, in `harness::COUNTER_NAMES` order.
    pub count_passed: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_bad_const: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_not_in_set: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_out_of_range: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_reserved_nonzero: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_bad_crc: Signal<Out, Bits<COUNTER_BITS>>,
    pub count_rate_limited: Signal<Out, Bits<COUNTER_BITS>>,

    // Memories and combinational helpers.
    /// The rule ROM and its read (the rule of `pos + 2`, loaded on each accepted
    /// byte).
    rules: RuleRead,
    store: RAM<Bits<8>, STORE_ADDR_BITS>,
    template: ROM<Bits<16>, OFFSET_BITS>,
    /// Output queues: the far side's ready reaches only their registers.
    pass_q: ByteQueue,
    notice_q: ByteQueue,
    /// CRC of the frame coming in, and of the NOTICE going out.
    in_crc: CrcByte,
    notice_crc: CrcByte,

    // Input stage.
    pos: DFF<Bits<OFFSET_BITS>>,
    started: DFF<Bit>,
    /// `rules`' output, registered (loaded on each accepted byte): the rule of `pos + 1`. No
    /// reset, no other input: the ECP5 flow folds it into the block RAM.
    rule_q: DFF<Bits<32>>,
    /// The current byte's rule word without its check (decoded into `lo_b`, `hi_b`):
    /// `{word[31:23], word[20:16]}`.
    rule_cur: DFF<Bits<14>>,
    type_index: DFF<Bits<TYPE_BITS>>,
    /// The current byte's check, decoded one clock ahead into bounds so the verdict is two
    /// carry-chain comparisons and an OR: the byte fails when below `lo` or above `hi`. An
    /// equality check (constants, reserved zeros, magic while hunting) has `lo == hi`, a set
    /// `lo..=hi`, a range byte its limit bytes while the comparison is still open, no check
    /// `0..=255`. Reset (which the core needs after power-up) sets both to `MAGIC[0]`.
    ///
    /// A bound is held as a byte (`lo_b`, `hi_b`) and whether it applies (`lo_use`,
    /// `hi_use`; if not, the bound is 0 or 255): the byte comes from the rule alone, and
    /// only the flag from whether the previous byte left a range comparison open. That flag
    /// is itself a function of registers (`bound_fix | lo_cont & lo_eq`): the previous byte's
    /// equality with its bound is registered raw (`lo_eq`), so the comparators' equality
    /// result reaches one flip-flop and the choice it makes is taken on the next clock,
    /// beside the carry chain rather than after it.
    lo_b: DFF<Bits<8>>,
    hi_b: DFF<Bits<8>>,
    /// Both bounds apply whatever the previous byte was: an equality, a set, a range's
    /// first byte, a magic byte.
    bound_fix: DFF<Bit>,
    /// A range byte whose comparisons open here (its field's first byte).
    range_start: DFF<Bit>,
    /// A range byte whose comparison was open for the previous byte: it stays open (and
    /// the bound applies) if that byte equalled its bound (`lo_eq`).
    lo_cont: DFF<Bit>,
    hi_cont: DFF<Bit>,
    /// The last accepted byte equalled `lo_b` / `hi_b` as they were then.
    lo_eq: DFF<Bit>,
    hi_eq: DFF<Bit>,
    /// The last accepted byte was outside its registered bounds (`below | above`).
    fail_rule: DFF<Bit>,
    /// The last accepted byte was not the hunting byte a failure looks for next: `MAGIC[0]`,
    /// or `MAGIC[1]` after a failing `MAGIC[0]` (see `failed_magic0`).
    fail_hunt: DFF<Bit>,
    /// The last accepted byte followed a failing byte, so it was checked as hunting
    /// (`fail_hunt`) rather than against the registered bounds (`fail_rule`): `failed` as
    /// it was when that byte was accepted.
    hunted: DFF<Bit>,
    /// The failing byte was `MAGIC[0]`, so hunting resumes at offset 1.
    failed_magic0: DFF<Bit>,
    /// Inside a frame: the magic has been seen and no byte of the frame has failed, except
    /// maybe the last one accepted: like the rest of the state it learns of a failure a clock
    /// later, through `failed` (`cur_in_frame` is the state the current byte sees).
    in_frame: DFF<Bit>,
    crc: DFF<Bits<32>>,
    crc_ok: DFF<Bit>,
    hdr: DFF<Bits<HDR_BITS>>,
    /// A header byte to capture into `hdr` (and the byte), one clock after it was accepted,
    /// so the 56-bit shift register's enable comes from registers rather than the handshake.
    cap_valid: DFF<Bit>,
    cap_byte: DFF<Bits<8>>,
    spent: DFF<Bits<TOKEN_BITS>>,
    tick_d: DFF<Bit>,
    // Verdict stage.
    v_pass: DFF<Bit>,
    v_drop: DFF<Bit>,
    /// The last byte was in a frame and its rule can drop it: with `failed`, a rule drop.
    v_fail_en: DFF<Bit>,
    v_reason: DFF<Bits<8>>,
    v_field: DFF<Bits<8>>,
    v_readable: DFF<Bit>,
    /// The deciding byte was a frame's last, and its CRC byte matched (see `d_reason`).
    v_end: DFF<Bit>,
    v_crc_good: DFF<Bit>,
    // Store and reader.
    wslot: DFF<Bits<SLOT_BITS>>,
    rslot: DFF<Bits<SLOT_BITS>>,
    count: DFF<Bits<COUNT_BITS>>,
    full: DFF<Bit>,
    roff: DFF<Bits<OFFSET_BITS>>,
    r_active: DFF<Bit>,
    r_last: DFF<Bit>,
    /// The store's output, registered on each push (no reset, no other input: the ECP5 flow
    /// folds it into the block RAM): the byte at `{rslot, roff}` unless `r_first`.
    rd_q: DFF<Bits<8>>,
    /// The read position is a slot's offset 0, whose byte is `MAGIC[0]` (never read).
    r_first: DFF<Bit>,
    // Counters.
    /// The drop counter that counts this clock, one-hot by reason code: decoded a clock
    /// ahead so that each counter's enable is a register.
    c_inc: DFF<Bits<8>>,
    c_passed: DFF<Bits<COUNTER_BITS>>,
    c_bad_const: DFF<Bits<COUNTER_BITS>>,
    c_not_in_set: DFF<Bits<COUNTER_BITS>>,
    c_out_of_range: DFF<Bits<COUNTER_BITS>>,
    c_reserved_nonzero: DFF<Bits<COUNTER_BITS>>,
    c_bad_crc: DFF<Bits<COUNTER_BITS>>,
    c_rate_limited: DFF<Bits<COUNTER_BITS>>,
    // NOTICE generator.
    n_busy: DFF<Bit>,
    /// Offset of the NOTICE byte after the one in `n_word` (the template lookup address).
    n_off: DFF<Bits<OFFSET_BITS>>,
    n_word: DFF<Bits<16>>,
    /// `n_word`'s byte comes from the kept header (decoded as the word is loaded, so the
    /// header register's shift enable is one level of logic).
    n_is_hdr: DFF<Bit>,
    /// The NOTICE's CRC register. It shifts in ones as the trailer leaves, so it holds the
    /// CRC's initial value again after every NOTICE (and from reset): no clear is needed.
    n_crc: DFF<Bits<32>>,
    /// Second NOTICE stage: the byte chosen from the template, on its way to `notice_q`
    /// through the CRC (or replaced by the CRC when it is a trailer byte).
    nb_valid: DFF<Bit>,
    nb_data: DFF<Bits<8>>,
    nb_crc: DFF<Bit>,
    nb_last: DFF<Bit>,
    n_reason: DFF<Bits<8>>,
    n_field: DFF<Bits<8>>,
    n_readable: DFF<Bit>,

    // Parameters (Verilog localparams), all derived from coldgate-spec.
    magic0: Constant<Bits<8>>,
    magic1: Constant<Bits<8>>,
    magic2: Constant<Bits<8>>,
    magic3: Constant<Bits<8>>,
    hunt_last: Constant<Bits<OFFSET_BITS>>,
    /// The rule ROM's offset after a frame's last byte: the next frame's offset 0, plus two.
    rule_restart: Constant<Bits<OFFSET_BITS>>,
    penult: Constant<Bits<OFFSET_BITS>>,
    crc_init: Constant<Bits<32>>,
    crc_magic: Constant<Bits<32>>,
    /// Ones shifted into the NOTICE CRC register as its trailer leaves (see `n_crc`).
    crc_refill: Constant<Bits<32>>,
    slots: Constant<Bits<COUNT_BITS>>,
    limited: Constant<Bit>,
    burst: Constant<Bits<TOKEN_BITS>>,
    check_eq: Constant<Bits<2>>,
    check_set: Constant<Bits<2>>,
    check_range: Constant<Bits<2>>,
    r_bad_const: Constant<Bits<8>>,
    r_not_in_set: Constant<Bits<8>>,
    r_out_of_range: Constant<Bits<8>>,
    r_reserved_nonzero: Constant<Bits<8>>,
    r_bad_crc: Constant<Bits<8>>,
    r_rate_limited: Constant<Bits<8>>,
    no_field: Constant<Bits<8>>,
    src_header: Constant<Bits<3>>,
    src_reason: Constant<Bits<3>>,
    src_field: Constant<Bits<3>>,
    src_flags: Constant<Bits<3>>,
    src_crc: Constant<Bits<3>>,
    notice_first: Constant<Bits<16>>,
    hdr_top: Constant<Bits<8>>,

    // Combinational intermediates.
    in_byte: Signal<Local, Bits<8>>,
    word: Signal<Local, Bits<14>>,
    rule_field: Signal<Local, Bits<8>>,
    rule_reason: Signal<Local, Bits<8>>,
    rule_first: Signal<Local, Bit>,
    rule_crc: Signal<Local, Bit>,
    rule_readable: Signal<Local, Bit>,
    rule_capture: Signal<Local, Bit>,
    rule_end: Signal<Local, Bit>,
    rule_type: Signal<Local, Bit>,
    ready: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    magic_next: Signal<Local, Bits<8>>,
    /// The byte is below its lower bound / above its upper bound (each compared with the
    /// bound's byte straight from its register, then qualified by whether it applies).
    below: Signal<Local, Bit>,
    above: Signal<Local, Bit>,
    /// The current byte's bound applies (see `lo_b`).
    lo_use: Signal<Local, Bit>,
    hi_use: Signal<Local, Bit>,
    /// A range comparison is open at the lower / upper limit for the current byte (the bytes
    /// so far equal the limit's).
    lo_on: Signal<Local, Bit>,
    hi_on: Signal<Local, Bit>,
    next_check: Signal<Local, Bits<2>>,
    next_a: Signal<Local, Bits<8>>,
    next_b: Signal<Local, Bits<8>>,
    /// The next byte's check is an equality / a set / a range.
    next_eq: Signal<Local, Bit>,
    next_set: Signal<Local, Bit>,
    next_range: Signal<Local, Bit>,
    cur_pos: Signal<Local, Bits<OFFSET_BITS>>,
    /// `cur_pos + 1` and `cur_pos + 3`, with the adders on `pos` ahead of the `failed` choice.
    cur_pos1: Signal<Local, Bits<OFFSET_BITS>>,
    cur_pos3: Signal<Local, Bits<OFFSET_BITS>>,
    cur_started: Signal<Local, Bit>,
    cur_in_frame: Signal<Local, Bit>,
    cur_lo_on: Signal<Local, Bit>,
    cur_hi_on: Signal<Local, Bit>,
    is_magic1: Signal<Local, Bit>,
    fail: Signal<Local, Bit>,
    /// The last accepted byte failed, and the restart it causes is not in `pos`, `started`,
    /// the bounds and the open flags yet: this clock's logic sees the hunting state through
    /// the `cur_*` signals instead. Keeping the comparators' verdict out of the next-state
    /// logic is what lets the lane run at its clock rate.
    failed: Signal<Local, Bit>,
    restart: Signal<Local, Bit>,
    /// The byte is not the hunting byte (see `fail_hunt`).
    hunt_fail: Signal<Local, Bit>,
    end_drop: Signal<Local, Bit>,
    rule_drop: Signal<Local, Bit>,
    dropped: Signal<Local, Bit>,
    crc_good: Signal<Local, Bit>,
    tokens_empty: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    pop: Signal<Local, Bit>,
    free: Signal<Local, Bit>,
    next_rslot: Signal<Local, Bits<SLOT_BITS>>,
    next_roff: Signal<Local, Bits<OFFSET_BITS>>,
    /// The store's read offset: the next read position's plus one.
    read_off: Signal<Local, Bits<OFFSET_BITS>>,
    next_count: Signal<Local, Bits<COUNT_BITS>>,
    d_reason: Signal<Local, Bits<8>>,
    d_field: Signal<Local, Bits<8>>,
    n_adv: Signal<Local, Bit>,
    n_src: Signal<Local, Bits<3>>,
    n_byte: Signal<Local, Bits<8>>,
    hdr_in: Signal<Local, Bits<8>>,
}

impl LaneCore {
    /// The lane `config` describes, with its ROMs generated from spec's field table.
    pub fn new(config: LaneConfig) -> LaneCore {
        let burst = config.rate_burst.unwrap_or(0);
        assert!(
            u64::from(burst) < 1 << TOKEN_BITS,
            "burst wider than the bucket"
        );
        let mut store = std::collections::BTreeMap::new();
        for slot in 0..config::LANE_SLOTS {
            let addr: Bits<STORE_ADDR_BITS> = (slot << OFFSET_BITS).to_bits();
            store.insert(addr, MAGIC[0].to_bits());
        }
        let crc_magic = MAGIC
            .iter()
            .fold(checksum::INIT, |r, &m| checksum::update_register(r, m));
        let reason = |r: DropReason| Constant::new((r as u8).to_bits());
        let src = |s: rules::NoticeSource| Constant::new((s as u32).to_bits());
        let notice_first = rules::notice_words(config.lane)[0].1;
        LaneCore {
            clock: Default::default(),
            reset: Default::default(),
            tick: Default::default(),
            in_data: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            pass_data: Default::default(),
            pass_valid: Default::default(),
            pass_last: Default::default(),
            pass_ready: Default::default(),
            notice_data: Default::default(),
            notice_valid: Default::default(),
            notice_last: Default::default(),
            notice_ready: Default::default(),
            count_passed: Default::default(),
            count_bad_const: Default::default(),
            count_not_in_set: Default::default(),
            count_out_of_range: Default::default(),
            count_reserved_nonzero: Default::default(),
            count_bad_crc: Default::default(),
            count_rate_limited: Default::default(),
            rules: RuleRead::new(config.lane),
            store: RAM::new(store),
            template: ROM::new(rules::notice_rom(config.lane)),
            pass_q: Default::default(),
            notice_q: Default::default(),
            in_crc: Default::default(),
            notice_crc: Default::default(),
            pos: Default::default(),
            started: Default::default(),
            rule_q: Default::default(),
            rule_cur: Default::default(),
            type_index: Default::default(),
            lo_b: Default::default(),
            hi_b: Default::default(),
            bound_fix: Default::default(),
            range_start: Default::default(),
            lo_cont: Default::default(),
            hi_cont: Default::default(),
            lo_eq: Default::default(),
            hi_eq: Default::default(),
            fail_rule: Default::default(),
            fail_hunt: Default::default(),
            hunted: Default::default(),
            failed: Default::default(),
            failed_magic0: Default::default(),
            in_frame: Default::default(),
            crc: Default::default(),
            crc_ok: Default::default(),
            hdr: Default::default(),
            cap_valid: Default::default(),
            cap_byte: Default::default(),
            spent: Default::default(),
            tick_d: Default::default(),
            v_pass: Default::default(),
            v_drop: Default::default(),
            v_fail_en: Default::default(),
            v_reason: Default::default(),
            v_field: Default::default(),
            v_readable: Default::default(),
            v_end: Default::default(),
            v_crc_good: Default::default(),
            wslot: Default::default(),
            rslot: Default::default(),
            count: Default::default(),
            full: Default::default(),
            roff: Default::default(),
            r_active: Default::default(),
            r_last: Default::default(),
            rd_q: Default::default(),
            r_first: Default::default(),
            c_inc: Default::default(),
            c_passed: Default::default(),
            c_bad_const: Default::default(),
            c_not_in_set: Default::default(),
            c_out_of_range: Default::default(),
            c_reserved_nonzero: Default::default(),
            c_bad_crc: Default::default(),
            c_rate_limited: Default::default(),
            n_busy: Default::default(),
            n_off: Default::default(),
            n_word: Default::default(),
            n_is_hdr: Default::default(),
            n_crc: Default::default(),
            nb_valid: Default::default(),
            nb_data: Default::default(),
            nb_crc: Default::default(),
            nb_last: Default::default(),
            n_reason: Default::default(),
            n_field: Default::default(),
            n_readable: Default::default(),
            magic0: Constant::new(MAGIC[0].to_bits()),
            magic1: Constant::new(MAGIC[1].to_bits()),
            magic2: Constant::new(MAGIC[2].to_bits()),
            magic3: Constant::new(MAGIC[3].to_bits()),
            hunt_last: Constant::new((MAGIC.len() - 1).to_bits()),
            rule_restart: Constant::new(2u32.to_bits()),
            penult: Constant::new((field::FRAME_LEN - 2).to_bits()),
            crc_init: Constant::new(checksum::INIT.to_bits()),
            crc_magic: Constant::new(crc_magic.to_bits()),
            crc_refill: Constant::new(0xFF00_0000u32.to_bits()),
            slots: Constant::new(config::LANE_SLOTS.to_bits()),
            limited: Constant::new(config.rate_burst.is_some()),
            burst: Constant::new(burst.to_bits()),
            check_eq: Constant::new(rules::CHECK_EQ.to_bits()),
            check_set: Constant::new(rules::CHECK_SET.to_bits()),
            check_range: Constant::new(rules::CHECK_RANGE.to_bits()),
            r_bad_const: reason(DropReason::BadConst),
            r_not_in_set: reason(DropReason::NotInSet),
            r_out_of_range: reason(DropReason::OutOfRange),
            r_reserved_nonzero: reason(DropReason::ReservedNonZero),
            r_bad_crc: reason(DropReason::BadCrc),
            r_rate_limited: reason(DropReason::RateLimited),
            no_field: Constant::new(NO_FIELD.to_bits()),
            src_header: src(rules::NoticeSource::Header),
            src_reason: src(rules::NoticeSource::Reason),
            src_field: src(rules::NoticeSource::Field),
            src_flags: src(rules::NoticeSource::Flags),
            src_crc: src(rules::NoticeSource::Crc),
            notice_first: Constant::new(notice_first.to_bits()),
            hdr_top: Constant::new((HDR_BITS - 8).to_bits()),
            in_byte: Default::default(),
            word: Default::default(),
            rule_field: Default::default(),
            rule_reason: Default::default(),
            rule_first: Default::default(),
            rule_crc: Default::default(),
            rule_readable: Default::default(),
            rule_capture: Default::default(),
            rule_end: Default::default(),
            rule_type: Default::default(),
            ready: Default::default(),
            accept: Default::default(),
            magic_next: Default::default(),
            below: Default::default(),
            above: Default::default(),
            lo_use: Default::default(),
            hi_use: Default::default(),
            lo_on: Default::default(),
            hi_on: Default::default(),
            next_check: Default::default(),
            next_a: Default::default(),
            next_b: Default::default(),
            next_eq: Default::default(),
            next_set: Default::default(),
            next_range: Default::default(),
            cur_pos: Default::default(),
            cur_pos1: Default::default(),
            cur_pos3: Default::default(),
            cur_started: Default::default(),
            cur_in_frame: Default::default(),
            cur_lo_on: Default::default(),
            cur_hi_on: Default::default(),
            is_magic1: Default::default(),
            fail: Default::default(),
            restart: Default::default(),
            hunt_fail: Default::default(),
            end_drop: Default::default(),
            rule_drop: Default::default(),
            dropped: Default::default(),
            crc_good: Default::default(),
            tokens_empty: Default::default(),
            take: Default::default(),
            pop: Default::default(),
            free: Default::default(),
            next_rslot: Default::default(),
            next_roff: Default::default(),
            read_off: Default::default(),
            next_count: Default::default(),
            d_reason: Default::default(),
            d_field: Default::default(),
            n_adv: Default::default(),
            n_src: Default::default(),
            n_byte: Default::default(),
            hdr_in: Default::default(),
        }
    }
}

impl Logic for LaneCore {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            pos,
            started,
            rule_q,
            rule_cur,
            type_index,
            lo_b,
            hi_b,
            bound_fix,
            range_start,
            lo_cont,
            hi_cont,
            lo_eq,
            hi_eq,
            fail_rule,
            fail_hunt,
            hunted,
            failed_magic0,
            in_frame,
            crc,
            crc_ok,
            hdr,
            cap_valid,
            cap_byte,
            spent,
            tick_d,
            v_pass,
            v_drop,
            v_fail_en,
            v_reason,
            v_field,
            v_readable,
            v_end,
            v_crc_good,
            wslot,
            rslot,
            count,
            full,
            roff,
            r_active,
            r_last,
            rd_q,
            r_first,
            c_inc,
            c_passed,
            c_bad_const,
            c_not_in_set,
            c_out_of_range,
            c_reserved_nonzero,
            c_bad_crc,
            c_rate_limited,
            n_busy,
            n_off,
            n_word,
            n_is_hdr,
            n_crc,
            nb_valid,
            nb_data,
            nb_crc,
            nb_last,
            n_reason,
            n_field,
            n_readable
        );
        self.store.read_clock.next = self.clock.val();
        self.store.write_clock.next = self.clock.val();
        self.rules.clock.next = self.clock.val();
        // Handshake: ready depends on registers only. Set first, before anything reads the
        // input, so Verilator's ordering of this block sees no loop through a source whose
        // valid follows our ready.
        self.failed.next = self.fail_rule.q.val();
        if self.hunted.q.val() {
            self.failed.next = self.fail_hunt.q.val();
        }
        self.cur_in_frame.next = self.in_frame.q.val() & !self.failed.val();
        self.ready.next = !self.full.q.val() & !(self.cur_in_frame.val() & self.n_busy.q.val());
        self.in_ready.next = self.ready.val();
        // The CRC register after this byte. The magic is constant, so the register entering
        // a frame is too (`crc_magic`) and hunting bytes need no CRC. (Set first: Verilator
        // orders this block's statements, and the CRC reads nothing computed below.)
        self.in_crc.state.next = self.crc.q.val();
        self.in_crc.data.next = self.in_data.val();

        // The state this byte sees: the registers, or hunting after a failing byte (see
        // `failed`).
        self.cur_pos.next = self.pos.q.val();
        self.cur_started.next = self.started.q.val();
        self.cur_pos1.next = self.pos.q.val() + 1;
        self.cur_pos3.next = self.pos.q.val() + 3;
        self.lo_use.next = self.bound_fix.q.val() | (self.lo_cont.q.val() & self.lo_eq.q.val());
        self.hi_use.next = self.bound_fix.q.val() | (self.hi_cont.q.val() & self.hi_eq.q.val());
        self.lo_on.next = self.range_start.q.val() | (self.lo_cont.q.val() & self.lo_eq.q.val());
        self.hi_on.next = self.range_start.q.val() | (self.hi_cont.q.val() & self.hi_eq.q.val());
        self.cur_lo_on.next = self.lo_on.val();
        self.cur_hi_on.next = self.hi_on.val();
        if self.failed.val() {
            self.cur_pos.next = bit_cast::<OFFSET_BITS, 1>(self.failed_magic0.q.val().into());
            self.cur_started.next = self.failed_magic0.q.val();
            self.cur_pos1.next = 1.into();
            self.cur_pos3.next = 3.into();
            if self.failed_magic0.q.val() {
                self.cur_pos1.next = 2.into();
                self.cur_pos3.next = 4.into();
            }
            self.cur_lo_on.next = false;
            self.cur_hi_on.next = false;
        }

        // The rule for the byte at `pos` (meaningful in a frame, see the module doc).
        self.word.next = self.rule_cur.q.val();
        self.rule_field.next = bit_cast::<8, 5>(self.word.val().get_bits::<5>(0));
        self.rule_reason.next = bit_cast::<8, 3>(self.word.val().get_bits::<3>(5));
        self.rule_first.next = self.word.val().get_bit(8);
        self.rule_crc.next = self.word.val().get_bit(9) & self.cur_in_frame.val();
        self.rule_readable.next = self.word.val().get_bit(10);
        self.rule_capture.next = self.word.val().get_bit(11) & self.cur_in_frame.val();
        self.rule_end.next = self.word.val().get_bit(12) & self.cur_in_frame.val();
        self.rule_type.next = self.word.val().get_bit(13) & self.cur_in_frame.val();

        // Handshake.
        self.in_byte.next = self.in_data.val();
        self.accept.next = self.in_valid.val() & self.ready.val();

        // The byte against its bounds (see `lo_b`).
        self.below.next = self.lo_use.val() & (self.in_byte.val() < self.lo_b.q.val());
        self.above.next = self.hi_use.val() & (self.in_byte.val() > self.hi_b.q.val());
        self.restart.next = self.in_byte.val() == self.magic0.val();
        self.is_magic1.next = self.in_byte.val() == self.magic1.val();
        self.fail.next = self.below.val() | self.above.val();
        // After a failing byte the lane checks for MAGIC[0], or MAGIC[1] if the failing byte
        // was MAGIC[0]; the registered bounds do not know yet. Both checks are registered,
        // and `failed` picks one on the next clock.
        self.hunt_fail.next = !self.restart.val();
        if self.failed_magic0.q.val() {
            self.hunt_fail.next = !self.is_magic1.val();
        }
        // Bounds of the next byte from its ROM word (a range byte's bounds depend on whether
        // its comparisons are still open; they restart at the field's first byte).
        self.next_check.next = self.rule_q.q.val().get_bits::<2>(21);
        self.next_a.next = self.rule_q.q.val().get_bits::<8>(0);
        self.next_b.next = self.rule_q.q.val().get_bits::<8>(8);
        self.next_eq.next = self.next_check.val() == self.check_eq.val();
        self.next_set.next = self.next_check.val() == self.check_set.val();
        self.next_range.next = self.next_check.val() == self.check_range.val();
        self.magic_next.next = self.magic1.val();
        if self.cur_pos.val().get_bit(1) {
            self.magic_next.next = self.magic3.val();
        } else if self.cur_pos.val().get_bit(0) {
            self.magic_next.next = self.magic2.val();
        }
        self.crc_good.next = (self.rule_first.val() | self.crc_ok.q.val())
            & (self.in_byte.val() == !self.crc.q.val().get_bits::<8>(0));
        self.tokens_empty.next =
            self.limited.val() & (self.spent.q.val() == self.burst.val()) & !self.tick_d.q.val();
        // The end of a frame never fails a byte rule (its byte is CRC), so the verdict there
        // does not wait for the rule comparators.
        self.take.next = self.accept.val()
            & self.rule_end.val()
            & self.crc_good.val()
            & !self.tokens_empty.val();
        self.end_drop.next = self.accept.val() & self.rule_end.val() & !self.take.val();
        // A rule drop is registered as its parts (the comparators' verdict apart from the
        // rest) and assembled one clock later in `dropped`.
        self.rule_drop.next =
            self.accept.val() & self.cur_in_frame.val() & self.rule_reason.val().any();

        // Rule ROM, read (on an accepted byte) three bytes ahead of the
        // byte being checked: `pos + 3`, or 2 after a frame's last byte. The type row only
        // matters from the body on, long after the type byte.
        self.rules.address.next = (bit_cast::<RULE_ADDR_BITS, TYPE_BITS>(self.type_index.q.val())
            << 8)
            | bit_cast::<RULE_ADDR_BITS, OFFSET_BITS>(self.cur_pos3.val());
        if self.rule_end.val() {
            self.rules.address.next =
                (bit_cast::<RULE_ADDR_BITS, TYPE_BITS>(self.type_index.q.val()) << 8)
                    | bit_cast::<RULE_ADDR_BITS, OFFSET_BITS>(self.rule_restart.val());
        }

        // Store writes (offset 0 keeps MAGIC[0], see the module doc).
        self.store.write_address.next =
            (bit_cast::<STORE_ADDR_BITS, SLOT_BITS>(self.wslot.q.val()) << 8)
                | bit_cast::<STORE_ADDR_BITS, OFFSET_BITS>(self.cur_pos.val());
        self.store.write_data.next = self.in_byte.val();
        self.store.write_enable.next = self.accept.val() & self.cur_started.val();

        // Verdict: its parts, resolved one clock later into `d_reason` and `d_field`.
        self.v_pass.d.next = self.take.val();
        self.v_drop.d.next = self.end_drop.val();
        self.v_fail_en.d.next = self.rule_drop.val();
        self.v_reason.d.next = self.rule_reason.val();
        self.v_field.d.next = self.rule_field.val();
        self.v_readable.d.next = self.rule_readable.val();
        self.v_end.d.next = self.rule_end.val();
        self.v_crc_good.d.next = self.crc_good.val();

        self.rules.enable.next = self.accept.val();
        if self.accept.val() {
            self.rule_q.d.next = self.rules.data.val();
            self.rule_cur.d.next = (bit_cast::<14, 9>(self.rule_q.q.val().get_bits::<9>(23)) << 5)
                | bit_cast::<14, 5>(self.rule_q.q.val().get_bits::<5>(16));
            if self.rule_type.val() {
                self.type_index.d.next = self.in_byte.val().get_bits::<TYPE_BITS>(0);
            }
            // Bounds of the next byte. Whether a range stays open is taken from the byte's
            // equality with its bound on the next clock (`lo_eq`).
            self.lo_eq.d.next = self.in_byte.val() == self.lo_b.q.val();
            self.hi_eq.d.next = self.in_byte.val() == self.hi_b.q.val();
            self.range_start.d.next = false;
            self.lo_cont.d.next = false;
            self.hi_cont.d.next = false;
            // (The last byte has no bounds, so it never fails: `fail` overrides last, one
            // level of logic before the registers.)
            self.bound_fix.d.next = true;
            if self.rule_end.val() {
                self.lo_b.d.next = self.magic0.val();
                self.hi_b.d.next = self.magic0.val();
            } else if self.cur_in_frame.val() | (self.cur_pos.val() == self.hunt_last.val()) {
                // Equality: `a..=a`; set and range: `a..=b`; none: `0..=255`. A range bound
                // applies while its comparison is open.
                self.lo_b.d.next = self.next_a.val();
                self.hi_b.d.next = self.next_b.val();
                if self.next_eq.val() {
                    self.hi_b.d.next = self.next_a.val();
                }
                // A range opens at its field's first byte (rule bit 26) and stays open while
                // each byte equals its limit's.
                self.bound_fix.d.next = self.next_eq.val()
                    | self.next_set.val()
                    | (self.next_range.val() & self.rule_q.q.val().get_bit(26));
                self.range_start.d.next = self.next_range.val() & self.rule_q.q.val().get_bit(26);
                self.lo_cont.d.next = self.next_range.val() & self.cur_lo_on.val();
                self.hi_cont.d.next = self.next_range.val() & self.cur_hi_on.val();
            } else {
                self.lo_b.d.next = self.magic_next.val();
                self.hi_b.d.next = self.magic_next.val();
            }
            // A failing byte drops the frame, so what it leaves in the CRC register does not
            // matter: the CRC does not wait for the comparators.
            self.crc.d.next = self.crc_magic.val();
            if self.cur_in_frame.val() {
                self.crc.d.next = self.in_crc.out.val();
                if self.rule_crc.val() {
                    self.crc.d.next = self.crc.q.val() >> 8;
                    self.crc_ok.d.next = self.crc_good.val();
                }
            }
            if self.rule_end.val() {
                self.pos.d.next = 0.into();
                self.started.d.next = false;
            } else {
                self.pos.d.next = self.cur_pos1.val();
                self.started.d.next = true;
            }
            // A failing byte resumes hunting with this same byte, through `failed` on the
            // next byte.
            self.fail_rule.d.next = self.fail.val();
            self.fail_hunt.d.next = self.hunt_fail.val();
            self.hunted.d.next = self.failed.val();
            self.failed_magic0.d.next = self.restart.val();
            // (A failing byte is taken out through `failed`, a clock later.)
            self.in_frame.d.next = false;
            if !self.rule_end.val() {
                self.in_frame.d.next =
                    self.cur_in_frame.val() | (self.cur_pos.val() == self.hunt_last.val());
            }
        }

        // Token bucket, counted in spent tokens so that zero is full. A clock's take (its
        // verdict, `v_pass` one clock later) and tick (`tick_d` one clock later) apply
        // together, take first; the verdict itself sees the previous clock's tick through
        // `tokens_empty`. Two verdicts are a frame apart, so no take is ever pending then.
        self.tick_d.d.next = self.tick.val();
        if self.limited.val() {
            if self.v_pass.q.val() & !self.tick_d.q.val() {
                self.spent.d.next = self.spent.q.val() + 1;
            }
            if self.tick_d.q.val() & !self.v_pass.q.val() & self.spent.q.val().any() {
                self.spent.d.next = self.spent.q.val() - 1;
            }
        }

        // Counters: passes one clock after the verdict, drops two.
        self.dropped.next = self.v_drop.q.val() | (self.failed.val() & self.v_fail_en.q.val());
        // A rule's own reason and field, or at a frame's end a bad CRC (the trailer field)
        // or, with a good CRC, the rate limit (no field).
        self.d_reason.next = self.v_reason.q.val();
        self.d_field.next = self.v_field.q.val();
        if self.v_end.q.val() {
            self.d_reason.next = self.r_bad_crc.val();
            if self.v_crc_good.q.val() {
                self.d_reason.next = self.r_rate_limited.val();
                self.d_field.next = self.no_field.val();
            }
        }
        if self.v_pass.q.val() {
            self.c_passed.d.next = self.c_passed.q.val() + 1;
        }
        self.c_inc.d.next = bit_cast::<8, 1>(self.dropped.val().into()) << self.d_reason.val();
        if self.c_inc.q.val().get_bit(self.r_bad_const.val().index()) {
            self.c_bad_const.d.next = self.c_bad_const.q.val() + 1;
        }
        if self.c_inc.q.val().get_bit(self.r_not_in_set.val().index()) {
            self.c_not_in_set.d.next = self.c_not_in_set.q.val() + 1;
        }
        if self
            .c_inc
            .q
            .val()
            .get_bit(self.r_out_of_range.val().index())
        {
            self.c_out_of_range.d.next = self.c_out_of_range.q.val() + 1;
        }
        if self
            .c_inc
            .q
            .val()
            .get_bit(self.r_reserved_nonzero.val().index())
        {
            self.c_reserved_nonzero.d.next = self.c_reserved_nonzero.q.val() + 1;
        }
        if self.c_inc.q.val().get_bit(self.r_bad_crc.val().index()) {
            self.c_bad_crc.d.next = self.c_bad_crc.q.val() + 1;
        }
        if self
            .c_inc
            .q
            .val()
            .get_bit(self.r_rate_limited.val().index())
        {
            self.c_rate_limited.d.next = self.c_rate_limited.q.val() + 1;
        }
        self.count_passed.next = self.c_passed.q.val();
        self.count_bad_const.next = self.c_bad_const.q.val();
        self.count_not_in_set.next = self.c_not_in_set.q.val();
        self.count_out_of_range.next = self.c_out_of_range.q.val();
        self.count_reserved_nonzero.next = self.c_reserved_nonzero.q.val();
        self.count_bad_crc.next = self.c_bad_crc.q.val();
        self.count_rate_limited.next = self.c_rate_limited.q.val();

        // Reader: commit one clock after a pass, stream committed slots into `pass_q`.
        self.pop.next = self.r_active.q.val() & self.pass_q.room.val();
        self.free.next = self.pop.val() & self.r_last.q.val();
        self.next_rslot.next = self.rslot.q.val();
        self.next_roff.next = self.roff.q.val();
        self.read_off.next = self.roff.q.val() + 1;
        if self.pop.val() {
            self.rd_q.d.next = self.store.read_data.val();
            if self.r_last.q.val() {
                self.next_rslot.next = self.rslot.q.val() + 1;
                self.next_roff.next = 0.into();
                self.read_off.next = 1.into();
                self.r_last.d.next = false;
            } else {
                self.next_roff.next = self.roff.q.val() + 1;
                self.read_off.next = self.roff.q.val() + 2;
                self.r_last.d.next = self.roff.q.val() == self.penult.val();
            }
        }
        // (`next_roff == 0`, from registers: after a slot's last byte, or still at offset 0.)
        self.r_first.d.next = self.free.val() | (self.r_first.q.val() & !self.pop.val());
        self.next_count.next = self.count.q.val();
        if self.v_pass.q.val() & !self.free.val() {
            self.next_count.next = self.count.q.val() + 1;
        }
        if self.free.val() & !self.v_pass.q.val() {
            self.next_count.next = self.count.q.val() - 1;
        }
        if self.v_pass.q.val() {
            self.wslot.d.next = self.wslot.q.val() + 1;
        }
        self.count.d.next = self.next_count.val();
        self.full.d.next = self.next_count.val() == self.slots.val();
        self.rslot.d.next = self.next_rslot.val();
        self.roff.d.next = self.next_roff.val();
        self.r_active.d.next = self.next_count.val().any();
        self.store.read_address.next =
            (bit_cast::<STORE_ADDR_BITS, SLOT_BITS>(self.next_rslot.val()) << 8)
                | bit_cast::<STORE_ADDR_BITS, OFFSET_BITS>(self.read_off.val());
        self.pass_q.clock.next = self.clock.val();
        self.pass_q.reset.next = self.reset.val();
        self.pass_q.push.next = self.pop.val();
        self.pass_q.in_data.next = self.rd_q.q.val();
        if self.r_first.q.val() {
            self.pass_q.in_data.next = self.magic0.val();
        }
        self.pass_q.in_last.next = self.r_last.q.val();
        self.pass_q.out_ready.next = self.pass_ready.val();
        self.pass_data.next = self.pass_q.out_data.val();
        self.pass_valid.next = self.pass_q.out_valid.val();
        self.pass_last.next = self.pass_q.out_last.val();

        // NOTICE generator: one byte per clock into its output queue, so generating never
        // waits on this clock's `notice_ready`.
        self.n_adv.next = self.n_busy.q.val() & self.notice_q.room.val();
        self.template.address.next = self.n_off.q.val();
        self.n_src.next = self.n_word.q.val().get_bits::<3>(8);
        self.n_byte.next = self.n_word.q.val().get_bits::<8>(0);
        if self.n_src.val() == self.src_header.val() {
            self.n_byte.next = 0.into();
            if self.n_readable.q.val() {
                self.n_byte.next = self.hdr.q.val().get_bits::<8>(self.hdr_top.val().index());
            }
        }
        if self.n_src.val() == self.src_reason.val() {
            self.n_byte.next = self.n_reason.q.val();
        }
        if self.n_src.val() == self.src_field.val() {
            self.n_byte.next = self.n_field.q.val();
        }
        if (self.n_src.val() == self.src_flags.val()) & !self.n_readable.q.val() {
            self.n_byte.next = 0.into();
        }
        // The kept client id and counter: shifted in while a frame's header arrives, shifted
        // out while its NOTICE is written (never both: a frame waits for the NOTICE before
        // its header, see `ready`).
        // A captured byte lands one clock after it was accepted; the NOTICE cannot be
        // shifting then (it starts two clocks after a verdict, and a new frame's header is
        // at least the magic's length after it).
        self.cap_valid.d.next = self.accept.val() & self.rule_capture.val();
        self.cap_byte.d.next = self.in_byte.val();
        self.hdr_in.next = 0.into();
        if self.cap_valid.q.val() {
            self.hdr_in.next = self.cap_byte.q.val();
        }
        if self.cap_valid.q.val() | (self.n_adv.val() & self.n_is_hdr.q.val()) {
            self.hdr.d.next = (self.hdr.q.val() << 8) | bit_cast::<HDR_BITS, 8>(self.hdr_in.val());
        }

        if self.n_adv.val() {
            self.n_off.d.next = self.n_off.q.val() + 1;
            self.n_word.d.next = self.template.data.val();
            self.n_is_hdr.d.next =
                self.template.data.val().get_bits::<3>(8) == self.src_header.val();
            if self.n_word.q.val().get_bit(11) {
                self.n_busy.d.next = false;
            }
        }
        // Second stage: the CRC over the bytes as they leave, so the trailer bytes see every
        // byte before them. It moves whenever the queue has room, as the first stage does.
        if self.notice_q.room.val() {
            self.nb_valid.d.next = self.n_busy.q.val();
            self.nb_data.d.next = self.n_byte.val();
            self.nb_crc.d.next = self.n_src.val() == self.src_crc.val();
            self.nb_last.d.next = self.n_word.q.val().get_bit(11);
        }
        self.notice_crc.state.next = self.n_crc.q.val();
        self.notice_crc.data.next = self.nb_data.q.val();
        self.notice_q.clock.next = self.clock.val();
        self.notice_q.reset.next = self.reset.val();
        self.notice_q.push.next = self.nb_valid.q.val() & self.notice_q.room.val();
        self.notice_q.in_data.next = self.nb_data.q.val();
        self.notice_q.in_last.next = self.nb_last.q.val();
        self.notice_q.out_ready.next = self.notice_ready.val();
        if self.nb_valid.q.val() & self.notice_q.room.val() {
            self.n_crc.d.next = self.notice_crc.out.val();
            if self.nb_crc.q.val() {
                self.notice_q.in_data.next = !self.n_crc.q.val().get_bits::<8>(0);
                self.n_crc.d.next = (self.n_crc.q.val() >> 8) | self.crc_refill.val();
            }
        }
        if self.dropped.val() {
            self.n_busy.d.next = true;
            self.n_off.d.next = 1.into();
            self.n_word.d.next = self.notice_first.val();
            self.n_is_hdr.d.next =
                self.notice_first.val().get_bits::<3>(8) == self.src_header.val();
            self.n_reason.d.next = self.d_reason.val();
            self.n_field.d.next = self.d_field.val();
            self.n_readable.d.next = self.v_readable.q.val();
        }
        self.notice_data.next = self.notice_q.out_data.val();
        self.notice_valid.next = self.notice_q.out_valid.val();
        self.notice_last.next = self.notice_q.out_last.val();

        // Reset returns the control state; registers that are always written before they are
        // read (the frame's CRC, rule word and header, a verdict's details, the NOTICE's
        // template walk) keep theirs, which keeps the reset off their clock enables.
        if self.reset.val() {
            self.pos.d.next = 0.into();
            self.started.d.next = false;
            self.lo_b.d.next = self.magic0.val();
            self.hi_b.d.next = self.magic0.val();
            self.bound_fix.d.next = true;
            self.range_start.d.next = false;
            self.lo_cont.d.next = false;
            self.hi_cont.d.next = false;
            self.fail_rule.d.next = false;
            self.hunted.d.next = false;
            self.failed_magic0.d.next = false;
            self.in_frame.d.next = false;
            self.cap_valid.d.next = false;
            self.spent.d.next = 0.into();
            self.tick_d.d.next = false;
            self.v_pass.d.next = false;
            self.v_drop.d.next = false;
            self.v_fail_en.d.next = false;
            self.wslot.d.next = 0.into();
            self.rslot.d.next = 0.into();
            self.count.d.next = 0.into();
            self.full.d.next = false;
            self.roff.d.next = 0.into();
            self.r_active.d.next = false;
            self.r_last.d.next = false;
            self.r_first.d.next = true;
            self.c_inc.d.next = 0.into();
            self.c_passed.d.next = 0.into();
            self.c_bad_const.d.next = 0.into();
            self.c_not_in_set.d.next = 0.into();
            self.c_out_of_range.d.next = 0.into();
            self.c_reserved_nonzero.d.next = 0.into();
            self.c_bad_crc.d.next = 0.into();
            self.c_rate_limited.d.next = 0.into();
            self.n_busy.d.next = false;
            self.n_crc.d.next = self.crc_init.val();
            self.nb_valid.d.next = false;
        }
    }
}
