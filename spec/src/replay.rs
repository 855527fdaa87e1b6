//! Both lanes of the golden model over whole byte streams, with refill ticks at chosen
//! points: what `coldgate-spec golden` runs, so that a second simulator or an implementation
//! in another language can compare itself with the model directly.
//!
//! # Clocks, bytes and ticks
//!
//! The model's clock is the lanes' byte clock: each lane takes at most one byte per clock, and
//! here byte `i` of each lane's stream enters on clock `i` (both lanes start on clock 0 and
//! never wait). A frame is decided on the clock of the byte that ends or drops it. A tick is
//! a one-clock pulse to both lanes; on a clock that also decides a frame, the frame is
//! decided first and the tick applies after it. So a tick on clock `c` falls after the first
//! `c + 1` request bytes; `byte n` places a tick after the first `n` request bytes (`byte 0`:
//! before any), the same point as `clock n-1`. Only the request lane has a bucket, so only
//! positions in the request stream matter.
//!
//! A ticks file holds one tick per line (blank lines and `#` comments are ignored):
//!
//! ```text
//! byte 456          # after the first 456 request bytes (three frames)
//! clock 999         # on clock 999, after the first 1000 request bytes
//! every 100000      # on clocks 99999, 199999, ... while either stream lasts: the board's
//!                   # refill period, CLOCK_HZ / RATE_REFILL_HZ clocks
//! ```

use crate::config::{CLOCK_HZ, RATE_REFILL_HZ};
use crate::field::FRAME_LEN;
use crate::golden::{Counters, LanePair, Verdict};
use crate::message::{DropReason, LaneId};
use crate::Wire;

/// Clocks between two refill ticks on the board.
pub const TICK_PERIOD_CLOCKS: u64 = (CLOCK_HZ / RATE_REFILL_HZ) as u64;

/// Where ticks fall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TickAt {
    /// After the first `n` request bytes.
    Byte(u64),
    /// On clock `c`: after the first `c + 1` request bytes.
    Clock(u64),
    /// On clocks `p - 1`, `2p - 1`, ... for as long as either stream has bytes.
    Every(u64),
}

/// Reads a ticks file (see the module documentation); the error names the line.
pub fn parse_ticks(text: &str) -> Result<Vec<TickAt>, String> {
    let mut out = vec![];
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = |why: &str| format!("ticks line {}: {why}: {raw:?}", i + 1);
        let mut words = line.split_whitespace();
        let (Some(kind), Some(n), None) = (words.next(), words.next(), words.next()) else {
            return Err(bad("expected `byte N`, `clock C` or `every P`"));
        };
        let n: u64 = n.parse().map_err(|_| bad("not a whole number"))?;
        out.push(match kind {
            "byte" => TickAt::Byte(n),
            "clock" => TickAt::Clock(n),
            "every" if n == 0 => return Err(bad("a period of zero clocks")),
            "every" => TickAt::Every(n),
            _ => return Err(bad("expected `byte`, `clock` or `every`")),
        });
    }
    Ok(out)
}

/// Tick positions as request-byte counts ("after this many request bytes"), sorted.
pub fn tick_positions(ticks: &[TickAt], request_len: usize, response_len: usize) -> Vec<u64> {
    let clocks = request_len.max(response_len) as u64;
    let mut out = vec![];
    for t in ticks {
        match *t {
            TickAt::Byte(n) => out.push(n),
            TickAt::Clock(c) => out.push(c.saturating_add(1)),
            TickAt::Every(p) => {
                let mut c = p - 1;
                while c < clocks {
                    out.push(c + 1);
                    c += p;
                }
            }
        }
    }
    out.sort_unstable();
    out
}

