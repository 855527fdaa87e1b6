//! FRAME.md's verifier sections: what a lane does with bytes, written from the constants and
//! from the golden model itself. Every example is computed by running the model while the
//! text is generated, and every claim an example makes is checked then (generation panics
//! when the model and the text disagree, so the FRAME.md test fails).

use std::fmt::Write;

use crate::config::{self, LaneConfig, CLOCK_HZ, DEFAULT_BAUD, RATE_REFILL_HZ};
use crate::field::{self, body, byte_rules, header, ByteKind, FRAME_LEN, MAGIC, NO_FIELD};
use crate::golden::{notice_flags, notice_frame, Dropped, Lane, Verdict};
use crate::message::{DropReason, LaneId, MsgType};
use crate::replay::{self, TickAt, TICK_PERIOD_CLOCKS};
use crate::vectors::{patched, sample_bodies, sealed};
use crate::{checksum, Wire};

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A lane without rate limit, so examples about rules never depend on tokens.
fn unlimited(lane: LaneId) -> Lane {
    Lane::new(LaneConfig {
        rate_burst: None,
        ..LaneConfig::for_lane(lane)
    })
}

/// Verdicts with the stream index of the byte that gave each.
fn verdicts(lane: &mut Lane, stream: &[u8]) -> Vec<(usize, Verdict)> {
    stream
        .iter()
        .enumerate()
        .filter_map(|(i, &b)| lane.push(b).map(|v| (i, v)))
        .collect()
}

fn describe(v: &(usize, Verdict)) -> String {
    match &v.1 {
        Verdict::Pass(_) => format!("pass of the frame at stream offset {}", v.0 + 1 - FRAME_LEN),
        Verdict::Drop(d) => format!(
            "drop `{}` (field {}) at frame offset {}, stream offset {}",
            d.notice.reason, d.notice.field, d.at, v.0
        ),
    }
}

fn sample(t: MsgType) -> Wire {
    let (_, b) = sample_bodies()
        .into_iter()
        .find(|(_, b)| b.msg_type() == t)
        .expect("a sample of every peer type");
    sealed(1, b)
}

/// A frame of type `t` that the lane drops exactly at `offset`, if a byte there can break a
/// rule (bytes of a range field before it are set so that this byte decides).
fn dropped_at(lane: LaneId, t: MsgType, offset: usize) -> Option<Dropped> {
    let rules = byte_rules(lane, t);
    let mut w = sample(t);
    let r = rules[offset];
    let bad = match r.kind {
        ByteKind::Any => return None,
        ByteKind::Crc => {
            if offset + 1 != FRAME_LEN {
                return None;
            }
            w[offset] ^ 1
        }
        ByteKind::Const => r.a ^ 0xff,
        ByteKind::Zero => 1,
        ByteKind::OneOf if r.b < 0xff => r.b + 1,
        ByteKind::OneOf if r.a > 0 => r.a - 1,
        ByteKind::OneOf => return None,
        ByteKind::Range => {
            let start = (0..=offset).rev().find(|&o| rules[o].first)?;
            let (below, above) = (r.a > 0, r.b < 0xff);
            for o in start..offset {
                w[o] = if below { rules[o].a } else { rules[o].b };
            }
            match (below, above) {
                (true, _) => r.a - 1,
                (false, true) => r.b + 1,
                (false, false) => return None,
            }
        }
    };
    w[offset] = bad;
    let mut l = unlimited(lane);
    match l.push_all(&w).into_iter().next() {
        Some(Verdict::Drop(d)) => {
            assert_eq!(
                d.at, offset,
                "the probe for offset {offset} dropped elsewhere"
            );
            Some(*d)
        }
        other => panic!("the probe for offset {offset} gave {other:?}"),
    }
}

