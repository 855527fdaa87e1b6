//! Shared pieces of coldgate's fuzz targets: the two-lane script format the differential
//! target reads, and the seed corpora written from spec/vectors (`seed-corpus`).
//!
//! A script is what a fuzzer mutates for the lane targets: four schedule bytes, then
//! segments `[op, len, bytes...]` where `op % 4` is 0 (bytes for the untrusted side, that is
//! the request lane), 1 (bytes for the trusted side, the response lane), 2 (a refill tick)
//! or 3 (run what was pushed so far: a batch boundary). `len` and the bytes follow only the
//! two byte ops; a short tail is taken as it is, so every input is a valid script.

use std::path::Path;

use coldgate_spec::codec::Frame;
use coldgate_spec::json::to_json;
use coldgate_spec::vectors::{self, Event};
use coldgate_spec::LaneId;

/// One step of a two-lane script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Bytes entering a lane (`LaneId::Request`: the untrusted side).
    Bytes(LaneId, Vec<u8>),
    Tick,
    Advance,
}

/// Handshake masks of a clocked run: bit `c % 32` says whether a side moves on cycle `c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Masks {
    pub u_in: u32,
    pub t_in: u32,
    pub u_out: u32,
    pub t_out: u32,
}

/// A mask from one schedule byte: 0 is full rate, anything else a repeating pattern with at
/// least one ready cycle (an all-zero mask could never move a byte).
fn mask(b: u8) -> u32 {
    if b == 0 {
        u32::MAX
    } else {
        u32::from(b).wrapping_mul(0x0101_0101) | 1
    }
}

/// Reads a script; every byte string is one.
pub fn parse(data: &[u8]) -> (Masks, Vec<Op>) {
    let s = |i: usize| data.get(i).copied().unwrap_or(0);
    let masks = Masks {
        u_in: mask(s(0)),
        t_in: mask(s(1)),
        u_out: mask(s(2)),
        t_out: mask(s(3)),
    };
    let mut ops = vec![];
    let mut rest = data.get(4..).unwrap_or(&[]);
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op % 4 {
            0 | 1 => {
                let lane = if op % 4 == 0 {
                    LaneId::Request
                } else {
                    LaneId::Response
                };
                let (len, tail) = match rest.split_first() {
                    Some((&l, t)) => (usize::from(l), t),
                    None => (0, rest),
                };
                let n = len.min(tail.len());
                ops.push(Op::Bytes(lane, tail[..n].to_vec()));
                rest = &tail[n..];
            }
            2 => ops.push(Op::Tick),
            _ => ops.push(Op::Advance),
        }
    }
    (masks, ops)
}

/// Writes a script (full-rate masks) that [`parse`] reads back as `ops`.
pub fn encode(ops: &[Op]) -> Vec<u8> {
    let mut out = vec![0; 4];
    for op in ops {
        match op {
            Op::Bytes(lane, bytes) => {
                let code = match lane {
                    LaneId::Request => 0,
                    LaneId::Response => 1,
                };
                for chunk in bytes.chunks(255) {
                    out.push(code);
                    out.push(chunk.len() as u8);
                    out.extend_from_slice(chunk);
                }
            }
            Op::Tick => out.push(2),
            Op::Advance => out.push(3),
        }
    }
    out
}

/// A lane vector's input as script ops.
pub fn lane_ops(lane: LaneId, input: &[Event]) -> Vec<Op> {
    let mut ops: Vec<Op> = vec![];
    for e in input {
        match (e, ops.last_mut()) {
            (Event::Byte(b), Some(Op::Bytes(_, v))) => v.push(*b),
            (Event::Byte(b), _) => ops.push(Op::Bytes(lane, vec![*b])),
            (Event::Tick, _) => ops.push(Op::Tick),
        }
    }
    ops
}

/// The bytes of a lane vector's input, ticks left out.
fn lane_bytes(input: &[Event]) -> Vec<u8> {
    input
        .iter()
        .filter_map(|e| match e {
            Event::Byte(b) => Some(*b),
            Event::Tick => None,
        })
        .collect()
}

