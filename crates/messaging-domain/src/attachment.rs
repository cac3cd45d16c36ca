//! Attachments: what a file may be, how big, under which name it is shown and which key it is
//! stored under, its virus-scan state, and who may download it.
//!
//! The type of a file is decided from its bytes, never from the client's name or header. An upload
//! is fed through a [`FileInspector`] chunk by chunk as it arrives, so every limit holds before the
//! rest of the file is even read; nothing here does I/O.
//!
//! The rules live by what they decide: the type and an image's size from its bytes
//! ([`sniff`], `attachment/sniffing.rs`), the streaming checks ([`FileInspector`],
//! `attachment/inspector.rs`), the display name ([`FileName`], `attachment/file_name.rs`), the
//! storage key ([`StorageKey`], `attachment/storage_key.rs`) and the scan state ([`ScanStatus`],
//! `attachment/scan.rs`); who may download a file ([`check_download`]) is here.

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::message::{Message, MessageId};
use crate::user::UserId;

mod file_name;
mod inspector;
mod scan;
mod sniffing;
mod storage_key;

pub use file_name::FileName;
pub use inspector::{FileInspector, InspectedFile};
pub use scan::{
    QueuedScan, SCAN_RETRY_FIRST, SCAN_RETRY_MAX, ScanStatus, ScanVerdict, scan_retry_delay,
};
pub use sniffing::{image_dimensions, sniff};
pub use storage_key::StorageKey;

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
