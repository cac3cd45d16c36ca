//! Attachments on local disk under the data directory, the embedded default. Downloads go through
//! the server: a link carries the key, its expiry, the display name and type, signed with
//! HMAC-SHA256 under a key only the server knows, so it can be neither forged nor extended.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use messaging_domain::StoreError;
use messaging_domain::attachment::{FileKind, FileName, StorageKey};
use messaging_domain::ports::AttachmentStorage;
use sha2::Sha256;

/// The path under which the server serves local-disk links; a link is this plus its token.
pub const LINK_PATH: &str = "/api/attachments/files/";

/// Files in a directory, with signed links.
pub struct LocalDiskStorage {
    root: PathBuf,
    link_key: Vec<u8>,
}

impl std::fmt::Debug for LocalDiskStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The link key is a secret.
        f.debug_struct("LocalDiskStorage")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// A verified link: what to serve and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalLink {
    /// The stored file.
    pub key: StorageKey,
    /// The name to save it under.
    pub file_name: String,
    /// Its type.
    pub content_type: &'static str,
}

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Malformed, or the signature does not match (tampered with or forged).
    #[error("the download link is not valid")]
    Invalid,
    /// Past its expiry.
    #[error("the download link has expired")]
    Expired,
}

impl LocalDiskStorage {
    /// Storage under `root`, signing links with `link_key`.
    #[must_use]
    pub fn new(root: PathBuf, link_key: Vec<u8>) -> Self {
        Self { root, link_key }
    }

    /// Where a key's file lives. Keys only ever have the `messages/<n>/<hex>.<ext>` form (or
    /// System A's `messages/<n>/<n>/<hex>.<ext>`), so this is always inside the root.
    #[must_use]
    pub fn path_of(&self, key: &StorageKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    /// A link token for `key`, valid until `expires_at` (Unix seconds).
    #[must_use]
    pub fn sign(
        &self,
        key: &StorageKey,
        file_name: &str,
        content_type: &str,
        expires_at: i64,
    ) -> String {
        let payload = format!(
            "{expires_at}\n{}\n{content_type}\n{file_name}",
            key.as_str()
        );
        let signature = self.mac(payload.as_bytes()).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// Checks a token at `now` (Unix seconds).
    ///
    /// # Errors
    /// [`LinkError::Invalid`] for anything forged or altered, [`LinkError::Expired`] after the
    /// link's expiry.
    pub fn verify(&self, token: &str, now: i64) -> Result<LocalLink, LinkError> {
        let (payload, signature) = token.split_once('.').ok_or(LinkError::Invalid)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| LinkError::Invalid)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| LinkError::Invalid)?;
        // Constant-time comparison.
        self.mac(&payload)
            .verify_slice(&signature)
            .map_err(|_| LinkError::Invalid)?;
        let payload = String::from_utf8(payload).map_err(|_| LinkError::Invalid)?;
        let mut parts = payload.splitn(4, '\n');
        let expires_at: i64 = parts
            .next()
            .and_then(|e| e.parse().ok())
            .ok_or(LinkError::Invalid)?;
        let key = parts
            .next()
            .and_then(StorageKey::parse)
            .ok_or(LinkError::Invalid)?;
        let content_type = parts
            .next()
            .and_then(FileKind::from_mime_type)
            .ok_or(LinkError::Invalid)?
            .mime_type();
        let file_name = parts.next().ok_or(LinkError::Invalid)?.to_owned();
        if now >= expires_at {
            return Err(LinkError::Expired);
        }
        Ok(LocalLink {
            key,
            file_name,
            content_type,
        })
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.link_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(payload);
        mac
    }

    async fn write_atomically(
        &self,
        key: &StorageKey,
        from: WriteSource<'_>,
    ) -> std::io::Result<()> {
        let target = self.path_of(key);
        let dir = target.parent().unwrap_or(&self.root).to_owned();
        tokio::fs::create_dir_all(&dir).await?;
        // Written beside the target and renamed, so a reader never sees half a file.
        let partial = dir.join(format!(
            ".{}.partial",
            target
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("upload")
        ));
        let written = match from {
            WriteSource::File(path) => tokio::fs::copy(path, &partial).await.map(|_| ()),
            WriteSource::Bytes(bytes) => tokio::fs::write(&partial, bytes).await,
        };
        if let Err(err) = written {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(err);
        }
        tokio::fs::rename(&partial, &target).await
    }
}

enum WriteSource<'a> {
    File(&'a Path),
    Bytes(Vec<u8>),
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[async_trait]
impl AttachmentStorage for LocalDiskStorage {
    async fn put_file(
        &self,
        key: StorageKey,
        _content_type: &'static str,
        path: PathBuf,
        _size: u64,
    ) -> Result<(), StoreError> {
        self.write_atomically(&key, WriteSource::File(&path))
            .await
            .map_err(StoreError::backend)
    }

    async fn put_bytes(
        &self,
        key: StorageKey,
        _content_type: &'static str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.write_atomically(&key, WriteSource::Bytes(bytes))
            .await
            .map_err(StoreError::backend)
    }

    async fn get(&self, key: StorageKey) -> Result<Vec<u8>, StoreError> {
        match tokio::fs::read(self.path_of(&key)).await {
            Ok(bytes) => Ok(bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound),
            Err(err) => Err(StoreError::backend(err)),
        }
    }

    async fn download_url(
        &self,
        key: StorageKey,
        file_name: FileName,
        content_type: &'static str,
        expires_in_seconds: u32,
    ) -> Result<String, StoreError> {
        let expires_at = unix_now() + i64::from(expires_in_seconds);
        Ok(format!(
            "{LINK_PATH}{}",
            self.sign(&key, file_name.as_str(), content_type, expires_at)
        ))
    }

    async fn delete(&self, key: StorageKey) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path_of(&key)).await {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(StoreError::backend(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use messaging_domain::user::UserId;

    fn storage() -> LocalDiskStorage {
        LocalDiskStorage::new(PathBuf::from("/nonexistent"), b"secret".to_vec())
    }

    #[test]
    fn links_verify_until_they_expire_and_refuse_any_change() {
        let key = StorageKey::new(UserId(1), [7; 16], FileKind::Pdf);
        let s = storage();
        let token = s.sign(&key, "a.pdf", "application/pdf", 1_000);
        assert_eq!(
            s.verify(&token, 999),
            Ok(LocalLink {
                key: key.clone(),
                file_name: "a.pdf".into(),
                content_type: "application/pdf"
            })
        );
        assert_eq!(s.verify(&token, 1_000), Err(LinkError::Expired));
        // Any other payload (a later expiry, another key) fails the signature.
        let (_, sig) = token.split_once('.').unwrap();
        let forged = format!(
            "{}.{sig}",
            URL_SAFE_NO_PAD.encode(format!("9999\n{}\napplication/pdf\na.pdf", key.as_str()))
        );
        assert_eq!(s.verify(&forged, 999), Err(LinkError::Invalid));
        let other_key = LocalDiskStorage::new(PathBuf::from("/x"), b"other".to_vec());
        assert_eq!(other_key.verify(&token, 999), Err(LinkError::Invalid));
        assert_eq!(s.verify("garbage", 999), Err(LinkError::Invalid));
    }
}
