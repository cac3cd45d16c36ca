//! Attachments end to end: the real server with local-disk storage, with a real S3-compatible
//! server that checks signatures and expiry (s3s-fs), and with a real clamd that knows the EICAR
//! test signature. Each test runs on SQLite and on PostgreSQL.
//!
//! s3s-fs and clamd are found through `MESSAGING_TEST_S3_ENDPOINT` (with `..._ACCESS_KEY` and
//! `..._SECRET_KEY`) and `MESSAGING_TEST_CLAMD`, which `cargo xtask ci` sets after starting them.
//! Without them the tests that need them are skipped with a note, unless
//! `MESSAGING_REQUIRE_COMPONENTS=1` (set by `cargo xtask ci`), which turns that into a failure.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Backend, TestApp, TestUser};

/// The EICAR test file: harmless, and detected by every scanner.
const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

macro_rules! attachment_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name(crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name(crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}

attachment_tests!(
    a_file_round_trips_through_local_disk_with_safe_headers,
    an_empty_or_null_booking_field_means_no_booking,
    a_file_round_trips_through_s3_with_a_presigned_link,
    expired_and_tampered_local_links_are_refused,
    expired_and_tampered_presigned_links_are_refused,
    spoofed_empty_and_oversized_files_are_refused_and_leave_nothing_behind,
    a_path_traversal_file_name_is_only_a_display_name,
    contact_details_in_a_file_name_reach_the_recipient_masked,
    an_infected_file_is_blocked_and_a_clean_one_released,
    a_file_pending_its_scan_cannot_be_downloaded,
    strangers_get_404_and_deleted_messages_hide_their_files,
    seeds_defect_3_a_rejected_upload_never_leaves_a_message_or_a_500,
    other_requests_are_served_while_an_upload_is_in_flight,
    files_that_keep_failing_their_scan_do_not_hold_up_the_others,
    an_object_whose_message_never_committed_is_removed,
    a_retried_upload_with_the_same_key_stores_one_message_and_one_file,
);

// --- set-up --------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    Local,
    S3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scanner {
    None,
    Clamd,
    /// A clamd address where nothing listens: files stay pending.
    Unreachable,
}

fn required() -> bool {
    std::env::var("MESSAGING_REQUIRE_COMPONENTS").is_ok_and(|v| v == "1")
}

/// A component's address from the environment; `None` (skip) when absent and not required.
fn component(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if required() => panic!("{var} is required (MESSAGING_REQUIRE_COMPONENTS=1) but not set"),
        _ => {
            eprintln!("SKIPPED: {var} not set (run `cargo xtask ci` to start the components)");
            None
        }
    }
}

struct FileApp {
    app: TestApp,
    data_dir: PathBuf,
    client: awc::Client,
    alice: TestUser,
    bob: TestUser,
}

async fn spawn(backend: Backend, storage: Storage, scanner: Scanner, ttl: u32) -> Option<FileApp> {
    spawn_adjusted(backend, storage, scanner, ttl, |_| {}).await
}

