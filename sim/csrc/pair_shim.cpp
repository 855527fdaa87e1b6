// C ABI over the Verilated lane-pair core (module coldgate_pair), for coldgate-sim's FFI.
//
// The batched entry point runs many clocks per call so that the Rust side pays the FFI cost
// per batch, not per clock. Its cycle schedule is the one coldgate-sim's Rust driver
// (`clocked.rs`) applies to any PairClock, so both paths can be compared on the same streams:
//
//   * each side offers its next input byte on every cycle its in-mask bit allows, until it
//     reaches the position of the next pending tick;
//   * a tick is due once both sides have delivered exactly the bytes before it; it is pulsed
//     for one cycle with both inputs idle, after `tick_settle` idle cycles, so every frame that
//     ended before it is decided first (the golden model's order);
//   * each output is ready on the cycles its out-mask bit allows;
//   * mask bit = (mask >> (cycle % 32)) & 1, cycle counted from model creation.
//
// The batch ends when all input is consumed, all ticks are done and no byte has moved for
// `drain_cycles` cycles, or when `max_cycles` is spent (then `complete` is 0).

#include <cstdint>
#include <cstddef>
#include <memory>
#include <new>
#include <vector>

// Compiled twice by build.rs, through wrappers that define:
//   CG_MODEL      the Verilated class (Vcoldgate_pair, or Vcoldgate_pair_traced built with --trace)
//   CG_TRACE      1 when CG_MODEL can trace (tracing costs a third of the speed even when off)
//   CG_FN(name)   the exported name of each entry point (cg_pair_NAME, cg_pair_traced_NAME)
// and include the model's header first. The raw bench exists in the untraced build only.

#include "cg_ports.h"
#include "verilated.h"
#if CG_TRACE
#include "verilated_vcd_c.h"
#endif

extern "C" {

struct CgPairIn {
    uint8_t reset;
    uint8_t tick;
    uint8_t u_in_valid;
    uint8_t u_in_data;
    uint8_t u_out_ready;
    uint8_t t_in_valid;
    uint8_t t_in_data;
    uint8_t t_out_ready;
};

struct CgPairOut {
    uint8_t u_in_ready;
    uint8_t u_out_valid;
    uint8_t u_out_data;
    uint8_t t_in_ready;
    uint8_t t_out_valid;
    uint8_t t_out_data;
    uint32_t counters[2 * CG_N_COUNTERS];
};

struct CgTick {
    uint64_t u;
    uint64_t t;
};

struct CgBatch {
    const uint8_t* u_in;
    size_t u_len;
    const uint8_t* t_in;
    size_t t_len;
    const CgTick* ticks;
    size_t n_ticks;
    uint32_t u_in_mask;
    uint32_t t_in_mask;
    uint32_t u_out_mask;
    uint32_t t_out_mask;
    uint32_t tick_settle;
    uint32_t drain_cycles;
    uint64_t max_cycles;
};

struct CgBatchResult {
    const uint8_t* u_out;
    size_t u_out_len;
    const uint8_t* t_out;
    size_t t_out_len;
    uint64_t u_consumed;
    uint64_t t_consumed;
    uint64_t ticks_done;
    uint64_t cycles;
    uint8_t complete;
    uint32_t counters[2 * CG_N_COUNTERS];
};

}  // extern "C"

namespace {

struct Pair {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<CG_MODEL> m;
#if CG_TRACE
    std::unique_ptr<VerilatedVcdC> vcd;
#endif
    uint64_t cycle = 0;
    std::vector<uint8_t> u_out;
    std::vector<uint8_t> t_out;
};

inline void read_counters(const CG_MODEL* m, uint32_t* out) {
    size_t i = 0;
#define CG_READ(name) out[i++] = m->name;
    CG_COUNTERS(CG_READ)
#undef CG_READ
}

inline void dump(Pair* p, uint64_t half) {
#if CG_TRACE
    if (p->vcd) p->vcd->dump(CG_HALF_PERIOD_NS * (2 * p->cycle + half));
#else
    (void)p;
    (void)half;
#endif
}

// The rising edge that ends the current cycle.
inline void edge(Pair* p) {
    p->m->clock = 1;
    p->m->eval();
    dump(p, 1);
    p->cycle++;
}

inline bool bit(uint32_t mask, uint64_t cycle) { return (mask >> (cycle % 32)) & 1u; }

}  // namespace

