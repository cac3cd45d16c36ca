//! Attachments: what a file may be, how big, under which name it is shown and which key it is
//! stored under, its virus-scan state, and who may download it.
//!
//! The type of a file is decided from its bytes, never from the client's name or header. An upload
//! is fed through a [`FileInspector`] chunk by chunk as it arrives, so every limit holds before the
//! rest of the file is even read; nothing here does I/O.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use thiserror::Error;

use crate::message::{Message, MessageId};
use crate::user::UserId;

#[cfg(test)]
mod tests;

/// The largest image, in bytes (5 MB, System A's limit).
pub const MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;
/// The largest document, in bytes (10 MB, System A's limit); also the largest file of any type.
pub const MAX_DOCUMENT_BYTES: u64 = 10 * 1024 * 1024;
/// The largest image in pixels (width × height): a small file can declare a huge canvas that would
/// exhaust a viewer's memory once decoded.
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;
/// How many leading bytes are kept to decide the type and read image dimensions. JPEG metadata
/// segments (EXIF, ICC profiles) come before the frame header, so this is generous.
pub const HEAD_BYTES: usize = 256 * 1024;
/// The longest display name, in bytes.
pub const MAX_FILE_NAME_BYTES: usize = 200;

/// An attachment's identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AttachmentId(pub i64);

/// The file types System A accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum FileKind {
    /// JPEG image.
    Jpeg,
    /// PNG image.
    Png,
    /// GIF image.
    Gif,
    /// WebP image.
    Webp,
    /// PDF document.
    Pdf,
    /// Legacy Word document (OLE2 compound file).
    Doc,
    /// Word document (Office Open XML).
    Docx,
    /// Plain UTF-8 text.
    Txt,
    /// Comma-separated values (UTF-8 text named `.csv`).
    Csv,
}

impl FileKind {
    /// Every accepted kind.
    pub const ALL: [FileKind; 9] = [
        Self::Jpeg,
        Self::Png,
        Self::Gif,
        Self::Webp,
        Self::Pdf,
        Self::Doc,
        Self::Docx,
        Self::Txt,
        Self::Csv,
    ];

    /// The MIME type it is stored and served with.
    #[must_use]
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
            Self::Doc => "application/msword",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Txt => "text/plain; charset=utf-8",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }

    /// The kind stored under a MIME type, as [`FileKind::mime_type`] spells it.
    #[must_use]
    pub fn from_mime_type(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.mime_type() == mime)
    }

    /// The extension used in storage keys and display names.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::Webp => "webp",
            Self::Pdf => "pdf",
            Self::Doc => "doc",
            Self::Docx => "docx",
            Self::Txt => "txt",
            Self::Csv => "csv",
        }
    }

    /// Extensions a display name may keep for this kind (lower case).
    fn accepted_extensions(self) -> &'static [&'static str] {
        match self {
            Self::Jpeg => &["jpg", "jpeg"],
            Self::Png => &["png"],
            Self::Gif => &["gif"],
            Self::Webp => &["webp"],
            Self::Pdf => &["pdf"],
            Self::Doc => &["doc"],
            Self::Docx => &["docx"],
            Self::Txt => &["txt", "text", "log", "md"],
            Self::Csv => &["csv"],
        }
    }

    /// Whether it is an image (and so limited to [`MAX_IMAGE_BYTES`]).
    #[must_use]
    pub fn is_image(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png | Self::Gif | Self::Webp)
    }

    /// The largest file of this kind, in bytes.
    #[must_use]
    pub fn max_bytes(self) -> u64 {
        if self.is_image() {
            MAX_IMAGE_BYTES
        } else {
            MAX_DOCUMENT_BYTES
        }
    }
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FileRefusal {
    /// The file has no bytes.
    #[error("the file is empty")]
    Empty,
    /// The file is larger than its kind allows.
    #[error("the file is larger than {max_bytes} bytes")]
    TooLarge {
        /// The limit that applied.
        max_bytes: u64,
    },
    /// The bytes are not one of the accepted types (HTML, SVG, executables and anything unknown),
    /// whatever the client called the file.
    #[error("this file type is not allowed")]
    UnsupportedType,
    /// The image declares more pixels than [`MAX_IMAGE_PIXELS`].
    #[error("the image is larger than {max_pixels} pixels")]
    TooManyPixels {
        /// The limit.
        max_pixels: u64,
    },
    /// The image header is truncated or declares no size.
    #[error("the image header cannot be read")]
    UnreadableImage,
}

/// A file that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedFile {
    /// Its type, from its bytes.
    pub kind: FileKind,
    /// Its size in bytes.
    pub size: u64,
    /// Its display name, sanitised.
    pub name: FileName,
    /// Width and height, for images.
    pub dimensions: Option<(u32, u32)>,
}