/// The side of the appliance a frame leaves on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Towards the network: response-lane passes and request-lane NOTICEs.
    Untrusted,
    /// Towards the wallet: request-lane passes and response-lane NOTICEs.
    Trusted,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Untrusted => "untrusted",
            Side::Trusted => "trusted",
        }
    }

    /// Where a lane's verdict leaves: a pass on the far side, a NOTICE back where it came from.
    pub fn of(lane: LaneId, pass: bool) -> Side {
        match (lane, pass) {
            (LaneId::Request, true) | (LaneId::Response, false) => Side::Trusted,
            (LaneId::Request, false) | (LaneId::Response, true) => Side::Untrusted,
        }
    }
}

/// One frame leaving the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leaving {
    /// The clock of the byte that decided it (that byte's index in its lane's stream).
    pub clock: u64,
    pub lane: LaneId,
    pub side: Side,
    /// `None` for a pass.
    pub drop: Option<Drop>,
    pub frame: Wire,
}

/// Why a frame was dropped, as its NOTICE says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Drop {
    pub reason: DropReason,
    pub field: u8,
    /// Offset in the dropped frame of the byte that dropped it.
    pub at: usize,
    pub readable: bool,
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// In clock order; on one clock the request lane's frame first.
    pub leaving: Vec<Leaving>,
    pub request: Counters,
    pub response: Counters,
    /// Ticks applied.
    pub ticks: usize,
    /// Bytes of a frame still in each lane at the end (a frame cut short gets no verdict).
    pub request_partial: bool,
    pub response_partial: bool,
}

impl Outcome {
    /// The bytes leaving one side, frames in order.
    pub fn side_bytes(&self, side: Side) -> Vec<u8> {
        self.leaving
            .iter()
            .filter(|l| l.side == side)
            .flat_map(|l| l.frame.iter().copied())
            .collect()
    }
}

fn leaving(clock: u64, lane: LaneId, v: Verdict) -> Leaving {
    match v {
        Verdict::Pass(w) => Leaving {
            clock,
            lane,
            side: Side::of(lane, true),
            drop: None,
            frame: *w,
        },
        Verdict::Drop(d) => Leaving {
            clock,
            lane,
            side: Side::of(lane, false),
            drop: Some(Drop {
                reason: d.notice.reason,
                field: d.notice.field,
                at: d.at,
                readable: d.notice.readable,
            }),
            frame: d.frame,
        },
    }
}

/// Runs both lanes: byte `i` of each stream on clock `i`, ticks where `ticks` puts them.
pub fn run(request: &[u8], response: &[u8], ticks: &[TickAt]) -> Outcome {
    let mut pair = LanePair::default();
    let positions = tick_positions(ticks, request.len(), response.len());
    let mut next_tick = 0;
    let mut leaving_out = vec![];
    let clocks = request.len().max(response.len());
    let apply_ticks = |pair: &mut LanePair, after: u64, next: &mut usize| {
        while positions.get(*next).is_some_and(|&p| p <= after) {
            pair.request.tick();
            pair.response.tick();
            *next += 1;
        }
    };
    apply_ticks(&mut pair, 0, &mut next_tick);
    for clock in 0..clocks {
        if let Some(v) = request.get(clock).and_then(|&b| pair.request.push(b)) {
            leaving_out.push(leaving(clock as u64, LaneId::Request, v));
        }
        if let Some(v) = response.get(clock).and_then(|&b| pair.response.push(b)) {
            leaving_out.push(leaving(clock as u64, LaneId::Response, v));
        }
        apply_ticks(&mut pair, clock as u64 + 1, &mut next_tick);
    }
    // Ticks after the last byte still count (they refill the bucket for what comes next).
    apply_ticks(&mut pair, u64::MAX, &mut next_tick);
    Outcome {
        leaving: leaving_out,
        request: *pair.request.counters(),
        response: *pair.response.counters(),
        ticks: next_tick,
        request_partial: pair.request.in_frame(),
        response_partial: pair.response.in_frame(),
    }
}

/// A frame in hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn counters_json(c: &Counters) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("passed".into(), c.passed.into());
    for r in DropReason::ALL {
        m.insert(r.name().into(), c.dropped(r).into());
    }
    serde_json::Value::Object(m)
}

