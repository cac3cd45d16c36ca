use super::{FrameHeaders, OverLimit};

const LIMIT: usize = 100;

/// A masked client frame header declaring `length` payload bytes.
fn header(fin: bool, opcode: u8, length: u64) -> Vec<u8> {
    let mut bytes = vec![if fin { 0x80 } else { 0 } | opcode];
    match length {
        0..=125 => bytes.push(0x80 | length as u8),
        126..=0xFFFF => {
            bytes.push(0x80 | 126);
            bytes.extend_from_slice(&(length as u16).to_be_bytes());
        }
        _ => {
            bytes.push(0x80 | 127);
            bytes.extend_from_slice(&length.to_be_bytes());
        }
    }
    bytes.extend_from_slice(&[1, 2, 3, 4]);
    bytes
}

/// A whole frame with a zeroed payload.
fn frame(fin: bool, opcode: u8, length: usize) -> Vec<u8> {
    let mut bytes = header(fin, opcode, length as u64);
    bytes.resize(bytes.len() + length, 0);
    bytes
}

/// Feeds `stream` in chunks of `chunk` bytes and checks where the refused frame starts in the
/// whole stream, if one is refused. A refused header that began in an earlier chunk (whose bytes
/// were passed on already) is reported at the start of the chunk that completes it.
#[track_caller]
fn check(stream: &[u8], chunk: usize, refused_at: Option<usize>) {
    let mut headers = FrameHeaders::new(LIMIT);
    let mut got = None;
    for (i, piece) in stream.chunks(chunk).enumerate() {
        let offset = i * chunk;
        if let Err(OverLimit { frame_start }) = headers.scan(piece) {
            got = Some((offset, offset + frame_start));
            break;
        }
    }
    match (refused_at, got) {
        (None, None) => {}
        (Some(expected), Some((offset, at))) => assert_eq!(
            at,
            expected.max(offset),
            "refused frame position (chunks of {chunk})"
        ),
        (expected, got) => panic!("expected a refusal at {expected:?}, got {got:?}"),
    }
}

#[test]
fn frames_within_the_limit_pass_in_any_chunking() {
    let stream = [
        frame(true, 0x1, 100),
        frame(true, 0x9, 0),
        frame(true, 0x2, 0),
        frame(true, 0x1, 1),
    ]
    .concat();
    for chunk in [1, 2, 3, 7, 64, 1000] {
        check(&stream, chunk, None);
    }
}

#[test]
fn a_declared_length_over_the_limit_is_refused_at_its_header() {
    let first = frame(true, 0x1, 10);
    for declared in [101, 126, 70_000, 1 << 30, u64::MAX >> 1] {
        // Only the header is sent: the refusal needs none of the payload.
        let stream = [first.clone(), header(true, 0x1, declared)].concat();
        for chunk in [1, 5, 1000] {
            check(&stream, chunk, Some(first.len()));
        }
    }
}

#[test]
fn a_fragmented_message_is_refused_once_its_fragments_add_up_past_the_limit() {
    let start = frame(false, 0x1, 60);
    let middle = frame(false, 0x0, 40);
    let ping = frame(true, 0x9, 5);
    let within = [
        start.clone(),
        ping.clone(),
        middle.clone(),
        frame(true, 0x0, 0),
    ]
    .concat();
    check(&within, 3, None);
    let over = [
        start.clone(),
        ping.clone(),
        middle.clone(),
        frame(true, 0x0, 1),
    ]
    .concat();
    check(&over, 1000, Some(start.len() + ping.len() + middle.len()));
    check(&over, 1, Some(start.len() + ping.len() + middle.len()));
}

#[test]
fn a_finished_message_no_longer_counts_toward_the_next() {
    let stream = [
        frame(false, 0x1, 60),
        frame(true, 0x0, 40),
        frame(false, 0x2, 60),
        frame(true, 0x0, 40),
    ]
    .concat();
    check(&stream, 9, None);
}

#[test]
fn an_oversized_control_frame_is_refused() {
    let stream = header(true, 0x9, 200);
    check(&stream, 1000, Some(0));
}