/// Checks an upload as it streams: feed each chunk before keeping it, then [`finish`]. The first
/// [`HEAD_BYTES`] are kept to decide the type; after that only a count (and, for text, a few bytes
/// of an unfinished UTF-8 character) is held, so memory stays bounded whatever is sent.
///
/// [`finish`]: FileInspector::finish
#[derive(Debug, Clone)]
pub struct FileInspector {
    claimed_name: String,
    head: Vec<u8>,
    total: u64,
    kind: Option<FileKind>,
    /// The bytes of a UTF-8 character split across chunks, for text files.
    carry: Vec<u8>,
}

impl FileInspector {
    /// Starts inspecting a file the client named `claimed_name` (used only to tell CSV from
    /// plain text, and for the display name).
    #[must_use]
    pub fn new(claimed_name: &str) -> Self {
        Self {
            claimed_name: claimed_name.to_owned(),
            head: Vec::new(),
            total: 0,
            kind: None,
            carry: Vec::new(),
        }
    }

    /// How many bytes were fed so far.
    #[must_use]
    pub fn received(&self) -> u64 {
        self.total
    }

    /// Takes the next chunk.
    ///
    /// # Errors
    /// [`FileRefusal`] as soon as the bytes so far break a rule; the caller must stop reading.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), FileRefusal> {
        self.total += chunk.len() as u64;
        let limit = self.kind.map_or(MAX_DOCUMENT_BYTES, FileKind::max_bytes);
        if self.total > limit {
            return Err(FileRefusal::TooLarge { max_bytes: limit });
        }
        match self.kind {
            None => {
                let room = HEAD_BYTES - self.head.len();
                let (into_head, rest) = chunk.split_at(room.min(chunk.len()));
                self.head.extend_from_slice(into_head);
                if self.head.len() == HEAD_BYTES {
                    let kind = sniff(&self.head, false, &self.claimed_name)?;
                    self.kind = Some(kind);
                    if self.total > kind.max_bytes() {
                        return Err(FileRefusal::TooLarge {
                            max_bytes: kind.max_bytes(),
                        });
                    }
                    if is_text(kind) {
                        self.carry = utf8_tail(&self.head)?.to_vec();
                        self.check_text(rest)?;
                    }
                }
                Ok(())
            }
            Some(kind) if is_text(kind) => self.check_text(chunk),
            Some(_) => Ok(()),
        }
    }

    /// Ends the file and gives the verdict.
    ///
    /// # Errors
    /// [`FileRefusal`] naming the rule the whole file broke.
    pub fn finish(self) -> Result<InspectedFile, FileRefusal> {
        if self.total == 0 {
            return Err(FileRefusal::Empty);
        }
        let kind = match self.kind {
            Some(kind) => {
                if is_text(kind) && !self.carry.is_empty() {
                    // The file ends inside a character.
                    return Err(FileRefusal::UnsupportedType);
                }
                kind
            }
            None => sniff(&self.head, true, &self.claimed_name)?,
        };
        if self.total > kind.max_bytes() {
            return Err(FileRefusal::TooLarge {
                max_bytes: kind.max_bytes(),
            });
        }
        let dimensions = if kind.is_image() {
            let (width, height) = image_dimensions(kind, &self.head)?;
            if width == 0 || height == 0 {
                return Err(FileRefusal::UnreadableImage);
            }
            if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS {
                return Err(FileRefusal::TooManyPixels {
                    max_pixels: MAX_IMAGE_PIXELS,
                });
            }
            Some((width, height))
        } else {
            None
        };
        Ok(InspectedFile {
            kind,
            size: self.total,
            name: FileName::sanitize(&self.claimed_name, kind),
            dimensions,
        })
    }

    fn check_text(&mut self, chunk: &[u8]) -> Result<(), FileRefusal> {
        if chunk.is_empty() {
            return Ok(());
        }
        let mut joined = std::mem::take(&mut self.carry);
        joined.extend_from_slice(chunk);
        if joined.contains(&0) {
            return Err(FileRefusal::UnsupportedType);
        }
        self.carry = utf8_tail(&joined)?.to_vec();
        Ok(())
    }
}

fn is_text(kind: FileKind) -> bool {
    matches!(kind, FileKind::Txt | FileKind::Csv)
}