/// Every frame of `spec/vectors/frames.txt`, whole or not.
fn vector_frames() -> Vec<(String, Vec<u8>)> {
    vectors::frames_txt()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            let bytes = (0..parts.get(2)?.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&parts[2][i..i + 2], 16).ok())
                .collect::<Option<Vec<u8>>>()?;
            Some((parts[0].to_string(), bytes))
        })
        .collect()
}

/// JSON-RPC request bodies carrying each sample request frame, one call and one batch.
fn rpc_bodies(method_of: impl Fn(&Frame) -> Option<&'static str>) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    let mut batch = vec![];
    for (i, (name, body)) in vectors::sample_bodies().into_iter().enumerate() {
        let f = Frame::decode(&vectors::sealed(i as u64 + 1, body)).expect("sample frame");
        let Some(method) = method_of(&f) else {
            continue;
        };
        let call =
            serde_json::json!({"jsonrpc": "2.0", "id": i, "method": method, "params": to_json(&f)});
        out.push((format!("rpc_{name}"), call.to_string().into_bytes()));
        batch.push(call);
    }
    out.push((
        "rpc_batch".into(),
        serde_json::Value::Array(batch).to_string().into_bytes(),
    ));
    out
}

fn request_method(f: &Frame) -> Option<&'static str> {
    use coldgate_spec::MsgType::*;
    Some(match f.body.msg_type() {
        NewKey => "getnewkey",
        GetPubkey => "getpubkey",
        SignPayment => "signpayment",
        PaymentStatus => "paymentstatus",
        _ => return None,
    })
}

/// Seed inputs per target, all derived from spec/vectors.
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = vec![];
    let frames = vector_frames();
    for (name, bytes) in &frames {
        out.push(("frame_codec", name.clone(), bytes.clone()));
        out.push(("link_split", name.clone(), [&[0u8][..], bytes].concat()));
    }
    let cases = vectors::lane_cases();
    for c in &cases {
        let lane_byte = u8::from(c.lane == LaneId::Response);
        let bytes = lane_bytes(&c.input);
        out.push((
            "golden_vs_codec",
            c.name.clone(),
            [&[lane_byte][..], &bytes].concat(),
        ));
        out.push(("link_split", c.name.clone(), [&[7u8][..], &bytes].concat()));
        out.push((
            "lane_verilator",
            c.name.clone(),
            encode(&lane_ops(c.lane, &c.input)),
        ));
    }
    // Both lanes at once: every request vector on one side, every response vector on the other.
    let mut both = vec![];
    for c in &cases {
        both.extend(lane_ops(c.lane, &c.input));
    }
    out.push((
        "lane_verilator",
        "all_cases_both_lanes".into(),
        encode(&both),
    ));
    for (name, body) in rpc_bodies(request_method) {
        out.push(("converter_in_dispatch", name.clone(), body.clone()));
        out.push(("wallet_request", name, [&[0u8][..], &body].concat()));
    }
    for (name, bytes) in &frames {
        out.push((
            "wallet_request",
            format!("frame_{name}"),
            [&[1u8][..], bytes].concat(),
        ));
    }
    out
}

/// Writes [`seeds`] under `dir/<target>/<name>`, replacing what was there.
pub fn write_seeds(dir: &Path) -> std::io::Result<usize> {
    let seeds = seeds();
    let mut targets: Vec<&str> = seeds.iter().map(|s| s.0).collect();
    targets.dedup();
    for t in &targets {
        let d = dir.join(t);
        if d.exists() {
            std::fs::remove_dir_all(&d)?;
        }
    }
    for (target, name, bytes) in &seeds {
        let d = dir.join(target);
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join(name), bytes)?;
    }
    Ok(seeds.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_round_trip() {
        let ops = vec![
            Op::Bytes(LaneId::Request, vec![1; 300]),
            Op::Tick,
            Op::Bytes(LaneId::Response, vec![2, 3]),
            Op::Advance,
        ];
        let (m, back) = parse(&encode(&ops));
        assert_eq!(m.u_in, u32::MAX);
        let join = |ops: &[Op]| {
            let mut v: Vec<Op> = vec![];
            for op in ops {
                match (op, v.last_mut()) {
                    (Op::Bytes(l, b), Some(Op::Bytes(k, a))) if l == k => a.extend(b),
                    _ => v.push(op.clone()),
                }
            }
            v
        };
        assert_eq!(join(&back), ops);
    }
}
