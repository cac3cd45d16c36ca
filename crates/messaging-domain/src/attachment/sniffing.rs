//! Type sniffing: a file's kind decided from its magic bytes against System A's allow-list, never
//! from the client's name or `Content-Type`, and an image's dimensions read from its header.
//! HTML, SVG, XML, scripts and executables are refused whatever they are called.

use super::{FileKind, FileRefusal};

/// Checks `bytes` is UTF-8 except perhaps for an unfinished character at its end, which is
/// returned (at most three bytes) so the next chunk can complete it.
pub(super) fn utf8_tail(bytes: &[u8]) -> Result<&[u8], FileRefusal> {
    match std::str::from_utf8(bytes) {
        Ok(_) => Ok(&[]),
        Err(err) if err.error_len().is_none() => Ok(&bytes[err.valid_up_to()..]),
        Err(_) => Err(FileRefusal::UnsupportedType),
    }
}

/// Decides a file's kind from its first bytes. `complete` says whether `head` is the whole file
/// (so a text file may not end inside a character).
///
/// # Errors
/// [`FileRefusal::UnsupportedType`] for anything not on the allow-list, and always for HTML, SVG,
/// XML, scripts and executables.
pub fn sniff(head: &[u8], complete: bool, claimed_name: &str) -> Result<FileKind, FileRefusal> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    const OLE2: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";
    if head.starts_with(b"\xff\xd8\xff") {
        return Ok(FileKind::Jpeg);
    }
    if head.starts_with(PNG) {
        return Ok(FileKind::Png);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Ok(FileKind::Gif);
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        return Ok(FileKind::Webp);
    }
    if head.starts_with(b"%PDF-") {
        return Ok(FileKind::Pdf);
    }
    if head.starts_with(OLE2) {
        return Ok(FileKind::Doc);
    }
    if head.starts_with(b"PK\x03\x04") {
        // A Word document is a ZIP whose first entries are its content-type map and `word/` parts;
        // any other ZIP (an archive, a spreadsheet, a Java program) is refused.
        return if contains(head, b"[Content_Types].xml") && contains(head, b"word/") {
            Ok(FileKind::Docx)
        } else {
            Err(FileRefusal::UnsupportedType)
        };
    }
    looks_like_text(head, complete)?;
    let lower = claimed_name.to_ascii_lowercase();
    Ok(if lower.ends_with(".csv") {
        FileKind::Csv
    } else {
        FileKind::Txt
    })
}

/// Accepts UTF-8 text without NUL bytes that does not start like markup a browser would render
/// (HTML, SVG, XML) or like a script meant to be run.
fn looks_like_text(head: &[u8], complete: bool) -> Result<(), FileRefusal> {
    if head.contains(&0) {
        return Err(FileRefusal::UnsupportedType);
    }
    let tail = utf8_tail(head)?;
    if complete && !tail.is_empty() {
        return Err(FileRefusal::UnsupportedType);
    }
    let text = String::from_utf8_lossy(&head[..head.len() - tail.len()]);
    let start = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    if start.starts_with("#!") || start.starts_with('<') {
        return Err(FileRefusal::UnsupportedType);
    }
    // Browsers that sniff look for these tags near the start, even after other text.
    const MARKUP: [&str; 8] = [
        "<!doctype",
        "<html",
        "<script",
        "<svg",
        "<?xml",
        "<body",
        "<iframe",
        "<head",
    ];
    if MARKUP.iter().any(|tag| start.contains(tag)) {
        return Err(FileRefusal::UnsupportedType);
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Reads an image's width and height from its header.
///
/// # Errors
/// [`FileRefusal::UnreadableImage`] when the header is truncated or malformed.
pub fn image_dimensions(kind: FileKind, head: &[u8]) -> Result<(u32, u32), FileRefusal> {
    let le16 = |at: usize| -> Option<u32> {
        Some(u32::from(u16::from_le_bytes([
            *head.get(at)?,
            *head.get(at + 1)?,
        ])))
    };
    let le24 = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes([
            *head.get(at)?,
            *head.get(at + 1)?,
            *head.get(at + 2)?,
            0,
        ]))
    };
    let found = match kind {
        FileKind::Png => {
            // The IHDR chunk must come first: length, type, then width and height.
            if head.get(12..16) == Some(b"IHDR") {
                let w = head
                    .get(16..20)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                let h = head
                    .get(20..24)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                w.zip(h)
            } else {
                None
            }
        }
        FileKind::Gif => le16(6).zip(le16(8)),
        FileKind::Webp => match head.get(12..16) {
            // Lossy: a 14-bit width and height after the frame tag and start code.
            Some(b"VP8 ") if head.get(23..26) == Some(b"\x9d\x01\x2a") => le16(26)
                .zip(le16(28))
                .map(|(w, h)| (w & 0x3fff, h & 0x3fff)),
            Some(b"VP8L") => {
                let b = head.get(21..25);
                b.map(|b| {
                    let bits = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    ((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1)
                })
            }
            Some(b"VP8X") => le24(24).zip(le24(27)).map(|(w, h)| (w + 1, h + 1)),
            _ => None,
        },
        FileKind::Jpeg => jpeg_dimensions(head),
        _ => None,
    };
    found.ok_or(FileRefusal::UnreadableImage)
}

/// Walks JPEG segments to the first start-of-frame marker.
fn jpeg_dimensions(head: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        // Markers may be padded with any number of 0xFF bytes.
        while *head.get(at)? == 0xff && *head.get(at + 1)? == 0xff {
            at += 1;
        }
        if *head.get(at)? != 0xff {
            return None;
        }
        let marker = *head.get(at + 1)?;
        at += 2;
        match marker {
            // Markers without a length.
            0xd0..=0xd9 | 0x01 => continue,
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([*head.get(at)?, *head.get(at + 1)?]));
        if length < 2 {
            return None;
        }
        let is_frame = matches!(marker, 0xc0..=0xcf) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
        if is_frame {
            let h = u16::from_be_bytes([*head.get(at + 3)?, *head.get(at + 4)?]);
            let w = u16::from_be_bytes([*head.get(at + 5)?, *head.get(at + 6)?]);
            return Some((u32::from(w), u32::from(h)));
        }
        at += length;
    }
}