/// [`spawn`] with settings adjusted last.
async fn spawn_adjusted(
    backend: Backend,
    storage: Storage,
    scanner: Scanner,
    ttl: u32,
    adjust: impl FnOnce(&mut server::settings::Settings),
) -> Option<FileApp> {
    let s3 = match storage {
        Storage::S3 => Some((
            component("MESSAGING_TEST_S3_ENDPOINT")?,
            component("MESSAGING_TEST_S3_ACCESS_KEY")?,
            component("MESSAGING_TEST_S3_SECRET_KEY")?,
        )),
        Storage::Local => None,
    };
    let clamd = match scanner {
        Scanner::None => None,
        Scanner::Clamd => Some(component("MESSAGING_TEST_CLAMD")?),
        Scanner::Unreachable => Some(format!("127.0.0.1:{}", closed_port())),
    };
    let data_dir =
        std::env::temp_dir().join(format!("messaging-files-test-{}", uuid::Uuid::new_v4()));
    let dir = data_dir.clone();
    let app = TestApp::spawn_with(backend, move |s| {
        s.data_dir = dir;
        s.attachment_link_ttl_secs = ttl;
        s.clamd = clamd;
        if let Some((endpoint, access, secret)) = s3 {
            s.storage = server::settings::StorageBackend::S3;
            s.s3_endpoint = Some(endpoint);
            s.s3_access_key = Some(access);
            s.s3_secret_key = Some(secret);
            s.s3_path_style = true;
            // A bucket per test, so tests never see each other's objects.
            s.s3_bucket = format!("msgtest-{}", uuid::Uuid::new_v4().simple());
        }
        adjust(s);
    })
    .await?;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    Some(FileApp {
        app,
        data_dir,
        client: awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish(),
        alice,
        bob,
    })
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A multipart body with text fields and an optional file part.
fn multipart(fields: &[(&str, String)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = format!("----msgtest{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((filename, content_type, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl FileApp {
    async fn upload_to(
        &self,
        path: &str,
        from: &TestUser,
        to: &TestUser,
        file: Option<(&str, &str, &[u8])>,
    ) -> (u16, Value) {
        let fields = [
            ("recipient_id", to.id.to_string()),
            ("message", "Here is the file".to_owned()),
        ];
        let (content_type, body) = multipart(&fields, file);
        let mut resp = self
            .client
            .post(format!("{}{path}", self.app.base))
            .insert_header(("Authorization", format!("Bearer {}", from.token)))
            .insert_header(("Content-Type", content_type))
            .send_body(body)
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.body().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Alice sends a text file to Bob with an `Idempotency-Key`.
    async fn upload_with_key(&self, key: &str) -> (u16, Value) {
        let fields = [
            ("recipient_id", self.bob.id.to_string()),
            ("message", "Here is the file".to_owned()),
        ];
        let (content_type, body) =
            multipart(&fields, Some(("notes.txt", "text/plain", b"retried")));
        let mut resp = self
            .client
            .post(format!("{}/api/messages/with-attachment", self.app.base))
            .insert_header(("Authorization", format!("Bearer {}", self.alice.token)))
            .insert_header(("Content-Type", content_type))
            .insert_header(("Idempotency-Key", key))
            .send_body(body)
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.body().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Alice sends `bytes` named `name` (claimed to be `content_type`) to Bob.
    async fn upload(&self, name: &str, content_type: &str, bytes: &[u8]) -> (u16, Value) {
        self.upload_to(
            "/api/messages/with-attachment",
            &self.alice,
            &self.bob,
            Some((name, content_type, bytes)),
        )
        .await
    }

    async fn download_link(&self, user: &TestUser, attachment: i64) -> (u16, Value) {
        self.app
            .get(
                &format!("/api/messages/attachments/{attachment}/download"),
                Some(&user.token),
            )
            .await
    }

    /// GETs a download URL without credentials, as a browser following the link would.
    async fn fetch(&self, url: &str) -> (u16, awc::http::header::HeaderMap, Vec<u8>) {
        let mut resp = self.client.get(url).send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.body().limit(20 * 1024 * 1024).await.unwrap().to_vec();
        (status, headers, body)
    }

    async fn message_count(&self) -> i64 {
        self.app.store.message_count().await.unwrap()
    }

    /// Every file under the local attachments directory and the upload spool.
    fn stored_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.data_dir.join("attachments"), &mut out);
        walk(&self.data_dir.join("uploads"), &mut out);
        out
    }

    async fn audit_actions(&self) -> Vec<String> {
        let page = messaging_domain::text::Page {
            number: messaging_domain::text::PageNumber::parse(Some(1)).unwrap(),
            size: messaging_domain::text::PageSize::parse(
                Some(100),
                messaging_domain::text::LimitSpec::HISTORY,
            )
            .unwrap(),
        };
        self.app
            .store
            .audit_entries(Default::default(), page)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }
}

fn header<'a>(headers: &'a awc::http::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

// --- round trips ---------------------------------------------------------------------------------

async fn round_trip(files: &FileApp) -> String {
    let before = files.audit_actions().await.len();
    let (status, body) = files.upload("report.pdf", "application/pdf", PDF).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["recipient_id"], files.bob.id);
    assert_eq!(body["message"], "Here is the file");
    let attachment = &body["attachment"];
    assert_eq!(attachment["filename"], "report.pdf");
    assert_eq!(attachment["mime_type"], "application/pdf");
    assert_eq!(attachment["size"], PDF.len());
    assert_eq!(attachment["scan_status"], "not_scanned");
    assert!(
        attachment.get("storage_key").is_none(),
        "keys stay private: {body}"
    );
    let id = attachment["id"].as_i64().unwrap();

    // The recipient finds the file with the message in the thread's history.
    let (status, history) = files
        .app
        .get(
            &format!("/api/messages/threads/{}", files.alice.id),
            Some(&files.bob.token),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(
        history["messages"][0]["attachments"][0]["id"], id,
        "{history}"
    );
    assert_eq!(
        history["messages"][0]["attachments"][0]["filename"],
        "report.pdf"
    );

    // Both participants may download; the recipient does it through /api/v1 as System A did.
    let (status, _) = files.download_link(&files.alice, id).await;
    assert_eq!(status, 200);
    let (status, link) = files
        .app
        .get(
            &format!("/api/v1/messages/attachments/{id}/download"),
            Some(&files.bob.token),
        )
        .await;
    assert_eq!(status, 200, "{link}");
    assert_eq!(link["filename"], "report.pdf");
    assert_eq!(link["size"], PDF.len());
    assert_eq!(link["mime_type"], "application/pdf");
    assert_eq!(link["expires_in_seconds"], 3600);
    let url = link["download_url"].as_str().unwrap().to_owned();
    let (status, headers, bytes) = files.fetch(&url).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(bytes, PDF);
    assert_eq!(header(&headers, "content-type"), "application/pdf");
    assert_eq!(
        header(&headers, "content-disposition"),
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    );
    let actions = files.audit_actions().await;
    let new: Vec<&str> = actions[..actions.len() - before]
        .iter()
        .map(String::as_str)
        .collect();
    for action in [
        "message.sent",
        "attachment.uploaded",
        "attachment.downloaded",
    ] {
        assert!(new.contains(&action), "{action} in {new:?}");
    }
    url
}

async fn a_file_round_trips_through_local_disk_with_safe_headers(backend: Backend) {
    let Some(files) = spawn(backend, Storage::Local, Scanner::None, 3600).await else {
        return;
    };
    let url = round_trip(&files).await;
    assert!(
        url.starts_with(&format!("{}/api/attachments/files/", files.app.base)),
        "{url}"
    );
    let (_, headers, _) = files.fetch(&url).await;
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    // The stored object's key names the uploader and random bytes, under the data directory.
    let stored = files.stored_files();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let relative = stored[0]
        .strip_prefix(files.data_dir.join("attachments"))
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let parts: Vec<&str> = relative.split('/').collect();
    assert_eq!(parts[..2], ["messages", &files.alice.id.to_string()]);
    assert!(
        parts.len() == 3 && parts[2].ends_with(".pdf") && parts[2].len() == 36,
        "{relative}"
    );
}

async fn a_file_round_trips_through_s3_with_a_presigned_link(backend: Backend) {
    let Some(files) = spawn(backend, Storage::S3, Scanner::None, 3600).await else {
        return;
    };
    let url = round_trip(&files).await;
    let endpoint = std::env::var("MESSAGING_TEST_S3_ENDPOINT").unwrap();
    assert!(url.starts_with(&endpoint), "{url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    // The bucket is private: the object without a signature is refused.
    let unsigned = url.split_once('?').unwrap().0;
    let (status, _, _) = files.fetch(unsigned).await;
    assert_eq!(status, 403, "{unsigned}");
}

// --- links ---------------------------------------------------------------------------------------

/// Uploads a file and returns a download link valid for one second.
async fn short_link(files: &FileApp) -> String {
    let (status, body) = files.upload("notes.txt", "text/plain", b"hello").await;
    assert_eq!(status, 201, "{body}");
    let (status, link) = files
        .download_link(&files.bob, body["attachment"]["id"].as_i64().unwrap())
        .await;
    assert_eq!(status, 200, "{link}");
    assert_eq!(link["expires_in_seconds"], LINK_SECS);
    link["download_url"].as_str().unwrap().to_owned()
}

/// How long the links of the expiry tests live.
const LINK_SECS: u32 = 4;

async fn expired_and_tampered_local_links_are_refused(backend: Backend) {
    // Links live 4 s: long enough for the fetches below on a loaded machine, short enough to
    // wait out.
    let Some(files) = spawn(backend, Storage::Local, Scanner::None, LINK_SECS).await else {
        return;
    };
    let url = short_link(&files).await;
    let (token_start, token) = url.rsplit_once('/').unwrap();
    let (payload, signature) = token.split_once('.').unwrap();
    // Another signature, and the same signature over another payload.
    let mut forged_sig = signature.to_owned();
    forged_sig.replace_range(0..1, if signature.starts_with('A') { "B" } else { "A" });
    let mut forged_payload = payload.to_owned();
    forged_payload.replace_range(0..1, if payload.starts_with('M') { "N" } else { "M" });
    for tampered in [
        format!("{token_start}/{payload}.{forged_sig}"),
        format!("{token_start}/{forged_payload}.{signature}"),
        format!("{token_start}/{payload}"),
    ] {
        let (status, _, body) = files.fetch(&tampered).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("DOWNLOAD_LINK_INVALID")),
            "{tampered}"
        );
    }
    let (status, _, bytes) = files.fetch(&url).await;
    assert_eq!((status, bytes.as_slice()), (200, b"hello".as_slice()));
    tokio::time::sleep(Duration::from_secs(LINK_SECS.into()) + Duration::from_millis(1100)).await;
    let (status, _, body) = files.fetch(&url).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("DOWNLOAD_LINK_EXPIRED"))
    );
}

