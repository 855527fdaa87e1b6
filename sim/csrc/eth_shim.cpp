// C ABI over the Verilated Ethernet top (module coldgate_eth) at GMII level, for
// coldgate-sim's FFI: many clocks per call, so the Rust side pays the FFI cost per batch.
//
// A GMII byte travels as a uint16_t: bit 8 is rx_dv / tx_en, bits 7..0 the byte.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "Vcoldgate_eth.h"
#include "cg_ports.h"
#include "verilated.h"

namespace {

struct Eth {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vcoldgate_eth> m;
};

// One clock: inputs applied, outputs (registers) sampled, then the rising edge.
inline void clock(Vcoldgate_eth* m, uint16_t u_rx, uint16_t t_rx, uint8_t tick, uint8_t reset,
                  uint16_t* u_tx, uint16_t* t_tx) {
    m->clock = 0;
    m->reset = reset;
    m->tick = tick;
    m->u_rx_dv = (u_rx >> 8) & 1;
    m->u_rxd = u_rx & 0xff;
    m->t_rx_dv = (t_rx >> 8) & 1;
    m->t_rxd = t_rx & 0xff;
    m->eval();
    *u_tx = static_cast<uint16_t>((m->u_tx_en & 1) << 8 | (m->u_txd & 0xff));
    *t_tx = static_cast<uint16_t>((m->t_tx_en & 1) << 8 | (m->t_txd & 0xff));
    m->clock = 1;
    m->eval();
}

}  // namespace

extern "C" {

// A fresh model with reset applied for `reset_cycles` clocks. Null on failure.
void* cg_eth_new(uint32_t reset_cycles) {
    auto* e = new (std::nothrow) Eth();
    if (!e) return nullptr;
    e->ctx = std::make_unique<VerilatedContext>();
    e->m = std::make_unique<Vcoldgate_eth>(e->ctx.get(), "coldgate_eth");
    uint16_t u, t;
    for (uint32_t i = 0; i < reset_cycles; i++) clock(e->m.get(), 0, 0, 0, 1, &u, &t);
    return e;
}

void cg_eth_free(void* handle) {
    auto* e = static_cast<Eth*>(handle);
    if (!e) return;
    e->m->final();
    delete e;
}

// Runs `n` clocks: per clock i, u_rx[i] and t_rx[i] on the GMII receive pins, tick[i] (tick
// may be null: no tick) on the tick input; the transmit pins go to u_tx[i] and t_tx[i].
void cg_eth_run(void* handle, size_t n, const uint16_t* u_rx, const uint16_t* t_rx,
                const uint8_t* tick, uint16_t* u_tx, uint16_t* t_tx) {
    auto* m = static_cast<Eth*>(handle)->m.get();
    for (size_t i = 0; i < n; i++) {
        clock(m, u_rx[i], t_rx[i], tick ? (tick[i] & 1) : 0, 0, &u_tx[i], &t_tx[i]);
    }
}

// Every counter, in CG_ETH_COUNTERS order (lane counters, then each port's Ethernet ones).
void cg_eth_counters(void* handle, uint32_t* out) {
    auto* m = static_cast<Eth*>(handle)->m.get();
    size_t i = 0;
#define CG_READ(name) out[i++] = m->name;
    CG_ETH_COUNTERS(CG_READ)
#undef CG_READ
}

}  // extern "C"
