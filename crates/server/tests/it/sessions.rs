//! Browser sessions: the cookie, CSRF bound to the session, same-origin checks, idle expiry and
//! logout. Bearer-token requests need none of this (every other test file uses them).

use serde_json::{Value, json};

use crate::support::{Backend, PASSWORD, TestApp};

struct Browser<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
    client: awc::Client,
}

impl Browser<'_> {
    async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, format!("{}{}", self.app.base, path))
            .insert_header(("Cookie", self.cookie.clone()));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        let mut resp = match body {
            Some(body) => req.send_json(&body).await.unwrap(),
            None => req.send().await.unwrap(),
        };
        let bytes = resp.body().await.unwrap();
        (
            resp.status().as_u16(),
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

async fn browser_login<'a>(app: &'a TestApp, username: &str) -> Browser<'a> {
    let client = awc::Client::default();
    let mut resp = client
        .post(format!("{}/api/auth/login", app.base))
        .send_json(&json!({"username": username, "password": PASSWORD, "cookie": true}))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let set_cookie = resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert!(attributes.contains(&"HttpOnly"), "{set_cookie}");
    assert!(attributes.contains(&"SameSite=Strict"), "{set_cookie}");
    assert!(
        !attributes.contains(&"Secure"),
        "no Secure flag over plain HTTP: {set_cookie}"
    );
    let body: Value = resp.json().await.unwrap();
    assert!(
        body.get("access_token").is_none(),
        "a cookie login hands out no bearer token"
    );
    Browser {
        app,
        cookie: attributes[0].to_owned(),
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        client,
    }
}

#[actix_web::test]
async fn cookie_sessions_need_a_csrf_token_bound_to_the_session_and_a_same_origin_request() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let alice = app.register("alice_s").await;
    let bob = app.register("bob_s").await;
    let browser = browser_login(&app, "alice_s").await;
    let other = browser_login(&app, "bob_s").await;
    let origin = app.base.clone();
    let send = json!({"recipient_id": bob.id, "message": "hello from the browser"});
    let forged = "a".repeat(64);

    let (status, _) = browser
        .request("GET", "/api/messages/threads", &[], None)
        .await;
    assert_eq!(status, 200, "reads need no CSRF token");
    let (status, token) = browser.request("GET", "/api/csrf-token", &[], None).await;
    assert_eq!(
        (status, token["csrf_token"].as_str()),
        (200, Some(browser.csrf.as_str()))
    );

    let refused: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("no token", vec![("Origin", &origin)]),
        (
            "any 64-character string",
            vec![("Origin", &origin), ("X-CSRF-Token", &forged)],
        ),
        (
            "another session's token",
            vec![("Origin", &origin), ("X-CSRF-Token", &other.csrf)],
        ),
        (
            "a foreign origin",
            vec![
                ("Origin", "https://evil.example"),
                ("X-CSRF-Token", &browser.csrf),
            ],
        ),
        ("no origin at all", vec![("X-CSRF-Token", &browser.csrf)]),
        (
            "a cross-site fetch",
            vec![
                ("Sec-Fetch-Site", "cross-site"),
                ("X-CSRF-Token", &browser.csrf),
            ],
        ),
    ];
    for (case, headers) in &refused {
        let (status, body) = browser
            .request("POST", "/api/messages", headers, Some(send.clone()))
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("CSRF_FAILED")),
            "{case}"
        );
    }
    // Core routes are not exempt (System B exempted some): delete and read-all too.
    let (status, _) = browser
        .request("DELETE", "/api/messages/1", &[("Origin", &origin)], None)
        .await;
    assert_eq!(status, 403);
    let (_, threads) = app.get("/api/messages/threads", Some(&bob.token)).await;
    assert!(
        threads.as_array().unwrap().is_empty(),
        "nothing was sent by the refused requests"
    );

    let (status, sent) = browser
        .request(
            "POST",
            "/api/messages",
            &[("Origin", &origin), ("X-CSRF-Token", &browser.csrf)],
            Some(send.clone()),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["sender_id"], alice.id);
    let (status, _) = browser
        .request(
            "POST",
            "/api/messages",
            &[
                ("Sec-Fetch-Site", "same-origin"),
                ("X-CSRF-Token", &browser.csrf),
            ],
            Some(send),
        )
        .await;
    assert_eq!(status, 201, "Sec-Fetch-Site stands in for a missing Origin");
}

#[actix_web::test]
async fn an_idle_session_expires_and_logout_ends_it() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.session_idle_secs = 1)
        .await
        .unwrap();
    app.register("ivy_s").await;
    let browser = browser_login(&app, "ivy_s").await;
    let (status, _) = browser
        .request("GET", "/api/messages/threads", &[], None)
        .await;
    assert_eq!(status, 200);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (status, body) = browser
        .request("GET", "/api/messages/threads", &[], None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("SESSION_EXPIRED"))
    );

    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.register("leo_s").await;
    let browser = browser_login(&app, "leo_s").await;
    let origin = app.base.clone();
    let (status, _) = browser
        .request(
            "POST",
            "/api/auth/logout",
            &[("Origin", &origin), ("X-CSRF-Token", &browser.csrf)],
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = browser
        .request("GET", "/api/messages/threads", &[], None)
        .await;
    assert_eq!(status, 401, "the session is closed");

    // Token clients log out by naming their refresh token: the whole family is revoked.
    let tokens = app.login("leo_s").await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = app
        .post(
            "/api/auth/logout",
            Some(access),
            json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = app
        .post("/api/auth/refresh", None, json!({"refresh_token": refresh}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("INVALID_REFRESH_TOKEN"))
    );
    let (status, _) = app.get("/api/csrf-token", None).await;
    assert_eq!(status, 401);
}
