//! Cutting a byte stream into frame candidates.
//!
//! The splitter hunts for [`MAGIC`] exactly as a verifier lane does (its bytes are pairwise
//! distinct, so after a mismatch only the failing byte can restart a match), then takes the
//! next `FRAME_LEN - 4` bytes whatever they are. It holds at most one candidate, so its memory
//! is fixed whatever a peer sends.
//!
//! A validating splitter also checks each candidate with the spec's decoder; when one fails, it
//! hunts again from the candidate's second byte, so a real frame that started inside garbage
//! (for example after a stray magic) is still found.

use coldgate_spec::codec::{self, DecodeError, Wire};
use coldgate_spec::{FRAME_LEN, MAGIC};

/// What a splitter has seen so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SplitStats {
    /// Whole candidates handed out as frames.
    pub frames: u64,
    /// Bytes dropped while hunting for the magic.
    pub skipped: u64,
    /// Candidates that failed validation (validating splitters only).
    pub invalid: u64,
}

/// Cuts a byte stream into `FRAME_LEN` candidates that start with the magic.
#[derive(Clone, Debug)]
pub struct FrameSplitter {
    buf: Wire,
    /// Bytes of the current candidate held in `buf` (a magic prefix while hunting).
    len: usize,
    validate: bool,
    stats: SplitStats,
}

impl Default for FrameSplitter {
    fn default() -> Self {
        FrameSplitter::new()
    }
}

impl FrameSplitter {
    /// A splitter that hands out every candidate, valid or not.
    pub fn new() -> FrameSplitter {
        FrameSplitter {
            buf: [0; FRAME_LEN],
            len: 0,
            validate: false,
            stats: SplitStats::default(),
        }
    }

    /// A splitter that decodes each candidate and resynchronises inside the ones that fail.
    pub fn validating() -> FrameSplitter {
        FrameSplitter {
            validate: true,
            ..FrameSplitter::new()
        }
    }

    pub fn stats(&self) -> SplitStats {
        self.stats
    }

    /// Bytes of a partial candidate held (never more than `FRAME_LEN - 1`).
    pub fn pending(&self) -> usize {
        self.len
    }

    /// Forgets a partial candidate: its bytes came from a connection that is gone.
    pub fn reset(&mut self) {
        self.stats.skipped += self.len as u64;
        self.len = 0;
    }

    /// Feeds bytes; `out` receives each whole candidate in order. A validating splitter
    /// passes candidates that fail decoding as `Err` (and has already resumed hunting inside
    /// them); a plain one only ever passes `Ok`.
    pub fn push(&mut self, data: &[u8], out: &mut impl FnMut(Result<Wire, DecodeError>)) {
        for &b in data {
            let Some(candidate) = self.step(b) else {
                continue;
            };
            if !self.validate {
                self.stats.frames += 1;
                out(Ok(candidate));
                continue;
            }
            match codec::check(None, &candidate) {
                Ok(_) => {
                    self.stats.frames += 1;
                    out(Ok(candidate));
                }
                Err(e) => {
                    self.stats.invalid += 1;
                    // FRAME_LEN - 1 bytes can never complete a candidate, so this does not
                    // recurse: it only leaves the longest magic-led suffix in `buf`.
                    for &r in &candidate[1..] {
                        let none = self.step(r);
                        debug_assert!(none.is_none());
                    }
                    out(Err(e));
                }
            }
        }
    }

    /// Convenience for tests and simple callers: every result of one push, in order.
    pub fn push_collect(&mut self, data: &[u8]) -> Vec<Result<Wire, DecodeError>> {
        let mut v = Vec::new();
        self.push(data, &mut |r| v.push(r));
        v
    }