async fn expired_and_tampered_presigned_links_are_refused(backend: Backend) {
    let Some(files) = spawn(backend, Storage::S3, Scanner::None, LINK_SECS).await else {
        return;
    };
    let url = short_link(&files).await;
    let (status, _, bytes) = files.fetch(&url).await;
    assert_eq!((status, bytes.as_slice()), (200, b"hello".as_slice()));
    // Another object under the same signature, a changed signature, a longer expiry.
    let other_key = url.replacen(".txt?", ".pdf?", 1);
    let (start, signature) = url.split_once("X-Amz-Signature=").unwrap();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    let forged_sig = format!("{start}X-Amz-Signature={flipped}{}", &signature[1..]);
    let longer = url.replacen(
        &format!("X-Amz-Expires={LINK_SECS}&"),
        "X-Amz-Expires=3600&",
        1,
    );
    assert_ne!(longer, url, "{url}");
    for tampered in [other_key, forged_sig, longer] {
        let (status, _, _) = files.fetch(&tampered).await;
        assert_eq!(status, 403, "{tampered}");
    }
    tokio::time::sleep(Duration::from_secs(LINK_SECS.into()) + Duration::from_millis(1100)).await;
    let (status, _, _) = files.fetch(&url).await;
    assert_eq!(status, 403, "an expired presigned link is refused");
}

// --- refusals ------------------------------------------------------------------------------------

async fn spoofed_empty_and_oversized_files_are_refused_and_leave_nothing_behind(backend: Backend) {
    let Some(files) = spawn(backend, Storage::Local, Scanner::None, 3600).await else {
        return;
    };
    let mut big_image =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10\x00\x00\x00\x10".to_vec();
    big_image.resize(5 * 1024 * 1024 + 1, 0);
    let cases: [(&str, &str, &[u8], u16, &str); 6] = [
        (
            "photo.png",
            "image/png",
            b"<html><script>alert(1)</script></html>",
            415,
            "UNSUPPORTED_FILE_TYPE",
        ),
        (
            "logo.png",
            "image/png",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            415,
            "UNSUPPORTED_FILE_TYPE",
        ),
        (
            "setup.pdf",
            "application/pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",
            415,
            "UNSUPPORTED_FILE_TYPE",
        ),
        ("empty.txt", "text/plain", b"", 422, "EMPTY_FILE"),
        ("huge.png", "image/png", &big_image, 413, "FILE_TOO_LARGE"),
        (
            "bomb.png",
            "image/png",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x01\x00\x00\x00\x01\x00\x00",
            422,
            "IMAGE_DIMENSIONS_TOO_LARGE",
        ),
    ];
    for (name, claimed, bytes, status, code) in cases {
        let (got, body) = files.upload(name, claimed, bytes).await;
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{name}: {body}"
        );
        assert_eq!(body["status"], status);
    }
    assert_eq!(files.message_count().await, 0);
    assert_eq!(files.stored_files(), Vec::<PathBuf>::new());
    let (_, threads) = files
        .app
        .get("/api/messages/threads", Some(&files.bob.token))
        .await;
    assert_eq!(threads.as_array().map(Vec::len), Some(0), "{threads}");
}