/// Checks `bytes` is UTF-8 except perhaps for an unfinished character at its end, which is
/// returned (at most three bytes) so the next chunk can complete it.
fn utf8_tail(bytes: &[u8]) -> Result<&[u8], FileRefusal> {
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

/// A file name safe to show and to put in a `Content-Disposition` header: no directories, no
/// control or shell-special characters, no leading dots, at most [`MAX_FILE_NAME_BYTES`], and an
/// extension that matches the file's real type. It is never used to build a storage key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileName(String);

impl FileName {
    /// Cleans a client's file name for a file of `kind`.
    #[must_use]
    pub fn sanitize(raw: &str, kind: FileKind) -> Self {
        // Only the last path component counts, whichever separator the client's system uses.
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let cleaned: String = last.chars().map(display_char).collect();
        let cleaned = cleaned
            .trim_start_matches(['.', ' ', '_'])
            .trim_end_matches(['.', ' ']);
        let (stem, ext) = match cleaned.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem, Some(ext.to_ascii_lowercase())),
            _ => (cleaned, None),
        };
        let stem = if stem.trim().is_empty() {
            "attachment"
        } else {
            stem.trim()
        };
        let ext = match ext {
            Some(ext) if kind.accepted_extensions().contains(&ext.as_str()) => ext,
            _ => kind.extension().to_owned(),
        };
        let room = MAX_FILE_NAME_BYTES - ext.len() - 1;
        let mut cut = stem.len().min(room);
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        Self(format!("{}.{ext}", &stem[..cut]))
    }

    /// A stored name, as [`FileName::sanitize`] made it.
    #[must_use]
    pub fn from_stored(name: String) -> Self {
        Self(name)
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name with contact details masked, when masking changes anything: the other party
    /// reads it as they read the body. Only the stem is masked (`notes.pdf` keeps `.pdf`), and
    /// the result is cleaned again, so `j***@e***.com.pdf` becomes `j___@e___.com.pdf` (no `*`
    /// in a `Content-Disposition` name) and the length limit still holds.
    #[must_use]
    pub(crate) fn masked_if_changed(&self) -> Option<Self> {
        let (stem, ext) = self.0.rsplit_once('.').unwrap_or((&self.0, ""));
        let masked = crate::masking::mask_pii(stem);
        if masked == stem {
            return None;
        }
        let cleaned: String = masked.chars().map(display_char).collect();
        let room = MAX_FILE_NAME_BYTES.saturating_sub(ext.len() + 1);
        let mut cut = cleaned.len().min(room);
        while !cleaned.is_char_boundary(cut) {
            cut -= 1;
        }
        let name = if ext.is_empty() {
            cleaned[..cut].to_owned()
        } else {
            format!("{}.{ext}", &cleaned[..cut])
        };
        (name != self.0).then_some(Self(name))
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One character of a display name: control, shell-special and direction-changing characters
/// become `_` (a right-to-left override can make `evil\u{202e}fdp.exe` read as `evilexe.pdf`),
/// other whitespace a plain space.
fn display_char(c: char) -> char {
    const SPECIAL: [char; 12] = ['"', '\'', '<', '>', ':', '*', '?', '|', '%', ';', '`', '$'];
    let bidi =
        matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if c.is_control() || bidi || SPECIAL.contains(&c) {
        '_'
    } else if c.is_whitespace() {
        ' '
    } else {
        c
    }
}

/// Where a file is stored: `messages/{user}/{32 hex}.{ext}`. Built only from the uploader's id,
/// random bytes and the detected type, never from the client's file name.
///
/// System A's keys also named the message (`messages/{user}/{message}/{32 hex}.{ext}`); they still
/// parse, so its stored files stay readable. New keys leave the message out because the file is
/// stored before its message exists: the upload runs outside the database transaction, and
/// reserving a message id beforehand would give a message sent with a slow upload an id older
/// than messages sent meanwhile (history and thread order follow ids). The 128 random bits are
/// what makes a key unguessable, in both forms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StorageKey(String);

impl StorageKey {
    /// The key for a file of `kind` uploaded by `uploader`, made unique by `nonce` (16 random
    /// bytes chosen by the caller).
    #[must_use]
    pub fn new(uploader: UserId, nonce: [u8; 16], kind: FileKind) -> Self {
        use std::fmt::Write;
        let mut hex = String::with_capacity(32);
        for byte in nonce {
            let _ = write!(hex, "{byte:02x}");
        }
        Self(format!(
            "messages/{}/{hex}.{}",
            uploader.0,
            kind.extension()
        ))
    }

    /// Checks a key read back from storage or from a signed link has the form [`StorageKey::new`]
    /// makes (or System A's, with the message id), so that it can never name a path outside the
    /// attachments.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = match raw.split('/').collect::<Vec<_>>().as_slice() {
            ["messages", user, file] => is_digits(user) && is_object_name(file),
            ["messages", user, message, file] => {
                is_digits(user) && is_digits(message) && is_object_name(file)
            }
            _ => false,
        };
        ok.then(|| Self(raw.to_owned()))
    }

    /// The key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `{32 lowercase hex}.{extension of an allowed type}`.
fn is_object_name(file: &str) -> bool {
    file.split_once('.').is_some_and(|(hex, ext)| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            && FileKind::ALL.iter().any(|k| k.extension() == ext)
    })
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Where an attachment stands with the virus scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ScanStatus {
    /// Waiting for the scanner.
    Pending,
    /// The scanner found nothing.
    Clean,
    /// The scanner found malware; the file is never served.
    Infected,
    /// No scanner is configured.
    NotScanned,
}

impl ScanStatus {
    /// The stable stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Clean => "clean",
            Self::Infected => "infected",
            Self::NotScanned => "not_scanned",
        }
    }

    /// The status a stored name stands for.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Clean, Self::Infected, Self::NotScanned]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// The status a new upload starts with.
    #[must_use]
    pub fn initial(scanner_configured: bool) -> Self {
        if scanner_configured {
            Self::Pending
        } else {
            Self::NotScanned
        }
    }
}

