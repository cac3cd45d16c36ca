//! The adapters against real components: local disk, an S3-compatible server that checks
//! signatures (s3s-fs), and clamd with an EICAR signature. S3 and clamd are found through
//! `MESSAGING_TEST_S3_ENDPOINT` (with `..._ACCESS_KEY`, `..._SECRET_KEY`) and
//! `MESSAGING_TEST_CLAMD`, which `cargo xtask ci` sets; without them those tests are skipped with a
//! note, unless `MESSAGING_REQUIRE_COMPONENTS=1`, which turns that into a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use messaging_domain::StoreError;
use messaging_domain::attachment::{FileKind, FileName, ScanVerdict, StorageKey};
use messaging_domain::ports::{AttachmentStorage, VirusScanner};
use messaging_domain::user::UserId;
use messaging_files::{ClamdAddress, ClamdScanner, LocalDiskStorage, S3Settings, S3Storage};

const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

fn component(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if std::env::var("MESSAGING_REQUIRE_COMPONENTS").is_ok_and(|v| v == "1") => {
            panic!("{var} is required (MESSAGING_REQUIRE_COMPONENTS=1) but not set")
        }
        _ => {
            eprintln!("SKIPPED: {var} not set (run `cargo xtask ci` to start the components)");
            None
        }
    }
}

fn key(nonce: u8, kind: FileKind) -> StorageKey {
    StorageKey::new(UserId(1), [nonce; 16], kind)
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("messaging-files-it-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A file of `size` bytes with a varying pattern, so that a misplaced chunk would show.
fn spooled(size: usize) -> (PathBuf, Vec<u8>) {
    let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let path = temp_dir().join("spool");
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

/// Stores, reads back and deletes through any storage; a file over rust-s3's 8 MB part size
/// exercises the multipart upload.
async fn exercise(storage: &impl AttachmentStorage) {
    let (path, bytes) = spooled(9 * 1024 * 1024 + 17);
    let big = key(1, FileKind::Pdf);
    storage
        .put_file(big.clone(), "application/pdf", path, bytes.len() as u64)
        .await
        .unwrap();
    assert!(
        storage.get(big.clone()).await.unwrap() == bytes,
        "the bytes come back"
    );
    let small = key(2, FileKind::Txt);
    storage
        .put_bytes(
            small.clone(),
            "text/plain; charset=utf-8",
            b"hello".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(storage.get(small.clone()).await.unwrap(), b"hello");
    storage.delete(big.clone()).await.unwrap();
    assert!(matches!(
        storage.get(big.clone()).await,
        Err(StoreError::NotFound)
    ));
    // Deleting what is gone is fine.
    storage.delete(big).await.unwrap();
    assert!(matches!(
        storage.get(key(3, FileKind::Png)).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn local_disk_stores_reads_and_deletes_under_its_root() {
    let root = temp_dir();
    let storage = LocalDiskStorage::new(root.clone(), b"key".to_vec());
    exercise(&storage).await;
    let small = key(2, FileKind::Txt);
    assert!(storage.path_of(&small).starts_with(&root));
    assert!(storage.path_of(&small).is_file());
    let url = storage
        .download_url(
            small,
            FileName::sanitize("hi.txt", FileKind::Txt),
            "text/plain; charset=utf-8",
            60,
        )
        .await
        .unwrap();
    assert!(url.starts_with("/api/attachments/files/"), "{url}");
}

fn s3_settings() -> Option<S3Settings> {
    Some(S3Settings {
        endpoint: Some(component("MESSAGING_TEST_S3_ENDPOINT")?),
        region: "us-east-1".into(),
        bucket: format!("msgtest-{}", uuid::Uuid::new_v4().simple()),
        access_key: component("MESSAGING_TEST_S3_ACCESS_KEY")?,
        secret_key: component("MESSAGING_TEST_S3_SECRET_KEY")?,
        path_style: true,
    })
}

#[tokio::test]
async fn s3_creates_its_bucket_once_and_round_trips_large_files() {
    let Some(settings) = s3_settings() else {
        return;
    };
    let storage = S3Storage::connect(&settings).await.unwrap();
    // A second start finds the bucket already there.
    S3Storage::connect(&settings).await.unwrap();
    exercise(&storage).await;
}

#[tokio::test]
async fn s3_refuses_wrong_credentials() {
    let Some(mut settings) = s3_settings() else {
        return;
    };
    settings.secret_key.push('x');
    assert!(matches!(
        S3Storage::connect(&settings).await,
        Err(StoreError::Backend(_))
    ));
}

#[tokio::test]
async fn clamd_finds_eicar_and_passes_clean_files() {
    let Some(address) = component("MESSAGING_TEST_CLAMD") else {
        return;
    };
    let scanner = ClamdScanner::new(address.parse().unwrap(), Duration::from_secs(30));
    scanner.ping().await.unwrap();
    match scanner.scan(EICAR.to_vec()).await.unwrap() {
        ScanVerdict::Infected(name) => assert!(name.contains("Eicar"), "{name}"),
        ScanVerdict::Clean => panic!("EICAR passed"),
    }
    // A file larger than one INSTREAM chunk, with EICAR at its end.
    let mut padded = vec![b' '; 200 * 1024];
    padded.extend_from_slice(EICAR);
    assert!(matches!(
        scanner.scan(padded).await.unwrap(),
        ScanVerdict::Infected(_)
    ));
    assert_eq!(
        scanner.scan(b"%PDF-1.4 clean".to_vec()).await.unwrap(),
        ScanVerdict::Clean
    );
}

#[tokio::test]
async fn an_unreachable_clamd_is_an_error_not_a_verdict() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let scanner = ClamdScanner::new(
        ClamdAddress::Tcp(format!("127.0.0.1:{port}")),
        Duration::from_secs(5),
    );
    assert!(scanner.ping().await.is_err());
    assert!(matches!(
        scanner.scan(EICAR.to_vec()).await,
        Err(StoreError::Backend(_))
    ));
}

/// A stand-in clamd on a Unix socket that checks the INSTREAM framing and answers like clamd.
#[cfg(unix)]
#[tokio::test]
async fn clamd_is_reached_over_a_unix_socket() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let path = temp_dir().join("clamd.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut command = [0u8; 10];
        stream.read_exact(&mut command).await.unwrap();
        assert_eq!(&command, b"zINSTREAM\0");
        let mut received = Vec::new();
        loop {
            let mut len = [0u8; 4];
            stream.read_exact(&mut len).await.unwrap();
            let len = u32::from_be_bytes(len) as usize;
            if len == 0 {
                break;
            }
            let mut chunk = vec![0u8; len];
            stream.read_exact(&mut chunk).await.unwrap();
            received.extend_from_slice(&chunk);
        }
        let reply: &[u8] = if received == EICAR {
            b"stream: Eicar-Test-Signature FOUND\0"
        } else {
            b"stream: OK\0"
        };
        stream.write_all(reply).await.unwrap();
    });
    let scanner = ClamdScanner::new(
        format!("unix:{}", path.display()).parse().unwrap(),
        Duration::from_secs(5),
    );
    assert_eq!(
        scanner.scan(EICAR.to_vec()).await.unwrap(),
        ScanVerdict::Infected("Eicar-Test-Signature".into())
    );
    server.await.unwrap();
}