/// `booking_id` is optional: left out, empty, or `null` (what the schema allows, and what a
/// browser's `FormData` makes of a null) all mean no booking; anything else must be a booking
/// id, and a refused one stores nothing.
async fn an_empty_or_null_booking_field_means_no_booking(backend: Backend) {
    let Some(files) = spawn(backend, Storage::Local, Scanner::None, 3600).await else {
        return;
    };
    let cases: [(&str, u16); 5] = [
        ("null", 201),
        ("", 201),
        (" null ", 201),
        ("none", 422),
        ("0", 422),
    ];
    for (booking, status) in cases {
        let fields = [
            ("recipient_id", files.bob.id.to_string()),
            ("message", "Here is the file".to_owned()),
            ("booking_id", booking.to_owned()),
        ];
        let (content_type, body) =
            multipart(&fields, Some(("notes.txt", "text/plain", b"booking field")));
        let mut resp = files
            .client
            .post(format!(
                "{}/api/v1/messages/with-attachment",
                files.app.base
            ))
            .insert_header(("Authorization", format!("Bearer {}", files.alice.token)))
            .insert_header(("Content-Type", content_type))
            .send_body(body)
            .await
            .unwrap();
        let got = resp.status().as_u16();
        let body: Value = serde_json::from_slice(&resp.body().await.unwrap()).unwrap();
        assert_eq!(got, status, "booking_id {booking:?}: {body}");
        if status == 201 {
            assert_eq!(body["booking_id"], Value::Null, "{body}");
        } else {
            assert_eq!(body["code"], "VALIDATION_FAILED", "{body}");
            assert_eq!(body["field"], "booking_id", "{body}");
        }
    }
    assert_eq!(files.message_count().await, 3);
}

async fn a_path_traversal_file_name_is_only_a_display_name(backend: Backend) {
    let Some(files) = spawn(backend, Storage::Local, Scanner::None, 3600).await else {
        return;
    };
    let (status, body) = files
        .upload(
            "../../../../etc/cron.d/evil;.txt",
            "text/plain",
            b"just notes",
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["attachment"]["filename"], "evil_.txt");
    let stored = files.stored_files();
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0].starts_with(files.data_dir.join("attachments/messages")),
        "{stored:?}"
    );
    assert!(!stored[0].to_string_lossy().contains("evil"), "{stored:?}");
    let (_, link) = files
        .download_link(&files.bob, body["attachment"]["id"].as_i64().unwrap())
        .await;
    let (status, headers, _) = files.fetch(link["download_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-disposition"),
        "attachment; filename=\"evil_.txt\"; filename*=UTF-8''evil_.txt"
    );
    assert_eq!(
        header(&headers, "content-type"),
        "text/plain; charset=utf-8"
    );
}

async fn contact_details_in_a_file_name_reach_the_recipient_masked(backend: Backend) {
    let Some(files) = spawn(backend, Storage::Local, Scanner::None, 3600).await else {
        return;
    };
    // Alice and Bob share no booking, so contact details are masked between them.
    let (status, body) = files
        .upload("john@example.com call 555-1234.pdf", "application/pdf", PDF)
        .await;
    assert_eq!(status, 201, "{body}");
    let masked = "j___@e___.com call ___-____.pdf";
    assert_eq!(body["attachment"]["filename"], masked, "{body}");
    let (_, history) = files
        .app
        .get(
            &format!("/api/messages/threads/{}", files.alice.id),
            Some(&files.bob.token),
        )
        .await;
    assert_eq!(
        history["messages"][0]["attachments"][0]["filename"], masked,
        "{history}"
    );
    let (status, link) = files
        .download_link(&files.bob, body["attachment"]["id"].as_i64().unwrap())
        .await;
    assert_eq!((status, &link["filename"]), (200, &Value::from(masked)));
    let (_, headers, _) = files.fetch(link["download_url"].as_str().unwrap()).await;
    assert!(
        !header(&headers, "content-disposition").contains("555"),
        "{headers:?}"
    );
}

// --- scanning ------------------------------------------------------------------------------------

