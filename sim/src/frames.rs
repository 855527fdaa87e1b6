//! Reading the frames that leave the appliance: each side's output is a sequence of whole
//! frames (the core never interleaves them), passes and NOTICEs told apart by message type.

use coldgate_spec::field::{self, header};
use coldgate_spec::{Body, Frame, MsgType, Notice, Wire, FRAME_LEN, MAGIC};

/// What one frame leaving a side says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutFrame {
    /// A frame that passed its lane; the message type is the header's byte.
    Passed {
        msg_type: u8,
        client_id: u32,
        counter: u64,
    },
    /// The verifier's NOTICE for a frame it dropped.
    Notice {
        notice: Notice,
        client_id: u32,
        counter: u64,
    },
    /// A frame with a NOTICE's message type that does not decode (never from a correct core).
    Malformed,
}

/// True when the frame carries the NOTICE message type.
pub fn is_notice(frame: &[u8]) -> bool {
    frame.get(header::MSG_TYPE.start) == Some(&(MsgType::Notice as u8))
}

/// Reads one output frame.
pub fn classify(frame: &Wire) -> OutFrame {
    let client_id = field::read_be(&frame[header::CLIENT_ID]) as u32;
    let counter = field::read_be(&frame[header::COUNTER]);
    if !is_notice(frame) {
        return OutFrame::Passed {
            msg_type: frame[header::MSG_TYPE.start],
            client_id,
            counter,
        };
    }
    match Frame::decode(frame) {
        Ok(Frame {
            body: Body::Notice(notice),
            ..
        }) => OutFrame::Notice {
            notice,
            client_id,
            counter,
        },
        _ => OutFrame::Malformed,
    }
}

/// Cuts a side's output into frames, across arbitrary chunk boundaries. A correct core's
/// output is whole frames from the first byte; should a stream start mid-frame (a board
/// that was already talking), the splitter skips to the next magic before cutting again.
#[derive(Clone, Debug, Default)]
pub struct FrameSplitter {
    buf: Vec<u8>,
    skipped: u64,
}

impl FrameSplitter {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Wire> {
        self.buf.extend_from_slice(bytes);
        let mut frames = vec![];
        let mut at = 0;
        while self.buf.len() - at >= MAGIC.len() {
            if self.buf[at..at + MAGIC.len()] != MAGIC {
                at += 1;
                self.skipped += 1;
                continue;
            }
            let Some(frame) = self.buf.get(at..at + FRAME_LEN) else {
                break;
            };
            if let Ok(w) = Wire::try_from(frame) {
                frames.push(w);
            }
            at += FRAME_LEN;
        }
        self.buf.drain(..at);
        frames
    }

    /// Bytes of a frame not yet complete.
    pub fn partial(&self) -> usize {
        self.buf.len()
    }

    /// Bytes skipped while looking for a frame start (zero from a correct core).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

/// A side's output split into (NOTICE bytes, passed-frame bytes), each in output order, plus
/// the length of an incomplete trailing frame (zero from a correct core).
pub fn split_notices(out: &[u8]) -> (Vec<u8>, Vec<u8>, usize) {
    let (mut notices, mut passed) = (vec![], vec![]);
    let mut chunks = out.chunks_exact(FRAME_LEN);
    for c in chunks.by_ref() {
        if is_notice(c) {
            notices.extend_from_slice(c);
        } else {
            passed.extend_from_slice(c);
        }
    }
    (notices, passed, chunks.remainder().len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldgate_spec::golden::notice_frame;
    use coldgate_spec::vectors::{sample_bodies, sealed};
    use coldgate_spec::{DropReason, LaneId};
    use proptest::prelude::*;

    fn stream() -> Vec<Wire> {
        let mut frames: Vec<Wire> = sample_bodies()
            .into_iter()
            .enumerate()
            .map(|(i, (_, b))| sealed(i as u64 + 1, b))
            .collect();
        let notice = Notice {
            reason: DropReason::OutOfRange,
            field: 3,
            lane: LaneId::Request,
            readable: true,
        };
        frames.insert(2, notice_frame(7, 9, notice));
        frames
    }

    proptest! {
        #[test]
        fn splitting_ignores_chunk_boundaries(cuts in proptest::collection::vec(0usize..400, 0..12)) {
            let frames = stream();
            let bytes: Vec<u8> = frames.iter().flatten().copied().collect();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut s = FrameSplitter::default();
            let mut got = vec![];
            let mut from = 0;
            for c in cuts.into_iter().chain([bytes.len()]) {
                got.extend(s.push(&bytes[from..c]));
                from = c;
            }
            prop_assert_eq!(got, frames);
            prop_assert_eq!((s.partial(), s.skipped()), (0, 0));
        }

        #[test]
        fn a_stream_joined_mid_frame_resynchronises(skip in 1usize..FRAME_LEN) {
            let frames = stream();
            let bytes: Vec<u8> = frames.iter().flatten().copied().collect();
            let mut s = FrameSplitter::default();
            let got = s.push(&bytes[skip..]);
            // The sample frames carry no magic after offset 0, so only the first is lost.
            prop_assert_eq!(&got[..], &frames[1..]);
            prop_assert_eq!(s.skipped(), (FRAME_LEN - skip) as u64);
        }
    }

    #[test]
    fn classify_reads_passes_and_notices() {
        let frames = stream();
        let kinds: Vec<OutFrame> = frames.iter().map(classify).collect();
        assert!(matches!(
            kinds[0],
            OutFrame::Passed {
                msg_type: 0x01,
                client_id: 7,
                counter: 1
            }
        ));
        match kinds[2] {
            OutFrame::Notice {
                notice,
                client_id,
                counter,
            } => {
                assert_eq!(notice.reason, DropReason::OutOfRange);
                assert_eq!((client_id, counter), (7, 9));
            }
            other => panic!("{other:?}"),
        }
        let mut broken = frames[2];
        broken[coldgate_spec::field::CRC.start] ^= 1;
        assert_eq!(classify(&broken), OutFrame::Malformed);
        let (notices, passed, partial) =
            split_notices(&frames.iter().flatten().copied().collect::<Vec<u8>>());
        assert_eq!(notices, frames[2].to_vec());
        assert_eq!(passed.len(), (frames.len() - 1) * FRAME_LEN);
        assert_eq!(partial, 0);
    }
}
