//! The core is X-free: every memory that is only read (a ROM) holds a value at every address
//! its read port can take, so no undefined word reaches a register under a four-state
//! simulator, and a formal tool sees constants rather than arbitrary rows.
//!
//! The rule ROM used to hold rows only up to the frame's last offset while the lane reads two
//! bytes ahead, so after every frame X reached `rule_cur`, `v_reason`, `d_field` and `c_inc`.
//!
//! A memory is either a `reg[..] mem[..]` array (a block RAM, a synchronous ROM) or, for the
//! rule ROM that the lane reads into a register of its own, rust-hdl's combinational ROM: a
//! `case (address)` with one `data = ` line per row.

use coldgate_hdl::pair_verilog;

/// One memory of the generated Verilog.
struct Memory {
    module: String,
    depth: usize,
    /// Distinct addresses given a value in its `initial` block.
    initialised: std::collections::BTreeSet<usize>,
    written: bool,
}

fn memories(verilog: &str) -> Vec<Memory> {
    let mut out = vec![];
    for module in verilog.split("\nmodule ").skip(1) {
        let name = module.split('(').next().unwrap_or("").to_string();
        let body = module.split("endmodule").next().unwrap_or("");
        if name.ends_with("$rules$rom") {
            out.push(case_rom(name, body));
            continue;
        }
        let Some(decl) = body.lines().find(|l| {
            let l = l.trim_start();
            l.starts_with("reg[") && l.contains(" mem")
        }) else {
            continue;
        };
        // `reg[31:0] mem [1023:0];` or `reg[7:0] mem[1023:0];`
        let depth_text = decl.rsplit('[').next().unwrap().split(':').next().unwrap();
        let depth = depth_text.trim().parse::<usize>().unwrap() + 1;
        let initialised = body
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let addr = l.strip_prefix("mem[")?.split(']').next()?;
                if !l.contains("] = ") {
                    return None;
                }
                verilog_number(addr)
            })
            .collect();
        let written = body.contains("mem[write_address] <=");
        out.push(Memory {
            module: name,
            depth,
            initialised,
            written,
        });
    }
    out
}

/// A rule ROM written as `case (address)`: its depth from the address port's width, its
/// rows from the `N'b..: data = ..;` lines.
fn case_rom(module: String, body: &str) -> Memory {
    let decl = body
        .lines()
        .find(|l| l.contains("input wire") && l.trim_end().ends_with("address;"))
        .unwrap_or_else(|| panic!("{module}: no address port"));
    // `input wire  [9:0] address;`
    let high: u32 = decl
        .split('[')
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(body.contains("case (address)"), "{module}: not a case ROM");
    let initialised = body
        .lines()
        .filter_map(|l| {
            let (addr, rest) = l.trim().split_once(':')?;
            rest.trim_start()
                .starts_with("data = ")
                .then(|| verilog_number(addr))?
        })
        .collect();
    Memory {
        module,
        depth: 1 << (high + 1),
        initialised,
        written: false,
    }
}

/// A sized Verilog literal such as `10'b101` or `8'h1f`.
fn verilog_number(text: &str) -> Option<usize> {
    let (_, rest) = text.split_once('\'')?;
    let radix = match rest.chars().next()? {
        'b' => 2,
        'o' => 8,
        'd' => 10,
        'h' => 16,
        _ => return None,
    };
    usize::from_str_radix(&rest[1..].replace('_', ""), radix).ok()
}

#[test]
fn every_rom_row_the_read_port_can_take_holds_a_value() {
    let mems = memories(&pair_verilog());
    let roms: Vec<&Memory> = mems.iter().filter(|m| !m.written).collect();
    // Both lanes' rule ROMs at least.
    assert!(roms.len() >= 2, "found {} ROMs", roms.len());
    for m in roms {
        // The read address is as wide as the memory is deep (a power of two), so every
        // address is reachable by the port's width alone.
        assert!(m.depth.is_power_of_two(), "{}: depth {}", m.module, m.depth);
        let missing: Vec<usize> = (0..m.depth)
            .filter(|a| !m.initialised.contains(a))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: {} of {} rows have no value (first {:#x}): X reaches the registers it feeds",
            m.module,
            missing.len(),
            m.depth,
            missing[0]
        );
    }
}

/// The store is written before it is read, except offset 0 of each slot, which holds
/// `MAGIC[0]` from configuration; the check above must not pass because it found nothing.
#[test]
fn the_store_is_seen_as_a_written_memory() {
    let mems = memories(&pair_verilog());
    assert!(mems.iter().any(|m| m.written && m.module.contains("store")));
}
