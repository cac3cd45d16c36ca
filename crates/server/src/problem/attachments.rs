//! The answers of the attachment use cases: refused files, downloads and download links.

use actix_web::http::StatusCode;
use messaging_domain::DownloadError;
use messaging_domain::attachment::{DownloadRefusal, FileRefusal};

use super::Problem;
use super::doc::Documented;

impl From<messaging_domain::attachment::FileRefusal> for Problem {
    fn from(err: messaging_domain::attachment::FileRefusal) -> Self {
        use messaging_domain::attachment::FileRefusal;
        let detail = err.to_string();
        match err {
            FileRefusal::Empty => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "EMPTY_FILE",
                "Empty file",
                detail,
            ),
            FileRefusal::TooLarge { max_bytes } => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "FILE_TOO_LARGE",
                "File too large",
                detail,
            )
            .with("max_bytes", max_bytes),
            FileRefusal::UnsupportedType => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_FILE_TYPE",
                "File type not allowed",
                "Allowed: JPEG, PNG, GIF, WebP, PDF, DOC, DOCX, TXT, CSV; the type is read from the \
                 file's contents.",
            ),
            FileRefusal::TooManyPixels { max_pixels } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "IMAGE_DIMENSIONS_TOO_LARGE",
                "Image too large",
                detail,
            )
            .with("max_pixels", max_pixels),
            FileRefusal::UnreadableImage => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "UNREADABLE_IMAGE",
                "Unreadable image",
                detail,
            ),
        }
    }
}

impl From<messaging_domain::DownloadError> for Problem {
    fn from(err: messaging_domain::DownloadError) -> Self {
        use messaging_domain::DownloadError;
        use messaging_domain::attachment::DownloadRefusal;
        match err {
            DownloadError::Refused(refusal) => {
                let detail = refusal.to_string();
                match refusal {
                    DownloadRefusal::NotFound => Problem::new(
                        StatusCode::NOT_FOUND,
                        "ATTACHMENT_NOT_FOUND",
                        "Not found",
                        detail,
                    ),
                    DownloadRefusal::Infected => Problem::new(
                        StatusCode::FORBIDDEN,
                        "ATTACHMENT_INFECTED",
                        "File blocked",
                        detail,
                    ),
                    DownloadRefusal::ScanPending => Problem::new(
                        StatusCode::CONFLICT,
                        "ATTACHMENT_SCAN_PENDING",
                        "Scan pending",
                        detail,
                    ),
                }
            }
            DownloadError::Store(err) => err.into(),
        }
    }
}

impl From<messaging_files::LinkError> for Problem {
    fn from(err: messaging_files::LinkError) -> Self {
        use messaging_files::LinkError;
        let detail = err.to_string();
        match err {
            LinkError::Invalid => Problem::new(
                StatusCode::FORBIDDEN,
                "DOWNLOAD_LINK_INVALID",
                "Invalid link",
                detail,
            ),
            LinkError::Expired => Problem::new(
                StatusCode::FORBIDDEN,
                "DOWNLOAD_LINK_EXPIRED",
                "Link expired",
                detail,
            ),
        }
    }
}

impl Documented for FileRefusal {
    fn problems() -> Vec<Problem> {
        [
            FileRefusal::Empty,
            FileRefusal::TooLarge { max_bytes: 1 },
            FileRefusal::UnsupportedType,
            FileRefusal::TooManyPixels { max_pixels: 1 },
            FileRefusal::UnreadableImage,
        ]
        .into_iter()
        .map(|e| match e {
            FileRefusal::Empty
            | FileRefusal::TooLarge { .. }
            | FileRefusal::UnsupportedType
            | FileRefusal::TooManyPixels { .. }
            | FileRefusal::UnreadableImage => Problem::from(e),
        })
        .collect()
    }
}

impl Documented for DownloadError {
    fn problems() -> Vec<Problem> {
        [
            DownloadRefusal::NotFound,
            DownloadRefusal::Infected,
            DownloadRefusal::ScanPending,
        ]
        .into_iter()
        .map(|refusal| match refusal {
            DownloadRefusal::NotFound
            | DownloadRefusal::Infected
            | DownloadRefusal::ScanPending => Problem::from(DownloadError::Refused(refusal)),
        })
        .collect()
    }
}

impl Documented for messaging_files::LinkError {
    fn problems() -> Vec<Problem> {
        use messaging_files::LinkError;
        [LinkError::Invalid, LinkError::Expired]
            .into_iter()
            .map(|e| match e {
                LinkError::Invalid | LinkError::Expired => Problem::from(e),
            })
            .collect()
    }
}
