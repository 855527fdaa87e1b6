//! The only unsafe code of coldgate-sim: declarations of the C++ shim (`csrc/*.cpp`) and the
//! smallest safe wrappers over them. Everything above this module is safe Rust.

use std::ffi::{c_char, c_void, CString};
use std::marker::PhantomData;
use std::path::Path;

use coldgate_hdl::harness::COUNTER_NAMES;

/// Counters of both lanes, request lane first, in [`COUNTER_NAMES`] order.
pub const N_COUNTERS: usize = 2 * COUNTER_NAMES.len();

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CgPairIn {
    pub reset: u8,
    pub tick: u8,
    pub u_in_valid: u8,
    pub u_in_data: u8,
    pub u_out_ready: u8,
    pub t_in_valid: u8,
    pub t_in_data: u8,
    pub t_out_ready: u8,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CgPairOut {
    pub u_in_ready: u8,
    pub u_out_valid: u8,
    pub u_out_data: u8,
    pub t_in_ready: u8,
    pub t_out_valid: u8,
    pub t_out_data: u8,
    pub counters: [u32; N_COUNTERS],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CgTick {
    pub u: u64,
    pub t: u64,
}

#[repr(C)]
struct CgBatch {
    u_in: *const u8,
    u_len: usize,
    t_in: *const u8,
    t_len: usize,
    ticks: *const CgTick,
    n_ticks: usize,
    u_in_mask: u32,
    t_in_mask: u32,
    u_out_mask: u32,
    t_out_mask: u32,
    tick_settle: u32,
    drain_cycles: u32,
    max_cycles: u64,
}

#[repr(C)]
struct CgBatchResult {
    u_out: *const u8,
    u_out_len: usize,
    t_out: *const u8,
    t_out_len: usize,
    u_consumed: u64,
    t_consumed: u64,
    ticks_done: u64,
    cycles: u64,
    complete: u8,
    counters: [u32; N_COUNTERS],
}

extern "C" {
    fn cg_pair_new(vcd_path: *const c_char) -> *mut c_void;
    fn cg_pair_free(handle: *mut c_void);
    fn cg_pair_cycle(handle: *mut c_void, i: *const CgPairIn, o: *mut CgPairOut);
    fn cg_pair_reset(handle: *mut c_void, cycles: u32);
    fn cg_pair_run(handle: *mut c_void, b: *const CgBatch, r: *mut CgBatchResult);
    fn cg_pair_traced_new(vcd_path: *const c_char) -> *mut c_void;
    fn cg_pair_traced_free(handle: *mut c_void);
    fn cg_pair_traced_cycle(handle: *mut c_void, i: *const CgPairIn, o: *mut CgPairOut);
    fn cg_pair_traced_reset(handle: *mut c_void, cycles: u32);
    fn cg_pair_traced_run(handle: *mut c_void, b: *const CgBatch, r: *mut CgBatchResult);
    fn cg_raw_bench(frame: *const u8, len: usize, n: u64) -> u64;
    fn cg_board_new(vcd_path: *const c_char) -> *mut c_void;
    fn cg_board_free(handle: *mut c_void);
    #[allow(clippy::too_many_arguments)]
    fn cg_board_run(
        handle: *mut c_void,
        n: usize,
        rst_n: *const u8,
        u_rx: *const u8,
        t_rx: *const u8,
        u_tx: *mut u8,
        t_tx: *mut u8,
        s_tx: *mut u8,
    ) -> u8;
}

/// The entry points of one build of the shim (the model is built plain and traced).
struct Api {
    new: unsafe extern "C" fn(*const c_char) -> *mut c_void,
    free: unsafe extern "C" fn(*mut c_void),
    cycle: unsafe extern "C" fn(*mut c_void, *const CgPairIn, *mut CgPairOut),
    reset: unsafe extern "C" fn(*mut c_void, u32),
    run: unsafe extern "C" fn(*mut c_void, *const CgBatch, *mut CgBatchResult),
}

static PLAIN: Api = Api {
    new: cg_pair_new,
    free: cg_pair_free,
    cycle: cg_pair_cycle,
    reset: cg_pair_reset,
    run: cg_pair_run,
};

static TRACED: Api = Api {
    new: cg_pair_traced_new,
    free: cg_pair_traced_free,
    cycle: cg_pair_traced_cycle,
    reset: cg_pair_traced_reset,
    run: cg_pair_traced_run,
};

/// `Some(None)` for no path, `None` for a path with an interior NUL.
fn c_path(p: Option<&Path>) -> Option<Option<CString>> {
    match p {
        Some(p) => Some(Some(CString::new(p.as_os_str().as_encoded_bytes()).ok()?)),
        None => Some(None),
    }
}

/// A batch for [`PairModel::run`]: borrowed input plus the schedule (see `csrc/pair_shim.cpp`).
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    pub u_in: &'a [u8],
    pub t_in: &'a [u8],
    /// Positions (bytes of each side before it) of each tick: non-decreasing, within the inputs.
    pub ticks: &'a [CgTick],
    pub u_in_mask: u32,
    pub t_in_mask: u32,
    pub u_out_mask: u32,
    pub t_out_mask: u32,
    pub tick_settle: u32,
    pub drain_cycles: u32,
    pub max_cycles: u64,
}

/// What one batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchResult {
    pub u_consumed: usize,
    pub t_consumed: usize,
    pub ticks_done: usize,
    pub cycles: u64,
    pub complete: bool,
    pub counters: [u32; N_COUNTERS],
}

