//! Tests for the checks an upload streams through: the type decided from its bytes (the sniffing
//! rules), size limits, image headers and text split across chunks. Every case goes through the
//! [`FileInspector`], the only way bytes reach those rules.

#![allow(clippy::unwrap_used)]

use std::fmt::Debug;

use super::*;
use crate::attachment::{
    FileKind, FileRefusal, HEAD_BYTES, MAX_DOCUMENT_BYTES, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS,
};

#[track_caller]
fn check<T: PartialEq + Debug>(case: impl Debug, actual: T, expected: T) {
    assert_eq!(actual, expected, "case {case:?}");
}

/// Feeds `bytes` in chunks of `chunk` bytes and finishes.
fn inspect(name: &str, bytes: &[u8], chunk: usize) -> Result<InspectedFile, FileRefusal> {
    let mut inspector = FileInspector::new(name);
    for part in bytes.chunks(chunk.max(1)) {
        inspector.feed(part)?;
    }
    inspector.finish()
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

fn gif(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = b"GIF89a".to_vec();
    bytes.extend_from_slice(&width.to_le_bytes());
    bytes.extend_from_slice(&height.to_le_bytes());
    bytes.extend_from_slice(&[0; 8]);
    bytes
}

/// A JPEG with an EXIF segment before its frame header.
fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = vec![0xff, 0xd8, 0xff, 0xe1, 0x00, 0x10];
    bytes.extend_from_slice(b"Exif\0\0abcdefgh");
    bytes.extend_from_slice(&[0xff, 0xc0, 0x00, 0x11, 0x08]);
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    bytes.extend_from_slice(&[0xff, 0xd9]);
    bytes
}

fn webp_lossless(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"RIFF\x20\x00\x00\x00WEBPVP8L\x10\x00\x00\x00\x2f".to_vec();
    let bits = (width - 1) | ((height - 1) << 14);
    bytes.extend_from_slice(&bits.to_le_bytes());
    bytes.extend_from_slice(&[0; 8]);
    bytes
}

fn webp_extended(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"RIFF\x20\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00".to_vec();
    bytes.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    bytes.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    bytes
}

fn docx() -> Vec<u8> {
    let mut bytes = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
    bytes.extend_from_slice(&[0; 16]);
    bytes.extend_from_slice(b"\x13\x00\x00\x00[Content_Types].xml....PK\x03\x04word/document.xml");
    bytes
}

#[test]
fn the_type_comes_from_the_bytes_not_the_name() {
    let cases: Vec<(&str, Vec<u8>, Result<FileKind, FileRefusal>)> = vec![
        ("photo.png", jpeg(10, 10), Ok(FileKind::Jpeg)),
        ("photo.jpg", png(10, 10), Ok(FileKind::Png)),
        ("anim.gif", gif(2, 2), Ok(FileKind::Gif)),
        ("pic.webp", webp_lossless(3, 4), Ok(FileKind::Webp)),
        ("doc.pdf", b"%PDF-1.7\n...".to_vec(), Ok(FileKind::Pdf)),
        (
            "old.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0\0\0".to_vec(),
            Ok(FileKind::Doc),
        ),
        ("new.docx", docx(), Ok(FileKind::Docx)),
        (
            "notes.txt",
            "Hello, wörld\nline 2".as_bytes().to_vec(),
            Ok(FileKind::Txt),
        ),
        ("data.CSV", b"a,b\n1,2\n".to_vec(), Ok(FileKind::Csv)),
        ("data.pdf", b"just text".to_vec(), Ok(FileKind::Txt)),
        // Refused whatever they are called.
        (
            "page.png",
            b"<html><body>hi</body></html>".to_vec(),
            Err(FileRefusal::UnsupportedType),
        ),
        (
            "page.txt",
            b"  <!DOCTYPE html><p>".to_vec(),
            Err(FileRefusal::UnsupportedType),
        ),
        (
            "hi.txt",
            b"hello <script>alert(1)</script>".to_vec(),
            Err(FileRefusal::UnsupportedType),
        ),
        (
            "img.png",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
            Err(FileRefusal::UnsupportedType),
        ),
        (
            "img.jpg",
            b"\xef\xbb\xbf<?xml version='1.0'?><svg/>".to_vec(),
            Err(FileRefusal::UnsupportedType),
        ),
        (
            "run.txt",
            b"#!/bin/sh\nrm -rf /".to_vec(),
            Err(FileRefusal::UnsupportedType),
        ),
        (
            "setup.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00".to_vec(),
            Err(FileRefusal::UnsupportedType),
        ),
        (
            "a.out.txt",
            b"\x7fELF\x02\x01\x01\x00".to_vec(),
            Err(FileRefusal::UnsupportedType),
        ),
        (
            "archive.docx",
            b"PK\x03\x04\x14\x00rest-of-a-zip".to_vec(),
            Err(FileRefusal::UnsupportedType),
        ),
        (
            "bad.txt",
            b"caf\xe9".to_vec(),
            Err(FileRefusal::UnsupportedType),
        ),
    ];
    for (name, bytes, expected) in cases {
        check(name, inspect(name, &bytes, 3).map(|f| f.kind), expected);
    }
}