/// How long a file waits before its next scan after `failures` scans in a row failed (the scanner
/// or the storage erred; a verdict is not a failure): 15 s, doubling with each failure, at most an
/// hour. A file that keeps failing is retried less and less often instead of taking the place of
/// files that can be scanned.
#[must_use]
pub fn scan_retry_delay(failures: u32) -> TimeDelta {
    let first = SCAN_RETRY_FIRST.num_seconds();
    let doublings = failures.saturating_sub(1).min(32);
    let delay = first.saturating_mul(1_i64 << doublings);
    TimeDelta::seconds(delay.min(SCAN_RETRY_MAX.num_seconds()))
}

/// The pause after a file's first failed scan.
pub const SCAN_RETRY_FIRST: TimeDelta = TimeDelta::seconds(15);
/// The longest pause between two scans of a file that keeps failing.
pub const SCAN_RETRY_MAX: TimeDelta = TimeDelta::hours(1);

/// A file waiting for the scanner, with how many of its scans failed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedScan {
    /// The file.
    pub attachment: Attachment,
    /// Failed scans in a row.
    pub failures: u32,
}

/// An object being stored for a message that is not committed yet. It is recorded before the
/// upload starts and removed in the transaction that stores the message, so an object whose
/// message never committed (the process died in between) can be found and removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    /// Where the object goes.
    pub key: StorageKey,
    /// Who uploads it.
    pub uploader: UserId,
    /// When the upload started.
    pub started_at: DateTime<Utc>,
}

/// What the scanner said about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanVerdict {
    /// Nothing found.
    Clean,
    /// Malware found; the name is the scanner's signature name.
    Infected(String),
}

/// A stored attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Its id.
    pub id: AttachmentId,
    /// The message it came with.
    pub message_id: MessageId,
    /// Who uploaded it (the message's sender).
    pub uploader_id: UserId,
    /// Where it is stored.
    pub storage_key: StorageKey,
    /// Its display name.
    pub file_name: FileName,
    /// Its type.
    pub kind: FileKind,
    /// Its size in bytes.
    pub size: u64,
    /// Width and height, for images.
    pub dimensions: Option<(u32, u32)>,
    /// Its scan state.
    pub scan_status: ScanStatus,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
    /// When the scanner last decided.
    pub scanned_at: Option<DateTime<Utc>>,
}

/// An attachment ready to be stored with its message, its object already in the storage; the
/// store adds the ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// The checked file.
    pub file: InspectedFile,
    /// Where its object was stored (a [`PendingUpload`] until the message commits).
    pub storage_key: StorageKey,
    /// Its initial scan state.
    pub scan_status: ScanStatus,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
}

/// Why a download link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DownloadRefusal {
    /// Unknown, not the caller's conversation, or on a message deleted for the caller or for
    /// everyone: all look alike so ids can't be probed.
    #[error("attachment not found")]
    NotFound,
    /// The scanner found malware in it.
    #[error("this file was found to contain malware and cannot be downloaded")]
    Infected,
    /// The scanner has not decided yet.
    #[error("this file is still being scanned; try again shortly")]
    ScanPending,
}

/// Decides whether `user` may download `attachment`, which came with `message`. Only the two
/// participants may, and only while the message is visible to them; an infected file never, and
/// a pending one not while a scanner is configured.
///
/// # Errors
/// The [`DownloadRefusal`] that applies.
pub fn check_download(
    attachment: &Attachment,
    message: &Message,
    user: UserId,
    scanner_configured: bool,
) -> Result<(), DownloadRefusal> {
    if attachment.message_id != message.id || !message.is_visible_to(user) {
        return Err(DownloadRefusal::NotFound);
    }
    match attachment.scan_status {
        ScanStatus::Infected => Err(DownloadRefusal::Infected),
        ScanStatus::Clean => Ok(()),
        // With a scanner, only what it passed is served; files stored while there was none wait
        // for it like new ones.
        ScanStatus::Pending | ScanStatus::NotScanned if scanner_configured => {
            Err(DownloadRefusal::ScanPending)
        }
        ScanStatus::Pending | ScanStatus::NotScanned => Ok(()),
    }
}