/// One Verilated `coldgate_pair`. Not `Send`: the model stays on the thread that made it.
pub struct PairModel {
    api: &'static Api,
    handle: *mut c_void,
    _not_send: PhantomData<*mut ()>,
}

impl PairModel {
    /// A fresh model, optionally tracing every signal to a VCD file. `None` when the model or
    /// the trace file could not be created.
    pub fn new(vcd: Option<&Path>) -> Option<PairModel> {
        let path = c_path(vcd)?;
        let ptr = path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
        let api = if vcd.is_some() { &TRACED } else { &PLAIN };
        // SAFETY: `ptr` is null or a NUL-terminated string that outlives the call; the shim
        // copies what it needs and returns null on failure, which we check.
        let handle = unsafe { (api.new)(ptr) };
        (!handle.is_null()).then_some(PairModel {
            api,
            handle,
            _not_send: PhantomData,
        })
    }

    pub fn cycle(&mut self, i: &CgPairIn) -> CgPairOut {
        let mut o = CgPairOut::default();
        // SAFETY: `handle` is a live model owned by `self` (freed only in Drop); `i` and `o`
        // are valid for the call and laid out as the shim's structs (repr(C), same fields).
        unsafe { (self.api.cycle)(self.handle, i, &mut o) };
        o
    }

    pub fn reset(&mut self, cycles: u32) {
        // SAFETY: `handle` is a live model owned by `self`.
        unsafe { (self.api.reset)(self.handle, cycles) };
    }

