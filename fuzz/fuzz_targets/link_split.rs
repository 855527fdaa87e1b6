//! The link framer on any stream, fed in chunks whose sizes the first byte chooses: plain and
//! validating splitters hand out only magic-led whole candidates (valid ones when validating),
//! the same ones however the stream is cut, and account for every byte.
#![no_main]

use coldgate_link::FrameSplitter;
use coldgate_spec::codec::{DecodeError, Frame, Wire};
use coldgate_spec::{FRAME_LEN, MAGIC};
use libfuzzer_sys::fuzz_target;

fn run(s: &mut FrameSplitter, stream: &[u8], chunk: usize) -> Vec<Result<Wire, DecodeError>> {
    let mut out = vec![];
    for c in stream.chunks(chunk.max(1)) {
        s.push(c, &mut |r| out.push(r));
        assert!(s.pending() < FRAME_LEN);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first) + 1;
    let total = stream.len() as u64;

    let mut plain = FrameSplitter::new();
    let got = run(&mut plain, stream, chunk);
    assert_eq!(got, run(&mut FrameSplitter::new(), stream, stream.len()));
    for r in &got {
        let w = r
            .as_ref()
            .expect("a plain splitter hands out every candidate");
        assert_eq!(&w[..MAGIC.len()], &MAGIC[..]);
    }
    let st = plain.stats();
    assert_eq!(st.frames, got.len() as u64);
    assert_eq!(st.invalid, 0);
    assert_eq!(
        st.frames * FRAME_LEN as u64 + st.skipped + plain.pending() as u64,
        total
    );

    let mut valid = FrameSplitter::validating();
    let got = run(&mut valid, stream, chunk);
    assert_eq!(
        got,
        run(&mut FrameSplitter::validating(), stream, stream.len())
    );
    let mut oks = 0;
    for r in &got {
        match r {
            Ok(w) => {
                oks += 1;
                Frame::decode(&w[..]).expect("a validated candidate decodes");
            }
            Err(e) => assert!(e.drop_reason().is_some()),
        }
    }
    let st = valid.stats();
    assert_eq!(st.frames, oks);
    assert_eq!(st.invalid, got.len() as u64 - oks);
    // A refused candidate gives up its first byte and re-reads the other FRAME_LEN - 1.
    assert_eq!(
        st.frames * FRAME_LEN as u64 + st.invalid + st.skipped + valid.pending() as u64,
        total
    );
});