/// The outcome as JSON: `untrusted` and `trusted` (the frames leaving each side, in order),
/// `counters` per lane, `ticks` applied and which lanes ended inside a frame.
pub fn to_json(o: &Outcome) -> serde_json::Value {
    let side = |s: Side| {
        o.leaving
            .iter()
            .filter(|l| l.side == s)
            .map(|l| {
                let mut v = serde_json::json!({
                    "clock": l.clock,
                    "lane": l.lane.name(),
                    "verdict": if l.drop.is_some() { "drop" } else { "pass" },
                    "frame": hex(&l.frame),
                });
                if let Some(d) = l.drop {
                    v["reason"] = d.reason.name().into();
                    v["field"] = d.field.into();
                    v["at"] = d.at.into();
                    v["readable"] = d.readable.into();
                }
                v
            })
            .collect::<Vec<_>>()
    };
    serde_json::json!({
        "untrusted": side(Side::Untrusted),
        "trusted": side(Side::Trusted),
        "counters": {
            "request": counters_json(&o.request),
            "response": counters_json(&o.response),
        },
        "ticks": o.ticks,
        "partial": { "request": o.request_partial, "response": o.response_partial },
    })
}

/// The outcome as text: one line per frame leaving, then the counters.
pub fn to_text(o: &Outcome) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for l in &o.leaving {
        let what = match l.drop {
            None => "pass".to_string(),
            Some(d) => format!(
                "drop {} field {} at {}{}",
                d.reason,
                d.field,
                d.at,
                if d.readable { " readable" } else { "" }
            ),
        };
        let _ = writeln!(
            s,
            "clock {} {} {what} -> {} {}",
            l.clock,
            l.lane,
            l.side.name(),
            hex(&l.frame)
        );
    }
    for (lane, c, partial) in [
        (LaneId::Request, &o.request, o.request_partial),
        (LaneId::Response, &o.response, o.response_partial),
    ] {
        let _ = write!(s, "counters {lane}: passed {}", c.passed);
        for r in DropReason::ALL {
            let _ = write!(s, " {r} {}", c.dropped(r));
        }
        let _ = writeln!(
            s,
            "{}",
            if partial {
                " (ends inside a frame)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(s, "ticks {}", o.ticks);
    s
}

// A tick between two frames must be expressible: frames are whole bytes apart.
const _: () = assert!(FRAME_LEN > 1 && TICK_PERIOD_CLOCKS > 0);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors::{sample_bodies, sealed};

    #[test]
    fn tick_lines_parse_and_refuse() {
        let t = parse_ticks("# c\nbyte 3\n\nclock 5 # x\nevery 2\n").unwrap();
        assert_eq!(t, vec![TickAt::Byte(3), TickAt::Clock(5), TickAt::Every(2)]);
        assert_eq!(tick_positions(&t, 5, 0), vec![2, 3, 4, 6]);
        for bad in ["byte", "byte x", "tock 3", "every 0", "byte 1 2"] {
            assert!(parse_ticks(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_tick_at_a_frame_end_comes_after_its_verdict() {
        let (_, body) = sample_bodies()[0];
        let frames: Vec<u8> = (0..crate::config::RATE_BURST as u64 + 1)
            .flat_map(|i| sealed(i + 1, body))
            .collect();
        // The last frame ends on clock len-1; a tick on that clock comes too late for it.
        let late = run(&frames, &[], &[TickAt::Clock(frames.len() as u64 - 1)]);
        assert_eq!(late.request.dropped(DropReason::RateLimited), 1);
        // One clock earlier (after the previous frame's verdict) the tick saves it.
        let early = run(
            &frames,
            &[],
            &[TickAt::Byte((frames.len() - FRAME_LEN) as u64)],
        );
        assert_eq!(early.request.dropped(DropReason::RateLimited), 0);
        assert_eq!(early.side_bytes(Side::Trusted), frames);
    }
}