extern "C" {

// Creates a model; `vcd_path` may be null (no tracing; the untraced build accepts nothing
// else). Returns null on failure.
void* CG_FN(new)(const char* vcd_path) {
#if !CG_TRACE
    if (vcd_path) return nullptr;
#endif
    auto* p = new (std::nothrow) Pair();
    if (!p) return nullptr;
    p->ctx = std::make_unique<VerilatedContext>();
    p->ctx->traceEverOn(vcd_path != nullptr);
    p->m = std::make_unique<CG_MODEL>(p->ctx.get(), "coldgate_pair");
#if CG_TRACE
    if (vcd_path) {
        p->vcd = std::make_unique<VerilatedVcdC>();
        p->m->trace(p->vcd.get(), 99);
        // Dump times in ns at the board clock, so waveforms read in real time.
        p->vcd->set_time_unit("1ns");
        p->vcd->set_time_resolution("1ns");
        p->vcd->open(vcd_path);
        if (!p->vcd->isOpen()) {
            p->m->final();
            delete p;
            return nullptr;
        }
    }
#endif
    return p;
}

void CG_FN(free)(void* handle) {
    auto* p = static_cast<Pair*>(handle);
    if (!p) return;
    p->m->final();
#if CG_TRACE
    if (p->vcd) p->vcd->close();
#endif
    delete p;
}

// One clock: apply `in`, settle, sample into `out`, rising edge.
void CG_FN(cycle)(void* handle, const CgPairIn* in, CgPairOut* out) {
    auto* p = static_cast<Pair*>(handle);
    auto* m = p->m.get();
    m->clock = 0;
    m->reset = in->reset;
    m->tick = in->tick;
    m->u_in_valid = in->u_in_valid;
    m->u_in_data = in->u_in_data;
    m->u_out_ready = in->u_out_ready;
    m->t_in_valid = in->t_in_valid;
    m->t_in_data = in->t_in_data;
    m->t_out_ready = in->t_out_ready;
    m->eval();
    dump(p, 0);
    out->u_in_ready = m->u_in_ready;
    out->u_out_valid = m->u_out_valid;
    out->u_out_data = m->u_out_data;
    out->t_in_ready = m->t_in_ready;
    out->t_out_valid = m->t_out_valid;
    out->t_out_data = m->t_out_data;
    read_counters(m, out->counters);
    edge(p);
}

// Holds reset high for `cycles` clocks with both inputs idle and both outputs ready.
void CG_FN(reset)(void* handle, uint32_t cycles) {
    CgPairIn in{};
    in.reset = 1;
    in.u_out_ready = 1;
    in.t_out_ready = 1;
    CgPairOut out{};
    for (uint32_t i = 0; i < cycles; i++) CG_FN(cycle)(handle, &in, &out);
}

// Runs one batch (see the file comment). Output pointers stay valid until the next call.
void CG_FN(run)(void* handle, const CgBatch* b, CgBatchResult* r) {
    auto* p = static_cast<Pair*>(handle);
    auto* m = p->m.get();
    p->u_out.clear();
    p->t_out.clear();
    size_t up = 0, tp = 0, ti = 0;
    uint64_t cycles = 0;
    uint32_t idle = 0, settled = 0;
    bool complete = false;
    m->reset = 0;
    while (cycles < b->max_cycles) {
        bool inputs_done = up == b->u_len && tp == b->t_len && ti == b->n_ticks;
        if (inputs_done && idle >= b->drain_cycles) {
            complete = true;
            break;
        }
        size_t u_limit = b->u_len, t_limit = b->t_len;
        bool tick = false;
        if (ti < b->n_ticks) {
            u_limit = b->ticks[ti].u;
            t_limit = b->ticks[ti].t;
            if (up == u_limit && tp == t_limit) {
                tick = settled >= b->tick_settle;
                settled++;
            }
        }
        uint64_t c = p->cycle;
        bool uv = up < u_limit && bit(b->u_in_mask, c);
        bool tv = tp < t_limit && bit(b->t_in_mask, c);
        bool ur = bit(b->u_out_mask, c);
        bool tr = bit(b->t_out_mask, c);
        m->clock = 0;
        m->tick = tick;
        m->u_in_valid = uv;
        m->u_in_data = uv ? b->u_in[up] : 0;
        m->t_in_valid = tv;
        m->t_in_data = tv ? b->t_in[tp] : 0;
        m->u_out_ready = ur;
        m->t_out_ready = tr;
        m->eval();
        dump(p, 0);
        bool moved = tick;
        if (uv && m->u_in_ready) {
            up++;
            moved = true;
        }
        if (tv && m->t_in_ready) {
            tp++;
            moved = true;
        }
        if (ur && m->u_out_valid) {
            p->u_out.push_back(m->u_out_data);
            moved = true;
        }
        if (tr && m->t_out_valid) {
            p->t_out.push_back(m->t_out_data);
            moved = true;
        }
        edge(p);
        if (tick) {
            ti++;
            settled = 0;
        }
        idle = moved ? 0 : idle + 1;
        cycles++;
    }
    m->tick = 0;
    m->u_in_valid = 0;
    m->t_in_valid = 0;
    r->u_out = p->u_out.data();
    r->u_out_len = p->u_out.size();
    r->t_out = p->t_out.data();
    r->t_out_len = p->t_out.size();
    r->u_consumed = up;
    r->t_consumed = tp;
    r->ticks_done = ti;
    r->cycles = cycles;
    r->complete = complete;
    read_counters(m, r->counters);
#if CG_TRACE
    if (p->vcd) p->vcd->flush();
#endif
}

#if !CG_TRACE

// The plain C++ baseline for the bench: a fresh model, `n` copies of `frame` offered back to
// back on the untrusted side with one tick after each (the same schedule the batched API
// gives, with no masks and no settle), both outputs always ready. Returns the output bytes
// seen on both sides, so the caller can check every frame came out.
uint64_t cg_raw_bench(const uint8_t* frame, size_t len, uint64_t n) {
    VerilatedContext ctx;
    CG_MODEL m(&ctx, "coldgate_pair");
    m.u_out_ready = 1;
    m.t_out_ready = 1;
    m.reset = 1;
    for (int i = 0; i < 4; i++) {
        m.clock = 0;
        m.eval();
        m.clock = 1;
        m.eval();
    }
    m.reset = 0;
    uint64_t sent = 0, out = 0, idle = 0;
    size_t pos = 0;
    const uint64_t expected = n * len;
    while (out < expected && idle < 1024) {
        bool tick = pos == len;
        bool valid = !tick && sent < n;
        m.clock = 0;
        m.tick = tick;
        m.u_in_valid = valid;
        m.u_in_data = valid ? frame[pos] : 0;
        m.eval();
        bool moved = tick;
        if (valid && m.u_in_ready) {
            pos++;
            moved = true;
        }
        if (m.u_out_valid) {
            out++;
            moved = true;
        }
        if (m.t_out_valid) {
            out++;
            moved = true;
        }
        m.clock = 1;
        m.eval();
        if (tick) {
            pos = 0;
            sent++;
        }
        idle = moved ? 0 : idle + 1;
    }
    m.final();
    return out;
}
#endif  // !CG_TRACE

}  // extern "C"
