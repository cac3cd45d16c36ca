//! Tests for the attachment rules: type decision, size limits, image headers, names, keys and
//! download rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use chrono::DateTime;

use super::*;
use crate::message::ConversationId;

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

#[test]
fn file_names_are_sanitised_for_display() {
    let cases = [
        ("../../etc/passwd", FileKind::Txt, "passwd.txt"),
        (
            "..\\..\\windows\\system32\\evil.png",
            FileKind::Png,
            "evil.png",
        ),
        ("report.pdf", FileKind::Pdf, "report.pdf"),
        ("photo.JPEG", FileKind::Jpeg, "photo.jpeg"),
        ("page.html", FileKind::Txt, "page.txt"),
        ("invoice.pdf.exe", FileKind::Pdf, "invoice.pdf.pdf"),
        (".htaccess", FileKind::Txt, "htaccess.txt"),
        ("", FileKind::Png, "attachment.png"),
        ("...", FileKind::Gif, "attachment.gif"),
        ("a\"b;c\r\n<d>.txt", FileKind::Txt, "a_b_c___d_.txt"),
        ("my holiday.png", FileKind::Png, "my holiday.png"),
        ("résumé.docx", FileKind::Docx, "résumé.docx"),
        ("invoice\u{202e}fdp.exe", FileKind::Pdf, "invoice_fdp.pdf"),
        ("tab\there.txt", FileKind::Txt, "tab_here.txt"),
    ];
    for (raw, kind, expected) in cases {
        check(raw, FileName::sanitize(raw, kind).as_str(), expected);
    }
    let long = "é".repeat(300);
    let name = FileName::sanitize(&long, FileKind::Txt);
    check(
        "long names are cut",
        name.as_str().len() <= MAX_FILE_NAME_BYTES,
        true,
    );
    check(
        "long names keep their extension",
        name.as_str().ends_with(".txt"),
        true,
    );
}

#[test]
fn storage_keys_name_the_uploader_and_random_bytes_and_parse_back() {
    let key = StorageKey::new(UserId(42), [0xab; 16], FileKind::Pdf);
    check(
        "key",
        key.as_str(),
        "messages/42/abababababababababababababababab.pdf",
    );
    check("parse", StorageKey::parse(key.as_str()), Some(key));
    // System A's keys, which also name the message, stay readable.
    let system_a = "messages/42/150/abababababababababababababababab.pdf";
    check(
        "System A's form",
        StorageKey::parse(system_a).map(|k| k.as_str().to_owned()),
        Some(system_a.to_owned()),
    );
    for bad in [
        "messages/42/150/../../etc/passwd",
        "messages/42/../abababababababababababababababab.pdf",
        "messages/42/150/abababababababababababababababab.html",
        "messages/x/150/abababababababababababababababab.pdf",
        "messages/x/abababababababababababababababab.pdf",
        "/messages/42/150/abababababababababababababababab.pdf",
        "messages/42/150/ABABABABABABABABABABABABABABABAB.pdf",
        "messages/42/abab.pdf",
        "messages/42/150/abababababababababababababababab.pdf/x",
        "messages/42/1/2/abababababababababababababababab.pdf",
        "messages/abababababababababababababababab.pdf",
        "uploads/42/abababababababababababababababab.pdf",
    ] {
        check(bad, StorageKey::parse(bad), None);
    }
}

#[test]
fn a_file_that_keeps_failing_its_scan_waits_longer_each_time_up_to_an_hour() {
    for (failures, seconds) in [
        (0, 15),
        (1, 15),
        (2, 30),
        (3, 60),
        (8, 1_920),
        (9, 3_600),
        (40, 3_600),
        (u32::MAX, 3_600),
    ] {
        check(
            failures,
            scan_retry_delay(failures),
            chrono::TimeDelta::seconds(seconds),
        );
    }
}

fn message(deleted_by_recipient: bool, for_everyone: bool) -> Message {
    let at = DateTime::from_timestamp(1_741_946_400, 0).unwrap();
    Message {
        id: MessageId(7),
        conversation_id: ConversationId(1),
        sender_id: UserId(1),
        recipient_id: UserId(2),
        booking_id: None,
        subject: None,
        body: "see attached".into(),
        parent_id: None,
        created_at: at,
        read_at: None,
        edited_at: None,
        deleted_by_sender: false,
        deleted_by_recipient,
        deleted_for_everyone_at: for_everyone.then_some(at),
        deleted_at: None,
    }
}

fn attachment(status: ScanStatus) -> Attachment {
    Attachment {
        id: AttachmentId(3),
        message_id: MessageId(7),
        uploader_id: UserId(1),
        storage_key: StorageKey::new(UserId(1), [1; 16], FileKind::Pdf),
        file_name: FileName::sanitize("a.pdf", FileKind::Pdf),
        kind: FileKind::Pdf,
        size: 10,
        dimensions: None,
        scan_status: status,
        created_at: DateTime::from_timestamp(1_741_946_400, 0).unwrap(),
        scanned_at: None,
    }
}

#[test]
fn only_participants_download_files_that_are_safe_to_serve() {
    use DownloadRefusal::{Infected, NotFound, ScanPending};
    use ScanStatus::{Clean, NotScanned, Pending};
    let cases = [
        (
            "sender, clean",
            Clean,
            message(false, false),
            1,
            true,
            Ok(()),
        ),
        (
            "recipient, clean",
            Clean,
            message(false, false),
            2,
            true,
            Ok(()),
        ),
        (
            "stranger",
            Clean,
            message(false, false),
            3,
            true,
            Err(NotFound),
        ),
        (
            "infected",
            ScanStatus::Infected,
            message(false, false),
            2,
            true,
            Err(Infected),
        ),
        (
            "infected without scanner",
            ScanStatus::Infected,
            message(false, false),
            2,
            false,
            Err(Infected),
        ),
        (
            "pending with scanner",
            Pending,
            message(false, false),
            2,
            true,
            Err(ScanPending),
        ),
        (
            "not scanned with scanner",
            NotScanned,
            message(false, false),
            2,
            true,
            Err(ScanPending),
        ),
        (
            "not scanned without scanner",
            NotScanned,
            message(false, false),
            2,
            false,
            Ok(()),
        ),
        (
            "deleted by the recipient, for them",
            Clean,
            message(true, false),
            2,
            true,
            Err(NotFound),
        ),
        (
            "deleted by the recipient, for the sender",
            Clean,
            message(true, false),
            1,
            true,
            Ok(()),
        ),
        (
            "deleted for everyone",
            Clean,
            message(false, true),
            1,
            true,
            Err(NotFound),
        ),
    ];
    for (case, status, msg, user, scanner, expected) in cases {
        check(
            case,
            check_download(&attachment(status), &msg, UserId(user), scanner),
            expected,
        );
    }
    let mut other = message(false, false);
    other.id = MessageId(8);
    check(
        "wrong message",
        check_download(&attachment(Clean), &other, UserId(1), true),
        Err(NotFound),
    );
}

#[test]
fn scan_statuses_round_trip_and_start_by_configuration() {
    for status in [
        ScanStatus::Pending,
        ScanStatus::Clean,
        ScanStatus::Infected,
        ScanStatus::NotScanned,
    ] {
        check(status, ScanStatus::parse(status.as_str()), Some(status));
    }
    check(
        "with scanner",
        ScanStatus::initial(true),
        ScanStatus::Pending,
    );
    check(
        "without",
        ScanStatus::initial(false),
        ScanStatus::NotScanned,
    );
    for kind in FileKind::ALL {
        check(kind, FileKind::from_mime_type(kind.mime_type()), Some(kind));
    }
}
