// C ABI over the Verilated board top (module coldgate_board): pin levels in, pin levels out,
// many clocks per call. The UART bit timing is the caller's business, so a test can drive the
// rx pins exactly as a USB-serial adapter would and decode the tx pins itself.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "Vcoldgate_board.h"
#include "cg_ports.h"
#include "verilated.h"
#include "verilated_vcd_c.h"

namespace {

struct Board {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vcoldgate_board> m;
    std::unique_ptr<VerilatedVcdC> vcd;
    uint64_t cycle = 0;
};

inline void dump(Board* b, uint64_t half) {
    if (b->vcd) b->vcd->dump(CG_HALF_PERIOD_NS * (2 * b->cycle + half));
}

}  // namespace

extern "C" {

// Creates a board model, optionally tracing to `vcd_path`. Returns null on failure.
void* cg_board_new(const char* vcd_path) {
    auto* b = new (std::nothrow) Board();
    if (!b) return nullptr;
    b->ctx = std::make_unique<VerilatedContext>();
    b->ctx->traceEverOn(vcd_path != nullptr);
    b->m = std::make_unique<Vcoldgate_board>(b->ctx.get(), "coldgate_board");
    // Idle UART lines are high; the reset button is released (active low).
    b->m->untrusted_rx = 1;
    b->m->trusted_rx = 1;
    b->m->rst_n = 1;
    if (vcd_path) {
        b->vcd = std::make_unique<VerilatedVcdC>();
        b->m->trace(b->vcd.get(), 99);
        // Dump times in ns at the board clock, so waveforms read in real time.
        b->vcd->set_time_unit("1ns");
        b->vcd->set_time_resolution("1ns");
        b->vcd->open(vcd_path);
        if (!b->vcd->isOpen()) {
            b->m->final();
            delete b;
            return nullptr;
        }
    }
    return b;
}

void cg_board_free(void* handle) {
    auto* b = static_cast<Board*>(handle);
    if (!b) return;
    b->m->final();
    if (b->vcd) b->vcd->close();
    delete b;
}

// Runs `n` clocks. Per clock i: drives rst_n, untrusted_rx and trusted_rx from the low bit of
// rst_n[i], u_rx[i], t_rx[i] (rst_n may be null: released), samples untrusted_tx, trusted_tx,
// status_tx into u_tx[i], t_tx[i], s_tx[i], then takes the rising edge. Returns the LEDs
// after the last clock.
uint8_t cg_board_run(void* handle, size_t n, const uint8_t* rst_n, const uint8_t* u_rx,
                     const uint8_t* t_rx, uint8_t* u_tx, uint8_t* t_tx, uint8_t* s_tx) {
    auto* b = static_cast<Board*>(handle);
    auto* m = b->m.get();
    for (size_t i = 0; i < n; i++) {
        m->clock = 0;
        m->rst_n = rst_n ? (rst_n[i] & 1) : 1;
        m->untrusted_rx = u_rx[i] & 1;
        m->trusted_rx = t_rx[i] & 1;
        m->eval();
        dump(b, 0);
        u_tx[i] = m->untrusted_tx;
        t_tx[i] = m->trusted_tx;
        s_tx[i] = m->status_tx;
        m->clock = 1;
        m->eval();
        dump(b, 1);
        b->cycle++;
    }
    if (b->vcd) b->vcd->flush();
    return m->leds;
}

}  // extern "C"
