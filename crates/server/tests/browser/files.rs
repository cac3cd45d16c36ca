//! Attachments: a file chosen in the composer is uploaded with progress, an image is previewed,
//! the other party downloads through the signed link, and a refused file says why.

use std::path::Path;

use crate::harness::Driver;
use crate::support::{PASSWORD, TestApp};

/// A 2×2 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a,
    0x73, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x44, 0x0c, 0x10, 0x0a, 0x00, 0x1f, 0xee, 0x03, 0xfd, 0x8b, 0x5f, 0x14, 0xd4, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

pub async fn an_attachment_is_uploaded_previewed_and_downloaded(
    app: &TestApp,
    driver: &mut Driver,
) {
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.send(&bob, &alice, "Send me the notes?").await;
    let files = std::env::temp_dir().join(format!("messaging-files-{}", uuid::Uuid::new_v4()));
    let png = write_file(&files, "dot.png", PNG);
    let notes = write_file(&files, "notes.txt", b"Meeting notes: bring the atlas.\n");
    let page = write_file(
        &files,
        "page.html",
        b"<!doctype html><html><body>hi</body></html>",
    );

    let a = driver.browser(&app.base, 1280, 900).await;
    a.log_in("alice", PASSWORD).await;
    a.open_conversation(bob.id).await;
    a.element("#compose-file")
        .await
        .send_keys(&png)
        .await
        .unwrap();
    a.wait_for_text(".file-chip .file-name", "dot.png").await;
    a.send_message("A picture").await;
    a.wait_for_text(".msg.mine .attachment .file-name", "dot.png")
        .await;
    a.element("#compose-file")
        .await
        .send_keys(&notes)
        .await
        .unwrap();
    a.wait_for_text(".file-chip .file-name", "notes.txt").await;
    a.send_message("The notes").await;
    a.wait_for_text(".msg.mine .attachment .file-name", "notes.txt")
        .await;

    // A type the service refuses: the reason is shown and nothing is sent.
    a.element("#compose-file")
        .await
        .send_keys(&page)
        .await
        .unwrap();
    a.send_message("A web page").await;
    a.wait_for_text("#compose-error", "cannot be sent").await;
    a.assert_accessible("a conversation with attachments and a refusal")
        .await;

    let b = driver.browser(&app.base, 1280, 900).await;
    b.log_in("bob", PASSWORD).await;
    b.open_conversation(alice.id).await;
    b.wait_until(
        "Array.from(document.querySelectorAll('.attachment img.preview')).some(i => i.complete && i.naturalWidth === 2)",
        "the image preview",
    )
    .await;
    let bodies = b
        .js(
            "return Array.from(document.querySelectorAll('.messages .msg .body')).map(e => e.textContent)",
            vec![],
        )
        .await;
    assert!(!bodies.to_string().contains("A web page"), "{bodies}");
    b.click_text(".attachment button.download", "notes.txt")
        .await;
    let downloaded = b.downloads.join("notes.txt");
    let started = std::time::Instant::now();
    while !downloaded.is_file() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "notes.txt was not downloaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        std::fs::read_to_string(&downloaded).unwrap(),
        "Meeting notes: bring the atlas.\n"
    );
    let _ = std::fs::remove_dir_all(files);
    a.close().await;
    b.close().await;
}
