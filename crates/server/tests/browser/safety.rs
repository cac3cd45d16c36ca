//! What the client must never allow: a clinician seeing patients not assigned to them, a patient
//! starting a conversation with a clinician, a state change without the CSRF token or from
//! another site, and markup from users turning into live HTML.

use chrono::Utc;
use messaging_domain::user::{Role, UserId};
use serde_json::json;

use crate::files::write_file;
use crate::harness::Driver;
use crate::support::{PASSWORD, TestApp};

pub async fn a_clinician_sees_only_assigned_patients_and_a_patient_cannot_start_a_conversation(
    app: &TestApp,
    driver: &mut Driver,
) {
    let clinician = app.user_with_role("drgrey", Role::Clinician).await;
    let assigned = app.user_with_role("pat_assigned", Role::Patient).await;
    let _other = app.user_with_role("pat_other", Role::Patient).await;
    app.store
        .assign_clinician(UserId(clinician.id), UserId(assigned.id), Utc::now())
        .await
        .unwrap();
    app.send(&clinician, &assigned, "How are you feeling?")
        .await;

    let c = driver.browser(&app.base, 1280, 900).await;
    c.log_in("drgrey", PASSWORD).await;
    c.open("/#/new").await;
    c.wait_for_text("#patient-list", "pat_assigned").await;
    c.wait_for_text("#patient-list .preview", "You: How are you feeling?")
        .await;
    c.wait_for_text("#people-results", "pat_assigned").await;
    c.assert_accessible("a clinician's patient list").await;
    let page = c
        .js("return document.querySelector('main').textContent", vec![])
        .await;
    assert!(!page.to_string().contains("pat_other"), "{page}");
    c.close().await;

    let p = driver.browser(&app.base, 1280, 900).await;
    p.log_in("pat_other", PASSWORD).await;
    p.open("/#/new").await;
    p.wait_for_text(".notice", "cannot start a conversation")
        .await;
    p.wait_for_text("#people-results", "Nobody").await;
    let form = p
        .js("return document.querySelector('#to-form') === null", vec![])
        .await;
    assert_eq!(
        form,
        json!(true),
        "a patient gets no form to write to a user name"
    );
    p.assert_accessible("a patient's new-conversation page")
        .await;
    // Even at the conversation's address, the send is refused. A clinician who is not the
    // patient's own is, to the patient, nobody (issue 8: refusals tell no one who has which
    // role), so the page says what it says for an unknown recipient.
    p.open_conversation(clinician.id).await;
    p.send_message("Hello doctor").await;
    p.wait_for_text("#compose-error", "cannot send messages to this person")
        .await;
    p.wait_for_text(".msg.mine [data-status=failed]", "Not sent")
        .await;
    p.close().await;
}

