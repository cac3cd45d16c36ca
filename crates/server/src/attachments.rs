//! The server's side of attachments: choosing and opening the storage and the scanner from the
//! settings, the background scan worker, and spooling an upload to disk while it streams.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use messaging_domain::StoreError;
use messaging_files::{
    ClamdAddress, ClamdScanner, FileStorage, LocalDiskStorage, S3Settings, S3Storage,
};
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

use crate::settings::{Settings, StorageBackend};
use crate::state::Attachments;

/// How many files one scan round takes.
const SCAN_BATCH: u32 = 16;
/// How often the worker looks for waiting files when nobody wakes it (files left pending by a
/// scanner outage, or uploaded by another instance).
const SCAN_POLL: Duration = Duration::from_secs(5);
/// How long clamd may take over one file.
const SCAN_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the attachment set-up failed.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentSetupError {
    /// A setting is missing or unusable.
    #[error("invalid attachment setting: {0}")]
    Setting(String),
    /// The storage could not be reached or prepared.
    #[error("attachment storage")]
    Storage(#[source] StoreError),
    /// The local directories could not be created.
    #[error("cannot create {path}")]
    Dir {
        /// The directory.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Opens the configured storage: the S3 bucket (created when missing) or the local directory.
///
/// # Errors
/// [`AttachmentSetupError`] naming what is wrong.
pub async fn open_storage(
    settings: &Settings,
    link_key: [u8; 32],
) -> Result<FileStorage, AttachmentSetupError> {
    match settings.storage {
        StorageBackend::Local => {
            let root = settings.data_dir.join("attachments");
            create_dir(&root)?;
            Ok(FileStorage::Local(LocalDiskStorage::new(
                root,
                link_key.to_vec(),
            )))
        }
        StorageBackend::S3 => {
            let missing = |name: &str| {
                AttachmentSetupError::Setting(format!("{name} is required with --storage s3"))
            };
            let s3 = S3Settings {
                endpoint: settings.s3_endpoint.clone(),
                region: settings.s3_region.clone(),
                bucket: settings.s3_bucket.clone(),
                access_key: settings
                    .s3_access_key
                    .clone()
                    .ok_or_else(|| missing("--s3-access-key"))?,
                secret_key: settings
                    .s3_secret_key
                    .clone()
                    .ok_or_else(|| missing("--s3-secret-key"))?,
                path_style: settings.s3_path_style,
            };
            let storage = S3Storage::connect(&s3)
                .await
                .map_err(AttachmentSetupError::Storage)?;
            tracing::info!(bucket = %s3.bucket, endpoint = ?s3.endpoint, "attachments on S3");
            Ok(FileStorage::S3(storage))
        }
    }
}

/// The configured scanner, if any. An unreachable clamd is logged, not fatal: files then stay
/// pending (and cannot be downloaded) until it answers.
///
/// # Errors
/// [`AttachmentSetupError::Setting`] for an address that cannot be read.
pub async fn open_scanner(
    settings: &Settings,
) -> Result<Option<ClamdScanner>, AttachmentSetupError> {
    let Some(raw) = &settings.clamd else {
        tracing::warn!(
            "no virus scanner configured (--clamd / MESSAGING_CLAMD): attachments are stored \
             `not_scanned` and can be downloaded without a scan"
        );
        return Ok(None);
    };
    let address: ClamdAddress = raw.parse().map_err(AttachmentSetupError::Setting)?;
    let scanner = ClamdScanner::new(address, SCAN_TIMEOUT);
    match scanner.ping().await {
        Ok(()) => tracing::info!(clamd = %scanner.address(), "virus scanning with clamd"),
        Err(err) => tracing::warn!(
            clamd = %scanner.address(),
            error = %crate::problem::error_chain(&err),
            "clamd does not answer yet; new attachments stay pending until it does"
        ),
    }
    Ok(Some(scanner))
}

/// Where uploads are spooled while they stream in.
///
/// # Errors
/// [`AttachmentSetupError::Dir`] when it cannot be created.
pub fn upload_dir(data_dir: &Path) -> Result<PathBuf, AttachmentSetupError> {
    let dir = data_dir.join("uploads");
    create_dir(&dir)?;
    Ok(dir)
}

fn create_dir(dir: &Path) -> Result<(), AttachmentSetupError> {
    std::fs::create_dir_all(dir).map_err(|source| AttachmentSetupError::Dir {
        path: dir.display().to_string(),
        source,
    })
}

/// Scans waiting files whenever woken (after each upload) and every few seconds, logging what
/// could not be scanned. Runs until the runtime stops.
pub fn spawn_scan_worker(attachments: Arc<Attachments>, wakeup: Arc<Notify>) {
    if !attachments.scanner_configured() {
        return;
    }
    tokio::spawn(async move {
        loop {
            let round = attachments.scan_waiting(SCAN_BATCH).await;
            let full = match round {
                Ok(round) => {
                    for (id, err) in &round.failures {
                        tracing::warn!(
                            attachment_id = id.0,
                            error = %crate::problem::error_chain(err),
                            "attachment could not be scanned; it stays pending and is retried later"
                        );
                    }
                    if round.decided > 0 {
                        tracing::info!(decided = round.decided, "attachments scanned");
                    }
                    // A full batch means more may be waiting. Files that failed are deferred, so
                    // going on at once cannot spin on them.
                    round.taken() == SCAN_BATCH as usize
                }
                Err(messaging_domain::StoreError::Unavailable(_)) => false,
                Err(err) => {
                    tracing::error!(error = %crate::problem::error_chain(&err), "scan round failed");
                    false
                }
            };
            if !full {
                let _ = tokio::time::timeout(SCAN_POLL, wakeup.notified()).await;
            }
        }
    });
}

/// How many abandoned uploads one sweep takes.
const SWEEP_BATCH: u32 = 100;

/// Removes, now and then, the stored objects of uploads whose message never committed (the
/// process stopped between storing the object and committing the message). It sweeps a few times
/// per abandon period, at most once a minute, and runs until the runtime stops.
pub fn spawn_upload_sweeper(attachments: Arc<Attachments>, abandon_secs: u32) {
    let every = Duration::from_secs(u64::from(abandon_secs / 4).clamp(1, 60));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match attachments.sweep_abandoned_uploads(SWEEP_BATCH).await {
                Ok(round) => {
                    for (key, err) in &round.failures {
                        // The key names no user content: ids and random bytes only.
                        tracing::warn!(
                            storage_key = key.as_str(),
                            error = %crate::problem::error_chain(err),
                            "abandoned upload could not be removed; it is tried again later"
                        );
                    }
                    if round.removed > 0 {
                        tracing::info!(removed = round.removed, "abandoned uploads removed");
                    }
                }
                Err(err) => {
                    tracing::error!(error = %crate::problem::error_chain(&err), "upload sweep failed");
                }
            }
        }
    });
}

/// An upload being written to a file of its own, removed when this is dropped (whether the
/// upload was stored, refused or cut off).
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    file: Option<tokio::fs::File>,
}

impl Spool {
    /// Creates a new spool file in `dir`.
    ///
    /// # Errors
    /// The I/O error.
    pub async fn create(dir: &Path) -> std::io::Result<Self> {
        let path = dir.join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::File::create(&path).await?;
        Ok(Self {
            path,
            file: Some(file),
        })
    }

    /// Appends a chunk.
    ///
    /// # Errors
    /// The I/O error.
    pub async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match &mut self.file {
            Some(file) => file.write_all(chunk).await,
            None => Err(std::io::Error::other("spool already closed")),
        }
    }

    /// Flushes and closes the file; its path stays valid until this is dropped.
    ///
    /// # Errors
    /// The I/O error.
    pub async fn finish(&mut self) -> std::io::Result<&Path> {
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
            file.sync_data().await?;
        }
        Ok(&self.path)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        // Small and local: a blocking unlink is fine even on an async thread.
        let _ = std::fs::remove_file(&self.path);
    }
}
