//! Behind a load balancer: the client's address, scheme and host come from forwarded headers only
//! when the peer is a trusted proxy (`MESSAGING_TRUSTED_PROXIES`); from anyone else those headers
//! change nothing.

use serde_json::{Value, json};

use crate::support::{Backend, PASSWORD, TestApp};

async fn login_from(
    app: &TestApp,
    username: &str,
    headers: &[(&str, &str)],
) -> (u16, Value, Option<String>) {
    let mut req = awc::Client::default().post(format!("{}/api/auth/login", app.base));
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    let mut resp = req
        .send_json(&json!({"username": username, "password": PASSWORD, "cookie": true}))
        .await
        .unwrap();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    (resp.status().as_u16(), body, cookie)
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_login_quota() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.trusted_proxies = "127.0.0.1".into();
        s.login_per_minute = 2;
        s.login_per_minute_per_username = 100;
    })
    .await
    .unwrap();
    app.register("pam_p").await;
    let first = [("X-Forwarded-For", "203.0.113.1")];
    for _ in 0..2 {
        let (status, body, _) = login_from(&app, "pam_p", &first).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body, _) = login_from(&app, "pam_p", &first).await;
    assert_eq!(status, 429, "{body}");
    // Another client behind the same load balancer is not held back by the first one.
    let (status, body, _) = login_from(&app, "pam_p", &[("X-Forwarded-For", "203.0.113.2")]).await;
    assert_eq!(status, 200, "{body}");
    // And the proxy's word on the scheme makes the cookie Secure.
    let (status, _, cookie) = login_from(
        &app,
        "pam_p",
        &[
            ("X-Forwarded-For", "203.0.113.3"),
            ("X-Forwarded-Proto", "https"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(cookie.unwrap().contains("Secure"));
}

#[actix_web::test]
async fn forwarded_headers_from_an_untrusted_peer_change_nothing() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.login_per_minute = 3;
        s.login_per_minute_per_username = 100;
    })
    .await
    .unwrap();
    // Registering logs in once: one of the three.
    app.register("ned_p").await;
    for n in 1..=2 {
        let spoofed = format!("198.51.100.{n}");
        let (status, body, _) =
            login_from(&app, "ned_p", &[("X-Forwarded-For", spoofed.as_str())]).await;
        assert_eq!(status, 200, "{body}");
    }
    // A made-up address does not buy a fresh quota.
    let (status, body, _) = login_from(&app, "ned_p", &[("X-Forwarded-For", "198.51.100.9")]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("RATE_LIMITED")),
        "{body}"
    );

    // Nor does a made-up scheme and host pass the same-origin check, or mark the cookie Secure.
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.register("ora_p").await;
    let (status, session, cookie) =
        login_from(&app, "ora_p", &[("X-Forwarded-Proto", "https")]).await;
    assert_eq!(status, 200);
    let cookie = cookie.unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");
    let mut resp = awc::Client::default()
        .post(format!("{}/api/ws-ticket", app.base))
        .insert_header(("Cookie", cookie.split(';').next().unwrap().to_owned()))
        .insert_header(("Origin", "https://evil.example"))
        .insert_header(("X-Forwarded-Proto", "https"))
        .insert_header(("X-Forwarded-Host", "evil.example"))
        .insert_header(("Forwarded", "proto=https;host=evil.example"))
        .insert_header(("X-CSRF-Token", session["csrf_token"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (resp.status().as_u16(), body["code"].as_str()),
        (403, Some("CSRF_FAILED")),
        "{body}"
    );
}