/// Asks for a link until the scan has decided (the worker runs right after each upload).
async fn link_after_scan(files: &FileApp, attachment: i64) -> (u16, Value) {
    for _ in 0..100 {
        let (status, body) = files.download_link(&files.bob, attachment).await;
        if status != 409 {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the scan did not finish in 10 s");
}

async fn an_infected_file_is_blocked_and_a_clean_one_released(backend: Backend) {
    let Some(files) = spawn(backend, Storage::Local, Scanner::Clamd, 3600).await else {
        return;
    };
    let (status, infected) = files.upload("invoice.txt", "text/plain", EICAR).await;
    assert_eq!(status, 201, "{infected}");
    assert_eq!(infected["attachment"]["scan_status"], "pending");
    let (status, clean) = files.upload("report.pdf", "application/pdf", PDF).await;
    assert_eq!(status, 201, "{clean}");

    let (status, body) =
        link_after_scan(&files, infected["attachment"]["id"].as_i64().unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("ATTACHMENT_INFECTED")),
        "{body}"
    );
    let (status, link) = link_after_scan(&files, clean["attachment"]["id"].as_i64().unwrap()).await;
    assert_eq!(status, 200, "{link}");
    let (status, _, bytes) = files.fetch(link["download_url"].as_str().unwrap()).await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    // The sender is refused the infected file too.
    let (status, _) = files
        .download_link(&files.alice, infected["attachment"]["id"].as_i64().unwrap())
        .await;
    assert_eq!(status, 403);
    let actions = files.audit_actions().await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "attachment.scanned")
            .count(),
        2,
        "{actions:?}"
    );
}

async fn a_file_pending_its_scan_cannot_be_downloaded(backend: Backend) {
    let Some(files) = spawn(backend, Storage::Local, Scanner::Unreachable, 3600).await else {
        return;
    };
    let (status, body) = files.upload("report.pdf", "application/pdf", PDF).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["attachment"]["scan_status"], "pending");
    tokio::time::sleep(Duration::from_millis(300)).await;
    for user in [&files.alice, &files.bob] {
        let (status, problem) = files
            .download_link(user, body["attachment"]["id"].as_i64().unwrap())
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (409, Some("ATTACHMENT_SCAN_PENDING"))
        );
    }
}

// --- access --------------------------------------------------------------------------------------

async fn strangers_get_404_and_deleted_messages_hide_their_files(backend: Backend) {
    let Some(files) = spawn(backend, Storage::Local, Scanner::None, 3600).await else {
        return;
    };
    let carol = files.app.register("carol").await;
    let (status, body) = files.upload("report.pdf", "application/pdf", PDF).await;
    assert_eq!(status, 201);
    let id = body["attachment"]["id"].as_i64().unwrap();
    let message = body["id"].as_i64().unwrap();
    for (user, attachment) in [
        (&carol, id),
        (&files.bob, id + 1000),
        (&files.bob, 0),
        (&files.bob, -1),
    ] {
        let (status, problem) = files.download_link(user, attachment).await;
        assert_eq!(status, 404, "{attachment}: {problem}");
    }
    let (status, problem) = files.download_link(&carol, id).await;
    assert_eq!(problem["code"], "ATTACHMENT_NOT_FOUND", "{status}");

    // Bob deletes the message for himself: the file is gone for him only.
    let (status, _) = files
        .app
        .delete(&format!("/api/messages/{message}"), &files.bob.token)
        .await;
    assert_eq!(status, 204);
    assert_eq!(files.download_link(&files.bob, id).await.0, 404);
    assert_eq!(files.download_link(&files.alice, id).await.0, 200);
    // Alice deletes it for everyone: gone for both.
    let (status, _) = files
        .app
        .delete(
            &format!("/api/messages/{message}?scope=everyone"),
            &files.alice.token,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(files.download_link(&files.alice, id).await.0, 404);
}

/// SEEDS.md defect 3 (System A): the message row was written before the attachment was validated
/// (orphan messages and 500s), the whole file was read before the size check, and the client's
/// MIME type was trusted. Here every rejected upload is a 4xx problem, leaves no message, thread
/// or object, and the stored type is the detected one whatever the client claimed. (Pending and
/// deleted-message downloads are covered by the two tests above; the streaming cut-off by
/// `an_oversized_upload_is_cut_off_without_buffering_it`.)
async fn seeds_defect_3_a_rejected_upload_never_leaves_a_message_or_a_500(backend: Backend) {
    let Some(files) = spawn(backend, Storage::Local, Scanner::None, 3600).await else {
        return;
    };
    let html: &[u8] = b"<!doctype html><title>x</title>";
    // Unknown recipient, self, no file, a refused file, two files, a field the form lacks.
    let stranger = TestUser {
        id: 999_999,
        token: String::new(),
    };
    type FilePart<'a> = Option<(&'a str, &'a str, &'a [u8])>;
    let cases: Vec<(TestUser, FilePart, u16)> = vec![
        (stranger, Some(("a.pdf", "application/pdf", PDF)), 400),
        (
            files.alice.clone(),
            Some(("a.pdf", "application/pdf", PDF)),
            400,
        ),
        (files.bob.clone(), None, 422),
        (files.bob.clone(), Some(("a.png", "image/png", html)), 415),
    ];
    for (to, file, expected) in cases {
        let (status, body) = files
            .upload_to("/api/messages/with-attachment", &files.alice, &to, file)
            .await;
        assert_eq!(status, expected, "{body}");
        assert!(body["code"].is_string(), "{body}");
    }
    let (status, body) = files
        .app
        .raw(
            "POST",
            "/api/messages/with-attachment",
            &files.alice.token,
            "application/json",
            "{}",
        )
        .await
        .into_status_and_body();
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("UNSUPPORTED_MEDIA_TYPE"))
    );
    let (status, body) = files
        .app
        .raw(
            "POST",
            "/api/messages/with-attachment",
            &files.alice.token,
            "multipart/form-data; boundary=xyz",
            "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nunterminated",
        )
        .await
        .into_status_and_body();
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_REQUEST")),
        "{body}"
    );
    assert_eq!(files.message_count().await, 0);
    assert_eq!(files.stored_files(), Vec::<PathBuf>::new());

    // A PDF the client calls a PNG is stored and served as a PDF.
    let (status, body) = files.upload("scan.png", "image/png", PDF).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["attachment"]["mime_type"], "application/pdf");
    assert_eq!(body["attachment"]["filename"], "scan.pdf");
    assert_eq!(files.message_count().await, 1);
}