    fn step(&mut self, b: u8) -> Option<Wire> {
        if self.len < MAGIC.len() {
            if b == MAGIC[self.len] {
                self.buf[self.len] = b;
                self.len += 1;
            } else {
                let restart = usize::from(b == MAGIC[0]);
                // The matched prefix is skipped, and so is `b` unless it restarts a match.
                self.stats.skipped += (self.len + 1 - restart) as u64;
                self.buf[0] = b;
                self.len = restart;
            }
            return None;
        }
        self.buf[self.len] = b;
        self.len += 1;
        if self.len < FRAME_LEN {
            return None;
        }
        self.len = 0;
        Some(self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldgate_spec::codec::Frame;
    use coldgate_spec::vectors::{sample_bodies, SECRET};
    use proptest::prelude::*;

    fn frames() -> Vec<Wire> {
        sample_bodies()
            .into_iter()
            .enumerate()
            .map(|(i, (_, body))| {
                Frame::sealed(7, i as u64 + 1, body, &SECRET)
                    .and_then(|f| f.to_wire())
                    .expect("sample frames are valid")
            })
            .collect()
    }

    fn oks(results: Vec<Result<Wire, DecodeError>>) -> Vec<Wire> {
        results.into_iter().filter_map(Result::ok).collect()
    }

    #[test]
    fn splits_back_to_back_frames() {
        let fs = frames();
        let stream: Vec<u8> = fs.iter().flatten().copied().collect();
        let mut s = FrameSplitter::new();
        assert_eq!(oks(s.push_collect(&stream)), fs);
        assert_eq!(s.stats().skipped, 0);
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn partial_magic_before_a_frame_is_skipped() {
        let f = frames()[0];
        let mut stream = vec![0x00, MAGIC[0], MAGIC[1], MAGIC[0], MAGIC[1], MAGIC[2]];
        stream.extend_from_slice(&f);
        let mut s = FrameSplitter::new();
        assert_eq!(oks(s.push_collect(&stream)), vec![f]);
        assert_eq!(s.stats().skipped, 6);
    }

    #[test]
    fn validating_splitter_finds_a_frame_swallowed_by_a_stray_magic() {
        let f = frames()[2];
        let mut stream = MAGIC.to_vec();
        stream.extend_from_slice(&[0xAA; 10]);
        stream.extend_from_slice(&f);
        stream.extend_from_slice(&[0; FRAME_LEN]);

        let mut plain = FrameSplitter::new();
        assert!(!oks(plain.push_collect(&stream)).contains(&f));

        let mut s = FrameSplitter::validating();
        let results = s.push_collect(&stream);
        assert_eq!(oks(results.clone()), vec![f]);
        assert!(matches!(
            &results[0],
            Err(DecodeError::Field {
                field: "version",
                ..
            })
        ));
        assert_eq!(s.stats().invalid, 1);
        assert_eq!(s.stats().frames, 1);
    }

    #[test]
    fn reset_forgets_a_partial_candidate() {
        let f = frames()[1];
        let mut s = FrameSplitter::new();
        assert!(s.push_collect(&f[..100]).is_empty());
        assert_eq!(s.pending(), 100);
        s.reset();
        assert_eq!(s.pending(), 0);
        assert_eq!(oks(s.push_collect(&f)), vec![f]);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_stay_bounded(
            data in proptest::collection::vec(any::<u8>(), 0..2000),
            validate in any::<bool>(),
        ) {
            let mut s = if validate { FrameSplitter::validating() } else { FrameSplitter::new() };
            let mut n = 0usize;
            s.push(&data, &mut |_| n += 1);
            prop_assert!(s.pending() < FRAME_LEN);
            // Each result needs at least one new byte (a rescan never completes a candidate).
            prop_assert!(n <= data.len());
        }

        #[test]
        fn chunking_does_not_change_the_output(
            garbage in proptest::collection::vec(any::<u8>(), 0..400),
            cuts in proptest::collection::vec(0usize..1000, 0..8),
        ) {
            let mut stream = garbage;
            for f in frames() {
                stream.extend_from_slice(&f);
            }
            let whole = FrameSplitter::validating().push_collect(&stream);
            let mut cuts = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect::<Vec<_>>();
            cuts.push(0);
            cuts.push(stream.len());
            cuts.sort_unstable();
            let mut s = FrameSplitter::validating();
            let mut pieces = Vec::new();
            for w in cuts.windows(2) {
                pieces.extend(s.push_collect(&stream[w[0]..w[1]]));
            }
            prop_assert_eq!(pieces, whole);
        }

        #[test]
        fn validating_splitter_recovers_every_frame_after_garbage(
            garbage in proptest::collection::vec(
                prop_oneof![any::<u8>(), Just(MAGIC[0]), Just(MAGIC[1])], 0..600),
            stray_magic_at in proptest::option::of(0usize..600),
        ) {
            let mut garbage = garbage;
            if let Some(at) = stray_magic_at {
                let at = at.min(garbage.len());
                garbage.splice(at..at, MAGIC);
            }
            let fs = frames();
            let mut stream = garbage;
            for f in &fs {
                stream.extend_from_slice(f);
            }
            let got = oks(FrameSplitter::validating().push_collect(&stream));
            prop_assert_eq!(got, fs);
        }
    }
}