/// (offset, readable) for every offset at which some frame of some lane can be dropped.
fn drop_offsets() -> Vec<(usize, bool)> {
    let mut out: Vec<(usize, bool)> = vec![];
    for lane in LaneId::ALL {
        for &t in field::lane_types(lane) {
            let t = MsgType::from_u8(t).expect("lane type");
            for offset in MAGIC.len()..FRAME_LEN {
                if let Some(d) = dropped_at(lane, t, offset) {
                    match out.iter().find(|(o, _)| *o == offset) {
                        Some(&(_, r)) => assert_eq!(
                            r, d.notice.readable,
                            "readability at offset {offset} depends on the type"
                        ),
                        None => out.push((offset, d.notice.readable)),
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out
}

/// The verifier sections of FRAME.md, in reading order.
pub fn sections() -> String {
    [
        overview(),
        hunting(),
        rules(),
        cut_short(),
        crc(),
        notice(),
        bucket(),
        ticks(),
    ]
    .join("\n")
}

fn overview() -> String {
    format!(
        "## Verifier behaviour\n\n\
         The verifier has one **lane** per direction: the `request` lane takes the bytes of the \
         untrusted side (client to wallet) and the `response` lane those of the trusted side \
         (wallet to client). A lane reads one byte per clock, checks every byte of a frame \
         against its rule the moment it arrives, and gives each frame one verdict: a **pass** \
         (the frame leaves whole on the far side, byte for byte as it came) or a **drop** (the \
         frame goes no further and a NOTICE frame leaves on the side it came from). Each lane \
         counts passes and drops per reason in {}-bit counters that wrap.\n\n\
         This section is generated from the constants and from the golden model \
         (`spec/src/golden.rs`) itself: every example below is computed by running the model \
         when the file is generated. `coldgate-spec golden` (below) runs the same model on \
         your own byte files.\n",
        config::COUNTER_BITS
    )
}

fn hunting() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Hunting, and where it resumes after a drop\n\n\
         Outside a frame a lane hunts for the magic `{m}`. Its {n} bytes are pairwise \
         distinct, so after a mismatch the failing byte is the only possible new start: the \
         lane restarts with one matched byte if that byte is `{m0:02x}`, else with none. Bytes \
         skipped while hunting are not frames: no NOTICE, no counter. The frame starts with \
         the byte after the magic's last; from there every byte belongs to it until it is \
         decided.\n\n\
         - **Drop in the middle of a frame** (any offset from {n} to {last_but}): the frame is \
         dropped at once, and the lane hunts again starting **with that same byte**, so a \
         frame that begins right where another one broke is found.\n\
         - **Decision at the last byte** (offset {last}: the CRC, then the token bucket): \
         the lane hunts again starting with the **next** byte; the last byte of a frame never \
         starts one.\n",
        m = hex(&MAGIC),
        n = MAGIC.len(),
        m0 = MAGIC[0],
        last_but = FRAME_LEN - 2,
        last = FRAME_LEN - 1,
    );
    // Garbage with false starts before a frame.
    let frame = sample(MsgType::GetPubkey);
    let garbage = [0x00, MAGIC[0], MAGIC[1], MAGIC[0], MAGIC[1], MAGIC[2], 0x00];
    let stream = [&garbage[..], &frame[..]].concat();
    let v = verdicts(&mut unlimited(LaneId::Request), &stream);
    assert!(v.len() == 1 && matches!(v[0].1, Verdict::Pass(_)));
    let _ = writeln!(
        out,
        "Examples (request lane):\n\n\
         1. `{}` then a valid GET_PUBKEY frame: the false starts are skipped; one verdict, \
         {}.",
        hex(&garbage),
        describe(&v[0])
    );
    // A frame broken at its type byte by the first magic byte of the next frame.
    let head = &frame[..header::MSG_TYPE.start];
    let stream = [head, &frame[..]].concat();
    let v = verdicts(&mut unlimited(LaneId::Request), &stream);
    assert_eq!(v.len(), 2);
    assert!(matches!(v[1].1, Verdict::Pass(_)));
    let _ = writeln!(
        out,
        "2. `{}` (a frame cut after its version byte) then the same valid frame: the \
         valid frame's first byte `{:02x}` lands on the type byte, so: {}; hunting restarts \
         with that byte, and then: {}.",
        hex(head),
        MAGIC[0],
        describe(&v[0]),
        describe(&v[1])
    );
    // A bad CRC whose last byte is the first magic byte, followed by the rest of a frame.
    let mut bad = frame;
    bad[FRAME_LEN - 1] = MAGIC[0];
    assert_ne!(bad, frame, "the example needs a CRC byte that changes");
    let stream = [&bad[..], &frame[1..], &frame[..]].concat();
    let v = verdicts(&mut unlimited(LaneId::Request), &stream);
    assert_eq!(v.len(), 2);
    let _ = writeln!(
        out,
        "3. A frame whose last (CRC) byte is `{:02x}` and wrong, followed by a valid frame \
         without its first byte, then the whole valid frame: {}; the `{:02x}` at the end \
         does not start a frame, so the bytes after it are skipped while hunting, and then: \
         {}.\n",
        MAGIC[0],
        describe(&v[0]),
        MAGIC[0],
        describe(&v[1])
    );
    out
}

fn rules() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Byte rules and the first deciding byte\n\n\
         The rule of every offset is in the tables above. Offsets {v} (version) and {t} \
         (type) are the same for every type; the type byte then selects the rules for offsets \
         {t1} and later, from the lane's own set of types (a type of the other direction is \
         `not_in_set` at offset {t}). A constant, a one-of and a reserved byte break their \
         rule on their own. A **range** field is compared most significant byte first with \
         the bytes of its minimum and of its maximum: while every earlier byte equalled the \
         minimum's, a byte below the minimum's drops the frame; while every earlier byte \
         equalled the maximum's, a byte above the maximum's drops it; once a byte is strictly \
         inside a bound, later bytes can no longer fail that bound. So a range fails at the \
         **first byte that decides** the value is out of range, not at the field's end. The \
         drop reason is the rule's (`const` gives `bad_const`, `one of` gives `not_in_set`, a \
         range `out_of_range`, reserved `reserved_nonzero`) and the NOTICE's field number is \
         the field's `#` in the table of the frame's type.\n",
        v = header::VERSION.start,
        t = header::MSG_TYPE.start,
        t1 = header::MSG_TYPE.end,
    );
    let w = sample(MsgType::SignPayment);
    let over = config::SIGN_AMOUNT_CEILING + (1 << 24);
    let amount = patched(w, body::sign_payment::AMOUNT, &over.to_be_bytes());
    let v = verdicts(&mut unlimited(LaneId::Request), &amount);
    let Some((_, Verdict::Drop(d))) = v.first() else {
        panic!("amount over the ceiling passed");
    };
    let _ = writeln!(
        out,
        "Examples (request lane):\n\n\
         - SIGN_PAYMENT `amount` (offsets {}..{}, at most {} = `{}`) holding {} = `{}`: \
         dropped `{}` at offset {}, its byte {} of {}.",
        body::sign_payment::AMOUNT.start,
        body::sign_payment::AMOUNT.end,
        config::SIGN_AMOUNT_CEILING,
        hex(&config::SIGN_AMOUNT_CEILING.to_be_bytes()),
        over,
        hex(&over.to_be_bytes()),
        d.notice.reason,
        d.at,
        d.at - body::sign_payment::AMOUNT.start + 1,
        body::sign_payment::AMOUNT.len(),
    );
    let zero = patched(w, header::CLIENT_ID, &[0; 4]);
    let v = verdicts(&mut unlimited(LaneId::Request), &zero);
    let Some((_, Verdict::Drop(d))) = v.first() else {
        panic!("client id zero passed");
    };
    let _ = writeln!(
        out,
        "- client id `00 00 00 00` (minimum 1): every byte equals the minimum's until the \
         last, so it is dropped `{}` at offset {}, the field's last byte.\n",
        d.notice.reason, d.at
    );
    out
}

fn cut_short() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### A frame cut short\n\n\
         A lane has no timeout and no idea of pauses: a frame that stops arriving waits, and \
         the bytes that come next are taken as its rest, checked against its rules at its \
         offsets. If the stream ends inside a frame there is no verdict for it: no NOTICE, no \
         counter. Computed examples (request lane, a valid SIGN_PAYMENT cut after N bytes, \
         then a whole valid frame):\n"
    );
    let frame = sample(MsgType::SignPayment);
    for cut in [
        header::RESERVED.start,
        body::sign_payment::TXID.start + 10,
        field::TAG.start + 8,
    ] {
        let stream = [&frame[..cut], &frame[..]].concat();
        let v = verdicts(&mut unlimited(LaneId::Request), &stream);
        let text: Vec<String> = v.iter().map(describe).collect();
        let _ = writeln!(
            out,
            "- N = {cut} (inside `{}`): {}.",
            crate::field::fields(Some(LaneId::Request), MsgType::SignPayment)
                .iter()
                .find(|f| f.field.contains(&cut))
                .map_or("?", |f| f.name),
            if text.is_empty() {
                "no verdict".to_string()
            } else {
                text.join("; then ")
            }
        );
    }
    out.push_str(
        "\nSo a frame cut inside a field whose bytes may be anything (txid, keys, the tag) \
         swallows the start of the next frame and is dropped later, often only at its CRC; the \
         lane then hunts in what is left. A sender that lost its place can send one frame \
         length of zero bytes: zero is never a magic byte, so after them the lane is hunting \
         (the frame they complete is dropped, by a rule or else by its CRC).\n",
    );
    out
}