    /// Runs one batch, appending output bytes to `u_out` and `t_out`. Refuses tick positions
    /// that go backwards or past the inputs, since the shim reads input up to them.
    pub fn run(
        &mut self,
        b: &Batch<'_>,
        u_out: &mut Vec<u8>,
        t_out: &mut Vec<u8>,
    ) -> Result<BatchResult, &'static str> {
        let mut prev = CgTick::default();
        for t in b.ticks {
            if t.u < prev.u || t.t < prev.t {
                return Err("tick positions go backwards");
            }
            if t.u > b.u_in.len() as u64 || t.t > b.t_in.len() as u64 {
                return Err("a tick falls past the end of the input");
            }
            prev = *t;
        }
        let raw = CgBatch {
            u_in: b.u_in.as_ptr(),
            u_len: b.u_in.len(),
            t_in: b.t_in.as_ptr(),
            t_len: b.t_in.len(),
            ticks: b.ticks.as_ptr(),
            n_ticks: b.ticks.len(),
            u_in_mask: b.u_in_mask,
            t_in_mask: b.t_in_mask,
            u_out_mask: b.u_out_mask,
            t_out_mask: b.t_out_mask,
            tick_settle: b.tick_settle,
            drain_cycles: b.drain_cycles,
            max_cycles: b.max_cycles,
        };
        let mut r = CgBatchResult {
            u_out: std::ptr::null(),
            u_out_len: 0,
            t_out: std::ptr::null(),
            t_out_len: 0,
            u_consumed: 0,
            t_consumed: 0,
            ticks_done: 0,
            cycles: 0,
            complete: 0,
            counters: [0; N_COUNTERS],
        };
        // SAFETY: `handle` is live; every pointer in `raw` comes from a slice borrowed for the
        // call with its exact length; the shim reads tick entries only below `n_ticks` and
        // input bytes only below each tick's position, which the loop above kept within the
        // slices.
        unsafe { (self.api.run)(self.handle, &raw, &mut r) };
        // SAFETY: the shim returns pointers into vectors it owns, valid with these lengths
        // until the next call on this handle; we copy them out before returning. A length of
        // zero may come with a null or dangling pointer, so those are not dereferenced.
        unsafe {
            if r.u_out_len > 0 {
                u_out.extend_from_slice(std::slice::from_raw_parts(r.u_out, r.u_out_len));
            }
            if r.t_out_len > 0 {
                t_out.extend_from_slice(std::slice::from_raw_parts(r.t_out, r.t_out_len));
            }
        }
        Ok(BatchResult {
            u_consumed: usize::try_from(r.u_consumed)
                .unwrap_or(usize::MAX)
                .min(b.u_in.len()),
            t_consumed: usize::try_from(r.t_consumed)
                .unwrap_or(usize::MAX)
                .min(b.t_in.len()),
            ticks_done: usize::try_from(r.ticks_done)
                .unwrap_or(usize::MAX)
                .min(b.ticks.len()),
            cycles: r.cycles,
            complete: r.complete != 0,
            counters: r.counters,
        })
    }
}

impl Drop for PairModel {
    fn drop(&mut self) {
        // SAFETY: `handle` came from this API's `new`, is non-null and is freed exactly once,
        // here, by the same build of the shim.
        unsafe { (self.api.free)(self.handle) };
    }
}

/// The plain C++ bench loop (`cg_raw_bench`): `n` copies of `frame` through a fresh model.
/// Returns the output bytes seen on both sides.
pub fn raw_bench(frame: &[u8], n: u64) -> u64 {
    // SAFETY: `frame` is a live slice whose pointer and length are passed together; the shim
    // only reads it.
    unsafe { cg_raw_bench(frame.as_ptr(), frame.len(), n) }
}

/// Pin levels leaving the board top, one entry per clock (0 or 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BoardPins {
    pub untrusted_tx: Vec<u8>,
    pub trusted_tx: Vec<u8>,
    pub status_tx: Vec<u8>,
    /// The LEDs after the last clock.
    pub leds: u8,
}

/// One Verilated `coldgate_board` (the Alchitry Cu top with its UARTs), driven pin by pin.
pub struct BoardModel {
    handle: *mut c_void,
    _not_send: PhantomData<*mut ()>,
}

impl BoardModel {
    /// A fresh board, reset released and rx lines idle (high), optionally tracing to a VCD.
    pub fn new(vcd: Option<&Path>) -> Option<BoardModel> {
        let path = c_path(vcd)?;
        let ptr = path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
        // SAFETY: `ptr` is null or a NUL-terminated string that outlives the call; null comes
        // back on failure and is checked.
        let handle = unsafe { cg_board_new(ptr) };
        (!handle.is_null()).then_some(BoardModel {
            handle,
            _not_send: PhantomData,
        })
    }

    /// Runs one clock per entry of `untrusted_rx` and `trusted_rx` (levels, low bit used),
    /// with the reset button at `rst_n` levels when given. `None` when the lengths differ.
    pub fn run(
        &mut self,
        rst_n: Option<&[u8]>,
        untrusted_rx: &[u8],
        trusted_rx: &[u8],
    ) -> Option<BoardPins> {
        let n = untrusted_rx.len();
        if trusted_rx.len() != n || rst_n.is_some_and(|r| r.len() != n) {
            return None;
        }
        let mut pins = BoardPins {
            untrusted_tx: vec![0; n],
            trusted_tx: vec![0; n],
            status_tx: vec![0; n],
            leds: 0,
        };
        // SAFETY: `handle` is a live board owned by `self`; every input slice holds `n`
        // levels (checked above) and every output vector was allocated with `n` entries; the
        // shim touches exactly indices below `n`.
        pins.leds = unsafe {
            cg_board_run(
                self.handle,
                n,
                rst_n.map_or(std::ptr::null(), <[u8]>::as_ptr),
                untrusted_rx.as_ptr(),
                trusted_rx.as_ptr(),
                pins.untrusted_tx.as_mut_ptr(),
                pins.trusted_tx.as_mut_ptr(),
                pins.status_tx.as_mut_ptr(),
            )
        };
        Some(pins)
    }
}