trait StatusAndBody {
    fn into_status_and_body(self) -> (u16, Value);
}

impl StatusAndBody for (u16, String, Value) {
    fn into_status_and_body(self) -> (u16, Value) {
        (self.0, self.2)
    }
}

// --- streaming limits ----------------------------------------------------------------------------

/// Resident memory of this process (the server runs in it), from /proc/self/status.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Streams a multipart upload of `total` file bytes (after `head`) over a raw connection, reading
/// the response while it writes; returns the status, the body and how many bytes were written
/// before the response came.
async fn stream_upload(
    files: &FileApp,
    name: &str,
    head: &[u8],
    total: usize,
) -> (u16, Value, usize) {
    let boundary = "----msgteststream";
    let mut prefix = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"recipient_id\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nbig\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n",
        files.bob.id
    )
    .into_bytes();
    prefix.extend_from_slice(head);
    let epilogue = format!("\r\n--{boundary}--\r\n");
    let (status, body, written) = stream_multipart(
        files,
        boundary,
        &prefix,
        total - head.len(),
        epilogue.as_bytes(),
    )
    .await;
    (
        status,
        body,
        written.saturating_sub(prefix.len()) + head.len(),
    )
}

/// Streams a multipart request from Alice over a raw connection: `prefix`, then `filler` bytes of
/// `a`, then `suffix`, reading the response while it writes. Returns the status, the body and how
/// many bytes of the body were written before the response came.
async fn stream_multipart(
    files: &FileApp,
    boundary: &str,
    prefix: &[u8],
    filler: usize,
    suffix: &[u8],
) -> (u16, Value, usize) {
    let length = prefix.len() + filler + suffix.len();
    let address = files.app.base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let mut request = format!(
        "POST /api/messages/with-attachment HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {length}\r\n\r\n",
        files.alice.token
    )
    .into_bytes();
    let head_len = request.len();
    request.extend_from_slice(prefix);
    let suffix = suffix.to_vec();
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&written);
    let writing = actix_rt::spawn(async move {
        let result: std::io::Result<()> = async {
            writer.write_all(&request).await?;
            let mut sent = request.len() - head_len;
            counter.store(sent, std::sync::atomic::Ordering::SeqCst);
            // The same 64 KiB over and over: the client holds no more than that.
            let chunk = vec![b'a'; 64 * 1024];
            let mut left = filler;
            while left > 0 {
                let n = chunk.len().min(left);
                writer.write_all(&chunk[..n]).await?;
                left -= n;
                sent += n;
                counter.store(sent, std::sync::atomic::Ordering::SeqCst);
            }
            writer.write_all(&suffix).await?;
            counter.store(sent + suffix.len(), std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }
        .await;
        // The server may close the connection once it has answered.
        let _ = result;
    });
    let mut response = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let body_start = loop {
        let n = tokio::time::timeout(Duration::from_secs(60), reader.read(&mut buf))
            .await
            .expect("a response within 60 s")
            .unwrap();
        assert!(n > 0, "connection closed without a response");
        response.extend_from_slice(&buf[..n]);
        if let Some(at) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head_text = String::from_utf8_lossy(&response[..body_start]).to_string();
    let status: u16 = head_text
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let content_length: usize = head_text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap();
    while response.len() < body_start + content_length {
        let n = reader.read(&mut buf).await.unwrap();
        assert!(n > 0);
        response.extend_from_slice(&buf[..n]);
    }
    let body: Value =
        serde_json::from_slice(&response[body_start..body_start + content_length]).unwrap();
    // The server answered; stop writing.
    let written = written.load(std::sync::atomic::Ordering::SeqCst);
    drop(reader);
    writing.abort();
    (status, body, written)
}

/// A 50 MB upload is refused at 10 MB while it streams, and the process's memory does not grow
/// by anything like 50 MB (the server runs in this process).
#[actix_web::test]
async fn an_oversized_upload_is_cut_off_without_buffering_it() {
    let Some(files) = spawn(Backend::Sqlite, Storage::Local, Scanner::None, 3600).await else {
        return;
    };
    // Warm up the upload path so that first-use allocations are not counted.
    let (status, _) = files.upload("warm.txt", "text/plain", b"warm").await;
    assert_eq!(status, 201);
    let before = rss_bytes();
    let total = 50 * 1024 * 1024;
    let (status, body, written) = stream_upload(&files, "big.txt", b"plain text ", total).await;
    let grown = rss_bytes().saturating_sub(before);
    eprintln!("50 MB upload: refused after {written} bytes written; memory grew by {grown} bytes");
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("FILE_TOO_LARGE")),
        "{body}"
    );
    assert_eq!(body["max_bytes"], 10 * 1024 * 1024);
    assert!(
        written < total,
        "the server answered before the upload ended ({written} bytes)"
    );
    assert!(grown < 16 * 1024 * 1024, "memory grew by {grown} bytes");
    // Only the warm-up message and file exist; the spool is empty.
    assert_eq!(files.message_count().await, 1);
    assert_eq!(files.stored_files().len(), 1, "{:?}", files.stored_files());

    // An image is cut off at 5 MB the same way.
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10\x00\x00\x00\x10".to_vec();
    png.resize(64, 0);
    let (status, body, _) = stream_upload(&files, "big.png", &png, 20 * 1024 * 1024).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("FILE_TOO_LARGE")),
        "{body}"
    );
    assert_eq!(body["max_bytes"], 5 * 1024 * 1024);
    assert_eq!(files.message_count().await, 1);
}