fn crc() -> String {
    let alg = checksum::ALGORITHM;
    let mut out = String::new();
    let final_of_valid = checksum::RESIDUE ^ alg.xorout;
    let _ = writeln!(
        out,
        "### CRC: residue and what common libraries return\n\n\
         The trailer (offsets {c0}..{c1}) is CRC-32/ISO-HDLC (width {w}, poly `0x{p:08x}`, \
         init `0x{i:08x}`, refin {ri}, refout {ro}, xorout `0x{x:08x}`, check `0x{ck:08x}`) \
         of bytes 0..{c0}, stored little-endian. Logic does not store it: it runs the \
         register (init `0x{i:08x}`, reflected, one byte per clock, no final xor) over all \
         {len} bytes and at offset {last} compares it with the residue `0x{r:08x}`; any other \
         value drops the frame `bad_crc` with the field number of `crc`. Libraries such as \
         zlib's `crc32`, Python's `binascii.crc32` or Rust's `crc32fast` return the final \
         CRC, the register xor `0x{x:08x}`: over bytes 0..{c0} that is the value to store, \
         and over a whole valid frame (all {len} bytes) it is always `0x{f:08x}` \
         (= `0x{r:08x}` xor `0x{x:08x}`).\n",
        c0 = field::CRC.start,
        c1 = field::CRC.end,
        w = alg.width,
        p = alg.poly,
        i = alg.init,
        ri = alg.refin,
        ro = alg.refout,
        x = alg.xorout,
        ck = alg.check,
        len = FRAME_LEN,
        last = FRAME_LEN - 1,
        r = checksum::RESIDUE,
        f = final_of_valid,
    );
    let w = sample(MsgType::GetPubkey);
    let crc = checksum::checksum(&w[..field::CRC.start]);
    let register = w
        .iter()
        .fold(checksum::INIT, |r, &b| checksum::update_register(r, b));
    let whole = checksum::checksum(&w);
    assert_eq!(register, checksum::RESIDUE);
    assert_eq!(whole, final_of_valid);
    assert_eq!(&w[field::CRC], &crc.to_le_bytes());
    let _ = writeln!(
        out,
        "Worked example, a valid GET_PUBKEY frame:\n\n```text\n{}\n```\n\n\
         - `crc32(bytes 0..{c0})` = `0x{crc:08x}`, stored at {c0}..{c1} as `{}`;\n\
         - the register after all {len} bytes = `0x{register:08x}` (the residue);\n\
         - `crc32(all {len} bytes)` = `0x{whole:08x}`.\n",
        hex(&w),
        hex(&crc.to_le_bytes()),
        c0 = field::CRC.start,
        c1 = field::CRC.end,
        len = FRAME_LEN,
    );
    out
}