impl Drop for BoardModel {
    fn drop(&mut self) {
        // SAFETY: `handle` came from `cg_board_new`, is non-null and is freed exactly once here.
        unsafe { cg_board_free(self.handle) };
    }
}
/// Counters of `coldgate_eth`: both lanes' (as [`N_COUNTERS`]), then each port's Ethernet
/// counters in `coldgate_spec::eth::COUNTER_NAMES` order, port U first.
pub const N_ETH_COUNTERS: usize = N_COUNTERS + 2 * coldgate_spec::eth::COUNTER_NAMES.len();

extern "C" {
    fn cg_eth_new(reset_cycles: u32) -> *mut c_void;
    fn cg_eth_free(handle: *mut c_void);
    fn cg_eth_run(
        handle: *mut c_void,
        n: usize,
        u_rx: *const u16,
        t_rx: *const u16,
        tick: *const u8,
        u_tx: *mut u16,
        t_tx: *mut u16,
    );
    fn cg_eth_counters(handle: *mut c_void, out: *mut u32);
}

/// One Verilated `coldgate_eth`, driven clock by clock at GMII level. A GMII byte is a
/// `u16`: bit 8 is rx_dv / tx_en, bits 7..0 the byte. Not `Send`.
pub struct EthModel {
    handle: *mut c_void,
    _not_send: PhantomData<*mut ()>,
}

impl EthModel {
    /// A fresh model after `reset_cycles` clocks of reset. `None` if it could not be made.
    pub fn new(reset_cycles: u32) -> Option<EthModel> {
        // SAFETY: no pointers are passed; null comes back on failure and is checked.
        let handle = unsafe { cg_eth_new(reset_cycles) };
        (!handle.is_null()).then_some(EthModel {
            handle,
            _not_send: PhantomData,
        })
    }

    /// One clock per entry of `u_rx` / `t_rx`, with `tick` per clock when given; the
    /// transmit pins per clock go to `u_tx` / `t_tx` (resized). `None` when the input lengths
    /// differ.
    pub fn run(
        &mut self,
        u_rx: &[u16],
        t_rx: &[u16],
        tick: Option<&[u8]>,
        u_tx: &mut Vec<u16>,
        t_tx: &mut Vec<u16>,
    ) -> Option<()> {
        let n = u_rx.len();
        if t_rx.len() != n || tick.is_some_and(|t| t.len() != n) {
            return None;
        }
        u_tx.resize(n, 0);
        t_tx.resize(n, 0);
        // SAFETY: `handle` is a live model owned by `self`; every input slice holds `n`
        // entries (checked above) and both outputs were resized to `n`; the shim touches
        // exactly indices below `n`.
        unsafe {
            cg_eth_run(
                self.handle,
                n,
                u_rx.as_ptr(),
                t_rx.as_ptr(),
                tick.map_or(std::ptr::null(), <[u8]>::as_ptr),
                u_tx.as_mut_ptr(),
                t_tx.as_mut_ptr(),
            )
        };
        Some(())
    }

    pub fn counters(&self) -> [u32; N_ETH_COUNTERS] {
        let mut c = [0u32; N_ETH_COUNTERS];
        // SAFETY: `handle` is live; the shim writes exactly N_ETH_COUNTERS words, the
        // length of CG_ETH_COUNTERS that build.rs generates from the same lists.
        unsafe { cg_eth_counters(self.handle, c.as_mut_ptr()) };
        c
    }
}

impl Drop for EthModel {
    fn drop(&mut self) {
        // SAFETY: `handle` came from `cg_eth_new`, is non-null and is freed exactly once here.
        unsafe { cg_eth_free(self.handle) };
    }
}
