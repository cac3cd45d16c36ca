//! Attachments in an S3-compatible bucket (AWS, MinIO, ...) through rust-s3. The bucket is private
//! and created when missing; downloads are presigned GETs that ask the server to answer with the
//! display name (`response-content-disposition`) and the detected type (`response-content-type`).

use std::collections::HashMap;
use std::path::PathBuf;

use async_trait::async_trait;
use messaging_domain::StoreError;
use messaging_domain::attachment::{FileName, StorageKey};
use messaging_domain::ports::AttachmentStorage;
use s3::bucket::Bucket;
use s3::bucket_ops::BucketConfiguration;
use s3::creds::Credentials;
use s3::error::S3Error;
use s3::region::Region;

use crate::content_disposition;

/// Where the bucket is and how to reach it.
#[derive(Clone)]
pub struct S3Settings {
    /// `https://host[:port]` of an S3-compatible server; `None` for AWS itself.
    pub endpoint: Option<String>,
    /// The region (`us-east-1` when the server does not care).
    pub region: String,
    /// The bucket name.
    pub bucket: String,
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// Address the bucket in the path (`endpoint/bucket/key`) rather than as a subdomain; most
    /// self-hosted servers need this.
    pub path_style: bool,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys are secrets.
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

/// A bucket on an S3-compatible server.
pub struct S3Storage {
    bucket: Box<Bucket>,
}

impl std::fmt::Debug for S3Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Storage")
            .field("bucket", &self.bucket.name())
            .finish_non_exhaustive()
    }
}

fn backend(err: S3Error) -> StoreError {
    StoreError::backend(err)
}

impl S3Storage {
    /// Connects and makes sure the bucket exists (created private when missing; a bucket that
    /// already exists is fine).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the server is unreachable, refuses the credentials, or the
    /// bucket can be neither found nor created.
    pub async fn connect(settings: &S3Settings) -> Result<Self, StoreError> {
        let region = match &settings.endpoint {
            Some(endpoint) => Region::Custom {
                region: settings.region.clone(),
                endpoint: endpoint.trim_end_matches('/').to_owned(),
            },
            None => settings
                .region
                .parse()
                .map_err(|e: std::str::Utf8Error| StoreError::backend(e))?,
        };
        let credentials = Credentials::new(
            Some(&settings.access_key),
            Some(&settings.secret_key),
            None,
            None,
            None,
        )
        .map_err(|e| backend(e.into()))?;
        // `Bucket::exists` fails on some servers: creating and accepting "already exists" works
        // everywhere.
        let created = if settings.path_style {
            Bucket::create_with_path_style(
                &settings.bucket,
                region.clone(),
                credentials.clone(),
                BucketConfiguration::private(),
            )
            .await
        } else {
            Bucket::create(
                &settings.bucket,
                region.clone(),
                credentials.clone(),
                BucketConfiguration::private(),
            )
            .await
        };
        match created {
            Ok(_) => {}
            Err(S3Error::HttpFailWithBody(409, body))
                if body.contains("BucketAlreadyOwnedByYou")
                    || body.contains("BucketAlreadyExists") => {}
            Err(err) => return Err(backend(err)),
        }
        let mut bucket = Bucket::new(&settings.bucket, region, credentials).map_err(backend)?;
        if settings.path_style {
            bucket = bucket.with_path_style();
        }
        Ok(Self { bucket })
    }
}

#[async_trait]
impl AttachmentStorage for S3Storage {
    async fn put_file(
        &self,
        key: StorageKey,
        content_type: &'static str,
        path: PathBuf,
        _size: u64,
    ) -> Result<(), StoreError> {
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(StoreError::backend)?;
        self.bucket
            .put_object_stream_with_content_type(&mut file, key.as_str(), content_type)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn put_bytes(
        &self,
        key: StorageKey,
        content_type: &'static str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.bucket
            .put_object_with_content_type(key.as_str(), &bytes, content_type)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn get(&self, key: StorageKey) -> Result<Vec<u8>, StoreError> {
        match self.bucket.get_object(key.as_str()).await {
            Ok(response) => Ok(response.to_vec()),
            Err(S3Error::HttpFailWithBody(404, _)) => Err(StoreError::NotFound),
            Err(err) => Err(backend(err)),
        }
    }

    async fn download_url(
        &self,
        key: StorageKey,
        file_name: FileName,
        content_type: &'static str,
        expires_in_seconds: u32,
    ) -> Result<String, StoreError> {
        // S3 lets a presigned GET override these response headers; `X-Content-Type-Options`
        // cannot be set this way, so the type is pinned and the file always saved, not shown.
        let queries = HashMap::from([
            (
                "response-content-disposition".to_owned(),
                content_disposition(file_name.as_str()),
            ),
            ("response-content-type".to_owned(), content_type.to_owned()),
        ]);
        self.bucket
            .presign_get(key.as_str(), expires_in_seconds, Some(queries))
            .await
            .map_err(backend)
    }

    async fn delete(&self, key: StorageKey) -> Result<(), StoreError> {
        match self.bucket.delete_object(key.as_str()).await {
            Ok(_) | Err(S3Error::HttpFailWithBody(404, _)) => Ok(()),
            Err(err) => Err(backend(err)),
        }
    }
}