#[test]
fn empty_files_are_refused() {
    check("empty", inspect("a.txt", b"", 1), Err(FileRefusal::Empty));
}

#[test]
fn size_limits_depend_on_the_kind_and_stop_the_stream_early() {
    let big_text = vec![b'a'; (MAX_DOCUMENT_BYTES + 1) as usize];
    check(
        "document over 10 MB",
        inspect("a.txt", &big_text, 64 * 1024),
        Err(FileRefusal::TooLarge {
            max_bytes: MAX_DOCUMENT_BYTES,
        }),
    );
    let exact = vec![b'a'; MAX_DOCUMENT_BYTES as usize];
    check(
        "document of exactly 10 MB",
        inspect("a.txt", &exact, 1 << 20).map(|f| f.size),
        Ok(MAX_DOCUMENT_BYTES),
    );

    let mut image = png(100, 100);
    image.resize((MAX_IMAGE_BYTES + 1) as usize, 0);
    check(
        "image over 5 MB",
        inspect("a.png", &image, 64 * 1024),
        Err(FileRefusal::TooLarge {
            max_bytes: MAX_IMAGE_BYTES,
        }),
    );

    // The refusal comes with the first byte over the limit, not at the end.
    let mut inspector = FileInspector::new("a.png");
    let chunk = vec![0u8; 1 << 20];
    inspector.feed(&image[..64]).unwrap();
    let mut refused_after = None;
    for i in 0..20 {
        if inspector.feed(&chunk).is_err() {
            refused_after = Some(i);
            break;
        }
    }
    // 64 bytes and five more megabytes are over the limit.
    check("refused with the fifth megabyte", refused_after, Some(4));
}

#[test]
fn image_dimensions_are_read_and_capped() {
    type Dimensions = Result<Option<(u32, u32)>, FileRefusal>;
    let cases: Vec<(&str, Vec<u8>, Dimensions)> = vec![
        ("png", png(640, 480), Ok(Some((640, 480)))),
        ("gif", gif(32, 16), Ok(Some((32, 16)))),
        ("jpeg", jpeg(1024, 768), Ok(Some((1024, 768)))),
        (
            "webp lossless",
            webp_lossless(300, 200),
            Ok(Some((300, 200))),
        ),
        (
            "webp extended",
            webp_extended(5000, 4000),
            Ok(Some((5000, 4000))),
        ),
        (
            "png bomb",
            png(100_000, 100_000),
            Err(FileRefusal::TooManyPixels {
                max_pixels: MAX_IMAGE_PIXELS,
            }),
        ),
        ("gif zero", gif(0, 10), Err(FileRefusal::UnreadableImage)),
        (
            "png truncated",
            png(1, 1)[..18].to_vec(),
            Err(FileRefusal::UnreadableImage),
        ),
        (
            "jpeg without frame",
            vec![0xff, 0xd8, 0xff, 0xd9],
            Err(FileRefusal::UnreadableImage),
        ),
    ];
    for (case, bytes, expected) in cases {
        check(
            case,
            inspect("x", &bytes, 5).map(|f| f.dimensions),
            expected,
        );
    }
}

#[test]
fn text_split_inside_a_character_is_still_text() {
    let mut text = vec![b'a'; HEAD_BYTES - 1];
    text.extend_from_slice("é and more é".as_bytes());
    check(
        "split é",
        inspect("a.txt", &text, 1000).map(|f| f.kind),
        Ok(FileKind::Txt),
    );
    let mut bad = vec![b'a'; HEAD_BYTES + 10];
    bad.push(0);
    check(
        "NUL after the head",
        inspect("a.txt", &bad, 4096).map(|f| f.kind),
        Err(FileRefusal::UnsupportedType),
    );
}
