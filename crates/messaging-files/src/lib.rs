//! File adapters for the messaging domain's attachment ports: object storage on S3-compatible
//! servers (rust-s3) or on local disk with server-signed links, and virus scanning with ClamAV's
//! clamd. No adapter type appears above this crate: failures become the domain's `StoreError`.

mod clamd;
mod disposition;
mod local;
mod s3;

use std::path::PathBuf;

use async_trait::async_trait;
use messaging_domain::StoreError;
use messaging_domain::attachment::{FileName, StorageKey};
use messaging_domain::ports::AttachmentStorage;

pub use clamd::{ClamdAddress, ClamdScanner};
pub use disposition::content_disposition;
pub use local::{LinkError, LocalDiskStorage, LocalLink};
pub use s3::{S3Settings, S3Storage};

/// The storage the server was configured with.
#[derive(Debug)]
pub enum FileStorage {
    /// Files under the data directory, served by the server through signed links.
    Local(LocalDiskStorage),
    /// An S3-compatible bucket, served through presigned links.
    S3(S3Storage),
}

impl FileStorage {
    /// The local-disk storage, whose links the server itself must serve.
    #[must_use]
    pub fn local(&self) -> Option<&LocalDiskStorage> {
        match self {
            Self::Local(local) => Some(local),
            Self::S3(_) => None,
        }
    }
}

#[async_trait]
impl AttachmentStorage for FileStorage {
    async fn put_file(
        &self,
        key: StorageKey,
        content_type: &'static str,
        path: PathBuf,
        size: u64,
    ) -> Result<(), StoreError> {
        match self {
            Self::Local(s) => s.put_file(key, content_type, path, size).await,
            Self::S3(s) => s.put_file(key, content_type, path, size).await,
        }
    }

    async fn put_bytes(
        &self,
        key: StorageKey,
        content_type: &'static str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        match self {
            Self::Local(s) => s.put_bytes(key, content_type, bytes).await,
            Self::S3(s) => s.put_bytes(key, content_type, bytes).await,
        }
    }

    async fn get(&self, key: StorageKey) -> Result<Vec<u8>, StoreError> {
        match self {
            Self::Local(s) => s.get(key).await,
            Self::S3(s) => s.get(key).await,
        }
    }

    async fn download_url(
        &self,
        key: StorageKey,
        file_name: FileName,
        content_type: &'static str,
        expires_in_seconds: u32,
    ) -> Result<String, StoreError> {
        match self {
            Self::Local(s) => {
                s.download_url(key, file_name, content_type, expires_in_seconds)
                    .await
            }
            Self::S3(s) => {
                s.download_url(key, file_name, content_type, expires_in_seconds)
                    .await
            }
        }
    }

    async fn delete(&self, key: StorageKey) -> Result<(), StoreError> {
        match self {
            Self::Local(s) => s.delete(key).await,
            Self::S3(s) => s.delete(key).await,
        }
    }
}