pub async fn state_changes_need_the_csrf_token_and_cross_site_requests_fail(
    app: &TestApp,
    driver: &mut Driver,
) {
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let b = driver.browser(&app.base, 1280, 900).await;
    b.log_in("alice", PASSWORD).await;
    let send = |headers: serde_json::Value| {
        format!(
            "return fetch('/api/messages', {{method: 'POST', credentials: 'same-origin',
               headers: Object.assign({{'Content-Type': 'application/json'}}, {headers}),
               body: JSON.stringify({{recipient_id: {bob}, message: 'forged'}})}})
             .then(async r => [r.status, (await r.json()).code]);",
            bob = bob.id
        )
    };
    // The page's own origin, the session cookie, but no token or a made-up one.
    let without = b.js(&send(json!({})), vec![]).await;
    assert_eq!(without, json!([403, "CSRF_FAILED"]));
    let made_up = b
        .js(&send(json!({"X-CSRF-Token": "a".repeat(64)})), vec![])
        .await;
    assert_eq!(made_up, json!([403, "CSRF_FAILED"]));

    // Another site (localhost is not 127.0.0.1) posts with the victim's cookies if it can.
    let port = app.base.rsplit(':').next().unwrap();
    b.client
        .goto(&format!("http://localhost:{port}/healthz"))
        .await
        .unwrap();
    let forged = b
        .js(
            &format!(
                "return fetch('http://127.0.0.1:{port}/api/messages', {{method: 'POST', mode: 'no-cors',
                   credentials: 'include', headers: {{'Content-Type': 'text/plain'}},
                   body: JSON.stringify({{recipient_id: {bob}, message: 'forged'}})}})
                 .then(() => 'sent', () => 'refused');",
                bob = bob.id
            ),
            vec![],
        )
        .await;
    assert!(forged == json!("sent") || forged == json!("refused"));
    let (status, threads) = app.get("/api/messages/threads", Some(&bob.token)).await;
    assert_eq!(status, 200);
    assert_eq!(threads, json!([]), "no forged message reached Bob");

    // With the token, from the page, the same send works.
    b.open("/").await;
    b.open_conversation(bob.id).await;
    b.send_message("a real one").await;
    b.wait_until("document.querySelector('.msg.mine[data-id] [data-status=sent], .msg.mine[data-id] [data-status=delivered]')", "the real message sent")
        .await;
    let (_, threads) = app.get("/api/messages/threads", Some(&bob.token)).await;
    assert_eq!(threads[0]["last_message"], "a real one");
    let _ = alice;
    b.close().await;
}

pub async fn markup_in_messages_subjects_names_and_file_names_renders_inertly(
    app: &TestApp,
    driver: &mut Driver,
) {
    let bob = app.register("bob").await;
    let (status, _) = app
        .post(
            "/api/auth/register",
            None,
            json!({"username": "mallory", "email": "mallory@example.com", "password": PASSWORD,
                   "first_name": "<img src=x onerror=window.__xss=1>"}),
        )
        .await;
    assert_eq!(status, 201);
    let mallory = app.login("mallory").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // A file whose name is markup, sent from Mallory's browser.
    let files = std::env::temp_dir().join(format!("messaging-xss-{}", uuid::Uuid::new_v4()));
    let evil = write_file(&files, "<img src=x onerror=window.__xss=4>.txt", b"hello\n");
    let m = driver.browser(&app.base, 1280, 900).await;
    m.log_in("mallory", PASSWORD).await;
    m.open_conversation(bob.id).await;
    m.element("#compose-file")
        .await
        .send_keys(&evil)
        .await
        .unwrap();
    m.send_message("see file").await;
    m.wait_for_text(".msg.mine .attachment .file-name", "onerror")
        .await;
    m.close().await;

    // The last message, so that it is the one the notification names.
    let (status, body) = app
        .post(
            "/api/messages/send",
            Some(&mallory),
            json!({"recipient": "bob", "subject": "<script>window.__xss=2</script>",
                   "content": "<img src=x onerror=\"window.__xss=3\"> & <b>bold</b>"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let b = driver.browser(&app.base, 1280, 900).await;
    b.log_in("bob", PASSWORD).await;
    b.wait_for_text(".thread-name", "<img src=x onerror=window.__xss=1>")
        .await;
    b.open("/#/notifications").await;
    b.wait_for_text(
        ".notification-text",
        "New message from <img src=x onerror=window.__xss=1>: <script>window.__xss=2</script>",
    )
    .await;
    b.click(".notification a").await;
    b.wait_for_text(".msg.theirs .subject", "<script>window.__xss=2</script>")
        .await;
    b.wait_for_text(
        ".msg.theirs .body",
        "<img src=x onerror=\"window.__xss=3\"> & <b>bold</b>",
    )
    .await;
    b.wait_for_text(
        ".msg.theirs .attachment .file-name",
        "onerror=window.__xss=4",
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let inert = b
        .js(
            "return [typeof window.__xss, document.querySelectorAll('img[src=\"x\"], b, script:not([src])').length]",
            vec![],
        )
        .await;
    assert_eq!(inert, json!(["undefined", 0]));
    let _ = std::fs::remove_dir_all(files);
    b.close().await;
}