fn notice() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### NOTICE frames\n\n\
         A drop makes the lane write one NOTICE frame (type `0x{t:02x}`, layout in the \
         `notice` table above). It leaves on the side the dropped frame came from: a request \
         lane NOTICE goes back to the untrusted side (the network), a response lane NOTICE \
         back to the trusted side (the wallet). Passed frames and NOTICEs leaving on one side \
         are whole frames, never inside each other; their order on that side follows the \
         order in which they were decided, and may shift by the logic's latency between a \
         pass of one lane and a NOTICE of the other.\n\n\
         | offset | field | value |\n|---|---|---|\n\
         | {m0}..{m1} | magic, version, type, reserved | as in every frame; type `0x{t:02x}` |\n\
         | {c0}..{c1} | client id | the dropped frame's, when readable (below), else 0 |\n\
         | {k0}..{k1} | counter | the dropped frame's, when readable, else 0 |\n\
         | {r} | reason | the drop reason (table above) |\n\
         | {f} | field | the `#` of the field that broke its rule, in the table of the \
         dropped frame's type; `crc` for `bad_crc`; `0x{nof:02x}` (no field) for \
         `rate_limited` |\n\
         | {l} | lane | the lane that dropped it (table above) |\n\
         | {fl} | flags | bit 0 (`0x{rd:02x}`): readable; other bits zero |\n\
         | {b0}..{b1} | reserved | zero |\n\
         | {g0}..{g1} | tag | zero (the verifier holds no secret) |\n\
         | {x0}..{x1} | CRC | valid, as in every frame |\n",
        t = MsgType::Notice as u8,
        m0 = header::MAGIC.start,
        m1 = header::RESERVED.end,
        c0 = header::CLIENT_ID.start,
        c1 = header::CLIENT_ID.end,
        k0 = header::COUNTER.start,
        k1 = header::COUNTER.end,
        r = body::notice::REASON.start,
        f = body::notice::FIELD.start,
        nof = NO_FIELD,
        l = body::notice::LANE.start,
        fl = body::notice::FLAGS.start,
        rd = notice_flags(true),
        b0 = body::notice::FLAGS.end,
        b1 = field::BODY.end,
        g0 = field::TAG.start,
        g1 = field::TAG.end,
        x0 = field::CRC.start,
        x1 = field::CRC.end,
    );
    // Readability, from the model at every offset where a drop can happen.
    let offsets = drop_offsets();
    let unreadable: Vec<usize> = offsets.iter().filter(|o| !o.1).map(|o| o.0).collect();
    let readable: Vec<usize> = offsets.iter().filter(|o| o.1).map(|o| o.0).collect();
    let first_readable = *readable.first().expect("some drop is readable");
    assert!(
        unreadable.iter().all(|&u| u < first_readable),
        "readability is not a threshold"
    );
    // The model's behaviour and the one rule in spec/src/golden.rs that the logic reads too.
    assert!(
        offsets
            .iter()
            .all(|&(o, r)| r == crate::golden::header_readable(o)),
        "the model's NOTICEs disagree with golden::header_readable"
    );
    assert!(crate::golden::header_readable(crate::golden::READABLE_FROM));
    let list = |v: &[usize]| {
        v.iter()
            .map(|o| o.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let header_readable: Vec<usize> = readable
        .iter()
        .copied()
        .filter(|&o| o < header::LEN)
        .collect();
    let _ = writeln!(
        out,
        "**Readable.** The header (offsets 0..{hl}) holds the client id and counter. A frame \
         can only be dropped at an offset where some byte breaks a rule; within the header \
         those are offsets {all_h}. A drop at offset {unr} gives a NOTICE with client id 0, \
         counter 0 and flags 0; a drop at offset {rd}{more} gives the dropped frame's client id \
         and counter, flag readable set. In short: readable exactly when the frame was dropped \
         at offset {first} or later (`golden::READABLE_FROM` = {rf} in `spec/src/golden.rs`, the \
         rule the logic reads too; the header's last byte is {hl1}). The header is then \
         reported exactly as received, the byte that broke its rule included.\n",
        hl = header::LEN,
        all_h = list(
            &offsets
                .iter()
                .map(|o| o.0)
                .filter(|&o| o < header::LEN)
                .collect::<Vec<_>>()
        ),
        unr = list(&unreadable),
        rd = if header_readable.is_empty() {
            format!("{} or later", header::LEN)
        } else {
            list(&header_readable)
        },
        more = if header_readable.is_empty() {
            ""
        } else {
            " or any later offset"
        },
        first = first_readable,
        rf = crate::golden::READABLE_FROM,
        hl1 = header::LEN - 1,
    );
    let w = sample(MsgType::SignPayment);
    let over = patched(
        w,
        body::sign_payment::AMOUNT,
        &(config::SIGN_AMOUNT_CEILING + 1).to_be_bytes(),
    );
    let Some((_, Verdict::Drop(d))) = verdicts(&mut unlimited(LaneId::Request), &over).pop() else {
        panic!("amount over the ceiling passed");
    };
    assert_eq!(d.frame, notice_frame(d.client_id, d.counter, d.notice));
    let _ = writeln!(
        out,
        "Example: the NOTICE for a SIGN_PAYMENT (client id {}, counter {}) whose amount is \
         one satoshi over the ceiling (`{}`, field {}, dropped at offset {}):\n\n```text\n{}\n```\n",
        d.client_id,
        d.counter,
        d.notice.reason,
        d.notice.field,
        d.at,
        hex(&d.frame)
    );
    out
}

fn bucket() -> String {
    let mut out = String::new();
    let burst = |c: LaneConfig| match c.rate_burst {
        Some(b) => format!("{b} tokens"),
        None => "none (never rate limited)".into(),
    };
    let _ = writeln!(
        out,
        "### Token bucket\n\n\
         | lane | bucket |\n|---|---|\n| request | {} |\n| response | {} |\n\n\
         - The bucket is **full** at start and after reset.\n\
         - Only a frame that passed every byte rule and the CRC takes a token, at its last \
         byte (offset {last}). With none left it is dropped `rate_limited`, field \
         `0x{nf:02x}` (no field), readable. Frames dropped for any other reason take none.\n\
         - A **tick** adds one token, up to the bucket's size (a tick on a full bucket is \
         lost). Ticks come every {period} clocks of the {mhz} MHz board clock, that is \
         {hz} per second.\n\
         - **Order:** when a frame is decided on the same clock as a tick, the frame is \
         decided first, then the tick applies.\n",
        burst(LaneConfig::REQUEST),
        burst(LaneConfig::RESPONSE),
        last = FRAME_LEN - 1,
        nf = NO_FIELD,
        period = TICK_PERIOD_CLOCKS,
        mhz = CLOCK_HZ / 1_000_000,
        hz = RATE_REFILL_HZ,
    );
    let n = LaneConfig::REQUEST.rate_burst.expect("a request bucket") as u64 + 1;
    let frames: Vec<u8> = (1..=n)
        .flat_map(|c| sealed(c, sample_bodies()[0].1))
        .collect();
    let plain = replay::run(&frames, &[], &[]);
    let last_clock = frames.len() as u64 - 1;
    let same_clock = replay::run(&frames, &[], &[TickAt::Clock(last_clock)]);
    let before = replay::run(&frames, &[], &[TickAt::Clock(last_clock - 1)]);
    let rl = |o: &replay::Outcome| o.request.dropped(DropReason::RateLimited);
    assert_eq!((rl(&plain), rl(&same_clock), rl(&before)), (1, 1, 0));
    let _ = writeln!(
        out,
        "Example: {n} valid requests back to back, one byte per clock (clocks 0..={last_clock}): \
         {} pass and {} is dropped `rate_limited`. A tick on clock {last_clock} (the last \
         frame's last byte) comes after that frame's verdict and changes nothing ({} dropped); \
         a tick on clock {} saves it ({} dropped).\n",
        plain.request.passed,
        rl(&plain),
        rl(&same_clock),
        last_clock - 1,
        rl(&before),
    );
    out
}

fn ticks() -> String {
    let bits_per_byte = 10; // 8N1: start bit, 8 data bits, stop bit
    let uart_clocks = CLOCK_HZ as u64 * bits_per_byte / DEFAULT_BAUD as u64;
    format!(
        "### Ticks, clocks and bytes\n\n\
         A lane takes at most one byte per clock, so a clock is a byte position: in the golden \
         model byte `i` of a lane's stream enters on clock `i` when bytes come back to back, \
         and a frame is decided on the clock of its deciding byte. A tick on clock `c` falls \
         after the first `c + 1` request bytes. At the board's line rate (one byte per clock) \
         a tick comes every {p} bytes; behind its UARTs at {baud} baud (8N1, {bpb} bits a \
         byte, one byte every {uc} clocks) every {bpt} bytes, about {fpt:.2} frames. Only \
         where a tick falls between the request lane's frame decisions matters.\n\n\
         `cargo run -p coldgate-spec -- golden --request FILE --response FILE [--ticks FILE] \
         [--json] [--out DIR]` runs both lanes of the golden model over two byte files \
         (byte `i` of each on clock `i`) and prints every frame leaving, with its clock, lane, \
         side and verdict, then the counters; `--json` prints the same as JSON, `--out DIR` \
         writes `untrusted.bin` and `trusted.bin`. The ticks file has one line per tick:\n\n\
         ```text\n\
         byte N      # after the first N request bytes (byte 0: before any)\n\
         clock C     # on clock C, after the verdict of a frame ending on it\n\
         every P     # on clocks P-1, 2P-1, ... while either stream lasts (P = {p} is the board)\n\
         ```\n",
        p = TICK_PERIOD_CLOCKS,
        baud = DEFAULT_BAUD,
        bpb = bits_per_byte,
        uc = uart_clocks,
        bpt = TICK_PERIOD_CLOCKS / uart_clocks,
        fpt = (TICK_PERIOD_CLOCKS / uart_clocks) as f64 / FRAME_LEN as f64,
    )
}