/// Junk before the first boundary (the preamble) is skipped in one pass, and the whole request has
/// a size cap: 32 MiB of junk is refused with 413 `PAYLOAD_TOO_LARGE` once the cap is crossed,
/// before the client has sent it all, and stores nothing. A short preamble (RFC 2046 allows
/// one) is skipped and the form accepted.
#[actix_web::test]
async fn junk_before_the_first_boundary_counts_toward_the_request_cap() {
    let Some(files) = spawn(Backend::Sqlite, Storage::Local, Scanner::None, 3600).await else {
        return;
    };
    let boundary = "----msgtestjunk";
    let form = format!(
        "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"recipient_id\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nafter junk\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nplain text\r\n--{boundary}--\r\n",
        files.bob.id
    );
    let total = 32 * 1024 * 1024;
    let (status, body, written) =
        stream_multipart(&files, boundary, b"", total, form.as_bytes()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("PAYLOAD_TOO_LARGE")),
        "{body}"
    );
    let cap = body["max_bytes"].as_u64().expect("max_bytes");
    assert!(cap < total as u64, "{body}");
    assert!(written < total, "answered after {written} of {total} bytes");
    assert_eq!(files.message_count().await, 0);
    assert!(
        files.stored_files().is_empty(),
        "{:?}",
        files.stored_files()
    );

    let (status, body, _) = stream_multipart(&files, boundary, b"", 1024, form.as_bytes()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"], "after junk");
    assert_eq!(files.message_count().await, 1);
}

// --- faults --------------------------------------------------------------------------------------

/// A TCP proxy in front of the S3 server whose gate holds every byte clients send while it is
/// closed: an upload through it stays in flight until the test opens the gate again.
struct GatedProxy {
    address: String,
    open: tokio::sync::watch::Sender<bool>,
    held: tokio::sync::watch::Receiver<bool>,
}

impl GatedProxy {
    async fn start(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let (open, gate) = tokio::sync::watch::channel(true);
        let (held_tx, held) = tokio::sync::watch::channel(false);
        let held_tx = std::sync::Arc::new(held_tx);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let (mut gate, held_tx) = (gate.clone(), std::sync::Arc::clone(&held_tx));
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match client_read.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if !*gate.borrow() {
                            held_tx.send_replace(true);
                            if gate.wait_for(|open| *open).await.is_err() {
                                break;
                            }
                        }
                        if server_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                });
            }
        });
        Self {
            address,
            open,
            held,
        }
    }

    fn close(&self) {
        self.open.send_replace(false);
    }

    fn open(&self) {
        self.open.send_replace(true);
    }

    /// Waits until a client's bytes are held at the closed gate.
    async fn holding(&mut self) {
        tokio::time::timeout(Duration::from_secs(30), self.held.wait_for(|held| *held))
            .await
            .expect("the upload reaches the storage within 30 s")
            .unwrap();
    }
}

