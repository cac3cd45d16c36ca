use super::Preamble;

/// Feeds `stream` to a preamble skipper in chunks of `chunk` bytes and checks what it hands on
/// first (the body from the first delimiter line), or that it finds none.
#[track_caller]
fn check(stream: &[u8], chunk: usize, body: Option<&[u8]>) {
    let mut preamble = Preamble::new("XyZ");
    let mut found = None;
    let mut pieces = stream.chunks(chunk);
    for piece in pieces.by_ref() {
        if let Some(first) = preamble.skip(piece) {
            found = Some(first.to_vec());
            break;
        }
    }
    // Whatever follows the chunk that completed the delimiter is passed on untouched.
    if let Some(first) = &mut found {
        for piece in pieces {
            first.extend_from_slice(piece);
        }
    }
    assert_eq!(
        found.as_deref(),
        body,
        "chunks of {chunk}: {:?}",
        found.as_deref().map(String::from_utf8_lossy)
    );
}

#[test]
fn a_body_without_preamble_is_handed_on_whole() {
    let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n";
    for chunk in [1, 2, 5, 100] {
        check(body, chunk, Some(body));
    }
}

#[test]
fn the_preamble_is_dropped_up_to_the_first_delimiter_line() {
    let body = b"--XyZ\r\n\r\n1\r\n--XyZ--\r\n";
    let mut stream = b"junk --XyZ not at a line start\r\n-XyZ\r\n--Xy\r\n".to_vec();
    stream.extend_from_slice(body);
    for chunk in [1, 3, 6, 7, 1000] {
        check(&stream, chunk, Some(body));
    }
}

#[test]
fn a_body_without_any_delimiter_hands_on_nothing() {
    check(&[b'a'; 10_000], 333, None);
    check(b"--XyX\r\n--Xy", 1, None);
}
