//! The generated core keeps the harness's pin contract, and a lane's pieces agree with spec.

use coldgate_hdl::harness::{pair_ports, PortDir, COUNTER_NAMES};
use coldgate_spec::checksum;
use proptest::prelude::*;

/// Port declarations of module `name` in `verilog`: (direction, width, port name).
fn declared(verilog: &str, name: &str) -> Vec<(String, u32, String)> {
    let start = verilog
        .find(&format!("module {name}("))
        .expect("module present");
    let body = &verilog[start..];
    let end = body.find("endmodule").unwrap();
    let mut out = vec![];
    for line in body[..end].lines().map(str::trim) {
        let Some((dir, rest)) = line.split_once(' ') else {
            continue;
        };
        if dir != "input" && dir != "output" {
            continue;
        }
        let rest = rest
            .trim_start_matches("wire")
            .trim_start_matches("reg")
            .trim();
        let (width, port) = match rest.strip_prefix('[') {
            Some(r) => {
                let (range, port) = r.split_once(']').unwrap();
                let hi: u32 = range.split(':').next().unwrap().trim().parse().unwrap();
                (hi + 1, port.trim())
            }
            None => (1, rest),
        };
        out.push((
            dir.to_string(),
            width,
            port.trim_end_matches(';').to_string(),
        ));
    }
    out
}

#[test]
fn core_ports_are_the_harness_contract() {
    let v = coldgate_hdl::pair_verilog();
    assert!(v.contains("module coldgate_pair("));
    assert!(!v.contains("module top("));
    let got = declared(&v, "coldgate_pair");
    let want: Vec<(String, u32, String)> = pair_ports()
        .into_iter()
        .map(|p| {
            let dir = match p.dir {
                PortDir::Input => "input",
                PortDir::Output => "output",
            };
            (dir.to_string(), p.width, p.name)
        })
        .collect();
    let mut got_sorted = got.clone();
    let mut want_sorted = want.clone();
    got_sorted.sort();
    want_sorted.sort();
    assert_eq!(got_sorted, want_sorted);
    assert_eq!(want.len(), 15 + 2 * COUNTER_NAMES.len());
}

#[test]
fn board_top_ports() {
    let v = coldgate_hdl::board_verilog(coldgate_spec::config::DEFAULT_BAUD);
    let names: Vec<String> = declared(&v, "coldgate_board")
        .into_iter()
        .map(|p| p.2)
        .collect();
    for p in [
        "clock",
        "rst_n",
        "untrusted_rx",
        "untrusted_tx",
        "trusted_rx",
        "trusted_tx",
        "status_tx",
        "leds",
    ] {
        assert!(names.iter().any(|n| n == p), "{p} missing from {names:?}");
    }
    let pcf = coldgate_hdl::verilog::board_pcf(coldgate_spec::config::DEFAULT_BAUD).unwrap();
    for pin in [
        "set_io clock P7",
        "set_io untrusted_rx P14",
        "set_io untrusted_tx M9",
        "set_io trusted_rx M1",
        "set_io trusted_tx L1",
    ] {
        assert!(pcf.contains(pin), "{pin} missing:\n{pcf}");
    }
}

#[test]
fn board_rejects_unusable_baud_rates() {
    assert!(coldgate_hdl::try_board_verilog(0).is_err());
    assert!(coldgate_hdl::try_board_verilog(12_500_000).is_ok());
}

proptest! {
    /// The lane checks the CRC trailer byte by byte against the complemented register: that
    /// accepts exactly the trailers for which spec's register ends at the catalog residue.
    #[test]
    fn bytewise_crc_check_is_the_residue_check(reg in any::<u32>(), trailer in any::<[u8; 4]>(), pick in any::<bool>()) {
        let trailer = if pick { (!reg).to_le_bytes() } else { trailer };
        let residue_ok = trailer.iter().fold(reg, |r, &b| checksum::update_register(r, b)) == checksum::RESIDUE;
        let bytewise_ok = trailer == (!reg).to_le_bytes();
        prop_assert_eq!(residue_ok, bytewise_ok);
    }
}
