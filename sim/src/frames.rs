//! Reading the frames that leave the appliance: each side's output is a sequence of whole
//! frames (the core never interleaves them), passes and NOTICEs told apart by message type.

use coldgate_spec::field::{self, header};
use coldgate_spec::{Body, Frame, MsgType, Notice, Wire, FRAME_LEN};

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

/// Cuts a side's output into frames, across arbitrary chunk boundaries.
#[derive(Clone, Debug, Default)]
pub struct FrameSplitter {
    buf: Vec<u8>,
}

impl FrameSplitter {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Wire> {
        self.buf.extend_from_slice(bytes);
        let whole = self.buf.len() / FRAME_LEN * FRAME_LEN;
        let frames = self.buf[..whole]
            .chunks_exact(FRAME_LEN)
            .filter_map(|c| Wire::try_from(c).ok())
            .collect();
        self.buf.drain(..whole);
        frames
    }

    /// Bytes of a frame not yet complete.
    pub fn partial(&self) -> usize {
        self.buf.len()
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