/// While one user's file is still on its way to the storage, other users' requests are served:
/// the upload holds no database transaction (on SQLite that used to stall every other request).
async fn other_requests_are_served_while_an_upload_is_in_flight(backend: Backend) {
    let Some(endpoint) = component("MESSAGING_TEST_S3_ENDPOINT") else {
        return;
    };
    let mut proxy = GatedProxy::start(endpoint).await;
    let proxied = proxy.address.clone();
    let Some(files) = spawn_adjusted(backend, Storage::S3, Scanner::None, 3600, |s| {
        s.s3_endpoint = Some(proxied);
    })
    .await
    else {
        return;
    };
    proxy.close();
    let uploading = {
        let (client, base, token) = (
            files.client.clone(),
            files.app.base.clone(),
            files.alice.token.clone(),
        );
        let (content_type, body) = multipart(
            &[
                ("recipient_id", files.bob.id.to_string()),
                ("message", "Here is the file".to_owned()),
            ],
            Some(("report.pdf", "application/pdf", PDF)),
        );
        actix_rt::spawn(async move {
            let mut resp = client
                .post(format!("{base}/api/messages/with-attachment"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Content-Type", content_type))
                .send_body(body)
                .await
                .unwrap();
            let bytes = resp.body().await.unwrap();
            (resp.status().as_u16(), bytes)
        })
    };
    proxy.holding().await;
    // Carol registers, Bob writes to her and reads his threads while the file is held.
    let carol = files.app.register("carol").await;
    files.app.send(&files.bob, &carol, "meanwhile").await;
    let (status, threads) = files
        .app
        .get("/api/messages/threads", Some(&files.bob.token))
        .await;
    assert_eq!(status, 200, "{threads}");
    proxy.open();
    let (status, body) = uploading.await.unwrap();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let (status, history) = files
        .app
        .get(
            &format!("/api/messages/threads/{}", files.alice.id),
            Some(&files.bob.token),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(
        history["messages"][0]["attachments"][0]["filename"], "report.pdf",
        "{history}"
    );
}

/// Stores a message with a file whose object is missing from the storage, as a file the scanner
/// can never read: every scan of it fails.
async fn unreadable_file(files: &FileApp, n: u8) {
    use messaging_domain::Change;
    use messaging_domain::attachment::{
        FileInspector, NewAttachment, PendingUpload, ScanStatus, StorageKey,
    };
    use messaging_domain::audit::{AuditAction, AuditRecord};
    use messaging_domain::message::NewMessage;
    use messaging_domain::ports::AttachmentRepository;
    use messaging_domain::user::UserId;
    let mut inspector = FileInspector::new("broken.pdf");
    inspector.feed(PDF).unwrap();
    let file = inspector.finish().unwrap();
    let alice = UserId(files.alice.id);
    let key = StorageKey::new(alice, [n; 16], file.kind);
    let now = chrono::Utc::now();
    let record = |action| AuditRecord {
        actor: Some(alice),
        action,
        object_type: "message",
        object_id: None,
        at: now,
        client_addr: None,
    };
    let store = &files.app.store;
    store
        .begin_upload(PendingUpload {
            key: key.clone(),
            uploader: alice,
            started_at: now,
        })
        .await
        .unwrap();
    store
        .insert_message_with_attachment(
            NewMessage {
                sender_id: alice,
                recipient_id: UserId(files.bob.id),
                booking_id: None,
                subject: None,
                body: format!("broken {n}"),
                parent_id: None,
                client_message_id: None,
                created_at: now,
            },
            NewAttachment {
                file,
                storage_key: key,
                scan_status: ScanStatus::Pending,
                created_at: now,
            },
            Change::new(record(AuditAction::MessageSent), Box::new(|_| Vec::new())),
            record(AuditAction::AttachmentUploaded),
        )
        .await
        .unwrap();
}

/// Files the scanner can never read (more of them than one scan round takes) do not keep a new
/// file waiting: a failing file is retried later, with growing pauses, and the others go first.
async fn files_that_keep_failing_their_scan_do_not_hold_up_the_others(backend: Backend) {
    let Some(files) = spawn(backend, Storage::Local, Scanner::Clamd, 3600).await else {
        return;
    };
    for n in 0..40 {
        unreadable_file(&files, n).await;
    }
    let (status, clean) = files.upload("report.pdf", "application/pdf", PDF).await;
    assert_eq!(status, 201, "{clean}");
    let id = clean["attachment"]["id"].as_i64().unwrap();
    let mut answer = files.download_link(&files.bob, id).await;
    for _ in 0..300 {
        if answer.0 != 409 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        answer = files.download_link(&files.bob, id).await;
    }
    assert_eq!(answer.0, 200, "the new file was scanned: {}", answer.1);
}

/// An object stored for a message that never committed (the server died between the upload and
/// the commit) is removed once its upload is old; committed files stay.
async fn an_object_whose_message_never_committed_is_removed(backend: Backend) {
    use messaging_domain::attachment::{FileKind, PendingUpload, StorageKey};
    use messaging_domain::ports::AttachmentRepository;
    use messaging_domain::user::UserId;
    let Some(files) = spawn_adjusted(backend, Storage::Local, Scanner::None, 3600, |s| {
        s.upload_abandon_secs = 12;
    })
    .await
    else {
        return;
    };
    let (status, kept) = files.upload("report.pdf", "application/pdf", PDF).await;
    assert_eq!(status, 201, "{kept}");
    // What a server that died mid-send leaves behind: the upload's record and its object.
    let key = StorageKey::new(UserId(files.alice.id), [0x0d; 16], FileKind::Pdf);
    files
        .app
        .store
        .begin_upload(PendingUpload {
            key: key.clone(),
            uploader: UserId(files.alice.id),
            started_at: chrono::Utc::now() - chrono::TimeDelta::hours(1),
        })
        .await
        .unwrap();
    let orphan = files.data_dir.join("attachments").join(key.as_str());
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, PDF).unwrap();
    for _ in 0..300 {
        if !orphan.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!orphan.exists(), "the orphan object was removed");
    assert_eq!(files.stored_files().len(), 1, "{:?}", files.stored_files());
    let (status, link) = files
        .download_link(&files.bob, kept["attachment"]["id"].as_i64().unwrap())
        .await;
    assert_eq!(status, 200, "{link}");
    let (status, _, bytes) = files.fetch(link["download_url"].as_str().unwrap()).await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
}

/// A client that retries an upload (its answer lost, or two taps at once) with the same
/// `Idempotency-Key` gets the message stored the first time: one message, one file.
async fn a_retried_upload_with_the_same_key_stores_one_message_and_one_file(backend: Backend) {
    let Some(files) = spawn(backend, Storage::Local, Scanner::None, 3600).await else {
        return;
    };
    let (status, first) = files.upload_with_key("upload-1").await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = files.upload_with_key("upload-1").await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["attachment"]["id"], first["attachment"]["id"]);
    let (one, two) = tokio::join!(
        files.upload_with_key("upload-2"),
        files.upload_with_key("upload-2")
    );
    assert_eq!((one.0, two.0), (201, 201), "{one:?} {two:?}");
    assert_eq!(one.1["id"], two.1["id"]);
    assert_eq!(files.message_count().await, 2);
    let objects = files
        .stored_files()
        .into_iter()
        .filter(|p| p.starts_with(files.data_dir.join("attachments")))
        .count();
    assert_eq!(objects, 2, "{:?}", files.stored_files());
}
